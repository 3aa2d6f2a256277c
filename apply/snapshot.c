#include "snapshot.h"

#include "batch.h"
#include "model/ruleset.h"

#include <errno.h>
#include <stddef.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- holding objects ---- */

int snapshot_push(void ***arr, size_t *n, void *obj)
{
	void **a = realloc(*arr, (*n + 1) * sizeof(*a));

	if (!a)
		return -ENOMEM;
	a[(*n)++] = obj;
	*arr = a;
	return 0;
}

static void table_free(struct snap_table *t)
{
	for (size_t i = 0; i < t->nchains; i++)
		nftnl_chain_free(t->chains[i]);
	for (size_t i = 0; i < t->nsets; i++)
		nftnl_set_free(t->sets[i]);
	for (size_t i = 0; i < t->nobjs; i++)
		nftnl_obj_free(t->objs[i]);
	for (size_t i = 0; i < t->nflowtables; i++)
		nftnl_flowtable_free(t->flowtables[i]);
	for (size_t i = 0; i < t->nrules; i++)
		nftnl_rule_free(t->rules[i]);
	if (t->table)
		nftnl_table_free(t->table);
	free(t->chains);
	free(t->sets);
	free(t->objs);
	free(t->flowtables);
	free(t->rules);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

void snapshot_free(struct snapshot *s)
{
	for (size_t i = 0; i < s->ntables; i++)
		table_free(&s->tables[i]);
	free(s->tables);
	memset(s, 0, sizeof(*s));
}

/* ---- dumping ---- */

/* One dump callback for every object kind: parse into a fresh object and
 * keep it if it belongs to the table (dumps filter by family only). */
struct collect {
	struct snap_table *t;
	int kind;
};

enum { K_CHAIN, K_SET, K_OBJ, K_FLOWTABLE, K_RULE };


/* Each kind of object: how to make, parse, name its table and free it,
 * and where the table keeps it. */
struct kind_ops {
	void *(*alloc)(void);
	int (*parse)(const struct nlmsghdr *, void *);
	const char *(*table)(void *);
	void (*free)(void *);
	size_t arr_off, n_off;
};

static const char *chain_table(void *o) { return nftnl_chain_get_str(o, NFTNL_CHAIN_TABLE); }
static const char *set_table(void *o) { return nftnl_set_get_str(o, NFTNL_SET_TABLE); }
static const char *obj_table(void *o) { return nftnl_obj_get_str(o, NFTNL_OBJ_TABLE); }
static const char *ft_table(void *o) { return nftnl_flowtable_get_str(o, NFTNL_FLOWTABLE_TABLE); }
static const char *rule_table(void *o) { return nftnl_rule_get_str(o, NFTNL_RULE_TABLE); }

#define OPS(type, field, table_of) \
	{ (void *(*)(void))type##_alloc, \
	  (int (*)(const struct nlmsghdr *, void *))type##_nlmsg_parse, table_of, \
	  (void (*)(void *))type##_free, offsetof(struct snap_table, field), \
	  offsetof(struct snap_table, n##field) }

static const struct kind_ops kinds[] = {
	[K_CHAIN] = OPS(nftnl_chain, chains, chain_table),
	[K_SET] = OPS(nftnl_set, sets, set_table),
	[K_OBJ] = OPS(nftnl_obj, objs, obj_table),
	[K_FLOWTABLE] = OPS(nftnl_flowtable, flowtables, ft_table),
	[K_RULE] = OPS(nftnl_rule, rules, rule_table),
};

static int collect_cb(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	const struct kind_ops *k = &kinds[c->kind];
	void *obj = k->alloc();
	const char *table;

	if (!obj)
		return MNL_CB_ERROR;
	if (k->parse(nlh, obj) < 0) {
		k->free(obj);
		return MNL_CB_ERROR;
	}
	table = k->table(obj);
	/* dumps of chains filter by family only: skip other tables' */
	if (!table || strcmp(table, c->t->name) != 0) {
		k->free(obj);
		return MNL_CB_OK;
	}
	if (snapshot_push((void ***)((char *)c->t + k->arr_off), (size_t *)((char *)c->t + k->n_off),
		 obj) < 0) {
		k->free(obj);
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct snap_table *t = data;
	struct nftnl_table *nt = nftnl_table_alloc();

	if (!nt || nftnl_table_nlmsg_parse(nlh, nt) < 0) {
		if (nt)
			nftnl_table_free(nt);
		return MNL_CB_ERROR;
	}
	t->table = nt;
	return MNL_CB_OK;
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	return nftnl_set_elems_nlmsg_parse(nlh, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int dump_kind(struct nl *nl, struct snap_table *t, int kind, uint16_t type)
{
	struct collect c = { t, kind };
	struct nlmsghdr *req = nl_request(nl, type, t->family, NLM_F_DUMP);

	/* name the table where the kernel filters by it (objects, flowtables,
	 * sets); chains are checked in collect_cb */
	mnl_attr_put_strz(req, kind == K_OBJ ? NFTA_OBJ_TABLE
			       : kind == K_FLOWTABLE ? NFTA_FLOWTABLE_TABLE
			       : kind == K_SET ? NFTA_SET_TABLE : NFTA_CHAIN_TABLE, t->name);
	return nl_talk(nl, req, collect_cb, &c);
}

static int dump_rules(struct nl *nl, struct snap_table *t, const char *chain)
{
	struct collect c = { t, K_RULE };
	struct nlmsghdr *req = nl_request(nl, NFT_MSG_GETRULE, t->family, NLM_F_DUMP);

	mnl_attr_put_strz(req, NFTA_RULE_TABLE, t->name);
	mnl_attr_put_strz(req, NFTA_RULE_CHAIN, chain);
	return nl_talk(nl, req, collect_cb, &c);
}

static int dump_elems(struct nl *nl, struct snap_table *t, struct nftnl_set *s)
{
	struct nlmsghdr *req = nl_request(nl, NFT_MSG_GETSETELEM, t->family, NLM_F_DUMP);

	mnl_attr_put_strz(req, NFTA_SET_ELEM_LIST_TABLE, t->name);
	mnl_attr_put_strz(req, NFTA_SET_ELEM_LIST_SET, nftnl_set_get_str(s, NFTNL_SET_NAME));
	return nl_talk(nl, req, elems_cb, s);
}

static int take_table(struct nl *nl, struct snap_table *t, bool skeleton)
{
	struct nlmsghdr *req = nl_request(nl, NFT_MSG_GETTABLE, t->family, NLM_F_ACK);
	int ret;

	mnl_attr_put_strz(req, NFTA_TABLE_NAME, t->name);
	ret = nl_talk(nl, req, table_cb, t);
	if (ret == -ENOENT) {
		t->absent = true;
		return 0;
	}
	if (!ret)
		ret = dump_kind(nl, t, K_CHAIN, NFT_MSG_GETCHAIN);
	if (!ret)
		ret = dump_kind(nl, t, K_SET, NFT_MSG_GETSET);
	for (size_t i = 0; i < t->nsets && !ret && !skeleton; i++)
		ret = dump_elems(nl, t, t->sets[i]);
	if (!ret)
		ret = dump_kind(nl, t, K_OBJ, NFT_MSG_GETOBJ);
	if (!ret)
		ret = dump_kind(nl, t, K_FLOWTABLE, NFT_MSG_GETFLOWTABLE);
	/* chain by chain: a whole-table rule dump is quadratic */
	for (size_t i = 0; i < t->nchains && !ret && !skeleton; i++)
		ret = dump_rules(nl, t, nftnl_chain_get_str(t->chains[i], NFTNL_CHAIN_NAME));
	return ret;
}

static int list_tables_cb(const struct nlmsghdr *nlh, void *data)
{
	struct snapshot *s = data;
	struct nftnl_table *nt = nftnl_table_alloc();
	struct snap_table *arr;
	int ret = MNL_CB_ERROR;

	if (!nt || nftnl_table_nlmsg_parse(nlh, nt) < 0)
		goto out;
	arr = realloc(s->tables, (s->ntables + 1) * sizeof(*arr));
	if (!arr)
		goto out;
	s->tables = arr;
	memset(&arr[s->ntables], 0, sizeof(*arr));
	arr[s->ntables].family = nftnl_table_get_u32(nt, NFTNL_TABLE_FAMILY);
	arr[s->ntables].name = strdup(nftnl_table_get_str(nt, NFTNL_TABLE_NAME));
	if (arr[s->ntables++].name)
		ret = MNL_CB_OK;
out:
	if (nt)
		nftnl_table_free(nt);
	return ret;
}

static int take_once(struct nl *nl, const struct snap_id *ids, size_t nids,
		     bool skeleton, struct snapshot *s)
{
	int ret = 0;

	if (!ids) {
		struct nlmsghdr *req = nl_request(nl, NFT_MSG_GETTABLE, NFPROTO_UNSPEC,
						  NLM_F_DUMP);

		ret = nl_talk(nl, req, list_tables_cb, s);
	} else {
		s->tables = calloc(nids + 1, sizeof(*s->tables));
		if (!s->tables)
			return -ENOMEM;
		for (size_t i = 0; i < nids; i++) {
			s->tables[i].family = ids[i].family;
			s->tables[i].name = strdup(ids[i].name);
			s->ntables++;
			if (!s->tables[i].name)
				return -ENOMEM;
		}
	}
	for (size_t i = 0; i < s->ntables && !ret; i++)
		ret = take_table(nl, &s->tables[i], skeleton);
	return ret;
}

int snapshot_take(struct nl *nl, const struct snap_id *ids, size_t nids, bool skeleton,
		  struct snapshot *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	for (int attempt = 0; attempt < 5; attempt++) {
		uint32_t before, after;
		int ret = nl_genid(nl, &before);

		if (!ret)
			ret = take_once(nl, ids, nids, skeleton, s);
		if (!ret || ret == -ENOENT || ret == -EINTR) {
			int r2 = nl_genid(nl, &after);

			if (r2)
				ret = r2;
			else if (before != after)
				ret = -EAGAIN; /* changed while we read: again */
		}
		if (!ret) {
			s->genid = after;
			s->all = !ids;
			return 0;
		}
		snapshot_free(s);
		if (ret != -EAGAIN) {
			snprintf(err, errlen, "snapshot: %s", nl_strerror(ret));
			return ret;
		}
	}
	snprintf(err, errlen, "snapshot: %s", nl_strerror(-EINTR));
	return -EINTR;
}

/* ---- restoring ---- */

/* The kernel never dumps NFTA_RULE_COMPAT, and refuses some xt matches
 * (icmp, ...) without it: as iptables-nft does, take the protocol from the
 * `meta l4proto == N` comparison that precedes the first xt expression. */
void snapshot_fix_compat(struct nftnl_rule *r)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;
	bool after_l4proto = false;
	uint32_t proto = 0;
	bool xt = false;

	if (!it)
		return;
	while ((e = nftnl_expr_iter_next(it))) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

		if (strcmp(name, "meta") == 0) {
			after_l4proto = nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG) &&
					nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY) == NFT_META_L4PROTO;
			continue;
		}
		if (strcmp(name, "cmp") == 0 && after_l4proto &&
		    nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP) == NFT_CMP_EQ) {
			uint32_t len = 0;
			const uint8_t *d = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);

			if (d && len == 1 && !xt)
				proto = d[0];
		} else if (strcmp(name, "match") == 0 || strcmp(name, "target") == 0) {
			xt = true;
		}
		after_l4proto = false;
	}
	nftnl_expr_iter_destroy(it);
	if (xt && proto) {
		nftnl_rule_set_u32(r, NFTNL_RULE_COMPAT_PROTO, proto);
		nftnl_rule_set_u32(r, NFTNL_RULE_COMPAT_FLAGS, 0);
	}
}

