/* Unit tests of the quick actions' rules: b blocks an address, o allows a
 * port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "apply/quick.h"

#include <errno.h>
#include <string.h>

static void test_block(void **state)
{
	struct quick_rule q;
	char err[128];

	(void)state;
	assert_int_equal(quick_rule(QUICK_BLOCK, "203.0.113.7", &q, err, sizeof(err)), 0);
	assert_string_equal(q.text, "ip saddr 203.0.113.7 drop");
	assert_int_equal(q.where, WHERE_TOP);
	assert_false(q.ip6);
	assert_int_equal(quick_rule(QUICK_BLOCK, "  10.0.0.0/8 ", &q, err, sizeof(err)), 0);
	assert_string_equal(q.text, "ip saddr 10.0.0.0/8 drop");
	assert_int_equal(quick_rule(QUICK_BLOCK, "2001:db8::/32", &q, err, sizeof(err)), 0);
	assert_string_equal(q.text, "ip6 saddr 2001:db8::/32 drop");
	assert_true(q.ip6);
}

static void test_block_refused(void **state)
{
	struct quick_rule q;
	char err[128], longword[300];

	(void)state;
	assert_int_equal(quick_rule(QUICK_BLOCK, "", &q, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "give one address or prefix");
	assert_int_equal(quick_rule(QUICK_BLOCK, "   ", &q, err, sizeof(err)), -EINVAL);
	/* a second word is not quietly dropped */
	assert_int_equal(quick_rule(QUICK_BLOCK, "10.0.0.1 accept", &q, err, sizeof(err)),
			 -EINVAL);
	memset(longword, '1', sizeof(longword) - 1);
	longword[sizeof(longword) - 1] = 0;
	assert_int_equal(quick_rule(QUICK_BLOCK, longword, &q, err, sizeof(err)), -EINVAL);
}

static void test_allow(void **state)
{
	struct quick_rule q;
	char err[128];

	(void)state;
	assert_int_equal(quick_rule(QUICK_ALLOW, "tcp 8080", &q, err, sizeof(err)), 0);
	assert_string_equal(q.text, "tcp dport 8080 accept");
	assert_int_equal(q.where, WHERE_APPEND);
	assert_int_equal(quick_rule(QUICK_ALLOW, "udp 53", &q, err, sizeof(err)), 0);
	assert_string_equal(q.text, "udp dport 53 accept");
	assert_int_equal(quick_rule(QUICK_ALLOW, "tcp 8000-8080", &q, err, sizeof(err)), 0);
	assert_string_equal(q.text, "tcp dport 8000-8080 accept");
}

static void test_allow_refused(void **state)
{
	struct quick_rule q;
	char err[128];

	(void)state;
	assert_int_equal(quick_rule(QUICK_ALLOW, "8080", &q, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "tcp PORT or udp PORT");
	assert_int_equal(quick_rule(QUICK_ALLOW, "sctp 80", &q, err, sizeof(err)), -EINVAL);
	assert_int_equal(quick_rule(QUICK_ALLOW, "tcp", &q, err, sizeof(err)), -EINVAL);
	assert_int_equal(quick_rule(QUICK_ALLOW, "tcp 80 443", &q, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block),
		cmocka_unit_test(test_block_refused),
		cmocka_unit_test(test_allow),
		cmocka_unit_test(test_allow_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
