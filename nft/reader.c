#include "nft/reader.h"
#include "nft/snapshot.h"
#include "nft/trace.h"

#include "nft/setread.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_attr(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* ---- tables ---- */

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nfp_ruleset *rs = data;
	struct nftnl_table *nt = nftnl_table_alloc();
	struct nfp_table *t;
	int ret = MNL_CB_ERROR;

	if (!nt || nftnl_table_nlmsg_parse(nlh, nt) < 0)
		goto out;
	t = ruleset_add_table(rs);
	if (!t)
		goto out;
	t->family = nftnl_table_get_u32(nt, NFTNL_TABLE_FAMILY);
	t->name = dup_attr(nftnl_table_get_str(nt, NFTNL_TABLE_NAME));
	t->handle = nftnl_table_get_u64(nt, NFTNL_TABLE_HANDLE);
	t->flags = nftnl_table_get_u32(nt, NFTNL_TABLE_FLAGS);
	if (nftnl_table_is_set(nt, NFTNL_TABLE_OWNER))
		t->owner_pid = nftnl_table_get_u32(nt, NFTNL_TABLE_OWNER);
	if (t->name)
		ret = MNL_CB_OK;
out:
	nftnl_table_free(nt);
	return ret;
}

/* ---- chains ---- */

static bool same_table(const char *name, const struct nfp_table *t)
{
	return name && strcmp(name, t->name) == 0;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nfp_table *t = data;
	struct nftnl_chain *nc = nftnl_chain_alloc();
	struct nfp_chain *c;
	int ret = MNL_CB_ERROR;

	if (!nc || nftnl_chain_nlmsg_parse(nlh, nc) < 0)
		goto out;
	/* the kernel filters chain dumps by family only, not by table */
	ret = MNL_CB_OK;
	if (!same_table(nftnl_chain_get_str(nc, NFTNL_CHAIN_TABLE), t))
		goto out;
	ret = MNL_CB_ERROR;
	c = ruleset_add_chain(t);
	if (!c)
		goto out;
	c->name = dup_attr(nftnl_chain_get_str(nc, NFTNL_CHAIN_NAME));
	c->handle = nftnl_chain_get_u64(nc, NFTNL_CHAIN_HANDLE);
	c->binding = nftnl_chain_is_set(nc, NFTNL_CHAIN_FLAGS) &&
		     (nftnl_chain_get_u32(nc, NFTNL_CHAIN_FLAGS) & NFT_CHAIN_BINDING);
	if (nftnl_chain_is_set(nc, NFTNL_CHAIN_HOOKNUM)) {
		c->base = true;
		c->hooknum = nftnl_chain_get_u32(nc, NFTNL_CHAIN_HOOKNUM);
		c->prio = (int32_t)nftnl_chain_get_u32(nc, NFTNL_CHAIN_PRIO);
		c->type = dup_attr(nftnl_chain_get_str(nc, NFTNL_CHAIN_TYPE));
		c->dev = dup_attr(nftnl_chain_get_str(nc, NFTNL_CHAIN_DEV));
		if (nftnl_chain_is_set(nc, NFTNL_CHAIN_POLICY))
			c->policy = (int)nftnl_chain_get_u32(nc, NFTNL_CHAIN_POLICY);
		if (nftnl_chain_is_set(nc, NFTNL_CHAIN_PACKETS)) {
			c->has_counters = true;
			c->packets = nftnl_chain_get_u64(nc, NFTNL_CHAIN_PACKETS);
			c->bytes = nftnl_chain_get_u64(nc, NFTNL_CHAIN_BYTES);
		}
	}
	if (c->name)
		ret = MNL_CB_OK;
out:
	nftnl_chain_free(nc);
	return ret;
}