/* Table i of s in the batch: create it if missing, delete it, and unless it
 * was absent re-create it with everything it had. Each message's tag is
 * the table's index. */
static int fill_table(struct batch *b, const struct snap_table *t, int tag, bool skeleton);

static int restore_table(struct batch *b, const struct snap_table *t, int tag,
			 bool skeleton)
{
	struct nlmsghdr *nlh;
	struct nftnl_table *bare = nftnl_table_alloc();

	if (!bare)
		return -ENOMEM;
	nftnl_table_set_u32(bare, NFTNL_TABLE_FAMILY, t->family);
	nftnl_table_set_str(bare, NFTNL_TABLE_NAME, t->name);
	/* add (no EXCL: fine if it exists) then delete: gone either way */
	nlh = batch_msg(b, NFT_MSG_NEWTABLE, t->family, NLM_F_CREATE);
	nftnl_table_nlmsg_build_payload(nlh, bare);
	batch_push(b, tag);
	nlh = batch_msg(b, NFT_MSG_DELTABLE, t->family, 0);
	nftnl_table_nlmsg_build_payload(nlh, bare);
	batch_push(b, tag);
	nftnl_table_free(bare);
	if (t->absent)
		return b->err;

	nftnl_table_unset(t->table, NFTNL_TABLE_HANDLE);
	nlh = batch_msg(b, NFT_MSG_NEWTABLE, t->family, NLM_F_CREATE | NLM_F_EXCL);
	nftnl_table_nlmsg_build_payload(nlh, t->table);
	batch_push(b, tag);
	for (size_t i = 0; i < t->nchains; i++) {
		nftnl_chain_unset(t->chains[i], NFTNL_CHAIN_HANDLE);
		nlh = batch_msg(b, NFT_MSG_NEWCHAIN, t->family, NLM_F_CREATE | NLM_F_EXCL);
		nftnl_chain_nlmsg_build_payload(nlh, t->chains[i]);
		batch_push(b, tag);
	}
	return fill_table(b, t, tag, skeleton);
}

