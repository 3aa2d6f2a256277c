#define _GNU_SOURCE
#include "nft/setread.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int has_counter_cb(struct nftnl_expr *e, void *data)
{
	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0)
		*(bool *)data = true;
	return 0;
}

static int typeof_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NFTNL_UDATA_SET_KEY_TYPEOF)
		*(bool *)data = true;
	return 0;
}

void setread_set_of(struct nftnl_set *s, struct setelems_set *out)
{
	uint32_t len;

	memset(out, 0, sizeof(*out));
	if (nftnl_set_is_set(s, NFTNL_SET_USERDATA)) {
		const void *u = nftnl_set_get_data(s, NFTNL_SET_USERDATA, &len);

		nftnl_udata_parse(u, len, typeof_cb, &out->key_typeof);
	}
	out->family = nftnl_set_get_u32(s, NFTNL_SET_FAMILY);
	snprintf(out->table, sizeof(out->table), "%s", nftnl_set_get_str(s, NFTNL_SET_TABLE));
	snprintf(out->name, sizeof(out->name), "%s", nftnl_set_get_str(s, NFTNL_SET_NAME));
	out->flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
	out->key_type = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
	out->key_len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
	if (nftnl_set_is_set(s, NFTNL_SET_DATA_TYPE)) {
		out->data_type = nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE);
		out->data_len = nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN);
	}
	if (nftnl_set_is_set(s, NFTNL_SET_TIMEOUT))
		out->timeout_ms = nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT);
	/* the field lengths of a concatenation: as the set says, else by type */
	out->nfields = 1;
	if (nftnl_set_is_set(s, NFTNL_SET_DESC_CONCAT)) {
		const uint8_t *f = nftnl_set_get_data(s, NFTNL_SET_DESC_CONCAT, &len);

		for (uint32_t i = 0; f && i < len && i < 16 && f[i]; i++) {
			out->field_len[i] = f[i];
			out->nfields = i + 1;
		}
	}
	if (out->nfields <= 1)
		out->nfields = setelems_field_lens(out->key_type, out->field_len);
	out->counters = (out->flags & NFT_SET_EVAL) != 0; /* a meter's may */
	nftnl_set_expr_foreach(s, has_counter_cb, &out->counters);
	out->timeouts = (out->flags & (NFT_SET_TIMEOUT | NFT_SET_EVAL)) != 0;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s || nftnl_set_nlmsg_parse(nlh, s) < 0) {
		if (s)
			nftnl_set_free(s);
		return MNL_CB_ERROR;
	}
	setread_set_of(s, data);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

int setread_set(struct nl *nl, uint32_t family, const char *table, const char *name,
		struct setelems_set *out)
{
	struct nlmsghdr *req = nl_request(nl, NFT_MSG_GETSET, (uint16_t)family, NLM_F_ACK);

	memset(out, 0, sizeof(*out));
	mnl_attr_put_strz(req, NFTA_SET_TABLE, table);
	mnl_attr_put_strz(req, NFTA_SET_NAME, name);
	return nl_talk(nl, req, set_cb, out);
}

/* ---- elements ---- */

struct udata {
	const char *comment;
	bool open;           /* an interval open to the top */
};

static int udata_cb(const struct nftnl_udata *attr, void *data)
{
	struct udata *u = data;
	uint8_t len = nftnl_udata_len(attr);
	const char *v = nftnl_udata_get(attr);

	switch (nftnl_udata_type(attr)) {
	case NFTNL_UDATA_SET_ELEM_COMMENT:
		if (len && v[len - 1] == 0)
			u->comment = v;
		break;
	case NFTNL_UDATA_SET_ELEM_FLAGS:
		if (len == 4) {
			uint32_t f;

			memcpy(&f, v, 4);
			u->open = f & NFTNL_SET_ELEM_F_INTERVAL_OPEN;
		}
		break;
	}
	return 0;
}

