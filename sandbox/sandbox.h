/* sandbox: what the kernel would do with a packet that was never sent.
 *
 * A network namespace of nfpilot's own (unnamed: it lives as long as the
 * struct holds it, and goes with the process, kill -9 included) holds a
 * copy of this namespace's tables, loaded by the restore code a revert
 * uses (nft/snapshot.h), so the copy is what a revert would load; and a
 * copy of its interfaces (a veth each, with the same name, index, MAC,
 * addresses and up or down state; the peer end is where packets come in
 * from), routes and forwarding, reverse-path and conntrack sysctls.
 *
 * A question (sandbox_ask) is a packet (sandbox/packet.h): a conntrack
 * entry is made first when its state is established or related
 * (ctnetlink), it is sent into the sandbox with tracing on (nft/trace.h:
 * the same tracing table as for live traffic) — in on its interface, or
 * out through the raw socket when its source is an address of this host —
 * and its trace read back, with the handles of the copy mapped to those of
 * the real ruleset. The answer is a trace_packet, drawn as a trace entry,
 * and notes: every rule on the chains the packet went through that
 * depends on what a sandbox cannot reproduce (sockets, cgroups, skuid,
 * fib and rt on the copied routes, ipsec, time, dynamic sets, rate and
 * quota state, helpers), and what the sandbox had to make up.
 *
 * Many questions at once (sandbox_admits, below: whether each packet of a
 * burst is admitted) go without tracing, through sets of a table of the
 * sandbox's own.
 *
 * The host never sees the packet. Made once, asked many times: after each
 * question the sandbox's conntrack table is flushed, so one answer never
 * depends on the one before. The copy is of the host's generation
 * real.genid: when the host's ruleset moves on, make the sandbox anew
 * (sandbox_close, sandbox_open; the live view learns it from the monitor
 * group), and stage again what is staged. Between the two, a change is
 * staged by differences (sandbox_stage): a question asked after each key
 * of the live view costs the change, not a copy. A screen draws an answer
 * as it draws a traced packet (nft/trace.h: its header line, then its
 * steps), with the notes under it. */
#ifndef NFP_SANDBOX_H
#define NFP_SANDBOX_H

#include "model/ruleset.h"
#include "nft/changed.h"
#include "nft/nl.h"
#include "nft/snapshot.h"
#include "nft/trace.h"
#include "sandbox/packet.h"

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sandbox_link {
	uint32_t index, peer;    /* the copy has the host's index; its peer end */
	char name[IF_NAMESIZE];
	uint8_t mac[6];
	bool up;
	bool ready;              /* its peer can send (sandbox.c: wait_ready) */
};

/* A rule of the copy and the real rule it is (by table, chain, position). */
struct sandbox_handle {
	uint64_t copy, real;
};

/* A rule whose answer the sandbox cannot vouch for, and why. */
struct sandbox_unsure {
	size_t table, rule;           /* scanned->tables[table].rules[rule] */
	const char *why;              /* static */
};

struct sandbox {
	int ns, home;                 /* network namespaces: the sandbox's, ours */
	struct nl nl;                 /* nf_tables, in the sandbox */
	struct mnl_socket *rt, *ct;   /* rtnetlink and ctnetlink, in the sandbox */
	int sock[3];                  /* packet, raw IPv4 and raw IPv6 sockets, in it */
	uint32_t seq;
	struct snapshot real;         /* the tables copied, as read from the host */
	struct sandbox_link *links;
	size_t nlinks, links_cap;
	uint8_t (*local)[17];         /* the host's addresses: family, then 16 bytes */
	size_t nlocal, local_cap;
	unsigned skipped;             /* routes or addresses the copy refused */
	uint32_t next_index;          /* for interfaces made up (peers, unknown names) */
	double opened;                /* monotonic seconds */
	const struct snapshot *scanned; /* real, or copied once staged */
	struct sandbox_unsure *unsure;
	size_t nunsure, unsure_cap;
	struct trace trace;           /* its tracing table, made at the first question */
	bool tracing;
	struct sandbox_loaded *loaded;
	size_t nloaded, loaded_cap;
	bool bulk;                    /* its table of admissions is there (sandbox_admits) */
	struct snapshot copied;       /* the copy's tables now (not the sandbox's own), as
				       * netlink objects: read once made, then only the
				       * tables a change or a putting back touched */
	bool staged;                  /* a change was made to the copy (sandbox_stage) */
	char *script;                 /* ... that script (NULL: tables put back) */
	struct changed_table *touched; /* the tables changed since the copy was the host's */
	size_t ntouched, touched_cap;
	bool derived;                 /* copy holds copied's tables */
	struct nfp_ruleset copy;      /* copied as a ruleset (once staged): the rule text
				       * of the chains answers went through only */
};

