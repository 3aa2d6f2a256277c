/* Unit tests of the model's pure functions: no kernel involved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/fmt.h"
#include "model/print.h"
#include "model/ruleset.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

static void test_fmt_human(void **state)
{
	char b[16];

	(void)state;
	assert_string_equal(fmt_human(b, sizeof(b), 0), "0");
	assert_string_equal(fmt_human(b, sizeof(b), 999), "999");
	assert_string_equal(fmt_human(b, sizeof(b), 1000), "1.0K");
	assert_string_equal(fmt_human(b, sizeof(b), 1234), "1.2K");
	assert_string_equal(fmt_human(b, sizeof(b), 9949), "9.9K");
	assert_string_equal(fmt_human(b, sizeof(b), 34000), "34K");
	assert_string_equal(fmt_human(b, sizeof(b), 999499), "999K");
	assert_string_equal(fmt_human(b, sizeof(b), 999999), "1.0M");
	assert_string_equal(fmt_human(b, sizeof(b), 3400000), "3.4M");
	assert_string_equal(fmt_human(b, sizeof(b), 5600000000ULL), "5.6G");
	assert_string_equal(fmt_human(b, sizeof(b), UINT64_MAX), "18E");
}

static char *capture(void (*fn)(FILE *, const char *), const char *arg);

static void test_fmt_sanitize(void **state)
{
	char b[64];

	(void)state;
	assert_string_equal(fmt_sanitize(b, sizeof(b), "plain"), "plain");
	assert_string_equal(fmt_sanitize(b, sizeof(b), "\x1b[31mred\x07"), "?[31mred?");
	assert_string_equal(fmt_sanitize(b, sizeof(b), "a\tb\nc\x7f"), "a b?c?");
	/* valid UTF-8 kept, C1 controls and broken sequences replaced */
	assert_string_equal(fmt_sanitize(b, sizeof(b), "caf\xc3\xa9"), "caf\xc3\xa9");
	assert_string_equal(fmt_sanitize(b, sizeof(b), "\xc2\x9b" "2J"), "??2J");
	assert_string_equal(fmt_sanitize(b, sizeof(b), "x\xff\xc3"), "x??");
	assert_string_equal(fmt_sanitize(b, sizeof(b), "\xe0\x80\xaf"), "???"); /* overlong */
	/* truncation never splits a character */
	assert_string_equal(fmt_sanitize(b, 5, "ab\xc3\xa9\xc3\xa9"), "ab\xc3\xa9");
	assert_string_equal(fmt_sanitize(b, 4, "ab\xc3\xa9"), "ab");
}

/* The bidi controls reorder what the terminal shows: "evil\u202Etxt.exe"
 * reads "evilexe.txt". Every one of them is replaced, byte by byte;
 * other characters near them are kept. */
static void test_fmt_sanitize_bidi(void **state)
{
	static const char *const bidi[] = {
		"\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad", /* U+202A..D */
		"\xe2\x80\xae",                                          /* U+202E RLO */
		"\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9", /* U+2066..9 */
		"\xe2\x80\x8e", "\xe2\x80\x8f", "\xd8\x9c",                       /* LRM RLM ALM */
	};
	char b[64], in[64], *s;

	(void)state;
	for (size_t i = 0; i < sizeof(bidi) / sizeof(bidi[0]); i++) {
		snprintf(in, sizeof(in), "a%sb", bidi[i]);
		fmt_sanitize(b, sizeof(b), in);
		assert_int_equal(strlen(b), strlen(in));
		assert_null(strpbrk(b, "\x80\x81\x8e\x8f\x9c\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae"));
		assert_int_equal(b[0], 'a');
		assert_int_equal(b[strlen(b) - 1], 'b');
		s = capture(fmt_put_safe, in);
		assert_string_equal(s, b);
		free(s);
	}
	/* the neighbours of the controls stay: U+2029, U+2070, U+202F */
	assert_string_equal(fmt_sanitize(b, sizeof(b), "\xe2\x80\xa9\xe2\x81\xb0\xe2\x80\xaf"),
			    "\xe2\x80\xa9\xe2\x81\xb0\xe2\x80\xaf");
	/* JSON keeps the string exact, escaped */
	s = capture(fmt_put_json, "a\xe2\x80\xae" "b");
	assert_string_equal(s, "\"a\\u202eb\"");
	free(s);
}

