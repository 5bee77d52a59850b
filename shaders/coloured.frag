#version 300 es
// A band whose colours were worked out once (render/baked.c: scene.frag drawn at the
// raster's own size): one fetch a pixel, the same texel scene.frag would colour.
precision highp float;

uniform sampler2D u_colours; // RGBA8, the raster's size, nearest

in vec2 v_uv;
out vec4 o_color;

void main()
{
    o_color = texture(u_colours, v_uv);
}
