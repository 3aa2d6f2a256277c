#define _GNU_SOURCE /* asprintf */
#include "conntrack/ct_filter.h"
#include "util/grow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_sctp.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

enum { CTF_TERM, CTF_AND, CTF_OR, CTF_NOT };

enum ctk {
	CTK_SRC, CTK_DST, CTK_RSRC, CTK_RDST, CTK_HOST,
	CTK_SPORT, CTK_DPORT, CTK_RSPORT, CTK_RDPORT, CTK_PORT,
	CTK_PROTO, CTK_FAMILY, CTK_STATE, CTK_CTSTATE, CTK_STATUS, CTK_MARK, CTK_ZONE,
	CTK_ID,
};

struct ct_fnode {
	uint8_t op;      /* CTF_* */
	uint8_t key;     /* enum ctk, for CTF_TERM */
	int a, b;        /* AND/OR: children; NOT: a; TERM: first value, count */
};

/* One value of a term: an address and mask, a range lo..hi, a mark
 * value (lo) and mask (hi), or codes (state: tcp | sctp << 8 | ctstate << 16,
 * 0xff for none). */
struct ct_fval {
	union ct_addr addr, mask;
	uint32_t lo, hi;
	uint8_t family;
	uint8_t full;    /* address without a prefix (a whole /32 or /128) */
};

static const struct {
	const char *name;
	enum ctk key;
} keys[] = {
	{ "src", CTK_SRC }, { "dst", CTK_DST }, { "rsrc", CTK_RSRC }, { "rdst", CTK_RDST },
	{ "host", CTK_HOST }, { "sport", CTK_SPORT }, { "dport", CTK_DPORT },
	{ "rsport", CTK_RSPORT }, { "rdport", CTK_RDPORT }, { "port", CTK_PORT },
	{ "proto", CTK_PROTO }, { "family", CTK_FAMILY }, { "state", CTK_STATE },
	{ "ctstate", CTK_CTSTATE }, { "status", CTK_STATUS }, { "mark", CTK_MARK },
	{ "zone", CTK_ZONE }, { "id", CTK_ID },
	/* aliases */
	{ "saddr", CTK_SRC }, { "daddr", CTK_DST }, { "reply-src", CTK_RSRC },
	{ "reply-dst", CTK_RDST }, { "addr", CTK_HOST }, { "protocol", CTK_PROTO },
	{ "reply-sport", CTK_RSPORT }, { "reply-dport", CTK_RDPORT },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))
#define KEY_LIST "src dst rsrc rdst host sport dport rsport rdport port proto family " \
		 "state ctstate status mark zone id"

#define MAX_DEPTH 64

struct tok {
	size_t off, len;
};

struct parser {
	const char *text;
	struct tok *toks;
	int ntoks, i, depth;
	struct ct_filter *f;
	size_t nodecap, valcap;
	char *err;
	size_t errlen;
	struct ct_filter_pos *pos;
};

static int fail_at(struct parser *p, int tok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(struct parser *p, int tok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	if (p->pos) {
		if (tok < p->ntoks) {
			p->pos->off = p->toks[tok].off;
			p->pos->len = p->toks[tok].len;
		} else {
			p->pos->off = strlen(p->text);
			p->pos->len = 0;
		}
		p->pos->word = tok + 1;
	}
	return -EINVAL;
}

static bool tok_is(const struct parser *p, int i, const char *w)
{
	const struct tok *t = &p->toks[i];

	return i < p->ntoks && strlen(w) == t->len && strncasecmp(p->text + t->off, w, t->len) == 0;
}

/* the word as a C string, for messages and value parsing */
static void tok_str(const struct parser *p, int i, char *buf, size_t size)
{
	size_t n = p->toks[i].len;

	if (n >= size)
		n = size - 1;
	memcpy(buf, p->text + p->toks[i].off, n);
	buf[n] = 0;
}

static int tokenize(struct parser *p)
{
	const char *s = p->text;
	size_t i = 0, cap = 0;

	while (s[i]) {
		size_t start;

		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++;
			continue;
		}
		start = i;
		if (s[i] == '(' || s[i] == ')' || (s[i] == '!' && s[i + 1] != '='))
			i++;
		else
			while (s[i] && !strchr(" \t\n\r()", s[i]))
				i++;
		if (grow(&p->toks, &cap, (size_t)p->ntoks + 1, sizeof(*p->toks), 16))
			return -ENOMEM;
		p->toks[p->ntoks].off = start;
		p->toks[p->ntoks].len = i - start;
		p->ntoks++;
	}
	return 0;
}

static int add_node(struct parser *p, uint8_t op, uint8_t key, int a, int b)
{
	struct ct_filter *f = p->f;

	if (grow(&f->nodes, &p->nodecap, f->nnodes + 1, sizeof(*f->nodes), 16))
		return -ENOMEM;
	f->nodes[f->nnodes] = (struct ct_fnode){ .op = op, .key = key, .a = a, .b = b };
	return (int)f->nnodes++;
}

static struct ct_fval *add_val(struct parser *p)
{
	struct ct_filter *f = p->f;

