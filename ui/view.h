/* view: the state of the live screen, shared by ui/tui.c (input, actions,
 * the main loop) and ui/draw.c (everything that reaches the terminal). */
#ifndef NFP_VIEW_H
#define NFP_VIEW_H

#include "apply/changeset.h"
#include "apply/staged.h"
#include "probation/history.h"
#include "probation/probation.h"
#include "conntrack/ct_dump.h"
#include "conntrack/ct_events.h"
#include "conntrack/ct_sys.h"
#include "conntrack/ct_rows.h"
#include "nft/live.h"
#include "model/config.h"
#include "ui/keymap.h"
#include "ui/list.h"
#include "ui/theme.h"

#include <curses.h>
#include <poll.h>
#include <stdbool.h>

#define MIN_COLS 60
#define MIN_LINES 12
#define NAME_MAX_LEN 256

enum pane { PANE_TREE, PANE_RULES };
enum mode { MODE_BROWSE, MODE_HELP, MODE_PROMPT, MODE_CONFIRM, MODE_PENDING, MODE_HISTORY };

enum save_state { SAVE_UNKNOWN, SAVE_SAME, SAVE_DIFFERS, SAVE_NOFILE };

enum nfp_screen { SCREEN_RULES, SCREEN_CONNS };

/* the tracked connections screen (ui/conns.c) */
struct ctv {
	struct ct_table t;
	struct ct_rows rows;       /* what the filter keeps, sorted */
	struct ct_filter f;
	char ftext[256];
	enum ct_col sort;
	bool reverse;
	struct list l;              /* over rows */
	uint32_t sel_id;           /* the selected entry, kept across re-sorts */
	struct ct_dump dump;
	bool dumping;
	struct ct_events ev;
	bool ev_open;
	struct ct_sys sys;
	bool sys_ok;
	struct ct_totals tot;
	bool any_mark, any_zone;   /* some entry has one: the column is shown */
	double dump_started, last_sync, sync_cost, last_purge, rebuilt, rebuild_cost;
	bool stale;                /* the rows need a rebuild */
	enum action pending;       /* what the y/N question is for */
	char block_addr[64];
	char err[256];
};

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
	enum nfp_screen screen;
	struct ctv ct;
	struct live live;
	struct nfp_config cfg;
	attr_t attr[ROLE_COUNT];
	bool utf8;
	const char *netns;
	char host[64];

	/* the tree */
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
	bool sorted, paused;
	bool tick_now;             /* refresh counters at the next turn */
	char filter[128];
	char search[128];

	/* jump history for Backspace */
	struct place back[32];
	size_t nback;

	/* staged edits */
	struct changeset cs;
	bool no_counter;           /* new rules without the default counter */
	uint64_t marked[256];      /* handles marked with m, in the chain shown */
	size_t nmarked;
	struct edit pending_edit;  /* waiting for a warning's y/N */
	char pending_text[1024];
	char *history[32];         /* rule texts typed, newest last */
	size_t nhistory;
	int hist_pos;

	/* prompts and confirmations */
	enum mode mode;
	enum action prompt_for;    /* the action the typed text is for */
	char input[1024];
	char input_err[1024];      /* nft's complaint about the input */
	enum action confirm_for;
	char confirm_msg[1400];
	bool apply_force;          /* the next apply goes in even if the kernel
				    * refuses its restore point (asked first) */
	struct list text;          /* the help or pending view's lines */

	/* safe apply (ui/safe.c): our probation, the boot file, the history */
	struct probation prob;     /* fd -1: no probation of ours */
	struct probation_opts popts;
	bool quit_armed;           /* q once during a probation: q again reverts */
	bool other_prob;           /* a probation of another process runs */
	char prob_sock[300];       /* its guardian's socket, to notice one */
	enum save_state save_state;
	int save_pid, save_fd;     /* the `save --check` running, -1 if none */
	struct history_entry *hent; /* hlist.n of them */
	struct list hlist;
	char *hent_change;         /* the selected entry's change */
	char *renames;             /* a revert's new handles (history's map),
				    * until the reload after it */
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

void draw_pending(struct view *v);

void draw_history(struct view *v);
/* The probation's countdown on the top line: false when none of ours. */
bool draw_banner(struct view *v);
/* Draw s (made safe) at (y, x) in at most w columns; returns columns used. */
int draw_text(int y, int x, int w, const char *s, attr_t a, bool pad);

/* ---- ctview.c: tracked connections ---- */
void ctv_enter(struct view *v);
void ctv_leave(struct view *v);
void ctv_free(struct view *v);
int ctv_pollfds(struct view *v, struct pollfd *pfd);
bool ctv_step(struct view *v);
void ctv_tick(struct view *v);
void ctv_key(struct view *v, int key, bool *quit);
void ctv_prompt_done(struct view *v);
void ctv_confirmed(struct view *v);
/* The connections the rule with this text would match, as a filter. */
void ctv_show_rule(struct view *v, const char *rule_text);
void ctv_draw(struct view *v);
const char *ctv_hints(const struct view *v);

/* ---- safe.c: probation, confirm/revert/extend, history, save ---- */
/* Start the check of the boot file (in the background). */
void safe_init(struct view *v, bool strict);
/* CONFIRM, ROLLBACK, EXTEND, HISTORY, SAVE. */
void safe_action(struct view *v, enum action act);
/* The edits went in on probation: p is the applier's end. */
void safe_applied(struct view *v, struct probation *p, size_t nedits);
/* The save question was answered y. */
void safe_save_confirmed(struct view *v);
/* A key in the history view. */
void safe_history_key(struct view *v, int key);
/* fds to poll (at most 2) and what came on them: true if the screen
 * changed. */
int safe_pollfds(struct view *v, struct pollfd *pfd);
bool safe_events(struct view *v, const struct pollfd *pfd, int n);
/* Every refresh: notice a probation another process started. */
void safe_tick(struct view *v);
/* ms until the banner's countdown needs a redraw, -1: none. */
int safe_timeout_ms(const struct view *v);
/* May the view quit now? (A probation of ours: asks once first.) */
bool safe_may_quit(struct view *v);
void safe_free(struct view *v);

/* ---- edit.c: staging edits from the live view ---- */
/* Whether the rule with this handle is marked (m). */
bool edit_is_marked(const struct view *v, uint64_t handle);
/* An editing action (ACT_INSERT .. ACT_DISCARD). */
void edit_action(struct view *v, enum action act);
/* The prompt of an editing action was confirmed with Enter. */
void edit_prompt_done(struct view *v);
/* The question of an editing action was answered y. */
void edit_confirmed(struct view *v);
/* Block addr (a drop rule at the top of an input chain) and apply it on
 * probation at once: false (status says why) when it did not go in. */
bool edit_block_now(struct view *v, const char *addr);
void edit_free(struct view *v);
/* Whether a staged edit names a rule (or anchor) that is no longer there:
 * the ruleset changed since it was staged. */
bool edit_is_stale(const struct view *v, const struct edit *e);

/* ---- tui.c helpers used by draw.c and edit.c ---- */
void view_status(struct view *v, enum theme_role role, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A y/N question on the status line for act. */
void view_ask(struct view *v, enum action act, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void view_rebuild(struct view *v);
const struct staged_row *view_selected_row(const struct view *v);
/* the chain shown in the rules pane, or NULL (a table row is selected) */
const struct nfp_chain *view_chain(const struct view *v, struct live_ref *ref);
const struct nfp_rule *view_rules(const struct view *v, size_t *n, bool *loading);

#endif
