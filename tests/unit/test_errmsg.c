/* Unit tests of util/errmsg: a subsystem's own meaning of an errno, the
 * needs-root message shared by all, strerror for the rest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/errmsg.h"

#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct errmsg table[] = {
	{ ENOENT, "no such thing here" },
	{ EPERM, "refused by its owner" },
	{ 0 }
};

static void test_errmsg_table(void **state)
{
	(void)state;
	assert_string_equal(errmsg_get(table, -ENOENT), "no such thing here");
	/* not in the table: strerror's words */
	assert_string_equal(errmsg_get(table, -EBUSY), strerror(EBUSY));
	assert_string_equal(errmsg_get(NULL, -ENOENT), strerror(ENOENT));
}

/* EPERM and EACCES as this process sees them: 0 when right */
static int check_perm(void)
{
	const char *need = "permission denied: nfpilot needs root (CAP_NET_ADMIN)";

	if (geteuid() != 0)
		return strcmp(errmsg_get(table, -EPERM), need) != 0 ||
		       strcmp(errmsg_get(table, -EACCES), need) != 0;
	/* root refused: the kernel's meaning, never "needs root" */
	return strcmp(errmsg_get(table, -EPERM), "refused by its owner") != 0 ||
	       strcmp(errmsg_get(table, -EACCES), strerror(EACCES)) != 0;
}

static void test_errmsg_root(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	assert_int_equal(check_perm(), 0);
	if (geteuid() != 0)
		return;
	/* and as a user who is not root */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(setuid(65534) != 0 ? 2 : check_perm());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errmsg_table),
		cmocka_unit_test(test_errmsg_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
