/* inverse: the restore point of a changeset (apply/changeset.h) as small as
 * the change. For each table the edits name: the steps that undo them
 * (snapshot.h: struct undo_step) — the rules it deletes or replaces as
 * they were, with their anonymous sets and their places, the policies it
 * changes, the chains it makes — read from the kernel by handle before the
 * change goes in, never from a dump of the whole table. The rules the
 * change adds are deleted by the handles the kernel gives them, which the
 * guardian learns when it commits the change (probation/guardian.h).
 *
 * Element edits are undone by two steps a set: the elements the change
 * adds destroyed, then those it adds, deletes or flushes put back as they
 * were (read from the set before the change: counters, timeouts, expiry,
 * comments). The elements the edits name are compiled beforehand
 * (elems[i], the libnftnl form of edit i's elements).
 *
 * A whole-table snapshot is taken instead where steps would not do: a
 * chain deleted (its place among the chains), a table made, a rule with a
 * chain binding, a chain flushed after rules were added to it.
 *
 * The inverse is exact only at the generation it was read at: it is read
 * at cs->genid (else -ERESTART), and the change's batch carries that
 * generation, so the kernel refuses the change if anything moved since. */
#ifndef NFP_INVERSE_H
#define NFP_INVERSE_H

#include "apply/changeset.h"
#include "nft/snapshot.h"

/* out: one table per table cs names, a delta or whole. 0, -ERESTART (the
 * ruleset is no longer at cs->genid) or -errno, with err filled. */
struct nftnl_set;
int inverse_of(struct nl *nl, const struct changeset *cs, struct nftnl_set *const *elems,
	       struct snapshot *out, char *err, size_t errlen);

#endif
