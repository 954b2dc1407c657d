# Shared by the benchmark scripts: build in Release, start a host against a benchmark database.
# shellcheck shell=bash
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

# start_host <database> <port>: sets $token, $host_pid, $url, $ready_s (start to /health/ready) and
# $rest_kb (RSS once ready); stops the host on exit.
start_host() {
  local database="$1" port="$2"
  connection="$(scripts/postgres.sh "$database")" || die "PostgreSQL is not available"
  export ConnectionStrings__Runs="$connection"
  load_dev_secret_key
  load_dev_checkpoint_key
  # Benchmarks measure throughput, not the per-token limits (the fan-out's readers share one token);
  # Staging: no development logging. The schema is applied just below, as a deployment would.
  export ASPNETCORE_ENVIRONMENT=Staging Logging__LogLevel__Default=Warning Runs__Database__ApplySchemaOnStart=false \
    Runs__Limits__RequestsPerSecond=1000000 Runs__Limits__Burst=1000000 \
    Runs__Sse__MaxStreams=1000 Runs__Sse__MaxStreamsPerToken=1000
  command -v wrk >/dev/null || { say "installing wrk (the load generator)"; as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2; as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2; }
  say "building host and load generator (Release)"
  dotnet build src/Runs.Host -c Release -v quiet -nologo -p:RunsPregenerate=true >&2
  dotnet build bench/Runs.Bench -c Release -v quiet -nologo >&2
  local host=(dotnet src/Runs.Host/bin/Release/net10.0/Runs.Host.dll)
  "${host[@]}" db-apply >/dev/null
  token="$("${host[@]}" tokens create --name bench --scopes admin --jobs '*' 2>/dev/null | tail -1)"
  url="http://127.0.0.1:$port"
  local started_ns
  started_ns="$(date +%s%N)"
  ASPNETCORE_URLS="$url" "${host[@]}" >/tmp/runs-bench-host.log 2>&1 &
  host_pid=$!
  server_pid=$host_pid
  trap 'kill $host_pid ${server_pid:-} 2>/dev/null || true' EXIT
  for _ in $(seq 1 600); do curl -sf "$url/health/ready" >/dev/null && break; sleep 0.05; done
  ready_s="$(python3 -c "print(round(($(date +%s%N) - $started_ns) / 1e9, 2))")"
  rest_kb="$(grep VmRSS "/proc/$host_pid/status" | awk '{print $2}')"
}

stop_host() {
  peak_kb="$(grep VmHWM "/proc/$host_pid/status" | awk '{print $2}')"
  kill "$host_pid"
  wait "$host_pid" 2>/dev/null || true
}

# pg_env: libpq variables for psql and pgbench from ConnectionStrings__Runs.
pg_env() {
  local conn="$ConnectionStrings__Runs"
  field() { sed -E "s/.*$1=([^;]*).*/\1/" <<<"$conn"; }
  export PGHOST="$(field Host)" PGPORT="$(field Port)" PGDATABASE="$(field Database)" PGUSER="$(field Username)" PGPASSWORD="$(field Password)"
}

# seed_needed TABLE ROWS WHAT TRUNCATE: true when TABLE holds fewer than ROWS rows, after emptying the
# tables in TRUNCATE for a fresh seed of WHAT (a seed stopped half-way is redone whole).
seed_needed() {
  [[ "$(psql -tAc "select count(*) from $1")" -lt "$2" ]] || return 1
  say "seeding $3"
  psql -q -c "truncate $4"
}

bench=(dotnet bench/Runs.Bench/bin/Release/net10.0/Runs.Bench.dll)

# CPU seconds so far: of one process (user + system), and of every PostgreSQL process.
cpu_of() { awk -v tck="$(getconf CLK_TCK)" '{printf "%.2f\n", ($14 + $15) / tck}' "/proc/$1/stat"; }
pg_cpu() { # a backend that exited is counted in its postmaster's children's times (cutime, cstime), once reaped
  local pid total=0
  for pid in $(pgrep -u postgres); do total=$(( total + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat" 2>/dev/null || echo 0) )); done
  awk -v t="$total" -v tck="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f\n", t / tck}'
}

# wrk_run <label> <script> <url> <seconds>: runs wrk (2 threads, 8 connections) and prints one JSON object
# with requests/s, latency percentiles, non-2xx count and CPU seconds of wrk, the server process
# ($server_pid) and PostgreSQL during the run.
wrk_run() {
  local label="$1" script="$2" target="$3" seconds="$4" out
  out="$(mktemp)"
  local server_before pg_before
  server_before="$(cpu_of "$server_pid")"; pg_before="$(pg_cpu)"
  /usr/bin/time -f '%U %S' -o "$out.time" wrk -t2 -c8 -d"${seconds}s" --latency -s "$script" "$target" > "$out"
  local server_after pg_after
  server_after="$(cpu_of "$server_pid")"; pg_after="$(pg_cpu)"
  python3 - "$label" "$out" "$server_before" "$server_after" "$pg_before" "$pg_after" <<'PY'
import json, re, sys
label, out, sb, sa, pb, pa = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
text = open(out).read()
user, system = map(float, open(out + ".time").read().split()[-2:])
def ms(v, unit): return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
lat = {p: ms(*re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", text).groups()) for p in ("50", "99")}
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
requests = int(re.search(r"(\d+) requests in", text).group(1))
bad = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", text)) else 0
errors = re.search(r"Socket errors: (.*)", text)
print(json.dumps(dict(label=label, requests_per_second=round(rps, 1), requests=requests, non_2xx=bad,
    socket_errors=errors.group(1) if errors else None, p50_ms=round(lat["50"], 2), p99_ms=round(lat["99"], 2),
    cpu_s=dict(server=round(sa - sb, 2), postgres=round(pa - pb, 2), wrk=round(user + system, 2)),
    cpu_ms_per_request=dict(server=round((sa - sb) * 1000 / requests, 3), postgres=round((pa - pb) * 1000 / requests, 3),
                            wrk=round((user + system) * 1000 / requests, 3)))))
PY
  rm -f "$out" "$out.time"
}

# start_reference <port>: the raw-Npgsql reference app (bench/Runs.Bench reference) on the same database.
start_reference() {
  "${bench[@]}" reference --url "http://127.0.0.1:$1" >/tmp/runs-bench-reference.log 2>&1 &
  server_pid=$!
  reference_url="http://127.0.0.1:$1"
  for _ in $(seq 1 60); do curl -s -o /dev/null "$reference_url/" && break; sleep 0.5; done
}

