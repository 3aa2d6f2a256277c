#include "conntrack/ct_dump.h"

#include "conntrack/ct_nl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ct_dump *d = data;
	struct ct_entry local, *e = &local;

	if ((nlh->nlmsg_type & 0xff) != IPCTNL_MSG_CT_NEW)
		return MNL_CB_OK;
	if (d->into && !d->o.each && !d->o.sync) {
		e = ct_table_slot(d->into);
		if (!e) {
			d->cb_err = -ENOMEM;
			return MNL_CB_ERROR;
		}
	}
	if (ct_nl_parse(nlh, e))
		return MNL_CB_OK;
	d->received++;
	d->phase_received++;
	if (!ct_filter_match(d->o.filter, e))
		return MNL_CB_OK;
	d->kept++;
	if (d->o.each) {
		int ret = d->o.each(e, d->o.arg);

		if (ret) {
			d->cb_err = ret < 0 ? ret : -EINTR;
			return MNL_CB_ERROR;
		}
	} else if (d->o.sync) {
		if (!ct_table_upsert(d->into, e)) {
			d->cb_err = -ENOMEM;
			return MNL_CB_ERROR;
		}
	} else if (d->into && ct_table_commit(d->into)) {
		d->cb_err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int send_request(struct ct_dump *d)
{
	char req[1024];
	uint8_t family = d->families[d->phase];
	struct nlmsghdr *nlh = ct_nl_request(req, IPCTNL_MSG_CT_GET, family, NLM_F_DUMP, ++d->seq);

	if (d->use_kf)
		ct_nl_put_kfilter(nlh, &d->kf, family);
	d->phase_received = 0;
	if (mnl_socket_sendto(d->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

static void plan_phases(struct ct_dump *d)
{
	uint32_t tuple = CT_KF_OSRC | CT_KF_ODST | CT_KF_RSRC | CT_KF_RDST | CT_KF_PROTO;

	d->phase = 0;
	d->nphases = 1;
	d->families[0] = d->use_kf ? d->kf.family : 0;
	if (d->use_kf && !d->kf.family && (d->kf.flags & tuple)) {
		/* the kernel filters tuples of one family per dump */
		d->families[0] = AF_INET;
		d->families[1] = AF_INET6;
		d->nphases = 2;
	}
}

int ct_dump_start(struct ct_dump *d, struct ct_table *into, const struct ct_dump_opts *opts,
		  bool blocking, char *err, size_t errlen)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->o = *opts;
	d->into = into;
	if (d->o.sync) {
		/* a re-read must see everything to tell what is gone */
		d->o.filter = NULL;
		d->o.each = NULL;
		if (!into->hcap && (ret = ct_table_index(into))) {
			snprintf(err, errlen, "%s", ct_nl_strerror(ret));
			return ret;
		}
	}
	if (!into && !d->o.each) {
		snprintf(err, errlen, "a dump needs a table or a callback");
		return -EINVAL;
	}
	d->buf = malloc(CT_NL_RECV_SIZE);
	d->sock = mnl_socket_open(NETLINK_NETFILTER);
	if (!d->buf || !d->sock || mnl_socket_bind(d->sock, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    (!blocking && fcntl(mnl_socket_get_fd(d->sock), F_SETFL, O_NONBLOCK) < 0)) {
		ret = d->buf ? -errno : -ENOMEM;
		snprintf(err, errlen, "conntrack netlink socket: %s", ct_nl_strerror(ret));
		ct_dump_cancel(d);
		return ret;
	}
	d->portid = mnl_socket_get_portid(d->sock);
	d->use_kf = d->o.filter && !d->o.no_kernel_filter && ct_filter_kernel(d->o.filter, &d->kf);
	plan_phases(d);
	if (d->o.sync)
		ct_table_sync_begin(into, d->o.now);
	ret = send_request(d);
	if (ret) {
		snprintf(err, errlen, "conntrack dump: %s", ct_nl_strerror(ret));
		ct_dump_cancel(d);
		return ret;
	}
	d->active = true;
	return 0;
}

int ct_dump_fd(const struct ct_dump *d)
{
	return d->active ? mnl_socket_get_fd(d->sock) : -1;
}

static int finish(struct ct_dump *d)
{
	if (d->into) {
		if (d->o.sync)
			ct_table_sync_end(d->into);
		else
			ct_table_trim(d->into);
		d->into->loaded = true;
	}
	ct_dump_cancel(d);
	return 0;
}

/* Run one received buffer through the parser: 1 = more to come, 2 = the
 * next request was sent (a new phase, or the dump again without the kernel
 * filter), 0 = complete, -errno = failed (the dump is cancelled). */
static int process(struct ct_dump *d, char *buf, int len, char *err, size_t errlen)
{
	int ret;

	if (len < 0) {
		ret = len;
		goto fail;
	}
	errno = 0;
	ret = mnl_cb_run(buf, (size_t)len, d->seq, d->portid, data_cb, d);
	if (ret > 0)
		return 1;
	if (ret == 0) {
		if (++d->phase < d->nphases) {
			ret = send_request(d);
			if (ret)
				goto fail;
			return 2;
		}
		return finish(d);
	}
	if (d->cb_err) {
		ret = d->cb_err;
		goto fail;
	}
	ret = errno ? -errno : -EIO;
	if (d->use_kf && d->phase_received == 0 && d->phase == 0 &&
	    (ret == -EINVAL || ret == -EOPNOTSUPP)) {
		/* an older kernel refused the filter: filter here instead */
		d->use_kf = false;
		plan_phases(d);
		ret = send_request(d);
		if (!ret)
			return 2;
	}
fail:
	snprintf(err, errlen, "conntrack dump: %s", ct_nl_strerror(ret));
	ct_dump_cancel(d);
	return ret;
}

int ct_dump_step(struct ct_dump *d, char *err, size_t errlen)
{
	int ret;

	if (!d->active)
		return 0;
	ret = (int)mnl_socket_recvfrom(d->sock, d->buf, CT_NL_RECV_SIZE);
	if (ret < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 1;
		ret = -errno;
	}
	ret = process(d, d->buf, ret, err, errlen);
	return ret == 2 ? 1 : ret;
}

void ct_dump_cancel(struct ct_dump *d)
{
	d->active = false;
	if (d->keep_socket)
		return; /* a reader thread may still use it: ct_dump_all closes it */
	if (d->sock)
		mnl_socket_close(d->sock);
	free(d->buf);
	d->sock = NULL;
	d->buf = NULL;
	d->active = false;
}

/* ---- the blocking dump: a reader thread receives while this one parses ---- */

#define RING 8

struct ring {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct mnl_socket *sock;
	char *buf[RING];
	int len[RING];
	unsigned head, tail;   /* buffers received, buffers consumed */
	bool stop;
};

/* whether a received buffer ends the dump (its NLMSG_DONE or an error) */
static bool ends_dump(const char *buf, int len)
{
	const struct nlmsghdr *h = (const struct nlmsghdr *)buf;

	if (len <= 0)
		return true;
	for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len))
		if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
			return true;
	return false;
}

static void *reader(void *arg)
{
	struct ring *r = arg;

	for (;;) {
		unsigned slot;
		int n;

		pthread_mutex_lock(&r->mu);
		while (r->head - r->tail == RING && !r->stop)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop) {
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		slot = r->head % RING;
		pthread_mutex_unlock(&r->mu);
		n = (int)mnl_socket_recvfrom(r->sock, r->buf[slot], CT_NL_RECV_SIZE);
		if (n < 0)
			n = -errno;
		pthread_mutex_lock(&r->mu);
		r->len[slot] = n;
		r->head++;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		if (ends_dump(r->buf[slot], n))
			return NULL;
	}
}

/* Consume one request's replies; returns what process() returned last. */
static int consume(struct ct_dump *d, struct ring *r, char *err, size_t errlen)
{
	pthread_t th;
	int ret = 1;

	r->head = r->tail = 0;
	r->stop = false;
	if (pthread_create(&th, NULL, reader, r)) {
		snprintf(err, errlen, "cannot start a thread");
		ct_dump_cancel(d);
		return -EAGAIN;
	}
	while (ret == 1) {
		unsigned slot;

		pthread_mutex_lock(&r->mu);
		while (r->head == r->tail)
			pthread_cond_wait(&r->cv, &r->mu);
		slot = r->tail % RING;
		pthread_mutex_unlock(&r->mu);
		ret = process(d, r->buf[slot], r->len[slot], err, errlen);
		pthread_mutex_lock(&r->mu);
		r->tail++;
		if (ret != 1)
			r->stop = true;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
	}
	pthread_join(th, NULL);
	return ret;
}

int ct_dump_all(struct ct_table *into, const struct ct_dump_opts *opts, size_t *received,
		char *err, size_t errlen)
{
	struct ring r = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
	struct ct_dump d;
	int ret = ct_dump_start(&d, into, opts, true, err, errlen);

	for (int i = 0; !ret && i < RING; i++)
		if (!(r.buf[i] = malloc(CT_NL_RECV_SIZE))) {
			snprintf(err, errlen, "out of memory");
			ct_dump_cancel(&d);
			ret = -ENOMEM;
		}
	r.sock = d.sock;
	d.keep_socket = true;
	while (!ret && (ret = consume(&d, &r, err, errlen)) == 2)
		ret = 0;
	d.keep_socket = false;
	ct_dump_cancel(&d);
	for (int i = 0; i < RING; i++)
		free(r.buf[i]);
	if (received)
		*received = d.received;
	return ret < 0 ? ret : 0;
}
