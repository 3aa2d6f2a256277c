#define _GNU_SOURCE
#include "probation/probation.h"

#include "nft/batch.h"
#include "probation/history.h"
#include "util/safefile.h"
#include "probation/snapfile.h"
#include "probation/state.h"
#include "model/config.h"
#include "model/ruleset.h"
#include "util/mono.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <spawn.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define GUARDIAN_START_MS 10000 /* to listen: an exec, whatever the ruleset */

static int64_t mono_ms(void)
{
	return (int64_t)(mono_now() * 1000);
}

int64_t probation_left_ms(const struct probation *p)
{
	int64_t left = p->deadline_ms - mono_ms();

	return left > 0 ? left : 0;
}

/* ---- talking to the guardian ---- */

/* Connect to socket name of the run folder dir, and make sure root is on
 * the other end: a socket someone else bound is not the guardian's. */
static int connect_to(const char *dir, const char *name, int *fd, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int s;

	if (state_socket_addr(dir, name, &sa)) {
		snprintf(err, errlen, "%.300s: path too long for a socket", dir);
		return -ENAMETOOLONG;
	}
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(s);
		if (e == ENOENT || e == ECONNREFUSED) {
			snprintf(err, errlen, "no change is on probation");
			return -ENOENT;
		}
		snprintf(err, errlen, "%s: %s", sa.sun_path, strerror(e));
		return -e;
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != 0) {
		close(s);
		snprintf(err, errlen, "%s is not the guardian's socket (not root's): refused",
			 sa.sun_path);
		return -EPERM;
	}
	*fd = s;
	return 0;
}

static int connect_guardian(const char *dir, int *fd, char *err, size_t errlen)
{
	return connect_to(dir, PROB_SOCK, fd, err, errlen);
}

/* What the guardian says on its own: the end, or a new deadline. */
static void note(struct probation *p, char *msg)
{
	struct protocol_notice m;

	if (!p || protocol_notice_parse(msg, &m))
		return;
	if (m.note == NOTE_DEADLINE) {
		p->deadline_ms = mono_ms() + m.ms;
	} else {
		p->outcome = m.outcome;
		p->history_n = m.history_n;
		snprintf(p->why, sizeof(p->why), "%s", m.reason);
	}
}

/* One message, waiting at most timeout_ms: its length, 0 at the end of
 * the connection, -ETIMEDOUT, or -errno. */
