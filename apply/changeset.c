#include "apply/changeset.h"

#include "model/ruleset.h"
#include "nft/xtables.h"
#include "util/grow.h"

#include <ctype.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s, bool *fail)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*fail = true;
	return d;
}

static void edit_free(struct edit *e)
{
	free(e->table);
	free(e->chain);
	free(e->set);
	free(e->text);
	memset(e, 0, sizeof(*e));
}

int changeset_add(struct changeset *cs, const struct edit *e)
{
	struct edit *slot;
	bool fail = false;

	/* a new edit forgets the undone ones */
	while (cs->total > cs->n)
		edit_free(&cs->edits[--cs->total]);
	if (grow(&cs->edits, &cs->cap, cs->total + 1, sizeof(*cs->edits), 16))
		return -ENOMEM;
	slot = &cs->edits[cs->total];
	*slot = *e;
	slot->table = dup_or_null(e->table, &fail);
	slot->chain = dup_or_null(e->chain, &fail);
	slot->set = dup_or_null(e->set, &fail);
	slot->text = dup_or_null(e->text, &fail);
	if (fail) {
		edit_free(slot);
		return -ENOMEM;
	}
	cs->n = ++cs->total;
	return 0;
}

bool changeset_undo(struct changeset *cs)
{
	if (!cs->n)
		return false;
	cs->n--;
	return true;
}

bool changeset_redo(struct changeset *cs)
{
	if (cs->n == cs->total)
		return false;
	cs->n++;
	return true;
}

void changeset_discard(struct changeset *cs)
{
	for (size_t i = 0; i < cs->total; i++)
		edit_free(&cs->edits[i]);
	cs->n = cs->total = 0;
}

void changeset_free(struct changeset *cs)
{
	changeset_discard(cs);
	free(cs->edits);
	memset(cs, 0, sizeof(*cs));
}

/* nft takes table and chain names as bare words; anything else is quoted
 * (and will be refused by nft 1.0.6's grammar: better than misread) */
static void put_name(FILE *fp, const char *name)
{
	bool bare = isalpha((unsigned char)name[0]) || name[0] == '_';

	for (const char *p = name; *p && bare; p++)
		bare = isalnum((unsigned char)*p) || strchr("_-./", *p);
	if (bare)
		fputs(name, fp);
	else
		fprintf(fp, "\"%s\"", name);
}

static void put_chain(FILE *fp, const char *verb, const struct edit *e)
{
	fprintf(fp, "%s %s ", verb, ruleset_family_name(e->family) ?: "?");
	put_name(fp, e->table);
	fputc(' ', fp);
	put_name(fp, e->chain);
}

static void put_set(FILE *fp, const char *verb, const struct edit *e)
{
	fprintf(fp, "%s %s ", verb, ruleset_family_name(e->family) ?: "?");
	put_name(fp, e->table);
	fputc(' ', fp);
	put_name(fp, e->set);
}

/* a chain's or set's spec in braces (none: nothing), and the line's end;
 * nft wants the spec's last statement ended */
static void put_spec(FILE *fp, const char *spec)
{
	if (spec)
		fprintf(fp, " { %s%s }", spec,
			spec[0] && spec[strlen(spec) - 1] == ';' ? "" : ";");
	fputc('\n', fp);
}

/* the end of a rule's line: what its text is or gets */
static void put_note(FILE *fp, const struct edit *e)
{
	/* iptables-nft gives its rules a counter */
	if (e->text && xtables_rule_text(e->text))
		fputs("  # iptables syntax", fp);
	else if (e->add_counter)
		fputs("  # a counter is added if it has none", fp);
	fputc('\n', fp);
}

static void put_insert(FILE *fp, const struct edit *e)
{
	switch (e->where) {
	case WHERE_TOP:
		put_chain(fp, "insert rule", e);
		break;
	case WHERE_BEFORE:
	case WHERE_AFTER:
		put_chain(fp, e->where == WHERE_BEFORE ? "insert rule" : "add rule", e);
		if (!e->anchor_edit)
			fprintf(fp, " position %llu", (unsigned long long)e->anchor);
		break;
	case WHERE_APPEND:
		put_chain(fp, "add rule", e);
		break;
	}
	fprintf(fp, " %s", e->text ? e->text : "");
	if (e->anchor_edit) /* its handle is known once the batch is in */
		fprintf(fp, "  # %s the rule of edit %zu", e->where == WHERE_BEFORE ? "before"
									   : "after",
			e->anchor_edit);
	put_note(fp, e);
}

