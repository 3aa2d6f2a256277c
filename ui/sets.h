/* sets: the state of the set screen (ui/sets.c; Enter on a set in the
 * tree, @ on a rule that uses one): one set's or map's elements as read
 * in slices (nft/setread.h), the rows a filter keeps in the order a
 * column sorts them, the marks, and for a set the kernel fills (a meter,
 * update/add @s) what the last refresh found new or gone. */
#ifndef NFP_SETS_VIEW_H
#define NFP_SETS_VIEW_H

#include "apply/compile.h"
#include "model/setelems.h"
#include "nft/setread.h"
#include "ui/keymap.h"
#include "ui/list.h"

#include <stdbool.h>
#include <stdint.h>

struct view;

#define SETS_MARKS 4096     /* elements marked with m, at most */
#define SETS_GONE 64        /* gone elements shown (dimmed) after a refresh */
#define SETS_DIFF_MAX 65536 /* larger sets: no new/gone marks, no rates */

/* the columns a row may have, in screen order; a concatenation's key has
 * one column a field (SC_KEY + field) */
enum sets_col {
	SC_KEY = 0,         /* .. SC_KEY + 15 */
	SC_DATA = 16,
	SC_STMTS,           /* a meter's limit, a quota: as nft writes them */
	SC_PACKETS,
	SC_BYTES,
	SC_RATE,
	SC_EXPIRES,
	SC_COMMENT,
	SC_NONE,            /* not sorted: the kernel's order (an interval
			     * set's: its keys') */
};

struct sets_view {
	struct setelems s;          /* as shown */
	struct setelems next;       /* a refresh being read, swapped in when whole */
	struct setread rd;
	bool loading, refreshing, loaded;
	bool indexing;              /* a read is in: its index being built in
				     * slices (of next, for a refresh, before
				     * it is shown) */
	double read_started, read_cost, read_at; /* monotonic s: expiries count from read_at */
	double read_end;            /* when the read being indexed ended */
	struct compile_set compiler; /* /'s keys and the staged rows compiled */
	bool compiler_tried;        /* made at the first tick (or when needed
				     * first): once, but for a search */
	uint32_t genid;             /* the ruleset generation the rows were read at */

	/* rows shown: all in the kernel's or key order (view == NULL), or
	 * those the filter keeps, sorted by a column */
	uint32_t *view;
	size_t nview, view_cap, upto; /* upto: rows of s the filter has seen */
	char filter[128], search[128];
	enum sets_col sort;
	bool reverse;
	struct list l;
	int colw[SC_NONE];          /* column widths: grow only while shown */

	/* m marks: the keys as written (a refresh keeps them) */
	char *marked[SETS_MARKS];
	size_t nmarked;
	/* the last refresh, for sets the kernel fills: rows new since the one
	 * before, and rates (packets/s); elements gone, as text */
	uint8_t *fresh;             /* 1 a row: new */
	float *pps;                 /* packets/s a row, or NULL */
	char *gone[SETS_GONE];
	size_t ngone;
	double marks_at;            /* when the marks were made */

	/* the staged edits of this set, each compiled by `compiler` into the
	 * kernel's form (as the kernel will have them): the elements adds
	 * put in, drawn as rows above the kernel's; the keys deletes take
	 * out, their rows marked */
	struct setelems added, deleted;
	bool flushed;               /* a staged flush: every row goes */
	uint64_t staged_sig;        /* of the edits they were compiled from */

	char used_by[512];          /* the rules that use it */
	enum action pending;        /* what the y/N question is for */
	char err[256];
};

/* Open the set screen on set family/table/name (from the tree or a
 * rule): false, with a message, when there is none. */
bool sets_open(struct view *v, uint32_t family, const char *table, const char *name);

/* The name of the first named set a rule's text uses ("ip saddr @block
 * drop": "block"), into out: false if none. */
bool sets_used_by_rule(const char *text, char *out, size_t size);
/* "4 elements", "1 element", or "elements being counted" (nft/live.h
 * counts them in the background); returns buf. */
struct nfp_set;
const char *sets_count_text(const struct nfp_set *s, char *buf, size_t len);
/* Whether a rule's text uses set name (@name, the name ending there). */
bool sets_rule_uses(const char *text, const char *name);

#endif