static ssize_t receive(int fd, char *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	ssize_t n;
	int r;

	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -ETIMEDOUT;
	n = recv(fd, buf, len - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return n;
}

/* Send r and wait for its answer, noting what else the guardian says
 * meanwhile. 0 with *a its ok (its strings valid until the next call), or
 * the -errno of its err (protocol_answer_errno) with err = the refusal. */
static int call(struct probation *p, int fd, const struct protocol_request *r,
		struct protocol_answer *a, char *err, size_t errlen)
{
	static char buf[PROB_MSG_MAX + 1];
	int len = protocol_request_format(r, buf, sizeof(buf));

	if (len < 0) {
		snprintf(err, errlen, "cannot tell the guardian: %s",
			 len == -EINVAL ? "a path with a space in it" : "the request is too long");
		return len;
	}
	if (send(fd, buf, (size_t)len, MSG_NOSIGNAL) < 0) {
		snprintf(err, errlen, "the guardian is gone (%s)", strerror(errno));
		return -EPIPE;
	}
	for (;;) {
		/* as long as it takes (a commit of 100k rules takes seconds): the
		 * connection ends if the guardian does */
		ssize_t n = receive(fd, buf, sizeof(buf), -1);

		if (n <= 0) {
			snprintf(err, errlen, "the guardian did not answer%s",
				 p && p->outcome != PROB_RUNNING ? ": the probation ended" : "");
			return n == 0 ? -EPIPE : (int)n;
		}
		if (protocol_answer_parse(r->req, buf, a) == 0) {
			if (a->ok)
				return 0;
			snprintf(err, errlen, "%s", a->text);
			return protocol_answer_errno(r->req, a);
		}
		note(p, buf);
	}
}

bool probation_poll(struct probation *p)
{
	char buf[PROB_MSG_MAX + 1];
	bool changed = false;

	while (p->fd >= 0) {
		ssize_t n = recv(p->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		changed = true;
		if (n <= 0) {
			/* gone without a word: it was killed */
			if (p->outcome == PROB_RUNNING) {
				p->outcome = PROB_FAILED;
				snprintf(p->why, sizeof(p->why),
					 "the guardian ended without a word: see nfpilot status");
			}
			close(p->fd);
			p->fd = -1;
			break;
		}
		buf[n] = 0;
		note(p, buf);
	}
	return changed;
}

void probation_close(struct probation *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

/* Request req (naming probation id, or NULL) through p, or a new
 * connection when p is NULL or closed: as call. */
static int request(struct probation *p, enum protocol_req req, const char *id,
		   struct protocol_answer *a, char *err, size_t errlen)
{
	const struct protocol_request r = { .req = req, .id = id };
	char dir[4096];
	int fd, ret;

	if (p && p->fd >= 0)
		return call(p, p->fd, &r, a, err, errlen);
	ret = state_run_dir(dir, sizeof(dir), err, errlen);
	if (!ret)
		ret = connect_guardian(dir, &fd, err, errlen);
	if (ret)
		return ret;
	ret = call(p, fd, &r, a, err, errlen);
	close(fd);
	return ret;
}

int probation_send(struct probation *p, enum protocol_req req, const char *id, long long *n,
		   char *err, size_t errlen)
{
	struct protocol_answer a;
	bool held = p && p->fd >= 0;
	int ret = request(p, req, id, &a, err, errlen);

	if (ret)
		return ret;
	if (n)
		*n = a.n;
	/* a holder hears the end before the answer; should it not have, the
	 * answer says it as well */
	if (held && p->outcome == PROB_RUNNING && (req == REQ_CONFIRM || req == REQ_ROLLBACK)) {
		p->outcome = req == REQ_CONFIRM ? PROB_CONFIRMED : PROB_REVERTED;
		p->history_n = (int)a.n;
		snprintf(p->why, sizeof(p->why), "%s",
			 req == REQ_CONFIRM ? "confirmed" : "rolled back");
	}
	return 0;
}

/* ---- starting a probation ---- */

static void who(char *user, size_t ulen, char *from, size_t flen)
{
	const char *sudo = getenv("SUDO_USER");
	const char *ssh = getenv("SSH_CONNECTION");
	struct passwd *pw = getpwuid(getuid());

	if (!ssh || !*ssh)
		ssh = getenv("SSH_CLIENT");
	if (sudo && *sudo)
		snprintf(user, ulen, "%s (sudo from %.30s)", pw ? pw->pw_name : "root", sudo);
	else
		snprintf(user, ulen, "%s", pw ? pw->pw_name : "?");
	if (ssh && *ssh)
		snprintf(from, flen, "%.*s", (int)strcspn(ssh, " "), ssh);
	else
		snprintf(from, flen, "local (%.60s)", ttyname(0) ? ttyname(0) : "no terminal");
}

extern char **environ;

/* Where systemd runs the machine, the guardian is a transient unit of its
 * own (systemd-run), in this network namespace. 0 when it was started that
 * way; else (no systemd, or systemd-run failed) -ENOENT: a plain fork.
 * NFPILOT_SYSTEMD_RUN names a stand-in for systemd-run, for the tests
 * (none runs systemd). */
static int guardian_unit(const char *exe, const char *dir, char *err, size_t errlen)
{
	static const char *const pass[] = { "NFPILOT_RUN_DIR", "NFPILOT_LIB_DIR",
					    "NFPILOT_TEST_BREAK_RESTORE" };
	const char *run = getenv("NFPILOT_SYSTEMD_RUN");
	char unit[96], ns[64], env[3][4200], key[256];
	char *argv[16];
	int n = 0, status;
	pid_t pid;

	if (!run || !*run) {
		if (access("/run/systemd/system", F_OK) != 0)
			return -ENOENT; /* systemd is not running the machine */
		run = access("/usr/bin/systemd-run", X_OK) == 0 ? "/usr/bin/systemd-run"
								 : "/bin/systemd-run";
	}
	state_ns_key(key, sizeof(key), true);
	snprintf(unit, sizeof(unit), "--unit=nfpilot-guardian-%d", (int)getpid());
	snprintf(ns, sizeof(ns), "--property=NetworkNamespacePath=/proc/%d/ns/net", (int)getpid());
	argv[n++] = (char *)run;
	argv[n++] = "--quiet";
	argv[n++] = "--collect";
	argv[n++] = "--service-type=exec";
	argv[n++] = unit;
	argv[n++] = ns;
	for (size_t i = 0; i < 3; i++) {
		const char *v = getenv(pass[i]);

		if (!v)
			continue;
		snprintf(env[i], sizeof(env[i]), "--setenv=%s=%s", pass[i], v);
		argv[n++] = env[i];
	}
	argv[n++] = (char *)exe;
	argv[n++] = "guardian";
	argv[n++] = (char *)dir;
	argv[n] = NULL;
	if (posix_spawn(&pid, run, NULL, NULL, argv, environ) != 0)
		return -ENOENT;
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		syslog(LOG_WARNING, "systemd-run could not start the guardian of %s (%s): "
		       "started as a process of this login", key, dir);
		return -ENOENT;
	}
	(void)err;
	(void)errlen;
	return 0;
}

/* Start the guardian (`nfpilot guardian DIR`), detached twice over: its
 * own session, not our child, no file of ours. Where systemd runs, a
 * transient unit of its own, so that a login's end (logind's
 * KillUserProcesses) cannot take it along. */
static int start_guardian(const char *dir, char *err, size_t errlen)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	pid_t pid;
	int status;

	if (n < 0) {
		snprintf(err, errlen, "cannot start the guardian: %s", strerror(errno));
		return -errno;
	}
	exe[n] = 0;
	if (guardian_unit(exe, dir, err, errlen) == 0)
		return 0;
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "cannot start the guardian: %s", strerror(errno));
		return -EAGAIN;
	}
	if (pid == 0) {
		if (fork() == 0) {
			char *argv[] = { "nfpilot", "guardian", (char *)dir, NULL };

			setsid();
			close_range(3, ~0U, 0); /* nothing of ours: the lock comes by the socket */
			execv(exe, argv);
			_exit(127);
		}
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return 0;
}