struct exprs {
	struct setelems_elem *e;
	char stmts[256];      /* but the counter, as nft writes them */
	size_t at;
};

static void stmt(struct exprs *ex, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void stmt(struct exprs *ex, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ex->at >= sizeof(ex->stmts) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(ex->stmts + ex->at, sizeof(ex->stmts) - ex->at, fmt, ap);
	va_end(ap);
	if (n > 0)
		ex->at = ex->at + (size_t)n < sizeof(ex->stmts) ? ex->at + (size_t)n
								: sizeof(ex->stmts) - 1;
	ex->e->stmts = ex->stmts;
}

static const char *rate_unit(uint64_t seconds)
{
	switch (seconds) {
	case 1:
		return "second";
	case 60:
		return "minute";
	case 3600:
		return "hour";
	case 86400:
		return "day";
	case 604800:
		return "week";
	}
	return "error";
}

/* A byte rate as nft writes it: the largest unit that divides it. */
static void byte_rate(uint64_t v, uint64_t *n, const char **unit)
{
	static const char *const units[] = { "bytes", "kbytes", "mbytes" };
	size_t i = 0;

	while (i < 2 && v && v % 1024 == 0) {
		v /= 1024;
		i++;
	}
	*n = v;
	*unit = units[i];
}

/* An element's stateful statement as nft writes it (nftables'
 * statement.c), from the expression's attributes: a counter into its
 * numbers, a limit or a quota into text. */
static int elem_expr_cb(struct nftnl_expr *x, void *data)
{
	struct exprs *ex = data;
	const char *name = nftnl_expr_get_str(x, NFTNL_EXPR_NAME), *sep = ex->at ? " " : "";
	uint64_t n;
	const char *unit;

	if (strcmp(name, "counter") == 0) {
		ex->e->counter = true;
		ex->e->counter_first = ex->at == 0;
		ex->e->packets = nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_PACKETS);
		ex->e->bytes = nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_BYTES);
	} else if (strcmp(name, "limit") == 0) {
		uint64_t rate = nftnl_expr_get_u64(x, NFTNL_EXPR_LIMIT_RATE);
		const char *per = rate_unit(nftnl_expr_get_u64(x, NFTNL_EXPR_LIMIT_UNIT));
		uint32_t burst = nftnl_expr_get_u32(x, NFTNL_EXPR_LIMIT_BURST);
		const char *inv = nftnl_expr_get_u32(x, NFTNL_EXPR_LIMIT_FLAGS) & NFT_LIMIT_F_INV
				  ? "over " : "";

		if (nftnl_expr_get_u32(x, NFTNL_EXPR_LIMIT_TYPE) == NFT_LIMIT_PKTS) {
			stmt(ex, "%slimit rate %s%llu/%s", sep, inv, (unsigned long long)rate, per);
			if (burst && burst != 5)
				stmt(ex, " burst %u packets", burst);
		} else {
			byte_rate(rate, &n, &unit);
			stmt(ex, "%slimit rate %s%llu %s/%s", sep, inv, (unsigned long long)n, unit,
			     per);
			byte_rate(burst, &n, &unit);
			if (burst)
				stmt(ex, " burst %llu %s", (unsigned long long)n, unit);
		}
	} else if (strcmp(name, "quota") == 0) {
		uint64_t used = nftnl_expr_get_u64(x, NFTNL_EXPR_QUOTA_CONSUMED);

		byte_rate(nftnl_expr_get_u64(x, NFTNL_EXPR_QUOTA_BYTES), &n, &unit);
		stmt(ex, "%squota %s%llu %s", sep,
		     nftnl_expr_get_u32(x, NFTNL_EXPR_QUOTA_FLAGS) & NFT_QUOTA_F_INV ? "over " : "",
		     (unsigned long long)n, unit);
		byte_rate(used, &n, &unit);
		if (used)
			stmt(ex, " used %llu %s", (unsigned long long)n, unit);
	} else {
		stmt(ex, "%s%s", sep, name); /* one nft has more words for */
	}
	return 0;
}

