/* help: the help screen (? or F1) — every keymap of ui/keymap.h under
 * its own heading, the generic one first; the moving keys scroll it, any
 * other key closes it. */
#include "ui/view.h"

#include <stdio.h>
#include <string.h>

static void help_enter(struct view *v)
{
	v->help = (struct list){ .text = true };
}

static enum redraw help_key(struct view *v, enum action act, int key)
{
	(void)key;
	return view_text_key(v, &v->help, act);
}

/* One line of the help's text: drawn if it is within the part shown. */
static void help_line(struct view *v, size_t *line, int *y, int h, const char *keys,
		      const char *text, enum theme_role role)
{
	const char *start[8];
	int len[8], n;

	if (!keys) {
		if ((*line)++ >= v->help.sel && *y <= h)
			draw_text((*y)++, 0, COLS, text, v->attr[role], true);
		return;
	}
	/* a long text wraps under itself */
	n = draw_wrap(text, COLS - 22, 8, start, len);
	for (int i = 0; i < (n ? n : 1); i++) {
		char part[256];

		if ((*line)++ < v->help.sel || *y > h)
			continue;
		snprintf(part, sizeof(part), "%.*s", n ? (i == n - 1 ? (int)strlen(start[i]) : len[i])
						       : 0, n ? start[i] : "");
		draw_text(*y, 0, 2, "", v->attr[ROLE_NORMAL], true);
		draw_text(*y, 2, 20, i ? "" : keys, v->attr[ROLE_HELP_KEY], true);
		draw_text(*y, 22, COLS - 22, part, v->attr[role], true);
		(*y)++;
	}
}

/* Each keymap under its own heading (the generic one first), its actions
 * by group; then notes. */
static void help_draw(struct view *v)
{
	static const char *const notes[] = {
		"",
		"Counters: '-' means the rule has no counter statement; moving counters",
		"are highlighted. Rates are per second over the last refresh.",
		"Mouse: click selects, the wheel scrolls.",
	};
	int h = LINES - 2, y = 1;
	size_t line = 0;

	draw_text(0, 0, COLS, " nfpilot help  (Up/Down scroll, q or Esc closes)", v->attr[ROLE_HEADER],
	    true);
	for (int b = 0; b < KM_COUNT; b++) {
		const char *group = NULL;

		if (b)
			help_line(v, &line, &y, h, NULL, "", ROLE_NORMAL);
		help_line(v, &line, &y, h, NULL, keymap_title[b], ROLE_HEADER);
		for (int a = 1; a < ACT_COUNT; a++) {
			char keys[64], title[64], text[200];

			if (!(keymap[a].maps & (1u << b)))
				continue;
			if (!group || strcmp(group, keymap[a].group) != 0) {
				group = keymap[a].group;
				snprintf(title, sizeof(title), " %s", group);
				help_line(v, &line, &y, h, NULL, title, ROLE_TITLE);
			}
			keymap_keys_text((enum action)a, keys, sizeof(keys));
			help_line(v, &line, &y, h, keys, a == ACT_SAVE ? safe_save_help(v, text,
				  sizeof(text)) : keymap[a].help, ROLE_NORMAL);
		}
	}
	for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++)
		help_line(v, &line, &y, h, NULL, notes[i], ROLE_DIM);
	v->help.n = line;
	list_show(&v->help, (size_t)h);
	while (y <= h)
		draw_text(y++, 0, COLS, "", v->attr[ROLE_NORMAL], true);
}

const struct screen_ops help_screen = {
	.name = "help",
	.keymap = KM_GENERIC,
	.over = true,
	.enter = help_enter,
	.key = help_key,
	.draw = help_draw,
};
