#include "nft/elemkeys.h"

#include "util/grow.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ID_MAX 200 /* flags, 2 lengths, key and key end of at most 64 bytes each */

/* The bytes of NFTA_DATA_VALUE inside a data nest, or NULL. */
static const uint8_t *data_value(const struct nlattr *nest, uint16_t *len)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest)
		if (mnl_attr_get_type(a) == NFTA_DATA_VALUE) {
			*len = mnl_attr_get_payload_len(a);
			return mnl_attr_get_payload(a);
		}
	return NULL;
}

/* The identity of one element nest into id (id[0]: its length). false if
 * it has none we know (no key, too long). */
static bool identity(const struct nlattr *elem, uint8_t *id)
{
	const uint8_t *key = NULL, *end = NULL;
	uint16_t klen = 0, elen = 0;
	uint32_t flags = 0;
	const struct nlattr *a;
	size_t at = 1;

	mnl_attr_for_each_nested(a, elem) {
		switch (mnl_attr_get_type(a)) {
		case NFTA_SET_ELEM_KEY:
			key = data_value(a, &klen);
			break;
		case NFTA_SET_ELEM_KEY_END:
			end = data_value(a, &elen);
			break;
		case NFTA_SET_ELEM_FLAGS:
			if (mnl_attr_get_payload_len(a) == 4)
				flags = ntohl(mnl_attr_get_u32(a));
			break;
		}
	}
	if ((!key && !(flags & NFT_SET_ELEM_CATCHALL)) || klen > 64 || elen > 64)
		return false;
	id[at++] = (uint8_t)(flags & (NFT_SET_ELEM_INTERVAL_END | NFT_SET_ELEM_CATCHALL));
	id[at++] = (uint8_t)klen;
	memcpy(id + at, key, klen);
	at += klen;
	id[at++] = (uint8_t)elen;
	if (end)
		memcpy(id + at, end, elen);
	at += elen;
	id[0] = (uint8_t)(at - 1);
	return true;
}

/* nft's marker below the first range: interval end, key all zeros */
static bool is_marker(const uint8_t *id)
{
	if (!(id[1] & NFT_SET_ELEM_INTERVAL_END))
		return false;
	for (size_t i = 0; i < id[2]; i++)
		if (id[3 + i])
			return false;
	return true;
}

/* Identities in key order, a range's end before the start of the same
 * key (the range before it): the order the kernel takes elements in. */
static int id_order(const uint8_t *x, const uint8_t *y)
{
	size_t n = x[2] < y[2] ? x[2] : y[2];
	int c = memcmp(x + 3, y + 3, n);

	if (c || x[2] != y[2])
		return c ? c : (int)x[2] - (int)y[2];
	c = (y[1] & NFT_SET_ELEM_INTERVAL_END) - (x[1] & NFT_SET_ELEM_INTERVAL_END);
	if (c)
		return c;
	n = x[0] < y[0] ? x[0] : y[0];
	c = memcmp(x + 1, y + 1, n);
	return c ? c : (int)x[0] - (int)y[0];
}

static int id_cmp(const void *a, const void *b)
{
	return id_order(*(uint8_t *const *)a, *(uint8_t *const *)b);
}

static int add_id(struct elemkeys *k, const uint8_t *id)
{
	uint8_t *c;

	if (grow(&k->ids, &k->cap, k->n + 1, sizeof(*k->ids), 64))
		return -ENOMEM;
	c = malloc((size_t)id[0] + 1);
	if (!c)
		return -ENOMEM;
	memcpy(c, id, (size_t)id[0] + 1);
	k->ids[k->n++] = c;
	k->sorted = false;
	return 0;
}

/* The element nests of an element message. */
static const struct nlattr *elements(const struct nlmsghdr *nlh)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
			return a;
	return NULL;
}

/* Each element message of s, built into buf, to fn. */
static int each_msg(struct nftnl_set *s, char *buf, int (*fn)(const struct nlmsghdr *, void *),
		    void *ctx)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	int ret = it ? 0 : -ENOMEM;

	for (int more = it && nftnl_set_elems_iter_cur(it); more > 0 && !ret;) {
		struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSETELEM,
							     (uint16_t)nftnl_set_get_u32(s, NFTNL_SET_FAMILY),
							     0, 0);

		more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
		ret = fn(nlh, ctx);
		memset(buf, 0, nlh->nlmsg_len);
	}
	if (it)
		nftnl_set_elems_iter_destroy(it);
	return ret;
}

