#include "sandbox/packet.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

const char packet_grammar[] =
	"PROTO SRC -> DST [iif NAME] [state new|established|related] [mark N] "
	"[type T] [code C] [flags F]";

static const struct { const char *name; uint8_t v4, v6; } icmp_types[] = {
	{ "echo-reply", 0, 129 }, { "destination-unreachable", 3, 1 },
	{ "redirect", 5, 137 }, { "echo-request", 8, 128 }, { "time-exceeded", 11, 3 },
	{ "parameter-problem", 12, 4 }, { "packet-too-big", 0xff, 2 },
	{ "nd-router-solicit", 0xff, 133 }, { "nd-router-advert", 0xff, 134 },
	{ "nd-neighbor-solicit", 0xff, 135 }, { "nd-neighbor-advert", 0xff, 136 },
	{ "mld-listener-query", 0xff, 130 }, { "mld-listener-report", 0xff, 131 },
	{ "timestamp-request", 13, 0xff }, { "timestamp-reply", 14, 0xff },
};

static int fail(char *err, size_t errlen, int word, const char *w, const char *why)
{
	snprintf(err, errlen, "word %d '%s': %s (a packet: %s)", word, w, why, packet_grammar);
	return -EINVAL;
}

static bool number(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!*s || !isdigit((unsigned char)*s))
		return false;
	*out = strtoul(s, &end, 0);
	return !*end && *out <= max;
}

