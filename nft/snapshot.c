#include "nft/snapshot.h"

#include "nft/elemkeys.h"

#include "nft/batch.h"
#include "model/fmt.h"
#include "model/ruleset.h"
#include "util/grow.h"

#include <arpa/inet.h>
#include <endian.h>
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
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- holding objects ---- */

int snapshot_push(void *arrp, size_t *n, size_t *cap, void *obj)
{
	void **slot = grow_slot(arrp, n, cap, sizeof(void *), 16);

	if (!slot)
		return -ENOMEM;
	*slot = obj;
	return 0;
}

struct undo_step *snapshot_add_step(struct snap_table *t, enum undo_kind kind, const char *chain)
{
	struct undo_step *st = grow_slot(&t->steps, &t->nsteps, &t->steps_cap, sizeof(*t->steps), 8);

	if (!st)
		return NULL;
	st->kind = kind;
	st->after_step = -1;
	st->chain = strdup(chain);
	if (!st->chain) {
		t->nsteps--;
		return NULL;
	}
	return st;
}

void snapshot_step_free(struct undo_step *st)
{
	free(st->chain);
	if (st->rule)
		nftnl_rule_free(st->rule);
	for (size_t i = 0; i < st->nsets; i++)
		nftnl_set_free(st->sets[i]);
	free(st->sets);
	memset(st, 0, sizeof(*st));
}

void snapshot_table_free(struct snap_table *t)
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
	for (size_t i = 0; i < t->nsteps; i++)
		snapshot_step_free(&t->steps[i]);
	free(t->steps);
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
		snapshot_table_free(&s->tables[i]);
	free(s->tables);
	memset(s, 0, sizeof(*s));
}

/* ---- dumping ---- */

/* One dump callback for every object kind: parse into a fresh object and
 * keep it if it belongs to the table (dumps filter by family only). */
struct collect {
	struct snap_table *t;
	int kind;
	char *buf;           /* K_RULE: NORM_MAX bytes for accepted_rule() */
};

enum { K_CHAIN, K_SET, K_OBJ, K_FLOWTABLE, K_RULE };


/* Each kind of object: how to make, parse, name its table and free it,
 * and where the table keeps it. */
