/* src/ctl/options.h — options, read once from SABLE_CONF at start-up.
 *
 * SABLE_CONF="key:value,key:value". Every key is the leaf of an opt.* name.
 * An unknown key or a bad value prints one warning naming it and is ignored;
 * the allocator then runs on the default for that option.
 */
#ifndef SABLE_CTL_OPTIONS_H
#define SABLE_CTL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

extern unsigned opt_narenas;   /* 0: one per CPU */
extern bool opt_tcache;        /* per-thread caches */
extern bool opt_abort_conf;    /* abort on a bad SABLE_CONF instead of warning */
extern bool opt_confirm_conf;  /* print the options in force at start-up */
extern unsigned opt_dirty_decay_ms; /* free memory is returned after this long */
extern bool opt_background_thread;  /* a thread purges on schedule */

typedef enum { HUGEPAGES_OFF, HUGEPAGES_THP, HUGEPAGES_HUGETLB } hugepages_mode_t;
extern unsigned opt_hugepages; /* a hugepages_mode_t */

/* Parses SABLE_CONF (without allocating). Called once during init. */
void opt_init(void);

/* Parses one configuration string (exposed for tests). Returns the number
 * of bad entries (each warned about). */
unsigned opt_parse(const char *conf);

#endif
