/* edit: the ruleset screen's editing keys (ui/rules.c hands them over) —
 * the "Editing" and "Staged changes" groups, the marks, the warnings,
 * and Apply (apply/apply.h: one transaction). */
#define _GNU_SOURCE
#include "ui/view.h"

#include "apply/apply.h"
#include "apply/quick.h"
#include "apply/staged.h"
#include "apply/translate.h"
#include "check/effect.h"
#include "check/lockout.h"
#include "model/fmt.h"
#include "nft/xtables.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

/* ---- where we are ---- */

static const struct nfp_table *cur_table(const struct view *v)
{
	return view_table(v);
}

static const struct nfp_chain *cur_chain(const struct view *v)
{
	return view_chain(v);
}

static bool same_chain(const struct edit *e, const struct nfp_table *t,
		       const struct nfp_chain *c)
{
	return e->family == t->family && strcmp(e->table, t->name) == 0 && e->chain &&
	       strcmp(e->chain, c->name) == 0;
}

bool edit_is_marked(const struct view *v, uint64_t handle)
{
	const struct rules_view *rv = &v->rules;

	for (size_t k = 0; k < rv->nmarked; k++)
		if (rv->marked[k] == handle)
			return true;
	return false;
}

/* ---- staging ---- */

/* A rule of the chain shown, in words: "rule 4 (tcp dport 22 accept)". */
static void rule_words(const struct view *v, uint64_t handle, char *buf, size_t size)
{
	long i = staged_rows_find(&v->rules.staged, handle);
	const struct staged_row *row = i >= 0 ? &v->rules.staged.row[i] : NULL;

	if (!row)
		snprintf(buf, size, "the rule with handle %llu", (unsigned long long)handle);
	else
		snprintf(buf, size, "rule %u (%.200s)", row->r->position, row->text ? row->text : "...");
}

/* What an edit of a rule does, in words (the others: as the nft command
 * they amount to); false when it is not one of them. */
static bool edit_words(const struct view *v, const struct edit *e, char *buf, size_t size)
{
	char what[300], anchor[300];

	if (e->kind != EDIT_DELETE && e->kind != EDIT_MOVE && e->kind != EDIT_REPLACE)
		return false;
	rule_words(v, e->handle, what, sizeof(what));
	if (e->kind == EDIT_DELETE) {
		snprintf(buf, size, "delete %s of chain %s", what, e->chain);
	} else if (e->kind == EDIT_REPLACE) {
		snprintf(buf, size, "replace %s of chain %s", what, e->chain);
	} else {
		rule_words(v, e->anchor, anchor, sizeof(anchor));
		snprintf(buf, size, "move %s %s %s", what,
			 e->where == WHERE_BEFORE ? "above" : e->where == WHERE_AFTER ? "below"
			 : e->where == WHERE_TOP ? "to the top" : "to the end",
			 e->where == WHERE_BEFORE || e->where == WHERE_AFTER ? anchor : "");
	}
	return true;
}

void edit_stage(struct view *v, const struct edit *e)
{
	char *cmd = NULL, words[700];
	size_t len = 0;
	FILE *fp;

	if (v->cs.n == 0 && v->cs.total == 0)
		v->cs.genid = v->live.rs.genid; /* staged on what the admin sees */
	if (changeset_add(&v->cs, e) < 0) {
		view_status(v, ROLE_ERROR, "out of memory");
		return;
	}
	fp = edit_words(v, e, words, sizeof(words)) ? NULL : open_memstream(&cmd, &len);
	if (fp) {
		changeset_print_edit(fp, &v->cs, v->cs.n - 1);
		fclose(fp);
		cmd[strcspn(cmd, "\n")] = 0;
	}
	view_status(v, ROLE_NORMAL, "staged (%zu, W applies): %s", v->cs.n, cmd ? cmd : words);
	free(cmd);
	/* e may point into the tree the rebuild remakes: the new edit's copy */
	e = &v->cs.edits[v->cs.n - 1];
	view_rebuild(v);
	/* a staged table or chain is in the tree at once: go to it, to add
	 * its chains or rules */
	if (e->kind == EDIT_TABLE_ADD || e->kind == EDIT_CHAIN_ADD) {
		struct place p = { .family = e->family };

		snprintf(p.table, sizeof(p.table), "%s", e->table);
		snprintf(p.chain, sizeof(p.chain), "%s", e->chain ? e->chain : "");
		view_go(v, &p);
	}
}

static struct edit chain_edit(const struct view *v, enum edit_kind kind)
{
	const struct nfp_table *t = cur_table(v);
	const struct nfp_chain *c = cur_chain(v);

	return (struct edit){ .kind = kind, .family = t->family, .table = t->name,
			      .chain = c ? c->name : NULL, .add_counter = !v->rules.no_counter };
}

/* e kept for after a question, with its own copies of its strings (a
 * set's name in pending_chain) */
static void keep_pending(struct view *v, const struct edit *e)
{
	struct rules_view *rv = &v->rules;

	rv->pending_edit = *e;
	/* its own copies: the tree (a staged table's name) may be remade */
	snprintf(rv->pending_table, sizeof(rv->pending_table), "%s", e->table);
	rv->pending_edit.table = rv->pending_table;
	if (e->chain) {
		snprintf(rv->pending_chain, sizeof(rv->pending_chain), "%s", e->chain);
		rv->pending_edit.chain = rv->pending_chain;
	}
	if (e->set) {
		snprintf(rv->pending_chain, sizeof(rv->pending_chain), "%s", e->set);
		rv->pending_edit.set = rv->pending_chain;
	}
	if (e->text) {
		snprintf(rv->pending_text, sizeof(rv->pending_text), "%s", e->text);
		rv->pending_edit.text = rv->pending_text;
	}
}

