#!/usr/bin/env bash
# Regenerates docs/screenshots/: a SpiNNaker run report, a compare across the three families and a constrained
# sweep, as a user sees them (headless Chromium through tools/screenshot.sh; dev-time only, like that script).
# Usage: tools/screenshots.sh   (from anywhere; builds nothing: needs target/release/soma)
set -euo pipefail
cd "$(dirname "$0")/.."
soma=target/release/soma
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=docs/screenshots
mkdir -p "$out"
"$soma" run examples/microcircuit.snn --set scale=0.2 --duration 300ms --compare-reference --probe "L4e[0..2]:v" \
  --trace "$work/v.csv" --json -q > "$work/run.json" 2> /dev/null
"$soma" report "$work/run.json" --trace "$work/v.csv" --html "$work/run.html" > /dev/null
"$soma" compare examples/cuba.snn --targets spinnaker1,spinnaker2,reram_128,sfq_mitll --duration 50ms \
  --html "$work/compare.html" -q > /dev/null
"$soma" sweep examples/xor_sfq.snn --vary ring_buffer_sigma=5,10,20 --vary neurons_per_core=64,256 \
  --duration 50ms --max rate_error=5% --out "$work/sweep" -q > /dev/null 2>&1
tools/screenshot.sh "$work/run.html" "$out/run_report.png" 1100 6300
tools/screenshot.sh "$work/compare.html" "$out/compare.png" 1100 640
tools/screenshot.sh "$work/sweep/sweep.html" "$out/sweep.png" 1100 820
