#include "nft/batch.h"
#include "util/grow.h"
#include "util/errmsg.h"

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
	if (grow(&b->tags, &b->tags_cap, b->ntags + 1, sizeof(*b->tags), 256))
		return -ENOMEM;
	b->tags[b->ntags++] = tag;
	return 0;
}

/* The page the next messages go to, zeroed: libmnl 1.0.4 leaves an
 * attribute's padding as it finds it, and the kernel (and valgrind) should
 * see no stale bytes. A new page holds at most the overrun of the last
 * message before its current position. */
static void clear_page(struct batch *b)
{
	int pages = nftnl_batch_iovec_len(b->b);

	if (pages != b->pages) {
		memset(nftnl_batch_buffer(b->b), 0, BATCH_PAGE);
		b->pages = pages;
	}
}

static void advance(struct batch *b, int tag)
{
	if (nftnl_batch_update(b->b) < 0 || tag_add(b, tag) < 0)
		b->err = -ENOMEM;
	else
		clear_page(b);
	b->seq++;
}

int batch_open(struct batch *b, uint32_t guard)
{
	struct nlmsghdr *nlh;

	memset(b, 0, sizeof(*b));
	b->b = nftnl_batch_alloc(BATCH_PAGE, BATCH_OVERRUN);
	if (!b->b)
		return -ENOMEM;
	memset(nftnl_batch_buffer(b->b), 0, BATCH_PAGE + BATCH_OVERRUN);
	b->pages = nftnl_batch_iovec_len(b->b);
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

/* The kernel's answer to a batch: the first error and the sequence number
 * of its message; echo() for every message it echoes (NLM_F_ECHO). */
struct answer {
	int err;
	uint32_t seq;
	mnl_cb_t echo;
	void *data;
};

static void note_answer(struct answer *a, const char *buf, int len)
{
	for (const struct nlmsghdr *nlh = (const void *)buf; mnl_nlmsg_ok(nlh, len);
	     nlh = mnl_nlmsg_next(nlh, &len)) {
		const struct nlmsgerr *me = mnl_nlmsg_get_payload(nlh);

		if (nlh->nlmsg_type != NLMSG_ERROR) {
			if (a->echo && nlh->nlmsg_type >= NLMSG_MIN_TYPE)
				a->echo(nlh, a->data);
			continue;
		}
		if (me->error == 0 || a->err)
			continue;
		a->err = me->error;
		a->seq = me->msg.nlmsg_seq;
	}
}

/* Send iov as one message and collect the kernel's answer. */
static int send_iov(struct nl *nl, struct iovec *iov, int niov, struct answer *a, char *err,
		    size_t errlen)
{
	int fd = mnl_socket_get_fd(nl->sock);
	struct msghdr msg = { 0 };
	int one = 1, size = 0, rcv = 4 << 20;
	ssize_t sent;

	/* the kernel reads the whole batch as one message: make room */
	for (int i = 0; i < niov; i++)
		size += (int)iov[i].iov_len;
	size += 65536;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (a->echo) /* the echoes of a change come while it is processed */
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
	msg.msg_iov = iov;
	msg.msg_iovlen = (size_t)niov;
	sent = sendmsg(fd, &msg, 0);
	if (sent < 0) {
		int en = errno;

		snprintf(err, errlen, "sending the change: %s", strerror(en));
		return -en;
	}
	/* the kernel has processed the batch before sendmsg returns: every
	 * answer it has is already queued */
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n;

		if (poll(&p, 1, 0) <= 0)
			break;
		n = (int)recv(fd, nl->buf, NL_RECV_SIZE, MSG_DONTWAIT);
		if (n <= 0)
			break;
		note_answer(a, nl->buf, n);
	}
	if (a->err) {
		if (a->err == -ERESTART)
			snprintf(err, errlen, "the ruleset changed since the change was prepared");
		else
			snprintf(err, errlen, "%s", batch_strerror(a->err));
		return a->err;
	}
	return 0;
}

int batch_tag(const struct batch *b, uint32_t seq)
{
	return seq >= b->first_seq && seq - b->first_seq < b->ntags ? b->tags[seq - b->first_seq]
								      : -1;
}

/* What the kernel means by an errno refusing an nf_tables change: its
 * words (strerror's), and what they mean there. */
#define BATCH_FULL "No space left (a set or the table is full)"
#define BATCH_DEEP "Too many links (jumps nested too deep)"
#define BATCH_NOMEM "Cannot allocate memory (the kernel is out of memory)"