/* Stage e now, or after a question; the edit (and its text) is kept. */
static void stage_after(struct view *v, const struct edit *e, enum action act,
			const char *question)
{
	struct rules_view *rv = &v->rules;

	keep_pending(v, e);
	if (question)
		view_ask(v, act, "%s", question);
	else
		edit_stage(v, &rv->pending_edit);
}

/* The selected row, for an edit of the rule of the kernel it shows; a
 * staged one will do when staged (a place to insert next to). */
static const struct staged_row *need_rule_or(struct view *v, bool staged)
{
	const struct staged_row *row = view_selected_row(v);

	if (!cur_chain(v)) {
		view_status(v, ROLE_WARNING, "select a chain first");
		return NULL;
	}
	if (row && !row->r && !staged) {
		view_status(v, ROLE_WARNING, "that rule is only staged: u undoes it");
		return NULL;
	}
	return row;
}

static const struct staged_row *need_rule(struct view *v)
{
	return need_rule_or(v, false);
}

/* the staged edit that moves handle h, if any */
static struct edit *staged_move(struct view *v, uint64_t h)
{
	const struct nfp_table *t = cur_table(v);
	const struct nfp_chain *c = cur_chain(v);

	for (size_t k = v->cs.n; k-- > 0;)
		if (v->cs.edits[k].kind == EDIT_MOVE && v->cs.edits[k].handle == h &&
		    same_chain(&v->cs.edits[k], t, c))
			return &v->cs.edits[k];
	return NULL;
}

/* K / J: next to the nearest rule of the kernel above / below */
static void move_step(struct view *v, int dir)
{
	struct rules_view *rv = &v->rules;
	const struct staged_row *row = need_rule(v);
	long i, j;
	struct edit e, *m;

	if (!row)
		return;
	if (rv->sorted || rv->filter[0]) {
		view_status(v, ROLE_WARNING, "moving needs the real order: turn off sort (s) and filter (\\)");
		return;
	}
	if (!row->text) {
		view_status(v, ROLE_WARNING, "the rule's text is still loading");
		return;
	}
	i = staged_rows_find(&rv->staged, row->r->handle);
	for (j = i + dir; j >= 0 && j < (long)rv->staged.n && !rv->staged.row[j].r; j += dir)
		;
	if (j < 0 || j >= (long)rv->staged.n) {
		view_status(v, ROLE_DIM, "already at the %s", dir < 0 ? "top" : "bottom");
		return;
	}
	m = staged_move(v, row->r->handle);
	if (m) { /* moving again: the same edit, a new place */
		char words[700];

		m->where = dir < 0 ? WHERE_BEFORE : WHERE_AFTER;
		m->anchor = rv->staged.row[j].r->handle;
		edit_words(v, m, words, sizeof(words));
		view_status(v, ROLE_NORMAL, "staged (W applies): %s", words);
		view_rebuild(v);
		return;
	}
	e = chain_edit(v, EDIT_MOVE);
	e.handle = row->r->handle;
	e.where = dir < 0 ? WHERE_BEFORE : WHERE_AFTER;
	e.anchor = rv->staged.row[j].r->handle;
	e.text = (char *)row->text;
	e.add_counter = false;
	edit_stage(v, &e);
}

static bool accepts_established(const struct view *v)
{
	const struct rules_view *rv = &v->rules;

	for (size_t i = 0; i < rv->staged.n; i++) {
		const char *t = rv->staged.row[i].text;

		if (t && rv->staged.row[i].mark != '-' && strstr(t, "ct state") &&
		    strstr(t, "established") && strstr(t, "accept"))
			return true;
	}
	return false;
}

int edit_staged_policy(const struct view *v, const struct nfp_table *t,
		       const struct nfp_chain *c)
{
	return changeset_policy(&v->cs, t->family, t->name, c->name, c->policy);
}

char edit_chain_mark(const struct view *v, const struct nfp_table *t,
		     const struct nfp_chain *c)
{
	char mark = ' ';

	for (size_t k = 0; k < v->cs.n; k++) {
		if (!same_chain(&v->cs.edits[k], t, c))
			continue;
		if (v->cs.edits[k].kind == EDIT_CHAIN_DELETE)
			mark = '-';
		else if (v->cs.edits[k].kind == EDIT_CHAIN_FLUSH && mark == ' ')
			mark = '*';
	}
	return mark;
}

static const struct nfp_chain *input_of(const struct nfp_table *t)
{
	for (size_t i = 0; t && i < t->nchains; i++)
		if (t->chains[i].base && t->chains[i].hooknum == NF_INET_LOCAL_IN &&
		    t->family != NFPROTO_ARP && t->family != NFPROTO_NETDEV)
			return &t->chains[i];
	return NULL;
}

static const struct nfp_chain *input_chain(const struct view *v)
{
	return input_of(cur_table(v));
}

