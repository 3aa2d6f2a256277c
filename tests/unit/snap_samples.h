/* snap_samples: snapshots holding every kind of object libnftnl 1.2.4
 * knows, each with every attribute it writes — tables, chains (base, with
 * devices), sets and maps (values, verdicts, intervals, concatenations,
 * expressions, objects), objects of every type, flowtables, a rule for
 * every expression — an absent table and a delta with every kind of step
 * (element steps too).
 * Built as a dump would give them, no kernel needed; for the unit tests
 * of the snapshot file and the fuzzer's seeds (tests/fuzz/). Included by
 * one test program each: everything here is static. */
#ifndef NFP_SNAP_SAMPLES_H
#define NFP_SNAP_SAMPLES_H

#include "nft/snapshot.h"

#include <arpa/inet.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

/* Every expression: its attributes from NFTNL_EXPR_BASE on, one letter
 * each: n a number, s a string, d a value, b bytes, - left unset. */
static const struct sample_expr {
	const char *name;
	const char *attrs;
} sample_exprs[] = {
	{ "bitwise", "nnnddnd" }, { "byteorder", "nnnnn" }, { "cmp", "nnd" },
	{ "connlimit", "nn" },    { "counter", "nn" },      { "ct", "nnnn" },
	{ "dup", "nn" },          { "exthdr", "nnnnnnn" },  { "fib", "nnn" },
	{ "flow_offload", "s" },  { "fwd", "nnn" },         { "hash", "nnnnnnn" },
	{ "immediate", "nd" },    { "last", "nn" },         { "limit", "nnnnn" },
	{ "log", "snnnnn" },      { "lookup", "nnsnn" },    { "masq", "nnn" },
	{ "match", "snb" },       { "meta", "nn" },         { "nat", "nnnnnnn" },
	{ "notrack", "" },        { "numgen", "nnnn" },     { "objref", "nsnsn" },
	{ "osf", "nnn" },         { "payload", "nnnnnnnn" }, { "queue", "nnnn" },
	{ "quota", "nnn" },       { "range", "nndd" },      { "redir", "nnn" },
	{ "reject", "nn" },       { "rt", "nn" },           { "socket", "nnn" },
	{ "synproxy", "nnn" },    { "target", "snb" },      { "tproxy", "nnn" },
	{ "tunnel", "nn" },       { "xfrm", "n-nnn" },
};

static struct nftnl_expr *sample_expr(const struct sample_expr *x, unsigned seed)
{
	struct nftnl_expr *e = nftnl_expr_alloc(x->name);
	unsigned char bytes[16];
	char str[32];

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(seed + i * 7);
	for (uint16_t i = 0; x->attrs[i]; i++) {
		uint16_t a = (uint16_t)(NFTNL_EXPR_BASE + i);

		switch (x->attrs[i]) {
		case 'n':
			nftnl_expr_set_u64(e, a, seed + i + 1);
			break;
		case 's':
			snprintf(str, sizeof(str), "%s%u", strcmp(x->name, "log") ? "x" : "log ", seed);
			nftnl_expr_set_str(e, a, str);
			break;
		case 'd':
			nftnl_expr_set(e, a, bytes, 4 + seed % 12);
			break;
		case 'b': /* xt info: libnftnl keeps the pointer and frees it */
			nftnl_expr_set(e, a, memcpy(malloc(sizeof(bytes)), bytes, sizeof(bytes)),
				       sizeof(bytes));
			break;
		}
	}
	return e;
}

/* (a chain id: libnftnl writes it, never reads it) */
static struct nftnl_expr *sample_verdict(uint32_t verdict, const char *chain, bool chain_id)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	if (chain_id)
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_CHAIN_ID, 7);
	return e;
}

static struct nftnl_rule *sample_rule(const char *table, const char *chain, uint64_t handle)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
	return r;
}

/* dynsets: one statement (NFTA_DYNSET_EXPR) and two (..._EXPRESSIONS);
 * as dumped (a timeout 0, no NFT_DYNSET_F_EXPR: the reader rewrites them,
 * nft/snapshot.c) or as the kernel takes them back */
static struct nftnl_expr *sample_dynset(int nexprs, bool dumped)
{
	struct nftnl_expr *d = nftnl_expr_alloc("dynset");