struct add_ctx {
	struct elemkeys *k;
	bool skip_marker;
};

static int add_msg(const struct nlmsghdr *nlh, void *data)
{
	struct add_ctx *c = data;
	const struct nlattr *list = elements(nlh), *e;
	uint8_t id[ID_MAX];

	if (!list)
		return 0;
	mnl_attr_for_each_nested(e, list)
		if (identity(e, id) && !(c->skip_marker && is_marker(id)) && add_id(c->k, id))
			return -ENOMEM;
	return 0;
}

/* libnftnl fills an element message until its nest passes 64 KiB, by one
 * element at most */
#define MSG_BUF ((1 << 17) + 8192)

int elemkeys_add_set(struct elemkeys *k, struct nftnl_set *s, bool skip_marker)
{
	struct add_ctx c = { k, skip_marker };
	char *buf = calloc(1, MSG_BUF);
	int ret = buf ? each_msg(s, buf, add_msg, &c) : -ENOMEM;

	free(buf);
	return ret;
}

bool elemkeys_has(struct elemkeys *k, const struct nlattr *elem_nest)
{
	uint8_t id[ID_MAX], *p = id;

	if (k->all)
		return true;
	if (!k->n || !identity(elem_nest, id))
		return false;
	if (!k->sorted) {
		qsort(k->ids, k->n, sizeof(*k->ids), id_cmp);
		k->sorted = true;
	}
	return bsearch(&p, k->ids, k->n, sizeof(*k->ids), id_cmp) != NULL;
}

void elemkeys_free(struct elemkeys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->ids[i]);
	free(k->ids);
	memset(k, 0, sizeof(*k));
}

struct nftnl_set *elemkeys_set(struct elemkeys *k, uint32_t family, const char *table,
			       const char *name)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, family);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	if (!k->sorted && k->n) /* in key order: the kernel's range sets want it */
		qsort(k->ids, k->n, sizeof(*k->ids), id_cmp);
	k->sorted = true;
	for (size_t i = 0; i < k->n; i++) {
		const uint8_t *id = k->ids[i];
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		uint8_t klen = id[2], elen = id[3 + klen];

		if (!e) {
			nftnl_set_free(s);
			return NULL;
		}
		if (id[1])
			nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, id[1]);
		if (klen)
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, id + 3, klen);
		if (elen)
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, id + 4 + klen, elen);
		nftnl_set_elem_add(s, e);
	}
	return s;
}

static bool is_end(const struct nlattr *elem)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, elem)
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_FLAGS && mnl_attr_get_payload_len(a) == 4)
			return ntohl(mnl_attr_get_u32(a)) & NFT_SET_ELEM_INTERVAL_END;
	return false;
}

/* One element nest into o, as the kernel takes it back: a range's end
 * element is dumped with the timeout, expiry and statements of its
 * range, which the kernel refuses on an end (EINVAL): key and flags only.
 * Its expiry moved by shift ms; false (nothing put) if that ends it. */
static bool put_elem(struct nlmsghdr *o, const struct nlattr *elem, int64_t shift)
{
	bool end = is_end(elem);
	const struct nlattr *a;
	struct nlattr *nest;

	if (!end && !shift) {
		mnl_attr_put(o, NFTA_LIST_ELEM | (elem->nla_type & NLA_F_NESTED),
			     mnl_attr_get_payload_len(elem), mnl_attr_get_payload(elem));
		return true;
	}
	nest = mnl_attr_nest_start(o, NFTA_LIST_ELEM);
	mnl_attr_for_each_nested(a, elem) {
		uint16_t type = mnl_attr_get_type(a);

		if (end && type != NFTA_SET_ELEM_KEY && type != NFTA_SET_ELEM_FLAGS)
			continue;
		if (type == NFTA_SET_ELEM_EXPIRATION && mnl_attr_get_payload_len(a) == 8) {
			int64_t at = (int64_t)be64toh(mnl_attr_get_u64(a)) + shift;

			if (at <= 0) {
				mnl_attr_nest_cancel(o, nest);
				return false;
			}
			mnl_attr_put_u64(o, type, htobe64((uint64_t)at));
			continue;
		}
		mnl_attr_put(o, a->nla_type, mnl_attr_get_payload_len(a), mnl_attr_get_payload(a));
	}
	mnl_attr_nest_end(o, nest);
	return true;
}

