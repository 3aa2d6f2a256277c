#include "conntrack/ct_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SYSDIR "/proc/sys/net/netfilter/"

static int read_ulong(const char *name, unsigned long *v)
{
	char buf[64], *end;
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[n] = 0;
	errno = 0;
	*v = strtoul(buf, &end, 10);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

int ct_sys_read(struct ct_sys *s, char *err, size_t errlen)
{
	static const char *const names[] = {
		"nf_conntrack_count", "nf_conntrack_max", "nf_conntrack_acct",
		"nf_conntrack_timestamp", "nf_conntrack_tcp_loose",
	};
	unsigned long v[5] = { 0 };

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 5; i++) {
		char path[128];
		int ret;

		snprintf(path, sizeof(path), SYSDIR "%s", names[i]);
		ret = read_ulong(path, &v[i]);
		if (ret && i < 2) {
			snprintf(err, errlen, "%s: %s%s", path, strerror(-ret),
				 ret == -ENOENT ? " (connection tracking is not loaded)" : "");
			return ret;
		}
	}
	s->count = v[0];
	s->max = v[1];
	s->acct = v[2] != 0;
	s->timestamp = v[3] != 0;
	s->tcp_loose = v[4] != 0;
	return 0;
}

static int write_bool(const char *name, bool on, char *err, size_t errlen)
{
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), SYSDIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, on ? "1\n" : "0\n", 2) != 2)
		ret = -errno;
	if (fd >= 0)
		close(fd);
	if (ret)
		snprintf(err, errlen, "cannot set %s: %s", path, strerror(-ret));
	return ret;
}

int ct_sys_set_acct(bool on, char *err, size_t errlen)
{
	return write_bool("nf_conntrack_acct", on, err, errlen);
}

int ct_sys_set_timestamp(bool on, char *err, size_t errlen)
{
	return write_bool("nf_conntrack_timestamp", on, err, errlen);
}

bool ct_sys_near_full(const struct ct_sys *s)
{
	return s->max && s->count * 10 >= s->max * 9;
}
