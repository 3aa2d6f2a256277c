#include "probation/snapfile.h"
#include "util/safefile.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SNAP_MAGIC "NFPSNAP1"
#define MSG_MAX (1u << 20)   /* set element messages stay under 64 KiB */

struct file_hdr {
	char magic[8];
	uint32_t genid;
	uint32_t ntables;
	uint32_t all;
	uint32_t reserved;
};

/* Where messages go: a file, or the digest. */
struct sink {
	FILE *fp;
	uint64_t hash;
	bool canonical;          /* digest: leave out what changes by itself */
	char *buf;
	int err;
};

static struct nlmsghdr *sink_msg(struct sink *k, uint16_t type, uint32_t family)
{
	return nftnl_nlmsg_build_hdr(k->buf, type, (uint16_t)family, NLM_F_CREATE, 0);
}

/* The buffer stays zeroed where no message is: libmnl 1.0.4 leaves an
 * attribute's padding as it finds it, and a digest (or a file) of stale
 * bytes would differ for the same table. */
static void sink_clear(struct nlmsghdr *nlh)
{
	memset(nlh, 0, nlh->nlmsg_len);
}

static void sink_put(struct sink *k, struct nlmsghdr *nlh)
{
	if (k->fp) {
		if (fwrite(nlh, nlh->nlmsg_len, 1, k->fp) != 1)
			k->err = -errno ? -errno : -EIO;
	} else {
		/* FNV-1a */
		for (const unsigned char *p = (const void *)nlh, *e = p + nlh->nlmsg_len; p < e;
		     p++)
			k->hash = (k->hash ^ *p) * 0x100000001b3ULL;
	}
	sink_clear(nlh);
}

/* ---- counters out of the way, and back, for the digest ---- */

struct saved_ctr {
	struct nftnl_expr *e;
	uint16_t a, b;
	uint64_t va, vb;
};

static size_t zero_rule_counters(struct nftnl_rule *r, struct saved_ctr *sv, size_t max)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;
	size_t n = 0;

	while (it && (e = nftnl_expr_iter_next(it)) && n < max) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
		uint16_t a, b;

		if (strcmp(name, "counter") == 0) {
			a = NFTNL_EXPR_CTR_PACKETS;
			b = NFTNL_EXPR_CTR_BYTES;
		} else if (strcmp(name, "quota") == 0) {
			a = b = NFTNL_EXPR_QUOTA_CONSUMED;
		} else {
			continue;
		}
		sv[n] = (struct saved_ctr){ e, a, b, nftnl_expr_get_u64(e, a),
					    nftnl_expr_get_u64(e, b) };
		nftnl_expr_set_u64(e, a, 0);
		nftnl_expr_set_u64(e, b, 0);
		n++;
	}
	if (it)
		nftnl_expr_iter_destroy(it);
	return n;
}

static void put_back_counters(const struct saved_ctr *sv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		nftnl_expr_set_u64(sv[i].e, sv[i].a, sv[i].va);
		nftnl_expr_set_u64(sv[i].e, sv[i].b, sv[i].vb);
	}
}

/* ---- strings libnftnl writes without their NUL ----
 * The names of objref expressions and the strings of ct helper and secmark
 * objects are built with mnl_attr_put_str (the kernel does not mind) but
 * parsed with strdup: read back from a file, they would run on into the
 * next attribute. Such messages are copied with those strings ended. */

/* Copy the nested attribute a into out with its attributes of the given
 * types NUL-terminated. */
static void put_nest_terminated(struct nlmsghdr *out, const struct nlattr *a,
				const uint16_t *types, size_t ntypes)
{
	struct nlattr *nest = mnl_attr_nest_start(out, mnl_attr_get_type(a));
	const struct nlattr *x;

	mnl_attr_for_each_nested(x, a) {
		bool str = false;

		for (size_t i = 0; i < ntypes; i++)
			str = str || mnl_attr_get_type(x) == types[i];
		if (str) {
			char tmp[512];

			snprintf(tmp, sizeof(tmp), "%.*s", (int)mnl_attr_get_payload_len(x),
				 (const char *)mnl_attr_get_payload(x));
			mnl_attr_put_strz(out, mnl_attr_get_type(x), tmp);
		} else {
			mnl_attr_put(out, x->nla_type, mnl_attr_get_payload_len(x),
				     mnl_attr_get_payload(x));
		}
	}
	mnl_attr_nest_end(out, nest);
}

