#!/usr/bin/env bash
# Sets up everything and runs every test against a real PostgreSQL
# (the project's local cluster, installed and started when needed, or ConnectionStrings__Runs).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/common.sh

require_dotnet
export ConnectionStrings__Runs="$(scripts/postgres.sh runs_tests)"

say "building and running the tests"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
dotnet test Runs.sln -c Release --nologo "$@" 2>&1 | tee "$log" || status=$?
# One plain closing line for every test project together.
awk '/(Passed|Failed)! +- +Failed: / {
       for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     }
     END { gsub(",", "", p); printf "Tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