static int read_chains(struct nl *nl, struct nfp_table *t, const char *only)
{
	struct nlmsghdr *req;
	struct nftnl_chain *nc = nftnl_chain_alloc();
	int err;

	if (!nc)
		return -ENOMEM;
	nftnl_chain_set_str(nc, NFTNL_CHAIN_TABLE, t->name);
	if (only)
		nftnl_chain_set_str(nc, NFTNL_CHAIN_NAME, only);
	req = nl_request(nl, NFT_MSG_GETCHAIN, t->family,
			 only ? NLM_F_ACK : NLM_F_DUMP);
	nftnl_chain_nlmsg_build_payload(req, nc);
	nftnl_chain_free(nc);
	err = nl_talk(nl, req, chain_cb, t);
	return err;
}

/* ---- rules ---- */

/* What a rule message says, parsed straight from its attributes: a refresh
 * of a 10k-rule chain should not allocate every expression of every rule
 * as libnftnl's object parser does. */
struct rule_info {
	uint64_t handle;
	bool has_counter, compat, nft_only;
	uint64_t packets, bytes;
	const char *comment;  /* points into the message */
	const char *target;   /* jump/goto chain: points into the message */
};

static const char *attr_str(const struct nlattr *a)
{
	return mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 ? mnl_attr_get_str(a) : NULL;
}

static int counter_cb(const struct nlattr *a, void *data)
{
	struct rule_info *ri = data;

	if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
		return MNL_CB_OK;
	if (mnl_attr_get_type(a) == NFTA_COUNTER_PACKETS)
		ri->packets = be64toh(mnl_attr_get_u64(a));
	else if (mnl_attr_get_type(a) == NFTA_COUNTER_BYTES)
		ri->bytes = be64toh(mnl_attr_get_u64(a));
	return MNL_CB_OK;
}

/* iptables' `-m comment` is an xt match holding a 256-byte string; nft
 * does not print it, so the model carries it as the rule's comment. */
struct xt_match {
	const char *name;
	const char *info;
	uint16_t len;
};

static int match_cb(const struct nlattr *a, void *data)
{
	struct xt_match *m = data;

	if (mnl_attr_get_type(a) == NFTA_MATCH_NAME)
		m->name = attr_str(a);
	else if (mnl_attr_get_type(a) == NFTA_MATCH_INFO) {
		m->info = mnl_attr_get_payload(a);
		m->len = mnl_attr_get_payload_len(a);
	}
	return MNL_CB_OK;
}

/* An immediate's verdict: the chain of a jump or goto. */
static int verdict_cb(const struct nlattr *a, void *data)
{
	const char **chain = data;

	if (mnl_attr_get_type(a) == NFTA_VERDICT_CHAIN)
		*chain = attr_str(a);
	return MNL_CB_OK;
}

static int imm_cb(const struct nlattr *a, void *data)
{
	const struct nlattr *v;

	if (mnl_attr_get_type(a) != NFTA_IMMEDIATE_DATA ||
	    mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
		return MNL_CB_OK;
	mnl_attr_for_each_nested(v, a)
		if (mnl_attr_get_type(v) == NFTA_DATA_VERDICT &&
		    mnl_attr_validate(v, MNL_TYPE_NESTED) == 0)
			mnl_attr_parse_nested(v, verdict_cb, data);
	return MNL_CB_OK;
}

struct expr_attrs {
	const char *name;
	const struct nlattr *data;
};

static int expr_attr_cb(const struct nlattr *a, void *data)
{
	struct expr_attrs *e = data;

	if (mnl_attr_get_type(a) == NFTA_EXPR_NAME)
		e->name = attr_str(a);
	else if (mnl_attr_get_type(a) == NFTA_EXPR_DATA &&
		 mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
		e->data = a;
	return MNL_CB_OK;
}

static int log_group_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == NFTA_LOG_GROUP)
		*(bool *)data = true;
	return MNL_CB_OK;
}

/* The expressions iptables-nft (1.8.9) writes for iptables and ip6tables
 * rules; anything else (a set lookup, ct, a native nat, reject or log
 * statement, ...) is nft's own, and iptables cannot show the rule as it
 * is: a log is iptables' only with a group (-j NFLOG). */