/* objref: its names ended */
static bool terminated_objref(struct nlmsghdr *out, const char *name, const struct nlattr *data,
			      void *ctx)
{
	static const uint16_t names[] = { NFTA_OBJREF_IMM_NAME, NFTA_OBJREF_SET_NAME };

	(void)ctx;
	if (strcmp(name, "objref") != 0)
		return false;
	put_nest_terminated(out, data, names, 2);
	return true;
}

static bool has_objref(struct nftnl_rule *r)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;
	bool found = false;

	while (it && !found && (e = nftnl_expr_iter_next(it)))
		found = strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "objref") == 0;
	if (it)
		nftnl_expr_iter_destroy(it);
	return found;
}

static void put_rule(struct sink *k, struct nftnl_rule *r, uint32_t family)
{
	struct saved_ctr sv[16];
	size_t n = k->canonical ? zero_rule_counters(r, sv, 16) : 0;
	struct nlmsghdr *nlh = sink_msg(k, NFT_MSG_NEWRULE, family);

	nftnl_rule_nlmsg_build_payload(nlh, r);
	put_back_counters(sv, n);
	if (has_objref(r)) {
		struct nlmsghdr *out = nftnl_nlmsg_build_hdr(k->buf + MSG_MAX / 2, NFT_MSG_NEWRULE,
							    (uint16_t)family, NLM_F_CREATE, 0);

		snapshot_copy_rule(out, nlh, terminated_objref, NULL);
		sink_clear(nlh);
		nlh = out;
	}
	sink_put(k, nlh);
}

static void put_chain(struct sink *k, struct nftnl_chain *c, uint32_t family)
{
	bool ctr = k->canonical && nftnl_chain_is_set(c, NFTNL_CHAIN_PACKETS);
	uint64_t p = ctr ? nftnl_chain_get_u64(c, NFTNL_CHAIN_PACKETS) : 0;
	uint64_t b = ctr ? nftnl_chain_get_u64(c, NFTNL_CHAIN_BYTES) : 0;
	struct nlmsghdr *nlh = sink_msg(k, NFT_MSG_NEWCHAIN, family);

	if (ctr) {
		nftnl_chain_unset(c, NFTNL_CHAIN_PACKETS);
		nftnl_chain_unset(c, NFTNL_CHAIN_BYTES);
	}
	nftnl_chain_nlmsg_build_payload(nlh, c);
	if (ctr) {
		nftnl_chain_set_u64(c, NFTNL_CHAIN_PACKETS, p);
		nftnl_chain_set_u64(c, NFTNL_CHAIN_BYTES, b);
	}
	sink_put(k, nlh);
}

static void put_obj(struct sink *k, struct nftnl_obj *o, uint32_t family)
{
	uint32_t type = nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE);
	bool canon = k->canonical && (type == NFT_OBJECT_COUNTER || type == NFT_OBJECT_QUOTA);
	uint16_t a = type == NFT_OBJECT_COUNTER ? NFTNL_OBJ_CTR_PKTS : NFTNL_OBJ_QUOTA_CONSUMED;
	uint16_t b = type == NFT_OBJECT_COUNTER ? NFTNL_OBJ_CTR_BYTES : NFTNL_OBJ_QUOTA_CONSUMED;
	uint64_t va = canon ? nftnl_obj_get_u64(o, a) : 0, vb = canon ? nftnl_obj_get_u64(o, b) : 0;
	struct nlmsghdr *nlh = sink_msg(k, NFT_MSG_NEWOBJ, family);

	if (canon) {
		nftnl_obj_set_u64(o, a, 0);
		nftnl_obj_set_u64(o, b, 0);
	}
	nftnl_obj_nlmsg_build_payload(nlh, o);
	if (canon) {
		nftnl_obj_set_u64(o, a, va);
		nftnl_obj_set_u64(o, b, vb);
	}
	if (type == NFT_OBJECT_CT_HELPER || type == NFT_OBJECT_SECMARK) {
		static const uint16_t strs[] = { NFTA_CT_HELPER_NAME, NFTA_SECMARK_CTX };
		struct nlmsghdr *out = nftnl_nlmsg_build_hdr(k->buf + MSG_MAX / 2, NFT_MSG_NEWOBJ,
							    (uint16_t)family, NLM_F_CREATE, 0);
		const struct nlattr *x;

		mnl_attr_for_each(x, nlh, sizeof(struct nfgenmsg)) {
			if (mnl_attr_get_type(x) == NFTA_OBJ_DATA)
				put_nest_terminated(out, x, type == NFT_OBJECT_CT_HELPER ? strs
						    : strs + 1, 1);
			else
				mnl_attr_put(out, x->nla_type, mnl_attr_get_payload_len(x),
					     mnl_attr_get_payload(x));
		}
		sink_clear(nlh);
		nlh = out;
	}
	sink_put(k, nlh);
}

