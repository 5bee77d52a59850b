#version 300 es
// One premultiplied colour: a layer's lines, or its polygons' inside.
precision mediump float;

uniform vec4 u_color;

out vec4 o_color;

void main()
{
    o_color = u_color;
}
