/* ct_rows: which entries of a ct_table a screen or a listing shows and in
 * which order — the indexes of the entries that match a filter, sorted by a
 * column. Sorting is a stable LSD radix sort over up to three 64-bit keys
 * per column (an IPv6 address and port is 19 bytes), so a million rows sort
 * in tens of milliseconds with 20 bytes per row of scratch memory. Pure. */
#ifndef NFP_CT_ROWS_H
#define NFP_CT_ROWS_H

#include "conntrack/ct.h"
#include "conntrack/ct_filter.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ct_rows {
	uint32_t *idx;   /* indexes into the table's e[] */
	size_t n, cap;
};

/* The entries of t that match f (NULL: all), in table order; gone entries
 * only with_gone. 0 or -ENOMEM. */
int ct_rows_build(struct ct_rows *v, const struct ct_table *t, const struct ct_filter *f,
		  bool with_gone);

/* Sort idx[0..n) (indexes into e[]) by column col: ascending, or biggest
 * first for the columns where ct_col_desc() says so; reverse flips that.
 * Stable: equal rows keep their order. 0 or -ENOMEM. */
int ct_rows_sort_index(const struct ct_entry *e, uint32_t *idx, size_t n, enum ct_col col,
		  bool reverse);

static inline int ct_rows_sort(struct ct_rows *v, const struct ct_table *t, enum ct_col col,
			       bool reverse)
{
	return ct_rows_sort_index(t->e, v->idx, v->n, col, reverse);
}

void ct_rows_free(struct ct_rows *v);

#endif
