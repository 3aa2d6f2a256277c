#include "model/print.h"

#include "model/fmt.h"
#include "model/json.h"

#include <inttypes.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

static const char *num(char *buf, size_t size, uint64_t v, bool exact)
{
	if (exact) {
		snprintf(buf, size, "%" PRIu64, v);
		return buf;
	}
	return fmt_human(buf, size, v);
}

void print_chain_hook(char *buf, size_t size, uint32_t family, const struct nfp_chain *c)
{
	const char *hook = ruleset_hook_name(family, c->hooknum);
	char hookbuf[16];
	int n;

	if (!hook) {
		snprintf(hookbuf, sizeof(hookbuf), "%u", c->hooknum);
		hook = hookbuf;
	}
	n = snprintf(buf, size, "%s hook %s priority %d", c->type ? c->type : "?", hook,
		     c->prio);
	if (c->dev && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - n, " device %s", c->dev);
}

static void print_table_header(FILE *fp, const struct nfp_table *t)
{
	fprintf(fp, "table %s ", ruleset_family_name(t->family));
	fmt_put_safe(fp, t->name);
	if (t->owner_name)
		fprintf(fp, "  [%s]", t->owner_name);
	if (t->flags & NFT_TABLE_F_DORMANT)
		fputs("  (dormant)", fp);
	if (t->mixed)
		fputs("  [mixed]", fp);
	if (t->owner == NFP_OWNER_IPTABLES)
		fputs("  -- managed by iptables-nft: its rules in iptables syntax", fp);
	fputc('\n', fp);
	if (t->mixed) {
		char words[1024];

		ruleset_mixed_words(t, words, sizeof(words));
		fputs("  ", fp);
		fmt_put_safe(fp, words);
		fputc('\n', fp);
	}
}

static void print_chain_header(FILE *fp, const struct nfp_table *t,
			       const struct nfp_chain *c, bool exact)
{
	char hook[128], p[24], b[24];

	fputs("Chain ", fp);
	fmt_put_safe(fp, c->name);
	if (c->binding) {
		size_t pos = 0;
		const struct nfp_chain *parent = ruleset_binding_parent(t, c->name, &pos);

		fputs(" (bound to ", fp);
		if (parent) {
			fprintf(fp, "rule %zu of chain ", pos);
			fmt_put_safe(fp, parent->name);
		} else {
			fputs("a rule", fp);
		}
		fprintf(fp, ", %zu rule%s)\n", c->nrules, c->nrules == 1 ? "" : "s");
		return;
	}
	if (!c->base) {
		fprintf(fp, " (%zu rules)\n", c->nrules);
		return;
	}
	print_chain_hook(hook, sizeof(hook), t->family, c);
	fputs(" (", fp);
	fmt_put_safe(fp, hook);
	if (c->policy != NFP_POLICY_NONE)
		fprintf(fp, " policy %s", ruleset_policy_name(c->policy) ?: "?");
	if (c->has_counters)
		fprintf(fp, " %s packets, %s bytes", num(p, sizeof(p), c->packets, exact),
			num(b, sizeof(b), c->bytes, exact));
	fputs(")\n", fp);
}

static void print_rule(FILE *fp, const struct nfp_rule *r, const struct print_opts *o)
{
	const char *text = o->iptables && r->xt_text ? r->xt_text : r->text;
	bool exact = o->exact;
	char p[24], b[24];

	fprintf(fp, "%6" PRIu32 " ", r->position);
	if (r->has_counter)
		fprintf(fp, "%8s %8s ", num(p, sizeof(p), r->packets, exact),
			num(b, sizeof(b), r->bytes, exact));
	else
		fprintf(fp, "%8s %8s ", "-", "-");
	fprintf(fp, "%7" PRIu64, r->handle);
	if (text || r->comment)
		fputs("  ", fp);
	if (text)
		fmt_put_safe(fp, text);
	/* nft does not print an iptables comment (an xt match): add it the
	 * way iptables -L does (iptables-save's line has it) */
	if (r->comment && r->compat && text == r->text) {
		fputs(text ? "  /* " : "/* ", fp);
		fmt_put_safe(fp, r->comment);
		fputs(" */", fp);
	}
	fputc('\n', fp);
}

