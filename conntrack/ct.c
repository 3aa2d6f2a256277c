#include "conntrack/ct.h"

#include "model/fmt.h"
#include "util/grow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_sctp.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

_Static_assert(sizeof(struct ct_entry) <= 152, "ct_entry grew: mind the 250 bytes per entry");

/* ---- names ---- */

static const struct {
	uint8_t num;
	const char *name;
} protos[] = {
	{ IPPROTO_TCP, "tcp" }, { IPPROTO_UDP, "udp" }, { IPPROTO_ICMP, "icmp" },
	{ IPPROTO_ICMPV6, "icmpv6" }, { IPPROTO_SCTP, "sctp" }, { IPPROTO_DCCP, "dccp" },
	{ IPPROTO_UDPLITE, "udplite" }, { IPPROTO_GRE, "gre" }, { IPPROTO_ESP, "esp" },
	{ IPPROTO_AH, "ah" },
};

const char *ct_proto_name(uint8_t proto)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].num == proto)
			return protos[i].name;
	return NULL;
}

int ct_proto_parse(const char *name)
{
	char *end;
	unsigned long v;

	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strcasecmp(protos[i].name, name) == 0)
			return protos[i].num;
	if (strcasecmp(name, "ipv6-icmp") == 0 || strcasecmp(name, "icmp6") == 0)
		return IPPROTO_ICMPV6;
	if (*name < '0' || *name > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(name, &end, 10);
	if (errno || *end || v > 255)
		return -EINVAL;
	return (int)v;
}

static const char *const tcp_states[] = {
	[TCP_CONNTRACK_NONE] = "NONE",
	[TCP_CONNTRACK_SYN_SENT] = "SYN_SENT",
	[TCP_CONNTRACK_SYN_RECV] = "SYN_RECV",
	[TCP_CONNTRACK_ESTABLISHED] = "ESTABLISHED",
	[TCP_CONNTRACK_FIN_WAIT] = "FIN_WAIT",
	[TCP_CONNTRACK_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCP_CONNTRACK_LAST_ACK] = "LAST_ACK",
	[TCP_CONNTRACK_TIME_WAIT] = "TIME_WAIT",
	[TCP_CONNTRACK_CLOSE] = "CLOSE",
	[TCP_CONNTRACK_SYN_SENT2] = "SYN_SENT2",
};

static const char *const sctp_states[] = {
	[SCTP_CONNTRACK_NONE] = "NONE",
	[SCTP_CONNTRACK_CLOSED] = "CLOSED",
	[SCTP_CONNTRACK_COOKIE_WAIT] = "COOKIE_WAIT",
	[SCTP_CONNTRACK_COOKIE_ECHOED] = "COOKIE_ECHOED",
	[SCTP_CONNTRACK_ESTABLISHED] = "ESTABLISHED",
	[SCTP_CONNTRACK_SHUTDOWN_SENT] = "SHUTDOWN_SENT",
	[SCTP_CONNTRACK_SHUTDOWN_RECD] = "SHUTDOWN_RECD",
	[SCTP_CONNTRACK_SHUTDOWN_ACK_SENT] = "SHUTDOWN_ACK_SENT",
	[SCTP_CONNTRACK_HEARTBEAT_SENT] = "HEARTBEAT_SENT",
	[SCTP_CONNTRACK_HEARTBEAT_ACKED] = "HEARTBEAT_ACKED",
};

#define NAMES(a) (int)(sizeof(a) / sizeof((a)[0]))

const char *ct_l4state_name(const struct ct_entry *e)
{
	if (e->proto == IPPROTO_TCP)
		return fmt_name_at(tcp_states, NAMES(tcp_states), e->l4state) ?: "?";
	if (e->proto == IPPROTO_SCTP)
		return fmt_name_at(sctp_states, NAMES(sctp_states), e->l4state) ?: "?";
	return NULL;
}

static int state_parse(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (names[i] && strcasecmp(names[i], name) == 0)
			return i;
	return -EINVAL;
}

