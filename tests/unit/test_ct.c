/* Unit tests of the tracked connections' pure functions: the filter
 * language (parser, errors, matching, what the kernel is given), sorting,
 * the table (events, re-reads, rates) and the columns. No kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "conntrack/ct_nl.h"
#include "conntrack/ct.h"
#include "conntrack/ct_filter.h"
#include "conntrack/ct_print.h"
#include "conntrack/ct_rows.h"

#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <errno.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- entries ---- */

static void addr(union ct_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	if (strchr(s, ':'))
		assert_int_equal(inet_pton(AF_INET6, s, a->b), 1);
	else
		assert_int_equal(inet_pton(AF_INET, s, a->b), 1);
}

/* a connection src:sport -> dst:dport, replied to unchanged (no NAT) */
static struct ct_entry conn(uint8_t proto, const char *src, uint16_t sport, const char *dst,
			    uint16_t dport)
{
	struct ct_entry e;

	memset(&e, 0, sizeof(e));
	e.family = strchr(src, ':') ? AF_INET6 : AF_INET;
	e.proto = proto;
	addr(&e.orig.src, src);
	addr(&e.orig.dst, dst);
	e.orig.sport = sport;
	e.orig.dport = dport;
	e.reply.src = e.orig.dst;
	e.reply.dst = e.orig.src;
	e.reply.sport = dport;
	e.reply.dport = sport;
	e.status = IPS_SEEN_REPLY | IPS_ASSURED | IPS_CONFIRMED;
	e.l4state = proto == IPPROTO_TCP ? TCP_CONNTRACK_ESTABLISHED : 0;
	e.timeout = 300;
	e.id = 1;
	return e;
}

/* ---- filter: matching ---- */

static bool m(const char *filter, const struct ct_entry *e)
{
	struct ct_filter f;
	char err[512];
	bool r;

	if (ct_filter_parse(&f, filter, err, sizeof(err), NULL) != 0)
		fail_msg("filter '%s' did not parse: %s", filter, err);
	r = ct_filter_match(&f, e);
	ct_filter_free(&f);
	return r;
}

static void test_filter_basic(void **state)
{
	struct ct_entry ssh = conn(IPPROTO_TCP, "10.1.2.3", 40000, "192.168.0.1", 22);
	struct ct_entry web = conn(IPPROTO_TCP, "172.16.0.9", 41000, "192.168.0.1", 443);

	(void)state;
	assert_true(m("src 10.0.0.0/8 dport 22 state established proto tcp", &ssh));
	assert_false(m("src 10.0.0.0/8 dport 22 state established proto tcp", &web));
	assert_true(m("", &ssh));
	assert_true(m("   ", &web));
	assert_true(m("src 10.1.2.3", &ssh));
	assert_false(m("src 10.1.2.4", &ssh));
	assert_true(m("src 10.1.2.0/24", &ssh));
	assert_true(m("src 0.0.0.0/0", &ssh));
	assert_true(m("dst 192.168.0.1 sport 40000", &ssh));
	assert_false(m("dst 192.168.0.2", &ssh));
	assert_true(m("proto 6", &ssh));
	assert_false(m("proto udp", &ssh));
	assert_true(m("family ipv4", &ssh));
	assert_false(m("family ipv6", &ssh));
	/* "and" may be written; case does not matter */
	assert_true(m("SRC 10.0.0.0/8 AND DPORT 22", &ssh));
	assert_true(m("src 10.0.0.0/8 && dport 22", &ssh));
}

static void test_filter_either_side_and_nat(void **state)
{
	/* client 10.0.0.5 -> 203.0.113.1:80, DNAT to 192.168.1.10:8080, masqueraded
	 * as 192.168.1.1:50000 */
	struct ct_entry e = conn(IPPROTO_TCP, "10.0.0.5", 33333, "203.0.113.1", 80);

	(void)state;
	addr(&e.reply.src, "192.168.1.10");
	e.reply.sport = 8080;
	addr(&e.reply.dst, "192.168.1.1");
	e.reply.dport = 50000;
	e.status |= IPS_SRC_NAT | IPS_DST_NAT;
	assert_true(ct_has_dnat(&e));
	assert_true(ct_has_snat(&e));
	assert_true(m("host 192.168.1.10", &e));
	assert_false(m("src 192.168.1.10", &e));
	assert_false(m("dst 192.168.1.10", &e));
	assert_true(m("rsrc 192.168.1.10 rsport 8080", &e));
	assert_true(m("rdst 192.168.1.1 rdport 50000", &e));
	assert_true(m("host 10.0.0.5", &e));
	assert_true(m("host 203.0.113.0/24", &e));
	assert_true(m("port 8080", &e));
	assert_true(m("port 50000", &e));
	assert_true(m("port 80", &e));
	assert_false(m("port 81", &e));
	assert_false(m("dport 8080", &e));
	assert_true(m("status dnat", &e));
	assert_true(m("status nat", &e));
	assert_false(m("status dying", &e));
}

static void test_filter_negation_or_groups(void **state)
{
	struct ct_entry ssh = conn(IPPROTO_TCP, "10.1.2.3", 40000, "192.168.0.1", 22);
	struct ct_entry dns = conn(IPPROTO_UDP, "10.1.2.3", 40001, "192.168.0.1", 53);

	(void)state;
	assert_false(m("not dport 22", &ssh));
	assert_true(m("not dport 22", &dns));
	assert_true(m("! dport 22", &dns));
	assert_true(m("!dport 22", &dns));
	assert_false(m("!dport 22", &ssh));
	assert_true(m("not not dport 22", &ssh));
	assert_true(m("dport 22 or dport 53", &ssh));
	assert_true(m("dport 22 or dport 53", &dns));
	assert_true(m("dport 22,53", &dns));
	assert_true(m("dport 22, 53", &dns));
	assert_true(m("dport 1-100", &dns));
	assert_false(m("dport 54-100", &dns));
	/* and binds tighter than or */
	assert_true(m("proto udp dport 22 or dport 53", &dns));
	assert_false(m("proto tcp and (dport 53 or dport 80)", &dns));
	assert_true(m("(proto tcp or proto udp) and not (dport 80 or dport 443)", &dns));
	assert_false(m("not (dport 22 or dport 53)", &ssh));
	assert_true(m("((src 10.1.2.3))", &ssh));
	/* ports mean nothing to ICMP */
	struct ct_entry ping = conn(IPPROTO_ICMP, "10.1.2.3", 7, "192.168.0.1", 8 << 8);
	assert_false(m("port 7", &ping));
	assert_true(m("not port 7", &ping));
	assert_true(m("proto icmp", &ping));
}