/* Start the guardian and hand it the probation: the lock (so that no
 * other probation can start meanwhile), the options and who asks, on its
 * start socket; back when it holds the restore point, proven (or refused:
 * -ENOTRECOVERABLE). *fd: the connection, the applier's from now on. */
static int spawn(const char *dir, int lockfd, const struct probation_opts *o, int timeout,
		 struct probation *p, int *fd, char *err, size_t errlen)
{
	char user[64], from[128], msg[1024], said[2100];
	struct protocol_answer a;
	bool parsed;
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n = -1;
	int ret = start_guardian(dir, err, errlen);

	*fd = -1;
	/* until it listens: the time of an exec, whatever the ruleset */
	for (int i = 0; !ret && i < GUARDIAN_START_MS / 20; i++) {
		ret = connect_to(dir, PROB_START_SOCK, fd, err, errlen);
		if (ret != -ENOENT)
			break;
		ret = 0;
		usleep(20000);
	}
	if (!ret && *fd < 0) {
		snprintf(err, errlen, "the guardian did not start (see syslog): nothing applied");
		return -ECHILD;
	}
	if (ret)
		return ret;
	who(user, sizeof(user), from, sizeof(from));
	n = protocol_request_format(&(struct protocol_request){
		.req = REQ_START, .timeout_s = timeout, .strict = o->strict, .force = o->force,
		.user = user, .from = from, .what = o->what ? o->what : "nfpilot" },
		msg, sizeof(msg));
	if (n < 0) {
		close(*fd);
		*fd = -1;
		snprintf(err, errlen, "what the change is, is too long to tell the guardian: "
			 "nothing applied");
		return (int)n;
	}
	iov = (struct iovec){ msg, (size_t)n };
	n = -1;
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &lockfd, sizeof(int));
	if (sendmsg(*fd, &mh, MSG_NOSIGNAL) >= 0) {
		/* it reads and proves the restore point: as long as that takes */
		struct pollfd pfd = { *fd, POLLIN, 0 };

		while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
			;
		n = recv(*fd, said, sizeof(said) - 1, 0);
	}
	said[n > 0 ? n : 0] = 0;
	parsed = n > 0 && protocol_answer_parse(REQ_START, said, &a) == 0;
	if (parsed && a.ok) {
		if (a.refused)
			snprintf(p->refused, sizeof(p->refused), "%.1000s", a.refused);
		return 0;
	}
	close(*fd);
	*fd = -1;
	if (parsed) {
		snprintf(err, errlen, "%s", a.text);
		return protocol_answer_errno(REQ_START, &a);
	}
	snprintf(err, errlen, "the guardian did not start (see syslog): nothing applied");
	return -ECHILD;
}

