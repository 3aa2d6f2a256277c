#define _GNU_SOURCE
#include "apply/compile.h"

#include "model/ruleset.h"
#include "nft/batch.h"
#include "nft/ruletext.h"

#include <errno.h>
#include <fcntl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the wire between child and parent: records of kind, length, bytes */

enum rec_kind { REC_RULE = 1, REC_SET, REC_ELEMS, REC_CHAIN, REC_ERROR, REC_ITEM_ELEMS };

struct rec_hdr {
	uint32_t kind;
	uint32_t len;
	int32_t index;   /* REC_ERROR: the failed item */
};

/* The whole of buf through fd (writing, or reading): 0, or -1 at EOF or
 * error. */
static int io_all(int fd, void *buf, size_t len, bool writing)
{
	char *p = buf;

	while (len) {
		ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_rec(int fd, uint32_t kind, int32_t index, const void *data, uint32_t len)
{
	struct rec_hdr h = { kind, len, index };

	return io_all(fd, &h, sizeof(h), true) || io_all(fd, (void *)data, len, true) ? -1 : 0;
}

/* ---- the child, in its own network namespace ---- */

struct fwd {
	int fd;
	uint32_t kind;
	int32_t index;
};

static int forward_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fwd *f = data;

	return send_rec(f->fd, f->kind, f->index, nlh, nlh->nlmsg_len) ? MNL_CB_ERROR
									: MNL_CB_OK;
}

static int dump_to(struct nl *nl, int fd, uint32_t kind, uint16_t type, uint32_t family,
		   uint16_t attr_table, const char *table, uint16_t attr2, const char *name2,
		   uint16_t flags)
{
	struct fwd f = { fd, kind, 0 };
	struct nlmsghdr *req = nl_request(nl, type, family, flags);

	mnl_attr_put_strz(req, attr_table, table);
	if (name2)
		mnl_attr_put_strz(req, attr2, name2);
	return nl_talk(nl, req, forward_cb, &f);
}

static void fail(int fd, int32_t index, const char *msg)
{
	send_rec(fd, REC_ERROR, index, msg, (uint32_t)strlen(msg) + 1);
	_exit(1);
}

/* nft's error output: the message and the line with its caret */
static void fail_nft(int fd, int32_t index, struct nft_ctx *ctx)
{
	const char *e = nft_ctx_get_error_buffer(ctx);

	fail(fd, index, e && *e ? e : "nft refused it");
}

static int set_names_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();
	char ***names = data;
	size_t n = 0;

	if (!s || nftnl_set_nlmsg_parse(nlh, s) < 0) {
		if (s)
			nftnl_set_free(s);
		return MNL_CB_ERROR;
	}
	if (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS) {
		while ((*names)[n])
			n++;
		*names = realloc(*names, (n + 2) * sizeof(**names));
		(*names)[n] = strdup(nftnl_set_get_str(s, NFTNL_SET_NAME));
		(*names)[n + 1] = NULL;
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

#define KEY_SET "__nfpilot_key"

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

/* The skeleton of t with, for each key-only item, a copy of its set that
 * holds keys only: what a lookup compiles against. */
static struct snap_table key_sets(const struct snap_table *t, const struct compile_item *items,
				  size_t nitems)
{
	struct snap_table c = *t;
	bool lookup = false;

	for (size_t i = 0; i < nitems; i++)
		lookup = lookup || items[i].key_only;
	if (!lookup)
		return *t;
	c.sets = calloc(t->nsets + 2, sizeof(*c.sets));
	if (!c.sets)
		return *t;
	if (t->nsets)
		memcpy(c.sets, t->sets, t->nsets * sizeof(*c.sets));
	for (size_t i = 0; i < nitems; i++) {
		struct nftnl_set *from = NULL, *s;
		const void *p;
		uint32_t len;

		if (!items[i].set || !items[i].key_only)
			continue;
		for (size_t k = 0; k < t->nsets && !from; k++)
			if (strcmp(nftnl_set_get_str(t->sets[k], NFTNL_SET_NAME), items[i].set) == 0)
				from = t->sets[k];
		s = from ? nftnl_set_alloc() : NULL;
		if (!s)
			continue;
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
		c.sets[c.nsets++] = s;
		break; /* one lookup at a time */
	}
	return c;
}

static void child(int fd, const struct snap_table *t, const char *const *pre, size_t npre,
		  const struct compile_item *items, size_t nitems)
{
	const char *fam = ruleset_family_name(t->family);
	struct snap_table keyed = key_sets(t, items, nitems);
	struct snapshot skel = { .tables = &keyed, .ntables = 1 };
	struct nft_ctx *ctx;
	char err[512], *cmd = NULL;
	char **anon = calloc(1, sizeof(*anon));
	struct nl nl;

	if (unshare(CLONE_NEWNET) < 0) {
		snprintf(err, sizeof(err), "cannot make a scratch network namespace: %s%s",
			 strerror(errno), geteuid() ? " (needs root)" : "");
		fail(fd, -1, err);
	}
	if (nl_open(&nl, err, sizeof(err)) || snapshot_restore_skeleton(&nl, &skel, err, sizeof(err)))
		fail(fd, -1, err);
	ctx = ruletext_ctx(0, false);
	if (!ctx)
		fail(fd, -1, "cannot start libnftables");
	/* hold the names of the table's anonymous sets, so that those made
	 * here get names free in the live table too and need no renaming */
	for (size_t k = 0; k < t->nsets; k++) {
		const char *name = nftnl_set_get_str(t->sets[k], NFTNL_SET_NAME);

		if (!(nftnl_set_get_u32(t->sets[k], NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS))
			continue;
		free(cmd);
		if (asprintf(&cmd, "add set %s %s %s { type mark; }", fam, t->name, name) < 0 ||
		    nft_run_cmd_from_buffer(ctx, cmd) != 0)
			fail(fd, -1, "cannot reserve the names of anonymous sets");
	}
	for (size_t k = 0; k < npre; k++)
		if (nft_run_cmd_from_buffer(ctx, pre[k]) != 0)
			fail_nft(fd, -2 - (int32_t)k, ctx);
	for (size_t i = 0; i < nitems; i++) {
		const char *set = items[i].key_only ? KEY_SET : items[i].set;
		struct fwd f = { fd, REC_ITEM_ELEMS, (int32_t)i };
		struct nlmsghdr *req;

		free(cmd);
		if ((items[i].set ? asprintf(&cmd, "add element %s %s %s { %s }", fam, t->name, set,
					     items[i].text)
				  : asprintf(&cmd, "add rule %s %s %s %s", fam, t->name,
					     items[i].chain, items[i].text)) < 0)
			fail(fd, (int32_t)i, "out of memory");
		if (nft_run_cmd_from_buffer(ctx, cmd) != 0)
			fail_nft(fd, (int32_t)i, ctx);
		if (!items[i].set)
			continue;
		/* the elements, read back; the set emptied for the next item */
		send_rec(fd, REC_ITEM_ELEMS, (int32_t)i, NULL, 0);
		req = nl_request(&nl, NFT_MSG_GETSETELEM, t->family, NLM_F_DUMP);
		mnl_attr_put_strz(req, NFTA_SET_ELEM_LIST_TABLE, t->name);
		mnl_attr_put_strz(req, NFTA_SET_ELEM_LIST_SET, set);
		if (nl_talk(&nl, req, forward_cb, &f))
			fail(fd, (int32_t)i, "reading back the compiled elements");
		if (flush_set(&nl, t->family, t->name, set))
			fail(fd, (int32_t)i, "emptying the set for the next elements");
	}
	/* chains made by the preparatory commands: the skeleton had them not */
	for (size_t k = 0; k < npre; k++) {
		char name[256];

		if (sscanf(pre[k], "add chain %*s %*s %255s", name) == 1 &&
		    dump_to(&nl, fd, REC_CHAIN, NFT_MSG_GETCHAIN, t->family, NFTA_CHAIN_TABLE,
			    t->name, NFTA_CHAIN_NAME, name, NLM_F_ACK))
			fail(fd, -2 - (int32_t)k, "reading back a new chain");
	}
	/* the rules, chain by chain in the order items name them: each chain
	 * was empty, so its k-th rule is its k-th item */
	for (size_t i = 0; i < nitems; i++) {
		bool seen = items[i].set != NULL;

		for (size_t j = 0; j < i && !seen; j++)
			seen = !items[j].set && strcmp(items[j].chain, items[i].chain) == 0;
		if (!seen && dump_to(&nl, fd, REC_RULE, NFT_MSG_GETRULE, t->family,
				     NFTA_RULE_TABLE, t->name, NFTA_RULE_CHAIN, items[i].chain,
				     NLM_F_DUMP))
			fail(fd, (int32_t)i, "reading back the compiled rule");
	}
	/* anonymous sets, and their elements */
	{
		struct nlmsghdr *req = nl_request(&nl, NFT_MSG_GETSET, t->family, NLM_F_DUMP);

		mnl_attr_put_strz(req, NFTA_SET_TABLE, t->name);
		if (nl_talk(&nl, req, set_names_cb, &anon))
			fail(fd, -1, "reading back anonymous sets");
	}
	for (size_t k = 0; anon[k]; k++)
		if (dump_to(&nl, fd, REC_SET, NFT_MSG_GETSET, t->family, NFTA_SET_TABLE,
			    t->name, NFTA_SET_NAME, anon[k], NLM_F_ACK) ||
		    dump_to(&nl, fd, REC_ELEMS, NFT_MSG_GETSETELEM, t->family,
			    NFTA_SET_ELEM_LIST_TABLE, t->name, NFTA_SET_ELEM_LIST_SET, anon[k],
			    NLM_F_DUMP))
			fail(fd, -1, "reading back an anonymous set");
	_exit(0);
}

/* ---- the parent ---- */


static int take_rec(struct compiled *out, const struct rec_hdr *h, const char *data,
		    const struct compile_item *items, size_t nitems, size_t *per_chain_seen)
{
	const struct nlmsghdr *nlh = (const void *)data;

	switch (h->kind) {
	case REC_ERROR:
		out->failed = h->index;
		snprintf(out->err, sizeof(out->err), "%.*s", (int)h->len, data);
		return -EINVAL;
	case REC_RULE: {
		struct nftnl_rule *r = nftnl_rule_alloc();
		const char *chain;

		if (!r || nftnl_rule_nlmsg_parse(nlh, r) < 0)
			return -EIO;
		chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
		/* the next item of this chain without a rule yet */
		for (size_t i = 0; i < nitems; i++) {
			if (items[i].set || strcmp(items[i].chain, chain) != 0 || out->rules[i])
				continue;
			out->rules[i] = r;
			(*per_chain_seen)++;
			return 0;
		}
		nftnl_rule_free(r);
		return -EIO;
	}
	case REC_SET: {
		struct nftnl_set *s = nftnl_set_alloc();

		if (!s || nftnl_set_nlmsg_parse(nlh, s) < 0)
			return -EIO;
		return snapshot_push((void ***)&out->sets, &out->nsets, s);
	}
	case REC_ELEMS:
		if (!out->nsets)
			return -EIO;
		return nftnl_set_elems_nlmsg_parse(nlh, out->sets[out->nsets - 1]) < 0 ? -EIO : 0;
	case REC_ITEM_ELEMS: /* an empty record starts an item's elements */
		if (h->index < 0 || (size_t)h->index >= nitems || !items[h->index].set)
			return -EIO;
		if (!h->len) {
			if (out->elems[h->index])
				return -EIO;
			out->elems[h->index] = nftnl_set_alloc();
			(*per_chain_seen)++;
			return out->elems[h->index] ? 0 : -ENOMEM;
		}
		if (!out->elems[h->index])
			return -EIO;
		return nftnl_set_elems_nlmsg_parse(nlh, out->elems[h->index]) < 0 ? -EIO : 0;
	case REC_CHAIN: {
		struct nftnl_chain *c = nftnl_chain_alloc();

		if (!c || nftnl_chain_nlmsg_parse(nlh, c) < 0)
			return -EIO;
		return snapshot_push((void ***)&out->chains, &out->nchains, c);
	}
	}
	return -EIO;
}

int compile_rules(const struct snap_table *t, const char *const *pre, size_t npre,
		  const struct compile_item *items, size_t nitems, struct compiled *out)
{
	int fds[2], status, ret = 0;
	size_t seen = 0;
	char *buf = NULL;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	out->failed = -1;
	out->rules = calloc(nitems + 1, sizeof(*out->rules));
	out->elems = calloc(nitems + 1, sizeof(*out->elems));
	out->nrules = nitems;
	if (!out->rules || !out->elems || pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(out->err, sizeof(out->err), "out of resources");
		return -ENOMEM;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		snprintf(out->err, sizeof(out->err), "fork: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		close(fds[0]);
		child(fds[1], t, pre, npre, items, nitems);
	}
	close(fds[1]);
	for (;;) {
		struct rec_hdr h;
		char *nb;

		if (io_all(fds[0], &h, sizeof(h), false) < 0)
			break; /* the child is done */
		nb = realloc(buf, h.len + 1);
		if (!nb || io_all(fds[0], nb, h.len, false) < 0) {
			free(nb);
			buf = NULL;
			ret = -EIO;
			break;
		}
		buf = nb;
		buf[h.len] = 0;
		ret = take_rec(out, &h, buf, items, nitems, &seen);
		if (ret)
			break;
	}
	free(buf);
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (!ret && (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || seen != nitems))
		ret = -EIO;
	if (ret && !out->err[0])
		snprintf(out->err, sizeof(out->err), "compiling the rules failed");
	return ret;
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
	free(c->rules);
	free(c->sets);
	free(c->chains);
	memset(c, 0, sizeof(*c));
}