/* a range's end from the kernel's (one past it): minus one, big-endian */
static void minus_one(uint8_t *p, size_t len)
{
	for (size_t i = len; i-- > 0;)
		if (p[i]--)
			break;
}

struct elem_ctx {
	struct setread *r;
	int err;
};

static int take_elem(struct nftnl_set_elem *el, void *data)
{
	struct elem_ctx *c = data;
	struct setread *r = c->r;
	struct setelems *s = r->into;
	struct setelems_elem e = { 0 };
	struct exprs ex = { &e, "", 0 };
	struct udata u = { 0 };
	uint8_t hi[64];
	uint32_t flags = nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_FLAGS)
			 ? nftnl_set_elem_get_u32(el, NFTNL_SET_ELEM_FLAGS) : 0;
	uint32_t len = 0;
	const void *p;

	if (s->set.key_len > sizeof(hi))
		return (c->err = -EOPNOTSUPP);
	e.catchall = flags & NFT_SET_ELEM_CATCHALL;
	if (!e.catchall) {
		e.key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &len);
		if (!e.key || len != s->set.key_len)
			return (c->err = -EPROTO);
	}
	if (flags & NFT_SET_ELEM_INTERVAL_END) {
		/* the end of the range whose start comes next */
		memcpy(r->end, e.key, len);
		r->have_end = true;
		return 0;
	}
	if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_USERDATA)) {
		p = nftnl_set_elem_get(el, NFTNL_SET_ELEM_USERDATA, &len);
		nftnl_udata_parse(p, len, udata_cb, &u);
		e.comment = u.comment;
	}
	if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_KEY_END)) {
		e.key_end = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY_END, &len);
		if (len != s->set.key_len)
			return (c->err = -EPROTO);
	} else if (!e.catchall && (s->set.flags & NFT_SET_INTERVAL)) {
		if (r->have_end) {
			memcpy(hi, r->end, s->set.key_len);
			minus_one(hi, s->set.key_len);
		} else {
			memset(hi, 0xff, s->set.key_len); /* open to the top */
		}
		r->have_end = false;
		if (memcmp(hi, e.key, s->set.key_len) != 0)
			e.key_end = hi;
	}
	if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_VERDICT))
		e.verdict = (int32_t)nftnl_set_elem_get_u32(el, NFTNL_SET_ELEM_VERDICT);
	if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_CHAIN))
		e.chain = nftnl_set_elem_get_str(el, NFTNL_SET_ELEM_CHAIN);
	if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_OBJREF))
		e.objref = nftnl_set_elem_get_str(el, NFTNL_SET_ELEM_OBJREF);
	if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_DATA)) {
		e.data = nftnl_set_elem_get(el, NFTNL_SET_ELEM_DATA, &len);
		if (len != s->set.data_len)
			return (c->err = -EPROTO);
	}
	if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_TIMEOUT))
		e.timeout_ms = nftnl_set_elem_get_u64(el, NFTNL_SET_ELEM_TIMEOUT);
	if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_EXPIRATION))
		e.expires_ms = nftnl_set_elem_get_u64(el, NFTNL_SET_ELEM_EXPIRATION);
	nftnl_set_elem_expr_foreach(el, elem_expr_cb, &ex);
	c->err = setelems_add(s, &e);
	return c->err;
}