static int leftover(const char *dir, char *err, size_t errlen)
{
	char path[4200];

	struct snapshot probe;
	char why[600];

	snprintf(path, sizeof(path), "%s/%s", dir, PROB_RESTORE);
	if (access(path, F_OK) != 0)
		return 0;
	if (snapfile_load(path, &probe, why, sizeof(why)) == -EINVAL) {
		snprintf(err, errlen, "a previous probation left a damaged restore point (%s): "
			 "nfpilot confirm sets it aside and keeps the rules as they are. Nothing "
			 "applied", why);
		return -EEXIST;
	}
	snapshot_free(&probe);
	snprintf(path, sizeof(path), "%s/%s", dir, PROB_FAILNOTE);
	snprintf(err, errlen, "%s: nfpilot status shows it; nfpilot rollback tries the "
		 "revert again, nfpilot confirm keeps the rules as they are. Nothing "
		 "applied", access(path, F_OK) == 0
		 ? "the revert of the last probation failed and left its restore point"
		 : "a previous probation's guardian ended before finishing and left its "
		   "restore point");
	return -EEXIST;
}

/* Take the run folder's lock if no guardian holds it: true when taken.
 * A guardian that has ended its probation (its socket gone) still holds
 * the lock while it finishes: wait for it then, rather than mistake it
 * for a running one. */
static bool lock_free(const char *dir, int lockfd)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, PROB_SOCK);
	for (int i = 0; i < 400; i++) {
		if (flock(lockfd, LOCK_EX | LOCK_NB) == 0)
			return true;
		if (access(path, F_OK) == 0)
			return false; /* running: it listens */
		usleep(25000);
	}
	return false;
}

/* A file of the run folder, written whole, for the guardian: 0 or
 * -errno with err filled. */
static int run_file(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600), ret = 0;
	const char *p = data;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	while (len && !ret) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			ret = n < 0 ? -errno : -EIO;
		else
			p += n, len -= (size_t)n;
	}
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (ret) {
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		unlink(path);
	}
	return ret;
}

int probation_script(const char *text, size_t len, char *path, size_t plen, char *err,
		     size_t errlen)
{
	char dir[4096];
	int ret = state_run_dir(dir, sizeof(dir), err, errlen);

	if (ret)
		return ret;
	snprintf(path, plen, "%s/change-%d.nft", dir, (int)getpid());
	unlink(path); /* one of this pid's, left by a crash */
	return run_file(path, text, len, err, errlen);
}

/* The guardian makes the change (a commit). 0 with its answer in *a;
 * -errno with err when it refused or the kernel did (*ch->failed_tag: the
 * batch's message at fault). */
