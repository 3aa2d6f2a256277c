/* The probation verbs: confirm, rollback, extend and status (from any
 * login), the options every applying verb takes (--timeout, --detach,
 * --confirm-new-session) and what such a verb does after its change went
 * in: ask on the terminal like iptables-apply, a missing answer being a
 * revert. */
#include "cli/cli.h"

#include "check/lockout.h"
#include "conntrack/ct_sys.h"
#include "sandbox/stale.h"
#include "probation/probation.h"
#include "model/fmt.h"
#include "model/config.h"
#include "model/json.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cli_probation_init(struct probation_opts *o, const char *what)
{
	struct nfp_config c;

	memset(o, 0, sizeof(*o));
	config_load(&c, NULL, NULL); /* the `timeout` key */
	o->timeout_s = c.timeout;
	o->what = what;
}

int cli_probation_option(int argc, char **argv, int i, struct probation_opts *o)
{
	if (strcmp(argv[i], "--timeout") == 0) {
		char err[200];

		if (i + 1 >= argc)
			return cli_fail(EXIT_USAGE, "--timeout needs seconds"), -1;
		if (config_timeout_parse(argv[i + 1], &o->timeout_s, err, sizeof(err)))
			return cli_fail(EXIT_USAGE, "--timeout: %s", err), -1;
		return 2;
	}
	if (strcmp(argv[i], "--detach") == 0) {
		o->detach = true;
		return 1;
	}
	if (strcmp(argv[i], "--confirm-new-session") == 0) {
		o->strict = true;
		return 1;
	}
	if (strcmp(argv[i], "--force") == 0) {
		o->force = true;
		return 1;
	}
	if (strcmp(argv[i], "--ignore-lockout") == 0) {
		o->lockout_ok = true;
		return 1;
	}
	return 0;
}

int cli_lockout(const struct check_change *ch, const struct probation_opts *o)
{
	struct lockout lo;
	char err[2048] = "";
	int ret;

	if (o->lockout_ok)
		return 0;
	ret = lockout_check(ch, &lo, err, sizeof(err));
	if (ret) {
		/* nft's refusal is the apply's own to report */
		if (ret != -EINVAL) {
			cli_fail(0, "warning: no lockout pre-check (%s): the probation is the "
				 "way back", err);
		}
		return 0;
	}
	if (!lo.verdict) {
		lockout_free(&lo);
		return 0;
	}
	cli_json_outcome("lockout");
	if (cli_json())
		json_str(cli_json(), "lockout", lo.verdict);
	cli_fail(0, "not applied, nothing changed: %s", lo.verdict);
	cli_fail(0, "--ignore-lockout applies it anyway; " LOCKOUT_HINT);
	lockout_free(&lo);
	return EXIT_LOCKOUT;
}

const char *cli_probation_hint(int err)
{
	return err == -ENOTRECOVERABLE
		? "\nnfpilot: (--force applies it anyway: then nothing can undo that table)" : "";
}

static void print_end(const struct probation *p)
{
	char why[600];

	fmt_sanitize(why, sizeof(why), p->why);
	cli_json_outcome(p->outcome == PROB_CONFIRMED ? "confirmed" : "reverted");
	if (cli_json()) {
		if (p->history_n)
			json_int(cli_json(), "history", p->history_n);
		else
			json_null(cli_json(), "history");
		json_str(cli_json(), "reason", p->why);
	}
	if (p->outcome == PROB_CONFIRMED)
		printf("confirmed%s. Not saved: `nfpilot save` makes it survive a reboot.\n",
		       p->history_n ? "" : "");
	else {
		fprintf(stderr, "nfpilot: REVERTED: %s\n", why);
		cli_json_message(p->why);
	}
	if (p->history_n)
		printf("history entry %d (nfpilot history show %d)\n", p->history_n, p->history_n);
}

