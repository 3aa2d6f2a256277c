/* grow: arrays that grow by doubling, their byte size checked for
 * overflow. The one way nfpilot grows an array:
 *
 *	if (grow(&t->e, &t->cap, t->n + 1, sizeof(*t->e), 1024))
 *		return -ENOMEM;
 */
#ifndef NFP_GROW_H
#define NFP_GROW_H

#include <stddef.h>

/* Make room for need elements of size bytes in the array *arrp points to
 * (a pointer to any pointer: &t->e), of capacity *cap: doubled, from first
 * (at least 1) when empty, until need fits. 0, or -ENOMEM with the array
 * and *cap untouched (also when the size in bytes would overflow). The
 * new slots are not cleared. */
int grow(void *arrp, size_t *cap, size_t need, size_t size, size_t first);

/* One more element at index *n, zeroed, *n counted up: its address, or
 * NULL (nothing changed). */
void *grow_slot(void *arrp, size_t *n, size_t *cap, size_t size, size_t first);

#endif
