/* Fuzz target: the .npy header parser must accept or refuse any bytes without
 * reading past them; what it accepts must describe data that fits. */
#include <stddef.h>
#include <stdint.h>

#include "raster/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rc_npy a;
    struct rc_error err;
    if (rc_npy_parse(data, size, "raster", &a, &err) == RC_OK) {
        size_t bytes = a.bands * a.rows * a.cols * a.item_bytes;
        const uint8_t *end = data + size;
        if (a.data < data || a.data + bytes != end) {
            __builtin_trap();
        }
        volatile uint8_t last = a.data[bytes - 1]; /* inside the buffer */
        (void)last;
    }
    return 0;
}