static void test_filter_state_mark_zone_id(void **state)
{
	struct ct_entry tw = conn(IPPROTO_TCP, "10.0.0.1", 1000, "10.0.0.2", 80);
	struct ct_entry udp_new = conn(IPPROTO_UDP, "10.0.0.1", 1000, "10.0.0.2", 53);
	struct ct_entry udp_est = conn(IPPROTO_UDP, "10.0.0.1", 1001, "10.0.0.2", 53);
	struct ct_entry rel = conn(IPPROTO_TCP, "10.0.0.1", 1002, "10.0.0.2", 20);

	(void)state;
	tw.l4state = TCP_CONNTRACK_TIME_WAIT;
	udp_new.status = IPS_CONFIRMED;
	rel.status |= IPS_EXPECTED;
	assert_true(m("state time_wait", &tw));
	assert_true(m("state TIME_WAIT", &tw));
	assert_false(m("state established", &tw));
	assert_true(m("ctstate established", &tw));
	assert_true(m("state new", &udp_new));
	assert_false(m("state established", &udp_new));
	assert_true(m("state established", &udp_est));
	assert_true(m("ctstate new", &udp_new));
	assert_true(m("ctstate related", &rel));
	assert_true(m("state established,time_wait", &tw));
	assert_true(m("status assured", &udp_est));
	assert_false(m("status assured", &udp_new));
	assert_true(m("status seen-reply", &udp_est));

	tw.mark = 0x1234;
	tw.zone = 7;
	tw.id = 4000000000u;
	assert_true(m("mark 0x1234", &tw));
	assert_true(m("mark 4660", &tw));
	assert_false(m("mark 0x1235", &tw));
	assert_true(m("mark 0x30/0xf0", &tw));
	assert_false(m("mark 0x40/0xf0", &tw));
	assert_true(m("zone 7", &tw));
	assert_true(m("zone 1-10", &tw));
	assert_false(m("zone 0", &tw));
	assert_true(m("id 4000000000", &tw));
	assert_false(m("id 1", &tw));
}

static void test_filter_ipv6(void **state)
{
	struct ct_entry e6 = conn(IPPROTO_TCP, "2001:db8::5", 5555, "2001:db8:1::1", 443);
	struct ct_entry e4 = conn(IPPROTO_TCP, "10.0.0.5", 5555, "10.0.0.1", 443);

	(void)state;
	assert_true(m("src 2001:db8::/32", &e6));
	assert_true(m("src 2001:db8::5", &e6));
	assert_false(m("src 2001:db8::6", &e6));
	assert_true(m("dst 2001:db8:1::/48", &e6));
	assert_false(m("dst 2001:db8:2::/48", &e6));
	assert_true(m("family ipv6", &e6));
	/* an IPv4 prefix never matches an IPv6 entry, even 0.0.0.0/0 */
	assert_false(m("src 0.0.0.0/0", &e6));
	assert_false(m("src ::/0", &e4));
	assert_true(m("src ::/0 or src 0.0.0.0/0", &e4));
	assert_true(m("host 2001:db8::5 dport 443", &e6));
}

/* ---- filter: errors ---- */

static void expect_error(const char *filter, const char *msg_part, size_t off, size_t len,
			 int word)
{
	struct ct_filter f;
	struct ct_filter_pos pos = { 99, 99, 99 };
	char err[512] = "";
	int ret = ct_filter_parse(&f, filter, err, sizeof(err), &pos);

	if (ret != -EINVAL)
		fail_msg("'%s' parsed (%d), expected an error", filter, ret);
	if (!strstr(err, msg_part))
		fail_msg("'%s': message '%s' lacks '%s'", filter, err, msg_part);
	if (pos.off != off || pos.len != len || pos.word != word)
		fail_msg("'%s': error at %zu+%zu word %d, expected %zu+%zu word %d (%s)", filter,
			 pos.off, pos.len, pos.word, off, len, word, err);
	assert_true(ct_filter_empty(&f));
}

static void test_filter_errors(void **state)
{
	(void)state;
	expect_error("srcc 10.0.0.1", "word 1 'srcc': unknown filter word", 0, 4, 1);
	expect_error("src 10.0.0.0/33 dport 22", "prefix length 33 is out of range for IPv4 (0-32)",
		     4, 11, 2);
	expect_error("src 2001:db8::/129", "out of range for IPv6 (0-128)", 4, 14, 2);
	expect_error("src 10.0.0.256", "not an IPv4 or IPv6 address", 4, 10, 2);
	expect_error("src 10.0.0.0/x", "'/x' is not a prefix length", 4, 10, 2);
	expect_error("dport 70000", "port is out of range (0-65535)", 6, 5, 2);
	expect_error("dport http", "not a port", 6, 4, 2);
	expect_error("dport 80-22", "empty range: 80 is above 22", 6, 5, 2);
	expect_error("dport", "'dport' needs a port", 5, 0, 2);
	expect_error("src 10.0.0.1 dport", "'dport' needs a port", 18, 0, 4);
	expect_error("dport not", "'dport' needs a port", 6, 3, 2);
	expect_error("proto tcpp", "unknown protocol", 6, 4, 2);
	expect_error("state establishd", "unknown state", 6, 10, 2);
	expect_error("state established,", "ends with a comma", 18, 0, 3);
	expect_error("dport 22,,80", "empty value", 6, 6, 2);
	expect_error("family ipv5", "unknown family", 7, 4, 2);
	expect_error("mark 0xzz", "not a mark", 5, 4, 2);
	expect_error("status happy", "unknown status", 7, 5, 2);
	expect_error("(dport 22", "this '(' is never closed", 0, 1, 1);
	expect_error("dport 22)", "')' without a '('", 8, 1, 3);
	expect_error("dport 22 or", "'or' needs a condition on each side", 9, 2, 3);
	expect_error("or dport 22", "'or' needs a condition on each side", 0, 2, 1);
	expect_error("dport 22 and", "'and' needs a condition", 9, 3, 3);
	expect_error("not", "'not' needs a condition after it", 0, 3, 1);
	expect_error("dport 22 !", "'not' needs a condition after it", 9, 1, 3);
	expect_error("()", "')' without a '('", 1, 1, 2);
}

