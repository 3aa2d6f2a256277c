/* history: every change that ended its probation — confirmed, rolled back
 * or reverted — kept under the namespace's history folder (probation/state.h):
 * one numbered folder per change with `meta` (when, who, from where, the
 * outcome and why, the tables), `change.nft` (the change as nft commands
 * or the script applied), and the touched tables before and after as
 * snapshot files (probation/snapfile.h), which `nfpilot restore N` puts back. */
#ifndef NFP_HISTORY_H
#define NFP_HISTORY_H

#include "nft/snapshot.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct history_entry {
	int n;
	time_t when;
	char user[64];
	char from[128];      /* SSH client address, or "console" */
	char outcome[32];    /* confirmed, reverted, rolled back */
	char reason[256];
	char tables[512];    /* "inet filter, ip nat" */
	char what[256];      /* what made the change: "nfpilot apply web.nft" */
};

/* Record a change: its number (*n), what it was and its change text.
 * The tables before and after follow with history_add_tables(), which a
 * guardian calls after it has answered; until then a reader of the
 * entry's files (history_file, history_read) waits while this process
 * lives. 0 or -errno with err filled. */
int history_add(const struct history_entry *e, const char *change, int *n, char *err,
		size_t errlen);

/* Entry n's tables before and after (either may be NULL): its last
 * files. 0 or -errno with err filled. */
int history_add_tables(int n, const struct snapshot *before, const struct snapshot *after,
		       char *err, size_t errlen);

/* Every entry, oldest first (*out malloc'd). 0 or -errno. (Not
 * history_list/history_get: readline's libhistory has those, ui/prompt.c.) */
int history_entries(struct history_entry **out, size_t *count, char *err, size_t errlen);

/* Entry n, and its change text when change != NULL (malloc'd).
 * -ENOENT when there is no such entry. */
int history_lookup(int n, struct history_entry *e, char **change, char *err, size_t errlen);

/* Write one more file into entry n (e.g. HISTORY_HANDLES). 0 or -errno. */
int history_write(int n, const char *name, const char *text, char *err, size_t errlen);

/* After a revert: the rules it put back, with the handles they had and
 * have now, as snapshot_handle_map() writes them. */
#define HISTORY_HANDLES "handles"

/* Read the tables of restored (just put back) and write entry n's
 * HISTORY_HANDLES; with genid (not 0) only if the ruleset is still at that
 * generation (-ERESTART: it moved, the new handles are not known). 0 or
 * -errno with err filled. */
int history_add_handles(struct nl *nl, int n, const struct snapshot *restored, uint32_t genid,
			char *err, size_t errlen);

/* The text of file name of entry n (malloc'd), NULL if none. */
char *history_read(int n, const char *name);

/* In a HISTORY_HANDLES map: the handle the rule `handle` of that chain
 * has now, or 0 if the map does not name it. */
uint64_t history_renamed(const char *map, uint32_t family, const char *table,
			 const char *chain, uint64_t handle);

/* Entry n's tables "before.snap" or "after.snap" (history_file); -ENOENT
 * with err saying so when they were not recorded. */
int history_load(int n, const char *name, struct snapshot *s, char *err, size_t errlen);

/* The path of one of entry n's files: "before.snap", "after.snap"; once
 * the guardian that writes them is done (see history_add). */
int history_file(int n, const char *name, char *buf, size_t len, char *err, size_t errlen);

#endif