static bool iptables_writes(const struct expr_attrs *e)
{
	static const char *const names[] = { "payload", "meta", "cmp", "bitwise", "counter",
					     "immediate", "match", "target", "range", "limit",
					     NULL };
	bool group = false;

	for (const char *const *n = names; *n; n++)
		if (strcmp(e->name, *n) == 0)
			return true;
	if (strcmp(e->name, "log") == 0 && e->data)
		mnl_attr_parse_nested(e->data, log_group_cb, &group);
	return group;
}

static void parse_exprs(const struct nlattr *list, struct rule_info *ri)
{
	const struct nlattr *elem;

	mnl_attr_for_each_nested(elem, list) {
		struct expr_attrs e = { 0 };

		if (mnl_attr_get_type(elem) != NFTA_LIST_ELEM ||
		    mnl_attr_parse_nested(elem, expr_attr_cb, &e) < 0 || !e.name)
			continue;
		ri->nft_only |= !iptables_writes(&e); /* a bare [ masq ] has no data */
		if (!e.data)
			continue;
		if (!ri->has_counter && strcmp(e.name, "counter") == 0) {
			ri->has_counter = true;
			mnl_attr_parse_nested(e.data, counter_cb, ri);
		} else if (!ri->target && strcmp(e.name, "immediate") == 0) {
			mnl_attr_parse_nested(e.data, imm_cb, &ri->target);
		} else if (strcmp(e.name, "match") == 0 || strcmp(e.name, "target") == 0) {
			struct xt_match m = { 0 };

			ri->compat = true;
			mnl_attr_parse_nested(e.data, match_cb, &m);
			if (!ri->comment && m.name && strcmp(m.name, "comment") == 0 && m.info &&
			    m.len > 0 && memchr(m.info, '\0', m.len))
				ri->comment = m.info;
		}
	}
}

/* the rule comment in NFTA_RULE_USERDATA: type-length-value records
 * (libnftnl's udata format: u8 type, u8 length, value) */
static void parse_udata(const struct nlattr *a, struct rule_info *ri)
{
	const uint8_t *p = mnl_attr_get_payload(a);
	size_t len = mnl_attr_get_payload_len(a);

	while (len >= 2 && (size_t)p[1] + 2 <= len) {
		uint8_t type = p[0], vlen = p[1];

		if (type == NFTNL_UDATA_RULE_COMMENT && vlen > 0 && p[2 + vlen - 1] == '\0')
			ri->comment = (const char *)p + 2;
		len -= 2 + vlen;
		p += 2 + vlen;
	}
}

static int rule_attr_cb(const struct nlattr *a, void *data)
{
	struct rule_info *ri = data;

	switch (mnl_attr_get_type(a)) {
	case NFTA_RULE_HANDLE:
		if (mnl_attr_validate(a, MNL_TYPE_U64) == 0)
			ri->handle = be64toh(mnl_attr_get_u64(a));
		break;
	case NFTA_RULE_EXPRESSIONS:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
			parse_exprs(a, ri);
		break;
	case NFTA_RULE_USERDATA:
		parse_udata(a, ri);
		break;
	}
	return MNL_CB_OK;
}

static int parse_rule(const struct nlmsghdr *nlh, struct rule_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), rule_attr_cb, ri) < 0 ||
	    !ri->handle)
		return -1;
	return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nfp_chain *c = data;
	struct rule_info ri;
	struct nfp_rule *r;

	if (parse_rule(nlh, &ri) < 0 || !(r = ruleset_add_rule(c)))
		return MNL_CB_ERROR;
	r->handle = ri.handle;
	r->has_counter = ri.has_counter;
	r->compat = ri.compat;
	r->nft_only = ri.nft_only;
	r->packets = ri.packets;
	r->bytes = ri.bytes;
	if (ri.comment && !(r->comment = strdup(ri.comment)))
		return MNL_CB_ERROR;
	if (ri.target && !(r->target = strdup(ri.target)))
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

