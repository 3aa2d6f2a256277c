/* quick: the rules the live view's quick actions stand for — b blocks an
 * address or prefix (a drop at the top of an input chain), o allows a port
 * (an accept appended to it) — made from what the admin typed or the
 * connection selected. Pure: the text is checked by nft when staged. */
#ifndef NFP_QUICK_H
#define NFP_QUICK_H

#include "apply/changeset.h"

#include <stdbool.h>
#include <stddef.h>

enum quick_kind {
	QUICK_BLOCK,       /* input: an address or prefix ("10.0.0.1", "2001:db8::/32") */
	QUICK_ALLOW,       /* input: "tcp PORT" or "udp PORT" */
};

struct quick_rule {
	char text[160];            /* "ip saddr 10.0.0.1 drop", "tcp dport 8080 accept" */
	enum edit_where where;     /* WHERE_TOP (block) or WHERE_APPEND (allow) */
	bool ip6;                  /* a block of an IPv6 address */
};

/* The rule for input (blanks around it ignored). 0, or -EINVAL with err
 * saying what to give. */
int quick_rule(enum quick_kind kind, const char *input, struct quick_rule *out, char *err,
	       size_t errlen);

#endif
