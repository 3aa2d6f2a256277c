/* scratch: work done by the kernel in a scratch network namespace, new
 * and empty, so that nothing live sees it: compiling rules (apply/compile.h),
 * loading a file or a snapshot to list it as nft would (apply/save.h).
 *
 * The work runs in nfpilot itself, started afresh (posix_spawn of
 * /proc/self/exe with the internal verb `scratch WORK`) and unsharing its
 * network namespace first: the live view has a worker thread, and after a
 * fork only async-signal-safe calls are allowed, never libnftables. Its
 * input goes to its stdin (a memfd, written whole first); what it sends
 * back are records on its stdout.
 *
 * A work may also be kept running and asked again and again (a session:
 * the set screen's search compiles each key in the same namespace, made
 * once): scratch_start gives it its input (j->put's) as its first
 * request, then each scratch_ask sends one, answered by records up to
 * one of kind SCRATCH_DONE (or an error record); the work reads each
 * with scratch_next. */
#ifndef NFP_SCRATCH_H
#define NFP_SCRATCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* One record back: kind (the work's own, from 1; SCRATCH_ERROR: the work
 * failed, data its message, index what failed), index, len bytes. */
#define SCRATCH_ERROR 0xffffu
#define SCRATCH_DONE 0xfffeu    /* a session's answer to a request ends */
struct scratch_rec {
	uint32_t kind;
	uint32_t len;
	int32_t index;
};

struct scratch_job {
	const char *work;                   /* "compile", "load", "restore" */
	/* write the work's input to in; 0 or -errno */
	int (*put)(FILE *in, const void *arg);
	const void *put_arg;
	/* each record but an error, data NUL-ended; 0 or -errno (stops) */
	int (*take)(void *arg, const struct scratch_rec *h, const char *data);
	void *take_arg;
	int failed;                         /* an error record's index */
};

/* Run j: 0 when every record was taken and the work succeeded; -EINVAL
 * when it sent an error (err its message, j->failed its index); a take's
 * error; -EIO (err untouched) when it failed without a word; else -errno
 * with err. */
int scratch_run(struct scratch_job *j, char *err, size_t errlen);

/* A session: the work started, its input (j->put) sent as its first
 * request; not waited for. 0 or -errno with err. */
struct scratch_proc {
	pid_t pid;                          /* 0: none */
	int to, from;                       /* its stdin (a socket: a work gone
					     * is an error, not SIGPIPE), its
					     * stdout */
};
int scratch_start(struct scratch_proc *p, const struct scratch_job *j, char *err,
		  size_t errlen);
/* One request (len bytes) to p; its records to j->take up to its
 * SCRATCH_DONE. 0; -EINVAL when the work sent an error (err, j->failed)
 * — it is still there for the next; a take's error; -EPIPE (err filled)
 * when the work is gone. */
int scratch_ask(struct scratch_proc *p, struct scratch_job *j, const void *data, uint32_t len,
		char *err, size_t errlen);
/* The session ended (the work sees the end of its requests and ends,
 * waited for); p cleared. Nothing on a p never started (zeroed). */
void scratch_stop(struct scratch_proc *p);

/* In the work: a record to the parent. 0, or -1 when it is gone. */
int scratch_send(uint32_t kind, int32_t index, const void *data, uint32_t len);
/* ... the work failed at index: msg sent as an error record; -1 */
int scratch_fail(int32_t index, const char *msg);
/* ... a session's next request, read from in (its input's stream): into
 * *data (malloc'd, NUL-ended; the caller frees), its length returned; -1
 * when the parent ended the session. */
long scratch_next(FILE *in, char **data);

/* The internal verb: `nfpilot scratch WORK`, input on stdin, records on
 * stdout. */
int scratch_main(int argc, char **argv);

#endif
