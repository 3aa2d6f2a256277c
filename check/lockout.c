#define _GNU_SOURCE
#include "check/lockout.h"

#include "conntrack/ct_dump.h"
#include "model/fmt.h"
#include "util/grow.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the sandbox ---- */

char *check_copy_text(const struct sandbox *sb, const struct changeset *cs)
{
	struct changeset c = *cs;
	char *text;

	c.edits = calloc(cs->n ? cs->n : 1, sizeof(*c.edits));
	if (!c.edits)
		return NULL;
	for (size_t i = 0; i < cs->n; i++) {
		struct edit *e = &c.edits[i];

		*e = cs->edits[i];
		if (e->handle)
			e->handle = sandbox_copy_handle(sb, e->family, e->table, e->handle);
		if (e->anchor)
			e->anchor = sandbox_copy_handle(sb, e->family, e->table, e->anchor);
	}
	text = changeset_text(&c);
	free(c.edits);
	return text;
}

int check_sandbox(struct sandbox *sb, bool *open, const struct check_change *ch, char *err,
		  size_t errlen)
{
	char *text = NULL;
	int ret;

	if (!*open) {
		if ((ret = sandbox_quick(err, errlen)) || (ret = sandbox_open(sb, err, errlen)))
			return ret;
		*open = true;
	}
	if (ch->tables) {
		ret = sandbox_stage_tables(sb, ch->tables, err, errlen);
	} else if (ch->cs && ch->cs->n) {
		text = check_copy_text(sb, ch->cs);
		/* not edits added to those staged: put back first, and the
		 * edits written for the handles the copy has then */
		if (text && sb->staged && !sandbox_stage_adds(sb, text)) {
			free(text);
			text = NULL;
			if (!(ret = sandbox_stage(sb, "", NULL, err, errlen)))
				text = check_copy_text(sb, ch->cs);
			else
				goto out;
		}
		if (!text) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		ret = sandbox_stage(sb, text, NULL, err, errlen);
		free(text);
	} else {
		/* a script, or no change: the host's ruleset (what is staged goes) */
		ret = sandbox_stage(sb, ch->script ? ch->script : "", ch->include_dir, err, errlen);
	}
out:
	*open = sandbox_is_open(sb); /* a failed stage may have closed it */
	return ret;
}

/* ---- the sessions ---- */

static struct lockout_probe *probe_add(struct lockout *lo, enum lockout_kind kind,
				       const struct packet *p)
{
	struct lockout_probe *pr = grow_slot(&lo->probes, &lo->n, &lo->cap, sizeof(*lo->probes), 8);

	if (pr) {
		pr->kind = kind;
		pr->p = *p;
	}
	return pr;
}

/* ff02::1:ffXX:XXXX, the solicited-node group of addr */
static void solicited(const uint8_t *addr, uint8_t *out)
{
	static const uint8_t pre[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };

	memcpy(out, pre, sizeof(pre));
	memcpy(out + 13, addr + 13, 3);
}

static void nd_packet(struct packet *nd, const uint8_t *from, const uint8_t *to)
{
	memset(nd, 0, sizeof(*nd));
	nd->family = AF_INET6;
	nd->proto = IPPROTO_ICMPV6;
	nd->icmp_type = 135; /* nd-neighbor-solicit */
	memcpy(nd->saddr, from, 16);
	solicited(to, nd->daddr);
}

/* "C CPORT S SPORT" (SSH_CONNECTION) into p */
static bool parse_connection(const char *s, struct packet *p)
{
	char c[INET6_ADDRSTRLEN], sv[INET6_ADDRSTRLEN];
	unsigned cp, sp;

	if (!s || sscanf(s, "%45s %u %45s %u", c, &cp, sv, &sp) != 4 || !cp || !sp ||
	    cp > 65535 || sp > 65535)
		return false;
	p->family = strchr(c, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(p->family, c, p->saddr) != 1 || inet_pton(p->family, sv, p->daddr) != 1)
		return false;
	p->sport = (uint16_t)cp;
	p->dport = (uint16_t)sp;
	return true;
}

#define SSHD_MAX_CONNS 64

