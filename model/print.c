#include "model/print.h"

#include "model/fmt.h"

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
	if (t->owner == NFP_OWNER_IPTABLES)
		fputs("  -- managed by iptables-nft: change it with iptables", fp);
	fputc('\n', fp);
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

static void print_rule(FILE *fp, const struct nfp_rule *r, bool exact)
{
	char p[24], b[24];

	fprintf(fp, "%6" PRIu32 " ", r->position);
	if (r->has_counter)
		fprintf(fp, "%8s %8s ", num(p, sizeof(p), r->packets, exact),
			num(b, sizeof(b), r->bytes, exact));
	else
		fprintf(fp, "%8s %8s ", "-", "-");
	fprintf(fp, "%7" PRIu64, r->handle);
	if (r->text || r->comment)
		fputs("  ", fp);
	if (r->text)
		fmt_put_safe(fp, r->text);
	/* nft does not print an iptables comment (an xt match): add it the
	 * way iptables -L does */
	if (r->comment && r->compat) {
		fputs(r->text ? "  /* " : "/* ", fp);
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
				print_rule(fp, &c->rules[k], o->exact);
		}
		if (t->nsets)
			fputc('\n', fp);
		for (size_t j = 0; j < t->nsets; j++)
			print_set(fp, &t->sets[j]);
	}
}

/* ---- JSON ---- */

static void json_key_str(FILE *fp, const char *key, const char *val)
{
	fprintf(fp, "\"%s\":", key);
	if (val)
		fmt_put_json(fp, val);
	else
		fputs("null", fp);
}

static void json_rule(FILE *fp, const struct nfp_rule *r)
{
	fprintf(fp, "{\"position\":%" PRIu32 ",\"handle\":%" PRIu64 ",", r->position,
		r->handle);
	if (r->has_counter)
		fprintf(fp, "\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",", r->packets,
			r->bytes);
	else
		fputs("\"packets\":null,\"bytes\":null,", fp);
	fprintf(fp, "\"compat\":%s,", r->compat ? "true" : "false");
	json_key_str(fp, "comment", r->comment);
	fputc(',', fp);
	json_key_str(fp, "text", r->text);
	fputc('}', fp);
}

static void json_chain(FILE *fp, const struct nfp_table *t, const struct nfp_chain *c)
{
	fputc('{', fp);
	json_key_str(fp, "name", c->name);
	fprintf(fp, ",\"handle\":%" PRIu64 ",", c->handle);
	if (c->binding)
		fputs("\"binding\":true,", fp);
	if (c->base) {
		json_key_str(fp, "type", c->type);
		fputc(',', fp);
		json_key_str(fp, "hook", ruleset_hook_name(t->family, c->hooknum));
		fprintf(fp, ",\"priority\":%" PRId32 ",", c->prio);
		json_key_str(fp, "policy", ruleset_policy_name(c->policy));
		fputc(',', fp);
		json_key_str(fp, "device", c->dev);
		fputc(',', fp);
	}
	if (c->has_counters)
		fprintf(fp, "\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",", c->packets,
			c->bytes);
	fputs("\"rules\":[", fp);
	for (size_t k = 0; k < c->nrules; k++) {
		if (k)
			fputc(',', fp);
		json_rule(fp, &c->rules[k]);
	}
	fputs("]}", fp);
}

static void json_set(FILE *fp, const struct nfp_set *s)
{
	fputc('{', fp);
	json_key_str(fp, "name", s->name);
	fprintf(fp, ",\"handle\":%" PRIu64 ",\"map\":%s,", s->handle,
		s->is_map ? "true" : "false");
	json_key_str(fp, "key", s->key_type);
	fprintf(fp, ",\"flags\":%" PRIu32 ",\"elements\":%" PRIu32 "}", s->flags, s->nelems);
}

void print_json(FILE *fp, const struct nfp_ruleset *rs, const struct print_opts *o)
{
	(void)o;
	fprintf(fp, "{\"nfpilot\":%d,\"genid\":%" PRIu32 ",\"tables\":[", NFP_JSON_VERSION,
		rs->genid);
	for (size_t i = 0; i < rs->ntables; i++) {
		const struct nfp_table *t = &rs->tables[i];

		fputs(i ? ",\n{" : "\n{", fp);
		json_key_str(fp, "family", ruleset_family_name(t->family));
		fputc(',', fp);
		json_key_str(fp, "name", t->name);
		fprintf(fp, ",\"handle\":%" PRIu64 ",\"flags\":%" PRIu32 ",", t->handle,
			t->flags);
		json_key_str(fp, "owner", t->owner_name ? t->owner_name : "native");
		fputs(",\"chains\":[", fp);
		for (size_t j = 0; j < t->nchains; j++) {
			if (j)
				fputc(',', fp);
			fputs("\n ", fp);
			json_chain(fp, t, &t->chains[j]);
		}
		fputs("],\"sets\":[", fp);
		for (size_t j = 0; j < t->nsets; j++) {
			if (j)
				fputc(',', fp);
			json_set(fp, &t->sets[j]);
		}
		fputs("]}", fp);
	}
	fputs("]}\n", fp);
}
