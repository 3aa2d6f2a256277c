/* A scratch configuration home for a unit test: XDG_CONFIG_HOME points at
 * a fresh folder holding nfpilot/themes/, removed whole afterwards. For
 * cmocka_unit_test_setup_teardown(test, setup_tmpdir, teardown_tmpdir). */
#ifndef NFP_TEST_TMPDIR_H
#define NFP_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static char tmpdir[256];

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int setup_tmpdir(void **state)
{
	char d[512];

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/nfp-test-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(d, sizeof(d), "%s/nfpilot", tmpdir);
	mkdir(d, 0700);
	snprintf(d, sizeof(d), "%s/nfpilot/themes", tmpdir);
	mkdir(d, 0700);
	setenv("XDG_CONFIG_HOME", tmpdir, 1);
	unsetenv("NFPILOT_CONFIG");
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int teardown_tmpdir(void **state)
{
	(void)state;
	unsetenv("XDG_CONFIG_HOME");
	return nftw(tmpdir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

#endif
