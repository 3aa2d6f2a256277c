/* ct_dump: reading the conntrack table of the current network namespace.
 * A dump is consumed in slices — one receive of at most 32 KiB (about a
 * hundred entries) per ct_dump_step() — so that a screen can poll the
 * socket beside the keyboard and load a million entries while it keeps
 * answering keys. Entries go into a ct_table (appended, or upserted by
 * identity for a re-read that refreshes counters and rates), or to a
 * callback for a listing that streams. A filter keeps only what matches;
 * its exact conditions are also handed to the kernel (ct_filter_kernel) so
 * that the rest is never sent. */
#ifndef NFP_CT_DUMP_H
#define NFP_CT_DUMP_H

#include "conntrack/ct.h"
#include "conntrack/ct_filter.h"

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>

struct ct_dump_opts {
	const struct ct_filter *filter; /* NULL: everything */
	bool no_kernel_filter;          /* filter in user space only */
	/* Called for each matching entry instead of storing it; a non-zero
	 * return (-errno) stops the dump with that error. */
	int (*each)(const struct ct_entry *e, void *arg);
	void *arg;
	/* Re-read into a loaded table: entries are matched by identity and
	 * updated, rates computed, missing ones marked gone (ct_table_sync_*).
	 * now: monotonic seconds. */
	bool sync;
	double now;
};

struct ct_dump {
	struct mnl_socket *sock;
	char *buf;
	uint32_t portid, seq;
	bool active;
	struct ct_table *into;
	struct ct_dump_opts o;
	struct ct_kfilter kf;
	bool use_kf;
	int phase, nphases;         /* one dump per family when the kernel filter needs it */
	uint8_t families[2];
	size_t received;            /* entries the kernel sent */
	size_t kept;                /* entries that matched */
	size_t phase_received;
	int cb_err;                 /* error from opts.each or out of memory */
	bool keep_socket;           /* ct_dump_all: a reader thread owns the socket */
};

/* Start a dump into `into` (may be NULL when opts->each is set). Without
 * sync the table is appended to. blocking: the socket blocks (for the CLI);
 * otherwise poll ct_dump_fd() and call ct_dump_step() when it is readable.
 * 0 or -errno with err filled. */
int ct_dump_start(struct ct_dump *d, struct ct_table *into, const struct ct_dump_opts *opts,
		  bool blocking, char *err, size_t errlen);
int ct_dump_fd(const struct ct_dump *d);
/* One slice: 1 = more to come (or nothing to read yet), 0 = complete,
 * -errno = failed (the dump is over). */
int ct_dump_step(struct ct_dump *d, char *err, size_t errlen);
/* Abandon a running dump (its socket is closed). */
void ct_dump_cancel(struct ct_dump *d);

/* The whole dump, blocking. 0 or -errno with err filled. */
int ct_dump_all(struct ct_table *into, const struct ct_dump_opts *opts, size_t *received,
		char *err, size_t errlen);

#endif
