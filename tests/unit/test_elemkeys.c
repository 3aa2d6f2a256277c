/* Unit tests of nft/elemkeys.c: elements by identity, and copies in the
 * order the kernel's range sets take them back — from the lowest key up,
 * a range's end before the start of the next range at the same key —,
 * nft's marker below the first range left out where asked, and an end
 * element cleaned of what the kernel refuses on an end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nft/elemkeys.h"

#include <arpa/inet.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add(struct nftnl_set *s, uint32_t key, bool end, uint64_t timeout)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	uint32_t k = htonl(key);

	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &k, 4);
	if (end)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
	if (timeout)
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout);
	nftnl_set_elem_add(s, e);
}

static struct nftnl_set *set(void)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_str(s, NFTNL_SET_TABLE, "t");
	nftnl_set_set_str(s, NFTNL_SET_NAME, "s");
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	return s;
}

/* "k" for a start of key k, "k]" for an end, with "t" when it has a timeout */
static char *order(struct nftnl_set *s)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	struct nftnl_set_elem *e;
	static char buf[512];
	size_t at = 0;

	buf[0] = 0;
	while ((e = nftnl_set_elems_iter_next(it))) {
		uint32_t len, k;
		const void *p = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
		bool end = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
			   (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) &
			    NFT_SET_ELEM_INTERVAL_END);

		memcpy(&k, p, 4);
		at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s%u%s%s", at ? " " : "",
				       ntohl(k), end ? "]" : "",
				       nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT) ? "t" : "");
	}
	nftnl_set_elems_iter_destroy(it);
	return buf;
}

static void test_order(void **state)
{
	struct nftnl_set *dump = set(), *copy = set(), *keys;
	struct elemkeys k = { 0 };

	(void)state;
	/* as the kernel dumps [1,5] [6,9] [20,max]: from the top, ends first,
	 * the marker 0] last; its ends carry the range's timeout */
	add(dump, 20, false, 1000);
	add(dump, 10, true, 1000);
	add(dump, 6, false, 1000);
	add(dump, 6, true, 1000);
	add(dump, 1, false, 1000);
	add(dump, 0, true, 0);
	assert_int_equal(elemkeys_copy(dump, copy), 0);
	assert_string_equal(order(copy), "0] 1t 6] 6t 10] 20t");
	/* identities without the marker, in the order a deletion goes */
	assert_int_equal(elemkeys_add_set(&k, dump, true), 0);
	assert_int_equal(k.n, 5);
	keys = elemkeys_set(&k, NFPROTO_IPV4, "t", "s");
	assert_string_equal(order(keys), "1 6] 6 10] 20");
	nftnl_set_free(keys);
	nftnl_set_free(copy);
	/* only those in k, or all but them */
	elemkeys_free(&k);
	{
		struct nftnl_set *one = set(), *only = set(), *rest;

		add(one, 6, false, 0);
		add(one, 10, true, 0);
		assert_int_equal(elemkeys_add_set(&k, one, false), 0);
		assert_int_equal(elemkeys_copy_only(dump, &k, only), 0);
		assert_string_equal(order(only), "6t 10]");
		rest = elemkeys_without(&k, dump);
		assert_non_null(rest);
		assert_string_equal(order(rest), "0] 1t 6] 20t");
		nftnl_set_free(rest);
		nftnl_set_free(only);
		nftnl_set_free(one);
	}
	elemkeys_free(&k);
	nftnl_set_free(dump);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
