#include "apply/staged.h"

#include "util/grow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

long staged_rows_find(const struct staged_rows *s, uint64_t handle)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->row[i].r && s->row[i].r->handle == handle)
			return (long)i;
	return -1;
}

/* the row a staged insert adds (edit: 1 + its index), or -1 */
static long find_added(const struct staged_rows *s, size_t edit)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->row[i].r && s->row[i].edit == edit)
			return (long)i;
	return -1;
}

/* where an insert or a move puts its rule; an anchor gone: at the end */
static size_t where_index(const struct staged_rows *s, const struct edit *e)
{
	long i = e->anchor_edit ? find_added(s, e->anchor_edit) : staged_rows_find(s, e->anchor);

	switch (e->where) {
	case WHERE_TOP:
		return 0;
	case WHERE_BEFORE:
		return i < 0 ? s->n : (size_t)i;
	case WHERE_AFTER:
		return i < 0 ? s->n : (size_t)i + 1;
	case WHERE_APPEND:
		break;
	}
	return s->n;
}

/* room was made before: one row more than the rules and inserts */
static void insert_row(struct staged_rows *s, size_t at, struct staged_row row)
{
	memmove(&s->row[at + 1], &s->row[at], (s->n - at) * sizeof(*s->row));
	s->row[at] = row;
	s->n++;
}

int staged_rows_build(struct staged_rows *out, const struct changeset *cs, uint32_t family,
		      const char *table, const char *chain, const struct nfp_rule *rules,
		      size_t n)
{
	size_t need = n;

	out->n = 0;
	for (size_t k = 0; k < cs->n; k++)
		need += cs->edits[k].kind == EDIT_INSERT;
	if (grow(&out->row, &out->cap, need + 1, sizeof(*out->row), 64))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		out->row[out->n++] = (struct staged_row){ &rules[i], rules[i].text, ' ', 0 };
	for (size_t k = 0; k < cs->n; k++) {
		const struct edit *e = &cs->edits[k];
		long i;

		if (e->family != family || strcmp(e->table, table) != 0 || !e->chain ||
		    strcmp(e->chain, chain) != 0)
			continue;
		switch (e->kind) {
		case EDIT_INSERT:
			insert_row(out, where_index(out, e),
				   (struct staged_row){ NULL, e->text, '+', k + 1 });
			break;
		case EDIT_DELETE:
			if ((i = staged_rows_find(out, e->handle)) >= 0)
				out->row[i].mark = '-';
			break;
		case EDIT_REPLACE:
			if ((i = staged_rows_find(out, e->handle)) >= 0) {
				out->row[i].text = e->text;
				out->row[i].mark = '*';
			}
			break;
		case EDIT_MOVE:
			if ((i = staged_rows_find(out, e->handle)) >= 0) {
				struct staged_row row = out->row[i];

				memmove(&out->row[i], &out->row[i + 1],
					(out->n - (size_t)i - 1) * sizeof(*out->row));
				out->n--;
				row.mark = '~';
				insert_row(out, where_index(out, e), row);
			}
			break;
		case EDIT_CHAIN_FLUSH:
		case EDIT_CHAIN_DELETE:
			for (size_t j = 0; j < out->n; j++)
				out->row[j].mark = '-';
			break;
		default:
			break;
		}
	}
	return 0;
}

void staged_rows_free(struct staged_rows *s)
{
	free(s->row);
	memset(s, 0, sizeof(*s));
}
