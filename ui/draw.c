/* draw: what every screen draws with — text made safe (every string from
 * the kernel passes through fmt_sanitize() and is clipped to its cell by
 * display width), the probation's banner, the status line (prompt,
 * question, message or the screen's hints), "too small" — and the screen
 * shown, drawn through its ops table (ui/screen.h). */
#define _XOPEN_SOURCE_EXTENDED 1
#include "ui/view.h"

#include "model/fmt.h"
#include "model/print.h"
#include "ui/prompt.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

/* The marker where text is cut: an ellipsis, or '>' where the locale has
 * no such character. */
static const char *cut_marker(void)
{
	return MB_CUR_MAX > 1 ? "\u2026" : ">";
}

/* Walk safe text: draw it (at the cursor) or only count it, up to w
 * columns; the columns it took. */
static int walk(const char *p, int w, bool draw)
{
	mbstate_t st;
	int used = 0;

	memset(&st, 0, sizeof(st));
	while (*p) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, p, strlen(p), &st);
		int cw;

		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			/* not decodable in this locale: one '?' per byte */
			if (used + 1 > w)
				break;
			if (draw)
				addch('?');
			used++;
			p++;
			memset(&st, 0, sizeof(st));
			continue;
		}
		cw = wcwidth(wc);
		if (cw < 0)
			cw = 1;
		if (used + cw > w)
			break;
		if (draw)
			addnstr(p, (int)n);
		used += cw;
		p += n;
	}
	return used;
}

/* Draw s at (y, x) in at most w columns with attribute a, padding with
 * spaces to w when pad; text that does not fit ends in the cut marker.
 * Returns the columns used; y < 0: only counts them. */
static int put(int y, int x, int w, const char *s, attr_t a, bool pad)
{
	char safe[4096];
	bool draw = y >= 0, cut;
	int used;

	if (w <= 0)
		return 0;
	fmt_sanitize(safe, sizeof(safe), s ? s : "");
	cut = walk(safe, INT_MAX, false) > w;
	if (draw) {
		attrset(a);
		move(y, x);
	}
	used = walk(safe, cut ? w - 1 : w, draw); /* room for the marker */
	if (cut) {
		for (; used < w - 1; used++) /* a wide character left a cell */
			if (draw)
				addch(' ');
		if (draw)
			addstr(cut_marker());
		used++;
	}
	if (pad && draw)
		for (; used < w; used++)
			addch(' ');
	return used;
}

int draw_width(const char *s)
{
	return put(-1, 0, INT_MAX, s, 0, false);
}

/* The columns the first n bytes of s take. */
static int cols(const char *s, size_t n)
{
	char part[1024];

	snprintf(part, sizeof(part), "%.*s", (int)n, s);
	return put(-1, 0, INT_MAX, part, 0, false);
}

int draw_text(int y, int x, int w, const char *s, attr_t a, bool pad)
{
	return put(y, x, w, s, a, pad);
}

int draw_textf(int y, int x, int w, attr_t a, bool pad, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return put(y, x, w, buf, a, pad);
}

/* ---- header ---- */

/* The probation's countdown over the header line; false when none of
 * ours runs. */
bool draw_banner(struct view *v)
{
	int64_t left;
	char tables[128];

	if (v->prob.fd < 0 || v->prob.outcome != PROB_RUNNING)
		return false;
	/* the one thing that matters while a change is on probation */
	left = (probation_left_ms(&v->prob) + 999) / 1000;
	fmt_sanitize(tables, sizeof(tables), v->prob.tables);
	if (v->prob.strict)
		draw_textf(0, 0, COLS, v->attr[ROLE_WARNING] | A_REVERSE | A_BOLD, true,
		     " PROBATION %lld:%02lld  confirm from a NEW login: nfpilot confirm"
		     "   R revert now  E extend   (%s)", (long long)left / 60,
		     (long long)left % 60, tables);
	else
		draw_textf(0, 0, COLS, v->attr[ROLE_WARNING] | A_REVERSE | A_BOLD, true,
		     " PROBATION %lld:%02lld  Y keep it  R revert now  E extend"
		     "   unconfirmed, %s go%s back", (long long)left / 60,
		     (long long)left % 60, tables, strchr(tables, ',') ? "" : "es");
	return true;
}


/* ---- the status line, too small ---- */

