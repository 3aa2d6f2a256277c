#include "conntrack/ct_rule.h"

#include <stdio.h>
#include <string.h>

#define MAX_TOK 64

struct toks {
	char t[MAX_TOK][128];
	int n;
};

/* Words of the rule; "{ a, b }" becomes the one word "a,b"; quoted
 * strings (comments, log prefixes) become "\"". */
static void split(const char *s, struct toks *k)
{
	k->n = 0;
	while (*s && k->n < MAX_TOK) {
		char *out = k->t[k->n];
		size_t len = 0;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		if (*s == '"') {
			const char *end = strchr(s + 1, '"');

			strcpy(out, "\"");
			s = end ? end + 1 : s + strlen(s);
		} else if (*s == '{') {
			for (s++; *s && *s != '}'; s++)
				if (*s != ' ' && len + 1 < sizeof(k->t[0]))
					out[len++] = *s;
			out[len] = 0;
			s += *s == '}';
		} else {
			while (*s && *s != ' ' && *s != '\t' && len + 1 < sizeof(k->t[0]))
				out[len++] = *s++;
			while (*s && *s != ' ' && *s != '\t')
				s++;
			out[len] = 0;
		}
		k->n++;
	}
}

static bool is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

struct out {
	char *buf;
	size_t len, used;
	int n;
	bool proto;
};

static void put(struct out *o, bool neg, const char *key, const char *val)
{
	int w;

	if (is(key, "proto")) {
		if (o->proto)
			return;
		o->proto = true;
	}
	w = snprintf(o->buf + o->used, o->len - o->used, "%s%s%s %s", o->used ? " " : "",
		     neg ? "not " : "", key, val);
	if (w > 0 && o->used + (size_t)w < o->len)
		o->used += (size_t)w;
	o->n++;
}

int ct_rule_filter(const char *rule, char *buf, size_t len, bool *partial)
{
	static const char *const l4[] = { "tcp", "udp", "sctp", "dccp", "udplite", "th" };
	static const char *const skip[] = { "counter", "packets", "bytes", "accept", "drop",
					    "reject", "return", "continue", "queue", "log",
					    "comment", "limit", "\"", "jump", "goto", "notrack" };
	struct toks k;
	struct out o = { buf, len, 0, 0, false };

	*partial = false;
	if (len)
		buf[0] = 0;
	split(rule ? rule : "", &k);
	for (int i = 0; i < k.n; i++) {
		const char *w = k.t[i];
		bool known = false;

		for (size_t j = 0; j < sizeof(l4) / sizeof(l4[0]); j++)
			if (is(w, l4[j]))
				known = true;
		if (known && i + 1 < k.n && (is(k.t[i + 1], "sport") || is(k.t[i + 1], "dport"))) {
			bool neg = i + 2 < k.n && is(k.t[i + 2], "!=");
			int v = i + 2 + neg;

			if (!is(w, "th"))
				put(&o, false, "proto", w);
			if (v < k.n && k.t[v][0] != '@')
				put(&o, neg, k.t[i + 1], k.t[v]);
			else
				*partial = true;
			i = v;
			continue;
		}
		if (known) { /* tcp flags ..., udp length ...: the protocol at least */
			if (!is(w, "th"))
				put(&o, false, "proto", w);
			*partial = true;
			i++;
			continue;
		}
		if ((is(w, "ip") || is(w, "ip6")) && i + 1 < k.n &&
		    (is(k.t[i + 1], "saddr") || is(k.t[i + 1], "daddr"))) {
			bool neg = i + 2 < k.n && is(k.t[i + 2], "!=");
			int v = i + 2 + neg;

			if (v < k.n && k.t[v][0] != '@')
				put(&o, neg, is(k.t[i + 1], "saddr") ? "src" : "dst", k.t[v]);
			else
				*partial = true;
			i = v;
			continue;
		}
		if (((is(w, "meta") && i + 1 < k.n && is(k.t[i + 1], "l4proto")) ||
		     (is(w, "ip") && i + 1 < k.n && is(k.t[i + 1], "protocol")) ||
		     (is(w, "ip6") && i + 1 < k.n && is(k.t[i + 1], "nexthdr"))) && i + 2 < k.n &&
		    !is(k.t[i + 2], "!=")) {
			put(&o, false, "proto", k.t[i + 2]);
			i += 2;
			continue;
		}
		if ((is(w, "icmp") || is(w, "icmpv6")) && i + 1 < k.n) {
			put(&o, false, "proto", is(w, "icmp") ? "icmp" : "ipv6-icmp");
			*partial = true; /* the type: not in the connection */
			i += 2;
			continue;
		}
		if (is(w, "ct") && i + 2 < k.n && (is(k.t[i + 1], "state") || is(k.t[i + 1], "mark"))) {
			bool neg = is(k.t[i + 2], "!=");
			int v = i + 2 + neg;

			if (v < k.n)
				put(&o, neg, is(k.t[i + 1], "state") ? "ctstate" : "mark", k.t[v]);
			i = v;
			continue;
		}
		known = false;
		for (size_t j = 0; j < sizeof(skip) / sizeof(skip[0]); j++)
			if (is(w, skip[j]))
				known = true;
		if (known) {
			/* their arguments: packets N bytes N, jump CHAIN, limit rate ... */
			if ((is(w, "packets") || is(w, "bytes") || is(w, "jump") || is(w, "goto")) &&
			    i + 1 < k.n)
				i++;
			if (is(w, "limit") || is(w, "log"))
				while (i + 1 < k.n && !is(k.t[i + 1], "accept") &&
				       !is(k.t[i + 1], "drop") && !is(k.t[i + 1], "counter"))
					i++;
			continue;
		}
		*partial = true; /* iifname, meta mark, ...: not in a connection */
	}
	return o.n;
}