uint64_t elemkeys_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int elemkeys_take(struct elemkeys *k, const struct nlmsghdr *nlh, bool keep,
		  struct nftnl_set **out)
{
	const struct nlattr *list = elements(nlh), *a;
	char *buf;
	struct nlmsghdr *o;
	struct nlattr *nest;
	bool any = false;
	int ret = 0;

	if (!list)
		return 0;
	buf = calloc(1, nlh->nlmsg_len + 64);
	if (!buf)
		return -ENOMEM;
	o = mnl_nlmsg_put_header(buf);
	o->nlmsg_type = nlh->nlmsg_type;
	memcpy(mnl_nlmsg_put_extra_header(o, sizeof(struct nfgenmsg)),
	       mnl_nlmsg_get_payload(nlh), sizeof(struct nfgenmsg));
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_TABLE ||
		    mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET)
			mnl_attr_put(o, mnl_attr_get_type(a), mnl_attr_get_payload_len(a),
				     mnl_attr_get_payload(a));
	nest = mnl_attr_nest_start(o, NFTA_SET_ELEM_LIST_ELEMENTS);
	mnl_attr_for_each_nested(a, list) {
		if (elemkeys_has(k, a) != keep)
			continue;
		put_elem(o, a, 0);
		any = true;
	}
	mnl_attr_nest_end(o, nest);
	if (any && !*out)
		*out = nftnl_set_alloc();
	if (any && !*out)
		ret = -ENOMEM;
	else if (any && nftnl_set_elems_nlmsg_parse(o, *out) < 0)
		ret = -EIO;
	free(buf);
	return ret;
}

struct read_ctx {
	struct elemkeys *k;
	struct nftnl_set **out;
	int err;
};

static int read_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *c = data;

	c->err = elemkeys_take(c->k, nlh, true, c->out);
	return c->err ? MNL_CB_ERROR : MNL_CB_OK;
}

int elemkeys_read(struct nl *nl, uint32_t family, const char *table, const char *name,
		  struct elemkeys *k, struct nftnl_set **out)
{
	struct read_ctx c = { k, out, 0 };
	struct nlmsghdr *req = nl_request(nl, NFT_MSG_GETSETELEM, (uint16_t)family, NLM_F_DUMP);
	int ret;

	*out = NULL;
	mnl_attr_put_strz(req, NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(req, NFTA_SET_ELEM_LIST_SET, name);
	ret = nl_talk(nl, req, read_cb, &c);
	if (!ret && c.err)
		ret = c.err;
	if (ret && *out) {
		nftnl_set_free(*out);
		*out = NULL;
	}
	return ret;
}

/* ---- copies in key order ----
 * The kernel dumps a range set from its highest key down, and its range
 * sets take elements back only as nft sends them: from the lowest key
 * up, each range's start before its end (an end first, next to another
 * range, is an overlap: EEXIST). A copy is put in that order. */

struct blob {
	uint8_t id[ID_MAX];
	size_t len;
	uint8_t nest[];
};

struct collect {
	struct elemkeys *k;
	bool keep;
	int64_t shift;
	struct blob **b;
	size_t n, cap;
	char *tmp;
};

static int collect_msg(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	const struct nlattr *list = elements(nlh), *a;

	if (!list)
		return 0;
	mnl_attr_for_each_nested(a, list) {
		struct nlmsghdr *o = mnl_nlmsg_put_header(c->tmp);
		struct nlattr *nest;
		struct blob *b;

		if (elemkeys_has(c->k, a) != c->keep)
			continue;
		/* the element as the kernel takes it back (not if it expired) */
		if (!put_elem(o, a, c->shift))
			continue;
		nest = mnl_nlmsg_get_payload(o);
		b = malloc(sizeof(*b) + nest->nla_len);
		if (!b || grow(&c->b, &c->cap, c->n + 1, sizeof(*c->b), 256)) {
			free(b);
			return -ENOMEM;
		}
		if (!identity(a, b->id))
			memset(b->id, 0, sizeof(b->id));
		b->len = nest->nla_len;
		memcpy(b->nest, nest, nest->nla_len);
		memset(c->tmp, 0, o->nlmsg_len);
		c->b[c->n++] = b;
	}
	return 0;
}

static int blob_cmp(const void *x, const void *y)
{
	return id_order((*(struct blob *const *)x)->id, (*(struct blob *const *)y)->id);
}

static int copy(struct nftnl_set *from, struct elemkeys *k, bool keep, int64_t shift,
		struct nftnl_set *into)
{
	struct collect c = { k, keep, shift, NULL, 0, 0, calloc(1, MSG_BUF) };
	char *buf = calloc(1, MSG_BUF);
	int ret = buf && c.tmp ? each_msg(from, buf, collect_msg, &c) : -ENOMEM;
	const char *table = nftnl_set_get_str(from, NFTNL_SET_TABLE);
	const char *name = nftnl_set_get_str(from, NFTNL_SET_NAME);

