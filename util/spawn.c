#include "util/spawn.h"

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

extern char **environ;

/* fd as the child's fd to, or /dev/null opened with flags */
static void give(posix_spawn_file_actions_t *fa, int fd, int to, int flags)
{
	if (fd >= 0)
		posix_spawn_file_actions_adddup2(fa, fd, to);
	else
		posix_spawn_file_actions_addopen(fa, to, "/dev/null", flags, 0);
}

/* This program's path as the kernel names it (valgrind, which runs it,
 * answers for it too), or /proc/self/exe when that is gone (replaced on
 * disk while running). */
static const char *self_path(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n <= 0)
		return "/proc/self/exe";
	buf[n] = 0;
	return access(buf, X_OK) == 0 ? buf : "/proc/self/exe";
}

int spawn_self(char *const argv[], int in, int out, bool quiet, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	char exe[4096];
	int ret = posix_spawn_file_actions_init(&fa);

	if (ret)
		return -ret;
	give(&fa, in, 0, O_RDONLY);
	give(&fa, out, 1, O_WRONLY);
	if (quiet)
		give(&fa, -1, 2, O_WRONLY);
	ret = posix_spawn(pid, self_path(exe, sizeof(exe)), &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return -ret;
}
