/* conns: the tracked connections screen (key 2; 1 goes back to the
 * ruleset). The table is loaded in slices from a non-blocking dump, then
 * follows conntrack events; a re-read (sync) now and then brings counters
 * and rates, since events carry no counters. Rows that appeared or went
 * are marked for a few seconds. A filter narrows the rows (with their
 * count), any column sorts them; d kills one connection, D all that match,
 * b blocks the selected source on probation and kills its connections.
 * After every apply, and on !, the established connections the live
 * ruleset no longer admits are asked of the kernel (sandbox/stale.h) in
 * slices, whatever screen is shown; ! shows them here, D kills them. */
#define _GNU_SOURCE
#include "ui/view.h"

#include "conntrack/ct_kill.h"
#include "model/fmt.h"
#include "conntrack/ct_rule.h"
#include "util/mono.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define MARK_SECS 3.0        /* new / gone rows stay marked this long */
#define STEP_BUDGET 0.015    /* seconds of dump slices per loop turn */
#define EVENTS_PER_STEP 4000
#define CHECK_SLICE 64       /* connections asked at a time (a few ms) */
#define CHECK_BUDGET 0.008   /* seconds of them per loop turn */

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- rows ---- */

static void find_sel(struct conns_view *c)
{
	for (size_t i = 0; c->sel_id && i < c->rows.n; i++)
		if (c->t.e[c->rows.idx[i]].id == c->sel_id) {
			c->l.sel = i;
			break;
		}
	list_count(&c->l, c->rows.n);
}

/* ---- the connections no longer admitted ---- */

static int by_id(const void *a, const void *b)
{
	const struct ct_entry *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* e is one of the connections the check found: the same id and tuple */
static bool is_refused(const struct conns_view *c, const struct ct_entry *e)
{
	const struct ct_entry *hit = bsearch(e, c->refused, c->nrefused, sizeof(*e), by_id);

	while (hit && hit > c->refused && hit[-1].id == e->id)
		hit--;
	for (; hit && hit < c->refused + c->nrefused && hit->id == e->id; hit++)
		if (hit->family == e->family && hit->proto == e->proto && hit->zone == e->zone &&
		    !memcmp(&hit->orig, &e->orig, sizeof(e->orig)))
			return true;
	return false;
}

static void keep_refused(struct conns_view *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->rows.n; i++)
		if (is_refused(c, &c->t.e[c->rows.idx[i]]))
			c->rows.idx[n++] = c->rows.idx[i];
	c->rows.n = n;
}

static void rebuild(struct conns_view *c)
{
	double start = mono_now();

	/* while the first load runs, rows in arrival order: a sort of a big
	 * table takes a quarter of a second (1M rows), too long between keys */
	if (ct_rows_build(&c->rows, &c->t, c->ftext[0] ? &c->f : NULL, true) == 0 &&
	    c->only_refused)
		keep_refused(c);
	if (c->t.loaded)
		ct_rows_sort(&c->rows, &c->t, c->sort, c->reverse);
	memset(&c->tot, 0, sizeof(c->tot));
	c->any_mark = c->any_zone = false;
	for (size_t i = 0; i < c->t.n; i++) {
		if (c->t.e[i].flags & CT_F_GONE)
			continue;
		ct_totals_add(&c->tot, &c->t.e[i]);
		c->any_mark |= c->t.e[i].mark != 0;
		c->any_zone |= c->t.e[i].zone != 0;
	}
	find_sel(c);
	c->rebuilt = mono_now();
	c->rebuild_cost = c->rebuilt - start;
	c->stale = false;
}

static const struct ct_entry *sel_entry(const struct conns_view *c)
{
	return c->l.sel < c->rows.n ? &c->t.e[c->rows.idx[c->l.sel]] : NULL;
}

const struct ct_entry *conns_selected(const struct view *v)
{
	return sel_entry(&v->conns);
}

/* ---- loading and following ---- */

static enum redraw check_step(struct view *v);

