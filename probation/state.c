#include "probation/state.h"

#include "util/safefile.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>

void state_ns_key(char *buf, size_t len, bool inode)
{
	struct stat self, init, st;
	DIR *d;
	struct dirent *e;

	if (stat("/proc/self/ns/net", &self) < 0) {
		snprintf(buf, len, "host");
		return;
	}
	if (stat("/proc/1/ns/net", &init) == 0 && init.st_ino == self.st_ino &&
	    init.st_dev == self.st_dev) {
		snprintf(buf, len, "host");
		return;
	}
	/* as `ip netns identify`: the name under /run/netns bound to it */
	d = opendir("/run/netns");
	while (d && (e = readdir(d))) {
		char path[300];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", e->d_name);
		if (stat(path, &st) == 0 && st.st_ino == self.st_ino && st.st_dev == self.st_dev) {
			if (inode)
				snprintf(buf, len, "netns-%s.%lu", e->d_name,
					 (unsigned long)self.st_ino);
			else
				snprintf(buf, len, "netns-%s", e->d_name);
			closedir(d);
			return;
		}
	}
	if (d)
		closedir(d);
	snprintf(buf, len, "ns-%lu", (unsigned long)self.st_ino);
}

bool state_ns_name(char *buf, size_t len)
{
	char key[300];

	state_ns_key(key, sizeof(key), false);
	if (strcmp(key, "host") == 0) {
		snprintf(buf, len, "%s", "");
		return false;
	}
	snprintf(buf, len, "%s", strncmp(key, "netns-", 6) == 0 ? key + 6 : key);
	return true;
}

int state_mkdirs(const char *path, unsigned mode)
{
	char err[256];

	return safefile_mkdirs(path, path, (mode_t)mode, err, sizeof(err));
}

/* The root folder (NFPILOT_RUN_DIR, NFPILOT_LIB_DIR or the default) and
 * this namespace's folder under it. */
static const char *root_of(const char *env, const char *dflt)
{
	const char *root = getenv(env);

	return root && *root ? root : dflt;
}

static void path_under(const char *env, const char *dflt, bool inode, char *buf, size_t len)
{
	char key[300];

	state_ns_key(key, sizeof(key), inode);
	snprintf(buf, len, "%s/%s", root_of(env, dflt), key);
}

void state_run_path(char *buf, size_t len)
{
	path_under("NFPILOT_RUN_DIR", "/run/nfpilot", true, buf, len);
}

/* Every folder from / down is lstat'ed: the root folder and the
 * namespace's are root's own, mode 0700, never a link (made so if
 * missing, tightened if looser); one another user made or owns is
 * refused — it could hold a socket that answers as the guardian. */
static int dir_under(const char *env, const char *dflt, bool inode, char *buf, size_t len,
		     char *err, size_t errlen)
{
	const char *root = root_of(env, dflt);
	int ret;

	if (root[0] != '/') {
		snprintf(err, errlen, "%s=%s: not an absolute path", env, root);
		return -EINVAL;
	}
	path_under(env, dflt, inode, buf, len);
	ret = safefile_mkdirs(buf, root, 0700, err, errlen);
	if (ret == -EPERM) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, " (nfpilot trusts only a %s folder root made)",
			 strcmp(dflt, "/run/nfpilot") == 0 ? "run" : "state");
	}
	return ret;
}

int state_run_dir(char *buf, size_t len, char *err, size_t errlen)
{
	return dir_under("NFPILOT_RUN_DIR", "/run/nfpilot", true, buf, len, err, errlen);
}

int state_lib_dir(char *buf, size_t len, char *err, size_t errlen)
{
	return dir_under("NFPILOT_LIB_DIR", "/var/lib/nfpilot", false, buf, len, err, errlen);
}

int state_socket_addr(const char *dir, const char *name, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(dir) + 1 + strlen(name) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, dir);
	strcat(sa->sun_path, "/");
	strcat(sa->sun_path, name);
	return 0;
}