int ct_tcp_state_parse(const char *name)
{
	return state_parse(tcp_states, NAMES(tcp_states), name);
}

int ct_sctp_state_parse(const char *name)
{
	return state_parse(sctp_states, NAMES(sctp_states), name);
}

enum ct_ctstate ct_ctstate(const struct ct_entry *e)
{
	if (e->status & IPS_EXPECTED)
		return CT_RELATED;
	if (e->status & IPS_SEEN_REPLY)
		return CT_ESTABLISHED;
	return CT_NEW;
}

const char *ct_ctstate_name(enum ct_ctstate s)
{
	static const char *const names[] = { "new", "established", "related" };

	return (unsigned)s < 3 ? names[s] : "?";
}

const char *ct_state_name(const struct ct_entry *e)
{
	static const char *const upper[] = { "NEW", "ESTABLISHED", "RELATED" };

	return ct_l4state_name(e) ?: upper[ct_ctstate(e)];
}

static const char *const status_bits[] = {
	[IPS_EXPECTED_BIT] = "expected",
	[IPS_SEEN_REPLY_BIT] = "seen-reply",
	[IPS_ASSURED_BIT] = "assured",
	[IPS_CONFIRMED_BIT] = "confirmed",
	[IPS_SRC_NAT_BIT] = "snat",
	[IPS_DST_NAT_BIT] = "dnat",
	[IPS_SEQ_ADJUST_BIT] = "seq-adjust",
	[IPS_SRC_NAT_DONE_BIT] = "snat-done",
	[IPS_DST_NAT_DONE_BIT] = "dnat-done",
	[IPS_DYING_BIT] = "dying",
	[IPS_FIXED_TIMEOUT_BIT] = "fixed-timeout",
	[IPS_TEMPLATE_BIT] = "template",
	[IPS_UNTRACKED_BIT] = "untracked",
	[IPS_HELPER_BIT] = "helper",
	[IPS_OFFLOAD_BIT] = "offload",
	[IPS_HW_OFFLOAD_BIT] = "hw-offload",
};

const char *ct_status_bit_name(unsigned bit)
{
	return fmt_name_at(status_bits, NAMES(status_bits), (int)bit);
}

uint32_t ct_status_parse(const char *name)
{
	if (strcasecmp(name, "nat") == 0)
		return IPS_SRC_NAT | IPS_DST_NAT;
	if (strcasecmp(name, "seen_reply") == 0 || strcasecmp(name, "replied") == 0)
		return IPS_SEEN_REPLY;
	for (int i = 0; i < NAMES(status_bits); i++)
		if (status_bits[i] && strcasecmp(status_bits[i], name) == 0)
			return 1u << i;
	return 0;
}

static bool addr_eq(const union ct_addr *a, const union ct_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

bool ct_has_snat(const struct ct_entry *e)
{
	return !addr_eq(&e->reply.dst, &e->orig.src) ||
	       (ct_proto_has_ports(e->proto) && e->reply.dport != e->orig.sport);
}

bool ct_has_dnat(const struct ct_entry *e)
{
	return !addr_eq(&e->reply.src, &e->orig.dst) ||
	       (ct_proto_has_ports(e->proto) && e->reply.sport != e->orig.dport);
}

bool ct_proto_has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP ||
	       proto == IPPROTO_DCCP || proto == IPPROTO_UDPLITE;
}

/* ---- the table ---- */

size_t ct_table_bytes(const struct ct_table *t)
{
	return t->cap * sizeof(*t->e) + t->hcap * sizeof(*t->hash);
}

struct ct_entry *ct_table_slot(struct ct_table *t)
{
	/* big blocks are mmapped: realloc (grow's) moves pages, it does not copy */
	if (grow(&t->e, &t->cap, t->n + 1, sizeof(*t->e), 1024))
		return NULL;
	return &t->e[t->n];
}

