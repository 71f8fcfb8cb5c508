/* src/lib/list.h — the one intrusive doubly linked list.
 *
 * A list is a head pointer (NULL when empty) and, in each element, a pair of
 * link fields. DLIST_DEFINE(name, type, next, prev) writes the two typed
 * operations for one such pair of fields:
 *   name_push(&head, x)    x becomes the first element
 *   name_remove(&head, x)  x leaves the list; its links are cleared
 * An element may sit on several lists through several pairs of fields.
 * Lists are not thread-safe: their owner's lock guards them.
 * Invariants: an element on a list has prev NULL iff it is the head; removed
 * elements have both links NULL.
 */
#ifndef SABLE_LIB_LIST_H
#define SABLE_LIB_LIST_H

#include <stddef.h>

#define DLIST_DEFINE(name, type, next, prev)                                                       \
    static inline void name##_push(type **head, type *x)                                           \
    {                                                                                              \
        x->prev = NULL;                                                                            \
        x->next = *head;                                                                           \
        if (*head) (*head)->prev = x;                                                              \
        *head = x;                                                                                 \
    }                                                                                              \
    static inline void name##_remove(type **head, type *x)                                         \
    {                                                                                              \
        if (x->prev)                                                                               \
            x->prev->next = x->next;                                                               \
        else                                                                                       \
            *head = x->next;                                                                       \
        if (x->next) x->next->prev = x->prev;                                                      \
        x->next = x->prev = NULL;                                                                  \
    }

#endif
