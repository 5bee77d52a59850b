#!/usr/bin/env bash
# Configures and builds rasterclip.
#   scripts/build.sh            release build in build/
#   scripts/build.sh asan       ASan + UBSan build in build-asan/
#   scripts/build.sh tsan       ThreadSanitizer build in build-tsan/
#   scripts/build.sh image      release build without the tests in build/ (the image)
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-release}"
case "$kind" in
    release) dir=build; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRC_TESTS=ON) ;;
    image) dir=build; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRC_TESTS=OFF) ;;
    asan) dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRC_TESTS=ON -DRC_SANITIZE=address,undefined -DRC_FAULT_INJECTION=ON) ;;
    tsan) dir=build-tsan; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRC_TESTS=ON -DRC_SANITIZE=thread -DRC_FAULT_INJECTION=ON) ;;
    *) echo "usage: $0 [release|asan|tsan|image]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${flags[@]}" > /dev/null
cmake --build "$dir" -j "$(nproc)"
