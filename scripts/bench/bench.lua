-- wrk script for scripts/bench.sh.
--
-- Configured through the environment (wrk's LuaJIT has os.getenv):
--   BENCH_METHOD        GET (default) or POST
--   BENCH_BODY          request body
--   BENCH_CONTENT_TYPE  Content-Type of the body (default application/x-www-form-urlencoded)
--   BENCH_AUTH          full Authorization header value, e.g. "Basic Y2xp..."
--   BENCH_SCENARIO      label printed in the result line
--   BENCH_CONNS         label printed in the result line
--   BENCH_COUNT_STATUS  "0" disables the per-response status check (then only
--                       wrk's own >=400 counter is used; a little cheaper)
--   BENCH_TARGETS       a file of "HOST<TAB>AUTHORIZATION" lines (the scale
--                       scenario): every request goes to the Host of a line,
--                       in an order of the thread's own shuffling, with that
--                       line's Authorization when BENCH_AUTH is "targets"
--   BENCH_SWEEP         "1" with BENCH_TARGETS: take the lines in turn instead
--                       (each thread from its own offset), to warm every tenant
--
-- Without BENCH_TARGETS the Host header is given on the wrk command line
-- (-H 'Host: ...').
--
-- done() prints exactly one machine-readable line starting with BENCH_RESULT
-- (key=value pairs, latencies in milliseconds) and, when some responses were
-- not 2xx, one BENCH_SAMPLE line with the first such status and body.

local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY") or ""
local auth = os.getenv("BENCH_AUTH") or ""
local ctype = os.getenv("BENCH_CONTENT_TYPE") or ""
if ctype == "" then ctype = "application/x-www-form-urlencoded" end

wrk.method = method
wrk.headers["Accept"] = "application/json"
if body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = ctype
end
if auth ~= "" and auth ~= "targets" then
  wrk.headers["Authorization"] = auth
end

-- Per-thread counters (globals, so done() can read them with thread:get).
non2xx = 0
first_status = 0
first_body = ""

if os.getenv("BENCH_COUNT_STATUS") ~= "0" then
  function response(status, headers, rbody)
    if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if first_status == 0 then
        first_status = status
        first_body = string.sub(rbody or "", 1, 300)
      end
    end
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("index", #threads)
end

-- Many targets: each thread reads the file once and formats every target's request once; request() then only
-- picks one. A request formatted anew each time costs the client more when it differs from the last (LuaJIT
-- interns every string it makes: 1 us of wrk's CPU per request with 10,000 hosts, against none with one), and
-- that cost would count against the server in a one-versus-all comparison on a shared machine. For the same
-- reason the tenants are not drawn by math.random over the table: each thread shuffles the targets once (its own
-- random permutation), formats their requests in that order, so that they lie in memory in the order they are
-- sent, and cycles through them. Every request still goes to a tenant the server cannot predict, each tenant
-- once per cycle, but the client reads its requests sequentially instead of missing its own caches on each.
local targets_file = os.getenv("BENCH_TARGETS") or ""
if targets_file ~= "" then
  local reqs, n, next_i = {}, 0, 0
  local sweep = os.getenv("BENCH_SWEEP") == "1"

  function init(args)
    local hosts, auths = {}, {}
    for line in io.lines(targets_file) do
      local host, a = string.match(line, "^([^\t]+)\t?(.*)$")
      if host then
        n = n + 1
        hosts[n], auths[n] = host, a
      end
    end
    if n == 0 then error("no targets in " .. targets_file) end
    local i = index or 1
    math.randomseed(os.time() * 1000 + i * 7919)
    local order = {}
    for j = 1, n do order[j] = j end
    if not sweep then -- Fisher-Yates: this thread's own order of the tenants
      for j = n, 2, -1 do
        local k = math.random(j)
        order[j], order[k] = order[k], order[j]
      end
    end
    for j = 1, n do
      local t = order[j]
      local h = { ["Host"] = hosts[t], ["Accept"] = "application/json" }
      if body ~= "" then h["Content-Type"] = ctype end
      if auth == "targets" then
        h["Authorization"] = auths[t]
      elseif auth ~= "" then
        h["Authorization"] = auth
      end
      reqs[j] = wrk.format(method, nil, h, body ~= "" and body or nil)
    end
    local threads_n = tonumber(os.getenv("BENCH_THREADS") or "2") or 2
    next_i = math.floor((i - 1) * n / threads_n)
  end

  function request()
    next_i = next_i % n + 1
    return reqs[next_i]
  end
end

function done(summary, latency, requests)
  local counted = os.getenv("BENCH_COUNT_STATUS") ~= "0"
  local bad, sample_status, sample_body = 0, 0, ""
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
    local st = t:get("first_status") or 0
    if sample_status == 0 and st ~= 0 then
      sample_status = st
      sample_body = t:get("first_body") or ""
    end
  end
  local e = summary.errors
  if not counted then
    bad = e.status -- wrk counts status >= 400 only
  end
  local sock = e.connect + e.read + e.write + e.timeout
  local secs = summary.duration / 1e6
  local rps = 0
  if secs > 0 then rps = summary.requests / secs end
  local function ms(p) return latency:percentile(p) / 1000.0 end
  io.write(string.format(
    "BENCH_RESULT scenario=%s conns=%s requests=%d duration_s=%.2f rps=%.1f " ..
    "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
    "non2xx=%d status_ge400=%d connect=%d read=%d write=%d timeout=%d errors=%d\n",
    os.getenv("BENCH_SCENARIO") or "-", os.getenv("BENCH_CONNS") or "-",
    summary.requests, secs, rps,
    ms(50), ms(90), ms(99), latency.max / 1000.0,
    bad, e.status, e.connect, e.read, e.write, e.timeout, bad + sock))
  if sample_status ~= 0 then
    local b = string.gsub(sample_body, "[\r\n]+", " ")
    io.write(string.format("BENCH_SAMPLE scenario=%s status=%d body=%s\n",
      os.getenv("BENCH_SCENARIO") or "-", sample_status, b))
  end
end
