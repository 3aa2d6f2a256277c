/* effect: does a rule nfpilot writes for the admin (the live view's o,
 * allow a port; b, block an address; a rule typed whose traffic is one
 * packet) do what it is for? The packet it is
 * meant for — a new TCP or UDP connection to that port of this host, or
 * one from that address to the admin's sshd port — is asked of the
 * sandbox (check_sandbox), never evaluated here:
 *
 *   - where it goes (effect_where), on the ruleset before the rule: an
 *     allow before the first rule of its chain the packet matches without
 *     an accept (a drop, a reject, a jump, a counting rule), else at the
 *     end; a block at the top of the first input chain the packet meets
 *     that can take it (a native table of its family);
 *   - whether it works (effect_check), on the ruleset with the rule
 *     staged: the verdict must be the rule's. If not, what decides
 *     instead (a rule before it, another base chain of the same hook, a
 *     path that never meets it) is said, with the place where it would
 *     work when there is one. */
#ifndef NFP_EFFECT_H
#define NFP_EFFECT_H

#include "apply/changeset.h"
#include "check/lockout.h"
#include "model/ruleset.h"
#include "nft/trace.h"
#include "sandbox/packet.h"
#include "sandbox/sandbox.h"

#include <stdbool.h>
#include <stddef.h>

enum effect_kind {
	EFFECT_ALLOW,   /* o: its verdict must be accept */
	EFFECT_BLOCK,   /* b: drop */
	EFFECT_RULE,    /* a rule typed: it must be reached, and decide if it accepts */
};

/* A place for a rule: before a rule of the host (where WHERE_BEFORE,
 * anchor) or at the top or end of a chain. */
struct effect_place {
	uint32_t family;
	char table[256], chain[256];
	enum edit_where where;
	uint64_t anchor;
};

/* Places a fix can take: one chain of each table a hook has, at most */
#define EFFECT_FIX_MAX 4

struct effect {
	struct packet p;         /* the packet the rule is for */
	bool works;              /* its verdict is the rule's */
	char said[900];          /* if not: what decides instead, made safe */
	bool has_fix;            /* ... and where the rule would work: */
	struct effect_place fix[EFFECT_FIX_MAX]; /* the rule there instead, */
	size_t nfix;             /* ... one in each chain that decides when
				  * several do (base chains of the same hook
				  * each decide: an accept is needed in each
				  * that would drop), asked of the sandbox */
	size_t stays;            /* fix[stays - 1] is where the rule is now (0: none) */
};

/* The packet a quick rule (apply/quick.h) is for: what the admin typed
 * ("tcp 8443", "10.0.0.9", "2001:db8::/32"), ip6 for a table of the
 * ip6 family. 0, or -EINVAL with err (no address of this host to send it
 * to). */
int effect_packet(const struct sandbox *sb, enum effect_kind kind, const char *input, bool ip6,
		  struct packet *p, char *err, size_t errlen);

/* The packet a typed rule is for, from its traffic (conntrack/ct_rule.h):
 * only a rule whose traffic is TCP or UDP to one port, from and to at most
 * one address or prefix each, nothing left out (interfaces, sets, marks,
 * ranges, negations: not checked). ip6: the table's family is ip6. false:
 * no such packet. */
bool effect_rule_packet(const struct sandbox *sb, const char *rule, bool ip6, struct packet *p);

/* Where the rule for p goes by default, asked of sb with cs staged: place
 * holds the table's input chain (family, table, chain) on entry and is
 * changed where the answer says better. host: the ruleset cs is staged
 * on. 0, or -errno with err. */
int effect_where(struct sandbox *sb, bool *open, const struct changeset *cs,
		 const struct nfp_ruleset *host, enum effect_kind kind, const struct packet *p,
		 struct effect_place *place, char *err, size_t errlen);

/* Whether the rule edit cs->edits[cs->n - 1] stages does its work for p,
 * asked of sb with cs staged. 0 (ef filled), or -errno with err. An
 * accept's fix is asked too, before it is offered: the rule moved there
 * (and, when the chain it is in still drops, kept there as well), until
 * the sandbox admits p or EFFECT_FIX_MAX places were tried (then no fix
 * is offered: none known to work). */
int effect_check(struct sandbox *sb, bool *open, const struct changeset *cs,
		 enum effect_kind kind, const struct packet *p, struct effect *ef, char *err,
		 size_t errlen);

/* The words for ef's fix, "L puts it before that rule, in ip filter
 * INPUT" (made safe), into buf. */
void effect_fix_words(const struct effect *ef, char *buf, size_t len);

#endif
