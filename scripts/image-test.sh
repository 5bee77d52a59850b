#!/usr/bin/env bash
# Builds the container image (Dockerfile) and runs it, with Debian's buildah and
# podman: no Docker daemon, no registry. The debian:12 base is made here with
# debootstrap and imported under that name. Then the Kubernetes Deployment
# (deploy/kubernetes/base) runs it: its readiness probe, its settings from env, a
# clip rendered and checked with ffprobe, its numeric user and read-only root,
# SIGTERM (a clean, drained exit); then settings given by `podman run -e`; and the
# build time and image size.
#
#   bash scripts/image-test.sh        (as root, or a user with sudo; ~10 minutes)
#   REUSE_IMAGE=1 bash scripts/image-test.sh   (runs the image already built)
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
for tool in buildah:buildah podman:podman debootstrap:debootstrap runc:runc curl:curl catatonit:catatonit \
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

started=$(date +%s)
if [ "${REUSE_IMAGE:-0}" = 1 ] && "${PODMAN[@]}" image exists "$IMAGE"; then
    echo "== reusing $IMAGE (REUSE_IMAGE=1)"
else
    echo "== building $IMAGE"
    "${BUILDAH[@]}" bud --isolation chroot --format docker --pull-never --layers=false \
        -t "$IMAGE" -f Dockerfile .
fi
build_s=$(( $(date +%s) - started ))
size=$("${PODMAN[@]}" image inspect "$IMAGE" --format '{{.Size}}')

# The Deployment in deploy/kubernetes/base, run as written: `podman kube play` where
# the machine lets it start a pod; otherwise (here its infra container asks for a
# process limit the caller cannot grant) its container by `podman run` with what
# the manifest says (scripts/kube_run.py): image, env, user, read-only root,
# volumes, probe. The data volume's claim is the demo folder, read-only.
port=8080
if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
    echo "image-test: port $port (the Deployment's) is taken on this host" >&2
    exit 1
fi
name=rasterclip
cleanup() {
    "${PODMAN[@]}" kube down deploy/kubernetes/base/deployment.yaml > /dev/null 2>&1 || true
    "${PODMAN[@]}" rm -f "$name" rasterclip-env-test > /dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup
how="podman kube play"
# Limits the calling container allows (podman's defaults may be above them).
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] || [ "$nofile" -gt 65536 ] && nofile=65536
"${PODMAN[@]}" volume rm -f rasterclip-data > /dev/null 2>&1 || true
"${PODMAN[@]}" volume create rasterclip-data > /dev/null
tar -C demo -c . | "${PODMAN[@]}" volume import rasterclip-data -
if ! timeout 120 "${PODMAN[@]}" kube play deploy/kubernetes/base/deployment.yaml \
        > /tmp/rasterclip-kube-play.log 2>&1; then
    echo "== podman kube play cannot start the pod here ($(tail -1 /tmp/rasterclip-kube-play.log));" \
        "running the Deployment's container with podman run"
    "${PODMAN[@]}" kube down deploy/kubernetes/base/deployment.yaml > /dev/null 2>&1 || true
    how="podman run, as the Deployment says"
    mapfile -t run < <(python3 scripts/kube_run.py --image "$IMAGE" --claim rasterclip-data=demo \
        | python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin)["args"]))')
    "${PODMAN[@]}" run -d --network host --ulimit "nofile=$nofile:$nofile" \
        --ulimit nproc=4096:4096 "${run[@]}" > /dev/null
fi
probe=$(python3 scripts/kube_run.py --claim rasterclip-data=demo \
    | python3 -c 'import json, sys; p = json.load(sys.stdin)["probe"]; print(p["path"])')
for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:$port$probe" > /dev/null 2>&1 && break
    sleep 0.2
done
health=$(curl -fsS "http://127.0.0.1:$port$probe")
echo "readiness ($probe): $health"
container=$("${PODMAN[@]}" ps --format '{{.Names}}' | grep -E "^($name|rasterclip-pod-rasterclipd|.*rasterclipd.*)$" | head -1)
# The image's own HEALTHCHECK command, run inside the container.
"${PODMAN[@]}" exec "$container" /usr/bin/rasterclip health --server "http://127.0.0.1:$port" \
    > /dev/null
healthcheck=$("${PODMAN[@]}" image inspect "$IMAGE" --format '{{.HealthCheck.Test}}')
case "$healthcheck" in
    *"rasterclip health"*) ;;
    *) echo "image-test: no HEALTHCHECK in the image ($healthcheck)" >&2; exit 1 ;;
esac
# Settings came from the Deployment's env (RASTERCLIP_WORKERS=2, the clip cache).
info=$(curl -fsS "http://127.0.0.1:$port/v1/info")
python3 -c 'import json, sys; i = json.loads(sys.argv[1]); assert i["workers"]["count"] == 2, i["workers"]' "$info"
clip=$(mktemp --suffix=.webm)
curl -fsS -o "$clip" \
    "http://127.0.0.1:$port/v1/render?url=jacksboro_dem.tif&width=640&height=360&duration=2"
frames=$(ffprobe -v error -count_frames -select_streams v -show_entries stream=nb_read_frames \
    -of csv=p=0 "$clip")
bytes=$(stat -c %s "$clip")
rm -f "$clip"
[ "$frames" = 60 ] || { echo "image-test: the clip has $frames frames, not 60" >&2; exit 1; }
user=$("${PODMAN[@]}" exec "$container" id -u)
[ "$user" = 10001 ] || { echo "image-test: the daemon runs as $user, not 10001" >&2; exit 1; }
# Nothing may be written outside the volumes: the root is read-only.
if "${PODMAN[@]}" exec "$container" sh -c 'echo x > /srv/rasterclip/x || echo x > /etc/x' \
        2> /dev/null; then
    echo "image-test: the container wrote outside its volumes" >&2
    exit 1
fi
"${PODMAN[@]}" stop -t 60 "$container" > /dev/null
status=$("${PODMAN[@]}" inspect "$container" --format '{{.State.ExitCode}}')
"${PODMAN[@]}" logs "$container" 2>&1 | tail -2
[ "$status" = 0 ] || { echo "image-test: the daemon exited $status on SIGTERM" >&2; exit 1; }
# Any RASTERCLIP_* given to `podman run -e` takes effect (no flags in the entrypoint).
"${PODMAN[@]}" run -d --name rasterclip-env-test --network host --read-only --tmpfs /tmp \
    --ulimit "nofile=$nofile:$nofile" --ulimit nproc=4096:4096 \
    -e RASTERCLIP_LISTEN=127.0.0.1:$port -e RASTERCLIP_MAX_FRAMES=123 "$IMAGE" > /dev/null
for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && break
    sleep 0.2
done
max_frames=$(curl -fsS "http://127.0.0.1:$port/v1/info" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["limits"]["max_frames"])')
[ "$max_frames" = 123 ] || { echo "image-test: RASTERCLIP_MAX_FRAMES gave $max_frames" >&2; exit 1; }
"${PODMAN[@]}" stop -t 60 rasterclip-env-test > /dev/null
echo "image-test: ${SECONDS} s in all; built in ${build_s} s; image $(( size / 1048576 )) MiB;" \
    "the Deployment by $how, as uid $user, read-only root; a 2 s clip of $frames frames," \
    "$bytes bytes; SIGTERM exit $status; -e RASTERCLIP_MAX_FRAMES=123 -> max_frames $max_frames"
