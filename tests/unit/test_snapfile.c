/* Unit tests of the snapshot file and the table digest (no kernel: the
 * libnftnl objects are built here as a dump would give them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "probation/snapfile.h"
#include "tests/unit/snap_samples.h"

#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct nftnl_rule *rule(uint64_t handle, uint64_t pkts, uint32_t verdict)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr *c = nftnl_expr_alloc("counter");
	struct nftnl_expr *v = nftnl_expr_alloc("immediate");

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "web");
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "input");
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
	nftnl_expr_set_u64(c, NFTNL_EXPR_CTR_PACKETS, pkts);
	nftnl_expr_set_u64(c, NFTNL_EXPR_CTR_BYTES, pkts * 60);
	nftnl_rule_add_expr(r, c);
	nftnl_expr_set_u32(v, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(v, NFTNL_EXPR_IMM_VERDICT, verdict);
	nftnl_rule_add_expr(r, v);
	return r;
}

/* a table "inet web" with a base chain, a set of n addresses, two rules */
static void make(struct snapshot *s, int n, uint64_t pkts, uint32_t verdict)
{
	struct snap_table *t;
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nftnl_set *set = nftnl_set_alloc();

	memset(s, 0, sizeof(*s));
	s->genid = 7;
	s->tables = calloc(2, sizeof(*s->tables));
	s->ntables = 2;
	t = &s->tables[0];
	t->family = NFPROTO_INET;
	t->name = strdup("web");
	t->table = nftnl_table_alloc();
	nftnl_table_set_u32(t->table, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t->table, NFTNL_TABLE_NAME, "web");
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, "web");
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "input");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_IN);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_DROP);
	nftnl_chain_set_u64(c, NFTNL_CHAIN_PACKETS, pkts);
	nftnl_chain_set_u64(c, NFTNL_CHAIN_BYTES, pkts);
	snapshot_push(&t->chains, &t->nchains, &t->chains_cap, c);
	nftnl_set_set_str(set, NFTNL_SET_TABLE, "web");
	nftnl_set_set_str(set, NFTNL_SET_NAME, "blocked");
	nftnl_set_set_u32(set, NFTNL_SET_KEY_TYPE, 7);
	nftnl_set_set_u32(set, NFTNL_SET_KEY_LEN, 4);
	for (int i = 0; i < n; i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		uint32_t addr = 0x0a000000u + (uint32_t)i;

		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &addr, sizeof(addr));
		nftnl_set_elem_add(set, e);
	}
	snapshot_push(&t->sets, &t->nsets, &t->sets_cap, set);
	snapshot_push(&t->rules, &t->nrules, &t->rules_cap, rule(4, pkts, NF_ACCEPT));
	snapshot_push(&t->rules, &t->nrules, &t->rules_cap, rule(5, pkts, verdict));
	/* and a table that did not exist */
	s->tables[1].family = NFPROTO_IPV4;
	s->tables[1].name = strdup("gone");
	s->tables[1].absent = true;
}

static void test_round_trip(void **state)
{
	struct snapshot a, b;
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	(void)state;
	make(&a, 20000, 5, NF_DROP); /* 20k elements: several messages */
	assert_int_equal(snapfile_write(&a, fp), 0);
	fclose(fp);
	fp = fmemopen(buf, len, "r");
	assert_int_equal(snapfile_read(fp, &b, err, sizeof(err)), 0);
	fclose(fp);
	assert_int_equal(b.genid, 7);
	assert_int_equal(b.ntables, 2);
	assert_string_equal(b.tables[0].name, "web");
	assert_int_equal(b.tables[0].nchains, 1);
	assert_int_equal(b.tables[0].nsets, 1);
	assert_int_equal(b.tables[0].nrules, 2);
	assert_true(b.tables[1].absent);
	assert_string_equal(b.tables[1].name, "gone");
	{
		/* every element came back */
		struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(b.tables[0].sets[0]);
		int n = 0;

		while (nftnl_set_elems_iter_next(it))
			n++;
		nftnl_set_elems_iter_destroy(it);
		assert_int_equal(n, 20000);
	}
	assert_int_equal(nftnl_rule_get_u64(b.tables[0].rules[1], NFTNL_RULE_HANDLE), 5);
	/* what was written is what was read: equal digests */
	assert_true(snapfile_digest(&a.tables[0]) == snapfile_digest(&b.tables[0]));
	assert_true(snapfile_digest(&b.tables[1]) == 0);
	snapshot_free(&a);
	snapshot_free(&b);
	free(buf);
}

