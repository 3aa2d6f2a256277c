/* history: every change that ended its probation — confirmed, rolled back
 * or reverted — kept under the namespace's history folder (apply/state.h):
 * one numbered folder per change with `meta` (when, who, from where, the
 * outcome and why, the tables), `change.nft` (the change as nft commands
 * or the script applied), and the touched tables before and after as
 * snapshot files (apply/snapfile.h), which `nfpilot restore N` puts back. */
#ifndef NFP_HISTORY_H
#define NFP_HISTORY_H

#include "snapshot.h"

#include <stddef.h>
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

/* Record a change; *n gets its number. 0 or -errno with err filled. */
int history_add(const struct history_entry *e, const char *change,
		const struct snapshot *before, const struct snapshot *after, int *n,
		char *err, size_t errlen);

/* Every entry, oldest first (*out malloc'd). 0 or -errno. */
int history_list(struct history_entry **out, size_t *count, char *err, size_t errlen);

/* Entry n, and its change text when change != NULL (malloc'd).
 * -ENOENT when there is no such entry. */
int history_get(int n, struct history_entry *e, char **change, char *err, size_t errlen);

/* The path of one of entry n's files: "before.snap", "after.snap". */
int history_file(int n, const char *name, char *buf, size_t len, char *err, size_t errlen);

#endif