/* A table of the copy as loaded: rules with a greater handle are new; the
 * handles of its rules that differ from the host's. */
struct sandbox_loaded {
	uint32_t family;
	char *name;
	uint64_t max;
	struct sandbox_handle *map;
	size_t nmap, map_cap;
};

/* A note: why the answer may differ from what the host would do. */
struct sandbox_note {
	uint32_t family;              /* 0 and table NULL: about the packet */
	char *table, *chain;
	uint64_t handle;              /* 0 with a table: a rule the staged change makes */
	char *why;
};

struct sandbox_answer {
	struct trace_packet *packet;  /* the path; handles of the real ruleset (no rule
				       * text yet: sandbox_describe, then
				       * trace_packet_describe with the host's) */
	char how[128];                /* "in on v0", "sent by this host", ... */
	struct sandbox_note *notes;
	size_t nnotes, notes_cap;
};

/* Rules a sandbox is made of without being asked for by name: the copy
 * costs a dump of the host's tables and a load (a dump walks a chain again
 * for every 32 KiB it sends: 100k rules in one chain take tens of seconds
 * to copy, against 0.1 s for the edit a pre-check guards; docs/
 * benchmarks.md). The checks made on the way (the lockout pre-check, the
 * effect check, the live view's sandbox, its connections check after an
 * apply) are not made above it, and say so; `nfpilot why` and `nfpilot ct
 * stale`, asked for, are. */
#define SANDBOX_QUICK_RULES 20000

/* Whether a sandbox is quick to make here: the host's rules counted from
 * its chains alone (each chain's use, its rules and the jumps to it: no
 * rule is read). 0 when at most SANDBOX_QUICK_RULES; -EFBIG with err saying
 * how many (the rest of the message is the caller's); or -errno. */
int sandbox_quick(char *err, size_t errlen);

/* Make the sandbox from the current network namespace (root, or
 * CAP_NET_ADMIN and CAP_SYS_ADMIN). 0 or -errno with err filled. */
int sandbox_open(struct sandbox *sb, char *err, size_t errlen);

/* Ask about p. 0 with a filled, or -errno with err filled: -EINVAL for a
 * question the sandbox cannot ask (state related of a TCP packet),
 * -ENETUNREACH when the host has no route for it. */
int sandbox_ask(struct sandbox *sb, const struct packet *p, struct sandbox_answer *a, char *err,
		size_t errlen);

/* The rule text of answer a's steps, of a staged sandbox's copy
 * (sandbox_stage): listed once a stage for each chain an answer needs
 * (a chain of 10k rules costs about what loading it does: asked for only
 * when the words are needed). Unstaged, nothing to do: the steps are the
 * host's rules, described with the host's ruleset (trace_packet_describe).
 * 0 or -errno with err filled. */
int sandbox_describe(struct sandbox *sb, struct sandbox_answer *a, char *err, size_t errlen);

/* Make the copy the ruleset as it would be after a change: script, nft
 * commands (a file's text, or the live view's staged edits as `v` lists
 * them; include files are looked up in include_dir, NULL: none) run on the
 * copy as one transaction. Answers then say which steps are rules the
 * change made (trace_step.staged 0, the copy's handle) and take their
 * hooks, and their text (sandbox_describe), from the copy. Staged by
 * differences, never made anew:
 *
 *   - the same script as the one staged: nothing to do;
 *   - a script that begins with the one staged (edits added to those
 *     staged, as the live view's o, b and typed rules do): only the rest
 *     is run;
 *   - else the tables the changes before touched (the kernel names them:
 *     nft/changed.h) are put back as the host has them (sb->real, by the
 *     restore code a revert uses), then the script is run; "" stages
 *     nothing (the host's ruleset).
 *
 * Only the tables the kernel says a change or a putting back touched are
 * read again (a table put back has new handles: sandbox_copy_handle
 * follows); rule text is listed when an answer needs it
 * (sandbox_describe). 0; or -EINVAL with nft's message in err, the copy then
 * the host's ruleset (nothing staged); or -errno with err filled, the
 * sandbox then closed (sandbox_close: sandbox_is_open says so). */
int sandbox_stage(struct sandbox *sb, const char *script, const char *include_dir, char *err,
		  size_t errlen);

