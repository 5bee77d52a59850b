#!/usr/bin/env bash
# Installs what building and running need (not the test tooling: the test command
# installs that), builds the daemon and the CLI, and runs rasterclipd on
# 127.0.0.1:8080 with the demo raster shipped in demo/. Stop it with Ctrl-C (it
# drains and exits 0).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --build
bash scripts/build.sh image
echo "rasterclipd: try  curl -o clip.webm -H 'Content-Type: application/json' --data @proto/examples/demo.json http://127.0.0.1:8080/v1/render"
exec build/rasterclipd --listen 127.0.0.1:8080 --data-root demo "$@"