/* Wait for the answer on the terminal (or stdin), or the guardian's end. */
static int ask(struct probation *p)
{
	int in = open("/dev/tty", O_RDWR | O_CLOEXEC);
	bool own = in >= 0;
	char line[64];
	size_t len = 0;
	bool shown = false;

	if (!own)
		in = 0;
	for (;;) {
		int64_t left = probation_left_ms(p);
		struct pollfd pfd[2] = { { in, POLLIN, 0 }, { p->fd, POLLIN, 0 } };
		char c;

		if (len == 0 && (!shown || isatty(in))) {
			shown = true;
			fprintf(stderr, "\rKeep this change? Type yes to confirm, anything else "
				"reverts (%lld s left): ", (long long)(left + 999) / 1000);
			fflush(stderr);
		}
		if (poll(pfd, 2, left > 1000 ? 1000 : (int)left + 50) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents) {
			probation_poll(p);
			if (p->outcome != PROB_RUNNING || p->fd < 0)
				break;
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (read(in, &c, 1) != 1) {
			fputs("\nno answer: reverting\n", stderr);
			len = 0;
			strcpy(line, "no");
			goto answer;
		}
		if (c != '\n' && len < sizeof(line) - 1) {
			line[len++] = c;
			continue;
		}
		if (c != '\n')
			continue;
		line[len] = 0;
answer:
		{
			bool yes = strcmp(line, "yes") == 0 || strcmp(line, "y") == 0 ||
				   strcmp(line, "YES") == 0 || strcmp(line, "Y") == 0;
			char err[512];

			if (probation_send(p, yes ? REQ_CONFIRM : REQ_ROLLBACK, NULL, NULL, err,
					   sizeof(err)) < 0) {
				cli_fail(0, "%s", err); /* the guardian's words: made safe */
				if (yes) {
					len = 0;
					continue; /* strict mode, say: keep asking */
				}
			}
			break;
		}
	}
	if (own)
		close(in);
	if (p->outcome == PROB_RUNNING) {
		probation_close(p); /* reverts */
		p->outcome = PROB_REVERTED;
		snprintf(p->why, sizeof(p->why), "no answer");
	}
	return 0;
}

/* Connections asked of a sandbox after a change, at most: at about 40k
 * a second (docs/benchmarks.md) this is half a second, paid while the
 * deadline runs; more is left to `nfpilot ct stale`, which the message
 * names. */
#define STALE_AFTER_MAX 20000

/* After the change went in: the established connections the new ruleset
 * would no longer admit (sandbox/stale.h), said before the confirm is
 * asked for; they go on flowing until their conntrack entry goes. Never
 * a reason to fail: the change is on probation whatever this finds. */
static void stale_after(void)
{
	struct ct_sys sys;
	struct stale st;
	char err[512];
	int ret = ct_sys_read(&sys, err, sizeof(err));

	if (ret == -ENOENT || (!ret && sys.count == 0)) {
		/* conntrack not loaded, or nothing tracked: nothing flows on */
		if (cli_json())
			json_int(cli_json(), "stale", 0);
		return;
	}
	if (!ret && sys.count > STALE_AFTER_MAX) {
		snprintf(err, sizeof(err), "%lu tracked connections, more than are asked on the "
			 "way (%d; `nfpilot ct stale` asks them all)", sys.count, STALE_AFTER_MAX);
		ret = -EFBIG;
	}
	if (!ret)
		ret = sandbox_quick(err, sizeof(err));
	if (!ret)
		ret = stale_run(&st, NULL, err, sizeof(err));
	if (ret) {
		if (cli_json())
			json_null(cli_json(), "stale");
		cli_fail(0, "connections not checked: %s", err);
		return;
	}
	if (cli_json())
		json_int(cli_json(), "stale", (long long)st.nrefused);
	if (st.nrefused == 1)
		cli_fail(0, "warning: 1 established connection would not be admitted now; it flows "
			 "on until its conntrack entry goes (`nfpilot ct stale` lists it, `nfpilot "
			 "ct stale --kill` ends it)");
	else if (st.nrefused)
		cli_fail(0, "warning: %zu established connections would not be admitted now; they "
			 "flow on until their conntrack entries go (`nfpilot ct stale` lists them, "
			 "`nfpilot ct stale --kill` ends them)", st.nrefused);
	stale_free(&st);
}

int cli_probation_finish(struct probation *p, const struct probation_opts *o)
{
	char tables[600];

	cli_json_probation(p);
	if (p->fd < 0 && p->outcome == PROB_CONFIRMED) {
		cli_json_outcome("nothing changed");
		printf("nothing changed: no probation\n");
		return EXIT_OK;
	}
	fmt_sanitize(tables, sizeof(tables), p->tables);
	if (p->refused[0]) {
		char why[1100];

		fmt_sanitize(why, sizeof(why), p->refused);
		fprintf(stderr, "nfpilot: WARNING (--force): the guardian cannot undo all of it: "
			"%s\n", why);
	}
	printf("on probation%s: %s — reverted in %lld s unless confirmed\n",
	       p->joined ? " (joined the running one, deadline restarted)" : "", tables,
	       (long long)(probation_left_ms(p) + 999) / 1000);
	if (p->id[0])
		printf("probation id: %s (nfpilot confirm --id %s keeps only this change)\n",
		       p->id, p->id);
	fflush(stdout);
	stale_after();
	if (o->detach) {
		cli_json_outcome("on probation");
		printf("detached: `nfpilot confirm` keeps it, `nfpilot rollback` reverts it now,\n"
		       "from this or any later login; `nfpilot status` shows the time left\n");
		probation_close(p);
		return EXIT_OK;
	}
	if (o->strict) {
		printf("strict: confirm from a NEW login (ssh in again and run `nfpilot confirm`);\n"
		       "this session cannot confirm. Ctrl-C reverts now.\n");
		fflush(stdout);
		while (p->fd >= 0 && p->outcome == PROB_RUNNING) {
			struct pollfd pfd = { p->fd, POLLIN, 0 };

			if (poll(&pfd, 1, -1) > 0)
				probation_poll(p);
		}
	} else {
		ask(p);
	}
	print_end(p);
	return p->outcome == PROB_CONFIRMED ? EXIT_OK : EXIT_FAIL;
}

/* ---- the verbs ---- */

/* confirm, rollback, extend: the verb is the request's word */
static int simple(int argc, char **argv, enum protocol_req req, const char *help)
{
	const char *cmd = protocol_req_word(req), *id = NULL;
	char err[512];
	long long n = 0;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(help, stdout);
			return EXIT_OK;
		}
		if (strcmp(argv[i], "--id") == 0 && i + 1 < argc && !id) {
			id = argv[++i];
			if (!protocol_id_ok(id))
				return cli_fail(EXIT_USAGE, "%s --id: '%s' is not a probation id "
						"(16 hex digits, as apply printed it)", cmd, id);
			continue;
		}
		fputs(help, stderr);
		return cli_fail(EXIT_USAGE, "%s: unexpected '%s'", cmd, argv[i]);
	}
	ret = probation_send(NULL, req, id, &n, err, sizeof(err));
	if (ret == -ENOENT && req != REQ_EXTEND) {
		/* no guardian: maybe one died and left its restore point */
		struct nl nl;
		char err2[512];

		if (nl_open(&nl, err2, sizeof(err2)) == 0) {
			int r = probation_recover(&nl, req == REQ_ROLLBACK, id, err2, sizeof(err2));

			nl_close(&nl);
			if (r == 0) {
				cli_json_outcome(req == REQ_ROLLBACK ? "rolled back" : "confirmed");
				if (cli_json())
					json_bool(cli_json(), "recovered", true);
				printf("%s: the restore point left behind was %s\n", cmd,
				       req == REQ_ROLLBACK
				       ? "restored: the tables are as before the change"
				       : "dropped: the rules stay as they are");
				return EXIT_OK;
			}
			if (r == -ESRCH)
				return cli_fail(EXIT_NOTFOUND, "%s", err2);
			if (r != -ENOENT)
				return cli_fail(cli_exit_code(r), "%s", err2);
		}
	}
	if (ret == -ESRCH)
		return cli_fail(EXIT_NOTFOUND, "%s --id %s: %s", cmd, id, err);
	if (ret == -ENOENT)
		return cli_fail(EXIT_NOTFOUND, "%s", err);
	if (ret)
		return cli_fail(ret == -EPERM ? EXIT_FAIL : cli_exit_code(ret), "%s", err);
	if (req == REQ_EXTEND) {
		cli_json_outcome("extended");
		if (cli_json()) {
			json_int(cli_json(), "left", n / 1000);
			json_int(cli_json(), "deadline", (long long)time(NULL) + n / 1000);
		}
		printf("extended: %lld s left\n", n / 1000);
		return EXIT_OK;
	}
	cli_json_outcome(req == REQ_CONFIRM ? "confirmed" : "rolled back");
	if (cli_json())
		json_int(cli_json(), "history", n);
	if (req == REQ_CONFIRM)
		printf("confirmed (history %lld). Not saved: `nfpilot save` makes it survive a "
		       "reboot.\n", n);
	else
		printf("rolled back: the tables are as before the change (history %lld)\n", n);
	return EXIT_OK;
}

