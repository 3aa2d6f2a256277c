/* ct_events: following the conntrack table as it changes — a netlink
 * socket subscribed to the new, update and destroy events of the current
 * network namespace, read without blocking and applied to a ct_table.
 *
 * Events say what changed, not the counters (the kernel sends packet and
 * byte counts only when a connection ends), so a view that shows rates also
 * re-reads the table now and then (ct_dump with opts.sync). When events come
 * faster than they are read the socket overflows: ct_events_apply() then
 * returns -ENOBUFS and the table must be re-read (a sync) to be right again,
 * as conntrack-tools' resync does. */
#ifndef NFP_CT_EVENTS_H
#define NFP_CT_EVENTS_H

#include "conntrack/ct.h"

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>

struct ct_events {
	struct mnl_socket *sock;
	char *buf;
	size_t news, updates, destroys;   /* applied so far */
};

/* Subscribe (non-blocking socket, large receive buffer). 0 or -errno with
 * err filled. */
int ct_events_open(struct ct_events *ev, char *err, size_t errlen);
int ct_events_fd(const struct ct_events *ev);

/* Apply pending events to t (which gets an id index if it has none), at
 * most max messages (0: all that are pending). Returns how many were
 * applied, -ENOBUFS when events were lost (re-read the table), or -errno. */
int ct_events_apply(struct ct_events *ev, struct ct_table *t, size_t max);

void ct_events_close(struct ct_events *ev);

#endif