static void start_dump(struct view *v, bool sync)
{
	struct conns_view *c = &v->conns;
	struct ct_dump_opts o = { .sync = sync, .now = mono_now() };

	if (ct_dump_start(&c->dump, &c->t, &o, false, c->err, sizeof(c->err)) == 0) {
		c->dumping = true;
		c->dump_started = mono_now();
	} else {
		view_status(v, ROLE_ERROR, "conntrack: %s", c->err);
	}
}

static void read_sys(struct conns_view *c)
{
	char err[256];

	c->sys_ok = ct_sys_read(&c->sys, err, sizeof(err)) == 0;
}

static void conns_enter(struct view *v)
{
	struct conns_view *c = &v->conns;
	char err[256];

	if (!c->t.loaded && !c->dumping)
		c->sort = CT_COL_SRC; /* the first time: by source */
	read_sys(c);
	if (!c->ev_open) {
		/* subscribe first: nothing between the dump and the events is lost */
		c->ev_open = ct_events_open(&c->ev, err, sizeof(err)) == 0;
		if (!c->ev_open)
			view_status(v, ROLE_WARNING, "conntrack events: %s (re-reading instead)", err);
		if (c->t.loaded)
			start_dump(v, true); /* we were away: catch up */
	}
	if (!c->t.loaded && !c->dumping)
		start_dump(v, false);
}

static void conns_leave(struct view *v)
{
	struct conns_view *c = &v->conns;

	/* nothing follows the table while it is not on screen */
	if (c->ev_open)
		ct_events_close(&c->ev);
	c->ev_open = false;
	if (c->dumping)
		ct_dump_cancel(&c->dump);
	c->dumping = false;
}

static void conns_free(struct view *v)
{
	struct conns_view *c = &v->conns;

	conns_leave(v);
	stale_free(&c->check);
	free(c->refused);
	ct_table_free(&c->t);
	ct_rows_free(&c->rows);
	ct_filter_free(&c->f);
}

/* Nothing follows the table while it is not on screen (help or the
 * history over it: it is). */
static bool shown(const struct view *v)
{
	return v->main == &conns_screen;
}

static int conns_pollfds(struct view *v, struct pollfd *pfd)
{
	struct conns_view *c = &v->conns;

	int n = 0;

	if (c->checking && stale_fd(&c->check) >= 0)
		pfd[n++] = (struct pollfd){ .fd = stale_fd(&c->check), .events = POLLIN };
	if (!shown(v))
		return n;
	if (c->dumping)
		pfd[n++] = (struct pollfd){ .fd = ct_dump_fd(&c->dump), .events = POLLIN };
	else if (c->ev_open)
		pfd[n++] = (struct pollfd){ .fd = ct_events_fd(&c->ev), .events = POLLIN };
	return n;
}

/* the check's slices: one each turn while it asks (every 10 ms while the
 * sandbox's interfaces come up) */
static int conns_timeout_ms(const struct view *v)
{
	const struct conns_view *c = &v->conns;

	if (!c->checking || stale_fd(&c->check) >= 0)
		return -1;
	return c->check_ready ? 0 : 10;
}

/* Work on what arrived, within a budget: true when the screen changed. */
static enum redraw conns_step(struct view *v)
{
	struct conns_view *c = &v->conns;
	double start = mono_now();
	enum redraw changed = check_step(v);

