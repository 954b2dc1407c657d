#!/usr/bin/env bash
# Regenerates the dashboard's screenshots in docs/ui/ (one per page, on a laptop and on a phone) by
# running the browser test that visits every page with RUNS_SCREENSHOTS set. Sets up PostgreSQL and
# Chromium as ./test.sh does.
#   scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exec env RUNS_SCREENSHOTS="$PWD/docs/ui" ./test.sh --filter "FullyQualifiedName~Runs.Browser.Tests.PagesTests"
