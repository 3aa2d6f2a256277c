/* rules: the state of the ruleset screen (ui/rules.c; its editing keys,
 * ui/edit.c): the tree of tables and chains, the rules of the chain shown
 * with the staged edits applied, where the admin is and came from, the
 * marks. */
#ifndef NFP_RULES_H
#define NFP_RULES_H

#include "apply/changeset.h"
#include "apply/staged.h"
#include "check/effect.h"
#include "ui/list.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NAME_MAX_LEN 256

enum pane { PANE_TREE, PANE_RULES };

/* a line of the tree: a table (chain == -1), one of its chains, or one
 * of its sets (set >= 0, chain -1); of the kernel's ruleset, or (staged)
 * of the tables and chains the staged edits create (rules_view.made) */
struct tree_row {
	size_t t;
	long c;
	bool staged;
	long set;
};

/* where we were, by identity: survives reloads */
struct place {
	uint32_t family;
	char table[NAME_MAX_LEN];
	char chain[NAME_MAX_LEN];  /* "" for a table or a set */
	char set[NAME_MAX_LEN];    /* a set's tree row: its name, else "" */
	uint64_t handle;           /* selected rule, 0 = none */
};

struct rules_view {
	/* the tree */
	struct nfp_ruleset made;    /* what staged edits create: tables, and
				     * the chains they add to any table */
	struct tree_row *rows;      /* tree.n of them */
	size_t rows_cap;
	struct list tree;
	bool tree_shown;

	/* the rows of the chain shown (staged edits applied), and their
	 * display order (filter, sort) */
	struct staged_rows staged;
	size_t *order;              /* rlist.n of them */
	size_t order_cap;
	struct list rlist;
	enum pane pane;
	int hscroll;                /* columns of rule text scrolled off (< >) */
	float spark_max;            /* the history column's full bar: the
				     * chain's largest rate */
	bool sorted;
	char filter[128];
	char search[128];

	/* jump history for Backspace */
	struct place back[32];
	size_t nback;

	/* the place before a counter read or a reload (set by the tick) */
	struct place here;
	bool here_saved;
	struct place applied;    /* selected when W applied the staged edits: */
	bool go_applied;         /* ... the next reload selects it again (a
				  * chain made by them is the kernel's then) */
	int flags;                  /* LIVE_* of the tick, for the step */
	bool started;               /* entered once: the first chain selected */

	/* I: the rules of iptables-nft's tables as iptables-save prints them
	 * (view_fill_xt); the last read tried: at that generation, of that
	 * chain */
	bool xt_view;
	uint32_t xt_genid;
	const struct nfp_chain *xt_chain;

	/* staging (ui/edit.c) */
	bool no_counter;            /* new rules without the default counter */
	uint64_t marked[256];       /* handles marked with m, in the chain shown */
	size_t nmarked;
	struct edit pending_edit;   /* waiting for a warning's y/N */
	char pending_text[1024];
	char pending_table[NAME_MAX_LEN], pending_chain[NAME_MAX_LEN];
	/* the effect check of the rule o or b staged (check/effect.h) */
	bool effect_pending;        /* staged after a question: check it then */
	enum effect_kind effect_kind;
	struct packet effect_packet;
	size_t effect_n;            /* the edits staged with it: L applies to it */
	struct effect effect;       /* its answer: where it would work (L) */

	/* geometry of the last draw */
	int tree_w, body_top, body_h;
};

#endif
