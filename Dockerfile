# rasterclipd in a container. CPU hosts render with Mesa's llvmpipe; on a host with
# the NVIDIA container runtime (--gpus all, NVIDIA_DRIVER_CAPABILITIES=graphics)
# the driver's EGL device is used instead.
FROM debian:12 AS build
WORKDIR /src
COPY scripts/setup.sh scripts/setup.sh
RUN bash scripts/setup.sh
COPY . .
RUN bash scripts/build.sh release

FROM debian:12
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        libmicrohttpd12 libjansson4 libgdal32 libvpx7 libcurl4 libfreetype6 libegl1 libgles2 \
        libegl-mesa0 libgl1-mesa-dri fonts-dejavu-core ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/rasterclipd /src/build/rasterclip /usr/local/bin/
COPY demo /srv/rasterclip
ENV NVIDIA_DRIVER_CAPABILITIES=graphics,compute,utility
USER nobody
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/rasterclipd", "--listen", "0.0.0.0:8080", "--data-root", "/srv/rasterclip"]
