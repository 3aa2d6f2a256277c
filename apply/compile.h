/* compile: rule text to its exact netlink form with the real nft grammar
 * (libnftables), without touching the live ruleset. A scratch namespace
 * (apply/scratch.h), new and empty, restores the skeleton of the table (chains,
 * named sets, objects: no rules, no elements), runs the preparatory
 * commands (chains the changeset creates), adds each rule there, and sends
 * back their dump: rules, the anonymous sets they use, and the chains
 * and sets created. Elements are compiled the same way: `add element` into the
 * (empty) copy of their set, read back, the set flushed for the next. Rules
 * of an iptables-nft table are compiled by iptables-nft (compile_syntax).
 * The live batch is then built from these objects, so that it can
 * carry the generation the edits were staged against (nft/batch.h). */
#ifndef NFP_COMPILE_H
#define NFP_COMPILE_H

#include "apply/scratch.h"
#include "nft/snapshot.h"

#include <stdbool.h>
#include <stdio.h>

struct nftnl_rule;
struct nftnl_set;
struct nftnl_chain;

/* The language of an item's rule text */
enum compile_syntax {
	SYNTAX_NFT,       /* nft's, compiled by libnftables */
	SYNTAX_IPTABLES,  /* iptables' (an iptables-nft table): compiled by
			   * iptables-nft (nft/xtables.h) */
	SYNTAX_NFT_XT,    /* nft's in an iptables-nft table: refused unless
			   * iptables-save reads it back as the same rule (the
			   * line it prints, compiled by iptables-nft, gives the
			   * same expressions but counters, the same comment) */
};

struct compile_item {
	const char *chain;   /* chain of the table the rule goes to ... */
	const char *text;    /* nft rule text; or elements: "a, b timeout 1h" */
	const char *set;     /* ... or NULL: text is elements of this set */
	bool key_only;       /* elements as keys of a copy of the set without
			      * data, timeouts or statements (a lookup) */
	enum compile_syntax syntax; /* a rule's */
};

struct compiled {
	struct nftnl_rule **rules;   /* rules[i] for items[i] */
	struct nftnl_set **elems;    /* elems[i]: the elements of items[i] (a set
				      * item), in the kernel's form */
	size_t nrules;
	struct nftnl_set **sets;     /* anonymous sets the rules refer to */
	size_t nsets, sets_cap;
	struct nftnl_chain **chains; /* chains made by the preparatory commands */
	size_t nchains, chains_cap;
	struct nftnl_set **newsets;  /* sets made by them, with their elements */
	size_t nnewsets, newsets_cap;
	int failed;                  /* index of the item nft refused, or -1;
				      * -2 - k: preparatory command k */
	char err[512];               /* nft's message for it */
};

/* Compile items for table t (its snapshot, taken by the caller) after the
 * nft commands pre[0..npre) (e.g. "add chain inet web new"). 0, or -errno
 * with out->failed and out->err telling which text nft refused and why. */
int compile_rules(const struct snap_table *t, const char *const *pre, size_t npre,
		  const struct compile_item *items, size_t nitems, struct compiled *out);
void compiled_free(struct compiled *c);

/* One set's elements compiled one text at a time, in a scratch namespace
 * made once and kept (a session of the work "set", apply/scratch.h):
 * the set screen makes it when a set opens, and its search (each address
 * it is given, as a key) and its staged rows (each staged edit's
 * elements) pay only libnftables' compiling of that text. */
struct compile_set {
	struct scratch_proc p;
	struct compile_item item;  /* the set's; key_only per request */
	char set[256];
};
/* Start it for set `set` of table t (its skeleton snapshot). Not waited
 * for: the first compile_set_elems waits until it is ready. 0 or -errno
 * with err. */
int compile_set_start(struct compile_set *k, const struct snap_table *t, const char *set,
		      char *err, size_t errlen);
/* text (elements as between braces) compiled into a copy of the set, or
 * with key_only as keys of a copy without data, timeouts or statements
 * (a lookup): *elems in the kernel's form (the caller frees it). 0;
 * -EINVAL with nft's message in err; -EPIPE when the work is gone;
 * -errno. */
int compile_set_elems(struct compile_set *k, const char *text, bool key_only,
		      struct nftnl_set **elems, char *err, size_t errlen);
/* Its work ended; k may be started again. Safe on a k never started
 * (zeroed). */
void compile_set_stop(struct compile_set *k);

/* The scratch works "compile" and "set" (apply/scratch.h), on their
 * input in. */
int compile_scratch(FILE *in);
int compile_scratch_set(FILE *in);

/* The base chain iptables-nft makes at the first rule of chain in its
 * table (family ip or ip6; `iptables -A FORWARD` makes table filter and
 * its chain FORWARD when they are not there), as iptables-nft itself makes
 * it in a scratch namespace: its spec into spec as nft takes it ("type
 * filter hook forward priority 0; policy accept;"). 0; -ENOENT when
 * iptables has no such built-in chain (err its words); -errno. */
int compile_builtin_chain(uint32_t family, const char *table, const char *chain, char *spec,
			  size_t speclen, char *err, size_t errlen);
/* The scratch work "builtin", on its input in. */
int compile_scratch_builtin(FILE *in);

#endif
