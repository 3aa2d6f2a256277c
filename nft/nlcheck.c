#include "nft/nlcheck.h"

#include "nft/snapshot.h" /* NFT_MSG_DESTROYSETELEM */

#include "model/fmt.h"
#include "model/ruleset.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- the tables ----
 * One policy per kind of object, nest and expression: for each attribute
 * type what it must be. A type the policy does not list is refused, so is
 * an attribute given twice, a required one missing, and bytes left over
 * after the last attribute: libnftnl writes none of these. Where libnftnl
 * reads one attribute by another (an expression's data by its name, an
 * object's by its type, a ct timeout's by its protocol) or wants one of
 * several, the policy's check says so. */

enum kind {
	A_NONE,      /* not an attribute of this object: refused */
	A_U8,
	A_U16,
	A_U32,
	A_U64,
	A_STR,       /* a string ended by its one NUL; len: most bytes, NUL included */
	A_BIN,       /* bytes; len: exactly so many (0: any) */
	A_NEST,      /* attributes of sub (NULL: the policy's check reads them) */
	A_LIST,      /* NFTA_LIST_ELEM nests of sub; len: at most so many (0: any) */
	A_DEVS,      /* NFTA_DEVICE_NAME strings, interface names */
};

enum {
	F_REQ = 1,   /* required */
	F_LAX = 2,   /* A_NEST: walked as libnftnl walks it, up to what it cannot read */
};

struct nlc_policy;

struct nlc_attr {
	unsigned char kind, flags;
	unsigned short len;
	const struct nlc_policy *sub;
	const char *what;            /* named in "no table name" */
};

#define NLC_MAXATTR 24