int setread_elems(struct nftnl_set *from, struct setelems *into)
{
	struct setread r = { .into = into };
	struct elem_ctx c = { &r, 0 };

	nftnl_set_elem_foreach(from, take_elem, &c);
	return c.err;
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct elem_ctx c = { data, 0 };
	struct nftnl_set *tmp = nftnl_set_alloc();

	if (!tmp)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, tmp) < 0) {
		nftnl_set_free(tmp);
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	nftnl_set_elem_foreach(tmp, take_elem, &c);
	nftnl_set_free(tmp);
	if (c.err) {
		errno = -c.err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* Counting walks the raw attributes: parsing 50k elements into libnftnl
 * objects only to count them would be wasted work. An interval set
 * stores a range as two elements; the end marker is not counted. */
static int elem_flags_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == NFTA_SET_ELEM_FLAGS &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		*(uint32_t *)data = ntohl(mnl_attr_get_u32(attr));
	return MNL_CB_OK;
}

static int elem_list_cb(const struct nlattr *attr, void *data)
{
	uint32_t *count = data;

	if (mnl_attr_get_type(attr) == NFTA_SET_ELEM_LIST_ELEMENTS) {
		const struct nlattr *elem;

		mnl_attr_for_each_nested(elem, attr) {
			uint32_t flags = 0;

			mnl_attr_parse_nested(elem, elem_flags_cb, &flags);
			if (!(flags & NFT_SET_ELEM_INTERVAL_END))
				(*count)++;
		}
	}
	return MNL_CB_OK;
}

int setread_count_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct nfgenmsg), elem_list_cb, data);
}

struct setread_buf {
	struct setread_buf *next;
	size_t len;
	char data[];
};

/* Whether a receive buffer ends the dump (its DONE, or an error). */
static bool last_buf(const char *buf, size_t len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int n = (int)len;

	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n))
		if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR)
			return true;
	return false;
}

/* The receiving thread: each buffer of the dump into the queue (at most
 * SETREAD_AHEAD waiting), a byte on ready for each; until the dump ends,
 * an error, or a byte on stop. */
static void *receive(void *arg)
{
	struct setread *r = arg;
	int fd = mnl_socket_get_fd(r->nl.sock), err = 0;

	for (;;) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { r->stop[0], POLLIN, 0 } };
		struct setread_buf *b;
		bool last;
		ssize_t n;

		pthread_mutex_lock(&r->mu);
		while (r->queued >= SETREAD_AHEAD)
			pthread_cond_wait(&r->room, &r->mu);
		pthread_mutex_unlock(&r->mu);
		if (poll(p, 2, -1) < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		if (p[1].revents)
			break;
		n = recv(fd, r->nl.buf, NL_RECV_SIZE, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		b = malloc(sizeof(*b) + (size_t)n);
		if (!b) {
			err = -ENOMEM;
			break;
		}
		b->next = NULL;
		b->len = (size_t)n;
		memcpy(b->data, r->nl.buf, (size_t)n);
		last = last_buf(b->data, b->len); /* b is the reader's once queued */
		pthread_mutex_lock(&r->mu);
		if (r->tail)
			r->tail->next = b;
		else
			r->head = b;
		r->tail = b;
		r->queued++;
		pthread_mutex_unlock(&r->mu);
		if (write(r->ready[1], "b", 1) < 0)
			break;
		if (last)
			break;
	}
	pthread_mutex_lock(&r->mu);
	r->th_err = err;
	pthread_mutex_unlock(&r->mu);
	if (err && write(r->ready[1], "e", 1) < 0)
		return NULL;
	return NULL;
}

static void close_pair(int *p)
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

/* The dump of family/table/name asked for, its receiving thread started. */
static int start(struct setread *r, uint32_t family, const char *table, const char *name)
{
	struct nlmsghdr *req;
	int ret;

	ret = nl_open_nonblock(&r->nl);
	if (ret)
		return ret;
	r->have_end = false;
	r->head = r->tail = NULL;
	r->queued = 0;
	r->th_err = 0;
	r->count = 0;
	req = nl_request(&r->nl, NFT_MSG_GETSETELEM, (uint16_t)family, NLM_F_DUMP);
	mnl_attr_put_strz(req, NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(req, NFTA_SET_ELEM_LIST_SET, name);
	r->ready[0] = r->ready[1] = r->stop[0] = r->stop[1] = -1;
	if (mnl_socket_sendto(r->nl.sock, req, req->nlmsg_len) < 0 ||
	    pipe2(r->ready, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(r->stop, O_CLOEXEC) < 0) {
		ret = -errno;
		close_pair(r->ready);
		close_pair(r->stop);
		nl_close(&r->nl);
		return ret;
	}
	r->seq = req->nlmsg_seq;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->room, NULL);
	ret = -pthread_create(&r->th, NULL, receive, r);
	if (ret) {
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->room);
		close_pair(r->ready);
		close_pair(r->stop);
		nl_close(&r->nl);
		return ret;
	}
	r->active = true;
	return 0;
}

