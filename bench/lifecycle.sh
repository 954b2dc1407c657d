#!/usr/bin/env bash
# Lifecycle benchmark: full run lifecycles over HTTP with 8 clients, and in the same run the raw
# PostgreSQL ceiling (pgbench, 8 clients, single-row insert commits) on the same server.
#   bench/lifecycle.sh [seconds]        results are printed and appended to bench/results/lifecycle.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
seconds="${1:-20}"
port=5090

export ConnectionStrings__Runs="$(scripts/postgres.sh runs_bench)"
load_dev_secret_key
# The benchmark measures throughput, not the per-token limiter.
export ASPNETCORE_ENVIRONMENT=Staging Logging__LogLevel__Default=Warning Runs__Limits__RequestsPerSecond=1000000 Runs__Limits__Burst=1000000

say "building host and load generator (Release)"
dotnet build src/Runs.Host -c Release -v quiet -nologo >&2
dotnet build bench/Runs.Bench -c Release -v quiet -nologo >&2
host=(dotnet src/Runs.Host/bin/Release/net10.0/Runs.Host.dll)
"${host[@]}" db-apply >/dev/null
token="$("${host[@]}" tokens create --name bench --scopes admin --jobs '*' 2>/dev/null | tail -1)"

ASPNETCORE_URLS="http://127.0.0.1:$port" "${host[@]}" >/tmp/runs-bench-host.log 2>&1 &
host_pid=$!
trap 'kill $host_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.5; done

say "lifecycle load: 8 clients for ${seconds}s"
service="$(dotnet bench/Runs.Bench/bin/Release/net10.0/Runs.Bench.dll --url "http://127.0.0.1:$port" --token "$token" --clients 8 --seconds "$seconds")"
peak_kb="$(grep VmHWM /proc/$host_pid/status | awk '{print $2}')"
kill $host_pid; wait $host_pid 2>/dev/null || true

say "pgbench: 8 clients, single-row insert commits, ${seconds}s"
conn="$ConnectionStrings__Runs"
field() { sed -E "s/.*$1=([^;]*).*/\1/" <<<"$conn"; }
export PGHOST="$(field Host)" PGPORT="$(field Port)" PGDATABASE="$(field Database)" PGUSER="$(field Username)" PGPASSWORD="$(field Password)"
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
