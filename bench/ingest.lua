-- wrk script: POST inbound messages, each with a unique external id.
-- SENDERS=0 -> every message from a new sender; SENDERS=N -> from N returning senders.
-- `thread_id` is a global that setup() sets in each thread's own Lua state: a `local` here
-- would shadow it, so every thread would send the same ids (replays, not new messages).
local counter = 0
local threads = {}
local senders = tonumber(os.getenv("SENDERS") or "0")
local token = os.getenv("TOKEN")
local run = os.getenv("RUN") or "r"

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local mid = run .. "-" .. thread_id .. "-" .. counter
  local sender
  if senders > 0 then
    sender = "returning-" .. math.random(senders)
  else
    sender = "new-" .. mid
  end
  local body = '{"external_message_id":"' .. mid .. '","sender":{"id":"' .. sender ..
    '","attributes":{"first-name":"Ana","last-name":"García","email":"' .. sender ..
    '@example.test","page-url":"https://shop.example/p/1"}},"text":"Hello, where is my order?",' ..
    '"attachments":[],"sent_at":"2026-11-24T10:00:00Z"}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token}, body)
end
