#include "probation/snapfile.h"
#include "util/safefile.h"
#include "util/grow.h"

#include "nft/nlcheck.h"

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
#include <stdarg.h>
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
	uint32_t flags;          /* FILE_ENDED; 0 in files of older versions */
};

/* The file ends with a mark: a file cut after any message, or with a byte
 * changed that still makes sense to the checks, is seen to be damaged. Its
 * type is one no snapshot holds otherwise, and one readers of older
 * versions refuse without parsing it (NLMSG_DONE would be a NEWCHAIN to
 * them: they look at the low byte only). */
enum { FILE_ENDED = 1 };

#define END_TYPE ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN)

struct file_end {
	struct nlmsghdr nlh;     /* END_TYPE, the length of the mark */
	uint32_t messages;       /* how many came before it */
	uint32_t reserved;
	uint64_t hash;           /* FNV-1a of their bytes */
};

#define FNV_BASIS 0xcbf29ce484222325ULL

static uint64_t fnv1a(uint64_t hash, const void *data, size_t len)
{
	for (const unsigned char *p = data, *e = p + len; p < e; p++)
		hash = (hash ^ *p) * 0x100000001b3ULL;
	return hash;
}

/* Where messages go: a file, or the digest. */
struct sink {
	FILE *fp;
	uint64_t hash;           /* of what went: the digest, or the file's end mark */
	uint32_t messages;
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
	if (k->fp && fwrite(nlh, nlh->nlmsg_len, 1, k->fp) != 1)
		k->err = -errno ? -errno : -EIO;
	k->hash = fnv1a(k->hash, nlh, nlh->nlmsg_len);
	k->messages++;
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

/* The digest names an anonymous set ("__set%d") "__set", without its
 * handle: flushed and added again (a script applied twice), the same set
 * may get another number. Its messages and the rules' lookups of it are
 * copied so renamed (libnftnl's setters would leak the old name). */
#define ANON_SET "__set"

static bool anon_set(const void *name, size_t len)
{
	return len >= strlen(ANON_SET) && memcmp(name, ANON_SET, strlen(ANON_SET)) == 0;
}

/* a copy of attribute a into out, as "__set" if it is the type of an
 * anonymous set's name */
static void put_attr_anon(struct nlmsghdr *out, const struct nlattr *a, uint16_t name)
{
	if (name && mnl_attr_get_type(a) == name &&
	    anon_set(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a)))
		mnl_attr_put_strz(out, name, ANON_SET);
	else
		mnl_attr_put(out, a->nla_type, mnl_attr_get_payload_len(a), mnl_attr_get_payload(a));
}

static bool canonical_expr(struct nlmsghdr *out, const char *name, const struct nlattr *data,
			   void *ctx)
{
	uint16_t set = strcmp(name, "lookup") == 0 ? NFTA_LOOKUP_SET
		       : strcmp(name, "dynset") == 0 ? NFTA_DYNSET_SET_NAME : 0;
	struct nlattr *nest;
	const struct nlattr *x;

	if (terminated_objref(out, name, data, ctx))
		return true;
	if (!set)
		return false;
	nest = mnl_attr_nest_start(out, mnl_attr_get_type(data));
	mnl_attr_for_each_nested(x, data)
		put_attr_anon(out, x, set);
	mnl_attr_nest_end(out, nest);
	return true;
}

/* nlh (a set) copied into the second half of the buffer with its
 * top-level attribute name as "__set" where it names an anonymous set. */
static struct nlmsghdr *anon_named(struct sink *k, struct nlmsghdr *nlh, uint16_t name)
{
	struct nlmsghdr *out = nftnl_nlmsg_build_hdr(k->buf + MSG_MAX / 2, nlh->nlmsg_type & 0xff,
						     ((struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))->nfgen_family,
						     nlh->nlmsg_flags, 0);
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		put_attr_anon(out, a, name);
	sink_clear(nlh);
	return out;
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

/* nlh, a rule message built from r: with r's objref names ended, copied
 * into the second half of the buffer, if it has any; for the digest,
 * always, its lookups of anonymous sets renamed. */
static struct nlmsghdr *ended_objref(struct sink *k, struct nlmsghdr *nlh,
				     struct nftnl_rule *r)
{
	struct nlmsghdr *out;

