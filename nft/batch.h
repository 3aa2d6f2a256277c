/* batch: one nf_tables transaction — begin (optionally carrying the
 * generation it was computed against), messages, end — sent in one go.
 * The kernel commits all of it or nothing; every error it reports is mapped
 * back to the message that caused it through the tag given to that
 * message. */
#ifndef NFP_BATCH_H
#define NFP_BATCH_H

#include "nft/nl.h"

#include <stddef.h>
#include <stdint.h>

struct nftnl_batch;

struct batch {
	struct nftnl_batch *b;
	uint32_t first_seq, seq;
	int *tags;            /* tags[seq - first_seq] */
	size_t ntags, tags_cap;
	int err;              /* -ENOMEM once anything failed to build */
	int pages;            /* pages so far: a new one is zeroed */
};

/* Start a batch; guard != 0: the kernel refuses the whole batch with
 * -ERESTART unless the ruleset generation is still guard. 0 or -ENOMEM. */
int batch_open(struct batch *b, uint32_t guard);
void batch_free(struct batch *b);

/* Header of the next message (NFT_MSG_* type, NLM_F_* flags besides
 * NLM_F_REQUEST); the caller adds the payload, then calls batch_push()
 * with a tag naming what the message is for (>= 0; -1 = none). */
struct nlmsghdr *batch_msg(struct batch *b, uint16_t type, uint16_t family,
			   uint16_t flags);
void batch_push(struct batch *b, int tag);

/* Close and send the batch. 0 when the kernel committed it; else -errno,
 * *failed_tag is the tag of the message the kernel refused (-1 if none or
 * unknown) and err says why. */
int batch_commit(struct nl *nl, struct batch *b, int *failed_tag, char *err,
		 size_t errlen);

/* The same, but only checked: the batch goes without its end, so the
 * kernel validates every message and aborts — nothing changes. 0 when the
 * kernel would take it; else as batch_commit. */
int batch_check(struct nl *nl, struct batch *b, int *failed_tag, char *err, size_t errlen);

/* Close b and write its bytes to fd, for another process to send with
 * batch_send_bytes (the guardian commits a change: probation/guardian.h). 0 or
 * -errno with err filled. */
int batch_save(struct batch *b, int fd, char *err, size_t errlen);

/* The tag of b's message with sequence number seq, or -1. */
int batch_tag(const struct batch *b, uint32_t seq);

/* Send the bytes of a closed batch (checked: whole messages, begin to
 * end) as one message; echo(nlh, data) for each message the kernel echoes
 * (those sent with NLM_F_ECHO: a new rule, with its handle). 0, or -errno
 * with *failed_seq the sequence number of the message the kernel refused
 * (0 if none) and err saying why. */
int batch_send_bytes(struct nl *nl, void *buf, size_t len, mnl_cb_t echo, void *data,
		     uint32_t *failed_seq, char *err, size_t errlen);

/* What a kernel refusal of a batch message means, for -errno. */
const char *batch_strerror(int err);

#endif