struct kind_ops {
	void *(*alloc)(void);
	int (*parse)(const struct nlmsghdr *, void *);
	const char *(*table)(void *);
	void (*free)(void *);
	size_t arr_off, n_off, cap_off;
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
	  offsetof(struct snap_table, n##field), offsetof(struct snap_table, field##_cap) }

static const struct kind_ops kinds[] = {
	[K_CHAIN] = OPS(nftnl_chain, chains, chain_table),
	[K_SET] = OPS(nftnl_set, sets, set_table),
	[K_OBJ] = OPS(nftnl_obj, objs, obj_table),
	[K_FLOWTABLE] = OPS(nftnl_flowtable, flowtables, ft_table),
	[K_RULE] = OPS(nftnl_rule, rules, rule_table),
};

/* ---- the form the kernel accepts ----
 * Some expressions are dumped in a form the kernel refuses back, with the
 * same meaning in a form it takes:
 * - dynset (`update @s`, `add @s`, meters) always carries
 *   NFTA_DYNSET_TIMEOUT, 0 when the rule sets none; the kernel refuses the
 *   attribute (EOPNOTSUPP) on a set without the timeout flag, and reads
 *   its absence as 0;
 * - a dynset of several statements is dumped as NFTA_DYNSET_EXPRESSIONS
 *   without NFT_DYNSET_F_EXPR in NFTA_DYNSET_FLAGS, which the kernel wants
 *   with them (EINVAL);
 * - exthdr always carries offset, length, flags and op; a TCP option set
 *   (`tcp option maxseg size set 1360`) is refused with flags, a TCP
 *   option strip (`reset tcp option sack-perm`) with any of the three
 *   (EINVAL).
 * Every dumped rule is parsed from its accepted form, so that snapshots,
 * their files, digests and moved rules all hold what can be sent back. */

/* a rewrite grows a message by 8 bytes a dynset; libnftnl's element
 * builder (set_clone) fills a message past 64 KiB by up to one element */
#define NORM_MAX (2 * NL_RECV_SIZE + 16384)

static void copy_attr(struct nlmsghdr *out, const struct nlattr *a)
{
	mnl_attr_put(out, mnl_attr_get_type(a), mnl_attr_get_payload_len(a),
		     mnl_attr_get_payload(a));
}

static void put_dynset(struct nlmsghdr *out, const struct nlattr *data)
{
	struct nlattr *nest = mnl_attr_nest_start(out, mnl_attr_get_type(data));
	const struct nlattr *x;
	bool several = false, flags_put = false;

	mnl_attr_for_each_nested(x, data)
		several = several || mnl_attr_get_type(x) == NFTA_DYNSET_EXPRESSIONS;
	mnl_attr_for_each_nested(x, data) {
		uint16_t type = mnl_attr_get_type(x);

		if (type == NFTA_DYNSET_TIMEOUT && mnl_attr_get_payload_len(x) == 8 &&
		    mnl_attr_get_u64(x) == 0)
			continue;
		if (type == NFTA_DYNSET_FLAGS && mnl_attr_get_payload_len(x) == 4) {
			uint32_t f = ntohl(mnl_attr_get_u32(x));

			mnl_attr_put_u32(out, type, htonl(several ? f | NFT_DYNSET_F_EXPR : f));
			flags_put = true;
			continue;
		}
		copy_attr(out, x);
	}
	if (several && !flags_put)
		mnl_attr_put_u32(out, NFTA_DYNSET_FLAGS, htonl(NFT_DYNSET_F_EXPR));
	mnl_attr_nest_end(out, nest);
}

static void put_exthdr(struct nlmsghdr *out, const struct nlattr *data)
{
	struct nlattr *nest = mnl_attr_nest_start(out, mnl_attr_get_type(data));
	const struct nlattr *x;
	bool sreg = false, dreg = false, tcpopt = false;

	mnl_attr_for_each_nested(x, data) {
		uint16_t type = mnl_attr_get_type(x);

		sreg = sreg || type == NFTA_EXTHDR_SREG;
		dreg = dreg || type == NFTA_EXTHDR_DREG;
		if (type == NFTA_EXTHDR_OP && mnl_attr_get_payload_len(x) == 4)
			tcpopt = ntohl(mnl_attr_get_u32(x)) == NFT_EXTHDR_OP_TCPOPT;
	}
	mnl_attr_for_each_nested(x, data) {
		uint16_t type = mnl_attr_get_type(x);

		if (tcpopt && !dreg && type == NFTA_EXTHDR_FLAGS)
			continue; /* set and strip take no flags */
		if (tcpopt && !dreg && !sreg &&
		    (type == NFTA_EXTHDR_OFFSET || type == NFTA_EXTHDR_LEN))
			continue; /* strip: the option's type only */
		copy_attr(out, x);
	}
	mnl_attr_nest_end(out, nest);
}

/* The expressions dumped in a form the kernel refuses: how to write each. */
static const struct {
	const char *name;
	void (*put)(struct nlmsghdr *out, const struct nlattr *data);
} rewrites[] = {
	{ "dynset", put_dynset },
	{ "exthdr", put_exthdr },
};

void snapshot_copy_rule(struct nlmsghdr *out, const struct nlmsghdr *in, snapshot_expr_fn fn,
			void *ctx)
{
	const struct nlattr *a, *e, *x;

	mnl_attr_for_each(a, in, sizeof(struct nfgenmsg)) {
		struct nlattr *list;

		if (mnl_attr_get_type(a) != NFTA_RULE_EXPRESSIONS) {
			copy_attr(out, a);
			continue;
		}
		list = mnl_attr_nest_start(out, NFTA_RULE_EXPRESSIONS);
		mnl_attr_for_each_nested(e, a) {
			struct nlattr *elem = mnl_attr_nest_start(out, mnl_attr_get_type(e));
			const char *name = "";

			mnl_attr_for_each_nested(x, e)
				if (mnl_attr_get_type(x) == NFTA_EXPR_NAME &&
				    mnl_attr_validate(x, MNL_TYPE_NUL_STRING) == 0)
					name = mnl_attr_get_str(x);
			mnl_attr_for_each_nested(x, e)
				if (mnl_attr_get_type(x) != NFTA_EXPR_DATA || !fn(out, name, x, ctx))
					copy_attr(out, x);
			mnl_attr_nest_end(out, elem);
		}
		mnl_attr_nest_end(out, list);
	}
}

static bool accepted_expr(struct nlmsghdr *out, const char *name, const struct nlattr *data,
			  void *ctx)
{
	(void)ctx;
	for (size_t k = 0; k < sizeof(rewrites) / sizeof(rewrites[0]); k++)
		if (strcmp(name, rewrites[k].name) == 0) {
			rewrites[k].put(out, data);
			return true;
		}
	return false;
}

/* The rule message in, as the kernel takes it back, into buf (NORM_MAX). */
static const struct nlmsghdr *accepted_rule(const struct nlmsghdr *in, char *buf)
{
	struct nlmsghdr *out = (struct nlmsghdr *)buf;

	if (in->nlmsg_len > NL_RECV_SIZE)
		return in;
	memcpy(out, in, NLMSG_HDRLEN + sizeof(struct nfgenmsg));
	out->nlmsg_len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
	snapshot_copy_rule(out, in, accepted_expr, NULL);
	return out;
}

int snapshot_parse_rule(const struct nlmsghdr *nlh, struct nftnl_rule *r)
{
	char *buf = calloc(1, NORM_MAX);
	int ret;

	if (!buf)
		return -1;
	ret = nftnl_rule_nlmsg_parse(accepted_rule(nlh, buf), r);
	free(buf);
	return ret;
}

static int collect_cb(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	const struct kind_ops *k = &kinds[c->kind];
	void *obj = k->alloc();
	const char *table;

	if (!obj)
		return MNL_CB_ERROR;
	if ((c->kind == K_RULE ? nftnl_rule_nlmsg_parse(accepted_rule(nlh, c->buf), obj)
			       : k->parse(nlh, obj)) < 0) {
		k->free(obj);
		return MNL_CB_ERROR;
	}
	table = k->table(obj);
	/* dumps of chains filter by family only: skip other tables' */
	if (!table || strcmp(table, c->t->name) != 0) {
		k->free(obj);
		return MNL_CB_OK;
	}
	if (snapshot_push((char *)c->t + k->arr_off, (size_t *)((char *)c->t + k->n_off),
			  (size_t *)((char *)c->t + k->cap_off), obj) < 0) {
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
	struct collect c = { t, kind, NULL };
	struct nlmsghdr *req = nl_request(nl, type, t->family, NLM_F_DUMP);

	/* name the table where the kernel filters by it (objects, flowtables,
	 * sets); chains are checked in collect_cb */
	mnl_attr_put_strz(req, kind == K_OBJ ? NFTA_OBJ_TABLE
			       : kind == K_FLOWTABLE ? NFTA_FLOWTABLE_TABLE
			       : kind == K_SET ? NFTA_SET_TABLE : NFTA_CHAIN_TABLE, t->name);
	return nl_talk(nl, req, collect_cb, &c);
}

static int dump_rules(struct nl *nl, struct snap_table *t, const char *chain, char *buf)
{
	struct collect c = { t, K_RULE, buf };
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

/* ---- single objects, read for an inverse (apply/inverse.c) ---- */

static int one_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_rule **r = data;

	if (*r)
		return MNL_CB_ERROR;
	*r = nftnl_rule_alloc();
	if (!*r || snapshot_parse_rule(nlh, *r) < 0)
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

int snapshot_get_rule(struct nl *nl, uint32_t family, const char *table, const char *chain,
		      uint64_t handle, struct nftnl_rule **out)
{
	struct nlmsghdr *req = nl_request(nl, NFT_MSG_GETRULE, family, NLM_F_ACK);
	int ret;

	*out = NULL;
	mnl_attr_put_strz(req, NFTA_RULE_TABLE, table);
	mnl_attr_put_strz(req, NFTA_RULE_CHAIN, chain);
	mnl_attr_put_u64(req, NFTA_RULE_HANDLE, htobe64(handle));
	ret = nl_talk(nl, req, one_rule_cb, out);
	if (!ret && !*out)
		ret = -ENOENT;
	if (ret && *out) {
		nftnl_rule_free(*out);
		*out = NULL;
	}
	return ret;
}

int snapshot_get_chain_rules(struct nl *nl, struct snap_table *t, const char *chain)
{
	char *buf = calloc(1, NORM_MAX);
	int ret = buf ? dump_rules(nl, t, chain, buf) : -ENOMEM;

	free(buf);
	return ret;
}

static int one_set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = data;

	return nftnl_set_nlmsg_parse(nlh, s) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int snapshot_get_set(struct nl *nl, uint32_t family, const char *table, const char *name,
		     struct nftnl_set **out)
{
	struct snap_table t = { .family = family, .name = (char *)table };
	struct nlmsghdr *req = nl_request(nl, NFT_MSG_GETSET, family, NLM_F_ACK);
	struct nftnl_set *s = nftnl_set_alloc();
	int ret;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	mnl_attr_put_strz(req, NFTA_SET_TABLE, table);
	mnl_attr_put_strz(req, NFTA_SET_NAME, name);
	ret = nl_talk(nl, req, one_set_cb, s);
	if (!ret)
		ret = dump_elems(nl, &t, s);
	if (ret)
		nftnl_set_free(s);
	else
		*out = s;
	return ret;
}

/* The anonymous sets a rule uses, for snapshot_get_rule_sets. */
struct rule_sets {
	struct nl *nl;
	uint32_t family;
	const char *table;
	struct nftnl_set ***sets;
	size_t *n, *cap;
	int err;
};

const char *snapshot_expr_set(struct nftnl_expr *e)
{
	const char *kind = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	uint16_t a = strcmp(kind, "lookup") == 0 ? NFTNL_EXPR_LOOKUP_SET
		     : strcmp(kind, "dynset") == 0 ? NFTNL_EXPR_DYNSET_SET_NAME
		     : strcmp(kind, "objref") == 0 ? NFTNL_EXPR_OBJREF_SET_NAME : 0;

	return a && nftnl_expr_is_set(e, a) ? nftnl_expr_get_str(e, a) : NULL;
}

static int rule_sets_cb(struct nftnl_expr *e, void *data)
{
	struct rule_sets *r = data;
	const char *name = snapshot_expr_set(e);
	struct nftnl_set *s;

	if (r->err || !name)
		return 0;
	for (size_t k = 0; k < *r->n; k++)
		if (strcmp(nftnl_set_get_str((*r->sets)[k], NFTNL_SET_NAME), name) == 0)
			return 0;
	r->err = snapshot_get_set(r->nl, r->family, r->table, name, &s);
	if (r->err)
		return 0;
	/* an anonymous set (`{ 22, 80 }`, a meter) goes with its rule; a
	 * named one stays */
	if (!(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS))
		nftnl_set_free(s);
	else if (snapshot_push(r->sets, r->n, r->cap, s) < 0) {
		nftnl_set_free(s);
		r->err = -ENOMEM;
	}
	return 0;
}

int snapshot_get_rule_sets(struct nl *nl, uint32_t family, const char *table,
			   struct nftnl_rule *rule, struct nftnl_set ***sets, size_t *n,
			   size_t *cap)
{
	struct rule_sets r = { nl, family, table, sets, n, cap, 0 };

	nftnl_expr_foreach(rule, rule_sets_cb, &r);
	return r.err;
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
	if (!ret && !skeleton && t->nchains) {
		char *buf = calloc(1, NORM_MAX);

		if (!buf)
			return -ENOMEM;
		for (size_t i = 0; i < t->nchains && !ret; i++)
			ret = dump_rules(nl, t, nftnl_chain_get_str(t->chains[i], NFTNL_CHAIN_NAME),
					 buf);
		free(buf);
	}
	return ret;
}

static int list_tables_cb(const struct nlmsghdr *nlh, void *data)
{
	struct snapshot *s = data;
	struct nftnl_table *nt = nftnl_table_alloc();
	struct snap_table *t;
	int ret = MNL_CB_ERROR;

	if (!nt || nftnl_table_nlmsg_parse(nlh, nt) < 0)
		goto out;
	t = grow_slot(&s->tables, &s->ntables, &s->tables_cap, sizeof(*s->tables), 8);
	if (!t)
		goto out;
	t->family = nftnl_table_get_u32(nt, NFTNL_TABLE_FAMILY);
	t->name = strdup(nftnl_table_get_str(nt, NFTNL_TABLE_NAME));
	if (t->name)
		ret = MNL_CB_OK;
	else
		s->ntables--;
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

/* ---- what each message is for ----
 * A restore batch names, for each message, the object it restores, so
 * that a refusal is reported as that object ("rule 5 of chain input"). */

enum what_kind { W_CLEAR, W_TABLE, W_CHAIN, W_SET, W_ELEMS, W_OBJ, W_FLOWTABLE, W_RULE, W_STEP };

struct what {
	uint32_t table;         /* index in the snapshot */
	uint32_t kind;          /* enum what_kind */
	size_t idx;             /* of the object in its table's array */
};

struct restore_ctx {
	struct batch b;
	const struct snapshot *s;
	struct what *w;
	size_t nw, capw;
	bool skeleton;
	bool prove;             /* only checked: steps of what is not there yet wait */
	uint32_t next_id;       /* rule and set ids in the batch */
	char *scratch;          /* NORM_MAX bytes: a message rewritten */
};

/* Close the message just built: it restores object idx of kind in table. */
static void put(struct restore_ctx *rc, size_t table, enum what_kind kind, size_t idx)
{
	if (grow(&rc->w, &rc->capw, rc->nw + 1, sizeof(*rc->w), 256)) {
		rc->b.err = -ENOMEM;
		batch_push(&rc->b, -1);
		return;
	}
	rc->w[rc->nw] = (struct what){ (uint32_t)table, kind, idx };
	batch_push(&rc->b, (int)rc->nw++);
}

static const char *obj_type_name(uint32_t type)
{
	static const char *const names[] = {
		[NFT_OBJECT_COUNTER] = "counter", [NFT_OBJECT_QUOTA] = "quota",
		[NFT_OBJECT_CT_HELPER] = "ct helper", [NFT_OBJECT_LIMIT] = "limit",
		[NFT_OBJECT_CONNLIMIT] = "connlimit", [NFT_OBJECT_TUNNEL] = "tunnel",
		[NFT_OBJECT_CT_TIMEOUT] = "ct timeout", [NFT_OBJECT_SECMARK] = "secmark",
		[NFT_OBJECT_CT_EXPECT] = "ct expectation", [NFT_OBJECT_SYNPROXY] = "synproxy",
	};

	return type < sizeof(names) / sizeof(names[0]) && names[type] ? names[type] : "object";
}

/* "rule 5 of chain input", "set blocklist", ... for a refused message */
static void describe(const struct snapshot *s, const struct what *w, char *buf, size_t len)
{
	const struct snap_table *t = &s->tables[w->table];
	char name[128];

	switch (w->kind) {
	case W_CLEAR:
		snprintf(buf, len, "emptying it before the restore");
		return;
	case W_TABLE:
		snprintf(buf, len, "the table itself");
		return;
	case W_CHAIN:
		fmt_sanitize(name, sizeof(name), nftnl_chain_get_str(t->chains[w->idx],
								      NFTNL_CHAIN_NAME));
		snprintf(buf, len, "chain %s", name);
		return;
	case W_SET:
	case W_ELEMS:
		fmt_sanitize(name, sizeof(name), nftnl_set_get_str(t->sets[w->idx], NFTNL_SET_NAME));
		snprintf(buf, len, "%s%s %s", w->kind == W_ELEMS ? "the elements of " : "",
			 nftnl_set_get_u32(t->sets[w->idx], NFTNL_SET_FLAGS) & NFT_SET_MAP ? "map"
											: "set",
			 name);
		return;
	case W_OBJ:
		fmt_sanitize(name, sizeof(name), nftnl_obj_get_str(t->objs[w->idx], NFTNL_OBJ_NAME));
		snprintf(buf, len, "%s %s",
			 obj_type_name(nftnl_obj_get_u32(t->objs[w->idx], NFTNL_OBJ_TYPE)), name);
		return;
	case W_FLOWTABLE:
		fmt_sanitize(name, sizeof(name), nftnl_flowtable_get_str(t->flowtables[w->idx],
									  NFTNL_FLOWTABLE_NAME));
		snprintf(buf, len, "flowtable %s", name);
		return;
	case W_STEP: {
		const struct undo_step *st = &t->steps[w->idx];
		static const char *const what[] = {
			[UNDO_DELRULE] = "deleting the rule the change added",
			[UNDO_REPLACE] = "putting back the rule the change replaced",
			[UNDO_ADDRULE] = "putting back the rule the change deleted",
			[UNDO_POLICY] = "putting back the policy",
			[UNDO_DELCHAIN] = "deleting the chain the change made",
			[UNDO_DELELEMS] = "deleting the elements the change added",
			[UNDO_ADDELEMS] = "putting back the elements the change removed",
		};

		fmt_sanitize(name, sizeof(name), st->chain);
		if (st->kind == UNDO_DELELEMS || st->kind == UNDO_ADDELEMS)
			snprintf(buf, len, "%s (set %s)", what[st->kind], name);
		else if (st->kind == UNDO_POLICY || st->kind == UNDO_DELCHAIN)
			snprintf(buf, len, "%s (chain %s)", what[st->kind], name);
		else
			snprintf(buf, len, "%s (handle %llu of chain %s)", what[st->kind],
				 (unsigned long long)st->handle, name);
		return;
	}
	case W_RULE: {
		const char *chain = nftnl_rule_get_str(t->rules[w->idx], NFTNL_RULE_CHAIN);
		size_t pos = 1;

		for (size_t i = 0; i < w->idx; i++)
			pos += strcmp(nftnl_rule_get_str(t->rules[i], NFTNL_RULE_CHAIN), chain) == 0;
		fmt_sanitize(name, sizeof(name), chain);
		snprintf(buf, len, "rule %zu of chain %s", pos, name);
		return;
	}
	}
	snprintf(buf, len, "an unknown object");
}

/* ---- restoring ---- */

/* Build obj's message without its handle (the kernel gives new objects
 * their own), leaving the snapshot as it was: a second try, and the map of
 * old to new handles, need them. */
#define WITHOUT_HANDLE(type, obj, attr, nlh) do { \
		bool had_ = type##_is_set(obj, attr); \
		uint64_t h_ = had_ ? type##_get_u64(obj, attr) : 0; \
		type##_unset(obj, attr); \
		type##_nlmsg_build_payload(nlh, obj); \
		if (had_) \
			type##_set_u64(obj, attr, h_); \
	} while (0)

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

static bool is_binding(struct nftnl_chain *c)
{
	return nftnl_chain_is_set(c, NFTNL_CHAIN_FLAGS) &&
	       (nftnl_chain_get_u32(c, NFTNL_CHAIN_FLAGS) & NFT_CHAIN_BINDING);
}

static bool chain_is_binding(const struct snap_table *t, const char *name)
{
	for (size_t i = 0; i < t->nchains; i++)
		if (strcmp(nftnl_chain_get_str(t->chains[i], NFTNL_CHAIN_NAME), name) == 0)
			return is_binding(t->chains[i]);
	return false;
}

/* Does rule r jump to (or goto) a chain bound to it that is not done yet? */
struct pending_ctx {
	const struct snap_table *t;
	const bool *done;        /* per chain */
	bool pending;
};

static int pending_cb(struct nftnl_expr *e, void *data)
{
	struct pending_ctx *p = data;
	const char *to;

	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "immediate") != 0 ||
	    !nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN))
		return 0;
	to = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);
	for (size_t i = 0; i < p->t->nchains; i++)
		if (p->done && !p->done[i] && is_binding(p->t->chains[i]) &&
		    strcmp(nftnl_chain_get_str(p->t->chains[i], NFTNL_CHAIN_NAME), to) == 0)
			p->pending = true;
	return 0;
}

