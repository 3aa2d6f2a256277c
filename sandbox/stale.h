/* stale: the tracked connections the ruleset no longer admits. A
 * connection's original direction, sent into a sandbox holding a copy of
 * the live ruleset as the first packet of a new connection (a TCP SYN, a
 * UDP or SCTP packet), must pass every base chain of its way; those the
 * kernel refuses there are stale: they flow only because their conntrack
 * entry predates the change (an established packet is usually accepted
 * before the new rule is reached), and they go on until it goes. Asked
 * SANDBOX_BULK_MAX at a time (sandbox_admits: the kernel's verdicts, no
 * evaluator of ours), in slices, so the live view keeps answering keys
 * while 100k connections are checked.
 *
 * Which connections: established ones (a TCP connection in state
 * ESTABLISHED, a UDP or SCTP flow that has seen a reply) that match the
 * filter; ICMP and other protocols are not asked. The table is read once
 * at the start (ct_dump, in slices when not blocking); the copy of the
 * ruleset is of that moment too. */
#ifndef NFP_STALE_H
#define NFP_STALE_H

#include "conntrack/ct.h"
#include "conntrack/ct_dump.h"
#include "conntrack/ct_filter.h"
#include "sandbox/sandbox.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stale {
	struct sandbox sb;
	bool sb_open;
	struct ct_table t;          /* the connections read (established, matching) */
	struct ct_dump dump;
	bool loading;               /* the dump is under way */
	size_t next;                /* the next entry of t to ask about */
	uint32_t *refused;          /* indexes into t.e, in table order */
	size_t nrefused, refused_cap;
	size_t checked;             /* entries asked about so far */
	size_t unsure;              /* ... whose answer the sandbox could not give */
	bool done;
};

/* Open the sandbox on the live ruleset and start reading the table
 * (f: NULL, everything). blocking: the whole dump now (the CLI);
 * otherwise poll stale_fd() and call stale_step(). 0 or -errno with err
 * filled (s is then freed). */
int stale_start(struct stale *s, const struct ct_filter *f, bool blocking, char *err,
		size_t errlen);
/* The dump's socket while it is read, -1 after: then every stale_step
 * asks one slice at once. */
int stale_fd(const struct stale *s);
/* One slice: a receive of the dump, or at most max questions (at most
 * SANDBOX_BULK_MAX: the fewer, the shorter the slice; a slice's own cost
 * is about what 30 questions take). 1 = more to come, 0 = done, -errno =
 * failed (err filled). */
int stale_step(struct stale *s, size_t max, char *err, size_t errlen);
/* Whether the sandbox's interfaces can send yet (sandbox_ready): a step
 * before would wait for them (up to a second after the start). */
bool stale_ready(struct stale *s);
/* The whole of it, waiting. */
int stale_run(struct stale *s, const struct ct_filter *f, char *err, size_t errlen);
/* Done with the answer: the table and the refused list go, the sandbox
 * stays until stale_free (closing it waits for the kernel: its packet
 * socket, an RCU grace period, tens of milliseconds under load — a live
 * view pays that when it starts the next check, not between two keys). */
void stale_forget(struct stale *s);
void stale_free(struct stale *s);

#endif