static struct nlmsghdr *rule_dump_request(struct nl *nl, const struct nfp_table *t,
					  const struct nfp_chain *c, uint16_t type)
{
	struct nftnl_rule *nr = nftnl_rule_alloc();
	struct nlmsghdr *req;

	if (!nr)
		return NULL;
	nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, t->name);
	nftnl_rule_set_str(nr, NFTNL_RULE_CHAIN, c->name);
	req = nl_request(nl, type, t->family, NLM_F_DUMP);
	nftnl_rule_nlmsg_build_payload(req, nr);
	nftnl_rule_free(nr);
	return req;
}

static int read_rules(struct nl *nl, const struct nfp_table *t, struct nfp_chain *c)
{
	struct nlmsghdr *req = rule_dump_request(nl, t, c, NFT_MSG_GETRULE);

	return req ? nl_talk(nl, req, rule_cb, c) : -ENOMEM;
}

/* ---- sets ---- */

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nfp_table *t = data;
	struct nftnl_set *ns = nftnl_set_alloc();
	struct setelems_set info;
	struct nfp_set *s;
	uint32_t flags;
	int ret = MNL_CB_ERROR;

	if (!ns || nftnl_set_nlmsg_parse(nlh, ns) < 0)
		goto out;
	flags = nftnl_set_get_u32(ns, NFTNL_SET_FLAGS);
	ret = MNL_CB_OK;
	if (flags & NFT_SET_ANONYMOUS) /* part of a rule, shown in its text */
		goto out;
	if (!same_table(nftnl_set_get_str(ns, NFTNL_SET_TABLE), t))
		goto out;
	ret = MNL_CB_ERROR;
	s = ruleset_add_set(t);
	if (!s)
		goto out;
	s->name = dup_attr(nftnl_set_get_str(ns, NFTNL_SET_NAME));
	s->handle = nftnl_set_get_u64(ns, NFTNL_SET_HANDLE);
	s->flags = flags;
	s->is_map = (flags & (NFT_SET_MAP | NFT_SET_OBJECT)) != 0;
	/* its type as nft writes it, from the key and data types; one
	 * declared by typeof, an object map's or a type without a name here
	 * ("type 42") get nft's text from the listing (ruletext_join) */
	setread_set_of(ns, &info);
	if (!info.key_typeof && !(flags & NFT_SET_OBJECT)) {
		char type[200];

		setelems_type_text(&info, type + 5, sizeof(type) - 5);
		memcpy(type, "type ", 5);
		if (!strstr(type + 5, "type "))
			s->key_type = dup_attr(type);
	}
	if (s->name)
		ret = MNL_CB_OK;
out:
	nftnl_set_free(ns);
	return ret;
}

static int count_elems(struct nl *nl, const struct nfp_table *t, struct nfp_set *s)
{
	struct nftnl_set *ns = nftnl_set_alloc();
	struct nlmsghdr *req;

	if (!ns)
		return -ENOMEM;
	nftnl_set_set_str(ns, NFTNL_SET_TABLE, t->name);
	nftnl_set_set_str(ns, NFTNL_SET_NAME, s->name);
	req = nl_request(nl, NFT_MSG_GETSETELEM, t->family, NLM_F_DUMP);
	nftnl_set_elems_nlmsg_build_payload(req, ns);
	nftnl_set_free(ns);
	s->nelems = 0;
	return nl_talk(nl, req, setread_count_cb, &s->nelems);
}

static int read_sets(struct nl *nl, struct nfp_table *t, bool count)
{
	struct nftnl_set *ns = nftnl_set_alloc();
	struct nlmsghdr *req;
	int err;

	if (!ns)
		return -ENOMEM;
	nftnl_set_set_str(ns, NFTNL_SET_TABLE, t->name);
	req = nl_request(nl, NFT_MSG_GETSET, t->family, NLM_F_DUMP);
	nftnl_set_nlmsg_build_payload(req, ns);
	nftnl_set_free(ns);
	err = nl_talk(nl, req, set_cb, t);
	for (size_t i = 0; i < t->nsets && !err; i++) {
		t->sets[i].nelems = NFP_NELEMS_UNKNOWN;
		if (count)
			err = count_elems(nl, t, &t->sets[i]);
	}
	return err;
}

