#include "model/setelems.h"

#include "util/grow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

/* nft's datatype numbers (nftables include/datatype.h), the ones written
 * here as nft writes them; any other is written as raw hex. */
enum {
	DT_VERDICT = 1,
	DT_INTEGER = 4,
	DT_STRING = 5,
	DT_IPADDR = 7,
	DT_IP6ADDR = 8,
	DT_ETHERADDR = 9,
	DT_INET_PROTOCOL = 12,
	DT_INET_SERVICE = 13,
	DT_MARK = 19,
	DT_CT_STATE = 26,
	DT_IFNAME = 41,
	DT_BITS = 6,
};

static int put_bytes(struct setelems *s, const void *p, size_t len, uint32_t *off)
{
	if (grow(&s->keys, &s->keys_cap, s->keys_len + len, 1, 4096))
		return -ENOMEM;
	*off = (uint32_t)s->keys_len;
	memcpy(s->keys + s->keys_len, p, len);
	s->keys_len += len;
	return 0;
}

/* offset + 1 of str in the text arena */
static int put_text(struct setelems *s, const char *str, uint32_t *off)
{
	size_t len = strlen(str) + 1;

	if (grow(&s->text, &s->text_cap, s->text_len + len, 1, 1024))
		return -ENOMEM;
	*off = (uint32_t)s->text_len + 1;
	memcpy(s->text + s->text_len, str, len);
	s->text_len += len;
	return 0;
}

/* The arrays beside the rows (counters, times, stmts) to the rows'
 * capacity; stmts only once a row has some (meters). */
static int grow_sides(struct setelems *s, bool stmts)
{
	void *p;

	if (s->set.counters) {
		p = realloc(s->counters, s->cap * 2 * sizeof(uint64_t));
		if (!p)
			return -ENOMEM;
		s->counters = p;
	}
	if (s->set.timeouts) {
		p = realloc(s->times, s->cap * 2 * sizeof(uint64_t));
		if (!p)
			return -ENOMEM;
		s->times = p;
	}
	if (stmts || s->stmts) {
		p = realloc(s->stmts, s->cap * sizeof(*s->stmts));
		if (!p)
			return -ENOMEM;
		if (!s->stmts)
			memset(p, 0, s->n * sizeof(*s->stmts));
		s->stmts = p;
	}
	s->side_cap = s->cap;
	return 0;
}

int setelems_add(struct setelems *s, const struct setelems_elem *e)
{
	size_t keys_len = s->keys_len, text_len = s->text_len;
	uint32_t stmts = 0;
	struct setelem r = { .verdict = e->verdict };
	bool vmap = s->set.data_type == NFT_DATA_VERDICT;
	int ret = 0;

	if (s->keys_len > UINT32_MAX - 4096 || s->text_len > UINT32_MAX - 4096)
		return -ENOMEM; /* offsets are 32 bits */
	r.flags = (e->key_end ? SE_RANGE : 0) | (e->catchall ? SE_CATCHALL : 0) |
		  (e->counter && s->set.counters ? SE_COUNTER : 0) |
		  (e->counter_first ? SE_COUNTER_FIRST : 0);
	if (!e->catchall) {
		ret = put_bytes(s, e->key, s->set.key_len, &r.key);
		if (!ret && e->key_end)
			ret = put_bytes(s, e->key_end, s->set.key_len, &(uint32_t){ 0 });
	}
	if (!ret && (s->set.flags & NFT_SET_MAP) && !vmap && e->data)
		ret = put_bytes(s, e->data, s->set.data_len, &r.data);
	if (!ret && vmap && e->chain) {
		r.flags |= SE_JUMP;
		ret = put_text(s, e->chain, &r.data);
	}
	if (!ret && (s->set.flags & NFT_SET_OBJECT) && e->objref) {
		r.flags |= SE_OBJREF;
		ret = put_text(s, e->objref, &r.data);
	}
	if (!ret && e->comment)
		ret = put_text(s, e->comment, &r.comment);
	if (!ret && e->stmts && e->stmts[0])
		ret = put_text(s, e->stmts, &stmts);
	if (!ret && grow(&s->rows, &s->cap, s->n + 1, sizeof(*s->rows), 1024))
		ret = -ENOMEM;
	if (!ret && s->side_cap < s->cap)
		ret = grow_sides(s, stmts != 0);
	if (!ret && stmts && !s->stmts)
		ret = grow_sides(s, true);
	if (ret) {
		s->keys_len = keys_len;
		s->text_len = text_len;
		return ret;
	}
	s->rows[s->n] = r;
	if (s->counters) {
		s->counters[2 * s->n] = e->packets;
		s->counters[2 * s->n + 1] = e->bytes;
	}
	if (s->times) {
		s->times[2 * s->n] = e->timeout_ms;
		s->times[2 * s->n + 1] = e->expires_ms;
	}
	if (s->stmts)
		s->stmts[s->n] = stmts;
	s->n++;
	return 0;
}

