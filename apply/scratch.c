#define _GNU_SOURCE /* memfd_create, pipe2, unshare */
#include "apply/scratch.h"

#include "apply/compile.h"
#include "apply/save.h"
#include "util/grow.h"
#include "util/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* The works, by the name the parent gives: each reads its input from in,
 * sends its records and returns 0, or -1 after scratch_fail. */
static const struct {
	const char *name;
	int (*fn)(FILE *in);
} works[] = {
	{ "compile", compile_scratch },
	{ "set", compile_scratch_set },
	{ "builtin", compile_scratch_builtin },
	{ "load", save_scratch_load },
	{ "restore", save_scratch_restore },
};

/* The whole of buf through fd (writing, or reading): 0, or -1 at EOF or
 * error. */
static int io_all(int fd, void *buf, size_t len, bool writing)
{
	char *p = buf;

	while (len) {
		ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int scratch_send(uint32_t kind, int32_t index, const void *data, uint32_t len)
{
	struct scratch_rec h = { kind, len, index };

	return io_all(1, &h, sizeof(h), true) || io_all(1, (void *)data, len, true) ? -1 : 0;
}

int scratch_fail(int32_t index, const char *msg)
{
	scratch_send(SCRATCH_ERROR, index, msg, (uint32_t)strlen(msg) + 1);
	return -1;
}

long scratch_next(FILE *in, char **data)
{
	struct scratch_rec h;

	*data = NULL;
	if (fread(&h, sizeof(h), 1, in) != 1 || h.len > (1u << 24) || !(*data = malloc(h.len + 1)))
		return -1;
	if (h.len && fread(*data, h.len, 1, in) != 1) {
		free(*data);
		*data = NULL;
		return -1;
	}
	(*data)[h.len] = 0;
	return h.len;
}

int scratch_main(int argc, char **argv)
{
	char err[512];

	for (size_t i = 0; argc == 2 && i < sizeof(works) / sizeof(works[0]); i++) {
		if (strcmp(argv[1], works[i].name) != 0)
			continue;
		if (unshare(CLONE_NEWNET) < 0) {
			snprintf(err, sizeof(err), "cannot make a scratch network namespace: %s%s",
				 strerror(errno), geteuid() ? " (needs root)" : "");
			scratch_fail(-1, err);
			return 1;
		}
		return works[i].fn(stdin) ? 1 : 0;
	}
	scratch_fail(-1, "no such scratch work");
	return 2;
}

/* The input, written whole to a memfd (no pipe to fill while the work
 * has not started reading): its fd, at its start, or -errno. */
static int input(const struct scratch_job *j, char *err, size_t errlen)
{
	int fd = memfd_create("nfpilot-scratch", MFD_CLOEXEC), ret = 0;
	FILE *fp = fd < 0 ? NULL : fdopen(dup(fd), "w");

	if (!fp) {
		ret = -errno;
		snprintf(err, errlen, "the scratch namespace's input: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	if (j->put)
		ret = j->put(fp, j->put_arg);
	if (fclose(fp) != 0 && !ret)
		ret = -EIO;
	if (!ret && lseek(fd, 0, SEEK_SET) < 0)
		ret = -errno;
	if (ret) {
		snprintf(err, errlen, "the scratch namespace's input: %s", strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

/* The work's records, each to j->take until the end (a session's
 * request: its SCRATCH_DONE) or an error. */
static int records(struct scratch_job *j, int fd, bool session, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t cap = 0;
	int ret = 0;

	for (;;) {
		struct scratch_rec h;

		if (io_all(fd, &h, sizeof(h), false) < 0) {
			if (session) {
				snprintf(err, errlen, "the scratch namespace's work ended");
				ret = -EPIPE;
			}
			break; /* the work is done */
		}
		if (session && h.kind == SCRATCH_DONE)
			break;
		if (grow(&buf, &cap, (size_t)h.len + 1, 1, 4096) ||
		    io_all(fd, buf, h.len, false) < 0) {
			ret = -EIO;
			break;
		}
		buf[h.len] = 0;
		if (h.kind == SCRATCH_ERROR) {
			j->failed = h.index;
			snprintf(err, errlen, "%s", buf);
			ret = -EINVAL;
			break;
		}
		ret = j->take(j->take_arg, &h, buf);
		if (ret)
			break;
	}
	free(buf);
	return ret;
}

int scratch_run(struct scratch_job *j, char *err, size_t errlen)
{
	char *argv[] = { "nfpilot", "scratch", (char *)j->work, NULL };
	int in, fds[2], status = 0, ret;
	pid_t pid;

	j->failed = -1;
	in = input(j, err, errlen);
	if (in < 0)
		return in;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		ret = -errno;
		snprintf(err, errlen, "the scratch namespace: %s", strerror(errno));
		close(in);
		return ret;
	}
	ret = spawn_self(argv, in, fds[1], false, &pid);
	close(in);
	close(fds[1]);
	if (ret) {
		close(fds[0]);
		snprintf(err, errlen, "cannot start the scratch namespace's work: %s",
			 strerror(-ret));
		return ret;
	}
	ret = records(j, fds[0], false, err, errlen);
	close(fds[0]); /* a work still writing ends (SIGPIPE) */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!ret && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		ret = -EIO; /* said nothing: the caller's words */
	return ret;
}

/* ---- sessions ---- */

/* All of len bytes to a socket (no SIGPIPE): 0 or -errno */
static int send_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int scratch_start(struct scratch_proc *p, const struct scratch_job *j, char *err,
		  size_t errlen)
{
	char *argv[] = { "nfpilot", "scratch", (char *)j->work, NULL };
	int sv[2], out[2], ret;
	char *text = NULL;
	size_t len = 0;
	FILE *fp;

	memset(p, 0, sizeof(*p));
	/* the input, whole, before the work runs */
	fp = open_memstream(&text, &len);
	ret = !fp ? -ENOMEM : j->put ? j->put(fp, j->put_arg) : 0;
	if (fp && fclose(fp) != 0 && !ret)
		ret = -ENOMEM;
	if (ret) {
		snprintf(err, errlen, "the scratch namespace's input: %s", strerror(-ret));
		free(text);
		return ret;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		free(text);
		snprintf(err, errlen, "the scratch namespace: %s", strerror(errno));
		return ret;
	}
	if (pipe2(out, O_CLOEXEC) < 0) {
		ret = -errno;
		close(sv[0]);
		close(sv[1]);
		free(text);
		snprintf(err, errlen, "the scratch namespace: %s", strerror(errno));
		return ret;
	}
	ret = spawn_self(argv, sv[1], out[1], false, &p->pid);
	close(sv[1]);
	close(out[1]);
	if (ret) {
		close(sv[0]);
		close(out[0]);
		p->pid = 0;
	} else { /* the input is its first request */
		struct scratch_rec h = { 0, (uint32_t)len, 0 };

		p->to = sv[0];
		p->from = out[0];
		ret = send_all(p->to, &h, sizeof(h));
		if (!ret)
			ret = send_all(p->to, text, len);
	}
	free(text);
	if (ret) {
		snprintf(err, errlen, "cannot start the scratch namespace's work: %s",
			 strerror(-ret));
		scratch_stop(p);
	}
	return ret;
}

int scratch_ask(struct scratch_proc *p, struct scratch_job *j, const void *data, uint32_t len,
		char *err, size_t errlen)
{
	struct scratch_rec h = { 0, len, 0 };
	int ret;

	j->failed = -1;
	if (!p->pid) {
		snprintf(err, errlen, "the scratch namespace's work is not running");
		return -EPIPE;
	}
	ret = send_all(p->to, &h, sizeof(h));
	if (!ret)
		ret = send_all(p->to, data, len);
	if (ret) {
		snprintf(err, errlen, "the scratch namespace's work ended");
		return -EPIPE;
	}
	return records(j, p->from, true, err, errlen);
}

void scratch_stop(struct scratch_proc *p)
{
	if (p->pid <= 0)
		return;
	close(p->to); /* the end of its requests: it ends */
	close(p->from);
	while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
		;
	memset(p, 0, sizeof(*p));
}