/* A non-UTF-8 locale (LC_ALL=C): the terminal takes every byte as one
 * character, and 0x9B is CSI on an 8-bit terminal. No byte >= 0x80
 * reaches it; ASCII and the JSON output are as in UTF-8. */
static void test_fmt_sanitize_c_locale(void **state)
{
	char b[64], *s;

	(void)state;
	assert_non_null(setlocale(LC_CTYPE, "C"));
	assert_string_equal(fmt_sanitize(b, sizeof(b), "x\x9b" "2Jy"), "x?2Jy");
	assert_string_equal(fmt_sanitize(b, sizeof(b), "caf\xc3\xa9"), "caf??");
	assert_string_equal(fmt_sanitize(b, sizeof(b), "\xe2\x80\xaeRLO\x1b"), "???RLO?");
	assert_string_equal(fmt_sanitize(b, sizeof(b), "plain ascii"), "plain ascii");
	/* nfpilot's own punctuation in ASCII: "REVERT FAILED \u2014 ..." */
	assert_string_equal(fmt_sanitize(b, sizeof(b), "a \xe2\x80\x94 b\xe2\x80\xa6 \xe2\x86\x92"),
			    "a - b... ->");
	assert_string_equal(fmt_sanitize(b, 5, "ab\xe2\x80\xa6"), "ab");
	assert_string_equal(fmt_sanitize(b, 6, "ab\xe2\x80\xa6"), "ab...");
	s = capture(fmt_put_safe, "\x9b\xc3\xa9\xff.");
	assert_string_equal(s, "????.");
	free(s);
	s = capture(fmt_put_json, "caf\xc3\xa9");
	assert_string_equal(s, "\"caf\xc3\xa9\"");
	free(s);
	assert_non_null(setlocale(LC_CTYPE, "C.UTF-8"));
	assert_string_equal(fmt_sanitize(b, sizeof(b), "caf\xc3\xa9"), "caf\xc3\xa9");
}

static char *capture(void (*fn)(FILE *, const char *), const char *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	fn(fp, arg);
	fclose(fp);
	return buf;
}

static void test_fmt_json(void **state)
{
	char *s;

	(void)state;
	s = capture(fmt_put_json, "a\"b\\c\n\x1b\xc2\x9b\xff\xc3\xa9");
	assert_string_equal(s, "\"a\\\"b\\\\c\\u000a\\u001b\\u009b\\ufffd\xc3\xa9\"");
	free(s);
	s = capture(fmt_put_safe, "ok\x1b]0;t\x07");
	assert_string_equal(s, "ok?]0;t?");
	free(s);
}

#include "sample.h"

static bool has(const struct nfp_diff *d, enum nfp_diff_kind k, const char *chain,
		uint64_t handle)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->e[i].kind == k && (!chain || (d->e[i].chain &&
						     strcmp(d->e[i].chain, chain) == 0)) &&
		    d->e[i].handle == handle)
			return true;
	return false;
}

