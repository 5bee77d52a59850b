#!/usr/bin/env bash
# Builds the container image (Dockerfile) and runs it, with Debian's buildah and
# podman: no Docker daemon, no registry. The debian:12 base is made here with
# debootstrap and imported under that name. Then: /healthz from the running
# container, a clip rendered by it and checked with ffprobe, SIGTERM (a clean,
# drained exit), and the build time and image size.
#
#   bash scripts/image-test.sh        (as root, or a user with sudo; ~10 minutes)
#
# Storage is vfs and builds use chroot isolation, and containers run under runc
# with the host's network: what works inside an unprivileged CI container too.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
need=()
for tool in buildah:buildah podman:podman debootstrap:debootstrap runc:runc curl:curl \
    ffprobe:ffmpeg; do
    command -v "${tool%%:*}" > /dev/null || need+=("${tool##*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        "${need[@]}" uidmap
fi

STORAGE=(--storage-driver vfs)
BUILDAH=($SUDO buildah "${STORAGE[@]}")
PODMAN=($SUDO podman "${STORAGE[@]}" --runtime runc)
IMAGE=localhost/rasterclip:test
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# The base image, from the Debian archive.
if ! "${PODMAN[@]}" image exists docker.io/library/debian:12; then
    root=$(mktemp -d /var/tmp/rasterclip-debian12.XXXXXX)
    echo "== debootstrap bookworm from $MIRROR"
    $SUDO debootstrap --variant=minbase bookworm "$root" "$MIRROR" > /tmp/rasterclip-debootstrap.log
    $SUDO chmod 0755 "$root" # mktemp made it 0700: the image's / must be searchable
    $SUDO tar -C "$root" -c . | "${PODMAN[@]}" import --change 'CMD ["bash"]' - \
        docker.io/library/debian:12
    $SUDO rm -rf "$root"
fi

echo "== building $IMAGE"
started=$(date +%s)
"${BUILDAH[@]}" bud --isolation chroot --format docker --pull-never --layers=false \
    -t "$IMAGE" -f Dockerfile .
build_s=$(( $(date +%s) - started ))
size=$("${PODMAN[@]}" image inspect "$IMAGE" --format '{{.Size}}')

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
name=rasterclip-image-test-$$
cleanup() { "${PODMAN[@]}" rm -f "$name" > /dev/null 2>&1 || true; }
trap cleanup EXIT
echo "== running it on 127.0.0.1:$port"
# Limits the calling container allows (podman's defaults may be above them); and
# --read-only with tmpfs for /tmp and the clip cache, as the Kubernetes Deployment
# runs it.
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] || [ "$nofile" -gt 65536 ] && nofile=65536
"${PODMAN[@]}" run -d --name "$name" --network host --read-only \
    --ulimit "nofile=$nofile:$nofile" --ulimit nproc=4096:4096 \
    --tmpfs /tmp --tmpfs /var/cache/rasterclip:mode=1777 "$IMAGE" --listen "127.0.0.1:$port" \
    --clip-cache /var/cache/rasterclip > /dev/null
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && break
    sleep 0.2
done
health=$(curl -fsS "http://127.0.0.1:$port/healthz")
echo "healthz: $health"
# The image's own HEALTHCHECK command, run inside the container.
"${PODMAN[@]}" exec "$name" /usr/bin/rasterclip health --server "http://127.0.0.1:$port" \
    > /dev/null
healthcheck=$("${PODMAN[@]}" image inspect "$IMAGE" --format '{{.HealthCheck.Test}}')
case "$healthcheck" in
    *"rasterclip health"*) ;;
    *) echo "image-test: no HEALTHCHECK in the image ($healthcheck)" >&2; exit 1 ;;
esac
clip=$(mktemp --suffix=.webm)
curl -fsS -o "$clip" \
    "http://127.0.0.1:$port/v1/render?url=jacksboro_dem.tif&width=640&height=360&duration=2"
frames=$(ffprobe -v error -count_frames -select_streams v -show_entries stream=nb_read_frames \
    -of csv=p=0 "$clip")
bytes=$(stat -c %s "$clip")
rm -f "$clip"
[ "$frames" = 60 ] || { echo "image-test: the clip has $frames frames, not 60" >&2; exit 1; }
user=$("${PODMAN[@]}" exec "$name" id -un)
"${PODMAN[@]}" stop -t 60 "$name" > /dev/null
status=$("${PODMAN[@]}" inspect "$name" --format '{{.State.ExitCode}}')
"${PODMAN[@]}" logs "$name" 2>&1 | tail -3
[ "$status" = 0 ] || { echo "image-test: the daemon exited $status on SIGTERM" >&2; exit 1; }
echo "image-test: ${SECONDS} s in all; built in ${build_s} s; image $(( size / 1048576 )) MiB; runs as $user;" \
    "a 2 s clip of $frames frames, $bytes bytes; SIGTERM exit $status"
