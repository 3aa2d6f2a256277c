#include "conntrack/ct_rows.h"
#include "util/grow.h"

#include <errno.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

int ct_rows_build(struct ct_rows *v, const struct ct_table *t, const struct ct_filter *f,
		  bool with_gone)
{
	size_t n = 0;

	if (grow(&v->idx, &v->cap, t->n, sizeof(*v->idx), 1024))
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		const struct ct_entry *e = &t->e[i];

		if ((e->flags & CT_F_GONE) && !with_gone)
			continue;
		if (ct_filter_match(f, e))
			v->idx[n++] = (uint32_t)i;
	}
	v->n = n;
	return 0;
}

void ct_rows_free(struct ct_rows *v)
{
	free(v->idx);
	memset(v, 0, sizeof(*v));
}

/* ---- keys ---- */

static uint64_t be_bytes(const uint8_t *b, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

/* family (IPv4 first), 16 address bytes and a port as three words, most
 * significant first; the top 7 bits of w[0] stay free */
static void endpoint_words(uint64_t w[3], uint8_t family, const union ct_addr *a, uint16_t port)
{
	w[0] = (uint64_t)(family == AF_INET6) << 56 | be_bytes(a->b, 7);
	w[1] = be_bytes(a->b + 7, 8);
	w[2] = (uint64_t)a->b[15] << 56 | (uint64_t)port << 40;
}

static uint64_t name_word(const char *s, int from)
{
	uint64_t v = 0;
	size_t len = strlen(s);

	for (int i = from; i < from + 8; i++)
		v = v << 8 | (i < (int)len ? (uint8_t)s[i] : 0);
	return v;
}

static int words_of(enum ct_col c)
{
	switch (c) {
	case CT_COL_SRC:
	case CT_COL_DST:
	case CT_COL_NAT:
		return 3;
	case CT_COL_STATE:
		return 2;
	default:
		return 1;
	}
}

static uint64_t counter(const struct ct_entry *e, uint64_t v)
{
	return (e->flags & CT_F_ACCT) ? v : 0;
}

static void key_words(const struct ct_entry *e, enum ct_col c, uint64_t w[3])
{
	union {
		float f;
		uint32_t u;
	} rate;

	w[0] = w[1] = w[2] = 0;
	switch (c) {
	case CT_COL_ID:
		w[0] = e->id;
		break;
	case CT_COL_FAMILY:
		w[0] = e->family;
		break;
	case CT_COL_PROTO:
		w[0] = e->proto;
		break;
	case CT_COL_STATE: {
		const char *s = ct_state_name(e);

		w[0] = name_word(s, 0);
		w[1] = name_word(s, 8);
		break;
	}
	case CT_COL_SRC:
		endpoint_words(w, e->family, &e->orig.src, e->orig.sport);
		break;
	case CT_COL_DST:
		endpoint_words(w, e->family, &e->orig.dst, e->orig.dport);
		break;
	case CT_COL_SPORT:
		w[0] = e->orig.sport;
		break;
	case CT_COL_DPORT:
		w[0] = e->orig.dport;
		break;
	case CT_COL_NAT: {
		bool dnat = ct_has_dnat(e), snat = ct_has_snat(e);

		if (dnat)
			endpoint_words(w, e->family, &e->reply.src, e->reply.sport);
		else if (snat)
			endpoint_words(w, e->family, &e->reply.dst, e->reply.dport);
		/* no NAT first, then snat only, dnat, both */
		w[0] |= (uint64_t)(dnat << 1 | snat) << 62;
		break;
	}
	case CT_COL_MARK:
		w[0] = e->mark;
		break;
	case CT_COL_ZONE:
		w[0] = e->zone;
		break;
	case CT_COL_TIMEOUT:
		w[0] = e->timeout;
		break;
	case CT_COL_OPKTS:
		w[0] = counter(e, e->pkts[0]);
		break;
	case CT_COL_OBYTES:
		w[0] = counter(e, e->bytes[0]);
		break;
	case CT_COL_RPKTS:
		w[0] = counter(e, e->pkts[1]);
		break;
	case CT_COL_RBYTES:
		w[0] = counter(e, e->bytes[1]);
		break;
	case CT_COL_PKTS:
		w[0] = counter(e, e->pkts[0] + e->pkts[1]);
		break;
	case CT_COL_BYTES:
		w[0] = counter(e, e->bytes[0] + e->bytes[1]);
		break;
	case CT_COL_RATE:
		/* a non-negative float orders as its bit pattern */
		rate.f = e->rate_bytes > 0 ? e->rate_bytes : 0;
		w[0] = (e->flags & CT_F_RATE) ? rate.u : 0;
		break;
	case CT_COL_AGE:
		/* older (smaller start) is bigger; no timestamp sorts as youngest */
		w[0] = (e->flags & CT_F_TSTAMP) && e->start ? UINT64_MAX - e->start : 0;
		break;
	case CT_COL_STATUS:
		w[0] = e->status;
		break;
	default:
		break;
	}
}

/* ---- radix sort ---- */

/* Stable sort of (key[i], idx[i]) by key, 8 bits a pass, skipping bytes
 * that are the same in every key. tk/ti: scratch of n each. Result in
 * key/idx (the pointers may be swapped). */
static void radix64(uint64_t **key, uint32_t **idx, uint64_t **tk, uint32_t **ti, size_t n)
{
	size_t (*count)[256] = calloc(8, sizeof(*count));

	if (!count) {
		/* cannot happen in practice (16 KiB); fall back to insertion sort */
		for (size_t i = 1; i < n; i++) {
			uint64_t k = (*key)[i];
			uint32_t x = (*idx)[i];
			size_t j = i;

			for (; j > 0 && (*key)[j - 1] > k; j--) {
				(*key)[j] = (*key)[j - 1];
				(*idx)[j] = (*idx)[j - 1];
			}
			(*key)[j] = k;
			(*idx)[j] = x;
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t k = (*key)[i];

		for (int b = 0; b < 8; b++)
			count[b][(k >> (b * 8)) & 0xff]++;
	}
	for (int b = 0; b < 8; b++) {
		size_t sum = 0, *c = count[b];
		uint64_t *k = *key, *ok = *tk;
		uint32_t *x = *idx, *ox = *ti;

		if (c[(k[0] >> (b * 8)) & 0xff] == n)
			continue; /* this byte is the same everywhere */
		for (int d = 0; d < 256; d++) {
			size_t t = c[d];

			c[d] = sum;
			sum += t;
		}
		for (size_t i = 0; i < n; i++) {
			size_t at = c[(k[i] >> (b * 8)) & 0xff]++;

			ok[at] = k[i];
			ox[at] = x[i];
		}
		*key = ok;
		*tk = k;
		*idx = ox;
		*ti = x;
	}
	free(count);
}

int ct_rows_sort_index(const struct ct_entry *e, uint32_t *idx, size_t n, enum ct_col col,
		  bool reverse)
{
	uint64_t *kbuf, *key, *tk;
	uint32_t *ibuf, *cur, *ti;
	bool flip = ct_col_desc(col) != reverse;
	int nw = words_of(col);

	if (n < 2)
		return 0;
	kbuf = malloc(2 * n * sizeof(*kbuf));
	ibuf = malloc(n * sizeof(*ibuf));
	if (!kbuf || !ibuf) {
		free(kbuf);
		free(ibuf);
		return -ENOMEM;
	}
	key = kbuf;
	tk = kbuf + n;
	cur = idx;
	ti = ibuf;
	/* least significant word first: each pass is stable */
	for (int w = nw - 1; w >= 0; w--) {
		for (size_t i = 0; i < n; i++) {
			uint64_t words[3];

			key_words(&e[cur[i]], col, words);
			key[i] = flip ? ~words[w] : words[w];
		}
		radix64(&key, &cur, &tk, &ti, n);
	}
	if (cur != idx)
		memcpy(idx, cur, n * sizeof(*idx));
	free(kbuf);
	free(ibuf);
	return 0;
}