static void test_digest(void **state)
{
	struct snapshot a, counters, verdict, fewer;

	(void)state;
	make(&a, 100, 5, NF_DROP);
	make(&counters, 100, 123456, NF_DROP);   /* traffic only */
	make(&verdict, 100, 5, NF_ACCEPT);       /* a rule changed */
	make(&fewer, 99, 5, NF_DROP);            /* an element less */
	assert_true(snapfile_digest(&a.tables[0]) == snapfile_digest(&counters.tables[0]));
	assert_true(snapfile_digest(&a.tables[0]) != snapfile_digest(&verdict.tables[0]));
	assert_true(snapfile_digest(&a.tables[0]) != snapfile_digest(&fewer.tables[0]));
	/* the digest leaves the counters as they were */
	assert_int_equal(nftnl_chain_get_u64(counters.tables[0].chains[0], NFTNL_CHAIN_PACKETS),
			 123456);
	snapshot_free(&a);
	snapshot_free(&counters);
	snapshot_free(&verdict);
	snapshot_free(&fewer);
}

static void test_damaged(void **state)
{
	struct snapshot a, b;
	char *buf = NULL, err[256] = "";
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	(void)state;
	make(&a, 10, 1, NF_DROP);
	snapfile_write(&a, fp);
	fclose(fp);
	/* cut short: refused, nothing half-read */
	fp = fmemopen(buf, len - 7, "r");
	assert_int_equal(snapfile_read(fp, &b, err, sizeof(err)), -EINVAL);
	fclose(fp);
	assert_non_null(strstr(err, "damaged"));
	assert_int_equal(b.ntables, 0);
	/* not a snapshot at all */
	memcpy(buf, "#!/usr/s", 8);
	fp = fmemopen(buf, len, "r");
	assert_int_equal(snapfile_read(fp, &b, err, sizeof(err)), -EINVAL);
	fclose(fp);
	snapshot_free(&a);
	free(buf);
}

/* named objects' names survive the file (libnftnl writes them unended) */
static void test_objref_name(void **state)
{
	struct snapshot a, b;
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct nftnl_rule *r;
	struct nftnl_expr *o = nftnl_expr_alloc("objref"), *e;
	struct nftnl_expr_iter *it;

	(void)state;
	make(&a, 3, 1, NF_DROP);
	r = a.tables[0].rules[0];
	nftnl_expr_set_u32(o, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
	nftnl_expr_set_str(o, NFTNL_EXPR_OBJREF_IMM_NAME, "hits"); /* 4: no padding */
	nftnl_rule_add_expr(r, o);
	assert_int_equal(snapfile_write(&a, fp), 0);
	fclose(fp);
	fp = fmemopen(buf, len, "r");
	assert_int_equal(snapfile_read(fp, &b, err, sizeof(err)), 0);
	fclose(fp);
	it = nftnl_expr_iter_create(b.tables[0].rules[0]);
	while ((e = nftnl_expr_iter_next(it)))
		if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "objref") == 0)
			assert_string_equal(nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_IMM_NAME), "hits");
	nftnl_expr_iter_destroy(it);
	assert_true(snapfile_digest(&a.tables[0]) == snapfile_digest(&b.tables[0]));
	snapshot_free(&a);
	snapshot_free(&b);
	free(buf);
}

/* ---- damaged files: refused with a reason, never an exit or a crash ---- */

#define HDR_LEN 24 /* magic, generation, tables, all, reserved */

static char *write_mem(const struct snapshot *s, size_t *len)
{
	char *buf = NULL;
	FILE *fp = open_memstream(&buf, len);

	assert_int_equal(snapfile_write(s, fp), 0);
	fclose(fp);
	return buf;
}