void changeset_print_edit(FILE *fp, const struct changeset *cs, size_t i)
{
	const struct edit *e = &cs->edits[i];

	switch (e->kind) {
	case EDIT_INSERT:
		put_insert(fp, e);
		break;
	case EDIT_REPLACE:
		put_chain(fp, "replace rule", e);
		fprintf(fp, " handle %llu %s", (unsigned long long)e->handle, e->text);
		put_note(fp, e);
		break;
	case EDIT_DELETE:
		put_chain(fp, "delete rule", e);
		fprintf(fp, " handle %llu\n", (unsigned long long)e->handle);
		break;
	case EDIT_MOVE:
		put_chain(fp, "delete rule", e);
		fprintf(fp, " handle %llu\n", (unsigned long long)e->handle);
		put_insert(fp, e);
		break;
	case EDIT_POLICY:
		put_chain(fp, "chain", e);
		fprintf(fp, " { policy %s; }\n", ruleset_policy_name(e->policy) ?: "?");
		break;
	case EDIT_CHAIN_ADD:
		put_chain(fp, "add chain", e);
		put_spec(fp, e->text);
		break;
	case EDIT_CHAIN_DELETE:
		put_chain(fp, "delete chain", e);
		fputc('\n', fp);
		break;
	case EDIT_CHAIN_FLUSH:
		put_chain(fp, "flush chain", e);
		fputc('\n', fp);
		break;
	case EDIT_TABLE_ADD:
		fprintf(fp, "add table %s ", ruleset_family_name(e->family) ?: "?");
		put_name(fp, e->table);
		fputc('\n', fp);
		break;
	case EDIT_ELEM_ADD:
	case EDIT_ELEM_DELETE:
		put_set(fp, e->kind == EDIT_ELEM_ADD ? "add element" : "delete element", e);
		fprintf(fp, " { %s }\n", e->text ? e->text : "");
		break;
	case EDIT_SET_FLUSH:
		put_set(fp, "flush set", e);
		fputc('\n', fp);
		break;
	case EDIT_SET_ADD:
		put_set(fp, "add set", e);
		put_spec(fp, e->text ? e->text : "");
		break;
	}
}

void changeset_print(FILE *fp, const struct changeset *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		changeset_print_edit(fp, cs, i);
}

char *changeset_text(const struct changeset *cs)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (!mem)
		return NULL;
	changeset_print(mem, cs);
	if (fclose(mem) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

const struct edit *changeset_makes(const struct changeset *cs, enum edit_kind kind,
				   uint32_t family, const char *table, const char *chain)
{
	for (size_t i = 0; i < cs->n; i++) {
		const struct edit *e = &cs->edits[i];

		if (e->kind == kind && e->family == family && strcmp(e->table, table) == 0 &&
		    (kind == EDIT_TABLE_ADD || (e->chain && strcmp(e->chain, chain) == 0)))
			return e;
	}
	return NULL;
}

int changeset_policy(const struct changeset *cs, uint32_t family, const char *table,
		     const char *chain, int now)
{
	for (size_t i = 0; i < cs->n; i++) {
		const struct edit *e = &cs->edits[i];

		if (e->family == family && strcmp(e->table, table) == 0 && e->chain &&
		    strcmp(e->chain, chain) == 0 && e->kind == EDIT_POLICY)
			now = e->policy;
	}
	return now;
}

int changeset_rule_mark(const struct changeset *cs, uint32_t family, const char *table,
			const char *chain, uint64_t handle, enum edit_kind *kind)
{
	int found = 0;

	for (size_t i = 0; i < cs->n; i++) {
		const struct edit *e = &cs->edits[i];

		if (e->family != family || strcmp(e->table, table) != 0 || !e->chain ||
		    strcmp(e->chain, chain) != 0)
			continue;
		if ((e->kind == EDIT_REPLACE || e->kind == EDIT_DELETE || e->kind == EDIT_MOVE) &&
		    e->handle == handle) {
			*kind = e->kind;
			found = 1;
		}
	}
	return found;
}
