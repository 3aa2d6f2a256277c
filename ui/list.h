/* list: the one way a list moves — the selection and the first row shown
 * of every list of the live view (the tree, the rules, the connections,
 * the history) and the scrolling of a text (help, pending changes): the
 * moving keys, the mouse wheel, and the selection kept visible at any
 * height. A text has no selection: sel is its first line shown. */
#ifndef NFP_LIST_H
#define NFP_LIST_H

#include "ui/keymap.h"

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>

struct list {
	size_t sel;     /* the selected row (a text: its first line shown) */
	size_t top;     /* the first row shown */
	size_t n;       /* rows */
	size_t h;       /* rows shown at the last draw: a page */
	bool text;      /* a text that scrolls: no selection */
};

/* The number of rows changed: the selection stays in range. */
void list_count(struct list *l, size_t n);
/* Select row i (past the end: the last); a text scrolls to line i. */
void list_select(struct list *l, size_t i);
void list_move(struct list *l, long delta);
/* ACT_UP .. ACT_LAST (PgUp/PgDn move a page less one row): false if act
 * is not one of them. */
bool list_action(struct list *l, enum action act);
/* The wheel of a mouse event (three rows a notch): false if it has none. */
bool list_wheel(struct list *l, const MEVENT *ev);
/* At draw time, h rows high: top such that the selection is shown. */
void list_show(struct list *l, size_t h);

#endif
