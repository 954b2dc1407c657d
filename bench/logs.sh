#!/usr/bin/env bash
# Log benchmarks, each beside the raw PostgreSQL ceiling measured in the same run:
#  1. ingest: 8 writers, 100-line batches, durable commits — vs pgbench 100-row inserts, 8 clients (also
#     800 rows to a commit, the most grouping commits could give, and into a table with the trigram index);
#  2. live fan-out: 500 SSE readers of one run — latency from append acknowledged to line received.
# The host is first warmed up for RUNS_BENCH_WARMUP seconds (default 60), as in bench/lifecycle.sh.
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
RUNS_URIS="$(new_runs "$url")" wrk -t2 -c8 -d"${RUNS_BENCH_WARMUP:-60}s" -s bench/wrk/logs.lua "$url" >/dev/null
ingest="$(RUNS_URIS="$(new_runs "$url")" wrk_run service bench/wrk/logs.lua "$url" "$seconds")"
say "live fan-out: $readers readers on one run, ${seconds}s"
fanout="$("${bench[@]}" sse --url "$url" --token "$token" --readers "$readers" --seconds "$seconds")"
stop_host

start_reference 5193
say "reference (raw Npgsql): the same ingest, ${seconds}s"
url_saved="$url"; url="$reference_url"
RUNS_URIS="$(new_runs "$reference_url")" wrk -t2 -c8 -d"${RUNS_BENCH_WARMUP:-60}s" -s bench/wrk/logs.lua "$reference_url" >/dev/null
reference="$(RUNS_URIS="$(new_runs "$reference_url")" wrk_run reference bench/wrk/logs.lua "$reference_url" "$seconds")"
url="$url_saved"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true

# pgbench_lines <rows per transaction> [index]: rows/s of 8 clients inserting log-shaped rows, each transaction
# one commit; with "trigram", the table carries the same trigram index as runs.log_lines (log search).
pgbench_lines() {
  psql -q -c "drop table if exists pgbench_lines" \
    -c "create table pgbench_lines (run_id text not null, line_id bigint not null, at timestamptz not null default now(), level smallint not null default 2, message text not null, internal boolean not null default false, primary key (run_id, line_id))"
  [[ "${2:-}" != trigram ]] || psql -q -c "create index on pgbench_lines using gin (message gin_trgm_ops)"
  cat > /tmp/runs-pgbench-lines.sql <<SQL
\\set run random(1, 9000000000000000000)
insert into pgbench_lines (run_id, line_id, message) select :run::text, g, 'step ' || g || ': processed batch of rows from the source table into the staging area' from generate_series(1, $1) g;
SQL
  pgbench -n -c 8 -j 2 -T "$seconds" -f /tmp/runs-pgbench-lines.sql 2>/dev/null | awk -v n="$1" '/^tps/ {printf "%.0f\n", $3 * n; exit}'
}
pg_env
say "pgbench: 8 clients, 100-row insert commits, ${seconds}s"
rows="$(pgbench_lines 100)"
say "pgbench: the same rows 800 to a commit (what grouping 8 appends into one transaction could reach), ${seconds}s"
grouped_rows="$(pgbench_lines 800)"
say "pgbench: 100-row commits into a table with log_lines' trigram index, ${seconds}s"
trigram_rows="$(pgbench_lines 100 trigram)"
psql -q -c "drop table pgbench_lines" -c "truncate bench_ref_runs, bench_ref_events, bench_ref_log_lines"

result="$(python3 - "$ingest" "$reference" "$fanout" "$rows" "$peak_kb" "$rest_kb" "$grouped_rows" "$trigram_rows" <<'PY'
import json, sys, datetime, platform, os
ingest, reference, fanout = (json.loads(a) for a in sys.argv[1:4]); rows = float(sys.argv[4]); peak, rest = int(sys.argv[5]), int(sys.argv[6])
grouped, trigram = float(sys.argv[7]), float(sys.argv[8])
for r in (ingest, reference):
    r["lines_per_second"] = round(r["requests_per_second"] * 100)
    r["cpu_ms_per_100_lines"] = r.pop("cpu_ms_per_request")
print(json.dumps(dict(ingest=ingest, reference=reference, fanout=fanout, pgbench_rows_per_second=round(rows),
                      pgbench_800_rows_per_commit=round(grouped), pgbench_with_trigram_index=round(trigram),
                      ingest_ratio_to_trigram_table=round(ingest["lines_per_second"] / trigram, 3),
                      ingest_ratio=round(ingest["lines_per_second"] / rows, 3),
                      reference_ratio=round(reference["lines_per_second"] / rows, 3),
                      host_rest_rss_mb=round(rest / 1024, 1), host_peak_rss_mb=round(peak / 1024, 1),
                      date=datetime.date.today().isoformat(), machine=f"{os.cpu_count()} cores, {platform.machine()}")))
PY
)"
mkdir -p bench/results
echo "$result" | tee -a bench/results/logs.jsonl
