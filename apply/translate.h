/* translate: iptables words typed for a native table — a rule as
 * `iptables -S` prints it after `-A CHAIN` (`-p tcp --dport 22 -j ACCEPT`),
 * optionally with `-A CHAIN`, `-I CHAIN` or `-t TABLE` first: what
 * nft/xtables.h calls iptables syntax — turned into nft rule text by Debian's
 * `iptables-translate` / `ip6tables-translate`, run with an argument
 * vector (util/spawn.h), never a shell. What it cannot translate is said
 * in its own words. Never a parser of rules: the words are only split as a
 * shell would split them (quotes, backslashes). */
#ifndef NFP_TRANSLATE_H
#define NFP_TRANSLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The nft rule text (malloc'd, *nft) of the iptables words text, for a
 * chain of type chain_type ("nat" translates as -t nat, "route" as -t
 * mangle; NULL or "filter": -t filter, unless the words say -t) in a table
 * of family (ip: iptables-translate, ip6: ip6tables-translate, inet:
 * iptables-translate, else ip6tables-translate if that one refuses).
 * 0, or -errno with err filled: -EINVAL bad words (the translator's own
 * message), -EOPNOTSUPP it cannot be translated (or becomes several nft
 * rules), -EAFNOSUPPORT a family without iptables, -ENOENT the translator
 * is not installed. */
int translate_iptables(uint32_t family, const char *chain_type, const char *text, char **nft,
		       char *err, size_t errlen);

#endif
