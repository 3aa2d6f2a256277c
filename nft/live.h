/* live: the ruleset as the live view sees it — structure read at once,
 * rules loaded chain by chain in slices (the chain on screen first), rule
 * text filled in by a libnftables worker, counters and rates refreshed for
 * what is on screen, external changes followed through the nftables monitor
 * group and the generation id. Owns the ruleset it exposes; no drawing. */
#ifndef NFP_LIVE_H
#define NFP_LIVE_H

#include "nft/reader.h"
#include "model/ruleset.h"
#include "nft/ruletext.h"
#include "nft/setread.h"

#include <poll.h>
#include <stdbool.h>

/* A chain by position in rs; positions change only in live_step() when it
 * returns LIVE_RELOADED, so the UI re-finds its selection then. */
struct live_ref {
	size_t t, c;
};

enum {
	LIVE_CHANGED = 1,   /* data on screen may differ: redraw */
	LIVE_RELOADED = 2,  /* structure re-read: positions may have moved */
};

struct live {
	struct nl nl;
	struct nfp_ruleset rs;
	bool numeric;
	struct mnl_socket *mon;     /* nftables monitor group, or NULL */
	bool dirty;                 /* a change was announced: reload */
	struct live_ref focus;      /* the chain on screen */
	bool has_focus;
	/* the rule dump in progress, into a scratch chain */
	struct reader_dump dump;
	struct live_ref dump_ref;
	struct nfp_chain scratch;
	/* the text worker */
	struct ruletext_job text;
	bool text_running;
	bool text_stale;            /* the structure was re-read meanwhile */
	int text_pipe[2];           /* the worker writes a byte when done */
	struct live_ref *text_refs; /* chains the running job lists */
	size_t ntext_refs;
	/* the sets' elements counted in the background, one set at a time
	 * (the structure is read without: a 1M set's dump takes tens of s) */
	struct setread counter;
	size_t count_t, count_s;    /* the set being counted */
	/* counters to refresh one GET at a time (long chains) */
	uint64_t *pending;
	size_t npending, pending_cap;
	double pending_when;
	size_t pending_hint;        /* where the last one was found */
	double round_cpu;           /* CPU (kernel's walks included) of this round */
	double counters_next;       /* no new round before (monotonic s) */
	double counters_every;      /* > 0: rounds stretched to this (far rules) */
	double last_tick, tick_every; /* the refresh as the caller ticks it */
	char err[256];              /* last background error, for the UI */
};

/* Read the structure and start loading. 0 or -errno with err filled. */
int live_open(struct live *l, bool numeric, char *err, size_t errlen);
void live_close(struct live *l);

/* The chain on screen: its rules load first and its counters refresh. */
void live_focus(struct live *l, struct live_ref ref);

/* Rules to show for a chain: its loaded rules, or those of the dump that
 * is loading it. *loading tells whether more are coming. */
const struct nfp_rule *live_rules(const struct live *l, struct live_ref ref, size_t *n,
				  bool *loading);

/* File descriptors to poll (at most 4); returns how many. */
int live_pollfds(const struct live *l, struct pollfd *pfd);
/* Whether work is pending that needs no fd (poll with timeout 0); and
 * whether any is under way at all (a set being counted, too). */
bool live_busy(const struct live *l);
bool live_counting(const struct live *l);
/* Do one slice of pending work. Returns LIVE_* flags, or -errno (with
 * l->err filled) for an error worth showing; never blocks for long. */
int live_step(struct live *l);

/* The refresh tick: re-read counters of the chain on screen and update
 * rates. With all (a view that orders every rule by rate) a short chain
 * is dumped whole; otherwise only the handles given (the visible rules)
 * are read, a few GETs per live_step(): each GET walks the chain up to its
 * rule, far cheaper than a dump near the top, and the only way to read a
 * screenful at the end of a 100k-rule chain. Those walks are the kernel's
 * and cannot be made shorter: a round that cost more CPU than
 * LIVE_COUNTER_SHARE of the time since the last is not repeated before
 * it would (counters_every says how often then, for the header). now is
 * monotonic seconds. Returns LIVE_* flags or -errno. */
#define LIVE_COUNTER_SHARE 0.05
int live_tick(struct live *l, const uint64_t *visible, size_t nvisible, bool all,
	      double now);

/* Zero counters: a rule (handle), a chain (handle 0), or a whole table
 * (chain NULL). 0 or -errno with err filled. */
int live_zero(struct live *l, size_t t, const char *chain, uint64_t handle, char *err,
	      size_t errlen);

/* Find a chain by family/table/name after a reload. */
bool live_find(const struct live *l, uint32_t family, const char *table,
	       const char *chain, struct live_ref *out);

#endif
