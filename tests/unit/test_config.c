/* Unit tests of the config parser (model/config.c): keys, values and their
 * errors from strings, and the files it reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/config.h"
#include "tmpdir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* warnings collected one per line */
struct warnings {
	char text[2048];
	int n;
};

static void collect(void *ctx, const char *msg)
{
	struct warnings *w = ctx;
	size_t len = strlen(w->text);

	snprintf(w->text + len, sizeof(w->text) - len, "%s\n", msg);
	w->n++;
}

static int parse_config(struct nfp_config *c, const char *text, struct warnings *w)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	int rc;

	assert_non_null(fp);
	memset(w, 0, sizeof(*w));
	rc = config_parse(c, fp, "c.conf", collect, w);
	fclose(fp);
	assert_int_equal(rc, w->n);
	return rc;
}

static void test_config_defaults(void **state)
{
	struct nfp_config c;

	(void)state;
	config_defaults(&c);
	assert_true(c.refresh == 1.0);
	assert_string_equal(c.theme, "default");
	assert_true(c.numeric);
	assert_int_equal(c.ncolumns, COL_COUNT);
	assert_int_equal(COL_COUNT, 8);
	for (int i = 0; i < COL_COUNT; i++)
		assert_int_equal(c.columns[i], i);
	assert_int_equal(c.timeout, 60);
	assert_int_equal(c.save_mode, -1);
	assert_string_equal(config_column_name(COL_NUM), "num");
	assert_string_equal(config_column_name(COL_HISTORY), "history");
	assert_string_equal(config_column_name(COL_RULE), "rule");
	assert_null(config_column_name(COL_COUNT));
	assert_int_equal(config_column_parse("bps"), COL_BPS);
	assert_int_equal(config_column_parse("BPS"), -EINVAL);
}

static void test_config_keys(void **state)
{
	struct nfp_config c;
	struct warnings w;

	(void)state;
	config_defaults(&c);
	assert_int_equal(parse_config(&c,
		"# settings\n"
		"\n"
		"refresh = 0.5\n"
		"  theme=light   # trailing comment\n"
		"numeric = no\n"
		"columns = rule, handle ,pkts\n"
		"timeout = 300\n", &w), 0);
	assert_string_equal(w.text, "");
	assert_true(c.refresh == 0.5);
	assert_string_equal(c.theme, "light");
	assert_false(c.numeric);
	assert_int_equal(c.ncolumns, 3);
	assert_int_equal(c.columns[0], COL_RULE);
	assert_int_equal(c.columns[1], COL_HANDLE);
	assert_int_equal(c.columns[2], COL_PKTS);
	assert_int_equal(c.timeout, 300);

	/* every boolean spelling, the range limits, later overrides earlier */
	assert_int_equal(parse_config(&c, "numeric = on\n", &w), 0);
	assert_true(c.numeric);
	assert_int_equal(parse_config(&c, "numeric = off\n", &w), 0);
	assert_false(c.numeric);
	assert_int_equal(parse_config(&c, "numeric = true\n", &w), 0);
	assert_true(c.numeric);
	assert_int_equal(parse_config(&c, "numeric = 0\n", &w), 0);
	assert_false(c.numeric);
	assert_int_equal(parse_config(&c, "numeric = 1\nnumeric = false\n", &w), 0);
	assert_false(c.numeric);
	assert_int_equal(parse_config(&c, "numeric = yes\n", &w), 0);
	assert_true(c.numeric);
	assert_int_equal(parse_config(&c, "refresh = 0.2\n", &w), 0);
	assert_true(c.refresh == 0.2);
	assert_int_equal(parse_config(&c, "refresh = 60\n", &w), 0);
	assert_true(c.refresh == 60.0);
	assert_int_equal(parse_config(&c, "refresh = 2.\nrefresh = 2.25\n", &w), 0);
	assert_true(c.refresh == 2.25);
	assert_int_equal(parse_config(&c, "timeout = 10\n", &w), 0);
	assert_int_equal(c.timeout, 10);
	assert_int_equal(parse_config(&c, "timeout = 3600\n", &w), 0);
	assert_int_equal(c.timeout, 3600);
	assert_int_equal(parse_config(&c, "columns = num,pkts,bytes,pps,bps,"
				      "history,handle,rule\n", &w), 0);
	assert_int_equal(c.ncolumns, 8);
	assert_int_equal(parse_config(&c, "columns = rule\n", &w), 0);
	assert_int_equal(c.ncolumns, 1);
	assert_int_equal(parse_config(&c, "theme = /home/me/my.theme\n", &w), 0);
	assert_string_equal(c.theme, "/home/me/my.theme");
}

/* save_mode: how the admin asks for a boot file mode other than the
 * default; never set-id bits, never write for group or others. */
