/* src/ctl/stats_print.h — the statistics printout at exit (stats_print:true).
 * sable_malloc_stats_print itself is declared in include/sable.h; what it
 * prints, its invariants and its locking are described in stats_print.c. */
#ifndef SABLE_CTL_STATS_PRINT_H
#define SABLE_CTL_STATS_PRINT_H

/* Registers the exit-time printer when stats_print:true (once; may be called
 * from several constructors). */
void ctl_stats_print_init(void);

#endif
