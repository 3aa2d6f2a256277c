/* save: the live ruleset as the boot-time file nft loads
 * (/etc/nftables.conf by default), whether the live ruleset differs from
 * that file, and snapshots rendered as nft text. Text is nft's own
 * (libnftables, stateless: no counter values, no handles). Tables
 * iptables-nft manages are left out of the file — nft's text of them does
 * not load back into something iptables reads — and named, so the admin
 * saves them with iptables-save. Comparing and rendering run in a scratch
 * network namespace: the live ruleset is never touched. */
#ifndef NFP_SAVE_H
#define NFP_SAVE_H

#include "snapshot.h"
#include "model/nl.h"

#include <stdbool.h>
#include <stddef.h>

#define SAVE_DEFAULT_FILE "/etc/nftables.conf"

/* Write the live ruleset to file atomically (a temporary file checked by
 * nft, then renamed over it), the previous file kept as FILE.bak.
 * skipped (may be NULL) gets the iptables-nft tables left out, "ip filter,
 * ip nat" or "". 0 or -errno with err filled. */
int save_write(struct nl *nl, const char *file, char *skipped, size_t skippedlen,
	       char *err, size_t errlen);

/* Does the live ruleset (iptables-nft tables aside) equal what file
 * loads? *same set; 0, -ENOENT (no file), or -errno with err filled. */
int save_check(struct nl *nl, const char *file, bool *same, char *err, size_t errlen);

/* The tables of s as nft prints them (malloc'd in *text): they are loaded
 * into a scratch namespace and listed there. 0 or -errno. */
int save_snapshot_text(const struct snapshot *s, char **text, char *err, size_t errlen);

#endif