/* The order rules go back in: a chain binding (`jump { ... }`) takes no
 * rule once the rule that jumps to it is in, so bound chains are filled
 * first, the innermost first; every chain keeps its own rule order.
 * order[k] is the index in t->rules of the k-th rule to add. */
static int rule_order(const struct snap_table *t, size_t *order)
{
	bool *done = calloc(t->nchains + 1, sizeof(*done));
	size_t n = 0;
	bool progress = true;

	if (!done)
		return -ENOMEM;
	while (progress) {
		progress = false;
		for (size_t c = 0; c < t->nchains; c++) {
			const char *name = nftnl_chain_get_str(t->chains[c], NFTNL_CHAIN_NAME);
			struct pending_ctx p = { t, done, false };

			if (done[c] || !is_binding(t->chains[c]))
				continue;
			for (size_t i = 0; i < t->nrules && !p.pending; i++)
				if (strcmp(nftnl_rule_get_str(t->rules[i], NFTNL_RULE_CHAIN), name) == 0)
					nftnl_expr_foreach(t->rules[i], pending_cb, &p);
			if (p.pending)
				continue;
			for (size_t i = 0; i < t->nrules; i++)
				if (strcmp(nftnl_rule_get_str(t->rules[i], NFTNL_RULE_CHAIN), name) == 0)
					order[n++] = i;
			done[c] = progress = true;
		}
	}
	/* then every other rule, in the order they were dumped */
	for (size_t i = 0; i < t->nrules; i++)
		if (!chain_is_binding(t, nftnl_rule_get_str(t->rules[i], NFTNL_RULE_CHAIN)))
			order[n++] = i;
	/* a binding nothing could order (a cycle: not made by nft) still goes */
	for (size_t c = 0; c < t->nchains; c++)
		for (size_t i = 0; !done[c] && is_binding(t->chains[c]) && i < t->nrules; i++)
			if (strcmp(nftnl_rule_get_str(t->rules[i], NFTNL_RULE_CHAIN),
				   nftnl_chain_get_str(t->chains[c], NFTNL_CHAIN_NAME)) == 0)
				order[n++] = i;
	free(done);
	return 0;
}

