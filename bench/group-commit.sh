#!/usr/bin/env bash
# Log appends committed alone against committed in groups (Runs:Logs:CommitLanes), alternating in one build so
# that the machine's drift falls on both alike: rounds × (a host with no lanes, a host with lanes), each warmed
# up, then 8 writers append 100-line batches to 8 runs as in bench/logs.sh.
#   bench/group-commit.sh [seconds] [rounds] [lanes]    defaults 20, 3, 4; warm-up RUNS_BENCH_WARMUP (20 s)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/host.sh
seconds="${1:-20}"
rounds="${2:-3}"
lanes="${3:-4}"
export Runs__Logs__MaxLinesPerRun=100000000

new_runs() {
  local i uri uris=""
  for i in $(seq 0 7); do
    uri="$(curl -s -X POST "$url/v1/jobs/bench-logs-$i/runs" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{}' \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["uri"])')"
    curl -s -o /dev/null -X POST "$url$uri/start" -H "Authorization: Bearer $token"
    uris="$uris $uri"
  done
  echo "$uris"
}

for round in $(seq 1 "$rounds"); do
  for commit_lanes in 0 "$lanes"; do
    export Runs__Logs__CommitLanes="$commit_lanes"
    start_host runs_bench 5092 >/dev/null
    export RUNS_TOKEN="$token"
    RUNS_URIS="$(new_runs)" wrk -t2 -c8 -d"${RUNS_BENCH_WARMUP:-20}s" -s bench/wrk/logs.lua "$url" >/dev/null
    result="$(RUNS_URIS="$(new_runs)" wrk_run "lanes=$commit_lanes" bench/wrk/logs.lua "$url" "$seconds")"
    stop_host
    python3 - "$round" "$result" <<'PY'
import json, sys
r = json.loads(sys.argv[2]); c = r["cpu_ms_per_request"]
print(f"round {sys.argv[1]} {r['label']:8} {r['requests_per_second'] * 100:8.0f} lines/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms"
      f"  CPU per 100 lines: host {c['server']:.2f} ms, PostgreSQL {c['postgres']:.2f} ms  non-2xx {r['non_2xx']}")
PY
  done
done
