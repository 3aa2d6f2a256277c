#define _GNU_SOURCE /* pipe2 */
#include "nft/live.h"
#include "util/grow.h"

#include <errno.h>
#include <fcntl.h>
#include <libnftnl/rule.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Chains up to this many rules are dumped whole on every tick (a few ms);
 * longer ones only have their visible rules read. */
#define DUMP_WHOLE_MAX 2000
/* rule GETs per live_step(): each walks the chain up to the rule */
#define GETS_PER_STEP 4
/* chains listed by one background text job */
#define TEXT_BATCH 50

static struct nfp_chain *chain_at(const struct live *l, struct live_ref r)
{
	if (r.t >= l->rs.ntables || r.c >= l->rs.tables[r.t].nchains)
		return NULL;
	return &l->rs.tables[r.t].chains[r.c];
}

bool live_find(const struct live *l, uint32_t family, const char *table,
	       const char *chain, struct live_ref *out)
{
	for (size_t t = 0; t < l->rs.ntables; t++) {
		const struct nfp_table *tb = &l->rs.tables[t];

		if (tb->family != family || strcmp(tb->name, table) != 0)
			continue;
		for (size_t c = 0; c < tb->nchains; c++)
			if (strcmp(tb->chains[c].name, chain) == 0) {
				*out = (struct live_ref){ t, c };
				return true;
			}
	}
	return false;
}

static int monitor_open(struct live *l)
{
	l->mon = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!l->mon)
		return -errno;
	if (mnl_socket_bind(l->mon, 1 << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID) < 0) {
		int e = -errno;

		mnl_socket_close(l->mon);
		l->mon = NULL;
		return e;
	}
	return 0;
}

