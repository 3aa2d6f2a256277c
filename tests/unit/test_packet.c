/* Unit tests of sandbox/packet.c: a packet as an admin describes it,
 * parsed (and refused with the word that is wrong), and built as bytes a
 * kernel takes — lengths, fields and checksums checked here by summing
 * the bytes again, the way a receiver does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sandbox/packet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

static uint32_t sum(const uint8_t *b, size_t len, uint32_t s)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		s += (uint32_t)(b[len - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

/* The transport checksum is right when the sum over the pseudo header
 * and the segment is 0xffff. */
static void assert_l4_sum(const uint8_t *ip, size_t len)
{
	bool v6 = (ip[0] >> 4) == 6;
	size_t hl = v6 ? 40 : 20, alen = v6 ? 16 : 4;
	uint8_t proto = v6 ? ip[6] : ip[9];
	uint32_t s = sum(ip + (v6 ? 8 : 12), 2 * alen, 0);

	s += proto;
	s += (uint32_t)(len - hl);
	assert_int_equal(sum(ip + hl, len - hl, s), 0xffff);
}

static struct packet parse_ok(const char *text)
{
	struct packet p;
	char err[512] = "";

	if (packet_parse(text, &p, err, sizeof(err)) != 0)
		fail_msg("%s: %s", text, err);
	return p;
}

static void test_parse(void **state)
{
	struct packet p;
	uint8_t a[16];

	(void)state;
	p = parse_ok("tcp 203.0.113.7:40001 -> 10.0.0.1:22 iif eth0 state established mark 0x10");
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.proto, IPPROTO_TCP);
	inet_pton(AF_INET, "203.0.113.7", a);
	assert_memory_equal(p.saddr, a, 4);
	assert_int_equal(p.sport, 40001);
	assert_int_equal(p.dport, 22);
	assert_string_equal(p.iif, "eth0");
	assert_int_equal(p.state, PACKET_ESTABLISHED);
	assert_true(p.has_mark);
	assert_int_equal(p.mark, 0x10);
	assert_int_equal(p.tcp_flags, 0x10); /* established: an ACK */

	p = parse_ok("tcp 203.0.113.7 -> 10.0.0.1:22");
	assert_int_equal(p.sport, 40000);     /* a source port of its own */
	assert_int_equal(p.tcp_flags, 0x02);  /* new: a SYN */
	assert_int_equal(p.state, PACKET_NEW);
	p = parse_ok("tcp 10.0.0.2:1 -> 10.0.0.1:2 flags FA");
	assert_int_equal(p.tcp_flags, 0x11);

	p = parse_ok("udp [2001:db8::7]:5353 -> [2001:db8::1]:53");
	assert_int_equal(p.family, AF_INET6);
	inet_pton(AF_INET6, "2001:db8::1", a);
	assert_memory_equal(p.daddr, a, 16);
	assert_int_equal(p.dport, 53);

	p = parse_ok("icmp 198.51.100.1 -> 10.0.0.1");
	assert_int_equal(p.icmp_type, 8); /* echo request */
	p = parse_ok("icmp 198.51.100.1 -> 10.0.0.1 state related");
	assert_int_equal(p.icmp_type, 3);
	assert_int_equal(p.icmp_code, 3); /* port unreachable */
	p = parse_ok("icmpv6 fe80::2 -> fe80::1 type nd-neighbor-solicit");
	assert_int_equal(p.icmp_type, 135);
	p = parse_ok("icmpv6 fe80::2 -> fe80::1 type 1 code 4");
	assert_int_equal(p.icmp_type, 1);
	assert_int_equal(p.icmp_code, 4);
}

static void refused(const char *text, const char *says)
{
	struct packet p;
	char err[512] = "";

	assert_int_equal(packet_parse(text, &p, err, sizeof(err)), -EINVAL);
	if (!strstr(err, says))
		fail_msg("'%s': '%s' does not say '%s'", text, err, says);
}

