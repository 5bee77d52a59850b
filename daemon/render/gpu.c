#include "render/gl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

/* Exact token match in a space-separated extension list (a bare strstr would
 * also match longer names that start the same way). */
bool rc_gl_has_ext(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ' ');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, name, len) == 0) {
            return true;
        }
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* Opens every hardware EGL device (or only the `pin`-th one when pin >= 0);
 * software devices are left to the surfaceless platform. */
static void open_device_displays(struct rc_gpu *gpu, long pin)
{
    const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    if (!rc_gl_has_ext(client, "EGL_EXT_platform_device") ||
        !(rc_gl_has_ext(client, "EGL_EXT_device_enumeration") ||
          rc_gl_has_ext(client, "EGL_EXT_device_base"))) {
        return;
    }
    PFNEGLQUERYDEVICESEXTPROC query_devices =
        (PFNEGLQUERYDEVICESEXTPROC)eglGetProcAddress("eglQueryDevicesEXT");
    PFNEGLQUERYDEVICESTRINGEXTPROC query_string =
        (PFNEGLQUERYDEVICESTRINGEXTPROC)eglGetProcAddress("eglQueryDeviceStringEXT");
    PFNEGLGETPLATFORMDISPLAYEXTPROC get_display =
        (PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
    if (!query_devices || !query_string || !get_display) {
        return;
    }
    EGLDeviceEXT devices[RC_GPU_MAX_DEVICES];
    EGLint count = 0;
    if (!query_devices(RC_GPU_MAX_DEVICES, devices, &count)) {
        return;
    }
    long hardware_index = -1;
    for (EGLint i = 0; i < count && gpu->count < RC_GPU_MAX_DEVICES; i++) {
        const char *exts = query_string(devices[i], EGL_EXTENSIONS);
        if (rc_gl_has_ext(exts, "EGL_MESA_device_software")) {
            continue; /* llvmpipe: the surfaceless platform serves it */
        }
        hardware_index++;
        if (pin >= 0 && hardware_index != pin) {
            continue;
        }
        EGLDisplay d = get_display(EGL_PLATFORM_DEVICE_EXT, devices[i], NULL);
        EGLint major, minor;
        if (d == EGL_NO_DISPLAY || !eglInitialize(d, &major, &minor)) {
            rc_log(RC_LOG_WARN, "msg=\"EGL device unusable\" device=%ld egl_error=0x%x",
                   hardware_index, (unsigned)eglGetError());
            continue;
        }
        struct rc_gpu_display *g = &gpu->displays[gpu->count++];
        const char *drm = rc_gl_has_ext(exts, "EGL_EXT_device_drm")
                              ? query_string(devices[i], EGL_DRM_DEVICE_FILE_EXT)
                              : NULL;
        g->display = d;
        snprintf(g->info.device, sizeof(g->info.device), "%s", drm ? drm : "egl-device");
        snprintf(g->info.platform, sizeof(g->info.platform), "device");
        g->info.hardware = true;
    }
}

static EGLDisplay open_surfaceless_display(struct rc_gpu_info *info)
{
    const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    if (!rc_gl_has_ext(client, "EGL_MESA_platform_surfaceless")) {
        return EGL_NO_DISPLAY;
    }
    PFNEGLGETPLATFORMDISPLAYEXTPROC get_display =
        (PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
    if (!get_display) {
        return EGL_NO_DISPLAY;
    }
    EGLDisplay d = get_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
    EGLint major, minor;
    if (d == EGL_NO_DISPLAY || !eglInitialize(d, &major, &minor)) {
        return EGL_NO_DISPLAY;
    }
    snprintf(info->platform, sizeof(info->platform), "surfaceless");
    snprintf(info->device, sizeof(info->device), "mesa");
    info->hardware = false;
    return d;
}

enum rc_err rc_gpu_create(long device, struct rc_gpu **out, struct rc_error *err)
{
    *out = NULL;
    struct rc_gpu *gpu = calloc(1, sizeof(*gpu));
    if (!gpu) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    open_device_displays(gpu, device);
    if (gpu->count == 0 && device >= 0) {
        free(gpu);
        return rc_error_set(err, RC_ERR_INVALID, "device", "there is no usable EGL device %ld",
                            device);
    }
    if (gpu->count == 0) {
        struct rc_gpu_display *g = &gpu->displays[0];
        g->display = open_surfaceless_display(&g->info);
        if (g->display == EGL_NO_DISPLAY) {
            free(gpu);
            return rc_error_set(err, RC_ERR_INTERNAL, "",
                                "no EGL display: neither a hardware EGL device nor "
                                "EGL_MESA_platform_surfaceless is available (egl_error=0x%x)",
                                (unsigned)eglGetError());
        }
        gpu->count = 1;
    }
    for (size_t i = 0; i < gpu->count; i++) {
        struct rc_gpu_display *g = &gpu->displays[i];
        const char *exts = eglQueryString(g->display, EGL_EXTENSIONS);
        if (!rc_gl_has_ext(exts, "EGL_KHR_surfaceless_context")) {
            free(gpu);
            return rc_error_set(err, RC_ERR_INTERNAL, "", "EGL_KHR_surfaceless_context missing");
        }
        g->no_config_context = rc_gl_has_ext(exts, "EGL_KHR_no_config_context");
        rc_log(RC_LOG_INFO,
               "msg=\"EGL display\" index=%zu platform=%s device=%s hardware=%d vendor=\"%s\" "
               "version=\"%s\"",
               i, g->info.platform, g->info.device, (int)g->info.hardware,
               eglQueryString(g->display, EGL_VENDOR), eglQueryString(g->display, EGL_VERSION));
    }
    *out = gpu;
    return RC_OK;
}

void rc_gpu_destroy(struct rc_gpu *gpu)
{
    if (!gpu) {
        return;
    }
    /* The display is deliberately not eglTerminate()d: the process is exiting, and
     * Mesa's terminate path drops allocations inside a driver it has already
     * unloaded, which leak checkers then report without a module to blame. */
    eglReleaseThread();
    free(gpu);
}

const struct rc_gpu_info *rc_gpu_info(const struct rc_gpu *gpu)
{
    return &gpu->displays[0].info;
}

size_t rc_gpu_count(const struct rc_gpu *gpu)
{
    return gpu->count;
}

static void GL_APIENTRY debug_message(GLenum source, GLenum type, GLuint id, GLenum severity,
                                      GLsizei length, const GLchar *message, const void *user)
{
    (void)source;
    (void)length;
    (void)user;
    enum rc_log_level level = RC_LOG_DEBUG;
    if (type == GL_DEBUG_TYPE_ERROR_KHR || severity == GL_DEBUG_SEVERITY_HIGH_KHR) {
        level = RC_LOG_WARN;
    }
    rc_log(level, "msg=\"gl\" type=0x%x id=%u severity=0x%x detail=\"%.300s\"", (unsigned)type,
           (unsigned)id, (unsigned)severity, message);
}

static GLuint compile(GLenum stage, const char *name, const char *source, struct rc_error *err)
{
    GLuint shader = glCreateShader(stage);
    glShaderSource(shader, 1, &source, NULL);
    glCompileShader(shader);
    GLint ok = GL_FALSE;
    glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        char log[1024] = "";
        glGetShaderInfoLog(shader, sizeof(log), NULL, log);
        rc_log(RC_LOG_ERROR, "msg=\"shader compile failed\" shader=%s log=\"%s\"", name, log);
        rc_error_set(err, RC_ERR_INTERNAL, "", "shader %s failed to compile", name);
        glDeleteShader(shader);
        return 0;
    }
    return shader;
}

GLuint rc_gl_program(const char *name, const char *vs_src, const char *fs_src, struct rc_error *err)
{
    GLuint vs = compile(GL_VERTEX_SHADER, name, vs_src, err);
    GLuint fs = vs ? compile(GL_FRAGMENT_SHADER, name, fs_src, err) : 0;
    if (!fs) {
        glDeleteShader(vs);
        return 0;
    }
    GLuint program = glCreateProgram();
    glAttachShader(program, vs);
    glAttachShader(program, fs);
    glLinkProgram(program);
    glDeleteShader(vs);
    glDeleteShader(fs);
    GLint ok = GL_FALSE;
    glGetProgramiv(program, GL_LINK_STATUS, &ok);
    if (!ok) {
        char log[1024] = "";
        glGetProgramInfoLog(program, sizeof(log), NULL, log);
        rc_log(RC_LOG_ERROR, "msg=\"program link failed\" program=%s log=\"%s\"", name, log);
        rc_error_set(err, RC_ERR_INTERNAL, "", "program %s failed to link", name);
        glDeleteProgram(program);
        return 0;
    }
    return program;
}

enum rc_err rc_gl_context_create(const struct rc_gpu_display *display, EGLContext *out,
                                 struct rc_error *err)
{
    EGLDisplay d = display->display;
    *out = EGL_NO_CONTEXT;
    if (!eglBindAPI(EGL_OPENGL_ES_API)) {
        return rc_error_set(err, RC_ERR_INTERNAL, "", "eglBindAPI failed (0x%x)",
                            (unsigned)eglGetError());
    }
    EGLConfig config = EGL_NO_CONFIG_KHR;
    if (!display->no_config_context) {
        static const EGLint wanted[] = {EGL_RENDERABLE_TYPE, EGL_OPENGL_ES3_BIT, EGL_NONE};
        EGLint n = 0;
        if (!eglChooseConfig(d, wanted, &config, 1, &n) || n < 1) {
            return rc_error_set(err, RC_ERR_INTERNAL, "", "no GLES 3 EGL config");
        }
    }
    EGLint attribs[] = {EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 0, EGL_NONE};
    *out = eglCreateContext(d, config, EGL_NO_CONTEXT, attribs);
    if (*out == EGL_NO_CONTEXT) {
        return rc_error_set(err, RC_ERR_INTERNAL, "", "eglCreateContext failed (0x%x)",
                            (unsigned)eglGetError());
    }
    if (!eglMakeCurrent(d, EGL_NO_SURFACE, EGL_NO_SURFACE, *out)) {
        return rc_error_set(err, RC_ERR_INTERNAL, "", "eglMakeCurrent failed (0x%x)",
                            (unsigned)eglGetError());
    }
    return RC_OK;
}

void rc_gl_enable_debug(void)
{
    const char *exts = (const char *)glGetString(GL_EXTENSIONS);
    if (!rc_gl_has_ext(exts, "GL_KHR_debug")) {
        return;
    }
    PFNGLDEBUGMESSAGECALLBACKKHRPROC set_callback =
        (PFNGLDEBUGMESSAGECALLBACKKHRPROC)eglGetProcAddress("glDebugMessageCallbackKHR");
    if (set_callback) {
        set_callback(debug_message, NULL);
        glEnable(GL_DEBUG_OUTPUT_KHR);
    }
}
