/* Unit tests of model/setelems.c: elements written as nft writes them
 * (prefixes, ranges, concatenations, IPv6, maps, verdicts, times), the
 * element holding a key found, and the memory a million ranges take. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/setelems.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

static struct setelems ipv4_set(uint32_t flags)
{
	struct setelems s = { 0 };

	s.set.flags = flags;
	s.set.key_type = 7; /* ipv4_addr */
	s.set.key_len = 4;
	s.set.nfields = 1;
	return s;
}

static void add_range(struct setelems *s, const char *lo, const char *hi)
{
	struct in_addr a, b;
	struct setelems_elem e = { 0 };

	assert_int_equal(inet_pton(AF_INET, lo, &a), 1);
	e.key = (const uint8_t *)&a;
	if (hi) {
		assert_int_equal(inet_pton(AF_INET, hi, &b), 1);
		e.key_end = (const uint8_t *)&b;
	}
	assert_int_equal(setelems_add(s, &e), 0);
}

static void test_ranges(void **state)
{
	struct setelems s = ipv4_set(NFT_SET_INTERVAL);
	char buf[256];
	struct in_addr q;

	(void)state;
	/* as the kernel dumps them: from the highest key down */
	add_range(&s, "255.255.255.0", "255.255.255.255");
	add_range(&s, "192.168.1.1", "192.168.1.9");
	add_range(&s, "10.0.0.0", "10.255.255.255");
	add_range(&s, "1.2.3.4", NULL);
	assert_string_equal(setelems_format(&s, 0, buf, sizeof(buf)), "255.255.255.0/24");
	assert_string_equal(setelems_format(&s, 1, buf, sizeof(buf)), "192.168.1.1-192.168.1.9");
	assert_string_equal(setelems_format(&s, 2, buf, sizeof(buf)), "10.0.0.0/8");
	assert_string_equal(setelems_format(&s, 3, buf, sizeof(buf)), "1.2.3.4");
	inet_pton(AF_INET, "10.1.2.3", &q);
	assert_int_equal(setelems_find(&s, (uint8_t *)&q), 2);
	inet_pton(AF_INET, "192.168.1.9", &q);
	assert_int_equal(setelems_find(&s, (uint8_t *)&q), 1);
	inet_pton(AF_INET, "192.168.1.10", &q);
	assert_int_equal(setelems_find(&s, (uint8_t *)&q), -ENOENT);
	inet_pton(AF_INET, "1.2.3.4", &q);
	assert_int_equal(setelems_find(&s, (uint8_t *)&q), 3);
	inet_pton(AF_INET, "0.0.0.1", &q);
	assert_int_equal(setelems_find(&s, (uint8_t *)&q), -ENOENT);
	inet_pton(AF_INET, "255.255.255.255", &q);
	assert_int_equal(setelems_find(&s, (uint8_t *)&q), 0);
	setelems_free(&s);
}

