-- Log ingest with wrk: JSON batches of RUNS_BENCH_LINES lines (default 100) appended round-robin to the runs in
-- RUNS_URIS (space-separated).
--   RUNS_TOKEN=runs_… RUNS_URIS="/v1/jobs/…/runs/… …" wrk -t2 -c8 -d20s -s bench/wrk/logs.lua http://127.0.0.1:5091
local token = os.getenv("RUNS_TOKEN")
local uris = {}
for uri in string.gmatch(os.getenv("RUNS_URIS"), "%S+") do table.insert(uris, uri .. "/log") end
local lines = {}
for i = 0, tonumber(os.getenv("RUNS_BENCH_LINES") or "100") - 1 do
  local level = (i % 10 == 0) and "warn" or "info"
  table.insert(lines, string.format('{"level":"%s","message":"step %d: processed batch of rows from the source table into the staging area"}', level, i))
end
local body = '{"lines":[' .. table.concat(lines, ",") .. ']}'
local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
local n = 0

function request()
  n = n + 1
  return wrk.format("POST", uris[(n % #uris) + 1], headers, body)
end