	if (!ret && c.n)
		qsort(c.b, c.n, sizeof(*c.b), blob_cmp);
	for (size_t i = 0; !ret && i < c.n;) {
		struct nlmsghdr *o = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSETELEM,
							   (uint16_t)nftnl_set_get_u32(from, NFTNL_SET_FAMILY),
							   0, 0);
		struct nlattr *nest;

		mnl_attr_put_strz(o, NFTA_SET_ELEM_LIST_TABLE, table ? table : "");
		mnl_attr_put_strz(o, NFTA_SET_ELEM_LIST_SET, name ? name : "");
		nest = mnl_attr_nest_start(o, NFTA_SET_ELEM_LIST_ELEMENTS);
		for (size_t first = i;
		     i < c.n && (i == first || o->nlmsg_len + c.b[i]->len + 64 < NL_RECV_SIZE); i++) {
			memcpy(mnl_nlmsg_get_payload_tail(o), c.b[i]->nest, c.b[i]->len);
			o->nlmsg_len += MNL_ALIGN(c.b[i]->len);
		}
		mnl_attr_nest_end(o, nest);
		ret = nftnl_set_elems_nlmsg_parse(o, into) < 0 ? -EIO : 0;
		memset(buf, 0, MSG_BUF);
	}
	for (size_t i = 0; i < c.n; i++)
		free(c.b[i]);
	free(c.b);
	free(c.tmp);
	free(buf);
	return ret;
}

int elemkeys_copy(struct nftnl_set *from, struct nftnl_set *into)
{
	return copy(from, &(struct elemkeys){ 0 }, false, 0, into);
}

int elemkeys_copy_aged(struct nftnl_set *from, int64_t shift_ms, struct nftnl_set *into)
{
	return copy(from, &(struct elemkeys){ 0 }, false, shift_ms, into);
}

int elemkeys_copy_only(struct nftnl_set *from, struct elemkeys *k, struct nftnl_set *into)
{
	return copy(from, k, true, 0, into);
}

struct nftnl_set *elemkeys_without(struct elemkeys *k, struct nftnl_set *s)
{
	char *buf = calloc(1, MSG_BUF);
	struct nftnl_set *out = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	int ret = buf && out ? 0 : -ENOMEM;

	if (!ret) {
		/* the set itself, then the elements that stay */
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSET,
					    (uint16_t)nftnl_set_get_u32(s, NFTNL_SET_FAMILY), 0, 0);
		nftnl_set_nlmsg_build_payload(nlh, s);
		ret = nftnl_set_nlmsg_parse(nlh, out) < 0 ? -EIO : 0;
	}
	free(buf);
	if (!ret)
		ret = copy(s, k, false, 0, out);
	if (ret && out) {
		nftnl_set_free(out);
		out = NULL;
	}
	return out;
}