	if (!shown(v))
		return changed;
	while (c->dumping && mono_now() - start < STEP_BUDGET) {
		struct pollfd p = { .fd = ct_dump_fd(&c->dump), .events = POLLIN };
		int ret;

		if (poll(&p, 1, 0) <= 0)
			break; /* nothing more to read yet */
		ret = ct_dump_step(&c->dump, c->err, sizeof(c->err));

		if (ret < 0) {
			view_status(v, ROLE_ERROR, "conntrack dump: %s", c->err);
			c->dumping = false;
			break;
		}
		if (ret == 0) {
			c->dumping = false;
			c->last_sync = mono_now();
			c->sync_cost = c->last_sync - c->dump_started;
			ct_table_trim(&c->t);
			c->stale = true;
			c->rebuild_cost = 0; /* loaded: sorted rows at once */
			break;
		}
		c->stale = true;
	}
	if (!c->dumping && c->ev_open) {
		int ret = ct_events_apply(&c->ev, &c->t, EVENTS_PER_STEP);

		if (ret == -ENOBUFS)
			start_dump(v, true); /* events were lost: read it all again */
		else if (ret > 0)
			c->stale = true;
	}
	/* rows: at once when cheap; else at most every ten times what a
	 * rebuild costs, and never less than half a second apart */
	if (c->stale && (c->rebuild_cost < 0.005 ||
			 mono_now() - c->rebuilt > (c->rebuild_cost * 10 > 0.5 ? c->rebuild_cost * 10
									 : 0.5))) {
		rebuild(c);
		changed = REDRAW_ALL;
	}
	return changed;
}

/* Every refresh tick: counters and rates by a re-read (less often when it
 * is expensive), and the new/gone marks expire. */
static enum redraw conns_tick(struct view *v)
{
	struct conns_view *c = &v->conns;
	double now = mono_now();
	double every = v->cfg.refresh > c->sync_cost * 5 ? v->cfg.refresh : c->sync_cost * 5;

	if (!shown(v))
		return REDRAW_NONE;
	read_sys(c);
	if (!c->dumping && c->t.loaded && now - c->last_sync >= every)
		start_dump(v, true);
	if (!c->dumping && now - c->last_purge >= MARK_SECS) {
		if (c->t.ngone || c->t.loaded) {
			ct_table_purge(&c->t, true);
			c->stale = true;
		}
		c->last_purge = now;
	}
	return REDRAW_NONE; /* the step draws what changed */
}

/* ---- the check ---- */

void conns_check_start(struct view *v, bool show)
{
	struct conns_view *c = &v->conns;
	char err[512];

	/* the last check's sandbox goes now, with the new one made */
	stale_free(&c->check);
	c->checking = false;
	if (stale_start(&c->check, NULL, false, err, sizeof(err))) {
		view_status(v, ROLE_ERROR, "cannot check which connections are still admitted: %s",
			    err);
		return;
	}
	c->checking = true;
	c->check_ready = false;
	c->check_show = show;
}

/* The rows: the connections found, when they were asked for. */
static void check_show(struct view *v)
{
	struct conns_view *c = &v->conns;

	if (!c->check_show)
		return;
	c->check_show = false;
	c->only_refused = true;
	if (v->main != &conns_screen)
		view_show(v, &conns_screen);
	c->l.sel = 0;
	c->sel_id = 0;
	rebuild(c);
	if (c->nrefused)
		view_status(v, ROLE_WARNING, "%zu established connection%s would not be admitted "
			    "now: D kills %s, ! shows every connection", c->nrefused,
			    c->nrefused == 1 ? "" : "s", c->nrefused == 1 ? "it" : "them");
	else
		view_status(v, ROLE_NORMAL, "every one of the %zu established connections would be "
			    "admitted now", c->nchecked);
}

/* Show the answer: on the status line, and the rows when asked for. */
static void check_done(struct view *v)
{
	struct conns_view *c = &v->conns;
	struct ct_entry *r = realloc(c->refused, (c->check.nrefused + 1) * sizeof(*r));

	if (!r) {
		view_status(v, ROLE_ERROR, "checking the connections: out of memory");
		stale_forget(&c->check);
		return;
	}
	c->refused = r;
	c->nrefused = c->check.nrefused;
	for (size_t i = 0; i < c->nrefused; i++)
		r[i] = c->check.t.e[c->check.refused[i]];
	qsort(r, c->nrefused, sizeof(*r), by_id);
	c->have_refused = true;
	c->refused_gen = c->check.sb.real.genid;
	c->nchecked = c->check.checked;
	if (c->nrefused && !c->check_show)
		view_status(v, ROLE_WARNING, "%zu established connection%s would not be admitted "
			    "now: ! shows %s, D there kills %s", c->nrefused,
			    c->nrefused == 1 ? "" : "s", c->nrefused == 1 ? "it" : "them",
			    c->nrefused == 1 ? "it" : "them");
	check_show(v);
	stale_forget(&c->check);
}

