#!/usr/bin/env bash
# Sets up everything and runs every test against a real PostgreSQL.
#
# Without ConnectionStrings__Runs, the tests get throw-away clusters made from nothing on spare ports
# (PostgreSQL installed first when missing) and removed afterwards: every run, CI's included, takes the
# path a fresh machine takes, so a broken scripts/postgres.sh fails here and not on a newcomer's machine.
# With ConnectionStrings__Runs, that server is used and nothing is installed. The browser tests drive
# Debian's Chromium, installed when missing (scripts/chromium.sh; RUNS_CHROMIUM names another).
#
# Arguments go to every test project's `dotnet test` (e.g. --filter "FullyQualifiedName~Webhook").
set -euo pipefail
cd "$(dirname "$0")"
source scripts/common.sh

require_dotnet
work="$(mktemp -d)"
clusters=()
provisioning=""
cleanup() {
  [[ -z "$provisioning" ]] || wait "$provisioning" 2>/dev/null || true
  for cluster in "${clusters[@]}"; do RUNS_PG_CLUSTER="$cluster" scripts/postgres.sh --drop || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The fault suite restarts PostgreSQL, so it gets a cluster of its own and runs beside the other suites;
# on a server of the caller's it runs after them.
own_clusters=false
if [[ -z "${ConnectionStrings__Runs:-}" ]]; then
  own_clusters=true
  # Above the kernel's range for outgoing connections' local ports (32768–60999 by default): a connection
  # that happened to hold the fault cluster's port, chosen from that range, once made PostgreSQL's start
  # fail with "Address already in use" although the port had been free a moment before.
  read -r _ ephemeral_last < /proc/sys/net/ipv4/ip_local_port_range || ephemeral_last=60999
  tests_port="$(free_port $(( ephemeral_last < 65000 ? ephemeral_last + 1 : 55433 )))" \
    || die "no free port for the test cluster"
  faults_port="$(free_port $((tests_port + 1)))" || die "no free port for the fault suite's cluster"
  clusters=("runs-test-$$" "runs-test-$$-faults")
fi

# PostgreSQL and Chromium are made ready while the solution builds (one after the other: both may apt-get).
provision() {
  if $own_clusters; then
    # The fault suite's cluster keeps PostgreSQL's durable defaults: its restart is the one a deployment sees.
    RUNS_PG_CLUSTER="${clusters[0]}" RUNS_PG_PORT="$tests_port" RUNS_PG_DISPOSABLE=1 \
      scripts/postgres.sh runs_tests > "$work/tests.connection"
    RUNS_PG_CLUSTER="${clusters[1]}" RUNS_PG_PORT="$faults_port" scripts/postgres.sh runs_tests > "$work/faults.connection"
  else
    scripts/postgres.sh runs_tests > "$work/tests.connection"
    cp "$work/tests.connection" "$work/faults.connection"
  fi
  scripts/chromium.sh > "$work/chromium"
}
# Every process here is young — the build's compiler and MSBuild nodes, every test process and every host a test
# starts — and dynamic PGO makes a young process slower (it instruments first and re-compiles later): without
# it the build took 13 s and 23 s of CPU instead of 19–21 s and 35–38 s, the host tests 152–158 s and 237–258 s
# of CPU instead of 167–176 s and 287–305 s (docs/benchmarks.md). Services keep it; it pays off after their
# first half-minute.
export DOTNET_TieredPGO=0
say "making PostgreSQL and Chromium ready, and building"
provision &
provisioning=$!

# With pre-generated code (docs/operations.md): the tests run the handlers production runs, and no host
# they start spends its first seconds compiling them.
# Only what the tests run (Runs.Tests.slnf: the solution without bench/, which bench/*.sh build when run by
# hand): the bench's compile was 6 s of the build's 44 s of CPU. The compiler stays loaded from one project to
# the next (this machine's environment turns that off, with UseSharedCompilation=false: each of the build's
# compiles would load Roslyn again), and is let go after.
dotnet build Runs.Tests.slnf -c Release --nologo -v:q -p:RunsPregenerate=true -p:UseSharedCompilation=true
dotnet build-server shutdown --vbcscompiler >/dev/null 2>&1 || true
wait "$provisioning" || die "PostgreSQL or Chromium is not available (see above); no tests were run"
provisioning=""
ConnectionStrings__Runs="$(tail -1 "$work/tests.connection")"
RUNS_CHROMIUM="$(tail -1 "$work/chromium")"
export ConnectionStrings__Runs RUNS_CHROMIUM
faults_connection="$(tail -1 "$work/faults.connection")"

# The fault suite writes its figures (failover and restart times) here; they are printed at the end.
export RUNS_FAULT_FIGURES="$work/fault-figures"

# One suite: its output is kept and printed whole when it ends, so suites side by side do not interleave.
suite() { # name, test assembly, dotnet test arguments…
  local name="$1" assembly="$2" status=0
  shift 2
  dotnet test "$assembly" --nologo "$@" > "$work/$name.log" 2>&1 || status=$?
  { flock 9; say "$name"; cat "$work/$name.log"; } 9>"$work/print.lock"
  return "$status"
}
test_assembly() { echo "tests/$1/bin/Release/net10.0/$1.dll"; }
faults() {
  ConnectionStrings__Runs="$faults_connection" RUNS_PG_CLUSTER="${clusters[1]:-${RUNS_PG_CLUSTER:-}}" \
    suite "fault suite" "$(test_assembly Runs.Faults.Tests)" "$@"
}

# The suites side by side: the machine's cores are what bounds the run, and each suite alone leaves them
# idle while it waits (a failover, a time-out, Chromium). Each suite has databases of its own. The host
# tests' collections that measure the whole process (its allocations, its memory, its pooled connections)
# run in a process of their own: in one process they ran alone at the end, after every other suite had
# ended (in alternation: 110 and 106 s a run against 99 and 97 s, docs/benchmarks.md).
say "running the tests"
pids=()
suite "domain tests" "$(test_assembly Runs.Domain.Tests)" "$@" & pids+=($!)
suite "browser tests" "$(test_assembly Runs.Browser.Tests)" "$@" & pids+=($!)
if (( $# == 0 )); then
  suite "host tests" "$(test_assembly Runs.Host.Tests)" --filter "Process!=own" & pids+=($!)
  suite "host tests measuring their process" "$(test_assembly Runs.Host.Tests)" --filter "Process=own" & pids+=($!)
else
  suite "host tests" "$(test_assembly Runs.Host.Tests)" "$@" & pids+=($!)
fi
if $own_clusters; then
  faults "$@" & pids+=($!)
fi
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
if ! $own_clusters; then
  faults "$@" || status=1
fi

if [[ -s "$RUNS_FAULT_FIGURES" ]]; then
  say "fault suite figures (docs/benchmarks.md)"
  cat "$RUNS_FAULT_FIGURES"
fi
# One plain closing line for every test project together.
awk '/(Passed|Failed)! +- +Failed: / {
       for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     }
     END { gsub(",", "", p); printf "Tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$work"/*.log
exit "$status"