static void test_filter_kernel(void **state)
{
	struct ct_filter f;
	struct ct_kfilter k;
	char err[256];

	(void)state;
	assert_int_equal(ct_filter_parse(&f, "src 10.0.0.1 dport 22 proto tcp", err, sizeof(err),
					 NULL), 0);
	assert_true(ct_filter_kernel(&f, &k));
	assert_int_equal(k.flags, CT_KF_OSRC | CT_KF_ODPORT | CT_KF_PROTO | CT_KF_FAMILY);
	assert_int_equal(k.family, AF_INET);
	assert_int_equal(k.proto, IPPROTO_TCP);
	assert_int_equal(k.port[1], 22);
	assert_int_equal(k.addr[0].w[0], htonl(0x0a000001));
	ct_filter_free(&f);

	/* a prefix, a list, a range, an "or", a "not": not given to the kernel */
	const struct {
		const char *text;
		uint32_t flags;
	} partial[] = {
		{ "src 10.0.0.0/8", CT_KF_FAMILY }, { "dport 22,80 proto tcp", CT_KF_PROTO },
		{ "dport 1-1024 proto tcp", CT_KF_PROTO }, { "src 10.0.0.1 or src 10.0.0.2", 0 },
		{ "not src 10.0.0.1", 0 }, { "host 10.0.0.1", 0 },
		{ "port 22 proto tcp", CT_KF_PROTO }, { "zone 3", 0 }, { "status nat", 0 },
		{ "state established", 0 }, { "proto tcp,udp", 0 },
	};
	for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
		assert_int_equal(ct_filter_parse(&f, partial[i].text, err, sizeof(err), NULL), 0);
		assert_int_equal(ct_filter_kernel(&f, &k), partial[i].flags != 0);
		if (k.flags != partial[i].flags)
			fail_msg("'%s': kernel flags %#x, want %#x", partial[i].text, k.flags,
				 partial[i].flags);
		ct_filter_free(&f);
	}
	/* ports without a protocol are not given */
	assert_int_equal(ct_filter_parse(&f, "dport 22", err, sizeof(err), NULL), 0);
	assert_false(ct_filter_kernel(&f, &k));
	ct_filter_free(&f);
	/* under an "and" with an "or" beside it, the sure part still goes */
	assert_int_equal(ct_filter_parse(&f, "mark 7 (dport 22 or dport 80)", err, sizeof(err),
					 NULL), 0);
	assert_true(ct_filter_kernel(&f, &k));
	assert_int_equal(k.flags, CT_KF_MARK);
	assert_int_equal(k.mark, 7);
	assert_int_equal(k.mark_mask, 0xffffffffu);
	ct_filter_free(&f);
	/* an IPv6 address only fixes the family (the kernel's IPv6 address
	 * filter is inverted); a v4 one goes, a v4 prefix fixes the family */
	assert_int_equal(ct_filter_parse(&f, "status assured rdst 2001:db8::1", err, sizeof(err),
					 NULL), 0);
	assert_true(ct_filter_kernel(&f, &k));
	assert_int_equal(k.flags, CT_KF_STATUS | CT_KF_FAMILY);
	assert_int_equal(k.family, AF_INET6);
	assert_int_equal(k.status, IPS_ASSURED);
	ct_filter_free(&f);
	assert_int_equal(ct_filter_parse(&f, "rdst 10.1.1.1 proto udp", err, sizeof(err), NULL), 0);
	assert_true(ct_filter_kernel(&f, &k));
	assert_int_equal(k.flags, CT_KF_RDST | CT_KF_PROTO | CT_KF_FAMILY);
	assert_int_equal(k.family, AF_INET);
	ct_filter_free(&f);
	assert_int_equal(ct_filter_parse(&f, "src 10.0.0.0/8 proto tcp", err, sizeof(err), NULL), 0);
	assert_true(ct_filter_kernel(&f, &k));
	assert_int_equal(k.flags, CT_KF_PROTO | CT_KF_FAMILY);
	assert_int_equal(k.family, AF_INET);
	ct_filter_free(&f);
	/* families that cannot both hold: nothing, the filter says no itself */
	assert_int_equal(ct_filter_parse(&f, "src 10.0.0.1 dst 2001:db8::1", err, sizeof(err),
					 NULL), 0);
	assert_false(ct_filter_kernel(&f, &k));
	ct_filter_free(&f);
	assert_int_equal(ct_filter_parse(&f, "", err, sizeof(err), NULL), 0);
	assert_false(ct_filter_kernel(&f, &k));
	ct_filter_free(&f);
}

/* ---- sorting ---- */