/* After the table and its chains: objects, flowtables, sets with their
 * elements and the rules in order (not in a skeleton). */
static int fill_table(struct batch *b, const struct snap_table *t, int tag, bool skeleton)
{
	struct nlmsghdr *nlh;

	for (size_t i = 0; i < t->nobjs; i++) {
		/* a handle in NEWOBJ is ignored (libnftnl 1.2 cannot unset it) */
		nlh = batch_msg(b, NFT_MSG_NEWOBJ, t->family, NLM_F_CREATE | NLM_F_EXCL);
		nftnl_obj_nlmsg_build_payload(nlh, t->objs[i]);
		batch_push(b, tag);
	}
	for (size_t i = 0; i < t->nflowtables; i++) {
		nftnl_flowtable_unset(t->flowtables[i], NFTNL_FLOWTABLE_HANDLE);
		nlh = batch_msg(b, NFT_MSG_NEWFLOWTABLE, t->family, NLM_F_CREATE | NLM_F_EXCL);
		nftnl_flowtable_nlmsg_build_payload(nlh, t->flowtables[i]);
		batch_push(b, tag);
	}
	for (size_t i = 0; i < t->nsets; i++) {
		struct nftnl_set *s = t->sets[i];
		struct nftnl_set_elems_iter *it;

		/* anonymous sets belong to rules, which a skeleton has not */
		if (skeleton && (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS))
			continue;
		nftnl_set_unset(s, NFTNL_SET_HANDLE);
		nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)i + 1); /* required */
		nlh = batch_msg(b, NFT_MSG_NEWSET, t->family, NLM_F_CREATE | NLM_F_EXCL);
		nftnl_set_nlmsg_build_payload(nlh, s);
		batch_push(b, tag);
		/* elements, as many messages as they need */
		it = nftnl_set_elems_iter_create(s);
		if (!it)
			return -ENOMEM;
		if (skeleton)
			continue;
		/* the builder fills a message and says whether more remain */
		for (int more = nftnl_set_elems_iter_cur(it) != NULL; more > 0 && !b->err;) {
			nlh = batch_msg(b, NFT_MSG_NEWSETELEM, t->family,
					NLM_F_CREATE | NLM_F_EXCL);
			more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
			batch_push(b, tag);
		}
		nftnl_set_elems_iter_destroy(it);
	}
	for (size_t i = 0; i < t->nrules && !skeleton; i++) {
		struct nftnl_rule *r = t->rules[i];

		nftnl_rule_unset(r, NFTNL_RULE_HANDLE);
		nftnl_rule_unset(r, NFTNL_RULE_POSITION);
		snapshot_fix_compat(r);
		nlh = batch_msg(b, NFT_MSG_NEWRULE, t->family,
				NLM_F_CREATE | NLM_F_APPEND);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		batch_push(b, tag);
	}
	return b->err;
}

