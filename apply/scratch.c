/* scratch: a forked child in a new, empty network namespace of its own. */
#define _GNU_SOURCE
#include "apply/scratch.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int scratch_run(scratch_fn fn, void *arg, char **text, char *err, size_t errlen)
{
	int fds[2], status;
	char *buf = NULL, chunk[8192];
	size_t len = 0;
	FILE *mem;
	ssize_t got;
	pid_t pid;

	*text = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		char e[512] = "", *out;
		FILE *w = fdopen(fds[1], "w");

		close(fds[0]);
		if (unshare(CLONE_NEWNET) < 0) {
			fprintf(w, "Ecannot make a scratch network namespace: %s%s", strerror(errno),
				geteuid() ? " (needs root)" : "");
			_exit(1);
		}
		out = fn(arg, e, sizeof(e));
		fprintf(w, "%c%s", out ? 'O' : 'E', out ? out : e);
		fclose(w);
		_exit(0);
	}
	close(fds[1]);
	mem = open_memstream(&buf, &len);
	while ((got = read(fds[0], chunk, sizeof(chunk))) > 0)
		if (mem)
			fwrite(chunk, 1, (size_t)got, mem);
	close(fds[0]);
	if (mem)
		fclose(mem);
	waitpid(pid, &status, 0);
	if (!buf || buf[0] != 'O') {
		snprintf(err, errlen, "%s", buf && buf[0] ? buf + 1 : "the scratch namespace failed");
		free(buf);
		return -EIO;
	}
	*text = strdup(buf + 1);
	free(buf);
	return *text ? 0 : -ENOMEM;
}

