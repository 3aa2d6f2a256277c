#include "conntrack/ct_kill.h"

#include "conntrack/ct_dump.h"
#include "conntrack/ct_nl.h"
#include "util/grow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH_MAX 200       /* deletes per send; each is acked */
#define RCVBUF (4 << 20)

/* ---- local sockets (sock_diag) ---- */

/* A socket of this namespace with both ends known. The key is normalised:
 * an IPv4-mapped IPv6 socket is keyed as IPv4. */
struct lsock {
	uint8_t family, proto;      /* key */
	uint16_t lport, rport;
	union ct_addr local, remote;
	uint8_t real_family;        /* for SOCK_DESTROY */
	struct inet_diag_sockid id; /* as dumped, with its cookie */
};

struct lsocks {
	struct lsock *s;
	size_t n, cap;
};

static int lsock_cmp(const void *a, const void *b)
{
	const struct lsock *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->lport != y->lport)
		return x->lport < y->lport ? -1 : 1;
	if (x->rport != y->rport)
		return x->rport < y->rport ? -1 : 1;
	c = memcmp(&x->local, &y->local, sizeof(x->local));
	return c ? c : memcmp(&x->remote, &y->remote, sizeof(x->remote));
}

static bool is_mapped(const uint32_t *w)
{
	return w[0] == 0 && w[1] == 0 && w[2] == htonl(0xffff);
}

static int sock_cb(const struct nlmsghdr *nlh, void *data)
{
	struct lsocks *ls = data;
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct lsock *s;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY || mnl_nlmsg_get_payload_len(nlh) < sizeof(*m))
		return MNL_CB_OK;
	s = grow_slot(&ls->s, &ls->n, &ls->cap, sizeof(*ls->s), 64);
	if (!s)
		return MNL_CB_ERROR;
	s->real_family = m->idiag_family;
	s->id = m->id;
	s->lport = ntohs(m->id.idiag_sport);
	s->rport = ntohs(m->id.idiag_dport);
	if (m->idiag_family == AF_INET6 && is_mapped(m->id.idiag_src) &&
	    is_mapped(m->id.idiag_dst)) {
		s->family = AF_INET;
		s->local.w[0] = m->id.idiag_src[3];
		s->remote.w[0] = m->id.idiag_dst[3];
	} else if (m->idiag_family == AF_INET) {
		s->family = AF_INET;
		s->local.w[0] = m->id.idiag_src[0];
		s->remote.w[0] = m->id.idiag_dst[0];
	} else {
		s->family = AF_INET6;
		memcpy(s->local.b, m->id.idiag_src, 16);
		memcpy(s->remote.b, m->id.idiag_dst, 16);
	}
	if (s->rport == 0)
		return MNL_CB_OK; /* not connected */
	ls->n++;
	return MNL_CB_OK;
}

/* proto is filled in by the caller after each dump */
static int dump_sockets(struct mnl_socket *nl, char *buf, uint8_t family, uint8_t proto,
			struct lsocks *ls, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct inet_diag_req_v2 *r;
	uint32_t portid = mnl_socket_get_portid(nl);
	size_t from = ls->n;
	int ret;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
	r->sdiag_family = family;
	r->sdiag_protocol = proto;
	/* connected sockets: not listening, not time-wait or closed */
	r->idiag_states = proto == IPPROTO_TCP ?
		0xffffffffu & ~(1u << TCP_LISTEN | 1u << TCP_TIME_WAIT | 1u << TCP_CLOSE) :
		1u << TCP_ESTABLISHED;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ret = (int)mnl_socket_recvfrom(nl, buf, CT_NL_RECV_SIZE);
		if (ret < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)ret, seq, portid, sock_cb, ls);
		if (ret <= 0)
			break;
	}
	for (size_t i = from; i < ls->n; i++)
		ls->s[i].proto = proto;
	return ret < 0 ? (errno ? -errno : -EIO) : 0;
}

static const struct lsock *find_sock(const struct lsocks *ls, uint8_t family, uint8_t proto,
				     const union ct_addr *local, uint16_t lport,
				     const union ct_addr *remote, uint16_t rport)
{
	struct lsock key;

	memset(&key, 0, sizeof(key));
	key.family = family;
	key.proto = proto;
	key.lport = lport;
	key.rport = rport;
	key.local = *local;
	key.remote = *remote;
	return ls->n ? bsearch(&key, ls->s, ls->n, sizeof(key), lsock_cmp) : NULL;
}