static int commit_by_guardian(struct probation *p, const char *dir,
			      const struct probation_change *ch, struct protocol_answer *a,
			      char *err, size_t errlen)
{
	char path[4200], text[4200];
	int fd, ret = 0;

	memset(a, 0, sizeof(*a));
	if (ch->failed_tag)
		*ch->failed_tag = -1;
	snprintf(text, sizeof(text), "%s/change-%d.txt", dir, (int)getpid());
	unlink(text);
	ret = run_file(text, ch->text ? ch->text : "", ch->text ? strlen(ch->text) : 0, err,
		       errlen);
	if (ch->kind == CHANGE_BATCH) {
		snprintf(path, sizeof(path), "%s/change-%d.batch", dir, (int)getpid());
		unlink(path);
		fd = ret ? -1 : open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (!ret && fd < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		}
		if (fd >= 0) {
			ret = batch_save(ch->batch, fd, err, errlen);
			if (close(fd) < 0 && !ret)
				ret = -EIO;
		}
	} else {
		snprintf(path, sizeof(path), "%s", ch->path);
	}
	if (!ret)
		ret = call(p, p->fd, &(struct protocol_request){
			.req = REQ_COMMIT, .kind = ch->kind, .path = path, .textpath = text,
			.include = ch->include }, a, err, errlen);
	unlink(text);
	if (ch->kind != CHANGE_RESTORE)
		unlink(path);
	/* the kernel refused a batch: the message at fault */
	if (ret && !a->ok && a->kernel_err && a->batch && ch->failed_tag)
		*ch->failed_tag = batch_tag(ch->batch, a->seq);
	return ret;
}

int probation_apply(struct nl *nl, struct probation_change *ch, const struct probation_opts *o,
		    struct probation *p, bool *applied, char *err, size_t errlen)
{
	char dir[4096], path[4200];
	struct protocol_answer a = { 0 };
	int timeout = o->timeout_s ? o->timeout_s : CONFIG_TIMEOUT_DEFAULT;
	struct snapshot snap = { 0 };
	int lockfd, ret;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	*applied = false;
	if (ch->point) { /* the caller's restore point is ours now */
		snap = *ch->point;
		memset(ch->point, 0, sizeof(*ch->point));
	}
	ret = state_run_dir(dir, sizeof(dir), err, errlen);
	if (ret) {
		snapshot_free(&snap);
		return ret;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, PROB_LOCK);
	lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lockfd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		snapshot_free(&snap);
		return ret;
	}
	if (lock_free(dir, lockfd)) {
		/* no probation: this change starts one */
		ret = leftover(dir, err, errlen);
		if (!ret && !snap.tables)
			ret = snapshot_take(nl, ch->ids, ch->nids, false, &snap, err, errlen);
		snprintf(path, sizeof(path), "%s/%s", dir, PROB_RESTORE);
		if (!ret)
			ret = snapfile_save(&snap, path, err, errlen);
		if (!ret) {
			ret = spawn(dir, lockfd, o, timeout, p, &p->fd, err, errlen);
			if (ret)
				unlink(path);
		}
		close(lockfd); /* the guardian has it now */
	} else {
		/* a probation runs: join it; the guardian keeps the state
		 * before its first change of each table */
		close(lockfd);
		p->joined = true;
		ret = connect_guardian(dir, &p->fd, err, errlen);
		if (!ret && !snap.tables)
			ret = snapshot_take(nl, ch->ids, ch->nids, false, &snap, err, errlen);
		snprintf(path, sizeof(path), "%s/join-%d.snap", dir, (int)getpid());
		if (!ret)
			ret = snapfile_save(&snap, path, err, errlen);
		if (!ret)
			ret = call(p, p->fd, &(struct protocol_request){
				.req = REQ_JOIN, .path = path, .force = o->force }, &a, err, errlen);
		if (!ret && a.refused)
			snprintf(p->refused, sizeof(p->refused), "%.1000s", a.refused);
	}
	if (!ret)
		ret = call(p, p->fd, &(struct protocol_request){
			.req = REQ_HOLD, .pid = (int)getpid(), .strict = o->strict,
			.detach = o->detach }, &a, err, errlen);
	if (ret) {
		snapshot_free(&snap);
		probation_close(p);
		return ret;
	}
	p->strict = o->strict;
	/* the change reaches the kernel only through the guardian that holds
	 * its restore point: if the probation ended meanwhile, nothing does */
	ret = commit_by_guardian(p, dir, ch, &a, err, errlen);
	*applied = ret == 0;
	if (ret == -EPIPE)
		snprintf(err, errlen, "the probation ended before this change could join it: "
			 "nothing applied");
	snapshot_free(&snap);
	if (ret) {
		/* not applied; or applied but the guardian did not take it, and
		 * closing reverts */
		probation_close(p);
		return ret;
	}
	/* ok MS ID, the touched tables (MS 0: nothing changed) */
	p->deadline_ms = mono_ms() + a.n;
	snprintf(p->id, sizeof(p->id), "%s", a.id ? a.id : "");
	snprintf(p->tables, sizeof(p->tables), "%s", a.text ? a.text : "");
	if (a.n == 0) {
		/* nothing changed: no probation */
		p->outcome = PROB_CONFIRMED;
		snprintf(p->why, sizeof(p->why), "nothing changed");
		probation_close(p);
	}
	return 0;
}

