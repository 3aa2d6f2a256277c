#define _GNU_SOURCE
#include "apply/compile.h"

#include "apply/scratch.h"
#include "nft/batch.h"
#include "model/ruleset.h"
#include "nft/ruletext.h"
#include "nft/xtables.h"
#include "probation/snapfile.h"
#include "util/grow.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <nftables/libnftables.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the work sends back (apply/scratch.h) */
enum rec_kind { REC_RULE = 1, REC_SET, REC_ELEMS, REC_CHAIN, REC_ITEM_ELEMS, REC_NEWSET };

/* ---- the work, in the scratch namespace ---- */

struct fwd {
	uint32_t kind;
	int32_t index;
};

static int forward_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fwd *f = data;

	return scratch_send(f->kind, f->index, nlh, nlh->nlmsg_len) ? MNL_CB_ERROR
								    : MNL_CB_OK;
}

static int dump_to(struct nl *nl, uint32_t kind, uint16_t type, uint32_t family,
		   uint16_t attr_table, const char *table, uint16_t attr2, const char *name2,
		   uint16_t flags)
{
	struct fwd f = { kind, 0 };
	struct nlmsghdr *req = nl_request(nl, type, family, flags);

	mnl_attr_put_strz(req, attr_table, table);
	if (name2)
		mnl_attr_put_strz(req, attr2, name2);
	return nl_talk(nl, req, forward_cb, &f);
}

/* nft's error output: the message and the line with its caret */
static int fail_nft(int32_t index, struct nft_ctx *ctx)
{
	const char *e = nft_ctx_get_error_buffer(ctx);

	return scratch_fail(index, e && *e ? e : "nft refused it");
}

/* The names of the anonymous sets of a table. */
struct names {
	char **v;
	size_t n, cap;
};

static int set_names_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct names *names = data;
	int ret = MNL_CB_OK;

	if (!s || nftnl_set_nlmsg_parse(nlh, s) < 0) {
		if (s)
			nftnl_set_free(s);
		return MNL_CB_ERROR;
	}
	if (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS) {
		char **slot = grow_slot(&names->v, &names->n, &names->cap, sizeof(*names->v), 8);

		if (!slot || !(*slot = strdup(nftnl_set_get_str(s, NFTNL_SET_NAME))))
			ret = MNL_CB_ERROR;
	}
	nftnl_set_free(s);
	return ret;
}

/* What compile_rules hands the work: the commands and the items as
 * NUL-ended strings (a count first), then the table as a snapshot file. */
struct compile_input {
	const struct snap_table *t;
	const char *const *pre;
	size_t npre;
	const struct compile_item *items;
	size_t nitems;
};

static int put_input(FILE *in, const void *arg)
{
	const struct compile_input *c = arg;
	struct snapshot skel = { .tables = (struct snap_table *)c->t, .ntables = 1 };

	fprintf(in, "%zu%c", c->npre, 0);
	for (size_t k = 0; k < c->npre; k++)
		fprintf(in, "%s%c", c->pre[k], 0);
	fprintf(in, "%zu%c", c->nitems, 0);
	/* chain, text, set ("" for a rule), its mode: "k" for a lookup, the
	 * syntax of a rule ("n", "x", "c") */
	for (size_t i = 0; i < c->nitems; i++)
		fprintf(in, "%s%c%s%c%s%c%s%c", c->items[i].chain ? c->items[i].chain : "", 0,
			c->items[i].text, 0, c->items[i].set ? c->items[i].set : "", 0,
			c->items[i].key_only ? "k" : &"nxc"[c->items[i].syntax], 0);
	return ferror(in) ? -EIO : snapfile_write(&skel, in);
}

/* The strings put_input wrote: n of them, after their count. */
static char **read_strings(FILE *in, size_t per, size_t *n)
{
	char *w = NULL, **v = NULL, *end;
	size_t cap = 0, total;

	if (getdelim(&w, &cap, 0, in) <= 0 || (*n = strtoul(w, &end, 10), *end) ||
	    *n > (SIZE_MAX / sizeof(*v)) / per - 1 || !(v = calloc(*n * per + 1, sizeof(*v)))) {
		free(w);
		return NULL;
	}
	free(w);
	total = *n * per;
	for (size_t i = 0; i < total; i++) {
		cap = 0;
		if (getdelim(&v[i], &cap, 0, in) <= 0) {
			for (size_t k = 0; k <= i; k++)
				free(v[k]);
			free(v);
			return NULL;
		}
	}
	return v;
}

