/* probation: every change is applied on probation. Before it reaches the
 * kernel, the tables it may touch are snapshotted and handed to a guardian
 * (probation/guardian.h): a separate process in its own session that restores
 * them at the deadline unless the change is confirmed — and at once if the
 * process that applied it ends first, unless that process detached on
 * purpose. A second change during a probation joins it: the deadline
 * restarts, the restore point stays the state before the first.
 *
 * The guardian's state lives in the namespace's run folder (probation/state.h):
 * `lock` (held by the guardian: one probation at a time), `start.sock`
 * then `sock` (its control socket), `restore.snap` (the restore point),
 * `info` (what a later login needs if the guardian itself was killed),
 * `failed` (why a revert failed), and the change on its way to the
 * guardian (`change-PID.*`, `join-PID.snap`). This module is the client
 * side: what the TUI and the CLI verbs call. */
#ifndef NFP_PROBATION_H
#define NFP_PROBATION_H

#include "nft/snapshot.h"
#include "nft/nl.h"
#include "probation/protocol.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct probation_opts {
	int timeout_s;          /* seconds, as config_timeout_parse (model/config.h)
				 * took them; 0: CONFIG_TIMEOUT_DEFAULT */
	bool detach;            /* the applier's end does not revert */
	bool strict;            /* only `nfpilot confirm` from another login */
	const char *what;       /* "nfpilot apply web.nft", for status/history */
	bool lockout_ok;        /* the caller's lockout pre-check is skipped
				 * (--ignore-lockout; the probation ignores it) */
	bool force;             /* apply even if the kernel refuses the restore
				 * point (the guardian cannot undo those tables) */
};

/* A probation's id (NETCONF's persist-id): 16 hex digits the guardian
 * draws for every change that goes in, kept in its run folder (`info`);
 * confirm, rollback and extend may name it, and are refused when another
 * change is on probation (or joined it since). */
#define PROB_ID_MAX 24 /* with its NUL: protocol_id_ok */

/* The applier's end of a probation. */
struct probation {
	int fd;                 /* connection to the guardian, -1 if none */
	char id[PROB_ID_MAX];   /* the id of this change's probation ("" if none) */
	int64_t deadline_ms;    /* CLOCK_MONOTONIC, ms */
	bool joined;            /* joined a probation already running */
	bool strict;
	enum probation_outcome outcome;
	int history_n;          /* history entry of the outcome, 0 if none */
	char tables[512];       /* the touched tables */
	char why[512];          /* what ended it */
	char refused[1024];     /* forced: the restore the kernel refused */
};

/* A change to make on probation, and its restore point. The guardian
 * makes the change itself, so that it reaches the kernel only while its
 * restore point is held. */
struct batch;
struct probation_change {
	/* the restore point: whole snapshots of the tables ids names (NULL:
	 * of every table; only those the change did change are kept) ... */
	const struct snap_id *ids;
	size_t nids;
	/* ... or this one, made by the caller (an inverse: apply/inverse.h),
	 * taken over (*point is emptied) */
	struct snapshot *point;
	enum change_kind kind;
	/* BATCH: guarded by the generation the restore point was read at;
	 * the tag of the message the kernel refused goes to *failed_tag */
	struct batch *batch;
	int *failed_tag;
	/* SCRIPT: a file of the run folder (probation_script), run when the
	 * ruleset is still at the generation the restore point was read at,
	 * includes looked up in include (or NULL); RESTORE: the snapshot
	 * file, restored guarded by that generation */
	const char *path;
	const char *include;
	const char *text;       /* the change as nft commands or the script */
};

/* The script text, as a file of the run folder for a CHANGE_SCRIPT (the
 * applier checks it first: nft's dry run of that file). path gets its
 * name. 0 or -errno with err filled. */
int probation_script(const char *text, size_t len, char *path, size_t plen, char *err,
		     size_t errlen);