struct walk;
struct nlc_policy {
	const char *name;
	const struct nlc_attr *attrs;    /* [0..max] */
	unsigned short max;
	int (*check)(struct walk *w, const struct nlattr *const *tb);
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define POLICY(var, name, arr, check) \
	_Static_assert(ARRAY_LEN(arr) <= NLC_MAXATTR, "policy " name " too big"); \
	static const struct nlc_policy var = { name, arr, ARRAY_LEN(arr) - 1, check }

#define U8       { .kind = A_U8 }
#define U16      { .kind = A_U16 }
#define U32      { .kind = A_U32 }
#define U64      { .kind = A_U64 }
#define BIN      { .kind = A_BIN }
#define STR(n)   { .kind = A_STR, .len = (n) }
#define NAME     STR(NFT_NAME_MAXLEN)
#define REQ_NAME(w) { .kind = A_STR, .flags = F_REQ, .len = NFT_NAME_MAXLEN, .what = (w) }
#define NEST(p)  { .kind = A_NEST, .sub = &(p) }
#define LIST(p)  { .kind = A_LIST, .sub = &(p) }
#define DEVS     { .kind = A_DEVS }
#define VALUE    NEST(value_policy)      /* NFTA_DATA_VALUE only */
#define DATA     NEST(data_policy)       /* a value or a verdict */
#define EXPRS    LIST(expr_policy)       /* a rule's expressions */
#define STATEFUL NEST(stateful_policy)   /* one of a set, element, dynset */
#define STATEFULS LIST(stateful_policy)  /* a list of them */

/* a walk through one message: where it is, for the reason */
struct walk {
	char *err;
	size_t errlen;
	char path[320];
	size_t plen;
};

static int fail(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct walk *w, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (w->errlen)
		snprintf(w->err, w->errlen, "%s%s%s", w->path, w->plen ? ": " : "", why);
	return -EINVAL;
}

/* Append a step to the path (sep between it and what is there); returns
 * where to cut it back to. */
static size_t push(struct walk *w, const char *sep, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static size_t push(struct walk *w, const char *sep, const char *fmt, ...)
{
	size_t old = w->plen;
	va_list ap;
	int n;

	if (w->plen && w->plen < sizeof(w->path)) {
		n = snprintf(w->path + w->plen, sizeof(w->path) - w->plen, "%s", sep);
		w->plen += n > 0 ? (size_t)n : 0;
	}
	if (w->plen < sizeof(w->path)) {
		va_start(ap, fmt);
		n = vsnprintf(w->path + w->plen, sizeof(w->path) - w->plen, fmt, ap);
		va_end(ap);
		w->plen += n > 0 ? (size_t)n : 0;
	}
	if (w->plen >= sizeof(w->path))
		w->plen = sizeof(w->path) - 1;
	return old;
}

static void pop(struct walk *w, size_t old)
{
	w->plen = old;
	w->path[old] = '\0';
}

static int walk_attrs(struct walk *w, const struct nlc_policy *p, const void *start, int len,
		      bool lax);

/* The attribute after a, *left bytes from a on (less what a takes; below
 * 0 when a's padding runs past them: then a again, the walk ends). */
static const struct nlattr *next_attr(const struct nlattr *a, int *left)
{
	int step = MNL_ALIGN(a->nla_len);

	*left -= step;
	return *left >= 0 ? (const struct nlattr *)((const char *)a + step) : a;
}

/* What is left after the last attribute of a run: nothing, if whole. */
static int leftover(struct walk *w, const struct nlattr *a, int len)
{
	if (len == 0)
		return 0;
	if (len < 0)
		return fail(w, "the last attribute lacks %d bytes of padding", -len);
	if (len < (int)sizeof(struct nlattr))
		return fail(w, "%d stray bytes after the last attribute", len);
	if (a->nla_len < sizeof(struct nlattr))
		return fail(w, "attribute %u has length %u, less than its header",
			    mnl_attr_get_type(a), a->nla_len);
	return fail(w, "attribute %u has length %u, but only %d bytes are left",
		    mnl_attr_get_type(a), a->nla_len, len);
}

static int check_fixed(struct walk *w, const struct nlattr *a, enum mnl_attr_data_type t,
		       unsigned want)
{
	if (mnl_attr_validate(a, t) < 0)
		return fail(w, "attribute %u has length %u, wants %u", mnl_attr_get_type(a),
			    mnl_attr_get_payload_len(a), want);
	return 0;
}

static int check_str(struct walk *w, const struct nlattr *a, unsigned max)
{
	uint16_t type = mnl_attr_get_type(a), len = mnl_attr_get_payload_len(a);

	if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
		return fail(w, "attribute %u is not a string ended by NUL", type);
	if (strnlen(mnl_attr_get_payload(a), len) != (size_t)len - 1u)
		return fail(w, "attribute %u is a string with a NUL inside", type);
	if (max && len > max)
		return fail(w, "attribute %u is a string of %u bytes, at most %u", type, len, max);
	return 0;
}

/* A list: NFTA_LIST_ELEM nests (of sub) or, devs, interface names. */
static int check_list(struct walk *w, const struct nlc_attr *r, const struct nlattr *list,
		      bool devs)
{
	const struct nlattr *a = mnl_attr_get_payload(list);
	int len = mnl_attr_get_payload_len(list), ret = 0;
	unsigned n = 0;

	while (!ret && mnl_attr_ok(a, len)) {
		uint16_t type = mnl_attr_get_type(a);
		size_t old;

		n++;
		if (r->len && n > r->len)
			return fail(w, "more than %u items in attribute %u", r->len,
				    mnl_attr_get_type(list));
		old = push(w, ": ", "%s %u", devs ? "device" : r->sub->name, n);
		if (devs && type != NFTA_DEVICE_NAME)
			ret = fail(w, "attribute %u where a device name goes", type);
		else if (devs)
			ret = check_str(w, a, IFNAMSIZ);
		else if (type != NFTA_LIST_ELEM)
			ret = fail(w, "attribute %u where a list item goes", type);
		else if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			ret = fail(w, "a list item of %u bytes", mnl_attr_get_payload_len(a));
		else
			ret = walk_attrs(w, r->sub, mnl_attr_get_payload(a),
					 mnl_attr_get_payload_len(a), false);
		pop(w, old);
		a = next_attr(a, &len);
	}
	return ret ? ret : leftover(w, a, len);
}

static int check_attr(struct walk *w, const struct nlc_attr *r, const struct nlattr *a)
{
	uint16_t type = mnl_attr_get_type(a);
	size_t old;
	int ret;

	switch ((enum kind)r->kind) {
	case A_NONE:
		break;
	case A_U8:
		return check_fixed(w, a, MNL_TYPE_U8, 1);
	case A_U16:
		return check_fixed(w, a, MNL_TYPE_U16, 2);
	case A_U32:
		return check_fixed(w, a, MNL_TYPE_U32, 4);
	case A_U64:
		return check_fixed(w, a, MNL_TYPE_U64, 8);
	case A_STR:
		return check_str(w, a, r->len);
	case A_BIN:
		if (mnl_attr_validate(a, MNL_TYPE_BINARY) < 0 ||
		    (r->len && mnl_attr_get_payload_len(a) != r->len))
			return fail(w, "attribute %u has length %u, wants %u", type,
				    mnl_attr_get_payload_len(a), r->len);
		return 0;
	case A_NEST:
	case A_LIST:
	case A_DEVS:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			return fail(w, "attribute %u is no nest (%u bytes)", type,
				    mnl_attr_get_payload_len(a));
		if (r->kind != A_NEST)
			return check_list(w, r, a, r->kind == A_DEVS);
		if (!r->sub)
			return 0;
		old = push(w, ": ", "%s", r->sub->name);
		ret = walk_attrs(w, r->sub, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a),
				 r->flags & F_LAX);
		pop(w, old);
		return ret;
	}
	return fail(w, "attribute %u is unknown", type);
}

/* The attributes from start on, len bytes of them, against p. With lax,
 * only those libnftnl would read (it stops at the first it cannot). */
static int walk_attrs(struct walk *w, const struct nlc_policy *p, const void *start, int len,
		      bool lax)
{
	const struct nlattr *tb[NLC_MAXATTR] = { 0 };
	const struct nlattr *a = start;
	int ret;

	while (mnl_attr_ok(a, len)) {
		uint16_t type = mnl_attr_get_type(a);

		if (mnl_attr_type_valid(a, p->max) < 0 || p->attrs[type].kind == A_NONE)
			return fail(w, "attribute %u is none a %s has", type, p->name);
		if (tb[type])
			return fail(w, "attribute %u is there twice", type);
		tb[type] = a;
		ret = check_attr(w, &p->attrs[type], a);
		if (ret)
			return ret;
		a = next_attr(a, &len);
	}
	if (!lax && (ret = leftover(w, a, len)))
		return ret;
	for (unsigned t = 0; t <= p->max; t++)
		if ((p->attrs[t].flags & F_REQ) && !tb[t])
			return p->attrs[t].what ? fail(w, "no %s (attribute %u)", p->attrs[t].what, t)
						: fail(w, "no attribute %u", t);
	return p->check ? p->check(w, tb) : 0;
}

/* ---- data: values and verdicts ---- */

static int check_value(struct walk *w, const struct nlattr *v)
{
	uint16_t len = mnl_attr_get_payload_len(v);

	if (len == 0 || len > NFT_DATA_VALUE_MAXLEN)
		return fail(w, "a value of %u bytes (1 to %u)", len, NFT_DATA_VALUE_MAXLEN);
	return 0;
}

static int value_check(struct walk *w, const struct nlattr *const *tb)
{
	return check_value(w, tb[NFTA_DATA_VALUE]);
}

static int data_check(struct walk *w, const struct nlattr *const *tb)
{
	if (!tb[NFTA_DATA_VALUE] == !tb[NFTA_DATA_VERDICT])
		return fail(w, "wants a value or a verdict");
	return tb[NFTA_DATA_VALUE] ? check_value(w, tb[NFTA_DATA_VALUE]) : 0;
}

static int verdict_check(struct walk *w, const struct nlattr *const *tb)
{
	int code = (int)ntohl(mnl_attr_get_u32(tb[NFTA_VERDICT_CODE]));

	switch (code) {
	case NF_ACCEPT:
	case NF_DROP:
	case NF_QUEUE:
	case NFT_CONTINUE:
	case NFT_BREAK:
	case NFT_RETURN:
		return 0;
	case NFT_JUMP:
	case NFT_GOTO:
		return tb[NFTA_VERDICT_CHAIN] ? 0 : fail(w, "a jump without its chain");
	}
	return fail(w, "verdict %d is unknown", code);
}

static const struct nlc_attr value_attrs[] = {
	[NFTA_DATA_VALUE] = { .kind = A_BIN, .flags = F_REQ, .what = "value" },
};
POLICY(value_policy, "value", value_attrs, value_check);

static const struct nlc_attr verdict_attrs[] = {
	[NFTA_VERDICT_CODE] = { .kind = A_U32, .flags = F_REQ, .what = "verdict code" },
	[NFTA_VERDICT_CHAIN] = NAME,
	[NFTA_VERDICT_CHAIN_ID] = U32,
};
POLICY(verdict_policy, "verdict", verdict_attrs, verdict_check);

static const struct nlc_attr data_attrs[] = {
	[NFTA_DATA_VALUE] = BIN,
	[NFTA_DATA_VERDICT] = NEST(verdict_policy),
};
POLICY(data_policy, "data", data_attrs, data_check);

/* ---- expressions: one policy each, by name ---- */

static const struct nlc_policy expr_policy, stateful_policy;

static const struct nlc_attr bitwise_attrs[] = {
	[NFTA_BITWISE_SREG] = U32, [NFTA_BITWISE_DREG] = U32, [NFTA_BITWISE_LEN] = U32,
	[NFTA_BITWISE_MASK] = VALUE, [NFTA_BITWISE_XOR] = VALUE, [NFTA_BITWISE_OP] = U32,
	[NFTA_BITWISE_DATA] = VALUE,
};
POLICY(bitwise_policy, "bitwise", bitwise_attrs, NULL);

static const struct nlc_attr byteorder_attrs[] = {
	[NFTA_BYTEORDER_SREG] = U32, [NFTA_BYTEORDER_DREG] = U32, [NFTA_BYTEORDER_OP] = U32,
	[NFTA_BYTEORDER_LEN] = U32, [NFTA_BYTEORDER_SIZE] = U32,
};
POLICY(byteorder_policy, "byteorder", byteorder_attrs, NULL);

static const struct nlc_attr cmp_attrs[] = {
	[NFTA_CMP_SREG] = U32, [NFTA_CMP_OP] = U32, [NFTA_CMP_DATA] = VALUE,
};
POLICY(cmp_policy, "cmp", cmp_attrs, NULL);

static const struct nlc_attr connlimit_attrs[] = {
	[NFTA_CONNLIMIT_COUNT] = U32, [NFTA_CONNLIMIT_FLAGS] = U32,
};
POLICY(connlimit_policy, "connlimit", connlimit_attrs, NULL);

static const struct nlc_attr counter_attrs[] = {
	[NFTA_COUNTER_BYTES] = U64, [NFTA_COUNTER_PACKETS] = U64,
};
POLICY(counter_policy, "counter", counter_attrs, NULL);

static const struct nlc_attr ct_attrs[] = {
	[NFTA_CT_DREG] = U32, [NFTA_CT_KEY] = U32, [NFTA_CT_DIRECTION] = U8, [NFTA_CT_SREG] = U32,
};
POLICY(ct_policy, "ct", ct_attrs, NULL);

static const struct nlc_attr dup_attrs[] = {
	[NFTA_DUP_SREG_ADDR] = U32, [NFTA_DUP_SREG_DEV] = U32,
};
POLICY(dup_policy, "dup", dup_attrs, NULL);

static const struct nlc_attr dynset_attrs[] = {
	[NFTA_DYNSET_SET_NAME] = NAME, [NFTA_DYNSET_SET_ID] = U32, [NFTA_DYNSET_OP] = U32,
	[NFTA_DYNSET_SREG_KEY] = U32, [NFTA_DYNSET_SREG_DATA] = U32, [NFTA_DYNSET_TIMEOUT] = U64,
	[NFTA_DYNSET_EXPR] = STATEFUL, [NFTA_DYNSET_FLAGS] = U32,
	[NFTA_DYNSET_EXPRESSIONS] = STATEFULS,
};
POLICY(dynset_policy, "dynset", dynset_attrs, NULL);

static const struct nlc_attr exthdr_attrs[] = {
	[NFTA_EXTHDR_DREG] = U32, [NFTA_EXTHDR_TYPE] = U8, [NFTA_EXTHDR_OFFSET] = U32,
	[NFTA_EXTHDR_LEN] = U32, [NFTA_EXTHDR_FLAGS] = U32, [NFTA_EXTHDR_OP] = U32,
	[NFTA_EXTHDR_SREG] = U32,
};
POLICY(exthdr_policy, "exthdr", exthdr_attrs, NULL);

static const struct nlc_attr fib_attrs[] = {
	[NFTA_FIB_DREG] = U32, [NFTA_FIB_RESULT] = U32, [NFTA_FIB_FLAGS] = U32,
};
POLICY(fib_policy, "fib", fib_attrs, NULL);

static const struct nlc_attr flow_attrs[] = {
	[NFTA_FLOW_TABLE_NAME] = NAME,
};
POLICY(flow_policy, "flow_offload", flow_attrs, NULL);

static const struct nlc_attr fwd_attrs[] = {
	[NFTA_FWD_SREG_DEV] = U32, [NFTA_FWD_SREG_ADDR] = U32, [NFTA_FWD_NFPROTO] = U32,
};
POLICY(fwd_policy, "fwd", fwd_attrs, NULL);

static const struct nlc_attr hash_attrs[] = {
	[NFTA_HASH_SREG] = U32, [NFTA_HASH_DREG] = U32, [NFTA_HASH_LEN] = U32,
	[NFTA_HASH_MODULUS] = U32, [NFTA_HASH_SEED] = U32, [NFTA_HASH_OFFSET] = U32,
	[NFTA_HASH_TYPE] = U32,
};
POLICY(hash_policy, "hash", hash_attrs, NULL);

static const struct nlc_attr immediate_attrs[] = {
	[NFTA_IMMEDIATE_DREG] = U32, [NFTA_IMMEDIATE_DATA] = DATA,
};
POLICY(immediate_policy, "immediate", immediate_attrs, NULL);

static const struct nlc_attr last_attrs[] = {
	[NFTA_LAST_SET] = U32, [NFTA_LAST_MSECS] = U64,
};
POLICY(last_policy, "last", last_attrs, NULL);

static const struct nlc_attr limit_attrs[] = {
	[NFTA_LIMIT_RATE] = U64, [NFTA_LIMIT_UNIT] = U64, [NFTA_LIMIT_BURST] = U32,
	[NFTA_LIMIT_TYPE] = U32, [NFTA_LIMIT_FLAGS] = U32,
};
POLICY(limit_policy, "limit", limit_attrs, NULL);

static const struct nlc_attr log_attrs[] = {
	[NFTA_LOG_GROUP] = U16, [NFTA_LOG_PREFIX] = STR(128), [NFTA_LOG_SNAPLEN] = U32,
	[NFTA_LOG_QTHRESHOLD] = U16, [NFTA_LOG_LEVEL] = U32, [NFTA_LOG_FLAGS] = U32,
};
POLICY(log_policy, "log", log_attrs, NULL);

static const struct nlc_attr lookup_attrs[] = {
	[NFTA_LOOKUP_SET] = NAME, [NFTA_LOOKUP_SREG] = U32, [NFTA_LOOKUP_DREG] = U32,
	[NFTA_LOOKUP_SET_ID] = U32, [NFTA_LOOKUP_FLAGS] = U32,
};
POLICY(lookup_policy, "lookup", lookup_attrs, NULL);

static const struct nlc_attr masq_attrs[] = {
	[NFTA_MASQ_FLAGS] = U32, [NFTA_MASQ_REG_PROTO_MIN] = U32, [NFTA_MASQ_REG_PROTO_MAX] = U32,
};
POLICY(masq_policy, "masq", masq_attrs, NULL);

/* xt names: XT_EXTENSION_MAXNAMELEN (29) with the NUL */
static const struct nlc_attr match_attrs[] = {
	[NFTA_MATCH_NAME] = STR(29), [NFTA_MATCH_REV] = U32, [NFTA_MATCH_INFO] = BIN,
};
POLICY(match_policy, "match", match_attrs, NULL);

static const struct nlc_attr meta_attrs[] = {
	[NFTA_META_DREG] = U32, [NFTA_META_KEY] = U32, [NFTA_META_SREG] = U32,
};
POLICY(meta_policy, "meta", meta_attrs, NULL);

static const struct nlc_attr nat_attrs[] = {
	[NFTA_NAT_TYPE] = U32, [NFTA_NAT_FAMILY] = U32, [NFTA_NAT_REG_ADDR_MIN] = U32,
	[NFTA_NAT_REG_ADDR_MAX] = U32, [NFTA_NAT_REG_PROTO_MIN] = U32,
	[NFTA_NAT_REG_PROTO_MAX] = U32, [NFTA_NAT_FLAGS] = U32,
};
POLICY(nat_policy, "nat", nat_attrs, NULL);

static const struct nlc_attr numgen_attrs[] = {
	[NFTA_NG_DREG] = U32, [NFTA_NG_MODULUS] = U32, [NFTA_NG_TYPE] = U32,
	[NFTA_NG_OFFSET] = U32,
};
POLICY(numgen_policy, "numgen", numgen_attrs, NULL);

static const struct nlc_attr objref_attrs[] = {
	[NFTA_OBJREF_IMM_TYPE] = U32, [NFTA_OBJREF_IMM_NAME] = NAME,
	[NFTA_OBJREF_SET_SREG] = U32, [NFTA_OBJREF_SET_NAME] = NAME, [NFTA_OBJREF_SET_ID] = U32,
};
POLICY(objref_policy, "objref", objref_attrs, NULL);

static const struct nlc_attr osf_attrs[] = {
	[NFTA_OSF_DREG] = U32, [NFTA_OSF_TTL] = U8, [NFTA_OSF_FLAGS] = U32,
};
POLICY(osf_policy, "osf", osf_attrs, NULL);

static const struct nlc_attr payload_attrs[] = {
	[NFTA_PAYLOAD_DREG] = U32, [NFTA_PAYLOAD_BASE] = U32, [NFTA_PAYLOAD_OFFSET] = U32,
	[NFTA_PAYLOAD_LEN] = U32, [NFTA_PAYLOAD_SREG] = U32, [NFTA_PAYLOAD_CSUM_TYPE] = U32,
	[NFTA_PAYLOAD_CSUM_OFFSET] = U32, [NFTA_PAYLOAD_CSUM_FLAGS] = U32,
};
POLICY(payload_policy, "payload", payload_attrs, NULL);

static const struct nlc_attr queue_attrs[] = {
	[NFTA_QUEUE_NUM] = U16, [NFTA_QUEUE_TOTAL] = U16, [NFTA_QUEUE_FLAGS] = U16,
	[NFTA_QUEUE_SREG_QNUM] = U32,
};
POLICY(queue_policy, "queue", queue_attrs, NULL);

static const struct nlc_attr quota_attrs[] = {
	[NFTA_QUOTA_BYTES] = U64, [NFTA_QUOTA_FLAGS] = U32, [NFTA_QUOTA_CONSUMED] = U64,
};
POLICY(quota_policy, "quota", quota_attrs, NULL);

static const struct nlc_attr range_attrs[] = {
	[NFTA_RANGE_SREG] = U32, [NFTA_RANGE_OP] = U32, [NFTA_RANGE_FROM_DATA] = VALUE,
	[NFTA_RANGE_TO_DATA] = VALUE,
};
POLICY(range_policy, "range", range_attrs, NULL);

static const struct nlc_attr redir_attrs[] = {
	[NFTA_REDIR_REG_PROTO_MIN] = U32, [NFTA_REDIR_REG_PROTO_MAX] = U32,
	[NFTA_REDIR_FLAGS] = U32,
};
POLICY(redir_policy, "redir", redir_attrs, NULL);

static const struct nlc_attr reject_attrs[] = {
	[NFTA_REJECT_TYPE] = U32, [NFTA_REJECT_ICMP_CODE] = U8,
};
POLICY(reject_policy, "reject", reject_attrs, NULL);

static const struct nlc_attr rt_attrs[] = {
	[NFTA_RT_DREG] = U32, [NFTA_RT_KEY] = U32,
};
POLICY(rt_policy, "rt", rt_attrs, NULL);

static const struct nlc_attr socket_attrs[] = {
	[NFTA_SOCKET_KEY] = U32, [NFTA_SOCKET_DREG] = U32, [NFTA_SOCKET_LEVEL] = U32,
};
POLICY(socket_policy, "socket", socket_attrs, NULL);

static const struct nlc_attr synproxy_attrs[] = {
	[NFTA_SYNPROXY_MSS] = U16, [NFTA_SYNPROXY_WSCALE] = U8, [NFTA_SYNPROXY_FLAGS] = U32,
};
POLICY(synproxy_policy, "synproxy", synproxy_attrs, NULL);

static const struct nlc_attr target_attrs[] = {
	[NFTA_TARGET_NAME] = STR(29), [NFTA_TARGET_REV] = U32, [NFTA_TARGET_INFO] = BIN,
};
POLICY(target_policy, "target", target_attrs, NULL);

static const struct nlc_attr tproxy_attrs[] = {
	[NFTA_TPROXY_FAMILY] = U32, [NFTA_TPROXY_REG_ADDR] = U32, [NFTA_TPROXY_REG_PORT] = U32,
};
POLICY(tproxy_policy, "tproxy", tproxy_attrs, NULL);

static const struct nlc_attr tunnel_attrs[] = {
	[NFTA_TUNNEL_KEY] = U32, [NFTA_TUNNEL_DREG] = U32,
};
POLICY(tunnel_policy, "tunnel", tunnel_attrs, NULL);

static const struct nlc_attr xfrm_attrs[] = {
	[NFTA_XFRM_DREG] = U32, [NFTA_XFRM_KEY] = U32, [NFTA_XFRM_DIR] = U8,
	[NFTA_XFRM_SPNUM] = U32,
};
POLICY(xfrm_policy, "xfrm", xfrm_attrs, NULL);

/* notrack has no data */
static const struct nlc_attr notrack_attrs[1];
POLICY(notrack_policy, "notrack", notrack_attrs, NULL);

/* Every expression libnftnl 1.2.4 knows; stateful: one a set, an element
 * or a dynset may hold (the kernel's NFT_EXPR_STATEFUL ones). */
static const struct expr_kind {
	const char *name;
	const struct nlc_policy *data;
	bool stateful;
} expr_kinds[] = {
	{ "bitwise", &bitwise_policy, false },     { "byteorder", &byteorder_policy, false },
	{ "cmp", &cmp_policy, false },             { "connlimit", &connlimit_policy, true },
	{ "counter", &counter_policy, true },     { "ct", &ct_policy, false },
	{ "dup", &dup_policy, false },             { "dynset", &dynset_policy, false },
	{ "exthdr", &exthdr_policy, false },       { "fib", &fib_policy, false },
	{ "flow_offload", &flow_policy, false },   { "fwd", &fwd_policy, false },
	{ "hash", &hash_policy, false },           { "immediate", &immediate_policy, false },
	{ "last", &last_policy, true },           { "limit", &limit_policy, true },
	{ "log", &log_policy, false },             { "lookup", &lookup_policy, false },
	{ "masq", &masq_policy, false },           { "match", &match_policy, false },
	{ "meta", &meta_policy, false },           { "nat", &nat_policy, false },
	{ "notrack", &notrack_policy, false },     { "numgen", &numgen_policy, false },
	{ "objref", &objref_policy, false },       { "osf", &osf_policy, false },
	{ "payload", &payload_policy, false },     { "queue", &queue_policy, false },
	{ "quota", &quota_policy, true },         { "range", &range_policy, false },
	{ "redir", &redir_policy, false },         { "reject", &reject_policy, false },
	{ "rt", &rt_policy, false },               { "socket", &socket_policy, false },
	{ "synproxy", &synproxy_policy, false },   { "target", &target_policy, false },
	{ "tproxy", &tproxy_policy, false },       { "tunnel", &tunnel_policy, false },
	{ "xfrm", &xfrm_policy, false },
};

/* An expression: its data by its name; in a set, an element or a dynset,
 * a stateful one only (and so no dynset inside a dynset: libnftnl would
 * recurse as deep as the bytes go). */
static int check_expr(struct walk *w, const struct nlattr *const *tb, bool stateful)
{
	const char *name = mnl_attr_get_str(tb[NFTA_EXPR_NAME]);
	const struct expr_kind *k = NULL;
	const struct nlattr *data = tb[NFTA_EXPR_DATA];
	size_t old;
	int ret = 0;

	for (size_t i = 0; i < ARRAY_LEN(expr_kinds) && !k; i++)
		if (strcmp(expr_kinds[i].name, name) == 0)
			k = &expr_kinds[i];
	if (!k) {
		char safe[64];

		return fail(w, "unknown expression \"%s\"", fmt_sanitize(safe, sizeof(safe), name));
	}
	old = push(w, " ", "(%s)", k->name);
	if (stateful && !k->stateful)
		ret = fail(w, "not one a set or a dynset may hold");
	else if (data)
		ret = walk_attrs(w, k->data, mnl_attr_get_payload(data),
				 mnl_attr_get_payload_len(data), false);
	pop(w, old);
	return ret;
}

static int expr_check(struct walk *w, const struct nlattr *const *tb)
{
	return check_expr(w, tb, false);
}

static int stateful_check(struct walk *w, const struct nlattr *const *tb)
{
	return check_expr(w, tb, true);
}

static const struct nlc_attr expr_attrs[] = {
	[NFTA_EXPR_NAME] = { .kind = A_STR, .flags = F_REQ, .len = 32, .what = "expression name" },
	[NFTA_EXPR_DATA] = { .kind = A_NEST },
};
POLICY(expr_policy, "expression", expr_attrs, expr_check);
POLICY(stateful_policy, "expression", expr_attrs, stateful_check);

/* ---- objects: their data by their type ---- */

static const struct nlc_attr obj_quota_attrs[] = {
	[NFTA_QUOTA_BYTES] = U64, [NFTA_QUOTA_FLAGS] = U32, [NFTA_QUOTA_CONSUMED] = U64,
};
POLICY(obj_quota_policy, "quota", obj_quota_attrs, NULL);

/* libnftnl keeps the helper's name in 16 bytes and refuses one as long */
static const struct nlc_attr ct_helper_attrs[] = {
	[NFTA_CT_HELPER_NAME] = STR(15), [NFTA_CT_HELPER_L3PROTO] = U16,
	[NFTA_CT_HELPER_L4PROTO] = U8,
};
POLICY(ct_helper_policy, "ct helper", ct_helper_attrs, NULL);

static const struct nlc_attr tunnel_ip_attrs[] = {
	[NFTA_TUNNEL_KEY_IP_SRC] = U32, [NFTA_TUNNEL_KEY_IP_DST] = U32,
};
POLICY(tunnel_ip_policy, "ip", tunnel_ip_attrs, NULL);

static const struct nlc_attr tunnel_ip6_attrs[] = {
	[NFTA_TUNNEL_KEY_IP6_SRC] = { .kind = A_BIN, .len = 16 },
	[NFTA_TUNNEL_KEY_IP6_DST] = { .kind = A_BIN, .len = 16 },
	[NFTA_TUNNEL_KEY_IP6_FLOWLABEL] = U32,
};
POLICY(tunnel_ip6_policy, "ip6", tunnel_ip6_attrs, NULL);

static const struct nlc_attr tunnel_vxlan_attrs[] = {
	[NFTA_TUNNEL_KEY_VXLAN_GBP] = U32,
};
POLICY(tunnel_vxlan_policy, "vxlan", tunnel_vxlan_attrs, NULL);

static const struct nlc_attr tunnel_erspan_attrs[] = {
	[NFTA_TUNNEL_KEY_ERSPAN_VERSION] = U32, [NFTA_TUNNEL_KEY_ERSPAN_V1_INDEX] = U32,
	[NFTA_TUNNEL_KEY_ERSPAN_V2_HWID] = U8, [NFTA_TUNNEL_KEY_ERSPAN_V2_DIR] = U8,
};
POLICY(tunnel_erspan_policy, "erspan", tunnel_erspan_attrs, NULL);

/* libnftnl writes a vxlan option's GBP straight into the options, where
 * its parser reads a nest: that one is read as far as libnftnl reads it */
static const struct nlc_attr tunnel_opts_attrs[] = {
	[NFTA_TUNNEL_KEY_OPTS_VXLAN] = { .kind = A_NEST, .flags = F_LAX,
					 .sub = &tunnel_vxlan_policy },
	[NFTA_TUNNEL_KEY_OPTS_ERSPAN] = NEST(tunnel_erspan_policy),
};
POLICY(tunnel_opts_policy, "options", tunnel_opts_attrs, NULL);

static const struct nlc_attr obj_tunnel_attrs[] = {
	[NFTA_TUNNEL_KEY_ID] = U32, [NFTA_TUNNEL_KEY_IP] = NEST(tunnel_ip_policy),
	[NFTA_TUNNEL_KEY_IP6] = NEST(tunnel_ip6_policy), [NFTA_TUNNEL_KEY_FLAGS] = U32,
	[NFTA_TUNNEL_KEY_TOS] = U8, [NFTA_TUNNEL_KEY_TTL] = U8, [NFTA_TUNNEL_KEY_SPORT] = U16,
	[NFTA_TUNNEL_KEY_DPORT] = U16, [NFTA_TUNNEL_KEY_OPTS] = NEST(tunnel_opts_policy),
};
POLICY(obj_tunnel_policy, "tunnel", obj_tunnel_attrs, NULL);

/* The timeouts of a ct timeout, numbered 1 to the protocol's count:
 * libnftnl sizes its table by the protocol (TCP, UDP; none for others). */
static int ct_timeout_check(struct walk *w, const struct nlattr *const *tb)
{
	const struct nlattr *data = tb[NFTA_CT_TIMEOUT_DATA], *a;
	uint8_t proto = tb[NFTA_CT_TIMEOUT_L4PROTO] ? mnl_attr_get_u8(tb[NFTA_CT_TIMEOUT_L4PROTO])
						    : 0;
	unsigned max = proto == IPPROTO_TCP ? 11 : proto == IPPROTO_UDP ? 2 : 0;
	uint32_t seen = 0;
	size_t old;
	int len, ret = 0;

	if (!data)
		return 0;
	old = push(w, ": ", "timeouts");
	a = mnl_attr_get_payload(data);
	len = mnl_attr_get_payload_len(data);
	while (!ret && mnl_attr_ok(a, len)) {
		uint16_t type = mnl_attr_get_type(a);

		if (type == 0 || type > max)
			ret = fail(w, "attribute %u, protocol %u has %u", type, proto, max);
		else if (seen & (1u << type))
			ret = fail(w, "attribute %u is there twice", type);
		else
			ret = check_fixed(w, a, MNL_TYPE_U32, 4);
		seen |= 1u << (type & 31);
		a = next_attr(a, &len);
	}
	if (!ret)
		ret = leftover(w, a, len);
	pop(w, old);
	return ret;
}

static const struct nlc_attr ct_timeout_attrs[] = {
	[NFTA_CT_TIMEOUT_L3PROTO] = U16, [NFTA_CT_TIMEOUT_L4PROTO] = U8,
	[NFTA_CT_TIMEOUT_DATA] = { .kind = A_NEST },
};
POLICY(ct_timeout_policy, "ct timeout", ct_timeout_attrs, ct_timeout_check);

/* libnftnl keeps the context in 256 bytes and refuses one as long */
static const struct nlc_attr secmark_attrs[] = {
	[NFTA_SECMARK_CTX] = STR(NFT_SECMARK_CTX_MAXLEN - 1),
};
POLICY(secmark_policy, "secmark", secmark_attrs, NULL);

static const struct nlc_attr ct_expect_attrs[] = {
	[NFTA_CT_EXPECT_L3PROTO] = U16, [NFTA_CT_EXPECT_L4PROTO] = U8,
	[NFTA_CT_EXPECT_DPORT] = U16, [NFTA_CT_EXPECT_TIMEOUT] = U32, [NFTA_CT_EXPECT_SIZE] = U8,
};
POLICY(ct_expect_policy, "ct expectation", ct_expect_attrs, NULL);

/* Every object type libnftnl 1.2.4 knows. */
static const struct {
	uint32_t type;
	const struct nlc_policy *data;
} obj_kinds[] = {
	{ NFT_OBJECT_COUNTER, &counter_policy },      { NFT_OBJECT_QUOTA, &obj_quota_policy },
	{ NFT_OBJECT_CT_HELPER, &ct_helper_policy },  { NFT_OBJECT_LIMIT, &limit_policy },
	{ NFT_OBJECT_TUNNEL, &obj_tunnel_policy },    { NFT_OBJECT_CT_TIMEOUT, &ct_timeout_policy },
	{ NFT_OBJECT_SECMARK, &secmark_policy },      { NFT_OBJECT_CT_EXPECT, &ct_expect_policy },
	{ NFT_OBJECT_SYNPROXY, &synproxy_policy },
};

static int obj_check(struct walk *w, const struct nlattr *const *tb)
{
	uint32_t type = ntohl(mnl_attr_get_u32(tb[NFTA_OBJ_TYPE]));
	const struct nlattr *data = tb[NFTA_OBJ_DATA];
	size_t old;
	int ret;

	for (size_t i = 0; i < ARRAY_LEN(obj_kinds); i++) {
		if (obj_kinds[i].type != type)
			continue;
		if (!data)
			return 0;
		old = push(w, ": ", "%s", obj_kinds[i].data->name);
		ret = walk_attrs(w, obj_kinds[i].data, mnl_attr_get_payload(data),
				 mnl_attr_get_payload_len(data), false);
		pop(w, old);
		return ret;
	}
	return fail(w, "object type %u is unknown", type);
}

/* ---- the messages ---- */

static const struct nlc_attr table_attrs[] = {
	[NFTA_TABLE_NAME] = REQ_NAME("table name"), [NFTA_TABLE_FLAGS] = U32,
	[NFTA_TABLE_USE] = U32, [NFTA_TABLE_HANDLE] = U64, [NFTA_TABLE_USERDATA] = BIN,
	[NFTA_TABLE_OWNER] = U32,
};
POLICY(table_policy, "table", table_attrs, NULL);

static const struct nlc_attr hook_attrs[] = {
	[NFTA_HOOK_HOOKNUM] = U32, [NFTA_HOOK_PRIORITY] = U32, [NFTA_HOOK_DEV] = STR(IFNAMSIZ),
	[NFTA_HOOK_DEVS] = DEVS,
};
POLICY(hook_policy, "hook", hook_attrs, NULL);

static const struct nlc_attr chain_counters_attrs[] = {
	[NFTA_COUNTER_BYTES] = U64, [NFTA_COUNTER_PACKETS] = U64,
};
POLICY(chain_counters_policy, "counters", chain_counters_attrs, NULL);

static const struct nlc_attr chain_attrs[] = {
	[NFTA_CHAIN_TABLE] = REQ_NAME("table name"), [NFTA_CHAIN_HANDLE] = U64,
	[NFTA_CHAIN_NAME] = REQ_NAME("chain name"), [NFTA_CHAIN_HOOK] = NEST(hook_policy),
	[NFTA_CHAIN_POLICY] = U32, [NFTA_CHAIN_USE] = U32, [NFTA_CHAIN_TYPE] = NAME,
	[NFTA_CHAIN_COUNTERS] = NEST(chain_counters_policy), [NFTA_CHAIN_FLAGS] = U32,
	[NFTA_CHAIN_ID] = U32, [NFTA_CHAIN_USERDATA] = BIN,
};
POLICY(chain_policy, "chain", chain_attrs, NULL);

static const struct nlc_attr compat_attrs[] = {
	[NFTA_RULE_COMPAT_PROTO] = U32, [NFTA_RULE_COMPAT_FLAGS] = U32,
};
POLICY(compat_policy, "compat", compat_attrs, NULL);

static const struct nlc_attr rule_attrs[] = {
	[NFTA_RULE_TABLE] = REQ_NAME("table name"), [NFTA_RULE_CHAIN] = REQ_NAME("chain name"),
	[NFTA_RULE_HANDLE] = U64, [NFTA_RULE_EXPRESSIONS] = EXPRS,
	[NFTA_RULE_COMPAT] = NEST(compat_policy), [NFTA_RULE_POSITION] = U64,
	[NFTA_RULE_USERDATA] = BIN, [NFTA_RULE_ID] = U32, [NFTA_RULE_POSITION_ID] = U32,
};
POLICY(rule_policy, "rule", rule_attrs, NULL);

/* a concatenation: libnftnl keeps NFT_REG32_COUNT field lengths */
static const struct nlc_attr field_attrs[] = {
	[NFTA_SET_FIELD_LEN] = { .kind = A_U32, .flags = F_REQ, .what = "field length" },
};
POLICY(field_policy, "field", field_attrs, NULL);

static const struct nlc_attr set_desc_attrs[] = {
	[NFTA_SET_DESC_SIZE] = U32,
	[NFTA_SET_DESC_CONCAT] = { .kind = A_LIST, .len = NFT_REG32_COUNT, .sub = &field_policy },
};
POLICY(set_desc_policy, "description", set_desc_attrs, NULL);

static const struct nlc_attr set_attrs[] = {
	[NFTA_SET_TABLE] = REQ_NAME("table name"), [NFTA_SET_NAME] = REQ_NAME("set name"),
	[NFTA_SET_FLAGS] = U32, [NFTA_SET_KEY_TYPE] = U32, [NFTA_SET_KEY_LEN] = U32,
	[NFTA_SET_DATA_TYPE] = U32, [NFTA_SET_DATA_LEN] = U32, [NFTA_SET_POLICY] = U32,
	[NFTA_SET_DESC] = NEST(set_desc_policy), [NFTA_SET_ID] = U32, [NFTA_SET_TIMEOUT] = U64,
	[NFTA_SET_GC_INTERVAL] = U32, [NFTA_SET_USERDATA] = BIN, [NFTA_SET_OBJ_TYPE] = U32,
	[NFTA_SET_HANDLE] = U64, [NFTA_SET_EXPR] = STATEFUL, [NFTA_SET_EXPRESSIONS] = STATEFULS,
};
POLICY(set_policy, "set", set_attrs, NULL);

/* an element: its key a value, its data a value or a verdict */
static const struct nlc_attr elem_attrs[] = {
	[NFTA_SET_ELEM_KEY] = VALUE, [NFTA_SET_ELEM_DATA] = DATA, [NFTA_SET_ELEM_FLAGS] = U32,
	[NFTA_SET_ELEM_TIMEOUT] = U64, [NFTA_SET_ELEM_EXPIRATION] = U64,
	[NFTA_SET_ELEM_USERDATA] = BIN, [NFTA_SET_ELEM_EXPR] = STATEFUL,
	[NFTA_SET_ELEM_OBJREF] = NAME, [NFTA_SET_ELEM_KEY_END] = VALUE,
	[NFTA_SET_ELEM_EXPRESSIONS] = STATEFULS,
};
POLICY(elem_policy, "element", elem_attrs, NULL);

static const struct nlc_attr elems_attrs[] = {
	[NFTA_SET_ELEM_LIST_TABLE] = REQ_NAME("table name"),
	[NFTA_SET_ELEM_LIST_SET] = REQ_NAME("set name"),
	[NFTA_SET_ELEM_LIST_ELEMENTS] = LIST(elem_policy), [NFTA_SET_ELEM_LIST_SET_ID] = U32,
};
POLICY(elems_policy, "set elements", elems_attrs, NULL);

static const struct nlc_attr obj_attrs[] = {
	[NFTA_OBJ_TABLE] = REQ_NAME("table name"), [NFTA_OBJ_NAME] = REQ_NAME("object name"),
	[NFTA_OBJ_TYPE] = { .kind = A_U32, .flags = F_REQ, .what = "object type" },
	[NFTA_OBJ_DATA] = { .kind = A_NEST }, [NFTA_OBJ_USE] = U32, [NFTA_OBJ_HANDLE] = U64,
	[NFTA_OBJ_USERDATA] = BIN,
};
POLICY(obj_policy, "object", obj_attrs, obj_check);

static const struct nlc_attr ft_hook_attrs[] = {
	[NFTA_FLOWTABLE_HOOK_NUM] = U32, [NFTA_FLOWTABLE_HOOK_PRIORITY] = U32,
	[NFTA_FLOWTABLE_HOOK_DEVS] = DEVS,
};
POLICY(ft_hook_policy, "hook", ft_hook_attrs, NULL);

static const struct nlc_attr flowtable_attrs[] = {
	[NFTA_FLOWTABLE_TABLE] = REQ_NAME("table name"),
	[NFTA_FLOWTABLE_NAME] = REQ_NAME("flowtable name"),
	[NFTA_FLOWTABLE_HOOK] = NEST(ft_hook_policy), [NFTA_FLOWTABLE_USE] = U32,
	[NFTA_FLOWTABLE_HANDLE] = U64, [NFTA_FLOWTABLE_FLAGS] = U32,
};
POLICY(flowtable_policy, "flowtable", flowtable_attrs, NULL);

static const struct nlc_policy *msg_policy(uint16_t type)
{
	switch (type) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
	case NFT_MSG_GETTABLE:
		return &table_policy;
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
		return &chain_policy;
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
		return &rule_policy;
	case NFT_MSG_NEWSET:
		return &set_policy;
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DESTROYSETELEM:
		return &elems_policy;
	case NFT_MSG_NEWOBJ:
		return &obj_policy;
	case NFT_MSG_NEWFLOWTABLE:
		return &flowtable_policy;
	}
	return NULL;
}

