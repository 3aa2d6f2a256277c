#include "conntrack/ct_nl.h"
#include "util/errmsg.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

/* CTA_FILTER flags (the kernel's nf_internals.h; not in the uapi headers) */
#define CTF_IP_SRC    (1u << 0)
#define CTF_IP_DST    (1u << 1)
#define CTF_PROTO_NUM (1u << 3)
#define CTF_SRC_PORT  (1u << 4)
#define CTF_DST_PORT  (1u << 5)

/* A dump parses a million messages: the attribute walk is inlined here
 * (libmnl's helpers are calls through the PLT), with the same bounds checks. */
static inline bool a_ok(const struct nlattr *a, const char *end)
{
	return (const char *)a + sizeof(*a) <= end && a->nla_len >= sizeof(*a) &&
	       (const char *)a + a->nla_len <= end;
}

static inline const struct nlattr *a_next(const struct nlattr *a)
{
	return (const struct nlattr *)((const char *)a + MNL_ALIGN(a->nla_len));
}

static inline const void *a_data(const struct nlattr *a)
{
	return (const char *)a + MNL_ATTR_HDRLEN;
}

static inline uint16_t a_len(const struct nlattr *a)
{
	return (uint16_t)(a->nla_len - MNL_ATTR_HDRLEN);
}

static inline uint16_t a_type(const struct nlattr *a)
{
	return a->nla_type & NLA_TYPE_MASK;
}

static inline uint8_t a_u8(const struct nlattr *a)
{
	return *(const uint8_t *)a_data(a);
}

#define NEST_FOR(a, nest) \
	for ((a) = a_data(nest); a_ok((a), (const char *)(nest) + (nest)->nla_len); (a) = a_next(a))

static inline uint16_t get_be16(const struct nlattr *a)
{
	uint16_t v;

	memcpy(&v, a_data(a), sizeof(v));
	return ntohs(v);
}

static inline uint32_t get_be32(const struct nlattr *a)
{
	uint32_t v;

	memcpy(&v, a_data(a), sizeof(v));
	return ntohl(v);
}

static inline uint64_t get_be64(const struct nlattr *a)
{
	uint64_t v;

	memcpy(&v, a_data(a), sizeof(v));
	return be64toh(v);
}

static int parse_ip(const struct nlattr *nest, struct ct_tuple *t)
{
	const struct nlattr *a;

	NEST_FOR(a, nest) {
		uint16_t len = a_len(a);
		const void *p = a_data(a);

		switch (a_type(a)) {
		case CTA_IP_V4_SRC:
			if (len < 4)
				return -EINVAL;
			memcpy(t->src.b, p, 4);
			break;
		case CTA_IP_V4_DST:
			if (len < 4)
				return -EINVAL;
			memcpy(t->dst.b, p, 4);
			break;
		case CTA_IP_V6_SRC:
			if (len < 16)
				return -EINVAL;
			memcpy(t->src.b, p, 16);
			break;
		case CTA_IP_V6_DST:
			if (len < 16)
				return -EINVAL;
			memcpy(t->dst.b, p, 16);
			break;
		}
	}
	return 0;
}

static int parse_proto(const struct nlattr *nest, struct ct_tuple *t, uint8_t *proto)
{
	const struct nlattr *a;

	NEST_FOR(a, nest) {
		uint16_t len = a_len(a);

		switch (a_type(a)) {
		case CTA_PROTO_NUM:
			if (len < 1)
				return -EINVAL;
			*proto = a_u8(a);
			break;
		case CTA_PROTO_SRC_PORT:
		case CTA_PROTO_ICMP_ID:
		case CTA_PROTO_ICMPV6_ID:
			if (len < 2)
				return -EINVAL;
			t->sport = get_be16(a);
			break;
		case CTA_PROTO_DST_PORT:
			if (len < 2)
				return -EINVAL;
			t->dport = get_be16(a);
			break;
		case CTA_PROTO_ICMP_TYPE:
		case CTA_PROTO_ICMPV6_TYPE:
			if (len < 1)
				return -EINVAL;
			t->dport = (uint16_t)((t->dport & 0xff) | a_u8(a) << 8);
			break;
		case CTA_PROTO_ICMP_CODE:
		case CTA_PROTO_ICMPV6_CODE:
			if (len < 1)
				return -EINVAL;
			t->dport = (uint16_t)((t->dport & 0xff00) | a_u8(a));
			break;
		}
	}
	return 0;
}

static int parse_tuple(const struct nlattr *nest, struct ct_tuple *t, uint8_t *proto)
{
	const struct nlattr *a;
	int ret = 0;

	NEST_FOR(a, nest) {
		switch (a_type(a)) {
		case CTA_TUPLE_IP:
			ret = parse_ip(a, t);
			break;
		case CTA_TUPLE_PROTO:
			ret = parse_proto(a, t, proto);
			break;
		}
		if (ret)
			return ret;
	}
	return 0;
}

