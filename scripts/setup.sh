#!/usr/bin/env bash
# Installs every Debian package rasterclip needs to build, run and test.
# Non-interactive and idempotent: packages already present are left alone, and
# `apt-get update` runs once, only when something is missing.
#   scripts/setup.sh           everything (build, run, every test)
#   scripts/setup.sh --build   what building and running need only (scripts/demo.sh, the
#                              container image's build stage)
set -euo pipefail
cd "$(dirname "$0")/.."
build_only=false
if [ "${1:-}" = "--build" ]; then
    build_only=true
fi

packages=(
    # build
    build-essential cmake pkg-config glslang-tools clang-format
    # man pages made from --help, the Python client the package installs, and the
    # package's dependencies worked out from the binaries (dpkg-shlibdeps needs file)
    python3 file
    # libraries
    libmicrohttpd-dev libjansson-dev libgdal-dev libvpx-dev libcurl4-openssl-dev
    libopenh264-dev libgif-dev libssl-dev
    libfreetype-dev libegl-dev libgles-dev zlib1g-dev
    # the reader's sandbox (seccomp filters)
    libseccomp-dev
    # software rendering when no GPU is present
    libegl-mesa0 libgl1-mesa-dri libgles2
    # fonts (labels)
    fonts-dejavu-core ca-certificates
    # the map page's Leaflet (GET /map, /leaflet/), served from the system's copy
    libjs-leaflet
)
test_packages=(
    # tests: decoders, WebM parsers, independent colour expectations
    ffmpeg mkvtoolnix libwebm-tools libwebm-dev python3 python3-numpy python3-matplotlib python3-gdal
    python3-jsonschema python3-yaml curl gdal-bin iproute2 util-linux
    # hostile HDF5 and netCDF files (external storage, links, virtual datasets)
    python3-h5py python3-netcdf4 python3-xarray
    python3-pip python3-venv python3-setuptools
    # unused imports and names in the Python (tests, bench, client, scripts)
    pyflakes3
    # the units: systemd-analyze verify, systemd-socket-activate
    systemd
    # promtool: /metrics as Prometheus parses it
    prometheus
    # coverage-guided fuzzing (scripts/fuzz.sh): clang and libFuzzer
    clang libclang-rt-14-dev
    # browser test: the demo page plays the stream
    chromium
)
if ! $build_only; then
    packages+=("${test_packages[@]}")
    # The OpenAPI and manifest validators run on Node (npm packages in tests/openapi/);
    # a Node that came from elsewhere with its own npm is used as it is.
    command -v node > /dev/null || packages+=(nodejs)
    command -v npm > /dev/null || packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

node_tools() {
    # Test tooling from the npm registry, pinned by the package-lock.json files of
    # tests/openapi/ (OpenAPI validator) and tests/kubernetes/ (manifest schemas).
    if $build_only; then
        return 0
    fi
    if [ ! -d tests/kubernetes/node_modules/kubernetes-models ]; then
        npm ci --prefix tests/kubernetes --no-audit --no-fund --loglevel=error
    fi
    if [ ! -d tests/openapi/node_modules/@apidevtools/swagger-parser ]; then
        npm ci --prefix tests/openapi --no-audit --no-fund --loglevel=error
    fi
}

if [ "${#missing[@]}" -eq 0 ]; then
    echo "setup: all ${#packages[@]} packages present"
    node_tools
    exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
node_tools
