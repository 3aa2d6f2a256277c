/* sbstage: one sandbox (sandbox/sandbox.h) staged again and again, as a
 * live-view session stages it (for tests/integration/sandbox_stage.sh):
 *   sbstage NETNS STEP...
 * each STEP one of
 *   stage FILE    sandbox_stage with FILE's text ("-": nothing staged);
 *                 "{FAMILY TABLE HANDLE}" in it becomes the copy's handle
 *                 of that rule of the host (sandbox_copy_handle), as the
 *                 live view's edits by handle are written for the copy
 *   ask PACKET    the answer, one line: each step "table/chain type handle
 *                 verdict" (a rule the change made: handle "new"), then
 *                 "=> verdict by step: text"
 *   admits PACKET sandbox_admits of it: admitted, refused or unsure
 *   copy FAMILY TABLE HANDLE   the copy's handle of the host's rule
 *   fresh         the sandbox closed and made anew
 *   break FAMILY:NAME  every restore of that table refused from now on
 *                 (snapshot_test_break): a putting back that fails
 * Each step's outcome is one line on stdout, "STEP: ..." ("error: ..."
 * for a step that failed; the steps go on while the sandbox is open).
 * (`sbstage ruletext ...`: the listing's child, as `nfpilot ruletext`.) */
#include "model/ruleset.h"
#include "nft/nl.h"
#include "nft/ruletext.h"
#include "nft/snapshot.h"
#include "sandbox/sandbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	ssize_t n;

	if (!fp)
		return NULL;
	n = getdelim(&text, &len, 0, fp);
	fclose(fp);
	if (n < 0) {
		free(text);
		return strdup("");
	}
	return text;
}

/* text with every {FAMILY TABLE HANDLE} written as the copy's handle */
static char *for_copy(const struct sandbox *sb, const char *text)
{
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);

	while (mem && *text) {
		char fam[16], table[256];
		unsigned long long h;
		uint32_t family;
		int used = 0;

		if (*text == '{' &&
		    sscanf(text, "{%15s %255s %llu}%n", fam, table, &h, &used) == 3 && used &&
		    !ruleset_family_parse(fam, &family)) {
			fprintf(mem, "%llu", (unsigned long long)sandbox_copy_handle(sb, family, table,
										     h));
			text += used;
		} else {
			fputc(*text++, mem);
		}
	}
	if (mem)
		fclose(mem);
	return out;
}

static void print_answer(const struct sandbox_answer *a)
{
	const struct trace_packet *p = a->packet;

	printf("ask:");
	for (size_t i = 0; i < p->nsteps; i++) {
		const struct trace_step *s = &p->steps[i];
		char h[32];

		if (s->staged >= 0)
			snprintf(h, sizeof(h), "new");
		else
			snprintf(h, sizeof(h), "%llu", (unsigned long long)s->handle);
		printf(" %s/%s %s %s %s", s->table, s->chain,
		       s->kind == TRACE_POLICY ? "policy" : "rule", h, trace_verdict_name(s->verdict));
	}
	printf(" => %s", trace_verdict_name(p->verdict));
	if (p->decided >= 0)
		printf(" by step %ld: %s", (long)p->decided,
		       p->steps[p->decided].text ? p->steps[p->decided].text : "(no text)");
	printf("\n");
}

int main(int argc, char **argv)
{
	char err[2048];
	struct sandbox sb;
	int i, ret = 0;

	/* the listing of an iptables-nft family's rule text runs this
	 * program again (nft/ruletext.h), as it runs nfpilot */
	if (argc > 1 && !strcmp(argv[1], "ruletext"))
		return ruletext_child_main(argc - 1, argv + 1);
	if (argc < 2) {
		fprintf(stderr, "usage: sbstage NETNS STEP...\n");
		return 2;
	}
	if (nl_enter_netns(argv[1], err, sizeof(err)) || sandbox_open(&sb, err, sizeof(err))) {
		fprintf(stderr, "sbstage: %s\n", err);
		return 1;
	}
	for (i = 2; i < argc && sandbox_is_open(&sb); i++) {
		const char *step = argv[i], *arg = i + 1 < argc ? argv[i + 1] : "";
		struct packet p;
		int r = 0;

		err[0] = 0;
		if (!strcmp(step, "stage")) {
			char *text = strcmp(arg, "-") ? slurp(arg) : strdup(""), *copy;

			copy = text ? for_copy(&sb, text) : NULL;
			/* as check_sandbox does: handles written after the putting back */
			if (copy && sb.staged && !sandbox_stage_adds(&sb, copy)) {
				free(copy);
				copy = NULL;
				if (!(r = sandbox_stage(&sb, "", NULL, err, sizeof(err))))
					copy = for_copy(&sb, text);
			}
			if (!r)
				r = copy ? sandbox_stage(&sb, copy, NULL, err, sizeof(err)) : -ENOMEM;
			if (!r)
				printf("stage: %s\n", sb.staged ? "staged" : "nothing staged");
			free(text);
			free(copy);
			i++;
		} else if (!strcmp(step, "ask") || !strcmp(step, "admits")) {
			struct sandbox_answer a;
			uint8_t v;

			r = packet_parse(arg, &p, err, sizeof(err));
			if (!r && !strcmp(step, "ask") && !(r = sandbox_ask(&sb, &p, &a, err, sizeof(err)))) {
				if (!(r = sandbox_describe(&sb, &a, err, sizeof(err))))
					print_answer(&a);
				sandbox_answer_free(&a);
			} else if (!r && !strcmp(step, "admits") &&
				   !(r = sandbox_admits(&sb, &p, 1, &v, err, sizeof(err)))) {
				printf("admits: %s\n", v == SANDBOX_ADMITTED ? "admitted"
						       : v == SANDBOX_REFUSED ? "refused" : "unsure");
			}
			i++;
		} else if (!strcmp(step, "copy") && i + 3 < argc) {
			uint32_t family;

			r = ruleset_family_parse(argv[i + 1], &family) ? -EINVAL : 0;
			if (!r)
				printf("copy: %llu\n", (unsigned long long)sandbox_copy_handle(
					       &sb, family, argv[i + 2], strtoull(argv[i + 3], NULL, 10)));
			else
				snprintf(err, sizeof(err), "no family %s", argv[i + 1]);
			i += 3;
		} else if (!strcmp(step, "break")) {
			/* every restore of table FAMILY:NAME refused from now on */
			snapshot_test_break(arg);
			printf("break: %s\n", arg);
			i++;
		} else if (!strcmp(step, "fresh")) {
			sandbox_close(&sb);
			r = sandbox_open(&sb, err, sizeof(err));
			if (!r)
				printf("fresh: made\n");
		} else {
			fprintf(stderr, "sbstage: no step '%s'\n", step);
			ret = 2;
			break;
		}
		if (r) {
			for (char *c = err; *c; c++)
				if (*c == '\n')
					*c = ' ';
			printf("error: %s%s\n", err, sandbox_is_open(&sb) ? "" : " (closed)");
		}
	}
	if (i < argc && !ret) {
		printf("error: the sandbox was closed: the steps after it not made\n");
		ret = 1;
	}
	sandbox_close(&sb);
	return ret;
}
