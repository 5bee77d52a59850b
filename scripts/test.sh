#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test twice: under
# AddressSanitizer + UBSan (build-asan/), then under ThreadSanitizer (build-tsan/).
# Each pass runs the whole ctest suite: unit, fuzz-corpus replay, formatting, and
# integration against the real daemon. Both passes run even when the first fails;
# skipped tests are listed with their reasons after each pass. Last, every fuzz
# target explores for ten seconds with coverage (scripts/fuzz.sh --short; the long
# runs are scripts/fuzz.sh's default).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1

status=0
for pass in asan tsan; do
    if ! bash scripts/build.sh "$pass"; then
        status=1
        continue
    fi
    (cd "build-$pass" && ctest --output-on-failure --timeout 900 "$@") || status=1
    log="build-$pass/Testing/Temporary/LastTest.log"
    if grep -qE "skipped '|SKIPPED:" "$log" 2>/dev/null; then
        echo "== $pass: skipped checks =="
        grep -hE "skipped '|SKIPPED:" "$log" | sort -u
    fi
done
echo "== fuzz: every target, ten seconds each =="
bash scripts/fuzz.sh --short || status=1
exit "$status"