	return grow_slot(&f->vals, &f->nvals, &p->valcap, sizeof(*f->vals), 16);
}

/* ---- values ---- */

/* decimal or 0x hex, at most max; 0 or -EINVAL */
static int parse_num(const char *s, uint64_t max, uint32_t *out)
{
	unsigned long long v = 0;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -EINVAL;
		v = v * (unsigned)base + (unsigned)d;
		if (v > max)
			return -ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_addr(const char *s, struct ct_fval *v, char *why, size_t whylen)
{
	char buf[64], *slash;
	unsigned plen, max;
	uint32_t n;

	if (strlen(s) >= sizeof(buf)) {
		snprintf(why, whylen, "not an address");
		return -EINVAL;
	}
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	if (inet_pton(AF_INET, buf, v->addr.b) == 1) {
		v->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, v->addr.b) == 1) {
		v->family = AF_INET6;
		max = 128;
	} else {
		snprintf(why, whylen, "not an IPv4 or IPv6 address");
		return -EINVAL;
	}
	plen = max;
	if (slash) {
		if (parse_num(slash, 255, &n) || strncmp(slash, "0x", 2) == 0) {
			snprintf(why, whylen, "'/%s' is not a prefix length", slash);
			return -EINVAL;
		}
		if (n > max) {
			snprintf(why, whylen, "prefix length %u is out of range for %s (0-%u)", n,
				 max == 32 ? "IPv4" : "IPv6", max);
			return -EINVAL;
		}
		plen = n;
	}
	v->full = plen == max;
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = plen > i * 8 ? plen - i * 8 : 0;

		v->mask.b[i] = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
		v->addr.b[i] &= v->mask.b[i];
	}
	return 0;
}

/* N or N-M within 0..max */
static int parse_range(const char *s, uint64_t max, struct ct_fval *v, const char *what,
		       char *why, size_t whylen)
{
	char buf[48], *dash;
	int r;

	if (strlen(s) >= sizeof(buf)) {
		snprintf(why, whylen, "not a %s", what);
		return -EINVAL;
	}
	strcpy(buf, s);
	dash = strchr(buf + 1, '-');
	if (dash)
		*dash++ = 0;
	r = parse_num(buf, max, &v->lo);
	if (!r)
		r = dash ? parse_num(dash, max, &v->hi) : (v->hi = v->lo, 0);
	if (r) {
		snprintf(why, whylen, r == -ERANGE ? "%s is out of range (0-%llu)" :
			 "not a %s (N or N-M, 0-%llu)", what, (unsigned long long)max);
		return -EINVAL;
	}
	if (v->lo > v->hi) {
		snprintf(why, whylen, "empty range: %u is above %u", v->lo, v->hi);
		return -EINVAL;
	}
	return 0;
}

static int state_code(const char *s, uint32_t *code)
{
	static const char *const ctst[] = { "NEW", "ESTABLISHED", "RELATED" };
	uint32_t tcp = 0xff, sc = 0xff, cs = 0xff;
	int t = ct_tcp_state_parse(s), q = ct_sctp_state_parse(s);

	if (t > 0) /* not NONE */
		tcp = (uint32_t)t;
	if (q > 0)
		sc = (uint32_t)q;
	for (uint32_t i = 0; i < 3; i++)
		if (strcasecmp(ctst[i], s) == 0)
			cs = i;
	if (tcp == 0xff && sc == 0xff && cs == 0xff)
		return -EINVAL;
	*code = tcp | sc << 8 | cs << 16;
	return 0;
}

static const char *value_hint(enum ctk k)
{
	switch (k) {
	case CTK_SRC: case CTK_DST: case CTK_RSRC: case CTK_RDST: case CTK_HOST:
		return "an address (10.0.0.1, 10.0.0.0/8, 2001:db8::/32)";
	case CTK_SPORT: case CTK_DPORT: case CTK_RSPORT: case CTK_RDPORT: case CTK_PORT:
		return "a port (22, 1024-65535, 80,443)";
	case CTK_PROTO:
		return "a protocol (tcp udp icmp icmpv6 sctp gre, or a number)";
	case CTK_FAMILY:
		return "ipv4 or ipv6";
	case CTK_STATE:
		return "a state (new established related, or a TCP state: syn_sent syn_recv "
		       "fin_wait close_wait last_ack time_wait close)";
	case CTK_CTSTATE:
		return "new, established or related";
	case CTK_STATUS:
		return "a status (assured seen-reply snat dnat nat confirmed expected "
		       "dying offload)";
	case CTK_MARK:
		return "a mark (N or N/MASK, decimal or 0x hex)";
	case CTK_ZONE:
		return "a zone (N or N-M)";
	case CTK_ID:
		return "an id (N or N-M)";
	}
	return "a value";
}

