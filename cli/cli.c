/* cli: what every verb shares — error messages, exit codes, the -t/-c
 * scope options. */
#define _GNU_SOURCE /* vasprintf */
#include "cli/cli.h"

#include "model/fmt.h"
#include "nft/reader.h"

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
	if (n >= 0) {
		cli_put_lines(stderr, *msg ? msg : "\n");
		cli_json_message(msg);
	} else {
		fputs("out of memory\n", stderr);
	}
	free(msg);
	return code;
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