/* libnftnl's builder numbers the elements' nests 1, 2, 3... (the kernel
 * does not mind) but its parser wants each to be NFTA_LIST_ELEM. */
static void number_elems(struct nlmsghdr *nlh)
{
	struct nlattr *a, *e;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(e, a)
			e->nla_type = (uint16_t)((e->nla_type & ~NLA_TYPE_MASK) | NFTA_LIST_ELEM);
	}
}

static void put_set(struct sink *k, struct nftnl_set *s, uint32_t family)
{
	uint32_t flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
	struct nlmsghdr *nlh = sink_msg(k, NFT_MSG_NEWSET, family);
	struct nftnl_set_elems_iter *it;

	nftnl_set_nlmsg_build_payload(nlh, s);
	sink_put(k, nlh);
	/* elements the ruleset adds itself say nothing about an edit */
	if (k->canonical && (flags & (NFT_SET_EVAL | NFT_SET_TIMEOUT)))
		return;
	it = nftnl_set_elems_iter_create(s);
	if (!it) {
		k->err = -ENOMEM;
		return;
	}
	for (int more = nftnl_set_elems_iter_cur(it) != NULL; more > 0;) {
		nlh = sink_msg(k, NFT_MSG_NEWSETELEM, family);
		more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
		number_elems(nlh);
		sink_put(k, nlh);
	}
	nftnl_set_elems_iter_destroy(it);
}

/* ---- a delta: the steps that undo a change (snapshot.h) ----
 * A message GETTABLE naming the table starts it (a type no whole table
 * uses); then one message a step, as the kernel would take it where it
 * can: DELRULE; NEWRULE with NLM_F_REPLACE and the handle (REPLACE);
 * NEWRULE with NLM_F_APPEND, the handle it had and, as NFTA_RULE_POSITION
 * or NFTA_RULE_POSITION_ID (the index of a step, plus 1), where it goes
 * (ADDRULE), preceded by NEWSET/NEWSETELEM of its anonymous sets; NEWCHAIN
 * with the policy (POLICY); DELCHAIN. */

static void put_step_name(struct sink *k, const struct snap_table *t, const struct undo_step *st,
			  uint16_t type)
{
	struct nlmsghdr *nlh = sink_msg(k, type, t->family);
	bool chain = type != NFT_MSG_DELRULE;

	mnl_attr_put_strz(nlh, chain ? NFTA_CHAIN_TABLE : NFTA_RULE_TABLE, t->name);
	mnl_attr_put_strz(nlh, chain ? NFTA_CHAIN_NAME : NFTA_RULE_CHAIN, st->chain);
	if (type == NFT_MSG_DELRULE)
		mnl_attr_put_u64(nlh, NFTA_RULE_HANDLE, htobe64(st->handle));
	if (type == NFT_MSG_NEWCHAIN)
		mnl_attr_put_u32(nlh, NFTA_CHAIN_POLICY, htonl((uint32_t)st->policy));
	sink_put(k, nlh);
}