static uint64_t rnd_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static struct ct_entry random_entry(uint32_t i)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_TCP };
	struct ct_entry e;
	uint64_t r = rnd();

	memset(&e, 0, sizeof(e));
	e.id = (uint32_t)rnd();
	e.family = (r & 7) == 0 ? AF_INET6 : AF_INET;
	e.proto = protos[(r >> 3) & 3];
	if (e.family == AF_INET6) {
		e.orig.src.w[0] = htonl(0x20010db8);
		e.orig.src.w[3] = (uint32_t)(rnd() & 0xff);
		e.orig.dst.w[0] = htonl(0x20010db8);
		e.orig.dst.w[2] = (uint32_t)rnd();
	} else {
		e.orig.src.w[0] = htonl(0x0a000000u | (uint32_t)(rnd() & 0x3ff));
		e.orig.dst.w[0] = (uint32_t)rnd();
	}
	e.orig.sport = (uint16_t)(rnd() & 0x1f);
	e.orig.dport = (uint16_t)rnd();
	e.reply.src = e.orig.dst;
	e.reply.dst = e.orig.src;
	e.reply.sport = e.orig.dport;
	e.reply.dport = e.orig.sport;
	if ((r >> 5 & 3) == 0) {
		e.reply.src.w[0] ^= htonl(1);  /* dnat */
		e.status |= IPS_DST_NAT;
	}
	e.l4state = (uint8_t)(e.proto == IPPROTO_TCP ? rnd() % 9 : 0);
	e.status |= (uint32_t)(rnd() & (IPS_SEEN_REPLY | IPS_ASSURED | IPS_EXPECTED));
	e.mark = (uint32_t)(rnd() & 3);
	e.zone = (uint16_t)(rnd() & 1);
	e.timeout = (uint32_t)(rnd() % 500);
	e.flags = (rnd() & 3) ? CT_F_ACCT : 0;
	e.pkts[0] = rnd() % 50;
	e.pkts[1] = rnd() % 50;
	e.bytes[0] = rnd() % 5000000000ull;
	e.bytes[1] = rnd() % 500;
	if (rnd() & 1) {
		e.flags |= CT_F_TSTAMP;
		e.start = 1700000000000000000ull + rnd() % 1000000000000ull;
	}
	if (rnd() & 1) {
		e.flags |= CT_F_RATE;
		e.rate_bytes = (float)(rnd() % 100000) / 7.0f;
	}
	(void)i;
	return e;
}

/* The reference order: compare the formatted parts the way the column
 * means them. Returns <0, 0, >0 for the column's natural direction. */