static void test_diff(void **state)
{
	struct nfp_ruleset a = { 0 }, b = { 0 };
	struct nfp_diff d = { 0 };
	const uint64_t ha[] = { 1, 2, 3, 4, 5 };
	const uint64_t hb[] = { 9, 1, 4, 2, 3 }; /* 9 added, 5 removed, 4 moved up */

	(void)state;
	build(&a, ha, 5);
	build(&b, hb, 5);
	a.tables[0].chains[0].rules[1].text = strdup("accept");
	b.tables[0].chains[0].rules[3].text = strdup("drop"); /* handle 2 changed */
	a.tables[0].chains[0].rules[0].packets = 5; /* counters never count */
	b.tables[0].chains[0].policy = NF_ACCEPT;
	ruleset_add_chain(&b.tables[0])->name = strdup("new");
	assert_int_equal(ruleset_diff(&a, &b, &d), 0);
	assert_true(has(&d, NFP_DIFF_RULE_ADDED, "input", 9));
	assert_true(has(&d, NFP_DIFF_RULE_REMOVED, "input", 5));
	assert_true(has(&d, NFP_DIFF_RULE_MOVED, "input", 4));
	assert_true(has(&d, NFP_DIFF_RULE_CHANGED, "input", 2));
	assert_true(has(&d, NFP_DIFF_CHAIN_CHANGED, "input", 0));
	assert_true(has(&d, NFP_DIFF_CHAIN_ADDED, "new", 0));
	assert_int_equal(d.n, 6); /* 1, 2, 3 kept their order: not moved */
	ruleset_diff_free(&d);

	/* identical snapshots: empty diff; a removed table is one entry */
	assert_int_equal(ruleset_diff(&a, &a, &d), 0);
	assert_int_equal(d.n, 0);
	struct nfp_ruleset empty = { 0 };
	assert_int_equal(ruleset_diff(&a, &empty, &d), 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.e[0].kind, NFP_DIFF_TABLE_REMOVED);
	assert_string_equal(ruleset_diff_kind_name(d.e[0].kind), "table removed");
	ruleset_diff_free(&d);
	ruleset_free(&a);
	ruleset_free(&b);
}

static struct nfp_table *owner_table(struct nfp_ruleset *rs, uint32_t fam, const char *name,
				     const char *chain, bool base)
{
	struct nfp_table *t = ruleset_add_table(rs);
	struct nfp_chain *c;

	t->family = fam;
	t->name = strdup(name);
	c = ruleset_add_chain(t);
	c->name = strdup(chain);
	c->base = base;
	return t;
}

static void test_owners(void **state)
{
	struct nfp_ruleset rs = { 0 };

	(void)state;
	owner_table(&rs, NFPROTO_IPV4, "filter", "INPUT", true);
	owner_table(&rs, NFPROTO_IPV4, "filter2", "INPUT", true);
	owner_table(&rs, NFPROTO_INET, "filter", "INPUT", true);  /* inet: nft's */
	owner_table(&rs, NFPROTO_IPV6, "mangle", "input", true);  /* nft naming */
	owner_table(&rs, NFPROTO_INET, "firewalld", "x", false);
	owner_table(&rs, NFPROTO_IPV4, "nat", "DOCKER", false);   /* xt rule below */
	ruleset_add_rule(&rs.tables[5].chains[0])->compat = true;
	owner_table(&rs, NFPROTO_INET, "mine", "x", false)->flags = NFT_TABLE_F_OWNER;
	ruleset_classify_owners(&rs);
	assert_int_equal(rs.tables[0].owner, NFP_OWNER_IPTABLES);
	assert_int_equal(rs.tables[1].owner, NFP_OWNER_NATIVE);
	assert_int_equal(rs.tables[2].owner, NFP_OWNER_NATIVE);
	assert_int_equal(rs.tables[3].owner, NFP_OWNER_NATIVE);
	assert_int_equal(rs.tables[4].owner, NFP_OWNER_OTHER);
	assert_string_equal(rs.tables[4].owner_name, "firewalld");
	assert_int_equal(rs.tables[5].owner, NFP_OWNER_IPTABLES);
	assert_int_equal(rs.tables[6].owner, NFP_OWNER_OTHER);
	ruleset_free(&rs);
}

/* iptables -t nat on a host with a native ip nat table merges its chains
 * into it; nft rules in iptables-nft's chains: both are mixed, in any
 * chain order */