static void put_step_rule(struct sink *k, const struct snap_table *t, const struct undo_step *st)
{
	struct nftnl_rule *r = st->rule;
	bool had_pos = nftnl_rule_is_set(r, NFTNL_RULE_POSITION);
	uint64_t pos = had_pos ? nftnl_rule_get_u64(r, NFTNL_RULE_POSITION) : 0;
	struct nlmsghdr *nlh;

	for (size_t i = 0; i < st->nsets; i++)
		put_set(k, st->sets[i], t->family);
	nlh = nftnl_nlmsg_build_hdr(k->buf, NFT_MSG_NEWRULE, (uint16_t)t->family,
				    st->kind == UNDO_REPLACE ? NLM_F_REPLACE
							     : NLM_F_CREATE | NLM_F_APPEND, 0);
	nftnl_rule_unset(r, NFTNL_RULE_POSITION);
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, st->handle);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	if (had_pos)
		nftnl_rule_set_u64(r, NFTNL_RULE_POSITION, pos);
	if (st->kind == UNDO_ADDRULE && st->after)
		mnl_attr_put_u64(nlh, NFTA_RULE_POSITION, htobe64(st->after));
	else if (st->kind == UNDO_ADDRULE && st->after_step >= 0)
		mnl_attr_put_u32(nlh, NFTA_RULE_POSITION_ID, htonl((uint32_t)st->after_step + 1));
	sink_put(k, nlh);
}

static void put_delta(struct sink *k, const struct snap_table *t)
{
	struct nlmsghdr *nlh = sink_msg(k, NFT_MSG_GETTABLE, t->family);

	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, t->name);
	sink_put(k, nlh);
	for (size_t i = 0; i < t->nsteps; i++) {
		const struct undo_step *st = &t->steps[i];

		switch (st->kind) {
		case UNDO_DELRULE:
			put_step_name(k, t, st, NFT_MSG_DELRULE);
			break;
		case UNDO_POLICY:
			put_step_name(k, t, st, NFT_MSG_NEWCHAIN);
			break;
		case UNDO_DELCHAIN:
			put_step_name(k, t, st, NFT_MSG_DELCHAIN);
			break;
		case UNDO_REPLACE:
		case UNDO_ADDRULE:
			put_step_rule(k, t, st);
			break;
		}
	}
}

static void put_table(struct sink *k, const struct snap_table *t)
{
	struct nlmsghdr *nlh;

	if (t->delta) {
		put_delta(k, t);
		return;
	}

	if (t->absent) {
		struct nftnl_table *bare = nftnl_table_alloc();

		if (!bare) {
			k->err = -ENOMEM;
			return;
		}
		nftnl_table_set_u32(bare, NFTNL_TABLE_FAMILY, t->family);
		nftnl_table_set_str(bare, NFTNL_TABLE_NAME, t->name);
		nlh = sink_msg(k, NFT_MSG_DELTABLE, t->family);
		nftnl_table_nlmsg_build_payload(nlh, bare);
		nftnl_table_free(bare);
		sink_put(k, nlh);
		return;
	}
	nlh = sink_msg(k, NFT_MSG_NEWTABLE, t->family);
	nftnl_table_nlmsg_build_payload(nlh, t->table);
	sink_put(k, nlh);
	for (size_t i = 0; i < t->nchains; i++)
		put_chain(k, t->chains[i], t->family);
	for (size_t i = 0; i < t->nsets; i++)
		put_set(k, t->sets[i], t->family);
	for (size_t i = 0; i < t->nobjs; i++)
		put_obj(k, t->objs[i], t->family);
	for (size_t i = 0; i < t->nflowtables; i++) {
		nlh = sink_msg(k, NFT_MSG_NEWFLOWTABLE, t->family);
		nftnl_flowtable_nlmsg_build_payload(nlh, t->flowtables[i]);
		sink_put(k, nlh);
	}
	for (size_t i = 0; i < t->nrules; i++)
		put_rule(k, t->rules[i], t->family);
}

uint64_t snapfile_digest(const struct snap_table *t)
{
	struct sink k = { .hash = 0xcbf29ce484222325ULL, .canonical = true };

	if (t->absent)
		return 0;
	k.buf = calloc(1, MSG_MAX);
	if (!k.buf)
		return 1; /* differs from anything real: treated as changed */
	put_table(&k, t);
	free(k.buf);
	return k.err ? 1 : k.hash | 2;
}

