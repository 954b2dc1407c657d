# Shared by the benchmark scripts: build in Release, start a host against a benchmark database.
# shellcheck shell=bash
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

# start_host <database> <port>: sets $token, $host_pid and $url; stops the host on exit.
start_host() {
  local database="$1" port="$2"
  connection="$(scripts/postgres.sh "$database")" || die "PostgreSQL is not available"
  export ConnectionStrings__Runs="$connection"
  load_dev_secret_key
  load_dev_checkpoint_key
  # Benchmarks measure throughput, not the per-token limiter; Staging: no development logging.
  export ASPNETCORE_ENVIRONMENT=Staging Logging__LogLevel__Default=Warning \
    Runs__Limits__RequestsPerSecond=1000000 Runs__Limits__Burst=1000000
  say "building host and load generator (Release)"
  dotnet build src/Runs.Host -c Release -v quiet -nologo >&2
  dotnet build bench/Runs.Bench -c Release -v quiet -nologo >&2
  local host=(dotnet src/Runs.Host/bin/Release/net10.0/Runs.Host.dll)
  "${host[@]}" db-apply >/dev/null
  token="$("${host[@]}" tokens create --name bench --scopes admin --jobs '*' 2>/dev/null | tail -1)"
  url="http://127.0.0.1:$port"
  ASPNETCORE_URLS="$url" "${host[@]}" >/tmp/runs-bench-host.log 2>&1 &
  host_pid=$!
  trap 'kill $host_pid 2>/dev/null || true' EXIT
  for _ in $(seq 1 60); do curl -sf "$url/health/ready" >/dev/null && break; sleep 0.5; done
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

bench=(dotnet bench/Runs.Bench/bin/Release/net10.0/Runs.Bench.dll)
