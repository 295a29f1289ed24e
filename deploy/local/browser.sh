#!/usr/bin/env bash
# Headless Chromium (Debian's `chromium` package) for the report rendering test; idempotent.
# usage: browser.sh   → prints the chromium binary path on stdout
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

find_chromium() {
  command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null || true
}

binary="$(find_chromium)"
if [[ -z "$binary" ]]; then
  need apt-get "install Chromium by hand (Debian/Ubuntu package 'chromium')"
  sudo_cmd=()
  [[ "$(id -u)" == 0 ]] || sudo_cmd=(sudo)
  say "installing Debian's chromium package (headless report tests)"
  # The package lists may be empty or stale on a fresh machine: refresh once, then install.
  "${sudo_cmd[@]}" apt-get update -qq >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    chromium fonts-dejavu-core >&2 || die "apt-get install chromium failed"
  binary="$(find_chromium)"
  [[ -n "$binary" ]] || die "chromium installed but not on PATH"
fi
echo "$binary"
