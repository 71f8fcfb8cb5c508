/* cache-scratch: passive false sharing (see cache_common.h). */
#define WL_NAME "cache-scratch"
#define WL_SCRATCH 1
#include "cache_common.h"
