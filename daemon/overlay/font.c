/*
 * font: DejaVu Sans (Debian's fonts-dejavu-core, Bitstream Vera licence),
 * embedded into the binary at build time so labels never depend on the host's
 * fonts. RC_FONT_PATH is set by CMake.
 */
#include "overlay/font.h"

/* The assembler copies the file's bytes into read-only data. */
__asm__(".section .rodata\n"
        ".balign 16\n"
        ".global rc_font_dejavu_sans\n"
        "rc_font_dejavu_sans:\n"
        ".incbin \"" RC_FONT_PATH "\"\n"
        ".global rc_font_dejavu_sans_end\n"
        "rc_font_dejavu_sans_end:\n"
        ".byte 0\n"
        ".previous\n");

size_t rc_font_dejavu_sans_size(void)
{
    return (size_t)(rc_font_dejavu_sans_end - rc_font_dejavu_sans);
}
