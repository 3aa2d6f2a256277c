/* snapshot: the exact netlink form of whole tables — the table, its
 * chains (with policy counters), sets and maps with their elements,
 * stateful objects, flowtables and rules in order, as libnftnl objects —
 * and the one atomic batch that puts them back. A text round trip through
 * nft would not do: tables written by iptables-nft would stop being
 * readable by iptables. Tables that did not exist when the snapshot was
 * taken are recorded as absent, and the restore deletes them. */
#ifndef NFP_SNAPSHOT_H
#define NFP_SNAPSHOT_H

#include "nft/nl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nftnl_table;
struct nftnl_chain;
struct nftnl_set;
struct nftnl_obj;
struct nftnl_flowtable;
struct nftnl_rule;

/* One step of an inverse: a restore point as small as the change, for a
 * table a change edited by handle (apply/inverse.h makes them). The steps
 * go back in order; positions and handles are those of the moment the
 * change went in, which the batch guard makes exact. */
enum undo_kind {
	UNDO_DELRULE,    /* delete rule `handle`: the change added it */
	UNDO_REPLACE,    /* rule `handle` back as `rule`: the change replaced it */
	UNDO_ADDRULE,    /* `rule` (it had `handle`) back in its place: the change
			  * deleted it */
	UNDO_POLICY,     /* the base chain's policy back to `policy` */
	UNDO_DELCHAIN,   /* delete the chain: the change made it */
	UNDO_DELELEMS,   /* destroy the elements sets[0] of set `chain`: the change
			  * added them (gone already: no matter) */
	UNDO_ADDELEMS,   /* the elements sets[0] of set `chain` back as they were
			  * (counters, timeout, comment); their expiry is held as
			  * the moment it comes (elemkeys_now_ms), made a time
			  * left again when they are put back: an element expires
			  * when it would have, and one that would have expired
			  * meanwhile is not put back */
};

/* Destroying elements that are not there is no error (Linux 6.3), unlike
 * deleting them: an element with a timeout may expire during probation. */
#ifndef NFT_MSG_DESTROYSETELEM
#define NFT_MSG_DESTROYSETELEM 30
#endif

struct undo_step {
	enum undo_kind kind;
	char *chain;                 /* or the set of an elements step */
	uint64_t handle;
	struct nftnl_rule *rule;     /* REPLACE, ADDRULE: as it was */
	struct nftnl_set **sets;     /* ... the anonymous sets it used, with elements;
				      * DELELEMS, ADDELEMS: sets[0], the elements */
	size_t nsets, sets_cap;
	uint64_t after;              /* ADDRULE: after rule `after` (0: none) ... */
	long after_step;             /* ... or after the rule step `after_step` puts
				      * back (-1: none); neither: first in the chain */
	int policy;                  /* POLICY */
};

struct snap_table {
	uint32_t family;
	char *name;
	bool absent;                 /* did not exist: the restore deletes it */
	bool delta;                  /* not the whole table: steps undo the change */
	struct undo_step *steps;
	size_t nsteps, steps_cap;
	struct nftnl_table *table;
	struct nftnl_chain **chains;
	size_t nchains, chains_cap;
	struct nftnl_set **sets;     /* with their elements */
	size_t nsets, sets_cap;
	struct nftnl_obj **objs;
	size_t nobjs, objs_cap;
	struct nftnl_flowtable **flowtables;
	size_t nflowtables, flowtables_cap;
	struct nftnl_rule **rules;   /* chain by chain, each in rule order */
	size_t nrules, rules_cap;
};

struct snapshot {
	uint32_t genid;              /* generation the snapshot shows */
	bool all;                    /* of every table there was: any other is new */
	struct snap_table *tables;
	size_t ntables, tables_cap;
};

/* A table to snapshot, by family and name. */
struct snap_id {
	uint32_t family;
	const char *name;
};

/* Take a snapshot of the given tables (all tables when ids is NULL) in one
 * generation (re-read if the ruleset changes meanwhile). With skeleton, no
 * rules and no set elements are read (what apply/compile.c needs: cheap
 * even for a 100k-rule table). 0 or -errno with err filled. */
int snapshot_take(struct nl *nl, const struct snap_id *ids, size_t nids, bool skeleton,
		  struct snapshot *s, char *err, size_t errlen);
void snapshot_free(struct snapshot *s);
/* One table's objects freed (t zeroed, not t itself). */
void snapshot_table_free(struct snap_table *t);