static size_t hash_slot(uint32_t id, size_t hcap)
{
	return ((uint64_t)id * 0x9E3779B97F4A7C15ull >> 32) & (hcap - 1);
}

static void hash_insert(struct ct_table *t, size_t index)
{
	size_t h = hash_slot(t->e[index].id, t->hcap);

	while (t->hash[h])
		h = (h + 1) & (t->hcap - 1);
	t->hash[h] = (uint32_t)index + 1;
}

int ct_table_index(struct ct_table *t)
{
	size_t hcap = 1024;
	uint32_t *h;

	while (hcap < t->n * 2)
		hcap *= 2;
	h = calloc(hcap, sizeof(*h));
	if (!h)
		return -ENOMEM;
	free(t->hash);
	t->hash = h;
	t->hcap = hcap;
	for (size_t i = 0; i < t->n; i++)
		hash_insert(t, i);
	return 0;
}

int ct_table_commit(struct ct_table *t)
{
	t->e[t->n].seen = t->epoch;
	t->n++;
	if (!t->hcap)
		return 0;
	if (t->n * 2 > t->hcap)
		return ct_table_index(t);
	hash_insert(t, t->n - 1);
	return 0;
}

static bool same_conn(const struct ct_entry *a, const struct ct_entry *b)
{
	return a->id == b->id && a->family == b->family && a->proto == b->proto &&
	       a->zone == b->zone && a->orig.sport == b->orig.sport &&
	       a->orig.dport == b->orig.dport && addr_eq(&a->orig.src, &b->orig.src) &&
	       addr_eq(&a->orig.dst, &b->orig.dst);
}

struct ct_entry *ct_table_find(const struct ct_table *t, const struct ct_entry *key)
{
	size_t h;

	if (!t->hcap)
		return NULL;
	for (h = hash_slot(key->id, t->hcap); t->hash[h]; h = (h + 1) & (t->hcap - 1)) {
		struct ct_entry *e = &t->e[t->hash[h] - 1];

		if (!(e->flags & CT_F_GONE) && same_conn(e, key))
			return e;
	}
	return NULL;
}

void ct_table_sync_begin(struct ct_table *t, double now)
{
	t->epoch++;
	t->prev_sync = t->sync_time;
	t->sync_time = now;
}

static void update_rate(const struct ct_table *t, struct ct_entry *e, const struct ct_entry *src)
{
	double dt = t->sync_time - t->prev_sync;
	uint64_t b0 = e->bytes[0] + e->bytes[1], p0 = e->pkts[0] + e->pkts[1];
	uint64_t b1 = src->bytes[0] + src->bytes[1], p1 = src->pkts[0] + src->pkts[1];

	if (e->seen + 1 != t->epoch || t->prev_sync <= 0 || dt <= 0 || !(e->flags & CT_F_ACCT)) {
		e->flags &= ~CT_F_RATE;
		return;
	}
	e->rate_bytes = b1 >= b0 ? (float)((double)(b1 - b0) / dt) : 0;
	e->rate_pkts = p1 >= p0 ? (float)((double)(p1 - p0) / dt) : 0;
	e->flags |= CT_F_RATE;
}

struct ct_entry *ct_table_upsert(struct ct_table *t, const struct ct_entry *src)
{
	struct ct_entry *e = ct_table_find(t, src);

	if (!e) {
		e = ct_table_slot(t);
		if (!e)
			return NULL;
		*e = *src;
		e->flags &= ~(CT_F_GONE | CT_F_RATE | CT_F_NEW);
		if (t->loaded)
			e->flags |= CT_F_NEW;
		if (ct_table_commit(t))
			return NULL;
		return &t->e[t->n - 1];
	}
	if (src->flags & CT_F_ACCT) {
		update_rate(t, e, src);
		memcpy(e->pkts, src->pkts, sizeof(e->pkts));
		memcpy(e->bytes, src->bytes, sizeof(e->bytes));
	}
	if (src->flags & CT_F_TSTAMP)
		e->start = src->start;
	if (src->flags & CT_F_L4)
		e->l4state = src->l4state;
	e->reply = src->reply;
	e->mark = src->mark;
	e->status = src->status;
	e->timeout = src->timeout;
	e->flags |= src->flags & (CT_F_ACCT | CT_F_TSTAMP | CT_F_L4);
	e->seen = t->epoch;
	return e;
}

