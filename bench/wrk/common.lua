-- Shared by the benchmark's wrk scripts (loaded with dofile): the sessions to rotate through, a
-- request rotation that costs one table lookup per request (every request string is built once, in
-- init), and one machine-readable result line from done().
local common = {}

-- BENCH_SESSIONS names a file with one session a line: "<Cookie header>\t<X-CSRFToken value>"
-- (either may be empty). Without it there is one anonymous visitor: no cookie, no token.
function common.sessions()
  local list = {}
  local path = os.getenv("BENCH_SESSIONS")
  if path ~= nil and path ~= "" then
    for line in io.lines(path) do
      local cookie, token = line:match("^([^\t]*)\t?(.*)$")
      list[#list + 1] = { cookie = cookie, token = token }
    end
  end
  if #list == 0 then
    list[1] = { cookie = "", token = "" }
  end
  return list
end

-- Headers for one session; unsafe requests also carry the token pair's header half and a JSON type.
function common.headers(session, unsafe)
  local headers = {}
  if session.cookie ~= "" then
    headers["Cookie"] = session.cookie
  end
  if unsafe then
    headers["X-CSRFToken"] = session.token
    headers["Content-Type"] = "application/json"
  end
  return headers
end

local requests = {}
local position = 0

-- Sets the request strings this thread sends in turn. Each thread starts at its own offset, so threads
-- do not walk the sessions in lockstep.
function common.use(list)
  requests = list
  position = (tonumber(thread_index) or 0) % #requests
end

function request()
  position = position % #requests + 1
  return requests[position]
end

-- BENCH_LOG_FAILURES=1: print each response with a status >= 400 (its status and the start of its body)
-- for the runner to show. Off by default: handing every response to Lua costs wrk time.
if os.getenv("BENCH_LOG_FAILURES") == "1" then
  function response(status, headers, body)
    if status >= 400 then
      local start = (body or ""):sub(1, 200):gsub("[\r\n]", " ")
      io.write(string.format("BENCH-FAILURE %d %s\n", status, start))
    end
  end
end

-- Runs in the main Lua state, once per thread before it starts.
local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_index", thread_count)
end

-- One line the runner parses; latencies in microseconds. wrk counts a status >= 400 as a status error.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean, latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end

return common