/* The text to edit of a row: in an iptables-nft table, the rule as
 * iptables -S prints it after "-A CHAIN" (iptables syntax, compiled by
 * iptables-nft), else as nft prints it. */
static const char *xt_form(struct view *v, const struct staged_row *row)
{
	const struct nfp_chain *c = cur_chain(v);
	const char *t;

	view_fill_xt(v);
	if (!row->r || !(t = row->r->xt_text) || strncmp(t, "-A ", 3) != 0 ||
	    strncmp(t + 3, c->name, strlen(c->name)) != 0)
		return row->text;
	t += 3 + strlen(c->name);
	return t + strspn(t, " ");
}

bool edit_lockout_words(struct view *v, const struct check_change *ch, char *buf, size_t len)
{
	struct lockout lo = { 0 };
	char err[600];
	bool cut = false;
	/* the staged edits: asked of the session's sandbox (ui/trace.h) */
	struct sandbox *sb = ch->cs == &v->cs ? trace_sandbox(v, err, sizeof(err)) : NULL;
	int ret = sb ? lockout_find(&lo, sb, err, sizeof(err))
		     : lockout_check(ch, &lo, err, sizeof(err));

	if (sb && !ret && (ret = lockout_ask(&lo, sb)))
		snprintf(err, sizeof(err), "out of memory");
	buf[0] = 0;
	if (ret) {
		lockout_free(&lo);
		/* nft's refusal (-EINVAL) is the apply's own to report */
		if (ret != -EINVAL)
			snprintf(buf, len, " (no lockout pre-check: %s)", err);
		return false;
	}
	if (lo.verdict) {
		snprintf(buf, len, "%s", lo.verdict);
		cut = true;
	}
	lockout_free(&lo);
	return cut;
}

static void effect_fix(struct view *v);

