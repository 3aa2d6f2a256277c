#include "util/grow.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int grow(void *arrp, size_t *cap, size_t need, size_t size, size_t first)
{
	void **arr = arrp, *p;
	size_t ncap = *cap ? *cap : first ? first : 1;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	if (size && ncap > SIZE_MAX / size)
		return -ENOMEM;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

void *grow_slot(void *arrp, size_t *n, size_t *cap, size_t size, size_t first)
{
	char *slot;

	if (*n == SIZE_MAX || grow(arrp, cap, *n + 1, size, first))
		return NULL;
	slot = *(char **)arrp + *n * size;
	memset(slot, 0, size);
	(*n)++;
	return slot;
}
