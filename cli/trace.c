/* cli_trace: `nfpilot trace` — real packets that match a filter, each with
 * its path through the ruleset to its verdict; and the printing of one
 * traced packet that `nfpilot why` shares. */
#include "cli/cli.h"

#include "conntrack/ct_filter.h"
#include "model/fmt.h"
#include "nft/reader.h"
#include "nft/trace.h"

#include "util/mono.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char trace_usage[] =
	"usage: nfpilot [-N NETNS] trace [FILTER] [--count N] [--seconds S] [--rate R] [--json]\n"
	"Real packets that match FILTER, each with its path through the ruleset:\n"
	"hook, table, chain, every rule that matched or decided (text and handle),\n"
	"jumps and returns, NAT, and the verdict or policy that decided it.\n"
	"FILTER: the words of the connections filter (nfpilot ct --help), for the\n"
	"packet: src dst host ADDR[/LEN], sport dport port PORT, proto, family,\n"
	"mark N[/MASK] (the packet's), state new|established|related, not, or, ( ).\n"
	"  --count N     stop after N packets (default 100)\n"
	"  --seconds S   stop after S seconds (default: no limit)\n"
	"  --rate R      trace at most R packets a second (default 100)\n"
	"  --json        one JSON object a packet, a line each (nfpilot(8))\n"
	"A temporary table marks the packets; the kernel removes it when nfpilot\n"
	"ends, however it ends.\n";

/* ---- printing one packet ---- */

static void put_json_str(FILE *fp, const char *s)
{
	if (s)
		fmt_put_json(fp, s);
	else
		fputs("null", fp);
}

static const char *kind_name(enum trace_step_kind k)
{
	return k == TRACE_POLICY ? "policy" : k == TRACE_RETURN ? "return" : "rule";
}

static void print_step_json(FILE *fp, const struct trace_step *s)
{
	fputs("{\"hook\":", fp);
	put_json_str(fp, s->hook);
	fprintf(fp, ",\"family\":\"%s\",\"table\":", ruleset_family_name(s->family) ?
		ruleset_family_name(s->family) : "?");
	fmt_put_json(fp, s->table);
	fputs(",\"chain\":", fp);
	fmt_put_json(fp, s->chain);
	fprintf(fp, ",\"type\":\"%s\",\"handle\":", kind_name(s->kind));
	if (s->kind == TRACE_RULE && s->handle && s->staged < 0) /* a new rule has none yet */
		fprintf(fp, "%llu", (unsigned long long)s->handle);
	else
		fputs("null", fp);
	fputs(",\"text\":", fp);
	put_json_str(fp, s->text);
	fprintf(fp, ",\"verdict\":\"%s\",\"target\":", trace_verdict_name(s->verdict));
	put_json_str(fp, s->target);
	fputs(",\"nat\":", fp);
	put_json_str(fp, s->nat);
	fputs(",\"staged\":", fp);
	if (s->staged >= 0)
		fprintf(fp, "%d", s->staged + 1);
	else
		fputs("null", fp);
	fputc('}', fp);
}