void edit_action(struct view *v, enum action act)
{
	struct rules_view *rv = &v->rules;
	const struct nfp_table *t = cur_table(v);
	const struct nfp_chain *c = cur_chain(v);
	const struct staged_row *row;
	struct edit e;

	if (!t && act != ACT_TABLE_ADD && act != ACT_PENDING && act != ACT_UNDO &&
	    act != ACT_REDO && act != ACT_APPLY && act != ACT_DISCARD &&
	    act != ACT_COUNTER_DEFAULT) {
		view_status(v, ROLE_WARNING, v->live.rs.ntables || v->cs.n ? "select a table first"
								      : "no table: T creates one");
		return;
	}
	switch (act) {
	case ACT_INSERT:
	case ACT_ADD_BELOW:
	case ACT_APPEND:
		if (!c) {
			view_status(v, ROLE_WARNING, "select a chain first");
			return;
		}
		if (act != ACT_APPEND && view_selected_row(v) && !need_rule_or(v, true))
			return;
		view_prompt(v, act, NULL);
		return;
	case ACT_EDIT:
		if (!(row = need_rule(v)) || !row) {
			if (c && !view_selected_row(v))
				view_status(v, ROLE_WARNING, "no rule selected");
			return;
		}
		view_prompt(v, act, xt_form(v, row));
		return;
	case ACT_DELETE:
		if (rv->nmarked) {
			e = chain_edit(v, EDIT_DELETE);
			for (size_t k = 0; k < rv->nmarked; k++) {
				e.handle = rv->marked[k];
				edit_stage(v, &e);
			}
			rv->nmarked = 0;
			view_rebuild(v);
			return;
		}
		if (!(row = need_rule(v)) || !row)
			return;
		if (staged_move(v, row->r->handle)) {
			view_status(v, ROLE_WARNING, "the rule has a staged move: u undoes it first");
			return;
		}
		e = chain_edit(v, EDIT_DELETE);
		e.handle = row->r->handle;
		edit_stage(v, &e);
		return;
	case ACT_MARK:
		if (!(row = need_rule(v)) || !row)
			return;
		for (size_t k = 0; k < rv->nmarked; k++)
			if (rv->marked[k] == row->r->handle) {
				rv->marked[k] = rv->marked[--rv->nmarked];
				view_rebuild(v);
				return;
			}
		if (rv->nmarked < sizeof(rv->marked) / sizeof(rv->marked[0]))
			rv->marked[rv->nmarked++] = row->r->handle;
		view_status(v, ROLE_NORMAL, "%zu marked: d stages their deletion", rv->nmarked);
		if (rv->rlist.sel + 1 < rv->rlist.n)
			rv->rlist.sel++;
		view_rebuild(v);
		return;
	case ACT_MOVE_UP:
	case ACT_MOVE_DOWN:
		move_step(v, act == ACT_MOVE_UP ? -1 : 1);
		return;
	case ACT_MOVE_TO:
		if (!(row = need_rule(v)) || !row)
			return;
		if (rv->sorted || rv->filter[0]) {
			view_status(v, ROLE_WARNING, "moving needs the real order: turn off sort and filter");
			return;
		}
		view_prompt(v, act, NULL);
		return;
	case ACT_POLICY: {
		char q[256];
		int policy;

		if (!c || !c->base || c->policy == NFP_POLICY_NONE) {
			view_status(v, ROLE_WARNING, "only base chains have a policy");
			return;
		}
		policy = edit_staged_policy(v, cur_table(v), c) == NF_ACCEPT ? NF_DROP : NF_ACCEPT;
		e = chain_edit(v, EDIT_POLICY);
		e.policy = policy;
		snprintf(q, sizeof(q), "No established/related accept in %s: drop will cut "
			 "existing sessions such as your own SSH. Stage?", c->name);
		stage_after(v, &e, ACT_POLICY,
			    policy == NF_DROP && c->hooknum == NF_INET_LOCAL_IN &&
				    !accepts_established(v) ? q : NULL);
		return;
	}
	case ACT_CHAIN_ADD:
	case ACT_TABLE_ADD:
	case ACT_SET_ADD:
	case ACT_BLOCK:
	case ACT_ALLOW_PORT:
		if ((act == ACT_BLOCK || act == ACT_ALLOW_PORT) && !input_chain(v)) {
			view_status(v, ROLE_WARNING, "table %s has no input chain", t->name);
			return;
		}
		view_prompt(v, act, NULL);
		return;
	case ACT_CHAIN_DELETE: {
		char q[256];

		if (!c) {
			view_status(v, ROLE_WARNING, "select a chain first");
			return;
		}
		e = chain_edit(v, EDIT_CHAIN_DELETE);
		snprintf(q, sizeof(q), "Delete chain %s%s?", c->name,
			 rv->staged.n ? " and every rule in it" : "");
		stage_after(v, &e, ACT_CHAIN_DELETE, q);
		return;
	}
	case ACT_CHAIN_FLUSH: {
		char q[256];

		if (!c) {
			view_status(v, ROLE_WARNING, "select a chain first");
			return;
		}
		e = chain_edit(v, EDIT_CHAIN_FLUSH);
		if (c->base && edit_staged_policy(v, cur_table(v), c) == NF_ACCEPT)
			snprintf(q, sizeof(q), "Flushing %s leaves the host open: its policy is "
				 "accept. Stage it?", c->name);
		else
			snprintf(q, sizeof(q), "Flush chain %s (delete every rule in it)?", c->name);
		stage_after(v, &e, ACT_CHAIN_FLUSH, q);
		return;
	}
	case ACT_EFFECT_FIX:
		effect_fix(v);
		return;
	case ACT_COUNTER_DEFAULT:
		rv->no_counter = !rv->no_counter;
		view_status(v, ROLE_NORMAL, rv->no_counter ? "new rules get no counter"
							  : "new rules get a counter");
		return;
	case ACT_UNDO:
		view_status(v, ROLE_NORMAL, changeset_undo(&v->cs) ? "undone (U redoes)"
								   : "nothing to undo");
		view_rebuild(v);
		return;
	case ACT_REDO:
		view_status(v, ROLE_NORMAL, changeset_redo(&v->cs) ? "redone" : "nothing to redo");
		view_rebuild(v);
		return;
	case ACT_PENDING:
		view_show(v, &pending_screen);
		return;
	case ACT_APPLY: {
		char cut[1100];

		if (!v->cs.n) {
			view_status(v, ROLE_DIM, "nothing staged");
			return;
		}
		if (edit_lockout_words(v, &(struct check_change){ .cs = &v->cs }, cut, sizeof(cut)))
			view_ask(v, ACT_APPLY, "LOCKOUT: %s. Apply anyway? (%s)", cut, LOCKOUT_HINT);
		else
			view_ask(v, ACT_APPLY, "Apply %zu staged edit%s as one transaction?%s", v->cs.n,
				 v->cs.n == 1 ? "" : "s", cut);
		return;
	}
	case ACT_DISCARD:
		if (!v->cs.total) {
			view_status(v, ROLE_DIM, "nothing staged");
			return;
		}
		view_ask(v, ACT_DISCARD, "Discard %zu staged edit%s?", v->cs.n, v->cs.n == 1 ? "" : "s");
		return;
	default:
		return;
	}
}

/* ---- the prompts ---- */

/* nft's verdict on an edit (a rule, a chain's spec, a table) against the
 * staged state: false (and the prompt stays, with the message) when it
 * refuses it */
bool edit_check(struct view *v, struct edit *e)
{
	if (apply_check_edit(&v->live.nl, &v->cs, e, v->input_err, sizeof(v->input_err)) == 0) {
		v->input_err[0] = 0;
		return true;
	}
	return false;
}

static void effect_say(struct view *v);

/* A rule typed into an input chain: the effect check of it (check/effect.h)
 * when its traffic is a packet of its own */
static void effect_typed(struct view *v, const char *text, bool ip6)
{
	struct rules_view *rv = &v->rules;
	char err[600];
	struct sandbox *sb = trace_sandbox(v, err, sizeof(err));

	if (sb && effect_rule_packet(sb, text, ip6, &rv->effect_packet)) {
		rv->effect_kind = EFFECT_RULE;
		effect_say(v);
	}
}

