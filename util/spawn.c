#define _GNU_SOURCE /* pipe2 */
#include "util/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
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

/* program (by path, or looked up in PATH) with in, out and err (-1:
 * /dev/null; err -2: ours) */
static int start(const char *program, bool lookup, char *const argv[], int in, int out,
		 int err, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	int ret = posix_spawn_file_actions_init(&fa);

	if (ret)
		return -ret;
	give(&fa, in, 0, O_RDONLY);
	give(&fa, out, 1, O_WRONLY);
	if (err != -2)
		give(&fa, err, 2, O_WRONLY);
	ret = (lookup ? posix_spawnp : posix_spawn)(pid, program, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return -ret;
}

int spawn_self(char *const argv[], int in, int out, bool quiet, pid_t *pid)
{
	char exe[4096];

	return start(self_path(exe, sizeof(exe)), false, argv, in, out, quiet ? -1 : -2, pid);
}

#define RUN_MAX (64 * 1024)

int spawn_run(const char *program, char *const argv[], char **out, char **errout,
	      int *status)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, ret = 0, ws;
	char *buf[2] = { calloc(1, RUN_MAX + 1), calloc(1, RUN_MAX + 1) };
	size_t len[2] = { 0, 0 };
	struct pollfd pfd[2];
	bool started = false;
	pid_t pid;

	*out = *errout = NULL;
	if (!buf[0] || !buf[1])
		ret = -ENOMEM;
	else if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
		ret = -errno;
	else
		started = !(ret = start(program, true, argv, -1, po[1], pe[1], &pid));
	if (po[1] >= 0)
		close(po[1]);
	if (pe[1] >= 0)
		close(pe[1]);
	pfd[0] = (struct pollfd){ .fd = ret ? -1 : po[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = ret ? -1 : pe[0], .events = POLLIN };
	/* both at once: a full pipe never stops the program */
	while (!ret && (pfd[0].fd >= 0 || pfd[1].fd >= 0)) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		for (int i = 0; i < 2; i++) {
			char sink[4096];
			ssize_t n;

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			/* past the limit: read on, keep nothing more */
			n = len[i] < RUN_MAX ? read(pfd[i].fd, buf[i] + len[i], RUN_MAX - len[i])
					     : read(pfd[i].fd, sink, sizeof(sink));
			if (n > 0 && len[i] < RUN_MAX)
				len[i] += (size_t)n;
			else if (n == 0 || (n < 0 && errno != EINTR))
				pfd[i].fd = -1;
		}
	}
	if (po[0] >= 0)
		close(po[0]);
	if (pe[0] >= 0)
		close(pe[0]);
	if (started) {
		while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
		*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	}
	if (ret) {
		free(buf[0]);
		free(buf[1]);
		return ret;
	}
	*out = buf[0];
	*errout = buf[1];
	return 0;
}