static void test_concat_map_times(void **state)
{
	struct setelems s = { 0 };
	uint8_t key[8] = { 10, 0, 0, 0, 0, 22, 0, 0 }, end[8] = { 10, 255, 255, 255, 0, 25, 0, 0 };
	uint8_t q[8] = { 10, 9, 9, 9, 0, 24, 0, 0 };
	struct setelems_elem e = { .key = key, .key_end = end, .comment = "x", .counter = true,
				   .packets = 3, .bytes = 180, .timeout_ms = 93784005,
				   .expires_ms = 1500 };
	char buf[256];

	(void)state;
	s.set.flags = NFT_SET_INTERVAL | NFT_SET_CONCAT | NFT_SET_TIMEOUT;
	s.set.key_type = 7 << 6 | 13; /* ipv4_addr . inet_service */
	s.set.key_len = 8;
	s.set.nfields = setelems_field_lens(s.set.key_type, s.set.field_len);
	s.set.counters = s.set.timeouts = true;
	assert_int_equal(s.set.nfields, 2);
	assert_string_equal(setelems_type_text(&s.set, buf, sizeof(buf)), "ipv4_addr . inet_service");
	assert_int_equal(setelems_add(&s, &e), 0);
	assert_string_equal(setelems_format(&s, 0, buf, sizeof(buf)),
			    "10.0.0.0/8 . 22-25 counter packets 3 bytes 180 timeout 1d2h3m4s5ms "
			    "expires 1s500ms comment \"x\"");
	assert_string_equal(setelems_format_field(&s, 0, 0, buf, sizeof(buf)), "10.0.0.0/8");
	assert_string_equal(setelems_format_field(&s, 0, 1, buf, sizeof(buf)), "22-25");
	assert_string_equal(setelems_format_field(&s, 0, 2, buf, sizeof(buf)), "");
	assert_int_equal(setelems_find(&s, q), 0);
	q[5] = 26;
	assert_int_equal(setelems_find(&s, q), -ENOENT);
	setelems_free(&s);

	/* a verdict map */
	s = ipv4_set(NFT_SET_MAP);
	s.set.data_type = NFT_DATA_VERDICT;
	{
		uint8_t k[4] = { 1, 1, 1, 1 };
		struct setelems_elem v = { .key = k, .verdict = NFT_JUMP, .chain = "x" };

		assert_int_equal(setelems_add(&s, &v), 0);
		v.verdict = NF_ACCEPT;
		v.chain = NULL;
		assert_int_equal(setelems_add(&s, &v), 0);
	}
	assert_string_equal(setelems_format(&s, 0, buf, sizeof(buf)), "1.1.1.1 : jump x");
	assert_string_equal(setelems_type_text(&s.set, buf, sizeof(buf)), "ipv4_addr : verdict");
	s.set.key_type = 42;
	assert_string_equal(setelems_type_text(&s.set, buf, sizeof(buf)), "type 42 : verdict");
	s.set.key_type = 7;
	assert_string_equal(setelems_format(&s, 1, buf, sizeof(buf)), "1.1.1.1 : accept");
	setelems_free(&s);
	assert_string_equal(setelems_format_time(0, buf, sizeof(buf)), "0s");
	assert_string_equal(setelems_format_time(3600000, buf, sizeof(buf)), "1h");
}

static void test_ipv6(void **state)
{
	struct setelems s = { 0 };
	struct in6_addr a, b;
	struct setelems_elem e = { 0 };
	char buf[256];

	(void)state;
	s.set.flags = NFT_SET_INTERVAL;
	s.set.key_type = 8;
	s.set.key_len = 16;
	s.set.nfields = 1;
	inet_pton(AF_INET6, "2001:db8::", &a);
	inet_pton(AF_INET6, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", &b);
	e.key = a.s6_addr;
	e.key_end = b.s6_addr;
	assert_int_equal(setelems_add(&s, &e), 0);
	assert_string_equal(setelems_format(&s, 0, buf, sizeof(buf)), "2001:db8::/32");
	setelems_free(&s);
}

/* A meter's statements as nft writes them: in their order, the counter
 * before or after the limit; the statements alone for their column. */
static void test_stmts(void **state)
{
	struct setelems s = ipv4_set(NFT_SET_EVAL);
	uint32_t a = htonl(0x0a000001), b = htonl(0x0a000002), c = htonl(0x0a000003);
	struct setelems_elem e1 = { .key = (uint8_t *)&a, .stmts = "limit rate over 2/second",
				    .counter = true, .packets = 5, .bytes = 300 };
	struct setelems_elem e2 = { .key = (uint8_t *)&b, .stmts = "quota 1 mbytes used 12 kbytes",
				    .counter = true, .counter_first = true, .packets = 1,
				    .bytes = 2 };
	struct setelems_elem e3 = { .key = (uint8_t *)&c };
	char buf[256];

	(void)state;
	s.set.counters = true;
	assert_int_equal(setelems_add(&s, &e3), 0); /* none: no column yet */
	assert_null(s.stmts);
	assert_int_equal(setelems_add(&s, &e1), 0);
	assert_int_equal(setelems_add(&s, &e2), 0);
	assert_string_equal(setelems_format(&s, 1, buf, sizeof(buf)),
			    "10.0.0.1 limit rate over 2/second counter packets 5 bytes 300");
	assert_string_equal(setelems_format(&s, 2, buf, sizeof(buf)),
			    "10.0.0.2 counter packets 1 bytes 2 quota 1 mbytes used 12 kbytes");
	assert_string_equal(setelems_format_stmts(&s, 1, buf, sizeof(buf)),
			    "limit rate over 2/second");
	assert_string_equal(setelems_format_stmts(&s, 0, buf, sizeof(buf)), "");
	setelems_free(&s);
}

/* The index built a slice at a time is the rows in key order, the
 * catch-all last; rows added while it is built start it again. */
static void test_index_slices(void **state)
{
	struct setelems s = ipv4_set(0);
	size_t n = 5000, steps = 0;
	uint32_t x = 12345;
	int ret;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		uint32_t k;
		struct setelems_elem e = { .key = (uint8_t *)&k };

		x = x * 1103515245 + 12345; /* keys in no order, some bytes all alike */
		k = htonl(0x0a000000 | (x >> 8 & 0xffff00) | (uint32_t)(i & 0xff));
		if (i == 77)
			e.catchall = true;
		assert_int_equal(setelems_add(&s, &e), 0);
	}
	assert_false(setelems_indexed(&s));
	assert_int_equal(setelems_index_step(&s, 999), 1);
	{ /* more rows meanwhile: the index is built again */
		uint32_t k = htonl(0x0a000001);
		struct setelems_elem e = { .key = (uint8_t *)&k };

		assert_int_equal(setelems_add(&s, &e), 0);
		n++;
	}
	while ((ret = setelems_index_step(&s, 999)) == 1)
		steps++;
	assert_int_equal(ret, 0);
	assert_true(steps > 3);
	assert_true(setelems_indexed(&s));
	assert_int_equal(s.norder, n);
	assert_int_equal(s.order[n - 1], 77); /* the catch-all */
	for (size_t i = 1; i + 1 < n; i++)
		assert_true(memcmp(s.keys + s.rows[s.order[i - 1]].key,
				   s.keys + s.rows[s.order[i]].key, 4) < 0);
	{
		uint32_t k = htonl(0x0a000001);

		assert_int_equal(setelems_find(&s, (uint8_t *)&k), (long)(n - 1));
	}
	for (size_t k = 0; k < n; k += 97) /* where a row is in it */
		assert_int_equal(setelems_position(&s, s.order[k]), (long)k);
	assert_int_equal(setelems_position(&s, 77), (long)(n - 1));
	setelems_clear(&s);
	assert_true(setelems_indexed(&s));
	setelems_free(&s);
}