static int cmp_mem(const void *a, const void *b, size_t n)
{
	return memcmp(a, b, n);
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int ref_endpoint(uint8_t fa, const union ct_addr *a, uint16_t pa, uint8_t fb,
			const union ct_addr *b, uint16_t pb)
{
	int c = cmp_u64(fa == AF_INET6, fb == AF_INET6);

	if (!c)
		c = cmp_mem(a, b, 16);
	return c ? c : cmp_u64(pa, pb);
}

static uint64_t ref_counter(const struct ct_entry *e, uint64_t v)
{
	return (e->flags & CT_F_ACCT) ? v : 0;
}

static int ref_cmp(const struct ct_entry *a, const struct ct_entry *b, enum ct_col c)
{
	switch (c) {
	case CT_COL_ID: return cmp_u64(a->id, b->id);
	case CT_COL_FAMILY: return cmp_u64(a->family, b->family);
	case CT_COL_PROTO: return cmp_u64(a->proto, b->proto);
	case CT_COL_STATE: return strcmp(ct_state_name(a), ct_state_name(b));
	case CT_COL_SRC:
		return ref_endpoint(a->family, &a->orig.src, a->orig.sport, b->family,
				    &b->orig.src, b->orig.sport);
	case CT_COL_DST:
		return ref_endpoint(a->family, &a->orig.dst, a->orig.dport, b->family,
				    &b->orig.dst, b->orig.dport);
	case CT_COL_SPORT: return cmp_u64(a->orig.sport, b->orig.sport);
	case CT_COL_DPORT: return cmp_u64(a->orig.dport, b->orig.dport);
	case CT_COL_NAT: {
		int na = ct_has_dnat(a) << 1 | ct_has_snat(a), nb = ct_has_dnat(b) << 1 | ct_has_snat(b);
		int r = cmp_u64((uint64_t)na, (uint64_t)nb);

		if (r || !na)
			return r;
		return ct_has_dnat(a) ?
		       ref_endpoint(a->family, &a->reply.src, a->reply.sport, b->family,
				    &b->reply.src, b->reply.sport) :
		       ref_endpoint(a->family, &a->reply.dst, a->reply.dport, b->family,
				    &b->reply.dst, b->reply.dport);
	}
	case CT_COL_MARK: return cmp_u64(a->mark, b->mark);
	case CT_COL_ZONE: return cmp_u64(a->zone, b->zone);
	case CT_COL_TIMEOUT: return cmp_u64(a->timeout, b->timeout);
	case CT_COL_OPKTS: return cmp_u64(ref_counter(a, a->pkts[0]), ref_counter(b, b->pkts[0]));
	case CT_COL_OBYTES: return cmp_u64(ref_counter(a, a->bytes[0]), ref_counter(b, b->bytes[0]));
	case CT_COL_RPKTS: return cmp_u64(ref_counter(a, a->pkts[1]), ref_counter(b, b->pkts[1]));
	case CT_COL_RBYTES: return cmp_u64(ref_counter(a, a->bytes[1]), ref_counter(b, b->bytes[1]));
	case CT_COL_PKTS:
		return cmp_u64(ref_counter(a, a->pkts[0] + a->pkts[1]),
			       ref_counter(b, b->pkts[0] + b->pkts[1]));
	case CT_COL_BYTES:
		return cmp_u64(ref_counter(a, a->bytes[0] + a->bytes[1]),
			       ref_counter(b, b->bytes[0] + b->bytes[1]));
	case CT_COL_RATE: {
		double ra = (a->flags & CT_F_RATE) ? a->rate_bytes : 0;
		double rb = (b->flags & CT_F_RATE) ? b->rate_bytes : 0;

		return ra < rb ? -1 : ra > rb;
	}
	case CT_COL_AGE: {
		/* older first when descending: age = -start; none = youngest */
		uint64_t sa = (a->flags & CT_F_TSTAMP) && a->start ? UINT64_MAX - a->start : 0;
		uint64_t sb = (b->flags & CT_F_TSTAMP) && b->start ? UINT64_MAX - b->start : 0;

		return cmp_u64(sa, sb);
	}
	case CT_COL_STATUS: return cmp_u64(a->status, b->status);
	default: return 0;
	}
}

static void check_sorted(const struct ct_entry *e, const uint32_t *idx, size_t n, enum ct_col c,
			 bool reverse)
{
	bool desc = ct_col_desc(c) != reverse;

	for (size_t i = 1; i < n; i++) {
		int r = ref_cmp(&e[idx[i - 1]], &e[idx[i]], c);

		if (desc)
			r = -r;
		if (r > 0)
			fail_msg("column %s%s: rows %zu and %zu out of order", ct_col_name(c),
				 reverse ? " reversed" : "", i - 1, i);
		/* stable: equal rows keep table order */
		if (r == 0 && idx[i - 1] > idx[i])
			fail_msg("column %s: equal rows %zu and %zu swapped", ct_col_name(c), i - 1, i);
	}
}

static void test_sort_every_column(void **state)
{
	const size_t n = 20000;
	struct ct_entry *e = calloc(n, sizeof(*e));
	uint32_t *idx = malloc(n * sizeof(*idx));

	(void)state;
	assert_non_null(e);
	assert_non_null(idx);
	for (size_t i = 0; i < n; i++)
		e[i] = random_entry((uint32_t)i);
	for (int c = 0; c < CT_COL_N; c++) {
		for (int rev = 0; rev < 2; rev++) {
			for (size_t i = 0; i < n; i++)
				idx[i] = (uint32_t)i;
			assert_int_equal(ct_rows_sort_index(e, idx, n, (enum ct_col)c, rev), 0);
			check_sorted(e, idx, n, (enum ct_col)c, rev);
		}
	}
	free(e);
	free(idx);
}

static void test_sort_small(void **state)
{
	struct ct_entry e[4] = {
		conn(IPPROTO_TCP, "10.0.0.2", 5, "1.1.1.1", 80),
		conn(IPPROTO_TCP, "2001:db8::1", 5, "2001:db8::2", 80),
		conn(IPPROTO_UDP, "10.0.0.1", 9, "1.1.1.1", 53),
		conn(IPPROTO_TCP, "10.0.0.1", 7, "1.1.1.1", 80),
	};
	uint32_t idx[4] = { 0, 1, 2, 3 };

	(void)state;
	/* src: IPv4 before IPv6, then address, then port */
	assert_int_equal(ct_rows_sort_index(e, idx, 4, CT_COL_SRC, false), 0);
	assert_int_equal(idx[0], 3);
	assert_int_equal(idx[1], 2);
	assert_int_equal(idx[2], 0);
	assert_int_equal(idx[3], 1);
	/* bytes sort biggest first; without accounting counts as 0 */
	e[0].flags = e[1].flags = e[2].flags = CT_F_ACCT;
	e[0].bytes[0] = 10;
	e[1].bytes[1] = 1000;
	e[2].bytes[0] = 500;
	e[3].bytes[0] = 99999; /* no CT_F_ACCT */
	assert_int_equal(ct_rows_sort_index(e, idx, 4, CT_COL_BYTES, false), 0);
	assert_int_equal(idx[0], 1);
	assert_int_equal(idx[1], 2);
	assert_int_equal(idx[2], 0);
	assert_int_equal(idx[3], 3);
	assert_int_equal(ct_rows_sort_index(e, idx, 4, CT_COL_BYTES, true), 0);
	assert_int_equal(idx[0], 3);
	assert_int_equal(idx[3], 1);
	assert_int_equal(ct_col_parse("bytes"), CT_COL_BYTES);
	assert_int_equal(ct_col_parse("PKTS"), CT_COL_PKTS);
	assert_int_equal(ct_col_parse("nope"), -EINVAL);
}

/* ---- table ---- */

static void test_table_events_and_sync(void **state)
{
	struct ct_table t = { 0 };
	struct ct_entry a = conn(IPPROTO_TCP, "10.0.0.1", 1000, "10.0.0.2", 80);
	struct ct_entry b = conn(IPPROTO_TCP, "10.0.0.1", 1001, "10.0.0.2", 80);
	struct ct_entry c = conn(IPPROTO_UDP, "10.0.0.1", 1002, "10.0.0.2", 53);
	struct ct_entry upd, *p;
	struct ct_rows v = { 0 };
	struct ct_filter f;
	char err[128];

	(void)state;
	a.id = 11;
	b.id = 11; /* ids are not unique: the tuple tells them apart */
	c.id = 12;
	a.flags = b.flags = c.flags = CT_F_ACCT;
	a.bytes[0] = 100;
	/* first load: appended, then indexed */
	*ct_table_slot(&t) = a;
	assert_int_equal(ct_table_commit(&t), 0);
	*ct_table_slot(&t) = b;
	assert_int_equal(ct_table_commit(&t), 0);
	t.loaded = true;
	assert_int_equal(ct_table_index(&t), 0);
	assert_ptr_equal(ct_table_find(&t, &a), &t.e[0]);
	assert_ptr_equal(ct_table_find(&t, &b), &t.e[1]);
	assert_null(ct_table_find(&t, &c));

	/* an event: new connection c, marked new */
	p = ct_table_upsert(&t, &c);
	assert_non_null(p);
	assert_int_equal(t.n, 3);
	assert_true(t.e[2].flags & CT_F_NEW);
	/* an update without counters and l4 state keeps them */
	upd = a;
	upd.flags = 0;
	upd.l4state = 0;
	upd.bytes[0] = 0;
	upd.timeout = 5;
	p = ct_table_upsert(&t, &upd);
	assert_ptr_equal(p, &t.e[0]);
	assert_int_equal(t.e[0].bytes[0], 100);
	assert_int_equal(t.e[0].l4state, TCP_CONNTRACK_ESTABLISHED);
	assert_int_equal(t.e[0].timeout, 5);
	/* destroy b */
	assert_true(ct_table_remove(&t, &b));
	assert_false(ct_table_remove(&t, &b));
	assert_true(t.e[1].flags & CT_F_GONE);
	assert_int_equal(ct_rows_build(&v, &t, NULL, false), 0);
	assert_int_equal(v.n, 2);
	assert_int_equal(ct_rows_build(&v, &t, NULL, true), 0);
	assert_int_equal(v.n, 3);
	assert_int_equal(ct_filter_parse(&f, "proto udp", err, sizeof(err), NULL), 0);
	assert_int_equal(ct_rows_build(&v, &t, &f, true), 0);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.idx[0], 2);
	ct_filter_free(&f);

	/* two re-reads 2 s apart: rates; a is seen both times, c only first */
	ct_table_sync_begin(&t, 10.0);
	a.bytes[0] = 1000;
	a.pkts[0] = 10;
	assert_non_null(ct_table_upsert(&t, &a));
	assert_non_null(ct_table_upsert(&t, &c));
	ct_table_sync_end(&t);
	ct_table_sync_begin(&t, 12.0);
	a.bytes[0] = 5000;
	a.pkts[0] = 30;
	assert_non_null(ct_table_upsert(&t, &a));
	ct_table_sync_end(&t);
	p = ct_table_find(&t, &a);
	assert_non_null(p);
	assert_true(p->flags & CT_F_RATE);
	assert_true(p->rate_bytes > 1999.0f && p->rate_bytes < 2001.0f);
	assert_true(p->rate_pkts > 9.9f && p->rate_pkts < 10.1f);
	assert_null(ct_table_find(&t, &c)); /* gone: not seen by the last re-read */
	assert_int_equal(t.ngone, 2);
	/* purge drops b and c and keeps the index right */
	assert_int_equal(ct_table_purge(&t, true), 0);
	assert_int_equal(t.n, 1);
	assert_ptr_equal(ct_table_find(&t, &a), &t.e[0]);
	assert_false(t.e[0].flags & CT_F_NEW);
	/* many entries: the index grows */
	for (uint32_t i = 0; i < 5000; i++) {
		struct ct_entry x = conn(IPPROTO_UDP, "10.9.0.1", (uint16_t)i, "10.9.0.2", 53);

		x.id = i * 7919;
		assert_non_null(ct_table_upsert(&t, &x));
	}
	assert_int_equal(t.n, 5001);
	for (uint32_t i = 0; i < 5000; i += 97) {
		struct ct_entry x = conn(IPPROTO_UDP, "10.9.0.1", (uint16_t)i, "10.9.0.2", 53);

		x.id = i * 7919;
		p = ct_table_find(&t, &x);
		assert_non_null(p);
		assert_int_equal(p->orig.sport, i);
	}
	assert_true(ct_table_bytes(&t) >= t.n * sizeof(struct ct_entry));
	ct_rows_free(&v);
	ct_table_free(&t);
}