static void parse_counters(const struct nlattr *nest, struct ct_entry *e, int dir)
{
	const struct nlattr *a;

	NEST_FOR(a, nest) {
		uint16_t len = a_len(a);

		switch (a_type(a)) {
		case CTA_COUNTERS_PACKETS:
			if (len >= 8)
				e->pkts[dir] = get_be64(a);
			break;
		case CTA_COUNTERS_BYTES:
			if (len >= 8)
				e->bytes[dir] = get_be64(a);
			break;
		case CTA_COUNTERS32_PACKETS:
			if (len >= 4)
				e->pkts[dir] = get_be32(a);
			break;
		case CTA_COUNTERS32_BYTES:
			if (len >= 4)
				e->bytes[dir] = get_be32(a);
			break;
		}
	}
	e->flags |= CT_F_ACCT;
}

static void parse_protoinfo(const struct nlattr *nest, struct ct_entry *e)
{
	const struct nlattr *a, *b;

	NEST_FOR(a, nest) {
		int type = a_type(a);
		int want = type == CTA_PROTOINFO_TCP ? CTA_PROTOINFO_TCP_STATE :
			   type == CTA_PROTOINFO_SCTP ? CTA_PROTOINFO_SCTP_STATE : -1;

		if (want < 0)
			continue;
		NEST_FOR(b, a) {
			if (a_type(b) == want && a_len(b) >= 1) {
				e->l4state = a_u8(b);
				e->flags |= CT_F_L4;
			}
		}
	}
}

int ct_nl_parse(const struct nlmsghdr *nlh, struct ct_entry *e)
{
	const struct nfgenmsg *nfg;
	const struct nlattr *a, *b;
	uint8_t proto_r = 0;
	bool orig = false, reply = false;
	const char *end;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nfg)))
		return -EINVAL;
	nfg = mnl_nlmsg_get_payload(nlh);
	memset(e, 0, sizeof(*e));
	e->family = nfg->nfgen_family;
	if (e->family != AF_INET && e->family != AF_INET6)
		return -EINVAL;
	end = (const char *)nlh + nlh->nlmsg_len;
	for (a = (const struct nlattr *)((const char *)nlh + MNL_NLMSG_HDRLEN +
					  MNL_ALIGN(sizeof(*nfg)));
	     a_ok(a, end); a = a_next(a)) {
		uint16_t len = a_len(a);

		switch (a_type(a)) {
		case CTA_TUPLE_ORIG:
			if (parse_tuple(a, &e->orig, &e->proto))
				return -EINVAL;
			orig = true;
			break;
		case CTA_TUPLE_REPLY:
			if (parse_tuple(a, &e->reply, &proto_r))
				return -EINVAL;
			reply = true;
			break;
		case CTA_STATUS:
			if (len >= 4)
				e->status = get_be32(a);
			break;
		case CTA_TIMEOUT:
			if (len >= 4)
				e->timeout = get_be32(a);
			break;
		case CTA_MARK:
			if (len >= 4)
				e->mark = get_be32(a);
			break;
		case CTA_ID:
			if (len >= 4)
				e->id = get_be32(a);
			break;
		case CTA_ZONE:
			if (len >= 2)
				e->zone = get_be16(a);
			break;
		case CTA_PROTOINFO:
			parse_protoinfo(a, e);
			break;
		case CTA_COUNTERS_ORIG:
			parse_counters(a, e, CT_DIR_ORIG);
			break;
		case CTA_COUNTERS_REPLY:
			parse_counters(a, e, CT_DIR_REPLY);
			break;
		case CTA_TIMESTAMP:
			NEST_FOR(b, a) {
				if (a_type(b) == CTA_TIMESTAMP_START &&
				    a_len(b) >= 8) {
					e->start = get_be64(b);
					e->flags |= CT_F_TSTAMP;
				}
			}
			break;
		}
	}
	return orig && reply ? 0 : -EINVAL;
}

struct nlmsghdr *ct_nl_request(void *buf, uint16_t type, uint8_t family, uint16_t flags,
			       uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

static void put_ip(struct nlmsghdr *nlh, uint8_t family, const union ct_addr *src,
		   const union ct_addr *dst)
{
	struct nlattr *ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);

	if (family == AF_INET6) {
		if (src)
			mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, src->b);
		if (dst)
			mnl_attr_put(nlh, CTA_IP_V6_DST, 16, dst->b);
	} else {
		if (src)
			mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, src->b);
		if (dst)
			mnl_attr_put(nlh, CTA_IP_V4_DST, 4, dst->b);
	}
	mnl_attr_nest_end(nlh, ip);
}