	nftnl_expr_set_u32(d, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(d, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_u64(d, NFTNL_EXPR_DYNSET_TIMEOUT, dumped ? 0 : 30000);
	if (!dumped && nexprs > 1)
		nftnl_expr_set_u32(d, NFTNL_EXPR_DYNSET_FLAGS, NFT_DYNSET_F_EXPR);
	nftnl_expr_set_str(d, NFTNL_EXPR_DYNSET_SET_NAME, "meter");
	nftnl_expr_set_u32(d, NFTNL_EXPR_DYNSET_SET_ID, 3);
	for (int i = 0; i < nexprs; i++)
		nftnl_expr_add_expr(d, NFTNL_EXPR_DYNSET_EXPRESSIONS,
				    nftnl_expr_alloc(i ? "limit" : "counter"));
	return d;
}

static void sample_push(void *arr, size_t *n, size_t *cap, void *o)
{
	snapshot_push(arr, n, cap, o);
}

static struct nftnl_set *sample_set(const char *table, const char *name, uint32_t flags)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, 7);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 4);
	nftnl_set_set_u32(s, NFTNL_SET_ID, 9);
	nftnl_set_set_u64(s, NFTNL_SET_HANDLE, 31);
	return s;
}

static struct nftnl_set_elem *sample_elem(uint32_t key)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &key, sizeof(key));
	return e;
}

/* The sets: a plain one of n elements with every element attribute, an
 * interval map to values, a verdict map, a concatenation with statements
 * and an object map. */
static void sample_sets(struct snap_table *t, int n)
{
	struct nftnl_set *s = sample_set(t->name, "blocked", NFT_SET_TIMEOUT);
	struct nftnl_set_elem *e;
	uint8_t fields[NFT_REG32_COUNT] = { 4, 2 };
	uint32_t v;

	nftnl_set_set_u32(s, NFTNL_SET_POLICY, NFT_SET_POL_MEMORY);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, 1024);
	nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, 60000);
	nftnl_set_set_u32(s, NFTNL_SET_GC_INTERVAL, 1000);
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, "\x00\x01\x02", 3);
	for (int i = 0; i < n; i++) {
		e = sample_elem(0x0a000000u + (uint32_t)i);
		if (i == 0) {
			nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, 0);
			nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, 30000);
			nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_EXPIRATION, 12345);
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, "ud", 2);
			nftnl_set_elem_add_expr(e, nftnl_expr_alloc("counter"));
		}
		nftnl_set_elem_add(s, e);
	}
	sample_push(&t->sets, &t->nsets, &t->sets_cap, s);

	s = sample_set(t->name, "ranges", NFT_SET_INTERVAL | NFT_SET_MAP);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, 7);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 4);
	e = sample_elem(0x0a000000u);
	v = 0x0a0000ffu;
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, &v, sizeof(v));
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, &v, sizeof(v));
	nftnl_set_elem_add(s, e);
	sample_push(&t->sets, &t->nsets, &t->sets_cap, s);

	s = sample_set(t->name, "vmap", NFT_SET_MAP);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	e = sample_elem(1);
	nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, NF_ACCEPT);
	nftnl_set_elem_add(s, e);
	e = sample_elem(2);
	nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, NFT_JUMP);
	nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, "other");
	nftnl_set_elem_add(s, e);
	sample_push(&t->sets, &t->nsets, &t->sets_cap, s);

	s = sample_set(t->name, "pairs", NFT_SET_EVAL);
	nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, 2);
	nftnl_set_add_expr(s, nftnl_expr_alloc("counter"));
	nftnl_set_add_expr(s, nftnl_expr_alloc("quota"));
	e = sample_elem(3);
	nftnl_set_elem_add_expr(e, nftnl_expr_alloc("counter"));
	nftnl_set_elem_add_expr(e, nftnl_expr_alloc("quota"));
	nftnl_set_elem_add(s, e);
	sample_push(&t->sets, &t->nsets, &t->sets_cap, s);

	s = sample_set(t->name, "omap", NFT_SET_MAP | NFT_SET_OBJECT);
	nftnl_set_set_u32(s, NFTNL_SET_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nftnl_set_add_expr(s, nftnl_expr_alloc("counter"));
	e = sample_elem(4);
	nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_OBJREF, "hits");
	nftnl_set_elem_add(s, e);
	sample_push(&t->sets, &t->nsets, &t->sets_cap, s);
}