/* Put every table of s back as it was, in one batch: the kernel takes all
 * of it or nothing. Each table that still exists is restored in place
 * (emptied and filled: it keeps its place among the tables and its base
 * chains theirs among the hooks' chains), else whole. With guard != 0 the
 * batch carries that generation id and the kernel refuses it (-ERESTART)
 * if the ruleset moved on since. Flags:
 *   SNAP_PROVE  only ask the kernel: the batch is sent without its end,
 *               so it is checked and aborted — nothing changes;
 *   SNAP_EACH   if the kernel refuses the batch, restore (or prove) each
 *               table in a batch of its own, so that one refused table
 *               keeps no other from coming back (no guard then).
 * 0, or -errno with err saying which table and object the kernel refused
 * and why ("the kernel refused the restore of table inet fw: Invalid
 * argument at rule 5 of chain input"); table_err (NULL, or s->ntables
 * ints) gets each table's own result. */
enum { SNAP_PROVE = 1, SNAP_EACH = 2 };
int snapshot_restore(struct nl *nl, const struct snapshot *s, uint32_t guard, unsigned flags,
		     int *table_err, char *err, size_t errlen);

/* A restore gives every rule it puts back a new handle (the kernel
 * assigns them). The rules of before (the snapshot restored) matched to
 * those of now (the tables read after the restore) by table, chain and
 * position, as lines "FAMILY\tTABLE\tCHAIN\tOLD\tNEW\n" for each rule
 * whose handle changed; malloc'd, NULL when out of memory. */
char *snapshot_handle_map(const struct snapshot *before, const struct snapshot *now);

/* For the test suite only: make every restore of table "FAMILY:NAME"
 * one the kernel refuses (NULL or "": none). */
void snapshot_test_break(const char *family_table);

/* Single objects, in the form the kernel takes back: one rule by handle
 * (-ENOENT if none), the rules of one chain appended to t->rules (t names
 * the table), one set with its elements. 0 or -errno. */
int snapshot_get_rule(struct nl *nl, uint32_t family, const char *table, const char *chain,
		      uint64_t handle, struct nftnl_rule **out);
int snapshot_get_chain_rules(struct nl *nl, struct snap_table *t, const char *chain);
int snapshot_get_set(struct nl *nl, uint32_t family, const char *table, const char *name,
		     struct nftnl_set **out);

/* The set an expression names (lookup, dynset, objref), or NULL. */
struct nftnl_expr;
const char *snapshot_expr_set(struct nftnl_expr *e);

/* The anonymous sets rule uses (`{ 22, 80 }`, a meter: they go when it
 * goes), read with their elements and appended to *sets (*n of them,
 * capacity *cap). 0 or -errno. */
int snapshot_get_rule_sets(struct nl *nl, uint32_t family, const char *table,
			   struct nftnl_rule *rule, struct nftnl_set ***sets, size_t *n,
			   size_t *cap);

/* Copy the attributes of rule message in after out's header; for each
 * expression's data, fn(out, expression name, data, ctx) may write it
 * itself (true) or leave it to be copied as it is (false). */
typedef bool (*snapshot_expr_fn)(struct nlmsghdr *out, const char *name,
				 const struct nlattr *data, void *ctx);
void snapshot_copy_rule(struct nlmsghdr *out, const struct nlmsghdr *in, snapshot_expr_fn fn,
			void *ctx);

/* Parse a dumped rule message into r in the form the kernel takes back
 * (the kernel dumps some expressions in a form it refuses: see
 * snapshot.c). As nftnl_rule_nlmsg_parse: 0 or -1. */
int snapshot_parse_rule(const struct nlmsghdr *nlh, struct nftnl_rule *r);

/* A new step of t's inverse, of that kind, for the chain (or set) named:
 * the others zero, after_step -1. NULL when out of memory. */
struct undo_step *snapshot_add_step(struct snap_table *t, enum undo_kind kind, const char *chain);
void snapshot_step_free(struct undo_step *st);

/* Undo the steps of delta (a table's inverse) on whole, a snapshot of the
 * same table taken after the change: whole becomes the table as it was
 * before (the rules put back keep the handles they had). Pure: nothing is
 * sent. 0, -ENOENT (whole does not hold what a step names: it is not the
 * state the change left) or -ENOMEM. */
int snapshot_undo(struct snap_table *whole, const struct snap_table *delta);

/* Append obj to the array *arrp (a pointer to an array of object
 * pointers: &t->rules) of *n, capacity *cap (util/grow.h). 0 or -ENOMEM. */
int snapshot_push(void *arrp, size_t *n, size_t *cap, void *obj);

/* A dumped xt rule is refused (EINVAL) without NFTA_RULE_COMPAT, which
 * the kernel never dumps: set it from the rule's `meta l4proto` compare. */
void snapshot_fix_compat(struct nftnl_rule *r);

/* Only the structure of s — tables, chains, named sets without their
 * elements, objects, flowtables — for a scratch namespace in which rule
 * text is compiled (apply/compile.c). 0 or -errno with err filled. */
int snapshot_restore_skeleton(struct nl *nl, const struct snapshot *s, char *err,
			      size_t errlen);

#endif