bool ct_table_remove(struct ct_table *t, const struct ct_entry *key)
{
	struct ct_entry *e = ct_table_find(t, key);

	if (!e)
		return false;
	if (key->flags & CT_F_ACCT) {
		memcpy(e->pkts, key->pkts, sizeof(e->pkts));
		memcpy(e->bytes, key->bytes, sizeof(e->bytes));
	}
	e->flags |= CT_F_GONE;
	t->ngone++;
	return true;
}

void ct_table_sync_end(struct ct_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct ct_entry *e = &t->e[i];

		if (e->seen != t->epoch && !(e->flags & CT_F_GONE)) {
			e->flags |= CT_F_GONE;
			t->ngone++;
		}
	}
	t->loaded = true;
}

int ct_table_purge(struct ct_table *t, bool clear_new)
{
	size_t j = 0;

	for (size_t i = 0; i < t->n; i++) {
		if (t->e[i].flags & CT_F_GONE)
			continue;
		if (j != i)
			t->e[j] = t->e[i];
		if (clear_new)
			t->e[j].flags &= ~CT_F_NEW;
		j++;
	}
	t->n = j;
	t->ngone = 0;
	return t->hcap ? ct_table_index(t) : 0;
}

void ct_table_trim(struct ct_table *t)
{
	struct ct_entry *e;

	if (t->n == t->cap || !t->n)
		return;
	e = realloc(t->e, t->n * sizeof(*e));
	if (e) {
		t->e = e;
		t->cap = t->n;
	}
}

void ct_table_free(struct ct_table *t)
{
	free(t->e);
	free(t->hash);
	memset(t, 0, sizeof(*t));
}

/* ---- totals ---- */

void ct_totals_add(struct ct_totals *tot, const struct ct_entry *e)
{
	tot->all++;
	switch (e->proto) {
	case IPPROTO_TCP:
		tot->proto[CT_TOT_TCP]++;
		if (e->l4state < sizeof(tot->tcp_state) / sizeof(tot->tcp_state[0]))
			tot->tcp_state[e->l4state]++;
		break;
	case IPPROTO_UDP:
		tot->proto[CT_TOT_UDP]++;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		tot->proto[CT_TOT_ICMP]++;
		break;
	default:
		tot->proto[CT_TOT_OTHER]++;
	}
	tot->ctstate[ct_ctstate(e)]++;
	if (ct_has_snat(e))
		tot->snat++;
	if (ct_has_dnat(e))
		tot->dnat++;
	if (e->status & IPS_ASSURED)
		tot->assured++;
	tot->bytes += e->bytes[0] + e->bytes[1];
	tot->pkts += e->pkts[0] + e->pkts[1];
}

/* ---- columns ---- */

static const struct {
	const char *name, *title;
	int width;
	bool desc;
} cols[CT_COL_N] = {
#define CT_COL_INFO(id, name, title, width, desc) [CT_COL_##id] = { name, title, width, desc },
	CT_COLUMNS(CT_COL_INFO)
#undef CT_COL_INFO
};

const char *ct_col_name(enum ct_col c)
{
	return (unsigned)c < CT_COL_N ? cols[c].name : "?";
}

const char *ct_col_title(enum ct_col c)
{
	return (unsigned)c < CT_COL_N ? cols[c].title : "?";
}

int ct_col_width(enum ct_col c)
{
	return (unsigned)c < CT_COL_N ? cols[c].width : 0;
}

bool ct_col_desc(enum ct_col c)
{
	return (unsigned)c < CT_COL_N && cols[c].desc;
}