/* Read len bytes of buf: the result, err filled. */
static int read_mem(const char *buf, size_t len, struct snapshot *out, char *err,
		    size_t errlen)
{
	FILE *fp = fmemopen((void *)buf, len, "r");
	int ret;

	assert_non_null(fp);
	err[0] = '\0';
	ret = snapfile_read(fp, out, err, errlen);
	fclose(fp);
	return ret;
}

static void assert_damaged(const char *buf, size_t len, const char *why)
{
	struct snapshot out;
	char err[512];

	assert_int_equal(read_mem(buf, len, &out, err, sizeof(err)), -EINVAL);
	if (strncmp(err, "damaged: ", 9) != 0 || (why && !strstr(err, why)))
		fail_msg("wanted \"damaged: ...%s...\", got \"%s\"", why ? why : "", err);
	assert_int_equal(out.ntables, 0);
}

/* The offsets of the messages of a file, and how many. */
static size_t messages(const char *buf, size_t len, size_t *off, size_t max)
{
	size_t n = 0;

	for (size_t o = HDR_LEN; o + sizeof(struct nlmsghdr) <= len && n < max;) {
		const struct nlmsghdr *nlh = (const void *)(buf + o);

		off[n++] = o;
		o += nlh->nlmsg_len;
	}
	return n;
}