/* A slice of the check, within the step's budget. */
static enum redraw check_step(struct view *v)
{
	struct conns_view *c = &v->conns;
	double start = mono_now();
	char err[512];
	int ret = 1;

	while (c->checking && ret == 1 && mono_now() - start < CHECK_BUDGET) {
		struct pollfd p = { .fd = stale_fd(&c->check), .events = POLLIN };

		if (p.fd >= 0 && poll(&p, 1, 0) <= 0)
			return REDRAW_NONE; /* the dump: nothing to read yet */
		if (p.fd < 0 && !c->check_ready && !(c->check_ready = stale_ready(&c->check)))
			return REDRAW_NONE; /* the sandbox's interfaces: not yet */
		ret = stale_step(&c->check, CHECK_SLICE, err, sizeof(err));
	}
	if (!c->checking || ret == 1)
		return REDRAW_NONE;
	c->checking = false;
	if (ret < 0) {
		view_status(v, ROLE_ERROR, "checking which connections are still admitted: %s", err);
		stale_forget(&c->check);
	} else {
		check_done(v);
	}
	return REDRAW_ALL;
}

void conns_show_refused(struct view *v)
{
	struct conns_view *c = &v->conns;

	if (c->checking) {
		c->check_show = true;
		view_status(v, ROLE_NORMAL, "checking: %zu of %zu established connections asked so "
			    "far", c->check.checked, c->check.t.n);
	} else if (c->only_refused && v->main == &conns_screen) {
		c->only_refused = false;
		rebuild(c);
		view_status(v, ROLE_NORMAL, "every connection again");
	} else if (c->have_refused && c->refused_gen == v->live.rs.genid) {
		/* the answer is about the ruleset of now */
		c->check_show = true;
		check_show(v);
	} else {
		/* against the live ruleset of now, whoever changed it */
		conns_check_start(v, true);
		if (c->checking)
			view_status(v, ROLE_NORMAL, "checking which established connections the "
				    "live ruleset still admits...");
	}
}

/* ---- actions ---- */

static void set_filter(struct view *v, const char *text)
{
	struct conns_view *c = &v->conns;
	struct ct_filter f = { 0 };
	struct ct_filter_pos pos = { 0 };
	char err[256];

	if (ct_filter_parse(&f, text, err, sizeof(err), &pos)) {
		view_input_error(v, err, text, pos.off, pos.len);
		return;
	}
	ct_filter_free(&c->f);
	c->f = f;
	snprintf(c->ftext, sizeof(c->ftext), "%s", text);
	c->only_refused = false;
	c->l.sel = 0;
	c->sel_id = 0;
	v->mode = MODE_BROWSE;
	v->input_err[0] = 0;
	rebuild(c);
	view_status(v, ROLE_NORMAL, "%zu connection%s match%s", c->rows.n,
		    c->rows.n == 1 ? "" : "s", c->rows.n == 1 ? "es" : "");
}

static void conns_prompt_done(struct view *v)
{
	set_filter(v, v->input);
}

void conns_show_rule(struct view *v, const char *rule_text)
{
	char filter[256];
	bool partial;
	int n = ct_rule_filter(rule_text, filter, sizeof(filter), &partial);

	if (n == 0) {
		view_status(v, ROLE_WARNING, "nothing in this rule to pick connections by "
			    "(addresses, ports, protocol, ct state)");
		return;
	}
	view_show(v, &conns_screen);
	/* as a prefilled filter: the admin sees it and may change it */
	view_prompt(v, ACT_CT_FILTER, filter);
	snprintf(v->input_err, sizeof(v->input_err), "%s",
		 partial ? "from the rule's addresses, ports and protocol; the rest of the rule "
			   "is not in a connection: Enter to use" : "");
}

