#include "conntrack/ct_print.h"

#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

int ct_print_default_cols(enum ct_col *cols, int max, bool with_age)
{
	static const enum ct_col def[] = {
		CT_COL_ID, CT_COL_PROTO, CT_COL_STATE, CT_COL_SRC, CT_COL_DST, CT_COL_TIMEOUT,
		CT_COL_OPKTS, CT_COL_OBYTES, CT_COL_RPKTS, CT_COL_RBYTES, CT_COL_MARK,
		CT_COL_ZONE, CT_COL_AGE, CT_COL_NAT,
	};
	int n = 0;

	for (size_t i = 0; i < sizeof(def) / sizeof(def[0]) && n < max; i++)
		if (def[i] != CT_COL_AGE || with_age)
			cols[n++] = def[i];
	return n;
}

static bool right_aligned(enum ct_col c)
{
	switch (c) {
	case CT_COL_ID: case CT_COL_MARK: case CT_COL_ZONE: case CT_COL_TIMEOUT:
	case CT_COL_OPKTS: case CT_COL_OBYTES: case CT_COL_RPKTS: case CT_COL_RBYTES:
	case CT_COL_PKTS: case CT_COL_BYTES: case CT_COL_RATE: case CT_COL_AGE:
	case CT_COL_SPORT: case CT_COL_DPORT:
		return true;
	default:
		return false;
	}
}

/* append s (len) to line at *pos, padded to width; the last column unpadded */
static void put_cell(char *line, size_t *pos, const char *s, size_t len, int width, bool right,
		     bool last)
{
	size_t pad = (size_t)width > len ? (size_t)width - len : 0;

	if (*pos)
		line[(*pos)++] = ' ';
	if (right) {
		memset(line + *pos, ' ', pad);
		*pos += pad;
	}
	memcpy(line + *pos, s, len);
	*pos += len;
	if (!right && !last) {
		memset(line + *pos, ' ', pad);
		*pos += pad;
	}
}

void ct_print_header(FILE *fp, const struct ct_print_opts *o)
{
	char line[1024];
	size_t pos = 0;

	for (int i = 0; i < o->ncols; i++) {
		const char *t = ct_col_title(o->cols[i]);

		put_cell(line, &pos, t, strlen(t), ct_col_width(o->cols[i]),
			 right_aligned(o->cols[i]), i == o->ncols - 1);
	}
	line[pos++] = '\n';
	fwrite(line, 1, pos, fp);
}

void ct_print_row(FILE *fp, const struct ct_entry *e, const struct ct_print_opts *o)
{
	char line[2048], cell[192];
	size_t pos = 0;

	for (int i = 0; i < o->ncols; i++) {
		size_t len = ct_col_format(cell, sizeof(cell), e, o->cols[i], &o->fmt);

		put_cell(line, &pos, cell, len, ct_col_width(o->cols[i]),
			 right_aligned(o->cols[i]), i == o->ncols - 1);
	}
	line[pos++] = '\n';
	fwrite_unlocked(line, 1, pos, fp);
}

/* ---- JSON ---- */

static char *put_s(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static char *put_u(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_tuple(char *p, const struct ct_entry *e, const struct ct_tuple *t)
{
	char addr[48];

	p = put_s(p, "{\"src\": \"");
	ct_addr_format(addr, e->family, &t->src);
	p = put_s(p, addr);
	p = put_s(p, "\", \"dst\": \"");
	ct_addr_format(addr, e->family, &t->dst);
	p = put_s(p, addr);
	p = put_s(p, "\"");
	if (ct_proto_has_ports(e->proto)) {
		p = put_s(p, ", \"sport\": ");
		p = put_u(p, t->sport);
		p = put_s(p, ", \"dport\": ");
		p = put_u(p, t->dport);
	} else if (e->proto == IPPROTO_ICMP || e->proto == IPPROTO_ICMPV6) {
		p = put_s(p, ", \"type\": ");
		p = put_u(p, t->dport >> 8);
		p = put_s(p, ", \"code\": ");
		p = put_u(p, t->dport & 0xff);
		p = put_s(p, ", \"id\": ");
		p = put_u(p, t->sport);
	}
	return put_s(p, "}");
}

static char *put_counter(char *p, const char *name, bool acct, uint64_t v)
{
	p = put_s(p, name);
	return acct ? put_u(p, v) : put_s(p, "null");
}

void ct_print_json(FILE *fp, const struct ct_entry *e)
{
	char buf[1536], *p = buf;
	const char *proto = ct_proto_name(e->proto);
	bool acct = e->flags & CT_F_ACCT, first = true;

	p = put_s(p, "{\"id\": ");
	p = put_u(p, e->id);
	p = put_s(p, ", \"family\": \"");
	p = put_s(p, e->family == AF_INET6 ? "ipv6" : "ipv4");
	p = put_s(p, "\", \"proto\": ");
	if (proto) {
		*p++ = '"';
		p = put_s(p, proto);
		*p++ = '"';
	} else {
		p = put_u(p, e->proto);
	}
	p = put_s(p, ", \"state\": \"");
	p = put_s(p, ct_state_name(e));
	p = put_s(p, "\", \"ctstate\": \"");
	p = put_s(p, ct_ctstate_name(ct_ctstate(e)));
	p = put_s(p, "\", \"status\": [");
	for (unsigned b = 0; b < 32; b++) {
		const char *n = ct_status_bit_name(b);

		if (!(e->status & (1u << b)) || !n)
			continue;
		p = put_s(p, first ? "\"" : ", \"");
		p = put_s(p, n);
		*p++ = '"';
		first = false;
	}
	p = put_s(p, "], \"orig\": ");
	p = put_tuple(p, e, &e->orig);
	p = put_s(p, ", \"reply\": ");
	p = put_tuple(p, e, &e->reply);
	p = put_s(p, ", \"snat\": ");
	p = put_s(p, ct_has_snat(e) ? "true" : "false");
	p = put_s(p, ", \"dnat\": ");
	p = put_s(p, ct_has_dnat(e) ? "true" : "false");
	p = put_s(p, ", \"mark\": ");
	p = put_u(p, e->mark);
	p = put_s(p, ", \"zone\": ");
	p = put_u(p, e->zone);
	p = put_s(p, ", \"timeout\": ");
	p = put_u(p, e->timeout);
	p = put_counter(p, ", \"orig_packets\": ", acct, e->pkts[0]);
	p = put_counter(p, ", \"orig_bytes\": ", acct, e->bytes[0]);
	p = put_counter(p, ", \"reply_packets\": ", acct, e->pkts[1]);
	p = put_counter(p, ", \"reply_bytes\": ", acct, e->bytes[1]);
	p = put_s(p, ", \"start\": ");
	if ((e->flags & CT_F_TSTAMP) && e->start) {
		p = put_u(p, e->start / 1000000000u);
		*p++ = '.';
		p += sprintf(p, "%09" PRIu64, e->start % 1000000000u);
	} else {
		p = put_s(p, "null");
	}
	*p++ = '}';
	fwrite_unlocked(buf, 1, (size_t)(p - buf), fp);
}
