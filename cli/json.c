/* With --json a verb's answer is ONE JSON object on standard output,
 * whatever happened (docs/nfpilot.8, JSON OUTCOME): written here, once,
 * when the verb returns. What the verb would have told a person goes to
 * standard error meanwhile. */
#define _GNU_SOURCE
#include "cli/cli.h"

#include "model/json.h"
#include "probation/probation.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct {
	bool on;
	const char *verb;
	char outcome[64];
	FILE *out;              /* the real standard output */
	FILE *body;             /* the verb's members, written by cli_json() */
	char *body_buf;
	size_t body_len;
	struct json j;
	FILE *msg;              /* the messages of cli_fail */
	char *msg_buf;
	size_t msg_len;
	bool listed;            /* a listing verb writes its own document */
} J;

void cli_json_start(const char *verb, bool listing)
{
	int fd;

	J.on = true;
	J.verb = verb;
	J.listed = listing;
	J.body = open_memstream(&J.body_buf, &J.body_len);
	J.msg = open_memstream(&J.msg_buf, &J.msg_len);
	if (J.body) {
		/* members of the object cli_json_finish writes, after its own */
		json_init(&J.j, J.body);
		J.j.depth = 1;
		J.j.close[1] = '}';
		J.j.more[1] = true;
	}
	J.out = stdout;
	if (listing)
		return;
	/* what the verb prints for a person goes to standard error */
	fflush(stdout);
	fd = dup(STDOUT_FILENO);
	if (fd >= 0 && !(J.out = fdopen(fd, "w")))
		close(fd);
	if (!J.out || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		/* no way to set it aside (no fd left): both on standard output */
		if (J.out)
			fclose(J.out);
		J.out = stdout;
	}
}

bool cli_json_on(void)
{
	return J.on;
}

struct json *cli_json(void)
{
	return J.on && J.body ? &J.j : NULL;
}

void cli_json_outcome(const char *outcome)
{
	snprintf(J.outcome, sizeof(J.outcome), "%s", outcome);
}

void cli_json_message(const char *msg)
{
	if (!J.on || !J.msg)
		return;
	if (ftell(J.msg) > 0)
		fputc('\n', J.msg);
	fputs(msg, J.msg);
}

static const char *code_name(int rc)
{
	static const char *const names[] = {
		[EXIT_OK] = "ok", [EXIT_FAIL] = "failed", [EXIT_USAGE] = "usage",
		[EXIT_NOTFOUND] = "not found", [EXIT_PERM] = "permission denied",
		[EXIT_NOKERNEL] = "no nf_tables", [EXIT_LOCKOUT] = "lockout",
	};

	return rc >= 0 && rc < (int)(sizeof(names) / sizeof(names[0])) ? names[rc] : "failed";
}

int cli_json_finish(int rc)
{
	struct json out;
	int ret = rc;

	if (J.body) {
		while (J.j.depth > 1)
			json_end(&J.j);
		fclose(J.body);
	}
	if (J.msg)
		fclose(J.msg);
	/* what is said from here on goes to standard error only */
	J.body = J.msg = NULL;
	fflush(stdout);
	if (!(J.listed && rc == EXIT_OK)) {
		json_init(&out, J.out);
		json_object(&out, NULL);
		json_int(&out, "nfpilot", NFP_JSON_VERSION);
		json_str(&out, "verb", J.verb);
		json_str(&out, "outcome", J.outcome[0] ? J.outcome : rc == EXIT_OK ? "ok" : "error");
		json_int(&out, "exit", rc);
		if (J.body_buf)
			fwrite(J.body_buf, 1, J.body_len, J.out);
		if (rc == EXIT_OK) {
			json_null(&out, "error");
		} else {
			json_object(&out, "error");
			json_int(&out, "code", rc);
			json_str(&out, "name", code_name(rc));
			json_str(&out, "message", J.msg_buf && *J.msg_buf ? J.msg_buf
				 : "failed");
			json_end(&out);
		}
		json_end(&out);
		fputc('\n', J.out);
	}
	errno = 0;
	if (fflush(J.out) != 0 || ferror(J.out))
		ret = cli_fail(EXIT_FAIL, "writing the output: %s",
			       errno ? strerror(errno) : "failed");
	free(J.body_buf);
	free(J.msg_buf);
	return ret;
}

/* ---- what several verbs report ---- */

void cli_json_tables(const char *key, const char *text)
{
	struct json *j = cli_json();

	if (!j)
		return;
	json_array(j, key);
	/* "inet web, ip nat (new), ip old (deleted)", or "none yet" */
	while (text && *text && strncmp(text, "none", 4) != 0) {
		size_t n = strcspn(text, ",");
		char item[600], fam[16] = "", name[512] = "";
		snprintf(item, sizeof(item), "%.*s", (int)n, text);
		if (sscanf(item, "%15s %511s", fam, name) == 2) {
			json_object(j, NULL);
			json_str(j, "family", fam);
			json_str(j, "name", name);
			json_bool(j, "new", strstr(item, " (new)") != NULL);
			json_bool(j, "deleted", strstr(item, " (deleted)") != NULL);
			json_end(j);
		}
		text += n;
		text += strspn(text, ", ");
	}
	json_end(j);
}

void cli_json_change(const char *text)
{
	struct json *j = cli_json();

	if (j)
		json_lines(j, "change", text);
}

void cli_json_probation(const struct probation *p)
{
	struct json *j = cli_json();

	if (!j)
		return;
	if (p->fd < 0 && p->outcome == PROB_CONFIRMED && !p->history_n) {
		json_null(j, "probation"); /* nothing changed: none started */
		return;
	}
	json_object(j, "probation");
	json_str(j, "id", p->id[0] ? p->id : NULL);
	json_int(j, "left", (probation_left_ms(p) + 999) / 1000);
	json_int(j, "deadline", (long long)time(NULL) + (probation_left_ms(p) + 999) / 1000);
	json_bool(j, "joined", p->joined);
	json_bool(j, "strict", p->strict);
	json_str(j, "cannot_undo", p->refused[0] ? p->refused : NULL);
	json_end(j);
	cli_json_tables("tables", p->tables);
}
