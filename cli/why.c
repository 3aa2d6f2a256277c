/* cli_why: `nfpilot why PACKET` — what the kernel would do with a packet
 * that was never sent, asked of a sandbox holding a copy of the ruleset
 * (sandbox/sandbox.h), printed as a traced packet with the notes where
 * the sandbox may differ from the host. */
#include "cli/cli.h"

#include "model/fmt.h"
#include "nft/reader.h"
#include "sandbox/sandbox.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char why_usage[] =
	"usage: nfpilot [-N NETNS] why [--after FILE] [--json] PACKET\n"
	"What the kernel would do with a packet that was never sent: a sandbox\n"
	"network namespace holds a copy of the tables, interfaces and routes, the\n"
	"packet is sent into it with tracing on, and its path and verdict come back\n"
	"as `nfpilot trace` shows them. The host never sees the packet.\n"
	"PACKET: PROTO SRC -> DST [iif NAME] [state new|established|related]\n"
	"        [mark N] [type T] [code C] [flags F]\n"
	"  tcp 203.0.113.7:40000 -> 10.0.0.1:22 iif eth0\n"
	"  tcp 203.0.113.7:40000 -> 10.0.0.1:22 state established\n"
	"  udp [2001:db8::7]:5353 -> [2001:db8::1]:53\n"
	"  icmp 198.51.100.1 -> 10.0.0.1 type echo-request\n"
	"  icmp 198.51.100.1 -> 10.0.0.1 state related   (an error about a datagram)\n"
	"PROTO: tcp, udp, sctp, icmp, icmpv6. Without iif, a packet from an address\n"
	"of this host is sent by it; any other comes in on the interface of the\n"
	"route to its source.\n"
	"  --after FILE  ask of the ruleset as it would be after `nfpilot apply FILE`\n"
	"                (rules the file makes are shown as [new]; nothing is applied)\n"
	"  --json        one JSON object (nfpilot(8))\n";

static void put_note_where(FILE *fp, const struct sandbox_note *n)
{
	const char *fam = ruleset_family_name(n->family);

	if (n->handle)
		fprintf(fp, "rule %llu of %s ", (unsigned long long)n->handle, fam ? fam : "?");
	else
		fprintf(fp, "a new rule of %s ", fam ? fam : "?");
	fmt_put_safe(fp, n->table);
	fputc(' ', fp);
	fmt_put_safe(fp, n->chain);
}

static void print_text(FILE *fp, const char *question, const char *after,
		       const struct sandbox_answer *a)
{
	fputs("why ", fp);
	fmt_put_safe(fp, question);
	fputs("\n  asked in a sandbox: ", fp);
	fmt_put_safe(fp, a->how);
	if (after) {
		fputs("; the ruleset as it would be after ", fp);
		fmt_put_safe(fp, after);
	}
	fputc('\n', fp);
	cli_packet_text(fp, a->packet, "packet");
	for (size_t i = 0; i < a->nnotes; i++) {
		const struct sandbox_note *n = &a->notes[i];

		fputs("  may differ: ", fp);
		if (n->table) {
			put_note_where(fp, n);
			fputs(": ", fp);
		}
		fmt_put_safe(fp, n->why);
		fputc('\n', fp);
	}
}

static void print_json(FILE *fp, const char *question, const char *after,
		       const struct sandbox_answer *a)
{
	fputs("{\"question\":", fp);
	fmt_put_json(fp, question);
	fputs(",\"after\":", fp);
	if (after)
		fmt_put_json(fp, after);
	else
		fputs("null", fp);
	fputs(",\"how\":", fp);
	fmt_put_json(fp, a->how);
	fputs(",\"answer\":", fp);
	cli_packet_json(fp, a->packet);
	fputs(",\"notes\":[", fp);
	for (size_t i = 0; i < a->nnotes; i++) {
		const struct sandbox_note *n = &a->notes[i];
		const char *fam = ruleset_family_name(n->family);

		fputs(i ? ",{" : "{", fp);
		if (n->table) {
			fprintf(fp, "\"family\":\"%s\",\"table\":", fam ? fam : "?");
			fmt_put_json(fp, n->table);
			fputs(",\"chain\":", fp);
			fmt_put_json(fp, n->chain);
			if (n->handle)
				fprintf(fp, ",\"handle\":%llu,", (unsigned long long)n->handle);
			else
				fputs(",\"handle\":null,", fp);
		} else {
			fputs("\"family\":null,\"table\":null,\"chain\":null,\"handle\":null,", fp);
		}
		fputs("\"why\":", fp);
		fmt_put_json(fp, n->why);
		fputc('}', fp);
	}
	fputs("]}\n", fp);
}

