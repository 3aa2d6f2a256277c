/* reader: fills a struct nfp_ruleset from the kernel with libnftnl dumps —
 * tables, chains, sets (with element counts), rules (handle, counter,
 * comment, compat) — and refreshes one chain's counters. Rule text is not
 * read here: see ruletext.h. Rules are dumped one chain at a time (table and
 * chain in the request): the kernel's full rule dump is quadratic. */
#ifndef NFP_READER_H
#define NFP_READER_H

#include "nft/nl.h"
#include "model/ruleset.h"

#include <stdbool.h>

/* What to read; zeroed = everything. */
struct reader_scope {
	uint32_t family;     /* 0 = any */
	const char *table;   /* NULL = all tables */
	const char *chain;   /* NULL = all chains (needs table) */
	bool no_rules;       /* structure only: tables, chains, sets */
	bool no_counts;      /* sets' elements not counted (a dump of them each:
			      * 1M take tens of seconds): NFP_NELEMS_UNKNOWN */
	bool no_trace;       /* without nfpilot's tracing tables (nft/trace.h) */
};

/* Read into rs (zeroed by the caller). The generation id is read before
 * and after; if it moved, the read is repeated (a few times at most), so the
 * result is one consistent generation. 0 or -errno with err filled; an
 * unknown table or chain in scope is -ENOENT. */
int reader_read(struct nl *nl, const struct reader_scope *scope,
		struct nfp_ruleset *rs, char *err, size_t errlen);

/* Read the rules of every chain already in rs (read with no_rules). Does
 * not check the generation: the caller compares nl_genid() with rs->genid
 * afterwards. 0 or -errno with err filled. */
int reader_read_rules(struct nl *nl, struct nfp_ruleset *rs, char *err, size_t errlen);

/* A table of a snapshot (nft/snapshot.h) added to rs as if read from the
 * kernel (no rule text, sets' elements not counted): a copy read once
 * needs no second dump. 0 (an absent table adds nothing), or -ENOMEM (rs
 * as it was). */
struct snap_table;
int reader_from_snapshot(const struct snap_table *t, struct nfp_ruleset *rs);

/* Re-read only the counters of one chain's rules (and the chain's policy
 * counters). Returns 1 if the chain's rules are no longer the same handles
 * in the same order (the caller should re-read it), 0 if counters were
 * updated, -errno on error. */
int reader_refresh_counters(struct nl *nl, const struct nfp_table *t,
			    struct nfp_chain *c);

/* Re-read the counters of one rule by handle (a GET, not a dump: the
 * kernel walks the chain up to it, so this suits a screenful of rules in a
 * chain too long to dump on every tick). -ENOENT if it is gone. */
int reader_get_rule_counters(struct nl *nl, const struct nfp_table *t,
			     const struct nfp_chain *c, struct nfp_rule *r);

/* Zero rule counters (NFT_MSG_GETRULE_RESET): one rule (handle != 0), every
 * rule of a chain (chain != NULL), or of the whole table. 0 or -errno. */
int reader_reset_counters(struct nl *nl, const struct nfp_table *t,
			  const char *chain, uint64_t handle);

/* A rule dump of one chain consumed in slices, so that a long chain loads
 * while the screen keeps answering keys: poll reader_dump_fd() and call
 * reader_dump_step() when it is readable. */
struct reader_dump {
	struct nl nl;
	uint32_t seq;
	bool active;
	struct nfp_chain *into; /* receives the rules, appended in order */
};

/* Start dumping t/c's rules into *into (emptied first). 0 or -errno. */
int reader_dump_start(struct reader_dump *d, const struct nfp_table *t,
		      const struct nfp_chain *c, struct nfp_chain *into);
int reader_dump_fd(const struct reader_dump *d);
/* One slice: 1 = more to come, 0 = complete, -errno = failed. */
int reader_dump_step(struct reader_dump *d);
/* Abandon a running dump (its socket is closed). */
void reader_dump_cancel(struct reader_dump *d);

#endif
