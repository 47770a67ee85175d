-- wrk script: GET PATH (with "{id}" in it) for a random id, picked per request from the
-- ids listed (one a line) in the file named by IDS; TOKEN is the caller's API token.
local token = os.getenv("TOKEN")
local path = os.getenv("PATH_TEMPLATE")
local ids = {}
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

function init(args)
  for line in io.lines(os.getenv("IDS")) do
    if #line > 0 then
      ids[#ids + 1] = line
    end
  end
  math.randomseed(os.time() * 100 + (seed or 0))
end

function request()
  local id = ids[math.random(#ids)]
  return wrk.format("GET", (path:gsub("{id}", id)), {["Authorization"] = "Bearer " .. token})
end