static void kill_result(struct view *v, const struct ct_kill_result *r, int ret,
			const char *err)
{
	if (ret)
		view_status(v, ROLE_ERROR, "kill: %s (%zu of %zu ended)", err, r->deleted,
			    r->matched);
	else if (r->unlocal)
		view_status(v, ROLE_WARNING, "ended %zu connection%s (%zu local socket%s reset); "
			    "%zu without a local socket (forwarded): entry deleted, but their "
			    "endpoints go on unless a rule drops them (b blocks and kills)", r->deleted + r->gone,
			    r->deleted + r->gone == 1 ? "" : "s", r->sockets,
			    r->sockets == 1 ? "" : "s", r->unlocal);
	else
		view_status(v, ROLE_NORMAL, "ended %zu connection%s (%zu local socket%s reset: "
			    "both ends see it closed)", r->deleted + r->gone,
			    r->deleted + r->gone == 1 ? "" : "s", r->sockets,
			    r->sockets == 1 ? "" : "s");
	v->conns.stale = true;
}

/* "10.0.0.1" of the selected row's original source */
static void sel_source(const struct ct_entry *e, char *buf)
{
	ct_addr_format(buf, e->family, &e->orig.src);
}

static void conns_confirmed(struct view *v)
{
	struct conns_view *c = &v->conns;
	struct ct_kill_result r;
	char err[256] = "";
	int ret;

	if (c->pending == ACT_KILL) {
		const struct ct_entry *e = sel_entry(c);
		uint32_t idx;

		if (!e || e->id != c->sel_id)
			return;
		idx = c->rows.idx[c->l.sel];
		ret = ct_kill(&c->t, &idx, 1, NULL, &r, err, sizeof(err));
		kill_result(v, &r, ret, err);
	} else if (c->pending == ACT_KILL_ALL) {
		ret = ct_kill(&c->t, c->rows.idx, c->rows.n, NULL, &r, err, sizeof(err));
		kill_result(v, &r, ret, err);
	} else if (c->pending == ACT_BLOCK_KILL) {
		struct ct_filter f = { 0 };
		char filter[128];

		if (!edit_block_now(v, c->block_addr))
			return; /* the status line says why */
		snprintf(filter, sizeof(filter), "src %s", c->block_addr);
		if (ct_filter_parse(&f, filter, err, sizeof(err), NULL) == 0) {
			ret = ct_kill_filter(&f, NULL, &r, err, sizeof(err));
			if (ret || r.matched)
				kill_result(v, &r, ret, err);
			ct_filter_free(&f);
		}
		/* the probation banner says the rest */
	} else if (c->pending == ACT_ACCOUNTING) {
		if (ct_sys_set_acct(true, err, sizeof(err)))
			view_status(v, ROLE_ERROR, "accounting: %s", err);
		else
			view_status(v, ROLE_NORMAL, "accounting on: connections made from now on "
				    "carry packet and byte counters");
		read_sys(c);
	}
}


static enum redraw conns_key(struct view *v, enum action act, int key)
{
	struct conns_view *c = &v->conns;
	const struct ct_entry *e = sel_entry(c);
	char a[64], b[64];
	MEVENT ev;