static void free_strings(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* An item as put_input writes it: chain, text, set, its mode. */
#define ITEM_STRINGS 4
#define ITEM(items, i, k) ((items)[ITEM_STRINGS * (i) + (k)])
#define IS_ELEMS(items, i) (ITEM(items, i, 2)[0] != 0)
#define MODE(items, i) (ITEM(items, i, 3)[0])

#define KEY_SET "__nfpilot_key"

/* For a lookup: the set of item i (t's set named by it) as a set of keys
 * only, KEY_SET, added to t (the work's own copy). */
static int add_key_set(struct snap_table *t, const char *name)
{
	struct nftnl_set *from = NULL, *s;
	const void *p;
	uint32_t len;

	for (size_t k = 0; k < t->nsets && !from; k++)
		if (strcmp(nftnl_set_get_str(t->sets[k], NFTNL_SET_NAME), name) == 0)
			from = t->sets[k];
	if (!from)
		return -ENOENT;
	s = nftnl_set_alloc();
	if (!s)
		return -ENOMEM;
	/* what makes the key: its type, length, fields, typeof */
	nftnl_set_set_str(s, NFTNL_SET_TABLE, t->name);
	nftnl_set_set_str(s, NFTNL_SET_NAME, KEY_SET);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, t->family);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, nftnl_set_get_u32(from, NFTNL_SET_FLAGS) &
		(NFT_SET_INTERVAL | NFT_SET_CONCAT));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, nftnl_set_get_u32(from, NFTNL_SET_KEY_TYPE));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, nftnl_set_get_u32(from, NFTNL_SET_KEY_LEN));
	if (nftnl_set_is_set(from, NFTNL_SET_DESC_CONCAT)) {
		p = nftnl_set_get_data(from, NFTNL_SET_DESC_CONCAT, &len);
		nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, p, len);
	}
	if (nftnl_set_is_set(from, NFTNL_SET_USERDATA)) {
		p = nftnl_set_get_data(from, NFTNL_SET_USERDATA, &len);
		nftnl_set_set_data(s, NFTNL_SET_USERDATA, p, len);
	}
	if (snapshot_push(&t->sets, &t->nsets, &t->sets_cap, s) < 0) {
		nftnl_set_free(s);
		return -ENOMEM;
	}
	return 0;
}

/* Empty a set or map of the scratch namespace (a batch of one flush). */
static int flush_set(struct nl *nl, uint32_t family, const char *table, const char *set)
{
	struct batch b;
	struct nlmsghdr *nlh;
	char err[256];
	int tag, ret = batch_open(&b, 0);

	if (ret)
		return ret;
	nlh = batch_msg(&b, NFT_MSG_DELSETELEM, (uint16_t)family, 0);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
	batch_push(&b, 0);
	ret = batch_commit(nl, &b, &tag, err, sizeof(err));
	batch_free(&b);
	return ret;
}

/* Element item i: added to its (empty) set, its elements sent back, the
 * set emptied for the next. */
static int compile_elems(struct nl *nl, struct nft_ctx *ctx, const struct snap_table *t,
			 char **items, size_t i)
{
	const char *set = MODE(items, i) == 'k' ? KEY_SET : ITEM(items, i, 2);
	struct fwd f = { REC_ITEM_ELEMS, (int32_t)i };
	struct nlmsghdr *req;
	char *cmd = NULL;
	int bad;

	if (asprintf(&cmd, "add element %s %s %s { %s }", ruleset_family_name(t->family),
		     t->name, set, ITEM(items, i, 1)) < 0)
		return scratch_fail((int32_t)i, "out of memory");
	bad = nft_run_cmd_from_buffer(ctx, cmd) != 0;
	free(cmd);
	if (bad)
		return fail_nft((int32_t)i, ctx);
	/* an empty record starts them */
	if (scratch_send(REC_ITEM_ELEMS, (int32_t)i, NULL, 0))
		return -1;
	req = nl_request(nl, NFT_MSG_GETSETELEM, t->family, NLM_F_DUMP);
	mnl_attr_put_strz(req, NFTA_SET_ELEM_LIST_TABLE, t->name);
	mnl_attr_put_strz(req, NFTA_SET_ELEM_LIST_SET, set);
	if (nl_talk(nl, req, forward_cb, &f))
		return scratch_fail((int32_t)i, "reading back the compiled elements");
	if (flush_set(nl, t->family, t->name, set))
		return scratch_fail((int32_t)i, "emptying the set for the next elements");
	return 0;
}

