/* setread: one set's or map's elements from the kernel (libnftnl/libmnl)
 * into a struct setelems (model/setelems.h), in slices: each step takes
 * one receive buffer of the dump (NL_RECV_SIZE), so a caller shows the
 * first page while the rest comes, and polls setread_fd() between steps.
 * An interval set's elements come from the kernel as starts and ends
 * (the end one past the range, from the highest key down); they are
 * joined here into one row a range.
 *
 * The kernel makes each receive buffer of a dump in the recvmsg() that
 * asks for it, walking the set up to where the last one ended (a 1M
 * hash set: tens of ms a buffer, more towards the end), so the receiving
 * is a thread's: it reads ahead at most SETREAD_AHEAD buffers, and
 * setread_fd() (a pipe) is readable while one waits to be parsed.
 *
 * A screen pages through a set so: setread_set, setread_start, then
 * setread_step whenever setread_fd() is readable (one slice, one
 * receive buffer: the loop keeps answering keys); rows appear in
 * into->rows as they come, and only the visible ones are written
 * (setelems_format, _key, _field for a concatenation's columns, _data).
 * Search by address: the key compiled by apply_element_key, then
 * setelems_find. A refresh (a meter's rows that come and go) reads into
 * a second struct setelems and swaps. The CLI (`set list`) writes each
 * slice and lets it go. */
#ifndef NFP_SETREAD_H
#define NFP_SETREAD_H

#include "model/setelems.h"
#include "nft/nl.h"

#include <pthread.h>
#include <stdbool.h>

#define SETREAD_AHEAD 8      /* receive buffers read ahead, at most */

/* The set family/table/name as the kernel has it (its key and data
 * types, flags, default timeout, counters). 0, -ENOENT (no such table or
 * set) or -errno. */
int setread_set(struct nl *nl, uint32_t family, const char *table, const char *name,
		struct setelems_set *out);

/* The same from a set read otherwise (nft/reader.c's dump of a table's
 * sets). */
struct nftnl_set;
void setread_set_of(struct nftnl_set *s, struct setelems_set *out);

struct setread_buf;

struct setread {
	struct nl nl;                /* a socket of its own, non-blocking */
	uint32_t seq;
	bool active;
	/* the receiving thread and what it read */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t room;
	int ready[2];                /* a byte a buffer read: the caller's fd */
	int stop[2];                 /* a byte: the thread ends */
	struct setread_buf *head, *tail;
	size_t queued;
	int th_err;                  /* what ended the receiving: -errno, 0 */
	struct setelems *into;       /* or NULL: counting (setread_count_start) */
	uint32_t count;
	uint8_t end[64];             /* a range's end waiting for its start */
	bool have_end;
};

/* Start reading the elements of into->set (filled by setread_set) into
 * into (its rows emptied first). 0 or -errno. */
int setread_start(struct setread *r, struct setelems *into);
/* The same, counting the elements instead (an interval's end not
 * counted): r->count once setread_step returns 0. */
int setread_count_start(struct setread *r, uint32_t family, const char *table,
			const char *name);
/* The counting of one element message (data: a uint32_t count), for a
 * dump read whole (nft/reader.c). */
int setread_count_cb(const struct nlmsghdr *nlh, void *data);
int setread_fd(const struct setread *r);
/* One slice: 1 = more to come (poll again), 0 = complete, -errno = failed
 * (-EINTR: the set changed during the dump; start again). */
int setread_step(struct setread *r);
void setread_cancel(struct setread *r);

/* The elements of from (a libnftnl set: compiled ones, apply/compile.h)
 * appended to into (into->set filled), as a dump's are. 0 or -errno. */
int setread_elems(struct nftnl_set *from, struct setelems *into);

/* All of it, waiting: setread_set, then the slices until the end (read
 * again if the set changed meanwhile). 0 or -errno with err filled. */
int setread_all(uint32_t family, const char *table, const char *name, struct setelems *out,
		char *err, size_t errlen);

#endif