/* ---- restoring in place ----
 * Deleting and re-adding a table moves it to the end of the kernel's list
 * and re-registers its base chains after every other chain on the same
 * hook and priority: the order they run in changes (iptables' INPUT and an
 * nft input chain at priority 0, say). So a table that still exists is
 * emptied instead — rules flushed; sets, objects and flowtables deleted;
 * chains kept where they are still the same kind (base chains on the same
 * hook), others deleted — and filled again, all in the same one batch. */

static const char *chain_str(struct nftnl_chain *c, uint16_t a)
{
	return nftnl_chain_is_set(c, a) ? nftnl_chain_get_str(c, a) : "";
}

static bool same_base(struct nftnl_chain *a, struct nftnl_chain *b)
{
	return nftnl_chain_is_set(a, NFTNL_CHAIN_HOOKNUM) &&
	       nftnl_chain_is_set(b, NFTNL_CHAIN_HOOKNUM) &&
	       nftnl_chain_get_u32(a, NFTNL_CHAIN_HOOKNUM) ==
		       nftnl_chain_get_u32(b, NFTNL_CHAIN_HOOKNUM) &&
	       nftnl_chain_get_s32(a, NFTNL_CHAIN_PRIO) == nftnl_chain_get_s32(b, NFTNL_CHAIN_PRIO) &&
	       strcmp(chain_str(a, NFTNL_CHAIN_TYPE), chain_str(b, NFTNL_CHAIN_TYPE)) == 0 &&
	       strcmp(chain_str(a, NFTNL_CHAIN_DEV), chain_str(b, NFTNL_CHAIN_DEV)) == 0 &&
	       !nftnl_chain_is_set(a, NFTNL_CHAIN_DEVICES) &&
	       !nftnl_chain_is_set(b, NFTNL_CHAIN_DEVICES);
}