#define MSG_HDRLEN (MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)))

int nlcheck_msg(const struct nlmsghdr *nlh, size_t len, char *err, size_t errlen)
{
	struct walk w = { .err = err, .errlen = errlen };
	const struct nfgenmsg *g;
	const struct nlc_policy *p;
	size_t old;
	int ret;

	if (len < MSG_HDRLEN || nlh->nlmsg_len < MSG_HDRLEN || nlh->nlmsg_len > len)
		return fail(&w, "a message of %u bytes in %zu", len < sizeof(*nlh) ? 0
			    : nlh->nlmsg_len, len);
	if (nlh->nlmsg_type >> 8 != NFNL_SUBSYS_NFTABLES)
		return fail(&w, "message type %#x is no nf_tables one", nlh->nlmsg_type);
	p = msg_policy(nlh->nlmsg_type & 0xff);
	if (!p)
		return fail(&w, "message type %u is none a snapshot holds",
			    nlh->nlmsg_type & 0xff);
	g = mnl_nlmsg_get_payload(nlh);
	if (g->version != NFNETLINK_V0)
		return fail(&w, "version %u of nfnetlink is unknown", g->version);
	if (!ruleset_family_name(g->nfgen_family))
		return fail(&w, "family %u is unknown", g->nfgen_family);
	old = push(&w, "", "%s", p->name);
	ret = walk_attrs(&w, p, (const char *)nlh + MSG_HDRLEN, (int)(nlh->nlmsg_len - MSG_HDRLEN),
			 false);
	pop(&w, old);
	return ret;
}

const struct nlattr *nlcheck_attr(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

const char *nlcheck_str(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a = nlcheck_attr(nlh, type);

	return a ? mnl_attr_get_str(a) : NULL;
}