static void print_set(FILE *fp, const struct nfp_set *s)
{
	fprintf(fp, "%s ", s->is_map ? "map" : "set");
	fmt_put_safe(fp, s->name);
	if (s->key_type) {
		fputs(" (", fp);
		fmt_put_safe(fp, s->key_type);
		fputc(')', fp);
	}
	fprintf(fp, " %" PRIu32 " element%s", s->nelems, s->nelems == 1 ? "" : "s");
	if (s->flags & NFT_SET_INTERVAL)
		fputs(" interval", fp);
	if (s->flags & NFT_SET_TIMEOUT)
		fputs(" timeout", fp);
	if (s->flags & NFT_SET_CONSTANT)
		fputs(" constant", fp);
	if (s->flags & NFT_SET_EVAL)
		fputs(" dynamic", fp);
	fputc('\n', fp);
}

void print_text(FILE *fp, const struct nfp_ruleset *rs, const struct print_opts *o)
{
	for (size_t i = 0; i < rs->ntables; i++) {
		const struct nfp_table *t = &rs->tables[i];

		if (i)
			fputc('\n', fp);
		print_table_header(fp, t);
		for (size_t j = 0; j < t->nchains; j++) {
			const struct nfp_chain *c = &t->chains[j];

			fputc('\n', fp);
			print_chain_header(fp, t, c, o->exact);
			if (c->nrules)
				fprintf(fp, "%6s %8s %8s %7s%s\n", "num", "pkts", "bytes",
					"handle", o->counters_only ? "" : "  rule");
			for (size_t k = 0; k < c->nrules; k++)
				print_rule(fp, &c->rules[k], o);
		}
		if (t->nsets)
			fputc('\n', fp);
		for (size_t j = 0; j < t->nsets; j++)
			print_set(fp, &t->sets[j]);
	}
}

/* ---- JSON ---- */

static void json_rule(struct json *j, const struct nfp_rule *r)
{
	json_object(j, NULL);
	json_int(j, "position", r->position);
	json_uint(j, "handle", r->handle);
	if (r->has_counter) {
		json_uint(j, "packets", r->packets);
		json_uint(j, "bytes", r->bytes);
	} else {
		json_null(j, "packets");
		json_null(j, "bytes");
	}
	json_bool(j, "compat", r->compat);
	json_str(j, "comment", r->comment);
	json_str(j, "text", r->text);
	if (r->xt_text)
		json_str(j, "iptables", r->xt_text);
	json_end(j);
}

static void json_chain(struct json *j, const struct nfp_table *t, const struct nfp_chain *c)
{
	json_object(j, NULL);
	json_str(j, "name", c->name);
	json_uint(j, "handle", c->handle);
	if (c->binding)
		json_bool(j, "binding", true);
	if (c->base) {
		json_str(j, "type", c->type);
		json_str(j, "hook", ruleset_hook_name(t->family, c->hooknum));
		json_int(j, "priority", c->prio);
		json_str(j, "policy", ruleset_policy_name(c->policy));
		json_str(j, "device", c->dev);
	}
	if (c->has_counters) {
		json_uint(j, "packets", c->packets);
		json_uint(j, "bytes", c->bytes);
	}
	json_array(j, "rules");
	for (size_t k = 0; k < c->nrules; k++)
		json_rule(j, &c->rules[k]);
	json_end(j);
	json_end(j);
}

static void json_set(struct json *j, const struct nfp_set *s)
{
	json_object(j, NULL);
	json_str(j, "name", s->name);
	json_uint(j, "handle", s->handle);
	json_bool(j, "map", s->is_map);
	json_str(j, "key", s->key_type);
	json_int(j, "flags", s->flags);
	json_int(j, "elements", s->nelems);
	json_end(j);
}

void print_json(FILE *fp, const struct nfp_ruleset *rs, const struct print_opts *o)
{
	struct json j;

	(void)o;
	json_init(&j, fp);
	json_object(&j, NULL);
	json_int(&j, "nfpilot", NFP_JSON_VERSION);
	json_uint(&j, "genid", rs->genid);
	json_array(&j, "tables");
	for (size_t i = 0; i < rs->ntables; i++) {
		const struct nfp_table *t = &rs->tables[i];

		json_object(&j, NULL);
		json_str(&j, "family", ruleset_family_name(t->family));
		json_str(&j, "name", t->name);
		json_uint(&j, "handle", t->handle);
		json_int(&j, "flags", t->flags);
		json_str(&j, "owner", t->owner_name ? t->owner_name : "native");
		json_bool(&j, "mixed", t->mixed);
		json_array(&j, "chains");
		for (size_t k = 0; k < t->nchains; k++)
			json_chain(&j, t, &t->chains[k]);
		json_end(&j);
		json_array(&j, "sets");
		for (size_t k = 0; k < t->nsets; k++)
			json_set(&j, &t->sets[k]);
		json_end(&j);
		json_end(&j);
	}
	json_end(&j);
	json_end(&j);
	fputc('\n', fp);
}