int ct_col_parse(const char *name)
{
	static const struct {
		const char *alias;
		enum ct_col col;
	} aliases[] = {
		{ "pkts", CT_COL_PKTS }, { "opkts", CT_COL_OPKTS }, { "rpkts", CT_COL_RPKTS },
		{ "protocol", CT_COL_PROTO }, { "source", CT_COL_SRC },
		{ "destination", CT_COL_DST }, { "ttl", CT_COL_TIMEOUT },
	};

	for (int i = 0; i < CT_COL_N; i++)
		if (strcasecmp(cols[i].name, name) == 0)
			return i;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcasecmp(aliases[i].alias, name) == 0)
			return aliases[i].col;
	return -EINVAL;
}

/* decimal digits of v at p; returns the length */
static size_t put_u64(char *p, uint64_t v)
{
	char tmp[24];
	size_t n = 0, len;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	len = n;
	while (n)
		*p++ = tmp[--n];
	return len;
}

size_t ct_addr_format(char *buf, uint8_t family, const union ct_addr *a)
{
	char *p = buf;

	if (family == AF_INET6) {
		if (!inet_ntop(AF_INET6, a->b, buf, 46))
			strcpy(buf, "?");
		return strlen(buf);
	}
	for (int i = 0; i < 4; i++) {
		if (i)
			*p++ = '.';
		p += put_u64(p, a->b[i]);
	}
	*p = 0;
	return (size_t)(p - buf);
}

size_t ct_endpoint_format(char *buf, uint8_t family, uint8_t proto,
			  const union ct_addr *a, uint16_t port)
{
	char *p = buf;

	if (!ct_proto_has_ports(proto))
		return ct_addr_format(buf, family, a);
	if (family == AF_INET6)
		*p++ = '[';
	p += ct_addr_format(p, family, a);
	if (family == AF_INET6)
		*p++ = ']';
	*p++ = ':';
	p += put_u64(p, port);
	*p = 0;
	return (size_t)(p - buf);
}

static size_t copy_out(char *buf, size_t size, const char *s, size_t len)
{
	if (!size)
		return 0;
	if (len >= size)
		len = size - 1;
	memcpy(buf, s, len);
	buf[len] = 0;
	return len;
}

static size_t put_num(char *p, uint64_t v, bool exact)
{
	if (exact)
		return put_u64(p, v);
	fmt_human(p, 24, v);
	return strlen(p);
}

/* 45s, 12m05s, 3h02m, 5d04h */
static size_t put_duration(char *p, uint64_t s)
{
	char *q = p;

	if (s < 60) {
		q += put_u64(q, s);
		*q++ = 's';
	} else if (s < 3600) {
		q += put_u64(q, s / 60);
		*q++ = 'm';
		*q++ = (char)('0' + s % 60 / 10);
		*q++ = (char)('0' + s % 10);
		*q++ = 's';
	} else if (s < 86400) {
		q += put_u64(q, s / 3600);
		*q++ = 'h';
		*q++ = (char)('0' + s % 3600 / 60 / 10);
		*q++ = (char)('0' + s % 3600 / 60 % 10);
		*q++ = 'm';
	} else {
		q += put_u64(q, s / 86400);
		*q++ = 'd';
		*q++ = (char)('0' + s % 86400 / 3600 / 10);
		*q++ = (char)('0' + s % 86400 / 3600 % 10);
		*q++ = 'h';
	}
	*q = 0;
	return (size_t)(q - p);
}

static size_t put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n + 1);
	return n;
}

