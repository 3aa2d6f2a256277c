/* Unit tests of util/grow: doubling, the first capacity, and a size that
 * would overflow refused with the array untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/grow.h"

#include <errno.h>
#include <stdlib.h>

static void test_grow_doubles(void **state)
{
	int *a = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(grow(&a, &cap, 1, sizeof(*a), 4), 0);
	assert_int_equal(cap, 4);
	assert_int_equal(grow(&a, &cap, 4, sizeof(*a), 4), 0);
	assert_int_equal(cap, 4); /* fits: nothing to do */
	assert_int_equal(grow(&a, &cap, 5, sizeof(*a), 4), 0);
	assert_int_equal(cap, 8);
	assert_int_equal(grow(&a, &cap, 100, sizeof(*a), 4), 0);
	assert_int_equal(cap, 128);
	a[127] = 1;
	free(a);
}

static void test_grow_overflow(void **state)
{
	long *a = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(grow(&a, &cap, 2, sizeof(*a), 0), 0);
	assert_int_equal(cap, 2);
	/* elements fit in size_t, their bytes do not */
	assert_int_equal(grow(&a, &cap, SIZE_MAX / 4, sizeof(*a), 0), -ENOMEM);
	assert_int_equal(cap, 2);
	assert_non_null(a);
	/* the count itself cannot double */
	assert_int_equal(grow(&a, &cap, SIZE_MAX, 1, 0), -ENOMEM);
	assert_int_equal(cap, 2);
	free(a);
}

static void test_grow_slot(void **state)
{
	struct { int x, y; } *a = NULL;
	size_t n = 0, cap = 0;

	(void)state;
	for (int i = 0; i < 20; i++) {
		void *s = grow_slot(&a, &n, &cap, sizeof(*a), 8);

		assert_non_null(s);
		assert_ptr_equal(s, &a[i]);
		assert_int_equal(a[i].x, 0); /* zeroed */
		a[i].x = i;
	}
	assert_int_equal(n, 20);
	assert_int_equal(cap, 32);
	assert_int_equal(a[19].x, 19);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow_doubles),
		cmocka_unit_test(test_grow_overflow),
		cmocka_unit_test(test_grow_slot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
