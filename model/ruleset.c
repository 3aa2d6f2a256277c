#include "model/ruleset.h"
#include "util/grow.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nfp_table *ruleset_add_table(struct nfp_ruleset *rs)
{
	return grow_slot(&rs->tables, &rs->ntables, &rs->tables_cap, sizeof(*rs->tables), 8);
}

struct nfp_chain *ruleset_add_chain(struct nfp_table *t)
{
	struct nfp_chain *c = grow_slot(&t->chains, &t->nchains, &t->chains_cap,
					sizeof(*t->chains), 8);
	if (c)
		c->policy = NFP_POLICY_NONE;
	return c;
}

struct nfp_rule *ruleset_add_rule(struct nfp_chain *c)
{
	struct nfp_rule *r = grow_slot(&c->rules, &c->nrules, &c->rules_cap,
				       sizeof(*c->rules), 8);
	if (r)
		r->position = c->nrules;
	return r;
}

struct nfp_set *ruleset_add_set(struct nfp_table *t)
{
	return grow_slot(&t->sets, &t->nsets, &t->sets_cap, sizeof(*t->sets), 8);
}

void ruleset_rule_free(struct nfp_rule *r)
{
	free(r->comment);
	free(r->text);
	free(r->target);
	free(r->xt_text);
	r->comment = r->text = r->target = r->xt_text = NULL;
}

static void chain_free(struct nfp_chain *c)
{
	for (size_t i = 0; i < c->nrules; i++)
		ruleset_rule_free(&c->rules[i]);
	free(c->rules);
	free(c->name);
	free(c->type);
	free(c->dev);
}

void ruleset_table_free(struct nfp_table *t)
{
	for (size_t j = 0; j < t->nchains; j++)
		chain_free(&t->chains[j]);
	for (size_t j = 0; j < t->nsets; j++) {
		free(t->sets[j].name);
		free(t->sets[j].key_type);
	}
	free(t->chains);
	free(t->sets);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

void ruleset_free(struct nfp_ruleset *rs)
{
	for (size_t i = 0; i < rs->ntables; i++)
		ruleset_table_free(&rs->tables[i]);
	free(rs->tables);
	memset(rs, 0, sizeof(*rs));
}

struct nfp_table *ruleset_find_table(const struct nfp_ruleset *rs,
				     uint32_t family, const char *name)
{
	for (size_t i = 0; i < rs->ntables; i++) {
		struct nfp_table *t = &rs->tables[i];

		if ((family == NFPROTO_UNSPEC || t->family == family) &&
		    strcmp(t->name, name) == 0)
			return t;
	}
	return NULL;
}

struct nfp_chain *ruleset_find_chain(const struct nfp_table *t, const char *name)
{
	for (size_t i = 0; i < t->nchains; i++)
		if (strcmp(t->chains[i].name, name) == 0)
			return &t->chains[i];
	return NULL;
}

const struct nfp_chain *ruleset_binding_parent(const struct nfp_table *t, const char *name,
					       size_t *pos)
{
	for (size_t i = 0; i < t->nchains; i++)
		for (size_t k = 0; k < t->chains[i].nrules; k++)
			if (t->chains[i].rules[k].target &&
			    strcmp(t->chains[i].rules[k].target, name) == 0) {
				*pos = k + 1;
				return &t->chains[i];
			}
	return NULL;
}

struct nfp_rule *ruleset_find_rule(const struct nfp_chain *c, uint64_t handle)
{
	for (size_t i = 0; i < c->nrules; i++)
		if (c->rules[i].handle == handle)
			return &c->rules[i];
	return NULL;
}

static struct nfp_set *find_set(const struct nfp_table *t, const char *name)
{
	for (size_t i = 0; i < t->nsets; i++)
		if (strcmp(t->sets[i].name, name) == 0)
			return &t->sets[i];
	return NULL;
}

static const struct {
	uint32_t family;
	const char *name;
} families[] = {
	{ NFPROTO_IPV4, "ip" },     { NFPROTO_IPV6, "ip6" },
	{ NFPROTO_INET, "inet" },   { NFPROTO_ARP, "arp" },
	{ NFPROTO_BRIDGE, "bridge" }, { NFPROTO_NETDEV, "netdev" },
};

const char *ruleset_family_name(uint32_t family)
{
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (families[i].family == family)
			return families[i].name;
	return NULL;
}

int ruleset_family_parse(const char *name, uint32_t *family)
{
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (strcmp(families[i].name, name) == 0) {
			*family = families[i].family;
			return 0;
		}
	return -EINVAL;
}

const char *ruleset_hook_name(uint32_t family, uint32_t hooknum)
{
	static const char *const ip_hooks[] = { "prerouting", "input", "forward",
						"output", "postrouting" };
	static const char *const arp_hooks[] = { "input", "output", "forward" };
	static const char *const netdev_hooks[] = { "ingress", "egress" };

	switch (family) {
	case NFPROTO_ARP:
		return hooknum < 3 ? arp_hooks[hooknum] : NULL;
	case NFPROTO_NETDEV:
		return hooknum < 2 ? netdev_hooks[hooknum] : NULL;
	case NFPROTO_INET:
		if (hooknum == NF_INET_INGRESS)
			return "ingress";
		/* fall through */
	default:
		return hooknum < 5 ? ip_hooks[hooknum] : NULL;
	}
}

const char *ruleset_policy_name(int policy)
{
	switch (policy) {
	case NF_ACCEPT:
		return "accept";
	case NF_DROP:
		return "drop";
	default:
		return NULL;
	}
}

/* The tables and built-in chains iptables-nft creates. A chain counts as
 * iptables-nft's when it is one of these built-in chains of one of these
 * tables in an xtables family, or holds an xt match/target. A table is
 * iptables-nft's when it has such chains and no other base chain; with
 * other base chains too, or rules of nft's own in iptables-nft's chains,
 * it is mixed. */
static bool is_xtables_family(uint32_t f)
{
	return f == NFPROTO_IPV4 || f == NFPROTO_IPV6 || f == NFPROTO_ARP ||
	       f == NFPROTO_BRIDGE;
}

static bool name_in(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(name, *list) == 0)
			return true;
	return false;
}

