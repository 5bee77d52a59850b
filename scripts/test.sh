#!/usr/bin/env bash
# Installs what is missing, builds with AddressSanitizer and UBSan, and runs every
# test (unit, fuzz corpus replay, integration against the real daemon) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh asan
cd build-asan
ctest --output-on-failure --timeout 900 "$@"