/* ---- columns and printing ---- */

static const char *col(const struct ct_entry *e, enum ct_col c, bool exact)
{
	static char buf[200];
	struct ct_fmt_opts o = { .exact = exact, .now = 1700000100.0 };

	ct_col_format(buf, sizeof(buf), e, c, &o);
	return buf;
}

static void test_columns(void **state)
{
	struct ct_entry e = conn(IPPROTO_TCP, "10.0.0.5", 33333, "203.0.113.1", 80);
	struct ct_entry e6 = conn(IPPROTO_UDP, "2001:db8::5", 53, "2001:db8::1", 5353);
	struct ct_entry p = conn(IPPROTO_ICMP, "10.0.0.5", 42, "10.0.0.1", 8 << 8);
	char small[8];

	(void)state;
	assert_string_equal(col(&e, CT_COL_SRC, false), "10.0.0.5:33333");
	assert_string_equal(col(&e6, CT_COL_DST, false), "[2001:db8::1]:5353");
	assert_string_equal(col(&p, CT_COL_SRC, false), "10.0.0.5");
	assert_string_equal(col(&p, CT_COL_SPORT, false), "id 42");
	assert_string_equal(col(&p, CT_COL_DPORT, false), "8/0");
	assert_string_equal(col(&e, CT_COL_STATE, false), "ESTABLISHED");
	assert_string_equal(col(&e6, CT_COL_STATE, false), "ESTABLISHED");
	assert_string_equal(col(&e, CT_COL_PROTO, false), "tcp");
	assert_string_equal(col(&e, CT_COL_NAT, false), "-");
	assert_string_equal(col(&e, CT_COL_BYTES, false), "-");
	assert_string_equal(col(&e, CT_COL_AGE, false), "-");
	e.flags |= CT_F_ACCT | CT_F_TSTAMP;
	e.bytes[0] = 1234567;
	e.pkts[1] = 999;
	e.start = 1700000000ull * 1000000000ull;
	assert_string_equal(col(&e, CT_COL_OBYTES, false), "1.2M");
	assert_string_equal(col(&e, CT_COL_OBYTES, true), "1234567");
	assert_string_equal(col(&e, CT_COL_RPKTS, false), "999");
	assert_string_equal(col(&e, CT_COL_AGE, false), "1m40s");
	e.timeout = 431999;
	assert_string_equal(col(&e, CT_COL_TIMEOUT, false), "4d23h");
	assert_string_equal(col(&e, CT_COL_TIMEOUT, true), "431999");
	addr(&e.reply.src, "192.168.1.10");
	e.reply.sport = 8080;
	assert_string_equal(col(&e, CT_COL_NAT, false), "dnat 192.168.1.10:8080");
	addr(&e.reply.dst, "198.51.100.1");
	assert_string_equal(col(&e, CT_COL_NAT, false),
			    "dnat 192.168.1.10:8080 snat 198.51.100.1:33333");
	/* truncation keeps the buffer terminated */
	assert_int_equal(ct_col_format(small, sizeof(small), &e, CT_COL_SRC, NULL), 7);
	assert_string_equal(small, "10.0.0.");
	assert_string_equal(ct_col_name(CT_COL_OBYTES), "obytes");
	assert_true(ct_col_desc(CT_COL_BYTES));
	assert_false(ct_col_desc(CT_COL_SRC));
	assert_int_equal(ct_proto_parse("TCP"), IPPROTO_TCP);
	assert_int_equal(ct_proto_parse("132"), 132);
	assert_int_equal(ct_proto_parse("256"), -EINVAL);
	assert_int_equal(ct_tcp_state_parse("syn_sent"), TCP_CONNTRACK_SYN_SENT);
	assert_int_equal(ct_status_parse("nat"), IPS_SRC_NAT | IPS_DST_NAT);
}

