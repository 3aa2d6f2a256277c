#include "batch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/batch.h>
#include <libnftnl/common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef NFNL_BATCH_GENID
#define NFNL_BATCH_GENID 1
#endif

/* A batch page, and room for the largest message past its end (a set
 * element message can reach 64 KiB), as nft sizes them. */
#define BATCH_PAGE (4096 * 32)
#define BATCH_OVERRUN (65536 + 4096)

static int tag_add(struct batch *b, int tag)
{
	if (b->ntags == b->tags_cap) {
		size_t cap = b->tags_cap ? b->tags_cap * 2 : 256;
		int *t = realloc(b->tags, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		b->tags = t;
		b->tags_cap = cap;
	}
	b->tags[b->ntags++] = tag;
	return 0;
}

static void advance(struct batch *b, int tag)
{
	if (nftnl_batch_update(b->b) < 0 || tag_add(b, tag) < 0)
		b->err = -ENOMEM;
	b->seq++;
}

int batch_open(struct batch *b, uint32_t guard)
{
	struct nlmsghdr *nlh;

	memset(b, 0, sizeof(*b));
	b->b = nftnl_batch_alloc(BATCH_PAGE, BATCH_OVERRUN);
	if (!b->b)
		return -ENOMEM;
	b->first_seq = b->seq = (uint32_t)time(NULL) << 8;
	nlh = nftnl_batch_begin(nftnl_batch_buffer(b->b), b->seq);
	if (guard)
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(guard));
	advance(b, -1);
	return b->err;
}

void batch_free(struct batch *b)
{
	if (b->b)
		nftnl_batch_free(b->b);
	free(b->tags);
	memset(b, 0, sizeof(*b));
}

struct nlmsghdr *batch_msg(struct batch *b, uint16_t type, uint16_t family,
			   uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(nftnl_batch_buffer(b->b), type, family, flags, b->seq);
}

void batch_push(struct batch *b, int tag)
{
	advance(b, tag);
}

/* the kernel's errors: keep the first, with the tag of its message */
struct errs {
	const struct batch *b;
	int err;
	int tag;
};

static void note_errors(struct errs *e, const char *buf, int len)
{
	for (const struct nlmsghdr *nlh = (const void *)buf; mnl_nlmsg_ok(nlh, len);
	     nlh = mnl_nlmsg_next(nlh, &len)) {
		const struct nlmsgerr *me = mnl_nlmsg_get_payload(nlh);
		uint32_t seq = me->msg.nlmsg_seq;

		if (nlh->nlmsg_type != NLMSG_ERROR || me->error == 0 || e->err)
			continue;
		e->err = me->error;
		e->tag = seq >= e->b->first_seq && seq - e->b->first_seq < e->b->ntags
				 ? e->b->tags[seq - e->b->first_seq] : -1;
	}
}

const char *batch_strerror(int err)
{
	switch (-err) {
	case EINVAL:
		return "Invalid argument (the kernel does not take this object in this form)";
	case EOPNOTSUPP:
		return "Operation not supported (by this kernel, in this form)";
	case ENOENT:
		return "No such file or directory (something it names does not exist)";
	case EEXIST:
		return "File exists (an object of that name is there already)";
	case EBUSY:
		return "Device or resource busy (the object is in use)";
	case EPERM:
		return "Operation not permitted (the table is owned by another process)";
	case ENODEV:
		return "No such device (an interface it names is missing)";
	case ENFILE:
	case ENOSPC:
		return "No space left (a set or the table is full)";
	case E2BIG:
	case EMLINK:
		return "Too many links (jumps nested too deep)";
	case ELOOP:
		return "Too many levels of symbolic links (a loop of jumps)";
	case ENOMEM:
	case ENOBUFS:
		return "Cannot allocate memory (the kernel is out of memory)";
	case ERANGE:
		return "Numerical result out of range";
	case EAFNOSUPPORT:
		return "Address family not supported (by this kernel's nf_tables)";
	default:
		return strerror(-err);
	}
}

/* Send b (with its end: committed; without: checked and aborted) and
 * collect the kernel's answer. */
static int send_batch(struct nl *nl, struct batch *b, bool commit, int *failed_tag, char *err,
		      size_t errlen)
{
	int fd = mnl_socket_get_fd(nl->sock);
	struct errs e = { .b = b, .tag = -1 };
	struct msghdr msg = { 0 };
	struct iovec *iov;
	int niov, one = 1, size;
	ssize_t sent;

	*failed_tag = -1;
	if (commit) {
		nftnl_batch_end(nftnl_batch_buffer(b->b), b->seq);
		advance(b, -1);
	}
	if (b->err) {
		snprintf(err, errlen, "out of memory building the change");
		return b->err;
	}
	niov = nftnl_batch_iovec_len(b->b);
	iov = calloc((size_t)niov, sizeof(*iov));
	if (!iov) {
		snprintf(err, errlen, "out of memory building the change");
		return -ENOMEM;
	}
	nftnl_batch_iovec(b->b, iov, (uint32_t)niov);
	/* the kernel reads the whole batch as one message: make room */
	size = 0;
	for (int i = 0; i < niov; i++)
		size += (int)iov[i].iov_len;
	size += 65536;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	msg.msg_iov = iov;
	msg.msg_iovlen = (size_t)niov;
	sent = sendmsg(fd, &msg, 0);
	free(iov);
	if (sent < 0) {
		int en = errno;

		snprintf(err, errlen, "sending the change: %s", strerror(en));
		return -en;
	}
	/* the kernel has processed the batch before sendmsg returns: every
	 * error it has to say is already queued */
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n;

		if (poll(&p, 1, 0) <= 0)
			break;
		n = (int)recv(fd, nl->buf, NL_RECV_SIZE, MSG_DONTWAIT);
		if (n <= 0)
			break;
		note_errors(&e, nl->buf, n);
	}
	if (e.err) {
		*failed_tag = e.tag;
		if (e.err == -ERESTART)
			snprintf(err, errlen, "the ruleset changed since the change was prepared");
		else
			snprintf(err, errlen, "%s", batch_strerror(e.err));
		return e.err;
	}
	return 0;
}

int batch_commit(struct nl *nl, struct batch *b, int *failed_tag, char *err, size_t errlen)
{
	return send_batch(nl, b, true, failed_tag, err, errlen);
}

int batch_check(struct nl *nl, struct batch *b, int *failed_tag, char *err, size_t errlen)
{
	return send_batch(nl, b, false, failed_tag, err, errlen);
}