int live_open(struct live *l, bool numeric, char *err, size_t errlen)
{
	struct reader_scope scope = { .no_rules = true, .no_counts = true, .no_trace = true };
	int ret;

	memset(l, 0, sizeof(*l));
	l->numeric = numeric;
	l->text_pipe[0] = l->text_pipe[1] = -1;
	ret = nl_open(&l->nl, err, errlen);
	if (ret)
		return ret;
	if (pipe2(l->text_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		ret = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		live_close(l);
		return ret;
	}
	/* subscribe before reading, so no change falls between the two */
	monitor_open(l); /* without it the generation id still catches changes */
	ret = reader_read(&l->nl, &scope, &l->rs, err, errlen);
	if (ret)
		live_close(l);
	return ret;
}

void live_close(struct live *l)
{
	reader_dump_cancel(&l->dump);
	setread_cancel(&l->counter);
	if (l->text_running)
		ruletext_wait(&l->text);
	ruletext_job_free(&l->text);
	free(l->text_refs);
	if (l->mon)
		mnl_socket_close(l->mon);
	for (int i = 0; i < 2; i++)
		if (l->text_pipe[i] >= 0)
			close(l->text_pipe[i]);
	/* the scratch chain's rules are its own */
	for (size_t i = 0; i < l->scratch.nrules; i++)
		ruleset_rule_free(&l->scratch.rules[i]);
	free(l->scratch.rules);
	free(l->pending);
	ruleset_free(&l->rs);
	nl_close(&l->nl);
	memset(l, 0, sizeof(*l));
	l->text_pipe[0] = l->text_pipe[1] = -1;
}

void live_focus(struct live *l, struct live_ref ref)
{
	bool same = l->has_focus && l->focus.t == ref.t && l->focus.c == ref.c;

	l->focus = ref;
	l->has_focus = chain_at(l, ref) != NULL;
	if (!same) {
		l->npending = 0;
		l->counters_next = l->counters_every = 0; /* another chain's cost */
	}
	/* a background dump of another chain yields to the one on screen */
	if (l->has_focus && l->dump.active && !same &&
	    (l->dump_ref.t != ref.t || l->dump_ref.c != ref.c) &&
	    !chain_at(l, ref)->rules_loaded)
		reader_dump_cancel(&l->dump);
}

const struct nfp_rule *live_rules(const struct live *l, struct live_ref ref, size_t *n,
				  bool *loading)
{
	const struct nfp_chain *c = chain_at(l, ref);
	bool dumping = l->dump.active && l->dump_ref.t == ref.t && l->dump_ref.c == ref.c;

	*loading = c && (!c->rules_loaded || dumping);
	if (!c) {
		*n = 0;
		return NULL;
	}
	/* first load: show what has arrived; a re-load shows the old rules */
	if (dumping && !c->rules_loaded && !c->nrules) {
		*n = l->scratch.nrules;
		return l->scratch.rules;
	}
	*n = c->nrules;
	return c->rules;
}

int live_pollfds(const struct live *l, struct pollfd *pfd)
{
	int n = 0;

	if (l->mon)
		pfd[n++] = (struct pollfd){ .fd = mnl_socket_get_fd(l->mon), .events = POLLIN };
	if (l->dump.active)
		pfd[n++] = (struct pollfd){ .fd = reader_dump_fd(&l->dump), .events = POLLIN };
	if (l->text_running)
		pfd[n++] = (struct pollfd){ .fd = l->text_pipe[0], .events = POLLIN };
	if (setread_fd(&l->counter) >= 0)
		pfd[n++] = (struct pollfd){ .fd = setread_fd(&l->counter), .events = POLLIN };
	return n;
}

/* ---- choosing the next piece of work ---- */

static bool next_unloaded(const struct live *l, struct live_ref *out)
{
	const struct nfp_chain *f = l->has_focus ? chain_at(l, l->focus) : NULL;

	if (f && !f->rules_loaded) {
		*out = l->focus;
		return true;
	}
	for (size_t t = 0; t < l->rs.ntables; t++)
		for (size_t c = 0; c < l->rs.tables[t].nchains; c++)
			if (!l->rs.tables[t].chains[c].rules_loaded) {
				*out = (struct live_ref){ t, c };
				return true;
			}
	return false;
}

static bool needs_text(const struct nfp_chain *c)
{
	return c->rules_loaded && !c->text_loaded;
}

static bool next_untexted(const struct live *l, struct live_ref *out)
{
	const struct nfp_chain *f = l->has_focus ? chain_at(l, l->focus) : NULL;

	if (f && needs_text(f)) {
		*out = l->focus;
		return true;
	}
	for (size_t t = 0; t < l->rs.ntables; t++)
		for (size_t c = 0; c < l->rs.tables[t].nchains; c++)
			if (needs_text(&l->rs.tables[t].chains[c])) {
				*out = (struct live_ref){ t, c };
				return true;
			}
	return false;
}

bool live_busy(const struct live *l)
{
	struct live_ref r;

	return l->dirty || l->npending || (!l->dump.active && next_unloaded(l, &r)) ||
	       (!l->text_running && next_untexted(l, &r));
}

bool live_counting(const struct live *l)
{
	return l->counter.active;
}

/* ---- counting the sets' elements ---- */

/* One slice of the count under way, or the next set's count started:
 * LIVE_CHANGED when a count is in. */
static int step_count(struct live *l)
{
	struct pollfd p = { .fd = setread_fd(&l->counter), .events = POLLIN };
	struct nfp_set *s;
	int ret;

	if (l->counter.active) {
		if (poll(&p, 1, 0) != 1)
			return 0;
		ret = setread_step(&l->counter);
		if (ret > 0)
			return 0;
		s = &l->rs.tables[l->count_t].sets[l->count_s];
		/* gone meanwhile (a reload comes): none */
		s->nelems = ret ? 0 : l->counter.count;
		return LIVE_CHANGED;
	}
	for (size_t t = 0; t < l->rs.ntables; t++)
		for (size_t k = 0; k < l->rs.tables[t].nsets; k++) {
			const struct nfp_table *tb = &l->rs.tables[t];

			if (tb->sets[k].nelems != NFP_NELEMS_UNKNOWN)
				continue;
			l->count_t = t;
			l->count_s = k;
			ret = setread_count_start(&l->counter, tb->family, tb->name, tb->sets[k].name);
			if (ret)
				l->rs.tables[t].sets[k].nelems = 0;
			return 0;
		}
	return 0;
}

/* ---- rule dumps ---- */

static void free_rule_strings(struct nfp_chain *c)
{
	for (size_t i = 0; i < c->nrules; i++)
		ruleset_rule_free(&c->rules[i]);
}

/* The dump of ref completed into scratch: carry text and rates over from
 * the rules it replaces (by handle), then swap it in. */
static int finish_dump(struct live *l)
{
	struct nfp_chain *c = chain_at(l, l->dump_ref);
	struct nfp_chain *s = &l->scratch;
	struct nfp_rule *tmp_rules;
	struct nfp_rule_index *ix;
	size_t tmp_cap;

	if (!c)
		return 0;
	ix = ruleset_index_rules(c);
	if (!ix)
		return -ENOMEM;
	for (size_t i = 0; i < s->nrules; i++) {
		long pos = ruleset_index_find(ix, c->nrules, s->rules[i].handle);
		struct nfp_rule *old = pos >= 0 ? &c->rules[pos] : NULL;

		if (old) {
			s->rules[i].rate = old->rate;
			s->rules[i].text = old->text;
			old->text = NULL;
		}
	}
	free(ix);
	free_rule_strings(c);
	tmp_rules = c->rules, tmp_cap = c->rules_cap;
	c->rules = s->rules, c->nrules = s->nrules, c->rules_cap = s->rules_cap;
	s->rules = tmp_rules, s->nrules = 0, s->rules_cap = tmp_cap;
	c->rules_loaded = true;
	/* a rule replaced in place keeps its handle: the text is read again
	 * (the old one is shown meanwhile) */
	c->text_loaded = false;
	/* its rules tell iptables-nft's chains and nft's rules among them */
	ruleset_classify_table(&l->rs.tables[l->dump_ref.t]);
	return LIVE_CHANGED;
}

static int step_dump(struct live *l)
{
	int ret = reader_dump_step(&l->dump);
	bool focus = l->has_focus && l->dump_ref.t == l->focus.t &&
		     l->dump_ref.c == l->focus.c;

	if (ret == 1)
		return focus ? LIVE_CHANGED : 0;
	if (ret == 0)
		return finish_dump(l);
	if (ret == -ENOENT || ret == -EINTR) {
		l->dirty = true; /* the chain went or changed: reload */
		return 0;
	}
	snprintf(l->err, sizeof(l->err), "reading rules: %s", nl_strerror(ret));
	return ret;
}

static int start_dump(struct live *l, struct live_ref ref)
{
	const struct nfp_table *t = &l->rs.tables[ref.t];
	int ret;

	free_rule_strings(&l->scratch);
	l->scratch.nrules = 0;
	ret = reader_dump_start(&l->dump, t, &t->chains[ref.c], &l->scratch);
	if (ret) {
		snprintf(l->err, sizeof(l->err), "reading rules: %s", nl_strerror(ret));
		return ret;
	}
	l->dump_ref = ref;
	return 0;
}

/* ---- text ---- */

static int start_text(struct live *l, struct live_ref first)
{
	char cmd[1024];
	int ret = 0;

	ruletext_job_free(&l->text);
	free(l->text_refs);
	l->ntext_refs = 0;
	l->text_refs = calloc(TEXT_BATCH, sizeof(*l->text_refs));
	if (!l->text_refs)
		return -ENOMEM;
	l->text = (struct ruletext_job){ .numeric = l->numeric, .notify = true,
					 .notify_fd = l->text_pipe[1] };
	/* the chain asked for, then others of its table that need text */
	const struct nfp_table *t = &l->rs.tables[first.t];
	for (size_t i = 0; i <= t->nchains && l->ntext_refs < TEXT_BATCH && !ret; i++) {
		size_t c = i == 0 ? first.c : i - 1;

		if (i > 0 && (c == first.c || !needs_text(&t->chains[c])))
			continue;
		ruletext_command(t->family, t->name, t->chains[c].name, cmd, sizeof(cmd));
		ret = ruletext_plan_add(&l->text, cmd);
		l->text_refs[l->ntext_refs++] = (struct live_ref){ first.t, c };
	}
	if (!ret) /* the type of its sets declared by typeof, as nft writes it */
		ret = ruletext_plan_sets(&l->text, t);
	if (!ret)
		ret = ruletext_start(&l->text);
	if (ret) {
		snprintf(l->err, sizeof(l->err), "rule text: %s", strerror(-ret));
		return ret;
	}
	l->text_running = true;
	l->text_stale = false;
	return 0;
}

static int finish_text(struct live *l)
{
	char byte;
	long n;

	while (read(l->text_pipe[0], &byte, 1) > 0)
		;
	ruletext_wait(&l->text);
	l->text_running = false;
	if (l->text.err) {
		snprintf(l->err, sizeof(l->err), "%s", l->text.errmsg);
		for (size_t i = 0; i < l->ntext_refs; i++) {
			struct nfp_chain *c = chain_at(l, l->text_refs[i]);

			if (c)
				c->text_loaded = true; /* do not retry in a loop */
		}
		return -EIO;
	}
	if (l->text_stale || l->text.genid_before != l->rs.genid ||
	    l->text.genid_after != l->rs.genid)
		return 0; /* stale: the chains still need text and get it again */
	n = ruletext_join(&l->rs, l->text.text);
	if (n < 0)
		return (int)n;
	for (size_t i = 0; i < l->ntext_refs; i++) {
		struct nfp_chain *c = chain_at(l, l->text_refs[i]);

		if (c && c->rules_loaded)
			c->text_loaded = true;
	}
	ruletext_job_free(&l->text);
	return LIVE_CHANGED;
}

/* ---- following changes ---- */

/* Read what the monitor says; rule events name their chain, which alone
 * needs reloading; anything else re-reads the structure. */
static void drain_monitor(struct live *l)
{
	char *buf = l->nl.buf;
	int n;

	if (!l->mon)
		return;
	while ((n = mnl_socket_recvfrom(l->mon, buf, NL_RECV_SIZE)) > 0 ||
	       (n < 0 && errno == ENOBUFS)) {
		if (n < 0) { /* events were lost: assume everything changed */
			l->dirty = true;
			for (size_t t = 0; t < l->rs.ntables; t++)
				for (size_t c = 0; c < l->rs.tables[t].nchains; c++)
					l->rs.tables[t].chains[c].rules_loaded = false;
			continue;
		}
		for (struct nlmsghdr *nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);
			struct nftnl_rule *r;
			struct live_ref ref;

			if (type == NFT_MSG_NEWGEN)
				continue;
			l->dirty = true;
			if (type != NFT_MSG_NEWRULE && type != NFT_MSG_DELRULE)
				continue;
			r = nftnl_rule_alloc();
			if (r && nftnl_rule_nlmsg_parse(nlh, r) == 0 &&
			    live_find(l, nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY),
				      nftnl_rule_get_str(r, NFTNL_RULE_TABLE),
				      nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), &ref))
				chain_at(l, ref)->rules_loaded = false;
			nftnl_rule_free(r);
		}
	}
}

