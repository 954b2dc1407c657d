#!/usr/bin/env bash
# Sets up everything and starts the Runs service.
#   ./run.sh                 local PostgreSQL (installed and started when needed), http://127.0.0.1:5080
#   RUNS_URLS=http://0.0.0.0:8080 ./run.sh
#   ConnectionStrings__Runs='Host=...;Database=...' ./run.sh    your own PostgreSQL; nothing is installed
set -euo pipefail
cd "$(dirname "$0")"
source scripts/common.sh

require_dotnet
connection="$(scripts/postgres.sh runs)" || die "PostgreSQL is not available (see above); the service was not started"
export ConnectionStrings__Runs="$connection"
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
urls="${RUNS_URLS:-http://127.0.0.1:5080}"

say "building the host (Release)"
# Without dynamic PGO, which slows a young process such as the compiler (docs/benchmarks.md).
DOTNET_TieredPGO=0 dotnet build src/Runs.Host -c Release -v quiet -nologo >&2 || die "build failed"
# A Development host keeps a local secret-encryption key in the user-secrets store (docs/operations.md).
host=(dotnet src/Runs.Host/bin/Release/net10.0/Runs.Host.dll)

say "applying the database schema"
"${host[@]}" db-apply >/dev/null || die "could not apply the schema (see the output above)"

say "creating an admin token for this session"
token="$("${host[@]}" tokens create --name "admin-$(date -u +%Y%m%d-%H%M%S)" --scopes admin,runs:read,runs:write,webhooks:manage --jobs '*' 2>/dev/null | tail -1)"
[[ "$token" == runs_* ]] || die "could not create an admin token"

cat >&2 <<MSG

  Runs is starting at ${urls}
  Dashboard:      ${urls}/ui#token=${token}
                  (this link signs you in; the token stays in that browser tab only)
  API reference:  ${urls}/docs
  Admin token:    ${token}

  try:  curl -X POST ${urls}/v1/jobs/hello/runs -H "Authorization: Bearer ${token}" -H 'Content-Type: application/json' -d '{}'

MSG
ASPNETCORE_URLS="$urls" exec "${host[@]}"
