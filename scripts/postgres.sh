#!/usr/bin/env bash
# Makes sure a PostgreSQL the service can use is running and prints its connection string
# on the last line of standard output. Everything else goes to standard error.
#
# - ConnectionStrings__Runs set: that server is used as it is; nothing is installed.
# - Otherwise: PostgreSQL is installed from Debian's packages when missing, and a
#   project-local cluster named "runs" (its own data directory and port, RUNS_PG_PORT,
#   default 55432) is created and started. Other clusters (Debian's "main" on 5432)
#   are never touched. A role and database are created on first use.
#
# Usage: scripts/postgres.sh [database]     (default database: runs)
set -euo pipefail

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

database="${1:-runs}"
port="${RUNS_PG_PORT:-55432}"
cluster="runs"
role="runs"
password="runs"

if [[ -n "${ConnectionStrings__Runs:-}" ]]; then
  say "using ConnectionStrings__Runs from the environment; nothing installed"
  printf '%s\n' "$ConnectionStrings__Runs"
  exit 0
fi

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@";
  elif command -v sudo >/dev/null; then sudo "$@";
  else die "need root (or sudo) to run: $*  — or set ConnectionStrings__Runs to your own PostgreSQL"; fi
}
as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@";
  else sudo -u postgres "$@"; fi
}

if ! command -v pg_createcluster >/dev/null || ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  command -v apt-get >/dev/null || die "PostgreSQL is not installed and apt-get is not available; install PostgreSQL or set ConnectionStrings__Runs"
  say "installing PostgreSQL from Debian's packages (apt-get install postgresql)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >&2 \
    || die "apt-get install postgresql failed"
fi

version="$(ls /usr/lib/postgresql | sort -n | tail -1)"
[[ -n "$version" ]] || die "no PostgreSQL version found under /usr/lib/postgresql"

if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version $cluster"; then
  say "creating project-local PostgreSQL $version cluster '$cluster' on port $port"
  as_root pg_createcluster "$version" "$cluster" --port "$port" >&2 \
    || die "pg_createcluster failed (is port $port free? set RUNS_PG_PORT to another)"
  # Room for several test hosts and the benchmark's clients at once.
  as_root pg_conftool "$version" "$cluster" set max_connections 300 >&2
  # The cluster listens on loopback only; TLS there costs CPU and protects nothing.
  as_root pg_conftool "$version" "$cluster" set listen_addresses 127.0.0.1 >&2
  as_root pg_conftool "$version" "$cluster" set ssl off >&2
fi

existing_port="$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1==v && $2==c {print $3}')"
[[ "$existing_port" == "$port" ]] || die "cluster '$cluster' exists on port $existing_port, not $port; set RUNS_PG_PORT=$existing_port"

if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1==v && $2==c {print $4}' | grep -q online; then
  say "starting cluster '$cluster' on port $port"
  as_root pg_ctlcluster "$version" "$cluster" start >&2 || die "could not start cluster '$cluster' (see /var/log/postgresql/postgresql-$version-$cluster.log)"
fi

for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$port" || die "PostgreSQL on port $port is not accepting connections"

psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres "$@"; }

if [[ "$(psql_admin -tAc "select 1 from pg_roles where rolname = '$role'")" != "1" ]]; then
  say "creating role '$role'"
  psql_admin -c "create role $role login createdb password '$password'" >&2
fi
if [[ "$(psql_admin -tAc "select 1 from pg_database where datname = '$database'")" != "1" ]]; then
  say "creating database '$database'"
  psql_admin -c "create database \"$database\" owner $role" >&2
fi

say "PostgreSQL ready: cluster '$cluster' ($version) on 127.0.0.1:$port, database '$database'"
printf 'Host=127.0.0.1;Port=%s;Database=%s;Username=%s;Password=%s\n' "$port" "$database" "$role" "$password"