static int parse_value(struct parser *p, const char *keyword, enum ctk k, const char *s,
		       int tok)
{
	char why[160] = "";
	struct ct_fval *v = add_val(p);
	int ret = -EINVAL, n;

	if (!v)
		return -ENOMEM;
	switch (k) {
	case CTK_SRC: case CTK_DST: case CTK_RSRC: case CTK_RDST: case CTK_HOST:
		ret = parse_addr(s, v, why, sizeof(why));
		break;
	case CTK_SPORT: case CTK_DPORT: case CTK_RSPORT: case CTK_RDPORT: case CTK_PORT:
		ret = parse_range(s, 65535, v, "port", why, sizeof(why));
		break;
	case CTK_ZONE:
		ret = parse_range(s, 65535, v, "zone", why, sizeof(why));
		break;
	case CTK_ID:
		ret = parse_range(s, UINT32_MAX, v, "id", why, sizeof(why));
		break;
	case CTK_PROTO:
		n = ct_proto_parse(s);
		if (n >= 0) {
			v->lo = (uint32_t)n;
			ret = 0;
		} else
			snprintf(why, sizeof(why), "unknown protocol");
		break;
	case CTK_FAMILY:
		ret = 0;
		if (!strcasecmp(s, "ipv4") || !strcasecmp(s, "ip") || !strcasecmp(s, "ip4") ||
		    !strcasecmp(s, "inet") || !strcmp(s, "4"))
			v->lo = AF_INET;
		else if (!strcasecmp(s, "ipv6") || !strcasecmp(s, "ip6") ||
			 !strcasecmp(s, "inet6") || !strcmp(s, "6"))
			v->lo = AF_INET6;
		else {
			snprintf(why, sizeof(why), "unknown family");
			ret = -EINVAL;
		}
		break;
	case CTK_STATE:
		ret = state_code(s, &v->lo);
		if (ret)
			snprintf(why, sizeof(why), "unknown state");
		break;
	case CTK_CTSTATE:
		ret = -EINVAL;
		for (uint32_t i = 0; i < 3; i++)
			if (strcasecmp(s, ct_ctstate_name((enum ct_ctstate)i)) == 0) {
				v->lo = i;
				ret = 0;
			}
		if (ret)
			snprintf(why, sizeof(why), "unknown ct state");
		break;
	case CTK_STATUS:
		v->lo = ct_status_parse(s);
		ret = v->lo ? 0 : -EINVAL;
		if (ret)
			snprintf(why, sizeof(why), "unknown status");
		break;
	case CTK_MARK: {
		char buf[48], *slash;

		if (strlen(s) >= sizeof(buf)) {
			snprintf(why, sizeof(why), "not a mark");
			break;
		}
		strcpy(buf, s);
		slash = strchr(buf, '/');
		if (slash)
			*slash++ = 0;
		v->hi = UINT32_MAX;
		ret = parse_num(buf, UINT32_MAX, &v->lo);
		if (!ret && slash)
			ret = parse_num(slash, UINT32_MAX, &v->hi);
		if (ret)
			snprintf(why, sizeof(why), "not a mark (0-4294967295)");
		else
			v->lo &= v->hi;
		break;
	}
	}
	if (ret)
		return fail_at(p, tok, "word %d '%s': %s; '%s' needs %s", tok + 1, s, why,
			       keyword, value_hint(k));
	return 0;
}

/* ---- grammar ---- */

static bool is_keyword(const struct parser *p, int i)
{
	return tok_is(p, i, "and") || tok_is(p, i, "or") || tok_is(p, i, "not") ||
	       tok_is(p, i, "&&") || tok_is(p, i, "||") || tok_is(p, i, "!") ||
	       tok_is(p, i, "(") || tok_is(p, i, ")");
}

static int parse_term(struct parser *p)
{
	char word[64], val[256];
	int kt = p->i, first, count = 0;
	size_t k;

	tok_str(p, kt, word, sizeof(word));
	for (k = 0; k < NKEYS; k++)
		if (strcasecmp(keys[k].name, word) == 0)
			break;
	if (k == NKEYS)
		return fail_at(p, kt, "word %d '%s': unknown filter word (keys: " KEY_LIST
			       "; also: not ! or and ( ))", kt + 1, word);
	p->i++;
	if (p->i >= p->ntoks || is_keyword(p, p->i))
		return fail_at(p, p->i, "'%s' needs %s after it", word, value_hint(keys[k].key));
	first = (int)p->f->nvals;
	/* a comma list, possibly spread over words: "22,80" or "22, 80" */
	for (;;) {
		char *s, *comma;
		int vt = p->i, ret;
		bool more;

		if (p->toks[vt].len >= sizeof(val))
			return fail_at(p, vt, "word %d is too long", vt + 1);
		tok_str(p, vt, val, sizeof(val));
		more = val[0] && val[strlen(val) - 1] == ',';
		for (s = val; s; s = comma) {
			comma = strchr(s, ',');
			if (comma)
				*comma++ = 0;
			if (!*s) {
				if (comma || !more)
					return fail_at(p, vt, "word %d '%s': empty value in a list",
						       vt + 1, p->text + p->toks[vt].off);
				break;
			}
			ret = parse_value(p, word, keys[k].key, s, vt);
			if (ret)
				return ret;
			count++;
		}
		p->i++;
		if (!more)
			break;
		if (p->i >= p->ntoks || is_keyword(p, p->i))
			return fail_at(p, p->i, "the list after '%s' ends with a comma", word);
	}
	return add_node(p, CTF_TERM, (uint8_t)keys[k].key, first, count);
}