int setread_start(struct setread *r, struct setelems *into)
{
	setread_cancel(r);
	setelems_clear(into);
	r->into = into;
	return start(r, into->set.family, into->set.table, into->set.name);
}

int setread_count_start(struct setread *r, uint32_t family, const char *table,
			const char *name)
{
	setread_cancel(r);
	r->into = NULL;
	return start(r, family, table, name);
}

int setread_fd(const struct setread *r)
{
	return r->active ? r->ready[0] : -1;
}

int setread_step(struct setread *r)
{
	struct setread_buf *b;
	char c;
	int ret;

	if (!r->active)
		return 0;
	if (read(r->ready[0], &c, 1) != 1)
		return 1; /* nothing yet */
	pthread_mutex_lock(&r->mu);
	b = c == 'b' ? r->head : NULL;
	if (b) {
		r->head = b->next;
		if (!r->head)
			r->tail = NULL;
		r->queued--;
		pthread_cond_signal(&r->room);
	}
	ret = r->th_err;
	pthread_mutex_unlock(&r->mu);
	if (b) {
		errno = 0;
		ret = mnl_cb_run(b->data, b->len, r->seq, r->nl.portid,
				 r->into ? elems_cb : setread_count_cb, r->into ? (void *)r : &r->count);
		ret = ret > 0 ? 1 : ret < 0 ? (errno ? -errno : -EIO) : 0;
		free(b);
	}
	if (ret > 0)
		return 1;
	setread_cancel(r);
	if (!ret && r->into)
		setelems_trim(r->into); /* all in: no room kept for more */
	return ret;
}

void setread_cancel(struct setread *r)
{
	if (r->active) {
		if (write(r->stop[1], "s", 1) < 0) {
			/* a full pipe: a stop is waiting already */
		}
		pthread_mutex_lock(&r->mu);
		r->queued = 0; /* a thread waiting for room goes on, to see the stop */
		pthread_cond_signal(&r->room);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->th, NULL);
		while (r->head) {
			struct setread_buf *b = r->head;

			r->head = b->next;
			free(b);
		}
		r->tail = NULL;
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->room);
		close_pair(r->ready);
		close_pair(r->stop);
	}
	if (r->active || r->nl.sock)
		nl_close(&r->nl);
	r->active = false;
}

int setread_all(uint32_t family, const char *table, const char *name, struct setelems *out,
		char *err, size_t errlen)
{
	struct setread r = { 0 };
	struct nl nl;
	int ret;

	err[0] = 0;
	ret = nl_open(&nl, err, errlen);
	if (!ret)
		ret = setread_set(&nl, family, table, name, &out->set);
	nl_close(&nl); /* safe after a failed open too */
	for (int tries = 0; !ret && tries < 5; tries++) {
		ret = setread_start(&r, out);
		while (ret == 0 && r.active) {
			struct pollfd pfd = { setread_fd(&r), POLLIN, 0 };

			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				ret = -errno;
			else if ((ret = setread_step(&r)) > 0)
				ret = 0;
		}
		setread_cancel(&r);
		if (ret != -EINTR)
			break;
	}
	if (ret && !err[0])
		snprintf(err, errlen, "%s", ret == -ENOENT ? "no such table or set"
								   : nl_strerror(ret));
	return ret;
}
