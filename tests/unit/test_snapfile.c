/* Unit tests of the snapshot file and the table digest (no kernel: the
 * libnftnl objects are built here as a dump would give them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "probation/snapfile.h"

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
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
	snapshot_push((void ***)&t->chains, &t->nchains, c);
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
	snapshot_push((void ***)&t->sets, &t->nsets, set);
	snapshot_push((void ***)&t->rules, &t->nrules, rule(4, pkts, NF_ACCEPT));
	snapshot_push((void ***)&t->rules, &t->nrules, rule(5, pkts, verdict));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_objref_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