	if (!k->canonical && !has_objref(r))
		return nlh;
	out = nftnl_nlmsg_build_hdr(k->buf + MSG_MAX / 2, nlh->nlmsg_type & 0xff,
				    ((struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))->nfgen_family,
				    nlh->nlmsg_flags, 0);
	snapshot_copy_rule(out, nlh, k->canonical ? canonical_expr : terminated_objref, NULL);
	sink_clear(nlh);
	return out;
}

static void put_rule(struct sink *k, struct nftnl_rule *r, uint32_t family)
{
	struct saved_ctr sv[16];
	size_t n = k->canonical ? zero_rule_counters(r, sv, 16) : 0;
	struct nlmsghdr *nlh = sink_msg(k, NFT_MSG_NEWRULE, family);
	/* the digest: a rule put back as it was (a script's flush and the
	 * same rules again) is the same rule under its new handle, after the
	 * rule before it under its new one (the dump's position); the order
	 * is the snapshot's */
	static const uint16_t ids[] = { NFTNL_RULE_HANDLE, NFTNL_RULE_POSITION };
	uint64_t v[2];
	bool had[2];

	for (int i = 0; i < 2; i++) {
		had[i] = k->canonical && nftnl_rule_is_set(r, ids[i]);
		v[i] = had[i] ? nftnl_rule_get_u64(r, ids[i]) : 0;
		if (had[i])
			nftnl_rule_unset(r, ids[i]);
	}
	nftnl_rule_nlmsg_build_payload(nlh, r);
	for (int i = 0; i < 2; i++)
		if (had[i])
			nftnl_rule_set_u64(r, ids[i], v[i]);
	put_back_counters(sv, n);
	sink_put(k, ended_objref(k, nlh, r));
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

/* The elements of s, as messages of type. */
static void put_elems(struct sink *k, struct nftnl_set *s, uint32_t family, uint16_t type)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	struct nlmsghdr *nlh;

	if (!it) {
		k->err = -ENOMEM;
		return;
	}
	if (k->canonical) {
		/* the digest: the elements in any order (a hash set dumps them
		 * in its own, another each time it is made), each digested
		 * alone and the digests added up */
		struct nftnl_set_elem *e;
		uint64_t sum = 0;

		while ((e = nftnl_set_elems_iter_next(it))) {
			nlh = sink_msg(k, type, family);
			nftnl_set_elem_nlmsg_build_payload(nlh, e);
			sum += fnv1a(FNV_BASIS, nlh, nlh->nlmsg_len);
			sink_clear(nlh);
		}
		k->hash = fnv1a(k->hash, &sum, sizeof(sum));
		nftnl_set_elems_iter_destroy(it);
		return;
	}
	for (int more = nftnl_set_elems_iter_cur(it) != NULL; more > 0;) {
		nlh = sink_msg(k, type, family);
		more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
		number_elems(nlh);
		sink_put(k, nlh);
	}
	nftnl_set_elems_iter_destroy(it);
}

static void put_set(struct sink *k, struct nftnl_set *s, uint32_t family)
{
	uint32_t flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
	struct nlmsghdr *nlh = sink_msg(k, NFT_MSG_NEWSET, family);
	bool anon = k->canonical && (flags & NFT_SET_ANONYMOUS);
	uint64_t h = anon && nftnl_set_is_set(s, NFTNL_SET_HANDLE)
		     ? nftnl_set_get_u64(s, NFTNL_SET_HANDLE) : 0;

	if (h)
		nftnl_set_unset(s, NFTNL_SET_HANDLE);
	nftnl_set_nlmsg_build_payload(nlh, s);
	if (h)
		nftnl_set_set_u64(s, NFTNL_SET_HANDLE, h);
	sink_put(k, anon ? anon_named(k, nlh, NFTA_SET_NAME) : nlh);
	/* elements the ruleset adds itself say nothing about an edit */
	if (k->canonical && (flags & (NFT_SET_EVAL | NFT_SET_TIMEOUT)))
		return;
	put_elems(k, s, family, NFT_MSG_NEWSETELEM);
}

/* ---- a delta: the steps that undo a change (snapshot.h) ----
 * A message GETTABLE naming the table starts it (a type no whole table
 * uses); then one message a step, as the kernel would take it where it
 * can: DELRULE; NEWRULE with NLM_F_REPLACE and the handle (REPLACE);
 * NEWRULE with NLM_F_APPEND, the handle it had and, as NFTA_RULE_POSITION
 * or NFTA_RULE_POSITION_ID (the index of a step, plus 1), where it goes
 * (ADDRULE), preceded by NEWSET/NEWSETELEM of its anonymous sets; NEWCHAIN
 * with the policy (POLICY); DELCHAIN; DESTROYSETELEM (DELELEMS) and, with
 * no anonymous set before it, NEWSETELEM (ADDELEMS) of a named set. */

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
	/* ended as a whole table's rules are: a step's rule read back whole */
	sink_put(k, ended_objref(k, nlh, r));
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
		case UNDO_DELELEMS:
		case UNDO_ADDELEMS:
			if (st->nsets)
				put_elems(k, st->sets[0], t->family,
					  st->kind == UNDO_ADDELEMS ? NFT_MSG_NEWSETELEM
								    : NFT_MSG_DESTROYSETELEM);
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
	struct sink k = { .hash = FNV_BASIS, .canonical = true };

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
	struct file_hdr h = { SNAP_MAGIC, s->genid, (uint32_t)s->ntables, s->all, FILE_ENDED };
	struct sink k = { .fp = fp, .hash = FNV_BASIS };
	struct file_end end = { .nlh = { .nlmsg_len = sizeof(end), .nlmsg_type = END_TYPE } };

