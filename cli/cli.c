/* cli: what every verb shares — error messages, exit codes, the -t/-c
 * scope options. */
#define _GNU_SOURCE /* vasprintf */
#include "cli/cli.h"

#include "model/fmt.h"
#include "nft/reader.h"
#include "nft/ruletext.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_fail(int code, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	int n;

	fflush(stdout);
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	fputs("nfpilot: ", stderr);
	/* the message carries names from the kernel and the history: each
	 * line made safe, the lines of a multi-line nft error kept */
	if (n >= 0)
		cli_put_lines(stderr, *msg ? msg : "\n");
	else
		fputs("out of memory\n", stderr);
	free(msg);
	return code;
}

char *cli_slurp(const char *file, size_t *len)
{
	FILE *fp = fopen(file, "re");
	char *buf = NULL, chunk[65536];
	size_t got;
	FILE *mem;

	*len = 0;
	if (!fp)
		return NULL;
	mem = open_memstream(&buf, len);
	while (mem && (got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		fwrite(chunk, 1, got, mem);
	if (mem)
		fclose(mem);
	if (ferror(fp)) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	return buf;
}

int cli_join_word(char **text, const char *word)
{
	char *n;

	if (asprintf(&n, "%s%s%s", *text ? *text : "", *text && **text ? " " : "", word) < 0)
		return -ENOMEM;
	free(*text);
	*text = n;
	return 0;
}

int cli_exit_code(int err)
{
	switch (-err) {
	case 0:
		return EXIT_OK;
	case EPERM:
	case EACCES:
		/* root refused (a table another process owns, a file it may not
		 * write) is a refusal, not a missing privilege */
		return geteuid() != 0 ? EXIT_PERM : EXIT_FAIL;
	case ENOENT:
		return EXIT_NOTFOUND;
	case EPFNOSUPPORT: /* nl_open: no nf_tables in this kernel */
		return EXIT_NOKERNEL;
	default:
		return EXIT_FAIL;
	}
}

int cli_scope_option(int argc, char **argv, int i, struct reader_scope *scope)
{
	const char *o = argv[i];

	if (strcmp(o, "-t") == 0 || strcmp(o, "--table") == 0) {
		if (i + 1 >= argc) {
			cli_fail(EXIT_USAGE, "%s needs a table name", o);
			return -1;
		}
		if (i + 2 < argc && argv[i + 2][0] != '-' &&
		    ruleset_family_parse(argv[i + 1], &scope->family) == 0) {
			scope->table = argv[i + 2];
			return 3;
		}
		scope->table = argv[i + 1];
		return 2;
	}
	if (strcmp(o, "-c") == 0 || strcmp(o, "--chain") == 0) {
		if (i + 1 >= argc) {
			cli_fail(EXIT_USAGE, "%s needs a chain name", o);
			return -1;
		}
		scope->chain = argv[i + 1];
		return 2;
	}
	return 0;
}

void cli_put_lines(FILE *fp, const char *text)
{
	while (text && *text) {
		size_t n = strcspn(text, "\n");
		char *line = strndup(text, n);

		fmt_put_safe(fp, line ? line : "");
		fputc('\n', fp);
		free(line);
		text += n + (text[n] == '\n');
	}
}

/* Read the structure, then the rules' counters (this thread) and their text
 * (a worker) at the same time; all must come from one generation. */
int cli_read_ruleset(struct nl *nl, const struct reader_scope *what, bool with_text,
		     struct nfp_ruleset *rs, char *err, size_t errlen)
{
	struct reader_scope scope = *what;

	scope.no_rules = true;
	for (int attempt = 0; attempt < 3; attempt++) {
		struct ruletext_job job = { .numeric = true };
		bool started = false;
		uint32_t genid = 0;
		int ret = reader_read(nl, &scope, rs, err, errlen);

		if (ret)
			return ret;
		if (with_text) {
			ret = ruletext_plan(&job, rs);
			if (!ret)
				ret = ruletext_start(&job);
			if (ret)
				snprintf(err, errlen, "cannot list rule text: %s", strerror(-ret));
			started = !ret;
		}
		if (!ret)
			ret = reader_read_rules(nl, rs, err, errlen);
		if (started)
			ruletext_wait(&job);
		if (!ret && job.err) {
			snprintf(err, errlen, "%s", job.errmsg);
			ret = job.err;
		}
		if (!ret)
			ret = nl_genid(nl, &genid);
		if (!ret && genid == rs->genid &&
		    (!with_text || (job.genid_before == genid && job.genid_after == genid))) {
			long n = job.text ? ruletext_join(rs, job.text) : 0;

			ruletext_job_free(&job);
			if (n >= 0)
				return 0;
			ret = (int)n;
			snprintf(err, errlen, "out of memory");
		}
		ruletext_job_free(&job);
		ruleset_free(rs);
		if (ret && ret != -ENOENT)
			return ret;
		/* changed under us (a chain may have gone): read again */
	}
	snprintf(err, errlen, "%s", nl_strerror(-EINTR));
	return -EINTR;
}
