/* ruleset: what the firewall IS — tables, chains, rules and sets as read
 * from the kernel, plus pure functions on them (lookup, diff). Owns every
 * string and array hanging off a struct nfp_ruleset; ruleset_free() releases
 * them all. Filled by nft/reader.c (libnftnl) and nft/ruletext.c
 * (libnftables text); knows nothing of netlink itself. */
#ifndef NFP_RULESET_H
#define NFP_RULESET_H

#include "model/rate.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* who manages a table: changes to a non-native table need care */
enum nfp_owner {
	NFP_OWNER_NATIVE,   /* plain nftables */
	NFP_OWNER_IPTABLES, /* written by iptables-nft (xtables tables) */
	NFP_OWNER_OTHER,    /* another program: owner flag, firewalld, kube-proxy */
};

#define NFP_POLICY_NONE (-1) /* regular chain: no policy */

struct nfp_rule {
	uint64_t handle;
	uint32_t position;   /* 1-based, evaluation order in the chain */
	bool has_counter;    /* an anonymous counter statement is present */
	bool compat;         /* uses xtables match/target expressions */
	bool nft_only;       /* has an expression iptables-nft never writes for
			      * iptables (a set lookup, ct, a native nat, reject
			      * or log, ...): iptables cannot show it as it is */
	uint64_t packets, bytes;
	char *comment;       /* as the kernel holds it (unsanitised), or NULL */
	char *text;          /* libnftables text (stateless), or NULL if unknown */
	char *target;        /* the chain it jumps to or goes to, or NULL */
	char *xt_text;       /* iptables-nft's tables: the "-A CHAIN ..." line
			      * iptables-save prints for it, or NULL */
	struct nfp_rate rate; /* live view: rates from successive readings */
};

struct nfp_chain {
	char *name;
	uint64_t handle;
	bool base;           /* has a hook */
	bool binding;        /* a chain binding (`jump { ... }`): anonymous, part of
			      * the rule that jumps to it, shown inside its text */
	bool iptables;       /* looks made by iptables-nft: a built-in chain of an
			      * xtables table (ruleset_classify_owners), or xt rules */
	char *type;          /* "filter", "nat", "route" (base chains) */
	uint32_t hooknum;
	int32_t prio;
	int policy;          /* NF_ACCEPT, NF_DROP or NFP_POLICY_NONE */
	char *dev;           /* netdev/ingress device, or NULL */
	bool has_counters;   /* the kernel keeps policy counters for it */
	uint64_t packets, bytes;
	size_t nrules, rules_cap;
	struct nfp_rule *rules;
	bool rules_loaded;   /* rules[] holds the chain's rules (live view) */
	bool text_loaded;    /* ... and their text */
};

struct nfp_set {
	char *name;
	uint64_t handle;
	uint32_t flags;      /* NFT_SET_* */
	bool is_map;
	char *key_type;      /* "ipv4_addr . inet_service", from the text, or NULL */
	uint32_t nelems;     /* NFP_NELEMS_UNKNOWN: not counted (yet) */
};

#define NFP_NELEMS_UNKNOWN UINT32_MAX

struct nfp_table {
	uint32_t family;     /* NFPROTO_* */
	char *name;
	uint64_t handle;
	uint32_t flags;      /* NFT_TABLE_F_* */
	uint32_t owner_pid;  /* for NFT_TABLE_F_OWNER, else 0 */
	enum nfp_owner owner;
	const char *owner_name; /* "iptables-nft", "firewalld", ...: static */
	bool mixed;          /* iptables-nft's chains next to native base chains
			      * (owner native), or rules of nft's own in
			      * iptables-nft's chains (owner iptables) */
	size_t nchains, chains_cap;
	struct nfp_chain *chains;
	size_t nsets, sets_cap;
	struct nfp_set *sets;
};

struct nfp_ruleset {
	uint32_t genid;      /* generation the whole read saw */
	size_t ntables, tables_cap;
	struct nfp_table *tables;
};

void ruleset_free(struct nfp_ruleset *rs);
void ruleset_table_free(struct nfp_table *t); /* contents; not t itself */
void ruleset_rule_free(struct nfp_rule *r);   /* its strings; not r itself */

