#!/usr/bin/env bash
# Lifecycle benchmark: full run lifecycles (trigger → start → succeed, one command per request) driven by
# wrk with 8 connections, against (1) the service and (2) a raw-Npgsql reference app doing the same writes,
# then (3) pgbench's single-row insert commits with 8 clients — all on the same server in one run, with
# the CPU seconds of every process (server, PostgreSQL, wrk) and CPU per command.
# Each server is first warmed up for RUNS_BENCH_WARMUP seconds (default 60): until then the JIT is still
# re-compiling hot code (tiered, with dynamic PGO) and takes a seventh of the machine (docs/benchmarks.md).
#   bench/lifecycle.sh [seconds]        results are printed and appended to bench/results/lifecycle.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/host.sh
seconds="${1:-20}"
start_host runs_bench 5090
export RUNS_TOKEN="$token"

warmup="${RUNS_BENCH_WARMUP:-60}"
say "warming up the service (${warmup} s)"
wrk -t2 -c8 -d"${warmup}s" -s bench/wrk/lifecycle.lua "$url" >/dev/null
say "service: wrk, 8 connections, ${seconds}s"
service="$(wrk_run service bench/wrk/lifecycle.lua "$url" "$seconds")"
stop_host

start_reference 5192
wrk -t2 -c8 -d"${warmup}s" -s bench/wrk/lifecycle.lua "$reference_url" >/dev/null
say "reference (raw Npgsql): wrk, 8 connections, ${seconds}s"
reference="$(wrk_run reference bench/wrk/lifecycle.lua "$reference_url" "$seconds")"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true

say "pgbench: 8 clients, single-row insert commits, ${seconds}s"
pg_env
psql -q -c "create table if not exists pgbench_ceiling (id bigserial primary key, at timestamptz not null default now(), payload text not null)"
printf "insert into pgbench_ceiling (payload) values ('bench');\n" > /tmp/runs-pgbench-insert.sql
pg_before="$(pg_cpu)"
tps="$(pgbench -n -c 8 -j 2 -T "$seconds" -f /tmp/runs-pgbench-insert.sql 2>/dev/null | awk '/^tps/ {print $3; exit}')"
# pgbench's backends exit with it; their CPU reaches the postmaster's children's times once it reaps them.
for _ in $(seq 1 50); do pgrep -u postgres -f "postgres: .* ${PGDATABASE} " >/dev/null || break; sleep 0.1; done
pg_after="$(pg_cpu)"
psql -q -c "truncate pgbench_ceiling; truncate bench_ref_runs, bench_ref_events, bench_ref_log_lines"

result="$(python3 - "$service" "$reference" "$tps" "$peak_kb" "$pg_before" "$pg_after" "$seconds" "$rest_kb" "$ready_s" <<'PY'
import json, sys, datetime, platform, os
service, reference = json.loads(sys.argv[1]), json.loads(sys.argv[2])
tps, peak, pb, pa, seconds, rest, ready = float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8]), float(sys.argv[9])
print(json.dumps(dict(service=service, reference=reference,
    pgbench=dict(tps=round(tps, 1), postgres_cpu_ms_per_commit=round((pa - pb) * 1000 / (tps * seconds), 3)),
    ratio_to_pgbench=round(service["requests_per_second"] / tps, 3),
    reference_ratio_to_pgbench=round(reference["requests_per_second"] / tps, 3),
    service_to_reference=round(service["requests_per_second"] / reference["requests_per_second"], 3),
    host_rest_rss_mb=round(rest / 1024, 1), host_peak_rss_mb=round(peak / 1024, 1), start_to_ready_s=ready, date=datetime.date.today().isoformat(),
    machine=f"{os.cpu_count()} cores, {platform.machine()}")))
PY
)"
mkdir -p bench/results
echo "$result" | tee -a bench/results/lifecycle.jsonl
