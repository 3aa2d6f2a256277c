#define _GNU_SOURCE
#include "apply/compile.h"

#include "apply/scratch.h"
#include "model/ruleset.h"
#include "nft/ruletext.h"
#include "probation/snapfile.h"
#include "util/grow.h"

#include <errno.h>
#include <fcntl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <nftables/libnftables.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the work sends back (apply/scratch.h) */
enum rec_kind { REC_RULE = 1, REC_SET, REC_ELEMS, REC_CHAIN };

/* ---- the work, in the scratch namespace ---- */

struct fwd {
	uint32_t kind;
};

static int forward_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fwd *f = data;

	return scratch_send(f->kind, 0, nlh, nlh->nlmsg_len) ? MNL_CB_ERROR : MNL_CB_OK;
}

static int dump_to(struct nl *nl, uint32_t kind, uint16_t type, uint32_t family,
		   uint16_t attr_table, const char *table, uint16_t attr2, const char *name2,
		   uint16_t flags)
{
	struct fwd f = { kind };
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
	for (size_t i = 0; i < c->nitems; i++)
		fprintf(in, "%s%c%s%c", c->items[i].chain, 0, c->items[i].text, 0);
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

/* Restore the skeleton, run pre in ctx, add each item, send back their
 * dump. */
static int compile_in(struct nl *nl, struct nft_ctx *ctx, const struct snap_table *t,
		      char **pre, size_t npre, char **items, size_t nitems, struct names *anon)
{
	const char *fam = ruleset_family_name(t->family);
	struct snapshot skel = { .tables = (struct snap_table *)t, .ntables = 1 };
	char err[512], cmd[8192];

	if (nl_open(nl, err, sizeof(err)) || snapshot_restore_skeleton(nl, &skel, err, sizeof(err)))
		return scratch_fail(-1, err);
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

		if (asprintf(&rule, "add rule %s %s %s %s", fam, t->name, items[2 * i],
			     items[2 * i + 1]) < 0)
			return scratch_fail((int32_t)i, "out of memory");
		bad = nft_run_cmd_from_buffer(ctx, rule) != 0;
		free(rule);
		if (bad)
			return fail_nft((int32_t)i, ctx);
	}
	/* chains made by the preparatory commands: the skeleton had them not */
	for (size_t k = 0; k < npre; k++) {
		char name[256];

		if (sscanf(pre[k], "add chain %*s %*s %255s", name) == 1 &&
		    dump_to(nl, REC_CHAIN, NFT_MSG_GETCHAIN, t->family, NFTA_CHAIN_TABLE,
			    t->name, NFTA_CHAIN_NAME, name, NLM_F_ACK))
			return scratch_fail(-2 - (int32_t)k, "reading back a new chain");
	}
	/* the rules, chain by chain in the order items name them: each chain
	 * was empty, so its k-th rule is its k-th item */
	for (size_t i = 0; i < nitems; i++) {
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			seen = seen || strcmp(items[2 * j], items[2 * i]) == 0;
		if (!seen && dump_to(nl, REC_RULE, NFT_MSG_GETRULE, t->family,
				     NFTA_RULE_TABLE, t->name, NFTA_RULE_CHAIN, items[2 * i],
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
	return 0;
}

int compile_scratch(FILE *in)
{
	size_t npre = 0, nitems = 0;
	char **pre = read_strings(in, 1, &npre);
	char **items = pre ? read_strings(in, 2, &nitems) : NULL;
	struct snapshot s = { 0 };
	struct names anon = { 0 };
	struct nft_ctx *ctx = NULL;
	char err[512];
	struct nl nl = { 0 };
	int ret;

	if (!items)
		ret = scratch_fail(-1, "the work's input is cut short");
	else if (snapfile_read(in, &s, err, sizeof(err)) || s.ntables != 1)
		ret = scratch_fail(-1, "the work's input holds no table");
	else if (!(ctx = ruletext_ctx(0, false)))
		ret = scratch_fail(-1, "cannot start libnftables");
	else
		ret = compile_in(&nl, ctx, &s.tables[0], pre, npre, items, nitems, &anon);
	if (ctx)
		nft_ctx_free(ctx);
	for (size_t k = 0; k < anon.n; k++)
		free(anon.v[k]);
	free(anon.v);
	nl_close(&nl);
	snapshot_free(&s);
	free_strings(pre);
	free_strings(items);
	return ret;
}

/* ---- the parent ---- */

struct take_ctx {
	struct compiled *out;
	const struct compile_item *items;
	size_t nitems, seen;
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
			if (strcmp(c->items[i].chain, chain) != 0 || out->rules[i])
				continue;
			out->rules[i] = r;
			c->seen++;
			return 0;
		}
		nftnl_rule_free(r);
		return -EIO;
	}
	case REC_SET: {
		struct nftnl_set *s = nftnl_set_alloc();

		if (!s || nftnl_set_nlmsg_parse(nlh, s) < 0)
			return -EIO;
		return snapshot_push(&out->sets, &out->nsets, &out->sets_cap, s);
	}
	case REC_ELEMS:
		if (!out->nsets)
			return -EIO;
		return nftnl_set_elems_nlmsg_parse(nlh, out->sets[out->nsets - 1]) < 0 ? -EIO : 0;
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
	struct take_ctx c = { out, items, nitems, 0 };
	struct scratch_job j = { .work = "compile", .put = put_input, .put_arg = &in,
				 .take = take_rec, .take_arg = &c };
	int ret;

	memset(out, 0, sizeof(*out));
	out->failed = -1;
	out->rules = calloc(nitems + 1, sizeof(*out->rules));
	out->nrules = nitems;
	if (!out->rules) {
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

void compiled_free(struct compiled *c)
{
	for (size_t i = 0; i < c->nrules; i++)
		if (c->rules[i])
			nftnl_rule_free(c->rules[i]);
	for (size_t i = 0; i < c->nsets; i++)
		nftnl_set_free(c->sets[i]);
	for (size_t i = 0; i < c->nchains; i++)
		nftnl_chain_free(c->chains[i]);
	free(c->rules);
	free(c->sets);
	free(c->chains);
	memset(c, 0, sizeof(*c));
}