static void done_rule(struct view *v)
{
	const struct staged_row *row = view_selected_row(v);
	const struct nfp_table *t = cur_table(v);
	const struct nfp_chain *c = cur_chain(v);
	struct edit e = chain_edit(v, v->prompt_for == ACT_EDIT ? EDIT_REPLACE : EDIT_INSERT);
	char *nft = NULL, question[sizeof(v->confirm_msg)];
	bool input = c && c->base && c->hooknum == NF_INET_LOCAL_IN &&
		     (e.family == NFPROTO_INET || e.family == NFPROTO_IPV4 ||
		      e.family == NFPROTO_IPV6);
	bool ip6 = e.family == NFPROTO_IPV6;
	char text[sizeof(v->input)];

	e.text = v->input;
	/* iptables words in a native chain: staged as iptables-translate
	 * writes them in nft, once the admin has seen that and said yes */
	if (xtables_rule_text(v->input) && !ruleset_chain_iptables(t, cur_chain(v))) {
		if (translate_iptables(t->family, cur_chain(v)->type, v->input, &nft, v->input_err,
				       sizeof(v->input_err)))
			return;
		e.text = nft;
	}
	if (!edit_check(v, &e)) {
		free(nft);
		return;
	}
	snprintf(text, sizeof(text), "%s", v->input);
	if (v->prompt_for == ACT_EDIT) {
		e.handle = row->r->handle;
	} else if (v->prompt_for == ACT_APPEND || !row) {
		e.where = v->prompt_for == ACT_INSERT && !row ? WHERE_TOP : WHERE_APPEND;
	} else {
		e.where = v->prompt_for == ACT_INSERT ? WHERE_BEFORE : WHERE_AFTER;
		/* next to a rule of the kernel, or to one staged before */
		if (row->r)
			e.anchor = row->r->handle;
		else
			e.anchor_edit = row->edit;
	}
	v->mode = MODE_BROWSE;
	v->rules.pane = PANE_RULES;
	v->rules.effect.has_fix = false;
	if (nft)
		snprintf(question, sizeof(question), "iptables-translate makes it: %.1000s -- stage "
			 "this nft rule?", nft);
	stage_after(v, &e, ACT_INSERT, nft ? question : NULL);
	/* staged now (a translation waits for its question), nft words: checked */
	if (input && !nft && !xtables_rule_text(text))
		effect_typed(v, text, ip6);
	free(nft);
}

static void done_move_to(struct view *v)
{
	struct rules_view *rv = &v->rules;
	const struct staged_row *row = view_selected_row(v);
	char *end;
	long pos = strtol(v->input, &end, 10);
	struct edit e = chain_edit(v, EDIT_MOVE);
	size_t k = 0;

	if (*end || pos < 1) {
		snprintf(v->input_err, sizeof(v->input_err), "a position is a number from 1");
		return;
	}
	v->mode = MODE_BROWSE;
	e.handle = row->r->handle;
	e.text = (char *)row->text;
	e.add_counter = false;
	e.where = WHERE_APPEND;
	/* before the rule of the kernel now at that position */
	for (size_t i = 0; i < rv->staged.n; i++) {
		if (!rv->staged.row[i].r || rv->staged.row[i].r == row->r)
			continue;
		if ((long)++k == pos) {
			e.where = WHERE_BEFORE;
			e.anchor = rv->staged.row[i].r->handle;
			break;
		}
	}
	struct edit *m = staged_move(v, e.handle);

	if (m) { /* moving again: the same edit, a new place */
		m->where = e.where;
		m->anchor = e.anchor;
		view_status(v, ROLE_NORMAL, "moved (staged): W applies");
		view_rebuild(v);
		return;
	}
	edit_stage(v, &e);
}

/* c and O: "NAME [SPEC]", a chain (its spec: a base chain's) or a set
 * (its spec: its type, flags, ...) */
static void done_spec_add(struct view *v, enum edit_kind kind)
{
	bool set = kind == EDIT_SET_ADD;
	char name[NAME_MAX_LEN], *spec;
	struct edit e = chain_edit(v, kind);

	if (sscanf(v->input, "%255s", name) != 1) {
		snprintf(v->input_err, sizeof(v->input_err), "give the %s's name",
			 set ? "set" : "chain");
		return;
	}
	spec = v->input + strspn(v->input, " ");
	spec += strlen(name);
	spec += strspn(spec, " ");
	if (set && !*spec) {
		snprintf(v->input_err, sizeof(v->input_err),
			 "a set needs its type: NAME type ipv4_addr; [flags interval;]");
		return;
	}
	e.chain = set ? NULL : name;
	e.set = set ? name : NULL;
	e.text = *spec ? spec : NULL;
	if (!edit_check(v, &e))
		return;
	v->mode = MODE_BROWSE;
	edit_stage(v, &e);
}

static void done_table_add(struct view *v)
{
	char fam[16], name[NAME_MAX_LEN];
	struct edit e = { .kind = EDIT_TABLE_ADD };

	if (sscanf(v->input, "%15s %255s", fam, name) != 2 ||
	    ruleset_family_parse(fam, &e.family)) {
		snprintf(v->input_err, sizeof(v->input_err),
			 "FAMILY NAME, FAMILY one of ip ip6 inet arp bridge netdev");
		return;
	}
	e.table = name;
	if (!edit_check(v, &e))
		return;
	v->mode = MODE_BROWSE;
	edit_stage(v, &e);
}

/* b and o: the named set a rule of chain c already blocks (drops or
 * rejects) addresses or allows (accepts) ports with, for the address or
 * port of q: the set's name into set, the element into elem, the rule's
 * position; false when the chain has none that fits (the rule then goes
 * in as before). The one place that decides to offer a set. */