static void test_config_save_mode(void **state)
{
	struct nfp_config c;
	struct warnings w;

	(void)state;
	config_defaults(&c);
	assert_int_equal(parse_config(&c, "save_mode = 0640\n", &w), 0);
	assert_int_equal(c.save_mode, 0640);
	assert_int_equal(parse_config(&c, "save_mode = 755\n", &w), 0);
	assert_int_equal(c.save_mode, 0755);
	assert_int_equal(parse_config(&c, "save_mode = 0600\n", &w), 0);
	assert_int_equal(c.save_mode, 0600);
	assert_int_equal(parse_config(&c, "save_mode = 4755\nsave_mode = 0666\n"
				      "save_mode = 0775\nsave_mode = 1644\n", &w), 4);
	assert_string_equal(w.text,
		"c.conf:1: save_mode 4755: at most 0755 (no set-id bits, no write for group or "
		"others)\n"
		"c.conf:2: save_mode 0666: at most 0755 (no set-id bits, no write for group or "
		"others)\n"
		"c.conf:3: save_mode 0775: at most 0755 (no set-id bits, no write for group or "
		"others)\n"
		"c.conf:4: save_mode 1644: at most 0755 (no set-id bits, no write for group or "
		"others)\n");
	assert_int_equal(c.save_mode, 0600);
	assert_int_equal(parse_config(&c, "save_mode = rw\nsave_mode = 0648\n"
				      "save_mode = 64\nsave_mode = 00644\n", &w), 4);
	assert_int_equal(c.save_mode, 0600);
	assert_int_equal(config_mode_parse("644"), 0644);
	assert_int_equal(config_mode_parse("0700"), 0700);
	assert_int_equal(config_mode_parse("6755"), -ERANGE);
	assert_int_equal(config_mode_parse("-1"), -EINVAL);
	assert_int_equal(config_mode_parse(""), -EINVAL);
}

/* save_file.NAME: a namespace's own boot file; a namespace never gets
 * the machine's save_file */
static void test_config_ns_save_file(void **state)
{
	struct nfp_config c;
	struct warnings w;

	(void)state;
	config_defaults(&c);
	assert_string_equal(config_save_file(&c, NULL), "/etc/nftables.conf");
	assert_null(config_save_file(&c, "web"));
	assert_int_equal(parse_config(&c, "save_file = /etc/host.nft\n"
				      "save_file.web = /etc/nft/web.nft\n"
				      "save_file.db = /etc/nft/db.nft\n"
				      "save_file.web = /etc/nft/web2.nft\n", &w), 0);
	assert_string_equal(config_save_file(&c, NULL), "/etc/host.nft");
	assert_string_equal(config_save_file(&c, "web"), "/etc/nft/web2.nft");
	assert_string_equal(config_save_file(&c, "db"), "/etc/nft/db.nft");
	assert_null(config_save_file(&c, "other"));
	assert_int_equal(c.nns_save, 2);
	assert_int_equal(parse_config(&c, "save_file.web = web.nft\nsave_file. = /x\n"
				      "save_file.a/b = /x\n", &w), 3);
	assert_string_equal(w.text,
		"c.conf:1: save_file.web must be an absolute path\n"
		"c.conf:2: save_file.NAME needs a namespace name (at most 63 characters)\n"
		"c.conf:3: save_file.NAME needs a namespace name (at most 63 characters)\n");
	assert_string_equal(config_save_file(&c, "web"), "/etc/nft/web2.nft");
}

static void test_config_errors(void **state)
{
	struct nfp_config c, before;
	struct warnings w;

	(void)state;
	config_defaults(&c);
	before = c;
	parse_config(&c,
		"refresh = 0.1\n"
		"refresh = 61\n"
		"refresh = fast\n"
		"refresh = 1,5\n"
		"refresh = -1\n"
		"colour = red\n"
		"just some words\n"
		"= 3\n"
		"theme =\n"
		"numeric = maybe\n"
		"columns = num, pkts\n"
		"columns = rule, bogus\n"
		"columns = rule, num, num\n"
		"columns = rule,,num\n"
		"timeout = 9\n"
		"timeout = 3601\n"
		"timeout = 1.5\n"
		"theme = a b\n"
		"theme = 0123456789012345678901234567890123456789"
		"012345678901234567890123\n"
		"two words = 1\n", &w);
	assert_string_equal(w.text,
		"c.conf:1: refresh must be between 0.2 and 60 seconds\n"
		"c.conf:2: refresh must be between 0.2 and 60 seconds\n"
		"c.conf:3: refresh must be between 0.2 and 60 seconds\n"
		"c.conf:4: refresh must be between 0.2 and 60 seconds\n"
		"c.conf:5: refresh must be between 0.2 and 60 seconds\n"
		"c.conf:6: unknown key 'colour'\n"
		"c.conf:7: expected key = value\n"
		"c.conf:8: expected key = value\n"
		"c.conf:9: expected key = value\n"
		"c.conf:10: numeric must be yes or no\n"
		"c.conf:11: columns must include 'rule'\n"
		"c.conf:12: unknown column 'bogus'\n"
		"c.conf:13: column 'num' listed twice\n"
		"c.conf:14: empty column name in columns\n"
		"c.conf:15: timeout: seconds from 10 to 3600, not '9'\n"
		"c.conf:16: timeout: seconds from 10 to 3600, not '3601'\n"
		"c.conf:17: timeout: seconds from 10 to 3600, not '1.5'\n"
		"c.conf:18: theme name must be one word\n"
		"c.conf:19: theme name longer than 63 characters\n"
		"c.conf:20: expected key = value\n");
	assert_int_equal(w.n, 20);
	/* bad lines change nothing */
	assert_memory_equal(&c, &before, sizeof(c));

	/* parsing goes on after a bad line */
	assert_int_equal(parse_config(&c, "refresh = 0\ntimeout = 120\nbogus = 1\n"
				      "refresh = 3\n", &w), 2);
	assert_string_equal(w.text,
		"c.conf:1: refresh must be between 0.2 and 60 seconds\n"
		"c.conf:3: unknown key 'bogus'\n");
	assert_int_equal(c.timeout, 120);
	assert_true(c.refresh == 3.0);

	/* warn may be NULL */
	{
		const char *text = "nope\n";
		FILE *fp = fmemopen((void *)text, strlen(text), "r");

		assert_int_equal(config_parse(&c, fp, "x", NULL, NULL), 1);
		fclose(fp);
	}
}