/* A rule's message as the kernel takes it back (no handle, no position:
 * appended; the xt protocol it was dumped without), leaving the snapshot's
 * object as it was dumped: digests, handle maps and a second try read it. */
static void build_rule(struct nlmsghdr *nlh, struct nftnl_rule *r)
{
	bool had_pos = nftnl_rule_is_set(r, NFTNL_RULE_POSITION);
	bool had_compat = nftnl_rule_is_set(r, NFTNL_RULE_COMPAT_PROTO);
	uint64_t pos = had_pos ? nftnl_rule_get_u64(r, NFTNL_RULE_POSITION) : 0;

	nftnl_rule_unset(r, NFTNL_RULE_POSITION);
	snapshot_fix_compat(r);
	WITHOUT_HANDLE(nftnl_rule, r, NFTNL_RULE_HANDLE, nlh);
	if (had_pos)
		nftnl_rule_set_u64(r, NFTNL_RULE_POSITION, pos);
	if (!had_compat) {
		nftnl_rule_unset(r, NFTNL_RULE_COMPAT_PROTO);
		nftnl_rule_unset(r, NFTNL_RULE_COMPAT_FLAGS);
	}
}

/* The test suite's way to a restore the kernel refuses (no rule form the
 * kernel dumps is refused once rewritten as above): every restore of the
 * table named "FAMILY:NAME" gets one more rule, loading a register no
 * kernel has. The guardian sets it from NFPILOT_TEST_BREAK_RESTORE. */
static char test_break[300];

void snapshot_test_break(const char *family_table)
{
	snprintf(test_break, sizeof(test_break), "%s", family_table ? family_table : "");
}

static void put_test_break(struct restore_ctx *rc, size_t ti)
{
	const struct snap_table *t = &rc->s->tables[ti];
	struct nftnl_rule *r;
	struct nftnl_expr *e;
	char key[300];

	const char *chain = t->nchains ? nftnl_chain_get_str(t->chains[0], NFTNL_CHAIN_NAME)
			    : t->nsteps ? t->steps[0].chain : NULL;

	snprintf(key, sizeof(key), "%s:%s", ruleset_family_name(t->family), t->name);
	if (!test_break[0] || strcmp(key, test_break) != 0 || !chain ||
	    !(r = nftnl_rule_alloc()))
		return;
	e = nftnl_expr_alloc("immediate");
	if (e) {
		nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, t->family);
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, t->name);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, 0x7fff); /* no such register */
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DATA, 1);
		nftnl_rule_add_expr(r, e);
		nftnl_rule_nlmsg_build_payload(batch_msg(&rc->b, NFT_MSG_NEWRULE, t->family,
							 NLM_F_CREATE | NLM_F_APPEND), r);
		put(rc, ti, W_TABLE, 0);
	}
	nftnl_rule_free(r);
}

/* After the table and its chains: objects, flowtables, sets with their
 * elements and the rules (not in a skeleton). */
static int fill_table(struct restore_ctx *rc, size_t ti)
{
	const struct snap_table *t = &rc->s->tables[ti];
	struct batch *b = &rc->b;
	struct nlmsghdr *nlh;
	size_t *order;

	for (size_t i = 0; i < t->nobjs; i++) {
		/* a handle in NEWOBJ is ignored (libnftnl 1.2 cannot unset it) */
		nlh = batch_msg(b, NFT_MSG_NEWOBJ, t->family, NLM_F_CREATE | NLM_F_EXCL);
		nftnl_obj_nlmsg_build_payload(nlh, t->objs[i]);
		put(rc, ti, W_OBJ, i);
	}
	for (size_t i = 0; i < t->nflowtables; i++) {
		nlh = batch_msg(b, NFT_MSG_NEWFLOWTABLE, t->family, NLM_F_CREATE | NLM_F_EXCL);
		WITHOUT_HANDLE(nftnl_flowtable, t->flowtables[i], NFTNL_FLOWTABLE_HANDLE, nlh);
		put(rc, ti, W_FLOWTABLE, i);
	}
	for (size_t i = 0; i < t->nsets; i++) {
		struct nftnl_set *s = t->sets[i];
		struct nftnl_set_elems_iter *it;

		/* anonymous sets belong to rules, which a skeleton has not */
		if (rc->skeleton && (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS))
			continue;
		nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)i + 1); /* required */
		nlh = batch_msg(b, NFT_MSG_NEWSET, t->family, NLM_F_CREATE | NLM_F_EXCL);
		WITHOUT_HANDLE(nftnl_set, s, NFTNL_SET_HANDLE, nlh);
		nftnl_set_unset(s, NFTNL_SET_ID); /* as dumped: digests compare it */
		put(rc, ti, W_SET, i);
		if (rc->skeleton)
			continue;
		/* elements, as many messages as they need */
		it = nftnl_set_elems_iter_create(s);
		if (!it)
			return -ENOMEM;
		/* the builder fills a message and says whether more remain */
		for (int more = nftnl_set_elems_iter_cur(it) != NULL; more > 0 && !b->err;) {
			nlh = batch_msg(b, NFT_MSG_NEWSETELEM, t->family,
					NLM_F_CREATE | NLM_F_EXCL);
			more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
			put(rc, ti, W_ELEMS, i);
		}
		nftnl_set_elems_iter_destroy(it);
	}
	if (rc->skeleton || !t->nrules)
		return b->err;
	order = calloc(t->nrules, sizeof(*order));
	if (!order || rule_order(t, order)) {
		free(order);
		return -ENOMEM;
	}
	for (size_t k = 0; k < t->nrules; k++) {
		nlh = batch_msg(b, NFT_MSG_NEWRULE, t->family, NLM_F_CREATE | NLM_F_APPEND);
		build_rule(nlh, t->rules[order[k]]);
		put(rc, ti, W_RULE, order[k]);
	}
	free(order);
	put_test_break(rc, ti);
	return b->err;
}

/* A new chain of t: every chain but, in a skeleton, chain bindings (they
 * exist only with the rule bound to them). */
