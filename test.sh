#!/usr/bin/env bash
# Sets up everything and runs every test against a real PostgreSQL.
#
# Without ConnectionStrings__Runs, the tests get a throw-away cluster made from nothing on a spare
# port (PostgreSQL installed first when missing) and removed afterwards: every run, CI's included,
# takes the path a fresh machine takes, so a broken scripts/postgres.sh fails here and not on a
# newcomer's machine. With ConnectionStrings__Runs, that server is used and nothing is installed.
# The browser tests drive Debian's Chromium, installed when missing (scripts/chromium.sh; RUNS_CHROMIUM
# names another).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/common.sh

require_dotnet
if [[ -z "${ConnectionStrings__Runs:-}" ]]; then
  export RUNS_PG_CLUSTER="runs-test-$$"
  RUNS_PG_PORT="$(free_port 55433)" || die "no free port for the test cluster"
  export RUNS_PG_PORT
  trap 'scripts/postgres.sh --drop || true' EXIT
fi
connection="$(scripts/postgres.sh runs_tests)" || die "PostgreSQL is not available (see above); no tests were run"
export ConnectionStrings__Runs="$connection"
browser="$(scripts/chromium.sh)" || die "Chromium is not available for the browser tests (see above); no tests were run"
export RUNS_CHROMIUM="$browser"

# With pre-generated code (docs/operations.md): the tests run the handlers production runs, and no host
# they start spends its first seconds compiling them.
say "building"
dotnet build Runs.sln -c Release --nologo -v:q -p:RunsPregenerate=true

say "running the tests"
# Every host a test starts is young, and dynamic PGO makes a young process slower (it instruments first and
# re-compiles later): without it the host tests took 152–158 s and 237–258 s of CPU instead of 167–176 s and
# 287–305 s (docs/benchmarks.md). Services keep it; it pays off after their first half-minute.
export DOTNET_TieredPGO=0
log="$(mktemp)"
# The fault suite writes its figures (failover and restart times) here; they are printed at the end.
RUNS_FAULT_FIGURES="$(mktemp)"
export RUNS_FAULT_FIGURES
trap 'rm -f "$log" "$RUNS_FAULT_FIGURES"; [[ -z "${RUNS_PG_CLUSTER:-}" ]] || scripts/postgres.sh --drop || true' EXIT
status=0
# One test project at a time (-m:1): the fault suite (tests/Runs.Faults.Tests) restarts this PostgreSQL
# and would break the other projects' tests if they ran beside it; and on two cores, suites side by side
# (the fault suite on a cluster of its own) took longer than one after another (measured: 7 m 36 s).
dotnet test Runs.sln -c Release --no-build --nologo -m:1 "$@" 2>&1 | tee "$log" || status=$?
if [[ -s "$RUNS_FAULT_FIGURES" ]]; then
  say "fault suite figures (docs/benchmarks.md)"
  cat "$RUNS_FAULT_FIGURES"
fi
# One plain closing line for every test project together.
awk '/(Passed|Failed)! +- +Failed: / {
       for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     }
     END { gsub(",", "", p); printf "Tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
