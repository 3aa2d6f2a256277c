/* trace: what the kernel did with packets, read from its trace group
 * (NFNLGRP_NFTRACE, decoded with libnftnl's trace API). Each message is
 * decoded (trace_decode); the messages of one packet are gathered into
 * one entry, its headers in one line and its path through hooks, tables,
 * chains and rules to the verdict (struct trace_packet, plain data a
 * screen can draw); and live traffic is traced through a temporary table
 * of nfpilot's own that marks matching packets (meta nftrace) at the
 * earliest hooks, rate-limited, owned by the netlink socket that made it
 * (NFT_TABLE_F_OWNER: the kernel deletes it when that socket closes, kill
 * -9 included). The same table has a chain at the very end of input and
 * postrouting, so a packet's entry is complete when it is delivered or
 * sent out, not after a guessed pause.
 *
 * Non-blocking, for a screen: poll trace_fd() beside the keyboard, call
 * trace_step() when it is readable (and now and then: packets that go
 * quiet are completed by time), take completed packets with trace_take(). */
#ifndef NFP_TRACE_H
#define NFP_TRACE_H

#include "model/ruleset.h"

#include <libmnl/libmnl.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Tables nfpilot makes to trace start with this (never copied, never
 * shown in a path). */
#define TRACE_TABLE_PREFIX "nfpilot_trace_"

/* One trace message, decoded. */
struct trace_event {
	uint32_t id;             /* the kernel's pseudo-id of the packet */
	uint32_t type;           /* NFT_TRACETYPE_RULE, _RETURN, _POLICY */
	uint32_t family;         /* the table's family (NFPROTO_*) */
	char table[256], chain[256];
	uint64_t handle;         /* rule events: the rule */
	bool has_verdict;
	int32_t verdict;         /* NF_ACCEPT, NF_DROP, NFT_JUMP, NFT_CONTINUE, ... */
	char target[256];        /* NFT_JUMP, NFT_GOTO: the chain */
	bool has_policy;
	uint32_t policy;
	uint32_t nfproto;        /* the packet's: NFPROTO_IPV4, NFPROTO_IPV6, ... */
	uint32_t iif, oif, mark; /* 0 when absent */
	bool has_mark;
	uint8_t net[64];         /* the network header as the kernel sent it */
	uint32_t netlen;
	uint8_t th[32];          /* the transport header */
	uint32_t thlen;
};

/* Decode one NFT_MSG_TRACE message. 0 or -EINVAL (not a trace message). */
int trace_decode(const struct nlmsghdr *nlh, struct trace_event *ev);

/* A packet's headers as decoded from the kernel's copy of them. */
struct trace_hdr {
	uint8_t family;          /* AF_INET, AF_INET6; 0: not IP */
	uint8_t proto;           /* IPPROTO_* (IPv6: the next header) */
	uint8_t saddr[16], daddr[16];
	bool ports;              /* sport/dport are valid */
	uint16_t sport, dport;
	bool icmp;               /* icmp_type/icmp_code are valid */
	uint8_t icmp_type, icmp_code;
	uint8_t tcp_flags;       /* TH_SYN, TH_ACK, ... (tcp only) */
	uint16_t len;            /* the IP packet's length */
	uint32_t iif, oif, mark;
	char iifname[IF_NAMESIZE], oifname[IF_NAMESIZE];
};

enum trace_step_kind {
	TRACE_RULE,              /* a rule matched, or decided */
	TRACE_RETURN,            /* the end of a chain jumped to: back to the caller */
	TRACE_POLICY,            /* the end of a base chain: its policy decided */
};

struct trace_step {
	enum trace_step_kind kind;
	uint32_t family;
	char *table, *chain;
	uint64_t handle;         /* TRACE_RULE */
	int verdict;             /* the rule's (NFT_CONTINUE: matched, no verdict) or
				  * the policy (NF_ACCEPT, NF_DROP) */
	char *target;            /* NFT_JUMP, NFT_GOTO */
	char *nat;               /* the headers changed since the chain before (NAT):
				  * "daddr 10.0.0.1:80 -> 10.200.0.2:8080", or NULL */
	/* from a ruleset (trace_packet_describe), NULL/0 when unknown */
	const char *hook;        /* "prerouting", "input", ... (static) */
	int32_t prio;
	char *text;              /* the rule's text */
	/* a sandbox's copy (sandbox/sandbox.h) */
	int staged;              /* the staged edit that made this rule, or -1 */
};

#define TRACE_MAX_STEPS 1024
#define TRACE_MAX_DEPTH 16     /* jumps followed (the kernel allows 16) */
#define TRACE_MAX_OPEN 256     /* packets followed at once */
#define TRACE_QUIET 0.5        /* seconds without a message: the packet is over */

