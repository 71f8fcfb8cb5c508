/* cache-thrash: active false sharing (see cache_common.h). */
#define WL_NAME "cache-thrash"
#define WL_SCRATCH 0
#include "cache_common.h"
