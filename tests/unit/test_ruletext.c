/* Unit tests of the rule text (nft/ruletext.c) that need no kernel: the
 * commands it asks libnftables for, and its listing joined to the rules
 * by handle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nft/ruletext.h"
#include "sample.h"

#include <linux/netfilter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char listing[] =
	"table ip other { # handle 1\n"
	"\tchain input { # handle 1\n"
	"\t\tcounter accept # handle 4\n"
	"\t}\n"
	"}\n"
	"table inet web { # handle 7\n"
	"\tset blocked { # handle 3\n"
	"\t\ttype ipv4_addr\n"
	"\t\tflags interval\n"
	"\t}\n"
	"\tchain input { # handle 1\n"
	"\t\ttype filter hook input priority filter; policy drop;\n"
	"\t\tcomment \"chain comment # handle 99\"\n"
	"\t\tct state established,related accept # handle 4\n"
	"\t\ttcp dport { 22, 80 } accept comment \"x } { # handle 9\" # handle 5\n"
	"\t\tjump extra comment \"two\nlines # handle 1\" # handle 6\n"
	"\t}\n"
	"\tchain extra { # handle 2\n"
	"\t\tcounter # handle 8\n"
	"\t}\n"
	"}\n";

static void test_ruletext_join(void **state)
{
	struct nfp_ruleset rs = { 0 };
	const uint64_t handles[] = { 4, 6, 5 }; /* order differs from the text */
	struct nfp_chain *c;

	(void)state;
	build(&rs, handles, 3);
	ruleset_add_rule(&rs.tables[0].chains[1])->handle = 8;
	assert_int_equal(ruletext_join(&rs, listing), 4);
	c = &rs.tables[0].chains[0];
	assert_string_equal(c->rules[0].text, "ct state established,related accept");
	assert_string_equal(c->rules[1].text, "jump extra comment \"two\nlines # handle 1\"");
	assert_string_equal(c->rules[2].text,
			    "tcp dport { 22, 80 } accept comment \"x } { # handle 9\"");
	assert_string_equal(rs.tables[0].chains[1].rules[0].text, "counter");
	assert_string_equal(rs.tables[0].sets[0].key_type, "type ipv4_addr");
	ruleset_free(&rs);
}

static void test_ruletext_command(void **state)
{
	char b[256];

	(void)state;
	ruletext_command(NFPROTO_IPV4, "filter", NULL, b, sizeof(b));
	assert_string_equal(b, "list table ip filter");
	ruletext_command(NFPROTO_IPV4, "filter", "DOCKER-USER", b, sizeof(b));
	assert_string_equal(b, "list chain ip filter DOCKER-USER");
	/* a name that is no bare word must never reach nft's parser */
	ruletext_command(NFPROTO_IPV4, "filter", "x; flush ruleset", b, sizeof(b));
	assert_string_equal(b, "list table ip filter");
	ruletext_command(NFPROTO_INET, "a\"b", "input", b, sizeof(b));
	assert_string_equal(b, "list ruleset inet");
	ruletext_command(NFPROTO_INET, "1abc", NULL, b, sizeof(b));
	assert_string_equal(b, "list ruleset inet");
	ruletext_command(99, "filter", NULL, b, sizeof(b)); /* unknown family */
	assert_string_equal(b, "list ruleset");
}

/* ruletext_plan_tables of rs, as saved, is the two commands */
static void expect_saved_plan(const struct nfp_ruleset *rs, const char *first,
			      const char *second)
{
	struct ruletext_job job = { .saved = true };

	assert_int_equal(ruletext_plan_tables(&job, rs), 0);
	assert_int_equal(job.ncmds, 2);
	assert_string_equal(job.cmds[0], first);
	assert_string_equal(job.cmds[1], second);
	ruletext_job_free(&job);
}

static void test_ruletext_plan(void **state)
{
	struct nfp_ruleset rs = { 0 };
	struct ruletext_job job = { 0 };
	const uint64_t h[] = { 4 };
	struct nfp_table *big;

	(void)state;
	build(&rs, h, 1); /* inet web: chains input, extra; set blocked */
	big = ruleset_add_table(&rs);
	big->family = NFPROTO_IPV4;
	big->name = strdup("kube");
	for (int i = 0; i < 300; i++) { /* many chains: listed whole */
		char n[16];

		snprintf(n, sizeof(n), "c%d", i);
		ruleset_add_chain(big)->name = strdup(n);
	}
	assert_int_equal(ruletext_plan(&job, &rs), 0);
	assert_int_equal(job.ncmds, 3);
	/* web has a named set: each listing also a terse `list ruleset`,
	 * which leaves its elements out, and the meters: the types nft
	 * writes of its sets, maps and meters come with them */
	assert_string_equal(job.cmds[0],
			    "list chain inet web input; list ruleset inet; list meters inet");
	assert_string_equal(job.cmds[1],
			    "list chain inet web extra; list ruleset inet; list meters inet");
	assert_string_equal(job.cmds[2], "list table ip kube");
	ruletext_job_free(&job);

	/* as saved: whole tables, never a terse listing */
	expect_saved_plan(&rs, "list table inet web", "list table ip kube");
	/* a name nft does not take: its family once, whole */
	ruleset_add_table(&rs)->family = NFPROTO_IPV4;
	rs.tables[rs.ntables - 1].name = strdup("1odd");
	expect_saved_plan(&rs, "list table inet web", "list ruleset ip");
	ruleset_free(&rs);
}

static const char chain_listing[] = /* `list chain` prints no table handle */
	"table inet web {\n"
	"\tchain extra { # handle 2\n"
	"\t\tcounter # handle 8\n"
	"\t}\n"
	"}\n";

static void test_ruletext_join_by_name(void **state)
{
	struct nfp_ruleset rs = { 0 };
	const uint64_t h[] = { 4 };

	(void)state;
	build(&rs, h, 1);
	ruleset_add_rule(&rs.tables[0].chains[1])->handle = 8;
	assert_int_equal(ruletext_join(&rs, chain_listing), 1);
	assert_string_equal(rs.tables[0].chains[1].rules[0].text, "counter");
	assert_null(rs.tables[0].chains[0].rules[0].text);
	ruleset_free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ruletext_join),
		cmocka_unit_test(test_ruletext_command),
		cmocka_unit_test(test_ruletext_plan),
		cmocka_unit_test(test_ruletext_join_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
