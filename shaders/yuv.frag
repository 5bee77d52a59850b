#version 300 es
// RGBA to I420 (BT.601 limited range) on the GPU, so readback moves 1.5 bytes a
// pixel instead of 4 and the encoder gets its planes as they are. The target is
// RGBA8, width/4 texels wide and 3*height/2 rows: four bytes a texel, rows laid out
// as the Y plane (height rows), then the U and V planes back to back, exactly the
// bytes of a contiguous I420 frame. Integer maths, as the CPU path (encode.c).
precision highp float;
precision highp int;

uniform sampler2D u_scene; // the finished frame, row 0 the image's top
uniform int u_width;       // frame size in pixels (width % 8 == 0, height % 4 == 0)
uniform int u_height;

out vec4 o_color;

ivec3 rgb_at(int x, int y)
{
    return ivec3(round(texelFetch(u_scene, ivec2(x, y), 0).rgb * 255.0));
}

int luma(ivec3 c)
{
    return ((66 * c.r + 129 * c.g + 25 * c.b + 128) >> 8) + 16;
}

int chroma(ivec3 c, bool v)
{
    return v ? ((112 * c.r - 94 * c.g - 18 * c.b + 128) >> 8) + 128
             : ((-38 * c.r - 74 * c.g + 112 * c.b + 128) >> 8) + 128;
}

void main()
{
    // width % 8 == 0, so a texel's four bytes never straddle a row or a plane.
    int tx = int(gl_FragCoord.x);
    int ty = int(gl_FragCoord.y);
    ivec4 bytes;
    if (ty < u_height) {
        for (int k = 0; k < 4; k++) {
            bytes[k] = luma(rgb_at(4 * tx + k, ty));
        }
    } else {
        int offset = (ty - u_height) * u_width + 4 * tx;
        int plane_bytes = u_width * u_height / 4;
        bool v = offset >= plane_bytes;
        offset -= v ? plane_bytes : 0;
        int half_w = u_width / 2;
        int y = 2 * (offset / half_w);
        int x = 2 * (offset - (offset / half_w) * half_w);
        for (int k = 0; k < 4; k++) {
            int px = x + 2 * k;
            ivec3 c = (rgb_at(px, y) + rgb_at(px + 1, y) + rgb_at(px, y + 1) +
                       rgb_at(px + 1, y + 1) + 2) >> 2;
            bytes[k] = chroma(c, v);
        }
    }
    o_color = vec4(bytes) / 255.0;
}