static int destroy_sock(struct mnl_socket *nl, char *buf, const struct lsock *s, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct inet_diag_req_v2 *r;
	int ret;

	nlh->nlmsg_type = SOCK_DESTROY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
	r->sdiag_family = s->real_family;
	r->sdiag_protocol = s->proto;
	r->idiag_states = 0xffffffffu;
	r->id = s->id; /* the cookie makes sure it is that very socket */
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	ret = (int)mnl_socket_recvfrom(nl, buf, CT_NL_RECV_SIZE);
	if (ret < 0)
		return -errno;
	ret = mnl_cb_run(buf, (size_t)ret, seq, mnl_socket_get_portid(nl), NULL, NULL);
	return ret < 0 ? -errno : 0;
}

/* Destroy the local sockets of the victims; marks which victims had one. */
static int kill_sockets(const struct ct_table *t, const uint32_t *idx, size_t n, bool *had,
			struct ct_kill_result *r, char *err, size_t errlen)
{
	struct lsocks ls = { 0 };
	struct mnl_socket *nl;
	bool need = false;
	uint32_t seq = 1;
	char *buf;
	int ret = 0;

	for (size_t i = 0; i < n && !need; i++) {
		uint8_t p = t->e[idx ? idx[i] : i].proto;

		need = p == IPPROTO_TCP || p == IPPROTO_UDP;
	}
	if (!need)
		return 0;
	buf = malloc(CT_NL_RECV_SIZE);
	nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!buf || !nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = buf ? -errno : -ENOMEM;
		snprintf(err, errlen, "sock_diag socket: %s", strerror(-ret));
		goto out;
	}
	for (int f = 0; f < 2 && !ret; f++)
		for (int p = 0; p < 2 && !ret; p++)
			ret = dump_sockets(nl, buf, f ? AF_INET6 : AF_INET,
					   p ? IPPROTO_UDP : IPPROTO_TCP, &ls, seq++);
	if (ret == -ENOENT)
		ret = 0; /* no udp_diag: leave UDP sockets alone */
	if (ret) {
		snprintf(err, errlen, "listing local sockets: %s", strerror(-ret));
		goto out;
	}
	if (ls.n)
		qsort(ls.s, ls.n, sizeof(*ls.s), lsock_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct ct_entry *e = &t->e[idx ? idx[i] : i];
		const struct lsock *s[2];

		if (e->flags & CT_F_GONE)
			continue;
		/* an outgoing connection's socket has the original tuple, an
		 * incoming one's the reply tuple (after DNAT) */
		s[0] = find_sock(&ls, e->family, e->proto, &e->orig.src, e->orig.sport,
				 &e->orig.dst, e->orig.dport);
		s[1] = find_sock(&ls, e->family, e->proto, &e->reply.src, e->reply.sport,
				 &e->reply.dst, e->reply.dport);
		if (s[1] == s[0])
			s[1] = NULL;
		for (int k = 0; k < 2; k++) {
			int dret;

			if (!s[k])
				continue;
			had[i] = true;
			dret = destroy_sock(nl, buf, s[k], seq++);
			if (dret == 0 || dret == -ENOENT) {
				r->sockets += dret == 0;
			} else {
				r->sockets_failed++;
				if (!r->first_err)
					r->first_err = dret;
			}
		}
	}
out:
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	free(ls.s);
	return ret;
}

/* ---- conntrack entries ---- */

static void put_delete(char *at, const struct ct_entry *e, uint32_t seq)
{
	struct nlmsghdr *nlh = ct_nl_request(at, IPCTNL_MSG_CT_DELETE, e->family, NLM_F_ACK, seq);

	ct_nl_put_tuple(nlh, CTA_TUPLE_ORIG, e->family, e->proto, &e->orig);
	mnl_attr_put_u32(nlh, CTA_ID, htonl(e->id));
	if (e->zone)
		mnl_attr_put_u16(nlh, CTA_ZONE, htons(e->zone));
}

struct acks {
	size_t acked, ok, gone, failed;
	int first_err;
};

