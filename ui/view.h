/* view: the state of the live screen, shared by ui/tui.c (input, actions,
 * the main loop) and ui/draw.c (everything that reaches the terminal). */
#ifndef NFP_VIEW_H
#define NFP_VIEW_H

#include "model/live.h"
#include "ui/config.h"
#include "ui/keymap.h"
#include "ui/theme.h"

#include <curses.h>
#include <stdbool.h>

#define MIN_COLS 60
#define MIN_LINES 12
#define NAME_MAX_LEN 256

enum pane { PANE_TREE, PANE_RULES };
enum mode { MODE_BROWSE, MODE_HELP, MODE_PROMPT, MODE_CONFIRM };

/* a line of the tree: a table (chain == -1) or one of its chains */
struct tree_row {
	size_t t;
	long c;
};

/* where we were, by identity: survives reloads */
struct place {
	uint32_t family;
	char table[NAME_MAX_LEN];
	char chain[NAME_MAX_LEN];  /* "" for a table */
	uint64_t handle;           /* selected rule, 0 = none */
};

struct view {
	struct live live;
	struct nfp_config cfg;
	attr_t attr[ROLE_COUNT];
	bool utf8;
	const char *netns;
	char host[64];

	/* the tree */
	struct tree_row *rows;
	size_t nrows, tree_sel, tree_top;
	bool tree_shown;

	/* the rules of the chain shown, in display order (filter, sort) */
	size_t *order;
	size_t norder, order_cap;
	size_t rule_sel, rule_top;
	enum pane pane;
	bool sorted, paused;
	char filter[128];
	char search[128];

	/* jump history for Backspace */
	struct place back[32];
	size_t nback;

	/* prompts and confirmations */
	enum mode mode;
	enum action prompt_for;    /* ACT_SEARCH or ACT_FILTER */
	char input[128];
	enum action confirm_for;   /* ACT_ZERO or ACT_ZERO_TABLE */
	char confirm_msg[512];
	int help_top;

	/* the status line */
	char status[512];
	enum theme_role status_role;

	/* geometry of the last draw */
	int tree_w, body_top, body_h;
};

/* ---- draw.c ---- */
void draw_screen(struct view *v);
/* rows of rules that fit in the rules pane */
int draw_rules_height(const struct view *v);

/* ---- tui.c helpers used by draw.c ---- */
/* the chain shown in the rules pane, or NULL (a table row is selected) */
const struct nfp_chain *view_chain(const struct view *v, struct live_ref *ref);
const struct nfp_rule *view_rules(const struct view *v, size_t *n, bool *loading);

#endif
