/* Unit tests of nft/trace.c: trace messages, made here as the kernel
 * sends them (NFT_MSG_TRACE with its attributes), decoded by libnftnl and
 * gathered into packets: the path with the returns the kernel does not
 * announce, the NAT seen between two chains, the deciding step, how a
 * packet ends (our own end chains, a drop, silence), and packets nfpilot
 * did not mark left out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nft/trace.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>

#define OURS TRACE_TABLE_PREFIX "1"

struct ev {
	uint32_t id, type, family;
	const char *table, *chain;
	uint64_t handle;
	bool verdict;
	int32_t code;
	const char *target;
	const uint8_t *net;   /* 20 bytes of IPv4, then 20 of TCP */
};

static char buf[4096];

static const struct nlmsghdr *msg(const struct ev *e)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = (uint8_t)e->family;
	mnl_attr_put_strz(nlh, NFTA_TRACE_TABLE, e->table);
	mnl_attr_put_strz(nlh, NFTA_TRACE_CHAIN, e->chain);
	mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(e->id));
	mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(e->type));
	mnl_attr_put_u32(nlh, NFTA_TRACE_NFPROTO, htonl(NFPROTO_IPV4));
	if (e->handle)
		mnl_attr_put_u64(nlh, NFTA_TRACE_RULE_HANDLE, __builtin_bswap64(e->handle));
	if (e->type == NFT_TRACETYPE_POLICY)
		mnl_attr_put_u32(nlh, NFTA_TRACE_POLICY, htonl((uint32_t)e->code));
	if (e->verdict) {
		struct nlattr *v = mnl_attr_nest_start(nlh, NFTA_TRACE_VERDICT);

		mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl((uint32_t)e->code));
		if (e->target)
			mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, e->target);
		mnl_attr_nest_end(nlh, v);
	}
	if (e->net) {
		mnl_attr_put(nlh, NFTA_TRACE_NETWORK_HEADER, 20, e->net);
		mnl_attr_put(nlh, NFTA_TRACE_TRANSPORT_HEADER, 20, e->net + 20);
	}
	return nlh;
}

/* tcp 10.0.0.2:40000 -> 10.0.0.1:DPORT, a SYN */
static void syn(uint8_t *b, uint16_t dport)
{
	memset(b, 0, 40);
	b[0] = 0x45;
	b[3] = 40;
	b[9] = IPPROTO_TCP;
	inet_pton(AF_INET, "10.0.0.2", b + 12);
	inet_pton(AF_INET, "10.0.0.1", b + 16);
	b[20] = 40000 >> 8;
	b[21] = 40000 & 0xff;
	b[22] = (uint8_t)(dport >> 8);
	b[23] = (uint8_t)dport;
	b[33] = 0x02;
}

static void feed(struct trace_asm *a, const struct ev *e, double now)
{
	assert_int_equal(trace_asm_msg(a, msg(e), now), 0);
}