/* ---- nft syntax in an iptables-nft table: does iptables read it back? ---- */

/* The raw messages of a dump */
struct msgs {
	struct nlmsghdr **v;
	size_t n, cap;
};

static int keep_cb(const struct nlmsghdr *nlh, void *data)
{
	struct msgs *m = data;
	struct nlmsghdr **slot = grow_slot(&m->v, &m->n, &m->cap, sizeof(*m->v), 16);

	if (!slot || !(*slot = malloc(nlh->nlmsg_len)))
		return MNL_CB_ERROR;
	memcpy(*slot, nlh, nlh->nlmsg_len);
	return MNL_CB_OK;
}

static void msgs_free(struct msgs *m)
{
	for (size_t k = 0; k < m->n; k++)
		free(m->v[k]);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static int chain_rules(struct nl *nl, const struct snap_table *t, const char *chain,
		       struct msgs *m)
{
	struct nlmsghdr *req = nl_request(nl, NFT_MSG_GETRULE, t->family, NLM_F_DUMP);

	msgs_free(m);
	mnl_attr_put_strz(req, NFTA_RULE_TABLE, t->name);
	mnl_attr_put_strz(req, NFTA_RULE_CHAIN, chain);
	return nl_talk(nl, req, keep_cb, m);
}

/* What a rule does, as bytes to compare: its expressions but counters
 * (iptables-nft gives every rule one), and its userdata (a comment). */
static char *meaning(const struct nlmsghdr *nlh, size_t *len)
{
	char *buf = NULL;
	FILE *fp = open_memstream(&buf, len);
	const struct nlattr *a, *el, *x;

	if (!fp)
		return NULL;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) == NFTA_RULE_USERDATA) {
			fwrite(a, 1, a->nla_len, fp);
			continue;
		}
		if (mnl_attr_get_type(a) != NFTA_RULE_EXPRESSIONS)
			continue;
		mnl_attr_for_each_nested(el, a) {
			bool counter = false;

			mnl_attr_for_each_nested(x, el)
				if (mnl_attr_get_type(x) == NFTA_EXPR_NAME)
					counter = strcmp(mnl_attr_get_str(x), "counter") == 0;
			if (!counter)
				fwrite(el, 1, el->nla_len, fp);
		}
	}
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static bool same_meaning(const struct nlmsghdr *a, const struct nlmsghdr *b)
{
	size_t la = 0, lb = 0;
	char *ma = meaning(a, &la), *mb = meaning(b, &lb);
	bool same = ma && mb && la == lb && memcmp(ma, mb, la) == 0;

	free(ma);
	free(mb);
	return same;
}

/* How iptables writes what nft text has, for the refusal's hint */
static void xt_hints(const char *text, char *out, size_t len)
{
	static const struct {
		const char *nft, *xt;
	} hints[] = {
		{ "{", "a set of ports is -p tcp -m multiport --dports 8081,8082" },
		{ "ct state", "ct state is -m conntrack --ctstate NEW,ESTABLISHED" },
		{ "comment", "a comment is -m comment --comment \"text\"" },
		{ "limit rate", "a limit is -m limit --limit 5/minute --limit-burst 10" },
		{ "log", "log is -j LOG --log-prefix \"text\"" },
		{ "reject", "reject is -j REJECT --reject-with tcp-reset" },
	};
	size_t used = 0;

	out[0] = 0;
	for (size_t k = 0; k < sizeof(hints) / sizeof(hints[0]) && used < len; k++)
		if (strstr(text, hints[k].nft))
			used += (size_t)snprintf(out + used, len - used, "; %s", hints[k].xt);
}

/* Each nft-syntax rule of an iptables-nft table (mode 'c'), added as the
 * k-th rule of its chain: the line iptables-save prints for it, compiled
 * by iptables-nft at the end of the chain, must give the same rule. */