int cli_confirm(int argc, char **argv)
{
	return simple(argc, argv, REQ_CONFIRM,
		      "usage: nfpilot [-N NETNS] confirm [--id ID] [--json]\n"
		      "  keep the change on probation; it goes into the history\n"
		      "  --id ID   only if ID is its probation's (as apply printed it): else\n"
		      "            nothing is done (exit 3)\n");
}

int cli_rollback(int argc, char **argv)
{
	return simple(argc, argv, REQ_ROLLBACK,
		      "usage: nfpilot [-N NETNS] rollback [--id ID] [--json]\n"
		      "  revert the change on probation now: the tables it touched are\n"
		      "  restored as they were before it\n"
		      "  --id ID   only if ID is its probation's: else nothing is done (exit 3)\n");
}

int cli_extend(int argc, char **argv)
{
	return simple(argc, argv, REQ_EXTEND,
		      "usage: nfpilot [-N NETNS] extend [--id ID] [--json]\n"
		      "  restart the probation's countdown\n"
		      "  --id ID   only if ID is its probation's: else nothing is done (exit 3)\n");
}

/* status --json: the "key: value" lines of probation_status as members of
 * "probation" (null when none runs); its first line is the state */
static void status_json(const char *text)
{
	static const char *const ints[] = { "left", "timeout", "started", "deadline", "holders",
					    "guardian" };
	struct json *j = cli_json();
	const char *l = text;

	if (!j)
		return;
	if (strncmp(text, "probation: none", 15) == 0) {
		cli_json_outcome("none");
		json_null(j, "probation");
		return;
	}
	json_object(j, "probation");
	for (; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		size_t n = strcspn(l, "\n"), k = strcspn(l, ":\n");
		char key[32], val[600];
		bool num = false;

		if (l[0] == ' ' || k >= sizeof(key) || l[k] != ':')
			continue; /* the hints for a person */
		snprintf(key, sizeof(key), "%.*s", (int)k, l);
		if (strcmp(key, "change") == 0) {
			json_lines(j, "change", l + n + (l[n] == '\n'));
			break;
		}
		snprintf(val, sizeof(val), "%.*s", (int)(n > k + 2 ? n - k - 2 : 0), l + k + 2);
		for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
			num |= strcmp(key, ints[i]) == 0;
		if (strcmp(key, "probation") == 0) {
			/* "running", "GUARDIAN GONE — it ended ..." */
			val[strcspn(val, "\xe2")] = 0;
			for (char *c = val; *c; c++)
				*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
			cli_json_outcome(fmt_trim(val));
			json_str(j, "state", fmt_trim(val));
		} else if (num) {
			json_int(j, key, strtoll(val, NULL, 10));
		} else if (strcmp(key, "strict") == 0) {
			json_bool(j, key, strncmp(val, "yes", 3) == 0 || strcmp(val, "1") == 0);
		} else if (strcmp(key, "tables") == 0) {
			cli_json_tables("tables", val);
		} else {
			json_str(j, key, val);
		}
	}
	json_end(j);
}

int cli_status(int argc, char **argv)
{
	char text[PROB_MSG_MAX], err[512];
	bool running;
	int ret;

	if (argc > 1) {
		fputs("usage: nfpilot [-N NETNS] status\n"
		      "  is a change on probation: time left, tables, who applied it, the change\n",
		      strcmp(argv[1], "-h") && strcmp(argv[1], "--help") ? stderr : stdout);
		return strcmp(argv[1], "-h") && strcmp(argv[1], "--help") ? EXIT_USAGE : EXIT_OK;
	}
	ret = probation_status(text, sizeof(text), &running, err, sizeof(err));
	if (ret)
		return cli_fail(cli_exit_code(ret), "%s", err);
	status_json(text);
	probation_local_times(text, sizeof(text));
	cli_put_lines(stdout, text);
	return EXIT_OK;
}