/* The established TCP connections of process pid's sockets (its
 * /proc/PID/fd and /proc/PID/net/tcp{,6}), as packets from the peer:
 * how many, at most max. */
static size_t proc_conns(pid_t pid, struct packet *out, size_t max)
{
	unsigned long inodes[SSHD_MAX_CONNS];
	size_t ninodes = 0, n = 0;
	char path[64];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if (!(d = opendir(path)))
		return 0;
	while (ninodes < SSHD_MAX_CONNS && (de = readdir(d))) {
		char link[64], fd[64 + 256];
		ssize_t len;

		snprintf(fd, sizeof(fd), "%s/%s", path, de->d_name);
		len = readlink(fd, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = 0;
		if (sscanf(link, "socket:[%lu]", &inodes[ninodes]) == 1)
			ninodes++;
	}
	closedir(d);
	for (int v6 = 0; ninodes && v6 < 2; v6++) {
		char line[512];
		FILE *fp;

		snprintf(path, sizeof(path), "/proc/%d/net/tcp%s", (int)pid, v6 ? "6" : "");
		if (!(fp = fopen(path, "re")))
			continue;
		while (n < max && fgets(line, sizeof(line), fp)) {
			uint32_t l[4] = { 0 }, r[4] = { 0 };
			unsigned lp, rp, st;
			unsigned long inode;
			struct packet *p = &out[n];
			bool ours = false;
			int k = v6 ? sscanf(line, " %*d: %8X%8X%8X%8X:%X %8X%8X%8X%8X:%X %X %*X:%*X "
					    "%*X:%*X %*X %*u %*u %lu", &l[0], &l[1], &l[2], &l[3],
					    &lp, &r[0], &r[1], &r[2], &r[3], &rp, &st, &inode)
				   : sscanf(line, " %*d: %8X:%X %8X:%X %X %*X:%*X %*X:%*X %*X %*u %*u %lu",
					    &l[0], &lp, &r[0], &rp, &st, &inode);

			for (size_t i = 0; i < ninodes; i++)
				ours |= inodes[i] == inode;
			if (k != (v6 ? 12 : 6) || !ours || st != 1 /* TCP_ESTABLISHED */)
				continue;
			/* the kernel printed each 32-bit word as read in host order */
			memset(p, 0, sizeof(*p));
			p->family = v6 ? AF_INET6 : AF_INET;
			memcpy(p->daddr, l, v6 ? 16 : 4);
			memcpy(p->saddr, r, v6 ? 16 : 4);
			p->dport = (uint16_t)lp;
			p->sport = (uint16_t)rp;
			n++;
		}
		fclose(fp);
	}
	return n;
}

/* pid's name (/proc/PID/stat: comm may hold blanks and parentheses) and
 * parent; false when it is gone */
static bool proc_stat(pid_t pid, char *comm, size_t len, pid_t *ppid)
{
	char path[64], line[512];
	FILE *fp;
	bool ok = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(fp = fopen(path, "re")))
		return false;
	if (fgets(line, sizeof(line), fp)) {
		char *open = strchr(line, '('), *close = strrchr(line, ')');
		int pp = 0;

		if (open && close && close > open) {
			snprintf(comm, len, "%.*s", (int)(close - open - 1), open + 1);
			ok = sscanf(close + 1, " %*c %d", &pp) == 1;
			*ppid = pp;
		}
	}
	fclose(fp);
	return ok;
}

static bool is_sshd(const char *comm)
{
	return strncmp(comm, "sshd", 4) == 0; /* sshd, sshd-session */
}

/* The peer of the nearest sshd this process descends from: its session's
 * process holds the connection's socket. */
static bool sshd_peer(struct packet *p)
{
	pid_t pid = getppid();

	for (int depth = 0; pid > 1 && depth < 32; depth++) {
		char comm[64];
		pid_t ppid;

		if (!proc_stat(pid, comm, sizeof(comm), &ppid))
			return false;
		if (is_sshd(comm) && proc_conns(pid, p, 1) == 1)
			return true;
		pid = ppid;
	}
	return false;
}

/* An SSH session, from the peer: its next packet */
static void session_packet(struct packet *p)
{
	p->proto = IPPROTO_TCP;
	p->state = PACKET_ESTABLISHED;
	p->tcp_flags = TH_ACK;
}