static void put_chain(struct restore_ctx *rc, size_t ti, size_t i, bool exists)
{
	const struct snap_table *t = &rc->s->tables[ti];
	struct nlmsghdr *nlh;

	if (rc->skeleton && is_binding(t->chains[i]))
		return;
	/* a chain that stays: only its policy (base chains) changes */
	nlh = batch_msg(&rc->b, NFT_MSG_NEWCHAIN, t->family,
			exists ? NLM_F_CREATE : NLM_F_CREATE | NLM_F_EXCL);
	WITHOUT_HANDLE(nftnl_chain, t->chains[i], NFTNL_CHAIN_HANDLE, nlh);
	put(rc, ti, W_CHAIN, i);
}

/* Table ti of the snapshot, whole: create it if missing, delete it, and
 * unless it was absent re-create it with everything it had. */
static int restore_table(struct restore_ctx *rc, size_t ti)
{
	const struct snap_table *t = &rc->s->tables[ti];
	struct nlmsghdr *nlh;
	struct nftnl_table *bare = nftnl_table_alloc();

	if (!bare)
		return -ENOMEM;
	nftnl_table_set_u32(bare, NFTNL_TABLE_FAMILY, t->family);
	nftnl_table_set_str(bare, NFTNL_TABLE_NAME, t->name);
	/* add (no EXCL: fine if it exists) then delete: gone either way */
	nlh = batch_msg(&rc->b, NFT_MSG_NEWTABLE, t->family, NLM_F_CREATE);
	nftnl_table_nlmsg_build_payload(nlh, bare);
	put(rc, ti, W_CLEAR, 0);
	nlh = batch_msg(&rc->b, NFT_MSG_DELTABLE, t->family, 0);
	nftnl_table_nlmsg_build_payload(nlh, bare);
	put(rc, ti, W_CLEAR, 0);
	nftnl_table_free(bare);
	if (t->absent)
		return rc->b.err;

	nlh = batch_msg(&rc->b, NFT_MSG_NEWTABLE, t->family, NLM_F_CREATE | NLM_F_EXCL);
	WITHOUT_HANDLE(nftnl_table, t->table, NFTNL_TABLE_HANDLE, nlh);
	put(rc, ti, W_TABLE, 0);
	for (size_t i = 0; i < t->nchains; i++)
		put_chain(rc, ti, i, false);
	return fill_table(rc, ti);
}

/* ---- restoring in place ----
 * Deleting and re-adding a table moves it to the end of the kernel's list
 * and re-registers its base chains after every other chain on the same
 * hook and priority: the order they run in changes (iptables' INPUT and an
 * nft input chain at priority 0, say). So a table that still exists is
 * emptied instead — rules flushed (chain bindings go with the rules bound
 * to them); sets, objects and flowtables deleted; chains kept where they
 * are still the same kind (base chains on the same hook), others deleted —
 * and filled again, all in the same one batch. */

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
 * made again would change places. Chain bindings are never listed as
 * chains: they are always made again, and move nothing. keep[i] for
 * t->chains[i]. */
static void kept_chains(const struct snap_table *t, const struct snap_table *cur, bool *keep)
{
	bool prefix = true;

	for (size_t i = 0; i < t->nchains; i++) {
		struct nftnl_chain *c = t->chains[i], *now = NULL;
		const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
		bool base = nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM);

		if (is_binding(c))
			continue;
		for (size_t j = 0; j < cur->nchains && !now; j++)
			if (strcmp(nftnl_chain_get_str(cur->chains[j], NFTNL_CHAIN_NAME), name) == 0)
				now = cur->chains[j];
		keep[i] = prefix && now && !is_binding(now) &&
			  nftnl_chain_is_set(c, NFTNL_CHAIN_HANDLE) &&
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
		nlh = batch_msg(&rc->b, msg, t->family, 0); \
		type##_nlmsg_build_payload(nlh, d_); \
		type##_free(d_); \
		put(rc, ti, W_CLEAR, 0); \
	} while (0)

static int restore_table_inplace(struct restore_ctx *rc, size_t ti, const struct snap_table *cur)
{
	const struct snap_table *t = &rc->s->tables[ti];
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
	nlh = batch_msg(&rc->b, NFT_MSG_NEWTABLE, t->family, NLM_F_CREATE);
	WITHOUT_HANDLE(nftnl_table, t->table, NFTNL_TABLE_HANDLE, nlh);
	put(rc, ti, W_TABLE, 0);
	/* empty it: every rule (anonymous sets and chain bindings go with
	 * their rules), then what rules could refer to */
	nftnl_rule_set_str(flush, NFTNL_RULE_TABLE, t->name);
	nlh = batch_msg(&rc->b, NFT_MSG_DELRULE, t->family, 0);
	nftnl_rule_nlmsg_build_payload(nlh, flush);
	nftnl_rule_free(flush);
	put(rc, ti, W_CLEAR, 0);
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
		nlh = batch_msg(&rc->b, NFT_MSG_DELOBJ, t->family, 0);
		nftnl_obj_nlmsg_build_payload(nlh, d);
		nftnl_obj_free(d);
		put(rc, ti, W_CLEAR, 0);
	}
	for (size_t i = 0; i < cur->nflowtables; i++)
		DEL_BY_NAME(nftnl_flowtable, cur->flowtables[i], NFT_MSG_DELFLOWTABLE,
			    NFTNL_FLOWTABLE_NAME, NFTNL_FLOWTABLE_TABLE);
	for (size_t i = 0; i < cur->nchains; i++)
		if (!is_binding(cur->chains[i]) && !chain_kept(t, keep, cur->chains[i]))
			DEL_BY_NAME(nftnl_chain, cur->chains[i], NFT_MSG_DELCHAIN, NFTNL_CHAIN_NAME,
				    NFTNL_CHAIN_TABLE);
	/* fill it again */
	for (size_t i = 0; i < t->nchains; i++)
		put_chain(rc, ti, i, keep[i]);
	free(keep);
	return fill_table(rc, ti);
}
#undef DEL_BY_NAME

/* The table of cur that t is, or NULL. */
static const struct snap_table *find_table(const struct snapshot *cur, const struct snap_table *t)
{
	for (size_t i = 0; i < cur->ntables; i++)
		if (cur->tables[i].family == t->family && strcmp(cur->tables[i].name, t->name) == 0)
			return &cur->tables[i];
	return NULL;
}

/* ---- restoring a delta: the inverse of edits ---- */

/* A rule's references to some sets (names[k]) written as the new sets
 * ids[k] ("__set%d": the kernel names them). */
struct set_refs {
	const char *const *names;
	const uint32_t *ids;
	size_t n;
};

static bool renamed_set_expr(struct nlmsghdr *out, const char *name, const struct nlattr *x,
			     void *ctx)
{
	static const struct {
		const char *expr;
		uint16_t name, id;
	} refs[] = {
		{ "lookup", NFTA_LOOKUP_SET, NFTA_LOOKUP_SET_ID },
		{ "dynset", NFTA_DYNSET_SET_NAME, NFTA_DYNSET_SET_ID },
		{ "objref", NFTA_OBJREF_SET_NAME, NFTA_OBJREF_SET_ID },
	};
	const struct set_refs *sr = ctx;
	const struct nlattr *d;
	struct nlattr *data;
	long id = -1;
	int r = -1;

	for (size_t k = 0; k < sizeof(refs) / sizeof(refs[0]); k++)
		if (strcmp(name, refs[k].expr) == 0)
			r = (int)k;
	if (r < 0 || !sr->n)
		return false;
	data = mnl_attr_nest_start(out, NFTA_EXPR_DATA);
	mnl_attr_for_each_nested(d, x) {
		uint16_t type = mnl_attr_get_type(d);

		for (size_t k = 0; type == refs[r].name && k < sr->n; k++)
			if (strcmp(mnl_attr_get_str(d), sr->names[k]) == 0)
				id = sr->ids[k];
		if (type == refs[r].name && id >= 0)
			mnl_attr_put_strz(out, type, "__set%d");
		else if (type != refs[r].id)
			copy_attr(out, d);
	}
	if (id >= 0)
		mnl_attr_put_u32(out, refs[r].id, htonl((uint32_t)id));
	mnl_attr_nest_end(out, data);
	return true;
}

