#version 300 es
// The raster as a plane: a unit quad in raster coordinates (u east, v south)
// placed in the world's z = 0 plane, north towards +y.
layout(location = 0) in vec2 a_uv;

uniform mat4 u_view_projection;
uniform vec2 u_extent; // plane size in world units (east-west, north-south)

out vec2 v_uv;

void main()
{
    v_uv = a_uv;
    vec3 world = vec3((a_uv.x - 0.5) * u_extent.x, (0.5 - a_uv.y) * u_extent.y, 0.0);
    gl_Position = u_view_projection * vec4(world, 1.0);
}