static int own_session(struct lockout *lo, const struct sandbox *sb)
{
	struct packet p = { 0 }, next;

	if (parse_connection(getenv("SSH_CONNECTION"), &p))
		snprintf(lo->own_from, sizeof(lo->own_from), "SSH_CONNECTION");
	else if (sshd_peer(&p))
		snprintf(lo->own_from, sizeof(lo->own_from), "sshd");
	else
		return 0;
	/* a session that ends in another namespace (nfpilot -N) is not this one's */
	if (!sandbox_is_local(sb, p.family, p.daddr))
		return 0;
	session_packet(&p);
	lo->own = true;
	if (!probe_add(lo, LOCKOUT_OWN, &p))
		return -ENOMEM;
	next = p;
	next.state = PACKET_NEW;
	next.tcp_flags = TH_SYN;
	next.sport = p.sport == 65535 ? 65534 : p.sport + 1;
	if (!probe_add(lo, LOCKOUT_OWN_NEW, &next))
		return -ENOMEM;
	if (p.family == AF_INET6) {
		nd_packet(&next, p.saddr, p.daddr);
		if (!probe_add(lo, LOCKOUT_OWN_ND, &next))
			return -ENOMEM;
	}
	return 0;
}

struct others {
	struct lockout *lo;
	const struct sandbox *sb;
	uint16_t port;           /* the admin's sshd port, or 22 */
};

/* Another SSH session (p: from its peer), unless known already */
static int other_add(struct others *o, struct packet *p)
{
	struct lockout *lo = o->lo;
	size_t alen = p->family == AF_INET ? 4 : 16;

	if ((p->dport != 22 && p->dport != o->port) || !sandbox_is_local(o->sb, p->family, p->daddr))
		return 0;
	for (size_t i = 0; i < lo->n; i++) {
		const struct packet *q = &lo->probes[i].p;

		if ((lo->probes[i].kind == LOCKOUT_OWN || lo->probes[i].kind == LOCKOUT_OTHER) &&
		    q->family == p->family && q->sport == p->sport && q->dport == p->dport &&
		    !memcmp(q->saddr, p->saddr, alen) && !memcmp(q->daddr, p->daddr, alen))
			return 0;
	}
	session_packet(p);
	if (++lo->others <= LOCKOUT_MAX_OTHERS && !probe_add(lo, LOCKOUT_OTHER, p))
		return -ENOMEM;
	return 0;
}

static int ct_session(const struct ct_entry *e, void *arg)
{
	struct packet p = { .family = e->family, .sport = e->orig.sport, .dport = e->orig.dport };

	if (e->proto != IPPROTO_TCP || e->l4state != TCP_CONNTRACK_ESTABLISHED)
		return 0;
	memcpy(p.saddr, e->orig.src.b, e->family == AF_INET ? 4 : 16);
	memcpy(p.daddr, e->orig.dst.b, e->family == AF_INET ? 4 : 16);
	return other_add(arg, &p);
}

static bool same_netns(pid_t pid, const struct stat *self)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return stat(path, &st) == 0 && st.st_ino == self->st_ino && st.st_dev == self->st_dev;
}

/* The connections of every sshd process of this namespace: conntrack
 * has none where no rule uses it, nor of a session idle since it began */
static int sshd_sessions(struct others *o)
{
	struct packet conns[SSHD_MAX_CONNS];
	struct dirent *de;
	struct stat self;
	DIR *d = opendir("/proc");
	int ret = 0;

	if (!d || stat("/proc/self/ns/net", &self) < 0) {
		if (d)
			closedir(d);
		return 0;
	}
	while (!ret && (de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name), ppid;
		char comm[64];
		size_t n;

		if (pid <= 0 || !proc_stat(pid, comm, sizeof(comm), &ppid) || !is_sshd(comm) ||
		    !same_netns(pid, &self))
			continue;
		n = proc_conns(pid, conns, SSHD_MAX_CONNS);
		for (size_t i = 0; !ret && i < n; i++)
			ret = other_add(o, &conns[i]);
	}
	closedir(d);
	return ret;
}

