/* sets: the set screen (Enter on a set in the tree, @ on a rule that
 * uses one) — one row an element: the key (a concatenation's fields in
 * columns), a map's data or verdict (Enter follows a jump), a meter's
 * limit or a quota, counter and rate, expiry counting down, comment; the
 * rules that use the set above. The elements load in slices from the
 * main loop's poll (nft/setread.h), so the first screen comes with the
 * first slice, then their index is sorted in slices; rows are formatted
 * only when drawn (model/setelems.h). A set the kernel fills (a meter,
 * update/add @s) or one with counters is read again on the refresh tick
 * (less often when a read is expensive), the rows new since marked +,
 * the gone ones shown dimmed with -. / finds the element holding an
 * address (its key compiled by the set's compiler, a scratch session
 * kept while the screen is open: apply/compile.h), \ filters, < > I
 * sort; a, d, D, F stage element edits with the others (W applies them
 * all, on probation), the edits' elements compiled by the same compiler
 * into rows above the kernel's (adds) or marks (deletes). */
#define _GNU_SOURCE
#include "ui/view.h"

#include "apply/apply.h"
#include "model/fmt.h"
#include "util/grow.h"
#include "util/mono.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEP_BUDGET 0.015    /* seconds of slices per loop turn */
#define INDEX_SLICE 65536    /* rows of the index's sort a slice (about 1 ms) */
#define MARK_AGE 3           /* refreshes a new or gone element stays marked */

static bool shown(const struct view *v)
{
	return v->main == &sets_screen;
}

static bool is_map(const struct setelems_set *s)
{
	return (s->flags & (NFT_SET_MAP | NFT_SET_OBJECT)) != 0;
}

/* ---- rows shown ---- */

static size_t nrows(const struct sets_view *sv)
{
	return sv->view ? sv->nview : sv->s.n;
}

/* an interval set in key order once whole (the kernel dumps it from the
 * top); any other in the kernel's order */
static bool keyed(const struct sets_view *sv)
{
	return sv->loaded && (sv->s.set.flags & NFT_SET_INTERVAL) && setelems_indexed(&sv->s);
}

/* nothing being read or indexed */
static bool idle(const struct sets_view *sv)
{
	return !sv->loading && !sv->refreshing && !sv->indexing;
}

static size_t row_at(const struct sets_view *sv, size_t k)
{
	if (sv->view)
		return sv->view[k];
	return keyed(sv) ? sv->s.order[k] : k;
}

static const uint8_t *key_of(const struct setelems *s, size_t i)
{
	return s->keys + s->rows[i].key;
}

/* the byte offset and length of field f of a key */
static void field_span(const struct setelems_set *set, unsigned f, size_t *off, size_t *len)
{
	*off = 0;
	if (set->nfields <= 1) {
		*len = set->key_len;
		return;
	}
	for (unsigned i = 0; i < f; i++)
		*off += ((size_t)set->field_len[i] + 3) & ~(size_t)3;
	*len = set->field_len[f];
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0; /* the largest first */
}

static int cmp_rows(const void *pa, const void *pb, void *ctx)
{
	const struct sets_view *sv = ctx;
	const struct setelems *s = &sv->s;
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	const struct setelem *ra = &s->rows[a], *rb = &s->rows[b];
	int c = 0;

	if ((ra->flags ^ rb->flags) & SE_CATCHALL)
		return ra->flags & SE_CATCHALL ? 1 : -1;
	if (sv->sort < SC_DATA) {
		size_t off, len;

		field_span(&s->set, (unsigned)sv->sort, &off, &len);
		if (!(ra->flags & SE_CATCHALL))
			c = memcmp(key_of(s, a) + off, key_of(s, b) + off, len);
	} else if (sv->sort == SC_DATA) {
		if (s->set.data_type == NFT_DATA_VERDICT)
			c = ra->verdict - rb->verdict;
		if (!c && (ra->flags & (SE_JUMP | SE_OBJREF)) && (rb->flags & (SE_JUMP | SE_OBJREF)))
			c = strcmp(s->text + ra->data - 1, s->text + rb->data - 1);
		else if (!c && s->set.data_type != NFT_DATA_VERDICT && s->set.data_len)
			c = memcmp(s->keys + ra->data, s->keys + rb->data, s->set.data_len);
	} else if (sv->sort == SC_STMTS) {
		if (s->stmts)
			c = strcmp(s->stmts[a] ? s->text + s->stmts[a] - 1 : "",
				   s->stmts[b] ? s->text + s->stmts[b] - 1 : "");
	} else if (sv->sort == SC_PACKETS || sv->sort == SC_BYTES) {
		int at = sv->sort == SC_BYTES;

		if (s->counters)
			c = cmp_u64(s->counters[2 * a + at], s->counters[2 * b + at]);
	} else if (sv->sort == SC_RATE) {
		if (sv->pps)
			c = sv->pps[a] < sv->pps[b] ? 1 : sv->pps[a] > sv->pps[b] ? -1 : 0;
	} else if (sv->sort == SC_EXPIRES) {
		if (s->times)
			c = -cmp_u64(s->times[2 * a + 1], s->times[2 * b + 1]); /* soonest first */
	} else if (sv->sort == SC_COMMENT) {
		c = strcmp(ra->comment ? s->text + ra->comment - 1 : "",
			   rb->comment ? s->text + rb->comment - 1 : "");
	}
	if (!c && !(ra->flags & SE_CATCHALL)) /* then by key, whole */
		c = memcmp(key_of(s, a), key_of(s, b), s->set.key_len);
	if (sv->reverse)
		c = -c;
	return c ? c : (a > b) - (a < b);
}

static bool row_matches(const struct sets_view *sv, size_t i)
{
	char buf[1024];

	return strcasestr(setelems_format(&sv->s, i, buf, sizeof(buf)), sv->filter) != NULL;
}

/* The rows shown, after rows came or the filter or the sort changed
 * (all: from the first row again); sorted once the set is whole. */