static int parse_or(struct parser *p);

static int parse_unary(struct parser *p)
{
	int start = p->i, child, ret;

	if (p->i >= p->ntoks)
		return fail_at(p, p->i, "the filter ends where a condition should follow");
	if (++p->depth > MAX_DEPTH)
		return fail_at(p, p->i, "word %d: nested too deeply", p->i + 1);
	if (tok_is(p, p->i, "not") || tok_is(p, p->i, "!")) {
		p->i++;
		if (p->i >= p->ntoks || tok_is(p, p->i, ")") || tok_is(p, p->i, "or") ||
		    tok_is(p, p->i, "and"))
			return fail_at(p, start, "word %d: 'not' needs a condition after it",
				       start + 1);
		child = parse_unary(p);
		ret = child < 0 ? child : add_node(p, CTF_NOT, 0, child, 0);
	} else if (tok_is(p, p->i, "(")) {
		p->i++;
		child = parse_or(p);
		if (child < 0)
			return child;
		if (!tok_is(p, p->i, ")"))
			return fail_at(p, start, "word %d: this '(' is never closed", start + 1);
		p->i++;
		ret = child;
	} else if (tok_is(p, p->i, ")")) {
		return fail_at(p, p->i, "word %d: ')' without a '(' before it", p->i + 1);
	} else if (tok_is(p, p->i, "or") || tok_is(p, p->i, "||") || tok_is(p, p->i, "and") ||
		   tok_is(p, p->i, "&&")) {
		char w[8];

		tok_str(p, p->i, w, sizeof(w));
		return fail_at(p, p->i, "word %d: '%s' needs a condition on each side",
			       p->i + 1, w);
	} else {
		ret = parse_term(p);
	}
	p->depth--;
	return ret;
}

static int parse_and(struct parser *p)
{
	int left = parse_unary(p);

	while (left >= 0 && p->i < p->ntoks && !tok_is(p, p->i, ")") &&
	       !tok_is(p, p->i, "or") && !tok_is(p, p->i, "||")) {
		int right;

		if (tok_is(p, p->i, "and") || tok_is(p, p->i, "&&")) {
			p->i++;
			if (p->i >= p->ntoks || tok_is(p, p->i, ")"))
				return fail_at(p, p->i - 1,
					       "word %d: 'and' needs a condition on each side", p->i);
		}
		right = parse_unary(p);
		if (right < 0)
			return right;
		left = add_node(p, CTF_AND, 0, left, right);
	}
	return left;
}

static int parse_or(struct parser *p)
{
	int left = parse_and(p);

	while (left >= 0 && (tok_is(p, p->i, "or") || tok_is(p, p->i, "||"))) {
		int at = p->i, right;

		p->i++;
		if (p->i >= p->ntoks || tok_is(p, p->i, ")"))
			return fail_at(p, at, "word %d: 'or' needs a condition on each side", at + 1);
		right = parse_and(p);
		if (right < 0)
			return right;
		left = add_node(p, CTF_OR, 0, left, right);
	}
	return left;
}

int ct_filter_parse(struct ct_filter *f, const char *text, char *err, size_t errlen,
		    struct ct_filter_pos *pos)
{
	struct parser p = {
		.text = text ? text : "", .f = f, .err = err, .errlen = errlen, .pos = pos,
	};
	int ret;

	memset(f, 0, sizeof(*f));
	f->root = -1;
	ret = tokenize(&p);
	if (!ret && p.ntoks) {
		ret = parse_or(&p);
		if (ret >= 0 && p.i < p.ntoks)
			ret = fail_at(&p, p.i, "word %d: ')' without a '(' before it", p.i + 1);
		if (ret >= 0) {
			f->root = ret;
			ret = 0;
		}
	}
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	free(p.toks);
	if (ret)
		ct_filter_free(f);
	return ret;
}

/* ---- matching ---- */

static bool addr_in(const struct ct_fval *v, uint8_t family, const union ct_addr *a)
{
	if (v->family != family)
		return false;
	for (int i = 0; i < 4; i++)
		if ((a->w[i] & v->mask.w[i]) != v->addr.w[i])
			return false;
	return true;
}

static bool in_range(const struct ct_fval *v, uint32_t x)
{
	return x >= v->lo && x <= v->hi;
}

static bool state_is(const struct ct_fval *v, const struct ct_entry *e)
{
	if (e->proto == IPPROTO_TCP)
		return (v->lo & 0xff) == e->l4state;
	if (e->proto == IPPROTO_SCTP)
		return (v->lo >> 8 & 0xff) == e->l4state;
	return (v->lo >> 16 & 0xff) == (uint32_t)ct_ctstate(e);
}

