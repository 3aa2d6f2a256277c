#include "conntrack/ct_events.h"

#include "conntrack/ct_nl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define EVENT_RCVBUF (8 << 20)

int ct_events_open(struct ct_events *ev, char *err, size_t errlen)
{
	unsigned groups = 1u << (NFNLGRP_CONNTRACK_NEW - 1) |
			  1u << (NFNLGRP_CONNTRACK_UPDATE - 1) |
			  1u << (NFNLGRP_CONNTRACK_DESTROY - 1);
	int size = EVENT_RCVBUF, ret;

	memset(ev, 0, sizeof(*ev));
	ev->buf = malloc(CT_NL_RECV_SIZE);
	ev->sock = mnl_socket_open(NETLINK_NETFILTER);
	if (!ev->buf || !ev->sock || mnl_socket_bind(ev->sock, groups, MNL_SOCKET_AUTOPID) < 0 ||
	    fcntl(mnl_socket_get_fd(ev->sock), F_SETFL, O_NONBLOCK) < 0) {
		ret = ev->buf ? -errno : -ENOMEM;
		snprintf(err, errlen, "conntrack events: %s", ct_nl_strerror(ret));
		ct_events_close(ev);
		return ret;
	}
	if (setsockopt(mnl_socket_get_fd(ev->sock), SOL_SOCKET, SO_RCVBUFFORCE, &size,
		       sizeof(size)))
		setsockopt(mnl_socket_get_fd(ev->sock), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return 0;
}

int ct_events_fd(const struct ct_events *ev)
{
	return ev->sock ? mnl_socket_get_fd(ev->sock) : -1;
}

struct apply_ctx {
	struct ct_events *ev;
	struct ct_table *t;
	int err;
};

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct apply_ctx *c = data;
	struct ct_entry e;
	int type = nlh->nlmsg_type & 0xff;

	if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_CTNETLINK || ct_nl_parse(nlh, &e))
		return MNL_CB_OK;
	if (type == IPCTNL_MSG_CT_DELETE) {
		ct_table_remove(c->t, &e);
		c->ev->destroys++;
	} else if (type == IPCTNL_MSG_CT_NEW) {
		if (nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL))
			c->ev->news++;
		else
			c->ev->updates++;
		if (!ct_table_upsert(c->t, &e)) {
			c->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_OK;
}

int ct_events_apply(struct ct_events *ev, struct ct_table *t, size_t max)
{
	struct apply_ctx c = { .ev = ev, .t = t };
	size_t before = ev->news + ev->updates + ev->destroys;
	int ret;

	if (!ev->sock)
		return -EBADF;
	if (!t->hcap && (ret = ct_table_index(t)))
		return ret;
	for (;;) {
		size_t done = ev->news + ev->updates + ev->destroys - before;

		if (max && done >= max)
			return (int)done;
		ret = (int)mnl_socket_recvfrom(ev->sock, ev->buf, CT_NL_RECV_SIZE);
		if (ret < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return (int)done;
			return -errno; /* -ENOBUFS: lost events */
		}
		/* events are not answers: no sequence number or port to check */
		ret = mnl_cb_run(ev->buf, (size_t)ret, 0, 0, event_cb, &c);
		if (ret < 0)
			return c.err ? c.err : (errno ? -errno : -EIO);
	}
}

void ct_events_close(struct ct_events *ev)
{
	if (ev->sock)
		mnl_socket_close(ev->sock);
	free(ev->buf);
	memset(ev, 0, sizeof(*ev));
}