/* Whether staging script builds on what is staged (it is that script, or
 * begins with it): then it runs no more than the rest, and the copy's
 * handles stay as they are. Else what is staged is put back first, and
 * tables put back have new handles: a script that names rules by the
 * copy's handles (sandbox_copy_handle) is written after sandbox_stage(sb,
 * "") then. */
bool sandbox_stage_adds(const struct sandbox *sb, const char *script);

/* Whether sb is open (made, and not closed since: a failed stage closes it). */
bool sandbox_is_open(const struct sandbox *sb);

/* The handle of the copy's rule that is the host's rule real (edits by
 * handle, such as the live view's staged ones, name the host's rules;
 * the copy was loaded afresh, and a table put back again, so its handles
 * may differ). */
uint64_t sandbox_copy_handle(const struct sandbox *sb, uint32_t family, const char *table,
			     uint64_t real);

/* Whether addr (4 or 16 bytes, by family) is an address of the host. */
bool sandbox_is_local(const struct sandbox *sb, uint8_t family, const uint8_t *addr);

/* The same with tables put back as a revert puts them (the restore code,
 * nft/snapshot.h): `nfpilot restore N`. Their rules all count as made by
 * the change. */
int sandbox_stage_tables(struct sandbox *sb, const struct snapshot *tables, char *err,
			 size_t errlen);

/* Whether every interface of the sandbox that is up can send yet (or ten
 * seconds have passed): until then a question waits for it. Asked once,
 * never waiting: for a loop that keeps answering keys. */
bool sandbox_ready(struct sandbox *sb);

/* Many questions at once: is each of ps[0..n) (n <= SANDBOX_BULK_MAX;
 * TCP, UDP or SCTP, state new, no iif: it comes in on the interface of
 * the route to its source, or is sent by this host from a local source)
 * admitted by the copy's ruleset? verdict[i] is one of enum
 * sandbox_verdict. No trace, no notes: the kernel's verdicts alone, a
 * thousand times faster than sandbox_ask. How, with no evaluator of ours:
 *
 *   - a table of nfpilot's own in the sandbox (made at the first call,
 *     constant text) has a chain first of all on prerouting (priority
 *     -2^31: before conntrack and NAT) that adds every packet to a set of
 *     arrivals, keyed by its protocol, addresses and ports as sent; and
 *     chains last of all on input and on postrouting (priority 2^31-1;
 *     postrouting leaves loopback to input) that add every packet of a
 *     connection's original direction to a set of admissions, keyed by
 *     conntrack's original tuple (the tuple as sent, whatever NAT did
 *     since; a packet a rule took out of conntrack, notrack, by its
 *     header: no NAT changed it). A packet among the admissions passed
 *     every base chain of its way (prerouting, then input; or forward or
 *     output, then postrouting): admitted. Sent, arrived, not there:
 *     refused.
 *   - the packets go in a burst (their tuples tell them apart), then one
 *     marker down each way used (UDP 0.0.0.0 -> 0.0.0.0, dropped by the
 *     first chain, so no rule of the copy ever sees it). The process is
 *     held on one CPU meanwhile, so the packets and markers share its
 *     backlog, which the kernel works in order: once a way's marker is
 *     among the arrivals (the set read back until it is, at most a
 *     second), its packets are decided. A packet sent by this host is
 *     decided on the way out in the send itself.
 *   - a packet that could not be sent (no route, no way in, an interface
 *     that is down, another protocol) or that never arrived (a full
 *     backlog) is SANDBOX_UNSURE, never refused. Then the sets are
 *     emptied and the conntrack entries the packets made deleted (by
 *     tuple: a flush would walk the host's whole table, which all
 *     namespaces share): one call never depends on the one before.
 *
 * Rules that depend on what a sandbox cannot reproduce (sandbox_ask's
 * notes) weigh the same here. The table stays in the copy through stages
 * (a change that removes it, flush ruleset, has it made again at the next
 * call); sandbox_ask removes it first (its chains would be in the trace).
 * 0, or -errno with err filled (the verdicts are then SANDBOX_UNSURE). */
#define SANDBOX_BULK_MAX 256
enum sandbox_verdict { SANDBOX_UNSURE, SANDBOX_ADMITTED, SANDBOX_REFUSED };
int sandbox_admits(struct sandbox *sb, const struct packet *ps, size_t n, uint8_t *verdict,
		   char *err, size_t errlen);

void sandbox_answer_free(struct sandbox_answer *a);
void sandbox_close(struct sandbox *sb);

#endif