/* ---- whole read ---- */

static int read_table_contents(struct nl *nl, const struct reader_scope *scope,
			       struct nfp_table *t, char *err, size_t errlen)
{
	int ret = read_chains(nl, t, scope->chain);

	if (ret == -ENOENT && scope->chain) {
		snprintf(err, errlen, "no chain '%s' in table %s %s", scope->chain,
			 ruleset_family_name(t->family), t->name);
		return ret;
	}
	if (!ret && !scope->chain)
		ret = read_sets(nl, t, !scope->no_counts);
	for (size_t i = 0; i < t->nchains && !ret && !scope->no_rules; i++)
		ret = read_rules(nl, t, &t->chains[i]);
	if (ret)
		snprintf(err, errlen, "%s", nl_strerror(ret));
	return ret;
}

static int read_once(struct nl *nl, const struct reader_scope *scope,
		     struct nfp_ruleset *rs, char *err, size_t errlen)
{
	struct nlmsghdr *req;
	size_t keep = 0;
	int ret;

	req = nl_request(nl, NFT_MSG_GETTABLE, scope->family, NLM_F_DUMP);
	ret = nl_talk(nl, req, table_cb, rs);
	if (ret) {
		snprintf(err, errlen, "%s", nl_strerror(ret));
		return ret;
	}
	/* drop the tables out of scope before reading their contents */
	for (size_t i = 0; i < rs->ntables; i++) {
		struct nfp_table *t = &rs->tables[i];

		if ((scope->table && strcmp(t->name, scope->table) != 0) ||
		    (scope->no_trace && t->family == NFPROTO_INET &&
		     strncmp(t->name, TRACE_TABLE_PREFIX, strlen(TRACE_TABLE_PREFIX)) == 0)) {
			ruleset_table_free(t);
			continue;
		}
		rs->tables[keep++] = *t;
	}
	rs->ntables = keep;
	if (scope->table && keep == 0) {
		snprintf(err, errlen, "no table '%s'%s%s", scope->table,
			 scope->family ? " in family " : "",
			 scope->family ? ruleset_family_name(scope->family) : "");
		return -ENOENT;
	}
	for (size_t i = 0; i < rs->ntables; i++) {
		ret = read_table_contents(nl, scope, &rs->tables[i], err, errlen);
		if (ret)
			return ret;
	}
	ruleset_classify_owners(rs);
	return 0;
}

int reader_read(struct nl *nl, const struct reader_scope *scope,
		struct nfp_ruleset *rs, char *err, size_t errlen)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		uint32_t before, after;
		int ret = nl_genid(nl, &before);

		if (ret) {
			snprintf(err, errlen, "%s", nl_strerror(ret));
			return ret;
		}
		ret = read_once(nl, scope, rs, err, errlen);
		if (nl_genid(nl, &after) == 0 && before == after) {
			if (ret == 0)
				rs->genid = after;
			else
				ruleset_free(rs);
			return ret;
		}
		/* the ruleset changed during the read (an object may have
		 * vanished under a dump): read it again */
		ruleset_free(rs);
	}
	snprintf(err, errlen, "%s", nl_strerror(-EINTR));
	return -EINTR;
}

int reader_read_rules(struct nl *nl, struct nfp_ruleset *rs, char *err, size_t errlen)
{
	for (size_t i = 0; i < rs->ntables; i++) {
		struct nfp_table *t = &rs->tables[i];

		for (size_t j = 0; j < t->nchains; j++) {
			int ret = read_rules(nl, t, &t->chains[j]);

			if (ret) {
				snprintf(err, errlen, "%s", nl_strerror(ret));
				return ret;
			}
		}
	}
	ruleset_classify_owners(rs); /* rules tell iptables-nft's tables */
	return 0;
}