static bool value_match(enum ctk k, const struct ct_fval *v, const struct ct_entry *e)
{
	bool ports = ct_proto_has_ports(e->proto);

	switch (k) {
	case CTK_SRC:
		return addr_in(v, e->family, &e->orig.src);
	case CTK_DST:
		return addr_in(v, e->family, &e->orig.dst);
	case CTK_RSRC:
		return addr_in(v, e->family, &e->reply.src);
	case CTK_RDST:
		return addr_in(v, e->family, &e->reply.dst);
	case CTK_HOST:
		return addr_in(v, e->family, &e->orig.src) ||
		       addr_in(v, e->family, &e->orig.dst) ||
		       addr_in(v, e->family, &e->reply.src) ||
		       addr_in(v, e->family, &e->reply.dst);
	case CTK_SPORT:
		return ports && in_range(v, e->orig.sport);
	case CTK_DPORT:
		return ports && in_range(v, e->orig.dport);
	case CTK_RSPORT:
		return ports && in_range(v, e->reply.sport);
	case CTK_RDPORT:
		return ports && in_range(v, e->reply.dport);
	case CTK_PORT:
		return ports && (in_range(v, e->orig.sport) || in_range(v, e->orig.dport) ||
				 in_range(v, e->reply.sport) || in_range(v, e->reply.dport));
	case CTK_PROTO:
		return e->proto == v->lo;
	case CTK_FAMILY:
		return e->family == v->lo;
	case CTK_STATE:
		return state_is(v, e);
	case CTK_CTSTATE:
		return (uint32_t)ct_ctstate(e) == v->lo;
	case CTK_STATUS:
		return (e->status & v->lo) != 0;
	case CTK_MARK:
		return (e->mark & v->hi) == v->lo;
	case CTK_ZONE:
		return in_range(v, e->zone);
	case CTK_ID:
		return in_range(v, e->id);
	}
	return false;
}

static bool node_match(const struct ct_filter *f, int i, const struct ct_entry *e)
{
	const struct ct_fnode *n = &f->nodes[i];

	switch (n->op) {
	case CTF_AND:
		return node_match(f, n->a, e) && node_match(f, n->b, e);
	case CTF_OR:
		return node_match(f, n->a, e) || node_match(f, n->b, e);
	case CTF_NOT:
		return !node_match(f, n->a, e);
	default:
		for (int v = n->a; v < n->a + n->b; v++)
			if (value_match((enum ctk)n->key, &f->vals[v], e))
				return true;
		return false;
	}
}

bool ct_filter_match(const struct ct_filter *f, const struct ct_entry *e)
{
	return !f || f->root < 0 || node_match(f, f->root, e);
}

bool ct_filter_empty(const struct ct_filter *f)
{
	return !f || f->root < 0;
}

void ct_filter_free(struct ct_filter *f)
{
	free(f->nodes);
	free(f->vals);
	memset(f, 0, sizeof(*f));
	f->root = -1;
}

/* ---- what the kernel can do ---- */

static void kernel_term(const struct ct_filter *f, const struct ct_fnode *n,
			struct ct_kfilter *k, bool *family_clash)
{
	const struct ct_fval *v = &f->vals[n->a];
	int slot;

	if (n->b != 1)
		return;
	switch ((enum ctk)n->key) {
	case CTK_SRC: case CTK_DST: case CTK_RSRC: case CTK_RDST:
		if (k->family && k->family != v->family) {
			*family_clash = true;
			return;
		}
		/* any address, prefix or not, fixes the family */
		k->family = v->family;
		k->flags |= CT_KF_FAMILY;
		/* The kernel compares IPv6 filter addresses the wrong way round
		 * (ctnetlink_filter_match_tuple: "!ipv6_addr_cmp", up to 6.18 at
		 * least): it would drop exactly the matches. IPv4 only. */
		if (!v->full || v->family != AF_INET)
			return;
		slot = n->key == CTK_SRC ? 0 : n->key == CTK_DST ? 1 : n->key == CTK_RSRC ? 2 : 3;
		k->addr[slot] = v->addr;
		k->flags |= CT_KF_OSRC << slot;
		break;
	case CTK_SPORT: case CTK_DPORT: case CTK_RSPORT: case CTK_RDPORT:
		if (v->lo != v->hi)
			return;
		slot = n->key == CTK_SPORT ? 0 : n->key == CTK_DPORT ? 1 :
		       n->key == CTK_RSPORT ? 2 : 3;
		k->port[slot] = (uint16_t)v->lo;
		k->flags |= CT_KF_OSPORT << slot;
		break;
	case CTK_PROTO:
		k->proto = (uint8_t)v->lo;
		k->flags |= CT_KF_PROTO;
		break;
	case CTK_FAMILY:
		if (k->family && k->family != v->lo) {
			*family_clash = true;
			return;
		}
		k->family = (uint8_t)v->lo;
		k->flags |= CT_KF_FAMILY;
		break;
	case CTK_MARK:
		k->mark = v->lo;
		k->mark_mask = v->hi;
		k->flags |= CT_KF_MARK;
		break;
	case CTK_STATUS:
		/* one bit: the kernel compares (status & mask) == value */
		if (v->lo && !(v->lo & (v->lo - 1))) {
			k->status = k->status_mask = v->lo;
			k->flags |= CT_KF_STATUS;
		}
		break;
	default:
		break;
	}
}

