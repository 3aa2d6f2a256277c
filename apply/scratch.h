/* scratch: work done by the kernel in a scratch network namespace, new
 * and empty, so that nothing live sees it: compiling rules (apply/compile.h),
 * loading a file or a snapshot to list it as nft would (apply/save.h).
 *
 * The work runs in nfpilot itself, started afresh (posix_spawn of
 * /proc/self/exe with the internal verb `scratch WORK`) and unsharing its
 * network namespace first: the live view has a worker thread, and after a
 * fork only async-signal-safe calls are allowed, never libnftables. Its
 * input goes to its stdin (a memfd, written whole first); what it sends
 * back are records on its stdout. */
#ifndef NFP_SCRATCH_H
#define NFP_SCRATCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One record back: kind (the work's own, from 1; SCRATCH_ERROR: the work
 * failed, data its message, index what failed), index, len bytes. */
#define SCRATCH_ERROR 0xffffu
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

/* In the work: a record to the parent. 0, or -1 when it is gone. */
int scratch_send(uint32_t kind, int32_t index, const void *data, uint32_t len);
/* ... the work failed at index: msg sent as an error record; -1 */
int scratch_fail(int32_t index, const char *msg);

/* The internal verb: `nfpilot scratch WORK`, input on stdin, records on
 * stdout. */
int scratch_main(int argc, char **argv);

#endif