/* Growable-array appends: return the new zeroed element, or NULL on ENOMEM. */
struct nfp_table *ruleset_add_table(struct nfp_ruleset *rs);
struct nfp_chain *ruleset_add_chain(struct nfp_table *t);
struct nfp_rule *ruleset_add_rule(struct nfp_chain *c);
struct nfp_set *ruleset_add_set(struct nfp_table *t);

/* Lookups by name; family 0 (NFPROTO_UNSPEC) in find_table matches any. */
struct nfp_table *ruleset_find_table(const struct nfp_ruleset *rs,
				     uint32_t family, const char *name);
struct nfp_chain *ruleset_find_chain(const struct nfp_table *t, const char *name);
struct nfp_rule *ruleset_find_rule(const struct nfp_chain *c, uint64_t handle);
/* The chain whose rule *pos (1-based) jumps to chain name (a binding's
 * parent), or NULL. */
const struct nfp_chain *ruleset_binding_parent(const struct nfp_table *t, const char *name,
					       size_t *pos);

/* A chain's rules sorted by handle, for O(log n) lookups in long chains:
 * build (NULL on ENOMEM; free() it), then find a rule's position (-1 if
 * absent). Valid while the chain's rules do not change. */
struct nfp_rule_index {
	uint64_t handle;
	size_t pos;
};
struct nfp_rule_index *ruleset_index_rules(const struct nfp_chain *c);
long ruleset_index_find(const struct nfp_rule_index *ix, size_t n, uint64_t handle);

/* Names for numbers: "ip", "ip6", "inet", "arp", "bridge", "netdev";
 * hook names depend on the family. Return NULL when unknown. */
const char *ruleset_family_name(uint32_t family);
int ruleset_family_parse(const char *name, uint32_t *family);
const char *ruleset_hook_name(uint32_t family, uint32_t hooknum);
const char *ruleset_policy_name(int policy);

/* Classify every table's owner from its flags, name and contents, its
 * chains' iptables flag and whether it is mixed. Call after reading, and
 * for one table after its rules changed. */
void ruleset_classify_owners(struct nfp_ruleset *rs);
void ruleset_classify_table(struct nfp_table *t);
/* What a mixed table is, in words, into buf ("" when it is not mixed):
 * which chains are iptables-nft's, or how many rules of nft's own its
 * chains hold, and what iptables then shows. Names as the kernel has
 * them: sanitise before output. */
void ruleset_mixed_words(const struct nfp_table *t, char *buf, size_t size);
/* Does chain c of t (NULL: one not made yet) take iptables syntax: every
 * chain of iptables-nft's tables, and iptables-nft's chains of a mixed
 * table (the native ones take nft's)? */
bool ruleset_chain_iptables(const struct nfp_table *t, const struct nfp_chain *c);

/* Diff of two snapshots, by identity (family, table, chain name, rule
 * handle). Counters are ignored: a diff says what changed in structure. */
enum nfp_diff_kind {
	NFP_DIFF_TABLE_ADDED, NFP_DIFF_TABLE_REMOVED,
	NFP_DIFF_CHAIN_ADDED, NFP_DIFF_CHAIN_REMOVED, NFP_DIFF_CHAIN_CHANGED,
	NFP_DIFF_RULE_ADDED, NFP_DIFF_RULE_REMOVED, NFP_DIFF_RULE_CHANGED,
	NFP_DIFF_RULE_MOVED,
	NFP_DIFF_SET_ADDED, NFP_DIFF_SET_REMOVED, NFP_DIFF_SET_CHANGED,
};

struct nfp_diff_entry {
	enum nfp_diff_kind kind;
	uint32_t family;
	const char *table;   /* points into the snapshots: valid while both live */
	const char *chain;   /* or set name; NULL for table entries */
	uint64_t handle;     /* rule entries */
};

struct nfp_diff {
	size_t n, cap;
	struct nfp_diff_entry *e;
};

/* Fill d (zero-initialised by the caller) with what changed from a to b.
 * Returns 0 or -ENOMEM. */
int ruleset_diff(const struct nfp_ruleset *a, const struct nfp_ruleset *b,
		 struct nfp_diff *d);
void ruleset_diff_free(struct nfp_diff *d);
const char *ruleset_diff_kind_name(enum nfp_diff_kind k);

#endif
