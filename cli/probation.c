/* The probation verbs: confirm, rollback, extend and status (from any
 * login), the options every applying verb takes (--timeout, --detach,
 * --confirm-new-session) and what such a verb does after its change went
 * in: ask on the terminal like iptables-apply, a missing answer being a
 * revert. */
#include "cli/cli.h"

#include "probation/probation.h"
#include "model/fmt.h"
#include "model/config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	return 0;
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
	if (p->outcome == PROB_CONFIRMED)
		printf("confirmed%s. Not saved: `nfpilot save` makes it survive a reboot.\n",
		       p->history_n ? "" : "");
	else
		fprintf(stderr, "nfpilot: REVERTED: %s\n", why);
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

			if (probation_send(p, yes ? REQ_CONFIRM : REQ_ROLLBACK, NULL, err,
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

int cli_probation_finish(struct probation *p, const struct probation_opts *o)
{
	char tables[600];

	if (p->fd < 0 && p->outcome == PROB_CONFIRMED) {
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
	fflush(stdout);
	if (o->detach) {
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
	const char *cmd = protocol_req_word(req);
	char err[512];
	long long n = 0;
	int ret;

	if (argc > 1) {
		if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
			fputs(help, stdout);
			return EXIT_OK;
		}
		fputs(help, stderr);
		return cli_fail(EXIT_USAGE, "%s: unexpected '%s'", cmd, argv[1]);
	}
	ret = probation_send(NULL, req, &n, err, sizeof(err));
	if (ret == -ENOENT && req != REQ_EXTEND) {
		/* no guardian: maybe one died and left its restore point */
		struct nl nl;
		char err2[512];

		if (nl_open(&nl, err2, sizeof(err2)) == 0) {
			int r = probation_recover(&nl, req == REQ_ROLLBACK, err2, sizeof(err2));

			nl_close(&nl);
			if (r == 0) {
				printf("%s: the restore point left behind was %s\n", cmd,
				       req == REQ_ROLLBACK
				       ? "restored: the tables are as before the change"
				       : "dropped: the rules stay as they are");
				return EXIT_OK;
			}
			if (r != -ENOENT)
				return cli_fail(cli_exit_code(r), "%s", err2);
		}
	}
	if (ret == -ENOENT)
		return cli_fail(EXIT_NOTFOUND, "%s", err);
	if (ret)
		return cli_fail(ret == -EPERM ? EXIT_FAIL : cli_exit_code(ret), "%s", err);
	if (req == REQ_CONFIRM)
		printf("confirmed (history %lld). Not saved: `nfpilot save` makes it survive a "
		       "reboot.\n", n);
	else if (req == REQ_ROLLBACK)
		printf("rolled back: the tables are as before the change (history %lld)\n", n);
	else
		printf("extended: %lld s left\n", n / 1000);
	return EXIT_OK;
}

int cli_confirm(int argc, char **argv)
{
	return simple(argc, argv, REQ_CONFIRM,
		      "usage: nfpilot [-N NETNS] confirm\n"
		      "  keep the change on probation; it goes into the history\n");
}

int cli_rollback(int argc, char **argv)
{
	return simple(argc, argv, REQ_ROLLBACK,
		      "usage: nfpilot [-N NETNS] rollback\n"
		      "  revert the change on probation now: the tables it touched are\n"
		      "  restored as they were before it\n");
}

int cli_extend(int argc, char **argv)
{
	return simple(argc, argv, REQ_EXTEND,
		      "usage: nfpilot [-N NETNS] extend\n"
		      "  restart the probation's countdown\n");
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
	cli_put_lines(stdout, text);
	return EXIT_OK;
}
