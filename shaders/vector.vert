#version 300 es
// Vector layers into their texture over the raster's grid: a point in cells,
// (0, 0) the north-west corner, lands on the texel the scene samples there.
precision highp float;

layout(location = 0) in vec2 a_cell;

uniform vec2 u_grid; // the grid's cells across and down

void main()
{
    gl_Position = vec4(a_cell / u_grid * 2.0 - 1.0, 0.0, 1.0);
}