/* The elements of set s in messages of type (and flags). */
static void put_set_elems(struct restore_ctx *rc, size_t ti, size_t si, struct nftnl_set *s,
			  uint16_t type, uint16_t flags)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);

	if (!it)
		rc->b.err = -ENOMEM;
	for (int more = it && nftnl_set_elems_iter_cur(it); more > 0 && !rc->b.err;) {
		struct nlmsghdr *nlh = batch_msg(&rc->b, type, rc->s->tables[ti].family, flags);

		more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
		put(rc, ti, W_STEP, si);
	}
	if (it)
		nftnl_set_elems_iter_destroy(it);
}

/* The anonymous sets of a step, made again (they went with the rule that
 * used them); ids[] gets their ids in the batch. Proving, while the sets
 * are still there, under new names ("__set%d": the kernel names them);
 * else under their own (a meter's name shows in the listing). */
static void put_step_sets(struct restore_ctx *rc, size_t ti, size_t si, uint32_t *ids)
{
	const struct snap_table *t = &rc->s->tables[ti];
	const struct undo_step *st = &t->steps[si];

	for (size_t k = 0; k < st->nsets; k++) {
		struct nftnl_set *set = st->sets[k];
		char *old = strdup(nftnl_set_get_str(set, NFTNL_SET_NAME));
		struct nlmsghdr *nlh;

		if (!old) {
			rc->b.err = -ENOMEM;
			return;
		}
		ids[k] = ++rc->next_id;
		if (rc->prove)
			nftnl_set_set_str(set, NFTNL_SET_NAME, "__set%d");
		nftnl_set_set_u32(set, NFTNL_SET_ID, ids[k]);
		nlh = batch_msg(&rc->b, NFT_MSG_NEWSET, t->family, NLM_F_CREATE | NLM_F_EXCL);
		WITHOUT_HANDLE(nftnl_set, set, NFTNL_SET_HANDLE, nlh);
		put(rc, ti, W_STEP, si);
		put_set_elems(rc, ti, si, set, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL);
		nftnl_set_set_str(set, NFTNL_SET_NAME, old);
		nftnl_set_unset(set, NFTNL_SET_ID);
		free(old);
	}
}

/* The rule of step si as it was: REPLACE by its handle, ADDRULE in its
 * place; with rule id `id` for steps placed after it. */
static void put_step_rule(struct restore_ctx *rc, size_t ti, size_t si, const uint32_t *step_id)
{
	const struct snap_table *t = &rc->s->tables[ti];
	const struct undo_step *st = &t->steps[si];
	uint32_t ids[64];
	const char *names[64];
	size_t n = st->nsets < 64 ? st->nsets : 64;
	struct nlmsghdr *in = (struct nlmsghdr *)rc->scratch, *out;
	uint16_t flags = st->kind == UNDO_REPLACE ? NLM_F_REPLACE
			 : st->after || st->after_step >= 0 ? NLM_F_CREATE | NLM_F_APPEND
			 : NLM_F_CREATE; /* neither: first in the chain */

	put_step_sets(rc, ti, si, ids);
	for (size_t k = 0; k < n; k++)
		names[k] = nftnl_set_get_str(st->sets[k], NFTNL_SET_NAME);
	in = nftnl_nlmsg_build_hdr(rc->scratch, NFT_MSG_NEWRULE, (uint16_t)t->family, 0, 0);
	build_rule(in, st->rule);
	out = batch_msg(&rc->b, NFT_MSG_NEWRULE, t->family, flags);
	{
		struct set_refs sr = { names, ids, rc->prove ? n : 0 };

		snapshot_copy_rule(out, in, renamed_set_expr, &sr);
		memset(in, 0, in->nlmsg_len); /* the scratch stays clean: no stale padding */
	}
	if (st->kind == UNDO_REPLACE)
		mnl_attr_put_u64(out, NFTA_RULE_HANDLE, htobe64(st->handle));
	else if (st->after)
		mnl_attr_put_u64(out, NFTA_RULE_POSITION, htobe64(st->after));
	else if (st->after_step >= 0)
		mnl_attr_put_u32(out, NFTA_RULE_POSITION_ID, htonl(step_id[st->after_step]));
	mnl_attr_put_u32(out, NFTA_RULE_ID, htonl(step_id[si]));
	put(rc, ti, W_STEP, si);
}

/* A message naming a rule or chain of t: DELRULE, DELCHAIN, a policy. */
static void put_step_target(struct restore_ctx *rc, size_t ti, size_t si, uint16_t type)
{
	const struct snap_table *t = &rc->s->tables[ti];
	const struct undo_step *st = &t->steps[si];
	struct nlmsghdr *nlh = batch_msg(&rc->b, type, t->family, 0);

	if (type == NFT_MSG_DELRULE) {
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, t->name);
		mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, st->chain);
		mnl_attr_put_u64(nlh, NFTA_RULE_HANDLE, htobe64(st->handle));
	} else {
		mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, t->name);
		mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, st->chain);
		if (type == NFT_MSG_NEWCHAIN)
			mnl_attr_put_u32(nlh, NFTA_CHAIN_POLICY, htonl((uint32_t)st->policy));
	}
	put(rc, ti, W_STEP, si);
}

/* The elements of an elements step: destroyed, or put back as they were
 * — any element of the same key destroyed first (an interval set takes
 * no element it holds already, even the same one: EEXIST). */
static void put_step_elems(struct restore_ctx *rc, size_t ti, size_t si)
{
	const struct snap_table *t = &rc->s->tables[ti];
	const struct undo_step *st = &t->steps[si];
	struct elemkeys k = { 0 };
	struct nftnl_set *keys;

	if (!st->nsets)
		return;
	if (st->kind == UNDO_DELELEMS) {
		put_set_elems(rc, ti, si, st->sets[0], NFT_MSG_DESTROYSETELEM, 0);
		return;
	}
	keys = elemkeys_add_set(&k, st->sets[0], false) ? NULL
	       : elemkeys_set(&k, t->family, t->name, st->chain);
	elemkeys_free(&k);
	if (!keys) {
		rc->b.err = -ENOMEM;
		return;
	}
	put_set_elems(rc, ti, si, keys, NFT_MSG_DESTROYSETELEM, 0);
	nftnl_set_free(keys);
	/* each expiry a time left again */
	keys = nftnl_set_alloc();
	if (!keys || elemkeys_copy_aged(st->sets[0], -(int64_t)elemkeys_now_ms(), keys) < 0)
		rc->b.err = -ENOMEM;
	else
		put_set_elems(rc, ti, si, keys, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
	if (keys)
		nftnl_set_free(keys);
}

/* Table ti's steps, in order. Proving (before the change), the steps on
 * what the change has still to make (its rules, its chains) wait. */
static int restore_delta(struct restore_ctx *rc, size_t ti)
{
	const struct snap_table *t = &rc->s->tables[ti];
	uint32_t *ids = calloc(t->nsteps + 1, sizeof(*ids));

	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < t->nsteps; i++)
		ids[i] = ++rc->next_id;
	for (size_t i = 0; i < t->nsteps && !rc->b.err; i++) {
		switch (t->steps[i].kind) {
		case UNDO_DELRULE:
			if (!rc->prove)
				put_step_target(rc, ti, i, NFT_MSG_DELRULE);
			break;
		case UNDO_DELCHAIN:
			if (!rc->prove)
				put_step_target(rc, ti, i, NFT_MSG_DELCHAIN);
			break;
		case UNDO_POLICY:
			put_step_target(rc, ti, i, NFT_MSG_NEWCHAIN);
			break;
		case UNDO_REPLACE:
		case UNDO_ADDRULE:
			put_step_rule(rc, ti, i, ids);
			break;
		case UNDO_DELELEMS:
		case UNDO_ADDELEMS:
			put_step_elems(rc, ti, i);
			break;
		}
	}
	free(ids);
	put_test_break(rc, ti);
	return rc->b.err;
}

/* One batch restoring the tables of s for which sel[i] (all with sel NULL):
 * in place where cur (a skeleton of them as they are now) has the table,
 * else whole. Committed, or with prove only checked by the kernel. 0, or
 * -errno with err naming the table and object the kernel refused and
 * *failed the index of that table (-1 if none in particular). */
