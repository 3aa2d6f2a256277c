/* history: the history view (key H) — the changes that ended their
 * probation, newest last, as probation/history.h keeps them, and the
 * selected one's change; r restores the selected entry (as `nfpilot
 * restore N`, on probation: ui/safe.c). Any key but the moving ones and r
 * closes it. */
#include "ui/view.h"

#include "model/fmt.h"
#include "check/lockout.h"
#include "probation/history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* the change of the selected entry */
static void load_change(struct history_view *h)
{
	struct history_entry e;
	char err[256];

	free(h->change);
	h->change = NULL;
	if (h->list.sel < h->list.n)
		history_lookup(h->hent[h->list.sel].n, &e, &h->change, err, sizeof(err));
}

static void history_enter(struct view *v)
{
	struct history_view *h = &v->hist;
	char err[256];

	free(h->hent);
	h->hent = NULL;
	h->list = (struct list){ 0 };
	if (history_entries(&h->hent, &h->list.n, err, sizeof(err)))
		view_status(v, ROLE_ERROR, "%s", err);
	list_select(&h->list, h->list.n ? h->list.n - 1 : 0); /* the newest */
	load_change(h);
}

static enum redraw history_key(struct view *v, enum action act, int key)
{
	struct history_view *h = &v->hist;
	size_t old = h->list.sel;

	(void)key;
	if (act == ACT_RESTORE && h->list.sel < h->list.n) {
		struct snapshot s;
		char cut[1100] = "", err[300];

		h->restore_n = h->hent[h->list.sel].n;
		/* the lockout pre-check of the tables it puts back */
		if (history_load(h->restore_n, "after.snap", &s, err, sizeof(err)) == 0) {
			bool locked = edit_lockout_words(v, &(struct check_change){ .tables = &s }, cut,
							 sizeof(cut));

			snapshot_free(&s);
			if (locked) {
				view_ask(v, ACT_RESTORE, "LOCKOUT: %s. Restore entry %d anyway? (%s)",
					 cut, h->restore_n, LOCKOUT_HINT);
				return REDRAW_ALL;
			}
		}
		view_ask(v, ACT_RESTORE, "Restore the tables of history entry %d (%s) as they were "
			 "after its change, on probation?%s", h->restore_n,
			 h->hent[h->list.sel].tables, cut);
		return REDRAW_ALL;
	}
	if (!list_action(&h->list, act)) {
		view_show(v, v->main);
		return REDRAW_ALL;
	}
	if (old != h->list.sel)
		load_change(h);
	return REDRAW_ALL;
}

static void history_draw(struct view *v)
{
	struct history_view *h = &v->hist;
	int list_h = (LINES - 2) / 2, y = 1;
	char line[600];

	int user_w = 4, from_w = 4;

	draw_text(0, 0, COLS, " History: changes that ended their probation (newest last)   "
	    "r restore   q close", v->attr[ROLE_HEADER], true);
	/* who and from where, whole: as wide as the widest */
	for (size_t i = 0; i < h->list.n; i++) {
		if ((int)strlen(h->hent[i].user) > user_w)
			user_w = (int)strlen(h->hent[i].user);
		if ((int)strlen(h->hent[i].from) > from_w)
			from_w = (int)strlen(h->hent[i].from);
	}
	if (!h->list.n)
		draw_text(y++, 0, COLS, " nothing recorded yet: changes applied with W appear here once "
		    "confirmed or reverted", v->attr[ROLE_DIM], true);
	list_show(&h->list, (size_t)list_h);
	for (size_t i = h->list.top; i < h->list.n && y <= list_h; i++) {
		const struct history_entry *e = &h->hent[i];
		char when[32], raw[900];
		struct tm tm;
		time_t t = e->when;

		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(raw, sizeof(raw), "%5d  %s  %-13s %-*s %-*s %.300s", e->n, when,
			 e->outcome, user_w, e->user, from_w, e->from, e->tables);
		fmt_sanitize(line, sizeof(line), raw);
		draw_text(y++, 0, COLS, line, v->attr[i == h->list.sel ? ROLE_SELECTED
					: strcmp(e->outcome, "confirmed") ? ROLE_WARNING : ROLE_NORMAL],
		    true);
	}
	while (y <= list_h)
		draw_text(y++, 0, COLS, "", v->attr[ROLE_NORMAL], true);
	if (h->list.n) {
		const struct history_entry *e = &h->hent[h->list.sel];
		char raw[600];
		const char *p = h->change;

		snprintf(raw, sizeof(raw), " change %d: %s — %s", e->n, e->what, e->reason);
		fmt_sanitize(line, sizeof(line), raw);
		draw_text(y++, 0, COLS, line, v->attr[ROLE_TITLE], true);
		while (p && *p && y < LINES - 1) {
			size_t n = strcspn(p, "\n");

			snprintf(raw, sizeof(raw), "  %.*s", (int)n, p);
			fmt_sanitize(line, sizeof(line), raw);
			draw_text(y++, 0, COLS, line, v->attr[ROLE_NORMAL], true);
			p += n + (p[n] == '\n');
		}
	}
	while (y < LINES - 1)
		draw_text(y++, 0, COLS, "", v->attr[ROLE_NORMAL], true);
}

static void history_hints(struct view *v)
{
	draw_text(LINES - 1, 0, COLS, " r puts the tables back (nfpilot restore N, on probation); "
		  "nfpilot history show N --before/--after prints them", v->attr[ROLE_STATUS], true);
}


static void history_free(struct view *v)
{
	free(v->hist.hent);
	free(v->hist.change);
}

const struct screen_ops history_screen = {
	.name = "history",
	.keymap = KM_HISTORY,
	.over = true,
	.enter = history_enter,
	.key = history_key,
	.draw = history_draw,
	.hints = history_hints,
	.free = history_free,
};