static const struct errmsg batch_errors[] = {
	{ EINVAL, "Invalid argument (the kernel does not take this object in this form)" },
	{ EOPNOTSUPP, "Operation not supported (by this kernel, in this form)" },
	{ ENOENT, "No such file or directory (something it names does not exist)" },
	{ EEXIST, "File exists (an object of that name is there already)" },
	{ EBUSY, "Device or resource busy (the object is in use)" },
	{ EPERM, "Operation not permitted (the table is owned by another process)" },
	{ ENODEV, "No such device (an interface it names is missing)" },
	{ ENFILE, BATCH_FULL },
	{ ENOSPC, BATCH_FULL },
	{ E2BIG, BATCH_DEEP },
	{ EMLINK, BATCH_DEEP },
	{ ELOOP, "Too many levels of symbolic links (a loop of jumps)" },
	{ ENOMEM, BATCH_NOMEM },
	{ ENOBUFS, BATCH_NOMEM },
	{ ERANGE, "Numerical result out of range" },
	{ EAFNOSUPPORT, "Address family not supported (by this kernel's nf_tables)" },
	{ 0 }
};

const char *batch_strerror(int err)
{
	return errmsg_get(batch_errors, err);
}

/* b's messages as iovecs (with its end: closed first). */
static struct iovec *batch_iov(struct batch *b, bool end, int *niov, char *err, size_t errlen)
{
	struct iovec *iov;

	if (end) {
		nftnl_batch_end(nftnl_batch_buffer(b->b), b->seq);
		advance(b, -1);
	}
	if (b->err) {
		snprintf(err, errlen, "out of memory building the change");
		return NULL;
	}
	*niov = nftnl_batch_iovec_len(b->b);
	iov = calloc((size_t)*niov, sizeof(*iov));
	if (!iov) {
		snprintf(err, errlen, "out of memory building the change");
		return NULL;
	}
	nftnl_batch_iovec(b->b, iov, (uint32_t)*niov);
	return iov;
}

/* Send b (with its end: committed; without: checked and aborted). */
static int send_batch(struct nl *nl, struct batch *b, bool commit, int *failed_tag, char *err,
		      size_t errlen)
{
	struct answer a = { 0 };
	struct iovec *iov;
	int niov, ret;

	*failed_tag = -1;
	iov = batch_iov(b, commit, &niov, err, errlen);
	if (!iov)
		return b->err ? b->err : -ENOMEM;
	ret = send_iov(nl, iov, niov, &a, err, errlen);
	free(iov);
	if (a.err)
		*failed_tag = batch_tag(b, a.seq);
	return ret;
}

int batch_commit(struct nl *nl, struct batch *b, int *failed_tag, char *err, size_t errlen)
{
	return send_batch(nl, b, true, failed_tag, err, errlen);
}

int batch_check(struct nl *nl, struct batch *b, int *failed_tag, char *err, size_t errlen)
{
	return send_batch(nl, b, false, failed_tag, err, errlen);
}

int batch_save(struct batch *b, int fd, char *err, size_t errlen)
{
	struct iovec *iov;
	int niov, ret = 0;

	iov = batch_iov(b, true, &niov, err, errlen);
	if (!iov)
		return b->err ? b->err : -ENOMEM;
	for (int i = 0; i < niov && !ret; i++) {
		const char *p = iov[i].iov_base;
		size_t left = iov[i].iov_len;

		while (left && !ret) {
			ssize_t n = write(fd, p, left);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				ret = n < 0 ? -errno : -EIO;
				snprintf(err, errlen, "writing the change: %s", strerror(-ret));
			} else {
				p += n;
				left -= (size_t)n;
			}
		}
	}
	free(iov);
	return ret;
}

int batch_send_bytes(struct nl *nl, void *buf, size_t len, mnl_cb_t echo, void *data,
		     uint32_t *failed_seq, char *err, size_t errlen)
{
	struct iovec iov = { buf, len };
	struct answer a = { .echo = echo, .data = data };
	int ret;
	int left = (int)len, count = 0;
	const struct nlmsghdr *nlh = buf, *last = NULL;

	/* whole messages, a batch: begin ... end */
	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left), count++)
		last = nlh;
	if (left != 0 || count < 2 || ((const struct nlmsghdr *)buf)->nlmsg_type != NFNL_MSG_BATCH_BEGIN ||
	    last->nlmsg_type != NFNL_MSG_BATCH_END) {
		snprintf(err, errlen, "the change to commit is damaged");
		return -EINVAL;
	}
	*failed_seq = 0;
	ret = send_iov(nl, &iov, 1, &a, err, errlen);
	if (a.err)
		*failed_seq = a.seq;
	return ret;
}
