/* protocol: the guardian's messages written and read. See protocol.h. */
#include "probation/protocol.h"
#include "model/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *word;
	bool numbered;
} requests[REQ_COUNT] = {
#define PROTOCOL_REQ_ROW(id, w, num) [REQ_##id] = { w, num },
	PROTOCOL_REQUESTS(PROTOCOL_REQ_ROW)
#undef PROTOCOL_REQ_ROW
};

static const char *const kinds[] = {
	[CHANGE_BATCH] = "batch",
	[CHANGE_SCRIPT] = "script",
	[CHANGE_RESTORE] = "restore",
};

static const char *const outcomes[] = {
	[PROB_CONFIRMED] = "confirmed",
	[PROB_REVERTED] = "reverted",
	[PROB_FAILED] = "failed",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *protocol_req_word(enum protocol_req req)
{
	return (unsigned)req < REQ_COUNT ? requests[req].word : "?";
}

/* snprintf's result as a message length: -EMSGSIZE when cut */
static int fitted(int n, size_t len)
{
	return n < 0 || (size_t)n >= len ? -EMSGSIZE : n;
}

/* a word of the message: no space, not empty */
static bool one_word(const char *s)
{
	return s && *s && !strpbrk(s, " \n");
}

int protocol_request_format(const struct protocol_request *r, char *buf, size_t len)
{
	const char *word = protocol_req_word(r->req);
	bool include = r->include && *r->include;

	switch (r->req) {
	case REQ_START:
		return fitted(snprintf(buf, len, "%s %d %d %d\n%s\n%s\n%s", word, r->timeout_s,
				       r->strict, r->force, r->user, r->from, r->what), len);
	case REQ_HOLD:
		return fitted(snprintf(buf, len, "%s %d%s%s", word, r->pid,
				       r->strict ? " strict" : "", r->detach ? " detach" : ""), len);
	case REQ_JOIN:
		if (!one_word(r->path))
			return -EINVAL;
		return fitted(snprintf(buf, len, "%s %s%s", word, r->path, r->force ? " force" : ""),
			      len);
	case REQ_COMMIT:
		if ((unsigned)r->kind >= COUNT(kinds) || !one_word(r->path) ||
		    !one_word(r->textpath) || (include && !one_word(r->include)))
			return -EINVAL;
		return fitted(snprintf(buf, len, "%s %s %s %s%s%s", word, kinds[r->kind], r->path,
				       r->textpath, include ? " " : "", include ? r->include : ""),
			      len);
	default:
		return fitted(snprintf(buf, len, "%s", word), len);
	}
}

/* The next word of *p (cut out in place), or NULL. */
static char *next_word(char **p)
{
	char *w;

	while (*p && **p == ' ')
		(*p)++;
	if (!*p || !**p)
		return NULL;
	w = *p;
	*p = strchr(w, ' ');
	if (*p)
		*(*p)++ = 0;
	return w;
}

/* A whole number: 0 with *v, or -EINVAL. */
static int number(const char *s, long long *v)
{
	char *end;

	if (!s || !*s)
		return -EINVAL;
	*v = strtoll(s, &end, 10);
	return *end ? -EINVAL : 0;
}

/* "start T S F\nUSER\nFROM\nWHAT", rest = after "start" */
static int parse_start(char *rest, struct protocol_request *r)
{
	char *l1 = strchr(rest, '\n'), *l2 = l1 ? strchr(l1 + 1, '\n') : NULL;
	char *l3 = l2 ? strchr(l2 + 1, '\n') : NULL;
	long long t, st, f;

	if (!l3)
		return -EINVAL;
	*l1 = *l2 = *l3 = 0;
	if (number(next_word(&rest), &t) || number(next_word(&rest), &st) ||
	    number(next_word(&rest), &f) || next_word(&rest) || t < CONFIG_TIMEOUT_MIN ||
	    t > CONFIG_TIMEOUT_MAX)
		return -EINVAL;
	r->timeout_s = (int)t;
	r->strict = st != 0;
	r->force = f != 0;
	r->user = l1 + 1;
	r->from = l2 + 1;
	r->what = l3 + 1;
	return 0;
}

int protocol_request_parse(char *msg, struct protocol_request *r)
{
	char *rest = msg, *word = NULL, *w;
	size_t wl = strcspn(msg, " \n");
	long long v;

	memset(r, 0, sizeof(*r));
	for (r->req = 0; r->req < REQ_COUNT; r->req++)
		if (strlen(requests[r->req].word) == wl &&
		    strncmp(msg, requests[r->req].word, wl) == 0)
			break;
	if (r->req == REQ_COUNT)
		return -EINVAL;
	rest = msg + wl;
	if (r->req == REQ_START)
		return *rest == ' ' ? parse_start(rest, r) : -EINVAL;
	if (*rest == '\n')
		return -EINVAL;
	switch (r->req) {
	case REQ_HOLD:
		if (number(next_word(&rest), &v) || v <= 0 || v > 0x7fffffff)
			return -EINVAL;
		r->pid = (int)v;
		while ((w = next_word(&rest))) {
			if (strcmp(w, "strict") == 0)
				r->strict = true;
			else if (strcmp(w, "detach") == 0)
				r->detach = true;
			else
				return -EINVAL;
		}
		return 0;
	case REQ_JOIN:
		r->path = next_word(&rest);
		w = next_word(&rest);
		r->force = w && strcmp(w, "force") == 0;
		return !r->path || (w && !r->force) || next_word(&rest) ? -EINVAL : 0;
	case REQ_COMMIT:
		word = next_word(&rest);
		for (r->kind = 0; word && (size_t)r->kind < COUNT(kinds); r->kind++)
			if (strcmp(word, kinds[r->kind]) == 0)
				break;
		r->path = next_word(&rest);
		r->textpath = next_word(&rest);
		r->include = next_word(&rest);
		return !word || (size_t)r->kind == COUNT(kinds) || !r->textpath || next_word(&rest)
		       ? -EINVAL : 0;
	default:
		return *rest ? -EINVAL : 0;
	}
}

int protocol_answer_format(enum protocol_req req, const struct protocol_answer *a, char *buf,
			   size_t len)
{
	const char *text = a->text ? a->text : "";
	int n;

	if (!a->ok) {
		if (a->restore_refused && (req == REQ_START || req == REQ_JOIN))
			n = snprintf(buf, len, "err %s%s", req == REQ_START ? "refused " : "refused: ",
				     text);
		else if (a->kernel_err && a->batch && req == REQ_COMMIT)
			n = snprintf(buf, len, "err batch %d %u %s", a->kernel_err, a->seq, text);
		else if (a->kernel_err && req == REQ_COMMIT)
			n = snprintf(buf, len, "err refused %d %s", a->kernel_err, text);
		else
			n = snprintf(buf, len, "err %s", text);
	} else if (req == REQ_START) {
		n = a->refused ? snprintf(buf, len, "ok forced %s", a->refused)
			       : snprintf(buf, len, "ok ready");
	} else if (req == REQ_JOIN) {
		n = a->refused ? snprintf(buf, len, "ok refused %s", a->refused)
			       : snprintf(buf, len, "ok");
	} else if ((unsigned)req < REQ_COUNT && requests[req].numbered) {
		n = snprintf(buf, len, "ok %lld%s%s", a->n, a->text ? "\n" : "", text);
	} else {
		n = snprintf(buf, len, "ok%s%s", a->text ? "\n" : "", text);
	}
	return n < 0 ? 0 : (size_t)n >= len ? (int)len - 1 : n;
}

/* s starts with prefix: what follows, or NULL */
static char *after(char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* "E[ S] REASON" of a commit the kernel refused */
static void parse_kernel_err(char *s, bool batch, struct protocol_answer *a)
{
	char *q;
	long e = strtol(s, &q, 10);

	a->kernel_err = e < 0 ? (int)e : -EIO;
	a->batch = batch;
	if (batch)
		a->seq = (uint32_t)strtoul(q, &q, 10);
	a->text = q + (*q == ' ');
}

int protocol_answer_parse(enum protocol_req req, char *msg, struct protocol_answer *a)
{
	char *body, *p;

	memset(a, 0, sizeof(*a));
	if (strncmp(msg, "ok", 2) == 0 && (!msg[2] || msg[2] == ' ' || msg[2] == '\n')) {
		a->ok = true;
		body = msg + 2 + (msg[2] != 0);
		if (req == REQ_START || req == REQ_JOIN) {
			a->refused = after(body, req == REQ_START ? "forced " : "refused ");
		} else if ((unsigned)req < REQ_COUNT && requests[req].numbered) {
			a->n = strtoll(body, &p, 10);
			a->text = *p == '\n' ? p + 1 : NULL;
		} else {
			a->text = body;
		}
		return 0;
	}
	if (!(body = after(msg, "err ")))
		return -EINVAL;
	a->text = body;
	if (req == REQ_START && (p = after(body, "refused "))) {
		a->restore_refused = true;
		a->text = p;
	} else if (req == REQ_JOIN && (p = after(body, "refused: "))) {
		a->restore_refused = true;
		a->text = p;
	} else if (req == REQ_COMMIT && (p = after(body, "batch "))) {
		parse_kernel_err(p, true, a);
	} else if (req == REQ_COMMIT && (p = after(body, "refused "))) {
		parse_kernel_err(p, false, a);
	}
	return 0;
}

int protocol_answer_errno(enum protocol_req req, const struct protocol_answer *a)
{
	if (a->restore_refused)
		return -ENOTRECOVERABLE;
	if (a->kernel_err)
		return a->kernel_err;
	return req == REQ_START ? -EINVAL : -EPERM;
}

int protocol_notice_format(const struct protocol_notice *m, char *buf, size_t len)
{
	int n;

	if (m->note == NOTE_DEADLINE)
		n = snprintf(buf, len, "deadline %lld", m->ms);
	else
		n = snprintf(buf, len, "end %s %d\n%s",
			     (unsigned)m->outcome < COUNT(outcomes) && outcomes[m->outcome]
			     ? outcomes[m->outcome] : "failed", m->history_n,
			     m->reason ? m->reason : "");
	return n < 0 ? 0 : (size_t)n >= len ? (int)len - 1 : n;
}

int protocol_notice_parse(char *msg, struct protocol_notice *m)
{
	char *p, *nl;

	memset(m, 0, sizeof(*m));
	if ((p = after(msg, "deadline "))) {
		m->note = NOTE_DEADLINE;
		m->ms = strtoll(p, NULL, 10);
		return 0;
	}
	if (!(p = after(msg, "end ")))
		return -EINVAL;
	m->note = NOTE_END;
	nl = strchr(p, '\n');
	if (nl)
		*nl = 0;
	/* an outcome this version does not know is a failure */
	m->outcome = PROB_FAILED;
	for (size_t i = 0; i < COUNT(outcomes); i++)
		if (outcomes[i] && strncmp(p, outcomes[i], strlen(outcomes[i])) == 0)
			m->outcome = (enum probation_outcome)i;
	p = strchr(p, ' ');
	m->history_n = p ? atoi(p + 1) : 0;
	m->reason = nl ? nl + 1 : "";
	return 0;
}
