#define _GNU_SOURCE /* memfd_create */
#include "util/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/mman.h>
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

/* A memfd holding len bytes of data, at its start; -errno */
static int memfd_of(const char *name, const char *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -EIO;
		}
		data += n;
		len -= (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/* The whole of a memfd the child wrote, NUL-ended (malloc'd), or NULL */
static char *read_back(int fd)
{
	off_t end = lseek(fd, 0, SEEK_END);
	char *buf = end < 0 ? NULL : malloc((size_t)end + 1);
	size_t got = 0;

	if (!buf || lseek(fd, 0, SEEK_SET) < 0) {
		free(buf);
		return NULL;
	}
	while (got < (size_t)end) {
		ssize_t n = read(fd, buf + got, (size_t)end - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = 0;
	return buf;
}

int spawn_run(char *const argv[], const char *input, size_t inlen, char **out,
	      char **errout, int *status)
{
	posix_spawn_file_actions_t fa;
	int in = memfd_of("nfpilot-in", input ? input : "", input ? inlen : 0);
	int o = memfd_of("nfpilot-out", "", 0), e = memfd_of("nfpilot-err", "", 0);
	pid_t pid;
	int ret = in < 0 ? in : o < 0 ? o : e < 0 ? e : 0;

	*out = *errout = NULL;
	if (!ret && (ret = -posix_spawn_file_actions_init(&fa)) == 0) {
		give(&fa, in, 0, O_RDONLY);
		give(&fa, o, 1, O_WRONLY);
		give(&fa, e, 2, O_WRONLY);
		ret = -posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
		posix_spawn_file_actions_destroy(&fa);
	}
	if (!ret) {
		while (waitpid(pid, status, 0) < 0)
			if (errno != EINTR) {
				ret = -errno;
				break;
			}
	}
	if (!ret && (!(*out = read_back(o)) || !(*errout = read_back(e)))) {
		free(*out);
		*out = NULL;
		ret = -ENOMEM;
	}
	if (in >= 0)
		close(in);
	if (o >= 0)
		close(o);
	if (e >= 0)
		close(e);
	return ret;
}