struct trace_packet {
	uint32_t id;
	double first, last;      /* monotonic seconds */
	struct trace_hdr hdr;    /* as the first chain saw it; oif as the last */
	struct trace_step *steps;
	size_t nsteps, cap;
	bool truncated;          /* more steps than TRACE_MAX_STEPS */
	int verdict;             /* NF_ACCEPT, NF_DROP, NF_QUEUE, ...; -1: none seen */
	long decided;            /* the step whose verdict or policy decided, or -1 */
	bool complete;           /* dropped, delivered or sent out */
	const char *end;         /* how it ended, for people (static) */
	/* private: the headers now (NAT), NAT seen for the next step, the
	 * chain now and those jumped from */
	struct trace_hdr cur;
	char *nat_pending;
	char chain_now[256];
	char stack[TRACE_MAX_DEPTH][256];
	int depth;
	/* the messages themselves (trace_asm keep_raw), for another process */
	char *raw;
	size_t rawlen, raw_cap;
};

/* Gathers messages into packets. ours: the name of the tracing table
 * (its own events mark where a packet starts and ends, and are not
 * shown). ifname: names of interface indexes (NULL: this namespace's). */
struct trace_asm {
	char ours[64];
	bool keep_raw;
	const char *(*ifname)(void *ctx, uint32_t index, char *buf);
	void *ifname_ctx;
	struct trace_packet **open;   /* in progress */
	size_t nopen, open_cap;
	struct trace_packet **done;   /* complete, oldest first */
	size_t ndone, done_cap;
	uint64_t foreign;             /* messages of packets nfpilot did not mark */
};

void trace_asm_init(struct trace_asm *a, const char *ours);
/* One message: 0, or -ENOMEM. */
int trace_asm_msg(struct trace_asm *a, const struct nlmsghdr *nlh, double now);
/* Packets quiet since before now - quiet are complete (quiet < 0: all). */
void trace_asm_expire(struct trace_asm *a, double now, double quiet);
/* The oldest complete packet (the caller frees it), or NULL. */
struct trace_packet *trace_asm_take(struct trace_asm *a);
void trace_asm_free(struct trace_asm *a);

void trace_packet_free(struct trace_packet *p);

/* Fill each step's hook, priority and rule text from rs (the ruleset the
 * handles name). Steps rs does not know keep NULLs. 0 or -ENOMEM. */
int trace_packet_describe(struct trace_packet *p, const struct nfp_ruleset *rs);

/* Names, for people: a verdict ("accept", "drop", "jump", "continue",
 * "return", "queue"), and the headers in one line
 * ("tcp 10.0.0.2:40312 -> 10.0.0.1:22 [S] iif eth0 len 60"). The line
 * holds names from the kernel: make it safe before showing it. */
const char *trace_verdict_name(int verdict);
void trace_hdr_format(const struct trace_hdr *h, char *buf, size_t len);
/* A step as one line, for people: "   input      inet web input  [5] tcp
 * dport 22 accept  -> accept" (" >" first: the deciding step); and the
 * packet's verdict: "  verdict: accept by rule 5 of inet web input;
 * delivered to this host". Names from the kernel: make them safe. */
void trace_step_format(const struct trace_step *s, bool deciding, char *buf, size_t len);
void trace_verdict_format(const struct trace_packet *p, char *buf, size_t len);
/* "tcp", "udp", "icmp", ... or NULL. */
const char *trace_proto_name(uint8_t proto);
/* An address of the header ("10.0.0.1"). */
void trace_addr_format(uint8_t family, const uint8_t *addr, char *buf, size_t len);
/* The TCP flags as letters ("S", "SA", "FA", "R"). */
void trace_tcp_flags(uint8_t flags, char *buf, size_t len);

/* ---- tracing live traffic ---- */

struct nft_ctx;

struct trace {
	struct mnl_socket *sock;      /* the trace group */
	char *buf;
	struct nft_ctx *owner;        /* its socket owns the table */
	struct trace_asm asm_;
	uint64_t messages, lost;      /* read; lost to a full socket buffer */
};

/* Trace the packets that match any of clauses[0..n) (nft matches, e.g.
 * from conntrack's ct_filter_nft; "" matches everything): the trace group
 * is joined, then the table made. after_ct: the clauses match through
 * conntrack, so packets are marked right after conntrack saw them (chains
 * of a lower priority, such as raw's, then go untraced); otherwise at the
 * lowest priority. rate: packets a second marked at most (0: no limit).
 * 0 or -errno with err filled (nft's message for a clause it refused). */
int trace_open(struct trace *t, const char *const *clauses, size_t n, bool after_ct,
	       unsigned rate, char *err, size_t errlen);
int trace_fd(const struct trace *t);
/* Read what is ready (never blocks), complete quiet packets. Returns the
 * number of complete packets waiting, or -errno. now: monotonic seconds. */
int trace_step(struct trace *t, double now);
/* The oldest complete packet (the caller frees it), or NULL. */
struct trace_packet *trace_take(struct trace *t);
/* Delete the table (the kernel would on close anyway) and close. */
void trace_close(struct trace *t);

#endif