static struct nftnl_obj *sample_obj(const char *table, const char *name, uint32_t type)
{
	struct nftnl_obj *o = nftnl_obj_alloc();

	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, table);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, NFPROTO_INET);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, type);
	nftnl_obj_set_u64(o, NFTNL_OBJ_HANDLE, 40 + type);
	nftnl_obj_set_data(o, NFTNL_OBJ_USERDATA, "ud", 2);
	return o;
}

/* an object of every type, with every attribute (quirks: those libnftnl
 * does not read back as they were, too) */
static void sample_objs(struct snap_table *t, bool quirks)
{
	struct nftnl_obj *o;
	uint32_t timeouts[NFTNL_CTTIMEOUT_ARRAY_MAX];
	uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	for (int i = 0; i < NFTNL_CTTIMEOUT_ARRAY_MAX; i++)
		timeouts[i] = 10u + (uint32_t)i;
	o = sample_obj(t->name, "hits", NFT_OBJECT_COUNTER);
	nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_PKTS, 5);
	nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_BYTES, 300);
	sample_push(&t->objs, &t->nobjs, &t->objs_cap, o);
	o = sample_obj(t->name, "cap", NFT_OBJECT_QUOTA);
	nftnl_obj_set_u64(o, NFTNL_OBJ_QUOTA_BYTES, 1000000);
	nftnl_obj_set_u64(o, NFTNL_OBJ_QUOTA_CONSUMED, 77);
	nftnl_obj_set_u32(o, NFTNL_OBJ_QUOTA_FLAGS, 1);
	sample_push(&t->objs, &t->nobjs, &t->objs_cap, o);
	o = sample_obj(t->name, "ftp", NFT_OBJECT_CT_HELPER);
	nftnl_obj_set_str(o, NFTNL_OBJ_CT_HELPER_NAME, "ftp");
	nftnl_obj_set_u16(o, NFTNL_OBJ_CT_HELPER_L3PROTO, NFPROTO_IPV4);
	nftnl_obj_set_u8(o, NFTNL_OBJ_CT_HELPER_L4PROTO, 6);
	sample_push(&t->objs, &t->nobjs, &t->objs_cap, o);
	o = sample_obj(t->name, "slow", NFT_OBJECT_LIMIT);
	nftnl_obj_set_u64(o, NFTNL_OBJ_LIMIT_RATE, 10);
	nftnl_obj_set_u64(o, NFTNL_OBJ_LIMIT_UNIT, 60);
	nftnl_obj_set_u32(o, NFTNL_OBJ_LIMIT_BURST, 5);
	nftnl_obj_set_u32(o, NFTNL_OBJ_LIMIT_TYPE, 0);
	nftnl_obj_set_u32(o, NFTNL_OBJ_LIMIT_FLAGS, 1);
	sample_push(&t->objs, &t->nobjs, &t->objs_cap, o);
	o = sample_obj(t->name, "tun4", NFT_OBJECT_TUNNEL);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TUNNEL_ID, 1000);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TUNNEL_IPV4_SRC, 0x0100000a);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TUNNEL_IPV4_DST, 0x0200000a);
	nftnl_obj_set_u16(o, NFTNL_OBJ_TUNNEL_SPORT, 1234);
	nftnl_obj_set_u16(o, NFTNL_OBJ_TUNNEL_DPORT, 4789);
	nftnl_obj_set_u8(o, NFTNL_OBJ_TUNNEL_TOS, 4);
	nftnl_obj_set_u8(o, NFTNL_OBJ_TUNNEL_TTL, 64);
	sample_push(&t->objs, &t->nobjs, &t->objs_cap, o);
	/* libnftnl writes what it does not read back as it was: a tunnel's
	 * flags (a u32 read as a u8) and a vxlan option (its GBP where a
	 * nest goes) */
	if (quirks) {
		o = sample_obj(t->name, "vxlan", NFT_OBJECT_TUNNEL);
		nftnl_obj_set_u32(o, NFTNL_OBJ_TUNNEL_FLAGS, 1);
		nftnl_obj_set_u32(o, NFTNL_OBJ_TUNNEL_VXLAN_GBP, 0x00020003);
		sample_push(&t->objs, &t->nobjs, &t->objs_cap, o);
	}
	o = sample_obj(t->name, "tun6", NFT_OBJECT_TUNNEL);
	nftnl_obj_set_data(o, NFTNL_OBJ_TUNNEL_IPV6_SRC, ip6, sizeof(ip6));
	nftnl_obj_set_data(o, NFTNL_OBJ_TUNNEL_IPV6_DST, ip6, sizeof(ip6));
	nftnl_obj_set_u32(o, NFTNL_OBJ_TUNNEL_IPV6_FLOWLABEL, 5);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TUNNEL_ERSPAN_VERSION, 2);
	nftnl_obj_set_u8(o, NFTNL_OBJ_TUNNEL_ERSPAN_V2_HWID, 3);
	nftnl_obj_set_u8(o, NFTNL_OBJ_TUNNEL_ERSPAN_V2_DIR, 1);
	sample_push(&t->objs, &t->nobjs, &t->objs_cap, o);
	o = sample_obj(t->name, "tcpto", NFT_OBJECT_CT_TIMEOUT);
	nftnl_obj_set_u16(o, NFTNL_OBJ_CT_TIMEOUT_L3PROTO, NFPROTO_IPV4);
	nftnl_obj_set_u8(o, NFTNL_OBJ_CT_TIMEOUT_L4PROTO, 6);
	nftnl_obj_set_data(o, NFTNL_OBJ_CT_TIMEOUT_ARRAY, timeouts, sizeof(timeouts));
	sample_push(&t->objs, &t->nobjs, &t->objs_cap, o);
	o = sample_obj(t->name, "udpto", NFT_OBJECT_CT_TIMEOUT);
	nftnl_obj_set_u8(o, NFTNL_OBJ_CT_TIMEOUT_L4PROTO, 17);
	nftnl_obj_set_data(o, NFTNL_OBJ_CT_TIMEOUT_ARRAY, timeouts, sizeof(timeouts));
	sample_push(&t->objs, &t->nobjs, &t->objs_cap, o);
	o = sample_obj(t->name, "icmpto", NFT_OBJECT_CT_TIMEOUT);
	nftnl_obj_set_u8(o, NFTNL_OBJ_CT_TIMEOUT_L4PROTO, 1);
	nftnl_obj_set_data(o, NFTNL_OBJ_CT_TIMEOUT_ARRAY, timeouts, sizeof(timeouts));
	sample_push(&t->objs, &t->nobjs, &t->objs_cap, o);
	o = sample_obj(t->name, "label", NFT_OBJECT_SECMARK);
	nftnl_obj_set_str(o, NFTNL_OBJ_SECMARK_CTX, "system_u:object_r:ssh_server_packet_t:s0");
	sample_push(&t->objs, &t->nobjs, &t->objs_cap, o);
	o = sample_obj(t->name, "expect", NFT_OBJECT_CT_EXPECT);
	nftnl_obj_set_u16(o, NFTNL_OBJ_CT_EXPECT_L3PROTO, NFPROTO_IPV4);
	nftnl_obj_set_u8(o, NFTNL_OBJ_CT_EXPECT_L4PROTO, 6);
	nftnl_obj_set_u16(o, NFTNL_OBJ_CT_EXPECT_DPORT, 21);
	nftnl_obj_set_u32(o, NFTNL_OBJ_CT_EXPECT_TIMEOUT, 1000);
	nftnl_obj_set_u8(o, NFTNL_OBJ_CT_EXPECT_SIZE, 3);
	sample_push(&t->objs, &t->nobjs, &t->objs_cap, o);
	o = sample_obj(t->name, "syn", NFT_OBJECT_SYNPROXY);
	nftnl_obj_set_u16(o, NFTNL_OBJ_SYNPROXY_MSS, 1460);
	nftnl_obj_set_u8(o, NFTNL_OBJ_SYNPROXY_WSCALE, 7);
	nftnl_obj_set_u32(o, NFTNL_OBJ_SYNPROXY_FLAGS, 3);
	sample_push(&t->objs, &t->nobjs, &t->objs_cap, o);
}