/* Which chains of t stay (emptied) rather than being deleted and made
 * again: those still there as the same object (same handle) and kind, as
 * long as every chain before them stays too — a chain listed after one
 * made again would change places. keep[i] for t->chains[i]. */
static void kept_chains(const struct snap_table *t, const struct snap_table *cur, bool *keep)
{
	bool prefix = true;

	for (size_t i = 0; i < t->nchains; i++) {
		struct nftnl_chain *c = t->chains[i], *now = NULL;
		const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
		bool base = nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM);

		for (size_t j = 0; j < cur->nchains && !now; j++)
			if (strcmp(nftnl_chain_get_str(cur->chains[j], NFTNL_CHAIN_NAME), name) == 0)
				now = cur->chains[j];
		keep[i] = prefix && now && nftnl_chain_is_set(c, NFTNL_CHAIN_HANDLE) &&
			  nftnl_chain_get_u64(c, NFTNL_CHAIN_HANDLE) ==
				  nftnl_chain_get_u64(now, NFTNL_CHAIN_HANDLE) &&
			  base == nftnl_chain_is_set(now, NFTNL_CHAIN_HOOKNUM) &&
			  (!base || same_base(c, now));
		prefix = keep[i];
	}
}

static bool chain_kept(const struct snap_table *t, const bool *keep, struct nftnl_chain *cur)
{
	const char *name = nftnl_chain_get_str(cur, NFTNL_CHAIN_NAME);

	for (size_t i = 0; i < t->nchains; i++)
		if (keep[i] && strcmp(nftnl_chain_get_str(t->chains[i], NFTNL_CHAIN_NAME), name) == 0)
			return true;
	return false;
}

/* A message naming one object of cur's table by name, to delete it. */
#define DEL_BY_NAME(type, obj, msg, name_attr, table_attr) do { \
		struct type *d_ = type##_alloc(); \
		if (!d_) { \
			free(keep); \
			return -ENOMEM; \
		} \
		type##_set_str(d_, table_attr, t->name); \
		type##_set_str(d_, name_attr, type##_get_str(obj, name_attr)); \
		nlh = batch_msg(b, msg, t->family, 0); \
		type##_nlmsg_build_payload(nlh, d_); \
		type##_free(d_); \
		batch_push(b, tag); \
	} while (0)

