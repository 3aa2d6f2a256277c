/* Unit tests of the keymap table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ui/keymap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_keymap_complete(void **state)
{
	(void)state;
	for (int a = 1; a < ACT_COUNT; a++) {
		assert_non_null(keymap[a].name);
		assert_non_null(keymap[a].group);
		assert_non_null(keymap[a].help);
		assert_true(keymap[a].keys[0] != 0); /* every action has a key */
		assert_true(keymap[a].maps != 0);    /* and a screen to use it on */
		assert_true(keymap[a].maps < 1u << KM_COUNT);
		for (int i = 0; i < KEYMAP_KEYS; i++)
			if (keymap[a].keys[i])
				assert_int_equal(keymap_lookup(keymap[a].maps, keymap[a].keys[i]), a);
	}
}

static void test_keymap_unique(void **state)
{
	(void)state;
	/* no name used twice; no key bound twice in one keymap, nor in a
	 * screen's keymap and the generic one (the screen's would hide it) */
	for (int a = 1; a < ACT_COUNT; a++)
		for (int b = a + 1; b < ACT_COUNT; b++) {
			unsigned ma = keymap[a].maps, mb = keymap[b].maps;

			assert_string_not_equal(keymap[a].name, keymap[b].name);
			if (!(ma & mb) && !((ma | mb) & KM_GENERIC))
				continue;
			for (int i = 0; i < KEYMAP_KEYS; i++)
				for (int j = 0; j < KEYMAP_KEYS; j++)
					if (keymap[a].keys[i])
						assert_int_not_equal(keymap[a].keys[i],
								     keymap[b].keys[j]);
		}
}

static void test_keymap_lookup(void **state)
{
	(void)state;
	assert_int_equal(keymap_lookup(KM_RULES, 'q'), ACT_QUIT); /* the generic one */
	assert_int_equal(keymap_lookup(KM_CONNS, KEY_F(10)), ACT_QUIT);
	assert_int_equal(keymap_lookup(KM_GENERIC, KEY_F(1)), ACT_HELP);
	assert_int_equal(keymap_lookup(KM_RULES, '\r'), ACT_ENTER); /* nonl() terminals */
	assert_int_equal(keymap_lookup(KM_RULES, CTRL_KEY('h')), ACT_BACK);
	assert_int_equal(keymap_lookup(KM_RULES, 'x'), ACT_CT_OF_RULE);
	assert_int_equal(keymap_lookup(KM_RULES, '~'), ACT_NONE); /* unbound */
	assert_int_equal(keymap_lookup(KM_RULES, 0), ACT_NONE);
	/* one key, a meaning on each screen */
	assert_int_equal(keymap_lookup(KM_RULES, 'd'), ACT_DELETE);
	assert_int_equal(keymap_lookup(KM_CONNS, 'd'), ACT_KILL);
	assert_int_equal(keymap_lookup(KM_CONNS, 'D'), ACT_KILL_ALL);
	assert_int_equal(keymap_lookup(KM_CONNS, 'C'), ACT_ACCOUNTING);
	assert_int_equal(keymap_lookup(KM_RULES, 'C'), ACT_COUNTER_DEFAULT);
	assert_int_equal(keymap_lookup(KM_CONNS, 'b'), ACT_BLOCK_KILL);
	assert_int_equal(keymap_lookup(KM_CONNS, '/'), ACT_CT_FILTER);
	assert_int_equal(keymap_lookup(KM_RULES, '/'), ACT_SEARCH);
	/* a screen's key is not bound on another, nor in the generic one */
	assert_int_equal(keymap_lookup(KM_CONNS, 'x'), ACT_NONE);
	assert_int_equal(keymap_lookup(KM_GENERIC, 'd'), ACT_NONE);
	assert_int_equal(keymap_lookup(KM_PENDING, 'W'), ACT_APPLY);
	assert_int_equal(keymap_lookup(KM_PENDING, 'd'), ACT_NONE);
	assert_int_equal(keymap_lookup(KM_PENDING, KEY_DOWN), ACT_DOWN);
}

