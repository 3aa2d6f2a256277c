/* elemkeys: which elements of a set an element edit touches, by their
 * identity as the kernel knows it (key, interval-end flag, key end), and
 * the kernel's element messages filtered by them — what an element edit's
 * inverse (apply/inverse.c) keeps of a set's dump, and what a restore
 * point undone in memory (snapshot_undo) drops. Raw netlink attributes
 * only (libmnl): the elements themselves are never rewritten. */
#ifndef NFP_ELEMKEYS_H
#define NFP_ELEMKEYS_H

#include "nft/nl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nftnl_set;

struct elemkeys {
	uint8_t **ids;      /* each: 1 length byte, then the identity */
	size_t n, cap;
	bool sorted;
	bool all;           /* every element (a flush) */
};

/* The identities of every element of s (a libnftnl set with elements).
 * With skip_marker, not the interval-end element of key 0 that nft adds
 * below the first range (it belongs to no range the admin wrote). 0 or
 * -ENOMEM. */
int elemkeys_add_set(struct elemkeys *k, struct nftnl_set *s, bool skip_marker);
bool elemkeys_has(struct elemkeys *k, const struct nlattr *elem_nest);
void elemkeys_free(struct elemkeys *k);

/* A set (family, table, name) whose elements are only the identities of
 * k, in key order: what deletes them. NULL when out of memory. */
struct nftnl_set *elemkeys_set(struct elemkeys *k, uint32_t family, const char *table,
			       const char *name);

/* Append to *out (allocated on first use: table, name and family of the
 * messages) the elements of element message nlh that are in k (keep) or
 * are not (!keep). 0, -ENOMEM or -EIO (libnftnl refused them). */
int elemkeys_take(struct elemkeys *k, const struct nlmsghdr *nlh, bool keep,
		  struct nftnl_set **out);

/* The elements of set table/name that are in k, as they are now, read
 * from the kernel into *out (NULL if none). 0 or -errno. */
int elemkeys_read(struct nl *nl, uint32_t family, const char *table, const char *name,
		  struct elemkeys *k, struct nftnl_set **out);

/* s without the elements in k (a copy; s is left as it is). NULL when out
 * of memory. */
struct nftnl_set *elemkeys_without(struct elemkeys *k, struct nftnl_set *s);

/* Append every element of from to into (only those in k). 0, -ENOMEM or
 * -EIO. */
int elemkeys_copy(struct nftnl_set *from, struct nftnl_set *into);
int elemkeys_copy_only(struct nftnl_set *from, struct elemkeys *k, struct nftnl_set *into);
/* The same, each element's expiry moved by shift_ms; an element it
 * leaves at 0 or less is not copied (it would have expired). With
 * elemkeys_now_ms() (CLOCK_BOOTTIME, the same in every process): a time
 * left made a point in time, and back. */
int elemkeys_copy_aged(struct nftnl_set *from, int64_t shift_ms, struct nftnl_set *into);
uint64_t elemkeys_now_ms(void);

#endif