static void test_path(void **state)
{
	uint8_t before[40], after[40];
	struct trace_asm a;
	struct trace_packet *p;
	char line[256];

	(void)state;
	syn(before, 8443);
	syn(after, 443);
	trace_asm_init(&a, OURS);
	feed(&a, &(struct ev){ 1, NFT_TRACETYPE_RULE, NFPROTO_INET, OURS, "marker", 2, true,
			       NFT_CONTINUE, NULL, before }, 1.0);
	feed(&a, &(struct ev){ 1, NFT_TRACETYPE_RULE, NFPROTO_IPV4, "nat", "prerouting", 5, true,
			       NF_ACCEPT, NULL, before }, 1.0);
	/* a packet nfpilot did not mark: not followed */
	feed(&a, &(struct ev){ 7, NFT_TRACETYPE_RULE, NFPROTO_INET, "web", "input", 7, true,
			       NF_DROP, NULL, before }, 1.0);
	feed(&a, &(struct ev){ 1, NFT_TRACETYPE_RULE, NFPROTO_INET, "web", "input", 7, true,
			       NFT_JUMP, "checks", after }, 1.0);
	feed(&a, &(struct ev){ 1, NFT_TRACETYPE_RULE, NFPROTO_INET, "web", "checks", 9, true,
			       NFT_CONTINUE, NULL, after }, 1.0);
	/* back in input: the kernel said nothing of the return */
	feed(&a, &(struct ev){ 1, NFT_TRACETYPE_RULE, NFPROTO_INET, "web", "input", 8, true,
			       NF_ACCEPT, NULL, after }, 1.0);
	assert_null(trace_asm_take(&a));
	feed(&a, &(struct ev){ 1, NFT_TRACETYPE_POLICY, NFPROTO_INET, OURS, "in_end", 0, false,
			       NF_ACCEPT, NULL, after }, 1.1);
	p = trace_asm_take(&a);
	assert_non_null(p);
	assert_int_equal(a.foreign, 1);
	assert_true(p->complete);
	assert_string_equal(p->end, "delivered to this host");
	trace_hdr_format(&p->hdr, line, sizeof(line));
	assert_string_equal(line, "ip tcp 10.0.0.2:40000 -> 10.0.0.1:8443 [S] len 40");
	assert_int_equal(p->nsteps, 5);
	assert_string_equal(p->steps[0].table, "nat");
	assert_null(p->steps[0].nat);
	assert_int_equal(p->steps[1].verdict, NFT_JUMP);
	assert_string_equal(p->steps[1].target, "checks");
	assert_string_equal(p->steps[1].nat, "destination 10.0.0.1:8443 -> 10.0.0.1:443");
	assert_string_equal(p->steps[2].chain, "checks");
	assert_int_equal(p->steps[2].verdict, NFT_CONTINUE);
	assert_int_equal(p->steps[3].kind, TRACE_RETURN);
	assert_string_equal(p->steps[3].chain, "checks");
	assert_int_equal(p->steps[4].kind, TRACE_RULE);
	assert_int_equal(p->steps[4].handle, 8);
	assert_int_equal(p->verdict, NF_ACCEPT);
	assert_int_equal(p->decided, 4);
	trace_packet_free(p);
	trace_asm_free(&a);
}

static void test_ends(void **state)
{
	uint8_t h[40];
	struct trace_asm a;
	struct trace_packet *p;

	(void)state;
	syn(h, 22);
	trace_asm_init(&a, OURS);
	/* dropped by a policy: complete at once */
	feed(&a, &(struct ev){ 2, NFT_TRACETYPE_RULE, NFPROTO_INET, OURS, "marker", 2, true,
			       NFT_CONTINUE, NULL, h }, 1.0);
	feed(&a, &(struct ev){ 2, NFT_TRACETYPE_POLICY, NFPROTO_INET, "web", "input", 0, false,
			       NF_DROP, NULL, h }, 1.0);
	p = trace_asm_take(&a);
	assert_non_null(p);
	assert_true(p->complete);
	assert_string_equal(p->end, "dropped");
	assert_int_equal(p->nsteps, 1);
	assert_int_equal(p->steps[0].kind, TRACE_POLICY);
	assert_int_equal(p->decided, 0);
	trace_packet_free(p);
	/* silence: complete only when quiet long enough, and incomplete */
	feed(&a, &(struct ev){ 3, NFT_TRACETYPE_RULE, NFPROTO_INET, OURS, "marker", 2, true,
			       NFT_CONTINUE, NULL, h }, 5.0);
	trace_asm_expire(&a, 5.2, TRACE_QUIET);
	assert_null(trace_asm_take(&a));
	trace_asm_expire(&a, 6.0, TRACE_QUIET);
	p = trace_asm_take(&a);
	assert_non_null(p);
	assert_false(p->complete);
	assert_int_equal(p->verdict, -1);
	assert_string_equal(p->end, "no more trace messages");
	trace_packet_free(p);
	/* sent out: our postrouting end chain, no verdict on the way: accept */
	feed(&a, &(struct ev){ 4, NFT_TRACETYPE_RULE, NFPROTO_INET, OURS, "marker", 2, true,
			       NFT_CONTINUE, NULL, h }, 7.0);
	feed(&a, &(struct ev){ 4, NFT_TRACETYPE_POLICY, NFPROTO_INET, OURS, "post_end", 0, false,
			       NF_ACCEPT, NULL, h }, 7.0);
	p = trace_asm_take(&a);
	assert_non_null(p);
	assert_string_equal(p->end, "sent out");
	assert_int_equal(p->verdict, NF_ACCEPT);
	assert_int_equal(p->decided, -1);
	trace_packet_free(p);
	trace_asm_free(&a);
}