static void kernel_walk(const struct ct_filter *f, int i, struct ct_kfilter *k, bool *clash)
{
	const struct ct_fnode *n = &f->nodes[i];

	if (n->op == CTF_AND) {
		kernel_walk(f, n->a, k, clash);
		kernel_walk(f, n->b, k, clash);
	} else if (n->op == CTF_TERM) {
		kernel_term(f, n, k, clash);
	}
}

bool ct_filter_kernel(const struct ct_filter *f, struct ct_kfilter *k)
{
	bool clash = false;

	memset(k, 0, sizeof(*k));
	if (ct_filter_empty(f))
		return false;
	kernel_walk(f, f->root, k, &clash);
	if (clash) {
		/* nothing can match; let the filter say so rather than the kernel */
		memset(k, 0, sizeof(*k));
		return false;
	}
	/* ports mean nothing to the kernel without the protocol */
	if (!(k->flags & CT_KF_PROTO))
		k->flags &= ~(uint32_t)(CT_KF_OSPORT | CT_KF_ODPORT | CT_KF_RSPORT | CT_KF_RDPORT);
	if (k->flags & (CT_KF_OSRC | CT_KF_ODST | CT_KF_RSRC | CT_KF_RDST))
		k->flags |= CT_KF_FAMILY;
	return k->flags != 0;
}

/* ---- the filter as nft matches on packets (ct_filter_nft) ---- */

#define NFT_MAX_CLAUSES 64

/* One alternative: its matches, and the family they fix (0: none). */
struct clause {
	char *text;
	uint8_t family;
};

struct dnf {
	struct clause *c;
	size_t n, cap;
	int err;          /* -ENOMEM, -E2BIG or -EINVAL (message in msg) */
	char msg[160];
};

static void dnf_free(struct dnf *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->c[i].text);
	free(d->c);
	d->c = NULL;
	d->n = d->cap = 0;
}

static void dnf_add(struct dnf *d, const char *text, uint8_t family)
{
	if (d->err)
		return;
	if (d->n >= NFT_MAX_CLAUSES) {
		d->err = -E2BIG;
		return;
	}
	if (grow(&d->c, &d->cap, d->n + 1, sizeof(*d->c), 4) || !(text = strdup(text))) {
		d->err = -ENOMEM;
		return;
	}
	d->c[d->n++] = (struct clause){ (char *)text, family };
}

/* a or b: b's alternatives moved into a */
static void dnf_union(struct dnf *a, struct dnf *b)
{
	for (size_t i = 0; i < b->n && !a->err; i++)
		dnf_add(a, b->c[i].text, b->c[i].family);
	if (b->err && !a->err) {
		a->err = b->err;
		memcpy(a->msg, b->msg, sizeof(a->msg));
	}
	dnf_free(b);
}

/* a and b: every pair whose families agree */
static void dnf_product(struct dnf *a, struct dnf *b)
{
	struct dnf out = { 0 };

	out.err = a->err ? a->err : b->err;
	memcpy(out.msg, a->err ? a->msg : b->msg, sizeof(out.msg));
	for (size_t i = 0; i < a->n && !out.err; i++)
		for (size_t j = 0; j < b->n && !out.err; j++) {
			uint8_t fa = a->c[i].family, fb = b->c[j].family;
			char *t;

			if (fa && fb && fa != fb)
				continue; /* an IPv4 and an IPv6 match: never both */
			if (strcmp(a->c[i].text, b->c[j].text) == 0) /* x and x */
				t = strdup(a->c[i].text);
			else if (asprintf(&t, "%s%s%s", a->c[i].text, *a->c[i].text ? " " : "",
					  b->c[j].text) < 0)
				t = NULL;
			if (!t) {
				out.err = -ENOMEM;
				break;
			}
			dnf_add(&out, t, fa ? fa : fb);
			free(t);
		}
	dnf_free(a);
	dnf_free(b);
	*a = out;
}

static int prefix_len(const union ct_addr *mask)
{
	int n = 0;

	for (int i = 0; i < 16; i++)
		for (int b = 7; b >= 0; b--)
			n += mask->b[i] >> b & 1;
	return n;
}

/* "{ a, b }" or "a": the values of term n of family fam (0: any), as
 * fmt writes each; returns how many were written. */
static int put_values(FILE *fp, const struct ct_filter *f, const struct ct_fnode *n,
		      uint8_t fam, void (*fmt)(FILE *, const struct ct_fval *))
{
	int count = 0;

	for (int v = n->a; v < n->a + n->b; v++)
		count += !fam || f->vals[v].family == fam;
	if (count > 1)
		fputs("{ ", fp);
	for (int v = n->a, k = 0; v < n->a + n->b; v++) {
		if (fam && f->vals[v].family != fam)
			continue;
		if (k++)
			fputs(", ", fp);
		fmt(fp, &f->vals[v]);
	}
	if (count > 1)
		fputs(" }", fp);
	return count;
}

