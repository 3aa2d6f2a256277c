/* apply: a staged changeset as ONE kernel transaction. Rule text is
 * compiled with the real nft grammar in a scratch namespace
 * (apply/compile.h) — in a table iptables-nft manages, text that begins
 * with an option by iptables-nft itself, and nft text only when iptables
 * reads it back the same (compile_syntax); the batch is built from the compiled objects and
 * carries the generation the edits were staged against, so the kernel
 * itself refuses it if anyone changed the ruleset since. All edits or
 * none: on failure nothing changed, and the edit at fault is named. */
#ifndef NFP_APPLY_H
#define NFP_APPLY_H

#include "apply/changeset.h"
#include "probation/probation.h"
#include "nft/nl.h"

/* Apply cs on probation (probation/probation.h): its restore point is the
 * inverse of its edits (apply/inverse.h), its batch is committed by the
 * guardian. Returns as probation_apply; *failed_edit is the index of the
 * edit at fault (-1 if none in particular) and err the reason (nft's
 * message for text it refused). -ERESTART: the ruleset changed since
 * cs->genid. */
int apply_changeset_on_probation(struct nl *nl, const struct changeset *cs,
				 const struct probation_opts *o, struct probation *p,
				 int *failed_edit, char *err, size_t errlen);

/* Check edit e as nft takes it, after the tables, chains and sets cs
 * creates: the editor's validation. A rule's text (insert, replace) in its
 * chain, a chain's spec (EDIT_CHAIN_ADD: e->base, hooknum, prio and policy
 * are filled from what nft made of it), a set's spec, a table. 0, or -errno with err =
 * nft's message (for a rule: the text and carets under the fault). */
int apply_check_edit(struct nl *nl, const struct changeset *cs, struct edit *e, char *err,
		     size_t errlen);

/* The compiler of set's elements (apply/compile.h, compile_set_stop ends
 * it) started for it: its table's structure read from nl. For lookups
 * (`set test`, the set screen's /) and the set screen's staged rows. 0 or
 * -errno with err. */
struct setelems_set;
struct compile_set;
int apply_set_start(struct nl *nl, const struct setelems_set *set, struct compile_set *k,
		     char *err, size_t errlen);
/* text (elements as between braces) compiled by k (apply/compile.h:
 * compile_set_elems), appended to into as a dump of them would be
 * (into->set filled). 0, -EINVAL with nft's message, or -errno. */
struct setelems;
int apply_set_elems(struct compile_set *k, const char *text, bool key_only,
		    struct setelems *into, char *err, size_t errlen);
/* The key of one element as nft compiles it for set (k started for it):
 * "10.1.2.3", "10.1.2.3 . 22" (no data, even for a map), in *key
 * (set->key_len bytes, malloc'd). A range gives its start. 0, or -EINVAL
 * with err = nft's message, or -errno. */
int apply_element_key(struct compile_set *k, const struct setelems_set *set, const char *text,
		      uint8_t **key, char *err, size_t errlen);

/* The elements of a file of one a line (blank lines and # comments
 * skipped) as nft takes them between braces: "a, b, c" in *text
 * (malloc'd). 0, -EINVAL (no element in it) or -errno, err saying so. */
int apply_elements_file(const char *path, char **text, char *err, size_t errlen);

#endif
