#!/usr/bin/env bash
# Ways of writing log appends side by side, alternating in one build so that the machine's drift falls on all
# alike: rounds × variants, each a host of its own, warmed up, then 8 writers append batches of
# RUNS_BENCH_LINES lines (default 100) to 8 runs, as in bench/logs.sh. A variant is Runs:Logs settings,
# comma-separated: CommitLanes=4 groups appends in 4 lanes, CopyFromLines=0 never copies lines in.
#   bench/log-appends.sh [seconds] [rounds] [variant…]
#   defaults: 20 s, 3 rounds, CommitLanes=0 CommitLanes=4; warm-up RUNS_BENCH_WARMUP (20 s)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/host.sh
seconds="${1:-20}"
rounds="${2:-3}"
shift $(( $# < 2 ? $# : 2 ))
variants=("$@")
[[ $# -gt 0 ]] || variants=(CommitLanes=0 CommitLanes=4)
export RUNS_BENCH_LINES="${RUNS_BENCH_LINES:-100}"
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
  for variant in "${variants[@]}"; do
    (
      IFS=, read -ra settings <<< "$variant"
      for setting in "${settings[@]}"; do export "Runs__Logs__${setting%%=*}=${setting#*=}"; done
      start_host runs_bench 5092 >/dev/null
      export RUNS_TOKEN="$token"
      RUNS_URIS="$(new_runs)" wrk -t2 -c8 -d"${RUNS_BENCH_WARMUP:-20}s" -s bench/wrk/logs.lua "$url" >/dev/null
      result="$(RUNS_URIS="$(new_runs)" wrk_run "$variant" bench/wrk/logs.lua "$url" "$seconds")"
      stop_host
      python3 - "$round" "$result" <<'PY'
import json, os, sys
r = json.loads(sys.argv[2]); c = r["cpu_ms_per_request"]; n = int(os.environ["RUNS_BENCH_LINES"])
print(f"round {sys.argv[1]} {r['label']:28} {r['requests_per_second'] * n:8.0f} lines/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms"
      f"  CPU per 100 lines: host {c['server'] * 100 / n:.2f} ms, PostgreSQL {c['postgres'] * 100 / n:.2f} ms  non-2xx {r['non_2xx']}")
PY
    )
  done
done