static void fmt_addr(FILE *fp, const struct ct_fval *v)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(v->family, v->addr.b, buf, sizeof(buf));
	fputs(buf, fp);
	if (!v->full)
		fprintf(fp, "/%d", prefix_len(&v->mask));
}

static void fmt_range(FILE *fp, const struct ct_fval *v)
{
	if (v->lo == v->hi)
		fprintf(fp, "%u", v->lo);
	else
		fprintf(fp, "%u-%u", v->lo, v->hi);
}

static void fmt_lo(FILE *fp, const struct ct_fval *v)
{
	fprintf(fp, "%u", v->lo);
}

static void fmt_family(FILE *fp, const struct ct_fval *v)
{
	fputs(v->lo == AF_INET ? "ipv4" : "ipv6", fp);
}

static const char *const ctstate_names[] = { "new", "established", "related" };

/* state: tcp | sctp << 8 | ctstate << 16 (state_code) */
static void fmt_state(FILE *fp, const struct ct_fval *v)
{
	fputs(ctstate_names[(v->lo >> 16 & 0xff) % 3], fp);
}

static void fmt_ctstate(FILE *fp, const struct ct_fval *v)
{
	fputs(ctstate_names[v->lo % 3], fp);
}

/* One match "PREFIX [!=] VALUES" into d, fixing family fam. */
static void dnf_match(struct dnf *d, const char *prefix, bool neg, const struct ct_filter *f,
		      const struct ct_fnode *n, uint8_t vfam, uint8_t fam,
		      void (*fmt)(FILE *, const struct ct_fval *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	if (!fp) {
		d->err = -ENOMEM;
		return;
	}
	fprintf(fp, "%s %s", prefix, neg ? "!= " : "");
	put_values(fp, f, n, vfam, fmt);
	fclose(fp);
	dnf_add(d, text, fam);
	free(text);
}

static const char *const port_protos = "meta l4proto { 6, 17, 33, 132, 136 }";

/* An address term (what: "saddr", "daddr"; ct: "ct original ", "ct reply " or ""). */
static void dnf_addr(struct dnf *d, const struct ct_filter *f, const struct ct_fnode *n,
		     const char *ct, const char *what, bool neg)
{
	static const struct { uint8_t af; const char *name, *proto; } fams[] = {
		{ AF_INET, "ip", "ipv4" }, { AF_INET6, "ip6", "ipv6" },
	};

	for (size_t i = 0; i < 2; i++) {
		char prefix[64];
		int count = 0;

		for (int v = n->a; v < n->a + n->b; v++)
			count += f->vals[v].family == fams[i].af;
		snprintf(prefix, sizeof(prefix), "%s%s %s", ct, fams[i].name, what);
		if (count)
			dnf_match(d, prefix, neg, f, n, fams[i].af, fams[i].af, fmt_addr);
		else if (neg) {
			/* no address of this family: every such packet matches */
			snprintf(prefix, sizeof(prefix), "meta nfproto %s", fams[i].proto);
			dnf_add(d, prefix, fams[i].af);
		}
	}
}

/* A port term: only protocols with ports have them (as ct_proto_has_ports). */
static void dnf_port(struct dnf *d, const struct ct_filter *f, const struct ct_fnode *n,
		     const char *what, bool neg)
{
	char prefix[96];

	snprintf(prefix, sizeof(prefix), "%s %s", port_protos, what);
	dnf_match(d, prefix, neg, f, n, 0, 0, fmt_range);
	if (neg)
		dnf_add(d, "meta l4proto != { 6, 17, 33, 132, 136 }", 0);
}

static void dnf_term(struct dnf *d, const struct ct_filter *f, const struct ct_fnode *n,
		     bool neg, bool *uses_ct)
{
	struct dnf a = { 0 }, b = { 0 };
	uint32_t mask = 0;
	char buf[96];

	switch ((enum ctk)n->key) {
	case CTK_SRC:
		dnf_addr(d, f, n, "", "saddr", neg);
		break;
	case CTK_DST:
		dnf_addr(d, f, n, "", "daddr", neg);
		break;
	case CTK_RSRC:
		*uses_ct = true;
		dnf_addr(d, f, n, "ct reply ", "saddr", neg);
		break;
	case CTK_RDST:
		*uses_ct = true;
		dnf_addr(d, f, n, "ct reply ", "daddr", neg);
		break;
	case CTK_HOST: /* either address: a union, or when negated both differ */
		dnf_addr(&a, f, n, "", "saddr", neg);
		dnf_addr(&b, f, n, "", "daddr", neg);
		if (neg)
			dnf_product(&a, &b);
		else
			dnf_union(&a, &b);
		dnf_union(d, &a);
		break;
	case CTK_SPORT:
		dnf_port(d, f, n, "th sport", neg);
		break;
	case CTK_DPORT:
		dnf_port(d, f, n, "th dport", neg);
		break;
	case CTK_RSPORT:
	case CTK_RDPORT:
		/* nft 1.0.6 takes `ct reply proto-src` without its type */
		d->err = -EINVAL;
		snprintf(d->msg, sizeof(d->msg), "rsport and rdport cannot mark packets: use "
			 "sport, dport or port (the packet's ports, either way)");
		return;
	case CTK_PORT:
		dnf_port(&a, f, n, "th sport", neg);
		dnf_port(&b, f, n, "th dport", neg);
		if (neg)
			dnf_product(&a, &b);
		else
			dnf_union(&a, &b);
		dnf_union(d, &a);
		break;
	case CTK_PROTO:
		dnf_match(d, "meta l4proto", neg, f, n, 0, 0, fmt_lo);
		break;
	case CTK_FAMILY:
		dnf_match(d, "meta nfproto", neg, f, n, 0, 0, fmt_family);
		break;
	case CTK_CTSTATE:
		*uses_ct = true;
		dnf_match(d, "ct state", neg, f, n, 0, 0, fmt_ctstate);
		break;
	case CTK_STATE:
		for (int v = n->a; v < n->a + n->b; v++)
			if ((f->vals[v].lo >> 16 & 0xff) == 0xff) {
				d->err = -EINVAL;
				snprintf(d->msg, sizeof(d->msg),
					 "a packet has no TCP or SCTP state: trace filters take "
					 "state new, established or related");
				return;
			}
		*uses_ct = true;
		dnf_match(d, "ct state", neg, f, n, 0, 0, fmt_state);
		break;
	case CTK_STATUS:
		*uses_ct = true;
		for (int v = n->a; v < n->a + n->b; v++)
			mask |= f->vals[v].lo;
		snprintf(buf, sizeof(buf), "ct status & 0x%x %s 0", mask, neg ? "==" : "!=");
		dnf_add(d, buf, 0);
		break;
	case CTK_MARK: { /* the packet's mark (meta mark): any value, or none */
		char all[1024] = "";

		for (int v = n->a; v < n->a + n->b; v++) {
			const struct ct_fval *x = &f->vals[v];

			if (x->hi == UINT32_MAX)
				snprintf(buf, sizeof(buf), "meta mark %s0x%x", neg ? "!= " : "", x->lo);
			else
				snprintf(buf, sizeof(buf), "meta mark & 0x%x %s 0x%x", x->hi,
					 neg ? "!=" : "==", x->lo);
			if (!neg)
				dnf_add(d, buf, 0);
			else if (strlen(all) + strlen(buf) + 2 < sizeof(all))
				snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s",
					 *all ? " " : "", buf);
		}
		if (neg)
			dnf_add(d, all, 0);
		break;
	}
	case CTK_ZONE:
		*uses_ct = true;
		dnf_match(d, "ct zone", neg, f, n, 0, 0, fmt_range);
		break;
	case CTK_ID:
		*uses_ct = true;
		dnf_match(d, "ct id", neg, f, n, 0, 0, fmt_range);
		break;
	}
}

