/* ctfill: fill a test namespace's conntrack table with made-up entries,
 * created through libnetfilter_conntrack (ctnetlink "new"), many per send.
 *   ctfill NETNS COUNT [FIRST]
 * Entry i (FIRST <= i < FIRST + COUNT), so tests and the bench know what
 * a filter must find:
 *   protocol   tcp (ESTABLISHED) when i % 10 < 8, else udp
 *   source     10.A.B.C where A.B.C = i / 100 (100 entries per address),
 *              port 1024 + i % 100
 *   dest       192.168.0.1, port 22 80 443 8080 53 by i % 5 (udp: 53)
 *   mark       7 when i % 7 == 0, else 0
 *   timeout    3600 s; status seen-reply, assured
 * Exit 0 when every entry was created; prints how many were and took how
 * long on stderr. The namespace's nf_conntrack_max (global) must allow it. */
#define _GNU_SOURCE
#include "nft/nl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH_BYTES (64 * 1024)

static void fill(struct nf_conntrack *ct, unsigned long i)
{
	static const uint16_t ports[] = { 22, 80, 443, 8080, 53 };
	unsigned long k = i / 100;
	uint32_t src = htonl(0x0a000000u | (uint32_t)(k & 0xffffff));
	uint32_t dst = htonl(0xc0a80001u);
	uint16_t sport = htons((uint16_t)(1024 + i % 100));
	bool tcp = i % 10 < 8;
	uint16_t dport = htons(tcp ? ports[i % 5] : 53);

	nfct_set_attr_u8(ct, ATTR_L3PROTO, AF_INET);
	nfct_set_attr_u32(ct, ATTR_IPV4_SRC, src);
	nfct_set_attr_u32(ct, ATTR_IPV4_DST, dst);
	nfct_set_attr_u8(ct, ATTR_L4PROTO, tcp ? IPPROTO_TCP : IPPROTO_UDP);
	nfct_set_attr_u16(ct, ATTR_PORT_SRC, sport);
	nfct_set_attr_u16(ct, ATTR_PORT_DST, dport);
	nfct_set_attr_u8(ct, ATTR_REPL_L3PROTO, AF_INET);
	nfct_set_attr_u32(ct, ATTR_REPL_IPV4_SRC, dst);
	nfct_set_attr_u32(ct, ATTR_REPL_IPV4_DST, src);
	nfct_set_attr_u8(ct, ATTR_REPL_L4PROTO, tcp ? IPPROTO_TCP : IPPROTO_UDP);
	nfct_set_attr_u16(ct, ATTR_REPL_PORT_SRC, dport);
	nfct_set_attr_u16(ct, ATTR_REPL_PORT_DST, sport);
	if (tcp)
		nfct_set_attr_u8(ct, ATTR_TCP_STATE, TCP_CONNTRACK_ESTABLISHED);
	else
		nfct_attr_unset(ct, ATTR_TCP_STATE);
	nfct_set_attr_u32(ct, ATTR_TIMEOUT, 3600);
	nfct_set_attr_u32(ct, ATTR_STATUS, IPS_SEEN_REPLY | IPS_ASSURED);
	nfct_set_attr_u32(ct, ATTR_MARK, i % 7 == 0 ? 7 : 0);
}

/* read the acks and errors of one batch; returns the number of errors */
static long drain(struct mnl_socket *nl, char *buf, size_t size, uint32_t last_seq, int *first)
{
	long errors = 0;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, size);
		bool done = false;

		if (n < 0) {
			if (!*first)
				*first = errno;
			return errors + 1;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, (int)n);
		     h = mnl_nlmsg_next(h, (int *)&n)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

				if (e->error) {
					errors++;
					if (!*first)
						*first = -e->error;
				}
				if (h->nlmsg_seq == last_seq)
					done = true;
			}
		}
		if (done)
			return errors;
	}
}

int main(int argc, char **argv)
{
	unsigned long count, first_i = 0, made = 0;
	char err[512], *buf, *rbuf;
	struct nf_conntrack *ct;
	struct mnl_socket *nl;
	struct timespec t0, t1;
	int first_err = 0, bufsize = 8 << 20;
	uint32_t seq = 1;
	long errors = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: ctfill NETNS COUNT [FIRST]\n");
		return 2;
	}
	count = strtoul(argv[2], NULL, 10);
	if (argc > 3)
		first_i = strtoul(argv[3], NULL, 10);
	if (nl_enter_netns(argv[1], err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 2;
	}
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		return 1;
	}
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof(bufsize));
	buf = malloc(BATCH_BYTES);
	rbuf = malloc(MNL_SOCKET_BUFFER_SIZE * 4);
	ct = nfct_new();
	if (!buf || !rbuf || !ct)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long i = first_i; i < first_i + count;) {
		size_t len = 0;
		uint32_t last = 0;

		/* as many creates as fit in one send, the last one acked */
		while (i < first_i + count && BATCH_BYTES - len > 512) {
			struct nlmsghdr *h = mnl_nlmsg_put_header(buf + len);
			struct nfgenmsg *g;

			h->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
			h->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
			h->nlmsg_seq = last = seq++;
			g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
			g->nfgen_family = AF_INET;
			g->version = NFNETLINK_V0;
			g->res_id = 0;
			fill(ct, i);
			if (nfct_nlmsg_build(h, ct) < 0) {
				perror("nfct_nlmsg_build");
				return 1;
			}
			len += NLMSG_ALIGN(h->nlmsg_len);
			i++;
			made++;
			if (!(i < first_i + count && BATCH_BYTES - len > 512))
				h->nlmsg_flags |= NLM_F_ACK;
		}
		if (mnl_socket_sendto(nl, buf, len) < 0) {
			perror("send");
			return 1;
		}
		errors += drain(nl, rbuf, MNL_SOCKET_BUFFER_SIZE * 4, last, &first_err);
		if (errors)
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "ctfill: %lu entries sent, %ld failed%s%s, %.2f s\n", made, errors,
		first_err ? ": " : "", first_err ? strerror(first_err) : "",
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	nfct_destroy(ct);
	mnl_socket_close(nl);
	free(buf);
	free(rbuf);
	return errors ? 1 : 0;
}