/* ---- after a guardian's death, or a failed revert ---- */

/* "started: 1796107929" as a local date, for a person: every line of
 * text whose key is a time. */
void probation_local_times(char *text, size_t len)
{
	static const char *const keys[] = { "started: ", "deadline: " };
	char *out = malloc(len), *p = text;
	size_t n = 0;

	if (!out)
		return;
	while (*p && n + 1 < len) {
		size_t l = strcspn(p, "\n");
		bool done = false;

		for (size_t k = 0; k < 2 && !done; k++) {
			size_t kl = strlen(keys[k]);
			char *end, when[64];
			long long v;
			time_t t;
			struct tm tm;

			if (strncmp(p, keys[k], kl) != 0)
				continue;
			v = strtoll(p + kl, &end, 10);
			if (end == p + kl || (*end && *end != '\n'))
				continue;
			t = (time_t)v;
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", localtime_r(&t, &tm));
			n += (size_t)snprintf(out + n, len - n, "%s%s%s", keys[k], when,
					      p[l] ? "\n" : "");
			done = true;
		}
		if (!done)
			n += (size_t)snprintf(out + n, len - n, "%.*s%s", (int)l, p, p[l] ? "\n" : "");
		p += l + (p[l] == '\n');
	}
	snprintf(text, len, "%s", out);
	free(out);
}

/* The contents of file name of the run folder dir, into buf ("" if none). */
static void read_run_file(const char *dir, const char *name, char *buf, size_t len)
{
	char path[4200];
	FILE *fp;
	size_t got = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "re");
	if (fp) {
		got = fread(buf, 1, len - 1, fp);
		fclose(fp);
	}
	buf[got] = 0;
}

int prob_write_run_file(const char *dir, const char *name, const char *text, char *err,
			size_t errlen)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return safefile_write(path, text, strlen(text), &(struct safefile_opts){ .mode = 0600 },
			      err, errlen);
}

/* One "key: value" line of text, or "". */
static void field(const char *text, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key);

	buf[0] = 0;
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, kl) == 0 && l[kl] == ':' && l[kl + 1] == ' ') {
			snprintf(buf, len, "%.*s", (int)strcspn(l + kl + 2, "\n"), l + kl + 2);
			return;
		}
}