static void dnf_node(struct dnf *d, const struct ct_filter *f, int i, bool neg, bool *uses_ct)
{
	const struct ct_fnode *n = &f->nodes[i];
	struct dnf a = { 0 }, b = { 0 };

	switch (n->op) {
	case CTF_NOT:
		dnf_node(d, f, n->a, !neg, uses_ct);
		return;
	case CTF_AND:
	case CTF_OR:
		dnf_node(&a, f, n->a, neg, uses_ct);
		dnf_node(&b, f, n->b, neg, uses_ct);
		/* not (x and y) = not x or not y; not (x or y) = not x and not y */
		if ((n->op == CTF_AND) != neg)
			dnf_product(&a, &b);
		else
			dnf_union(&a, &b);
		dnf_union(d, &a);
		return;
	default:
		dnf_term(d, f, n, neg, uses_ct);
	}
}

int ct_filter_nft(const struct ct_filter *f, char ***clauses, size_t *n, bool *uses_ct,
		  char *err, size_t errlen)
{
	struct dnf d = { 0 };
	char **out;

	*clauses = NULL;
	*n = 0;
	*uses_ct = false;
	if (ct_filter_empty(f))
		dnf_add(&d, "", 0);
	else
		dnf_node(&d, f, f->root, false, uses_ct);
	if (!d.err && !d.n) {
		d.err = -EINVAL;
		snprintf(d.msg, sizeof(d.msg), "no packet can match this filter");
	}
	if (d.err) {
		if (d.err == -E2BIG)
			snprintf(err, errlen, "the filter has too many alternatives for the kernel "
				 "(at most %d): write it with fewer 'or' and 'not'", NFT_MAX_CLAUSES);
		else if (d.err == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		else
			snprintf(err, errlen, "%s", d.msg);
		dnf_free(&d);
		return d.err == -E2BIG ? -EINVAL : d.err;
	}
	out = calloc(d.n + 1, sizeof(*out));
	if (!out) {
		dnf_free(&d);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < d.n; i++)
		out[i] = d.c[i].text;
	*clauses = out;
	*n = d.n;
	free(d.c);
	return 0;
}
