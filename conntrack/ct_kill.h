/* ct_kill: ending tracked connections of the current network namespace.
 *
 * Deleting a conntrack entry alone does not end a TCP connection: its
 * endpoints never hear of it, and with nf_conntrack_tcp_loose=1 (the
 * default) the next packet creates the entry again. So for every connection
 * with an end on a local socket (this namespace's TCP sockets, and connected
 * UDP sockets, found by an exact 4-tuple in a sock_diag dump), the socket is
 * destroyed first (SOCK_DESTROY, as `ss -K`: TCP sends a reset to the peer
 * and the local program gets ECONNABORTED), then the entries are deleted in
 * batches (ctnetlink, by original tuple and id, so an entry re-created
 * meanwhile is left alone). A forwarded connection has no local socket: its
 * entry is deleted and nothing else happens — its endpoints go on, and
 * unless a rule drops its packets it is tracked anew. */
#ifndef NFP_CT_KILL_H
#define NFP_CT_KILL_H

#include "conntrack/ct.h"
#include "conntrack/ct_filter.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ct_kill_result {
	size_t matched;        /* connections asked to end */
	size_t deleted;        /* conntrack entries deleted */
	size_t gone;           /* entries that were already gone */
	size_t failed;         /* entries the kernel refused to delete */
	size_t local;          /* connections with a local socket end */
	size_t sockets;        /* local sockets destroyed (reset) */
	size_t sockets_failed;
	size_t unlocal;        /* connections without a local socket */
	int first_err;         /* -errno of the first failure, or 0 */
};

struct ct_kill_opts {
	bool no_sockets;       /* delete entries only (as conntrack -D) */
};

/* End the connections t->e[idx[i]] for i < n (idx NULL: every entry of t
 * that is not gone). r is filled even on failure. 0 when every entry was
 * deleted or already gone, else -errno of the first failure with err
 * filled. */
int ct_kill(const struct ct_table *t, const uint32_t *idx, size_t n,
	    const struct ct_kill_opts *o, struct ct_kill_result *r, char *err, size_t errlen);

/* Dump what matches f (the kernel filters what it can) and end it. */
int ct_kill_filter(const struct ct_filter *f, const struct ct_kill_opts *o,
		   struct ct_kill_result *r, char *err, size_t errlen);

#endif
