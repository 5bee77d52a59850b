#version 300 es
// Colours a raster value with the colormap lookup table, as matplotlib does:
// index = floor(t * entries), clipped. Values arrive normalised to 0..1 with
// negative meaning "no data" (NaN or the nodata value). Lit surfaces are shaded by
// RC_LIGHTS directional lights (the light kit's five, or one), compiled in; their
// holes are cells left out of the mesh, so nothing here discards and the depth
// test can run before shading. Under the light kit a band shown alone takes its
// colours from a texture coloured once (RC_BAKED, render/baked.c), drawn by the
// kit's own program with u_raw (RC_RAW): alpha 0 there marks no data.
precision highp float;
precision highp int;
precision highp sampler2DArray;

uniform highp sampler2DArray u_values; // R32F, one layer per band
uniform sampler2D u_lut;         // RGBA8, entries x 1
uniform int u_lut_size;
uniform int u_band_a;
uniform int u_band_b;
uniform float u_blend;           // weight of band b
uniform vec3 u_background;
uniform vec3 u_nodata_rgb;       // nan_color already composited over the background
uniform bool u_transparent;      // a transparent background: colours keep their alpha
uniform vec4 u_nodata_rgba;      // ... and no data is nan_color itself
uniform bool u_linear;           // colours blended between the four nearest cells
uniform bool u_surface;
const int MAX_LIGHTS = 5;
uniform vec3 u_light_dirs[MAX_LIGHTS];   // towards each light, world space, unit length
uniform float u_light_power[MAX_LIGHTS];
uniform float u_ambient;
uniform float u_diffuse;
uniform float u_specular;
uniform float u_shininess;
uniform vec3 u_eye;                       // the camera, world space
uniform sampler2DArray u_normals; // RGBA8 unit normals (xyz * 0.5 + 0.5)
uniform int u_normal_a;           // their layers (the bands', or 0 for raster.height)
uniform int u_normal_b;
#ifdef RC_RAW
uniform bool u_raw;               // out: the unlit colour, alpha 0 for no data
#endif
#ifdef RC_BAKED
uniform sampler2D u_colours;      // RGBA8, the raster's size: what u_raw wrote
#endif

in vec2 v_uv;
in vec3 v_world;
out vec4 o_color;

vec3 surface_normal()
{
    vec3 na = texture(u_normals, vec3(v_uv, float(u_normal_a))).xyz;
#ifdef RC_BAKED
    // Drawn for frames showing one band only (render/baked.c): one layer of normals.
    return normalize(na * 2.0 - 1.0);
#else
    // Between time steps only: a uniform branch (llvmpipe still pays for some of it).
    vec3 nb = u_normal_b != u_normal_a ? texture(u_normals, vec3(v_uv, float(u_normal_b))).xyz : na;
    return normalize(mix(na, nb, u_blend) * 2.0 - 1.0);
#endif
}

#ifdef RC_LIT
// Lambert's diffuse and Blinn-Phong's specular term for each light, over an ambient
// floor; the normal comes from the full-resolution height field.
vec3 shade(vec3 rgb)
{
    vec3 n = surface_normal();
    float diffuse = 0.0;
    float specular = 0.0;
#ifdef RC_SPECULAR
    vec3 v = normalize(u_eye - v_world);
#endif
    for (int i = 0; i < RC_LIGHTS; i++) {
        float ndl = max(dot(n, u_light_dirs[i]), 0.0);
        diffuse += u_light_power[i] * ndl;
#ifdef RC_SPECULAR
        if (u_specular > 0.0 && ndl > 0.0) {
            vec3 h = normalize(u_light_dirs[i] + v);
            specular += u_light_power[i] * pow(max(dot(n, h), 0.0), u_shininess);
        }
#endif
    }
    return rgb * (u_ambient + u_diffuse * diffuse) + vec3(u_specular * specular);
}
#endif

// One cell's colour (no data: nan_color), unlit, with its alpha.
vec4 cell_colour(ivec2 p)
{
    float a = texelFetch(u_values, ivec3(p, u_band_a), 0).r;
    float b = u_band_b != u_band_a ? texelFetch(u_values, ivec3(p, u_band_b), 0).r : a;
    if (a < 0.0 || b < 0.0) {
        return u_nodata_rgba;
    }
    float t = mix(a, b, u_blend);
    int index = clamp(int(t * float(u_lut_size)), 0, u_lut_size - 1);
    return texelFetch(u_lut, ivec2(index, 0), 0);
}

void main()
{
    vec4 c;
    bool nodata;
#ifdef RC_BAKED
    c = texture(u_colours, v_uv);
    nodata = c.a == 0.0;
#else
    if (u_linear) {
        // The four cells around this point, their colours weighted by distance.
        ivec2 size = textureSize(u_values, 0).xy;
        vec2 st = v_uv * vec2(size) - 0.5;
        vec2 f = fract(st);
        ivec2 p0 = clamp(ivec2(floor(st)), ivec2(0), size - 1);
        ivec2 p1 = clamp(p0 + 1, ivec2(0), size - 1);
        c = mix(mix(cell_colour(p0), cell_colour(ivec2(p1.x, p0.y)), f.x),
                mix(cell_colour(ivec2(p0.x, p1.y)), cell_colour(p1), f.x), f.y);
        nodata = false;
    } else {
        float a = texture(u_values, vec3(v_uv, float(u_band_a))).r;
        float b = u_band_b != u_band_a ? texture(u_values, vec3(v_uv, float(u_band_b))).r : a;
        nodata = a < 0.0 || b < 0.0;
        if (!nodata) {
            float t = mix(a, b, u_blend);
            int index = clamp(int(t * float(u_lut_size)), 0, u_lut_size - 1);
            c = texelFetch(u_lut, ivec2(index, 0), 0);
        }
    }
#endif
#ifdef RC_RAW
    if (u_raw) {
        o_color = nodata ? vec4(0.0) : vec4(c.rgb, max(c.a, 1.0 / 255.0));
        return;
    }
#endif
    if (nodata) {
        o_color = u_transparent ? u_nodata_rgba : vec4(u_nodata_rgb, 1.0);
        return;
    }
    vec3 rgb = c.rgb;
#ifdef RC_LIT
    // Compiled into the lit surfaces' program only (render/render.c).
    rgb = min(shade(rgb), vec3(1.0));
#endif
    o_color = u_transparent ? vec4(rgb, c.a) : vec4(mix(u_background, rgb, c.a), 1.0);
}