int snapfile_write(const struct snapshot *s, FILE *fp)
{
	struct file_hdr h = { SNAP_MAGIC, s->genid, (uint32_t)s->ntables, s->all, 0 };
	struct sink k = { .fp = fp };

	memcpy(h.magic, SNAP_MAGIC, sizeof(h.magic));
	if (fwrite(&h, sizeof(h), 1, fp) != 1)
		return -EIO;
	k.buf = calloc(1, MSG_MAX);
	if (!k.buf)
		return -ENOMEM;
	for (size_t i = 0; i < s->ntables && !k.err; i++)
		put_table(&k, &s->tables[i]);
	free(k.buf);
	return k.err;
}

static int put(FILE *fp, void *s)
{
	return snapfile_write(s, fp);
}

int snapfile_save(const struct snapshot *s, const char *path, char *err, size_t errlen)
{
	return safefile_write_stream(path, put, (void *)s, &(struct safefile_opts){ .mode = 0600 },
				     err, errlen);
}

/* ---- reading ---- */

static struct snap_table *new_table(struct snapshot *s, uint32_t family, const char *name)
{
	struct snap_table *arr = realloc(s->tables, (s->ntables + 1) * sizeof(*arr));

	if (!arr)
		return NULL;
	s->tables = arr;
	memset(&arr[s->ntables], 0, sizeof(*arr));
	arr[s->ntables].family = family;
	arr[s->ntables].name = strdup(name ? name : "");
	return arr[s->ntables].name ? &arr[s->ntables++] : NULL;
}

/* Parse one message into obj (alloc'd by alloc) and push it on *arr. */
static int take(const struct nlmsghdr *nlh, void *(*alloc)(void),
		int (*parse)(const struct nlmsghdr *, void *), void (*fr)(void *),
		void ***arr, size_t *n)
{
	void *o = alloc();

	if (!o)
		return -ENOMEM;
	if (parse(nlh, o) < 0 || snapshot_push(arr, n, o) < 0) {
		fr(o);
		return -EINVAL;
	}
	return 0;
}

