#include "check/effect.h"

#include "conntrack/ct_rule.h"
#include "model/fmt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* An address of the host to send p to: not loopback, not link-local */
static bool host_addr(const struct sandbox *sb, uint8_t family, uint8_t *out)
{
	for (size_t i = 0; i < sb->nlocal; i++) {
		const uint8_t *a = sb->local[i] + 1;

		if (sb->local[i][0] != family)
			continue;
		if (family == AF_INET ? a[0] == 127
				      : (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
					!memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16))
			continue;
		memcpy(out, a, family == AF_INET ? 4 : 16);
		return true;
	}
	return false;
}

/* p's source: a neighbour on the link of its destination, an address of
 * the host */
static void neighbour(const struct sandbox *sb, struct packet *p)
{
	size_t last = p->family == AF_INET ? 3 : 15;

	memcpy(p->saddr, p->daddr, 16);
	for (uint8_t k = 0x80; k && sandbox_is_local(sb, p->family, p->saddr); k >>= 1)
		p->saddr[last] = p->daddr[last] ^ k;
}

int effect_packet(const struct sandbox *sb, enum effect_kind kind, const char *input, bool ip6,
		  struct packet *p, char *err, size_t errlen)
{
	char word[128], proto[16];
	unsigned port;

	memset(p, 0, sizeof(*p));
	p->state = PACKET_NEW;
	p->sport = 40000;
	if (kind == EFFECT_ALLOW) {
		if (sscanf(input, "%15s %u", proto, &port) != 2 || !port || port > 65535) {
			snprintf(err, errlen, "tcp PORT or udp PORT");
			return -EINVAL;
		}
		p->family = ip6 ? AF_INET6 : AF_INET;
		p->proto = strcmp(proto, "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
		p->dport = (uint16_t)port;
		if (!host_addr(sb, p->family, p->daddr)) {
			snprintf(err, errlen, "this host has no %s address to ask about",
				 ip6 ? "IPv6" : "IPv4");
			return -EINVAL;
		}
		neighbour(sb, p);
	} else {
		char *slash;

		snprintf(word, sizeof(word), "%s", input);
		if ((slash = strchr(word, '/')))
			*slash = 0;
		p->family = strchr(word, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(p->family, word, p->saddr) != 1) {
			snprintf(err, errlen, "'%s' is not an address", word);
			return -EINVAL;
		}
		/* a prefix: an address in it */
		if (slash)
			p->saddr[p->family == AF_INET ? 3 : 15] |= 1;
		p->proto = IPPROTO_TCP;
		p->dport = 22;
		if (!host_addr(sb, p->family, p->daddr)) {
			snprintf(err, errlen, "this host has no %s address to ask about",
				 p->family == AF_INET6 ? "IPv6" : "IPv4");
			return -EINVAL;
		}
	}
	p->tcp_flags = p->proto == IPPROTO_TCP ? TH_SYN : 0;
	return 0;
}

/* an address or prefix word of a filter into family and addr (a prefix:
 * an address in it) */
static bool filter_addr(const char *w, uint8_t *family, uint8_t *addr)
{
	char a[64], *slash;
	uint8_t f;

	snprintf(a, sizeof(a), "%s", w);
	if ((slash = strchr(a, '/')))
		*slash = 0;
	f = strchr(a, ':') ? AF_INET6 : AF_INET;
	if ((*family && *family != f) || inet_pton(f, a, addr) != 1)
		return false;
	if (slash)
		addr[f == AF_INET ? 3 : 15] |= 1;
	*family = f;
	return true;
}

bool effect_rule_packet(const struct sandbox *sb, const char *rule, bool ip6, struct packet *p)
{
	char filter[512], *save = NULL, *k, *val;
	bool partial = false, src = false, dst = false;

	memset(p, 0, sizeof(*p));
	if (ct_rule_filter(rule, filter, sizeof(filter), &partial) <= 0 || partial)
		return false;
	for (k = strtok_r(filter, " ", &save); k; k = strtok_r(NULL, " ", &save)) {
		char *end;
		unsigned long port;

		if (!(val = strtok_r(NULL, " ", &save)) || strpbrk(val, ",-"))
			return false;
		if (!strcmp(k, "src") && !src) {
			src = filter_addr(val, &p->family, p->saddr);
			if (!src)
				return false;
		} else if (!strcmp(k, "dst") && !dst) {
			dst = filter_addr(val, &p->family, p->daddr);
			if (!dst)
				return false;
		} else if (!strcmp(k, "proto") && (!strcmp(val, "tcp") || !strcmp(val, "udp"))) {
			p->proto = !strcmp(val, "tcp") ? IPPROTO_TCP : IPPROTO_UDP;
		} else if (!strcmp(k, "dport") || !strcmp(k, "sport")) {
			port = strtoul(val, &end, 10);
			if (*end || !port || port > 65535)
				return false;
			*(!strcmp(k, "dport") ? &p->dport : &p->sport) = (uint16_t)port;
		} else {
			return false; /* state, mark, not, ...: not a packet of its own */
		}
	}
	if (!p->proto || !p->dport)
		return false;
	if (!p->family)
		p->family = ip6 ? AF_INET6 : AF_INET;
	if (!dst && !host_addr(sb, p->family, p->daddr))
		return false;
	if (!src)
		neighbour(sb, p);
	if (!p->sport)
		p->sport = 40000;
	p->state = PACKET_NEW;
	p->tcp_flags = p->proto == IPPROTO_TCP ? TH_SYN : 0;
	return true;
}

/* sb holding cs (none: the host's ruleset as it is); p asked, its steps
 * with their hooks and text */
static int ask(struct sandbox *sb, bool *open, const struct changeset *cs,
	       const struct nfp_ruleset *host, const struct packet *p, struct sandbox_answer *a,
	       char *err, size_t errlen)
{
	int ret = check_sandbox(sb, open, &(struct check_change){ .cs = cs }, err, errlen);

	if (!ret)
		ret = sandbox_ask(sb, p, a, err, errlen);
	if (!ret && !sb->staged && (ret = trace_packet_describe(a->packet, host))) {
		snprintf(err, errlen, "out of memory");
		sandbox_answer_free(a);
	}
	return ret;
}

static bool in_place(const struct trace_step *s, const struct effect_place *pl)
{
	return s->family == pl->family && s->table && s->chain && !strcmp(s->table, pl->table) &&
	       !strcmp(s->chain, pl->chain);
}

/* the chain of step s in rs, when it is a base chain of the input hook of a
 * native table that takes packets of family */
static bool takes_block(const struct nfp_ruleset *rs, const struct trace_step *s, uint8_t family)
{
	const struct nfp_table *t = s->table ? ruleset_find_table(rs, s->family, s->table) : NULL;
	const struct nfp_chain *c = t && s->chain ? ruleset_find_chain(t, s->chain) : NULL;

	return c && c->base && c->hooknum == NF_INET_LOCAL_IN && t->owner != NFP_OWNER_IPTABLES &&
	       (t->family == NFPROTO_INET ||
		t->family == (family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4));
}

/* Whether the rule could go where d decides: before a rule of the host,
 * or at the end of a chain whose policy decides. */
static bool fixable(const struct trace_step *d)
{
	return d && d->table && d->chain && (d->kind == TRACE_POLICY || d->staged < 0);
}

/* ... that place, in the path tp: before the rule d, or where its
 * chain's policy d decides, before the first rule of the chain the packet
 * met without an accept (a counting rule, a jump: as effect_where), else
 * at its end */
static void place_of(const struct trace_packet *tp, const struct trace_step *d,
		     struct effect_place *pl)
{
	const struct trace_step *at = d->kind == TRACE_POLICY ? NULL : d;

