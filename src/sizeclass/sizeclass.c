/* src/sizeclass/sizeclass.c — the out-of-line parts of the size classes. */
#include "sizeclass/sizeclass.h"

/* Bytes a request of n receives when it is served from a class (n must not
 * exceed SC_LARGE_MAX). */
size_t sc_usable(size_t n) { return sc_size(sc_of(n)); }
