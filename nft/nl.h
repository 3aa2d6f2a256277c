/* nl: one netlink socket to nf_tables (libmnl) and the request/dump loop
 * every reader shares. Receives with a 32 KiB buffer: the kernel sizes each
 * dump batch by the reader's buffer, and nf_tables re-walks what it already
 * sent on every batch, so small buffers make big dumps much slower
 * (100k rules: 24 s with 4 KiB, 2.7 s with 32 KiB). */
#ifndef NFP_NL_H
#define NFP_NL_H

#include <libmnl/libmnl.h>
#include <stddef.h>
#include <stdint.h>

#define NL_RECV_SIZE 32768

struct nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	char *buf;           /* NL_RECV_SIZE bytes */
};

/* 0 or -errno; on error a one-line reason in err. -EPFNOSUPPORT: this
 * kernel has no nf_tables (the only error that means so: a kernel refusing
 * one feature says EOPNOTSUPP). */
int nl_open(struct nl *nl, char *err, size_t errlen);
void nl_close(struct nl *nl);

/* Prepare a request header in nl->buf (type is NFT_MSG_*, NLM_F_* flags
 * added by the caller); the caller appends attributes. */
struct nlmsghdr *nl_request(struct nl *nl, uint16_t type, uint16_t family,
			    uint16_t flags);

/* Send req and run cb on every reply message until the dump or ack ends.
 * Returns 0 or -errno (-EINTR: the ruleset changed during the dump). */
int nl_talk(struct nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data);

/* Dumps read in slices, so that a loop keeps answering keys while a big
 * one comes: a socket of its own (nl_open, then non-blocking), the
 * request sent with mnl_socket_sendto, then one receive buffer of the
 * answer to seq through cb whenever the socket is readable: 1 more to
 * come (or nothing there yet), 0 the end, -errno (-EINTR: the ruleset
 * changed meanwhile). */
int nl_open_nonblock(struct nl *nl);
int nl_recv_slice(struct nl *nl, uint32_t seq, mnl_cb_t cb, void *data);

/* Current ruleset generation id: a cheap "did anything change?". */
int nl_genid(struct nl *nl, uint32_t *genid);

/* Enter the network namespace /run/netns/NAME (as `ip netns exec` does,
 * without its mount tricks: only the network namespace is needed). 0, or
 * -EINVAL (not a name), -ENOENT, -EACCES/-EPERM or -errno with err filled. */
int nl_enter_netns(const char *name, char *err, size_t errlen);

/* A message an admin can act on, for -errno values from the calls above.
 * EPERM/EACCES says "needs root" only when the process is not root. */
const char *nl_strerror(int err);

#endif
