#define _GNU_SOURCE /* asprintf */
#include "nft/trace.h"
#include "util/grow.h"

#include "nft/ruletext.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libnftnl/trace.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- one message ---- */

int trace_decode(const struct nlmsghdr *nlh, struct trace_event *ev)
{
	struct nftnl_trace *t;
	const void *d;
	uint32_t len;

	if ((nlh->nlmsg_type & 0xff) != NFT_MSG_TRACE ||
	    (nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES)
		return -EINVAL;
	t = nftnl_trace_alloc();
	if (!t)
		return -ENOMEM;
	if (nftnl_trace_nlmsg_parse(nlh, t) < 0) {
		nftnl_trace_free(t);
		return -EINVAL;
	}
	memset(ev, 0, sizeof(*ev));
	ev->id = nftnl_trace_get_u32(t, NFTNL_TRACE_ID);
	ev->type = nftnl_trace_get_u32(t, NFTNL_TRACE_TYPE);
	ev->family = nftnl_trace_get_u32(t, NFTNL_TRACE_FAMILY);
	if (nftnl_trace_is_set(t, NFTNL_TRACE_TABLE))
		snprintf(ev->table, sizeof(ev->table), "%s",
			 nftnl_trace_get_str(t, NFTNL_TRACE_TABLE));
	if (nftnl_trace_is_set(t, NFTNL_TRACE_CHAIN))
		snprintf(ev->chain, sizeof(ev->chain), "%s",
			 nftnl_trace_get_str(t, NFTNL_TRACE_CHAIN));
	if (nftnl_trace_is_set(t, NFTNL_TRACE_RULE_HANDLE))
		ev->handle = nftnl_trace_get_u64(t, NFTNL_TRACE_RULE_HANDLE);
	ev->has_verdict = nftnl_trace_is_set(t, NFTNL_TRACE_VERDICT);
	if (ev->has_verdict)
		ev->verdict = (int32_t)nftnl_trace_get_u32(t, NFTNL_TRACE_VERDICT);
	if (nftnl_trace_is_set(t, NFTNL_TRACE_JUMP_TARGET))
		snprintf(ev->target, sizeof(ev->target), "%s",
			 nftnl_trace_get_str(t, NFTNL_TRACE_JUMP_TARGET));
	ev->has_policy = nftnl_trace_is_set(t, NFTNL_TRACE_POLICY);
	if (ev->has_policy)
		ev->policy = nftnl_trace_get_u32(t, NFTNL_TRACE_POLICY);
	if (nftnl_trace_is_set(t, NFTNL_TRACE_NFPROTO))
		ev->nfproto = nftnl_trace_get_u32(t, NFTNL_TRACE_NFPROTO);
	if (nftnl_trace_is_set(t, NFTNL_TRACE_IIF))
		ev->iif = nftnl_trace_get_u32(t, NFTNL_TRACE_IIF);
	if (nftnl_trace_is_set(t, NFTNL_TRACE_OIF))
		ev->oif = nftnl_trace_get_u32(t, NFTNL_TRACE_OIF);
	ev->has_mark = nftnl_trace_is_set(t, NFTNL_TRACE_MARK);
	if (ev->has_mark)
		ev->mark = nftnl_trace_get_u32(t, NFTNL_TRACE_MARK);
	if (nftnl_trace_is_set(t, NFTNL_TRACE_NETWORK_HEADER)) {
		d = nftnl_trace_get_data(t, NFTNL_TRACE_NETWORK_HEADER, &len);
		ev->netlen = len < sizeof(ev->net) ? len : sizeof(ev->net);
		memcpy(ev->net, d, ev->netlen);
	}
	if (nftnl_trace_is_set(t, NFTNL_TRACE_TRANSPORT_HEADER)) {
		d = nftnl_trace_get_data(t, NFTNL_TRACE_TRANSPORT_HEADER, &len);
		ev->thlen = len < sizeof(ev->th) ? len : sizeof(ev->th);
		memcpy(ev->th, d, ev->thlen);
	}
	nftnl_trace_free(t);
	return 0;
}

/* ---- headers ---- */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool ext_header(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51 || nh == 135;
}

/* The headers of ev; false when it carries none. */
static bool decode_hdr(const struct trace_event *ev, struct trace_hdr *h)
{
	const uint8_t *n = ev->net;

	if (!ev->netlen)
		return false;
	memset(h, 0, sizeof(*h));
	if ((n[0] >> 4) == 4 && ev->netlen >= 20) {
		h->family = AF_INET;
		h->proto = n[9];
		h->len = be16(n + 2);
		memcpy(h->saddr, n + 12, 4);
		memcpy(h->daddr, n + 16, 4);
	} else if ((n[0] >> 4) == 6 && ev->netlen >= 40) {
		h->family = AF_INET6;
		h->proto = n[6];
		h->len = (uint16_t)(be16(n + 4) + 40);
		memcpy(h->saddr, n + 8, 16);
		memcpy(h->daddr, n + 24, 16);
		if (ext_header(h->proto))
			return true; /* the transport protocol is further on */
	} else {
		return true;
	}
	switch (h->proto) {
	case IPPROTO_TCP:
		if (ev->thlen >= 14)
			h->tcp_flags = ev->th[13];
		/* fall through */
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		if (ev->thlen >= 4) {
			h->ports = true;
			h->sport = be16(ev->th);
			h->dport = be16(ev->th + 2);
		}
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (ev->thlen >= 2) {
			h->icmp = true;
			h->icmp_type = ev->th[0];
			h->icmp_code = ev->th[1];
		}
		break;
	}
	return true;
}

const char *trace_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	case IPPROTO_SCTP: return "sctp";
	case IPPROTO_UDPLITE: return "udplite";
	case IPPROTO_DCCP: return "dccp";
	case IPPROTO_GRE: return "gre";
	case IPPROTO_ESP: return "esp";
	case IPPROTO_AH: return "ah";
	}
	return NULL;
}