static const char *label_of(const struct view *v, enum action a)
{
	static char save[160];
	const struct nfp_table *t = view_table(v);
	bool xt = t && ruleset_chain_iptables(t, view_chain(v));

	switch (a) {
	case ACT_SAVE:
		snprintf(save, sizeof(save), "Save namespace %s's ruleset to (no default): ",
			 v->ns_name);
		return save;
	case ACT_SEARCH: return "Search: ";
	case ACT_FILTER: case ACT_CT_FILTER: return "Filter: ";
	/* iptables-nft's tables take iptables syntax (nft/xtables.h) */
	case ACT_INSERT: return xt ? "Insert rule above (iptables): " : "Insert rule above: ";
	case ACT_ADD_BELOW: return xt ? "Insert rule below (iptables): " : "Insert rule below: ";
	case ACT_APPEND: return xt ? "Append rule (iptables): " : "Append rule: ";
	case ACT_EDIT: return xt ? "Edit rule (iptables): " : "Edit rule: ";
	case ACT_MOVE_TO: return "Move to position: ";
	case ACT_GOTO_RULE: return "Go to rule: ";
	case ACT_CHAIN_ADD: return "New chain (NAME [type filter hook input priority 0; policy accept;]): ";
	case ACT_TABLE_ADD: return "New table (FAMILY NAME): ";
	case ACT_SET_ADD: return "New set (NAME type ipv4_addr; [flags interval;]): ";
	case ACT_BLOCK: return "Block address: ";
	case ACT_ALLOW_PORT: return "Allow port (tcp 8080, udp 53): ";
	case ACT_ELEM_SEARCH: return "Find (an address, or text): ";
	case ACT_ELEM_FILTER: return "Filter: ";
	case ACT_ELEM_ADD: return "Add elements (a, b, ... or <FILE): ";
	case ACT_TRACE: return "Trace (filter): ";
	case ACT_WHY: return "Why: ";
	default: return "> ";
	}
}

/* The prompt line, the cursor where the editor has it (the text scrolled
 * left when it would pass the edge: the cut marker after the label says
 * text is hidden there, at the right edge that it goes on); when nft refused the input, its
 * message on the line above and the part it points at marked in the
 * input; what Tab offered, on the line above too. */
/* The first line of msg above the prompt line y: on as many lines as it
 * takes, three at most (iptables' refusals say what to type instead). */
static void draw_error(struct view *v, int y, const char *msg)
{
	size_t n = strcspn(msg, "\n"), at = 0;
	int k = 1;

	for (size_t w = (size_t)COLS; k < 3 && n > w * (size_t)k; k++)
		;
	for (int i = 0; i < k; i++) {
		size_t len = i == k - 1 || n - at <= (size_t)COLS ? n - at : (size_t)COLS;

		/* not inside a character */
		while (len && at + len < n && (msg[at + len] & 0xc0) == 0x80)
			len--;
		draw_textf(y - k + i, 0, COLS, v->attr[ROLE_ERROR], true, "%.*s", (int)len,
			   msg + at);
		at += len;
	}
}

static void draw_prompt(struct view *v, int y)
{
	const char *label = prompt_label()[0] ? prompt_label() : label_of(v, v->prompt_for);
	int x = put(y, 0, COLS, label, v->attr[ROLE_STATUS] | A_BOLD, false);
	size_t from = 0, len = 0, point = prompt_point(), start = 0;
	const char *in;
	int cx;

	if (v->input_err[0]) {
		const char *l2 = strchr(v->input_err, '\n');
		const char *l3 = l2 ? strchr(l2 + 1, '\n') : NULL;

		if (l3) {
			from = strspn(l3 + 1, " ");
			len = strspn(l3 + 1 + from, "^");
		}
		draw_error(v, y, v->input_err);
	} else if (prompt_matches()[0]) {
		put(y - 1, 0, COLS, prompt_matches(), v->attr[ROLE_DIM], true);
	}
	/* from the first character that keeps the cursor on the line (after
	 * the marker, once scrolled) */
	while (start < point && x + 1 + cols(v->input + start, point - start) > COLS - 2)
		start += (size_t)mblen(v->input + start, MB_CUR_MAX) > 0
			 ? (size_t)mblen(v->input + start, MB_CUR_MAX) : 1;
	if (start)
		x += put(y, x, 1, cut_marker(), v->attr[ROLE_STATUS] | A_BOLD, false);
	in = v->input + start;
	cx = x + cols(in, point - start);
	if (!start && len && from + len <= strlen(v->input)) {
		char part[1024];

		snprintf(part, sizeof(part), "%.*s", (int)from, v->input);
		x += put(y, x, COLS - x, part, v->attr[ROLE_STATUS], false);
		snprintf(part, sizeof(part), "%.*s", (int)len, v->input + from);
		x += put(y, x, COLS - x, part, v->attr[ROLE_ERROR] | A_UNDERLINE, false);
		put(y, x, COLS - x, v->input + from + len, v->attr[ROLE_STATUS], true);
	} else {
		put(y, x, COLS - x, in, v->attr[ROLE_STATUS], true);
	}
	move(y, cx < COLS ? cx : COLS - 1);
}