size_t ct_col_format(char *buf, size_t size, const struct ct_entry *e, enum ct_col c,
		     const struct ct_fmt_opts *o)
{
	static const struct ct_fmt_opts plain;
	char t[160], *p = t;
	bool acct = e->flags & CT_F_ACCT;
	const char *s;

	if (!o)
		o = &plain;
	t[0] = 0;
	switch (c) {
	case CT_COL_ID:
		p += put_u64(p, e->id);
		break;
	case CT_COL_FAMILY:
		p += put_str(p, e->family == AF_INET6 ? "ipv6" : "ipv4");
		break;
	case CT_COL_PROTO:
		s = ct_proto_name(e->proto);
		p += s ? put_str(p, s) : put_u64(p, e->proto);
		break;
	case CT_COL_STATE:
		p += put_str(p, ct_state_name(e));
		break;
	case CT_COL_SRC:
		p += ct_endpoint_format(p, e->family, e->proto, &e->orig.src, e->orig.sport);
		break;
	case CT_COL_DST:
		p += ct_endpoint_format(p, e->family, e->proto, &e->orig.dst, e->orig.dport);
		break;
	case CT_COL_SPORT:
	case CT_COL_DPORT:
		if (ct_proto_has_ports(e->proto))
			p += put_u64(p, c == CT_COL_SPORT ? e->orig.sport : e->orig.dport);
		else if (e->proto == IPPROTO_ICMP || e->proto == IPPROTO_ICMPV6) {
			if (c == CT_COL_SPORT) {
				p += put_str(p, "id ");
				p += put_u64(p, e->orig.sport);
			} else {
				p += put_u64(p, e->orig.dport >> 8);
				*p++ = '/';
				p += put_u64(p, e->orig.dport & 0xff);
			}
		} else
			p += put_str(p, "-");
		break;
	case CT_COL_NAT:
		if (ct_has_dnat(e)) {
			p += put_str(p, "dnat ");
			p += ct_endpoint_format(p, e->family, e->proto, &e->reply.src,
						e->reply.sport);
		}
		if (ct_has_snat(e)) {
			if (p != t)
				*p++ = ' ';
			p += put_str(p, "snat ");
			p += ct_endpoint_format(p, e->family, e->proto, &e->reply.dst,
						e->reply.dport);
		}
		if (p == t)
			p += put_str(p, "-");
		break;
	case CT_COL_MARK:
		p += put_u64(p, e->mark);
		break;
	case CT_COL_ZONE:
		p += put_u64(p, e->zone);
		break;
	case CT_COL_TIMEOUT:
		p += o->exact ? put_u64(p, e->timeout) : put_duration(p, e->timeout);
		break;
	case CT_COL_OPKTS:
	case CT_COL_OBYTES:
	case CT_COL_RPKTS:
	case CT_COL_RBYTES:
	case CT_COL_PKTS:
	case CT_COL_BYTES: {
		uint64_t v;

		if (!acct) {
			p += put_str(p, "-");
			break;
		}
		v = c == CT_COL_OPKTS ? e->pkts[0] : c == CT_COL_OBYTES ? e->bytes[0] :
		    c == CT_COL_RPKTS ? e->pkts[1] : c == CT_COL_RBYTES ? e->bytes[1] :
		    c == CT_COL_PKTS ? e->pkts[0] + e->pkts[1] : e->bytes[0] + e->bytes[1];
		p += put_num(p, v, o->exact);
		break;
	}
	case CT_COL_RATE:
		if (!(e->flags & CT_F_RATE)) {
			p += put_str(p, "-");
			break;
		}
		p += put_num(p, (uint64_t)(e->rate_bytes + 0.5f), o->exact);
		p += put_str(p, "/s");
		break;
	case CT_COL_AGE: {
		double age = o->now - (double)e->start / 1e9;

		if (!(e->flags & CT_F_TSTAMP) || !e->start)
			p += put_str(p, "-");
		else
			p += put_duration(p, age > 0 ? (uint64_t)age : 0);
		break;
	}
	case CT_COL_STATUS:
		p += put_str(p, (e->status & IPS_ASSURED) ? "assured" :
				(e->status & IPS_SEEN_REPLY) ? "replied" : "unreplied");
		if (e->status & IPS_OFFLOAD)
			p += put_str(p, ",offload");
		if (e->status & IPS_DYING)
			p += put_str(p, ",dying");
		break;
	default:
		p += put_str(p, "?");
	}
	return copy_out(buf, size, t, (size_t)(p - t));
}
