#define _GNU_SOURCE
#include "probation.h"

#include "batch.h"
#include "history.h"
#include "snapfile.h"
#include "state.h"
#include "model/ruleset.h"

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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ANSWER_MS 120000   /* a narrowing of 100k rules takes seconds */
#define GUARDIAN_START_MS 60000 /* it reads and proves the restore point */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t probation_left_ms(const struct probation *p)
{
	int64_t left = p->deadline_ms - mono_ms();

	return left > 0 ? left : 0;
}

/* ---- talking to the guardian ---- */

static int connect_guardian(const char *dir, int *fd, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int s;

	if (state_socket_addr(dir, PROB_SOCK, &sa)) {
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
	*fd = s;
	return 0;
}

/* What the guardian says on its own: the end, or a new deadline. */
static void note(struct probation *p, const char *msg)
{
	if (!p)
		return;
	if (strncmp(msg, "deadline ", 9) == 0) {
		p->deadline_ms = mono_ms() + strtoll(msg + 9, NULL, 10);
	} else if (strncmp(msg, "end ", 4) == 0) {
		const char *nl = strchr(msg, '\n');
		const char *num = strchr(msg + 4, ' ');

		p->outcome = strncmp(msg + 4, "confirmed", 9) == 0 ? PROB_CONFIRMED
			     : strncmp(msg + 4, "reverted", 8) == 0 ? PROB_REVERTED : PROB_FAILED;
		p->history_n = num ? atoi(num + 1) : 0;
		snprintf(p->why, sizeof(p->why), "%s", nl ? nl + 1 : "");
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

/* Send req and wait for its answer ("ok ..." or "err ..."), noting what
 * else the guardian says meanwhile. 0 with reply = the answer after
 * "ok", or -EPERM with err = the refusal. */
static int call(struct probation *p, int fd, const char *req, char *reply, size_t len,
		char *err, size_t errlen)
{
	static char buf[PROB_MSG_MAX + 1];

	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		snprintf(err, errlen, "the guardian is gone (%s)", strerror(errno));
		return -EPIPE;
	}
	for (;;) {
		ssize_t n = receive(fd, buf, sizeof(buf), ANSWER_MS);

		if (n <= 0) {
			snprintf(err, errlen, "the guardian did not answer%s",
				 p && p->outcome != PROB_RUNNING ? ": the probation ended" : "");
			return n == 0 ? -EPIPE : (int)n;
		}
		if (strncmp(buf, "ok", 2) == 0) {
			if (reply)
				snprintf(reply, len, "%s", buf[2] ? buf + 3 : "");
			return 0;
		}
		if (strncmp(buf, "err ", 4) == 0) {
			snprintf(err, errlen, "%s", buf + 4);
			return -EPERM;
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

int probation_send(struct probation *p, const char *cmd, char *reply, size_t replylen,
		   char *err, size_t errlen)
{
	char dir[4096];
	int fd, ret;

	if (p && p->fd >= 0) {
		char ans[64];

		ret = call(p, p->fd, cmd, ans, sizeof(ans), err, errlen);
		if (reply)
			snprintf(reply, replylen, "%s", ans);
		/* a holder hears the end before the answer; should it not have,
		 * the answer says it as well */
		if (!ret && p->outcome == PROB_RUNNING &&
		    (strcmp(cmd, "confirm") == 0 || strcmp(cmd, "rollback") == 0)) {
			bool yes = strcmp(cmd, "confirm") == 0;

			p->outcome = yes ? PROB_CONFIRMED : PROB_REVERTED;
			p->history_n = atoi(ans);
			snprintf(p->why, sizeof(p->why), "%s", yes ? "confirmed" : "rolled back");
		}
		return ret;
	}
	ret = state_run_dir(dir, sizeof(dir), err, errlen);
	if (!ret)
		ret = connect_guardian(dir, &fd, err, errlen);
	if (ret)
		return ret;
	ret = call(p, fd, cmd, reply, replylen, err, errlen);
	close(fd);
	return ret;
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

/* Start the guardian: detached twice over (own session, not our child),
 * holding the lock; back when it listens. */
static int spawn(const char *dir, int lockfd, const struct probation_opts *o, int timeout,
		 struct probation *p, char *err, size_t errlen)
{
	char exe[4096], fdarg[16], tmo[16], user[64], from[128], said[2100];
	char *argv[11];
	int pipefd[2], status;
	ssize_t n;
	pid_t pid;
	char c = 0;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot start the guardian: %s", strerror(errno));
		return -errno;
	}
	exe[n] = 0;
	who(user, sizeof(user), from, sizeof(from));
	snprintf(fdarg, sizeof(fdarg), "%d", pipefd[1]);
	snprintf(tmo, sizeof(tmo), "%d", timeout);
	argv[0] = "nfpilot";
	argv[1] = "guardian";
	argv[2] = (char *)dir;
	argv[3] = fdarg;
	argv[4] = tmo;
	argv[5] = o->strict ? "1" : "0";
	argv[6] = user;
	argv[7] = from;
	argv[8] = (char *)(o->what ? o->what : "nfpilot");
	argv[9] = o->force ? "1" : "0";
	argv[10] = NULL;
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "cannot start the guardian: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return -EAGAIN;
	}
	if (pid == 0) {
		if (fork() == 0) {
			setsid();
			/* nothing of ours but the lock and the pipe */
			close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
			fcntl(lockfd, F_SETFD, 0);
			fcntl(pipefd[1], F_SETFD, 0);
			execv(exe, argv);
			_exit(127);
		}
		_exit(0);
	}
	waitpid(pid, &status, 0);
	close(pipefd[1]);
	/* R: ready; F: ready, forced past a restore point the kernel refused;
	 * X: not started, the kernel refused the restore point, and why;
	 * E: not started, and why */
	n = 0;
	{
		struct pollfd pfd = { pipefd[0], POLLIN, 0 };

		if (poll(&pfd, 1, GUARDIAN_START_MS) > 0)
			n = read(pipefd[0], said, sizeof(said) - 1);
	}
	close(pipefd[0]);
	said[n > 0 ? n : 0] = 0;
	c = said[0];
	if (c == 'F')
		snprintf(p->refused, sizeof(p->refused), "%.1000s", said + 1);
	if ((c == 'E' || c == 'X') && said[1]) {
		snprintf(err, errlen, "%s", said + 1);
		return c == 'X' ? -ENOTRECOVERABLE : -EINVAL;
	}
	if (c != 'R' && c != 'F') {
		snprintf(err, errlen, "the guardian did not start (see syslog): nothing applied");
		return -ECHILD;
	}
	return 0;
}

static int leftover(const char *dir, char *err, size_t errlen)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, PROB_RESTORE);
	if (access(path, F_OK) == 0) {
		snprintf(path, sizeof(path), "%s/%s", dir, PROB_FAILNOTE);
		snprintf(err, errlen, "%s: nfpilot status shows it; nfpilot rollback tries the "
			 "revert again, nfpilot confirm keeps the rules as they are. Nothing "
			 "applied", access(path, F_OK) == 0
			 ? "the revert of the last probation failed and left its restore point"
			 : "a previous probation's guardian ended before finishing and left its "
			   "restore point");
		return -EEXIST;
	}
	return 0;
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

/* The guardian commits ch->batch: written to a file of the run folder,
 * then "commit PATH\nCHANGE". 0 with the answer in reply; -errno with err
 * and *ch->failed_tag when the kernel refused the change. */
static int commit_by_guardian(struct probation *p, const char *dir,
			      const struct probation_change *ch, char *reply, size_t len,
			      char *err, size_t errlen)
{
	char path[4200], *msg = NULL;
	int fd, ret;

	*ch->failed_tag = -1;
	snprintf(path, sizeof(path), "%s/change-%d.batch", dir, (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	ret = batch_save(ch->batch, fd, err, errlen);
	if (close(fd) < 0 && !ret)
		ret = -EIO;
	if (!ret && asprintf(&msg, "commit %s\n%s", path, ch->text ? ch->text : "") < 0)
		ret = -ENOMEM;
	if (!ret)
		ret = call(p, p->fd, msg, reply, len, err, errlen);
	free(msg);
	unlink(path);
	/* refused by the kernel: "err batch ERRNO SEQ REASON" */
	if (ret == -EPERM && strncmp(err, "batch ", 6) == 0) {
		char *q;
		long e = strtol(err + 6, &q, 10);
		unsigned long seq = strtoul(q, &q, 10);

		*ch->failed_tag = batch_tag(ch->batch, (uint32_t)seq);
		ret = e < 0 ? (int)e : -EIO;
		memmove(err, q + (*q == ' '), strlen(q + (*q == ' ')) + 1);
	}
	return ret;
}

/* fn makes the change itself; the guardian hears whether it went in. */
static int change_by_fn(struct probation *p, struct nl *nl, const struct probation_change *ch,
			uint32_t genid, bool *applied, char *reply, size_t len, char *err,
			size_t errlen)
{
	int fret = ch->fn(nl, ch->arg, genid, err, errlen), ret;
	char *msg = NULL;

	*applied = fret == 0;
	if (asprintf(&msg, "applied %d\n%s", fret == 0, ch->text ? ch->text : "") < 0)
		msg = NULL;
	if (fret && p->joined) /* the probation goes on without this change */
		call(p, p->fd, "release", NULL, 0, err + strlen(err), 0);
	ret = msg ? call(p, p->fd, msg, reply, len, fret ? NULL : err, fret ? 0 : errlen)
		  : -ENOMEM;
	free(msg);
	return fret ? fret : ret;
}

int probation_apply(struct nl *nl, struct probation_change *ch, const struct probation_opts *o,
		    struct probation *p, bool *applied, char *err, size_t errlen)
{
	char dir[4096], path[4200], reply[PROB_MSG_MAX], hold[64];
	int timeout = o->timeout_s ? o->timeout_s : PROBATION_TIMEOUT_DEFAULT;
	struct snapshot snap = { 0 };
	int lockfd, ret;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	*applied = false;
	if (timeout < PROBATION_TIMEOUT_MIN)
		timeout = PROBATION_TIMEOUT_MIN;
	if (timeout > PROBATION_TIMEOUT_MAX)
		timeout = PROBATION_TIMEOUT_MAX;
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
	lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
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
			ret = spawn(dir, lockfd, o, timeout, p, err, errlen);
			if (ret)
				unlink(path);
		}
		close(lockfd); /* the guardian has it now */
		if (!ret)
			ret = connect_guardian(dir, &p->fd, err, errlen);
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
		if (!ret) {
			char req[4300];

			snprintf(req, sizeof(req), "join %s%s", path, o->force ? " force" : "");
			ret = call(p, p->fd, req, reply, sizeof(reply), err, errlen);
			if (ret == -EPERM && strncmp(err, "refused: ", 9) == 0) {
				memmove(err, err + 9, strlen(err + 9) + 1);
				ret = -ENOTRECOVERABLE;
			}
			if (!ret && strncmp(reply, "refused ", 8) == 0)
				snprintf(p->refused, sizeof(p->refused), "%.1000s", reply + 8);
		}
	}
	snprintf(hold, sizeof(hold), "hold %d%s%s", (int)getpid(), o->strict ? " strict" : "",
		 o->detach ? " detach" : "");
	if (!ret)
		ret = call(p, p->fd, hold, NULL, 0, err, errlen);
	if (ret) {
		snapshot_free(&snap);
		probation_close(p);
		return ret;
	}
	p->strict = o->strict;
	if (ch->batch) {
		ret = commit_by_guardian(p, dir, ch, reply, sizeof(reply), err, errlen);
		*applied = ret == 0;
	} else {
		ret = change_by_fn(p, nl, ch, snap.genid, applied, reply, sizeof(reply), err, errlen);
	}
	snapshot_free(&snap);
	if (ret) {
		/* not applied; or applied but the guardian did not take it, and
		 * closing reverts */
		probation_close(p);
		return ret;
	}
	p->deadline_ms = mono_ms() + strtoll(reply, NULL, 10);
	snprintf(p->tables, sizeof(p->tables), "%s",
		 strchr(reply, '\n') ? strchr(reply, '\n') + 1 : "");
	if (strtoll(reply, NULL, 10) == 0) {
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
static void local_times(char *text, size_t len)
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
	int ret = probation_send(NULL, "status", text, len, err, errlen);
	size_t n;

	*running = ret == 0;
	if (ret != -ENOENT) {
		if (!ret)
			local_times(text, len);
		return ret;
	}
	ret = state_run_dir(dir, sizeof(dir), err, errlen);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/%s", dir, PROB_RESTORE);
	if (access(path, F_OK) < 0) {
		snprintf(text, len, "probation: none\n");
		return 0;
	}
	read_run_file(dir, PROB_FAILNOTE, failed, sizeof(failed));
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
	local_times(text, len);
	return 0;
}

int probation_recover(struct nl *nl, bool restore, char *err, size_t errlen)
{
	char dir[4096], path[4200], info[4096] = "", failed[4096];
	struct history_entry e = { 0 };
	struct snapshot s, left = { 0 };
	int lockfd, ret, n, *terr = NULL;

	ret = state_run_dir(dir, sizeof(dir), err, errlen);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/%s", dir, PROB_LOCK);
	lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
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
	read_run_file(dir, PROB_FAILNOTE, failed, sizeof(failed));
	ret = snapfile_load(path, &s, err, errlen);
	if (ret && !restore && ret != -ENOMEM) {
		/* dropping it needs no reading: a damaged one goes too */
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
		snprintf(path, sizeof(path), "%s/%s", dir, PROB_FAILNOTE);
		{
			FILE *fp = fopen(path, "we");

			if (fp) {
				fputs(note, fp);
				fclose(fp);
			}
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
		for (size_t i = 0; i < s.ntables; i++) {
			size_t l = strlen(e.tables);

			snprintf(e.tables + l, sizeof(e.tables) - l, "%s%s %s", l ? ", " : "",
				 ruleset_family_name(s.tables[i].family), s.tables[i].name);
		}
		if (history_add(&e, info, &s, NULL, &n, err, errlen) == 0 && restore)
			history_add_handles(nl, n, &s, err, errlen);
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