/* ADDR, ADDR:PORT, [ADDR6]:PORT, ADDR6 */
static int endpoint(const char *w, uint8_t *family, uint8_t *addr, uint16_t *port,
		    bool *has_port)
{
	char buf[80];
	const char *colon;
	unsigned long n;

	if (strlen(w) >= sizeof(buf))
		return -EINVAL;
	*has_port = false;
	if (w[0] == '[') {
		const char *close = strchr(w, ']');

		if (!close || (close[1] && close[1] != ':'))
			return -EINVAL;
		snprintf(buf, sizeof(buf), "%.*s", (int)(close - w - 1), w + 1);
		if (inet_pton(AF_INET6, buf, addr) != 1)
			return -EINVAL;
		*family = AF_INET6;
		if (close[1] == ':') {
			if (!number(close + 2, 65535, &n))
				return -ERANGE;
			*port = (uint16_t)n;
			*has_port = true;
		}
		return 0;
	}
	if (inet_pton(AF_INET6, w, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	colon = strchr(w, ':');
	snprintf(buf, sizeof(buf), "%.*s", colon ? (int)(colon - w) : (int)strlen(w), w);
	if (inet_pton(AF_INET, buf, addr) != 1)
		return -EINVAL;
	*family = AF_INET;
	if (colon) {
		if (!number(colon + 1, 65535, &n))
			return -ERANGE;
		*port = (uint16_t)n;
		*has_port = true;
	}
	return 0;
}

int packet_parse(const char *text, struct packet *p, char *err, size_t errlen)
{
	char *copy = strdup(text ? text : ""), *words[32], *save = NULL;
	bool sp = false, dp = false, ports, have_type = false;
	uint8_t f2 = 0;
	int n = 0, ret = 0, i;

	memset(p, 0, sizeof(*p));
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (char *w = strtok_r(copy, " \t\n", &save); w && n < 32; w = strtok_r(NULL, " \t\n", &save))
		words[n++] = w;
	if (n < 4) {
		snprintf(err, errlen, "a packet needs at least PROTO SRC -> DST (%s)",
			 packet_grammar);
		free(copy);
		return -EINVAL;
	}
	if (!strcasecmp(words[0], "tcp"))
		p->proto = IPPROTO_TCP;
	else if (!strcasecmp(words[0], "udp"))
		p->proto = IPPROTO_UDP;
	else if (!strcasecmp(words[0], "sctp"))
		p->proto = IPPROTO_SCTP;
	else if (!strcasecmp(words[0], "icmp"))
		p->proto = IPPROTO_ICMP;
	else if (!strcasecmp(words[0], "icmpv6") || !strcasecmp(words[0], "ipv6-icmp"))
		p->proto = IPPROTO_ICMPV6;
	else {
		ret = fail(err, errlen, 1, words[0], "not a protocol: tcp, udp, sctp, icmp or icmpv6");
		goto out;
	}
	ports = p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP || p->proto == IPPROTO_SCTP;
	if ((ret = endpoint(words[1], &p->family, p->saddr, &p->sport, &sp))) {
		ret = fail(err, errlen, 2, words[1], ret == -ERANGE ? "the port must be 0-65535"
			   : "not an address (10.0.0.1, 10.0.0.1:40000, [2001:db8::1]:40000)");
		goto out;
	}
	if (strcmp(words[2], "->") != 0) {
		ret = fail(err, errlen, 3, words[2], "'->' goes between source and destination");
		goto out;
	}
	if ((ret = endpoint(words[3], &f2, p->daddr, &p->dport, &dp))) {
		ret = fail(err, errlen, 4, words[3], ret == -ERANGE ? "the port must be 0-65535"
			   : "not an address (10.0.0.1, 10.0.0.1:22, [2001:db8::1]:22)");
		goto out;
	}
	if (f2 != p->family) {
		ret = fail(err, errlen, 4, words[3], "source and destination are of different families");
		goto out;
	}
	if ((p->proto == IPPROTO_ICMP && p->family != AF_INET) ||
	    (p->proto == IPPROTO_ICMPV6 && p->family != AF_INET6)) {
		ret = fail(err, errlen, 1, words[0], p->family == AF_INET ? "IPv4 uses icmp"
			   : "IPv6 uses icmpv6");
		goto out;
	}
	if (!ports && (sp || dp)) {
		ret = fail(err, errlen, sp ? 2 : 4, sp ? words[1] : words[3],
			   "icmp has no ports");
		goto out;
	}
	if (ports && !dp) {
		ret = fail(err, errlen, 4, words[3], "give the destination port (ADDR:PORT)");
		goto out;
	}
	if (ports && !sp)
		p->sport = 40000;
	if (!ports)
		p->sport = 4242; /* the echo id */
	for (i = 4; i < n; i += 2) {
		const char *k = words[i], *v = i + 1 < n ? words[i + 1] : NULL;
		unsigned long x;

		if (!v) {
			ret = fail(err, errlen, i + 1, k, "needs a value after it");
			goto out;
		}
		if (!strcmp(k, "iif")) {
			if (strlen(v) >= IF_NAMESIZE || !*v) {
				ret = fail(err, errlen, i + 2, v, "not an interface name");
				goto out;
			}
			snprintf(p->iif, sizeof(p->iif), "%s", v);
		} else if (!strcmp(k, "state")) {
			if (!strcasecmp(v, "new"))
				p->state = PACKET_NEW;
			else if (!strcasecmp(v, "established"))
				p->state = PACKET_ESTABLISHED;
			else if (!strcasecmp(v, "related"))
				p->state = PACKET_RELATED;
			else {
				ret = fail(err, errlen, i + 2, v, "state is new, established or related");
				goto out;
			}
		} else if (!strcmp(k, "mark")) {
			if (!number(v, UINT32_MAX, &x)) {
				ret = fail(err, errlen, i + 2, v, "a mark is a number (decimal or 0x hex)");
				goto out;
			}
			p->has_mark = true;
			p->mark = (uint32_t)x;
		} else if (!strcmp(k, "type") || !strcmp(k, "code")) {
			bool found = false;

			if (ports) {
				ret = fail(err, errlen, i + 1, k, "only icmp and icmpv6 have a type and code");
				goto out;
			}
			if (number(v, 255, &x)) {
				found = true;
			} else if (!strcmp(k, "type")) {
				for (size_t t = 0; t < sizeof(icmp_types) / sizeof(icmp_types[0]); t++)
					if (!strcasecmp(icmp_types[t].name, v)) {
						x = p->family == AF_INET ? icmp_types[t].v4 : icmp_types[t].v6;
						found = x != 0xff;
					}
			}
			if (!found) {
				ret = fail(err, errlen, i + 2, v, !strcmp(k, "code") ? "a code is 0-255"
					   : "not an icmp type of this family (echo-request, "
					     "destination-unreachable, nd-neighbor-solicit, ... or 0-255)");
				goto out;
			}
			if (!strcmp(k, "type")) {
				p->icmp_type = (uint8_t)x;
				have_type = true;
			} else {
				p->icmp_code = (uint8_t)x;
			}
		} else if (!strcmp(k, "flags")) {
			if (p->proto != IPPROTO_TCP) {
				ret = fail(err, errlen, i + 1, k, "only tcp has flags");
				goto out;
			}
			for (const char *c = v; *c; c++) {
				const char *at = strchr("FSRPAUEC", toupper((unsigned char)*c));

				if (!at) {
					ret = fail(err, errlen, i + 2, v, "tcp flags are letters of FSRPAUEC "
						   "(S: syn, A: ack, F: fin, R: rst, P: push)");
					goto out;
				}
				p->tcp_flags |= (uint8_t)(1 << (at - "FSRPAUEC"));
			}
		} else {
			ret = fail(err, errlen, i + 1, k, "unknown word: iif, state, mark, type, code "
				   "or flags");
			goto out;
		}
	}
	if (!ports && !have_type) {
		if (p->state == PACKET_RELATED) {
			/* an error about a datagram: port unreachable */
			p->icmp_type = p->family == AF_INET ? 3 : 1;
			p->icmp_code = p->family == AF_INET ? 3 : 4;
		} else {
			p->icmp_type = p->family == AF_INET ? 8 : 128;
		}
	}
	if (p->proto == IPPROTO_TCP && !p->tcp_flags)
		p->tcp_flags = p->state == PACKET_ESTABLISHED ? 0x10 : 0x02; /* ACK : SYN */
out:
	free(copy);
	return ret;
}

/* ---- bytes ---- */

static uint32_t sum16(const uint8_t *b, size_t len, uint32_t s)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		s += (uint32_t)(b[len - 1] << 8);
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static uint32_t crc32c(const uint8_t *b, size_t len)
{
	uint32_t c = 0xffffffff;

	for (size_t i = 0; i < len; i++) {
		c ^= b[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78 & (0u - (c & 1)));
	}
	return ~c;
}

/* An IP header from src to dst carrying len bytes of proto: its length. */
static size_t ip_header(uint8_t *b, uint8_t family, uint8_t proto, const uint8_t *src,
			const uint8_t *dst, size_t len)
{
	if (family == AF_INET) {
		memset(b, 0, 20);
		b[0] = 0x45;
		put16(b + 2, (uint16_t)(20 + len));
		put16(b + 4, 0x1234);
		b[6] = 0x40; /* don't fragment */
		b[8] = 64;
		b[9] = proto;
		memcpy(b + 12, src, 4);
		memcpy(b + 16, dst, 4);
		put16(b + 10, fold(sum16(b, 20, 0)));
		return 20;
	}
	memset(b, 0, 40);
	b[0] = 0x60;
	put16(b + 4, (uint16_t)len);
	b[6] = proto;
	b[7] = 255; /* neighbour discovery needs it */
	memcpy(b + 8, src, 16);
	memcpy(b + 24, dst, 16);
	return 40;
}

/* The checksum of an upper-layer packet with the pseudo header. */
static uint16_t l4_sum(uint8_t family, uint8_t proto, const uint8_t *src, const uint8_t *dst,
		       const uint8_t *l4, size_t len)
{
	size_t alen = family == AF_INET ? 4 : 16;
	uint32_t s = sum16(src, alen, 0);

	s = sum16(dst, alen, s);
	s += proto;
	s += (uint32_t)len;
	return fold(sum16(l4, len, s));
}

size_t packet_build(const struct packet *p, uint8_t *buf)
{
	uint8_t l4[PACKET_MAX];
	size_t len = 0, hl;
	bool v6 = p->family == AF_INET6;

	memset(l4, 0, sizeof(l4));
	switch (p->proto) {
	case IPPROTO_TCP:
		put16(l4, p->sport);
		put16(l4 + 2, p->dport);
		l4[4] = 0x10; /* a sequence number */
		if (p->tcp_flags & 0x10)
			l4[11] = 1; /* an ack number */
		l4[12] = 5 << 4;
		l4[13] = p->tcp_flags;
		put16(l4 + 14, 64240);
		len = 20;
		break;
	case IPPROTO_UDP:
		put16(l4, p->sport);
		put16(l4 + 2, p->dport);
		len = 8 + 4;
		put16(l4 + 4, (uint16_t)len);
		memcpy(l4 + 8, "nfp", 4);
		break;
	case IPPROTO_SCTP:
		put16(l4, p->sport);
		put16(l4 + 2, p->dport);
		/* an INIT chunk (new) or a HEARTBEAT (established) */
		l4[4] = 0x12; /* a verification tag; INIT carries 0 */
		if (p->state == PACKET_NEW) {
			l4[4] = 0;
			l4[12] = 1;           /* INIT */
			put16(l4 + 14, 20);   /* chunk length */
			l4[16] = 0x11;        /* initiate tag */
			put16(l4 + 20, 65535); /* a_rwnd high */
			put16(l4 + 24, 1);    /* outbound streams */
			put16(l4 + 26, 1);    /* inbound streams */
			l4[28] = 0x22;        /* initial TSN */
			len = 32;
		} else {
			l4[12] = 4;           /* HEARTBEAT */
			put16(l4 + 14, 8);
			put16(l4 + 16, 1);    /* heartbeat info parameter */
			put16(l4 + 18, 4);
			len = 20;
		}
		{
			uint32_t c = crc32c(l4, len);

			/* stored little-endian, as the kernel computes it */
			l4[8] = (uint8_t)c;
			l4[9] = (uint8_t)(c >> 8);
			l4[10] = (uint8_t)(c >> 16);
			l4[11] = (uint8_t)(c >> 24);
		}
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		l4[0] = p->icmp_type;
		l4[1] = p->icmp_code;
		if (p->state == PACKET_RELATED) {
			/* the datagram it is about: from dst to src */
			uint8_t *in = l4 + 8;
			size_t ih = ip_header(in, p->family, IPPROTO_UDP, p->daddr, p->saddr, 12);

			put16(in + ih, PACKET_RELATED_SPORT);
			put16(in + ih + 2, PACKET_RELATED_DPORT);
			put16(in + ih + 4, 12);
			memcpy(in + ih + 8, "nfp", 4);
			put16(in + ih + 6, l4_sum(p->family, IPPROTO_UDP, p->daddr, p->saddr,
						  in + ih, 12));
			len = 8 + ih + 12;
		} else if (v6 && (p->icmp_type == 135 || p->icmp_type == 136)) {
			/* neighbour solicitation/advertisement: the target address */
			memcpy(l4 + 8, p->icmp_type == 135 ? p->daddr : p->saddr, 16);
			if (p->icmp_type == 136)
				l4[4] = 0x60; /* solicited, override */
			len = 24;
		} else {
			put16(l4 + 4, p->sport);
			put16(l4 + 6, 1);
			memcpy(l4 + 8, "nfpilot!", 8);
			len = 16;
		}
		break;
	}
	hl = ip_header(buf, p->family, p->proto, p->saddr, p->daddr, len);
	if (p->proto == IPPROTO_TCP)
		put16(l4 + 16, l4_sum(p->family, p->proto, p->saddr, p->daddr, l4, len));
	else if (p->proto == IPPROTO_UDP)
		put16(l4 + 6, l4_sum(p->family, p->proto, p->saddr, p->daddr, l4, len));
	else if (p->proto == IPPROTO_ICMPV6)
		put16(l4 + 2, l4_sum(p->family, p->proto, p->saddr, p->daddr, l4, len));
	else if (p->proto == IPPROTO_ICMP)
		put16(l4 + 2, fold(sum16(l4, len, 0)));
	memcpy(buf + hl, l4, len);
	return hl + len;
}

static void addr(const struct packet *p, const uint8_t *a, char *buf, size_t len)
{
	if (!inet_ntop(p->family, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

void packet_filter(const struct packet *p, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	bool ports = p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP || p->proto == IPPROTO_SCTP;

	addr(p, p->saddr, s, sizeof(s));
	addr(p, p->daddr, d, sizeof(d));
	if (ports)
		snprintf(buf, len, "src %s dst %s proto %u sport %u dport %u", s, d, p->proto,
			 p->sport, p->dport);
	else
		snprintf(buf, len, "src %s dst %s proto %u", s, d, p->proto);
}

void packet_format(const struct packet *p, char *buf, size_t len)
{
	static const char *const states[] = { "new", "established", "related" };
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	const char *proto = p->proto == IPPROTO_TCP ? "tcp" : p->proto == IPPROTO_UDP ? "udp"
			    : p->proto == IPPROTO_SCTP ? "sctp" : p->proto == IPPROTO_ICMP ? "icmp"
			    : "icmpv6";
	bool ports = p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP || p->proto == IPPROTO_SCTP;
	bool v6 = p->family == AF_INET6;
	size_t k;

	addr(p, p->saddr, s, sizeof(s));
	addr(p, p->daddr, d, sizeof(d));
	if (ports)
		k = (size_t)snprintf(buf, len, "%s %s%s%s:%u -> %s%s%s:%u", proto, v6 ? "[" : "", s,
				     v6 ? "]" : "", p->sport, v6 ? "[" : "", d, v6 ? "]" : "",
				     p->dport);
	else
		k = (size_t)snprintf(buf, len, "%s %s -> %s type %u code %u", proto, s, d,
				     p->icmp_type, p->icmp_code);
	if (k < len && p->iif[0])
		k += (size_t)snprintf(buf + k, len - k, " iif %s", p->iif);
	if (k < len)
		k += (size_t)snprintf(buf + k, len - k, " state %s", states[p->state]);
	if (k < len && p->has_mark)
		snprintf(buf + k, len - k, " mark 0x%x", p->mark);
}
