/* changed: which tables a commit changed, told by the kernel itself. Every
 * object a commit adds or deletes is notified to the nf_tables group
 * (NFNLGRP_NFTABLES), the name of its table the first attribute of each
 * message, and the commit ends with a NEWGEN message carrying the new
 * generation id. A watch listens from before a change until the change's
 * generation: a table no message named was not changed, and needs no
 * re-read to tell (at 100k rules a re-read costs seconds of the kernel's
 * dump).
 *
 * A thread of its own reads the messages as the kernel sends them, so the
 * socket's buffer only holds a burst; if it overflows anyway (ENOBUFS), or
 * a message cannot be read, the watch says it is not complete and the
 * caller must re-read to tell. Commits of other processes in the same
 * window name their tables too: the answer is a superset, never less. */
#ifndef NFP_CHANGED_H
#define NFP_CHANGED_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct changed_table {
	uint32_t family;
	char *name;
};

struct changed_watch {
	struct mnl_socket *sock;
	pthread_t thread;
	int stopfd;                   /* eventfd: the main side says stop */
	bool running;
	uint32_t until;               /* the generation to read up to */
	bool seen_gen;                /* the NEWGEN of until (or later) came */
	bool lost;                    /* a message lost or unreadable */
	uint32_t gens[64];            /* the generations commits made meanwhile */
	size_t ngens;
	struct changed_table *tables; /* each named once */
	size_t ntables, cap;
};

/* Start listening (in the current network namespace). 0, or -errno with
 * err filled: the caller then re-reads as it would without a watch. */
int changed_start(struct changed_watch *w, char *err, size_t errlen);

/* The change was made and the ruleset is at generation genid: read what
 * is left up to its NEWGEN (all of it is queued by then: the kernel
 * notifies before the commit returns) and stop. True when the watch is
 * complete: every table changed up to genid is in w->tables. */
bool changed_stop(struct changed_watch *w, uint32_t genid);

/* Named by a message of the watch. */
bool changed_has(const struct changed_watch *w, uint32_t family, const char *name);

void changed_free(struct changed_watch *w);

#endif