int probation_status(char *text, size_t len, bool *running, char *err, size_t errlen)
{
	char dir[4096], path[4200], failed[4096], hist[32];
	struct protocol_answer a;
	int ret = request(NULL, REQ_STATUS, NULL, &a, err, errlen);
	size_t n;

	*running = ret == 0;
	if (!ret)
		snprintf(text, len, "%s", a.text ? a.text : "");
	if (ret != -ENOENT)
		return ret;
	ret = state_run_dir(dir, sizeof(dir), err, errlen);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/%s", dir, PROB_RESTORE);
	if (access(path, F_OK) < 0) {
		snprintf(text, len, "probation: none\n");
		return 0;
	}
	read_run_file(dir, PROB_FAILNOTE, failed, sizeof(failed));
	{
		/* a restore point that cannot be read cannot be restored: say so
		 * first, and how to set it aside */
		struct snapshot probe;
		char why[600];

		if (snapfile_load(path, &probe, why, sizeof(why)) == -EINVAL) {
			n = (size_t)snprintf(text, len,
				"probation: DAMAGED RESTORE POINT — %s\n"
				"  nfpilot rollback: cannot restore it\n"
				"  nfpilot confirm:  keep the rules as they are now and set the damaged "
				"file aside (kept beside it, renamed)\n", why);
			if (n < len)
				read_run_file(dir, PROB_INFO, text + n, len - n);
			return 0;
		}
		snapshot_free(&probe);
	}
	if (failed[0]) {
		char tables[600], reason[3000];

		field(failed, "history", hist, sizeof(hist));
		field(failed, "tables", tables, sizeof(tables));
		field(failed, "reason", reason, sizeof(reason));
		n = (size_t)snprintf(text, len,
			"probation: REVERT FAILED — %s did not come back\n"
			"why: %s\n"
			"  nfpilot rollback:         try that revert again (the kernel may take it "
			"now)\n"
			"  nfpilot restore %s --before: put the tables back as they were before the "
			"change, from the history, as a new change on probation (after confirm)\n"
			"  nfpilot confirm:          keep the rules as they are now and drop the "
			"restore point\n", tables, reason, hist[0] ? hist : "N");
	} else {
		/* the guardian is gone but its restore point is left */
		n = (size_t)snprintf(text, len,
			"probation: GUARDIAN GONE — it ended before the probation did (killed?) "
			"and left its restore point\n"
			"  nfpilot rollback: restore the tables below as they were before the change\n"
			"  nfpilot confirm:  keep the rules as they are now and drop the restore point\n");
	}
	if (n < len)
		read_run_file(dir, PROB_INFO, text + n, len - n);
	return 0;
}

int probation_recover(struct nl *nl, bool restore, const char *id, char *err, size_t errlen)
{
	char dir[4096], path[4200], info[4096] = "", failed[4096];
	struct history_entry e = { 0 };
	struct snapshot s, left = { 0 };
	int lockfd, ret, n, *terr = NULL;

	ret = state_run_dir(dir, sizeof(dir), err, errlen);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/%s", dir, PROB_LOCK);
	lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lockfd < 0 || !lock_free(dir, lockfd)) {
		if (lockfd >= 0)
			close(lockfd);
		snprintf(err, errlen, "a guardian is running: ask it (nfpilot status)");
		return -EBUSY;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, PROB_RESTORE);
	if (access(path, F_OK) < 0) {
		close(lockfd);
		snprintf(err, errlen, "no change is on probation");
		return -ENOENT;
	}
	if (id) {
		char had[PROB_ID_MAX];

		read_run_file(dir, PROB_INFO, info, sizeof(info));
		field(info, "id", had, sizeof(had));
		if (strcmp(had, id) != 0) {
			close(lockfd);
			snprintf(err, errlen, "the restore point left behind is of another change "
				 "than %.*s: nothing done (nfpilot status)", PROB_ID_MAX, id);
			return -ESRCH;
		}
	}
	read_run_file(dir, PROB_FAILNOTE, failed, sizeof(failed));
	ret = snapfile_load(path, &s, err, errlen);
	if (ret == -EINVAL && restore) {
		char why[512];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: it cannot be restored; nfpilot confirm sets it aside "
			 "and keeps the rules as they are", why);
	} else if (ret && !restore && ret != -ENOMEM) {
		/* dropping it needs no reading: a damaged one is set aside, kept
		 * for a look (restore.snap.damaged-TIME) */
		char aside[4300];

		snprintf(aside, sizeof(aside), "%s.damaged-%lld", path, (long long)time(NULL));
		if (ret == -EINVAL && rename(path, aside) == 0)
			syslog(LOG_WARNING, "damaged restore point set aside as %s", aside);
		memset(&s, 0, sizeof(s));
		ret = 0;
	}
	if (!ret && restore) {
		terr = calloc(s.ntables + 1, sizeof(*terr));
		ret = terr ? snapshot_restore(nl, &s, 0, SNAP_EACH, terr, err, errlen) : -ENOMEM;
		if (ret == -ENOENT || ret == -EPFNOSUPPORT)
			ret = -EIO; /* the restore failed: not "nothing to restore" */
	}
	if (ret && restore && terr) {
		/* keep what did not come back, for another try */
		char note[4096], tables[600] = "", hist[32];

		left.tables = calloc(s.ntables + 1, sizeof(*left.tables));
		for (size_t i = 0; left.tables && i < s.ntables; i++) {
			size_t l = strlen(tables);

			if (!terr[i])
				continue;
			left.tables[left.ntables++] = s.tables[i];
			snprintf(tables + l, sizeof(tables) - l, "%s%s %s", l ? ", " : "",
				 ruleset_family_name(s.tables[i].family), s.tables[i].name);
		}
		if (left.ntables && left.ntables < s.ntables) {
			char e2[256];

			snapfile_save(&left, path, e2, sizeof(e2));
		}
		field(failed, "history", hist, sizeof(hist));
		snprintf(note, sizeof(note), "history: %s\ntables: %s\nreason: nfpilot rollback "
			 "tried again: %s\n", hist, tables, err);
		{
			char e2[256];

			if (prob_write_run_file(dir, PROB_FAILNOTE, note, e2, sizeof(e2)))
				syslog(LOG_ERR, "%s", e2);
		}
		free(left.tables);
	}
	free(terr);
	if (!ret) {
		read_run_file(dir, PROB_INFO, info, sizeof(info));
		e.when = time(NULL);
		who(e.user, sizeof(e.user), e.from, sizeof(e.from));
		snprintf(e.outcome, sizeof(e.outcome), restore ? "rolled back" : "confirmed");
		snprintf(e.reason, sizeof(e.reason), "%s after %s",
			 restore ? "restored by nfpilot rollback" : "kept by nfpilot confirm",
			 failed[0] ? "the revert had failed" : "the guardian had died");
		snprintf(e.what, sizeof(e.what), "recovery of an unfinished probation");
		field(info, "id", e.id, sizeof(e.id));
		for (size_t i = 0; i < s.ntables; i++) {
			size_t l = strlen(e.tables);

			snprintf(e.tables + l, sizeof(e.tables) - l, "%s%s %s", l ? ", " : "",
				 ruleset_family_name(s.tables[i].family), s.tables[i].name);
		}
		if (history_add(&e, info, &n, err, errlen) == 0 &&
		    history_add_tables(n, &s, NULL, err, errlen) == 0 && restore)
			history_add_handles(nl, n, &s, 0, err, errlen);
		{
			static const char *const files[] = { PROB_RESTORE, PROB_INFO,
							      PROB_FAILNOTE };

			for (size_t i = 0; i < 3; i++) {
				snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
				unlink(path);
			}
		}
	}
	snapshot_free(&s);
	close(lockfd);
	return ret;
}