/* every kind of object, every attribute libnftnl writes: read back whole */
static void test_every_kind(void **state)
{
	struct snapshot a, b, c;
	char *buf, *buf2, err[512];
	size_t len, len2;

	(void)state;
	sample_snapshot(&a, 5, false);
	buf = write_mem(&a, &len);
	if (read_mem(buf, len, &b, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(b.ntables, 3);
	assert_int_equal(b.tables[0].nchains, a.tables[0].nchains);
	assert_int_equal(b.tables[0].nsets, a.tables[0].nsets);
	assert_int_equal(b.tables[0].nobjs, a.tables[0].nobjs);
	assert_int_equal(b.tables[0].nflowtables, 1);
	assert_int_equal(b.tables[0].nrules, a.tables[0].nrules);
	assert_true(b.tables[1].absent);
	assert_true(b.tables[2].delta);
	assert_int_equal(b.tables[2].nsteps, a.tables[2].nsteps);
	assert_int_equal(b.tables[2].steps[2].nsets, 1);
	assert_int_equal(b.tables[2].steps[2].after, 34);
	assert_int_equal(b.tables[2].steps[3].after_step, 2);
	assert_int_equal(b.tables[2].steps[5].policy, NF_ACCEPT);
	assert_string_equal(b.tables[2].steps[6].chain, "made");
	{
		/* a step's objref keeps its name (libnftnl writes it unended) */
		struct nftnl_expr_iter *it = nftnl_expr_iter_create(b.tables[2].steps[4].rule);
		struct nftnl_expr *e = nftnl_expr_iter_next(it);

		assert_string_equal(nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_IMM_NAME), "hits");
		nftnl_expr_iter_destroy(it);
	}
	assert_true(snapfile_digest(&a.tables[0]) == snapfile_digest(&b.tables[0]));
	/* what was read writes and reads the same again */
	buf2 = write_mem(&b, &len2);
	if (read_mem(buf2, len2, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_true(snapfile_digest(&b.tables[0]) == snapfile_digest(&c.tables[0]));
	assert_true(snapfile_digest(&b.tables[2]) == snapfile_digest(&c.tables[2]));
	snapshot_free(&a);
	snapshot_free(&b);
	snapshot_free(&c);
	free(buf);
	free(buf2);
}

/* cut anywhere — in a message's headers, at its end, between messages:
 * damaged, nothing half read */
static void test_truncated(void **state)
{
	struct snapshot a;
	size_t len, off[256], n;
	char *buf;

	(void)state;
	sample_snapshot(&a, 3, true);
	buf = write_mem(&a, &len);
	n = messages(buf, len, off, 256);
	assert_damaged(buf, 0, "header");
	assert_damaged(buf, 10, "header");
	for (size_t m = 0; m < n; m++) {
		size_t end = m + 1 < n ? off[m + 1] : len;

		for (size_t cut = off[m]; cut < end; cut += cut < off[m] + 48 ||
							 cut + 8 >= end ? 1 : 5)
			assert_damaged(buf, cut, NULL);
	}
	snapshot_free(&a);
	free(buf);
}

/* The file as older versions wrote it, without the end mark: a change
 * anywhere is left to the checks of each message. */
#define END_LEN 32

static size_t unmarked(char *buf, size_t len)
{
	uint32_t flags = 0;

	memcpy(buf + 20, &flags, sizeof(flags));
	return len - END_LEN;
}

/* Every byte of every message flipped: read or refused, never a crash;
 * a message whose first attribute's length is off is always refused. */
static void test_flipped(void **state)
{
	static const unsigned char masks[] = { 0xff, 0x01 };
	static const uint16_t want[] = {
		NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE, NFT_MSG_GETTABLE, NFT_MSG_NEWCHAIN,
		NFT_MSG_NEWRULE, NFT_MSG_NEWSET, NFT_MSG_NEWSETELEM, NFT_MSG_NEWOBJ,
		NFT_MSG_NEWFLOWTABLE, NFT_MSG_DELRULE, NFT_MSG_DELCHAIN,
	};
	struct snapshot a, out;
	size_t len, off[256], n;
	char *buf, err[512];
	uint32_t kinds = 0;

	(void)state;
	sample_snapshot(&a, 2, true);
	buf = write_mem(&a, &len);
	len = unmarked(buf, len);
	n = messages(buf, len, off, 256);
	assert_true(n > 20);
	for (size_t m = 0; m < n; m++) {
		size_t end = m + 1 < n ? off[m + 1] : len;
		const struct nlmsghdr *nlh = (const void *)(buf + off[m]);
		char *attr_len = buf + off[m] + NLMSG_HDRLEN + 4;

		kinds |= 1u << (nlh->nlmsg_type & 0x1f);
		/* read up to the changed message: the others were tried whole */
		for (size_t i = off[m]; i < end; i++)
			for (size_t k = 0; k < sizeof(masks); k++) {
				buf[i] ^= (char)masks[k];
				if (read_mem(buf, end, &out, err, sizeof(err)) == 0)
					snapshot_free(&out);
				else if (strncmp(err, "damaged: ", 9) != 0)
					fail_msg("message %zu byte %zu: \"%s\"", m + 1, i - off[m], err);
				buf[i] ^= (char)masks[k];
			}
		*attr_len ^= 0x01; /* 4-aligned lengths: now odd, the walk is off */
		assert_damaged(buf, len, "message");
		*attr_len ^= 0x01;
	}
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!(kinds & (1u << want[i])))
			fail_msg("no message of type %u in the sample", want[i]);
	snapshot_free(&a);
	free(buf);
}

/* with its end mark, a changed byte that makes sense is seen too */
static void test_end_mark(void **state)
{
	struct snapshot a;
	size_t len, off[256], n;
	char *buf;

	(void)state;
	sample_snapshot(&a, 2, false);
	buf = write_mem(&a, &len);
	n = messages(buf, len, off, 256);
	/* the last byte of the last message before the mark: padding or a value */
	buf[off[n - 1] - 1] ^= 0x01;
	assert_damaged(buf, len, "not those written");
	buf[off[n - 1] - 1] ^= 0x01;
	/* whole messages gone at the end, or the mark */
	assert_damaged(buf, off[n - 2], "ends before its end mark");
	assert_damaged(buf, off[n - 1], "ends before its end mark");
	/* something after it */
	buf = realloc(buf, len + 1);
	buf[len] = 0;
	assert_damaged(buf, len + 1, "after the end mark");
	snapshot_free(&a);
	free(buf);
}

/* A file of hand-made messages after a header counting ntables. */
struct handmade {
	char buf[8192];
	size_t len;
	struct nlmsghdr *cur;
};

static void hm_start(struct handmade *h, uint32_t ntables)
{
	uint32_t hdr[4] = { 7, ntables, 0, 0 };

	memcpy(h->buf, "NFPSNAP1", 8);
	memcpy(h->buf + 8, hdr, sizeof(hdr));
	h->len = HDR_LEN;
	h->cur = NULL;
}

static struct nlmsghdr *hm_msg(struct handmade *h, uint16_t type, uint16_t flags)
{
	if (h->cur)
		h->len += h->cur->nlmsg_len;
	h->cur = nftnl_nlmsg_build_hdr(h->buf + h->len, type, NFPROTO_INET, flags, 0);
	return h->cur;
}

static size_t hm_end(struct handmade *h)
{
	if (h->cur)
		h->len += h->cur->nlmsg_len;
	h->cur = NULL;
	return h->len;
}

static void hm_table(struct handmade *h, uint16_t type, const char *name)
{
	struct nlmsghdr *nlh = hm_msg(h, type, 0);

	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, name);
}

/* a rule of table t, chain input: its expressions after the call */
static struct nlattr *hm_rule(struct handmade *h, uint16_t flags)
{
	struct nlmsghdr *nlh = hm_msg(h, NFT_MSG_NEWRULE, flags);

	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, "t");
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, "input");
	mnl_attr_put_u64(nlh, NFTA_RULE_HANDLE, htobe64(5));
	return mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
}

