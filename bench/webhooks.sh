#!/usr/bin/env bash
# Webhook benchmark: 8 writers finish runs; a loopback receiver in the load generator counts deliveries.
# Reports terminal event acknowledged → message received, p50/p99, and sent vs received.
#   bench/webhooks.sh [seconds]        results are printed and appended to bench/results/webhooks.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
seconds="${1:-20}"
port=5093

export ConnectionStrings__Runs="$(scripts/postgres.sh runs_bench)"
load_dev_secret_key
# The receiver is on loopback, so private networks must be allowed for this run.
export ASPNETCORE_ENVIRONMENT=Staging Logging__LogLevel__Default=Warning Runs__Webhooks__AllowPrivateNetworks=true \
  Runs__Limits__RequestsPerSecond=1000000 Runs__Limits__Burst=1000000

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

say "webhooks: 8 finishing writers for ${seconds}s"
result="$(dotnet bench/Runs.Bench/bin/Release/net10.0/Runs.Bench.dll webhooks --url "http://127.0.0.1:$port" --token "$token" --clients 8 --seconds "$seconds")"
mkdir -p bench/results
python3 -c 'import json,sys,datetime; r=json.loads(sys.argv[1]); r["date"]=datetime.date.today().isoformat(); print(json.dumps(r))' "$result" \
  | tee -a bench/results/webhooks.jsonl
