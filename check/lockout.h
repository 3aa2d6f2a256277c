/* lockout: does a change cut SSH sessions off? The pre-check of every
 * apply, asked of the kernel in a sandbox (sandbox/sandbox.h) holding the
 * ruleset as the change would leave it — never evaluated here:
 *
 *   - the admin's own SSH connection (SSH_CONNECTION, else the peer of the
 *     socket of the sshd this process descends from), when it ends in this
 *     namespace: its next packet (established), a new connection from the
 *     same address (new), and for IPv6 neighbour discovery from it;
 *   - every other SSH session of the host: conntrack's established TCP
 *     connections to port 22 (or the admin's sshd port) of an address of
 *     this namespace, as established;
 *   - when the change leaves an inet or ip6 input chain with policy drop,
 *     neighbour discovery to each of the host's IPv6 addresses, whatever
 *     the session.
 *
 * What the kernel drops is said in one line — "this change drops your own
 * SSH session (10.0.0.5:51234 -> :22) at chain input policy drop (inet
 * fw); and 2 other SSH sessions ..." — with the rule or policy that
 * decides; names from the kernel are made safe in it. */
#ifndef NFP_LOCKOUT_H
#define NFP_LOCKOUT_H

#include "apply/changeset.h"
#include "sandbox/packet.h"
#include "sandbox/sandbox.h"

#include <stdbool.h>
#include <stddef.h>

/* A change, as the sandbox is to stage it: a script (include files looked
 * up in include_dir), staged edits (their handles are the host's: the
 * copy's are put in), or tables to put back (a restore). */
struct check_change {
	const char *script;
	const char *include_dir;
	const struct changeset *cs;
	const struct snapshot *tables;
};

/* Staged edits as nft commands for sb's copy: their rules and anchors by
 * the copy's handles (malloc'd; NULL when out of memory). */
char *check_copy_text(const struct sandbox *sb, const struct changeset *cs);

/* The one way a check gets its sandbox: made unless *open (then *open is
 * set; sandbox_close it when done), with the change staged in it by
 * differences from what is staged there (sandbox_stage; none: as the
 * host's). 0, or -EINVAL with nft's message (the change is refused; the
 * copy is the host's), or -errno (*open false when that closed it). */
int check_sandbox(struct sandbox *sb, bool *open, const struct check_change *ch, char *err,
		  size_t errlen);

/* What decided p, made safe: "chain input policy drop (inet fw)", "rule 7
 * of inet fw input (tcp dport 22 drop)", "the rule the change adds to
 * inet fw input (...)". */
void check_decider(const struct trace_packet *p, char *buf, size_t len);

enum lockout_kind {
	LOCKOUT_OWN,        /* the admin's session, established */
	LOCKOUT_OWN_NEW,    /* a new SSH connection from its address */
	LOCKOUT_OWN_ND,     /* neighbour discovery from its address (IPv6) */
	LOCKOUT_OTHER,      /* another SSH session of the host */
	LOCKOUT_ND,         /* neighbour discovery to an address of the host */
};

struct lockout_probe {
	enum lockout_kind kind;
	struct packet p;
	bool asked;          /* the sandbox answered */
	bool cut;            /* ... and its verdict is drop */
	char where[512];     /* what decided it, made safe; or why not asked */
};

#define LOCKOUT_MAX_OTHERS 64 /* other sessions asked about (the rest counted) */

struct lockout {
	bool own;                   /* the admin's SSH connection was found here */
	char own_from[32];          /* "SSH_CONNECTION", "sshd" */
	struct lockout_probe *probes;
	size_t n, cap;
	size_t others;              /* other SSH sessions conntrack has */
	char *verdict;              /* what is cut, one line; NULL: nothing */
};

/* The sessions and probes for sb (made, its copy staged or not): the
 * admin's, the host's other SSH sessions (conntrack of this namespace),
 * neighbour discovery where the copy has a dropping IPv6 input chain.
 * 0 or -errno with err filled; lockout_free lo either way. */
int lockout_find(struct lockout *lo, const struct sandbox *sb, char *err, size_t errlen);

/* Ask sb about every probe; lo->verdict says what is cut. 0 or -ENOMEM. */
int lockout_ask(struct lockout *lo, struct sandbox *sb);

/* The whole pre-check: a sandbox made, ch staged, found, asked, closed.
 * 0 (lo->verdict NULL when nothing is cut), or -errno with err filled
 * (-EINVAL: nft refused the change; lo is then empty). */
int lockout_check(const struct check_change *ch, struct lockout *lo, char *err, size_t errlen);

void lockout_free(struct lockout *lo);

/* What a refused apply adds: strict mode. */
#define LOCKOUT_HINT "strict mode (--confirm-new-session) keeps a change only when a new " \
		     "login confirms it"

#endif
