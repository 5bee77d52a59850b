#version 300 es
// Premultiplied RGBA from the overlay canvas; blended with ONE, ONE_MINUS_SRC_ALPHA.
precision mediump float;

uniform sampler2D u_canvas_tex;

in vec2 v_uv;
out vec4 o_color;

void main()
{
    o_color = texture(u_canvas_tex, v_uv);
}
