/* Unit tests of ct_rule: the connections filter of a rule's text, and that
 * ct_filter takes what it writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "conntrack/ct_filter.h"
#include "conntrack/ct_rule.h"

#include <string.h>

static void want(const char *rule, const char *filter, int n, bool partial)
{
	char out[256], err[256];
	bool part;
	struct ct_filter f = { 0 };

	assert_int_equal(ct_rule_filter(rule, out, sizeof(out), &part), n);
	assert_string_equal(out, filter);
	assert_int_equal(part, partial);
	assert_int_equal(ct_filter_parse(&f, out, err, sizeof(err), NULL), 0);
	ct_filter_free(&f);
}

static void test_rules(void **state)
{
	(void)state;
	want("tcp dport 22 counter packets 10 bytes 600 accept", "proto tcp dport 22", 2, false);
	want("ip saddr 10.0.0.0/8 tcp dport { 80, 443 } accept",
	     "src 10.0.0.0/8 proto tcp dport 80,443", 3, false);
	want("ip saddr != 192.168.1.5 udp sport 1000-2000 drop",
	     "not src 192.168.1.5 proto udp sport 1000-2000", 3, false);
	want("ct state established,related accept", "ctstate established,related", 1, false);
	want("ct state { established, related } counter accept",
	     "ctstate established,related", 1, false);
	want("iifname \"eth0\" ip daddr 10.1.1.1 meta l4proto udp accept",
	     "dst 10.1.1.1 proto udp", 2, true);
	want("icmp type echo-request limit rate 10/second counter accept", "proto icmp", 1,
	     true);
	want("ip6 saddr 2001:db8::/32 th dport 53 accept", "src 2001:db8::/32 dport 53", 2,
	     false);
	want("ct mark 0x10 comment \"tagged\" jump marked", "mark 0x10", 1, false);
	want("ip saddr @blocked drop", "", 0, true);
	want("counter accept", "", 0, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
