#include "util/spawn.h"

#include <fcntl.h>
#include <spawn.h>

extern char **environ;

/* fd as the child's fd to, or /dev/null opened with flags */
static void give(posix_spawn_file_actions_t *fa, int fd, int to, int flags)
{
	if (fd >= 0)
		posix_spawn_file_actions_adddup2(fa, fd, to);
	else
		posix_spawn_file_actions_addopen(fa, to, "/dev/null", flags, 0);
}

int spawn_self(char *const argv[], int in, int out, bool quiet, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	int ret = posix_spawn_file_actions_init(&fa);

	if (ret)
		return -ret;
	give(&fa, in, 0, O_RDONLY);
	give(&fa, out, 1, O_WRONLY);
	if (quiet)
		give(&fa, -1, 2, O_WRONLY);
	ret = posix_spawn(pid, "/proc/self/exe", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return -ret;
}