/* Re-read the structure; chains keep the rules they had (shown until their
 * reload completes), those that changed are marked for reloading. */
static int reload(struct live *l)
{
	struct reader_scope scope = { .no_rules = true, .no_counts = true, .no_trace = true };
	struct nfp_ruleset nrs = { 0 };
	char err[256];
	int ret;

	l->dirty = false;
	ret = reader_read(&l->nl, &scope, &nrs, err, sizeof(err));
	if (ret) {
		snprintf(l->err, sizeof(l->err), "%s", err);
		return ret;
	}
	reader_dump_cancel(&l->dump);
	setread_cancel(&l->counter); /* its set may have moved: all counted again */
	l->npending = 0;
	l->text_stale = l->text_running;
	for (size_t t = 0; t < nrs.ntables; t++) {
		struct nfp_table *nt = &nrs.tables[t];

		for (size_t c = 0; c < nt->nchains; c++) {
			struct nfp_chain *nc = &nt->chains[c];
			struct live_ref ref;
			struct nfp_chain *oc;

			if (!live_find(l, nt->family, nt->name, nc->name, &ref))
				continue;
			oc = chain_at(l, ref);
			nc->rules = oc->rules, nc->nrules = oc->nrules;
			nc->rules_cap = oc->rules_cap;
			nc->rules_loaded = oc->rules_loaded && oc->handle == nc->handle;
			nc->text_loaded = oc->text_loaded && nc->rules_loaded;
			oc->rules = NULL, oc->nrules = 0, oc->rules_cap = 0;
		}
	}
	ruleset_free(&l->rs);
	l->rs = nrs;
	ruleset_classify_owners(&l->rs); /* with the rules they kept */
	return LIVE_RELOADED | LIVE_CHANGED;
}