static void rebuild_view(struct sets_view *sv, bool all)
{
	if (!sv->filter[0] && sv->sort == SC_NONE) {
		free(sv->view);
		sv->view = NULL;
		sv->nview = sv->view_cap = sv->upto = 0;
		list_count(&sv->l, sv->s.n);
		return;
	}
	if (all || !sv->view)
		sv->nview = sv->upto = 0;
	for (size_t k = sv->upto; k < sv->s.n; k++) {
		size_t i = keyed(sv) ? sv->s.order[k] : k; /* an interval set's in key order */

		if (sv->filter[0] && !row_matches(sv, i))
			continue;
		if (grow(&sv->view, &sv->view_cap, sv->nview + 1, sizeof(*sv->view), 1024))
			break;
		sv->view[sv->nview++] = (uint32_t)i;
	}
	sv->upto = sv->s.n;
	if (sv->sort != SC_NONE && !sv->loading && sv->nview)
		qsort_r(sv->view, sv->nview, sizeof(*sv->view), cmp_rows, sv);
	list_count(&sv->l, sv->nview);
}

/* ---- which rules use it ---- */

/* what a set's name is made of, after its @ */
#define SET_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./"

bool sets_used_by_rule(const char *text, char *out, size_t size)
{
	for (const char *p = text ? strchr(text, '@') : NULL; p; p = strchr(p + 1, '@')) {
		size_t n = strspn(p + 1, SET_NAME_CHARS);

		if (n && n < size && (p == text || p[-1] == ' ' || p[-1] == '{')) {
			memcpy(out, p + 1, n);
			out[n] = 0;
			return true;
		}
	}
	return false;
}

const char *sets_count_text(const struct nfp_set *s, char *buf, size_t len)
{
	if (s->nelems == NFP_NELEMS_UNKNOWN)
		snprintf(buf, len, "elements being counted");
	else
		snprintf(buf, len, "%" PRIu32 " element%s", s->nelems, s->nelems == 1 ? "" : "s");
	return buf;
}

bool sets_rule_uses(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text ? strchr(text, '@') : NULL; p; p = strchr(p + 1, '@'))
		if (strncmp(p + 1, name, n) == 0 && !strchr(SET_NAME_CHARS, p[1 + n] ? p[1 + n] : ' '))
			return true;
	return false;
}

static void find_users(struct view *v)
{
	struct sets_view *sv = &v->sets;
	const struct nfp_table *t = ruleset_find_table(&v->live.rs, sv->s.set.family,
						       sv->s.set.table);
	size_t at = 0, n = 0;
	bool loading = false;

	sv->used_by[0] = 0;
	for (size_t c = 0; t && c < t->nchains; c++) {
		const struct nfp_chain *ch = &t->chains[c];

		loading |= !ch->rules_loaded;
		for (size_t r = 0; r < ch->nrules; r++) {
			if (!sets_rule_uses(ch->rules[r].text, sv->s.set.name))
				continue;
			if (at < sizeof(sv->used_by))
				at += (size_t)snprintf(sv->used_by + at, sizeof(sv->used_by) - at,
						       "%s%s #%u", n ? ", " : "", ch->name,
						       ch->rules[r].position);
			n++;
		}
	}
	if (!n)
		snprintf(sv->used_by, sizeof(sv->used_by), "%s", loading ? "(rules still loading)"
						   : "no rule of the table");
}

/* ---- reading ---- */

static void clear_marks(struct sets_view *sv)
{
	for (size_t i = 0; i < sv->nmarked; i++)
		free(sv->marked[i]);
	sv->nmarked = 0;
}

static void clear_gone(struct sets_view *sv)
{
	for (size_t i = 0; i < sv->ngone; i++)
		free(sv->gone[i]);
	sv->ngone = 0;
}

static void start_read(struct view *v, bool refresh)
{
	struct sets_view *sv = &v->sets;
	struct setelems *into = refresh ? &sv->next : &sv->s;
	int ret;

	if (refresh) {
		setelems_free(&sv->next);
		sv->next.set = sv->s.set;
	}
	ret = setread_start(&sv->rd, into);
	if (ret) {
		view_status(v, ROLE_ERROR, "set %s: %s", sv->s.set.name, nl_strerror(ret));
		return;
	}
	sv->genid = v->live.rs.genid;
	sv->read_started = mono_now();
	sv->loading = !refresh;
	sv->refreshing = refresh;
}

/* The row of next holding exactly row i's key (and range) of cur, or -1. */
static long same_elem(struct setelems *in, const struct setelems *cur, size_t i)
{
	const struct setelem *r = &cur->rows[i];
	long j;

	if (r->flags & SE_CATCHALL) {
		for (size_t k = 0; k < in->n; k++)
			if (in->rows[k].flags & SE_CATCHALL)
				return (long)k;
		return -1;
	}
	j = setelems_find(in, key_of(cur, i));
	if (j < 0 || ((in->rows[j].flags ^ r->flags) & (SE_RANGE | SE_CATCHALL)))
		return -1;
	if (memcmp(key_of(in, (size_t)j), key_of(cur, i),
		   (r->flags & SE_RANGE ? 2 : 1) * (size_t)cur->set.key_len))
		return -1;
	return j;
}

/* A refresh read whole: what is new, what went, the rates; then it is
 * what is shown. */