/* realloc to exactly n items of size (n > 0), keeping *p if that fails */
static void fit(void *pp, size_t n, size_t size)
{
	void **p = pp;
	void *q = *p && n ? realloc(*p, n * size) : NULL;

	if (q)
		*p = q;
}

void setelems_trim(struct setelems *s)
{
	if (!s->n)
		return;
	fit(&s->rows, s->n, sizeof(*s->rows));
	if (s->counters)
		fit(&s->counters, s->n, 2 * sizeof(uint64_t));
	if (s->times)
		fit(&s->times, s->n, 2 * sizeof(uint64_t));
	if (s->stmts)
		fit(&s->stmts, s->n, sizeof(*s->stmts));
	s->cap = s->side_cap = s->n;
	if (s->keys_len) {
		fit(&s->keys, s->keys_len, 1);
		s->keys_cap = s->keys_len;
	}
	if (s->text_len) {
		fit(&s->text, s->text_len, 1);
		s->text_cap = s->text_len;
	}
}

static void sort_free(struct setelems *s);

void setelems_clear(struct setelems *s)
{
	sort_free(s);
	s->n = s->keys_len = s->text_len = s->norder = 0;
}

void setelems_free(struct setelems *s)
{
	sort_free(s);
	free(s->rows);
	free(s->keys);
	free(s->text);
	free(s->counters);
	free(s->times);
	free(s->stmts);
	free(s->order);
	memset(s, 0, sizeof(*s));
}

size_t setelems_bytes(const struct setelems *s)
{
	size_t per = sizeof(*s->rows) + (s->counters ? 16 : 0) + (s->times ? 16 : 0) +
		     (s->stmts ? 4 : 0);

	return s->cap * per + (s->order ? s->n * 4 : 0) + (s->sorting ? s->n * 4 : 0) +
	       s->keys_cap + s->text_cap;
}

/* ---- writing ---- */

struct out {
	char *p;
	size_t len, at;
};

static void outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->at >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->at, o->len - o->at, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->at = o->at + (size_t)n < o->len ? o->at + (size_t)n : o->len - 1;
}

char *setelems_format_time(uint64_t ms, char *buf, size_t len)
{
	static const struct {
		uint64_t ms;
		const char *unit;
	} units[] = { { 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" },
		      { 1, "ms" } };
	struct out o = { buf, len, 0 };

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms >= units[i].ms) {
			outf(&o, "%llu%s", (unsigned long long)(ms / units[i].ms), units[i].unit);
			ms %= units[i].ms;
		}
	if (!o.at)
		outf(&o, "0s");
	return buf;
}

