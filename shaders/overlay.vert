#version 300 es
// A rectangle of the overlay canvas, placed by pixel rectangle. Canvas row 0 is the
// clip's top row, which is framebuffer row 0 (see render.c: the scene is flipped).
precision highp float;

layout(location = 0) in vec2 a_corner; // 0..1

uniform vec4 u_rect;   // x, y, w, h in pixels, origin top-left
uniform vec2 u_canvas; // canvas size in pixels
uniform vec2 u_shift;  // texture pixels minus output pixels (0 for the canvas itself)
uniform vec2 u_tex;    // the texture's size; 0: the canvas's

out vec2 v_uv;

void main()
{
    vec2 px = u_rect.xy + a_corner * u_rect.zw;
    v_uv = (px + u_shift) / (u_tex.x > 0.0 ? u_tex : u_canvas);
    gl_Position = vec4(px / u_canvas * 2.0 - 1.0, 0.0, 1.0);
}