static void test_mixed(void **state)
{
	struct nfp_ruleset rs = { 0 };
	struct nfp_table *t;
	struct nfp_chain *c;

	(void)state;
	t = owner_table(&rs, NFPROTO_IPV4, "nat", "postrouting", true);
	c = ruleset_add_chain(t);
	c->name = strdup("POSTROUTING");
	c->base = true;
	t = owner_table(&rs, NFPROTO_IPV4, "nat", "POSTROUTING", true); /* native one last */
	c = ruleset_add_chain(t);
	c->name = strdup("postrouting");
	c->base = true;
	t = owner_table(&rs, NFPROTO_IPV4, "filter", "INPUT", true);
	ruleset_add_rule(&t->chains[0]);
	ruleset_add_rule(&t->chains[0])->nft_only = true; /* tcp dport { 80, 443 } */
	t = owner_table(&rs, NFPROTO_IPV4, "filter", "INPUT", true);
	ruleset_add_rule(&t->chains[0]);
	t = owner_table(&rs, NFPROTO_IPV4, "mangle", "pre", true); /* iptables -N X there */
	c = ruleset_add_chain(t);
	c->name = strdup("X");
	ruleset_add_rule(c)->compat = true;
	t = owner_table(&rs, NFPROTO_INET, "filter", "input", true); /* nft's rule in nft's */
	ruleset_add_rule(&t->chains[0])->nft_only = true;
	ruleset_classify_owners(&rs);
	for (int i = 0; i < 2; i++) {
		t = &rs.tables[i];
		assert_int_equal(t->owner, NFP_OWNER_NATIVE);
		assert_true(t->mixed);
		assert_true(ruleset_find_chain(t, "POSTROUTING")->iptables);
		assert_false(ruleset_find_chain(t, "postrouting")->iptables);
	}
	assert_int_equal(rs.tables[2].owner, NFP_OWNER_IPTABLES);
	assert_true(rs.tables[2].mixed);
	assert_int_equal(rs.tables[3].owner, NFP_OWNER_IPTABLES);
	assert_false(rs.tables[3].mixed);
	assert_int_equal(rs.tables[4].owner, NFP_OWNER_NATIVE);
	assert_true(rs.tables[4].mixed);
	assert_true(rs.tables[4].chains[1].iptables);
	assert_false(rs.tables[5].mixed);
	assert_false(rs.tables[5].chains[0].iptables);
	/* the nft rule goes: no longer mixed */
	rs.tables[2].chains[0].nrules = 1;
	ruleset_classify_table(&rs.tables[2]);
	assert_false(rs.tables[2].mixed);
	rs.tables[2].chains[0].nrules = 2;
	ruleset_free(&rs);
}

static void test_names(void **state)
{
	uint32_t f;

	(void)state;
	assert_string_equal(ruleset_family_name(NFPROTO_INET), "inet");
	assert_int_equal(ruleset_family_parse("ip6", &f), 0);
	assert_int_equal(f, NFPROTO_IPV6);
	assert_int_not_equal(ruleset_family_parse("ipv4", &f), 0);
	assert_string_equal(ruleset_hook_name(NFPROTO_IPV4, NF_INET_LOCAL_IN), "input");
	assert_string_equal(ruleset_hook_name(NFPROTO_ARP, 1), "output");
	assert_string_equal(ruleset_hook_name(NFPROTO_NETDEV, 0), "ingress");
	assert_string_equal(ruleset_hook_name(NFPROTO_INET, NF_INET_INGRESS), "ingress");
	assert_null(ruleset_hook_name(NFPROTO_IPV4, 9));
	assert_string_equal(ruleset_policy_name(NF_DROP), "drop");
	assert_null(ruleset_policy_name(NFP_POLICY_NONE));
}

static void test_print_sanitises(void **state)
{
	struct nfp_ruleset rs = { 0 };
	const uint64_t h[] = { 4 };
	struct print_opts o = { .exact = true };
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	struct nfp_rule *r;

	(void)state;
	build(&rs, h, 1);
	r = &rs.tables[0].chains[0].rules[0];
	r->compat = true;
	r->has_counter = true;
	r->packets = 1234567;
	r->comment = strdup("\x1b[2Jevil");
	r->text = strdup("counter accept");
	fp = open_memstream(&buf, &len);
	print_text(fp, &rs, &o);
	fclose(fp);
	assert_null(strchr(buf, '\x1b'));
	assert_non_null(strstr(buf, "1234567"));
	assert_non_null(strstr(buf, "counter accept  /* ?[2Jevil */"));
	free(buf);
	ruleset_free(&rs);
}

int main(void)
{
	/* the UTF-8 path unless a test says otherwise (model/fmt.h) */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_human),
		cmocka_unit_test(test_fmt_sanitize),
		cmocka_unit_test(test_fmt_sanitize_bidi),
		cmocka_unit_test(test_fmt_sanitize_c_locale),
		cmocka_unit_test(test_fmt_json),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_owners),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_print_sanitises),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