/* ---- the step ---- */

/* The rule with that handle, looked for first around hint: the visible
 * rules are neighbours in a long chain, which a scan would cross whole. */
static struct nfp_rule *find_near(struct nfp_chain *c, uint64_t handle, size_t *hint)
{
	size_t lo = *hint > 64 ? *hint - 64 : 0;

	for (size_t i = lo; i < c->nrules && i < *hint + 64; i++)
		if (c->rules[i].handle == handle) {
			*hint = i;
			return &c->rules[i];
		}
	return ruleset_find_rule(c, handle);
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A round ended: the next waits until its cost is a small share. */
static void round_done(struct live *l)
{
	double wait = l->round_cpu / LIVE_COUNTER_SHARE;

	l->counters_next = l->pending_when + wait;
	/* the first tick has no period yet: nothing to stretch */
	l->counters_every = l->tick_every > 0 && wait > l->tick_every ? wait : 0;
}

static int step_pending(struct live *l)
{
	struct nfp_chain *c = chain_at(l, l->focus);
	const struct nfp_table *t = &l->rs.tables[l->focus.t];
	double cpu0 = cpu_now();
	int ret = 0;

	for (int i = 0; i < GETS_PER_STEP && l->npending; i++) {
		struct nfp_rule *r = c ? find_near(c, l->pending[--l->npending], &l->pending_hint)
				       : NULL;

		if (!r)
			continue;
		ret = reader_get_rule_counters(&l->nl, t, c, r);
		if (ret == -ENOENT) {
			l->dirty = true;
			ret = 0;
			continue;
		}
		if (ret)
			break;
		rate_update(&r->rate, r->packets, r->bytes, l->pending_when);
	}
	l->round_cpu += cpu_now() - cpu0;
	if (ret)
		return ret;
	if (l->npending)
		return 0;
	round_done(l);
	return LIVE_CHANGED;
}

int live_step(struct live *l)
{
	struct live_ref ref;
	int ret = 0;

	drain_monitor(l);
	if (l->dirty)
		return reload(l);
	if (l->text_running) {
		struct pollfd p = { .fd = l->text_pipe[0], .events = POLLIN };

		if (poll(&p, 1, 0) == 1) {
			ret = finish_text(l);
			if (ret < 0)
				return ret;
		}
	}
	if (l->npending) {
		int r = step_pending(l);

		if (r < 0)
			return r;
		ret |= r;
	}
	if (l->dump.active) {
		int r = step_dump(l);

		if (r < 0)
			return r;
		ret |= r;
	} else if (next_unloaded(l, &ref)) {
		int r = start_dump(l, ref);

		if (r < 0)
			return r;
	}
	if (!l->text_running && next_untexted(l, &ref)) {
		int r = start_text(l, ref);

		if (r < 0)
			return r;
	}
	return ret | step_count(l);
}

int live_tick(struct live *l, const uint64_t *visible, size_t nvisible, bool all,
	      double now)
{
	struct nfp_chain *c = l->has_focus ? chain_at(l, l->focus) : NULL;
	uint32_t genid;
	int ret;

	drain_monitor(l);
	/* belt and braces: a change the monitor did not announce */
	if (!l->dirty && nl_genid(&l->nl, &genid) == 0 && genid != l->rs.genid) {
		l->dirty = true;
		if (c)
			c->rules_loaded = false;
	}
	if (l->dirty)
		return reload(l);
	if (!c || !c->rules_loaded)
		return 0;
	l->tick_every = l->last_tick > 0 && now > l->last_tick ? now - l->last_tick : 0;
	l->last_tick = now;
	/* every counter when asked (a sort by rate) and the chain is short;
	 * else the visible rules alone, one GET each */
	if (all && c->nrules <= DUMP_WHOLE_MAX) {
		ret = reader_refresh_counters(&l->nl, &l->rs.tables[l->focus.t], c);
		if (ret < 0) {
			snprintf(l->err, sizeof(l->err), "counters: %s", nl_strerror(ret));
			return ret;
		}
		if (ret == 1) { /* rules changed under us */
			c->rules_loaded = false;
			return 0;
		}
		for (size_t i = 0; i < c->nrules; i++)
			rate_update(&c->rules[i].rate, c->rules[i].packets, c->rules[i].bytes,
				    now);
		return LIVE_CHANGED;
	}
	if (now < l->counters_next || l->npending)
		return 0; /* the last round's cost says wait, or it is not over */
	if (grow(&l->pending, &l->pending_cap, nvisible, sizeof(*l->pending), 64))
		return -ENOMEM;
	/* read bottom-up: step_pending pops from the end */
	for (size_t i = 0; i < nvisible; i++)
		l->pending[i] = visible[nvisible - 1 - i];
	l->npending = nvisible;
	l->pending_when = now;
	l->round_cpu = 0;
	return 0;
}

int live_zero(struct live *l, size_t t, const char *chain, uint64_t handle, char *err,
	      size_t errlen)
{
	const struct nfp_table *tb;
	int ret;

	if (t >= l->rs.ntables) {
		snprintf(err, errlen, "no such table");
		return -ENOENT;
	}
	tb = &l->rs.tables[t];
	ret = reader_reset_counters(&l->nl, tb, chain, handle);
	if (ret) {
		snprintf(err, errlen, "zeroing counters: %s", nl_strerror(ret));
		return ret;
	}
	return 0;
}