/* ---- from a snapshot ---- */

/* The objects of t as the kernel would send them, run through the same
 * callbacks as a dump's messages. */
int reader_from_snapshot(const struct snap_table *st, struct nfp_ruleset *rs)
{
	char *buf = malloc(NL_RECV_SIZE);
	struct nlmsghdr *nlh;
	struct nfp_table *t;
	size_t before = rs->ntables;
	int ret = -ENOMEM;

	if (!buf)
		goto out;
	ret = 0;
	if (!st->table || st->absent)
		goto out;
	ret = -ENOMEM;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWTABLE, st->family, 0, 0);
	nftnl_table_nlmsg_build_payload(nlh, st->table);
	if (table_cb(nlh, rs) != MNL_CB_OK)
		goto out;
	t = &rs->tables[rs->ntables - 1];
	for (size_t i = 0; i < st->nchains; i++) {
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWCHAIN, st->family, 0, 0);
		nftnl_chain_nlmsg_build_payload(nlh, st->chains[i]);
		if (chain_cb(nlh, t) != MNL_CB_OK)
			goto out;
	}
	for (size_t i = 0; i < st->nsets; i++) {
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSET, st->family, 0, 0);
		nftnl_set_nlmsg_build_payload(nlh, st->sets[i]);
		if (set_cb(nlh, t) != MNL_CB_OK)
			goto out;
	}
	for (size_t i = 0; i < t->nsets; i++)
		t->sets[i].nelems = NFP_NELEMS_UNKNOWN;
	for (size_t i = 0, c = 0; i < st->nrules; i++) {
		const char *chain = nftnl_rule_get_str(st->rules[i], NFTNL_RULE_CHAIN);

		/* the rules come chain by chain */
		if (c >= t->nchains || !chain || strcmp(t->chains[c].name, chain) != 0)
			for (c = 0; c < t->nchains && (!chain || strcmp(t->chains[c].name, chain));
			     c++)
				;
		if (c >= t->nchains)
			continue;
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, st->family, 0, 0);
		nftnl_rule_nlmsg_build_payload(nlh, st->rules[i]);
		if (rule_cb(nlh, &t->chains[c]) != MNL_CB_OK)
			goto out;
	}
	ruleset_classify_owners(rs);
	ret = 0;
out:
	if (ret)
		while (rs->ntables > before)
			ruleset_table_free(&rs->tables[--rs->ntables]);
	free(buf);
	return ret;
}

/* ---- counter refresh ---- */

struct refresh_ctx {
	struct nfp_chain *c;
	size_t next;
	bool changed;
};

static int refresh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct refresh_ctx *rc = data;
	struct rule_info ri;
	struct nfp_rule *r;

	if (parse_rule(nlh, &ri) < 0)
		return MNL_CB_ERROR;
	if (rc->next >= rc->c->nrules || rc->c->rules[rc->next].handle != ri.handle) {
		rc->changed = true;
		return MNL_CB_OK;
	}
	r = &rc->c->rules[rc->next++];
	r->packets = ri.packets;
	r->bytes = ri.bytes;
	return MNL_CB_OK;
}

int reader_refresh_counters(struct nl *nl, const struct nfp_table *t,
			    struct nfp_chain *c)
{
	struct refresh_ctx rc = { .c = c };
	struct nlmsghdr *req = rule_dump_request(nl, t, c, NFT_MSG_GETRULE);
	int err;

	if (!req)
		return -ENOMEM;
	err = nl_talk(nl, req, refresh_cb, &rc);
	if (err)
		return err;
	if (c->base && c->has_counters) {
		struct nfp_table tmp = { .family = t->family, .name = strdup(t->name) };

		err = tmp.name ? read_chains(nl, &tmp, c->name) : -ENOMEM;
		if (!err && tmp.nchains == 1) {
			c->packets = tmp.chains[0].packets;
			c->bytes = tmp.chains[0].bytes;
		}
		ruleset_table_free(&tmp);
		if (err)
			return err;
	}
	return rc.changed || rc.next != c->nrules;
}

