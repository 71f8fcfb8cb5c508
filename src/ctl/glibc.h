/* src/ctl/glibc.h — glibc's statistics calls answered from sable's figures,
 * and glibc's mallopt.
 *
 * The exported symbols (mallinfo2, mallinfo, malloc_stats, malloc_info,
 * mallopt) are in preload/preload.c, which a static link needs in one
 * object; they call these. Each statistics call takes a fresh snapshot
 * under the control lock (the mapping, its invariants and its locking:
 * src/ctl/glibc.c); ctl_mallopt takes no snapshot: the parameters that
 * act are passed to the process layer (table in glibc.c).
 */
#ifndef SABLE_CTL_GLIBC_H
#define SABLE_CTL_GLIBC_H

#include <malloc.h>
#include <stdio.h>

struct mallinfo2 ctl_mallinfo2(void);
struct mallinfo ctl_mallinfo(void);
void ctl_malloc_stats(void);
int ctl_malloc_info(int options, FILE *fp);
int ctl_mallopt(int param, int value);

#endif