void cli_packet_json(FILE *fp, const struct trace_packet *p)
{
	const struct trace_hdr *h = &p->hdr;
	const char *proto = trace_proto_name(h->proto);
	char a[64], flags[12];

	fputs("{\"family\":", fp);
	fputs(h->family == AF_INET ? "\"ip\"" : h->family == AF_INET6 ? "\"ip6\"" : "null", fp);
	fputs(",\"proto\":", fp);
	if (proto)
		fprintf(fp, "\"%s\"", proto);
	else
		fprintf(fp, "%u", h->proto);
	trace_addr_format(h->family, h->saddr, a, sizeof(a));
	fprintf(fp, ",\"src\":\"%s\"", h->family ? a : "");
	trace_addr_format(h->family, h->daddr, a, sizeof(a));
	fprintf(fp, ",\"dst\":\"%s\"", h->family ? a : "");
	if (h->ports)
		fprintf(fp, ",\"sport\":%u,\"dport\":%u", h->sport, h->dport);
	else
		fputs(",\"sport\":null,\"dport\":null", fp);
	if (h->proto == IPPROTO_TCP) {
		trace_tcp_flags(h->tcp_flags, flags, sizeof(flags));
		fprintf(fp, ",\"tcp_flags\":\"%s\"", flags);
	}
	if (h->icmp)
		fprintf(fp, ",\"icmp_type\":%u,\"icmp_code\":%u", h->icmp_type, h->icmp_code);
	fputs(",\"iif\":", fp);
	put_json_str(fp, h->iif ? h->iifname : NULL);
	fputs(",\"oif\":", fp);
	put_json_str(fp, h->oif ? h->oifname : NULL);
	fprintf(fp, ",\"mark\":%u,\"len\":%u,\"path\":[", h->mark, h->len);
	for (size_t i = 0; i < p->nsteps; i++) {
		if (i)
			fputc(',', fp);
		print_step_json(fp, &p->steps[i]);
	}
	fputs("],\"verdict\":", fp);
	if (p->verdict >= 0)
		fprintf(fp, "\"%s\"", trace_verdict_name(p->verdict));
	else
		fputs("null", fp);
	fputs(",\"decided_by\":", fp);
	if (p->decided >= 0)
		fprintf(fp, "%ld", p->decided);
	else
		fputs("null", fp);
	fprintf(fp, ",\"complete\":%s,\"end\":", p->complete ? "true" : "false");
	put_json_str(fp, p->end);
	fprintf(fp, ",\"truncated\":%s}", p->truncated ? "true" : "false");
}

static void print_step(FILE *fp, const struct trace_step *s, bool deciding)
{
	char line[16384];

	if (s->nat) {
		fputs("  nat        ", fp);
		fmt_put_safe(fp, s->nat);
		fputc('\n', fp);
	}
	trace_step_format(s, deciding, line, sizeof(line));
	fmt_put_safe(fp, line);
	fputc('\n', fp);
}

void cli_packet_text(FILE *fp, const struct trace_packet *p, const char *title)
{
	char line[16384];

	trace_hdr_format(&p->hdr, line, sizeof(line));
	fprintf(fp, "%s ", title);
	fmt_put_safe(fp, line);
	fputc('\n', fp);
	for (size_t i = 0; i < p->nsteps; i++)
		print_step(fp, &p->steps[i], (long)i == p->decided);
	if (p->truncated)
		fprintf(fp, "  ... more than %d steps: the rest left out\n", TRACE_MAX_STEPS);
	trace_verdict_format(p, line, sizeof(line));
	fmt_put_safe(fp, line);
	fputc('\n', fp);
}

/* ---- the verb ---- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int number(const char *opt, const char *s, long max, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 1 || v > max)
		return cli_fail(EXIT_USAGE, "trace: %s takes a number from 1 to %ld, not '%s'", opt,
				max, s);
	*out = v;
	return 0;
}

/* The rule text of a step the ruleset read at the start does not know
 * (the ruleset changed): read it again, at most once a second. */
static void describe(struct nl *nl, struct nfp_ruleset *rs, struct trace_packet *p,
		     double *reread)
{
	struct reader_scope all = { 0 };
	char err[256];
	bool missing = false;

	trace_packet_describe(p, rs);
	for (size_t i = 0; i < p->nsteps; i++)
		missing = missing || (p->steps[i].kind == TRACE_RULE && !p->steps[i].text);
	if (!missing || mono_now() < *reread + 1)
		return;
	*reread = mono_now();
	ruleset_free(rs);
	memset(rs, 0, sizeof(*rs));
	if (cli_read_ruleset(nl, &all, true, rs, err, sizeof(err)) == 0)
		trace_packet_describe(p, rs);
}