void ct_nl_put_tuple(struct nlmsghdr *nlh, uint16_t attr, uint8_t family, uint8_t proto,
		     const struct ct_tuple *t)
{
	struct nlattr *tuple = mnl_attr_nest_start(nlh, attr), *pr;

	put_ip(nlh, family, &t->src, &t->dst);
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, proto);
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		bool v6 = proto == IPPROTO_ICMPV6;

		mnl_attr_put_u16(nlh, v6 ? CTA_PROTO_ICMPV6_ID : CTA_PROTO_ICMP_ID, htons(t->sport));
		mnl_attr_put_u8(nlh, v6 ? CTA_PROTO_ICMPV6_TYPE : CTA_PROTO_ICMP_TYPE,
				(uint8_t)(t->dport >> 8));
		mnl_attr_put_u8(nlh, v6 ? CTA_PROTO_ICMPV6_CODE : CTA_PROTO_ICMP_CODE,
				(uint8_t)t->dport);
	} else if (ct_proto_has_ports(proto)) {
		mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(t->sport));
		mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(t->dport));
	}
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_nest_end(nlh, tuple);
}

/* one direction of a CTA_FILTER: the tuple attribute and its flags */
static uint32_t put_filter_tuple(struct nlmsghdr *nlh, uint16_t attr, const struct ct_kfilter *k,
				 uint8_t family, int dir)
{
	uint32_t fsrc = dir ? CT_KF_RSRC : CT_KF_OSRC, fdst = dir ? CT_KF_RDST : CT_KF_ODST;
	uint32_t fsp = dir ? CT_KF_RSPORT : CT_KF_OSPORT, fdp = dir ? CT_KF_RDPORT : CT_KF_ODPORT;
	uint32_t flags = 0;
	struct nlattr *tuple, *pr;

	if (!(k->flags & (fsrc | fdst | fsp | fdp)) && (dir || !(k->flags & CT_KF_PROTO)))
		return 0;
	tuple = mnl_attr_nest_start(nlh, attr);
	if (k->flags & (fsrc | fdst)) {
		put_ip(nlh, family, (k->flags & fsrc) ? &k->addr[dir * 2] : NULL,
		       (k->flags & fdst) ? &k->addr[dir * 2 + 1] : NULL);
		flags |= ((k->flags & fsrc) ? CTF_IP_SRC : 0) | ((k->flags & fdst) ? CTF_IP_DST : 0);
	}
	if (k->flags & CT_KF_PROTO) {
		pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
		mnl_attr_put_u8(nlh, CTA_PROTO_NUM, k->proto);
		flags |= CTF_PROTO_NUM;
		if (k->flags & fsp) {
			mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(k->port[dir * 2]));
			flags |= CTF_SRC_PORT;
		}
		if (k->flags & fdp) {
			mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(k->port[dir * 2 + 1]));
			flags |= CTF_DST_PORT;
		}
		mnl_attr_nest_end(nlh, pr);
	}
	mnl_attr_nest_end(nlh, tuple);
	return flags;
}

void ct_nl_put_kfilter(struct nlmsghdr *nlh, const struct ct_kfilter *k, uint8_t family)
{
	uint32_t of, rf;
	struct nlattr *nest;

	if (k->flags & CT_KF_MARK) {
		mnl_attr_put_u32(nlh, CTA_MARK, htonl(k->mark));
		mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(k->mark_mask));
	}
	if (k->flags & CT_KF_STATUS) {
		mnl_attr_put_u32(nlh, CTA_STATUS, htonl(k->status));
		mnl_attr_put_u32(nlh, CTA_STATUS_MASK, htonl(k->status_mask));
	}
	if (family != AF_INET && family != AF_INET6)
		return; /* tuple filters need a family */
	of = put_filter_tuple(nlh, CTA_TUPLE_ORIG, k, family, 0);
	rf = put_filter_tuple(nlh, CTA_TUPLE_REPLY, k, family, 1);
	if (!of && !rf)
		return;
	nest = mnl_attr_nest_start(nlh, CTA_FILTER);
	mnl_attr_put_u32(nlh, CTA_FILTER_ORIG_FLAGS, of);
	mnl_attr_put_u32(nlh, CTA_FILTER_REPLY_FLAGS, rf);
	mnl_attr_nest_end(nlh, nest);
}

#define CT_NL_MISSING "connection tracking is not available in this kernel " \
		      "(try: modprobe nf_conntrack_netlink)"

static const struct errmsg ct_nl_errors[] = {
	{ EPERM, "operation not permitted: the kernel refused it" },
	{ EACCES, "operation not permitted: the kernel refused it" },
	{ EOPNOTSUPP, CT_NL_MISSING },
	{ EPROTONOSUPPORT, CT_NL_MISSING },
	{ EAFNOSUPPORT, CT_NL_MISSING },
	{ ENOBUFS, "conntrack events were lost (the socket overflowed)" },
	{ ENOMEM, "out of memory reading the conntrack table" },
	{ 0 }
};

const char *ct_nl_strerror(int err)
{
	return errmsg_get(ct_nl_errors, err);
}