static int restore_batch(struct nl *nl, const struct snapshot *s, const struct snapshot *cur,
			 const bool *sel, uint32_t guard, bool prove, bool skeleton, int *failed,
			 char *err, size_t errlen)
{
	struct restore_ctx rc = { .s = s, .skeleton = skeleton, .prove = prove };
	int ret = batch_open(&rc.b, guard), tag = -1;

	*failed = -1;
	rc.scratch = calloc(1, NORM_MAX);
	if (!rc.scratch)
		ret = -ENOMEM;
	for (size_t i = 0; i < s->ntables && !ret; i++) {
		const struct snap_table *now = cur ? find_table(cur, &s->tables[i]) : NULL;

		if (sel && !sel[i])
			continue;
		if (s->tables[i].delta)
			ret = restore_delta(&rc, i);
		else if (now && !now->absent && !s->tables[i].absent)
			ret = restore_table_inplace(&rc, i, now);
		else
			ret = restore_table(&rc, i);
	}
	free(rc.scratch);
	if (ret) {
		snprintf(err, errlen, "restore: out of memory");
		batch_free(&rc.b);
		free(rc.w);
		return ret;
	}
	ret = prove ? batch_check(nl, &rc.b, &tag, err, errlen)
		    : batch_commit(nl, &rc.b, &tag, err, errlen);
	if (ret && ret != -ERESTART && tag >= 0 && (size_t)tag < rc.nw) {
		const struct what *w = &rc.w[tag];
		char why[256], at[200], name[128];

		snprintf(why, sizeof(why), "%s", err);
		describe(s, w, at, sizeof(at));
		fmt_sanitize(name, sizeof(name), s->tables[w->table].name);
		snprintf(err, errlen, "the kernel refused the restore of table %s %s: %s at %s",
			 ruleset_family_name(s->tables[w->table].family), name, why, at);
		*failed = (int)w->table;
	}
	batch_free(&rc.b);
	free(rc.w);
	return ret;
}

/* The tables of s selected by sel, as the kernel would restore them: in
 * place, else (a case the in-place form was not made for) whole. */
static int restore_some(struct nl *nl, const struct snapshot *s, const bool *sel,
			uint32_t guard, bool prove, int *failed, char *err, size_t errlen)
{
	struct snap_id *ids = calloc(s->ntables + 1, sizeof(*ids));
	struct snapshot cur;
	size_t n = 0;
	bool whole = false;
	int ret = -ENOMEM;

	/* a delta needs nothing read; a whole table is restored in place
	 * where it exists, so what is there now is read first */
	for (size_t i = 0; ids && i < s->ntables; i++)
		if (!s->tables[i].delta && (!sel || sel[i]))
			ids[n++] = (struct snap_id){ s->tables[i].family, s->tables[i].name };
	if (ids && snapshot_take(nl, ids, n, true, &cur, err, errlen) == 0) {
		ret = restore_batch(nl, s, &cur, sel, guard, prove, false, failed, err, errlen);
		snapshot_free(&cur);
	}
	free(ids);
	for (size_t i = 0; i < s->ntables; i++)
		whole = whole || (!s->tables[i].delta && (!sel || sel[i]));
	if (ret && ret != -ERESTART && whole)
		ret = restore_batch(nl, s, NULL, sel, guard, prove, false, failed, err, errlen);
	return ret;
}

int snapshot_restore(struct nl *nl, const struct snapshot *s, uint32_t guard, unsigned flags,
		     int *table_err, char *err, size_t errlen)
{
	bool prove = flags & SNAP_PROVE;
	bool *sel;
	size_t len = 0;
	int failed, ret, first = 0;

	for (size_t i = 0; table_err && i < s->ntables; i++)
		table_err[i] = 0;
	ret = restore_some(nl, s, NULL, guard, prove, &failed, err, errlen);
	if (!ret || ret == -ERESTART || !(flags & SNAP_EACH) || s->ntables < 2) {
		for (size_t i = 0; ret && table_err && i < s->ntables; i++)
			table_err[i] = failed < 0 || (size_t)failed == i ? ret : 0;
		return ret;
	}
	/* one table refused: each on its own, so that the others come back */
	sel = calloc(s->ntables, sizeof(*sel));
	if (!sel)
		return ret;
	err[0] = 0;
	for (size_t i = 0; i < s->ntables; i++) {
		char why[512];
		int r;

		memset(sel, 0, s->ntables * sizeof(*sel));
		sel[i] = true;
		r = restore_some(nl, s, sel, 0, prove, &failed, why, sizeof(why));
		if (table_err)
			table_err[i] = r;
		if (!r)
			continue;
		if (!first)
			first = r;
		if (len < errlen) {
			int k = snprintf(err + len, errlen - len, "%s%s", len ? "; " : "", why);

			len += k > 0 ? (size_t)k : 0;
		}
	}
	free(sel);
	return first;
}

int snapshot_restore_skeleton(struct nl *nl, const struct snapshot *s, char *err,
			      size_t errlen)
{
	int failed;

	return restore_batch(nl, s, NULL, NULL, 0, false, true, &failed, err, errlen);
}

/* ---- handles after a restore ---- */

/* The rules of chain `chain` of t, in order: indexes into t->rules. */
static size_t chain_rules(const struct snap_table *t, const char *chain, size_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nrules; i++)
		if (strcmp(nftnl_rule_get_str(t->rules[i], NFTNL_RULE_CHAIN), chain) == 0)
			out[n++] = i;
	return n;
}

char *snapshot_handle_map(const struct snapshot *before, const struct snapshot *now)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	if (!fp)
		return NULL;
	for (size_t i = 0; i < before->ntables; i++) {
		const struct snap_table *a = &before->tables[i], *b = NULL;
		size_t *ra, *rb;

		for (size_t j = 0; j < now->ntables && !b; j++)
			if (now->tables[j].family == a->family &&
			    strcmp(now->tables[j].name, a->name) == 0 && !now->tables[j].absent)
				b = &now->tables[j];
		if (a->absent || !b)
			continue;
		ra = calloc(a->nrules + 1, sizeof(*ra));
		rb = calloc(b->nrules + 1, sizeof(*rb));
		for (size_t c = 0; ra && rb && c < a->nchains; c++) {
			const char *chain = nftnl_chain_get_str(a->chains[c], NFTNL_CHAIN_NAME);
			size_t na = chain_rules(a, chain, ra), nb = chain_rules(b, chain, rb);

			for (size_t k = 0; k < na && k < nb; k++) {
				uint64_t ho = nftnl_rule_get_u64(a->rules[ra[k]], NFTNL_RULE_HANDLE);
				uint64_t hn = nftnl_rule_get_u64(b->rules[rb[k]], NFTNL_RULE_HANDLE);

				if (ho != hn)
					fprintf(fp, "%s\t%s\t%s\t%llu\t%llu\n",
						ruleset_family_name(a->family), a->name, chain,
						(unsigned long long)ho, (unsigned long long)hn);
			}
		}
		free(ra);
		free(rb);
	}
	fclose(fp);
	return text;
}

/* ---- undoing a delta on a snapshot, in memory ---- */

/* A copy of an object, through its message (libnftnl has no copy). */
static struct nftnl_rule *rule_clone(struct nftnl_rule *r, char *buf)
{
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, 0, 0, 0);
	struct nftnl_rule *c = nftnl_rule_alloc();

	nftnl_rule_nlmsg_build_payload(nlh, r);
	if (c && nftnl_rule_nlmsg_parse(nlh, c) < 0) {
		nftnl_rule_free(c);
		c = NULL;
	}
	return c;
}