static int check_xt(struct nl *nl, const struct snap_table *t, char **items, size_t nitems)
{
	char err[512], msg[1400], hints[400], *save = NULL, *line = NULL;
	struct msgs before = { 0 }, after = { 0 };
	int ret = 0;

	for (size_t i = 0; i < nitems && !ret; i++) {
		const char *chain = ITEM(items, i, 0);
		size_t k = 0;

		if (IS_ELEMS(items, i) || MODE(items, i) != 'c')
			continue;
		for (size_t j = 0; j < i; j++)
			k += !IS_ELEMS(items, j) && strcmp(ITEM(items, j, 0), chain) == 0;
		if (!save && xtables_save(t->family, t->name, &save, err, sizeof(err))) {
			ret = scratch_fail((int32_t)i, err);
			break;
		}
		if (strstr(save, "is incompatible")) {
			ret = scratch_fail((int32_t)i, "iptables-save cannot read this table with the "
					   "rule in it: type it in iptables syntax, as iptables -S "
					   "prints it");
			break;
		}
		free(line);
		line = NULL;
		if (chain_rules(nl, t, chain, &before) || k >= before.n ||
		    xtables_save_line(save, chain, k, &line)) {
			ret = scratch_fail((int32_t)i, "reading the rule back as iptables-save does");
			break;
		}
		if (xtables_add_rule(t->family, t->name, chain, line, err, sizeof(err)) == 0 &&
		    chain_rules(nl, t, chain, &after) == 0 && after.n == before.n + 1 &&
		    same_meaning(before.v[k], after.v[after.n - 1]))
			continue;
		xt_hints(ITEM(items, i, 1), hints, sizeof(hints));
		snprintf(msg, sizeof(msg), "iptables reads this as another rule: iptables-save "
			 "prints it as '%s'. Type it in iptables syntax, as iptables -S prints it "
			 "(without -A %s)%s", line, chain, hints);
		ret = scratch_fail((int32_t)i, msg);
	}
	free(line);
	free(save);
	msgs_free(&before);
	msgs_free(&after);
	return ret;
}

/* The scratch namespace's table: t's skeleton, with the key sets of
 * lookups. 0, or -1 after scratch_fail. */
static int restore(struct nl *nl, struct snap_table *t, char **items, size_t nitems)
{
	struct snapshot skel = { .tables = t, .ntables = 1 };
	char err[512];

	/* a lookup compiles against a copy of its set that holds keys only */
	for (size_t i = 0; i < nitems; i++)
		if (IS_ELEMS(items, i) && MODE(items, i) == 'k' && add_key_set(t, ITEM(items, i, 2)))
			return scratch_fail((int32_t)i, "no such set in the table");
	if (nl_open(nl, err, sizeof(err)) || snapshot_restore_skeleton(nl, &skel, err, sizeof(err)))
		return scratch_fail(-1, err);
	return 0;
}

/* Restore the skeleton, run pre in ctx, add each item, send back their
 * dump. */
