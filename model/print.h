/* print: the `nfpilot list` output of a ruleset — the table admins know
 * from `iptables -L -v -n --line-numbers`, and the stable JSON format
 * documented in docs/nfpilot.8. Every kernel string is sanitised (text) or
 * escaped (JSON). */
#ifndef NFP_PRINT_H
#define NFP_PRINT_H

#include "model/ruleset.h"

#include <stdbool.h>
#include <stdio.h>

struct print_opts {
	bool exact;          /* -x: exact numbers instead of 1.2K */
	bool counters_only;  /* --counters: no rule text was read */
	bool iptables;       /* --iptables: a rule's xt_text (the "-A" line of
			      * iptables-save), where it has one, for its text */
};

void print_text(FILE *fp, const struct nfp_ruleset *rs, const struct print_opts *o);
void print_json(FILE *fp, const struct nfp_ruleset *rs, const struct print_opts *o);

/* "filter hook input priority 0 device eth0": base chain summary into buf */
void print_chain_hook(char *buf, size_t size, uint32_t family, const struct nfp_chain *c);

#endif
