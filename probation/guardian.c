#define _GNU_SOURCE
#include "probation/guardian.h"

#include "nft/batch.h"
#include "nft/changed.h"
#include "probation/history.h"
#include "nft/ruletext.h"
#include "probation/probation.h"
#include "probation/protocol.h"
#include "probation/snapfile.h"
#include "probation/state.h"
#include "model/ruleset.h"
#include "util/grow.h"

#include <libnftnl/rule.h>
#include <nftables/libnftables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 32
#define NARROW_READ_MAX 20000  /* rules: re-read to tell if a named table changed */

/* A table kept, as it was before the first change that reached it. */
struct kept {
	size_t snap, idx;       /* g->snaps[snap].tables[idx] */
	uint64_t digest;        /* of the state before; 0 until needed */
	bool touched;           /* false: a candidate not yet checked */
};

struct client {
	int fd;
	pid_t pid;
	uint64_t login;         /* login_of(pid) */
	bool holder;
	bool held;              /* it said hold (detached or not): it may commit */
};

/* The state a change left, for the history, is read when the change went
 * in (a revert must not wait for it), by a thread of its own with its own
 * netlink socket, so that the guardian answers a confirm or a rollback
 * while it reads a big table. One read at a time: a change that joins
 * while one runs makes it start again when it ends (its state is stale). */
struct after_read {
	struct snap_id *ids;
	char **names;
	size_t n;
	struct snapshot snap;
	bool ok;
	int donefd;             /* written when the read ends */
};

struct guardian {
	char dir[4096];
	struct nl nl;
	struct snapshot *snaps;
	size_t nsnaps, snaps_cap;
	struct kept *kept;
	size_t nkept, kept_cap;
	struct client cl[MAX_CLIENTS];
	size_t ncl;
	int lsock;
	int timeout_s;
	int64_t deadline;       /* CLOCK_BOOTTIME ms: counts a suspend too */
	bool strict;
	int applied;            /* changes that went in */
	bool scan_new;          /* a change that may touch any table is coming:
				 * tables that appear with it are its own */
	uint64_t first_login;   /* strict mode: the applier's login */
	bool held_once;
	time_t started;
	char user[64], from[128], what[256];
	char id[PROB_ID_MAX];   /* of the last change that went in (probation.h) */
	char *change;
	char failed[2600];      /* why the revert failed, once it did */
	int lockfd;             /* the run folder's lock, from the applier */
	uint32_t point_genid;   /* generation the last restore point was read at */
	int sigfd;              /* SIGTERM */
	bool echo_lost;         /* a rule the change added is not in its inverse */
	size_t change_len, change_cap;
	bool point_changed;     /* the kept tables changed: rewrite the restore point */
	struct snapshot after;  /* the touched tables right after the last change */
	bool have_after;
	pthread_t reader;       /* reading them (after_start) */
	struct after_read aread;
	bool reading, read_again;
	int afterfd;            /* eventfd: the read ended */
	int fin_n;              /* the history entry finish() completes */
	uint32_t fin_genid;     /* the generation the revert left */
	uint32_t went_genid;    /* the generation the last change left */
	bool told;              /* the kernel told which tables the last script
				 * changed (nft/changed.h), in told_by */
	struct changed_watch told_by;
	struct snapshot fin_back; /* reverted: the tables that came back */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct snap_table *kept_table(struct guardian *g, size_t i)
{
	return &g->snaps[g->kept[i].snap].tables[g->kept[i].idx];
}

/* The touched tables (all kept ones with all) as one snapshot to restore
 * or record; only the array is the caller's to free. */
static struct snapshot view(struct guardian *g, bool all)
{
	struct snapshot v = { 0 };

	v.tables = calloc(g->nkept + 1, sizeof(*v.tables));
	for (size_t i = 0; v.tables && i < g->nkept; i++)
		if (all || g->kept[i].touched)
			v.tables[v.ntables++] = *kept_table(g, i);
	return v;
}

static void tables_text(struct guardian *g, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < g->nkept && n < len; i++) {
		struct snap_table *t = kept_table(g, i);

		if (!g->kept[i].touched)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s%s %s%s", n ? ", " : "",
				      ruleset_family_name(t->family), t->name,
				      t->absent ? " (new)" : "");
	}
	if (!buf[0])
		snprintf(buf, len, "none yet");
}

/* What a later login needs if this process is killed: the restore point
 * and an account of it. */
static void persist(struct guardian *g)
{
	char path[4200], tables[512], err[256], text[2048];
	struct snapshot v = view(g, true);

	/* the restore point only when the kept tables changed (a join, a
	 * narrowing): at 100k rules a rewrite takes a second */
	snprintf(path, sizeof(path), "%s/%s", g->dir, PROB_RESTORE);
	if (g->point_changed && v.tables && snapfile_save(&v, path, err, sizeof(err)) == 0)
		g->point_changed = false;
	free(v.tables);
	tables_text(g, tables, sizeof(tables));
	snprintf(text, sizeof(text), "id: %s\nguardian: %d\nuser: %s\nfrom: %s\nwhat: %s\n"
		 "started: %lld\ndeadline: %lld\ntimeout: %d\nstrict: %d\ntables: %s\n", g->id,
		 (int)getpid(), g->user, g->from, g->what, (long long)g->started,
		 (long long)(time(NULL) + (g->deadline - now_ms()) / 1000), g->timeout_s,
		 g->strict, tables);
	if (prob_write_run_file(g->dir, PROB_INFO, text, err, sizeof(err)))
		syslog(LOG_ERR, "%s", err);
}

