/* snapfile: a snapshot (nft/snapshot.h) as bytes — written to a file
 * the guardian and the history keep, read back into the same libnftnl
 * objects — and the digest that says whether a table changed.
 *
 * The file is a header followed by netlink messages exactly as the kernel
 * would take them (NEWTABLE, NEWCHAIN, NEWSET, NEWSETELEM..., NEWOBJ,
 * NEWFLOWTABLE, NEWRULE in order); a table that did not exist is a
 * DELTABLE message naming it. An end mark closes the file (the count and
 * a hash of the messages before it): a file cut between two messages, or
 * with a byte changed that still makes sense, is seen to be damaged. */
#ifndef NFP_SNAPFILE_H
#define NFP_SNAPFILE_H

#include "nft/snapshot.h"

#include <stdint.h>
#include <stdio.h>

/* 0 or -errno (-EIO on a write error). */
int snapfile_write(const struct snapshot *s, FILE *fp);
/* Write to path atomically (a temporary file renamed over it), mode 0600. */
int snapfile_save(const struct snapshot *s, const char *path, char *err, size_t errlen);

/* Read what snapfile_write wrote. Every message is checked whole before
 * libnftnl parses it (nft/nlcheck.h), so a damaged file is refused,
 * never a crash. 0, or -errno with err filled: -EINVAL, not a snapshot
 * file or damaged ("damaged: message 12: rule: attribute 5 has length 3,
 * wants 8"), nothing of it kept. */
int snapfile_read(FILE *fp, struct snapshot *s, char *err, size_t errlen);
int snapfile_load(const char *path, struct snapshot *s, char *err, size_t errlen);

/* A copy of s that is its own (through its bytes). 0 or -errno. */
int snapfile_copy(const struct snapshot *s, struct snapshot *copy);

/* A digest of what table t holds, leaving out what changes by itself:
 * counters (rules, chain policies, counter and quota objects) and the
 * elements of sets the ruleset fills (dynamic or with timeouts). Equal
 * digests: the table was not changed. Absent tables digest to 0. */
uint64_t snapfile_digest(const struct snap_table *t);

#endif
