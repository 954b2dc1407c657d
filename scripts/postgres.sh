#!/usr/bin/env bash
# Makes sure a PostgreSQL the service can use is running and prints its connection string
# on the last line of standard output. Everything else goes to standard error. Exits non-zero,
# with the reason, when it cannot: callers must stop then.
#
# - ConnectionStrings__Runs set: that server is used as it is; nothing is installed.
# - Otherwise: PostgreSQL is installed from Debian's packages when missing, and a
#   project-local cluster (RUNS_PG_CLUSTER, default "runs"; its own data directory and port,
#   RUNS_PG_PORT, default 55432) is created and started. Other clusters (Debian's "main" on 5432)
#   are never touched. A role and database are created on first use. RUNS_PG_DISPOSABLE=1 makes a new
#   cluster without crash safety (fsync off), for one that is dropped after use.
#
# Usage: scripts/postgres.sh [database]          (default database: runs)
#        scripts/postgres.sh --drop              stop and remove the cluster
set -euo pipefail

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

port="${RUNS_PG_PORT:-55432}"
cluster="${RUNS_PG_CLUSTER:-runs}"
role="runs"
password="runs"

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@";
  elif command -v sudo >/dev/null; then sudo "$@";
  else die "need root (or sudo) to run: $*  — or set ConnectionStrings__Runs to your own PostgreSQL"; fi
}
as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@";
  else sudo -u postgres "$@"; fi
}
cluster_field() { # column of `pg_lsclusters` for our cluster: 3 port, 4 status
  pg_lsclusters -h 2>/dev/null | awk -v c="$cluster" -v f="$1" '$2==c {print $f; exit}'
}

if [[ "${1:-}" == "--drop" ]]; then
  version="$(pg_lsclusters -h 2>/dev/null | awk -v c="$cluster" '$2==c {print $1; exit}')"
  [[ -z "$version" ]] || { say "dropping cluster '$cluster'"; as_root pg_dropcluster "$version" "$cluster" --stop >&2; }
  exit 0
fi
database="${1:-runs}"

if [[ -n "${ConnectionStrings__Runs:-}" ]]; then
  say "using ConnectionStrings__Runs from the environment; nothing installed"
  printf '%s\n' "$ConnectionStrings__Runs"
  exit 0
fi

if ! command -v pg_createcluster >/dev/null || ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  command -v apt-get >/dev/null || die "PostgreSQL is not installed and apt-get is not available; install PostgreSQL or set ConnectionStrings__Runs"
  say "installing PostgreSQL from Debian's packages (apt-get install postgresql)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >&2 \
    || die "apt-get install postgresql failed"
fi

version="$(ls /usr/lib/postgresql | sort -n | tail -1)"
[[ -n "$version" ]] || die "no PostgreSQL version found under /usr/lib/postgresql"
bin="/usr/lib/postgresql/$version/bin"
conf_dir="/etc/postgresql/$version/$cluster"

if [[ -z "$(cluster_field 2)" ]]; then
  say "creating project-local PostgreSQL $version cluster '$cluster' on port $port"
  initdb_options=()
  [[ "${RUNS_PG_DISPOSABLE:-}" != 1 ]] || initdb_options=(-- --no-sync)
  as_root pg_createcluster "$version" "$cluster" --port "$port" "${initdb_options[@]}" >&2 \
    || die "pg_createcluster failed (is port $port free? set RUNS_PG_PORT to another)"
  # Debian's postgresql.conf includes conf.d/*.conf. String values are quoted, as PostgreSQL's
  # grammar wants: an unquoted 127.0.0.1 is a syntax error and the cluster would never start.
  as_root tee "$conf_dir/conf.d/runs.conf" >/dev/null <<CONF
# Written by the Runs project's scripts/postgres.sh.
# Room for several test hosts and the benchmark's clients at once.
max_connections = 300
# Loopback only; TLS there costs CPU and protects nothing.
listen_addresses = '127.0.0.1'
ssl = off
CONF
  if [[ "${RUNS_PG_DISPOSABLE:-}" == 1 ]]; then
    # A cluster dropped after one use (test.sh) needs no crash safety: without the flushes to disk the
    # host tests spend a sixth less CPU (docs/benchmarks.md).
    as_root tee -a "$conf_dir/conf.d/runs.conf" >/dev/null <<CONF
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  fi
  as_root chown postgres:postgres "$conf_dir/conf.d/runs.conf"
fi

# Read the configuration exactly as the server will before starting it, so a bad file is named here.
if ! check="$(as_postgres "$bin/postgres" -D "/var/lib/postgresql/$version/$cluster" \
      -c config_file="$conf_dir/postgresql.conf" -C listen_addresses 2>&1)"; then
  die "PostgreSQL rejects the configuration of cluster '$cluster' ($conf_dir): $check"
fi

existing_port="$(cluster_field 3)"
[[ "$existing_port" == "$port" ]] || die "cluster '$cluster' exists on port $existing_port, not $port; set RUNS_PG_PORT=$existing_port"

if [[ "$(cluster_field 4)" != online* ]]; then
  say "starting cluster '$cluster' on port $port"
  as_root pg_ctlcluster "$version" "$cluster" start >&2 \
    || die "could not start cluster '$cluster': $(tail -5 "/var/log/postgresql/postgresql-$version-$cluster.log" 2>/dev/null)"
fi

for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.25
done
pg_isready -q -h 127.0.0.1 -p "$port" || die "PostgreSQL on port $port is not accepting connections"

psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -p "$port" -d postgres "$@"; }

if [[ "$(psql_admin -tAc "select 1 from pg_roles where rolname = '$role'")" != "1" ]]; then
  say "creating role '$role'"
  psql_admin -c "create role $role login createdb password '$password'" >&2 || die "could not create role '$role'"
fi
if [[ "$(psql_admin -tAc "select 1 from pg_database where datname = '$database'")" != "1" ]]; then
  say "creating database '$database'"
  psql_admin -c "create database \"$database\" owner $role" >&2 || die "could not create database '$database'"
fi
# Prove the service's own login works, not just the superuser's.
PGPASSWORD="$password" psql -X -q -h 127.0.0.1 -p "$port" -U "$role" -d "$database" -tAc 'select 1' >/dev/null \
  || die "role '$role' cannot log in to database '$database' on 127.0.0.1:$port"

say "PostgreSQL ready: cluster '$cluster' ($version) on 127.0.0.1:$port, database '$database'"
printf 'Host=127.0.0.1;Port=%s;Database=%s;Username=%s;Password=%s\n' "$port" "$database" "$role" "$password"