static void swap_in(struct view *v)
{
	struct sets_view *sv = &v->sets;
	struct setelems *old = &sv->s, *nw = &sv->next;
	double now = sv->read_end, dt = now - sv->read_at;
	bool diff = old->n <= SETS_DIFF_MAX && nw->n <= SETS_DIFF_MAX;
	uint8_t *fresh = NULL;
	float *pps = NULL;
	char buf[1024];
	long sel = -1;

	if (diff) {
		fresh = calloc(nw->n + 1, 1);
		pps = old->counters ? calloc(nw->n + 1, sizeof(*pps)) : NULL;
	}
	if (sv->l.sel < nrows(sv) && diff)
		sel = (long)row_at(sv, sv->l.sel);
	/* the gone ones age, and go after MARK_AGE refreshes */
	for (size_t g = 0; g < sv->ngone;) {
		if (++sv->gone[g][0] > '0' + MARK_AGE) {
			free(sv->gone[g]);
			sv->gone[g] = sv->gone[--sv->ngone];
		} else {
			g++;
		}
	}
	for (size_t i = 0; fresh && i < nw->n; i++) {
		long j = same_elem(old, nw, i);

		if (j < 0) {
			fresh[i] = 1;
			continue;
		}
		if (sv->fresh && sv->fresh[j] && sv->fresh[j] < MARK_AGE)
			fresh[i] = (uint8_t)(sv->fresh[j] + 1);
		if (pps && nw->counters && dt > 0 && nw->counters[2 * i] >= old->counters[2 * j])
			pps[i] = (float)((double)(nw->counters[2 * i] - old->counters[2 * j]) / dt);
		if (j == sel)
			sel = -2 - (long)i; /* the selection follows its element */
	}
	/* elements gone since the last read: "1<text>", the digit their age */
	for (size_t j = 0; diff && sv->loaded && j < old->n; j++)
		if (same_elem(nw, old, j) < 0 && sv->ngone < SETS_GONE) {
			char *g = malloc(strlen(setelems_format(old, j, buf, sizeof(buf))) + 2);

			if (!g)
				break;
			g[0] = '1';
			strcpy(g + 1, buf);
			sv->gone[sv->ngone++] = g;
		}
	setelems_free(old);
	*old = *nw;
	memset(nw, 0, sizeof(*nw));
	free(sv->fresh);
	free(sv->pps);
	sv->fresh = fresh;
	sv->pps = pps;
	sv->read_at = now;
	rebuild_view(sv, true);
	if (sel <= -2)
		for (size_t k = 0; k < nrows(sv); k++)
			if (row_at(sv, k) == (size_t)(-2 - sel)) {
				list_select(&sv->l, k);
				break;
			}
}

/* One read ended (ret of setread_step: 0 or -errno): once its index is
 * built (sets_step, in slices), it is shown. */
static void read_done(struct view *v, int ret)
{
	struct sets_view *sv = &v->sets;
	bool refresh = sv->refreshing;

	sv->loading = false;
	if (ret == -EINTR) { /* the set changed during the dump: again */
		sv->refreshing = false;
		start_read(v, refresh || sv->loaded);
		return;
	}
	if (ret) {
		sv->refreshing = false;
		view_status(v, ROLE_ERROR, "set %s: %s", sv->s.set.name,
			    ret == -ENOENT ? "no longer there" : nl_strerror(ret));
		setelems_free(&sv->next);
		return;
	}
	sv->read_end = mono_now();
	sv->read_cost = sv->read_end - sv->read_started;
	if (!refresh)
		sv->read_at = sv->read_end;
	sv->loaded = true;
	sv->indexing = true;
	find_users(v);
}

/* The index of the read that ended is built: show it. */
static void indexed(struct view *v)
{
	struct sets_view *sv = &v->sets;

	sv->indexing = false;
	if (sv->refreshing) {
		sv->refreshing = false;
		swap_in(v);
	} else {
		rebuild_view(sv, true); /* the filter's rows in key order now */
	}
}

/* ---- the screen's life ---- */

static void reset(struct sets_view *sv)
{
	setread_cancel(&sv->rd);
	compile_set_stop(&sv->compiler);
	setelems_free(&sv->s);
	setelems_free(&sv->next);
	setelems_free(&sv->added);
	setelems_free(&sv->deleted);
	sv->flushed = false;
	sv->staged_sig = 0;
	sv->compiler_tried = false;
	free(sv->view);
	free(sv->fresh);
	free(sv->pps);
	clear_marks(sv);
	clear_gone(sv);
	sv->view = NULL;
	sv->fresh = NULL;
	sv->pps = NULL;
	sv->nview = sv->view_cap = sv->upto = 0;
	sv->loading = sv->refreshing = sv->loaded = sv->indexing = false;
	sv->filter[0] = sv->search[0] = 0;
	sv->sort = SC_NONE;
	sv->reverse = false;
	sv->l = (struct list){ 0 };
	memset(sv->colw, 0, sizeof(sv->colw));
}

/* The set's compiler (/'s keys, the staged rows): made while the set
 * loads, at the first tick after the first screen (its process and the
 * table's structure would delay that screen), or when it is needed
 * first; made again after a failure only when asked to (retry: a
 * search). NULL, with sv->err saying why, when it cannot be made. */
static struct compile_set *compiler(struct view *v, bool retry)
{
	struct sets_view *sv = &v->sets;

	if (sv->compiler.p.pid)
		return &sv->compiler;
	if (sv->compiler_tried && !retry)
		return NULL;
	sv->compiler_tried = true;
	if (apply_set_start(&v->live.nl, &sv->s.set, &sv->compiler, sv->err, sizeof(sv->err)))
		return NULL;
	return &sv->compiler;
}

bool sets_open(struct view *v, uint32_t family, const char *table, const char *name)
{
	struct sets_view *sv = &v->sets;
	struct setelems_set set;
	int ret = setread_set(&v->live.nl, family, table, name, &set);

	if (ret) {
		view_status(v, ROLE_ERROR, "set %s in table %s: %s", name, table,
			    ret == -ENOENT ? "no such set" : nl_strerror(ret));
		return false;
	}
	if (shown(v))
		view_show(v, &rules_screen); /* another set: this one's memory goes */
	reset(sv);
	sv->s.set = set;
	start_read(v, false);
	find_users(v);
	view_show(v, &sets_screen);
	return true;
}

static void sets_leave(struct view *v)
{
	reset(&v->sets); /* a million elements are not kept off screen */
}

static void sets_free(struct view *v)
{
	reset(&v->sets);
}

static int sets_pollfds(struct view *v, struct pollfd *pfd)
{
	if (!shown(v) || setread_fd(&v->sets.rd) < 0)
		return 0;
	pfd[0] = (struct pollfd){ .fd = setread_fd(&v->sets.rd), .events = POLLIN };
	return 1;
}

/* The index of the read that ended, a slice at a time within the turn's
 * budget: of what is shown, or of a refresh before it is shown. */