/* a million ranges in at most 64 bytes each, index included */
static void test_budget(void **state)
{
	struct setelems s = ipv4_set(NFT_SET_INTERVAL);
	size_t n = 1000000;
	uint8_t q[4];

	(void)state;
	for (size_t i = n; i-- > 0;) {
		uint32_t lo = htonl((uint32_t)(0x0a000000 + i * 16)), hi = htonl(ntohl(lo) + 7);
		struct setelems_elem e = { .key = (uint8_t *)&lo, .key_end = (uint8_t *)&hi };

		assert_int_equal(setelems_add(&s, &e), 0);
	}
	memcpy(q, &(uint32_t){ htonl(0x0a000000 + 123456 * 16 + 3) }, 4);
	assert_int_equal(setelems_find(&s, q), (long)(n - 1 - 123456));
	memcpy(q, &(uint32_t){ htonl(0x0a000000 + 123456 * 16 + 9) }, 4);
	assert_int_equal(setelems_find(&s, q), -ENOENT);
	setelems_trim(&s);
	assert_int_equal(setelems_find(&s, q), -ENOENT);
	assert_true(setelems_bytes(&s) <= 36 * n);
	print_message("a million ranges: %zu bytes, %.1f an element\n", setelems_bytes(&s),
		      (double)setelems_bytes(&s) / (double)n);
	setelems_free(&s);
	/* with counters and timeouts: 64, the index included */
	s = ipv4_set(NFT_SET_INTERVAL | NFT_SET_TIMEOUT);
	s.set.counters = s.set.timeouts = true;
	for (size_t i = n; i-- > 0;) {
		uint32_t lo = htonl((uint32_t)(0x0a000000 + i * 16)), hi = htonl(ntohl(lo) + 7);
		struct setelems_elem e = { .key = (uint8_t *)&lo, .key_end = (uint8_t *)&hi,
					   .counter = true, .packets = i, .timeout_ms = 3600000,
					   .expires_ms = 1000 };

		assert_int_equal(setelems_add(&s, &e), 0);
	}
	setelems_trim(&s);
	assert_int_equal(setelems_find(&s, q), -ENOENT);
	assert_true(setelems_bytes(&s) <= 64 * n);
	print_message("... with counters and timeouts: %.1f an element\n",
		      (double)setelems_bytes(&s) / (double)n);
	setelems_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_concat_map_times),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_stmts),
		cmocka_unit_test(test_index_slices),
		cmocka_unit_test(test_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
