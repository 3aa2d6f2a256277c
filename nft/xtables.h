/* xtables: iptables-nft's own words for the tables it manages. Its
 * programs are run with an argument vector, never a shell, each in a
 * process of its own with the family given by the program's name
 * (iptables-nft for ip, ip6tables-nft for ip6: libxtables keeps its family
 * per process). A rule is typed as `iptables -S` prints it and given to
 * iptables-nft-restore; a table is read as iptables-nft-save prints it,
 * its `-A` lines joined to the rules by position. Nothing here reads a
 * rule's words: iptables does. */
#ifndef NFP_XTABLES_H
#define NFP_XTABLES_H

#include "model/ruleset.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ip and ip6: the families iptables-nft and ip6tables-nft write */
bool xtables_family(uint32_t family);

/* Is text iptables syntax: does it begin with an option ("-p tcp ...",
 * "! -s 10.0.0.1 ...", "-A INPUT ...")? nft's never does. */
bool xtables_rule_text(const char *text);

/* Append the rule text (iptables syntax, with or without "-A CHAIN" first)
 * to family/table/chain, as iptables-nft-restore --noflush does it: in the
 * namespace this process is in. 0, or -EINVAL with err = iptables' own
 * message, or -errno. */
int xtables_add_rule(uint32_t family, const char *table, const char *chain, const char *text,
		     char *err, size_t errlen);

/* The table as iptables-nft-save -t table prints it (read-only), in *text
 * (malloc'd). 0 or -errno with err. */
int xtables_save(uint32_t family, const char *table, char **text, char *err, size_t errlen);

/* The k-th "-A CHAIN ..." line of chain in save (k from 0), in *line
 * (malloc'd, without its newline): 0, or -ENOENT when there is none. */
int xtables_save_line(const char *save, const char *chain, size_t k, char **line);

/* Each rule of t (its rules read) gets xt_text: the line save gives it,
 * joined by position. A chain whose count of lines is not its count of
 * rules (the table changed in between) gets none: -ESTALE. 0, or -errno. */
int xtables_join(struct nfp_table *t, const char *save);

#endif
