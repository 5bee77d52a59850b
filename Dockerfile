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
RUN bash scripts/build.sh image && strip build/rasterclipd build/rasterclip

FROM debian:12
# Runtime libraries only; Mesa (llvmpipe) for hosts without a GPU.
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        libmicrohttpd12 libjansson4 libgdal32 libvpx7 libopenh264-7 libgif7 libcurl4 libssl3 \
        libfreetype6 libegl1 libgles2 libglvnd0 libegl-mesa0 libgl1-mesa-dri libseccomp2 \
        fonts-dejavu-core ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /usr/share/glvnd/egl_vendor.d \
    && printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "libEGL_nvidia.so.0"}}\n' \
        > /usr/share/glvnd/egl_vendor.d/10_nvidia.json \
    && useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
        --groups video rasterclip \
    && mkdir -p /var/cache/rasterclip && chown rasterclip /var/cache/rasterclip
COPY --from=build /src/build/rasterclipd /src/build/rasterclip /usr/local/bin/
COPY demo /srv/rasterclip
ENV NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=graphics,compute,utility,video
USER rasterclip
EXPOSE 8080
# SIGTERM drains: no new jobs (503), running ones finish within --drain-grace-seconds.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/rasterclip", "health", "--server", "http://127.0.0.1:8080"]
ENTRYPOINT ["/usr/local/bin/rasterclipd", "--listen", "0.0.0.0:8080", "--data-root", "/srv/rasterclip"]
