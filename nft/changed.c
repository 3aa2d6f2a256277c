/* changed: which tables a commit changed, from the kernel's notifications
 * (nft/changed.h). */
#include "nft/changed.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHANGED_RCVBUF (128 << 20) /* a burst: 100k rules flushed and added tell ~100 MB */

static void note_table(struct changed_watch *w, uint32_t family, const char *name)
{
	for (size_t i = w->ntables; i-- > 0;)
		if (w->tables[i].family == family && strcmp(w->tables[i].name, name) == 0)
			return;
	if (w->ntables == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 8;
		struct changed_table *t = realloc(w->tables, cap * sizeof(*t));

		if (!t) {
			w->lost = true;
			return;
		}
		w->tables = t;
		w->cap = cap;
	}
	if (!(w->tables[w->ntables].name = strdup(name))) {
		w->lost = true;
		return;
	}
	w->tables[w->ntables++].family = family;
}

/* One notification: the table it names, or the generation a commit made. */
static void note(struct changed_watch *w, const struct nlmsghdr *nlh)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*g))
		return;
	/* the first attribute of every object's message is its table's name
	 * (NFTA_TABLE_NAME, NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE,
	 * NFTA_SET_ELEM_LIST_TABLE, NFTA_OBJ_TABLE, NFTA_FLOWTABLE_TABLE: 1);
	 * NEWGEN's is the generation id (NFTA_GEN_ID, also 1) */
	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		if (mnl_attr_get_type(a) != 1)
			continue;
		if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWGEN) {
			if (mnl_attr_validate(a, MNL_TYPE_U32) < 0 || w->ngens == sizeof(w->gens) / sizeof(w->gens[0]))
				w->lost = true;
			else
				w->gens[w->ngens++] = ntohl(mnl_attr_get_u32(a));
		} else if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0) {
			w->lost = true;
		} else {
			note_table(w, g->nfgen_family, mnl_attr_get_str(a));
		}
		return;
	}
}

/* Read what is queued; false when nothing was (or the socket failed). */
static bool read_some(struct changed_watch *w, char *buf, size_t len)
{
	ssize_t n = recv(mnl_socket_get_fd(w->sock), buf, len, MSG_DONTWAIT);

	if (n < 0) {
		if (errno == ENOBUFS) { /* the kernel dropped some: cannot tell */
			w->lost = true;
			return true;
		}
		if (errno != EAGAIN && errno != EINTR)
			w->lost = true;
		return errno == EINTR;
	}
	for (const struct nlmsghdr *nlh = (const void *)buf; mnl_nlmsg_ok(nlh, (int)n);
	     nlh = mnl_nlmsg_next(nlh, (int *)&n))
		note(w, nlh);
	return true;
}

static void *watch_thread(void *arg)
{
	struct changed_watch *w = arg;
	static __thread char buf[65536];
	struct pollfd p[2] = { { mnl_socket_get_fd(w->sock), POLLIN, 0 }, { w->stopfd, POLLIN, 0 } };

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			w->lost = true;
			break;
		}
		if (p[0].revents & (POLLERR | POLLIN))
			read_some(w, buf, sizeof(buf));
		if (p[1].revents & POLLIN) {
			/* all of the change is queued by now: read it and end */
			while (read_some(w, buf, sizeof(buf)))
				;
			break;
		}
	}
	return NULL;
}

int changed_start(struct changed_watch *w, char *err, size_t errlen)
{
	int size = CHANGED_RCVBUF, e;

	memset(w, 0, sizeof(*w));
	w->stopfd = -1;
	w->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!w->sock ||
	    mnl_socket_bind(w->sock, 1 << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID) < 0 ||
	    (setsockopt(mnl_socket_get_fd(w->sock), SOL_SOCKET, SO_RCVBUFFORCE, &size,
			sizeof(size)) < 0 &&
	     setsockopt(mnl_socket_get_fd(w->sock), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0) ||
	    (w->stopfd = eventfd(0, EFD_CLOEXEC)) < 0) {
		e = errno ? errno : ENOMEM;
		snprintf(err, errlen, "cannot listen to the kernel's notifications: %s", strerror(e));
		changed_free(w);
		return -e;
	}
	e = pthread_create(&w->thread, NULL, watch_thread, w);
	if (e) {
		snprintf(err, errlen, "cannot start a thread: %s", strerror(e));
		changed_free(w);
		return -e;
	}
	w->running = true;
	return 0;
}

bool changed_stop(struct changed_watch *w, uint32_t genid)
{
	uint64_t one = 1;

	if (!w->running)
		return false;
	if (write(w->stopfd, &one, sizeof(one)) != sizeof(one)) {
		w->lost = true;
		pthread_cancel(w->thread); /* it ends in its poll */
	}
	pthread_join(w->thread, NULL);
	w->running = false;
	w->until = genid;
	for (size_t i = 0; i < w->ngens && !w->seen_gen; i++)
		w->seen_gen = w->gens[i] == genid;
	return w->seen_gen && !w->lost;
}

bool changed_has(const struct changed_watch *w, uint32_t family, const char *name)
{
	for (size_t i = 0; i < w->ntables; i++)
		if (w->tables[i].family == family && strcmp(w->tables[i].name, name) == 0)
			return true;
	return false;
}

void changed_free(struct changed_watch *w)
{
	if (w->running)
		changed_stop(w, 0);
	if (w->sock)
		mnl_socket_close(w->sock);
	if (w->stopfd >= 0)
		close(w->stopfd);
	for (size_t i = 0; i < w->ntables; i++)
		free(w->tables[i].name);
	free(w->tables);
	memset(w, 0, sizeof(*w));
	w->stopfd = -1;
}