/* Whether the staged copy has an inet or ip6 input chain with policy drop */
static bool drops_ip6_input(const struct sandbox *sb)
{
	const struct nfp_ruleset *rs = &sb->copy;

	for (size_t t = 0; sb->staged && t < rs->ntables; t++) {
		const struct nfp_table *tb = &rs->tables[t];

		if (tb->family != NFPROTO_INET && tb->family != NFPROTO_IPV6)
			continue;
		for (size_t c = 0; c < tb->nchains; c++)
			if (tb->chains[c].base && tb->chains[c].hooknum == NF_INET_LOCAL_IN &&
			    tb->chains[c].policy == NF_DROP)
				return true;
	}
	return false;
}

/* Neighbour discovery to each IPv6 address of the host (not loopback nor
 * link-local: those answer on any link), from a neighbour on its link */
static int nd_probes(struct lockout *lo, const struct sandbox *sb)
{
	size_t made = 0;

	for (size_t i = 0; i < sb->nlocal && made < 4; i++) {
		const uint8_t *a = sb->local[i] + 1;
		uint8_t from[16];
		struct in6_addr in6;
		struct packet nd;

		memcpy(&in6, a, sizeof(in6));
		if (sb->local[i][0] != AF_INET6 || IN6_IS_ADDR_LOOPBACK(&in6) ||
		    IN6_IS_ADDR_LINKLOCAL(&in6))
			continue;
		memcpy(from, a, 16);
		for (uint8_t k = 1; k && sandbox_is_local(sb, AF_INET6, from); k++)
			from[15] = a[15] ^ k;
		nd_packet(&nd, from, a);
		if (!probe_add(lo, LOCKOUT_ND, &nd))
			return -ENOMEM;
		made++;
	}
	return 0;
}

int lockout_find(struct lockout *lo, const struct sandbox *sb, char *err, size_t errlen)
{
	struct others o = { .lo = lo, .sb = sb, .port = 22 };
	struct ct_dump_opts opts = { .each = ct_session, .arg = &o };
	bool own_nd;
	int ret;

	memset(lo, 0, sizeof(*lo));
	if ((ret = own_session(lo, sb))) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	if (lo->own)
		o.port = lo->probes[0].p.dport;
	if ((ret = ct_dump_all(NULL, &opts, NULL, err, errlen)))
		return ret;
	if ((ret = sshd_sessions(&o))) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	own_nd = lo->own && lo->probes[0].p.family == AF_INET6;
	if (!own_nd && drops_ip6_input(sb) && (ret = nd_probes(lo, sb))) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	return 0;
}

/* ---- the answers ---- */

void check_decider(const struct trace_packet *tp, char *buf, size_t len)
{
	const struct trace_step *s = tp->decided >= 0 ? &tp->steps[tp->decided] : NULL;
	char table[128], chain[128], text[200];
	const char *fam = s ? ruleset_family_name(s->family) : NULL;

	if (!s) {
		snprintf(buf, len, "a %s outside the rules", trace_verdict_name(tp->verdict));
		return;
	}
	fmt_sanitize(table, sizeof(table), s->table ? s->table : "?");
	fmt_sanitize(chain, sizeof(chain), s->chain ? s->chain : "?");
	fmt_sanitize(text, sizeof(text), s->text ? s->text : "");
	if (s->kind == TRACE_POLICY)
		snprintf(buf, len, "chain %s policy %s (%s %s)", chain, trace_verdict_name(s->verdict),
			 fam ? fam : "?", table);
	else if (s->staged >= 0)
		snprintf(buf, len, "the rule the change adds to %s %s %s (%s)", fam ? fam : "?",
			 table, chain, text);
	else
		snprintf(buf, len, "rule %llu of %s %s %s (%s)", (unsigned long long)s->handle,
			 fam ? fam : "?", table, chain, text);
}

static void session_words(const struct packet *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family, p->saddr, a, sizeof(a));
	snprintf(buf, len, p->family == AF_INET6 ? "[%s]:%u -> :%u" : "%s:%u -> :%u", a,
		 p->sport, p->dport);
}