static bool quick_set(const struct nfp_table *t, const struct nfp_chain *c,
		      enum quick_kind kind, const struct quick_rule *q, const char *input,
		      char *set, size_t setlen, char *elem, size_t elemlen, uint32_t *pos)
{
	char proto[16] = "", port[32] = "", want[48];

	if (kind == QUICK_BLOCK) {
		snprintf(want, sizeof(want), "%s saddr @", q->ip6 ? "ip6" : "ip");
		snprintf(elem, elemlen, "%s", input);
		fmt_trim(elem);
	} else {
		if (sscanf(q->text, "%15s dport %31s accept", proto, port) != 2)
			return false;
		snprintf(want, sizeof(want), "%s dport @", proto);
		snprintf(elem, elemlen, "%s", port);
	}
	for (size_t i = 0; c && i < c->nrules; i++) {
		const char *text = c->rules[i].text, *at = text ? strstr(text, want) : NULL;
		size_t n = at ? strcspn(at + strlen(want), " ;,}") : 0;
		bool verdict = text && (kind == QUICK_BLOCK ? strstr(text, " drop") || strstr(text, " reject")
							    : strstr(text, " accept") != NULL);

		if (!at || !n || n >= setlen || !verdict)
			continue;
		snprintf(set, setlen, "%.*s", (int)n, at + strlen(want));
		for (size_t k = 0; k < t->nsets; k++)
			if (strcmp(t->sets[k].name, set) == 0 && !t->sets[k].is_map &&
			    (!strchr(elem, '/') || (t->sets[k].flags & NFT_SET_INTERVAL))) {
				*pos = c->rules[i].position;
				return true;
			}
	}
	return false;
}

/* The effect check of the rule o or b staged last (check/effect.h), in
 * the session's sandbox (ui/trace.h: staged by differences, the rule is
 * what is run): said in the status line, its fix kept for L. */
static void effect_say(struct view *v)
{
	struct rules_view *rv = &v->rules;
	struct effect ef;
	char err[600];
	struct sandbox *sb = trace_sandbox(v, err, sizeof(err));

	rv->effect_pending = false;
	rv->effect.has_fix = false;
	if (!sb || effect_check(sb, &v->trace.sb_open, &v->cs, rv->effect_kind,
				&rv->effect_packet, &ef, err, sizeof(err))) {
		for (char *p = err; *p; p++)
			if (*p == '\n')
				*p = ' ';
		view_status(v, ROLE_WARNING, "staged (W applies); no effect check: %s", err);
		return;
	}
	if (ef.works) {
		if (ef.said[0])
			view_status(v, ROLE_NORMAL, "staged (W applies); %s", ef.said);
		return;
	}
	rv->effect_n = v->cs.n;
	rv->effect = ef;
	if (ef.has_fix) {
		char fix[700];

		effect_fix_words(&ef, fix, sizeof(fix));
		view_status(v, ROLE_WARNING, "staged, but %s. %s", ef.said, fix);
	} else
		view_status(v, ROLE_WARNING, "staged, but %s", ef.said);
}

/* Where the quick rule for input goes (check/effect.h), from pl (the
 * table's input chain) on, asked of the session's sandbox with the staged
 * edits; p is the packet it is for. false: no answer, pl as it was. */
static bool quick_place(struct view *v, enum effect_kind kind, const char *input, bool ip6,
			struct effect_place *pl, struct packet *p)
{
	char err[600];
	struct sandbox *sb = trace_sandbox(v, err, sizeof(err));

	return sb && effect_packet(sb, kind, input, ip6, p, err, sizeof(err)) == 0 &&
	       effect_where(sb, &v->trace.sb_open, &v->cs, &v->live.rs, kind, p, pl, err,
			    sizeof(err)) == 0;
}

/* b and o: a rule for an input chain: where the sandbox says it works
 * (check/effect.h), checked once staged (quick.h: a block goes at the top,
 * an allow at the end) */
static void quick_stage_rule(struct view *v, const struct quick_rule *q)
{
	struct rules_view *rv = &v->rules;
	const struct nfp_chain *in = input_chain(v);
	const struct nfp_table *t = cur_table(v);
	struct edit e = chain_edit(v, EDIT_INSERT);
	enum effect_kind kind = q->where == WHERE_TOP ? EFFECT_BLOCK : EFFECT_ALLOW;
	struct effect_place pl = { .family = t->family };
	bool checked;

	snprintf(pl.table, sizeof(pl.table), "%s", t->name);
	snprintf(pl.chain, sizeof(pl.chain), "%s", in->name);
	pl.where = q->where;
	checked = quick_place(v, kind, v->input, t->family == NFPROTO_IPV6 || q->ip6, &pl,
			      &rv->effect_packet);
	e.family = pl.family;
	e.table = pl.table;
	e.chain = pl.chain;
	e.text = (char *)q->text;
	e.where = pl.where;
	e.anchor = pl.anchor;
	if (!edit_check(v, &e))
		return;
	v->mode = MODE_BROWSE;
	rv->effect_kind = kind;
	rv->effect_pending = checked;
	stage_after(v, &e, ACT_INSERT, NULL);
	if (rv->effect_pending && v->mode == MODE_BROWSE)
		effect_say(v);
}

/* L: the rule staged last, moved to where the effect check says it works
 * (one in each chain that decides, when several do) */