static struct nftnl_set *set_clone(struct nftnl_set *s, char *buf)
{
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSET, 0, 0, 0);
	struct nftnl_set *c = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;

	nftnl_set_nlmsg_build_payload(nlh, s);
	if (!c || nftnl_set_nlmsg_parse(nlh, c) < 0) {
		if (c)
			nftnl_set_free(c);
		return NULL;
	}
	it = nftnl_set_elems_iter_create(s);
	for (int more = it && nftnl_set_elems_iter_cur(it); more > 0;) {
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSETELEM, 0, 0, 0);
		more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
		/* the builder numbers the elements' nests; the parser wants each
		 * to be NFTA_LIST_ELEM */
		{
			struct nlattr *a, *e;

			mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
				if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
					mnl_attr_for_each_nested(e, a)
						e->nla_type = (uint16_t)((e->nla_type & ~NLA_TYPE_MASK) |
									 NFTA_LIST_ELEM);
		}
		if (nftnl_set_elems_nlmsg_parse(nlh, c) < 0)
			more = -1;
	}
	if (it)
		nftnl_set_elems_iter_destroy(it);
	return c;
}

static long find_rule(const struct snap_table *t, const char *chain, uint64_t handle)
{
	for (size_t i = 0; i < t->nrules; i++)
		if (nftnl_rule_get_u64(t->rules[i], NFTNL_RULE_HANDLE) == handle &&
		    strcmp(nftnl_rule_get_str(t->rules[i], NFTNL_RULE_CHAIN), chain) == 0)
			return (long)i;
	return -1;
}

static long find_chain(const struct snap_table *t, const char *name)
{
	for (size_t i = 0; i < t->nchains; i++)
		if (strcmp(nftnl_chain_get_str(t->chains[i], NFTNL_CHAIN_NAME), name) == 0)
			return (long)i;
	return -1;
}

/* Where a rule goes first in chain ci: before the rules of chain ci and
 * of every later chain (the rules are grouped by chain, in chain order). */
static size_t chain_start(const struct snap_table *t, long ci)
{
	size_t i = 0;

	while (i < t->nrules && find_chain(t, nftnl_rule_get_str(t->rules[i], NFTNL_RULE_CHAIN)) < ci)
		i++;
	return i;
}

static int insert_rule(struct snap_table *t, size_t at, struct nftnl_rule *r)
{
	if (snapshot_push(&t->rules, &t->nrules, &t->rules_cap, r) < 0)
		return -ENOMEM;
	memmove(&t->rules[at + 1], &t->rules[at], (t->nrules - 1 - at) * sizeof(*t->rules));
	t->rules[at] = r;
	return 0;
}

static void remove_at(void **arr, size_t *n, size_t i)
{
	memmove(&arr[i], &arr[i + 1], (*n - i - 1) * sizeof(*arr));
	(*n)--;
}

/* Is anonymous set name used by a rule of t? */
struct uses_ctx {
	const char *name;
	bool used;
};

static int uses_cb(struct nftnl_expr *e, void *data)
{
	struct uses_ctx *u = data;
	const char *name = snapshot_expr_set(e);

	if (name && strcmp(name, u->name) == 0)
		u->used = true;
	return 0;
}

/* An elements step on t's set: those destroyed go, those put back come
 * (again: a re-added element replaces the one of the same key). */
static int undo_elems(struct snap_table *t, const struct undo_step *st)
{
	struct elemkeys k = { 0 };
	struct nftnl_set *s;
	size_t i;
	int ret;

	for (i = 0; i < t->nsets; i++)
		if (strcmp(nftnl_set_get_str(t->sets[i], NFTNL_SET_NAME), st->chain) == 0)
			break;
	if (i == t->nsets || !st->nsets)
		return i == t->nsets ? -ENOENT : 0;
	ret = elemkeys_add_set(&k, st->sets[0], false);
	s = ret ? NULL : elemkeys_without(&k, t->sets[i]);
	if (!ret && !s)
		ret = -ENOMEM;
	if (!ret && st->kind == UNDO_ADDELEMS)
		ret = elemkeys_copy_aged(st->sets[0], -(int64_t)elemkeys_now_ms(), s);
	elemkeys_free(&k);
	if (ret) {
		if (s)
			nftnl_set_free(s);
		return ret;
	}
	nftnl_set_free(t->sets[i]);
	t->sets[i] = s;
	return 0;
}

static int undo_step(struct snap_table *t, const struct snap_table *d, size_t si, char *buf)
{
	const struct undo_step *st = &d->steps[si];
	long i = -1, ci;
	struct nftnl_rule *r;

	if (st->kind == UNDO_DELELEMS || st->kind == UNDO_ADDELEMS)
		return undo_elems(t, st);
	ci = find_chain(t, st->chain);
	if (ci < 0)
		return -ENOENT;
	switch (st->kind) {
	case UNDO_DELRULE:
		if ((i = find_rule(t, st->chain, st->handle)) < 0)
			return -ENOENT;
		nftnl_rule_free(t->rules[i]);
		remove_at((void **)t->rules, &t->nrules, (size_t)i);
		return 0;
	case UNDO_POLICY:
		nftnl_chain_set_u32(t->chains[ci], NFTNL_CHAIN_POLICY, (uint32_t)st->policy);
		return 0;
	case UNDO_DELCHAIN:
		for (size_t k = t->nrules; k-- > 0;)
			if (strcmp(nftnl_rule_get_str(t->rules[k], NFTNL_RULE_CHAIN), st->chain) == 0) {
				nftnl_rule_free(t->rules[k]);
				remove_at((void **)t->rules, &t->nrules, k);
			}
		nftnl_chain_free(t->chains[ci]);
		remove_at((void **)t->chains, &t->nchains, (size_t)ci);
		return 0;
	case UNDO_REPLACE:
	case UNDO_ADDRULE:
	case UNDO_DELELEMS:
	case UNDO_ADDELEMS:
		break;
	}
	r = rule_clone(st->rule, buf);
	if (!r)
		return -ENOMEM;
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, st->handle);
	for (size_t k = 0; k < st->nsets; k++) {
		struct nftnl_set *s = set_clone(st->sets[k], buf);

		/* the kernel may have given its name to a set of a rule the
		 * change added (deleted by an earlier step): that one goes */
		for (size_t j = t->nsets; s && j-- > 0;)
			if (strcmp(nftnl_set_get_str(t->sets[j], NFTNL_SET_NAME),
				   nftnl_set_get_str(s, NFTNL_SET_NAME)) == 0) {
				nftnl_set_free(t->sets[j]);
				remove_at((void **)t->sets, &t->nsets, j);
			}
		if (!s || snapshot_push(&t->sets, &t->nsets, &t->sets_cap, s) < 0) {
			if (s)
				nftnl_set_free(s);
			nftnl_rule_free(r);
			return -ENOMEM;
		}
	}
	if (st->kind == UNDO_REPLACE) {
		if ((i = find_rule(t, st->chain, st->handle)) < 0) {
			nftnl_rule_free(r);
			return -ENOENT;
		}
		nftnl_rule_free(t->rules[i]);
		t->rules[i] = r;
		return 0;
	}
	if (st->after)
		i = find_rule(t, st->chain, st->after);
	else if (st->after_step >= 0)
		i = find_rule(t, st->chain, d->steps[st->after_step].handle);
	if ((st->after || st->after_step >= 0) && i < 0) {
		nftnl_rule_free(r);
		return -ENOENT;
	}
	if (insert_rule(t, i >= 0 ? (size_t)i + 1 : chain_start(t, ci), r) < 0) {
		nftnl_rule_free(r);
		return -ENOMEM;
	}
	return 0;
}

int snapshot_undo(struct snap_table *t, const struct snap_table *d)
{
	char *buf = calloc(1, NORM_MAX);
	int ret = buf ? 0 : -ENOMEM;

	for (size_t si = 0; si < d->nsteps && !ret; si++)
		ret = undo_step(t, d, si, buf);
	/* the anonymous sets of rules that went: not in the table before */
	for (size_t k = t->nsets; !ret && k-- > 0;) {
		struct uses_ctx u = { nftnl_set_get_str(t->sets[k], NFTNL_SET_NAME), false };

		if (!(nftnl_set_get_u32(t->sets[k], NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS))
			continue;
		for (size_t i = 0; i < t->nrules && !u.used; i++)
			nftnl_expr_foreach(t->rules[i], uses_cb, &u);
		if (!u.used) {
			nftnl_set_free(t->sets[k]);
			remove_at((void **)t->sets, &t->nsets, k);
		}
	}
	free(buf);
	return ret;
}
