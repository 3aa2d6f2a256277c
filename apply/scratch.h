/* scratch: work done where it cannot touch the live ruleset — in a forked
 * child inside a new, empty network namespace (rendering snapshots as
 * text, comparing the boot file, a script's dry run). */
#ifndef NFP_SCRATCH_H
#define NFP_SCRATCH_H

#include <stddef.h>

/* What the child does: its answer as text (malloc'd), or NULL with err. */
typedef char *(*scratch_fn)(void *arg, char *err, size_t errlen);

/* Run fn in the child; its text comes back in *text (malloc'd). 0, or
 * -errno with err filled (fn's own err, or why the namespace failed). */
int scratch_run(scratch_fn fn, void *arg, char **text, char *err, size_t errlen);

#endif
