/* ct_rule: from a rule to its traffic — the connections filter
 * (conntrack/ct_filter.h) that picks the tracked connections a rule would
 * match, for the simple cases: addresses (ip/ip6 saddr/daddr), ports
 * (tcp/udp/th sport/dport, single, ranges and anonymous sets), the
 * protocol (tcp/udp/icmp keywords, meta l4proto, ip protocol) and ct
 * state. Anything else in the rule (interfaces, marks on packets, named
 * sets, negations) is left out and reported, so the filter matches a
 * superset. Pure. */
#ifndef NFP_CT_RULE_H
#define NFP_CT_RULE_H

#include <stdbool.h>
#include <stddef.h>

/* Write the filter for rule text into out. Returns the number of
 * conditions found (0: nothing to go by); *partial tells whether parts of
 * the rule were left out. */
int ct_rule_filter(const char *rule, char *out, size_t len, bool *partial);

#endif