static uint64_t be_uint(const uint8_t *p, size_t len)
{
	uint64_t v = 0;

	for (size_t i = 0; i < len && i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint64_t host_uint(const uint8_t *p, size_t len)
{
	uint64_t v = 0;

	memcpy(&v, p, len < 8 ? len : 8); /* little-endian hosts: the low bytes */
	return v;
}

/* The datatypes of a concatenation, first field first. */
static size_t field_types(uint32_t type, uint32_t nfields, uint32_t *out)
{
	for (size_t i = 0; i < nfields; i++)
		out[nfields - 1 - i] = (type >> (DT_BITS * i)) & ((1u << DT_BITS) - 1);
	return nfields;
}

static uint8_t type_len(uint32_t type)
{
	switch (type) {
	case DT_IPADDR:
	case DT_MARK:
	case DT_CT_STATE:
		return 4;
	case DT_IP6ADDR:
	case DT_IFNAME:
		return 16;
	case DT_INET_SERVICE:
		return 2;
	case DT_INET_PROTOCOL:
		return 1;
	case DT_ETHERADDR:
		return 6;
	}
	return 0;
}

static void put_type_name(struct out *o, uint32_t type)
{
	static const struct {
		uint32_t type;
		const char *name;
	} names[] = { { DT_VERDICT, "verdict" }, { DT_INTEGER, "integer" }, { DT_STRING, "string" },
		      { DT_IPADDR, "ipv4_addr" }, { DT_IP6ADDR, "ipv6_addr" },
		      { DT_ETHERADDR, "ether_addr" }, { DT_INET_PROTOCOL, "inet_proto" },
		      { DT_INET_SERVICE, "inet_service" }, { DT_MARK, "mark" },
		      { DT_CT_STATE, "ct_state" }, { DT_IFNAME, "ifname" } };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type) {
			outf(o, "%s", names[i].name);
			return;
		}
	outf(o, "type %u", type);
}

/* a key or data type, a concatenation's fields joined by " . " */
static void put_type(struct out *o, uint32_t type)
{
	uint32_t types[16], n = 0;

	for (uint32_t t = type; t && n < 16; t >>= DT_BITS)
		n++;
	if (n <= 1 || setelems_field_lens(type, (uint8_t[16]){ 0 }) <= 1) {
		put_type_name(o, type);
		return;
	}
	field_types(type, n, types);
	for (uint32_t i = 0; i < n; i++) {
		if (i)
			outf(o, " . ");
		put_type_name(o, types[i]);
	}
}

char *setelems_type_text(const struct setelems_set *set, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };

	buf[0] = 0;
	put_type(&o, set->key_type);
	if (set->flags & NFT_SET_MAP) {
		outf(&o, " : ");
		put_type(&o, set->data_type == NFT_DATA_VERDICT ? DT_VERDICT : set->data_type);
	}
	return buf;
}

uint32_t setelems_field_lens(uint32_t type, uint8_t len[16])
{
	uint32_t types[16], n = 0;

	for (uint32_t t = type; t && n < 16; t >>= DT_BITS)
		n++;
	field_types(type, n, types);
	for (uint32_t i = 0; i < n; i++) {
		len[i] = type_len(types[i]);
		if (!len[i])
			return 1; /* a type without a known length: one field */
	}
	return n ? n : 1;
}

static void put_hex(struct out *o, const uint8_t *p, size_t len)
{
	outf(o, "0x");
	for (size_t i = 0; i < len; i++)
		outf(o, "%02x", p[i]);
}

/* One value of datatype type, len bytes; interval keys are big-endian
 * whatever the type (nft stores them so: the kernel compares bytes). */