static enum redraw index_some(struct view *v, double start)
{
	struct sets_view *sv = &v->sets;
	struct setelems *ix = sv->refreshing ? &sv->next : &sv->s;
	int ret = 1;

	while (ret > 0 && mono_now() - start < STEP_BUDGET)
		ret = setelems_index_step(ix, INDEX_SLICE);
	if (ret > 0)
		return REDRAW_NONE;
	if (ret < 0)
		view_status(v, ROLE_ERROR, "set %s: out of memory for its index", sv->s.set.name);
	indexed(v);
	return REDRAW_ALL;
}

static int sets_timeout_ms(const struct view *v)
{
	return shown(v) && v->sets.indexing ? 0 : -1;
}

static enum redraw sets_step(struct view *v)
{
	struct sets_view *sv = &v->sets;
	double start = mono_now();
	enum redraw what = REDRAW_NONE;

	if (!shown(v))
		return REDRAW_NONE;
	if (sv->indexing)
		return index_some(v, start);
	while (setread_fd(&sv->rd) >= 0 && mono_now() - start < STEP_BUDGET) {
		struct pollfd p = { .fd = setread_fd(&sv->rd), .events = POLLIN };
		int ret;

		if (poll(&p, 1, 0) <= 0)
			break;
		ret = setread_step(&sv->rd);
		if (ret > 0) {
			if (sv->loading)
				what = REDRAW_ALL; /* the rows as they come */
			continue;
		}
		read_done(v, ret);
		what = REDRAW_ALL;
		if (sv->indexing)
			what |= index_some(v, start);
		break;
	}
	if (sv->loading && sv->view)
		rebuild_view(sv, false); /* the filter over the rows that came */
	else if (sv->loading)
		list_count(&sv->l, sv->s.n);
	return what;
}

/* Read it again on the tick: a set the kernel fills, one with counters
 * or timeouts, or any after the ruleset changed; never more often than
 * five times what a read costs. The countdowns move on. */
static enum redraw sets_tick(struct view *v)
{
	struct sets_view *sv = &v->sets;
	const struct setelems_set *set = &sv->s.set;
	bool live = (set->flags & (NFT_SET_EVAL | NFT_SET_TIMEOUT)) || set->counters ||
		    set->timeouts;
	double every = v->cfg.refresh > sv->read_cost * 5 ? v->cfg.refresh : sv->read_cost * 5;

	if (shown(v))
		compiler(v, false); /* a failure is said at the search */
	if (!shown(v) || !sv->loaded || !idle(sv))
		return REDRAW_NONE;
	find_users(v);
	if ((live && mono_now() - sv->read_at >= every - 0.05) || sv->genid != v->live.rs.genid)
		start_read(v, true);
	return REDRAW_ALL;
}

static bool sets_busy(const struct view *v)
{
	return shown(v) && !idle(&v->sets);
}

/* ---- the staged state of a row ---- */

static bool edit_here(const struct sets_view *sv, const struct edit *e)
{
	const struct setelems_set *set = &sv->s.set;

	return e->set && e->family == set->family && strcmp(e->table, set->table) == 0 &&
	       strcmp(e->set, set->name) == 0;
}

/* What the staged edits of this set are, compiled: again when they
 * changed (staged, undone, applied, dropped), known by a hash of them. An
 * edit the compiler refuses (it was checked when staged) is left out. */
