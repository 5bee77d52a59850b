/* Fuzz target: colormap names, colour strings and UTF-8 labels from any bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/colormap.h"
#include "overlay/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';
    struct rc_colormap map;
    if (rc_colormap_from_name(&map, s, "style.colormap", NULL) == RC_OK) {
        (void)rc_colormap_index(&map, size / 7.0 - 1.0);
    }
    uint8_t rgba[4];
    (void)rc_color_parse(s, rgba);
    for (const char *p = s; *p;) {
        (void)rc_utf8_next(&p);
    }
    free(s);
    return 0;
}
