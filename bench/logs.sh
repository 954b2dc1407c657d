#!/usr/bin/env bash
# Log benchmarks, each beside the raw PostgreSQL ceiling measured in the same run:
#  1. ingest: 8 writers, 100-line batches, durable commits — vs pgbench 100-row inserts, 8 clients;
#  2. live fan-out: 500 SSE readers of one run — latency from append acknowledged to line received.
#   bench/logs.sh [seconds] [readers]    results are printed and appended to bench/results/logs.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/host.sh
seconds="${1:-20}"
readers="${2:-500}"
export Runs__Logs__MaxLinesPerRun=100000000
start_host runs_bench 5091

# new_runs <url>: 8 started runs, their URIs space-separated.
new_runs() {
  local i uri uris=""
  for i in $(seq 0 7); do
    uri="$(curl -s -X POST "$1/v1/jobs/bench-logs-$i/runs" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{}' \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["uri"])')"
    curl -s -o /dev/null -X POST "$1$uri/start" -H "Authorization: Bearer $token"
    uris="$uris $uri"
  done
  echo "$uris"
}
export RUNS_TOKEN="$token"

say "log ingest: wrk, 8 connections over 8 runs, 100-line batches, ${seconds}s"
RUNS_URIS="$(new_runs "$url")" wrk -t2 -c8 -d3s -s bench/wrk/logs.lua "$url" >/dev/null
ingest="$(RUNS_URIS="$(new_runs "$url")" wrk_run service bench/wrk/logs.lua "$url" "$seconds")"
say "live fan-out: $readers readers on one run, ${seconds}s"
fanout="$("${bench[@]}" sse --url "$url" --token "$token" --readers "$readers" --seconds "$seconds")"
stop_host

start_reference 5193
say "reference (raw Npgsql): the same ingest, ${seconds}s"
url_saved="$url"; url="$reference_url"
reference="$(RUNS_URIS="$(new_runs "$reference_url")" wrk_run reference bench/wrk/logs.lua "$reference_url" "$seconds")"
url="$url_saved"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true

say "pgbench: 8 clients, 100-row insert commits, ${seconds}s"
pg_env
psql -q -c "drop table if exists pgbench_lines" -c "create table pgbench_lines (run_id text not null, line_id bigint not null, at timestamptz not null default now(), message text not null, primary key (run_id, line_id))"
cat > /tmp/runs-pgbench-lines.sql <<'SQL'
\set run random(1, 9000000000000000000)
insert into pgbench_lines (run_id, line_id, message) select :run::text, g, 'step ' || g || ': processed batch of rows from the source table into the staging area' from generate_series(1, 100) g;
SQL
tps="$(pgbench -n -c 8 -j 2 -T "$seconds" -f /tmp/runs-pgbench-lines.sql 2>/dev/null | awk '/^tps/ {print $3; exit}')"
psql -q -c "drop table pgbench_lines" -c "truncate bench_ref_runs, bench_ref_events, bench_ref_log_lines"

result="$(python3 - "$ingest" "$reference" "$fanout" "$tps" "$peak_kb" "$rest_kb" <<'PY'
import json, sys, datetime, platform, os
ingest, reference, fanout = (json.loads(a) for a in sys.argv[1:4]); tps = float(sys.argv[4]); peak, rest = int(sys.argv[5]), int(sys.argv[6])
rows = tps * 100
for r in (ingest, reference):
    r["lines_per_second"] = round(r["requests_per_second"] * 100)
    r["cpu_ms_per_100_lines"] = r.pop("cpu_ms_per_request")
print(json.dumps(dict(ingest=ingest, reference=reference, fanout=fanout, pgbench_rows_per_second=round(rows),
                      ingest_ratio=round(ingest["lines_per_second"] / rows, 3),
                      reference_ratio=round(reference["lines_per_second"] / rows, 3),
                      host_rest_rss_mb=round(rest / 1024, 1), host_peak_rss_mb=round(peak / 1024, 1),
                      date=datetime.date.today().isoformat(), machine=f"{os.cpu_count()} cores, {platform.machine()}")))
PY
)"
mkdir -p bench/results
echo "$result" | tee -a bench/results/logs.jsonl