static int verdict(struct lockout *lo)
{
	char *out = NULL, words[128], a[INET6_ADDRSTRLEN];
	size_t len = 0, cut_others = 0;
	const struct lockout_probe *first_other = NULL;
	FILE *fp = open_memstream(&out, &len);
	bool any = false;

	if (!fp)
		return -ENOMEM;
	for (size_t i = 0; i < lo->n; i++) {
		const struct lockout_probe *pr = &lo->probes[i];

		if (!pr->cut)
			continue;
		if (pr->kind == LOCKOUT_OTHER) {
			if (!cut_others++)
				first_other = pr;
			continue;
		}
		inet_ntop(pr->p.family, pr->kind == LOCKOUT_ND ? lo->probes[i].p.saddr
							       : pr->p.saddr, a, sizeof(a));
		session_words(&pr->p, words, sizeof(words));
		fputs(any ? "; " : "this change ", fp);
		switch (pr->kind) {
		case LOCKOUT_OWN:
			fprintf(fp, "drops your own SSH session (%s) at %s", words, pr->where);
			break;
		case LOCKOUT_OWN_NEW:
			fprintf(fp, "%sdrops a new SSH connection from %s at %s", any ? "it " : "",
				a, pr->where);
			break;
		case LOCKOUT_OWN_ND:
		case LOCKOUT_ND:
			fprintf(fp, "%sdrops IPv6 neighbour discovery %s %s at %s: IPv6 %s stops "
				"(accept icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } "
				"before it)", any ? "it " : "",
				pr->kind == LOCKOUT_ND ? "from a neighbour of" : "from",
				pr->kind == LOCKOUT_ND ? "this host" : a, pr->where,
				pr->kind == LOCKOUT_ND ? "to this host" : "to your session");
			break;
		default:
			break;
		}
		any = true;
	}
	if (cut_others) {
		session_words(&first_other->p, words, sizeof(words));
		fprintf(fp, "%s%zu other SSH session%s (%s%s at %s)",
			any ? "; and " : "this change drops ", cut_others, cut_others == 1 ? "" : "s",
			cut_others > 1 ? "first " : "", words, first_other->where);
		if (lo->others > LOCKOUT_MAX_OTHERS)
			fprintf(fp, " of the %d asked about (the host has %zu)", LOCKOUT_MAX_OTHERS,
				lo->others);
		any = true;
	}
	if (fclose(fp) != 0) {
		free(out);
		return -ENOMEM;
	}
	if (any)
		lo->verdict = out;
	else
		free(out);
	return 0;
}

int lockout_ask(struct lockout *lo, struct sandbox *sb)
{
	for (size_t i = 0; i < lo->n; i++) {
		struct lockout_probe *pr = &lo->probes[i];
		struct sandbox_answer a;
		int ret = sandbox_ask(sb, &pr->p, &a, pr->where, sizeof(pr->where));

		if (ret == -ENOMEM)
			return ret;
		if (ret)
			continue; /* pr->where: why it was not asked */
		pr->asked = true;
		pr->cut = a.packet->verdict == NF_DROP;
		/* the words of what cuts it (a copy's rule text: listed now) */
		if (pr->cut && sandbox_describe(sb, &a, pr->where, sizeof(pr->where)) == -ENOMEM) {
			sandbox_answer_free(&a);
			return -ENOMEM;
		}
		if (pr->cut)
			check_decider(a.packet, pr->where, sizeof(pr->where));
		sandbox_answer_free(&a);
	}
	return verdict(lo);
}

int lockout_check(const struct check_change *ch, struct lockout *lo, char *err, size_t errlen)
{
	struct sandbox sb;
	bool open = false;
	int ret = check_sandbox(&sb, &open, ch, err, errlen);

	memset(lo, 0, sizeof(*lo));
	if (!ret)
		ret = lockout_find(lo, &sb, err, errlen);
	if (!ret && (ret = lockout_ask(lo, &sb)))
		snprintf(err, errlen, "out of memory");
	if (open)
		sandbox_close(&sb);
	if (ret)
		lockout_free(lo);
	return ret;
}

void lockout_free(struct lockout *lo)
{
	free(lo->probes);
	free(lo->verdict);
	memset(lo, 0, sizeof(*lo));
}