int cli_why(int argc, char **argv)
{
	struct reader_scope all = { 0 };
	struct nfp_ruleset rs = { 0 };
	struct sandbox_answer a;
	struct sandbox sb;
	struct packet p;
	char *text = NULL, *script = NULL, err[1024], question[256], dir[4096];
	const char *after = NULL;
	size_t len;
	bool json = false;
	struct nl nl;
	int ret;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];

		if (strcmp(o, "--json") == 0) {
			json = true;
		} else if (strcmp(o, "--after") == 0) {
			if (i + 1 >= argc) {
				free(text);
				return cli_fail(EXIT_USAGE, "why: --after needs a file");
			}
			after = argv[++i];
		} else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
			fputs(why_usage, stdout);
			free(text);
			return EXIT_OK;
		} else if (o[0] == '-' && o[1] == '-') {
			fputs(why_usage, stderr);
			free(text);
			return cli_fail(EXIT_USAGE, "why: unknown option '%s'", o);
		} else if (cli_join_word(&text, o)) {
			free(text);
			return cli_fail(EXIT_FAIL, "out of memory");
		}
	}
	if (!text) {
		fputs(why_usage, stderr);
		return EXIT_USAGE;
	}
	ret = packet_parse(text, &p, err, sizeof(err));
	free(text);
	if (ret)
		return cli_fail(ret == -EINVAL ? EXIT_USAGE : EXIT_FAIL, "why: %s", err);
	packet_format(&p, question, sizeof(question));
	if (after && !(script = cli_slurp(after, &len)))
		return cli_fail(errno == ENOENT ? EXIT_NOTFOUND : EXIT_FAIL, "why: %s: %s", after,
				strerror(errno ? errno : EIO));
	if (after) {
		snprintf(dir, sizeof(dir), "%s", after);
		snprintf(dir, sizeof(dir), "%s", strrchr(dir, '/') ? dirname(dir) : ".");
	}

	ret = nl_open(&nl, err, sizeof(err));
	if (!ret) {
		ret = cli_read_ruleset(&nl, &all, true, &rs, err, sizeof(err));
		nl_close(&nl);
	}
	if (!ret)
		ret = sandbox_open(&sb, err, sizeof(err));
	if (ret) {
		ruleset_free(&rs);
		free(script);
		return cli_fail(cli_exit_code(ret), "why: %s", err);
	}
	if (script) {
		ret = sandbox_stage(&sb, script, dir, err, sizeof(err));
		free(script);
		if (ret) {
			sandbox_close(&sb);
			ruleset_free(&rs);
			cli_fail(0, "why: %s: nft refused it, nothing was asked:", after);
			cli_put_lines(stderr, err);
			return ret == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
		}
	}
	ret = sandbox_ask(&sb, &p, &a, err, sizeof(err));
	if (!ret && (ret = sandbox_describe(&sb, &a, err, sizeof(err))))
		sandbox_answer_free(&a);
	sandbox_close(&sb);
	if (ret) {
		ruleset_free(&rs);
		return cli_fail(ret == -EINVAL ? EXIT_USAGE : EXIT_FAIL, "why: %s", err);
	}
	trace_packet_describe(a.packet, &rs);
	if (json)
		print_json(stdout, question, after, &a);
	else
		print_text(stdout, question, after, &a);
	sandbox_answer_free(&a);
	ruleset_free(&rs);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}
