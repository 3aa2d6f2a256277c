/* view: the live view's state shared by its screens — what is shown and
 * where to go back to, the ruleset, the config, the staged edits, the
 * prompt and the y/N question, the probation (ui/safe.c) and the status
 * line — and each screen's own state, defined by the screen's header.
 * ui/tui.c runs the loop, ui/draw.c draws what every screen shares. */
#ifndef NFP_VIEW_H
#define NFP_VIEW_H

#include "apply/changeset.h"
#include "probation/probation.h"
#include "nft/live.h"
#include "model/config.h"
#include "ui/conns.h"
#include "ui/history.h"
#include "ui/keymap.h"
#include "ui/list.h"
#include "ui/rules.h"
#include "ui/screen.h"
#include "ui/sets.h"
#include "ui/theme.h"
#include "ui/trace.h"

#include <curses.h>
#include <poll.h>
#include <stdbool.h>

#define MIN_COLS 60
#define MIN_LINES 12
#define STATUS_LIFE 10.0
#define STATUS_LIFE_ERROR 30.0

/* what the keys go to: the screen, a prompt, a y/N question */
enum mode { MODE_BROWSE, MODE_PROMPT, MODE_CONFIRM };

enum save_state { SAVE_UNKNOWN, SAVE_SAME, SAVE_DIFFERS, SAVE_NOFILE };

struct view {
	/* the screens (ui/screen.h) and their own state */
	const struct screen_ops *scr;   /* shown */
	const struct screen_ops *main;  /* the ruleset or the connections:
					 * where help, history and pending
					 * changes go back to */
	struct rules_view rules;        /* ui/rules.h */
	struct conns_view conns;        /* ui/conns.h */
	struct history_view hist;       /* ui/history.h */
	struct sets_view sets;          /* ui/sets.h */
	struct trace_view trace;        /* ui/trace.h */
	struct list help, pending, detail; /* ui/help.c, ui/pending.c,
					    * ui/detail.c: lines */

	struct live live;
	struct nfp_config cfg;
	attr_t attr[ROLE_COUNT];
	bool utf8;
	const char *netns;
	char host[64];
	int timerfd;                    /* the refresh timer */
	bool paused;
	bool tick_now;                  /* refresh at the next turn */

	/* staged edits (ui/edit.c): the ruleset screen makes them, the
	 * pending changes list them, the connections' block applies one */
	struct changeset cs;
	bool apply_force;          /* the next apply goes in even if the kernel
				    * refuses its restore point (asked first) */

	/* the prompt and the y/N question, over the main screen */
	enum mode mode;
	enum action prompt_for;    /* the action the typed text is for */
	char input[1024];          /* as edited (ui/prompt.h) */
	char input_err[1024];      /* nft's complaint about the input */
	enum action confirm_for;
	char confirm_msg[1400];
	/* the question offers another way on n (b: into a set, or a rule):
	 * confirmed() is called for n too, confirm_yes false */
	bool confirm_alt, confirm_yes;

	/* safe apply (ui/safe.c): our probation, the boot file */
	struct probation prob;     /* fd -1: no probation of ours */
	struct probation_opts popts;
	bool quit_armed;           /* q once during a probation: q again reverts */
	bool other_prob;           /* a probation of another process runs */
	char prob_sock[300];       /* its guardian's socket, to notice one */
	enum save_state save_state;
	uint32_t save_gen;         /* the generation save_state is about */
	int save_pid, save_fd;     /* the `save --check` running, -1 if none */
	double save_started;       /* when it started (mono_now) */
	double save_next;          /* no check starts before (mono_now): a busy
				    * ruleset is not re-dumped at every move */
	char ns_name[64];          /* the namespace's name, "" on the machine's own */
	char save_file[256];       /* its boot file, "" when none (a namespace
				    * without save_file.NAME: S asks) */
	char save_ask[256];        /* the file S asks about */
	char *renames;             /* a revert's new handles (history's map),
				    * until the reload after it */
	/* the status line: a message goes at the next key or after
	 * STATUS_LIFE seconds (an error or a warning: STATUS_LIFE_ERROR) */
	char status[512];
	enum theme_role status_role;
	double status_at;          /* when it was set (mono_now) */
};

/* ---- tui.c: the screens, the status line ---- */
/* Show screen s: a main one (rules, connections) becomes the main one. */
void view_show(struct view *v, const struct screen_ops *s);
/* A key on a text over the main screen (help, one rule): the moving keys
 * scroll l, another closes it. */
