/* staged: a chain as the staged changeset leaves it — its rules in the
 * order they will have, each with a mark: ' ' untouched, '+' added, '-'
 * deleted (or its chain flushed or deleted), '*' replaced, '~' moved. The
 * rows of the live view's rules pane. Pure: no kernel access. */
#ifndef NFP_STAGED_H
#define NFP_STAGED_H

#include "apply/changeset.h"
#include "model/ruleset.h"

/* a rule of the chain, or one an edit adds (r == NULL) */
struct staged_row {
	const struct nfp_rule *r;
	const char *text;          /* the rule's text, or the staged one */
	char mark;
	size_t edit;               /* r == NULL: 1 + the index of the insert */
};

struct staged_rows {
	struct staged_row *row;
	size_t n, cap;
};

/* The rules[0..n) of chain family/table/chain with the edits of cs that
 * name it applied, into out (its memory reused). The rows point into rules
 * and cs: valid while both are. 0 or -ENOMEM (out->n = 0). */
int staged_rows_build(struct staged_rows *out, const struct changeset *cs, uint32_t family,
		      const char *table, const char *chain, const struct nfp_rule *rules,
		      size_t n);
/* The row of the rule with this handle, or -1. */
long staged_rows_find(const struct staged_rows *s, uint64_t handle);
void staged_rows_free(struct staged_rows *s);

#endif
