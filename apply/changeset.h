/* changeset: the edits an admin has staged but not applied — insert,
 * replace, delete, move rules; chain policy; create, delete and flush
 * chains; create tables and sets; add, delete and flush the elements of
 * a set or map — with undo and redo, and each edit written as
 * the nft command it amounts to (for the pending-changes view and
 * history). Pure: no kernel access. Rules are named by handle, never by
 * position. */
#ifndef NFP_CHANGESET_H
#define NFP_CHANGESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum edit_kind {
	EDIT_INSERT,       /* text, where/anchor */
	EDIT_REPLACE,      /* handle, text */
	EDIT_DELETE,       /* handle */
	EDIT_MOVE,         /* handle, where/anchor; text = the rule's text */
	EDIT_POLICY,       /* policy */
	EDIT_CHAIN_ADD,    /* chain; text = "type filter hook input priority 0;
			    * policy accept;" for a base chain, or NULL */
	EDIT_CHAIN_DELETE,
	EDIT_CHAIN_FLUSH,
	EDIT_TABLE_ADD,    /* table only */
	EDIT_ELEM_ADD,     /* set; text = the elements as nft takes them between
			    * braces: "10.0.0.1, 10.0.0.0/8 timeout 1h" */
	EDIT_ELEM_DELETE,  /* set; text as for EDIT_ELEM_ADD */
	EDIT_SET_FLUSH,    /* set: every element */
	EDIT_SET_ADD,      /* set; text = its spec as nft takes it between
			    * braces: "type ipv4_addr; flags interval;" */
};

enum edit_where {
	WHERE_APPEND,      /* at the end of the chain */
	WHERE_TOP,         /* at the start */
	WHERE_BEFORE,      /* before the rule `anchor` */
	WHERE_AFTER,       /* after the rule `anchor` */
};

struct edit {
	enum edit_kind kind;
	uint32_t family;
	char *table;
	char *chain;       /* NULL for EDIT_TABLE_ADD, set and element edits */
	char *set;         /* set and element edits: the set or map */
	uint64_t handle;   /* the rule edited (replace, delete, move) */
	enum edit_where where;
	uint64_t anchor;   /* WHERE_BEFORE / WHERE_AFTER */
	size_t anchor_edit; /* ... or next to the rule that edit anchor_edit - 1
			     * (an insert staged earlier) adds: 0 for none */
	char *text;        /* rule text; base chain spec for EDIT_CHAIN_ADD */
	int policy;        /* NF_ACCEPT or NF_DROP; EDIT_CHAIN_ADD: its policy
			    * (NFP_POLICY_NONE for none) */
	/* EDIT_CHAIN_ADD: what nft made of the spec when it was checked
	 * (apply_check_edit) */
	bool base;
	char type[16];     /* "filter", "nat", "route" */
	uint32_t hooknum;
	int32_t prio;
	bool add_counter;  /* rule without a counter gets one, before its verdict */
};

struct changeset {
	uint32_t genid;    /* generation the edits were staged against */
	struct edit *edits;
	size_t n;          /* edits in force */
	size_t total;      /* n plus those undone (redo brings them back) */
	size_t cap;
};

/* Stage a copy of e (its strings are copied). Staging drops whatever was
 * undone. 0 or -ENOMEM. */
int changeset_add(struct changeset *cs, const struct edit *e);
bool changeset_undo(struct changeset *cs);
bool changeset_redo(struct changeset *cs);
void changeset_discard(struct changeset *cs); /* all edits, undo history too */
void changeset_free(struct changeset *cs);

/* Write edit i as nft commands, one per line (a move is a delete and an
 * insert: the moved rule gets a new handle). */
void changeset_print_edit(FILE *fp, const struct changeset *cs, size_t i);
/* Every edit in force, in order. */
void changeset_print(FILE *fp, const struct changeset *cs);
/* The same as a string (malloc'd; NULL when out of memory). */
char *changeset_text(const struct changeset *cs);

/* The edit in force that makes table family/table (kind EDIT_TABLE_ADD)
 * or its chain (EDIT_CHAIN_ADD), or NULL. */
const struct edit *changeset_makes(const struct changeset *cs, enum edit_kind kind,
				   uint32_t family, const char *table, const char *chain);

/* The policy chain family/table/chain will have: the last staged policy
 * edit's, else now (its policy in the kernel). */
int changeset_policy(const struct changeset *cs, uint32_t family, const char *table,
		     const char *chain, int now);

/* What happened to a rule of a chain, for the marks in the live view:
 * 0 nothing, else the kind of the last edit naming it. */
int changeset_rule_mark(const struct changeset *cs, uint32_t family, const char *table,
			const char *chain, uint64_t handle, enum edit_kind *kind);

#endif
