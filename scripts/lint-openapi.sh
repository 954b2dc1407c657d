#!/usr/bin/env bash
# Lints an OpenAPI document with Redocly CLI's recommended rules (scripts/redocly.yaml) and fails on
# any error or warning. It starts nothing: give it a saved document or the URL of a running service.
#
#   ./run.sh                                             # in another terminal
#   scripts/lint-openapi.sh http://127.0.0.1:5080/openapi/v1.json
#   scripts/lint-openapi.sh saved-v1.json
#
# Needs Node.js 20+ with npm; Redocly CLI (REDOCLY_CLI_VERSION) is fetched by npx into npm's cache,
# never into the repository. Building, running and testing the project need none of this.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/common.sh"

[[ $# -eq 1 ]] || die "usage: scripts/lint-openapi.sh <openapi.json file | http(s) URL>"
command -v npx >/dev/null || die "npx (Node.js 20+ with npm) is not on PATH"
version="${REDOCLY_CLI_VERSION:-2.77.0}"
# No usage reports or update checks from the linter.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

document="$1"
if [[ "$document" == http://* || "$document" == https://* ]]; then
  saved="$(mktemp --suffix=.json)"
  trap 'rm -f "$saved"' EXIT
  curl -fsS "$document" -o "$saved" || die "could not fetch $document (is the service running?)"
  document="$saved"
fi
[[ -f "$document" ]] || die "no such file: $document"

redocly=(npx --yes --package="@redocly/cli@$version" -- redocly lint --config "$here/redocly.yaml")
say "linting $1 with Redocly CLI $version (recommended rules)"
status=0
"${redocly[@]}" "$document" || status=$?
# Redocly fails only on errors; a warning is a problem here too.
report="$("${redocly[@]}" --format=json "$document" 2>/dev/null || true)"
totals="$(node -e 'const t=JSON.parse(require("fs").readFileSync(0,"utf8")).totals;console.log(`${t.errors} ${t.warnings}`)' <<<"$report")" \
  || die "could not read the linter's totals"
read -r errors warnings <<<"$totals"
printf 'OpenAPI lint: %d errors, %d warnings\n' "$errors" "$warnings"
[[ "$status" -eq 0 && "$errors" -eq 0 && "$warnings" -eq 0 ]]
