/* Unit tests of the list helper (ui/list.h): every list of the live view
 * moves with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ui/list.h"

static void test_list_moves(void **state)
{
	struct list l = { 0 };

	(void)state;
	list_count(&l, 100);
	list_show(&l, 10);
	assert_true(list_action(&l, ACT_DOWN));
	assert_int_equal(l.sel, 1);
	assert_true(list_action(&l, ACT_UP));
	assert_true(list_action(&l, ACT_UP)); /* stays at the first row */
	assert_int_equal(l.sel, 0);
	assert_true(list_action(&l, ACT_PAGE_DOWN)); /* a page less one row */
	assert_int_equal(l.sel, 9);
	assert_true(list_action(&l, ACT_LAST));
	assert_int_equal(l.sel, 99);
	assert_true(list_action(&l, ACT_DOWN)); /* stays at the last row */
	assert_int_equal(l.sel, 99);
	assert_true(list_action(&l, ACT_PAGE_UP));
	assert_int_equal(l.sel, 90);
	assert_true(list_action(&l, ACT_FIRST));
	assert_int_equal(l.sel, 0);
	assert_false(list_action(&l, ACT_QUIT)); /* not a moving action */
	assert_false(list_action(&l, ACT_NONE));
	assert_int_equal(l.sel, 0);
}

static void test_list_shows_selection(void **state)
{
	struct list l = { 0 };

	(void)state;
	list_count(&l, 100);
	list_select(&l, 50);
	list_show(&l, 10);
	assert_true(l.top <= 50 && 50 < l.top + 10);
	list_select(&l, 5);
	list_show(&l, 10);
	assert_int_equal(l.top, 5);
	/* fewer rows: the selection stays in range, no empty rows below */
	list_count(&l, 8);
	list_select(&l, 7);
	list_show(&l, 10);
	assert_int_equal(l.sel, 7);
	assert_int_equal(l.top, 0);
	list_count(&l, 0);
	assert_int_equal(l.sel, 0);
	list_show(&l, 10);
	assert_int_equal(l.top, 0);
	assert_true(list_action(&l, ACT_DOWN)); /* an empty list moves nowhere */
	assert_int_equal(l.sel, 0);
}

static void test_list_text(void **state)
{
	struct list l = { .text = true };

	(void)state;
	/* a text of 30 lines, 10 shown: it scrolls until its last line shows */
	list_count(&l, 30);
	list_show(&l, 10);
	assert_true(list_action(&l, ACT_LAST));
	assert_int_equal(l.sel, 20);
	list_show(&l, 10);
	assert_int_equal(l.top, 20);
	assert_true(list_action(&l, ACT_DOWN));
	assert_int_equal(l.sel, 20);
	assert_true(list_action(&l, ACT_UP));
	assert_int_equal(l.top, 19);
	/* shorter than the screen: nothing to scroll */
	list_count(&l, 5);
	list_show(&l, 10);
	assert_int_equal(l.sel, 0);
	assert_true(list_action(&l, ACT_PAGE_DOWN));
	assert_int_equal(l.sel, 0);
}

static void test_list_wheel(void **state)
{
	struct list l = { 0 };
	MEVENT down = { .bstate = BUTTON5_PRESSED }, up = { .bstate = BUTTON4_PRESSED };
	MEVENT click = { .bstate = BUTTON1_CLICKED };

	(void)state;
	list_count(&l, 10);
	assert_true(list_wheel(&l, &down));
	assert_int_equal(l.sel, 3);
	assert_true(list_wheel(&l, &up));
	assert_true(list_wheel(&l, &up));
	assert_int_equal(l.sel, 0);
	assert_false(list_wheel(&l, &click));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_moves),
		cmocka_unit_test(test_list_shows_selection),
		cmocka_unit_test(test_list_text),
		cmocka_unit_test(test_list_wheel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