	memset(pl, 0, sizeof(*pl));
	pl->family = d->family;
	snprintf(pl->table, sizeof(pl->table), "%s", d->table);
	snprintf(pl->chain, sizeof(pl->chain), "%s", d->chain);
	for (size_t i = 0; !at && i < tp->nsteps; i++) {
		const struct trace_step *s = &tp->steps[i];

		if (s->kind == TRACE_RULE && s->staged < 0 && s->verdict != NF_ACCEPT &&
		    in_place(s, pl))
			at = s;
	}
	pl->where = at ? WHERE_BEFORE : WHERE_APPEND;
	pl->anchor = at ? at->handle : 0;
}

/* cs with its last edit, a rule, at each place of ef->fix instead */
static int with_fix(const struct changeset *cs, const struct effect *ef, struct changeset *out)
{
	const struct edit *last = &cs->edits[cs->n - 1];
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->genid = cs->genid;
	for (size_t i = 0; i + 1 < cs->n && !ret; i++)
		ret = changeset_add(out, &cs->edits[i]);
	for (size_t k = 0; k < ef->nfix && !ret; k++) {
		struct edit r = *last;

		r.family = ef->fix[k].family;
		r.table = (char *)ef->fix[k].table;
		r.chain = (char *)ef->fix[k].chain;
		r.where = ef->fix[k].where;
		r.anchor = ef->fix[k].anchor;
		r.anchor_edit = 0;
		ret = changeset_add(out, &r);
	}
	return ret;
}

/* effect.h: the accept's fix (ef->fix[0]) asked of sb until p is admitted:
 * each chain that still decides otherwise gets a place of its own (the
 * chain the rule is in keeps it where it is), one nearer the start where
 * a rule before the place decides. None known to work: no fix. */
static int prove_fix(struct sandbox *sb, bool *open, const struct changeset *cs,
		     const struct packet *p, struct effect *ef, char *err, size_t errlen)
{
	const struct edit *last = &cs->edits[cs->n - 1];
	struct effect_place here = { .family = last->family, .where = last->where,
				     .anchor = last->anchor };
	int ret = 0;

	snprintf(here.table, sizeof(here.table), "%s", last->table);
	snprintf(here.chain, sizeof(here.chain), "%s", last->chain ? last->chain : "");
	for (int round = 0; round < 2 * EFFECT_FIX_MAX; round++) {
		struct changeset tmp;
		struct sandbox_answer a;
		const struct trace_step *d;
		struct effect_place pl;
		size_t k = 0;
		bool known;

		if ((ret = with_fix(cs, ef, &tmp)) == 0 &&
		    (ret = check_sandbox(sb, open, &(struct check_change){ .cs = &tmp }, err,
					 errlen)) == 0)
			ret = sandbox_ask(sb, p, &a, err, errlen);
		changeset_free(&tmp);
		if (ret == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		if (ret)
			break;
		if (a.packet->verdict == NF_ACCEPT) {
			sandbox_answer_free(&a);
			return 0;
		}
		d = a.packet->decided >= 0 ? &a.packet->steps[a.packet->decided] : NULL;
		known = fixable(d);
		if (known) {
			place_of(a.packet, d, &pl);
			while (k < ef->nfix && (ef->fix[k].family != pl.family ||
						strcmp(ef->fix[k].table, pl.table) ||
						strcmp(ef->fix[k].chain, pl.chain)))
				k++;
		}
		sandbox_answer_free(&a);
		if (!known || (k == ef->nfix && k == EFFECT_FIX_MAX) ||
		    (k < ef->nfix && ef->fix[k].where == pl.where && ef->fix[k].anchor == pl.anchor))
			break; /* no place known that works */
		ef->fix[k] = pl;
		if (k == ef->nfix)
			ef->nfix++;
		if (!memcmp(&pl, &here, sizeof(pl)))
			ef->stays = k + 1;
	}
	ef->has_fix = false;
	ef->nfix = 0;
	ef->stays = 0;
	return ret;
}

int effect_where(struct sandbox *sb, bool *open, const struct changeset *cs,
		 const struct nfp_ruleset *host, enum effect_kind kind, const struct packet *p,
		 struct effect_place *place, char *err, size_t errlen)
{
	struct sandbox_answer a;
	const struct nfp_ruleset *rs;
	int ret = ask(sb, open, cs, host, p, &a, err, errlen);

	if (ret)
		return ret;
	rs = sb->staged ? &sb->copy : host;
	for (size_t i = 0; i < a.packet->nsteps; i++) {
		const struct trace_step *s = &a.packet->steps[i];

		if (kind == EFFECT_ALLOW && s->kind == TRACE_RULE && s->staged < 0 &&
		    s->verdict != NF_ACCEPT && in_place(s, place)) {
			/* the first rule of its chain the packet matches without an
			 * accept: a drop, a reject, a jump, a counting rule */
			place->where = WHERE_BEFORE;
			place->anchor = s->handle;
			break;
		}
		if (kind == EFFECT_BLOCK && takes_block(rs, s, p->family)) {
			/* the first input chain that can take it */
			place->family = s->family;
			snprintf(place->table, sizeof(place->table), "%s", s->table);
			snprintf(place->chain, sizeof(place->chain), "%s", s->chain);
			place->where = WHERE_TOP;
			break;
		}
	}
	sandbox_answer_free(&a);
	return 0;
}

int effect_check(struct sandbox *sb, bool *open, const struct changeset *cs,
		 enum effect_kind kind, const struct packet *p, struct effect *ef, char *err,
		 size_t errlen)
{
	const struct edit *e = &cs->edits[cs->n - 1];
	struct effect_place mine = { .family = e->family };
	const struct trace_step *d = NULL;
	struct sandbox_answer a;
	char who[400], what[160], tname[100], cname[100];
	const struct trace_step *hit = NULL;
	bool met = false, ours = false;
	int want = kind == EFFECT_ALLOW ? NF_ACCEPT : NF_DROP;
	int ret;

	memset(ef, 0, sizeof(*ef));
	ef->p = *p;
	snprintf(mine.table, sizeof(mine.table), "%s", e->table);
	snprintf(mine.chain, sizeof(mine.chain), "%s", e->chain ? e->chain : "");
	if ((ret = check_sandbox(sb, open, &(struct check_change){ .cs = cs }, err, errlen)) ||
	    (ret = sandbox_ask(sb, p, &a, err, errlen)))
		return ret;
	if (a.packet->decided >= 0)
		d = &a.packet->steps[a.packet->decided];
	for (size_t i = 0; i < a.packet->nsteps; i++) {
		const struct trace_step *s = &a.packet->steps[i];
		bool mine_new = in_place(s, &mine) && s->kind == TRACE_RULE && s->staged >= 0;

		met |= in_place(s, &mine);
		if (kind == EFFECT_RULE && mine_new && !hit)
			hit = s;
		ours |= mine_new && s->verdict == want;
	}
	packet_format(p, what, sizeof(what));
	/* what decides, in words, unless the rule does what it is for: the
	 * copy's rule text is listed then (without it, handles alone) */
	if (!(kind == EFFECT_RULE ? hit && (hit->verdict != NF_ACCEPT ||
					    a.packet->verdict == NF_ACCEPT)
				  : ours && a.packet->verdict == want) &&
	    sandbox_describe(sb, &a, err, errlen) == -ENOMEM) {
		sandbox_answer_free(&a);
		return -ENOMEM;
	}
	check_decider(a.packet, who, sizeof(who));
	if (kind == EFFECT_RULE) {
		/* a typed rule: reached, and an accept of it decides; the others
		 * (drop, jump, counting) do what they do once reached */
		if (hit && hit->verdict == NF_ACCEPT) {
			kind = EFFECT_ALLOW;
			want = NF_ACCEPT;
			ours = true;
		} else if (hit) {
			ef->works = true;
		} else {
			snprintf(ef->said, sizeof(ef->said), "the new rule is never reached by %s: %s "
				 "%ss it first", what, who, trace_verdict_name(a.packet->verdict));
			/* before the rule that decides, it is reached */
			if (d && d->kind == TRACE_RULE && d->staged < 0 && d->table && d->chain) {
				ef->has_fix = true;
				ef->nfix = 1;
				place_of(a.packet, d, &ef->fix[0]);
			}
		}
		if (kind == EFFECT_RULE) {
			sandbox_answer_free(&a);
			return 0;
		}
	}
	if (a.packet->verdict == want) {
		ef->works = true;
		/* the new rule did not say so: it was so already */
		if (!ours)
			snprintf(ef->said, sizeof(ef->said), "%s: %s already, by %s", what,
				 trace_verdict_name(want), who);
	} else if (d) {
		bool other = !in_place(d, &mine) && d->hook && !strcmp(d->hook, "input");

		snprintf(ef->said, sizeof(ef->said), "the new %s %s %s: %s %ss it%s",
			 kind == EFFECT_ALLOW ? "accept" : "drop",
			 met ? "does not decide" : "is never reached by", what, who,
			 trace_verdict_name(a.packet->verdict),
			 other ? " (another base chain of the input hook: each decides for "
				 "itself, and a drop in any is final)" : " first");
		/* where it would work: before the rule that decides, in its chain */
		if (kind == EFFECT_ALLOW && fixable(d)) {
			ef->has_fix = true;
			ef->nfix = 1;
			place_of(a.packet, d, &ef->fix[0]);
		}
	} else {
		snprintf(ef->said, sizeof(ef->said), "%s %s the new rule (%s %.100s %.100s): it "
			 "ends at %s, not %s", what, met ? "meets" : "never meets",
			 ruleset_family_name(e->family) ?: "?",
			 fmt_sanitize(tname, sizeof(tname), mine.table),
			 fmt_sanitize(cname, sizeof(cname), mine.chain), who,
			 trace_verdict_name(want));
	}
	sandbox_answer_free(&a);
	return ef->has_fix && kind == EFFECT_ALLOW ? prove_fix(sb, open, cs, p, ef, err, errlen) : 0;
}

void effect_fix_words(const struct effect *ef, char *buf, size_t len)
{
	size_t used;

	buf[0] = 0;
	if (!ef->has_fix || !ef->nfix)
		return;
	used = (size_t)snprintf(buf, len, "L puts %s", ef->nfix == 1 ? "it " : "one in each chain that "
				"decides: ");
	for (size_t k = 0; k < ef->nfix && used < len; k++) {
		const struct effect_place *pl = &ef->fix[k];
		char t[100], c[100], before[64];

		snprintf(before, sizeof(before), "before its rule %llu, in",
			 (unsigned long long)pl->anchor);
		fmt_sanitize(t, sizeof(t), pl->table);
		fmt_sanitize(c, sizeof(c), pl->chain);
		used += (size_t)snprintf(buf + used, len - used, "%s%s %s %s %s%s",
					 k == 0 ? "" : k + 1 == ef->nfix ? " and " : ", ",
					 ef->stays == k + 1 ? "where it is, in"
					 : pl->where != WHERE_BEFORE ? "at the end of"
					 : ef->nfix == 1 ? "before that rule, in" : before,
					 ruleset_family_name(pl->family) ?: "?", t, c,
					 ef->nfix == 1 && pl->where != WHERE_BEFORE ? ", where it works" : "");
	}
}