void trace_addr_format(uint8_t family, const uint8_t *addr, char *buf, size_t len)
{
	if (!inet_ntop(family, addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

void trace_tcp_flags(uint8_t flags, char *buf, size_t len)
{
	static const char letters[] = "FSRPAUEC";
	size_t k = 0;

	for (int b = 0; b < 8 && k + 1 < len; b++)
		if (flags & (1 << b))
			buf[k++] = letters[b];
	buf[k < len ? k : len - 1] = 0;
}

/* "10.0.0.1:22", "[2001:db8::1]:22", or the address alone */
static void endpoint(const struct trace_hdr *h, const uint8_t *addr, uint16_t port, char *buf,
		     size_t len)
{
	char a[INET6_ADDRSTRLEN];

	trace_addr_format(h->family, addr, a, sizeof(a));
	if (!h->ports)
		snprintf(buf, len, "%s", a);
	else if (h->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

void trace_hdr_format(const struct trace_hdr *h, char *buf, size_t len)
{
	char s[64], d[64], pn[16], extra[64] = "";
	const char *proto = trace_proto_name(h->proto);
	size_t k;

	if (!h->family) {
		snprintf(buf, len, "not IP");
		return;
	}
	if (!proto) {
		snprintf(pn, sizeof(pn), "proto %u", h->proto);
		proto = pn;
	}
	endpoint(h, h->saddr, h->sport, s, sizeof(s));
	endpoint(h, h->daddr, h->dport, d, sizeof(d));
	if (h->proto == IPPROTO_TCP) {
		char f[12];

		trace_tcp_flags(h->tcp_flags, f, sizeof(f));
		snprintf(extra, sizeof(extra), " [%s]", f);
	} else if (h->icmp) {
		snprintf(extra, sizeof(extra), " type %u code %u", h->icmp_type, h->icmp_code);
	}
	k = (size_t)snprintf(buf, len, "%s %s %s -> %s%s", h->family == AF_INET ? "ip" : "ip6",
			     proto, s, d, extra);
	if (k < len && h->iif)
		k += (size_t)snprintf(buf + k, len - k, " iif %s", h->iifname);
	if (k < len && h->oif)
		k += (size_t)snprintf(buf + k, len - k, " oif %s", h->oifname);
	if (k < len && h->mark)
		k += (size_t)snprintf(buf + k, len - k, " mark 0x%x", h->mark);
	if (k < len)
		snprintf(buf + k, len - k, " len %u", h->len);
}

const char *trace_verdict_name(int v)
{
	switch (v) {
	case NF_ACCEPT: return "accept";
	case NF_DROP: return "drop";
	case NF_QUEUE: return "queue";
	case NF_STOLEN: return "stolen";
	case NF_REPEAT: return "repeat";
	case NFT_CONTINUE: return "continue";
	case NFT_BREAK: return "break";
	case NFT_JUMP: return "jump";
	case NFT_GOTO: return "goto";
	case NFT_RETURN: return "return";
	}
	if ((v & NF_VERDICT_MASK) == NF_QUEUE)
		return "queue";
	if ((v & NF_VERDICT_MASK) == NF_DROP)
		return "drop";
	return "?";
}

/* ---- packets ---- */

void trace_packet_free(struct trace_packet *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nsteps; i++) {
		struct trace_step *s = &p->steps[i];

		free(s->table);
		free(s->chain);
		free(s->target);
		free(s->nat);
		free(s->text);
	}
	free(p->steps);
	free(p->raw);
	free(p->nat_pending);
	free(p);
}

void trace_asm_init(struct trace_asm *a, const char *ours)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->ours, sizeof(a->ours), "%s", ours ? ours : "");
}

void trace_asm_free(struct trace_asm *a)
{
	for (size_t i = 0; i < a->nopen; i++)
		trace_packet_free(a->open[i]);
	for (size_t i = 0; i < a->ndone; i++)
		trace_packet_free(a->done[i]);
	free(a->open);
	free(a->done);
	a->open = a->done = NULL;
	a->nopen = a->open_cap = a->ndone = a->done_cap = 0;
}

static int finish(struct trace_asm *a, size_t i, bool complete, const char *end)
{
	struct trace_packet *p = a->open[i];

	if (grow(&a->done, &a->done_cap, a->ndone + 1, sizeof(*a->done), 16))
		return -ENOMEM;
	p->complete = complete;
	p->end = end;
	a->done[a->ndone++] = p;
	a->open[i] = a->open[--a->nopen];
	return 0;
}

static long find_open(const struct trace_asm *a, uint32_t id)
{
	for (size_t i = 0; i < a->nopen; i++)
		if (a->open[i]->id == id)
			return (long)i;
	return -1;
}

static const char *name_of(struct trace_asm *a, uint32_t index, char *buf)
{
	const char *n = a->ifname ? a->ifname(a->ifname_ctx, index, buf)
				  : if_indextoname(index, buf);

	if (!n)
		snprintf(buf, IF_NAMESIZE, "#%u", index);
	else if (n != buf)
		snprintf(buf, IF_NAMESIZE, "%s", n);
	return buf;
}

/* What changed between two header sets of one packet (NAT), or NULL. */
static char *header_change(const struct trace_hdr *a, const struct trace_hdr *b)
{
	char x[64], y[64], *out = NULL;
	bool src, dst;

	if (a->family != b->family || !a->family)
		return NULL;
	size_t alen = a->family == AF_INET ? 4 : 16;

	src = memcmp(a->saddr, b->saddr, alen) || (a->ports && b->ports && a->sport != b->sport);
	dst = memcmp(a->daddr, b->daddr, alen) || (a->ports && b->ports && a->dport != b->dport);
	if (dst) {
		endpoint(a, a->daddr, a->dport, x, sizeof(x));
		endpoint(b, b->daddr, b->dport, y, sizeof(y));
		if (asprintf(&out, "destination %s -> %s", x, y) < 0)
			out = NULL;
	}
	if (src) {
		char *both = NULL;

		endpoint(a, a->saddr, a->sport, x, sizeof(x));
		endpoint(b, b->saddr, b->sport, y, sizeof(y));
		if (asprintf(&both, "%s%ssource %s -> %s", out ? out : "", out ? ", " : "", x, y) < 0)
			both = NULL;
		free(out);
		out = both;
	}
	return out;
}

static bool is_final(int verdict)
{
	int v = verdict & NF_VERDICT_MASK;

	return verdict >= 0 && (v == NF_DROP || v == NF_QUEUE || v == NF_STOLEN);
}

static int push_step(struct trace_packet *p, const struct trace_event *ev);

/* The chain a step runs in, and the chains jumped from (a packet's call
 * stack): the kernel says nothing when a chain jumped to ends and the
 * caller goes on, so those returns are told from the next step's chain. */
static int add_step(struct trace_packet *p, const struct trace_event *ev)
{
	bool same_table = p->nsteps && p->steps[p->nsteps - 1].family == ev->family &&
			  strcmp(p->steps[p->nsteps - 1].table, ev->table) == 0;
	int ret;

	if (!same_table)
		p->depth = 0;
	while (same_table && p->depth > 0 && strcmp(p->chain_now, ev->chain) != 0) {
		struct trace_event back = *ev;

		back.type = NFT_TRACETYPE_RETURN;
		back.handle = 0;
		back.verdict = NFT_CONTINUE;
		back.target[0] = 0;
		snprintf(back.chain, sizeof(back.chain), "%s", p->chain_now);
		if ((ret = push_step(p, &back)))
			return ret;
		p->depth--;
		snprintf(p->chain_now, sizeof(p->chain_now), "%s", p->stack[p->depth]);
	}
	if ((ret = push_step(p, ev)))
		return ret;
	snprintf(p->chain_now, sizeof(p->chain_now), "%s", ev->chain);
	if (ev->type == NFT_TRACETYPE_RULE && ev->has_verdict &&
	    (ev->verdict == NFT_JUMP || ev->verdict == NFT_GOTO) && ev->target[0]) {
		if (ev->verdict == NFT_JUMP && p->depth < TRACE_MAX_DEPTH)
			snprintf(p->stack[p->depth++], sizeof(p->stack[0]), "%s", ev->chain);
		snprintf(p->chain_now, sizeof(p->chain_now), "%s", ev->target);
	}
	if (ev->type == NFT_TRACETYPE_RETURN || (ev->has_verdict && ev->verdict == NFT_RETURN)) {
		if (p->depth > 0) {
			p->depth--;
			snprintf(p->chain_now, sizeof(p->chain_now), "%s", p->stack[p->depth]);
		}
	}
	return 0;
}

static int push_step(struct trace_packet *p, const struct trace_event *ev)
{
	struct trace_step *s;

	if (p->nsteps >= TRACE_MAX_STEPS) {
		p->truncated = true;
		return 0;
	}
	if (grow(&p->steps, &p->cap, p->nsteps + 1, sizeof(*p->steps), 16))
		return -ENOMEM;
	s = &p->steps[p->nsteps];
	memset(s, 0, sizeof(*s));
	s->staged = -1;
	s->kind = ev->type == NFT_TRACETYPE_POLICY ? TRACE_POLICY
		  : ev->type == NFT_TRACETYPE_RETURN ? TRACE_RETURN : TRACE_RULE;
	s->family = ev->family;
	s->handle = ev->handle;
	s->verdict = s->kind == TRACE_POLICY ? (int)ev->policy : ev->verdict;
	s->table = strdup(ev->table);
	s->chain = strdup(ev->chain);
	if (ev->target[0])
		s->target = strdup(ev->target);
	if (!s->table || !s->chain || (ev->target[0] && !s->target)) {
		free(s->table);
		free(s->chain);
		free(s->target);
		return -ENOMEM;
	}
	p->nsteps++;
	if (s->kind == TRACE_POLICY || (s->kind == TRACE_RULE && s->verdict >= 0)) {
		p->verdict = s->verdict;
		p->decided = (long)p->nsteps - 1;
	}
	return 0;
}

static int keep_raw(struct trace_packet *p, const struct nlmsghdr *nlh)
{
	if (grow(&p->raw, &p->raw_cap, p->rawlen + nlh->nlmsg_len, 1, 4096))
		return -ENOMEM;
	memcpy(p->raw + p->rawlen, nlh, nlh->nlmsg_len);
	p->rawlen += nlh->nlmsg_len;
	return 0;
}

int trace_asm_msg(struct trace_asm *a, const struct nlmsghdr *nlh, double now)
{
	struct trace_event ev;
	struct trace_packet *p;
	struct trace_hdr h;
	bool ours, info_only;
	long i;
	int ret = trace_decode(nlh, &ev);

	if (ret)
		return ret == -ENOMEM ? ret : 0;
	ours = a->ours[0] && ev.family == NFPROTO_INET && strcmp(ev.table, a->ours) == 0;
	/* a rule message without a rule carries the packet's headers only
	 * (this kernel sends them apart from the first rule's) */
	info_only = ev.type == NFT_TRACETYPE_RULE && !ev.handle;
	i = find_open(a, ev.id);
	if (ours && !info_only && ev.type == NFT_TRACETYPE_RULE && strcmp(ev.chain, "marker") == 0) {
		/* our mark: a packet starts (the kernel may reuse an id) */
		if (i >= 0 && (ret = finish(a, (size_t)i, false, "no more trace messages")))
			return ret;
		if (a->nopen >= TRACE_MAX_OPEN)
			return 0;
		if (grow(&a->open, &a->open_cap, a->nopen + 1, sizeof(*a->open), 16))
			return -ENOMEM;
		p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		p->id = ev.id;
		p->first = now;
		p->verdict = -1;
		p->decided = -1;
		a->open[a->nopen] = p;
		i = (long)a->nopen++;
	} else if (i < 0) {
		a->foreign++;
		return 0;
	}
	p = a->open[i];
	p->last = now;
	if (a->keep_raw && (ret = keep_raw(p, nlh)))
		return ret;
	if (decode_hdr(&ev, &h)) {
		h.iif = ev.iif;
		h.oif = ev.oif;
		h.mark = ev.mark;
		if (h.iif)
			name_of(a, h.iif, h.iifname);
		if (h.oif)
			name_of(a, h.oif, h.oifname);
		if (!p->hdr.family && !p->hdr.proto) {
			p->hdr = p->cur = h;
		} else if (!ours) {
			/* headers changed since the chain before: NAT, shown on
			 * the next step */
			char *nat = header_change(&p->cur, &h);

			if (nat) {
				free(p->nat_pending);
				p->nat_pending = nat;
				p->cur = h;
			}
		}
		if (h.oif && !p->hdr.oif) {
			p->hdr.oif = h.oif;
			memcpy(p->hdr.oifname, h.oifname, sizeof(h.oifname));
		}
	}
	if (ours) {
		bool in = strcmp(ev.chain, "in_end") == 0, out = strcmp(ev.chain, "post_end") == 0;

		if (ev.type != NFT_TRACETYPE_POLICY || (!in && !out))
			return 0;
		/* past every chain of the hook: no rule of the path dropped it */
		if (p->verdict < 0)
			p->verdict = NF_ACCEPT;
		return finish(a, (size_t)i, true, in ? "delivered to this host" : "sent out");
	}
	if (info_only)
		return 0;
	if (add_step(p, &ev))
		return -ENOMEM;
	if (p->nat_pending && p->nsteps) {
		p->steps[p->nsteps - 1].nat = p->nat_pending;
		p->nat_pending = NULL;
	}
	if (p->nsteps && is_final(p->steps[p->nsteps - 1].verdict))
		return finish(a, (size_t)i, true,
			      (p->verdict & NF_VERDICT_MASK) == NF_DROP ? "dropped"
			      : (p->verdict & NF_VERDICT_MASK) == NF_QUEUE ? "queued to a program"
			      : "taken by the kernel");
	return 0;
}

void trace_asm_expire(struct trace_asm *a, double now, double quiet)
{
	for (size_t i = 0; i < a->nopen;)
		if (quiet < 0 || a->open[i]->last < now - quiet) {
			if (finish(a, i, false, "no more trace messages"))
				return;
		} else {
			i++;
		}
}

struct trace_packet *trace_asm_take(struct trace_asm *a)
{
	struct trace_packet *p;

	if (!a->ndone)
		return NULL;
	p = a->done[0];
	memmove(a->done, a->done + 1, (a->ndone - 1) * sizeof(*a->done));
	a->ndone--;
	return p;
}

int trace_packet_describe(struct trace_packet *p, const struct nfp_ruleset *rs)
{
	for (size_t i = 0; i < p->nsteps; i++) {
		struct trace_step *s = &p->steps[i];
		const struct nfp_table *t = ruleset_find_table(rs, s->family, s->table);
		const struct nfp_chain *c = t ? ruleset_find_chain(t, s->chain) : NULL;
		const struct nfp_rule *r;

		if (!c)
			continue;
		if (c->base) {
			s->hook = ruleset_hook_name(t->family, c->hooknum);
			s->prio = c->prio;
		} else {
			/* a regular chain runs in the hook of the chain before */
			for (size_t k = i; k-- > 0 && !s->hook;)
				s->hook = p->steps[k].hook;
		}
		r = s->kind == TRACE_RULE ? ruleset_find_rule(c, s->handle) : NULL;
		if (r && r->text && !s->text && !(s->text = strdup(r->text)))
			return -ENOMEM;
	}
	return 0;
}

/* "inet web input" */
static size_t put_where(char *buf, size_t len, const struct trace_step *s)
{
	const char *fam = ruleset_family_name(s->family);
	int n = snprintf(buf, len, "%s %s %s", fam ? fam : "?", s->table, s->chain);

	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len;
}

void trace_step_format(const struct trace_step *s, bool deciding, char *buf, size_t len)
{
	size_t k = (size_t)snprintf(buf, len, "%s %-10s ", deciding ? " >" : "  ",
				    s->hook ? s->hook : "?");

	if (k >= len)
		return;
	k += put_where(buf + k, len - k, s);
	if (k >= len)
		return;
	switch (s->kind) {
	case TRACE_POLICY:
		snprintf(buf + k, len - k, "  policy %s", trace_verdict_name(s->verdict));
		return;
	case TRACE_RETURN:
		snprintf(buf + k, len - k, "  end of chain: return");
		return;
	case TRACE_RULE:
		break;
	}
	if (s->staged >= 0)
		k += (size_t)snprintf(buf + k, len - k, "  [new]");
	else
		k += (size_t)snprintf(buf + k, len - k, "  [%llu]", (unsigned long long)s->handle);
	if (k < len && s->text)
		k += (size_t)snprintf(buf + k, len - k, " %s", s->text);
	if (k >= len)
		return;
	if (s->verdict == NFT_JUMP || s->verdict == NFT_GOTO)
		snprintf(buf + k, len - k, "  -> %s %s", trace_verdict_name(s->verdict),
			 s->target ? s->target : "?");
	else if (s->verdict != NFT_CONTINUE)
		snprintf(buf + k, len - k, "  -> %s", trace_verdict_name(s->verdict));
}

void trace_verdict_format(const struct trace_packet *p, char *buf, size_t len)
{
	const struct trace_step *s = p->decided >= 0 ? &p->steps[p->decided] : NULL;
	size_t k;

	if (p->verdict < 0) {
		snprintf(buf, len, "  verdict: none seen (%s)", p->end ? p->end : "?");
		return;
	}
	k = (size_t)snprintf(buf, len, "  verdict: %s", trace_verdict_name(p->verdict));
	if (k < len && s) {
		k += (size_t)snprintf(buf + k, len - k, "%s", s->kind == TRACE_POLICY
				      ? " by the policy of " : " by ");
		if (k < len && s->kind == TRACE_RULE && s->staged >= 0)
			k += (size_t)snprintf(buf + k, len - k, "a new rule of ");
		else if (k < len && s->kind == TRACE_RULE)
			k += (size_t)snprintf(buf + k, len - k, "rule %llu of ",
					      (unsigned long long)s->handle);
		if (k < len)
			k += put_where(buf + k, len - k, s);
	} else if (k < len) {
		k += (size_t)snprintf(buf + k, len - k, " (no rule or policy on its path decided)");
	}
	if (k < len)
		snprintf(buf + k, len - k, "; %s", p->end ? p->end : "");
}

/* ---- tracing live traffic ---- */

/* The table: the clauses mark packets (through one chain: a packet that
 * matches several clauses is counted once by the limit), then chains at
 * the very end of input and postrouting tell where a packet's path ends. */
static char *table_script(const char *name, const char *const *clauses, size_t n,
			  bool after_ct, unsigned rate)
{
	/* conntrack runs at -200 (NF_IP_PRI_CONNTRACK) on both hooks */
	const char *prio = after_ct ? "-199" : "-2147483648";
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	if (!fp)
		return NULL;
	fprintf(fp, "table inet %s {\n\tflags owner\n\tchain marker {\n\t\t", name);
	if (rate)
		fprintf(fp, "limit rate %u/second burst %u packets ", rate, rate);
	fputs("meta nftrace set 1\n\t}\n", fp);
	for (int k = 0; k < 2; k++) {
		fprintf(fp, "\tchain %s {\n\t\ttype filter hook %s priority %s; policy accept;\n",
			k ? "out" : "pre", k ? "output" : "prerouting", prio);
		for (size_t i = 0; i < n; i++)
			fprintf(fp, "\t\t%s goto marker\n", clauses[i]);
		fputs("\t}\n", fp);
	}
	fputs("\tchain in_end {\n\t\ttype filter hook input priority 2147483647; policy accept;\n"
	      "\t}\n\tchain post_end {\n\t\ttype filter hook postrouting priority 2147483647; "
	      "policy accept;\n\t}\n}\n", fp);
	if (fclose(fp) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

int trace_open(struct trace *t, const char *const *clauses, size_t n, bool after_ct,
	       unsigned rate, char *err, size_t errlen)
{
	int group = NFNLGRP_NFTRACE, size = 4 << 20;
	char name[64], *script;
	int fd;

	memset(t, 0, sizeof(*t));
	snprintf(name, sizeof(name), TRACE_TABLE_PREFIX "%d", (int)getpid());
	trace_asm_init(&t->asm_, name);
	t->buf = malloc(NL_RECV_SIZE * 2);
	t->sock = mnl_socket_open(NETLINK_NETFILTER);
	if (!t->buf || !t->sock || mnl_socket_bind(t->sock, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(t->sock, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		int e = errno ? errno : ENOMEM;

		snprintf(err, errlen, "cannot join the kernel's trace group: %s%s", strerror(e),
			 e == EPERM && geteuid() ? " (needs root)" : "");
		trace_close(t);
		return -e;
	}
	fd = mnl_socket_get_fd(t->sock);
	/* a burst must not overflow it; as root the limit does not apply */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	t->owner = ruletext_ctx(0, false);
	script = table_script(name, clauses, n, after_ct, rate);
	if (!t->owner || !script) {
		free(script);
		snprintf(err, errlen, "out of memory");
		trace_close(t);
		return -ENOMEM;
	}
	if (nft_run_cmd_from_buffer(t->owner, script) != 0) {
		const char *e = nft_ctx_get_error_buffer(t->owner);

		snprintf(err, errlen, "the kernel refused the tracing table: %s",
			 e && *e ? e : "unknown error");
		free(script);
		trace_close(t);
		return -EINVAL;
	}
	free(script);
	return 0;
}

int trace_fd(const struct trace *t)
{
	return t->sock ? mnl_socket_get_fd(t->sock) : -1;
}

int trace_step(struct trace *t, double now)
{
	for (int round = 0; round < 64; round++) {
		ssize_t r = recv(trace_fd(t), t->buf, NL_RECV_SIZE * 2, MSG_DONTWAIT);
		const struct nlmsghdr *nlh;
		int len;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == ENOBUFS) {
			t->lost++;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r <= 0)
			return r < 0 ? -errno : -EPIPE;
		len = (int)r;
		for (nlh = (const void *)t->buf; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			int ret;

			t->messages++;
			ret = trace_asm_msg(&t->asm_, nlh, now);
			if (ret)
				return ret;
		}
	}
	trace_asm_expire(&t->asm_, now, TRACE_QUIET);
	return (int)t->asm_.ndone;
}

struct trace_packet *trace_take(struct trace *t)
{
	return trace_asm_take(&t->asm_);
}

void trace_close(struct trace *t)
{
	if (t->owner) {
		/* the kernel deletes the table with the socket; say it anyway,
		 * so that it is gone before this returns */
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "delete table inet %s", t->asm_.ours);
		nft_run_cmd_from_buffer(t->owner, cmd);
		nft_ctx_free(t->owner);
	}
	if (t->sock)
		mnl_socket_close(t->sock);
	free(t->buf);
	trace_asm_free(&t->asm_);
	memset(t, 0, sizeof(*t));
}
