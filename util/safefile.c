#define _GNU_SOURCE /* mkostemp */
#include "util/safefile.h"
#include "util/grow.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- who may change a file or a folder ---- */

static bool trusted_owner(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* Can anyone but the owner (and root's group) write it? */
static bool others_write(const struct stat *st)
{
	return (st->st_mode & S_IWOTH) || ((st->st_mode & S_IWGRP) && st->st_gid != 0);
}

static void owner_text(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw && pw->pw_name)
		snprintf(buf, len, "uid %u (%s)", (unsigned)uid, pw->pw_name);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
}

/* A folder on the way to where nfpilot writes: 0, or -EPERM with err
 * saying why it is refused. last: the folder the file goes into (there
 * even a sticky folder writable by others is refused). */
static int check_folder(const char *p, const struct stat *st, bool last, char *err,
			size_t errlen)
{
	char who[96];

	if (S_ISLNK(st->st_mode)) {
		snprintf(err, errlen, "%s is a symbolic link: refused (nfpilot follows no link "
			 "among its folders; remove it, or give the real path)", p);
		return -EPERM;
	}
	if (!S_ISDIR(st->st_mode)) {
		snprintf(err, errlen, "%s: %s", p, strerror(ENOTDIR));
		return -ENOTDIR;
	}
	if (!trusted_owner(st->st_uid)) {
		owner_text(st->st_uid, who, sizeof(who));
		snprintf(err, errlen, "%s belongs to %s, not root: refused (that user could put "
			 "anything where nfpilot writes as root)", p, who);
		return -EPERM;
	}
	if (others_write(st) && (last || !(st->st_mode & S_ISVTX))) {
		snprintf(err, errlen, "%s can be written by other users (mode %04o): refused "
			 "(nfpilot writes only where no one but root can change the folder)", p,
			 (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* Call fn on each prefix of the absolute path p: "/", "/etc",
 * "/etc/nftables.d"; last: p itself. Stops at the first nonzero. */
static int each_prefix(const char *p, int (*fn)(const char *pre, bool last, void *arg),
		       void *arg)
{
	size_t n = strlen(p);
	char pre[PATH_MAX];
	int ret = 0;

	if (n >= sizeof(pre))
		return -ENAMETOOLONG;
	for (size_t i = 0; i <= n && !ret; i++) {
		if (i == 1 || (i > 1 && p[i] != '/' && p[i]))
			continue;
		if (i == 0) {
			snprintf(pre, sizeof(pre), "/");
		} else {
			memcpy(pre, p, i);
			pre[i] = 0;
		}
		ret = fn(pre, i == n || (i == 0 && n == 1), arg);
	}
	return ret;
}

struct errbuf {
	char *err;
	size_t errlen;
};

static int check_one(const char *pre, bool last, void *arg)
{
	struct errbuf *e = arg;
	struct stat st;

	if (lstat(pre, &st) < 0) {
		snprintf(e->err, e->errlen, "%s: %s", pre, strerror(errno));
		return -errno;
	}
	return check_folder(pre, &st, last, e->err, e->errlen);
}

/* The path as given: a link on it is as trusted as the folder it is in
 * (checked before it: the walk goes down), and what it leads to is
 * checked with the real path. */
static int check_given(const char *pre, bool last, void *arg)
{
	struct stat st;

	if (lstat(pre, &st) == 0 && S_ISLNK(st.st_mode))
		return 0;
	return check_one(pre, last, arg);
}

int safefile_check_dir(const char *dir, char *err, size_t errlen)
{
	char *real = realpath(dir, NULL), *given = NULL, cwd[PATH_MAX];
	struct errbuf e = { err, errlen };
	int ret;

	if (!real) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return ret;
	}
	/* every folder of the path as given ("/home/u/link/..."), then of the
	 * real one ("/", "/etc", "/etc/nftables.d") */
	if (dir[0] == '/')
		given = strdup(dir);
	else if (getcwd(cwd, sizeof(cwd)) && asprintf(&given, "%s/%s", cwd, dir) < 0)
		given = NULL;
	ret = given ? each_prefix(given, check_given, &e) : -ENOMEM;
	if (!ret)
		ret = each_prefix(real, check_one, &e);
	if (ret == -ENAMETOOLONG)
		snprintf(err, errlen, "%s: %s", dir, strerror(ENAMETOOLONG));
	free(given);
	free(real);
	return ret;
}

/* ---- writing ---- */

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The file nfpilot is about to replace: 0 if it may (or is not there:
 * *exists false), -EPERM with err if refused. */
static int check_target(const char *path, struct stat *st, bool *exists, char *err,
			size_t errlen)
{
	char who[96];

	*exists = false;
	if (lstat(path, st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	*exists = true;
	if (S_ISLNK(st->st_mode)) {
		char to[PATH_MAX];
		ssize_t n = readlink(path, to, sizeof(to) - 1);

		to[n > 0 ? n : 0] = 0;
		snprintf(err, errlen, "%s is a symbolic link%s%s: refused (nfpilot never writes "
			 "through a link; give the file itself)", path, n > 0 ? " to " : "", to);
		return -EPERM;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s is not a regular file: refused", path);
		return -EPERM;
	}
	if (!trusted_owner(st->st_uid)) {
		owner_text(st->st_uid, who, sizeof(who));
		snprintf(err, errlen, "%s belongs to %s, not root: refused (chown root it, or "
			 "remove it, first)", path, who);
		return -EPERM;
	}
	if (others_write(st)) {
		snprintf(err, errlen, "%s can be written by other users (mode %04o): refused "
			 "(chmod go-w it first: what it held may not be what root saved)", path,
			 (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* The file at path as it is now (the one checked: same inode), for the
 * backup. malloc'd in *buf. 0 or -errno. */
static int read_old(const char *path, const struct stat *was, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	size_t cap, n = 0;
	int ret = 0;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_ino != was->st_ino || st.st_dev != was->st_dev ||
	    !S_ISREG(st.st_mode)) {
		close(fd);
		return -ESTALE; /* replaced meanwhile: not the file that was checked */
	}
	cap = (size_t)st.st_size + 1;
	*buf = malloc(cap);
	while (*buf && !ret) {
		ssize_t got = read(fd, *buf + n, cap - n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			ret = -errno;
		} else if (got == 0) {
			break;
		} else if ((n += (size_t)got) == cap) {
			ret = grow(buf, &cap, cap + 1, 1, 0);
		}
	}
	if (!*buf)
		ret = -ENOMEM;
	close(fd);
	if (ret) {
		free(*buf);
		*buf = NULL;
	}
	*len = n;
	return ret;
}

static void fsync_dir(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
}

/* A stream onto the temporary file that keeps the first write error's
 * errno: stdio's own error flag does not say which it was. */
struct sink {
	int fd;
	int err;
};

static ssize_t sink_write(void *cookie, const char *buf, size_t len)
{
	struct sink *k = cookie;
	int ret;

	if (k->err)
		return -1;
	ret = write_all(k->fd, buf, len);
	if (ret) {
		k->err = ret;
		errno = -ret;
		return -1;
	}
	return (ssize_t)len;
}

struct writer {
	/* the whole content at once ... */
	const void *data;
	size_t len;
	/* ... or written by fn to a stream */
	int (*fn)(FILE *fp, void *arg);
	void *arg;
};

static int put_content(int fd, const struct writer *w)
{
	struct sink k = { fd, 0 };
	cookie_io_functions_t io = { .write = sink_write };
	FILE *fp;
	int ret;

	if (!w->fn)
		return write_all(fd, w->data, w->len);
	fp = fopencookie(&k, "w", io);
	if (!fp)
		return -ENOMEM;
	ret = w->fn(fp, w->arg);
	if (fclose(fp) != 0 && !k.err && !ret)
		ret = -EIO;
	return k.err ? k.err : ret;
}

static int write_file(const char *path, const struct writer *w, const struct safefile_opts *o,
		      char *err, size_t errlen);

int safefile_write(const char *path, const void *data, size_t len,
		   const struct safefile_opts *o, char *err, size_t errlen)
{
	struct writer w = { .data = data, .len = len };

	return write_file(path, &w, o, err, errlen);
}

int safefile_write_stream(const char *path, int (*fn)(FILE *fp, void *arg), void *arg,
			  const struct safefile_opts *o, char *err, size_t errlen)
{
	struct writer w = { .fn = fn, .arg = arg };

	return write_file(path, &w, o, err, errlen);
}

static int write_file(const char *path, const struct writer *w, const struct safefile_opts *o,
		      char *err, size_t errlen)
{
	char *copy = strdup(path), *slash, *dir = NULL, *full = NULL, *tmp = NULL;
	const char *base;
	struct stat st;
	bool exists;
	int fd = -1, ret;

	if (errlen)
		err[0] = 0;
	if (!copy)
		return -ENOMEM;
	if (o->mode & ~(mode_t)SAFEFILE_MODE_MAX) {
		snprintf(err, errlen, "mode %04o for %s: refused (at most %04o: no set-id bits, "
			 "nobody but the owner writes)", (unsigned)o->mode, path, SAFEFILE_MODE_MAX);
		free(copy);
		return -EINVAL;
	}
	slash = strrchr(copy, '/');
	base = slash ? slash + 1 : copy;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		snprintf(err, errlen, "%s: not a file name", path);
		free(copy);
		return -EINVAL;
	}
	if (slash)
		*slash = 0;
	ret = safefile_check_dir(slash == copy ? "/" : slash ? copy : ".", err, errlen);
	if (!ret && !(dir = realpath(slash == copy ? "/" : slash ? copy : ".", NULL))) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (ret) {
		free(copy);
		return ret;
	}
	if (asprintf(&full, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", base) < 0)
		full = NULL;
	if (asprintf(&tmp, "%s%s.%s.nfpilot-XXXXXX", dir, strcmp(dir, "/") ? "/" : "", base) < 0)
		tmp = NULL;
	if (!full || !tmp)
		ret = -ENOMEM;
	if (!ret)
		ret = check_target(full, &st, &exists, err, errlen);
	/* a fresh file nobody else can have opened or linked: O_EXCL, mode 0600 */
	if (!ret && (fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		ret = -errno;
		snprintf(err, errlen, "a temporary file in %s: %s", dir, strerror(errno));
		free(tmp);
		tmp = NULL;
	}
	if (fd >= 0) {
		if ((ret = put_content(fd, w)) == 0 && fchmod(fd, o->mode) < 0)
			ret = -errno;
		if (!ret && fsync(fd) < 0)
			ret = -errno;
		if (close(fd) < 0 && !ret)
			ret = -errno;
		if (ret && (!w->fn || !err[0] || ret == -ENOSPC || ret == -EIO))
			snprintf(err, errlen, "writing %s: %s", full, strerror(-ret));
	}
	if (!ret && o->check)
		ret = o->check(tmp, o->arg, err, errlen);
	if (!ret && exists && o->backup) {
		/* FILE.bak: a copy of what is replaced, written as safely */
		struct safefile_opts bo = { .mode = o->mode };
		char *old, *bak = NULL, berr[1024] = "";
		size_t olen;

		ret = read_old(full, &st, &old, &olen);
		if (ret)
			snprintf(berr, sizeof(berr), "reading %s: %s", full, strerror(-ret));
		else if (asprintf(&bak, "%s.bak", full) < 0)
			ret = -ENOMEM;
		else
			ret = safefile_write(bak, old, olen, &bo, berr, sizeof(berr));
		if (ret)
			snprintf(err, errlen, "keeping the previous file as .bak: %s (nothing "
				 "written)", berr[0] ? berr : strerror(-ret));
		free(old);
		free(bak);
	}
	if (!ret && rename(tmp, full) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", full, strerror(errno));
	}
	if (tmp && ret)
		unlink(tmp);
	if (!ret)
		fsync_dir(dir); /* the rename itself on disk */
	free(copy);
	free(dir);
	free(full);
	free(tmp);
	return ret;
}

/* ---- nfpilot's own folders ---- */

struct mkdirs {
	size_t oursl;           /* from this length on, the folders are nfpilot's */
	mode_t mode;
	struct errbuf e;
};

static int mkdir_one(const char *p, bool last, void *arg)
{
	struct mkdirs *m = arg;
	char *err = m->e.err;
	size_t errlen = m->e.errlen;
	struct stat st;
	bool made = false, mine;
	int ret;

	if (lstat(p, &st) < 0 && errno == ENOENT) {
		if (mkdir(p, m->mode) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", p, strerror(errno));
			return -errno;
		}
		made = true;
	}
	if (lstat(p, &st) < 0) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		return -errno;
	}
	mine = made || strlen(p) >= m->oursl;
	/* nfpilot's own may be loose (it tightens them), never foreign */
	if (mine && S_ISDIR(st.st_mode) && trusted_owner(st.st_uid))
		ret = 0;
	else
		ret = check_folder(p, &st, last && !mine, err, errlen);
	if (ret) {
		if (mine)
			snprintf(err + strlen(err), errlen - strlen(err),
				 "; if nfpilot should use it, remove it (rm -r %s) and try again", p);
		return ret;
	}
	if (mine && (st.st_mode & 07777 & ~m->mode)) {
		/* root's own, loosened: nobody else may look in */
		int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		ret = fd < 0 || fchmod(fd, m->mode) < 0 ? -errno : 0;
		if (ret)
			snprintf(err, errlen, "%s: %s", p, strerror(-ret));
		if (fd >= 0)
			close(fd);
	}
	return ret;
}

int safefile_mkdirs(const char *path, const char *ours, mode_t mode, char *err,
		    size_t errlen)
{
	struct mkdirs m = { .mode = mode, .e = { err, errlen } };
	int ret;

	if (path[0] != '/' || (ours && ours[0] != '/')) {
		snprintf(err, errlen, "%s: not an absolute path", ours && ours[0] != '/' ? ours : path);
		return -EINVAL;
	}
	m.oursl = ours ? strlen(ours) : strlen(path);
	while (ours && m.oursl > 1 && ours[m.oursl - 1] == '/')
		m.oursl--;
	ret = each_prefix(path, mkdir_one, &m);
	if (ret == -ENAMETOOLONG)
		snprintf(err, errlen, "%s: %s", path, strerror(ENAMETOOLONG));
	return ret;
}