static struct nftnl_chain *sample_chain(const char *table, const char *name, bool base)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_u64(c, NFTNL_CHAIN_HANDLE, 2);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FLAGS, 0);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_USE, 1);
	if (base) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_IN);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, -150);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_DROP);
		nftnl_chain_set_u64(c, NFTNL_CHAIN_PACKETS, 10);
		nftnl_chain_set_u64(c, NFTNL_CHAIN_BYTES, 600);
	}
	return c;
}

/* A whole table "inet NAME": chains, the sets, the objects, a flowtable,
 * and rules holding every expression (n elements in the first set). */
static void sample_whole(struct snap_table *t, const char *name, int n, bool quirks)
{
	static const char *devs[] = { "lo", "eth0", NULL };
	struct nftnl_chain *c;
	struct nftnl_flowtable *ft = nftnl_flowtable_alloc();
	struct nftnl_rule *r;
	size_t nx = sizeof(sample_exprs) / sizeof(sample_exprs[0]);

	memset(t, 0, sizeof(*t));
	t->family = NFPROTO_INET;
	t->name = strdup(name);
	t->table = nftnl_table_alloc();
	nftnl_table_set_u32(t->table, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t->table, NFTNL_TABLE_NAME, name);
	nftnl_table_set_u32(t->table, NFTNL_TABLE_FLAGS, 0);
	nftnl_table_set_u64(t->table, NFTNL_TABLE_HANDLE, 1);
	nftnl_table_set_u32(t->table, NFTNL_TABLE_USE, 3);
	nftnl_table_set_data(t->table, NFTNL_TABLE_USERDATA, "\x01\x02", 2);

	sample_push(&t->chains, &t->nchains, &t->chains_cap, sample_chain(name, "input", true));
	sample_push(&t->chains, &t->nchains, &t->chains_cap, sample_chain(name, "other", false));
	c = sample_chain(name, "ingress", true);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_INGRESS);
	nftnl_chain_set_str(c, NFTNL_CHAIN_DEV, "lo");
	nftnl_chain_set_data(c, NFTNL_CHAIN_USERDATA, "ud", 2);
	sample_push(&t->chains, &t->nchains, &t->chains_cap, c);
	c = sample_chain(name, "ingress2", true);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_INGRESS);
	nftnl_chain_set_data(c, NFTNL_CHAIN_DEVICES, devs, 0);
	sample_push(&t->chains, &t->nchains, &t->chains_cap, c);

	sample_sets(t, n);
	sample_objs(t, quirks);

	nftnl_flowtable_set_str(ft, NFTNL_FLOWTABLE_TABLE, name);
	nftnl_flowtable_set_str(ft, NFTNL_FLOWTABLE_NAME, "fast");
	nftnl_flowtable_set_u32(ft, NFTNL_FLOWTABLE_FAMILY, NFPROTO_INET);
	nftnl_flowtable_set_u32(ft, NFTNL_FLOWTABLE_HOOKNUM, NF_NETDEV_INGRESS);
	nftnl_flowtable_set_s32(ft, NFTNL_FLOWTABLE_PRIO, 0);
	nftnl_flowtable_set_data(ft, NFTNL_FLOWTABLE_DEVICES, devs, 0);
	nftnl_flowtable_set_u32(ft, NFTNL_FLOWTABLE_FLAGS, 1);
	nftnl_flowtable_set_u64(ft, NFTNL_FLOWTABLE_HANDLE, 8);
	sample_push(&t->flowtables, &t->nflowtables, &t->flowtables_cap, ft);

	/* one rule with every expression, one each, and the odd ones */
	r = sample_rule(name, "input", 10);
	for (size_t i = 0; i < nx; i++)
		nftnl_rule_add_expr(r, sample_expr(&sample_exprs[i], (unsigned)i));
	nftnl_rule_add_expr(r, sample_verdict(NF_ACCEPT, NULL, false));
	sample_push(&t->rules, &t->nrules, &t->rules_cap, r);
	for (size_t i = 0; i < nx; i++) {
		r = sample_rule(name, "other", 20 + i);
		nftnl_rule_add_expr(r, sample_expr(&sample_exprs[i], 100 + (unsigned)i));
		sample_push(&t->rules, &t->nrules, &t->rules_cap, r);
	}
	r = sample_rule(name, "input", 11);
	nftnl_rule_set_u32(r, NFTNL_RULE_COMPAT_PROTO, 6);
	nftnl_rule_set_u32(r, NFTNL_RULE_COMPAT_FLAGS, 0);
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, "\x00\x03" "abc", 5);
	nftnl_rule_add_expr(r, sample_dynset(1, false));
	nftnl_rule_add_expr(r, sample_dynset(2, false));
	nftnl_rule_add_expr(r, sample_verdict(NFT_JUMP, "other", false));
	sample_push(&t->rules, &t->nrules, &t->rules_cap, r);
	if (quirks) {
		r = sample_rule(name, "input", 14);
		nftnl_rule_add_expr(r, sample_dynset(1, true));
		nftnl_rule_add_expr(r, sample_dynset(2, true));
		nftnl_rule_add_expr(r, sample_verdict(NFT_GOTO, "other", true));
		sample_push(&t->rules, &t->nrules, &t->rules_cap, r);
	}
	r = sample_rule(name, "input", 12);
	nftnl_rule_add_expr(r, sample_verdict(NFT_GOTO, "other", false));
	sample_push(&t->rules, &t->nrules, &t->rules_cap, r);
	r = sample_rule(name, "input", 13);
	nftnl_rule_add_expr(r, sample_verdict(NFT_RETURN, NULL, false));
	sample_push(&t->rules, &t->nrules, &t->rules_cap, r);
}