int probation_restore(struct nl *nl, int n, bool before, struct probation_opts *o,
		      struct probation *p, char *err, size_t errlen)
{
	const char *which = before ? "before.snap" : "after.snap";
	char path[4200], *change = NULL;
	static char what[64];
	struct history_entry e;
	struct snap_id *ids;
	struct snapshot s;
	bool applied;
	int ret;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	ret = history_lookup(n, &e, NULL, err, errlen);
	if (!ret)
		ret = history_load(n, which, &s, err, errlen);
	if (ret)
		return ret;
	/* the guardian restores from that file */
	ret = history_file(n, which, path, sizeof(path), err, errlen);
	if (ret) {
		snapshot_free(&s);
		return ret;
	}
	ids = calloc(s.ntables + 1, sizeof(*ids));
	if (!ids) {
		snapshot_free(&s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < s.ntables; i++)
		ids[i] = (struct snap_id){ s.tables[i].family, s.tables[i].name };
	snprintf(what, sizeof(what), "nfpilot restore %d%s", n, before ? " --before" : "");
	o->what = what;
	if (asprintf(&change, "# %s: the tables of history entry %d as %s it\n", what, n,
		     before ? "before" : "after") < 0)
		change = NULL;
	{
		struct probation_change ch = { .ids = ids, .nids = s.ntables,
					       .kind = CHANGE_RESTORE, .path = path,
					       .text = change };

		ret = probation_apply(nl, &ch, o, p, &applied, err, errlen);
	}
	free(change);
	free(ids);
	snapshot_free(&s);
	return ret;
}