static bool chain_looks_iptables(const struct nfp_chain *c, bool xt_table)
{
	static const char *const builtins[] = { "INPUT", "OUTPUT", "FORWARD",
						"PREROUTING", "POSTROUTING",
						"BROUTING", NULL };

	if (xt_table && c->base && name_in(c->name, builtins))
		return true;
	for (size_t j = 0; j < c->nrules; j++)
		if (c->rules[j].compat)
			return true;
	return false;
}

void ruleset_classify_table(struct nfp_table *t)
{
	static const char *const tables[] = { "filter", "nat", "mangle", "raw",
					      "security", "broute", NULL };
	static const char *const others[] = { "firewalld", "kube-proxy", NULL };
	bool xt_table = is_xtables_family(t->family) && name_in(t->name, tables);
	size_t ipt = 0, native = 0;
	bool nft_only = false;

	for (size_t i = 0; i < t->nchains; i++) {
		struct nfp_chain *c = &t->chains[i];

		c->iptables = xt_table && chain_looks_iptables(c, xt_table);
		if (c->iptables) {
			ipt++;
			for (size_t j = 0; j < c->nrules; j++)
				nft_only |= c->rules[j].nft_only;
		} else if (c->base) {
			native++;
		}
	}
	t->owner = NFP_OWNER_NATIVE;
	t->owner_name = NULL;
	t->mixed = ipt && (native || nft_only);
	if (ipt && !native) {
		t->owner = NFP_OWNER_IPTABLES;
		t->owner_name = "iptables-nft";
	} else if (name_in(t->name, others)) {
		t->owner = NFP_OWNER_OTHER;
		t->owner_name = strcmp(t->name, "firewalld") == 0 ? "firewalld" : "kube-proxy";
	} else if (t->flags & NFT_TABLE_F_OWNER) {
		t->owner = NFP_OWNER_OTHER;
		t->owner_name = "owner process";
	}
}

void ruleset_mixed_words(const struct nfp_table *t, char *buf, size_t size)
{
	size_t n = 0, rules = 0;
	int len;

	buf[0] = 0;
	if (!t->mixed)
		return;
	if (t->owner == NFP_OWNER_IPTABLES) {
		for (size_t i = 0; i < t->nchains; i++)
			for (size_t j = 0; t->chains[i].iptables && j < t->chains[i].nrules; j++)
				rules += t->chains[i].rules[j].nft_only;
		snprintf(buf, size, "mixed: %zu rule%s of nft's own in iptables-nft's chains: "
			 "iptables -S and iptables-save cannot show %s as %s", rules,
			 rules == 1 ? "" : "s", rules == 1 ? "it" : "them",
			 rules == 1 ? "it is" : "they are");
		return;
	}
	len = snprintf(buf, size, "mixed: iptables-nft's chains");
	for (size_t i = 0; i < t->nchains && len > 0 && (size_t)len < size; i++)
		if (t->chains[i].iptables)
			len += snprintf(buf + len, size - (size_t)len, "%s %s", n++ ? "," : "",
					t->chains[i].name);
	if (len > 0 && (size_t)len < size)
		snprintf(buf + len, size - (size_t)len, " next to native base chains: iptables "
			 "lists and saves only its own, nft all of them");
}