static void staged_sync(struct view *v)
{
	struct sets_view *sv = &v->sets;
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	char err[512];

	for (size_t i = 0; i < v->cs.n; i++) {
		const struct edit *e = &v->cs.edits[i];

		if (!edit_here(sv, e))
			continue;
		h = (h ^ (uint8_t)e->kind) * 1099511628211ull;
		for (const char *p = e->text ? e->text : ""; *p; p++)
			h = (h ^ (uint8_t)*p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	if (h == sv->staged_sig)
		return;
	sv->staged_sig = h;
	setelems_free(&sv->added);
	setelems_free(&sv->deleted);
	sv->added.set = sv->deleted.set = sv->s.set;
	sv->flushed = false;
	for (size_t i = 0; i < v->cs.n; i++) {
		const struct edit *e = &v->cs.edits[i];
		bool add = e->kind == EDIT_ELEM_ADD;

		if (!edit_here(sv, e))
			continue;
		if (e->kind == EDIT_SET_FLUSH) {
			sv->flushed = true;
			setelems_clear(&sv->added); /* a flush after adds takes them too */
			continue;
		}
		if ((!add && e->kind != EDIT_ELEM_DELETE) || !e->text)
			continue;
		if (compiler(v, false))
			apply_set_elems(&sv->compiler, e->text, !add,
					add ? &sv->added : &sv->deleted, err, sizeof(err));
	}
	/* an element to come has no expiry yet: its timeout is what it gets */
	for (size_t i = 0; sv->added.times && i < sv->added.n; i++)
		sv->added.times[2 * i + 1] = 0;
	setelems_index(&sv->added); /* drawn in key order */
}

/* the k-th staged row in key order */
static size_t added_at(const struct sets_view *sv, size_t k)
{
	return setelems_indexed(&sv->added) && sv->added.order ? sv->added.order[k] : k;
}

/* '-' when a staged edit deletes row i (or flushes the set) */
static char staged_mark(struct sets_view *sv, size_t i)
{
	return sv->flushed || (sv->deleted.n && same_elem(&sv->deleted, &sv->s, i) >= 0) ? '-' : 0;
}

static size_t staged_here(const struct view *v)
{
	size_t n = 0;

	for (size_t i = 0; i < v->cs.n; i++)
		n += edit_here(&v->sets, &v->cs.edits[i]);
	return n;
}

static long marked_at(const struct sets_view *sv, const char *key)
{
	for (size_t i = 0; i < sv->nmarked; i++)
		if (strcmp(sv->marked[i], key) == 0)
			return (long)i;
	return -1;
}

/* ---- actions ---- */

static struct edit set_edit(const struct sets_view *sv, enum edit_kind kind, char *text)
{
	return (struct edit){ .kind = kind, .family = sv->s.set.family,
			      .table = (char *)sv->s.set.table, .set = (char *)sv->s.set.name,
			      .text = text };
}

/* the keys of the rows shown (the first n) as nft takes them between
 * braces: "a, b, c" */
static char *join_keys(struct sets_view *sv, size_t n)
{
	char *text = NULL, buf[1024];
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	if (!fp)
		return NULL;
	for (size_t k = 0; k < n; k++)
		fprintf(fp, "%s%s", k ? ", " : "",
			setelems_format_key(&sv->s, row_at(sv, k), buf, sizeof(buf)));
	fclose(fp);
	return text;
}

static void stage_delete(struct view *v)
{
	struct sets_view *sv = &v->sets;
	char *text = NULL, buf[1024];
	struct edit e;

	if (sv->nmarked) {
		size_t len = 0;
		FILE *fp = open_memstream(&text, &len);

		for (size_t i = 0; fp && i < sv->nmarked; i++)
			fprintf(fp, "%s%s", i ? ", " : "", sv->marked[i]);
		if (fp)
			fclose(fp);
	} else if (sv->l.sel < nrows(sv)) {
		text = strdup(setelems_format_key(&sv->s, row_at(sv, sv->l.sel), buf, sizeof(buf)));
	} else {
		view_status(v, ROLE_DIM, "no element selected");
		return;
	}
	if (!text) {
		view_status(v, ROLE_ERROR, "out of memory");
		return;
	}
	e = set_edit(sv, EDIT_ELEM_DELETE, text);
	edit_stage(v, &e);
	free(text);
	clear_marks(sv);
}

/* a: the prompt's text, or the lines of the file after '<' */
static char *added_text(struct view *v, const char *in)
{
	char *path = fmt_trim((char *)in), *text;

	if (*path != '<')
		return strdup(path);
	if (apply_elements_file(fmt_trim(path + 1), &text, v->input_err, sizeof(v->input_err)))
		return NULL;
	return text;
}

static void done_add(struct view *v)
{
	struct sets_view *sv = &v->sets;
	char *text = added_text(v, v->input);
	struct edit e;

	if (!text) {
		if (!v->input_err[0])
			snprintf(v->input_err, sizeof(v->input_err), "out of memory");
		return;
	}
	if (!text[0]) {
		free(text);
		v->mode = MODE_BROWSE;
		return;
	}
	e = set_edit(sv, EDIT_ELEM_ADD, text);
	if (edit_check(v, &e)) {
		v->mode = MODE_BROWSE;
		edit_stage(v, &e);
	}
	free(text);
}

/* the display position of row i, or -1 (filtered out) */
static long position_of(const struct sets_view *sv, size_t i)
{
	if (!sv->view) /* all rows: in the kernel's order, or the index's */
		return keyed(sv) ? setelems_position(&sv->s, i) : (long)i;
	for (size_t k = 0; k < nrows(sv); k++)
		if (row_at(sv, k) == i)
			return (long)k;
	return -1;
}

/* n / N: the next row written with the search text */
static bool search_text(struct view *v, int dir)
{
	struct sets_view *sv = &v->sets;
	size_t n = nrows(sv);
	char buf[1024];

	for (size_t step = 1; step <= n; step++) {
		size_t k = (sv->l.sel + (dir > 0 ? step : n - step % n)) % n;

		if (strcasestr(setelems_format(&sv->s, row_at(sv, k), buf, sizeof(buf)),
			       sv->search)) {
			list_select(&sv->l, k);
			return true;
		}
	}
	return false;
}

/* The search text compiled as a key of the set by the key compiler (made
 * again if its work is gone). 0 or -errno with err. */
static int search_key(struct view *v, uint8_t **key, char *err, size_t errlen)
{
	struct sets_view *sv = &v->sets;
	int ret = -EPIPE;

	for (int tries = 0; ret == -EPIPE && tries < 2; tries++) {
		if (!compiler(v, true)) {
			snprintf(err, errlen, "%s", sv->err);
			return -EIO;
		}
		ret = apply_element_key(&sv->compiler, &sv->s.set, sv->search, key, err, errlen);
		if (ret == -EPIPE)
			compile_set_stop(&sv->compiler);
	}
	return ret;
}

/* /: an element's key (an address finds the interval or prefix holding
 * it), else text */
static void search(struct view *v)
{
	struct sets_view *sv = &v->sets;
	uint8_t *key = NULL;
	char err[512], buf[1024];
	double t0 = mono_now();
	long i, k;

	v->mode = MODE_BROWSE;
	snprintf(sv->search, sizeof(sv->search), "%.*s", (int)sizeof(sv->search) - 1, v->input);
	if (!sv->search[0])
		return;
	if (sv->loading) {
		view_status(v, ROLE_WARNING, "still loading: %zu elements so far; / again once all "
			    "are in", sv->s.n);
		return;
	}
	if (search_key(v, &key, err, sizeof(err))) {
		if (!search_text(v, 1))
			view_status(v, ROLE_WARNING, "'%s' not found", sv->search);
		return;
	}
	i = setelems_find(&sv->s, key);
	free(key);
	if (i == -ENOMEM) {
		view_status(v, ROLE_ERROR, "out of memory");
		return;
	}
	if (i < 0) {
		view_status(v, ROLE_WARNING, "%s is in no element of %s", sv->search, sv->s.set.name);
		return;
	}
	k = position_of(sv, (size_t)i);
	if (k < 0 && sv->filter[0]) { /* hidden by the filter: show it */
		sv->filter[0] = 0;
		rebuild_view(sv, true);
		k = position_of(sv, (size_t)i);
	}
	if (k >= 0)
		list_select(&sv->l, (size_t)k);
	/* how long the answer took: the compiling of the key, the lookup */
	view_status(v, ROLE_NORMAL, "%s is in %s  (%.1f ms)", sv->search,
		    setelems_format_key(&sv->s, (size_t)i, buf, sizeof(buf)),
		    (mono_now() - t0) * 1e3);
}

static void sets_prompt_done(struct view *v)
{
	struct sets_view *sv = &v->sets;

	switch (v->prompt_for) {
	case ACT_ELEM_SEARCH:
		search(v);
		break;
	case ACT_ELEM_FILTER:
		v->mode = MODE_BROWSE;
		snprintf(sv->filter, sizeof(sv->filter), "%.*s", (int)sizeof(sv->filter) - 1, v->input);
		list_select(&sv->l, 0);
		rebuild_view(sv, true);
		view_status(v, ROLE_NORMAL, "%zu element%s shown", nrows(sv), nrows(sv) == 1 ? "" : "s");
		break;
	case ACT_ELEM_ADD:
		done_add(v);
		break;
	default:
		v->mode = MODE_BROWSE;
	}
}

static void sets_confirmed(struct view *v)
{
	struct sets_view *sv = &v->sets;
	struct edit e;

	switch (v->confirm_for) {
	case ACT_ELEM_DELETE_SHOWN: {
		char *text = join_keys(sv, nrows(sv));

		if (!text)
			break;
		e = set_edit(sv, EDIT_ELEM_DELETE, text);
		edit_stage(v, &e);
		free(text);
		break;
	}
	case ACT_SET_FLUSH:
		e = set_edit(sv, EDIT_SET_FLUSH, NULL);
		edit_stage(v, &e);
		break;
	default: /* apply, discard */
		edit_confirmed(v);
		if (idle(sv))
			start_read(v, true); /* what the kernel has now */
	}
}

/* the sortable columns of this set, SC_NONE first */
static size_t sort_cols(const struct sets_view *sv, enum sets_col *out)
{
	const struct setelems_set *set = &sv->s.set;
	size_t n = 0;

	out[n++] = SC_NONE;
	for (unsigned f = 0; f < set->nfields && f < 16; f++)
		out[n++] = (enum sets_col)(SC_KEY + f);
	if (is_map(set))
		out[n++] = SC_DATA;
	if (sv->s.stmts)
		out[n++] = SC_STMTS;
	if (set->counters) {
		out[n++] = SC_PACKETS;
		out[n++] = SC_BYTES;
		if (sv->pps)
			out[n++] = SC_RATE;
	}
	if (set->timeouts)
		out[n++] = SC_EXPIRES;
	out[n++] = SC_COMMENT;
	return n;
}

static const char *col_title(const struct sets_view *sv, enum sets_col c)
{
	static char field[16];

	switch (c) {
	case SC_DATA: return sv->s.set.data_type == NFT_DATA_VERDICT ? "verdict" : "value";
	case SC_STMTS: return "limit/quota";
	case SC_PACKETS: return "pkts";
	case SC_BYTES: return "bytes";
	case SC_RATE: return "pkt/s";
	case SC_EXPIRES: return "expires";
	case SC_COMMENT: return "comment";
	case SC_NONE: return sv->s.set.flags & NFT_SET_INTERVAL ? "key" : "the kernel's order";
	default:
		if (sv->s.set.nfields <= 1)
			return "key";
		snprintf(field, sizeof(field), "key.%d", (int)c - SC_KEY + 1);
		return field;
	}
}

static void sort_step(struct view *v, int dir)
{
	struct sets_view *sv = &v->sets;
	enum sets_col cols[24];
	size_t n = sort_cols(sv, cols), i = 0;

	while (i < n && cols[i] != sv->sort)
		i++;
	sv->sort = cols[(i + (dir > 0 ? 1 : n - 1)) % n];
	rebuild_view(sv, true);
	view_status(v, ROLE_NORMAL, "sorted by %s%s%s", col_title(sv, sv->sort),
		    sv->reverse ? " (reversed)" : "", sv->loading ? " once all are in" : "");
}

/* Enter: a jump or goto element's chain */
static void open_elem(struct view *v)
{
	struct sets_view *sv = &v->sets;
	struct place there = { .family = sv->s.set.family };
	size_t i;
	char buf[1024];

	if (sv->l.sel >= nrows(sv))
		return;
	i = row_at(sv, sv->l.sel);
	if (!(sv->s.rows[i].flags & SE_JUMP)) {
		view_status(v, ROLE_NORMAL, "%s", setelems_format(&sv->s, i, buf, sizeof(buf)));
		return;
	}
	snprintf(there.table, sizeof(there.table), "%s", sv->s.set.table);
	snprintf(there.chain, sizeof(there.chain), "%s", sv->s.text + sv->s.rows[i].data - 1);
	view_show(v, &rules_screen);
	view_go(v, &there);
	v->rules.pane = PANE_RULES;
}

static enum redraw sets_key(struct view *v, enum action act, int key)
{
	struct sets_view *sv = &v->sets;
	char buf[1024];
	MEVENT ev;

	if (key == KEY_MOUSE ? getmouse(&ev) == OK && list_wheel(&sv->l, &ev)
			     : list_action(&sv->l, act))
		return REDRAW_ALL;
	switch (act) {
	case ACT_BACK:
		view_show(v, &rules_screen);
		break;
	case ACT_REDRAW:
		clearok(curscr, TRUE);
		if (idle(sv))
			start_read(v, true);
		break;
	case ACT_ELEM_OPEN:
		open_elem(v);
		break;
	case ACT_ELEM_SEARCH:
		view_prompt(v, act, "");
		break;
	case ACT_ELEM_FILTER:
		view_prompt(v, act, sv->filter);
		break;
	case ACT_SEARCH_NEXT:
	case ACT_SEARCH_PREV:
		if (!sv->search[0])
			view_status(v, ROLE_DIM, "no search yet: press / first");
		else if (!search_text(v, act == ACT_SEARCH_NEXT ? 1 : -1))
			view_status(v, ROLE_WARNING, "'%s' not found", sv->search);
		break;
	case ACT_SORT_NEXT:
	case ACT_SORT_PREV:
		sort_step(v, act == ACT_SORT_NEXT ? 1 : -1);
		break;
	case ACT_SORT_REVERSE:
		sv->reverse = !sv->reverse;
		rebuild_view(sv, true);
		break;
	case ACT_PAUSE:
		v->paused = !v->paused;
		view_status(v, ROLE_NORMAL, v->paused ? "paused: the set is not read again"
						 : "live again");
		break;
	case ACT_ELEM_ADD:
		view_prompt(v, act, "");
		break;
	case ACT_ELEM_MARK: {
		long m;

		if (sv->l.sel >= nrows(sv))
			break;
		setelems_format_key(&sv->s, row_at(sv, sv->l.sel), buf, sizeof(buf));
		if ((m = marked_at(sv, buf)) >= 0) {
			free(sv->marked[m]);
			sv->marked[m] = sv->marked[--sv->nmarked];
		} else if (sv->nmarked < SETS_MARKS && (sv->marked[sv->nmarked] = strdup(buf))) {
			sv->nmarked++;
		}
		view_status(v, ROLE_NORMAL, "%zu marked: d stages their deletion", sv->nmarked);
		list_move(&sv->l, 1);
		break;
	}
	case ACT_ELEM_DELETE:
		stage_delete(v);
		break;
	case ACT_ELEM_DELETE_SHOWN:
		if (!sv->filter[0]) {
			view_status(v, ROLE_WARNING, "no filter: \\ chooses the elements first (F "
				    "flushes the whole set)");
			break;
		}
		if (!nrows(sv))
			break;
		view_ask(v, ACT_ELEM_DELETE_SHOWN, "Stage the deletion of the %zu element%s the "
			 "filter '%s' shows?", nrows(sv), nrows(sv) == 1 ? "" : "s", sv->filter);
		break;
	case ACT_SET_FLUSH:
		view_ask(v, ACT_SET_FLUSH, "Stage a flush of %s %s: delete all %zu element%s?",
			 is_map(&sv->s.set) ? "map" : "set", sv->s.set.name, sv->s.n,
			 sv->s.n == 1 ? "" : "s");
		break;
	case ACT_UNDO: case ACT_REDO: case ACT_PENDING: case ACT_APPLY: case ACT_DISCARD:
		edit_action(v, act);
		break;
	default:
		return REDRAW_NONE;
	}
	return REDRAW_ALL;
}

/* ---- drawing ---- */

static void flags_text(uint32_t f, char *buf, size_t len)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = { { NFT_SET_CONSTANT, "constant" }, { NFT_SET_INTERVAL, "interval" },
		      { NFT_SET_TIMEOUT, "timeout" }, { NFT_SET_EVAL, "dynamic" } };
	size_t at = 0;

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((f & names[i].bit) && at < len)
			at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? "," : "",
					       names[i].name);
}

