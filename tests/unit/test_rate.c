/* Unit tests of model/rate.c: rates between readings, the history and
 * its sparkline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/rate.h"

static void test_rate(void **state)
{
	struct nfp_rate r = { 0 };

	(void)state;
	rate_update(&r, 100, 10000, 10.0);
	assert_int_equal(r.nhist, 0); /* one reading: no rate yet */
	rate_update(&r, 150, 15000, 12.0);
	assert_true(r.pps > 24.99 && r.pps < 25.01);
	assert_true(r.bps > 2499.9 && r.bps < 2500.1);
	assert_true(r.moved);
	assert_int_equal(r.nhist, 1);
	rate_update(&r, 150, 15000, 13.0);
	assert_false(r.moved);
	assert_true(r.pps == 0);
	rate_update(&r, 150, 15000, 13.0); /* same instant: ignored */
	assert_int_equal(r.nhist, 2);
	/* zeroed counter: restart at 0, not a huge bogus rate */
	rate_update(&r, 3, 300, 14.0);
	assert_true(r.pps == 0 && r.bps == 0);
	rate_update(&r, 13, 1300, 15.0);
	assert_true(r.pps > 9.99 && r.pps < 10.01);
	assert_true(rate_hist_at(&r, 0) > 9.99);
	assert_true(rate_hist_at(&r, 3) > 24.99);
	for (int i = 0; i < 40; i++)
		rate_update(&r, 13 + i, 1300, 16.0 + i);
	assert_int_equal(r.nhist, RATE_HISTORY);
}

static void test_spark(void **state)
{
	struct nfp_rate r = { 0 };
	char b[3 * 16 + 1];

	(void)state;
	assert_string_equal(rate_spark(&r, 4, 0, false, b), "    ");
	rate_update(&r, 0, 0, 1);
	rate_update(&r, 0, 0, 2);   /* 0/s */
	rate_update(&r, 7, 0, 3);   /* 7/s */
	rate_update(&r, 21, 0, 4);  /* 14/s */
	assert_string_equal(rate_spark(&r, 4, 0, false, b), "  =#"); /* oldest left */
	assert_string_equal(rate_spark(&r, 2, 0, true, b), "\xe2\x96\x85\xe2\x96\x88");
	assert_string_equal(rate_spark(&r, 3, 0, true, b), "\xe2\x96\x81\xe2\x96\x85\xe2\x96\x88");
	/* one scale for a chain: a rule at half its busiest draws half bars */
	assert_true(rate_hist_max(&r, 4) == 14.0f);
	assert_string_equal(rate_spark(&r, 4, 28, false, b), "  :=");
	assert_string_equal(rate_spark(&r, 4, 14, false, b), "  =#");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_spark),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
