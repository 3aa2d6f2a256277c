/* Unit tests of the theme parser (ui/theme.c): parsing from strings, the
 * shipped theme files, the search path, the attributes given to ncurses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ui/theme.h"
#include "tmpdir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* the repository root, from where this file was compiled */
static const char *repo_root(void)
{
	static char root[1024];
	const char *tail = "tests/unit/test_theme.c";
	size_t n = strlen(__FILE__), t = strlen(tail);

	if (n >= t && strcmp(__FILE__ + n - t, tail) == 0 && n > t)
		snprintf(root, sizeof(root), "%.*s", (int)(n - t), __FILE__);
	else
		snprintf(root, sizeof(root), "./");
	return root;
}

static int parse_theme(struct theme_spec *t, const char *text, char *err, size_t len)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	int rc;

	assert_non_null(fp);
	rc = theme_parse(t, fp, "t.theme", err, len);
	fclose(fp);
	return rc;
}

/* every role appears at the start of a line of the file */
static void assert_all_roles(const char *path)
{
	FILE *fp = fopen(path, "r");
	bool seen[ROLE_COUNT] = { false };
	char line[512];

	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		char name[64];
		int r;

		if (sscanf(line, " %63[a-z-] =", name) == 1
		    && (r = theme_role_parse(name)) >= 0)
			seen[r] = true;
	}
	fclose(fp);
	for (int i = 0; i < ROLE_COUNT; i++) {
		if (!seen[i])
			fail_msg("%s: role '%s' missing", path, theme_role_name(i));
	}
}

static void test_theme_roles(void **state)
{
	(void)state;
	assert_int_equal(ROLE_COUNT, 26);
	assert_string_equal(theme_role_name(ROLE_NORMAL), "normal");
	assert_string_equal(theme_role_name(ROLE_SELECTED_INACTIVE), "selected-inactive");
	assert_string_equal(theme_role_name(ROLE_DIM), "dim");
	assert_null(theme_role_name(ROLE_COUNT));
	assert_int_equal(theme_role_parse("rule-drop"), ROLE_RULE_DROP);
	assert_int_equal(theme_role_parse("help-key"), ROLE_HELP_KEY);
	assert_int_equal(theme_role_parse("rule_drop"), -EINVAL);
	for (int i = 0; i < ROLE_COUNT; i++)
		assert_int_equal(theme_role_parse(theme_role_name(i)), i);
}

static void test_theme_colors(void **state)
{
	short c = 99;
	bool bright;

	(void)state;
	assert_int_equal(theme_color_parse("default", &c), 0);
	assert_int_equal(c, -1);
	assert_int_equal(theme_color_parse("black", &c), 0);
	assert_int_equal(c, 0);
	assert_int_equal(theme_color_parse("white", &c), 0);
	assert_int_equal(c, 7);
	assert_int_equal(theme_color_parse("bright-black", &c), 0);
	assert_int_equal(c, 8);
	assert_int_equal(theme_color_parse("bright-white", &c), 0);
	assert_int_equal(c, 15);
	assert_int_equal(theme_color_parse("color0", &c), 0);
	assert_int_equal(c, 0);
	assert_int_equal(theme_color_parse("color255", &c), 0);
	assert_int_equal(c, 255);
	c = 42;
	assert_int_equal(theme_color_parse("color256", &c), -EINVAL);
	assert_int_equal(theme_color_parse("color", &c), -EINVAL);
	assert_int_equal(theme_color_parse("color01", &c), -EINVAL);
	assert_int_equal(theme_color_parse("color-1", &c), -EINVAL);
	assert_int_equal(theme_color_parse("color99999999999", &c), -EINVAL);
	assert_int_equal(theme_color_parse("bright-default", &c), -EINVAL);
	assert_int_equal(theme_color_parse("purple", &c), -EINVAL);
	assert_int_equal(c, 42);

	/* degrading to what the terminal has */
	assert_int_equal(theme_color_fit(-1, 8, &bright), -1);
	assert_false(bright);
	assert_int_equal(theme_color_fit(200, 256, &bright), 200);
	assert_int_equal(theme_color_fit(9, 16, &bright), 9);
	assert_false(bright);
	assert_int_equal(theme_color_fit(9, 8, &bright), 1);
	assert_true(bright);
	assert_int_equal(theme_color_fit(3, 8, &bright), 3);
	assert_false(bright);
	assert_int_equal(theme_color_fit(196, 16, &bright), 9);  /* bright red */
	assert_int_equal(theme_color_fit(196, 8, &bright), 1);
	assert_true(bright);
	assert_int_equal(theme_color_fit(16, 8, &bright), 0);    /* black */
	assert_false(bright);
	assert_int_equal(theme_color_fit(18, 16, &bright), 4);   /* dark blue */
	assert_int_equal(theme_color_fit(231, 16, &bright), 15); /* white */
	assert_int_equal(theme_color_fit(232, 16, &bright), 0);  /* grey ramp */
	assert_int_equal(theme_color_fit(244, 16, &bright), 7);
	assert_int_equal(theme_color_fit(240, 16, &bright), 8);
	assert_int_equal(theme_color_fit(255, 16, &bright), 15);
	assert_int_equal(theme_color_fit(3, 2, &bright), -1);
	assert_int_equal(theme_color_fit(3, 0, NULL), -1);
}

