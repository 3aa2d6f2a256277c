/* pending: the pending changes (v or F9) — every staged edit as the nft
 * command it becomes, the ones whose rule is gone marked; W, u, U and X
 * work here as on the ruleset screen, the moving keys scroll, any other
 * key closes it. */
#define _GNU_SOURCE
#include "ui/view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void pending_enter(struct view *v)
{
	v->pending = (struct list){ .text = true };
}

static enum redraw pending_key(struct view *v, enum action act, int key)
{
	(void)key;
	if (list_action(&v->pending, act))
		return REDRAW_ALL;
	if (act == ACT_APPLY || act == ACT_UNDO || act == ACT_REDO || act == ACT_DISCARD)
		edit_action(v, act);
	else
		view_show(v, v->main);
	return REDRAW_ALL;
}

static void pending_draw(struct view *v)
{
	int y = 1;
	size_t n = 0;

	draw_textf(0, 0, COLS, v->attr[ROLE_HEADER], true,
	     " Pending changes: %zu edit%s, staged on generation %u   W apply  u undo  U redo  X discard  q close",
	     v->cs.n, v->cs.n == 1 ? "" : "s", v->cs.genid);
	if (!v->cs.n)
		draw_text(y++, 0, COLS, " nothing staged: i, a, A, e, d, K, J, P, c, F... stage edits",
		    v->attr[ROLE_DIM], true);
	for (size_t i = 0; i < v->cs.n; i++) {
		bool stale = edit_is_stale(v, &v->cs.edits[i]);
		char *text = NULL, *line, *save = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&text, &len);

		if (!fp)
			break;
		changeset_print_edit(fp, &v->cs, i);
		fclose(fp);
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (n++ < v->pending.sel || y >= LINES - 1)
				continue;
			draw_textf(y++, 0, COLS, v->attr[stale ? ROLE_ERROR : ROLE_NORMAL], true,
			     "%3zu %s%s", i + 1, stale ? "! rule gone: " : "", line);
		}
		free(text);
	}
	v->pending.n = n + 1;
	list_show(&v->pending, (size_t)(LINES - 2));
	while (y < LINES - 1)
		draw_text(y++, 0, COLS, "", v->attr[ROLE_NORMAL], true);
}

const struct screen_ops pending_screen = {
	.name = "pending",
	.keymap = KM_PENDING,
	.over = true,
	.enter = pending_enter,
	.key = pending_key,
	.draw = pending_draw,
};