/* ---- single rules, reset ---- */

/* not in the uapi headers of Debian 12; the kernel has had it since 6.4 */
#define NFP_MSG_GETRULE_RESET 25

struct one_rule {
	struct nfp_rule *r;
	bool seen;
};

static int one_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct one_rule *o = data;
	struct rule_info ri;

	if (parse_rule(nlh, &ri) < 0)
		return MNL_CB_ERROR;
	if (o->r && ri.handle == o->r->handle) {
		o->r->packets = ri.packets;
		o->r->bytes = ri.bytes;
		o->seen = true;
	}
	return MNL_CB_OK;
}

static struct nlmsghdr *rule_request(struct nl *nl, const struct nfp_table *t,
				     const char *chain, uint64_t handle, uint16_t type,
				     uint16_t flags)
{
	struct nftnl_rule *nr = nftnl_rule_alloc();
	struct nlmsghdr *req;

	if (!nr)
		return NULL;
	nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, t->name);
	if (chain)
		nftnl_rule_set_str(nr, NFTNL_RULE_CHAIN, chain);
	if (handle)
		nftnl_rule_set_u64(nr, NFTNL_RULE_HANDLE, handle);
	req = nl_request(nl, type, t->family, flags);
	nftnl_rule_nlmsg_build_payload(req, nr);
	nftnl_rule_free(nr);
	return req;
}

int reader_get_rule_counters(struct nl *nl, const struct nfp_table *t,
			     const struct nfp_chain *c, struct nfp_rule *r)
{
	struct one_rule o = { .r = r };
	struct nlmsghdr *req = rule_request(nl, t, c->name, r->handle, NFT_MSG_GETRULE,
					    NLM_F_ACK);
	int err;

	if (!req)
		return -ENOMEM;
	err = nl_talk(nl, req, one_rule_cb, &o);
	return err ? err : o.seen ? 0 : -ENOENT;
}

int reader_reset_counters(struct nl *nl, const struct nfp_table *t,
			  const char *chain, uint64_t handle)
{
	struct one_rule o = { 0 };
	struct nlmsghdr *req = rule_request(nl, t, chain, handle, NFP_MSG_GETRULE_RESET,
					    handle ? NLM_F_ACK : NLM_F_DUMP);

	if (!req)
		return -ENOMEM;
	return nl_talk(nl, req, one_rule_cb, &o);
}

/* ---- dumps in slices ---- */

int reader_dump_start(struct reader_dump *d, const struct nfp_table *t,
		      const struct nfp_chain *c, struct nfp_chain *into)
{
	struct nlmsghdr *req;
	int ret;

	reader_dump_cancel(d);
	ret = nl_open_nonblock(&d->nl);
	if (ret)
		return ret;
	into->nrules = 0;
	d->into = into;
	req = rule_dump_request(&d->nl, t, c, NFT_MSG_GETRULE);
	if (!req || mnl_socket_sendto(d->nl.sock, req, req->nlmsg_len) < 0) {
		ret = req ? -errno : -ENOMEM;
		nl_close(&d->nl);
		return ret;
	}
	d->seq = req->nlmsg_seq;
	d->active = true;
	return 0;
}

int reader_dump_fd(const struct reader_dump *d)
{
	return d->active ? mnl_socket_get_fd(d->nl.sock) : -1;
}

int reader_dump_step(struct reader_dump *d)
{
	int ret = d->active ? nl_recv_slice(&d->nl, d->seq, rule_cb, d->into) : 0;

	if (ret <= 0)
		reader_dump_cancel(d);
	return ret;
}

void reader_dump_cancel(struct reader_dump *d)
{
	if (d->active || d->nl.sock)
		nl_close(&d->nl);
	d->active = false;
}
