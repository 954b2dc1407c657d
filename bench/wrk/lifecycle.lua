-- Full run lifecycles (trigger → start → succeed) with wrk: each thread keeps the runs waiting for their
-- next command and sends that command before triggering another run. Every request is one command.
--   RUNS_TOKEN=runs_… wrk -t2 -c8 -d20s -s bench/wrk/lifecycle.lua http://127.0.0.1:5090
local token = os.getenv("RUNS_TOKEN")
local waiting = {}
local triggered = 0
local json = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
local bare = { ["Authorization"] = "Bearer " .. token }

function request()
  local next = table.remove(waiting)
  if next then
    return wrk.format("POST", next, bare, nil)
  end
  triggered = triggered + 1
  return wrk.format("POST", "/v1/jobs/bench-" .. (triggered % 4) .. "/runs", json, '{"source":"bench"}')
end

function response(status, headers, body)
  local uri = body:match('"uri":"([^"]+)"')
  if not uri then return end
  local state = body:match('"status":"(%a+)"')
  if status == 201 then
    table.insert(waiting, uri .. "/start")
  elseif status == 200 and state == "running" then
    table.insert(waiting, uri .. "/succeed")
  end
end