static void test_wrong_length_in_expression(void **state)
{
	struct handmade h;
	struct nlattr *list, *elem, *data;
	struct nlmsghdr *nlh;
	uint32_t three = 0;
	struct snapshot out;
	char err[512];

	(void)state;
	hm_start(&h, 1);
	hm_table(&h, NFT_MSG_NEWTABLE, "t");
	list = hm_rule(&h, 0);
	nlh = h.cur;
	elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, "payload");
	data = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
	mnl_attr_put(nlh, NFTA_PAYLOAD_DREG, 3, &three); /* libnftnl would exit() */
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, elem);
	mnl_attr_nest_end(nlh, list);
	assert_int_equal(read_mem(h.buf, hm_end(&h), &out, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "damaged: message 2: rule: expression 1 (payload): "
			    "attribute 1 has length 3, wants 4");

	/* an expression libnftnl does not know */
	hm_start(&h, 1);
	hm_table(&h, NFT_MSG_NEWTABLE, "t");
	list = hm_rule(&h, 0);
	nlh = h.cur;
	elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, "teleport");
	mnl_attr_nest_end(nlh, elem);
	mnl_attr_nest_end(nlh, list);
	assert_damaged(h.buf, hm_end(&h), "unknown expression \"teleport\"");

	/* a verdict without its code: libnftnl reads an unset pointer */
	hm_start(&h, 1);
	hm_table(&h, NFT_MSG_NEWTABLE, "t");
	list = hm_rule(&h, 0);
	nlh = h.cur;
	elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, "immediate");
	data = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
	mnl_attr_put_u32(nlh, NFTA_IMMEDIATE_DREG, htonl(NFT_REG_VERDICT));
	{
		struct nlattr *d = mnl_attr_nest_start(nlh, NFTA_IMMEDIATE_DATA);
		struct nlattr *v = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);

		mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, "other");
		mnl_attr_nest_end(nlh, v);
		mnl_attr_nest_end(nlh, d);
	}
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, elem);
	mnl_attr_nest_end(nlh, list);
	assert_damaged(h.buf, hm_end(&h), "immediate): data: verdict: no verdict code");

	/* a string without its NUL: strdup would run on */
	hm_start(&h, 1);
	hm_table(&h, NFT_MSG_NEWTABLE, "t");
	nlh = hm_msg(&h, NFT_MSG_NEWCHAIN, 0);
	mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, "t");
	mnl_attr_put_str(nlh, NFTA_CHAIN_NAME, "input");
	assert_damaged(h.buf, hm_end(&h), "message 2: chain: attribute 3 is not a string ended");
}