enum redraw view_text_key(struct view *v, struct list *l, enum action act);
void view_status(struct view *v, enum theme_role role, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A y/N question on the status line for act, over the main screen. */
void view_ask(struct view *v, enum action act, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A prompt for act, prefilled, over the main screen; Enter in it. */
void view_prompt(struct view *v, enum action act, const char *prefill);
void view_prompt_done(struct view *v);
/* The prompt stays open, with err over it and the part of text it is about
 * (off, len) marked: the editor's "message, text, carets" form. */
void view_input_error(struct view *v, const char *err, const char *text, size_t off,
		      size_t len);
/* Refresh every secs from now on. */
void view_set_refresh(struct view *v, double secs);
/* The fds of the screens and the probation (at most 12), and whether a
 * screen or the probation has work under way: for the test driver. */
int view_pollfds(struct view *v, struct pollfd *pfd);
bool view_busy(const struct view *v);

/* ---- draw.c: what every screen shares ---- */
/* The screen shown (REDRAW_STATUS: its status line only). */
void draw_screen(struct view *v, enum redraw what);
/* The probation's countdown on the top line: false when none of ours. */
bool draw_banner(struct view *v);
/* Draw s (made safe) at (y, x) in at most w columns, ending in a marker
 * (\u2026) where it is cut; returns columns used. */
int draw_text(int y, int x, int w, const char *s, attr_t a, bool pad);
/* The lines (at most max) of at most w bytes that s breaks into at
 * spaces, a longer word cut: their starts and lengths. How many. */
int draw_wrap(const char *s, int w, int max, const char **start, int *len);
/* The columns s takes (made safe). */
int draw_width(const char *s);
int draw_textf(int y, int x, int w, attr_t a, bool pad, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* The status line: these actions' keys and names, as htop shows them. */
void draw_key_hints(struct view *v, const enum action *acts, size_t n);

/* ---- rules.c: the ruleset screen, as the others see it ---- */
/* After the staged edits changed: the tree and the rules pane again. */
void view_rebuild(struct view *v);
const struct staged_row *view_selected_row(const struct view *v);
/* Where the ruleset screen is, by identity (handle 0: no rule of the
 * kernel selected). */
void view_place(const struct view *v, struct place *p);
/* The table and the chain selected in the tree (the chain NULL on a table
 * row): of the kernel, or created by staged edits (not in the kernel yet). */
const struct nfp_table *view_table(const struct view *v);
const struct nfp_chain *view_chain(const struct view *v);
/* Select the tree row of place p: false if there is none. */
bool view_goto_place(struct view *v, const struct place *p);
/* The same, where Backspace comes back from (a jump followed, a staged
 * chain or table just made; undone, it goes back too). */
void view_go(struct view *v, const struct place *p);
const struct nfp_rule *view_rules(const struct view *v, size_t *n, bool *loading);
/* The selected chain of an iptables-nft table: each rule's "-A" line as
 * iptables-save prints it (nfp_rule.xt_text), read when a rule has none,
 * once a generation. */
void view_fill_xt(struct view *v);


/* ---- safe.c: probation, confirm/revert/extend, save ---- */
/* Start the check of the boot file (in the background). */
void safe_init(struct view *v, bool strict);
/* CONFIRM, ROLLBACK, EXTEND, HISTORY, SAVE. */
void safe_action(struct view *v, enum action act);
/* The edits went in on probation: p is the applier's end. */
void safe_applied(struct view *v, struct probation *p, size_t nedits);
/* The save question was answered y; the file asked for (a namespace
 * with no boot file) was entered. */
void safe_save_confirmed(struct view *v);
void safe_save_prompt_done(struct view *v);
/* S's line in the help: the real file. */
const char *safe_save_help(const struct view *v, char *buf, size_t len);
/* The history view's restore question was answered y: its entry put
 * back on probation, as `nfpilot restore N`. */
void safe_restore_confirmed(struct view *v);
/* fds to poll (at most 2) and what came on them: true if the screen
 * changed. */
int safe_pollfds(struct view *v, struct pollfd *pfd);
bool safe_events(struct view *v, const struct pollfd *pfd, int n);
/* Every refresh: notice a probation another process started. */
void safe_tick(struct view *v);
/* The header's word on the boot file: "[not saved: lost at reboot]", ""
 * when it holds the live ruleset, "[save: rechecking]" while that is not
 * known for the generation shown. */
const char *safe_saved(const struct view *v);
/* ms until the banner's countdown needs a redraw, -1: none. */
int safe_timeout_ms(const struct view *v);
/* May the view quit now? (A probation of ours: asks once first.) */
bool safe_may_quit(struct view *v);
void safe_free(struct view *v);

/* ---- edit.c: the ruleset screen's editing keys ---- */
/* The policy chain c of table t will have once the staged edits are
 * applied (its own when none changes it). */
int edit_staged_policy(const struct view *v, const struct nfp_table *t,
		       const struct nfp_chain *c);
/* The tree's mark of chain c: '-' deleted, '*' flushed once the staged
 * edits are applied, ' ' neither. */
char edit_chain_mark(const struct view *v, const struct nfp_table *t,
		     const struct nfp_chain *c);
/* Whether the rule with this handle is marked (m). */
bool edit_is_marked(const struct view *v, uint64_t handle);
/* An editing action (ACT_INSERT .. ACT_DISCARD). */
void edit_action(struct view *v, enum action act);
/* The prompt of an editing action was confirmed with Enter. */
void edit_prompt_done(struct view *v);
/* The question of an editing action was answered y. */
void edit_confirmed(struct view *v);
/* Stage e (its strings are copied) with the others, and say so. */
void edit_stage(struct view *v, const struct edit *e);
/* nft's verdict on e against the staged state: false, with nft's message
 * in v->input_err (the prompt stays open), when it refuses it. */
bool edit_check(struct view *v, struct edit *e);
/* Block addr (into the set a drop rule of the input chain uses, else a
 * drop rule at its top) and apply it on probation at once: false (status says why) when it did not go in. */
bool edit_block_now(struct view *v, const char *addr);
void edit_free(struct view *v);
/* Whether a staged edit names a rule (or anchor) that is no longer there:
 * the ruleset changed since it was staged. */
bool edit_is_stale(const struct view *v, const struct edit *e);

#endif