/* The answer a to request req, on fd. */
static void answer(int fd, enum protocol_req req, const struct protocol_answer *a)
{
	char buf[PROB_MSG_MAX];
	int n = protocol_answer_format(req, a, buf, sizeof(buf));

	send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* ok, with n (a numbered request's) and text (may be NULL) */
static void answer_ok(int fd, enum protocol_req req, long long n, const char *text)
{
	answer(fd, req, &(struct protocol_answer){ .ok = true, .n = n, .text = text });
}

/* err, its reason fmt */
static void refuse(int fd, enum protocol_req req, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void refuse(int fd, enum protocol_req req, const char *fmt, ...)
{
	char why[PROB_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	answer(fd, req, &(struct protocol_answer){ .text = why });
}

/* The same notice to every holder. */
static void tell_holders(struct guardian *g, const struct protocol_notice *m)
{
	char buf[PROB_MSG_MAX];
	int n = protocol_notice_format(m, buf, sizeof(buf));

	for (size_t i = 0; i < g->ncl; i++)
		if (g->cl[i].holder)
			send(g->cl[i].fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* The deadline restarts: now plus the timeout, told to the holders. */
static void restart_deadline(struct guardian *g)
{
	g->deadline = now_ms() + (int64_t)g->timeout_s * 1000;
	persist(g);
}

static void tell_deadline(struct guardian *g)
{
	tell_holders(g, &(struct protocol_notice){ .note = NOTE_DEADLINE,
						   .ms = (long long)g->timeout_s * 1000 });
}

/* ---- the tables ---- */

/* Take s over (it is the guardian's now): its tables not kept yet are kept
 * as they are in s, as candidates; with made, as tables the change made. */
/* The kept table that t is, among the first n, or -1. */
static long kept_among(struct guardian *g, const struct snap_table *t, size_t n)
{
	for (size_t j = 0; j < n; j++)
		if (kept_table(g, j)->family == t->family && strcmp(kept_table(g, j)->name, t->name) == 0)
			return (long)j;
	return -1;
}

/* The kept table that t is, or -1. */
static long kept_index(struct guardian *g, const struct snap_table *t)
{
	return kept_among(g, t, g->nkept);
}

/* Kept table k, the inverse of the changes so far, as the whole table
 * before them: the table now, with the inverse undone on it. */
static int to_whole(struct guardian *g, struct snap_table *k, char *err, size_t errlen)
{
	struct snap_id id = { k->family, k->name };
	struct snapshot now;
	int ret = snapshot_take(&g->nl, &id, 1, false, &now, err, errlen);

	if (!ret && now.tables[0].absent)
		ret = -ENOENT;
	if (!ret)
		ret = snapshot_undo(&now.tables[0], k);
	if (ret) {
		if (!err[0] || ret == -ENOENT)
			snprintf(err, errlen, "cannot join: table %s %s is no longer as the change "
				 "on probation left it", ruleset_family_name(k->family), k->name);
		if (!now.tables)
			return ret;
	} else {
		struct snap_table t = *k;

		*k = now.tables[0];
		now.tables[0] = t; /* the inverse goes with now */
		g->point_changed = true;
	}
	snapshot_free(&now);
	return ret;
}

static int adopt(struct guardian *g, struct snapshot *s, bool made, char *err, size_t errlen)
{
	if (grow(&g->snaps, &g->snaps_cap, g->nsnaps + 1, sizeof(*g->snaps), 4) ||
	    grow(&g->kept, &g->kept_cap, g->nkept + s->ntables, sizeof(*g->kept), 8)) {
		snapshot_free(s);
		return -ENOMEM;
	}
	/* a table kept as the inverse of an earlier change undoes only that
	 * one: made whole before this change goes in */
	for (size_t i = 0; i < s->ntables; i++) {
		long dup = kept_index(g, &s->tables[i]);
		int ret = dup >= 0 && kept_table(g, (size_t)dup)->delta
			  ? to_whole(g, kept_table(g, (size_t)dup), err, errlen) : 0;

		if (ret) {
			snapshot_free(s);
			return ret;
		}
	}
	g->scan_new |= s->all;
	/* look up the kept ones before this snapshot joins them */
	for (size_t i = 0, n = g->nkept; i < s->ntables; i++) {
		if (kept_among(g, &s->tables[i], n) < 0) {
			g->kept[g->nkept++] = (struct kept){ g->nsnaps, i, 0, made };
			g->point_changed = true;
		}
	}
	g->snaps[g->nsnaps++] = *s;
	return 0;
}

/* Keep the tables of a snapshot file that are not kept yet, as
 * candidates: the state before the change about to be applied. First the
 * kernel must accept their restore (a batch checked, never committed):
 * a restore point the kernel refuses is no way back, and the change must
 * not go in — unless forced, when refused says why (else it is ""). */
static int take_file(struct guardian *g, const char *path, bool force, char *refused,
		     size_t rlen, char *err, size_t errlen)
{
	struct snapshot s;
	int ret = snapfile_load(path, &s, err, errlen);

	refused[0] = 0;
	if (!ret && snapshot_restore(&g->nl, &s, 0, SNAP_PROVE | SNAP_EACH, NULL, refused,
				     rlen) < 0) {
		if (!force) {
			snprintf(err, errlen, "%s", refused);
			snapshot_free(&s);
			return -ENOTRECOVERABLE;
		}
		syslog(LOG_WARNING, "restore point refused, applied anyway (--force): %s", refused);
	} else {
		refused[0] = 0;
	}
	if (!ret)
		g->point_genid = s.genid; /* the generation the next change is made at */
	if (!ret && (ret = adopt(g, &s, false, err, errlen)) == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return ret;
}

static bool known(struct guardian *g, uint32_t family, const char *name)
{
	for (size_t i = 0; i < g->nsnaps; i++)
		for (size_t j = 0; j < g->snaps[i].ntables; j++)
			if (g->snaps[i].tables[j].family == family &&
			    strcmp(g->snaps[i].tables[j].name, name) == 0)
				return true;
	return false;
}

/* Tables that appeared with a change that could touch any: it made them,
 * and a revert deletes them. */
static void scan_new(struct guardian *g)
{
	struct snapshot now, made = { 0 };
	char err[256];

	g->scan_new = false;
	if (snapshot_take(&g->nl, NULL, 0, true, &now, err, sizeof(err)) < 0) {
		syslog(LOG_WARNING, "cannot list the tables (%s)", err);
		return;
	}
	made.tables = calloc(now.ntables + 1, sizeof(*made.tables));
	for (size_t i = 0; made.tables && i < now.ntables; i++) {
		struct snap_table *t = &now.tables[i];

		if (known(g, t->family, t->name))
			continue;
		made.tables[made.ntables].family = t->family;
		made.tables[made.ntables].name = strdup(t->name);
		made.tables[made.ntables++].absent = true;
	}
	snapshot_free(&now);
	if (!made.ntables || adopt(g, &made, true, err, sizeof(err)))
		snapshot_free(&made);
}

enum went { WENT_IN, WENT_NOT, WENT_UNKNOWN };

/* Keep only the candidates the change really changed: compared with the
 * kernel's state — a re-read, which takes seconds for 100k rules, so the
 * big tables a change named (an edit, a restore) are taken as changed if
 * it went in. Any table is compared for a change that could touch any
 * (a script) or whose fate is unknown (its process died); none is when it
 * did not go in. */
static void narrow(struct guardian *g, enum went went)
{
	struct snap_id *ids = calloc(g->nkept + 1, sizeof(*ids));
	size_t *which = calloc(g->nkept + 1, sizeof(*which)), n = 0, out = 0;
	struct snapshot now;
	char err[256];

	if (g->scan_new)
		scan_new(g);
	for (size_t i = 0; ids && which && i < g->nkept; i++) {
		/* an inverse is of a change the guardian committed itself: it
		 * was touched then, or never */
		if (g->kept[i].touched || kept_table(g, i)->delta)
			continue;
		/* big tables a change named: changed if it went in (a re-read
		 * costs seconds); small ones are compared, so a change that
		 * changed nothing starts no probation */
		if (went != WENT_UNKNOWN && !g->snaps[g->kept[i].snap].all &&
		    (went == WENT_NOT || kept_table(g, i)->nrules > NARROW_READ_MAX)) {
			g->kept[i].touched = went == WENT_IN;
			continue;
		}
		/* a script the kernel told about: a table it did not name was
		 * not changed; a big one it named is taken as changed, as a
		 * big one an edit names */
		if (went == WENT_IN && g->told &&
		    (!changed_has(&g->told_by, kept_table(g, i)->family, kept_table(g, i)->name) ||
		     kept_table(g, i)->nrules > NARROW_READ_MAX)) {
			g->kept[i].touched = changed_has(&g->told_by, kept_table(g, i)->family,
							 kept_table(g, i)->name);
			continue;
		}
		ids[n] = (struct snap_id){ kept_table(g, i)->family, kept_table(g, i)->name };
		which[n++] = i;
	}
	if (!ids || !which || !n) {
		/* nothing to compare */
	} else if (snapshot_take(&g->nl, ids, n, false, &now, err, sizeof(err)) < 0) {
		/* cannot tell: keep them all, restoring too much beats too little */
		syslog(LOG_WARNING, "cannot check which tables changed (%s): keeping all", err);
		for (size_t j = 0; j < n; j++)
			g->kept[which[j]].touched = true;
	} else {
		for (size_t j = 0; j < n; j++) {
			struct kept *k = &g->kept[which[j]];

			/* the state before, digested when first compared: a big
			 * table an edit named never is */
			if (!k->digest)
				k->digest = snapfile_digest(kept_table(g, which[j]));
			k->touched = snapfile_digest(&now.tables[j]) != k->digest;
		}
		snapshot_free(&now);
	}
	for (size_t i = 0; i < g->nkept; i++)
		if (g->kept[i].touched)
			g->kept[out++] = g->kept[i];
	if (g->told)
		changed_free(&g->told_by);
	g->told = false;
	g->point_changed |= out != g->nkept;
	g->nkept = out;
	free(ids);
	free(which);
}

static void cleanup_files(struct guardian *g)
{
	static const char *const files[] = { PROB_RESTORE, PROB_INFO, PROB_SOCK, PROB_FAILNOTE };
	char path[4200];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", g->dir, files[i]);
		unlink(path);
	}
}

/* Record the end in the history; returns the entry number (0 if none). */
/* The touched tables as they were before the change, whole, for the
 * history: those kept whole as they are; those kept as an inverse, the
 * state after the change (after) with the inverse undone on a copy. The
 * whole ones are the guardian's: only the array and the copies (*copies)
 * are the caller's to free. */
static struct snapshot before_of(struct guardian *g, const struct snapshot *after,
				 struct snapshot *copies)
{
	struct snapshot v = view(g, false);
	size_t out = 0;

	memset(copies, 0, sizeof(*copies));
	copies->tables = calloc(v.ntables + 1, sizeof(*copies->tables));
	for (size_t i = 0; v.tables && i < v.ntables; i++) {
		struct snapshot one = { 0 };
		bool ok = false;

		if (!v.tables[i].delta) {
			v.tables[out++] = v.tables[i];
			continue;
		}
		for (size_t j = 0; after && copies->tables && j < after->ntables && !ok; j++) {
			if (after->tables[j].family != v.tables[i].family ||
			    strcmp(after->tables[j].name, v.tables[i].name) != 0)
				continue;
			struct snapshot src = { .tables = &after->tables[j], .ntables = 1 };

			ok = snapfile_copy(&src, &one) == 0 &&
			     snapshot_undo(&one.tables[0], &v.tables[i]) == 0;
		}
		if (!ok) {
			syslog(LOG_WARNING, "table %s %s: the state before the change is not "
			       "recorded", ruleset_family_name(v.tables[i].family), v.tables[i].name);
			snapshot_free(&one);
			continue;
		}
		copies->tables[copies->ntables++] = one.tables[0];
		free(one.tables);
		v.tables[out++] = copies->tables[copies->ntables - 1];
	}
	v.ntables = out;
	return v;
}

/* Number the end in the history and write what it is (who, the outcome,
 * the change): the answer names that number. The tables before and after
 * are written by finish(), once every client has its answer. */
static int record_meta(struct guardian *g, const char *outcome, const char *reason)
{
	struct history_entry e = { 0 };
	char err[512] = "";
	int n = 0;

	e.when = time(NULL);
	snprintf(e.user, sizeof(e.user), "%s", g->user);
	snprintf(e.from, sizeof(e.from), "%s", g->from);
	snprintf(e.outcome, sizeof(e.outcome), "%s", outcome);
	snprintf(e.reason, sizeof(e.reason), "%s", reason);
	snprintf(e.what, sizeof(e.what), "%s", g->what);
	snprintf(e.id, sizeof(e.id), "%s", g->id);
	tables_text(g, e.tables, sizeof(e.tables));
	if (history_add(&e, g->change ? g->change : "", &n, err, sizeof(err)))
		syslog(LOG_ERR, "history not written: %s", err);
	g->fin_n = n;
	return n;
}

static void *after_thread(void *arg)
{
	struct after_read *a = arg;
	struct nl nl;
	char err[256];
	uint64_t one = 1;

	a->ok = nl_open(&nl, err, sizeof(err)) == 0;
	if (a->ok) {
		a->ok = snapshot_take(&nl, a->ids, a->n, false, &a->snap, err, sizeof(err)) == 0;
		nl_close(&nl);
	}
	if (!a->ok)
		syslog(LOG_WARNING, "the state after the change not read: %s", err);
	if (write(a->donefd, &one, sizeof(one)) < 0)
		syslog(LOG_WARNING, "guardian: %s", strerror(errno)); /* the join still waits */
	return NULL;
}

static void after_read_free(struct after_read *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->names[i]);
	free(a->names);
	free(a->ids);
	memset(a, 0, sizeof(*a));
}

/* Start reading the touched tables as they are now. */
static void after_start(struct guardian *g)
{
	struct snapshot v;
	struct after_read *a = &g->aread;
	int err;

	if (g->reading) {
		g->read_again = true; /* a change went in since it started */
		return;
	}
	if (g->have_after)
		snapshot_free(&g->after);
	g->have_after = false;
	v = view(g, false);
	a->ids = calloc(v.ntables + 1, sizeof(*a->ids));
	a->names = calloc(v.ntables + 1, sizeof(*a->names));
	for (size_t i = 0; a->ids && a->names && i < v.ntables; i++) {
		if (!(a->names[i] = strdup(v.tables[i].name)))
			break;
		a->ids[i] = (struct snap_id){ v.tables[i].family, a->names[i] };
		a->n = i + 1;
	}
	a->donefd = g->afterfd;
	err = !v.tables || a->n != v.ntables ? ENOMEM
					      : pthread_create(&g->reader, NULL, after_thread, a);
	if (err) {
		syslog(LOG_WARNING, "the state after the change not read: %s", strerror(err));
		after_read_free(a);
	} else {
		g->reading = true;
	}
	free(v.tables);
}

/* The read ended (its done fd is readable, or the caller waits for it):
 * keep its state, or read again if a change went in meanwhile. */
static void after_join(struct guardian *g)
{
	uint64_t n;

	if (!g->reading)
		return;
	pthread_join(g->reader, NULL);
	if (read(g->afterfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		syslog(LOG_WARNING, "guardian: %s", strerror(errno));
	g->reading = false;
	if (g->aread.ok && !g->read_again &&
	    (!g->went_genid || g->aread.snap.genid == g->went_genid)) {
		g->after = g->aread.snap;
		g->have_after = true;
	} else if (g->aread.ok) {
		if (!g->read_again)
			syslog(LOG_WARNING, "the state after the change not recorded: the ruleset "
			       "moved on (generation %u, read at %u)", g->went_genid,
			       g->aread.snap.genid);
		snapshot_free(&g->aread.snap);
	}
	after_read_free(&g->aread);
	if (g->read_again) {
		g->read_again = false;
		after_start(g);
	}
}

/* A read that has ended is joined (without waiting for one under way). */
static void after_poll(struct guardian *g)
{
	struct pollfd p = { g->afterfd, POLLIN, 0 };

	if (g->reading && poll(&p, 1, 0) == 1)
		after_join(g);
}

/* The state the change left, once read (waits for a read under way):
 * true when g->after holds it. */
static bool after_ready(struct guardian *g)
{
	while (g->reading)
		after_join(g);
	return g->have_after;
}

/* g->after, now the caller's. */
static bool take_after(struct guardian *g, struct snapshot *after)
{
	if (!after_ready(g))
		return false;
	*after = g->after;
	g->have_after = false;
	return true;
}

static int end_confirmed(struct guardian *g, const char *by)
{
	char reason[256], tables[512];
	int n;

	snprintf(reason, sizeof(reason), "confirmed by %s", by);
	n = record_meta(g, "confirmed", reason);
	tables_text(g, tables, sizeof(tables));
	syslog(LOG_NOTICE, "change to %s confirmed by %s (history %d)", tables, by, n);
	tell_holders(g, &(struct protocol_notice){ .note = NOTE_END, .outcome = PROB_CONFIRMED,
						   .history_n = n, .reason = reason });
	cleanup_files(g);
	return n;
}

/* Once every client has its answer: the history entry's tables before
 * and after the change (after: as read when it went in, waited for if
 * that read is under way), and after a revert the handles the restored
 * rules have now. The run folder's lock is let go before the big files
 * are written: the next probation need not wait for them, and a reader of
 * the entry waits for them (history_add_tables). */
static void finish(struct guardian *g)
{
	struct snapshot after, copies, before;
	char err[2048] = "";
	bool have;

	/* the next probation may start: the state after this change is
	 * kept only if read at the generation it left, and a revert's new
	 * handles only if read at the one the revert left */
	if (g->lockfd >= 0)
		close(g->lockfd);
	g->lockfd = -1;
	have = take_after(g, &after);
	if (g->fin_n <= 0)
		goto out;
	before = before_of(g, have ? &after : NULL, &copies);
	if (g->fin_back.ntables) {
		/* the tables that came back, whole as they were: their rules
		 * have new handles now */
		struct snapshot came = { .tables = calloc(before.ntables + 1, sizeof(*came.tables)) };

		for (size_t i = 0; came.tables && i < before.ntables; i++)
			for (size_t j = 0; j < g->fin_back.ntables; j++)
				if (before.tables[i].family == g->fin_back.tables[j].family &&
				    strcmp(before.tables[i].name, g->fin_back.tables[j].name) == 0)
					came.tables[came.ntables++] = before.tables[i];
		if (came.ntables && history_add_handles(&g->nl, g->fin_n, &came, g->fin_genid, err,
							sizeof(err)))
			syslog(LOG_WARNING, "handles after the revert not recorded: %s", err);
		free(came.tables);
	}
	if (history_add_tables(g->fin_n, &before, have ? &after : NULL, err, sizeof(err)))
		syslog(LOG_ERR, "history %d: the tables not written: %s", g->fin_n, err);
	free(before.tables);
	snapshot_free(&copies);
out:
	if (have)
		snapshot_free(&after);
	free(g->fin_back.tables);
	g->fin_back = (struct snapshot){ 0 };
}

/* Put the touched tables back, each on its own if the kernel refuses
 * them together, so that one refused table keeps no other from coming
 * back: the history entry's number, or -1 if any table did not come back
 * (then only those stay in the restore point, and the `failed` file says
 * why, for nfpilot status and rollback). */
static int end_reverted(struct guardian *g, const char *why)
{
	struct snapshot v = view(g, false), left = { 0 }, back = { 0 };
	char err[2048] = "", tables[512], reason[2600], leftnames[512] = "";
	int *terr = calloc(v.ntables + 1, sizeof(*terr));
	int ret = -ENOMEM, n;

	/* the state being reverted, for the history, if its read is done: a
	 * revert never waits for it (a read still under way sees the revert
	 * and is not kept, and the history says the tables were not recorded) */
	after_poll(g);
	tables_text(g, tables, sizeof(tables));
	for (int attempt = 0; v.tables && terr && attempt < 5; attempt++) {
		ret = snapshot_restore(&g->nl, &v, 0, SNAP_EACH, terr, err, sizeof(err));
		if (!ret || ret != -EBUSY)
			break;
		usleep(200000); /* busy: try again */
	}
	/* which came back, which not */
	left.tables = calloc(v.ntables + 1, sizeof(*left.tables));
	back.tables = calloc(v.ntables + 1, sizeof(*back.tables));
	for (size_t i = 0; left.tables && back.tables && i < v.ntables; i++) {
		if (terr && terr[i] == 0 && ret != -ENOMEM) {
			back.tables[back.ntables++] = v.tables[i];
			continue;
		}
		left.tables[left.ntables++] = v.tables[i];
		size_t l = strlen(leftnames);

		snprintf(leftnames + l, sizeof(leftnames) - l, "%s%s %s", l ? ", " : "",
			 ruleset_family_name(v.tables[i].family), v.tables[i].name);
	}
	if (ret) {
		snprintf(reason, sizeof(reason), "%.300s; the REVERT FAILED for %.500s: %.1700s%s",
			 why, leftnames[0] ? leftnames : tables, err,
			 back.ntables ? " (every other table was restored)" : "");
		snprintf(g->failed, sizeof(g->failed), "%s", reason);
		syslog(LOG_CRIT, "could not revert %s (%s): %s; restore point kept in %s/%s",
		       leftnames, why, err, g->dir, PROB_RESTORE);
	} else {
		snprintf(reason, sizeof(reason), "%s", why);
		syslog(LOG_WARNING, "reverted %s: %s", tables, why);
	}
	n = record_meta(g, ret ? "revert failed" : "reverted", reason);
	if (nl_genid(&g->nl, &g->fin_genid))
		g->fin_genid = 0;
	g->fin_back = back; /* finish() records their handles */
	back.tables = NULL;
	tell_holders(g, &(struct protocol_notice){ .note = NOTE_END,
						   .outcome = ret ? PROB_FAILED : PROB_REVERTED,
						   .history_n = n, .reason = reason });
	if (!ret) {
		free(v.tables);
		free(left.tables);
		free(back.tables);
		free(terr);
		cleanup_files(g);
		return n;
	}
	{
		/* what did not come back stays: nfpilot rollback tries again,
		 * nfpilot status says why */
		char path[4200], e2[256], note[4096];

		snprintf(path, sizeof(path), "%s/%s", g->dir, PROB_RESTORE);
		if (left.ntables && snapfile_save(&left, path, e2, sizeof(e2)))
			syslog(LOG_ERR, "restore point not rewritten: %s", e2);
		snprintf(note, sizeof(note), "history: %d\ntables: %s\nreason: %s\n", n, leftnames,
			 reason);
		if (prob_write_run_file(g->dir, PROB_FAILNOTE, note, e2, sizeof(e2)))
			syslog(LOG_ERR, "%s", e2);
		snprintf(path, sizeof(path), "%s/%s", g->dir, PROB_SOCK);
		unlink(path);
	}
	free(v.tables);
	free(left.tables);
	free(back.tables);
	free(terr);
	return -1;
}

/* The end without a confirm: revert what the change touched (nothing to
 * do if it touched nothing). Returns the exit status. */
static int give_up(struct guardian *g, const char *why)
{
	narrow(g, WENT_UNKNOWN);
	if (!g->nkept) {
		cleanup_files(g);
		return 0;
	}
	return end_reverted(g, why) < 0;
}

/* ---- the conversation ---- */

static void status(struct guardian *g, int fd)
{
	char tables[512], text[PROB_MSG_MAX];
	int64_t left = g->deadline - now_ms();
	int holders = 0;

	for (size_t i = 0; i < g->ncl; i++)
		holders += g->cl[i].holder;
	tables_text(g, tables, sizeof(tables));
	snprintf(text, sizeof(text), "probation: running\nid: %s\nleft: %lld s\ntimeout: %d s\n"
	    "strict: %s\nuser: %s\nfrom: %s\nwhat: %s\nstarted: %lld\ntables: %s\nguardian: %d\n"
	    "holders: %d\nchange:\n%.*s", g->id,
	    (long long)(left > 0 ? (left + 999) / 1000 : 0), g->timeout_s,
	    g->strict ? "yes (confirm only from another login)" : "no", g->user, g->from, g->what,
	    (long long)g->started, tables, (int)getpid(),
	    holders,
	    (int)(g->change_len > 8000 ? 8000 : g->change_len), g->change ? g->change : "");
	answer_ok(fd, REQ_STATUS, 0, text);
}

static bool may_confirm(struct guardian *g, struct client *c, char *why, size_t len)
{
	if (!g->strict)
		return true;
	for (size_t i = 0; i < g->ncl; i++)
		if ((g->cl[i].holder && g->cl[i].login == c->login) || c->login == g->first_login) {
			snprintf(why, len, "strict mode: confirm from a NEW login "
				 "(run nfpilot confirm in a new SSH session), not from the "
				 "login that applied the change (another window of its tmux or "
				 "screen, or setsid, is the same login)");
			return false;
		}
	return true;
}

/* Which login a process belongs to, to tell a NEW login (strict mode):
 * its audit login session (pam_loginuid gives every login its own), else
 * the sshd process of its SSH connection (its first sshd ancestor), else
 * 0 — no login told apart (a console without audit). A second window of
 * the same tmux, or setsid, is the same login. */
static uint64_t login_of(pid_t pid)
{
	char path[64], buf[512];
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/sessionid", (int)pid);
	if ((fp = fopen(path, "re"))) {
		unsigned long long id = 0;
		bool got = fscanf(fp, "%llu", &id) == 1;

		fclose(fp);
		if (got && id != 4294967295ULL)
			return (1ULL << 63) | id;
	}
	for (int depth = 0; pid > 1 && depth < 64; depth++) {
		char *open_, *close_;
		int ppid;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if (!(fp = fopen(path, "re")))
			break;
		buf[0] = 0;
		if (!fgets(buf, sizeof(buf), fp))
			buf[0] = 0;
		fclose(fp);
		/* "PID (COMM) STATE PPID ...": COMM may hold spaces and ')' */
		open_ = strchr(buf, '(');
		close_ = strrchr(buf, ')');
		if (!open_ || !close_ || sscanf(close_ + 1, " %*c %d", &ppid) != 1)
			break;
		if (close_ - open_ - 1 == 4 && strncmp(open_ + 1, "sshd", 4) == 0)
			return (uint64_t)pid;
		pid = ppid;
	}
	return 0;
}

/* Every change that goes in gives the probation a new id: a confirm
 * naming the id of an earlier change is refused once another one joined
 * it, so nobody keeps a change they did not see. 16 hex digits of the
 * kernel's randomness (the time and pid if it has none to give). */
static void new_id(struct guardian *g)
{
	uint64_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = ((uint64_t)now_ms() << 20) ^ (uint64_t)getpid() ^ ((uint64_t)g->applied << 48);
	snprintf(g->id, sizeof(g->id), "%016llx", (unsigned long long)r);
}

/* A change went in (or did not): keep the tables it changed, restart the
 * deadline, answer "ok MS ID\nTABLES" (MS 0: nothing changed, no probation).
 * True when the probation ended. */
static bool went(struct guardian *g, struct client *c, bool went_in, const char *text)
{
	char tables[512];

	narrow(g, went_in ? WENT_IN : WENT_NOT);
	if (went_in && text && text[1]) {
		size_t len = strlen(text + 1);

		if (!grow(&g->change, &g->change_cap, g->change_len + len + 1, 1, 4096)) {
			memcpy(g->change + g->change_len, text + 1, len + 1);
			g->change_len += len;
		}
	}
	g->applied += went_in;
	if (!g->nkept) { /* no table changed, by this change or earlier ones */
		cleanup_files(g); /* first: a status after the answer finds none */
		answer_ok(c->fd, REQ_COMMIT, 0, "nothing changed");
		return true;
	}
	if (went_in)
		new_id(g);
	restart_deadline(g);
	tables_text(g, tables, sizeof(tables));
	syslog(LOG_NOTICE, "%s by %s from %s: %s on probation for %d s (id %s)", g->what,
	       g->user, g->from, tables, g->timeout_s, g->id);
	answer(c->fd, REQ_COMMIT, &(struct protocol_answer){
		.ok = true, .n = (long long)g->timeout_s * 1000, .id = g->id, .text = tables });
	tell_deadline(g);
	if (nl_genid(&g->nl, &g->went_genid))
		g->went_genid = 0;
	after_start(g); /* after the answer: the applier does not wait for it */
	return false;
}

/* A request naming an id that is not the probation's: refused (answered
 * here), nothing done. */
static bool other_id(struct guardian *g, struct client *c, const struct protocol_request *r)
{
	if (!r->id || !*r->id || strcmp(r->id, g->id) == 0)
		return false;
	answer(c->fd, r->req, &(struct protocol_answer){
		.other_id = true, .text = "the change on probation has another id (another "
		"change, or one joined it since): nothing done" });
	return true;
}

/* A rule the change added, as the kernel echoed it: the inverse of its
 * table deletes it, first. */
static int echo_cb(const struct nlmsghdr *nlh, void *data)
{
	struct guardian *g = data;
	struct nftnl_rule *r;
	struct snap_table t = { 0 };

	if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWRULE || !(r = nftnl_rule_alloc()))
		return MNL_CB_OK;
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0 && nftnl_rule_is_set(r, NFTNL_RULE_TABLE) &&
	    nftnl_rule_is_set(r, NFTNL_RULE_CHAIN) && nftnl_rule_is_set(r, NFTNL_RULE_HANDLE)) {
		long k;

		t.family = ((const struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))->nfgen_family;
		t.name = (char *)nftnl_rule_get_str(r, NFTNL_RULE_TABLE);
		k = kept_index(g, &t);
		if (k >= 0 && kept_table(g, (size_t)k)->delta) {
			struct snap_table *kt = kept_table(g, (size_t)k);
			char *chain = strdup(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));

			if (chain && !grow(&kt->steps, &kt->steps_cap, kt->nsteps + 1,
					   sizeof(*kt->steps), 8)) {
				struct undo_step *st = kt->steps;

				memmove(&st[1], &st[0], kt->nsteps * sizeof(*st));
				kt->nsteps++;
				memset(&st[0], 0, sizeof(*st));
				st[0].kind = UNDO_DELRULE;
				st[0].chain = chain;
				st[0].handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
				st[0].after_step = -1;
				for (size_t i = 1; i < kt->nsteps; i++)
					if (st[i].after_step >= 0)
						st[i].after_step++;
				g->point_changed = true;
			} else {
				free(chain);
				g->echo_lost = true;
			}
		}
	}
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* A file of the run folder the applier wrote: root's, regular, whole, in
 * memory (malloc'd, NUL-terminated), or NULL. */
static char *read_run_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char *buf = NULL;
	struct stat st;

	*len = 0;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0 &&
	    st.st_size < (1 << 30) && (buf = malloc((size_t)st.st_size + 1))) {
		if (read(fd, buf, (size_t)st.st_size) == st.st_size) {
			buf[st.st_size] = 0;
			*len = (size_t)st.st_size;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	if (fd >= 0)
		close(fd);
	return buf;
}

/* The change, made here: the applier's batch (its echoes complete the
 * inverses), a script through libnftables, or a snapshot put back. 0 or
 * -errno, with why and, for a batch, the sequence number at fault. */
static int make_change(struct guardian *g, enum change_kind kind, const char *path,
		       const char *include, uint32_t *seq, char *why, size_t len)
{
	uint32_t now;
	int ret = 0;

	*seq = 0;
	if (kind == CHANGE_BATCH) {
		size_t n;
		char *buf = read_run_file(path, &n);

		if (!buf) {
			snprintf(why, len, "cannot read the change %.1000s", path);
			return -EIO;
		}
		g->echo_lost = false;
		ret = batch_send_bytes(&g->nl, buf, n, echo_cb, g, seq, why, len);
		free(buf);
		return ret;
	}
	/* a script or a snapshot: only at the generation the restore point
	 * was read at (the kernel checks it for a batch) */
	ret = nl_genid(&g->nl, &now);
	if (!ret && now != g->point_genid)
		ret = -ERESTART;
	if (ret) {
		snprintf(why, len, "%s", ret == -ERESTART
			 ? "the ruleset changed since the restore point was read: nothing applied"
			 : nl_strerror(ret));
		return ret;
	}
	if (kind == CHANGE_SCRIPT) {
		struct nft_ctx *ctx = ruletext_ctx(0, false);

		if (!ctx) {
			snprintf(why, len, "cannot start libnftables");
			return -ENOMEM;
		}
		if (include && *include)
			nft_ctx_add_include_path(ctx, include);
		/* the kernel tells which tables it changes: no re-read of
		 * those it does not name (narrow) */
		g->told = changed_start(&g->told_by, why, len) == 0;
		if (!g->told)
			syslog(LOG_WARNING, "%s: the tables a script changes are read again", why);
		if (nft_run_cmd_from_filename(ctx, path) != 0) {
			snprintf(why, len, "%s", nft_ctx_get_error_buffer(ctx));
			ret = -EINVAL;
		}
		nft_ctx_free(ctx);
		if (g->told && (ret || nl_genid(&g->nl, &now) || !changed_stop(&g->told_by, now))) {
			changed_free(&g->told_by);
			g->told = false;
		}
		return ret;
	}
	/* CHANGE_RESTORE */
	{
		struct snapshot s;

		ret = snapfile_load(path, &s, why, len);
		if (!ret)
			ret = snapshot_restore(&g->nl, &s, g->point_genid, 0, NULL, why, len);
		snapshot_free(&s);
		return ret;
	}
}

/* A commit (probation/protocol.h): the change, made by the guardian that
 * holds its restore point, so that it reaches the kernel only while that
 * is held. True when the probation ended. */
static bool commit(struct guardian *g, struct client *c, const struct protocol_request *r)
{
	char why[4096];
	char *text;
	uint32_t seq = 0;
	size_t tlen;
	int ret;

	if (!c->held) {
		refuse(c->fd, REQ_COMMIT, "hold first");
		return false;
	}
	text = read_run_file(r->textpath, &tlen);
	unlink(r->textpath);
	ret = make_change(g, r->kind, r->path, r->include, &seq, why, sizeof(why));
	if (r->kind != CHANGE_RESTORE)
		unlink(r->path);
	if (ret) {
		/* nothing went in: say which message the kernel refused */
		narrow(g, WENT_NOT);
		if (!g->nkept)
			cleanup_files(g); /* first: a status after the answer finds none */
		answer(c->fd, REQ_COMMIT, &(struct protocol_answer){
			.kernel_err = ret, .batch = r->kind == CHANGE_BATCH, .seq = seq,
			.text = why });
		free(text);
		return !g->nkept;
	}
	if (g->echo_lost)
		syslog(LOG_ERR, "out of memory noting the rules a change added: the revert "
		       "will not delete them");
	/* the inverses of this change are complete now: a table with nothing
	 * to undo was not changed (a policy set as it was) */
	for (size_t i = 0; i < g->nkept; i++)
		if (kept_table(g, i)->delta && kept_table(g, i)->nsteps)
			g->kept[i].touched = true;
	{
		/* went() takes the text after a newline */
		size_t n = text ? strlen(text) : 0;
		char *nl = malloc(n + 2);
		bool end;

		if (nl) {
			nl[0] = '\n';
			memcpy(nl + 1, text ? text : "", n + 1);
		}
		end = went(g, c, true, nl);
		free(nl);
		free(text);
		return end;
	}
}

/* Handle one message; true when the probation ended. */
static bool handle(struct guardian *g, struct client *c, char *msg)
{
	struct protocol_request r;
	char why[512];

	if (protocol_request_parse(msg, &r) || r.req == REQ_START) {
		refuse(c->fd, REQ_STATUS, "unknown request");
		return false;
	}
	switch (r.req) {
	case REQ_HOLD:
		/* a detached applier is on record (its session, for strict
		 * mode) but does not hold: its end does not revert */
		c->holder = !r.detach;
		c->held = true;
		if (r.strict)
			g->strict = true;
		if (!g->held_once) {
			g->first_login = c->login;
			g->held_once = true;
		}
		answer_ok(c->fd, r.req, 0, NULL);
		break;
	case REQ_RELEASE:
		c->holder = false;
		answer_ok(c->fd, r.req, 0, NULL);
		break;
	case REQ_JOIN: {
		char refused[2048], err[2048];
		int ret = take_file(g, r.path, r.force, refused, sizeof(refused), err, sizeof(err));

		answer(c->fd, r.req, &(struct protocol_answer){
			.ok = !ret, .refused = !ret && refused[0] ? refused : NULL,
			.restore_refused = ret == -ENOTRECOVERABLE, .text = err });
		unlink(r.path);
		persist(g);
		break;
	}
	case REQ_COMMIT:
		return commit(g, c, &r);
	case REQ_EXTEND:
		if (other_id(g, c, &r))
			break;
		restart_deadline(g);
		answer_ok(c->fd, r.req, (long long)g->timeout_s * 1000, NULL);
		tell_deadline(g);
		break;
	case REQ_CONFIRM: {
		char by[128];

		if (other_id(g, c, &r))
			return false;
		if (!may_confirm(g, c, why, sizeof(why))) {
			refuse(c->fd, r.req, "%s", why);
			return false;
		}
		snprintf(by, sizeof(by), "pid %d", (int)c->pid);
		answer_ok(c->fd, r.req, end_confirmed(g, by), NULL);
		return true;
	}
	case REQ_ROLLBACK: {
		int n;

		if (other_id(g, c, &r))
			return false;
		snprintf(why, sizeof(why), "rolled back on request (pid %d)", (int)c->pid);
		n = end_reverted(g, why);
		if (n < 0)
			refuse(c->fd, r.req, "the revert failed, nfpilot status says why and what "
			       "now: %s", g->failed);
		else
			answer_ok(c->fd, r.req, n, NULL);
		return true;
	}
	case REQ_STATUS:
		status(g, c->fd);
		break;
	default:
		break;
	}
	return false;
}

static void drop_client(struct guardian *g, size_t i)
{
	close(g->cl[i].fd);
	g->cl[i] = g->cl[--g->ncl];
}

static int serve(struct guardian *g)
{
	static char msg[PROB_MSG_MAX + 1];

	for (;;) {
		struct pollfd pfd[MAX_CLIENTS + 3];
		int64_t left = g->deadline - now_ms();

		if (left <= 0) {
			char why[128];

			snprintf(why, sizeof(why), "not confirmed within %d s", g->timeout_s);
			return give_up(g, why);
		}
		pfd[0] = (struct pollfd){ g->lsock, POLLIN, 0 };
		for (size_t i = 0; i < g->ncl; i++)
			pfd[i + 1] = (struct pollfd){ g->cl[i].fd, POLLIN, 0 };
		pfd[g->ncl + 1] = (struct pollfd){ g->sigfd, POLLIN, 0 };
		pfd[g->ncl + 2] = (struct pollfd){ g->afterfd, POLLIN, 0 };
		if (poll(pfd, g->ncl + 3, left > 1000 ? 1000 : (int)left) < 0 && errno != EINTR)
			return 1;
		if (pfd[g->ncl + 2].revents & POLLIN)
			after_join(g);
		if (pfd[g->ncl + 1].revents & POLLIN) {
			/* stopped (systemd stops a unit, a shutdown): put it back first */
			struct signalfd_siginfo si;

			if (read(g->sigfd, &si, sizeof(si)) == sizeof(si))
				return give_up(g, "the guardian was stopped (SIGTERM) before the change "
					       "was confirmed");
		}
		for (size_t i = g->ncl; i-- > 0;) {
			ssize_t n;

			if (!pfd[i + 1].revents)
				continue;
			n = recv(g->cl[i].fd, msg, PROB_MSG_MAX, MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0) {
				struct client gone = g->cl[i];
				char why[160];

				drop_client(g, i);
				if (!gone.holder)
					continue;
				/* NETCONF's rule: a session that vanished cannot confirm */
				snprintf(why, sizeof(why),
					 "the process that applied it (pid %d) ended without "
					 "confirming", (int)gone.pid);
				return give_up(g, why);
			}
			msg[n] = 0;
			if (handle(g, &g->cl[i], msg))
				return 0;
		}
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(g->lsock, NULL, NULL, SOCK_CLOEXEC);
			struct ucred cr;
			socklen_t len = sizeof(cr);

			if (fd < 0)
				continue;
			if (g->ncl == MAX_CLIENTS ||
			    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != 0) {
				close(fd); /* only root talks to the guardian */
				continue;
			}
			g->cl[g->ncl++] = (struct client){ fd, cr.pid, login_of(cr.pid), false, false };
		}
	}
}

/* The start: on the start socket, the applier hands over the lock of the
 * run folder (SCM_RIGHTS), the options and who asks. Its connection, or
 * -1 if none came in time. */
static int take_start(struct guardian *g, int lsock, bool *force)
{
	char buf[1024], cbuf[CMSG_SPACE(sizeof(int))];
	struct pollfd pfd = { lsock, POLLIN, 0 };

	/* the applier connects as soon as it sees the socket */
	while (poll(&pfd, 1, 10000) > 0) {
		int fd = accept4(lsock, NULL, NULL, SOCK_CLOEXEC), lockfd = -1;
		struct iovec iov = { buf, sizeof(buf) - 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct pollfd cp = { fd, POLLIN, 0 };
		struct cmsghdr *cm;
		struct ucred cr;
		socklen_t len = sizeof(cr);
		struct protocol_request r;
		ssize_t n = -1;

		if (fd < 0)
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && cr.uid == 0 &&
		    poll(&cp, 1, 10000) > 0)
			n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
		if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&lockfd, CMSG_DATA(cm), sizeof(int));
		buf[n > 0 ? n : 0] = 0;
		/* a start (probation/protocol.h), holding the lock */
		if (lockfd < 0 || protocol_request_parse(buf, &r) || r.req != REQ_START ||
		    flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
			if (lockfd >= 0)
				close(lockfd);
			close(fd);
			continue;
		}
		g->timeout_s = r.timeout_s;
		g->strict = r.strict;
		*force = r.force;
		snprintf(g->user, sizeof(g->user), "%s", r.user);
		snprintf(g->from, sizeof(g->from), "%s", r.from);
		snprintf(g->what, sizeof(g->what), "%s", r.what);
		g->lockfd = lockfd; /* held as long as this process lives */
		g->cl[g->ncl++] = (struct client){ fd, cr.pid, login_of(cr.pid), false, false };
		return fd;
	}
	return -1;
}

/* A listening socket at name of the run folder. */
static int listen_at(struct guardian *g, const char *name, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int fd;

	if (state_socket_addr(g->dir, name, &sa)) {
		snprintf(err, errlen, "%.400s: path too long for a socket", g->dir);
		return -1;
	}
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		snprintf(err, errlen, "%s: %s", sa.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int guardian_main(int argc, char **argv)
{
	struct guardian g = { .lsock = -1, .lockfd = -1, .sigfd = -1, .afterfd = -1 };
	char path[4200], from[4200], err[2048] = "", refused[2048] = "";
	int devnull, ret = 0, conn;
	bool force = false;
	sigset_t term;

	if (argc != 2)
		return 2;
	snprintf(g.dir, sizeof(g.dir), "%s", argv[1]);
	g.started = time(NULL);

	/* no terminal: a closing SSH session must not take us with it; a
	 * SIGTERM reverts first (serve) */
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	g.sigfd = signalfd(-1, &term, SFD_CLOEXEC | SFD_NONBLOCK);
	g.afterfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull > 2)
			close(devnull);
	}
	openlog("nfpilot", LOG_PID, LOG_DAEMON);
	snapshot_test_break(getenv("NFPILOT_TEST_BREAK_RESTORE"));

	g.lsock = listen_at(&g, PROB_START_SOCK, err, sizeof(err));
	conn = g.lsock < 0 ? -1 : take_start(&g, g.lsock, &force);
	if (conn < 0) {
		syslog(LOG_ERR, "guardian not started: %s", err[0] ? err : "nobody handed it a "
		       "probation");
		snprintf(path, sizeof(path), "%s/%s", g.dir, PROB_START_SOCK);
		unlink(path);
		return 1;
	}
	g.deadline = now_ms() + (int64_t)g.timeout_s * 1000;
	snprintf(path, sizeof(path), "%s/%s", g.dir, PROB_RESTORE);
	ret = nl_open(&g.nl, err, sizeof(err));
	if (!ret)
		ret = take_file(&g, path, force, refused, sizeof(refused), err, sizeof(err));
	/* ready: under the name every later client knows */
	snprintf(from, sizeof(from), "%s/%s", g.dir, PROB_START_SOCK);
	if (!ret) {
		char to[4200];

		snprintf(to, sizeof(to), "%s/%s", g.dir, PROB_SOCK);
		if (rename(from, to) < 0) {
			ret = -errno;
			snprintf(err, sizeof(err), "%.1900s: %s", to, strerror(errno));
		}
	}
	if (ret) {
		/* the applier says why; nothing was applied */
		syslog(LOG_ERR, "guardian not started: %s", err);
		answer(conn, REQ_START, &(struct protocol_answer){
			.restore_refused = ret == -ENOTRECOVERABLE, .text = err });
		unlink(path);
		unlink(from);
		return 1;
	}
	g.point_changed = false; /* the applier wrote it: it is what we keep */
	persist(&g);
	answer(conn, REQ_START, &(struct protocol_answer){
		.ok = true, .refused = refused[0] ? refused : NULL });
	ret = serve(&g);
	finish(&g);
	for (size_t i = 0; i < g.ncl; i++)
		close(g.cl[i].fd);
	close(g.lsock);
	nl_close(&g.nl);
	for (size_t i = 0; i < g.nsnaps; i++)
		snapshot_free(&g.snaps[i]);
	free(g.snaps);
	free(g.kept);
	free(g.change);
	if (g.have_after)
		snapshot_free(&g.after);
	closelog();
	return ret;
}
