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

say "log ingest: 8 writers, 100-line batches, ${seconds}s"
ingest="$("${bench[@]}" logs --url "$url" --token "$token" --clients 8 --seconds "$seconds")"
say "live fan-out: $readers readers on one run, ${seconds}s"
fanout="$("${bench[@]}" sse --url "$url" --token "$token" --readers "$readers" --seconds "$seconds")"
stop_host

say "pgbench: 8 clients, 100-row insert commits, ${seconds}s"
pg_env
psql -q -c "drop table if exists pgbench_lines" -c "create table pgbench_lines (run_id text not null, line_id bigint not null, at timestamptz not null default now(), message text not null, primary key (run_id, line_id))"
cat > /tmp/runs-pgbench-lines.sql <<'SQL'
\set run random(1, 1000000000)
insert into pgbench_lines (run_id, line_id, message) select :run::text, g, 'step ' || g || ': processed batch of rows from the source table into the staging area' from generate_series(1, 100) g;
SQL
tps="$(pgbench -n -c 8 -j 2 -T "$seconds" -f /tmp/runs-pgbench-lines.sql 2>/dev/null | awk '/^tps/ {print $3; exit}')"
psql -q -c "drop table pgbench_lines"

result="$(python3 - "$ingest" "$fanout" "$tps" "$peak_kb" <<'PY'
import json, sys, datetime, platform, os
ingest = json.loads(sys.argv[1]); fanout = json.loads(sys.argv[2]); tps = float(sys.argv[3]); peak = int(sys.argv[4])
rows = tps * 100
print(json.dumps(dict(ingest=ingest, fanout=fanout, pgbench_rows_per_second=round(rows),
                      ingest_ratio=round(ingest["lines_per_second"] / rows, 3),
                      host_peak_rss_mb=round(peak / 1024, 1), date=datetime.date.today().isoformat(),
                      machine=f"{os.cpu_count()} cores, {platform.machine()}")))
PY
)"
mkdir -p bench/results
echo "$result" | tee -a bench/results/logs.jsonl