static void put_value(struct out *o, uint32_t type, const uint8_t *p, size_t len, bool be)
{
	char a[INET6_ADDRSTRLEN];
	uint64_t v;

	switch (type) {
	case DT_IPADDR:
		if (len == 4 && inet_ntop(AF_INET, p, a, sizeof(a))) {
			outf(o, "%s", a);
			return;
		}
		break;
	case DT_IP6ADDR:
		if (len == 16 && inet_ntop(AF_INET6, p, a, sizeof(a))) {
			outf(o, "%s", a);
			return;
		}
		break;
	case DT_INET_SERVICE:
		if (len >= 2) {
			outf(o, "%u", (unsigned)be_uint(p, 2));
			return;
		}
		break;
	case DT_INET_PROTOCOL: {
		struct protoent *pe = len >= 1 ? getprotobynumber(p[0]) : NULL;

		if (pe)
			outf(o, "%s", pe->p_name);
		else if (len >= 1)
			outf(o, "%u", p[0]);
		if (len >= 1)
			return;
		break;
	}
	case DT_ETHERADDR:
		if (len >= 6) {
			outf(o, "%02x:%02x:%02x:%02x:%02x:%02x", p[0], p[1], p[2], p[3], p[4], p[5]);
			return;
		}
		break;
	case DT_MARK:
		if (len >= 4) {
			v = be ? be_uint(p, 4) : host_uint(p, 4);
			outf(o, "0x%08llx", (unsigned long long)v);
			return;
		}
		break;
	case DT_INTEGER:
		if (len <= 8) {
			v = be ? be_uint(p, len) : host_uint(p, len);
			outf(o, "%llu", (unsigned long long)v);
			return;
		}
		break;
	case DT_CT_STATE: {
		static const struct {
			uint32_t bit;
			const char *name;
		} st[] = { { 1, "invalid" }, { 2, "established" }, { 4, "related" },
			   { 8, "new" }, { 64, "untracked" } };
		bool first = true;

		if (len < 4)
			break;
		v = be ? be_uint(p, 4) : host_uint(p, 4);
		for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
			if (v & st[i].bit) {
				outf(o, "%s%s", first ? "" : ",", st[i].name);
				first = false;
			}
		if (first)
			outf(o, "0x%llx", (unsigned long long)v);
		return;
	}
	case DT_IFNAME:
	case DT_STRING:
		outf(o, "\"%.*s\"", (int)strnlen((const char *)p, len), (const char *)p);
		return;
	}
	put_hex(o, p, len);
}

/* The prefix length if [lo, hi] is a prefix, else -1. */
static int prefix_len(const uint8_t *lo, const uint8_t *hi, size_t len)
{
	size_t bit = 0;

	while (bit < len * 8) {
		uint8_t m = (uint8_t)(0x80 >> (bit % 8));

		if ((lo[bit / 8] & m) != (hi[bit / 8] & m))
			break;
		bit++;
	}
	for (size_t b = bit; b < len * 8; b++) {
		uint8_t m = (uint8_t)(0x80 >> (b % 8));

		if ((lo[b / 8] & m) || !(hi[b / 8] & m))
			return -1;
	}
	return (int)bit;
}

/* One field, possibly a range: "a", "a/N" (addresses) or "a-b". */
static void put_field(struct out *o, uint32_t type, const uint8_t *lo, const uint8_t *hi,
		      size_t len, bool be)
{
	int plen;

	put_value(o, type, lo, len, be);
	if (!hi || memcmp(lo, hi, len) == 0)
		return;
	plen = prefix_len(lo, hi, len);
	if (plen >= 0 && (type == DT_IPADDR || type == DT_IP6ADDR)) {
		outf(o, "/%d", plen);
		return;
	}
	outf(o, "-");
	put_value(o, type, hi, len, be);
}

/* A key or data of type/fields at p (and its range end at hi, or NULL). */
/* Field `only` of a key or data (-1: all of them, " . " between). */
static void put_typed(struct out *o, const struct setelems_set *set, uint32_t type, size_t total,
		      const uint8_t *p, const uint8_t *hi, bool is_key, int only)
{
	bool be = (set->flags & NFT_SET_INTERVAL) != 0;
	uint32_t types[16];
	size_t n = is_key && set->nfields > 1 ? set->nfields : 1;
	size_t at = 0;

	if (n == 1) {
		if (only <= 0)
			put_field(o, type, p, hi, total, be);
		return;
	}
	field_types(type, (uint32_t)n, types);
	for (size_t i = 0; i < n; i++) {
		size_t fl = set->field_len[i];
		/* a field takes whole 32-bit registers */
		size_t step = (fl + 3) & ~(size_t)3;

		if (at + step > total) {
			if (only < 0)
				put_hex(o, p + at, total - at);
			return;
		}
		if (only < 0 && i)
			outf(o, " . ");
		if (only < 0 || (size_t)only == i)
			put_field(o, types[i], p + at, hi ? hi + at : NULL, fl, be);
		at += step;
	}
}

static const uint8_t *row_key(const struct setelems *s, size_t i)
{
	return s->keys + s->rows[i].key;
}

