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
work="$(mktemp -d)"
# The fault suite writes its figures (failover and restart times) here; they are printed at the end.
export RUNS_FAULT_FIGURES="$work/fault-figures"
faults_cluster=""
cleanup() {
  [[ -z "${RUNS_PG_CLUSTER:-}" ]] || scripts/postgres.sh --drop || true
  [[ -z "$faults_cluster" ]] || RUNS_PG_CLUSTER="$faults_cluster" scripts/postgres.sh --drop || true
  rm -rf "$work"
}
trap cleanup EXIT
if [[ -z "${ConnectionStrings__Runs:-}" ]]; then
  export RUNS_PG_CLUSTER="runs-test-$$"
  RUNS_PG_PORT="$(free_port 55433)" || die "no free port for the test cluster"
  export RUNS_PG_PORT
fi
connection="$(scripts/postgres.sh runs_tests)" || die "PostgreSQL is not available (see above); no tests were run"
export ConnectionStrings__Runs="$connection"
if [[ -n "${RUNS_PG_CLUSTER:-}" ]]; then
  # The fault suite restarts its PostgreSQL; on a cluster of its own it runs beside the other suites.
  faults_cluster="$RUNS_PG_CLUSTER-faults"
  faults_port="$(free_port "$RUNS_PG_PORT")" || die "no free port for the fault suite's cluster"
  faults_connection="$(RUNS_PG_CLUSTER="$faults_cluster" RUNS_PG_PORT="$faults_port" scripts/postgres.sh runs_tests)" \
    || die "PostgreSQL is not available for the fault suite (see above); no tests were run"
fi
browser="$(scripts/chromium.sh)" || die "Chromium is not available for the browser tests (see above); no tests were run"
export RUNS_CHROMIUM="$browser"

# With pre-generated code (docs/operations.md): the tests run the handlers production runs, and no host
# they start spends its first seconds compiling.
say "building"
dotnet build Runs.sln -c Release --nologo -v:q -p:RunsPregenerate=true

suite() { # suite PROJECT [dotnet test arguments]: its output goes to $work/PROJECT.log
  dotnet test "tests/$1" -c Release --no-build --nologo "${@:2}" >"$work/$1.log" 2>&1
}
say "running the test suites side by side (each one's output follows when it ends)"
status=0
suites=(Runs.Domain.Tests Runs.Host.Tests Runs.Browser.Tests)
pids=()
for project in "${suites[@]}"; do
  suite "$project" "$@" & pids+=($!)
done
if [[ -n "$faults_cluster" ]]; then
  (export ConnectionStrings__Runs="$faults_connection" RUNS_PG_CLUSTER="$faults_cluster"; suite Runs.Faults.Tests "$@") & pids+=($!)
  suites+=(Runs.Faults.Tests)
fi
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || status=1
  cat "$work/${suites[$i]}.log"
done
if [[ -z "$faults_cluster" ]]; then
  # On a server of the caller's, the fault suite restarts what the other suites use: it runs after them.
  suite Runs.Faults.Tests "$@" || status=1
  cat "$work/Runs.Faults.Tests.log"
  suites+=(Runs.Faults.Tests)
fi
if [[ -s "$RUNS_FAULT_FIGURES" ]]; then
  say "fault suite figures (docs/benchmarks.md)"
  cat "$RUNS_FAULT_FIGURES"
fi
# One plain closing line for every test project together.
for project in "${suites[@]}"; do cat "$work/$project.log"; done | awk '/(Passed|Failed)! +- +Failed: / {
       for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     }
     END { gsub(",", "", p); printf "Tests: %d passed, %d failed, %d skipped\n", p, f, s }'
exit "$status"
