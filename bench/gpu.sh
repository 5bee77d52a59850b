#!/usr/bin/env bash
# The GPU check, prepared to run in under ten minutes on a machine with an NVIDIA
# GPU (or any other): installs what is missing (scripts/setup.sh, unless
# RC_NO_SETUP=1 says the packages are there), builds the release binary, shows
# which EGL devices and renderer the daemon finds, then bench/gpu.py: fps and the
# ratio to the encoder-only ceiling per size, GPU against CPU colour conversion,
# and concurrent jobs until the fps per job halves. Writes bench/GPU.md.
#
#   bash bench/gpu.sh [--max-jobs 16] [--frames 120]
#
# Where GL_RENDERER names llvmpipe, no GPU was found and the table is llvmpipe's.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${RC_NO_SETUP:-0}" != 1 ]; then
    bash scripts/setup.sh
fi
if [ ! -x build/rasterclipd ] || [ "${RC_NO_BUILD:-0}" != 1 ]; then
    bash scripts/build.sh release > /dev/null
fi
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total \
    --format=csv,noheader || echo "gpu: nvidia-smi not found"
exec timeout 540 /usr/bin/python3 bench/gpu.py "$@"
