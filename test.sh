#!/usr/bin/env bash
# Sets up everything and runs every test against a real PostgreSQL
# (the project's local cluster, installed and started when needed, or ConnectionStrings__Runs).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/common.sh

require_dotnet
export ConnectionStrings__Runs="$(scripts/postgres.sh runs_tests)"

say "building and running the tests"
dotnet test Runs.sln -c Release --nologo "$@"