static int compile_in(struct nl *nl, struct nft_ctx *ctx, struct snap_table *t,
		      char **pre, size_t npre, char **items, size_t nitems, struct names *anon)
{
	const char *fam = ruleset_family_name(t->family);
	char err[512], cmd[8192];

	if (restore(nl, t, items, nitems))
		return -1;
	/* hold the names of the table's anonymous sets, so that those made
	 * here get names free in the live table too and need no renaming */
	for (size_t k = 0; k < t->nsets; k++) {
		const char *name = nftnl_set_get_str(t->sets[k], NFTNL_SET_NAME);

		if (!(nftnl_set_get_u32(t->sets[k], NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS))
			continue;
		if ((size_t)snprintf(cmd, sizeof(cmd), "add set %s %s %s { type mark; }", fam,
				     t->name, name) >= sizeof(cmd) ||
		    nft_run_cmd_from_buffer(ctx, cmd) != 0)
			return scratch_fail(-1, "cannot reserve the names of anonymous sets");
	}
	for (size_t k = 0; k < npre; k++)
		if (nft_run_cmd_from_buffer(ctx, pre[k]) != 0)
			return fail_nft(-2 - (int32_t)k, ctx);
	for (size_t i = 0; i < nitems; i++) {
		char *rule = NULL;
		int bad;

		if (IS_ELEMS(items, i)) {
			if (compile_elems(nl, ctx, t, items, i))
				return -1;
			continue;
		}
		if (MODE(items, i) == 'x') {
			if (xtables_add_rule(t->family, t->name, ITEM(items, i, 0), ITEM(items, i, 1),
					     err, sizeof(err)))
				return scratch_fail((int32_t)i, err);
			continue;
		}
		if (asprintf(&rule, "add rule %s %s %s %s", fam, t->name, ITEM(items, i, 0),
			     ITEM(items, i, 1)) < 0)
			return scratch_fail((int32_t)i, "out of memory");
		bad = nft_run_cmd_from_buffer(ctx, rule) != 0;
		free(rule);
		if (bad)
			return fail_nft((int32_t)i, ctx);
	}
	/* chains and sets made by the preparatory commands: the skeleton had
	 * them not */
	for (size_t k = 0; k < npre; k++) {
		char name[256];

		if (sscanf(pre[k], "add chain %*s %*s %255s", name) == 1 &&
		    dump_to(nl, REC_CHAIN, NFT_MSG_GETCHAIN, t->family, NFTA_CHAIN_TABLE,
			    t->name, NFTA_CHAIN_NAME, name, NLM_F_ACK))
			return scratch_fail(-2 - (int32_t)k, "reading back a new chain");
		if (sscanf(pre[k], "add set %*s %*s %255s", name) == 1 &&
		    (dump_to(nl, REC_NEWSET, NFT_MSG_GETSET, t->family, NFTA_SET_TABLE, t->name,
			     NFTA_SET_NAME, name, NLM_F_ACK) ||
		     dump_to(nl, REC_ELEMS, NFT_MSG_GETSETELEM, t->family,
			     NFTA_SET_ELEM_LIST_TABLE, t->name, NFTA_SET_ELEM_LIST_SET, name,
			     NLM_F_DUMP)))
			return scratch_fail(-2 - (int32_t)k, "reading back a new set");
	}
	/* the rules, chain by chain in the order items name them: each chain
	 * was empty, so its k-th rule is its k-th item */
	for (size_t i = 0; i < nitems; i++) {
		bool seen = IS_ELEMS(items, i);

		for (size_t j = 0; j < i && !seen; j++)
			seen = !IS_ELEMS(items, j) && strcmp(ITEM(items, j, 0), ITEM(items, i, 0)) == 0;
		if (!seen && dump_to(nl, REC_RULE, NFT_MSG_GETRULE, t->family,
				     NFTA_RULE_TABLE, t->name, NFTA_RULE_CHAIN, ITEM(items, i, 0),
				     NLM_F_DUMP))
			return scratch_fail((int32_t)i, "reading back the compiled rule");
	}
	/* anonymous sets, and their elements */
	{
		struct nlmsghdr *req = nl_request(nl, NFT_MSG_GETSET, t->family, NLM_F_DUMP);

		mnl_attr_put_strz(req, NFTA_SET_TABLE, t->name);
		if (nl_talk(nl, req, set_names_cb, anon))
			return scratch_fail(-1, "reading back anonymous sets");
	}
	for (size_t k = 0; k < anon->n; k++)
		if (dump_to(nl, REC_SET, NFT_MSG_GETSET, t->family, NFTA_SET_TABLE,
			    t->name, NFTA_SET_NAME, anon->v[k], NLM_F_ACK) ||
		    dump_to(nl, REC_ELEMS, NFT_MSG_GETSETELEM, t->family,
			    NFTA_SET_ELEM_LIST_TABLE, t->name, NFTA_SET_ELEM_LIST_SET, anon->v[k],
			    NLM_F_DUMP))
			return scratch_fail(-1, "reading back an anonymous set");
	return check_xt(nl, t, items, nitems);
}

/* What a work has: its input read, libnftables, its socket. */
struct work {
	size_t npre, nitems;
	char **pre, **items;
	struct snapshot s;
	struct nft_ctx *ctx;
	struct nl nl;
};

/* 0, or -1 after scratch_fail */
static int work_open(FILE *in, struct work *w)
{
	char err[512];

	memset(w, 0, sizeof(*w));
	w->pre = read_strings(in, 1, &w->npre);
	w->items = w->pre ? read_strings(in, ITEM_STRINGS, &w->nitems) : NULL;
	if (!w->items)
		return scratch_fail(-1, "the work's input is cut short");
	if (snapfile_read(in, &w->s, err, sizeof(err)))
		return scratch_fail(-1, err);
	if (w->s.ntables != 1)
		return scratch_fail(-1, "the work's input holds no table");
	if (!(w->ctx = ruletext_ctx(0, false)))
		return scratch_fail(-1, "cannot start libnftables");
	return 0;
}

static void work_close(struct work *w)
{
	if (w->ctx)
		nft_ctx_free(w->ctx);
	nl_close(&w->nl);
	snapshot_free(&w->s);
	free_strings(w->pre);
	free_strings(w->items);
}

int compile_scratch(FILE *in)
{
	struct names anon = { 0 };
	struct work w;
	int ret = work_open(in, &w);

	if (!ret)
		ret = compile_in(&w.nl, w.ctx, &w.s.tables[0], w.pre, w.npre, w.items, w.nitems,
				 &anon);
	for (size_t k = 0; k < anon.n; k++)
		free(anon.v[k]);
	free(anon.v);
	work_close(&w);
	return ret;
}

int compile_scratch_set(FILE *in)
{
	struct work w = { 0 };
	char *input = NULL, *text;
	long len = scratch_next(in, &input); /* the first request: the input */
	FILE *fp = len >= 0 ? fmemopen(input, (size_t)len, "r") : NULL;
	int ret = fp ? work_open(fp, &w) : scratch_fail(-1, "the work's input is cut short");

	if (!ret && (w.nitems != 1 || MODE(w.items, 0) != 'k'))
		ret = scratch_fail(-1, "the work's input is no lookup");
	if (!ret)
		ret = restore(&w.nl, &w.s.tables[0], w.items, 1);
	/* each request: its mode, then the text of item 0; a refusal is sent
	 * as an error, and the next is read */
	while (!ret && scratch_next(in, &text) >= 0) {
		if (!text[0]) {
			free(text);
			scratch_fail(0, "an empty request");
			continue;
		}
		MODE(w.items, 0) = text[0] == 'k' ? 'k' : 'e';
		memmove(text, text + 1, strlen(text));
		free(ITEM(w.items, 0, 1));
		ITEM(w.items, 0, 1) = text;
		if (compile_elems(&w.nl, w.ctx, &w.s.tables[0], w.items, 0) == 0 &&
		    scratch_send(SCRATCH_DONE, 0, NULL, 0))
			break;
	}
	work_close(&w);
	if (fp)
		fclose(fp);
	free(input);
	return ret;
}

/* ---- the parent ---- */

struct take_ctx {
	struct compiled *out;
	const struct compile_item *items;
	size_t nitems, seen;
	struct nftnl_set *last;  /* the set read last: REC_ELEMS are its */
};

static int take_rec(void *arg, const struct scratch_rec *h, const char *data)
{
	struct take_ctx *c = arg;
	struct compiled *out = c->out;
	const struct nlmsghdr *nlh = (const void *)data;

	switch (h->kind) {
	case REC_RULE: {
		struct nftnl_rule *r = nftnl_rule_alloc();
		const char *chain;

		if (!r || nftnl_rule_nlmsg_parse(nlh, r) < 0)
			return -EIO;
		chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
		/* the next item of this chain without a rule yet */
		for (size_t i = 0; i < c->nitems; i++) {
			if (c->items[i].set || strcmp(c->items[i].chain, chain) != 0 || out->rules[i])
				continue;
			out->rules[i] = r;
			c->seen++;
			return 0;
		}
		nftnl_rule_free(r);
		return -EIO;
	}
	case REC_SET:
	case REC_NEWSET: {
		struct nftnl_set *s = nftnl_set_alloc();

		if (!s || nftnl_set_nlmsg_parse(nlh, s) < 0) {
			if (s)
				nftnl_set_free(s);
			return -EIO;
		}
		int ret = h->kind == REC_SET
			  ? snapshot_push(&out->sets, &out->nsets, &out->sets_cap, s)
			  : snapshot_push(&out->newsets, &out->nnewsets, &out->newsets_cap, s);

		if (ret)
			nftnl_set_free(s);
		c->last = ret ? NULL : s;
		return ret;
	}
	case REC_ELEMS:
		if (!c->last)
			return -EIO;
		return nftnl_set_elems_nlmsg_parse(nlh, c->last) < 0 ? -EIO : 0;
	case REC_ITEM_ELEMS: /* an empty record starts an item's elements */
		if (h->index < 0 || (size_t)h->index >= c->nitems || !c->items[h->index].set)
			return -EIO;
		if (!h->len) {
			if (out->elems[h->index])
				return -EIO;
			out->elems[h->index] = nftnl_set_alloc();
			c->seen++;
			return out->elems[h->index] ? 0 : -ENOMEM;
		}
		if (!out->elems[h->index])
			return -EIO;
		return nftnl_set_elems_nlmsg_parse(nlh, out->elems[h->index]) < 0 ? -EIO : 0;
	case REC_CHAIN: {
		struct nftnl_chain *ch = nftnl_chain_alloc();

		if (!ch || nftnl_chain_nlmsg_parse(nlh, ch) < 0)
			return -EIO;
		return snapshot_push(&out->chains, &out->nchains, &out->chains_cap, ch);
	}
	}
	return -EIO;
}

int compile_rules(const struct snap_table *t, const char *const *pre, size_t npre,
		  const struct compile_item *items, size_t nitems, struct compiled *out)
{
	struct compile_input in = { t, pre, npre, items, nitems };
	struct take_ctx c = { out, items, nitems, 0, NULL };
	struct scratch_job j = { .work = "compile", .put = put_input, .put_arg = &in,
				 .take = take_rec, .take_arg = &c };
	int ret;

	memset(out, 0, sizeof(*out));
	out->failed = -1;
	out->rules = calloc(nitems + 1, sizeof(*out->rules));
	out->elems = calloc(nitems + 1, sizeof(*out->elems));
	out->nrules = nitems;
	if (!out->rules || !out->elems) {
		snprintf(out->err, sizeof(out->err), "out of resources");
		return -ENOMEM;
	}
	ret = scratch_run(&j, out->err, sizeof(out->err));
	out->failed = j.failed;
	if (!ret && c.seen != nitems)
		ret = -EIO;
	if (ret && !out->err[0])
		snprintf(out->err, sizeof(out->err), "compiling the rules failed");
	return ret;
}

int compile_set_start(struct compile_set *k, const struct snap_table *t, const char *set,
		      char *err, size_t errlen)
{
	struct compile_input in = { t, NULL, 0, &k->item, 1 };
	struct scratch_job j = { .work = "set", .put = put_input, .put_arg = &in };

	memset(k, 0, sizeof(*k));
	snprintf(k->set, sizeof(k->set), "%s", set);
	k->item = (struct compile_item){ .text = "", .set = k->set, .key_only = true };
	return scratch_start(&k->p, &j, err, errlen);
}

int compile_set_elems(struct compile_set *k, const char *text, bool key_only,
		      struct nftnl_set **elems, char *err, size_t errlen)
{
	struct nftnl_set *got = NULL;
	struct nftnl_rule *rule = NULL;
	struct compiled out = { .rules = &rule, .elems = &got, .nrules = 1, .failed = -1 };
	struct take_ctx c = { &out, &k->item, 1, 0, NULL };
	struct scratch_job j = { .work = "set", .take = take_rec, .take_arg = &c };
	/* a request: its mode ('k' a lookup's keys, 'e' elements), its text */
	size_t len = strlen(text);
	char *req = malloc(len + 2);
	int ret;

	if (!req) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	req[0] = key_only ? 'k' : 'e';
	memcpy(req + 1, text, len + 1);
	ret = scratch_ask(&k->p, &j, req, (uint32_t)len + 1, err, errlen);
	free(req);
	if (!ret && !got) {
		snprintf(err, errlen, "compiling it gave no element");
		ret = -EIO;
	}
	if (ret && got)
		nftnl_set_free(got);
	*elems = ret ? NULL : got;
	return ret;
}

void compile_set_stop(struct compile_set *k)
{
	scratch_stop(&k->p);
}

void compiled_free(struct compiled *c)
{
	for (size_t i = 0; i < c->nrules; i++) {
		if (c->rules && c->rules[i])
			nftnl_rule_free(c->rules[i]);
		if (c->elems && c->elems[i])
			nftnl_set_free(c->elems[i]);
	}
	free(c->elems);
	for (size_t i = 0; i < c->nsets; i++)
		nftnl_set_free(c->sets[i]);
	for (size_t i = 0; i < c->nchains; i++)
		nftnl_chain_free(c->chains[i]);
	for (size_t i = 0; i < c->nnewsets; i++)
		nftnl_set_free(c->newsets[i]);
	free(c->rules);
	free(c->sets);
	free(c->chains);
	free(c->newsets);
	memset(c, 0, sizeof(*c));
}

/* ---- iptables-nft's built-in chains ---- */

int compile_scratch_builtin(FILE *in)
{
	char table[64], chain[64], err[512];
	uint32_t family;
	struct nl nl = { 0 };
	int ret;

	if (fscanf(in, "%" SCNu32 " %63s %63s", &family, table, chain) != 3)
		return scratch_fail(-1, "the work's input is cut short");
	if (xtables_add_rule(family, table, chain, "", err, sizeof(err)))
		return scratch_fail(0, err);
	if (nl_open(&nl, err, sizeof(err)))
		return scratch_fail(-1, err);
	ret = dump_to(&nl, REC_CHAIN, NFT_MSG_GETCHAIN, family, NFTA_CHAIN_TABLE, table,
		      NFTA_CHAIN_NAME, chain, NLM_F_ACK);
	nl_close(&nl);
	return ret ? scratch_fail(-1, "reading back the chain iptables made") : 0;
}

struct builtin {
	uint32_t family;
	const char *table, *chain;
	struct nftnl_chain *made;
};

static int put_builtin(FILE *in, const void *arg)
{
	const struct builtin *b = arg;

	return fprintf(in, "%" PRIu32 " %s %s\n", b->family, b->table, b->chain) < 0 ? -EIO : 0;
}

static int take_builtin(void *arg, const struct scratch_rec *h, const char *data)
{
	struct builtin *b = arg;

	if (h->kind != REC_CHAIN || b->made || !(b->made = nftnl_chain_alloc()) ||
	    nftnl_chain_nlmsg_parse((const void *)data, b->made) < 0)
		return -EIO;
	return 0;
}

int compile_builtin_chain(uint32_t family, const char *table, const char *chain, char *spec,
			  size_t speclen, char *err, size_t errlen)
{
	struct builtin b = { family, table, chain, NULL };
	struct scratch_job j = { .work = "builtin", .put = put_builtin, .put_arg = &b,
				 .take = take_builtin, .take_arg = &b };
	const char *hook;
	int ret;

	/* names iptables takes: a word, never text for the work's input */
	if (!xtables_family(family) || !*table || !*chain || strlen(table) > 32 ||
	    strlen(chain) > 32 || strpbrk(table, " \t\n") || strpbrk(chain, " \t\n")) {
		snprintf(err, errlen, "iptables has no chain %s in a table %s of this family",
			 chain, table);
		return -ENOENT;
	}
	ret = scratch_run(&j, err, errlen);
	if (ret == -EINVAL && j.failed == 0)
		ret = -ENOENT; /* iptables said no: err is its words */
	if (!ret && (!b.made || !nftnl_chain_is_set(b.made, NFTNL_CHAIN_HOOKNUM) ||
		     !nftnl_chain_is_set(b.made, NFTNL_CHAIN_TYPE) ||
		     !(hook = ruleset_hook_name(family, nftnl_chain_get_u32(b.made,
									    NFTNL_CHAIN_HOOKNUM))))) {
		snprintf(err, errlen, "iptables made no base chain %s", chain);
		ret = -EIO;
	}
	if (!ret)
		snprintf(spec, speclen, "type %s hook %s priority %d; policy %s;",
			 nftnl_chain_get_str(b.made, NFTNL_CHAIN_TYPE), hook,
			 (int32_t)nftnl_chain_get_u32(b.made, NFTNL_CHAIN_PRIO),
			 nftnl_chain_is_set(b.made, NFTNL_CHAIN_POLICY) &&
			 nftnl_chain_get_u32(b.made, NFTNL_CHAIN_POLICY) == NF_DROP ? "drop"
										      : "accept");
	if (b.made)
		nftnl_chain_free(b.made);
	return ret;
}