	if (key == KEY_MOUSE ? getmouse(&ev) == OK && list_wheel(&c->l, &ev)
			     : list_action(&c->l, act)) {
		/* the selection follows its entry across re-sorts */
		c->sel_id = c->rows.n ? c->t.e[c->rows.idx[c->l.sel]].id : 0;
		return REDRAW_ALL;
	}
	switch (act) {
	case ACT_REDRAW:
		clearok(curscr, TRUE);
		if (!c->dumping)
			start_dump(v, c->t.loaded);
		break;
	case ACT_CT_FILTER:
		view_prompt(v, ACT_CT_FILTER, c->ftext);
		break;
	case ACT_SORT_NEXT:
	case ACT_SORT_PREV:
		c->sort = (enum ct_col)(((int)c->sort + (act == ACT_SORT_NEXT ? 1
							 : CT_COL_N - 1)) % CT_COL_N);
		rebuild(c);
		view_status(v, ROLE_NORMAL, "sorted by %s%s", ct_col_title(c->sort),
			    c->reverse ? " (reversed)" : "");
		break;
	case ACT_SORT_REVERSE:
		c->reverse = !c->reverse;
		rebuild(c);
		break;
	case ACT_PAUSE:
		v->paused = !v->paused;
		view_status(v, ROLE_NORMAL, v->paused ? "paused: no re-reads (events still "
						 "arrive)" : "live again");
		break;
	case ACT_CT_DETAIL:
		if (e)
			view_show(v, &detail_screen);
		else
			view_status(v, ROLE_DIM, "no connection selected");
		break;
	case ACT_KILL:
		if (!e || (e->flags & CT_F_GONE))
			break;
		c->pending = ACT_KILL;
		c->sel_id = e->id;
		ct_endpoint_format(a, e->family, e->proto, &e->orig.src, e->orig.sport);
		ct_endpoint_format(b, e->family, e->proto, &e->orig.dst, e->orig.dport);
		view_ask(v, c->pending, "Kill %s %s -> %s?", ct_proto_name(e->proto)
		    ? ct_proto_name(e->proto) : "?", a, b);
		break;
	case ACT_KILL_ALL: {
		/* rows shown as gone (marked a few seconds) are no longer there */
		size_t live = 0;

		for (size_t i = 0; i < c->rows.n; i++)
			live += !(c->t.e[c->rows.idx[i]].flags & CT_F_GONE);
		if (!live) {
			if (c->rows.n)
				view_status(v, ROLE_DIM, "every connection shown is gone already");
			break;
		}
		c->pending = ACT_KILL_ALL;
		if (c->only_refused)
			view_ask(v, c->pending, "Kill all %zu connection%s the live ruleset no longer "
			    "admits?", live, live == 1 ? "" : "s");
		else
			view_ask(v, c->pending, "Kill all %zu connection%s the filter '%s' matches?",
			    live, live == 1 ? "" : "s", c->ftext[0] ? c->ftext
			    : "(none: every one)");
		break;
	}
	case ACT_BLOCK_KILL:
		if (!e)
			break;
		if (v->cs.n) {
			view_status(v, ROLE_WARNING, "%zu edits are staged: apply (W) or discard (X) "
				    "them first", v->cs.n);
			break;
		}
		sel_source(e, c->block_addr);
		c->pending = ACT_BLOCK_KILL;
		view_ask(v, c->pending, "Block %s (into the blocklist set the input chain drops "
		    "with, else a drop rule at its top; on probation) and kill its connections?",
		    c->block_addr);
		break;
	case ACT_STALE:
		conns_show_refused(v);
		break;
	case ACT_TRACE:
		if (e)
			trace_of_conn(v, e);
		else
			view_status(v, ROLE_DIM, "select a connection first");
		break;
	case ACT_WHY: {
		char q[200];

		/* its next packet: the flow as it goes on */
		if (!e) {
			trace_why(v, NULL);
			break;
		}
		ct_endpoint_format(a, e->family, e->proto, &e->orig.src, e->orig.sport);
		ct_endpoint_format(b, e->family, e->proto, &e->orig.dst, e->orig.dport);
		snprintf(q, sizeof(q), "%s %s -> %s state established", ct_proto_name(e->proto)
			 ? ct_proto_name(e->proto) : "?", a, b);
		trace_why(v, q);
		break;
	}
	case ACT_ACCOUNTING:
		if (c->sys_ok && c->sys.acct) {
			view_status(v, ROLE_NORMAL, "accounting is already on");
			break;
		}
		c->pending = ACT_ACCOUNTING;
		view_ask(v, c->pending, "Turn conntrack accounting on (net.netfilter.nf_conntrack_acct "
		    "= 1 in this namespace)?");
		break;
	default:
		return REDRAW_NONE;
	}
	return REDRAW_ALL;
}

/* ---- drawing ---- */

