#!/usr/bin/env bash
# Webhook benchmark: 8 writers finish runs; a loopback receiver in the load generator counts deliveries.
# Reports terminal event acknowledged → message received, p50/p99, and sent vs received.
#   bench/webhooks.sh [seconds]        results are printed and appended to bench/results/webhooks.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/host.sh
seconds="${1:-20}"
# The receiver is on loopback, so private networks must be allowed for this run.
export Runs__Webhooks__AllowPrivateNetworks=true
start_host runs_bench 5093

say "webhooks: 8 finishing writers for ${seconds}s"
result="$("${bench[@]}" webhooks --url "$url" --token "$token" --clients 8 --seconds "$seconds")"
mkdir -p bench/results
python3 -c 'import json,sys,datetime; r=json.loads(sys.argv[1]); r["date"]=datetime.date.today().isoformat(); print(json.dumps(r))' "$result" \
  | tee -a bench/results/webhooks.jsonl
