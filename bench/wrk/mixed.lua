-- The soak's mix, as each session of BENCH_SESSIONS in turn, over the seeded data (27 users in 3
-- pages, group 1 "staff"): of every 20 requests, 9 user details (every user in turn), 6 list pages,
-- 3 anonymous CSRF tokens, 1 /auth/csrf as the session and 1 PATCH of a group with the token pair.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

function init(args)
  local list = {}
  local user, page = 0, 0
  for _, session in ipairs(common.sessions()) do
    local signed_in = common.headers(session, false)
    for slot = 1, 20 do
      local r
      if slot <= 9 then
        user = user % 27 + 1
        r = wrk.format("GET", "/api/users/" .. user .. "/", signed_in)
      elseif slot <= 15 then
        page = page % 3 + 1
        r = wrk.format("GET", "/api/users/?page=" .. page, signed_in)
      elseif slot <= 18 then
        r = wrk.format("GET", "/auth/csrf", {})
      elseif slot == 19 then
        r = wrk.format("GET", "/auth/csrf", signed_in)
      else
        r = wrk.format("PATCH", "/api/groups/1/", common.headers(session, true), '{"name": "staff"}')
      end
      list[#list + 1] = r
    end
  end
  common.use(list)
end