static void effect_fix(struct view *v)
{
	struct rules_view *rv = &v->rules;
	const struct effect fix = rv->effect, *ef = &fix; /* staging forgets it */
	struct edit e;
	char text[1024];

	if (!ef->has_fix || rv->effect_n != v->cs.n || !v->cs.n) {
		view_status(v, ROLE_DIM, "nothing to put elsewhere (L follows o, b or a typed rule the check questions)");
		return;
	}
	e = v->cs.edits[v->cs.n - 1];
	snprintf(text, sizeof(text), "%s", e.text ? e.text : "");
	e.text = text;
	e.anchor_edit = 0;
	changeset_undo(&v->cs);
	for (size_t k = 0; k < ef->nfix; k++) {
		const struct effect_place *pl = &ef->fix[k];

		e.family = pl->family;
		e.table = (char *)pl->table;
		e.chain = (char *)pl->chain;
		e.where = pl->where;
		e.anchor = pl->anchor;
		edit_stage(v, &e);
	}
	effect_say(v);
}

/* ... or, where a rule of the input chain blocks (allows) with a set,
 * first the offer: y adds to the set, n makes the rule */
static void done_quick(struct view *v)
{
	const struct nfp_table *t = cur_table(v);
	const struct nfp_chain *in = input_chain(v);
	enum quick_kind kind = v->prompt_for == ACT_BLOCK ? QUICK_BLOCK : QUICK_ALLOW;
	char set[NAME_MAX_LEN], elem[128];
	struct quick_rule q;
	struct edit e;
	uint32_t pos;

	if (quick_rule(kind, v->input, &q, v->input_err, sizeof(v->input_err)))
		return;
	if (!quick_set(t, in, kind, &q, v->input, set, sizeof(set), elem, sizeof(elem), &pos)) {
		quick_stage_rule(v, &q);
		return;
	}
	e = (struct edit){ .kind = EDIT_ELEM_ADD, .family = t->family, .table = t->name,
			   .set = set, .text = elem };
	v->mode = MODE_BROWSE;
	keep_pending(v, &e);
	v->confirm_alt = true;
	view_ask(v, v->prompt_for, "Rule %u of %s %ss with set @%s: add %s to the set instead "
		 "of a new rule? (y: into @%s, n: a new rule)", pos, in->name,
		 kind == QUICK_BLOCK ? "drop" : "accept", set, elem, set);
}

void edit_prompt_done(struct view *v)
{
	switch (v->prompt_for) {
	case ACT_INSERT:
	case ACT_ADD_BELOW:
	case ACT_APPEND:
	case ACT_EDIT:
		done_rule(v);
		break;
	case ACT_MOVE_TO:
		done_move_to(v);
		break;
	case ACT_CHAIN_ADD:
		done_spec_add(v, EDIT_CHAIN_ADD);
		break;
	case ACT_TABLE_ADD:
		done_table_add(v);
		break;
	case ACT_SET_ADD:
		done_spec_add(v, EDIT_SET_ADD);
		break;
	case ACT_BLOCK:
	case ACT_ALLOW_PORT:
		done_quick(v);
		break;
	default:
		v->mode = MODE_BROWSE;
	}
}

/* The table a block goes in: the selected one if it has an input chain
 * and takes the address family, else the first such native table. */
static const struct nfp_table *block_table(const struct view *v, bool ip6)
{
	const struct nfp_table *t = cur_table(v);
	const struct nfp_ruleset *rs = &v->live.rs;

#define FITS(t) (input_of(t) && (t)->owner != NFP_OWNER_IPTABLES && \
		 ((t)->family == NFPROTO_INET || (t)->family == (ip6 ? NFPROTO_IPV6 : NFPROTO_IPV4)))
	if (t && FITS(t))
		return t;
	for (size_t i = 0; i < rs->ntables; i++)
		if (FITS(&rs->tables[i]))
			return &rs->tables[i];
#undef FITS
	return NULL;
}

/* ---- answers ---- */

