#!/usr/bin/env bash
# Lifecycle benchmark: full run lifecycles over HTTP with 8 clients, and in the same run the raw
# PostgreSQL ceiling (pgbench, 8 clients, single-row insert commits) on the same server.
#   bench/lifecycle.sh [seconds]        results are printed and appended to bench/results/lifecycle.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/host.sh
seconds="${1:-20}"
start_host runs_bench 5090

say "lifecycle load: 8 clients for ${seconds}s"
service="$("${bench[@]}" --url "$url" --token "$token" --clients 8 --seconds "$seconds")"
stop_host

say "pgbench: 8 clients, single-row insert commits, ${seconds}s"
pg_env
psql -q -c "create table if not exists pgbench_ceiling (id bigserial primary key, at timestamptz not null default now(), payload text not null)"
printf "insert into pgbench_ceiling (payload) values ('bench');\n" > /tmp/runs-pgbench-insert.sql
tps="$(pgbench -n -c 8 -j 2 -T "$seconds" -f /tmp/runs-pgbench-insert.sql 2>/dev/null | awk '/^tps/ {print $3; exit}')"
psql -q -c "truncate pgbench_ceiling"

result="$(python3 - "$service" "$tps" "$peak_kb" <<'PY'
import json, sys, datetime, platform, os
service = json.loads(sys.argv[1]); tps = float(sys.argv[2]); peak = int(sys.argv[3])
service.update(pgbench_tps=round(tps, 1), ratio=round(service["commands_per_second"] / tps, 3),
               host_peak_rss_mb=round(peak / 1024, 1), date=datetime.date.today().isoformat(),
               machine=f"{os.cpu_count()} cores, {platform.machine()}")
print(json.dumps(service))
PY
)"
mkdir -p bench/results
echo "$result" | tee -a bench/results/lifecycle.jsonl
