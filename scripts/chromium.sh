#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the browser tests (tests/Runs.Browser.Tests drive it
# through Playwright; Playwright's own browser download is not used) and prints its path on the last
# line of standard output. Everything else goes to standard error. Exits non-zero, with the reason,
# when it cannot.
#
# - RUNS_CHROMIUM set: that browser is used as it is; nothing is installed.
# - Otherwise: Debian's package chromium, installed with apt-get when missing. The path printed is the
#   program itself (/usr/lib/chromium/chromium), not the /usr/bin/chromium script that starts it: that
#   script adds a desktop's flags (GPU rasterization, extensions), which cost headless tests CPU.
set -euo pipefail

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

if [[ -n "${RUNS_CHROMIUM:-}" ]]; then
  [[ -x "$RUNS_CHROMIUM" ]] || die "RUNS_CHROMIUM=$RUNS_CHROMIUM is not an executable"
  printf '%s\n' "$RUNS_CHROMIUM"
  exit 0
fi

browser=/usr/bin/chromium
if [[ ! -x "$browser" ]]; then
  command -v apt-get >/dev/null || die "Chromium is not installed and apt-get is not available; install Chromium or set RUNS_CHROMIUM"
  as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@";
    elif command -v sudo >/dev/null; then sudo "$@";
    else die "need root (or sudo) to run: $*  — or set RUNS_CHROMIUM to a Chromium you have"; fi
  }
  say "installing Chromium from Debian's packages for the browser tests (apt-get install chromium)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2 || die "apt-get install chromium failed"
fi
[[ ! -x /usr/lib/chromium/chromium ]] || browser=/usr/lib/chromium/chromium
"$browser" --version >&2 || die "$browser does not start"
printf '%s\n' "$browser"