/* the columns, most wanted first; shown in table order */
static const enum ct_col wanted[] = {
	CT_COL_PROTO, CT_COL_SRC, CT_COL_DST, CT_COL_STATE, CT_COL_BYTES, CT_COL_RATE, CT_COL_NAT, CT_COL_TIMEOUT, CT_COL_OBYTES, CT_COL_RBYTES,
	CT_COL_OPKTS, CT_COL_RPKTS, CT_COL_AGE, CT_COL_MARK, CT_COL_ZONE,
};

/* The columns that fit COLS, in table order, and their widths: the NAT
 * column (its text is the longest) goes in with NAT_MIN columns and takes
 * the room the others leave. */
#define NAT_MIN 12
static int pick_columns(const struct view *v, enum ct_col *cols, int *width)
{
	const struct conns_view *c = &v->conns;
	bool shown[CT_COL_N] = { false };
	bool any_nat = c->tot.snat || c->tot.dnat;
	int w = 2, n = 0;

	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		enum ct_col col = wanted[i];

		if ((col == CT_COL_MARK && !c->any_mark) || (col == CT_COL_ZONE && !c->any_zone) ||
		    (col == CT_COL_NAT && !any_nat) ||
		    (col == CT_COL_AGE && !(c->sys_ok && c->sys.timestamp)) ||
		    ((col == CT_COL_RATE || col == CT_COL_BYTES || col == CT_COL_OBYTES ||
		      col == CT_COL_RBYTES || col == CT_COL_OPKTS || col == CT_COL_RPKTS) &&
		     c->sys_ok && !c->sys.acct))
			continue;
		int cw = col == CT_COL_NAT ? NAT_MIN : ct_col_width(col);

		if (w + cw + 1 > COLS)
			continue;
		w += cw + 1;
		shown[col] = true;
	}
	for (int col = 0; col < CT_COL_N; col++)
		if (shown[col]) {
			width[n] = col == CT_COL_NAT ? NAT_MIN + (COLS > w ? COLS - w : 0)
				   : ct_col_width((enum ct_col)col);
			cols[n++] = (enum ct_col)col;
		}
	return n;
}

