# rasterclipd in a container. CPU hosts render with Mesa's llvmpipe; on a host with
# the NVIDIA container runtime (--gpus all, or a Kubernetes GPU request) the driver's
# EGL device is used instead: the runtime mounts libEGL_nvidia when the capabilities
# include "graphics", and glvnd finds it through the vendor file below.
# Built and run by scripts/image-test.sh (buildah and podman, no Docker daemon).

FROM debian:12 AS build
WORKDIR /src
# The same set-up script as the README and CI, for what building needs.
COPY scripts/setup.sh scripts/setup.sh
RUN bash scripts/setup.sh --build && rm -rf /var/lib/apt/lists/*
COPY . .
# The Debian package (scripts/package.sh): what the image installs, as a host would.
RUN bash scripts/package.sh && cp build-package/rasterclip_*.deb /rasterclip.deb

FROM debian:12
# The package pulls in its runtime libraries and Mesa (llvmpipe) for hosts without
# a GPU; glvnd finds a mounted NVIDIA driver through the vendor file below.
COPY --from=build /rasterclip.deb /tmp/rasterclip.deb
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        /tmp/rasterclip.deb libglvnd0 ca-certificates \
    && rm -rf /var/lib/apt/lists/* /tmp/rasterclip.deb \
    && mkdir -p /usr/share/glvnd/egl_vendor.d \
    && printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "libEGL_nvidia.so.0"}}\n' \
        > /usr/share/glvnd/egl_vendor.d/10_nvidia.json \
    && groupadd --system --gid 10001 rasterclip \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin --groups video rasterclip \
    && mkdir -p /var/cache/rasterclip && chown 10001:10001 /var/cache/rasterclip
COPY demo /srv/rasterclip
ENV NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=graphics,compute,utility,video
# Settings come from the environment (every flag has a RASTERCLIP_* twin; see
# docs/configuration.md), so `podman run -e`, a Kubernetes `env:` or an env file
# change them; flags after the image name still win.
ENV RASTERCLIP_LISTEN=0.0.0.0:8080 \
    RASTERCLIP_DATA_ROOT=/srv/rasterclip
# A numeric user, so a pod's runAsNonRoot can check it (a name cannot be).
USER 10001:10001
EXPOSE 8080
# SIGTERM drains: no new jobs (503), running ones finish within --drain-grace-seconds.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/bin/rasterclip", "health", "--server", "http://127.0.0.1:8080"]
ENTRYPOINT ["/usr/bin/rasterclipd"]
