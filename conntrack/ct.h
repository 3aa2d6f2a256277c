/* ct: tracked connections as data. A compact entry (one per conntrack
 * entry, fixed size, no pointers), a table of them that a dump fills and
 * events update (found again by id and original tuple), names of protocols,
 * states and status bits, totals, and the columns a view shows and sorts by,
 * formatted without the kernel. conntrack/ reads the kernel into these. */
#ifndef NFP_CT_H
#define NFP_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An address in network byte order; IPv4 in w[0], the other words 0. */
union ct_addr {
	uint32_t w[4];
	uint8_t b[16];
};

struct ct_tuple {
	union ct_addr src, dst;
	/* host byte order. ICMP and ICMPv6: sport is the echo id,
	 * dport is type << 8 | code */
	uint16_t sport, dport;
};

enum {
	CT_DIR_ORIG = 0,
	CT_DIR_REPLY = 1,
};

/* ct_entry.flags */
enum {
	CT_F_ACCT = 1 << 0,   /* pkts/bytes came from the kernel (accounting on) */
	CT_F_TSTAMP = 1 << 1, /* start is set (nf_conntrack_timestamp on) */
	CT_F_NEW = 1 << 2,    /* appeared after the table's first load */
	CT_F_GONE = 1 << 3,   /* destroyed; kept until ct_table_purge() */
	CT_F_RATE = 1 << 4,   /* rate_* are valid (seen at two syncs) */
	CT_F_L4 = 1 << 5,     /* l4state came with it (events carry it on change only) */
};

struct ct_entry {
	struct ct_tuple orig, reply;
	uint64_t pkts[2], bytes[2]; /* [CT_DIR_ORIG], [CT_DIR_REPLY] */
	uint64_t start;             /* ns since the epoch (CT_F_TSTAMP) */
	uint32_t id;                /* the kernel's id (not unique on its own) */
	uint32_t mark;
	uint32_t status;            /* IPS_* bits */
	uint32_t timeout;           /* seconds left */
	uint32_t seen;              /* table epoch that last touched it */
	float rate_bytes, rate_pkts; /* per second, both directions */
	uint16_t zone;
	uint8_t family;             /* AF_INET, AF_INET6 */
	uint8_t proto;              /* IPPROTO_* */
	uint8_t l4state;            /* TCP: enum tcp_conntrack; SCTP: its state */
	uint8_t flags;              /* CT_F_* */
};

/* ---- names ---- */

/* "tcp", "udp", "icmp", ... or NULL for a number without a name. */
const char *ct_proto_name(uint8_t proto);
/* IPPROTO_* for a name or a decimal number 0-255, or -EINVAL. */
int ct_proto_parse(const char *name);

/* The l4 state as conntrack prints it ("ESTABLISHED", "TIME_WAIT"), or NULL
 * for protocols without states. */
const char *ct_l4state_name(const struct ct_entry *e);
/* TCP / SCTP state number for a name (case-insensitive), or -EINVAL. */
int ct_tcp_state_parse(const char *name);
int ct_sctp_state_parse(const char *name);

/* What nft calls "ct state": new (no reply seen), established, related. */
enum ct_ctstate { CT_NEW, CT_ESTABLISHED, CT_RELATED };
enum ct_ctstate ct_ctstate(const struct ct_entry *e);
const char *ct_ctstate_name(enum ct_ctstate s);

/* The state column (and what the filter word "state" matches): the l4
 * state for TCP and SCTP, else the ct state in capitals (NEW, ESTABLISHED,
 * RELATED). */
const char *ct_state_name(const struct ct_entry *e);

/* IPS_* bit names ("assured", "seen-reply", "snat", "dnat", ...): the name
 * of bit i, or NULL. ct_status_parse: the bit mask of a name, or 0. */
const char *ct_status_bit_name(unsigned bit);
uint32_t ct_status_parse(const char *name);

/* The reply tuple differs from the inverted original: source NAT (the
 * source the peer sees, reply.dst) and/or destination NAT (the real
 * destination, reply.src). */
bool ct_has_snat(const struct ct_entry *e);
bool ct_has_dnat(const struct ct_entry *e);

/* Whether the ports of a tuple are ports (TCP, UDP, SCTP, DCCP, UDP-Lite). */
bool ct_proto_has_ports(uint8_t proto);

/* ---- the table ---- */

struct ct_table {
	struct ct_entry *e;
	size_t n, cap;        /* e[0..n), gone ones included until purge */
	size_t ngone;
	uint32_t *hash;       /* (index + 1) by id, open addressing; see ct_table_index */
	size_t hcap;          /* 0 = no index */
	uint32_t epoch;       /* raised by ct_table_sync_begin */
	double sync_time;     /* monotonic seconds of the current sync */
	double prev_sync;     /* of the previous one (for rates) */
	bool loaded;          /* a full load finished: later entries are CT_F_NEW */
};

/* Memory in use by the table (entries, index), in bytes. */
size_t ct_table_bytes(const struct ct_table *t);

/* Room for one more entry at the end; NULL when out of memory. The caller
 * fills it and then calls ct_table_commit(). */
struct ct_entry *ct_table_slot(struct ct_table *t);
/* Make the entry written into the last slot part of the table (indexes it
 * when the table has an index). 0 or -ENOMEM. */