static void test_refused(void **state)
{
	(void)state;
	refused("", "at least PROTO SRC -> DST");
	refused("tcp 10.0.0.1 -> 10.0.0.2", "give the destination port");
	refused("gre 10.0.0.1 -> 10.0.0.2", "word 1 'gre': not a protocol");
	refused("tcp 10.0.0.1:1 => 10.0.0.2:2", "word 3 '=>'");
	refused("tcp 10.0.0.1:1 -> 10.0.0.300:2", "word 4 '10.0.0.300:2': not an address");
	refused("tcp 10.0.0.1:1 -> 10.0.0.2:70000", "the port must be 0-65535");
	refused("tcp 10.0.0.1:1 -> [2001:db8::1]:2", "different families");
	refused("icmp 2001:db8::1 -> 2001:db8::2", "IPv6 uses icmpv6");
	refused("icmp 10.0.0.1:5 -> 10.0.0.2", "icmp has no ports");
	refused("tcp 10.0.0.1:1 -> 10.0.0.2:2 state syn_sent", "state is new, established or related");
	refused("tcp 10.0.0.1:1 -> 10.0.0.2:2 mark", "needs a value");
	refused("tcp 10.0.0.1:1 -> 10.0.0.2:2 mark x", "a mark is a number");
	refused("tcp 10.0.0.1:1 -> 10.0.0.2:2 type 3", "only icmp and icmpv6");
	refused("icmp 10.0.0.1 -> 10.0.0.2 type nd-neighbor-solicit", "not an icmp type of this family");
	refused("udp 10.0.0.1:1 -> 10.0.0.2:2 flags S", "only tcp has flags");
	refused("tcp 10.0.0.1:1 -> 10.0.0.2:2 flags SX", "tcp flags are letters");
	refused("tcp 10.0.0.1:1 -> 10.0.0.2:2 iif eth0 colour red", "word 7 'colour': unknown word");
}

static void test_build(void **state)
{
	static const char *const texts[] = {
		"tcp 203.0.113.7:40000 -> 10.0.0.1:22",
		"tcp [2001:db8::7]:40000 -> [2001:db8::1]:22 state established",
		"udp 10.0.0.2:5353 -> 10.0.0.1:53",
		"udp [2001:db8::7]:5353 -> [2001:db8::1]:53",
		"icmp 10.0.0.2 -> 10.0.0.1",
		"icmp 10.0.0.2 -> 10.0.0.1 state related",
		"icmpv6 2001:db8::7 -> 2001:db8::1",
		"icmpv6 2001:db8::7 -> 2001:db8::1 state related",
		"icmpv6 fe80::2 -> ff02::1:ff00:1 type nd-neighbor-solicit",
	};
	uint8_t b[PACKET_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct packet p = parse_ok(texts[i]);
		size_t len = packet_build(&p, b);
		bool v6 = p.family == AF_INET6;

		assert_true(len > (v6 ? 40u : 20u) && len <= PACKET_MAX);
		if (v6) {
			assert_int_equal(b[0] >> 4, 6);
			assert_int_equal((size_t)(b[4] << 8 | b[5]), len - 40);
			assert_int_equal(b[6], p.proto);
			assert_memory_equal(b + 8, p.saddr, 16);
			assert_memory_equal(b + 24, p.daddr, 16);
		} else {
			assert_int_equal(b[0], 0x45);
			assert_int_equal((size_t)(b[2] << 8 | b[3]), len);
			assert_int_equal(b[9], p.proto);
			assert_memory_equal(b + 12, p.saddr, 4);
			assert_memory_equal(b + 16, p.daddr, 4);
			assert_int_equal(sum(b, 20, 0), 0xffff); /* the header's checksum */
		}
		if (p.proto == IPPROTO_ICMP)
			assert_int_equal(sum(b + 20, len - 20, 0), 0xffff);
		else
			assert_l4_sum(b, len);
		if (p.proto == IPPROTO_TCP) {
			const uint8_t *t = b + (v6 ? 40 : 20);

			assert_int_equal(t[0] << 8 | t[1], p.sport);
			assert_int_equal(t[2] << 8 | t[3], p.dport);
			assert_int_equal(t[13], p.tcp_flags);
		}
		if (p.state == PACKET_RELATED) {
			/* the datagram the error is about, from dst to src */
			const uint8_t *in = b + (v6 ? 40 : 20) + 8;

			assert_memory_equal(in + (v6 ? 8 : 12), p.daddr, v6 ? 16 : 4);
			assert_memory_equal(in + (v6 ? 24 : 16), p.saddr, v6 ? 16 : 4);
		}
	}
}

static void test_format(void **state)
{
	char buf[256], filter[256];
	struct packet p, q;

	(void)state;
	p = parse_ok("tcp [2001:db8::7]:40000 -> [2001:db8::1]:22 iif eth0 state established mark 7");
	packet_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "tcp [2001:db8::7]:40000 -> [2001:db8::1]:22 iif eth0 "
				 "state established mark 0x7");
	q = parse_ok(buf);
	assert_memory_equal(&p, &q, sizeof(p));
	packet_filter(&p, filter, sizeof(filter));
	assert_string_equal(filter, "src 2001:db8::7 dst 2001:db8::1 proto 6 sport 40000 dport 22");
	p = parse_ok("icmp 10.0.0.2 -> 10.0.0.1 type echo-request");
	packet_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "icmp 10.0.0.2 -> 10.0.0.1 type 8 code 0 state new");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