static void test_missing_names(void **state)
{
	struct handmade h;
	struct nlmsghdr *nlh;

	(void)state;
	hm_start(&h, 1);
	nlh = hm_msg(&h, NFT_MSG_NEWTABLE, 0);
	mnl_attr_put_u32(nlh, NFTA_TABLE_FLAGS, 0);
	assert_damaged(h.buf, hm_end(&h), "message 1: table: no table name (attribute 1)");

	hm_start(&h, 1);
	hm_table(&h, NFT_MSG_NEWTABLE, "t");
	nlh = hm_msg(&h, NFT_MSG_NEWRULE, 0);
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, "t");
	assert_damaged(h.buf, hm_end(&h), "message 2: rule: no chain name");

	hm_start(&h, 1);
	hm_table(&h, NFT_MSG_NEWTABLE, "t");
	nlh = hm_msg(&h, NFT_MSG_NEWSET, 0);
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, "t");
	assert_damaged(h.buf, hm_end(&h), "message 2: set: no set name");

	/* an object of another table than the one it follows */
	hm_start(&h, 1);
	hm_table(&h, NFT_MSG_NEWTABLE, "t");
	nlh = hm_msg(&h, NFT_MSG_NEWCHAIN, 0);
	mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, "docker");
	mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, "input");
	assert_damaged(h.buf, hm_end(&h), "message 2: a chain of another table");

	/* elements of another set than the one before them */
	hm_start(&h, 1);
	hm_table(&h, NFT_MSG_NEWTABLE, "t");
	nlh = hm_msg(&h, NFT_MSG_NEWSET, 0);
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, "t");
	mnl_attr_put_strz(nlh, NFTA_SET_NAME, "a");
	nlh = hm_msg(&h, NFT_MSG_NEWSETELEM, 0);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, "t");
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, "b");
	assert_damaged(h.buf, hm_end(&h), "message 3: elements of another set");
}

/* a set's element may hold stateful expressions only: no dynset (libnftnl
 * would recurse as deep as the bytes go), no objref */
static void test_element_expressions(void **state)
{
	static const char *names[] = { "dynset", "objref", "counter" };
	struct handmade h;
	struct nlmsghdr *nlh;
	struct nlattr *list, *elem, *key, *expr;
	uint32_t k = 1;
	struct snapshot out;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		hm_start(&h, 1);
		hm_table(&h, NFT_MSG_NEWTABLE, "t");
		nlh = hm_msg(&h, NFT_MSG_NEWSET, 0);
		mnl_attr_put_strz(nlh, NFTA_SET_TABLE, "t");
		mnl_attr_put_strz(nlh, NFTA_SET_NAME, "s");
		nlh = hm_msg(&h, NFT_MSG_NEWSETELEM, 0);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, "t");
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, "s");
		list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
		key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
		mnl_attr_put(nlh, NFTA_DATA_VALUE, sizeof(k), &k);
		mnl_attr_nest_end(nlh, key);
		expr = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_EXPR);
		mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, names[i]);
		mnl_attr_nest_end(nlh, expr);
		mnl_attr_nest_end(nlh, elem);
		mnl_attr_nest_end(nlh, list);
		if (strcmp(names[i], "counter") != 0) {
			assert_damaged(h.buf, hm_end(&h), "not one a set or a dynset may hold");
			continue;
		}
		if (read_mem(h.buf, hm_end(&h), &out, err, sizeof(err)))
			fail_msg("%s", err);
		snapshot_free(&out);
	}
}

