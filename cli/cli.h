/* cli: the verbs of the command line. Each verb is the TUI's action
 * without the screen; main.c parses global options and dispatches here.
 * Verbs return an exit code (see EXIT_* and docs/nfpilot.8). */
#ifndef NFP_CLI_H
#define NFP_CLI_H

#include <stdbool.h>
#include <stdio.h>

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,      /* the kernel or the system refused */
	EXIT_USAGE = 2,     /* bad command line */
	EXIT_NOTFOUND = 3,  /* no such table, chain or namespace */
	EXIT_PERM = 4,      /* not root / no CAP_NET_ADMIN (never when root) */
	EXIT_NOKERNEL = 5,  /* nf_tables not available */
	EXIT_LOCKOUT = 6,   /* not applied: it would drop SSH sessions (check/lockout.h) */
};

/* Print "nfpilot: <msg>" on stderr, every line of it made safe for the
 * terminal (fmt_put_safe); returns code for `return cli_fail(...)`. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The exit code for an -errno from the model: EPERM/EACCES is EXIT_PERM
 * only when the process is not root, a refusal (EXIT_FAIL) when it is. */
int cli_exit_code(int err);

struct reader_scope;
/* If argv[i] is -t [FAMILY] TABLE or -c CHAIN, fill scope and return how
 * many arguments it used; 0 if it is another option; -1 (message printed)
 * if its argument is missing. */
int cli_scope_option(int argc, char **argv, int i, struct reader_scope *scope);

struct nl;
struct nfp_ruleset;
/* Read scope into rs (zeroed by the caller): the structure, then the
 * rules' counters (this thread) and, with_text, their text (a worker) at
 * the same time, all of one generation. 0 or -errno with err filled. */
int cli_read_ruleset(struct nl *nl, const struct reader_scope *scope, bool with_text,
		     struct nfp_ruleset *rs, char *err, size_t errlen);

/* Write text line by line, each made safe for the terminal. */
void cli_put_lines(FILE *fp, const char *text);

struct probation_opts;
struct probation;
/* Defaults: the configured timeout; what = the verb, for status/history. */
void cli_probation_init(struct probation_opts *o, const char *what);
/* --timeout S, --detach, --confirm-new-session: how many arguments used
 * (0: another option; -1: bad, message printed). */
int cli_probation_option(int argc, char **argv, int i, struct probation_opts *o);
/* The lockout pre-check of a change (check/lockout.h), unless
 * o->lockout_ok (--ignore-lockout): 0 to go on, or EXIT_LOCKOUT with what
 * it cuts said (--json: outcome "lockout", member "lockout"). A check that
 * cannot be made is a warning: the probation is still the way back. */
struct check_change;
int cli_lockout(const struct check_change *ch, const struct probation_opts *o);
/* What to add to the message of a change refused because the kernel
 * refuses its restore point (-ENOTRECOVERABLE): how to force it. */
const char *cli_probation_hint(int err);
/* After a change went in on probation: detach, wait for a confirm from
 * another login (strict), or ask on the terminal. The exit code. */
int cli_probation_finish(struct probation *p, const struct probation_opts *o);

/* --json (cli/json.c): the verb's answer is ONE JSON object on standard
 * output (docs/nfpilot.8, JSON OUTCOME), written by cli_json_finish when
 * the verb returns: {"nfpilot":VERSION,"verb":..,"outcome":..,"exit":..,
 * the verb's own members, "error":null or {"code","name","message"}}.
 * Meanwhile standard output goes to standard error: what the verb tells
 * a person stays readable there. main starts it for every verb; a
 * listing verb (list, ct: a JSON document of its own on standard output)
 * gets the outcome object only when it fails. */
struct json;
void cli_json_start(const char *verb, bool listing);
bool cli_json_on(void);
/* Where the verb writes its own members; NULL without --json. */
struct json *cli_json(void);
/* The outcome word ("on probation", "confirmed"); default "ok"/"error". */
void cli_json_outcome(const char *outcome);
/* A line of the error message (cli_fail calls it). */
void cli_json_message(const char *msg);
/* Write the answer; the exit code (EXIT_FAIL if it cannot be written). */
int cli_json_finish(int rc);
/* "tables": [{"family","name","new","deleted"}] from the guardian's "inet
 * web, ip nat (new)" (a dry run's: "ip old (deleted)"); "change": the
 * change as nft commands, line by line. */
void cli_json_tables(const char *key, const char *text);
void cli_json_change(const char *text);
/* "probation": {id, deadline, joined, strict, cannot_undo} and "tables",
 * or null when nothing changed. */
void cli_json_probation(const struct probation *p);

int cli_list(int argc, char **argv);
int cli_zero(int argc, char **argv);
int cli_ct(int argc, char **argv);
int cli_edit(int argc, char **argv);
int cli_apply(int argc, char **argv);
int cli_confirm(int argc, char **argv);
int cli_rollback(int argc, char **argv);
int cli_extend(int argc, char **argv);
int cli_status(int argc, char **argv);
int cli_history(int argc, char **argv);
int cli_restore(int argc, char **argv);
int cli_save(int argc, char **argv);
int cli_set(int argc, char **argv);
int cli_trace(int argc, char **argv);
int cli_why(int argc, char **argv);

/* Append word to *text (malloc'd, words joined by spaces): a filter or a
 * packet given in one argument or several. 0 or -ENOMEM. */
int cli_join_word(char **text, const char *word);

/* The whole of file, read once (a FIFO can be read only once): malloc'd,
 * NUL-terminated, its length in *len; NULL with errno set. */
char *cli_slurp(const char *file, size_t *len);

struct trace_packet;
/* One traced packet: its headers, then a line per step, then the verdict
 * and what decided it (title starts the first line); or one JSON object
 * (no newline). Every name made safe. */
void cli_packet_text(FILE *fp, const struct trace_packet *p, const char *title);
void cli_packet_json(FILE *fp, const struct trace_packet *p);

#endif
