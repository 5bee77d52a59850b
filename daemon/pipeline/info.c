/* What the pool runs on, for /v1/info and /metrics (pipeline/pool.h): the
 * stages' libraries, the renderer and the readers' sandbox, gathered here so
 * that http/ reads no other stage's header. */
#include "encode/gif.h"
#include "encode/h264.h"
#include "encode/vp9.h"
#include "pipeline/pool.h"
#include "pipeline/workers_internal.h"
#include "raster/raster.h"
#include "raster/sandbox.h"
#include "render/render.h"

void rc_workers_info(const struct rc_workers *workers, const struct rc_config *cfg,
                     struct rc_workers_info *out)
{
    const struct rc_gpu_info *gi = rc_gpu_info(workers->gpu);
    const struct rc_sandbox_report *sb = &workers->sandbox;
    *out = (struct rc_workers_info){
        .gdal = rc_raster_library_version(),
        .libvpx = rc_encode_library_version(),
        .openh264 = rc_h264_library_version(),
        .giflib = rc_gif_library_version(),
        .egl_platform = gi->platform,
        .egl_device = gi->device,
        .hardware = gi->hardware,
        .egl_displays = rc_gpu_count(workers->gpu),
        .gl_renderer = workers->gl_renderer,
        .gl_version = workers->gl_version,
        .gpu_convert = rc_workers_gpu_convert(workers, cfg),
        .gdal_cache_bytes = rc_raster_block_cache_bytes(),
        .sandbox_complete = rc_sandbox_complete(sb),
        .landlock = sb->landlock != 0,
        .landlock_abi = sb->landlock_abi,
        .landlock_net = sb->landlock_net != 0,
        .seccomp = sb->seccomp != 0,
        .no_new_privs = sb->no_new_privs != 0,
        .network_namespace = sb->netns != 0,
        .rlimits = sb->rlimits != 0,
        .address_space_mb = sb->address_space_mb,
    };
}
