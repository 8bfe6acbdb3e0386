#!/usr/bin/env bash
# Renders a soma HTML report in headless Chromium and saves a PNG, to look at what a user sees.
# Dev-time only: needs Debian's chromium (`apt-get install chromium`), which soma itself never uses.
# Usage: tools/screenshot.sh report.html report.png [width height]
set -euo pipefail
html=$(realpath "$1")
png=$(realpath -m "$2")
size="${3:-1280},${4:-4000}"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
  --window-size="$size" --screenshot="$png" "file://$html" 2>/dev/null
echo "wrote $png"
