/* A small ruleset as the reader would build it, for unit tests: table inet
 * web (handle 7), chains input (base, policy drop: rules with the handles
 * given) and extra, set blocked. */
#ifndef NFP_TEST_SAMPLE_H
#define NFP_TEST_SAMPLE_H

#include "model/ruleset.h"

#include <linux/netfilter.h>
#include <stdint.h>
#include <string.h>

static void build(struct nfp_ruleset *rs, const uint64_t *handles, size_t n)
{
	struct nfp_table *t = ruleset_add_table(rs);
	struct nfp_chain *c;

	t->family = NFPROTO_INET;
	t->name = strdup("web");
	t->handle = 7;
	c = ruleset_add_chain(t);
	c->name = strdup("input");
	c->handle = 1;
	c->base = true;
	c->policy = NF_DROP;
	for (size_t i = 0; i < n; i++)
		ruleset_add_rule(c)->handle = handles[i];
	ruleset_add_chain(t)->name = strdup("extra");
	t->chains[1].handle = 2;
	struct nfp_set *s = ruleset_add_set(t);
	s->name = strdup("blocked");
	s->handle = 3;
}

#endif