bool ruleset_chain_iptables(const struct nfp_table *t, const struct nfp_chain *c)
{
	return t->owner == NFP_OWNER_IPTABLES || (c && c->iptables);
}

void ruleset_classify_owners(struct nfp_ruleset *rs)
{
	for (size_t i = 0; i < rs->ntables; i++)
		ruleset_classify_table(&rs->tables[i]);
}

/* ---- diff ---- */

static int diff_add(struct nfp_diff *d, enum nfp_diff_kind kind, uint32_t family,
		    const char *table, const char *chain, uint64_t handle)
{
	struct nfp_diff_entry *e = grow_slot(&d->e, &d->n, &d->cap, sizeof(*d->e), 8);

	if (!e)
		return -ENOMEM;
	*e = (struct nfp_diff_entry){ kind, family, table, chain, handle };
	return 0;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool chain_header_eq(const struct nfp_chain *a, const struct nfp_chain *b)
{
	return a->base == b->base && str_eq(a->type, b->type) &&
	       a->hooknum == b->hooknum && a->prio == b->prio &&
	       a->policy == b->policy && str_eq(a->dev, b->dev);
}

static int cmp_handle(const void *a, const void *b)
{
	const struct nfp_rule_index *x = a, *y = b;

	return x->handle < y->handle ? -1 : x->handle > y->handle;
}

struct nfp_rule_index *ruleset_index_rules(const struct nfp_chain *c)
{
	struct nfp_rule_index *ix = malloc((c->nrules + 1) * sizeof(*ix));

	if (!ix)
		return NULL;
	for (size_t i = 0; i < c->nrules; i++)
		ix[i] = (struct nfp_rule_index){ c->rules[i].handle, i };
	qsort(ix, c->nrules, sizeof(*ix), cmp_handle);
	return ix;
}

long ruleset_index_find(const struct nfp_rule_index *ix, size_t n, uint64_t handle)
{
	struct nfp_rule_index key = { handle, 0 };
	const struct nfp_rule_index *hit = bsearch(&key, ix, n, sizeof(*ix), cmp_handle);

	return hit ? (long)hit->pos : -1;
}

/* Mark in keep[] the members of one longest increasing subsequence of
 * seq[0..n) (patience sorting, O(n log n)). The shared rules outside it are
 * the fewest that must have moved to turn one order into the other. */
static int mark_lis(const long *seq, size_t n, bool *keep)
{
	size_t *tail = malloc((n + 1) * sizeof(*tail));
	size_t *prev = malloc((n + 1) * sizeof(*prev));
	size_t len = 0;

	if (!tail || !prev) {
		free(tail);
		free(prev);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		size_t lo = 0, hi = len;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (seq[tail[mid]] < seq[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		prev[i] = lo ? tail[lo - 1] : SIZE_MAX;
		tail[lo] = i;
		if (lo == len)
			len++;
	}
	for (size_t i = len ? tail[len - 1] : SIZE_MAX; i != SIZE_MAX; i = prev[i])
		keep[i] = true;
	free(tail);
	free(prev);
	return 0;
}

/* Rules of one chain present in both: changed when text or comment differ,
 * moved when outside the longest run that kept its relative order (so an
 * insertion above a rule does not count as moving it). */
static int diff_rules(const struct nfp_table *ta, const struct nfp_chain *ca,
		      const struct nfp_chain *cb, struct nfp_diff *d)
{
	struct nfp_rule_index *ia = ruleset_index_rules(ca), *ib = ruleset_index_rules(cb);
	long *seq = malloc((cb->nrules + 1) * sizeof(*seq));
	size_t *seq_rule = malloc((cb->nrules + 1) * sizeof(*seq_rule));
	bool *keep = calloc(cb->nrules + 1, sizeof(*keep));
	size_t nseq = 0;
	int err = 0;

	if (!ia || !ib || !seq || !seq_rule || !keep) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ca->nrules && !err; i++)
		if (ruleset_index_find(ib, cb->nrules, ca->rules[i].handle) < 0)
			err = diff_add(d, NFP_DIFF_RULE_REMOVED, ta->family, ta->name,
				       ca->name, ca->rules[i].handle);
	for (size_t i = 0; i < cb->nrules && !err; i++) {
		const struct nfp_rule *rb = &cb->rules[i];
		long pa = ruleset_index_find(ia, ca->nrules, rb->handle);

		if (pa < 0) {
			err = diff_add(d, NFP_DIFF_RULE_ADDED, ta->family, ta->name,
				       cb->name, rb->handle);
			continue;
		}
		if (!str_eq(ca->rules[pa].text, rb->text) ||
		    !str_eq(ca->rules[pa].comment, rb->comment))
			err = diff_add(d, NFP_DIFF_RULE_CHANGED, ta->family, ta->name,
				       cb->name, rb->handle);
		seq[nseq] = pa;
		seq_rule[nseq++] = i;
	}
	if (!err)
		err = mark_lis(seq, nseq, keep);
	for (size_t k = 0; k < nseq && !err; k++)
		if (!keep[k])
			err = diff_add(d, NFP_DIFF_RULE_MOVED, ta->family, ta->name,
				       cb->name, cb->rules[seq_rule[k]].handle);
out:
	free(ia);
	free(ib);
	free(seq);
	free(seq_rule);
	free(keep);
	return err;
}

static int diff_table(const struct nfp_table *ta, const struct nfp_table *tb,
		      struct nfp_diff *d)
{
	int err = 0;

	for (size_t i = 0; i < ta->nchains && !err; i++)
		if (!ruleset_find_chain(tb, ta->chains[i].name))
			err = diff_add(d, NFP_DIFF_CHAIN_REMOVED, ta->family, ta->name,
				       ta->chains[i].name, 0);
	for (size_t i = 0; i < tb->nchains && !err; i++) {
		const struct nfp_chain *cb = &tb->chains[i];
		const struct nfp_chain *ca = ruleset_find_chain(ta, cb->name);

		if (!ca) {
			err = diff_add(d, NFP_DIFF_CHAIN_ADDED, tb->family, tb->name,
				       cb->name, 0);
			continue;
		}
		if (!chain_header_eq(ca, cb))
			err = diff_add(d, NFP_DIFF_CHAIN_CHANGED, tb->family, tb->name,
				       cb->name, 0);
		if (!err)
			err = diff_rules(ta, ca, cb, d);
	}
	for (size_t i = 0; i < ta->nsets && !err; i++)
		if (!find_set(tb, ta->sets[i].name))
			err = diff_add(d, NFP_DIFF_SET_REMOVED, ta->family, ta->name,
				       ta->sets[i].name, 0);
	for (size_t i = 0; i < tb->nsets && !err; i++) {
		const struct nfp_set *sb = &tb->sets[i];
		const struct nfp_set *sa = find_set(ta, sb->name);

		if (!sa)
			err = diff_add(d, NFP_DIFF_SET_ADDED, tb->family, tb->name,
				       sb->name, 0);
		else if (sa->flags != sb->flags || sa->nelems != sb->nelems ||
			 !str_eq(sa->key_type, sb->key_type))
			err = diff_add(d, NFP_DIFF_SET_CHANGED, tb->family, tb->name,
				       sb->name, 0);
	}
	return err;
}

int ruleset_diff(const struct nfp_ruleset *a, const struct nfp_ruleset *b,
		 struct nfp_diff *d)
{
	int err = 0;

	for (size_t i = 0; i < a->ntables && !err; i++) {
		const struct nfp_table *ta = &a->tables[i];

		if (!ruleset_find_table(b, ta->family, ta->name))
			err = diff_add(d, NFP_DIFF_TABLE_REMOVED, ta->family, ta->name,
				       NULL, 0);
	}
	for (size_t i = 0; i < b->ntables && !err; i++) {
		const struct nfp_table *tb = &b->tables[i];
		const struct nfp_table *ta = ruleset_find_table(a, tb->family, tb->name);

		if (!ta)
			err = diff_add(d, NFP_DIFF_TABLE_ADDED, tb->family, tb->name,
				       NULL, 0);
		else
			err = diff_table(ta, tb, d);
	}
	return err;
}

void ruleset_diff_free(struct nfp_diff *d)
{
	free(d->e);
	memset(d, 0, sizeof(*d));
}

const char *ruleset_diff_kind_name(enum nfp_diff_kind k)
{
	static const char *const names[] = {
		[NFP_DIFF_TABLE_ADDED] = "table added",
		[NFP_DIFF_TABLE_REMOVED] = "table removed",
		[NFP_DIFF_CHAIN_ADDED] = "chain added",
		[NFP_DIFF_CHAIN_REMOVED] = "chain removed",
		[NFP_DIFF_CHAIN_CHANGED] = "chain changed",
		[NFP_DIFF_RULE_ADDED] = "rule added",
		[NFP_DIFF_RULE_REMOVED] = "rule removed",
		[NFP_DIFF_RULE_CHANGED] = "rule changed",
		[NFP_DIFF_RULE_MOVED] = "rule moved",
		[NFP_DIFF_SET_ADDED] = "set added",
		[NFP_DIFF_SET_REMOVED] = "set removed",
		[NFP_DIFF_SET_CHANGED] = "set changed",
	};
	return names[k];
}
