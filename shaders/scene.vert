#version 300 es
// The raster as a grid over the world's z = 0 plane (u east, v south; north
// towards +y). Image mode is a single flat cell; surface mode lifts every vertex by
// its value. Vertex work is kept to two fetches: software rasterisers run vertex
// shaders on one thread, fragment shaders on all of them.
precision highp float;
precision highp sampler2DArray;

layout(location = 0) in vec2 a_uv;

uniform mat4 u_view_projection;
uniform vec2 u_extent;       // raster size in world units (east-west, north-south)
uniform bool u_surface;
uniform float u_height_scale; // world units per unit of normalised value
uniform highp sampler2DArray u_values;
uniform int u_band_a;
uniform int u_band_b;
uniform float u_blend;
uniform bool u_has_heights;          // heights from raster.height (layer 0), else values
uniform highp sampler2DArray u_heights;

out vec2 v_uv;
out vec3 v_world;
// The vector layers' pass (drape.frag) draws the same surface again: the same depths.
invariant gl_Position;

// Normalised value at uv, blended between the two bands; negative = no data.
float value_at(vec2 uv)
{
    float a = textureLod(u_values, vec3(uv, float(u_band_a)), 0.0).r;
    float b = u_band_b != u_band_a ? textureLod(u_values, vec3(uv, float(u_band_b)), 0.0).r : a;
    return (a < 0.0 || b < 0.0) ? -1.0 : mix(a, b, u_blend);
}

void main()
{
    v_uv = a_uv;
    float z = 0.0;
    if (u_surface) {
        float h = u_has_heights ? textureLod(u_heights, vec3(a_uv, 0.0), 0.0).r : value_at(a_uv);
        z = max(h, 0.0) * u_height_scale;
    }
    vec3 world = vec3((a_uv.x - 0.5) * u_extent.x, (0.5 - a_uv.y) * u_extent.y, z);
    v_world = world;
    gl_Position = u_view_projection * vec4(world, 1.0);
}
