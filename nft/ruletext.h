/* ruletext: each rule's display text, from libnftables (the real nft
 * printer: stateless, with handles, terse), joined to the libnftnl model by
 * handle. The listing runs in a worker thread so that the kernel dumps of
 * reader.c and of libnftables overlap instead of adding up. */
#ifndef NFP_RULETEXT_H
#define NFP_RULETEXT_H

#include "nft/reader.h"
#include "model/ruleset.h"

#include <pthread.h>
#include <stdbool.h>

struct ruletext_job {
	/* in: filled by ruletext_plan() */
	char **cmds;
	size_t ncmds, cmds_cap;
	bool numeric;        /* ports as numbers (nft's default); else names */
	bool saved;          /* the text as saved (ruletext_plan_tables):
			      * stateless, no handles, sets with elements */
	bool notify;         /* write one byte to notify_fd when done */
	int notify_fd;
	/* out, valid after ruletext_wait() */
	char *text;          /* nft's listings, concatenated; NULL on error */
	uint32_t genid_before, genid_after;
	int err;
	char errmsg[256];
	/* private */
	pthread_t thread;
};

/* Plan the listing of every chain in rs (its structure, rules not needed):
 * chain by chain for tables of few chains — the kernel dumps one chain
 * cheaply but a whole table quadratically — else table by table.
 * 0 or -ENOMEM. */
int ruletext_plan(struct ruletext_job *job, const struct nfp_ruleset *rs);

/* Add the listing of one chain of t (chain NULL: the whole table), the
 * command of ruletext_command; where t has named sets, so listed that
 * libnftables leaves their elements out (unless job->saved) and writes the
 * type of each set, map and meter of t (typeof, object maps): a table's
 * 1M-element set costs nothing (ruletext.c says how). 0 or -ENOMEM. */
int ruletext_plan_table(struct ruletext_job *job, const struct nfp_table *t,
			const char *chain);

/* Plan every table of rs whole, as `nft list ruleset` prints it (with
 * job->saved: what save writes), each once; the tables of iptables-nft's
 * families listed in processes of their own as always. 0 or -ENOMEM. */
int ruletext_plan_tables(struct ruletext_job *job, const struct nfp_ruleset *rs);

/* Add one command to the plan (duplicates are ignored). 0 or -ENOMEM. */
int ruletext_plan_add(struct ruletext_job *job, const char *cmd);

/* Start the planned listing with libnftables in a thread. 0 or -errno. */
int ruletext_start(struct ruletext_job *job);

struct nft_ctx;
/* A libnftables context whose output and errors are kept in its buffers
 * (nft_ctx_get_output_buffer, nft_ctx_get_error_buffer), with the given
 * NFT_CTX_OUTPUT_* flags; with dry_run, commands are checked by the kernel
 * but never committed. NULL when it cannot be made. */
struct nft_ctx *ruletext_ctx(unsigned int output_flags, bool dry_run);
/* Wait for it; returns job->err. */
int ruletext_wait(struct ruletext_job *job);
/* Free the plan and the text. */
void ruletext_job_free(struct ruletext_job *job);

/* Parse `nft -s -a -t list ...` listings and store each rule's text (and
 * each set's key type) into rs, matching tables by family and handle (or
 * name, where a `list chain` header has no handle), chains, sets and rules
 * by handle. Pure: no kernel access. Returns the number of rules that
 * received text, or -ENOMEM. */
long ruletext_join(struct nfp_ruleset *rs, const char *listing);

/* The nft command listing one chain (chain != NULL) or one table, e.g.
 * `list chain ip filter INPUT`. Names nft's grammar does not take as bare
 * words widen it to the table or the whole ruleset (the join ignores what
 * is not in the model): a kernel string never reaches nft's parser. */
void ruletext_command(uint32_t family, const char *table, const char *chain,
		      char *buf, size_t size);

/* `nfpilot ruletext FLAGS FAMILY CMD...`, the hidden verb the listing
 * starts for the tables of one family iptables-nft writes (ruletext.c):
 * those CMD... listed with the NFT_CTX_OUTPUT_* FLAGS on stdout, then the
 * result. Returns the exit status. */
int ruletext_child_main(int argc, char **argv);

#endif