static void test_json_row(void **state)
{
	struct ct_entry e = conn(IPPROTO_ICMP, "10.0.0.5", 42, "10.0.0.1", 8 << 8);
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	(void)state;
	e.reply.dport = 0; /* echo reply */
	ct_print_json(fp, &e);
	fclose(fp);
	assert_non_null(strstr(buf, "\"proto\": \"icmp\""));
	assert_non_null(strstr(buf, "\"orig\": {\"src\": \"10.0.0.5\", \"dst\": \"10.0.0.1\", "
				    "\"type\": 8, \"code\": 0, \"id\": 42}"));
	assert_non_null(strstr(buf, "\"status\": [\"seen-reply\", \"assured\", \"confirmed\"]"));
	assert_non_null(strstr(buf, "\"orig_bytes\": null"));
	assert_non_null(strstr(buf, "\"start\": null"));
	assert_non_null(strstr(buf, "\"state\": \"ESTABLISHED\", \"ctstate\": \"established\""));
	free(buf);
}

/* ---- the wire format: a message as the kernel sends it, parsed back ---- */

static struct nlmsghdr *put_counters(struct nlmsghdr *nlh, uint16_t attr, uint64_t p, uint64_t b)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, attr);

	mnl_attr_put_u64(nlh, CTA_COUNTERS_PACKETS, htobe64(p));
	mnl_attr_put_u64(nlh, CTA_COUNTERS_BYTES, htobe64(b));
	mnl_attr_nest_end(nlh, n);
	return nlh;
}

static void test_nl_parse(void **state)
{
	static char buf[4096];
	struct ct_entry in = conn(IPPROTO_TCP, "2001:db8::5", 5555, "2001:db8::1", 443), out;
	struct nlmsghdr *nlh;
	struct nlattr *n, *m;

	(void)state;
	addr(&in.reply.src, "2001:db8::99");
	in.reply.sport = 8443;
	nlh = ct_nl_request(buf, IPCTNL_MSG_CT_NEW, AF_INET6, NLM_F_MULTI, 7);
	ct_nl_put_tuple(nlh, CTA_TUPLE_ORIG, AF_INET6, IPPROTO_TCP, &in.orig);
	ct_nl_put_tuple(nlh, CTA_TUPLE_REPLY, AF_INET6, IPPROTO_TCP, &in.reply);
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(in.status));
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(431999));
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(0xbeef));
	mnl_attr_put_u32(nlh, CTA_ID, htonl(123456789));
	mnl_attr_put_u16(nlh, CTA_ZONE, htons(3));
	n = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
	m = mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);
	mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_STATE, TCP_CONNTRACK_TIME_WAIT);
	mnl_attr_nest_end(nlh, m);
	mnl_attr_nest_end(nlh, n);
	put_counters(nlh, CTA_COUNTERS_ORIG, 10, 1000);
	put_counters(nlh, CTA_COUNTERS_REPLY, 20, 2000);
	n = mnl_attr_nest_start(nlh, CTA_TIMESTAMP);
	mnl_attr_put_u64(nlh, CTA_TIMESTAMP_START, htobe64(1700000000123456789ull));
	mnl_attr_nest_end(nlh, n);
	assert_int_equal(ct_nl_parse(nlh, &out), 0);
	assert_int_equal(out.family, AF_INET6);
	assert_int_equal(out.proto, IPPROTO_TCP);
	assert_memory_equal(&out.orig, &in.orig, sizeof(in.orig));
	assert_memory_equal(&out.reply, &in.reply, sizeof(in.reply));
	assert_int_equal(out.status, in.status);
	assert_int_equal(out.timeout, 431999);
	assert_int_equal(out.mark, 0xbeef);
	assert_int_equal(out.id, 123456789);
	assert_int_equal(out.zone, 3);
	assert_int_equal(out.l4state, TCP_CONNTRACK_TIME_WAIT);
	assert_int_equal(out.pkts[0], 10);
	assert_int_equal(out.bytes[1], 2000);
	assert_int_equal(out.start, 1700000000123456789ull);
	assert_int_equal(out.flags, CT_F_ACCT | CT_F_TSTAMP | CT_F_L4);
	assert_true(ct_has_dnat(&out));

	/* ICMP: id, type and code in the ports */
	in = conn(IPPROTO_ICMP, "10.0.0.5", 42, "10.0.0.1", 8 << 8);
	in.reply.dport = 0;
	nlh = ct_nl_request(buf, IPCTNL_MSG_CT_NEW, AF_INET, 0, 8);
	ct_nl_put_tuple(nlh, CTA_TUPLE_ORIG, AF_INET, IPPROTO_ICMP, &in.orig);
	ct_nl_put_tuple(nlh, CTA_TUPLE_REPLY, AF_INET, IPPROTO_ICMP, &in.reply);
	assert_int_equal(ct_nl_parse(nlh, &out), 0);
	assert_memory_equal(&out.orig, &in.orig, sizeof(in.orig));
	assert_int_equal(out.reply.dport, 0);
	assert_int_equal(out.flags, 0);

	/* broken messages are refused or cut short, never read past their end */
	nlh = ct_nl_request(buf, IPCTNL_MSG_CT_NEW, AF_INET, 0, 9);
	ct_nl_put_tuple(nlh, CTA_TUPLE_ORIG, AF_INET, IPPROTO_TCP, &in.orig);
	assert_int_equal(ct_nl_parse(nlh, &out), -EINVAL); /* no reply tuple */
	ct_nl_put_tuple(nlh, CTA_TUPLE_REPLY, AF_INET, IPPROTO_TCP, &in.reply);
	for (uint32_t len = nlh->nlmsg_len; len > 0; len--) {
		struct nlmsghdr *cut = malloc(len < sizeof(*cut) ? sizeof(*cut) : len);

		memcpy(cut, nlh, len < sizeof(*cut) ? sizeof(*cut) : len);
		cut->nlmsg_len = len;
		(void)ct_nl_parse(cut, &out); /* ASan: no read past len */
		free(cut);
	}
	/* an attribute that claims more than there is */
	n = (struct nlattr *)((char *)nlh + MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)));
	n->nla_len = 0xffff;
	assert_int_equal(ct_nl_parse(nlh, &out), -EINVAL);
	nlh = ct_nl_request(buf, IPCTNL_MSG_CT_NEW, AF_UNIX, 0, 10);
	assert_int_equal(ct_nl_parse(nlh, &out), -EINVAL); /* not IPv4/IPv6 */
}