/* Make the change on probation. Before it reaches the kernel the
 * restore point is handed to a guardian (probation/guardian.h), which first
 * has the kernel accept its restore (a batch checked, never committed):
 * when it refuses, nothing is applied and err says which table and object
 * cannot be restored and why (-ENOTRECOVERABLE); with o->force the change
 * goes in anyway and p->refused says what the guardian cannot undo. A
 * change while a probation runs joins it: the deadline restarts, the
 * restore point stays the state before the first.
 *
 * Returns 0 when the change went in and the probation runs (p->fd is
 * open: keep it open until confirmed; closing it reverts unless
 * detached); the change's error when nothing was applied (*applied
 * false); any other -errno when the probation could not start (nothing
 * applied). err says why. */
/* Put back the tables of history entry n as they were after its change
 * (before: before it), on probation as probation_apply (o->what is set to
 * "nfpilot restore N"): `nfpilot restore N` and the history view's key.
 * Returns as probation_apply; -ENOENT and others with err filled when the
 * entry or its snapshot cannot be read. */
int probation_restore(struct nl *nl, int n, bool before, struct probation_opts *o,
		      struct probation *p, char *err, size_t errlen);

int probation_apply(struct nl *nl, struct probation_change *ch, const struct probation_opts *o,
		    struct probation *p, bool *applied, char *err, size_t errlen);

/* Send a request — REQ_CONFIRM, REQ_ROLLBACK, REQ_EXTEND, REQ_RELEASE
 * (probation/protocol.h) — through p (NULL: a new connection, as from
 * another login); confirm, rollback and extend with id (not NULL) only if
 * it is the running probation's. Waits for the answer; fills p (when
 * given) with the outcome, *n (may be NULL) with its number: the history
 * entry (confirm, rollback), the ms left (extend). 0, -ENOENT when no
 * probation runs, -ESRCH when the one running has another id (nothing
 * done), or -errno with err = the guardian's reason (strict mode refusing
 * a confirm from the applying session, ...). */
int probation_send(struct probation *p, enum protocol_req req, const char *id, long long *n,
		   char *err, size_t errlen);

/* Read what the guardian said on its own (end of probation, new
 * deadline) without blocking; call when p->fd is readable. Returns true
 * when p changed. After an outcome p->fd is closed (-1). */
bool probation_poll(struct probation *p);

/* Milliseconds left, 0 past the deadline. */
int64_t probation_left_ms(const struct probation *p);

/* Close the applier's end: reverts at once unless released/confirmed. */
void probation_close(struct probation *p);

/* What `nfpilot status` shows: the guardian's own account, or the state a
 * dead guardian left behind, as "key: value" lines (times in seconds since
 * the epoch). 0 (text filled, *running set), or -errno. */
int probation_status(char *text, size_t len, bool *running, char *err, size_t errlen);
/* Every line of text whose key is a time (started, deadline), as a local
 * date for a person. */
void probation_local_times(char *text, size_t len);

/* A guardian killed before it finished leaves its restore point behind:
 * restore it (rollback) or drop it (confirm); with id (not NULL), only if
 * it is that probation's. 0, -ENOENT if none, -ESRCH if another's. */
int probation_recover(struct nl *nl, bool restore, const char *id, char *err, size_t errlen);

/* Files in the run folder, shared with probation/guardian.c */
#define PROB_LOCK "lock"
#define PROB_SOCK "sock"
#define PROB_START_SOCK "start.sock" /* a starting guardian's, for its applier */
#define PROB_RESTORE "restore.snap"
#define PROB_INFO "info"
#define PROB_FAILNOTE "failed"  /* a revert failed: why, and its history entry */
#define PROB_MSG_MAX 65536

/* Write text as the run folder's file name (safefile: mode 0600, a temporary
 * file renamed over it, never through a link). 0 or -errno, err filled. */
int prob_write_run_file(const char *dir, const char *name, const char *text, char *err,
			size_t errlen);

#endif
