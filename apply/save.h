/* save: the live ruleset as the boot-time file nft loads
 * (/etc/nftables.conf by default), whether the live ruleset differs from
 * that file, and snapshots rendered as nft text. Text is nft's own
 * (libnftables, stateless: no counter values, no handles), listed table by
 * table by nft/ruletext.h (iptables-nft's families each in a process of
 * its own, for libxtables). Tables
 * iptables-nft manages are left out of the file — nft's text of them does
 * not load back into something iptables reads — and named, so the admin
 * saves them with iptables-save. Comparing and rendering run in a scratch
 * network namespace: the live ruleset is never touched. */
#ifndef NFP_SAVE_H
#define NFP_SAVE_H

#include "nft/snapshot.h"
#include "nft/nl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SAVE_DEFAULT_FILE "/etc/nftables.conf"
/* The boot file's mode unless the admin asks for another (config key
 * save_mode, nfpilot save --mode): the previous file's bits within this,
 * never more; asked, at most SAFEFILE_MODE_MAX (util/safefile.h). */
#define SAVE_MODE_DEFAULT 0644

/* Write the live ruleset to file atomically and safely (util/safefile.h:
 * a fresh temporary file in file's folder, checked by nft, renamed over
 * it; no link followed; a folder or file another user could change is
 * refused), the previous file kept as FILE.bak. mode: the one the admin
 * asked for, or -1 (save_file_mode). Refused (-EBUSY, err says why and
 * what to do) while any change is on probation in this namespace, or a
 * probation left its restore point (save_probation_check), and when the
 * ruleset changes while it is read (-EAGAIN). skipped (may be NULL) gets
 * the iptables-nft tables left out, "ip filter, ip nat" or "". 0 or
 * -errno with err filled. */
int save_write(struct nl *nl, const char *file, int mode, char *skipped, size_t skippedlen,
	       char *err, size_t errlen);

/* May the boot file be written now? 0 when no probation runs in this
 * namespace (no guardian answers, no restore point left); -EBUSY with err
 * saying why not and what to do; another -errno if that cannot be told. */
int save_probation_check(char *err, size_t errlen);

/* The mode save_write gives file: asked when >= 0, else the existing
 * file's bits within SAVE_MODE_DEFAULT, else SAVE_MODE_DEFAULT. */
int save_file_mode(const char *file, int asked);

/* Does the live ruleset (iptables-nft tables aside) equal what file
 * loads? *same set (when not, err names the first line that differs);
 * 0, -ENOENT (no file), or -errno with err filled. */
int save_check(struct nl *nl, const char *file, bool *same, char *err, size_t errlen);

/* The tables of s as nft prints them (malloc'd in *text): they are loaded
 * into a scratch namespace and listed there. 0 or -errno. */
int save_snapshot_text(const struct snapshot *s, char **text, char *err, size_t errlen);

/* The scratch works (apply/scratch.h): "load" lists what the file named
 * by its input loads, as save_check compares it; "restore" lists the
 * snapshot file that is its input. */
int save_scratch_load(FILE *in);
int save_scratch_restore(FILE *in);

#endif