/* a delta step after a step that is not one before it putting a rule back */
static void test_bad_position_id(void **state)
{
	static const uint32_t ids[] = { 0, 1, 3, 9 }; /* none, a DELRULE, itself, beyond */
	struct handmade h;
	struct nlmsghdr *nlh;
	struct snapshot out;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]) + 1; i++) {
		hm_start(&h, 1);
		hm_table(&h, NFT_MSG_GETTABLE, "t");
		nlh = hm_msg(&h, NFT_MSG_DELRULE, 0);       /* step 1 */
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, "t");
		mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, "input");
		mnl_attr_put_u64(nlh, NFTA_RULE_HANDLE, htobe64(4));
		mnl_attr_nest_end(h.cur, hm_rule(&h, NLM_F_APPEND)); /* step 2 */
		mnl_attr_nest_end(h.cur, hm_rule(&h, NLM_F_APPEND)); /* step 3 */
		if (i < sizeof(ids) / sizeof(ids[0])) {
			mnl_attr_put_u32(h.cur, NFTA_RULE_POSITION_ID, htonl(ids[i]));
			assert_damaged(h.buf, hm_end(&h), "a rule step after step");
			continue;
		}
		/* and the good one: after step 2 */
		mnl_attr_put_u32(h.cur, NFTA_RULE_POSITION_ID, htonl(2));
		if (read_mem(h.buf, hm_end(&h), &out, err, sizeof(err)))
			fail_msg("%s", err);
		assert_int_equal(out.tables[0].steps[2].after_step, 1);
		snapshot_free(&out);
	}
}


/* elements of a named set: DELELEMS and ADDELEMS steps round trip, their
 * elements (timeout, comment, interval end) as they were */
static struct nftnl_set *elems_of(const char *set, const uint32_t *keys, size_t n, bool extra)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_str(s, NFTNL_SET_TABLE, "d");
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	for (size_t i = 0; i < n; i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		uint32_t k = htonl(keys[i]);

		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &k, 4);
		if (i % 2)
			nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
		else if (extra)
			nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, 60000);
		nftnl_set_elem_add(s, e);
	}
	return s;
}

static void test_element_steps(void **state)
{
	static const uint32_t gone[] = { 0x0a000000, 0x0b000000 }, back[] = { 1, 2, 5, 6 };
	struct snapshot a = { 0 }, b;
	struct snap_table *t;
	char *buf, err[512];
	size_t len;

	(void)state;
	a.tables = t = calloc(1, sizeof(*t));
	a.ntables = 1;
	t->family = NFPROTO_INET;
	t->name = strdup("d");
	t->delta = true;
	t->steps = calloc(2, sizeof(*t->steps));
	t->nsteps = 2;
	t->steps[0] = (struct undo_step){ .kind = UNDO_DELELEMS, .chain = strdup("blocklist"),
					  .after_step = -1 };
	t->steps[1] = (struct undo_step){ .kind = UNDO_ADDELEMS, .chain = strdup("blocklist"),
					  .after_step = -1 };
	for (int i = 0; i < 2; i++) {
		t->steps[i].sets = calloc(1, sizeof(*t->steps[i].sets));
		t->steps[i].sets[0] = i ? elems_of("blocklist", back, 4, true)
					: elems_of("blocklist", gone, 2, false);
		t->steps[i].nsets = t->steps[i].sets_cap = 1;
	}
	buf = write_mem(&a, &len);
	if (read_mem(buf, len, &b, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_true(b.tables[0].delta);
	assert_int_equal(b.tables[0].nsteps, 2);
	assert_int_equal(b.tables[0].steps[0].kind, UNDO_DELELEMS);
	assert_int_equal(b.tables[0].steps[1].kind, UNDO_ADDELEMS);
	assert_string_equal(b.tables[0].steps[1].chain, "blocklist");
	{
		struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(b.tables[0].steps[1].sets[0]);
		struct nftnl_set_elem *e;
		int n = 0, timeouts = 0, ends = 0;

		while ((e = nftnl_set_elems_iter_next(it))) {
			n++;
			timeouts += nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT);
			ends += nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS);
		}
		nftnl_set_elems_iter_destroy(it);
		assert_int_equal(n, 4);
		assert_int_equal(timeouts, 2);
		assert_int_equal(ends, 2);
	}
	assert_true(snapfile_digest(&a.tables[0]) == snapfile_digest(&b.tables[0]));
	snapshot_free(&a);
	snapshot_free(&b);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_objref_name),
		cmocka_unit_test(test_every_kind),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_flipped),
		cmocka_unit_test(test_end_mark),
		cmocka_unit_test(test_wrong_length_in_expression),
		cmocka_unit_test(test_missing_names),
		cmocka_unit_test(test_bad_position_id),
		cmocka_unit_test(test_element_expressions),
		cmocka_unit_test(test_element_steps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
