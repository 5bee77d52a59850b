#version 300 es
// Colours a raster value with the colormap lookup table, as matplotlib does:
// index = floor(t * entries), clipped. Values arrive normalised to 0..1 with
// negative meaning "no data" (NaN or the nodata value). Surface mode shades with
// a directional headlight; its holes are cells left out of the mesh, so nothing here discards
// and the depth test can run before shading.
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
uniform bool u_surface;
uniform bool u_lighting;
uniform vec3 u_light_dir;         // towards the light: a headlight along the view
uniform sampler2DArray u_normals; // RGBA8 unit normals (xyz * 0.5 + 0.5)
uniform int u_normal_a;           // their layers (the bands', or 0 for raster.height)
uniform int u_normal_b;

in vec2 v_uv;
out vec4 o_color;

const float AMBIENT = 0.35;
const float DIFFUSE = 0.65;

vec3 surface_normal()
{
    vec3 na = texture(u_normals, vec3(v_uv, float(u_normal_a))).xyz;
    // Between time steps only: a uniform branch, so a single band costs one fetch.
    vec3 nb = u_normal_b != u_normal_a ? texture(u_normals, vec3(v_uv, float(u_normal_b))).xyz : na;
    return normalize(mix(na, nb, u_blend) * 2.0 - 1.0);
}

void main()
{
    float a = texture(u_values, vec3(v_uv, float(u_band_a))).r;
    float b = u_band_b != u_band_a ? texture(u_values, vec3(v_uv, float(u_band_b))).r : a;
    if (a < 0.0 || b < 0.0) {
        o_color = u_transparent ? u_nodata_rgba : vec4(u_nodata_rgb, 1.0);
        return;
    }
    float t = mix(a, b, u_blend);
    int index = clamp(int(t * float(u_lut_size)), 0, u_lut_size - 1);
    vec4 c = texelFetch(u_lut, ivec2(index, 0), 0);
    vec3 rgb = c.rgb;
    if (u_surface && u_lighting) {
        rgb *= AMBIENT + DIFFUSE * abs(dot(surface_normal(), u_light_dir));
    }
    o_color = u_transparent ? vec4(rgb, c.a) : vec4(mix(u_background, rgb, c.a), 1.0);
}