/* The key of row i, or only its field `only` (-1: all). */
static char *key_text(const struct setelems *s, size_t i, int only, char *buf, size_t len)
{
	const struct setelem *r = &s->rows[i];
	struct out o = { buf, len, 0 };

	buf[0] = 0;
	if (r->flags & SE_CATCHALL)
		outf(&o, only > 0 ? "" : "*");
	else
		put_typed(&o, &s->set, s->set.key_type, s->set.key_len, row_key(s, i),
			  r->flags & SE_RANGE ? row_key(s, i) + s->set.key_len : NULL, true, only);
	return buf;
}

char *setelems_format_key(const struct setelems *s, size_t i, char *buf, size_t len)
{
	return key_text(s, i, -1, buf, len);
}

char *setelems_format_field(const struct setelems *s, size_t i, unsigned field, char *buf,
			    size_t len)
{
	return key_text(s, i, field > 15 ? 16 : (int)field, buf, len);
}

static void put_verdict(struct out *o, const struct setelems *s, const struct setelem *r)
{
	switch (r->verdict) {
	case NF_ACCEPT:
		outf(o, "accept");
		break;
	case NF_DROP:
		outf(o, "drop");
		break;
	case NFT_CONTINUE:
		outf(o, "continue");
		break;
	case NFT_RETURN:
		outf(o, "return");
		break;
	case NFT_JUMP:
	case NFT_GOTO:
		outf(o, "%s %s", r->verdict == NFT_JUMP ? "jump" : "goto",
		     r->flags & SE_JUMP ? s->text + r->data - 1 : "?");
		break;
	default:
		outf(o, "verdict %d", r->verdict);
	}
}

char *setelems_format_data(const struct setelems *s, size_t i, char *buf, size_t len)
{
	const struct setelem *r = &s->rows[i];
	struct out o = { buf, len, 0 };

	buf[0] = 0;
	if (r->flags & SE_OBJREF)
		outf(&o, "\"%s\"", s->text + r->data - 1);
	if (!(s->set.flags & NFT_SET_MAP))
		return buf;
	if (s->set.data_type == NFT_DATA_VERDICT) {
		put_verdict(&o, s, r);
		return buf;
	}
	/* map data of a concatenated type (nat maps: `: 10.0.0.1 . 80`) */
	{
		struct setelems_set d = s->set;

		d.flags &= ~(uint32_t)NFT_SET_INTERVAL;
		d.nfields = setelems_field_lens(s->set.data_type, d.field_len);
		put_typed(&o, &d, s->set.data_type, s->set.data_len, s->keys + r->data, NULL,
			  true, -1);
	}
	return buf;
}

char *setelems_format_stmts(const struct setelems *s, size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "%s", s->stmts && s->stmts[i] ? s->text + s->stmts[i] - 1 : "");
	return buf;
}

char *setelems_format(const struct setelems *s, size_t i, char *buf, size_t len)
{
	const struct setelem *r = &s->rows[i];
	struct out o = { buf, len, 0 };
	char t[64];

	setelems_format_key(s, i, buf, len);
	o.at = strlen(buf);
	/* the statements in their order: the counter first or last */
	for (int pass = 0; pass < 2; pass++) {
		if ((pass == 0) == !(r->flags & SE_COUNTER_FIRST) && s->stmts && s->stmts[i])
			outf(&o, " %s", s->text + s->stmts[i] - 1);
		else if ((pass == 0) == !!(r->flags & SE_COUNTER_FIRST) && (r->flags & SE_COUNTER))
			outf(&o, " counter packets %llu bytes %llu",
			     (unsigned long long)s->counters[2 * i],
			     (unsigned long long)s->counters[2 * i + 1]);
	}
	if (s->times) {
		uint64_t to = s->times[2 * i], ex = s->times[2 * i + 1];

		if (to && to != s->set.timeout_ms)
			outf(&o, " timeout %s", setelems_format_time(to, t, sizeof(t)));
		if (ex)
			outf(&o, " expires %s", setelems_format_time(ex, t, sizeof(t)));
	}
	if (r->comment)
		outf(&o, " comment \"%s\"", s->text + r->comment - 1);
	if (s->set.flags & (NFT_SET_MAP | NFT_SET_OBJECT)) {
		outf(&o, " : ");
		setelems_format_data(s, i, buf + o.at, len - o.at);
	}
	return buf;
}

