-- wrk script: POST signed platform webhooks, each body once (a distinct message id).
-- wrk's LuaJIT has no HMAC, so bench/webhooks.py writes BODIES beforehand: one delivery per
-- line, "<X-Hub-Signature-256 value> <raw JSON body>". Thread k of THREADS sends lines
-- k, k+THREADS, k+2*THREADS…; a thread that runs out starts again and counts it (REPORT).
local threads = {}
thread_id = 0 -- globals: setup() sets it, done() reads wrapped
local bodies = {}
local signatures = {}
local next_index = 1
wrapped = 0

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local count = tonumber(os.getenv("THREADS") or "2")
  local n = 0
  for line in io.lines(os.getenv("BODIES")) do
    if n % count == thread_id - 1 then
      local space = line:find(" ", 1, true)
      table.insert(signatures, line:sub(1, space - 1))
      table.insert(bodies, line:sub(space + 1))
    end
    n = n + 1
  end
end

function request()
  if next_index > #bodies then
    next_index = 1
    wrapped = wrapped + 1
  end
  local i = next_index
  next_index = next_index + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
    ["X-Hub-Signature-256"] = signatures[i]}, bodies[i])
end

function done(summary, latency, requests)
  local report = os.getenv("REPORT")
  if report then
    local times = 0
    for _, thread in ipairs(threads) do
      times = times + thread:get("wrapped")
    end
    local out = io.open(report, "w")
    out:write(string.format("%d %d %d\n", summary.requests, times,
      summary.errors.status + summary.errors.connect + summary.errors.read +
      summary.errors.write + summary.errors.timeout))
    out:close()
  end
end