static void test_theme_parse_good(void **state)
{
	struct theme_spec t, def;
	char err[256] = "";

	(void)state;
	theme_builtin_default(&def);
	assert_int_equal(parse_theme(&t,
		"# a comment\n"
		"\n"
		"  rule-drop = bright-red color17 bold underline # trailing comment\n"
		"\tselected\t=\tdefault\tblack reverse\n"
		"match = color255 default dim reverse standout italic\n"
		"selected = white blue\n", err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(t.role[ROLE_RULE_DROP].fg, 9);
	assert_int_equal(t.role[ROLE_RULE_DROP].bg, 17);
	assert_int_equal(t.role[ROLE_RULE_DROP].attrs, THEME_BOLD | THEME_UNDERLINE);
	/* a later line for the same role wins */
	assert_int_equal(t.role[ROLE_SELECTED].fg, 7);
	assert_int_equal(t.role[ROLE_SELECTED].bg, 4);
	assert_int_equal(t.role[ROLE_SELECTED].attrs, 0);
	assert_int_equal(t.role[ROLE_MATCH].fg, 255);
	assert_int_equal(t.role[ROLE_MATCH].bg, -1);
	assert_int_equal(t.role[ROLE_MATCH].attrs,
			 THEME_DIM | THEME_REVERSE | THEME_STANDOUT | THEME_ITALIC);
	/* roles not mentioned keep the default's values */
	assert_memory_equal(&t.role[ROLE_HEADER], &def.role[ROLE_HEADER],
			    sizeof(def.role[0]));
	assert_memory_equal(&t.role[ROLE_DIM], &def.role[ROLE_DIM], sizeof(def.role[0]));

	/* an empty theme is the default theme */
	assert_int_equal(parse_theme(&t, "", err, sizeof(err)), 0);
	assert_memory_equal(&t, &def, sizeof(t));
	/* inherit default is the built-in theme even when no file is found */
	assert_int_equal(parse_theme(&t, "# x\ninherit default\nrule = red default\n",
				     err, sizeof(err)), 0);
	assert_int_equal(t.role[ROLE_RULE].fg, 1);
}

static void expect_theme_error(const char *text, const char *msg)
{
	struct theme_spec t, before;
	char err[256] = "";

	memset(&t, 0x5a, sizeof(t));
	before = t;
	assert_int_equal(parse_theme(&t, text, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, msg);
	assert_memory_equal(&t, &before, sizeof(t)); /* *out unchanged */
}

static void test_theme_parse_errors(void **state)
{
	(void)state;
	expect_theme_error("normal = default default\nbogus = red black\n",
			   "t.theme:2: unknown role 'bogus'");
	expect_theme_error("# c\n\nrule = purple black\n",
			   "t.theme:3: unknown colour 'purple'");
	expect_theme_error("rule = red color300\n",
			   "t.theme:1: unknown colour 'color300'");
	expect_theme_error("rule red black\n",
			   "t.theme:1: missing '=' (expected ROLE = FG BG [ATTR...])");
	expect_theme_error("= red black\n", "t.theme:1: missing role before '='");
	expect_theme_error("rule = red\n",
			   "t.theme:1: rule: expected FG BG [ATTR...] after '='");
	expect_theme_error("rule =\n",
			   "t.theme:1: rule: expected FG BG [ATTR...] after '='");
	expect_theme_error("rule = red black blink\n",
			   "t.theme:1: unknown attribute 'blink'");
	expect_theme_error("rule = red black\ninherit default\n",
			   "t.theme:2: 'inherit' must be the first line");
	expect_theme_error("inherit\n", "t.theme:1: expected 'inherit NAME'");
	expect_theme_error("inherit a b\n", "t.theme:1: expected 'inherit NAME'");
	expect_theme_error("inherit /nonexistent/x.theme\n",
			   "t.theme:1: inherit '/nonexistent/x.theme': "
			   "/nonexistent/x.theme: No such file or directory");
	/* the first error stops the parse */
	expect_theme_error("a = b\nc = d\n", "t.theme:1: unknown role 'a'");
}

static void test_theme_shipped(void **state)
{
	static const char *const names[] = { "default", "light", "mono" };
	struct theme_spec t, def;
	char path[1200], err[512] = "";

	(void)state;
	theme_builtin_default(&def);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%sthemes/%s.theme", repo_root(), names[i]);
		assert_int_equal(theme_load(&t, path, err, sizeof(err)), 0);
		assert_all_roles(path);
		if (i == 0) /* the built-in theme is themes/default.theme */
			for (int r = 0; r < ROLE_COUNT; r++)
				if (memcmp(&t.role[r], &def.role[r], sizeof(def.role[r])))
					fail_msg("role '%s' differs from default.theme",
						 theme_role_name(r));
		if (i == 2) { /* mono: no colours, selection visible */
			for (int r = 0; r < ROLE_COUNT; r++) {
				assert_int_equal(t.role[r].fg, -1);
				assert_int_equal(t.role[r].bg, -1);
			}
			assert_true(t.role[ROLE_SELECTED].attrs & THEME_REVERSE);
		}
	}
}

static void test_theme_load(void **state)
{
	struct theme_spec t, def;
	char path[600], err[1024] = "", where[700];

	(void)state;
	theme_builtin_default(&def);

	/* missing: -ENOENT, the default, and where it looked */
	memset(&t, 0, sizeof(t));
	assert_int_equal(theme_load(&t, "no-such-theme", err, sizeof(err)), -ENOENT);
	assert_memory_equal(&t, &def, sizeof(t));
	snprintf(where, sizeof(where), "theme 'no-such-theme' not found in "
		 "%s/nfpilot/themes, /etc/nfpilot/themes, ", tmpdir);
	assert_memory_equal(err, where, strlen(where));

	/* a name found in the user's directory, with inherit */
	snprintf(path, sizeof(path), "%s/nfpilot/themes/base.theme", tmpdir);
	write_file(path, "rule = green black\nrate = red default\n");
	snprintf(path, sizeof(path), "%s/nfpilot/themes/child.theme", tmpdir);
	write_file(path, "# child\ninherit base\nrate = blue default bold\n");
	assert_int_equal(theme_load(&t, "child", err, sizeof(err)), 0);
	assert_int_equal(t.role[ROLE_RULE].fg, 2);
	assert_int_equal(t.role[ROLE_RULE].bg, 0);
	assert_int_equal(t.role[ROLE_RATE].fg, 4);
	assert_int_equal(t.role[ROLE_RATE].attrs, THEME_BOLD);
	assert_memory_equal(&t.role[ROLE_HEADER], &def.role[ROLE_HEADER],
			    sizeof(def.role[0]));

	/* a broken theme: the error names file and line, *out is the default */
	snprintf(path, sizeof(path), "%s/nfpilot/themes/broken.theme", tmpdir);
	write_file(path, "rule = red black\nrule = red\n");
	assert_int_equal(theme_load(&t, "broken", err, sizeof(err)), -EINVAL);
	strcat(path, ":2");
	snprintf(where, sizeof(where),
		 "%s: rule: expected FG BG [ATTR...] after '='", path);
	assert_string_equal(err, where);
	assert_memory_equal(&t, &def, sizeof(t));

	/* inherit loops end */
	snprintf(path, sizeof(path), "%s/nfpilot/themes/loop.theme", tmpdir);
	write_file(path, "inherit loop\n");
	assert_int_equal(theme_load(&t, "loop", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "nested too deeply"));

	/* "default" is always there; bad names are refused */
	assert_int_equal(theme_load(&t, "default", err, sizeof(err)), 0);
	assert_memory_equal(&t, &def, sizeof(t));
	assert_int_equal(theme_load(&t, "", err, sizeof(err)), -EINVAL);
	assert_int_equal(theme_load(&t, "..", err, sizeof(err)), -EINVAL);
	assert_int_equal(theme_load(&t, "/nonexistent/x", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/x: No such file or directory");
}

static void test_theme_no_color(void **state)
{
	(void)state;
	unsetenv("NO_COLOR");
	assert_false(theme_no_color());
	setenv("NO_COLOR", "", 1);
	assert_false(theme_no_color());
	setenv("NO_COLOR", "1", 1);
	assert_true(theme_no_color());
	unsetenv("NO_COLOR");
}

/* theme_apply on a real (but invisible) screen of the given terminal type */
static SCREEN *open_screen(const char *term, FILE **out, FILE **in)
{
	SCREEN *scr;

	*out = fopen("/dev/null", "w");
	*in = fopen("/dev/null", "r");
	assert_non_null(*out);
	assert_non_null(*in);
	scr = newterm(term, *out, *in);
	if (!scr) {
		fclose(*out);
		fclose(*in);
	}
	return scr;
}

static void close_screen(SCREEN *scr, FILE *out, FILE *in)
{
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
}

static void test_theme_apply(void **state)
{
	struct theme_spec def, mono;
	attr_t a[ROLE_COUNT];
	char path[1200], err[512];
	FILE *out, *in;
	SCREEN *scr;

	(void)state;
	theme_builtin_default(&def);
	snprintf(path, sizeof(path), "%sthemes/mono.theme", repo_root());
	assert_int_equal(theme_load(&mono, path, err, sizeof(err)), 0);

	scr = open_screen("xterm-256color", &out, &in);
	if (!scr)
		skip();
	theme_apply(&def, true, a);
	for (int i = 0; i < ROLE_COUNT; i++)
		assert_int_equal(PAIR_NUMBER(a[i]), i + 1);
	assert_true(a[ROLE_HEADER] & A_BOLD);
	assert_false(a[ROLE_NO_COUNTER] & A_BOLD); /* bright-black exists here */
	theme_apply(&mono, false, a);
	assert_int_equal(a[ROLE_SELECTED], A_REVERSE);
	assert_int_equal(a[ROLE_ERROR], A_BOLD | A_REVERSE);
	assert_int_equal(a[ROLE_NORMAL], A_NORMAL);
	close_screen(scr, out, in);

	/* 8 colours: bright-black becomes black + bold */
	scr = open_screen("xterm", &out, &in);
	if (!scr)
		skip();
	theme_apply(&def, true, a);
	assert_true(a[ROLE_NO_COUNTER] & A_BOLD);
	assert_int_equal(PAIR_NUMBER(a[ROLE_NO_COUNTER]), ROLE_NO_COUNTER + 1);
	close_screen(scr, out, in);

	/* no colours at all: attributes only */
	scr = open_screen("vt100", &out, &in);
	if (!scr)
		skip();
	theme_apply(&def, true, a);
	assert_int_equal(a[ROLE_HEADER], A_BOLD);
	assert_int_equal(a[ROLE_SELECTED], A_NORMAL);
	close_screen(scr, out, in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_theme_roles),
		cmocka_unit_test(test_theme_colors),
		cmocka_unit_test(test_theme_parse_good),
		cmocka_unit_test(test_theme_parse_errors),
		cmocka_unit_test(test_theme_shipped),
		cmocka_unit_test_setup_teardown(test_theme_load, setup_tmpdir,
						teardown_tmpdir),
		cmocka_unit_test(test_theme_no_color),
		cmocka_unit_test(test_theme_apply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