/* read acks until `want` of them came */
static int read_acks(struct mnl_socket *nl, char *buf, size_t want, struct acks *a)
{
	while (a->acked < want) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, CT_NL_RECV_SIZE);
		const struct nlmsghdr *h;
		int len;

		if (n < 0)
			return -errno;
		len = (int)n;
		for (h = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(h, len);
		     h = mnl_nlmsg_next(h, &len)) {
			const struct nlmsgerr *e;

			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(h);
			a->acked++;
			if (e->error == 0)
				a->ok++;
			else if (e->error == -ENOENT)
				a->gone++;
			else {
				a->failed++;
				if (!a->first_err)
					a->first_err = e->error;
			}
		}
	}
	return 0;
}

static int delete_entries(const struct ct_table *t, const uint32_t *idx, size_t n,
			  struct ct_kill_result *r, char *err, size_t errlen)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	char *sbuf = malloc(BATCH_MAX * 256), *rbuf = malloc(CT_NL_RECV_SIZE);
	struct acks a = { 0 };
	int ret = 0, size = RCVBUF;
	uint32_t seq = 1;
	size_t i = 0, sent = 0;

	if (!nl || !sbuf || !rbuf || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = sbuf && rbuf ? -errno : -ENOMEM;
		snprintf(err, errlen, "conntrack netlink socket: %s", ct_nl_strerror(ret));
		goto out;
	}
	/* room for a batch of acks; root may go past rmem_max */
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	while (i < n && !ret) {
		size_t len = 0, batch = 0;

		for (; i < n && batch < BATCH_MAX; i++) {
			const struct ct_entry *e = &t->e[idx ? idx[i] : i];

			if (e->flags & CT_F_GONE)
				continue;
			put_delete(sbuf + len, e, seq++);
			len += NLMSG_ALIGN(((struct nlmsghdr *)(sbuf + len))->nlmsg_len);
			batch++;
		}
		if (!batch)
			break;
		if (mnl_socket_sendto(nl, sbuf, len) < 0) {
			ret = -errno;
			break;
		}
		sent += batch;
		ret = read_acks(nl, rbuf, sent, &a);
	}
	if (ret)
		snprintf(err, errlen, "deleting conntrack entries: %s", ct_nl_strerror(ret));
out:
	r->deleted += a.ok;
	r->gone += a.gone;
	r->failed += a.failed;
	if (a.first_err && !r->first_err)
		r->first_err = a.first_err;
	if (nl)
		mnl_socket_close(nl);
	free(sbuf);
	free(rbuf);
	return ret;
}

int ct_kill(const struct ct_table *t, const uint32_t *idx, size_t n,
	    const struct ct_kill_opts *o, struct ct_kill_result *r, char *err, size_t errlen)
{
	bool *had = NULL;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	if (!idx)
		n = t->n;
	for (size_t i = 0; i < n; i++)
		r->matched += !(t->e[idx ? idx[i] : i].flags & CT_F_GONE);
	if (!r->matched)
		return 0;
	if (!o || !o->no_sockets) {
		had = calloc(n, sizeof(*had));
		if (!had) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		/* without the sockets, still delete the entries; say why after */
		ret = kill_sockets(t, idx, n, had, r, err, errlen);
		for (size_t i = 0; i < n; i++)
			if (!(t->e[idx ? idx[i] : i].flags & CT_F_GONE)) {
				r->local += had[i];
				r->unlocal += !had[i];
			}
		free(had);
	} else {
		r->unlocal = r->matched;
	}
	if (ret) {
		char derr[256];

		if (delete_entries(t, idx, n, r, derr, sizeof(derr)) == 0 && !r->first_err)
			r->first_err = ret;
		return ret;
	}
	ret = delete_entries(t, idx, n, r, err, errlen);
	if (!ret && r->failed) {
		ret = r->first_err;
		snprintf(err, errlen, "the kernel refused to delete %zu conntrack entries: %s",
			 r->failed, ct_nl_strerror(ret));
	}
	return ret;
}

int ct_kill_filter(const struct ct_filter *f, const struct ct_kill_opts *o,
		   struct ct_kill_result *r, char *err, size_t errlen)
{
	struct ct_table t = { 0 };
	struct ct_dump_opts d = { .filter = f };
	int ret;

	memset(r, 0, sizeof(*r));
	ret = ct_dump_all(&t, &d, NULL, err, errlen);
	if (!ret)
		ret = ct_kill(&t, NULL, 0, o, r, err, errlen);
	ct_table_free(&t);
	return ret;
}
