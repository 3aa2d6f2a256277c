/* ct_sys: the conntrack settings and counts under /proc/sys/net/netfilter
 * of the current network namespace — entries in use (per namespace), the
 * table's maximum (one value for the whole host, writable only from the
 * initial namespace), accounting and timestamps (per namespace; they apply
 * to connections created after they are turned on). */
#ifndef NFP_CT_SYS_H
#define NFP_CT_SYS_H

#include <stdbool.h>
#include <stddef.h>

struct ct_sys {
	unsigned long count;   /* nf_conntrack_count */
	unsigned long max;     /* nf_conntrack_max */
	bool acct;             /* nf_conntrack_acct */
	bool timestamp;        /* nf_conntrack_timestamp */
	bool tcp_loose;        /* nf_conntrack_tcp_loose */
};

/* Read them all. 0, or -errno with err filled (-ENOENT: conntrack is not
 * available). */
int ct_sys_read(struct ct_sys *s, char *err, size_t errlen);

/* Turn accounting (packets and bytes per connection) or timestamps on or
 * off in this namespace. 0 or -errno with err filled. */
int ct_sys_set_acct(bool on, char *err, size_t errlen);
int ct_sys_set_timestamp(bool on, char *err, size_t errlen);

/* Whether count is close to max (>= 90 %): new connections are about to
 * be dropped ("nf_conntrack: table full, dropping packet"). */
bool ct_sys_near_full(const struct ct_sys *s);

#endif