/* the columns drawn, in order (comment last) */
static size_t draw_cols(const struct sets_view *sv, enum sets_col *out)
{
	enum sets_col all[24];
	size_t n = sort_cols(sv, all), k = 0;

	for (size_t i = 1; i < n; i++)
		out[k++] = all[i];
	return k;
}

/* column c of row i of s: the rows shown, or the staged ones */
static void cell(const struct view *v, const struct setelems *s, size_t i, enum sets_col c,
		 char *buf, size_t len)
{
	const struct sets_view *sv = &v->sets;
	char t[64];

	buf[0] = 0;
	switch (c) {
	case SC_DATA:
		setelems_format_data(s, i, buf, len);
		break;
	case SC_STMTS:
		setelems_format_stmts(s, i, buf, len);
		break;
	case SC_PACKETS:
	case SC_BYTES:
		if (s->rows[i].flags & SE_COUNTER)
			fmt_human(buf, len, s->counters[2 * i + (c == SC_BYTES)]);
		break;
	case SC_RATE:
		if (s == &sv->s && sv->pps && sv->pps[i] > 0)
			snprintf(buf, len, sv->pps[i] < 10 ? "%.1f" : "%.0f", sv->pps[i]);
		break;
	case SC_EXPIRES: {
		uint64_t to = s->times[2 * i], ex = s->times[2 * i + 1];
		double gone = (mono_now() - sv->read_at) * 1000;
		uint64_t left = ex > gone ? ex - (uint64_t)gone : 0;

		if (!ex)
			break;
		setelems_format_time(left / 1000 * 1000, buf, len);
		if (to && to != s->set.timeout_ms) {
			size_t n = strlen(buf);

			snprintf(buf + n, len - n, " of %s", setelems_format_time(to, t, sizeof(t)));
		}
		break;
	}
	case SC_COMMENT:
		if (s->rows[i].comment)
			snprintf(buf, len, "%s", s->text + s->rows[i].comment - 1);
		break;
	case SC_NONE:
		break;
	default:
		if (s->set.nfields > 1)
			setelems_format_field(s, i, (unsigned)(c - SC_KEY), buf, len);
		else
			setelems_format_key(s, i, buf, len);
	}
}