static void conns_draw(struct view *v)
{
	struct conns_view *c = &v->conns;
	enum ct_col cols[CT_COL_N];
	int width[CT_COL_N];
	int ncols = pick_columns(v, cols, width), y, h;
	struct ct_fmt_opts fo = { .now = wall() };
	char line[1024], cell[128];
	size_t n;

	/* header: count, maximum, totals */
	n = (size_t)snprintf(line, sizeof(line), " nfpilot  %s  netns %s  connections %zu",
			     v->host, v->netns ? v->netns : "(host)", c->tot.all);
	if (c->sys_ok)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " of %lu max (%lu%%)", c->sys.max,
				      c->sys.max ? c->sys.count * 100 / c->sys.max : 0);
	snprintf(line + n, sizeof(line) - n, "  tcp %zu udp %zu icmp %zu other %zu%s",
		 c->tot.proto[CT_TOT_TCP], c->tot.proto[CT_TOT_UDP], c->tot.proto[CT_TOT_ICMP],
		 c->tot.proto[CT_TOT_OTHER], c->dumping ? (c->t.loaded ? "  [re-reading]"
							   : "  [loading...]") : "");
	if (!draw_banner(v))
		draw_text(0, 0, COLS, line, v->attr[ROLE_HEADER], true);
	/* states, NAT, warnings */
	n = 0;
	line[0] = 0;
	for (int s = 0; s < 16; s++) {
		struct ct_entry probe = { .proto = 6, .l4state = (uint8_t)s };
		const char *name = ct_l4state_name(&probe);

		if (c->tot.tcp_state[s] && name && n < sizeof(line))
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s %zu  ", name,
					      c->tot.tcp_state[s]);
	}
	if (n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      "NEW %zu  RELATED %zu  snat %zu  dnat %zu",
				      c->tot.ctstate[CT_NEW], c->tot.ctstate[CT_RELATED], c->tot.snat,
				      c->tot.dnat);
	if (c->sys_ok && ct_sys_near_full(&c->sys))
		draw_text(1, 0, COLS, " TABLE NEARLY FULL: new connections will be dropped "
			  "(nf_conntrack_max)", v->attr[ROLE_ERROR] | A_BOLD, true);
	else if (c->sys_ok && !c->sys.acct) {
		int w = draw_text(1, 0, COLS, " accounting off: no packet/byte counters (C turns "
				  "it on)  ", v->attr[ROLE_WARNING], false);

		draw_text(1, w, COLS - w, line, v->attr[ROLE_DIM], true);
	} else {
		draw_text(1, 0, COLS, line, v->attr[ROLE_DIM], true);
	}
	/* titles */
	n = (size_t)snprintf(line, sizeof(line), "  ");
	for (int i = 0; i < ncols && n < sizeof(line); i++) {
		const char *t = ct_col_title(cols[i]);

		n += (size_t)snprintf(line + n, sizeof(line) - n, "%-*s%s ", width[i] -
				      (cols[i] == c->sort), t, cols[i] == c->sort
				      ? (c->reverse ? "^" : "v") : "");
	}
	draw_text(2, 0, COLS, line, v->attr[ROLE_TITLE], true);
	/* rows */
	h = LINES - 4;
	list_show(&c->l, h > 0 ? (size_t)h : 0);
	y = 3;
	for (size_t r = c->l.top; r < c->rows.n && y < LINES - 1; r++, y++) {
		const struct ct_entry *e = &c->t.e[c->rows.idx[r]];
		enum theme_role role = e->flags & CT_F_GONE ? ROLE_DIM
				       : e->flags & CT_F_NEW ? ROLE_RULE_ACCEPT : ROLE_NORMAL;
		attr_t a = r == c->l.sel ? v->attr[ROLE_SELECTED] : v->attr[role];
		int x = draw_text(y, 0, COLS, e->flags & CT_F_GONE ? "- " : e->flags & CT_F_NEW
				  ? "+ " : "  ", a, false);

		/* a cell too long for its column ends in the cut marker (Enter:
		 * the connection whole) */
		for (int i = 0; i < ncols && x < COLS; i++) {
			ct_col_format(cell, sizeof(cell), e, cols[i], &fo);
			x += draw_text(y, x, width[i] < COLS - x ? width[i] : COLS - x, cell, a, true);
			if (x < COLS)
				x += draw_text(y, x, 1, " ", a, false);
		}
		draw_text(y, x, COLS - x, "", a, true);
	}
	if (!c->rows.n)
		draw_text(y++, 0, COLS, c->dumping ? "  loading..." : c->ftext[0]
			  ? "  no connection matches the filter (\\ changes it)"
			  : "  no tracked connection", v->attr[ROLE_DIM], true);
	for (; y < LINES - 1; y++)
		draw_text(y, 0, COLS, "", v->attr[ROLE_NORMAL], true);
}

static void conns_hints(struct view *v)
{
	char buf[512];

	snprintf(buf, sizeof(buf), " %zu shown%s%s%s   1 rules  \\ filter  < > sort  I reverse  "
		 "d kill  D kill all shown  b block+kill  ! not admitted  ? help", v->conns.rows.n,
		 v->conns.ftext[0] ? " of filter: " : "", v->conns.ftext,
		 v->conns.only_refused ? " no longer admitted (! for all)" : "");
	draw_text(LINES - 1, 0, COLS, buf, v->attr[ROLE_STATUS], true);
}

static bool conns_busy(const struct view *v)
{
	return v->conns.dumping || v->conns.checking || (shown(v) && v->conns.stale);
}

const struct screen_ops conns_screen = {
	.name = "connections",
	.keymap = KM_CONNS,
	.enter = conns_enter,
	.leave = conns_leave,
	.key = conns_key,
	.draw = conns_draw,
	.hints = conns_hints,
	.prompt_done = conns_prompt_done,
	.confirmed = conns_confirmed,
	.pollfds = conns_pollfds,
	.step = conns_step,
	.tick = conns_tick,
	.timeout_ms = conns_timeout_ms,
	.busy = conns_busy,
	.free = conns_free,
};
