-- An unsafe request with the token pair: BENCH_METHOD (default POST) of the URL's path with the JSON
-- BENCH_BODY, as each session of BENCH_SESSIONS in turn (Cookie header with the CSRF cookie, and
-- X-CSRFToken). With anonymous token pairs as the sessions, it is a login.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

function init(args)
  local method = os.getenv("BENCH_METHOD") or "POST"
  local body = os.getenv("BENCH_BODY") or ""
  local list = {}
  for i, session in ipairs(common.sessions()) do
    list[i] = wrk.format(method, wrk.path, common.headers(session, true), body)
  end
  common.use(list)
end
