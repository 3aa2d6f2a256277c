/* ct_nl: the ctnetlink wire format — a conntrack message parsed into a
 * struct ct_entry, tuples and kernel-side filters written into requests.
 *
 * Parsing is done here rather than by libnetfilter_conntrack: its parser
 * into a struct nf_conntrack adds half the kernel's own dump time (a
 * million entries: 2.1 s through an nfct callback that does nothing, 1.4 s
 * for the raw netlink dump; see DESIGN.md), and nfpilot must list them in
 * half of `conntrack -L`'s time. */
#ifndef NFP_CT_NL_H
#define NFP_CT_NL_H

#include "conntrack/ct.h"
#include "conntrack/ct_filter.h"

#include <libmnl/libmnl.h>
#include <stddef.h>
#include <stdint.h>

/* Receive buffer of dumps and events: the kernel sizes each dump batch by
 * the reader's buffer, up to 32 KiB. */
#define CT_NL_RECV_SIZE 32768

/* Parse an IPCTNL_MSG_CT_NEW/DELETE message (dump reply or event). 0, or
 * -EINVAL when it is not a usable conntrack entry (e is then undefined). */
int ct_nl_parse(const struct nlmsghdr *nlh, struct ct_entry *e);

/* A ctnetlink request header in buf: type is IPCTNL_MSG_*, family the
 * nfgen family (AF_UNSPEC for all). */
struct nlmsghdr *ct_nl_request(void *buf, uint16_t type, uint8_t family, uint16_t flags,
			       uint32_t seq);

/* Append a CTA_TUPLE_ORIG/REPLY nest of t. */
void ct_nl_put_tuple(struct nlmsghdr *nlh, uint16_t attr, uint8_t family, uint8_t proto,
		     const struct ct_tuple *t);

/* Append the kernel part of a filter to a dump request whose nfgen family
 * is family (k->family, or each family in turn when it is 0). */
void ct_nl_put_kfilter(struct nlmsghdr *nlh, const struct ct_kfilter *k, uint8_t family);

/* A message for an -errno from ctnetlink. */
const char *ct_nl_strerror(int err);

#endif