#define TAKE(type, nlh, t, field) \
	take(nlh, (void *(*)(void))type##_alloc, \
	     (int (*)(const struct nlmsghdr *, void *))type##_nlmsg_parse, \
	     (void (*)(void *))type##_free, (void ***)&(t)->field, &(t)->n##field)

/* The attributes of a step message, for read_step. */
struct step_attrs {
	bool rule;           /* a DELRULE message; else a chain's */
	const char *chain;
	uint64_t handle;
	uint32_t policy;
	bool has_policy;
};

static int step_attr_cb(const struct nlattr *a, void *data)
{
	struct step_attrs *sa = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type == (sa->rule ? NFTA_RULE_CHAIN : NFTA_CHAIN_NAME) &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		sa->chain = mnl_attr_get_str(a);
	else if (sa->rule && type == NFTA_RULE_HANDLE && mnl_attr_validate(a, MNL_TYPE_U64) == 0)
		sa->handle = be64toh(mnl_attr_get_u64(a));
	else if (!sa->rule && type == NFTA_CHAIN_POLICY && mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
		sa->policy = ntohl(mnl_attr_get_u32(a));
		sa->has_policy = true;
	}
	return MNL_CB_OK;
}

static struct undo_step *new_step(struct snap_table *t, enum undo_kind kind)
{
	struct undo_step *st = realloc(t->steps, (t->nsteps + 1) * sizeof(*st));

	if (!st)
		return NULL;
	t->steps = st;
	st = &t->steps[t->nsteps++];
	memset(st, 0, sizeof(*st));
	st->kind = kind;
	st->after_step = -1;
	return st;
}

/* One message of a delta table (above). */
static int read_step(struct snap_table *t, const struct nlmsghdr *nlh, uint16_t type,
		     struct nftnl_set ***sets, size_t *nsets)
{
	struct step_attrs sa = { 0 };
	struct undo_step *st;
	struct nftnl_rule *r;

	if (type == NFT_MSG_NEWSET)
		return take(nlh, (void *(*)(void))nftnl_set_alloc,
			    (int (*)(const struct nlmsghdr *, void *))nftnl_set_nlmsg_parse,
			    (void (*)(void *))nftnl_set_free, (void ***)sets, nsets);
	if (type == NFT_MSG_NEWSETELEM)
		return *nsets && nftnl_set_elems_nlmsg_parse(nlh, (*sets)[*nsets - 1]) == 0
		       ? 0 : -EINVAL;
	if (type != NFT_MSG_NEWRULE) {
		/* by name: the chain, and the rule's handle or the policy */
		sa.rule = type == NFT_MSG_DELRULE;
		mnl_attr_parse(nlh, sizeof(struct nfgenmsg), step_attr_cb, &sa);
		if (!sa.chain || (type == NFT_MSG_DELRULE && !sa.handle) ||
		    (type == NFT_MSG_NEWCHAIN && !sa.has_policy) ||
		    (type != NFT_MSG_DELRULE && type != NFT_MSG_NEWCHAIN &&
		     type != NFT_MSG_DELCHAIN))
			return -EINVAL;
		st = new_step(t, type == NFT_MSG_DELRULE ? UNDO_DELRULE
				 : type == NFT_MSG_NEWCHAIN ? UNDO_POLICY : UNDO_DELCHAIN);
		if (!st || !(st->chain = strdup(sa.chain)))
			return -ENOMEM;
		st->handle = sa.handle;
		st->policy = (int)sa.policy;
		return 0;
	}
	r = nftnl_rule_alloc();
	if (!r || snapshot_parse_rule(nlh, r) < 0 || !nftnl_rule_is_set(r, NFTNL_RULE_CHAIN) ||
	    !nftnl_rule_is_set(r, NFTNL_RULE_HANDLE)) {
		if (r)
			nftnl_rule_free(r);
		return -EINVAL;
	}
	st = new_step(t, nlh->nlmsg_flags & NLM_F_REPLACE ? UNDO_REPLACE : UNDO_ADDRULE);
	if (!st || !(st->chain = strdup(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN)))) {
		nftnl_rule_free(r);
		return -ENOMEM;
	}
	st->rule = r;
	st->handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	if (st->kind == UNDO_ADDRULE && nftnl_rule_is_set(r, NFTNL_RULE_POSITION))
		st->after = nftnl_rule_get_u64(r, NFTNL_RULE_POSITION);
	if (st->kind == UNDO_ADDRULE && nftnl_rule_is_set(r, NFTNL_RULE_POSITION_ID)) {
		uint32_t id = nftnl_rule_get_u32(r, NFTNL_RULE_POSITION_ID);

		if (!id || id > t->nsteps - 1)
			return -EINVAL; /* a step after it, or itself */
		st->after_step = (long)id - 1;
	}
	nftnl_rule_unset(r, NFTNL_RULE_POSITION);
	nftnl_rule_unset(r, NFTNL_RULE_POSITION_ID);
	st->sets = *sets;
	st->nsets = *nsets;
	*sets = NULL;
	*nsets = 0;
	return 0;
}

