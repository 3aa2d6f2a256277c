/* Unit tests of a chain as the staged edits leave it (the rules pane's
 * rows and their marks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "apply/staged.h"

#include <linux/netfilter.h>
#include <stdio.h>
#include <string.h>

static struct nfp_rule rules[4];
static char texts[4][32];

static int setup(void **state)
{
	(void)state;
	memset(rules, 0, sizeof(rules));
	for (int i = 0; i < 4; i++) {
		snprintf(texts[i], sizeof(texts[i]), "rule %d", 10 + i);
		rules[i].handle = 10 + (uint64_t)i;
		rules[i].position = (uint32_t)i + 1;
		rules[i].text = texts[i];
	}
	return 0;
}

static struct edit E(enum edit_kind k, const char *chain)
{
	return (struct edit){ .kind = k, .family = NFPROTO_INET, .table = "web", .chain = (char *)chain };
}

/* the rows as "mark text" words: "+new ' rule 10 -rule 11" */
static const char *shape(const struct staged_rows *s)
{
	static char buf[512];
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < s->n && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%c%s", i ? "|" : "",
				      s->row[i].mark, s->row[i].text);
	return buf;
}

static void build(struct staged_rows *s, const struct changeset *cs)
{
	assert_int_equal(staged_rows_build(s, cs, NFPROTO_INET, "web", "input", rules, 4), 0);
}

static void test_untouched(void **state)
{
	struct changeset cs = { 0 };
	struct staged_rows s = { 0 };
	struct edit e = E(EDIT_DELETE, "other");

	(void)state;
	build(&s, &cs);
	assert_string_equal(shape(&s), " rule 10| rule 11| rule 12| rule 13");
	assert_ptr_equal(s.row[2].r, &rules[2]);
	/* an edit of another chain, another table, another family: no mark */
	e.handle = 11;
	changeset_add(&cs, &e);
	e = E(EDIT_DELETE, "input"), e.handle = 11, e.table = "db";
	changeset_add(&cs, &e);
	e = E(EDIT_DELETE, "input"), e.handle = 11, e.family = NFPROTO_IPV4;
	changeset_add(&cs, &e);
	build(&s, &cs);
	assert_string_equal(shape(&s), " rule 10| rule 11| rule 12| rule 13");
	changeset_free(&cs);
	staged_rows_free(&s);
}

static void test_marks(void **state)
{
	struct changeset cs = { 0 };
	struct staged_rows s = { 0 };
	struct edit e;

	(void)state;
	e = E(EDIT_INSERT, "input"), e.where = WHERE_TOP, e.text = "top";
	changeset_add(&cs, &e);
	e = E(EDIT_INSERT, "input"), e.where = WHERE_BEFORE, e.anchor = 12, e.text = "before12";
	changeset_add(&cs, &e);
	e = E(EDIT_INSERT, "input"), e.where = WHERE_AFTER, e.anchor = 12, e.text = "after12";
	changeset_add(&cs, &e);
	e = E(EDIT_INSERT, "input"), e.where = WHERE_APPEND, e.text = "end";
	changeset_add(&cs, &e);
	e = E(EDIT_DELETE, "input"), e.handle = 10;
	changeset_add(&cs, &e);
	e = E(EDIT_REPLACE, "input"), e.handle = 11, e.text = "new 11";
	changeset_add(&cs, &e);
	build(&s, &cs);
	assert_string_equal(shape(&s), "+top|-rule 10|*new 11|+before12| rule 12|+after12| rule 13|+end");
	assert_null(s.row[0].r);
	assert_ptr_equal(s.row[2].r, &rules[1]);
	assert_int_equal(staged_rows_find(&s, 12), 4);
	assert_int_equal(staged_rows_find(&s, 99), -1);
	changeset_free(&cs);
	staged_rows_free(&s);
}

static void test_move(void **state)
{
	struct changeset cs = { 0 };
	struct staged_rows s = { 0 };
	struct edit e;

	(void)state;
	e = E(EDIT_MOVE, "input"), e.handle = 13, e.where = WHERE_BEFORE, e.anchor = 10,
	e.text = "rule 13";
	changeset_add(&cs, &e);
	e = E(EDIT_MOVE, "input"), e.handle = 10, e.where = WHERE_AFTER, e.anchor = 12,
	e.text = "rule 10";
	changeset_add(&cs, &e);
	build(&s, &cs);
	assert_string_equal(shape(&s), "~rule 13| rule 11| rule 12|~rule 10");
	/* an anchor that is gone: at the end */
	e = E(EDIT_INSERT, "input"), e.where = WHERE_BEFORE, e.anchor = 77, e.text = "lost";
	changeset_add(&cs, &e);
	build(&s, &cs);
	assert_string_equal(shape(&s), "~rule 13| rule 11| rule 12|~rule 10|+lost");
	changeset_free(&cs);
	staged_rows_free(&s);
}

static void test_flush_and_undo(void **state)
{
	struct changeset cs = { 0 };
	struct staged_rows s = { 0 };
	struct edit e = E(EDIT_CHAIN_FLUSH, "input");

	(void)state;
	changeset_add(&cs, &e);
	e = E(EDIT_INSERT, "input"), e.where = WHERE_APPEND, e.text = "after flush";
	changeset_add(&cs, &e);
	build(&s, &cs);
	assert_string_equal(shape(&s), "-rule 10|-rule 11|-rule 12|-rule 13|+after flush");
	/* undone edits leave no mark */
	changeset_undo(&cs);
	changeset_undo(&cs);
	build(&s, &cs);
	assert_string_equal(shape(&s), " rule 10| rule 11| rule 12| rule 13");
	/* no rules (a chain still loading): only what is staged */
	e = E(EDIT_INSERT, "input"), e.where = WHERE_TOP, e.text = "first";
	changeset_add(&cs, &e);
	assert_int_equal(staged_rows_build(&s, &cs, NFPROTO_INET, "web", "input", NULL, 0), 0);
	assert_string_equal(shape(&s), "+first");
	changeset_free(&cs);
	staged_rows_free(&s);
}

/* an insert next to a rule staged before it (a staged chain's rules) */
static void test_anchor_on_staged(void **state)
{
	struct changeset cs = { 0 };
	struct staged_rows s = { 0 };
	struct edit e = E(EDIT_INSERT, "input");

	(void)state;
	e.text = "a";
	assert_int_equal(changeset_add(&cs, &e), 0);         /* edit 1 */
	e.text = "b";
	assert_int_equal(changeset_add(&cs, &e), 0);         /* edit 2 */
	e.text = "after a", e.where = WHERE_AFTER, e.anchor_edit = 1;
	assert_int_equal(changeset_add(&cs, &e), 0);
	e.text = "before a", e.where = WHERE_BEFORE, e.anchor_edit = 1;
	assert_int_equal(changeset_add(&cs, &e), 0);
	assert_int_equal(staged_rows_build(&s, &cs, NFPROTO_INET, "web", "input", NULL, 0), 0);
	assert_string_equal(shape(&s), "+before a|+a|+after a|+b");
	assert_int_equal(s.row[1].edit, 1);
	changeset_free(&cs);
	staged_rows_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_untouched, setup),
		cmocka_unit_test_setup(test_marks, setup),
		cmocka_unit_test_setup(test_move, setup),
		cmocka_unit_test_setup(test_flush_and_undo, setup),
		cmocka_unit_test_setup(test_anchor_on_staged, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
