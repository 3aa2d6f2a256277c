/* dumpintr: rule dumps (nft/nl.h nl_talk) while other commits change the
 * ruleset, for tests/integration/nl_dump.sh:
 *   dumpintr NETNS RULES DUMPS
 * makes table inet D, chain c of RULES rules and an empty chain c2; a
 * thread commits to c2 without pause while the main thread dumps c's
 * rules DUMPS times on one socket. The kernel marks a dump the ruleset
 * changed under NLM_F_DUMP_INTR; nl_talk then says -EINTR and must leave
 * the socket usable (the rest of the dump drained, never waited for
 * when it has all come). One line: "dumps N interrupted K whole W"; exit
 * 0, or 1 when a dump went wrong: a whole dump with another count of
 * rules, an error other than -EINTR, or a dump that did not return
 * within 20 s ("hang", from the alarm). */
#include "nft/nl.h"
#include "nft/ruletext.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_bool stop;

static void hang(int sig)
{
	static const char msg[] = "hang: a dump did not return within 20 s\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static void *committer(void *arg)
{
	struct nft_ctx *ctx = arg;

	while (!atomic_load(&stop))
		nft_run_cmd_from_buffer(ctx, "add rule inet D c2 accept; flush chain inet D c2");
	return NULL;
}

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	++*(long *)data;
	return MNL_CB_OK;
}

int main(int argc, char **argv)
{
	struct nft_ctx *setup, *other;
	long rules, dumps, interrupted = 0, whole = 0;
	char err[256], *text;
	size_t len = 0;
	FILE *fp;
	pthread_t t;
	struct nl nl;

	if (argc != 4 || (rules = atol(argv[2])) <= 0 || (dumps = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: dumpintr NETNS RULES DUMPS\n");
		return 2;
	}
	if (nl_enter_netns(argv[1], err, sizeof(err)) || nl_open(&nl, err, sizeof(err))) {
		fprintf(stderr, "dumpintr: %s\n", err);
		return 2;
	}
	setup = ruletext_ctx(0, false);
	other = ruletext_ctx(0, false);
	fp = open_memstream(&text, &len);
	if (!setup || !other || !fp)
		return 2;
	fprintf(fp, "add table inet D\nadd chain inet D c\nadd chain inet D c2\n");
	for (long i = 0; i < rules; i++)
		fprintf(fp, "add rule inet D c tcp dport %ld accept\n", 1 + i % 65000);
	fclose(fp);
	if (nft_run_cmd_from_buffer(setup, text) != 0) {
		fprintf(stderr, "dumpintr: the table: %s\n", nft_ctx_get_error_buffer(setup));
		return 2;
	}
	free(text);
	signal(SIGALRM, hang);
	if (pthread_create(&t, NULL, committer, other))
		return 2;
	for (long i = 0; i < dumps; i++) {
		struct nlmsghdr *req = nl_request(&nl, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP);
		long n = 0;
		int ret;

		mnl_attr_put_strz(req, NFTA_RULE_TABLE, "D");
		mnl_attr_put_strz(req, NFTA_RULE_CHAIN, "c");
		alarm(20);
		ret = nl_talk(&nl, req, count_cb, &n);
		alarm(0);
		if (ret == -EINTR) {
			interrupted++;
		} else if (ret == 0 && n == rules) {
			whole++;
		} else {
			printf("dump %ld: %s, %ld rules of %ld\n", i, ret ? strerror(-ret) : "whole", n,
			       rules);
			atomic_store(&stop, true);
			pthread_join(t, NULL);
			return 1;
		}
	}
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	printf("dumps %ld interrupted %ld whole %ld\n", dumps, interrupted, whole);
	nft_ctx_free(setup);
	nft_ctx_free(other);
	nl_close(&nl);
	return 0;
}
