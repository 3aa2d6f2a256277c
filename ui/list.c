#include "ui/list.h"

/* the last valid selection: a text stops when its last line is shown */
static size_t last(const struct list *l)
{
	if (l->text)
		return l->n > l->h ? l->n - l->h : 0;
	return l->n ? l->n - 1 : 0;
}

void list_count(struct list *l, size_t n)
{
	l->n = n;
	if (l->sel > last(l))
		l->sel = last(l);
}

void list_select(struct list *l, size_t i)
{
	l->sel = i < last(l) ? i : last(l);
	if (l->text)
		l->top = l->sel;
}

void list_move(struct list *l, long delta)
{
	if (delta < 0 && (size_t)-delta > l->sel)
		list_select(l, 0);
	else
		list_select(l, l->sel + (size_t)delta);
}

bool list_action(struct list *l, enum action act)
{
	long page = l->h > 2 ? (long)l->h - 1 : 1;

	switch (act) {
	case ACT_UP: list_move(l, -1); return true;
	case ACT_DOWN: list_move(l, 1); return true;
	case ACT_PAGE_UP: list_move(l, -page); return true;
	case ACT_PAGE_DOWN: list_move(l, page); return true;
	case ACT_FIRST: list_select(l, 0); return true;
	case ACT_LAST: list_select(l, last(l)); return true;
	default: return false;
	}
}

bool list_wheel(struct list *l, const MEVENT *ev)
{
	if (!(ev->bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)))
		return false;
	list_move(l, ev->bstate & BUTTON4_PRESSED ? -3 : 3);
	return true;
}

void list_show(struct list *l, size_t h)
{
	l->h = h;
	list_count(l, l->n);
	if (l->text)
		l->top = l->sel;
	else if (l->sel < l->top)
		l->top = l->sel;
	else if (h && l->sel >= l->top + h)
		l->top = l->sel - h + 1;
	/* no empty rows below the last one while rows above are hidden */
	if (!l->text && l->top + h > l->n)
		l->top = l->n > h ? l->n - h : 0;
}