static int read_msg(struct snapshot *s, const struct nlmsghdr *nlh, struct nftnl_set ***sets,
		    size_t *nsets)
{
	struct snap_table *t = s->ntables ? &s->tables[s->ntables - 1] : NULL;
	uint16_t type = nlh->nlmsg_type & 0xff;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);

	if (t && t->delta && type != NFT_MSG_NEWTABLE && type != NFT_MSG_DELTABLE &&
	    type != NFT_MSG_GETTABLE)
		return read_step(t, nlh, type, sets, nsets);
	/* a table: whole (NEWTABLE), absent (DELTABLE) or a delta (GETTABLE) */
	if (type == NFT_MSG_NEWTABLE || type == NFT_MSG_DELTABLE || type == NFT_MSG_GETTABLE) {
		struct nftnl_table *nt = nftnl_table_alloc();

		if (!nt)
			return -ENOMEM;
		if (nftnl_table_nlmsg_parse(nlh, nt) < 0 ||
		    !(t = new_table(s, g->nfgen_family, nftnl_table_get_str(nt, NFTNL_TABLE_NAME)))) {
			nftnl_table_free(nt);
			return -EINVAL;
		}
		if (type == NFT_MSG_NEWTABLE) {
			t->table = nt;
		} else {
			t->absent = type == NFT_MSG_DELTABLE;
			t->delta = type == NFT_MSG_GETTABLE;
			nftnl_table_free(nt);
		}
		return 0;
	}
	if (!t || t->absent)
		return -EINVAL;
	switch (type) {
	case NFT_MSG_NEWCHAIN:
		return TAKE(nftnl_chain, nlh, t, chains);
	case NFT_MSG_NEWSET:
		return TAKE(nftnl_set, nlh, t, sets);
	case NFT_MSG_NEWSETELEM:
		if (!t->nsets)
			return -EINVAL;
		return nftnl_set_elems_nlmsg_parse(nlh, t->sets[t->nsets - 1]) < 0 ? -EINVAL : 0;
	case NFT_MSG_NEWOBJ:
		return TAKE(nftnl_obj, nlh, t, objs);
	case NFT_MSG_NEWFLOWTABLE:
		return TAKE(nftnl_flowtable, nlh, t, flowtables);
	case NFT_MSG_NEWRULE: /* as the kernel takes it back (files of older versions) */
		return take(nlh, (void *(*)(void))nftnl_rule_alloc,
			    (int (*)(const struct nlmsghdr *, void *))snapshot_parse_rule,
			    (void (*)(void *))nftnl_rule_free, (void ***)&t->rules, &t->nrules);
	}
	return -EINVAL;
}

int snapfile_read(FILE *fp, struct snapshot *s, char *err, size_t errlen)
{
	struct file_hdr h;
	char *buf = malloc(MSG_MAX);
	struct nftnl_set **sets = NULL; /* a delta's step sets, until their rule */
	size_t nsets = 0;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	if (!buf)
		return -ENOMEM;
	if (fread(&h, sizeof(h), 1, fp) != 1 || memcmp(h.magic, SNAP_MAGIC, 8) != 0) {
		ret = -EINVAL;
		goto out;
	}
	s->genid = h.genid;
	s->all = h.all != 0;
	for (;;) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
		size_t got = fread(buf, 1, sizeof(*nlh), fp);

		if (got == 0 && feof(fp))
			break;
		if (got != sizeof(*nlh) || nlh->nlmsg_len < sizeof(*nlh) + sizeof(struct nfgenmsg) ||
		    nlh->nlmsg_len > MSG_MAX ||
		    fread(buf + sizeof(*nlh), nlh->nlmsg_len - sizeof(*nlh), 1, fp) != 1) {
			ret = -EINVAL;
			break;
		}
		ret = read_msg(s, nlh, &sets, &nsets);
		if (ret)
			break;
	}
	if (!ret && (s->ntables != h.ntables || nsets))
		ret = -EINVAL;
out:
	for (size_t i = 0; i < nsets; i++)
		nftnl_set_free(sets[i]);
	free(sets);
	free(buf);
	if (ret) {
		snapshot_free(s);
		snprintf(err, errlen, "%s", ret == -ENOMEM ? "out of memory"
			 : "not a snapshot file, or a damaged one");
	}
	return ret;
}

int snapfile_load(const char *path, struct snapshot *s, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "re");
	int ret;

	if (!fp) {
		ret = -errno;
		memset(s, 0, sizeof(*s));
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = snapfile_read(fp, s, err, errlen);
	fclose(fp);
	if (ret) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: %s", path, why);
	}
	return ret;
}

int snapfile_copy(const struct snapshot *s, struct snapshot *copy)
{
	char *buf = NULL, err[128];
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	int ret;

	memset(copy, 0, sizeof(*copy));
	if (!fp)
		return -ENOMEM;
	ret = snapfile_write(s, fp);
	if (fclose(fp) && !ret)
		ret = -ENOMEM;
	if (!ret) {
		fp = fmemopen(buf, len, "r");
		ret = fp ? snapfile_read(fp, copy, err, sizeof(err)) : -ENOMEM;
		if (fp)
			fclose(fp);
	}
	free(buf);
	return ret;
}
