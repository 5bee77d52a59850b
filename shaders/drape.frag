#version 300 es
// The vector layers' texture laid over the scene's surface (scene.vert places it):
// premultiplied texels out as colour and coverage, blended over what is drawn.
precision highp float;

uniform sampler2D u_vectors;

in vec2 v_uv;
in vec3 v_world;
out vec4 o_color;

void main()
{
    vec4 v = texture(u_vectors, v_uv);
    if (v.a <= 0.0) {
        discard;
    }
    o_color = vec4(v.rgb / v.a, v.a);
}
