#!/usr/bin/env bash
# Builds the Debian package rasterclip_<version>_<arch>.deb from the tree, in
# build-package/ (a release build without the tests, installed under /usr), and
# prints its path. What it needs to build is what scripts/setup.sh --build installs.
#   scripts/package.sh                    build-package/rasterclip_*.deb
#   scripts/package_test.sh DEB           installs it on a fresh Debian 12 and renders
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build-package
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRC_TESTS=OFF \
    -DCMAKE_INSTALL_PREFIX=/usr > /dev/null
cmake --build "$dir" -j "$(nproc)"
(cd "$dir" && cpack -G DEB > /dev/null)
ls "$PWD/$dir"/rasterclip_*.deb
