/* ct_filter: the filter language of tracked connections — parsing
 * `src 10.0.0.0/8 dport 22 state established proto tcp` into a small tree,
 * matching entries against it, and the part of it the kernel can apply
 * itself while dumping (ct_filter_kernel). Pure functions.
 *
 *   FILTER := EXPR            words are ANDed; "and" may be written
 *   EXPR   := TERM... [or TERM...]...
 *   TERM   := [not|!] KEY VALUES | [not|!] ( EXPR )
 *   VALUES := VALUE[,VALUE]...  (any of them matches)
 *
 * Keys: src dst (original direction), rsrc rdst (reply direction: where NAT
 * shows), host (any of the four addresses); sport dport rsport rdport, port
 * (any of the four ports); proto, family, state, ctstate, status, mark,
 * zone, id. Addresses take a prefix (/8); ports, zones and ids a range (N-M);
 * marks a mask (N/MASK); numbers are decimal or 0x hex. */
#ifndef NFP_CT_FILTER_H
#define NFP_CT_FILTER_H

#include "conntrack/ct.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ct_fnode;
struct ct_fval;

struct ct_filter {
	struct ct_fnode *nodes;
	size_t nnodes;
	struct ct_fval *vals;
	size_t nvals;
	int root;             /* -1: matches everything */
};

/* Where a parse error is: byte offset and length of the word in the text,
 * and its number (1-based). */
struct ct_filter_pos {
	size_t off, len;
	int word;
};

/* Parse text (empty or blank: match everything) into f (zeroed by the
 * caller or freed before). 0, or -EINVAL with a message naming the bad word
 * in err and its place in *pos (pos may be NULL); -ENOMEM. */
int ct_filter_parse(struct ct_filter *f, const char *text, char *err, size_t errlen,
		    struct ct_filter_pos *pos);

bool ct_filter_match(const struct ct_filter *f, const struct ct_entry *e);

/* Whether f matches everything (no conditions). */
bool ct_filter_empty(const struct ct_filter *f);

void ct_filter_free(struct ct_filter *f);

/* The part of a filter the kernel can apply during a dump (CTA_FILTER,
 * CTA_MARK/MASK, CTA_STATUS/MASK, nfgen family): conditions that every
 * match must meet, so the kernel sends a superset of the matches and the
 * filter is still applied to what arrives. Only exact values qualify (no
 * prefixes, ranges, lists or negations); a condition under "or" or "not"
 * is not used. IPv6 addresses only fix the family: the kernel's IPv6
 * address filter is inverted (it keeps everything but the address). */
struct ct_kfilter {
	uint8_t family;          /* 0: both (tuple conditions then need one dump each) */
	uint8_t proto;           /* with CT_KF_PROTO */
	uint32_t flags;          /* CT_KF_* */
	union ct_addr addr[4];   /* orig src, orig dst, reply src, reply dst */
	uint16_t port[4];        /* orig sport, dport, reply sport, dport */
	uint32_t mark, mark_mask;     /* with CT_KF_MARK */
	uint32_t status, status_mask; /* with CT_KF_STATUS */
};

enum {
	CT_KF_OSRC = 1 << 0, CT_KF_ODST = 1 << 1, CT_KF_RSRC = 1 << 2, CT_KF_RDST = 1 << 3,
	CT_KF_OSPORT = 1 << 4, CT_KF_ODPORT = 1 << 5, CT_KF_RSPORT = 1 << 6,
	CT_KF_RDPORT = 1 << 7,
	CT_KF_PROTO = 1 << 8,
	CT_KF_MARK = 1 << 9,
	CT_KF_STATUS = 1 << 10,
	CT_KF_FAMILY = 1 << 11,
};

/* Fill k (zeroed first); returns whether anything could be given to the
 * kernel. */
bool ct_filter_kernel(const struct ct_filter *f, struct ct_kfilter *k);

/* The filter as nftables matches on a packet, for the rules that mark
 * packets to trace (nft/trace.h): alternatives (*n strings, malloc'd with
 * the array; free each and the array), any of which a packet must match,
 * each a list of nft matches that must all hold ("" matches everything).
 * The words describe the packet: src/dst its addresses, sport/dport its
 * ports (protocols with ports only), host and port either one, proto,
 * family; mark is the packet's mark (meta mark). Connection words — state
 * (new, established, related), status, zone, id, rsrc/rdst (the
 * connection's reply direction) — match through conntrack (rsport and
 * rdport are refused: nft 1.0.6 mistypes `ct reply proto-src`):
 * *uses_ct tells the caller to mark packets after conntrack has seen them.
 * 0, or -EINVAL (a word with no meaning for a packet, too many
 * alternatives) / -ENOMEM with err filled. */
int ct_filter_nft(const struct ct_filter *f, char ***clauses, size_t *n, bool *uses_ct,
		  char *err, size_t errlen);

#endif
