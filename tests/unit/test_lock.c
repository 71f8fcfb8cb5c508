/* The lock-order witness (os/lock.h), built here with SABLE_DEBUG on: locks
 * taken in rank and key order pass, anything else aborts at the acquire. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>

#include "os/lock.h"

#ifndef SABLE_DEBUG
#error "this test checks the debug build's witness: compile with -DSABLE_DEBUG"
#endif

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER,
                       c = PTHREAD_MUTEX_INITIALIZER;

Test(lock, ranks_taken_in_order_pass)
{
    lock_take(&a, LOCK_POOL, 0);
    lock_take(&b, LOCK_ARENA, 5);
    lock_take(&c, LOCK_META, 0);
    lock_assert_held(&b);
    lock_drop(&c);
    lock_drop(&b);
    lock_drop(&a);
}

Test(lock, one_rank_in_key_order_passes)
{
    lock_take(&a, LOCK_ARENA, 3);  /* arena 0, bin 3 */
    lock_take(&b, LOCK_ARENA, 63); /* arena 0's arena lock */
    lock_take(&c, LOCK_ARENA, 64); /* arena 1, bin 0 */
    lock_drop(&a);                 /* not the last taken: allowed */
    lock_drop(&c);
    lock_drop(&b);
}

Test(lock, a_lower_rank_under_a_higher_one_aborts, .signal = SIGABRT)
{
    lock_take(&a, LOCK_PAGEMAP, 0);
    lock_take(&b, LOCK_ARENA, 63);
}

Test(lock, a_lower_key_of_one_rank_aborts, .signal = SIGABRT)
{
    lock_take(&a, LOCK_ARENA, 63); /* an arena lock, then a bin of it */
    lock_take(&b, LOCK_ARENA, 7);
}

Test(lock, try_lock_out_of_order_is_recorded_not_checked)
{
    lock_take(&a, LOCK_PAGEMAP, 0);
    cr_assert(lock_try(&b, LOCK_ARENA, 63));
    lock_assert_held(&b);
    lock_drop(&b);
    lock_drop(&a);
}

Test(lock, what_is_taken_under_a_try_lock_is_checked, .signal = SIGABRT)
{
    cr_assert(lock_try(&a, LOCK_META, 0));
    lock_take(&b, LOCK_POOL, 0);
}

Test(lock, the_control_lock_may_be_taken_again_by_its_holder)
{
    pthread_mutexattr_t at;
    pthread_mutex_t r;
    pthread_mutexattr_init(&at);
    pthread_mutexattr_settype(&at, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&r, &at);
    lock_take(&r, LOCK_CTL, 0);
    lock_take(&r, LOCK_CTL, 0);
    lock_drop(&r);
    lock_drop(&r);
}

Test(lock, releasing_a_lock_not_held_aborts, .signal = SIGABRT)
{
    lock_drop(&a);
}

Test(lock, asserting_a_lock_not_held_aborts, .signal = SIGABRT)
{
    lock_assert_held(&c);
}

/* fork's order (process/fork.c): the C library's stdio list lock, named to
 * the witness by any object, before every lock of sable's. */
static const char stdio_list_lock;

Test(lock, the_stdio_list_lock_before_the_control_lock_passes)
{
    lock_witness_take(&stdio_list_lock, LOCK_STDIO, 0, true);
    lock_take(&a, LOCK_CTL, 0);
    lock_take(&b, LOCK_POOL, 0);
    lock_drop(&b);
    lock_drop(&a);
    lock_witness_drop(&stdio_list_lock);
}

Test(lock, the_stdio_list_lock_under_a_sable_lock_aborts, .signal = SIGABRT)
{
    lock_take(&a, LOCK_ARENA, 63);
    lock_witness_take(&stdio_list_lock, LOCK_STDIO, 0, true);
}
