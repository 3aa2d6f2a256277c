#include "sandbox/stale.h"

#include "util/grow.h"

#include <errno.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether e is a connection to ask about. */
static bool established(const struct ct_entry *e)
{
	if (e->flags & CT_F_GONE)
		return false;
	if (e->proto == IPPROTO_TCP)
		return e->l4state == TCP_CONNTRACK_ESTABLISHED;
	return (e->proto == IPPROTO_UDP || e->proto == IPPROTO_SCTP) &&
	       ct_ctstate(e) == CT_ESTABLISHED;
}

static int keep(const struct ct_entry *e, void *arg)
{
	struct stale *s = arg;
	struct ct_entry *slot;

	if (!established(e))
		return 0;
	if (!(slot = ct_table_slot(&s->t)))
		return -ENOMEM;
	*slot = *e;
	return ct_table_commit(&s->t);
}

int stale_start(struct stale *s, const struct ct_filter *f, bool blocking, char *err,
		size_t errlen)
{
	struct ct_dump_opts o = { .filter = f, .each = keep, .arg = s };
	int ret;

	memset(s, 0, sizeof(*s));
	/* on the way (the live view's, after an apply): only a quick copy */
	if ((!blocking && (ret = sandbox_quick(err, errlen))) ||
	    (ret = sandbox_open(&s->sb, err, errlen)))
		return ret;
	s->sb_open = true;
	if (blocking) {
		ret = ct_dump_all(NULL, &o, NULL, err, errlen);
	} else {
		ret = ct_dump_start(&s->dump, NULL, &o, false, err, errlen);
		s->loading = !ret;
	}
	if (ret)
		stale_free(s);
	return ret;
}

int stale_fd(const struct stale *s)
{
	return s->loading ? ct_dump_fd(&s->dump) : -1;
}

int stale_step(struct stale *s, size_t max, char *err, size_t errlen)
{
	struct packet ps[SANDBOX_BULK_MAX];
	uint8_t verdict[SANDBOX_BULK_MAX];
	size_t n = 0, first = s->next;
	int ret;

	if (s->loading) {
		ret = ct_dump_step(&s->dump, err, errlen);
		if (ret <= 0)
			s->loading = false;
		return ret < 0 ? ret : 1;
	}
	if (s->done)
		return 0;
	if (max > SANDBOX_BULK_MAX)
		max = SANDBOX_BULK_MAX;
	for (; s->next < s->t.n && n < max; s->next++, n++) {
		const struct ct_entry *e = &s->t.e[s->next];
		struct packet *p = &ps[n];
		size_t alen = e->family == AF_INET ? 4 : 16;

		memset(p, 0, sizeof(*p));
		p->family = e->family;
		p->proto = e->proto;
		memcpy(p->saddr, e->orig.src.b, alen);
		memcpy(p->daddr, e->orig.dst.b, alen);
		p->sport = e->orig.sport;
		p->dport = e->orig.dport;
		p->state = PACKET_NEW;
		p->tcp_flags = e->proto == IPPROTO_TCP ? TH_SYN : 0;
	}
	if (n && (ret = sandbox_admits(&s->sb, ps, n, verdict, err, errlen)))
		return ret;
	for (size_t i = 0; i < n; i++) {
		uint32_t *r;

		s->unsure += verdict[i] == SANDBOX_UNSURE;
		if (verdict[i] != SANDBOX_REFUSED)
			continue;
		if (!(r = grow_slot(&s->refused, &s->nrefused, &s->refused_cap,
				    sizeof(*s->refused), 64))) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		*r = (uint32_t)(first + i);
	}
	s->checked += n;
	s->done = s->next >= s->t.n;
	return s->done ? 0 : 1;
}

bool stale_ready(struct stale *s)
{
	return sandbox_ready(&s->sb);
}

int stale_run(struct stale *s, const struct ct_filter *f, char *err, size_t errlen)
{
	int ret = stale_start(s, f, true, err, errlen);

	while (ret == 0 && (ret = stale_step(s, SANDBOX_BULK_MAX, err, errlen)) == 1)
		ret = 0;
	return ret;
}

void stale_forget(struct stale *s)
{
	if (s->loading)
		ct_dump_cancel(&s->dump);
	s->loading = false;
	ct_table_free(&s->t);
	free(s->refused);
	s->refused = NULL;
	s->nrefused = s->refused_cap = 0;
}

void stale_free(struct stale *s)
{
	stale_forget(s);
	if (s->sb_open)
		sandbox_close(&s->sb);
	memset(s, 0, sizeof(*s));
}
