/* protocol: what the applier, the other logins and the guardian
 * (probation/guardian.h) say to each other, one SOCK_SEQPACKET message
 * each, in text; the one place those words are written and read. Pure:
 * no I/O.
 *
 * Requests, to the guardian (PROTOCOL_REQUESTS):
 *   start TIMEOUT STRICT FORCE\nUSER\nFROM\nWHAT
 *                          on DIR/start.sock, the run folder's lock with
 *                          it (SCM_RIGHTS): take this probation
 *   hold PID [strict] [detach]  this connection holds the probation
 *                          (detach: on record only, its end reverts nothing)
 *   release                ... no longer (a detached apply)
 *   join PATH [force]      keep the tables of snapshot file PATH not kept
 *                          yet (proven first)
 *   commit KIND PATH TEXTPATH [INCLUDE]  make the change: KIND batch (the
 *                          bytes of a built batch), script (an nft file) or
 *                          restore (a snapshot file); TEXTPATH a file of the
 *                          change as nft commands
 *   confirm | rollback | extend | status
 * Paths are single words (no space).
 *
 * Answers start with "ok" or "err":
 *   start      ok ready | ok forced REFUSED | err refused REASON | err REASON
 *   join       ok | ok refused REFUSED | err refused: REASON | err REASON
 *   commit     ok MS\nTABLES (MS 0: nothing changed) | err batch ERRNO SEQ REASON
 *              | err refused ERRNO REASON (the kernel's) | err REASON
 *   extend     ok MS
 *   confirm, rollback   ok N (the history entry) | err REASON
 *   status     ok\nTEXT
 *   the others ok | err REASON
 * (REFUSED: what of the restore point the kernel refuses, forced anyway;
 * ERRNO negative, SEQ the batch message the kernel refused.)
 *
 * Notices, sent on its own to every holder:
 *   deadline MS                       the deadline is MS from now
 *   end confirmed|reverted|failed N\nREASON   the probation ended */
#ifndef NFP_PROTOCOL_H
#define NFP_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a probation ended (its END notice), or that it runs. */
enum probation_outcome {
	PROB_RUNNING,
	PROB_CONFIRMED,
	PROB_REVERTED,          /* deadline, rollback, applier gone */
	PROB_FAILED,            /* the revert itself failed: see why */
};

/* What a commit makes (its KIND). */
enum change_kind {
	CHANGE_BATCH,           /* a batch, built and not sent (edits) */
	CHANGE_SCRIPT,          /* an nft script, through libnftables */
	CHANGE_RESTORE,         /* a snapshot file put back (restore N) */
};

/* X(ID, "word", its ok carries a number) */
#define PROTOCOL_REQUESTS(X) \
	X(START, "start", false) \
	X(HOLD, "hold", false) \
	X(RELEASE, "release", false) \
	X(JOIN, "join", false) \
	X(COMMIT, "commit", true) \
	X(CONFIRM, "confirm", true) \
	X(ROLLBACK, "rollback", true) \
	X(EXTEND, "extend", true) \
	X(STATUS, "status", false)

enum protocol_req {
#define PROTOCOL_REQ_ENUM(id, word, numbered) REQ_##id,
	PROTOCOL_REQUESTS(PROTOCOL_REQ_ENUM)
#undef PROTOCOL_REQ_ENUM
	REQ_COUNT
};

/* "confirm" for REQ_CONFIRM */
const char *protocol_req_word(enum protocol_req req);

struct protocol_request {
	enum protocol_req req;
	int timeout_s;          /* START */
	bool strict;            /* START, HOLD */
	bool force;             /* START, JOIN */
	bool detach;            /* HOLD */
	int pid;                /* HOLD */
	const char *user, *from, *what;     /* START */
	enum change_kind kind;  /* COMMIT */
	const char *path;       /* JOIN, COMMIT */
	const char *textpath;   /* COMMIT */
	const char *include;    /* COMMIT: NULL or "" for none */
};

/* r as a message in buf: its length, or -EMSGSIZE when it does not fit
 * (or a path has a space in it: -EINVAL). */
int protocol_request_format(const struct protocol_request *r, char *buf, size_t len);
/* A message as a request, in place: r's strings point into msg. 0, or
 * -EINVAL when it is not one. */
int protocol_request_parse(char *msg, struct protocol_request *r);

struct protocol_answer {
	bool ok;
	long long n;            /* ok of a numbered request: MS or N */
	const char *refused;    /* ok of START, JOIN: what the kernel refuses of
				 * the restore point (forced); NULL: nothing */
	bool restore_refused;   /* err of START, JOIN: the kernel refuses the
				 * restore point */
	int kernel_err;         /* err of COMMIT: the kernel refused the change
				 * (-errno); 0: the guardian refused it */
	bool batch;             /* ... the change was a batch: */
	uint32_t seq;           /* ... the message at fault */
	const char *text;       /* ok: TABLES (COMMIT), TEXT (STATUS); err: REASON */
};

/* The answer a to request req as a message in buf: its length (cut to
 * fit when longer). */
int protocol_answer_format(enum protocol_req req, const struct protocol_answer *a, char *buf,
			   size_t len);
/* A message as the answer to req, in place. 0, or -EINVAL when it is not
 * an answer (a notice, say). */
int protocol_answer_parse(enum protocol_req req, char *msg, struct protocol_answer *a);
/* The -errno an err answer to req means for the caller: -ENOTRECOVERABLE
 * (the restore point refused), the kernel's (a change it refused), -EINVAL
 * (a start refused), else -EPERM (the guardian refused). */
int protocol_answer_errno(enum protocol_req req, const struct protocol_answer *a);

enum protocol_note { NOTE_DEADLINE, NOTE_END };

struct protocol_notice {
	enum protocol_note note;
	long long ms;                   /* DEADLINE: from now */
	enum probation_outcome outcome; /* END: PROB_CONFIRMED, PROB_REVERTED, PROB_FAILED */
	int history_n;                  /* END: the history entry, 0 if none */
	const char *reason;             /* END */
};

int protocol_notice_format(const struct protocol_notice *m, char *buf, size_t len);
int protocol_notice_parse(char *msg, struct protocol_notice *m);

#endif