static struct undo_step *sample_step(struct snap_table *t, enum undo_kind kind,
				     const char *chain)
{
	struct undo_step *st;

	t->steps = realloc(t->steps, (t->nsteps + 1) * sizeof(*st));
	st = &t->steps[t->nsteps++];
	memset(st, 0, sizeof(*st));
	st->kind = kind;
	st->chain = strdup(chain);
	st->after_step = -1;
	return st;
}

/* A delta of table "inet NAME": one step of every kind, an ADDRULE with
 * its anonymous set, one after a rule and one after that step. */
static void sample_delta(struct snap_table *t, const char *name)
{
	struct undo_step *st;
	struct nftnl_expr *e;
	struct nftnl_set *s;

	memset(t, 0, sizeof(*t));
	t->family = NFPROTO_INET;
	t->name = strdup(name);
	t->delta = true;
	st = sample_step(t, UNDO_DELRULE, "input");
	st->handle = 33;
	st = sample_step(t, UNDO_REPLACE, "input");
	st->handle = 34;
	st->rule = sample_rule(name, "input", 34);
	nftnl_rule_add_expr(st->rule, sample_expr(&sample_exprs[2], 1));
	nftnl_rule_add_expr(st->rule, sample_verdict(NF_DROP, NULL, false));
	st = sample_step(t, UNDO_ADDRULE, "input");
	st->handle = 35;
	st->after = 34;
	st->rule = sample_rule(name, "input", 35);
	e = nftnl_expr_alloc("lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, "__set0");
	nftnl_rule_add_expr(st->rule, e);
	s = sample_set(name, "__set0", NFT_SET_ANONYMOUS | NFT_SET_CONSTANT);
	nftnl_set_elem_add(s, sample_elem(22));
	nftnl_set_elem_add(s, sample_elem(80));
	sample_push(&st->sets, &st->nsets, &st->sets_cap, s);
	st = sample_step(t, UNDO_ADDRULE, "input");
	st->handle = 36;
	st->after_step = 2;
	st->rule = sample_rule(name, "input", 36);
	nftnl_rule_add_expr(st->rule, sample_verdict(NF_ACCEPT, NULL, false));
	st = sample_step(t, UNDO_ADDRULE, "other");
	st->handle = 37;
	st->rule = sample_rule(name, "other", 37);
	e = nftnl_expr_alloc("objref"); /* libnftnl writes its name without the NUL */
	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, "hits");
	nftnl_rule_add_expr(st->rule, e);
	st = sample_step(t, UNDO_POLICY, "input");
	st->policy = NF_ACCEPT;
	sample_step(t, UNDO_DELCHAIN, "made");
	/* elements of a named set: those added go, those removed come back */
	st = sample_step(t, UNDO_DELELEMS, "ports");
	s = sample_set(name, "ports", 0);
	nftnl_set_elem_add(s, sample_elem(8080));
	sample_push(&st->sets, &st->nsets, &st->sets_cap, s);
	st = sample_step(t, UNDO_ADDELEMS, "ports");
	s = sample_set(name, "ports", 0);
	nftnl_set_elem_add(s, sample_elem(22));
	nftnl_set_elem_add(s, sample_elem(443));
	sample_push(&st->sets, &st->nsets, &st->sets_cap, s);
}

/* The whole sample: a whole table (n set elements), an absent table and
 * a delta; with quirks, what libnftnl does not read back as it was too. */
static void sample_snapshot(struct snapshot *s, int n, bool quirks)
{
	memset(s, 0, sizeof(*s));
	s->genid = 7;
	s->tables = calloc(3, sizeof(*s->tables));
	s->ntables = 3;
	sample_whole(&s->tables[0], "web", n, quirks);
	s->tables[1].family = NFPROTO_IPV4;
	s->tables[1].name = strdup("gone");
	s->tables[1].absent = true;
	sample_delta(&s->tables[2], "edited");
}

#endif