static bool right_aligned(enum sets_col c)
{
	return c == SC_PACKETS || c == SC_BYTES || c == SC_RATE;
}

/* Row i of s as a line: its marks (two characters), the cells, a tail. */
static void row_line(const struct view *v, const struct setelems *s, size_t i,
		     const char *marks, const enum sets_col *cols, size_t ncols, char *line,
		     size_t size, const char *tail)
{
	char buf[1024];
	int x = snprintf(line, size, "%s ", marks);

	for (size_t c = 0; c < ncols && x < (int)size; c++) {
		cell(v, s, i, cols[c], buf, sizeof(buf));
		x += snprintf(line + x, size - (size_t)x, right_aligned(cols[c]) ? "%*s " : "%-*s ",
			      cols[c] == SC_COMMENT ? 0 : v->sets.colw[cols[c]], buf);
	}
	if (x < (int)size)
		snprintf(line + x, size - (size_t)x, "%s", tail);
}

static void sets_draw(struct view *v)
{
	struct sets_view *sv = &v->sets;
	const struct setelems_set *set = &sv->s.set;
	enum sets_col cols[24];
	size_t ncols = draw_cols(sv, cols), n = nrows(sv), staged = staged_here(v);
	size_t nadd, room, ladd;
	char line[2048], flags[64], to[32] = "", buf[1024], type[160];
	int y, h, x;

	staged_sync(v);
	setelems_type_text(set, type, sizeof(type));
	flags_text(set->flags, flags, sizeof(flags));
	if (set->timeout_ms)
		snprintf(to, sizeof(to), "  timeout %s",
			 setelems_format_time(set->timeout_ms, buf, sizeof(buf)));
	snprintf(line, sizeof(line), " %s %s %s %s  type %s%s%s%s  %zu element%s%s%s%s%s",
		 is_map(set) ? "map" : "set", ruleset_family_name(set->family) ?: "?", set->table,
		 set->name, type,
		 flags[0] ? "  flags " : "", flags, to, sv->s.n, sv->s.n == 1 ? "" : "s",
		 sv->loading ? "  loading..." : sv->refreshing ? "" : "",
		 sv->filter[0] ? "  filter: " : "", sv->filter, staged ? "  [staged edits: v]" : "");
	if (!draw_banner(v))
		draw_text(0, 0, COLS, line, v->attr[ROLE_HEADER], true);
	snprintf(line, sizeof(line), " used by: %s", sv->used_by);
	draw_text(1, 0, COLS, line, v->attr[ROLE_DIM], true);

	/* the rows staged edits add, above the kernel's: at most a third of
	 * the rows' room, the last saying how many more */
	h = LINES - 4;
	nadd = sv->added.n;
	room = h > 2 ? (size_t)h / 3 : 0;
	ladd = nadd < room ? nadd : room;
	h -= (int)ladd;
	list_show(&sv->l, h > 0 ? (size_t)h : 0);
	/* widths: each column as wide as the widest cell drawn so far */
	for (size_t c = 0; c < ncols; c++) {
		int tw = (int)strlen(col_title(sv, cols[c])) + (cols[c] == sv->sort);

		if (sv->colw[cols[c]] < tw)
			sv->colw[cols[c]] = tw;
		if (right_aligned(cols[c]) && sv->colw[cols[c]] < 6)
			sv->colw[cols[c]] = 6;
		for (size_t k = 0; k < ladd + (size_t)h; k++) {
			const struct setelems *from = k < ladd ? &sv->added : &sv->s;
			size_t at = k < ladd ? k : sv->l.top + k - ladd;
			int w;

			if (k >= ladd && at >= n)
				break;
			cell(v, from, k < ladd ? added_at(sv, k) : row_at(sv, at), cols[c], buf,
			     sizeof(buf));
			w = draw_width(buf);
			if (sv->colw[cols[c]] < w)
				sv->colw[cols[c]] = w < COLS / 2 ? w : COLS / 2;
		}
	}
	/* titles */
	x = snprintf(line, sizeof(line), "   ");
	for (size_t c = 0; c < ncols && x < (int)sizeof(line); c++) {
		char title[40];
		int w = sv->colw[cols[c]];

		snprintf(title, sizeof(title), "%s%s", col_title(sv, cols[c]),
			 cols[c] == sv->sort ? (sv->reverse ? "^" : "v") : "");
		x += snprintf(line + x, sizeof(line) - (size_t)x, right_aligned(cols[c]) ? "%*s " : "%-*s ",
			      cols[c] == SC_COMMENT ? 0 : w, title);
	}
	draw_text(2, 0, COLS, line, v->attr[ROLE_TITLE], true);

	y = 3;
	for (size_t k = 0; k < ladd; k++, y++) {
		if (k + 1 == ladd && nadd > ladd)
			snprintf(line, sizeof(line), " + %zu more staged (v lists them)", nadd - k);
		else
			row_line(v, &sv->added, added_at(sv, k), " +", cols, ncols, line, sizeof(line),
				 "  (staged)");
		draw_text(y, 0, COLS, line, v->attr[ROLE_WARNING], true);
	}
	for (size_t k = sv->l.top; k < n && y < LINES - 1; k++, y++) {
		size_t i = row_at(sv, k);
		char key[1024], mark;
		enum theme_role role = ROLE_NORMAL;

		setelems_format_key(&sv->s, i, key, sizeof(key));
		mark = staged_mark(sv, i);
		if (mark)
			role = ROLE_DIM;
		else if (sv->fresh && sv->fresh[i])
			mark = '+', role = ROLE_RULE_ACCEPT;
		else if (sv->s.rows[i].flags & SE_JUMP)
			role = ROLE_RULE_JUMP;
		row_line(v, &sv->s, i, (char[]){ marked_at(sv, key) >= 0 ? '>' : ' ', mark ? mark : ' ',
						0 }, cols, ncols, line, sizeof(line), "");
		draw_text(y, 0, COLS, line, v->attr[k == sv->l.sel ? ROLE_SELECTED : role], true);
	}
	/* the gone ones, dimmed, below the last row */
	for (size_t g = 0; g < sv->ngone && y < LINES - 1; g++, y++) {
		if (sv->l.top + (size_t)h < n)
			break;
		snprintf(line, sizeof(line), " - %s  (gone)", sv->gone[g] + 1);
		draw_text(y, 0, COLS, line, v->attr[ROLE_DIM], true);
	}
	if (!n && y < LINES - 1)
		draw_text(y++, 0, COLS, sv->loading ? "  loading..." : sv->filter[0]
			  ? "  no element matches the filter (\\ changes it)" : "  no element",
			  v->attr[ROLE_DIM], true);
	for (; y < LINES - 1; y++)
		draw_text(y, 0, COLS, "", v->attr[ROLE_NORMAL], true);
}

static void sets_hints(struct view *v)
{
	char buf[512];

	snprintf(buf, sizeof(buf), " %zu shown   Bksp back  / find  \\ filter  < > sort  "
		 "a add  d delete  m mark  F flush  W apply  ? help", nrows(&v->sets));
	draw_text(LINES - 1, 0, COLS, buf, v->attr[ROLE_STATUS], true);
}

const struct screen_ops sets_screen = {
	.name = "set",
	.keymap = KM_SETS,
	.leave = sets_leave,
	.key = sets_key,
	.draw = sets_draw,
	.hints = sets_hints,
	.prompt_done = sets_prompt_done,
	.confirmed = sets_confirmed,
	.pollfds = sets_pollfds,
	.step = sets_step,
	.tick = sets_tick,
	.timeout_ms = sets_timeout_ms,
	.busy = sets_busy,
	.free = sets_free,
};
