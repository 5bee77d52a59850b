#version 300 es
// Colours a raster value with the colormap lookup table, as matplotlib does:
// index = floor(t * entries), clipped. Values arrive normalised to 0..1 with
// negative meaning "no data" (NaN or the nodata value).
precision highp float;
precision highp int;
precision highp sampler2DArray;

uniform sampler2DArray u_values; // R32F, one layer per band
uniform sampler2D u_lut;         // RGBA8, entries x 1
uniform int u_lut_size;
uniform int u_band_a;
uniform int u_band_b;
uniform float u_blend;           // weight of band b
uniform vec3 u_background;
uniform vec3 u_nodata_rgb;       // nan_color already composited over the background

in vec2 v_uv;
out vec4 o_color;

void main()
{
    float a = texture(u_values, vec3(v_uv, float(u_band_a))).r;
    float b = texture(u_values, vec3(v_uv, float(u_band_b))).r;
    if (a < 0.0 || b < 0.0) {
        o_color = vec4(u_nodata_rgb, 1.0);
        return;
    }
    float t = mix(a, b, u_blend);
    int index = clamp(int(t * float(u_lut_size)), 0, u_lut_size - 1);
    vec4 c = texelFetch(u_lut, ivec2(index, 0), 0);
    o_color = vec4(mix(u_background, c.rgb, c.a), 1.0);
}