int cli_trace(int argc, char **argv)
{
	long count = 100, seconds = 0, rate = 100;
	bool json = false, after_ct = false;
	struct ct_filter f = { 0 };
	struct nfp_ruleset rs = { 0 };
	struct reader_scope all = { 0 };
	char *text = NULL, err[1024], **clauses = NULL;
	size_t nclauses = 0;
	struct trace t;
	double start, reread = 0;
	long seen = 0;
	struct nl nl;
	int ret, rc = EXIT_OK;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		long *val = strcmp(o, "--count") == 0 ? &count : strcmp(o, "--seconds") == 0 ? &seconds
			    : strcmp(o, "--rate") == 0 ? &rate : NULL;

		if (val) {
			if (i + 1 >= argc) {
				free(text);
				return cli_fail(EXIT_USAGE, "trace: %s needs a number", o);
			}
			if (number(o, argv[++i], val == &rate ? 100000 : 1000000, val)) {
				free(text);
				return EXIT_USAGE;
			}
		} else if (strcmp(o, "--json") == 0) {
			json = true;
		} else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
			fputs(trace_usage, stdout);
			free(text);
			return EXIT_OK;
		} else if (o[0] == '-' && o[1] == '-') {
			fputs(trace_usage, stderr);
			free(text);
			return cli_fail(EXIT_USAGE, "trace: unknown option '%s'", o);
		} else if (cli_join_word(&text, o)) {
			/* the filter's words, in one or several arguments */
			free(text);
			return cli_fail(EXIT_FAIL, "out of memory");
		}
	}
	ret = ct_filter_parse(&f, text ? text : "", err, sizeof(err), NULL);
	free(text);
	if (ret)
		return cli_fail(ret == -EINVAL ? EXIT_USAGE : EXIT_FAIL, "trace: %s", err);
	ret = ct_filter_nft(&f, &clauses, &nclauses, &after_ct, err, sizeof(err));
	ct_filter_free(&f);
	if (ret)
		return cli_fail(ret == -EINVAL ? EXIT_USAGE : EXIT_FAIL, "trace: %s", err);

	ret = nl_open(&nl, err, sizeof(err));
	if (!ret)
		ret = cli_read_ruleset(&nl, &all, true, &rs, err, sizeof(err));
	if (!ret)
		ret = trace_open(&t, (const char *const *)clauses, nclauses, after_ct,
				 (unsigned)rate, err, sizeof(err));
	for (size_t i = 0; i < nclauses; i++)
		free(clauses[i]);
	free(clauses);
	if (ret) {
		ruleset_free(&rs);
		if (nl.sock)
			nl_close(&nl);
		return cli_fail(cli_exit_code(ret), "trace: %s", err);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (!json) {
		fprintf(stdout, "tracing%s (at most %ld packets, %ld a second%s); Ctrl-C ends it\n",
			after_ct ? " after conntrack" : "", count, rate, seconds ? "" : ", no time limit");
		fflush(stdout);
	}
	start = mono_now();
	while (!stop && seen < count && (!seconds || mono_now() < start + (double)seconds)) {
		struct pollfd pfd = { .fd = trace_fd(&t), .events = POLLIN };
		struct trace_packet *p;

		poll(&pfd, 1, 100);
		ret = trace_step(&t, mono_now());
		if (ret < 0) {
			rc = cli_fail(EXIT_FAIL, "trace: reading the trace group: %s", strerror(-ret));
			break;
		}
		while (seen < count && (p = trace_take(&t))) {
			char title[32];

			describe(&nl, &rs, p, &reread);
			seen++;
			if (json) {
				cli_packet_json(stdout, p);
				fputc('\n', stdout);
			} else {
				snprintf(title, sizeof(title), "packet %ld", seen);
				cli_packet_text(stdout, p, title);
			}
			trace_packet_free(p);
		}
		if (fflush(stdout) != 0)
			break;
	}
	if (!json && rc == EXIT_OK)
		fprintf(stdout, "%ld packets traced%s\n", seen, t.lost ? "; the kernel dropped trace "
			"messages (too many at once): some paths are incomplete" : "");
	trace_close(&t);
	nl_close(&nl);
	ruleset_free(&rs);
	return rc;
}