	memcpy(h.magic, SNAP_MAGIC, sizeof(h.magic));
	if (fwrite(&h, sizeof(h), 1, fp) != 1)
		return -EIO;
	k.buf = calloc(1, MSG_MAX);
	if (!k.buf)
		return -ENOMEM;
	for (size_t i = 0; i < s->ntables && !k.err; i++)
		put_table(&k, &s->tables[i]);
	free(k.buf);
	end.messages = k.messages;
	end.hash = k.hash;
	if (!k.err && fwrite(&end, sizeof(end), 1, fp) != 1)
		k.err = -errno ? -errno : -EIO;
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

/* ---- reading ----
 * Every message is checked whole (nft/nlcheck.h) before libnftnl parses
 * it — libnftnl exits or crashes on bytes it did not expect — and against
 * where it stands: each object is of the table it follows (family and
 * name), elements follow their set, a delta's steps point only back to
 * steps before them. A file that fails anywhere is damaged: refused with
 * the reason, nothing of it kept. */

struct reader {
	struct snapshot *s;
	struct nftnl_set **sets;     /* a delta's step sets, until their rule */
	size_t nsets, sets_cap;
	unsigned msg;                /* the message being read, from 1; 0: none */
	char why[384];
};

static int damaged(struct reader *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int damaged(struct reader *rd, const char *fmt, ...)
{
	int n = rd->msg ? snprintf(rd->why, sizeof(rd->why), "message %u: ", rd->msg) : 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rd->why + n, sizeof(rd->why) - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static struct snap_table *new_table(struct snapshot *s, uint32_t family, const char *name)
{
	struct snap_table *t = grow_slot(&s->tables, &s->ntables, &s->tables_cap,
					 sizeof(*s->tables), 4);

	if (!t)
		return NULL;
	t->family = family;
	t->name = strdup(name);
	if (!t->name)
		s->ntables--;
	return t->name ? t : NULL;
}

/* Parse one checked message into obj (alloc'd by alloc) and push it on
 * *arr. 0, -ENOMEM, or -EINVAL if libnftnl would not have it after all. */
static int take(const struct nlmsghdr *nlh, void *(*alloc)(void),
		int (*parse)(const struct nlmsghdr *, void *), void (*fr)(void *),
		void *arr, size_t *n, size_t *cap)
{
	void *o = alloc();
	int ret = 0;

	if (!o)
		return -ENOMEM;
	if (parse(nlh, o) < 0)
		ret = -EINVAL;
	else if (snapshot_push(arr, n, cap, o) < 0)
		ret = -ENOMEM;
	if (ret)
		fr(o);
	return ret;
}

/* TAKE(nftnl_set, nlh, t, sets): onto t->sets, t->nsets, t->sets_cap */
#define TAKE(type, nlh, owner, field) \
	take(nlh, (void *(*)(void))type##_alloc, \
	     (int (*)(const struct nlmsghdr *, void *))type##_nlmsg_parse, \
	     (void (*)(void *))type##_free, &(owner)->field, &(owner)->n##field, \
	     &(owner)->field##_cap)

/* After a parse: libnftnl refusing what the check let through is a gap
 * in the check (the fuzzer looks for this reason). */
static int taken(struct reader *rd, int ret)
{
	return ret == -EINVAL ? damaged(rd, "libnftnl refused it") : ret;
}

static const char *msg_what(uint16_t type)
{
	switch (type) {
	case NFT_MSG_NEWCHAIN:
		return "chain";
	case NFT_MSG_DELCHAIN:
		return "chain deletion";
	case NFT_MSG_NEWRULE:
		return "rule";
	case NFT_MSG_DELRULE:
		return "rule deletion";
	case NFT_MSG_NEWSET:
		return "set";
	case NFT_MSG_NEWSETELEM:
		return "set's elements";
	case NFT_MSG_DESTROYSETELEM:
		return "set's elements' deletion";
	case NFT_MSG_NEWOBJ:
		return "object";
	case NFT_MSG_NEWFLOWTABLE:
		return "flowtable";
	}
	return "message";
}

/* The attribute naming the table of a message other than a table's. */
static uint16_t table_attr(uint16_t type)
{
	switch (type) {
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
		return NFTA_CHAIN_TABLE;
	case NFT_MSG_NEWSET:
		return NFTA_SET_TABLE;
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DESTROYSETELEM:
		return NFTA_SET_ELEM_LIST_TABLE;
	case NFT_MSG_NEWOBJ:
		return NFTA_OBJ_TABLE;
	case NFT_MSG_NEWFLOWTABLE:
		return NFTA_FLOWTABLE_TABLE;
	}
	return NFTA_RULE_TABLE;
}

/* Elements: of the set just read. */
static int read_elems(struct reader *rd, const struct nlmsghdr *nlh, struct nftnl_set **sets,
		      size_t nsets)
{
	const char *name = nlcheck_str(nlh, NFTA_SET_ELEM_LIST_SET);

	if (!nsets)
		return damaged(rd, "elements before any set");
	if (strcmp(name, nftnl_set_get_str(sets[nsets - 1], NFTNL_SET_NAME)) != 0)
		return damaged(rd, "elements of another set than the one before them");
	return nftnl_set_elems_nlmsg_parse(nlh, sets[nsets - 1]) < 0
	       ? damaged(rd, "libnftnl refused it") : 0;
}

/* A rule step: REPLACE, or ADDRULE after the rule at POSITION or after the
 * rule an earlier ADDRULE step of the same chain puts back (POSITION_ID:
 * that step's index plus 1). */
static int read_rule_step(struct reader *rd, struct snap_table *t, const struct nlmsghdr *nlh)
{
	const char *chain = nlcheck_str(nlh, NFTA_RULE_CHAIN);
	const struct nlattr *pos = nlcheck_attr(nlh, NFTA_RULE_POSITION);
	const struct nlattr *pos_id = nlcheck_attr(nlh, NFTA_RULE_POSITION_ID);
	bool replace = nlh->nlmsg_flags & NLM_F_REPLACE;
	struct undo_step *st;
	struct nftnl_rule *r;
	long after_step = -1;

	if (!nlcheck_attr(nlh, NFTA_RULE_HANDLE))
		return damaged(rd, "a rule step without the rule's handle");
	if (!replace && pos && pos_id)
		return damaged(rd, "a rule step both after a rule and after a step");
	if (!replace && pos_id) {
		uint32_t id = ntohl(mnl_attr_get_u32(pos_id));

		if (id == 0 || id > t->nsteps)
			return damaged(rd, "a rule step after step %u of %zu before it", id,
				       t->nsteps);
		if (t->steps[id - 1].kind != UNDO_ADDRULE ||
		    strcmp(t->steps[id - 1].chain, chain) != 0)
			return damaged(rd, "a rule step after step %u, which puts back no rule of "
				       "its chain", id);
		after_step = (long)id - 1;
	}
	r = nftnl_rule_alloc();
	if (!r)
		return -ENOMEM;
	if (snapshot_parse_rule(nlh, r) < 0) {
		nftnl_rule_free(r);
		return damaged(rd, "libnftnl refused it");
	}
	st = snapshot_add_step(t, replace ? UNDO_REPLACE : UNDO_ADDRULE, chain);
	if (!st) {
		nftnl_rule_free(r);
		return -ENOMEM;
	}
	st->rule = r;
	st->handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	if (!replace && pos)
		st->after = nftnl_rule_get_u64(r, NFTNL_RULE_POSITION);
	st->after_step = after_step;
	nftnl_rule_unset(r, NFTNL_RULE_POSITION);
	nftnl_rule_unset(r, NFTNL_RULE_POSITION_ID);
	/* the sets go with the rule */
	st->sets = rd->sets;
	st->nsets = rd->nsets;
	st->sets_cap = rd->sets_cap;
	rd->sets = NULL;
	rd->nsets = rd->sets_cap = 0;
	return 0;
}

/* Elements of a named set, destroyed or put back: the step before if it
 * is the same (its elements come in as many messages as they need). */
static int read_elems_step(struct reader *rd, struct snap_table *t, const struct nlmsghdr *nlh,
			   enum undo_kind kind)
{
	const char *set = nlcheck_str(nlh, NFTA_SET_ELEM_LIST_SET);
	struct undo_step *st = t->nsteps ? &t->steps[t->nsteps - 1] : NULL;

	if (!set)
		return damaged(rd, "elements without their set");
	if (!st || st->kind != kind || strcmp(st->chain, set) != 0) {
		st = snapshot_add_step(t, kind, set);
		if (!st)
			return -ENOMEM;
		st->sets = calloc(1, sizeof(*st->sets));
		if (!st->sets || !(st->sets[0] = nftnl_set_alloc()))
			return -ENOMEM;
		st->nsets = st->sets_cap = 1;
	}
	return nftnl_set_elems_nlmsg_parse(nlh, st->sets[0]) < 0
	       ? damaged(rd, "libnftnl refused it") : 0;
}

/* One message of a delta table (above). */
static int read_step(struct reader *rd, struct snap_table *t, const struct nlmsghdr *nlh,
		     uint16_t type)
{
	const struct nlattr *a;
	struct undo_step *st;

	switch (type) {
	case NFT_MSG_NEWSET:
		return taken(rd, TAKE(nftnl_set, nlh, rd, sets));
	case NFT_MSG_NEWSETELEM:
		if (!rd->nsets)
			return read_elems_step(rd, t, nlh, UNDO_ADDELEMS);
		return read_elems(rd, nlh, rd->sets, rd->nsets);
	case NFT_MSG_DESTROYSETELEM:
		if (rd->nsets)
			return damaged(rd, "a %s where the rule of the sets before it goes",
				       msg_what(type));
		return read_elems_step(rd, t, nlh, UNDO_DELELEMS);
	case NFT_MSG_NEWRULE:
		return read_rule_step(rd, t, nlh);
	case NFT_MSG_DELRULE:
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
		break;
	default:
		return damaged(rd, "a %s among the steps of a delta", msg_what(type));
	}
	if (rd->nsets)
		return damaged(rd, "a %s where the rule of the sets before it goes",
			       msg_what(type));
	/* by name: the chain, and the rule's handle or the policy */
	if (type == NFT_MSG_DELRULE) {
		a = nlcheck_attr(nlh, NFTA_RULE_HANDLE);
		if (!a || !mnl_attr_get_u64(a))
			return damaged(rd, "a rule deletion without the rule's handle");
		st = snapshot_add_step(t, UNDO_DELRULE, nlcheck_str(nlh, NFTA_RULE_CHAIN));
		if (st)
			st->handle = be64toh(mnl_attr_get_u64(a));
	} else if (type == NFT_MSG_NEWCHAIN) {
		a = nlcheck_attr(nlh, NFTA_CHAIN_POLICY);
		if (!a)
			return damaged(rd, "a policy step without the policy");
		st = snapshot_add_step(t, UNDO_POLICY, nlcheck_str(nlh, NFTA_CHAIN_NAME));
		if (st)
			st->policy = (int)ntohl(mnl_attr_get_u32(a));
	} else {
		st = snapshot_add_step(t, UNDO_DELCHAIN, nlcheck_str(nlh, NFTA_CHAIN_NAME));
	}
	return st ? 0 : -ENOMEM;
}

/* A table: whole (NEWTABLE), absent (DELTABLE) or a delta (GETTABLE). */
static int read_table(struct reader *rd, const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	struct nftnl_table *nt = NULL;
	struct snap_table *t;

	if (rd->nsets)
		return damaged(rd, "a table where the rule of the sets before it goes");
	if (type == NFT_MSG_NEWTABLE) {
		nt = nftnl_table_alloc();
		if (!nt)
			return -ENOMEM;
		if (nftnl_table_nlmsg_parse(nlh, nt) < 0) {
			nftnl_table_free(nt);
			return damaged(rd, "libnftnl refused it");
		}
	}
	t = new_table(rd->s, g->nfgen_family, nlcheck_str(nlh, NFTA_TABLE_NAME));
	if (!t) {
		if (nt)
			nftnl_table_free(nt);
		return -ENOMEM;
	}
	t->table = nt;
	t->absent = type == NFT_MSG_DELTABLE;
	t->delta = type == NFT_MSG_GETTABLE;
	return 0;
}

static int read_msg(struct reader *rd, const struct nlmsghdr *nlh)
{
	struct snapshot *s = rd->s;
	struct snap_table *t = s->ntables ? &s->tables[s->ntables - 1] : NULL;
	uint16_t type = nlh->nlmsg_type & 0xff;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);

	if (type == NFT_MSG_NEWTABLE || type == NFT_MSG_DELTABLE || type == NFT_MSG_GETTABLE)
		return read_table(rd, nlh, type);
	if (!t)
		return damaged(rd, "a %s before any table", msg_what(type));
	if (t->absent)
		return damaged(rd, "a %s in a table that did not exist", msg_what(type));
	if (g->nfgen_family != t->family ||
	    strcmp(nlcheck_str(nlh, table_attr(type)), t->name) != 0)
		return damaged(rd, "a %s of another table than the one it follows",
			       msg_what(type));
	if (t->delta)
		return read_step(rd, t, nlh, type);
	switch (type) {
	case NFT_MSG_NEWCHAIN:
		return taken(rd, TAKE(nftnl_chain, nlh, t, chains));
	case NFT_MSG_NEWSET:
		return taken(rd, TAKE(nftnl_set, nlh, t, sets));
	case NFT_MSG_NEWSETELEM:
		return read_elems(rd, nlh, t->sets, t->nsets);
	case NFT_MSG_NEWOBJ:
		return taken(rd, TAKE(nftnl_obj, nlh, t, objs));
	case NFT_MSG_NEWFLOWTABLE:
		return taken(rd, TAKE(nftnl_flowtable, nlh, t, flowtables));
	case NFT_MSG_NEWRULE: /* as the kernel takes it back (files of older versions) */
		return taken(rd, take(nlh, (void *(*)(void))nftnl_rule_alloc,
				      (int (*)(const struct nlmsghdr *, void *))snapshot_parse_rule,
				      (void (*)(void *))nftnl_rule_free, &t->rules, &t->nrules,
				      &t->rules_cap));
	}
	return damaged(rd, "a %s in a whole table", msg_what(type));
}

/* The end mark (FILE_ENDED), its header in buf: the last thing there. */
static int read_end(struct reader *rd, FILE *fp, char *buf, uint32_t messages, uint64_t hash)
{
	struct file_end end;

	if (((struct nlmsghdr *)buf)->nlmsg_len != sizeof(end))
		return damaged(rd, "an end mark of %u bytes", ((struct nlmsghdr *)buf)->nlmsg_len);
	memcpy(&end, buf, sizeof(end.nlh));
	if (fread((char *)&end + sizeof(end.nlh), sizeof(end) - sizeof(end.nlh), 1, fp) != 1)
		return ferror(fp) ? -EIO : damaged(rd, "the end mark is cut short");
	if (end.reserved)
		return damaged(rd, "the end mark is not one nfpilot writes");
	if (end.messages != messages)
		return damaged(rd, "the end mark counts %u messages, the file holds %u",
			       end.messages, messages);
	if (end.hash != hash)
		return damaged(rd, "the bytes before the end mark are not those written");
	if (fgetc(fp) != EOF)
		return damaged(rd, "bytes after the end mark");
	return ferror(fp) ? -EIO : 0;
}

int snapfile_read(FILE *fp, struct snapshot *s, char *err, size_t errlen)
{
	struct reader rd = { .s = s };
	struct file_hdr h;
	size_t cap = 1u << 16;   /* grown for a bigger message, up to MSG_MAX */
	char *buf = malloc(cap);
	uint64_t hash = FNV_BASIS;
	bool ended = false;
	size_t got;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	if (!buf)
		return -ENOMEM;
	got = fread(&h, 1, sizeof(h), fp);
	if (got < sizeof(h) && ferror(fp))
		ret = -EIO;
	else if (got < sizeof(h) || memcmp(h.magic, SNAP_MAGIC, 8) != 0)
		ret = damaged(&rd, got < sizeof(h) ? "the header is cut short"
			      : "no snapshot header: not a snapshot file");
	else if (h.flags & ~(uint32_t)FILE_ENDED)
		ret = damaged(&rd, "header flags %#x", h.flags);
	if (!ret) {
		s->genid = h.genid;
		s->all = h.all != 0;
	}
	while (!ret && !ended) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
		size_t body;

		got = fread(buf, 1, sizeof(*nlh), fp);
		if (got == 0 && feof(fp))
			break;
		rd.msg++;
		if (got < sizeof(*nlh) && ferror(fp)) {
			ret = -EIO;
			break;
		}
		if (got < sizeof(*nlh)) {
			ret = damaged(&rd, "cut short in its header");
			break;
		}
		if ((h.flags & FILE_ENDED) && nlh->nlmsg_type == END_TYPE) {
			ret = read_end(&rd, fp, buf, rd.msg - 1, hash);
			ended = true;
			break;
		}
		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > MSG_MAX) {
			ret = damaged(&rd, "a length of %u bytes", nlh->nlmsg_len);
			break;
		}
		if (nlh->nlmsg_len > cap) {
			ret = grow(&buf, &cap, nlh->nlmsg_len, 1, 0);
			if (ret)
				break;
			nlh = (struct nlmsghdr *)buf;
		}
		body = nlh->nlmsg_len - sizeof(*nlh);
		got = body ? fread(buf + sizeof(*nlh), 1, body, fp) : 0;
		if (got < body) {
			ret = ferror(fp) ? -EIO : damaged(&rd, "cut short: %zu of its %u bytes",
							  got + sizeof(*nlh), nlh->nlmsg_len);
			break;
		}
		hash = fnv1a(hash, buf, nlh->nlmsg_len);
		ret = nlcheck_msg(nlh, nlh->nlmsg_len, rd.why, sizeof(rd.why));
		if (ret) {
			char why[sizeof(rd.why)];

			memcpy(why, rd.why, sizeof(why));
			ret = damaged(&rd, "%s", why);
			break;
		}
		ret = read_msg(&rd, nlh);
	}
	rd.msg = 0;
	if (!ret && (h.flags & FILE_ENDED) && !ended)
		ret = damaged(&rd, "cut short: the file ends before its end mark");
	if (!ret && rd.nsets)
		ret = damaged(&rd, "the sets of a step, then no rule");
	if (!ret && s->ntables != h.ntables)
		ret = damaged(&rd, "the header counts %u tables, the file holds %zu", h.ntables,
			      s->ntables);
	for (size_t i = 0; i < rd.nsets; i++)
		nftnl_set_free(rd.sets[i]);
	free(rd.sets);
	free(buf);
	if (ret) {
		snapshot_free(s);
		if (ret == -EINVAL)
			snprintf(err, errlen, "damaged: %s", rd.why);
		else
			snprintf(err, errlen, "%s", ret == -ENOMEM ? "out of memory" : strerror(-ret));
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