static void test_config_load(void **state)
{
	struct nfp_config c, first;
	struct warnings w;
	char path[700], user[600];
	FILE *fp;

	(void)state;
	/* two files: the later overrides the earlier, the rest stays */
	config_defaults(&c);
	memset(&w, 0, sizeof(w));
	fp = fmemopen((void *)"refresh = 5\ntheme = light\n", 26, "r");
	assert_int_equal(config_parse(&c, fp, "/etc/nfpilot.conf", collect, &w), 0);
	fclose(fp);
	fp = fmemopen((void *)"theme = mono\n", 13, "r");
	assert_int_equal(config_parse(&c, fp, "user", collect, &w), 0);
	fclose(fp);
	assert_true(c.refresh == 5.0);
	assert_string_equal(c.theme, "mono");

	/* the user's file under $XDG_CONFIG_HOME */
	snprintf(user, sizeof(user), "%s/nfpilot/config", tmpdir);
	write_file(user, "timeout = 30\nwhat = ever\n");
	memset(&w, 0, sizeof(w));
	config_load(&c, collect, &w);
	assert_int_equal(c.timeout, 30);
	assert_non_null(strstr(w.text, "/nfpilot/config:2: unknown key 'what'\n"));
	first = c;

	/* NFPILOT_CONFIG replaces both files */
	setenv("NFPILOT_CONFIG", user, 1);
	memset(&w, 0, sizeof(w));
	assert_int_equal(config_load(&c, collect, &w), 1);
	snprintf(path, sizeof(path), "%s:2: unknown key 'what'\n", user);
	assert_string_equal(w.text, path);
	assert_int_equal(c.timeout, 30);
	assert_true(c.refresh == first.refresh);

	/* a missing NFPILOT_CONFIG is a warning, and leaves the defaults */
	snprintf(path, sizeof(path), "%s/none", tmpdir);
	setenv("NFPILOT_CONFIG", path, 1);
	memset(&w, 0, sizeof(w));
	assert_int_equal(config_load(&c, collect, &w), 1);
	strcat(path, ": No such file or directory\n");
	assert_string_equal(w.text, path);
	assert_int_equal(c.timeout, 60);
	unsetenv("NFPILOT_CONFIG");

	/* a missing user file is silent */
	unlink(user);
	memset(&w, 0, sizeof(w));
	config_load(&c, collect, &w);
	assert_null(strstr(w.text, "nfpilot/config"));
}

/* the one check of a probation time: the config key and every --timeout */
static void test_config_timeout(void **state)
{
	static const char *const bad[] = { "9", "3601", "", "1.5", "+60", "-10", " 60", "60s",
					   "99999999999999999999" };
	char err[128];
	int t = 0;

	(void)state;
	assert_int_equal(config_timeout_parse("10", &t, err, sizeof(err)), 0);
	assert_int_equal(t, CONFIG_TIMEOUT_MIN);
	assert_int_equal(config_timeout_parse("3600", &t, err, sizeof(err)), 0);
	assert_int_equal(t, CONFIG_TIMEOUT_MAX);
	assert_int_equal(config_timeout_parse("0120", &t, err, sizeof(err)), 0);
	assert_int_equal(t, 120);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = 77;
		assert_int_equal(config_timeout_parse(bad[i], &t, err, sizeof(err)), -EINVAL);
		assert_int_equal(t, 77); /* untouched */
	}
	config_timeout_parse("5", &t, err, sizeof(err));
	assert_string_equal(err, "seconds from 10 to 3600, not '5'");
	assert_string_equal(CONFIG_TIMEOUT_RANGE, "10..3600");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_keys),
		cmocka_unit_test(test_config_save_mode),
		cmocka_unit_test(test_config_ns_save_file),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_config_timeout),
		cmocka_unit_test_setup_teardown(test_config_load, setup_tmpdir,
						teardown_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
