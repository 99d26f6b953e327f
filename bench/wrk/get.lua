-- GET the URL's path, as each session of BENCH_SESSIONS in turn (its Cookie header); anonymous without it.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

function init(args)
  local list = {}
  for i, session in ipairs(common.sessions()) do
    list[i] = wrk.format("GET", wrk.path, common.headers(session, false))
  end
  common.use(list)
end
