#!/usr/bin/env bash
# Runs every lit test (FileCheck tests and the GoogleTest binaries, which lit
# runs through lit.formats.GoogleTest) and ends with one "N passed, N failed" line.
set -uo pipefail
build=${1:-build}
lit=${LIT:-/usr/lib/llvm-22/bin/lit}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

"$lit" -sv "$build/test" "$build/test/Unit" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

count() { # sums lit's summary rows whose label matches $1
  awk -v re="$1" -F: '$1 ~ re { gsub(/[^0-9].*/, "", $2); n += $2 } END { print n + 0 }' \
    <(sed -E 's/^ +//; s/ +:/:/; s/: +/:/' "$log")
}
passed=$(count '^(Passed|Expectedly Failed)$')
failed=$(count '^(Failed|Unresolved|Timed Out|Unexpectedly Passed)$')
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
