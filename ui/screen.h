/* screen: a screen of the live view as the main loop sees it — one ops
 * table. Each screen is one file with one table: the ruleset
 * (ui/rules.c, its editing keys in ui/edit.c), the tracked connections
 * (ui/conns.c), the trace (ui/trace.c), the probation history (ui/history.c), the
 * pending changes (ui/pending.c), the help (ui/help.c), one rule whole
 * (ui/detail.c) and one set's elements (ui/sets.c). ui/tui.c and ui/draw.c reach a
 * screen only through its table. */
#ifndef NFP_SCREEN_H
#define NFP_SCREEN_H

#include "ui/keymap.h"

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

struct view;

/* What a handler changed: what must be redrawn. */
enum redraw {
	REDRAW_NONE = 0,
	REDRAW_STATUS = 1,     /* the status line only */
	REDRAW_ALL = 3,        /* the whole screen, the status line too */
};

#define SCREEN_FDS 4           /* at most this many fds from pollfds */

struct screen_ops {
	const char *name;
	unsigned keymap;       /* KM_*: its own keys, looked up before the generic ones */
	/* Over a main screen (the ruleset or the connections): it takes every
	 * key, and a question or a prompt closes it. */
	bool over;
	/* Shown (from another screen), and another shown instead. */
	void (*enter)(struct view *v);
	void (*leave)(struct view *v);
	/* A key (act: what the keymaps say it means, ACT_NONE for none) that
	 * is not one of the generic ones; for `over` screens, every key. */
	enum redraw (*key)(struct view *v, enum action act, int key);
	/* Every line but the status line; then the status line when it has
	 * no message, prompt or question. */
	void (*draw)(struct view *v);
	void (*hints)(struct view *v);
	/* Enter in a prompt it opened; y to a question it asked. */
	void (*prompt_done)(struct view *v);
	void (*confirmed)(struct view *v);

	/* Its work in the background, shown or not (NULL: none). The fds to
	 * wait on; what arrived, after every wait; the refresh timer. */
	int (*pollfds)(struct view *v, struct pollfd *pfd);
	enum redraw (*step)(struct view *v);
	enum redraw (*tick)(struct view *v);
	/* ms until it must have a turn with no fd ready (0 at once), -1 never */
	int (*timeout_ms)(const struct view *v);
	/* a load or a re-read under way: what is drawn is not what it will
	 * know (the test driver waits for it, ui/driver.h) */
	bool (*busy)(const struct view *v);
	void (*free)(struct view *v);
};

extern const struct screen_ops rules_screen, conns_screen, trace_screen, history_screen,
	pending_screen, help_screen, detail_screen, sets_screen;

/* every screen, NULL last: whose background work the loop runs */
extern const struct screen_ops *const screens[];

#endif