static void apply_now(struct view *v)
{
	char err[1024], *cmd = NULL;
	size_t len = 0, n = v->cs.n;
	int failed = -1;
	struct probation prob;
	struct probation_opts o = v->popts;
	int ret;
	FILE *fp;

	o.force = v->apply_force;
	v->apply_force = false;
	ret = apply_changeset_on_probation(&v->live.nl, &v->cs, &o, &prob, &failed, err,
					   sizeof(err));

	if (!ret) {
		view_place(v, &v->rules.applied);
		v->rules.go_applied = true;
		changeset_discard(&v->cs);
		v->rules.nmarked = 0;
		v->live.dirty = true; /* show what the kernel has now */
		safe_applied(v, &prob, n);
		view_rebuild(v);
		return;
	}
	if (failed >= 0 && (fp = open_memstream(&cmd, &len))) {
		changeset_print_edit(fp, &v->cs, (size_t)failed);
		fclose(fp);
		cmd[strcspn(cmd, "\n")] = 0;
	}
	/* one line: nft's message and its carets do not fit a status line */
	for (char *p = err; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (ret == -ERESTART) {
		view_status(v, ROLE_ERROR, "not applied: the ruleset changed since the edits were "
			    "staged. Ctrl-L reloads (edits kept), then W");
	} else if (ret == -ENOTRECOVERABLE) {
		/* the kernel would not take the way back: the admin decides */
		v->apply_force = true;
		view_ask(v, ACT_APPLY, "NOT applied: %s. Apply anyway, with NO way back for it?",
			 err);
	}
	else if (cmd)
		view_status(v, ROLE_ERROR, "not applied, nothing changed: edit %d (%s): %s",
			    failed + 1, cmd, err);
	else
		view_status(v, ROLE_ERROR, "not applied, nothing changed: %s", err);
	free(cmd);
}

bool edit_block_now(struct view *v, const char *addr)
{
	char set[NAME_MAX_LEN], elem[128];
	uint32_t pos;
	struct quick_rule q;
	const struct nfp_table *t;
	struct effect_place pl;
	struct packet p;
	char err[256], err2[1100];
	struct edit e;

	if (quick_rule(QUICK_BLOCK, addr, &q, err, sizeof(err))) {
		view_status(v, ROLE_ERROR, "cannot block '%s': %s", addr, err);
		return false;
	}
	t = block_table(v, q.ip6);
	if (!t) {
		view_status(v, ROLE_ERROR, "no table with an input chain for %s to block %s in "
			    "(1, then T and c make one)", q.ip6 ? "IPv6" : "IPv4", addr);
		return false;
	}
	/* the input chain its packets meet first, if the sandbox can tell */
	pl = (struct effect_place){ .family = t->family, .where = q.where };
	snprintf(pl.table, sizeof(pl.table), "%s", t->name);
	snprintf(pl.chain, sizeof(pl.chain), "%s", input_of(t)->name);
	quick_place(v, EFFECT_BLOCK, addr, q.ip6, &pl, &p);
	e = (struct edit){ .kind = EDIT_INSERT, .family = pl.family, .table = pl.table,
			   .chain = pl.chain, .where = pl.where, .text = q.text,
			   .add_counter = !v->rules.no_counter };
	/* into the blocklist set the input chain drops with, if it has one */
	if (quick_set(t, input_of(t), QUICK_BLOCK, &q, addr, set, sizeof(set), elem,
		      sizeof(elem), &pos))
		e = (struct edit){ .kind = EDIT_ELEM_ADD, .family = t->family, .table = t->name,
				   .set = set, .text = elem };
	/* staged on the ruleset as it is now: nothing else is staged */
	if (nl_genid(&v->live.nl, &v->cs.genid) < 0 || changeset_add(&v->cs, &e) < 0)
		return false;
	if (edit_lockout_words(v, &(struct check_change){ .cs = &v->cs }, err2, sizeof(err2))) {
		changeset_discard(&v->cs);
		view_status(v, ROLE_ERROR, "not blocked: LOCKOUT: %s (b on the rules screen stages "
			    "it, and W asks)", err2);
		return false;
	}
	apply_now(v);
	if (v->cs.n) { /* refused: nothing stays staged behind the admin's back */
		changeset_discard(&v->cs);
		return false;
	}
	return v->prob.fd >= 0;
}

void edit_confirmed(struct view *v)
{
	struct rules_view *rv = &v->rules;

	switch (v->confirm_for) {
	case ACT_BLOCK:
	case ACT_ALLOW_PORT: {
		struct quick_rule q;

		/* the offer of a set: y the element, n the rule after all */
		if (v->confirm_yes) {
			if (edit_check(v, &rv->pending_edit))
				edit_stage(v, &rv->pending_edit);
			else
				view_status(v, ROLE_ERROR, "%s", v->input_err);
		} else if (quick_rule(v->confirm_for == ACT_BLOCK ? QUICK_BLOCK : QUICK_ALLOW,
				      v->input, &q, v->input_err, sizeof(v->input_err)) == 0) {
			quick_stage_rule(v, &q);
			if (v->input_err[0])
				view_status(v, ROLE_ERROR, "%s", v->input_err);
		}
		break;
	}
	case ACT_APPLY:
		apply_now(v);
		break;
	case ACT_DISCARD:
		changeset_discard(&v->cs);
		rv->nmarked = 0;
		view_status(v, ROLE_NORMAL, "discarded every staged edit");
		view_rebuild(v);
		break;
	case ACT_CHAIN_DELETE:
		/* a chain must be empty to go: flush it in the same transaction */
		if (rv->staged.n) {
			struct edit flush = rv->pending_edit;

			flush.kind = EDIT_CHAIN_FLUSH;
			edit_stage(v, &flush);
		}
		edit_stage(v, &rv->pending_edit);
		break;
	default:
		edit_stage(v, &rv->pending_edit);
		if (rv->effect_pending)
			effect_say(v);
		break;
	}
}

bool edit_is_stale(const struct view *v, const struct edit *e)
{
	const struct nfp_table *t = NULL;
	const struct nfp_chain *c = NULL;
	bool rule = e->kind == EDIT_DELETE || e->kind == EDIT_REPLACE || e->kind == EDIT_MOVE;
	bool anchor = (e->kind == EDIT_INSERT || e->kind == EDIT_MOVE) &&
		      (e->where == WHERE_BEFORE || e->where == WHERE_AFTER) && !e->anchor_edit;

	if (!rule && !anchor)
		return false;
	t = ruleset_find_table(&v->live.rs, e->family, e->table);
	c = t ? ruleset_find_chain(t, e->chain) : NULL;
	if (!c)
		return true;
	if (!c->rules_loaded)
		return false; /* cannot tell yet */
	return (rule && !ruleset_find_rule(c, e->handle)) ||
	       (anchor && !ruleset_find_rule(c, e->anchor));
}

void edit_free(struct view *v)
{
	changeset_free(&v->cs);
}
