#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test twice: under
# AddressSanitizer + UBSan (build-asan/), then under ThreadSanitizer (build-tsan/).
# Each pass runs the whole ctest suite: unit, fuzz-corpus replay, formatting, and
# integration against the real daemon.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh asan
(cd build-asan && ctest --output-on-failure --timeout 900 "$@")
bash scripts/build.sh tsan
(cd build-tsan && ctest --output-on-failure --timeout 900 "$@")
