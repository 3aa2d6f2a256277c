/* Unit tests of the staged changeset: undo/redo and the nft commands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "apply/changeset.h"

#include <linux/netfilter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* every edit as nft commands: changeset_text, what edit and the guardian
 * are given */
static char *print_all(const struct changeset *cs)
{
	char *text = changeset_text(cs);

	assert_non_null(text);
	return text;
}

static struct edit E(enum edit_kind k)
{
	return (struct edit){ .kind = k, .family = NFPROTO_INET, .table = "web",
			      .chain = "input" };
}

static void test_commands(void **state)
{
	struct changeset cs = { 0 };
	struct edit e;
	char *s;

	(void)state;
	e = E(EDIT_INSERT), e.where = WHERE_TOP, e.text = "tcp dport 22 accept";
	assert_int_equal(changeset_add(&cs, &e), 0);
	e.where = WHERE_BEFORE, e.anchor = 7;
	changeset_add(&cs, &e);
	e.where = WHERE_AFTER;
	changeset_add(&cs, &e);
	e.where = WHERE_APPEND;
	changeset_add(&cs, &e);
	e = E(EDIT_REPLACE), e.handle = 9, e.text = "drop";
	changeset_add(&cs, &e);
	e = E(EDIT_DELETE), e.handle = 9;
	changeset_add(&cs, &e);
	e = E(EDIT_MOVE), e.handle = 4, e.where = WHERE_BEFORE, e.anchor = 2,
	e.text = "ct state established accept";
	changeset_add(&cs, &e);
	e = E(EDIT_POLICY), e.policy = NF_DROP;
	changeset_add(&cs, &e);
	e = E(EDIT_CHAIN_ADD), e.chain = "fwd", e.text = "type filter hook forward priority 0;";
	changeset_add(&cs, &e);
	e = E(EDIT_CHAIN_FLUSH);
	changeset_add(&cs, &e);
	e = E(EDIT_CHAIN_DELETE), e.chain = "DOCKER-USER";
	changeset_add(&cs, &e);
	e = E(EDIT_TABLE_ADD), e.chain = NULL, e.table = "new";
	changeset_add(&cs, &e);
	e = E(EDIT_ELEM_ADD), e.chain = NULL, e.set = "block",
	e.text = "10.0.0.0/8, 192.0.2.1 timeout 1h";
	changeset_add(&cs, &e);
	e = E(EDIT_ELEM_DELETE), e.chain = NULL, e.set = "block", e.text = "10.0.0.0/8";
	changeset_add(&cs, &e);
	e = E(EDIT_SET_FLUSH), e.chain = NULL, e.set = "block";
	changeset_add(&cs, &e);
	e = E(EDIT_SET_ADD), e.chain = NULL, e.set = "ports", e.text = "type inet_service";
	changeset_add(&cs, &e);
	e = E(EDIT_SET_ADD), e.chain = NULL, e.set = "b2", e.text = "type ipv4_addr; flags interval;";
	changeset_add(&cs, &e);
	s = print_all(&cs);
	assert_string_equal(s,
		"insert rule inet web input tcp dport 22 accept\n"
		"insert rule inet web input position 7 tcp dport 22 accept\n"
		"add rule inet web input position 7 tcp dport 22 accept\n"
		"add rule inet web input tcp dport 22 accept\n"
		"replace rule inet web input handle 9 drop\n"
		"delete rule inet web input handle 9\n"
		"delete rule inet web input handle 4\n"
		"insert rule inet web input position 2 ct state established accept\n"
		"chain inet web input { policy drop; }\n"
		"add chain inet web fwd { type filter hook forward priority 0; }\n"
		"flush chain inet web input\n"
		"delete chain inet web DOCKER-USER\n"
		"add table inet new\n"
		"add element inet web block { 10.0.0.0/8, 192.0.2.1 timeout 1h }\n"
		"delete element inet web block { 10.0.0.0/8 }\n"
		"flush set inet web block\n"
		"add set inet web ports { type inet_service; }\n"
		"add set inet web b2 { type ipv4_addr; flags interval; }\n");
	free(s);
	changeset_free(&cs);
}

static void test_undo_redo(void **state)
{
	struct changeset cs = { 0 };
	struct edit e = E(EDIT_DELETE);
	enum edit_kind k;
	char *s;

	(void)state;
	assert_false(changeset_undo(&cs));
	e.handle = 1;
	changeset_add(&cs, &e);
	e.handle = 2;
	changeset_add(&cs, &e);
	assert_true(changeset_undo(&cs));
	assert_int_equal(cs.n, 1);
	assert_int_equal(changeset_rule_mark(&cs, NFPROTO_INET, "web", "input", 2, &k), 0);
	assert_true(changeset_redo(&cs));
	assert_false(changeset_redo(&cs));
	assert_int_equal(changeset_rule_mark(&cs, NFPROTO_INET, "web", "input", 2, &k), 1);
	assert_int_equal(k, EDIT_DELETE);
	/* a new edit after an undo forgets the undone one */
	changeset_undo(&cs);
	e.handle = 3;
	changeset_add(&cs, &e);
	assert_false(changeset_redo(&cs));
	s = print_all(&cs);
	assert_string_equal(s, "delete rule inet web input handle 1\n"
			       "delete rule inet web input handle 3\n");
	free(s);
	changeset_discard(&cs);
	assert_int_equal(cs.n, 0);
	assert_false(changeset_redo(&cs));
	changeset_free(&cs);
}

static void test_names_quoted(void **state)
{
	struct changeset cs = { 0 };
	struct edit e = E(EDIT_CHAIN_FLUSH);
	char *s;

	(void)state;
	e.chain = "bad name";
	changeset_add(&cs, &e);
	s = print_all(&cs);
	assert_string_equal(s, "flush chain inet web \"bad name\"\n");
	free(s);
	changeset_free(&cs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_undo_redo),
		cmocka_unit_test(test_names_quoted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