/* ---- finding ---- */

bool setelems_holds(const struct setelems *s, size_t i, const uint8_t *key)
{
	const struct setelem *r = &s->rows[i];
	const uint8_t *lo = row_key(s, i), *hi = lo + s->set.key_len;
	size_t at = 0;

	if (r->flags & SE_CATCHALL)
		return true;
	if (!(r->flags & SE_RANGE))
		return memcmp(lo, key, s->set.key_len) == 0;
	if (s->set.nfields <= 1)
		return memcmp(lo, key, s->set.key_len) <= 0 && memcmp(key, hi, s->set.key_len) <= 0;
	for (size_t f = 0; f < s->set.nfields; f++) {
		size_t fl = s->set.field_len[f], step = (fl + 3) & ~(size_t)3;

		if (memcmp(lo + at, key + at, fl) > 0 || memcmp(key + at, hi + at, fl) > 0)
			return false;
		at += step;
	}
	return true;
}

/* ---- the index ----
 * Rows already in key order, or in reverse (the kernel dumps a range set
 * from its highest key), are taken as they are; others by a radix sort
 * of their keys (least significant byte first, each pass stable): a
 * pass counts the rows by one byte of their key, then moves them into
 * place, unless one value holds them all (10.x.y.z: the first byte is 10
 * everywhere). The catch-all rows stay last. */

struct setelems_sort {
	uint32_t *tmp;        /* where a pass moves the rows */
	size_t n;             /* rows when it began: more start it again */
	size_t m;             /* rows sorted: all but the catch-alls */
	size_t byte;          /* the key's byte this pass sorts by, + 1; 0: done */
	size_t at;            /* rows the pass has gone over */
	bool checking;        /* first: are they in order (or in reverse)? */
	bool sorted, reversed;
	bool moving;          /* counted: now moving */
	size_t count[256];    /* rows a byte value; moving: where the next goes */
};

static void sort_free(struct setelems *s)
{
	if (s->sorting) {
		free(s->sorting->tmp);
		free(s->sorting);
		s->sorting = NULL;
	}
}

static int sort_begin(struct setelems *s)
{
	struct setelems_sort *st;
	uint32_t *o;
	size_t m = 0;

	if (s->n > UINT32_MAX)
		return -ENOMEM;
	st = calloc(1, sizeof(*st));
	o = realloc(s->order, (s->n + 1) * sizeof(*o));
	if (o)
		s->order = o;
	if (!st || !o || !(st->tmp = malloc((s->n + 1) * sizeof(*st->tmp)))) {
		free(st);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n; i++)
		if (!(s->rows[i].flags & SE_CATCHALL))
			o[m++] = (uint32_t)i;
	st->m = m;
	for (size_t i = 0; i < s->n; i++)
		if (s->rows[i].flags & SE_CATCHALL) {
			o[m] = st->tmp[m] = (uint32_t)i;
			m++;
		}
	st->n = s->n;
	st->byte = s->set.key_len;
	st->checking = st->sorted = st->reversed = true;
	st->at = 1;
	s->norder = 0;
	s->sorting = st;
	return 0;
}

bool setelems_indexed(const struct setelems *s)
{
	return !s->sorting && (!s->n || (s->order && s->norder == s->n));
}