static int restore_table_inplace(struct batch *b, const struct snap_table *t,
				 const struct snap_table *cur, int tag)
{
	struct nlmsghdr *nlh;
	struct nftnl_rule *flush = nftnl_rule_alloc();
	bool *keep = calloc(t->nchains + 1, sizeof(*keep));

	if (!flush || !keep) {
		if (flush)
			nftnl_rule_free(flush);
		free(keep);
		return -ENOMEM;
	}
	kept_chains(t, cur, keep);
	/* the table's flags and comment as they were */
	nftnl_table_unset(t->table, NFTNL_TABLE_HANDLE);
	nlh = batch_msg(b, NFT_MSG_NEWTABLE, t->family, NLM_F_CREATE);
	nftnl_table_nlmsg_build_payload(nlh, t->table);
	batch_push(b, tag);
	/* empty it: every rule (anonymous sets go with their rules), then what
	 * rules could refer to */
	nftnl_rule_set_str(flush, NFTNL_RULE_TABLE, t->name);
	nlh = batch_msg(b, NFT_MSG_DELRULE, t->family, 0);
	nftnl_rule_nlmsg_build_payload(nlh, flush);
	nftnl_rule_free(flush);
	batch_push(b, tag);
	for (size_t i = 0; i < cur->nsets; i++)
		if (!(nftnl_set_get_u32(cur->sets[i], NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS))
			DEL_BY_NAME(nftnl_set, cur->sets[i], NFT_MSG_DELSET, NFTNL_SET_NAME,
				    NFTNL_SET_TABLE);
	for (size_t i = 0; i < cur->nobjs; i++) {
		struct nftnl_obj *d = nftnl_obj_alloc();

		if (!d) {
			free(keep);
			return -ENOMEM;
		}
		nftnl_obj_set_str(d, NFTNL_OBJ_TABLE, t->name);
		nftnl_obj_set_str(d, NFTNL_OBJ_NAME, nftnl_obj_get_str(cur->objs[i], NFTNL_OBJ_NAME));
		nftnl_obj_set_u32(d, NFTNL_OBJ_TYPE, nftnl_obj_get_u32(cur->objs[i], NFTNL_OBJ_TYPE));
		nlh = batch_msg(b, NFT_MSG_DELOBJ, t->family, 0);
		nftnl_obj_nlmsg_build_payload(nlh, d);
		nftnl_obj_free(d);
		batch_push(b, tag);
	}
	for (size_t i = 0; i < cur->nflowtables; i++)
		DEL_BY_NAME(nftnl_flowtable, cur->flowtables[i], NFT_MSG_DELFLOWTABLE,
			    NFTNL_FLOWTABLE_NAME, NFTNL_FLOWTABLE_TABLE);
	for (size_t i = 0; i < cur->nchains; i++)
		if (!chain_kept(t, keep, cur->chains[i]))
			DEL_BY_NAME(nftnl_chain, cur->chains[i], NFT_MSG_DELCHAIN, NFTNL_CHAIN_NAME,
				    NFTNL_CHAIN_TABLE);
	/* fill it again */
	for (size_t i = 0; i < t->nchains; i++) {
		nftnl_chain_unset(t->chains[i], NFTNL_CHAIN_HANDLE);
		/* a kept chain: only its policy (base chains) changes */
		nlh = batch_msg(b, NFT_MSG_NEWCHAIN, t->family,
				keep[i] ? NLM_F_CREATE : NLM_F_CREATE | NLM_F_EXCL);
		nftnl_chain_nlmsg_build_payload(nlh, t->chains[i]);
		batch_push(b, tag);
	}
	free(keep);
	return fill_table(b, t, tag, false);
}
#undef DEL_BY_NAME

/* cur: the tables as they are now (a skeleton), to restore in place;
 * NULL: delete and re-add. */
static int restore(struct nl *nl, const struct snapshot *s, const struct snapshot *cur,
		   uint32_t guard, bool skeleton, char *err, size_t errlen)
{
	struct batch b;
	int ret = batch_open(&b, guard), tag = -1;

	for (size_t i = 0; i < s->ntables && !ret; i++) {
		const struct snap_table *now = cur ? &cur->tables[i] : NULL;

		if (now && !now->absent && !s->tables[i].absent)
			ret = restore_table_inplace(&b, &s->tables[i], now, (int)i);
		else
			ret = restore_table(&b, &s->tables[i], (int)i, skeleton);
	}
	if (ret) {
		snprintf(err, errlen, "restore: out of memory");
		batch_free(&b);
		return ret;
	}
	ret = batch_commit(nl, &b, &tag, err, errlen);
	if (ret && tag >= 0) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, " (restoring table %s %s)",
			 ruleset_family_name(s->tables[tag].family), s->tables[tag].name);
	}
	batch_free(&b);
	return ret;
}

int snapshot_restore(struct nl *nl, const struct snapshot *s, uint32_t guard,
		     char *err, size_t errlen)
{
	struct snap_id *ids = calloc(s->ntables + 1, sizeof(*ids));
	struct snapshot cur;
	int ret = -ENOMEM;

	for (size_t i = 0; ids && i < s->ntables; i++)
		ids[i] = (struct snap_id){ s->tables[i].family, s->tables[i].name };
	/* in place where the table is still there; if the kernel refuses that
	 * (a case it was not made for), the whole tables, as a second batch */
	if (ids && snapshot_take(nl, ids, s->ntables, true, &cur, err, errlen) == 0) {
		ret = restore(nl, s, &cur, guard, false, err, errlen);
		snapshot_free(&cur);
	}
	free(ids);
	if (ret && ret != -ERESTART)
		ret = restore(nl, s, NULL, guard, false, err, errlen);
	return ret;
}

int snapshot_restore_skeleton(struct nl *nl, const struct snapshot *s, char *err,
			      size_t errlen)
{
	return restore(nl, s, NULL, 0, true, err, errlen);
}
