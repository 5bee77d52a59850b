#include "base/vectors.h"

#include <stdlib.h>

void rc_vectors_free(struct rc_vectors *v)
{
    if (v) {
        free(v->parts);
        free(v->labels);
        free(v->xy);
        free(v);
    }
}
