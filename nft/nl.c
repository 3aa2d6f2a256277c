#define _GNU_SOURCE /* setns */
#include "nft/nl.h"
#include "util/errmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int nl_open(struct nl *nl, char *err, size_t errlen)
{
	memset(nl, 0, sizeof(*nl));
	nl->buf = calloc(1, NL_RECV_SIZE); /* a request never sends uninitialised padding */
	if (!nl->buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	nl->sock = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl->sock || mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = -errno;

		snprintf(err, errlen, "%s", nl_strerror(e));
		nl_close(nl);
		return e;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	/* is nf_tables there at all? (the kernel answers a missing netlink
	 * subsystem with EOPNOTSUPP, the same word as for a refused feature) */
	{
		uint32_t genid;
		int e = nl_genid(nl, &genid);

		if (e == -EOPNOTSUPP || e == -EPROTONOSUPPORT || e == -EAFNOSUPPORT)
			e = -EPFNOSUPPORT;
		if (e) {
			snprintf(err, errlen, "%s", nl_strerror(e));
			nl_close(nl);
			return e;
		}
	}
	return 0;
}

void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->buf);
	memset(nl, 0, sizeof(*nl));
}

struct nlmsghdr *nl_request(struct nl *nl, uint16_t type, uint16_t family,
			    uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(nl->buf, type, family, flags, ++nl->seq);
}

/* Whether buf (n bytes received) holds the end of the answer to seq: its
 * NLMSG_DONE or NLMSG_ERROR (an ACK too). */
static bool answer_ends(const char *buf, ssize_t n, uint32_t seq)
{
	int left = (int)n;

	for (const struct nlmsghdr *nlh = (const void *)buf; mnl_nlmsg_ok(nlh, left);
	     nlh = mnl_nlmsg_next(nlh, &left))
		if (nlh->nlmsg_seq == seq &&
		    (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR))
			return true;
	return false;
}

int nl_talk(struct nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	uint32_t seq = req->nlmsg_seq;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, NL_RECV_SIZE);
		if (n < 0)
			return -errno;
		errno = 0;
		ret = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, data);
		if (ret <= 0)
			break;
	}
	if (ret < 0) {
		int e = errno ? -errno : -EIO;

		/* drain the rest of a dump cut short (interrupted: the ruleset
		 * changed meanwhile, NLM_F_DUMP_INTR; or a callback failed) so
		 * the socket stays usable: up to its end, which may have come
		 * in the buffer that failed already (then a receive would wait
		 * for ever: a guardian's snapshot hung so) */
		if ((e == -EINTR || e == -ENOMEM || e == -ENOBUFS) && !answer_ends(nl->buf, n, seq))
			while ((n = mnl_socket_recvfrom(nl->sock, nl->buf, NL_RECV_SIZE)) > 0 &&
			       !answer_ends(nl->buf, n, seq))
				;
		return e;
	}
	return 0;
}

int nl_open_nonblock(struct nl *nl)
{
	char err[128];
	int ret = nl_open(nl, err, sizeof(err));

	if (!ret && fcntl(mnl_socket_get_fd(nl->sock), F_SETFL, O_NONBLOCK) < 0) {
		ret = -errno;
		nl_close(nl);
	}
	return ret;
}

int nl_recv_slice(struct nl *nl, uint32_t seq, mnl_cb_t cb, void *data)
{
	int ret = (int)mnl_socket_recvfrom(nl->sock, nl->buf, NL_RECV_SIZE);

	if (ret < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -errno;
	errno = 0;
	ret = mnl_cb_run(nl->buf, (size_t)ret, seq, nl->portid, cb, data);
	if (ret > 0)
		return 1;
	return ret < 0 ? (errno ? -errno : -EIO) : 0;
}

static int genid_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *gen = nftnl_gen_alloc();

	if (!gen)
		return MNL_CB_ERROR;
	if (nftnl_gen_nlmsg_parse(nlh, gen) == 0)
		*(uint32_t *)data = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
	nftnl_gen_free(gen);
	return MNL_CB_OK;
}

int nl_genid(struct nl *nl, uint32_t *genid)
{
	struct nlmsghdr *req = nl_request(nl, NFT_MSG_GETGEN, NFPROTO_UNSPEC, NLM_F_ACK);

	return nl_talk(nl, req, genid_cb, genid);
}

/* root refused: the privilege is there, the kernel said no */
#define NL_REFUSED "operation not permitted: the kernel refused it (a table owned by " \
		   "another process can be changed only by that process)"
#define NL_NOMEM "out of memory reading the ruleset"

static const struct errmsg nl_errors[] = {
	{ EPERM, NL_REFUSED },
	{ EACCES, NL_REFUSED },
	{ EPFNOSUPPORT, "nf_tables is not available in this kernel (try: modprobe nf_tables)" },
	{ EOPNOTSUPP, "not supported by this kernel" },
	{ EAFNOSUPPORT, "address family not supported by this kernel's nf_tables" },
	{ ENOENT, "no such table, chain or set" },
	{ EINTR, "the ruleset kept changing while it was read; try again" },
	{ ENOBUFS, NL_NOMEM },
	{ ENOMEM, NL_NOMEM },
	{ 0 }
};

const char *nl_strerror(int err)
{
	return errmsg_get(nl_errors, err);
}

int nl_enter_netns(const char *name, char *err, size_t errlen)
{
	char path[300];
	int fd, e;

	if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		snprintf(err, errlen, "invalid network namespace name '%s'", name);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT)
			snprintf(err, errlen, "no network namespace '%s' (see: ip netns list)", name);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		e = errno;
		close(fd);
		if (e == EPERM && geteuid() != 0)
			snprintf(err, errlen, "cannot enter namespace '%s': permission denied "
				 "(nfpilot needs root)", name);
		else
			snprintf(err, errlen, "cannot enter namespace '%s': %s", name, strerror(e));
		return -e;
	}
	close(fd);
	return 0;
}
