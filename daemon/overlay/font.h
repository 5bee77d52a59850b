/*
 * font: the embedded label font (DejaVu Sans, TrueType). Read-only data.
 */
#ifndef RC_FONT_H
#define RC_FONT_H

#include <stddef.h>

extern const unsigned char rc_font_dejavu_sans[];
extern const unsigned char rc_font_dejavu_sans_end[];

size_t rc_font_dejavu_sans_size(void);

#endif
