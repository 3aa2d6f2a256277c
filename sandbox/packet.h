/* packet: a packet that was never sent, as an admin describes it —
 *
 *   PROTO SRC -> DST [iif NAME] [state new|established|related] [mark N]
 *                    [type T] [code C] [flags F]
 *
 *   tcp 203.0.113.7:40000 -> 10.0.0.1:22 iif eth0 state established
 *   udp [2001:db8::7]:5353 -> [2001:db8::1]:53
 *   icmp 198.51.100.1 -> 10.0.0.1 type echo-request
 *   icmpv6 fe80::2 -> fe80::1 type nd-neighbor-solicit iif eth0
 *
 * — parsed into plain data (the same words as the connections filter
 * where there are: state, mark), and written as the bytes of a real IPv4
 * or IPv6 packet with valid checksums. Pure: no kernel access. */
#ifndef NFP_PACKET_H
#define NFP_PACKET_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum packet_state { PACKET_NEW, PACKET_ESTABLISHED, PACKET_RELATED };

struct packet {
	uint8_t family;            /* AF_INET, AF_INET6 */
	uint8_t proto;             /* IPPROTO_TCP, _UDP, _SCTP, _ICMP, _ICMPV6 */
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;     /* ports; ICMP: sport is the echo id */
	uint8_t icmp_type, icmp_code;
	uint8_t tcp_flags;         /* TH_* (0: from the state: SYN when new, else ACK) */
	char iif[IF_NAMESIZE];     /* "" when not given */
	enum packet_state state;
	bool has_mark;
	uint32_t mark;
};

/* The words, for people: "PROTO SRC -> DST [iif NAME] ..." */
extern const char packet_grammar[];

/* Parse text into p. 0, or -EINVAL with err saying which word is wrong
 * and what it should be. */
int packet_parse(const char *text, struct packet *p, char *err, size_t errlen);

/* The packet's bytes from the IP header on, into buf (at least
 * PACKET_MAX bytes): returns the length. An ICMP packet in state related
 * is an error (destination unreachable, port unreachable unless type and
 * code say otherwise) about the UDP datagram PACKET_RELATED_SPORT ->
 * PACKET_RELATED_DPORT that DST sent to SRC. */
#define PACKET_RELATED_SPORT 40000
#define PACKET_RELATED_DPORT 33434
#define PACKET_MAX 256
size_t packet_build(const struct packet *p, uint8_t *buf);

/* The connections filter that matches exactly this packet ("src A dst B
 * proto tcp sport P dport Q"), into buf. */
void packet_filter(const struct packet *p, char *buf, size_t len);

/* The packet as one line ("tcp 203.0.113.7:40000 -> 10.0.0.1:22"). */
void packet_format(const struct packet *p, char *buf, size_t len);

#endif