int ct_table_commit(struct ct_table *t);

/* Build (or rebuild) the id index that ct_table_find/ct_table_upsert need.
 * 0 or -ENOMEM. */
int ct_table_index(struct ct_table *t);

/* The live entry with the same id, family, protocol, zone and original
 * tuple, or NULL. Needs the index. */
struct ct_entry *ct_table_find(const struct ct_table *t, const struct ct_entry *key);

/* A sync re-reads the whole table to refresh counters: begin (now =
 * monotonic seconds), upsert every entry the dump returns, end. Entries not
 * seen are marked gone. Rates are computed from the counters' change since
 * the previous sync. */
void ct_table_sync_begin(struct ct_table *t, double now);
/* Insert or update by identity (an event or a sync). Needs the index.
 * Returns the entry, or NULL when out of memory. */
struct ct_entry *ct_table_upsert(struct ct_table *t, const struct ct_entry *src);
/* Mark gone; returns whether it was there. Needs the index. */
bool ct_table_remove(struct ct_table *t, const struct ct_entry *key);
void ct_table_sync_end(struct ct_table *t);

/* Drop gone entries (and clear CT_F_NEW marks when clear_new); entry
 * positions change, so views must be rebuilt. Keeps the index. */
int ct_table_purge(struct ct_table *t, bool clear_new);

/* Give back the room reserved for growth (after a full load). */
void ct_table_trim(struct ct_table *t);

void ct_table_free(struct ct_table *t);

/* ---- totals ---- */

enum { CT_TOT_TCP, CT_TOT_UDP, CT_TOT_ICMP, CT_TOT_OTHER, CT_TOT_NPROTO };

struct ct_totals {
	size_t all;
	size_t proto[CT_TOT_NPROTO];
	size_t tcp_state[16];     /* by enum tcp_conntrack */
	size_t ctstate[3];        /* by enum ct_ctstate */
	size_t snat, dnat, assured;
	uint64_t bytes, pkts;     /* both directions */
};

void ct_totals_add(struct ct_totals *tot, const struct ct_entry *e);

/* ---- columns: what a view shows and sorts by ---- */

#define CT_COLUMNS(X) \
	X(ID,      "id",      "ID",          10, 1) \
	X(FAMILY,  "family",  "FAM",          4, 0) \
	X(PROTO,   "proto",   "PROTO",        6, 0) \
	X(STATE,   "state",   "STATE",       11, 0) \
	X(SRC,     "src",     "SOURCE",      21, 0) \
	X(DST,     "dst",     "DESTINATION", 21, 0) \
	X(SPORT,   "sport",   "SPORT",        5, 0) \
	X(DPORT,   "dport",   "DPORT",        5, 0) \
	X(NAT,     "nat",     "NAT",         28, 0) \
	X(MARK,    "mark",    "MARK",        10, 0) \
	X(ZONE,    "zone",    "ZONE",         5, 0) \
	X(TIMEOUT, "timeout", "TIMEOUT",      7, 0) \
	X(OPKTS,   "opackets", ">PKTS",       6, 1) \
	X(OBYTES,  "obytes",  ">BYTES",       6, 1) \
	X(RPKTS,   "rpackets", "<PKTS",       6, 1) \
	X(RBYTES,  "rbytes",  "<BYTES",       6, 1) \
	X(PKTS,    "packets", "PKTS",         6, 1) \
	X(BYTES,   "bytes",   "BYTES",        6, 1) \
	X(RATE,    "rate",    "RATE",         7, 1) \
	X(AGE,     "age",     "AGE",          8, 1) \
	X(STATUS,  "status",  "STATUS",      12, 0)

enum ct_col {
#define CT_COL_ENUM(id, name, title, width, desc) CT_COL_##id,
	CT_COLUMNS(CT_COL_ENUM)
#undef CT_COL_ENUM
	CT_COL_N
};

/* The column's name (as --sort takes it), title, default width and whether
 * it naturally sorts biggest first (counters, age). */
const char *ct_col_name(enum ct_col c);
const char *ct_col_title(enum ct_col c);
int ct_col_width(enum ct_col c);
bool ct_col_desc(enum ct_col c);
/* The column for a name (also "packets"/"pkts", "sbytes"...), or -EINVAL. */
int ct_col_parse(const char *name);

struct ct_fmt_opts {
	bool exact;          /* exact numbers instead of 1.2K */
	double now;          /* wall clock seconds, for AGE */
};

/* Write column c of e into buf (NUL-terminated, truncated to size) and
 * return its length. Counters of an entry without accounting are "-". */
size_t ct_col_format(char *buf, size_t size, const struct ct_entry *e, enum ct_col c,
		     const struct ct_fmt_opts *o);

/* "10.0.0.1", "2001:db8::1"; buf of at least 46 bytes. Returns the length. */
size_t ct_addr_format(char *buf, uint8_t family, const union ct_addr *a);
/* "10.0.0.1:80", "[2001:db8::1]:80", or the address alone for protocols
 * without ports. buf of at least 56 bytes. */
size_t ct_endpoint_format(char *buf, uint8_t family, uint8_t proto,
			  const union ct_addr *a, uint16_t port);

#endif