static void test_keymap_names(void **state)
{
	char b[64];

	(void)state;
	assert_string_equal(keymap_key_name(KEY_F(3), b, sizeof(b)), "F3");
	assert_string_equal(keymap_key_name(CTRL_KEY('l'), b, sizeof(b)), "Ctrl-L");
	assert_string_equal(keymap_key_name('\t', b, sizeof(b)), "Tab");
	assert_string_equal(keymap_key_name('/', b, sizeof(b)), "/");
	assert_string_equal(keymap_key_name(' ', b, sizeof(b)), "Space");
	assert_string_equal(keymap_keys_text(ACT_HELP, b, sizeof(b)), "? F1");
	/* Enter: '\n' and KEY_ENTER share a name and are listed once */
	assert_string_equal(keymap_keys_text(ACT_ENTER, b, sizeof(b)), "Enter Right");
	assert_string_equal(keymap_keys_text(ACT_BACK, b, sizeof(b)), "Bksp Left");
	assert_string_equal(keymap_keys_text(ACT_NONE, b, sizeof(b)), "");
	/* as the man page writes them, not "key331" */
	assert_string_equal(keymap_keys_text(ACT_INSERT, b, sizeof(b)), "i Insert");
	assert_string_equal(keymap_keys_text(ACT_DELETE, b, sizeof(b)), "d Delete");
}

/* A key's name, as the help screen writes it, names that key again: the
 * test driver (ui/driver.h) takes keys by these names. */
static void test_keymap_parse(void **state)
{
	char b[64];

	(void)state;
	for (int a = 1; a < ACT_COUNT; a++)
		for (int i = 0; i < KEYMAP_KEYS; i++) {
			int key = keymap[a].keys[i], back;

			if (!key)
				continue;
			back = keymap_key_parse(keymap_key_name(key, b, sizeof(b)));
			assert_int_equal(keymap_lookup(keymap[a].maps, back), a);
		}
	assert_int_equal(keymap_key_parse("Down"), KEY_DOWN);
	assert_int_equal(keymap_key_parse("Esc"), 27);
	assert_int_equal(keymap_key_parse("Delete"), KEY_DC);
	assert_int_equal(keymap_key_parse("Enter"), '\n');
	assert_int_equal(keymap_key_parse("Ctrl-L"), CTRL_KEY('l'));
	assert_int_equal(keymap_key_parse("Ctrl-r"), CTRL_KEY('r'));
	assert_int_equal(keymap_key_parse("F12"), KEY_F(12));
	assert_int_equal(keymap_key_parse("\\"), '\\');
	assert_int_equal(keymap_key_parse("Space"), ' ');
	assert_int_equal(keymap_key_parse("F13"), -1);
	assert_int_equal(keymap_key_parse("F0"), -1);
	assert_int_equal(keymap_key_parse("Ctrl-"), -1);
	assert_int_equal(keymap_key_parse("Ctrl-1"), -1);
	assert_int_equal(keymap_key_parse("down"), -1);
	assert_int_equal(keymap_key_parse(""), -1);
	assert_int_equal(keymap_key_parse(" "), -1);
}

/* The man page lists every key with the help screen's words: it cannot
 * silently fall behind the keymap. */
static void test_manpage_lists_keys(void **state)
{
	char path[4096], *page = NULL;
	size_t len = 0;
	FILE *fp, *mem;
	int c;

	(void)state;
	snprintf(path, sizeof(path), "%s", __FILE__);
	*strstr(path, "tests/unit/") = 0;
	strcat(path, "docs/nfpilot.8");
	fp = fopen(path, "r");
	assert_non_null(fp);
	mem = open_memstream(&page, &len);
	while ((c = fgetc(fp)) != EOF)
		fputc(c, mem);
	fclose(fp);
	fclose(mem);
	for (int a = 1; a < ACT_COUNT; a++) {
		if (!strstr(page, keymap[a].help))
			fail_msg("docs/nfpilot.8 lacks \"%s\"", keymap[a].help);
	}
	free(page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keymap_complete),
		cmocka_unit_test(test_keymap_unique),
		cmocka_unit_test(test_keymap_lookup),
		cmocka_unit_test(test_keymap_names),
		cmocka_unit_test(test_keymap_parse),
		cmocka_unit_test(test_manpage_lists_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
