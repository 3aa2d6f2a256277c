/* Unit tests of util/safefile: writing a file the safe way, in a private
 * temporary folder (no kernel; the refusals that need another user are in
 * tests/integration/save.sh and state_dirs.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/safefile.h"

#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/nfp-test-safefile-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int unlink_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static int teardown(void **state)
{
	(void)state;
	chmod(dir, 0700);
	return nftw(dir, unlink_one, 8, FTW_DEPTH | FTW_PHYS);
}

static char *path_of(const char *name)
{
	static char p[2][400];
	static int k;

	k ^= 1;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static char *slurp(const char *path)
{
	static char buf[256];
	FILE *fp = fopen(path, "r");
	size_t n;

	if (!fp)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = 0;
	fclose(fp);
	return buf;
}

static unsigned mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

/* Only the names given are left in the folder: no temporary file. */
static size_t entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_write_mode_backup(void **state)
{
	struct safefile_opts o = { .mode = 0640 };
	char err[512];

	(void)state;
	assert_int_equal(safefile_write(path_of("f"), "one\n", 4, &o, err, sizeof(err)), 0);
	assert_string_equal(slurp(path_of("f")), "one\n");
	assert_int_equal(mode_of(path_of("f")), 0640);
	o.backup = true;
	o.mode = 0600;
	assert_int_equal(safefile_write(path_of("f"), "two\n", 4, &o, err, sizeof(err)), 0);
	assert_string_equal(slurp(path_of("f")), "two\n");
	assert_string_equal(slurp(path_of("f.bak")), "one\n");
	assert_int_equal(mode_of(path_of("f.bak")), 0600);
	assert_int_equal(entries(), 2);
}

static void test_refusals(void **state)
{
	struct safefile_opts o = { .mode = 0644 };
	char err[512];

	(void)state;
	/* never set-id, never write for others, whatever is asked */
	o.mode = 04755;
	assert_int_equal(safefile_write(path_of("f"), "x", 1, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "at most 0755"));
	o.mode = 0664;
	assert_int_equal(safefile_write(path_of("f"), "x", 1, &o, err, sizeof(err)), -EINVAL);
	assert_int_equal(access(path_of("f"), F_OK), -1);
	o.mode = 0644;
	/* a link as the target: refused, the file it points to untouched */
	assert_int_equal(safefile_write(path_of("victim"), "keep", 4, &o, err, sizeof(err)), 0);
	assert_int_equal(symlink(path_of("victim"), path_of("link")), 0);
	assert_int_equal(safefile_write(path_of("link"), "evil", 4, &o, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "is a symbolic link"));
	assert_string_equal(slurp(path_of("victim")), "keep");
	/* FILE.bak a link: refused the same, nothing replaced */
	o.backup = true;
	assert_int_equal(symlink(path_of("victim"), path_of("g.bak")), 0);
	assert_int_equal(safefile_write(path_of("g"), "g1", 2, &o, err, sizeof(err)), 0);
	assert_int_equal(safefile_write(path_of("g"), "g2", 2, &o, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, ".bak"));
	assert_string_equal(slurp(path_of("g")), "g1");
	assert_string_equal(slurp(path_of("victim")), "keep");
	/* a target others may write: refused */
	o.backup = false;
	assert_int_equal(chmod(path_of("g"), 0666), 0);
	assert_int_equal(safefile_write(path_of("g"), "g3", 2, &o, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "mode 0666"));
	/* a folder anyone may write, sticky or not: refused */
	assert_int_equal(chmod(dir, 01777), 0);
	assert_int_equal(safefile_write(path_of("h"), "h", 1, &o, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "can be written by other users"));
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(entries(), 4); /* victim link g.bak g */
}

static int put_lines(FILE *fp, void *arg)
{
	for (int i = 0; i < *(int *)arg; i++)
		fprintf(fp, "line %d\n", i);
	return 0;
}

static int put_fail(FILE *fp, void *arg)
{
	(void)arg;
	fputs("half", fp);
	return -EBADMSG;
}

static void test_stream(void **state)
{
	struct safefile_opts o = { .mode = 0600 };
	char err[512];
	int n = 3;

	(void)state;
	assert_int_equal(safefile_write_stream(path_of("s"), put_lines, &n, &o, err, sizeof(err)),
			 0);
	assert_string_equal(slurp(path_of("s")), "line 0\nline 1\nline 2\n");
	assert_int_equal(mode_of(path_of("s")), 0600);
	/* the writer's error: nothing replaced, no temporary file left */
	assert_int_equal(safefile_write_stream(path_of("s"), put_fail, NULL, &o, err, sizeof(err)),
			 -EBADMSG);
	assert_string_equal(slurp(path_of("s")), "line 0\nline 1\nline 2\n");
	assert_int_equal(entries(), 1);
}

static void test_mkdirs(void **state)
{
	char err[512], p[400], ours[400];

	(void)state;
	snprintf(ours, sizeof(ours), "%s/run", dir);
	snprintf(p, sizeof(p), "%s/run/ns", dir);
	assert_int_equal(safefile_mkdirs(p, ours, 0700, err, sizeof(err)), 0);
	assert_int_equal(mode_of(ours), 0700);
	assert_int_equal(mode_of(p), 0700);
	/* root's own, loosened: tightened */
	assert_int_equal(chmod(p, 0755), 0);
	assert_int_equal(safefile_mkdirs(p, ours, 0700, err, sizeof(err)), 0);
	assert_int_equal(mode_of(p), 0700);
	/* a link among nfpilot's folders: refused */
	assert_int_equal(rmdir(p), 0);
	assert_int_equal(symlink(dir, p), 0);
	assert_int_equal(safefile_mkdirs(p, ours, 0700, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "is a symbolic link"));
	/* a relative path: refused */
	assert_int_equal(safefile_mkdirs("run/ns", NULL, 0700, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_mode_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdirs, setup, teardown),
	};

	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