/* the filter as nft matches: alternatives joined with " | " */
static void want_nft(const char *filter, const char *nft, bool ct)
{
	struct ct_filter f = { 0 };
	char err[256], **c = NULL, got[2048] = "";
	size_t n = 0;
	bool uses_ct;

	assert_int_equal(ct_filter_parse(&f, filter, err, sizeof(err), NULL), 0);
	assert_int_equal(ct_filter_nft(&f, &c, &n, &uses_ct, err, sizeof(err)), 0);
	for (size_t i = 0; i < n; i++) {
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " | " : "", c[i]);
		free(c[i]);
	}
	free(c);
	assert_string_equal(got, nft);
	assert_int_equal(uses_ct, ct);
	ct_filter_free(&f);
}

static void test_filter_nft(void **state)
{
	struct ct_filter f = { 0 };
	char err[256], **c;
	size_t n;
	bool ct;

	(void)state;
	want_nft("", "", false);
	want_nft("src 10.0.0.0/8 dport 22", "ip saddr 10.0.0.0/8 meta l4proto { 6, 17, 33, 132, "
		 "136 } th dport 22", false);
	want_nft("proto icmp or dport 22,80", "meta l4proto 1 | meta l4proto { 6, 17, 33, 132, "
		 "136 } th dport { 22, 80 }", false);
	want_nft("host 2001:db8::1", "ip6 saddr 2001:db8::1 | ip6 daddr 2001:db8::1", false);
	/* the other family matches a negated address; IPv4 and IPv6 never mix */
	want_nft("not src 10.0.0.1", "ip saddr != 10.0.0.1 | meta nfproto ipv6", false);
	want_nft("not host 10.0.0.1", "ip saddr != 10.0.0.1 ip daddr != 10.0.0.1 | "
		 "meta nfproto ipv6", false);
	want_nft("not (proto tcp and state new)", "meta l4proto != 6 | ct state != new", true);
	want_nft("mark 0x10/0xf0 family ipv4", "meta mark & 0xf0 == 0x10 meta nfproto ipv4", false);
	want_nft("sport 1024-65535 not dport 22",
		 "meta l4proto { 6, 17, 33, 132, 136 } th sport 1024-65535 meta l4proto { 6, 17, 33, "
		 "132, 136 } th dport != 22 | meta l4proto { 6, 17, 33, 132, 136 } th sport "
		 "1024-65535 meta l4proto != { 6, 17, 33, 132, 136 }", false);
	want_nft("ctstate established,related", "ct state { established, related }", true);
	/* words without a meaning for a packet, too many alternatives */
	assert_int_equal(ct_filter_parse(&f, "state time_wait", err, sizeof(err), NULL), 0);
	assert_int_equal(ct_filter_nft(&f, &c, &n, &ct, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no TCP or SCTP state"));
	ct_filter_free(&f);
	assert_int_equal(ct_filter_parse(&f, "(port 1 or port 2) (port 3 or port 4) (port 5 or "
					 "port 6) (port 7 or port 8)", err, sizeof(err), NULL), 0);
	assert_int_equal(ct_filter_nft(&f, &c, &n, &ct, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too many alternatives"));
	ct_filter_free(&f);
	assert_int_equal(ct_filter_parse(&f, "src 10.0.0.1 src 2001:db8::1", err, sizeof(err), NULL), 0);
	assert_int_equal(ct_filter_nft(&f, &c, &n, &ct, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no packet can match"));
	ct_filter_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_basic),
		cmocka_unit_test(test_filter_either_side_and_nat),
		cmocka_unit_test(test_filter_negation_or_groups),
		cmocka_unit_test(test_filter_state_mark_zone_id),
		cmocka_unit_test(test_filter_ipv6),
		cmocka_unit_test(test_filter_errors),
		cmocka_unit_test(test_filter_kernel),
		cmocka_unit_test(test_filter_nft),
		cmocka_unit_test(test_sort_every_column),
		cmocka_unit_test(test_sort_small),
		cmocka_unit_test(test_table_events_and_sync),
		cmocka_unit_test(test_columns),
		cmocka_unit_test(test_json_row),
		cmocka_unit_test(test_nl_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