void draw_key_hints(struct view *v, const enum action *acts, size_t n)
{
	int y = LINES - 1, x = 0;

	for (size_t i = 0; i < n && x < COLS - 1; i++) {
		char key[16];
		const struct keybinding *b = &keymap[acts[i]];

		/* prefer the F-key, as htop shows them */
		int k = b->keys[1] >= KEY_F(1) && b->keys[1] <= KEY_F(12) ? b->keys[1] : b->keys[0];

		keymap_key_name(k, key, sizeof(key));
		/* a hint that does not fit whole is left out */
		if (x + (int)strlen(key) + 1 + (int)strlen(b->name) > COLS)
			break;
		x += put(y, x, COLS - x, key, v->attr[ROLE_STATUS_KEY], false);
		x += put(y, x, COLS - x, " ", v->attr[ROLE_STATUS], false);
		x += put(y, x, COLS - x, b->name, v->attr[ROLE_STATUS], false);
		x += put(y, x, COLS - x, "  ", v->attr[ROLE_STATUS], false);
	}
	if (x < COLS)
		put(y, x, COLS - x, "", v->attr[ROLE_STATUS], true);
}

int draw_wrap(const char *s, int w, int max, const char **start, int *len)
{
	int n = 0;

	while (*s && n < max) {
		int l = (int)strlen(s), cut = l;

		if (l > w) {
			for (cut = w; cut > 0 && s[cut] != ' '; cut--)
				;
			if (cut == 0)
				cut = w;
		}
		start[n] = s;
		len[n++] = cut;
		s += cut;
		s += strspn(s, " ");
	}
	return n;
}

/* Lines the status text took at the last draw: more than one, and the
 * screen under them must be drawn again when it shrinks. */
static int status_lines = 1;

/* s on as many lines as it needs, up from the bottom line (at most half
 * the screen: the rest is cut with the marker). Returns the lines. */
static int put_wrapped(const char *s, attr_t a)
{
	const char *start[64];
	int len[64], max = LINES / 2 > 1 ? LINES / 2 : 1;
	int n = draw_wrap(s, COLS, max < 64 ? max : 64, start, len);
	char line[1024];

	if (n == 0)
		n = 1, start[0] = s, len[0] = 0;
	for (int i = 0; i < n; i++) {
		bool last = i == n - 1;

		/* the last line holds the rest: put cuts it with the marker */
		snprintf(line, sizeof(line), "%.*s", last ? (int)strlen(start[i]) : len[i], start[i]);
		put(LINES - n + i, 0, COLS, line, a, true);
	}
	return n;
}

/* The prompt, the question, the last message, or the screen's hints. */
static void draw_status(struct view *v)
{
	int y = LINES - 1;

	status_lines = 1;
	if (v->mode == MODE_PROMPT) {
		draw_prompt(v, y);
	} else if (v->mode == MODE_CONFIRM) {
		/* a long question wraps: its [y/N] is always on screen */
		char q[sizeof(v->confirm_msg) + 8];

		snprintf(q, sizeof(q), "%s [y/N]", v->confirm_msg);
		status_lines = put_wrapped(q, v->attr[ROLE_WARNING] | A_BOLD);
	} else if (v->status[0]) {
		status_lines = put_wrapped(v->status, v->attr[v->status_role]);
	} else if (v->scr->hints) {
		v->scr->hints(v);
	} else {
		put(y, 0, COLS, "", v->attr[ROLE_STATUS], true);
	}
}

static void draw_too_small(struct view *v)
{
	erase();
	draw_textf(0, 0, COLS, v->attr[ROLE_WARNING], false, "Terminal too small (%dx%d).", COLS,
	     LINES);
	if (LINES > 1)
		draw_textf(1, 0, COLS, v->attr[ROLE_NORMAL], false, "nfpilot needs %dx%d.", MIN_COLS,
		     MIN_LINES);
	if (LINES > 2)
		put(2, 0, COLS, "Enlarge it, or q to quit.", v->attr[ROLE_NORMAL], false);
}

void draw_screen(struct view *v, enum redraw what)
{
	if (COLS < MIN_COLS || LINES < MIN_LINES) {
		draw_too_small(v);
	} else {
		/* a status of several lines over the screen: all of it again */
		if ((what & REDRAW_ALL) == REDRAW_ALL || status_lines > 1 ||
		    (v->mode != MODE_PROMPT && (int)strlen(v->mode == MODE_CONFIRM ? v->confirm_msg
										 : v->status) + 6 > COLS))
			v->scr->draw(v);
		draw_status(v); /* last: the prompt leaves the cursor in place */
	}
	curs_set(v->mode == MODE_PROMPT ? 1 : 0);
	refresh();
}