static void test_names(void **state)
{
	char f[12];

	(void)state;
	assert_string_equal(trace_verdict_name(NF_DROP), "drop");
	assert_string_equal(trace_verdict_name(NFT_GOTO), "goto");
	assert_string_equal(trace_verdict_name(NF_QUEUE | (3 << 16)), "queue");
	trace_tcp_flags(0x12, f, sizeof(f));
	assert_string_equal(f, "SA");
	assert_int_equal(trace_decode(mnl_nlmsg_put_header(buf), &(struct trace_event){ 0 }),
			 -EINVAL);
}

/* The lines the trace screen and `nfpilot trace` write of a step and of
 * the verdict: the deciding mark, the handle or [new], the jump's target,
 * the policy; a line too short is cut, never overrun. */
static void test_lines(void **state)
{
	struct trace_step steps[3] = {
		{ .kind = TRACE_RULE, .family = NFPROTO_INET, .table = "web", .chain = "input",
		  .handle = 7, .verdict = NFT_JUMP, .target = "checks", .hook = "input",
		  .text = "jump checks", .staged = -1 },
		{ .kind = TRACE_RULE, .family = NFPROTO_INET, .table = "web", .chain = "checks",
		  .verdict = NF_ACCEPT, .text = "tcp dport 22 accept", .staged = 0 },
		{ .kind = TRACE_POLICY, .family = NFPROTO_IPV4, .table = "filter", .chain = "INPUT",
		  .verdict = NF_DROP, .hook = "input", .staged = -1 },
	};
	struct trace_packet p = { .steps = steps, .nsteps = 3, .verdict = NF_ACCEPT,
				  .decided = 1, .end = "delivered to this host" };
	char line[256], tiny[8];

	(void)state;
	trace_step_format(&steps[0], false, line, sizeof(line));
	assert_string_equal(line, "   input      inet web input  [7] jump checks  -> jump checks");
	trace_step_format(&steps[1], true, line, sizeof(line));
	assert_string_equal(line, " > ?          inet web checks  [new] tcp dport 22 accept  -> accept");
	trace_step_format(&steps[2], false, line, sizeof(line));
	assert_string_equal(line, "   input      ip filter INPUT  policy drop");
	trace_verdict_format(&p, line, sizeof(line));
	assert_string_equal(line, "  verdict: accept by a new rule of inet web checks; "
			    "delivered to this host");
	p.decided = 2;
	p.verdict = NF_DROP;
	p.end = "dropped";
	trace_verdict_format(&p, line, sizeof(line));
	assert_string_equal(line, "  verdict: drop by the policy of ip filter INPUT; dropped");
	p.verdict = -1;
	p.end = "no more trace messages";
	trace_verdict_format(&p, line, sizeof(line));
	assert_string_equal(line, "  verdict: none seen (no more trace messages)");
	trace_step_format(&steps[0], false, tiny, sizeof(tiny));
	assert_string_equal(tiny, "   inpu");
	p.verdict = NF_ACCEPT;
	p.decided = 0;
	trace_verdict_format(&p, tiny, sizeof(tiny));
	assert_string_equal(tiny, "  verdi");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_ends),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