int setelems_index_step(struct setelems *s, size_t rows)
{
	struct setelems_sort *st;

	if (setelems_indexed(s))
		return 0;
	if (s->sorting && s->sorting->n != s->n)
		sort_free(s);
	if (!s->sorting && sort_begin(s))
		return -ENOMEM;
	st = s->sorting;
	while (rows && st->checking) {
		size_t end = st->m - st->at < rows ? st->m : st->at + rows, from = st->at;

		for (; st->at < end && (st->sorted || st->reversed); st->at++) {
			int c = memcmp(s->keys + s->rows[s->order[st->at - 1]].key,
				       s->keys + s->rows[s->order[st->at]].key, s->set.key_len);

			st->sorted = st->sorted && c <= 0;
			st->reversed = st->reversed && c >= 0;
		}
		rows -= st->at - from;
		if (st->at < st->m && (st->sorted || st->reversed))
			break;
		st->checking = false;
		st->at = 0;
		if (st->reversed && !st->sorted)
			for (size_t i = 0; i < st->m / 2; i++) {
				uint32_t t = s->order[i];

				s->order[i] = s->order[st->m - 1 - i];
				s->order[st->m - 1 - i] = t;
			}
		if (st->sorted || st->reversed)
			st->byte = 0;
	}
	while (rows && st->byte) {
		const uint8_t *k = s->keys + st->byte - 1;
		size_t end = st->m - st->at < rows ? st->m : st->at + rows;

		if (st->moving)
			for (size_t i = st->at; i < end; i++)
				st->tmp[st->count[k[s->rows[s->order[i]].key]]++] = s->order[i];
		else
			for (size_t i = st->at; i < end; i++)
				st->count[k[s->rows[s->order[i]].key]]++;
		rows -= end - st->at;
		st->at = end;
		if (st->at < st->m)
			break;
		st->at = 0;
		if (st->moving) { /* the rows in tmp now: the catch-alls' tail too */
			uint32_t *t = s->order;

			s->order = st->tmp;
			st->tmp = t;
			st->moving = false;
		} else {
			size_t sum = 0;
			bool one = false;

			for (size_t v = 0; v < 256; v++) {
				size_t c = st->count[v];

				one |= c == st->m;
				st->count[v] = sum;
				sum += c;
			}
			st->moving = !one;
		}
		if (!st->moving) {
			memset(st->count, 0, sizeof(st->count));
			st->byte--;
		}
	}
	if (st->byte)
		return 1;
	sort_free(s);
	s->norder = s->n;
	return 0;
}

int setelems_index(struct setelems *s)
{
	int ret;

	while ((ret = setelems_index_step(s, SIZE_MAX)) > 0)
		;
	return ret;
}

long setelems_position(const struct setelems *s, size_t i)
{
	size_t lo = 0, hi = s->norder;

	if (!setelems_indexed(s) || i >= s->n || !s->order)
		return -ENOENT;
	if (s->rows[i].flags & SE_CATCHALL) { /* last */
		for (size_t k = s->n; k-- > 0;)
			if (s->order[k] == i)
				return (long)k;
		return -ENOENT;
	}
	while (hi > 0 && (s->rows[s->order[hi - 1]].flags & SE_CATCHALL))
		hi--;
	/* the first whose key is not below row i's: keys in an index are unique */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(row_key(s, s->order[mid]), row_key(s, i), s->set.key_len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo; k < s->norder && memcmp(row_key(s, s->order[k]), row_key(s, i),
						    s->set.key_len) == 0; k++)
		if (s->order[k] == i)
			return (long)k;
	return -ENOENT;
}

long setelems_find(struct setelems *s, const uint8_t *key)
{
	size_t lo = 0, hi;
	int ret;

	if (!s->n)
		return -ENOENT;
	if (s->set.nfields > 1 && (s->set.flags & NFT_SET_INTERVAL)) {
		for (size_t i = 0; i < s->n; i++)
			if (!(s->rows[i].flags & SE_CATCHALL) && setelems_holds(s, i, key))
				return (long)i;
		for (size_t i = 0; i < s->n; i++)
			if (s->rows[i].flags & SE_CATCHALL)
				return (long)i;
		return -ENOENT;
	}
	ret = setelems_index(s);
	if (ret)
		return ret;
	/* the last element whose key is <= key (catch-alls sort last) */
	hi = s->n;
	while (hi > 0 && (s->rows[s->order[hi - 1]].flags & SE_CATCHALL))
		hi--;
	{
		size_t end = hi;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (memcmp(row_key(s, s->order[mid]), key, s->set.key_len) <= 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo > 0 && setelems_holds(s, s->order[lo - 1], key))
			return s->order[lo - 1];
		if (end < s->n)
			return s->order[end]; /* the catch-all */
	}
	return -ENOENT;
}
