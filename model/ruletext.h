/* ruletext: each rule's display text, from libnftables (the real nft
 * printer: stateless, with handles, terse), joined to the libnftnl model by
 * handle. The listing runs in a worker thread so that the kernel dumps of
 * reader.c and of libnftables overlap instead of adding up. */
#ifndef NFP_RULETEXT_H
#define NFP_RULETEXT_H

#include "reader.h"
#include "ruleset.h"

#include <pthread.h>
#include <stdbool.h>

struct ruletext_job {
	/* in */
	struct reader_scope scope;
	bool numeric;        /* no service/protocol names: like iptables -n */
	/* out, valid after ruletext_wait() */
	char *text;          /* nft's listing; NULL on error */
	uint32_t genid_before, genid_after;
	int err;
	char errmsg[256];
	/* private */
	pthread_t thread;
};

/* Start listing scope with libnftables in a thread. 0 or -errno. */
int ruletext_start(struct ruletext_job *job);
/* Wait for it; returns job->err. The caller frees job->text. */
int ruletext_wait(struct ruletext_job *job);

/* Parse an `nft -s -a -t list ...` listing and store each rule's text (and
 * each set's key type) into rs, matching tables by (family, handle), chains,
 * sets and rules by handle. Pure: no kernel access. Returns the number of
 * rules that received text, or -ENOMEM. */
long ruletext_join(struct nfp_ruleset *rs, const char *listing);

/* The nft command listing scope, e.g. `list chain ip filter "INPUT"`; names
 * that cannot be quoted safely widen the scope to their table or the whole
 * ruleset (the join ignores what is not in the model). */
void ruletext_command(const struct reader_scope *scope, char *buf, size_t size);

#endif
