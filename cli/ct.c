/* cli_ct: `nfpilot ct list|count|kill|stale|acct` — the tracked connections
 * view's actions without the screen. */
#include "cli/cli.h"

#include "conntrack/ct_dump.h"
#include "conntrack/ct_kill.h"
#include "conntrack/ct_sys.h"
#include "conntrack/ct.h"
#include "conntrack/ct_filter.h"
#include "conntrack/ct_print.h"
#include "conntrack/ct_rows.h"
#include "model/fmt.h"
#include "sandbox/stale.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char ct_usage[] =
	"usage: nfpilot [-N NETNS] ct list [FILTER] [--json] [--sort COL] [-r] [-x]\n"
	"       nfpilot [-N NETNS] ct count [FILTER] [--json] [--totals]\n"
	"       nfpilot [-N NETNS] ct kill FILTER | --all [--dry-run] [--json] [--no-sockets]\n"
	"       nfpilot [-N NETNS] ct stale [FILTER] [--kill] [--json] [--no-sockets]\n"
	"       nfpilot [-N NETNS] ct acct [on | off]\n"
	"Tracked connections (conntrack) of the namespace.\n"
	"  list        one line per connection (original direction; NAT shows what\n"
	"              the reply tuple changed), or JSON; streams unless sorted\n"
	"  count       entries in use and the table's maximum; with a FILTER or\n"
	"              --totals, the matches by protocol and state\n"
	"  kill        delete the matching entries and reset their local sockets,\n"
	"              so both ends see the connection end (--all: every one)\n"
	"  stale       the established connections the ruleset no longer admits:\n"
	"              each one's first packet asked of the kernel on a sandbox copy\n"
	"              of the ruleset (--kill: end them, as kill does)\n"
	"  acct        packet and byte accounting: show, or turn on or off\n"
	"FILTER, words ANDed:  src 10.0.0.0/8 dport 22 state established proto tcp\n"
	"  src dst ADDR[/LEN]    original direction; rsrc rdst: reply (after NAT)\n"
	"  host ADDR[/LEN]       any of the four addresses (either direction)\n"
	"  sport dport PORT      also rsport rdport; port: any of the four\n"
	"                        PORT: 22, 1024-65535, 80,443\n"
	"  proto NAME|N   family ipv4|ipv6   mark N[/MASK]   zone N   id N\n"
	"  state S        new established related, or a TCP state (time_wait ...)\n"
	"  ctstate S      new established related, any protocol\n"
	"  status S       assured seen-reply snat dnat nat confirmed dying offload\n"
	"  not, !  negate the next condition;  or;  ( ... );  VAL,VAL: any of them\n"
	"Options:\n"
	"  --json          machine-readable output (format: nfpilot(8))\n"
	"  --sort COL      id proto state src dst sport dport nat mark zone timeout\n"
	"                  packets bytes opackets obytes rpackets rbytes age status;\n"
	"                  counters and age sort biggest first\n"
	"  -r, --reverse   the other way round\n"
	"  -x, --exact     exact numbers and seconds instead of 1.2K and 4m05s\n"
	"  --totals        count: by protocol, TCP state and ct state\n"
	"  --dry-run       kill: list what would be ended, end nothing\n"
	"  --no-sockets    kill: delete the conntrack entries only (as conntrack -D)\n"
	"  --kill          stale: end the connections found\n";

struct ct_args {
	const char *cmd;
	char *filter_text;
	bool json, exact, reverse, totals, all, dry_run, no_sockets, kill;
	int sort;          /* enum ct_col, or -1 */
	const char *acct;  /* on/off for `ct acct` */
};

static int usage_error(const char *fmt, const char *arg)
{
	char msg[256];

	fputs(ct_usage, stderr);
	snprintf(msg, sizeof(msg), fmt, arg);
	return cli_fail(EXIT_USAGE, "ct: %s", msg);
}

static int parse_args(int argc, char **argv, struct ct_args *a)
{
	a->sort = -1;
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(ct_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? cli_fail(EXIT_USAGE, "ct needs list, count, kill, stale or acct")
				: -1;
	}
	a->cmd = argv[1];
	if (strcmp(a->cmd, "list") && strcmp(a->cmd, "count") && strcmp(a->cmd, "kill") &&
	    strcmp(a->cmd, "stale") && strcmp(a->cmd, "acct"))
		return usage_error("unknown command '%s' (list, count, kill, stale, acct)", a->cmd);
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i];

		if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
			fputs(ct_usage, stdout);
			return -1;
		} else if (strcmp(o, "--json") == 0) {
			a->json = true;
		} else if (strcmp(o, "-x") == 0 || strcmp(o, "--exact") == 0) {
			a->exact = true;
		} else if (strcmp(o, "-r") == 0 || strcmp(o, "--reverse") == 0) {
			a->reverse = true;
		} else if (strcmp(o, "--totals") == 0 && strcmp(a->cmd, "count") == 0) {
			a->totals = true;
		} else if (strcmp(o, "--all") == 0 && strcmp(a->cmd, "kill") == 0) {
			a->all = true;
		} else if (strcmp(o, "--dry-run") == 0 && strcmp(a->cmd, "kill") == 0) {
			a->dry_run = true;
		} else if (strcmp(o, "--no-sockets") == 0 &&
			   (!strcmp(a->cmd, "kill") || !strcmp(a->cmd, "stale"))) {
			a->no_sockets = true;
		} else if (strcmp(o, "--kill") == 0 && strcmp(a->cmd, "stale") == 0) {
			a->kill = true;
		} else if (strcmp(o, "--sort") == 0 && strcmp(a->cmd, "list") == 0) {
			if (i + 1 >= argc)
				return usage_error("%s needs a column", o);
			a->sort = ct_col_parse(argv[++i]);
			if (a->sort < 0)
				return usage_error("unknown sort column '%s'", argv[i]);
		} else if (o[0] == '-' && o[1] == '-') {
			return usage_error("unknown option '%s'", o);
		} else if (o[0] == '-' && o[1] && o[1] != '!' && strcmp(a->cmd, "acct")) {
			return usage_error("unknown option '%s'", o);
		} else if (strcmp(a->cmd, "acct") == 0) {
			if (a->acct || (strcmp(o, "on") && strcmp(o, "off")))
				return usage_error("acct takes on or off, not '%s'", o);
			a->acct = o;
		} else if (cli_join_word(&a->filter_text, o)) {
			return cli_fail(EXIT_FAIL, "out of memory");
		}
	}
	return 0;
}

/* Parse the filter; on error print it with the bad word underlined. */
static int parse_filter(const struct ct_args *a, struct ct_filter *f)
{
	char err[512];
	struct ct_filter_pos pos = { 0 };
	const char *text = a->filter_text ? a->filter_text : "";
	int ret = ct_filter_parse(f, text, err, sizeof(err), &pos);

	if (ret == -ENOMEM)
		return cli_fail(EXIT_FAIL, "out of memory");
	if (ret) {
		char safe[1024];

		cli_fail(EXIT_USAGE, "ct %s: bad filter: %s", a->cmd, err);
		fprintf(stderr, "  %s\n  %*s", fmt_sanitize(safe, sizeof(safe), text),
			(int)pos.off, "");
		for (size_t i = 0; i < (pos.len ? pos.len : 1); i++)
			fputc('^', stderr);
		fputc('\n', stderr);
		return EXIT_USAGE;
	}
	return 0;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sys_fail(int ret, const char *err)
{
	return cli_fail(ret == -ENOENT ? EXIT_NOKERNEL : cli_exit_code(ret), "%s", err);
}

static void acct_note(const struct ct_sys *s)
{
	if (!s->acct)
		fprintf(stderr, "nfpilot: note: accounting is off "
			"(net.netfilter.nf_conntrack_acct=0): no packet or byte counts; "
			"'nfpilot ct acct on' counts connections made from then on\n");
}

/* ---- list ---- */

struct list_ctx {
	FILE *fp;
	bool json;
	size_t rows;
	struct ct_print_opts po;
};

static int list_row(const struct ct_entry *e, void *arg)
{
	struct list_ctx *c = arg;

	if (c->json) {
		fputs(c->rows ? ",\n  " : "\n  ", c->fp);
		ct_print_json(c->fp, e);
	} else {
		ct_print_row(c->fp, e, &c->po);
	}
	c->rows++;
	return 0;
}

static int ct_list(const struct ct_args *a, const struct ct_filter *f, const struct ct_sys *s)
{
	enum ct_col cols[CT_COL_N];
	struct list_ctx c = { .fp = stdout, .json = a->json };
	struct ct_dump_opts d = { .filter = f };
	struct ct_table t = { 0 };
	struct ct_rows v = { 0 };
	char err[512];
	int ret;

	/* a million lines: write them in big blocks */
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	c.po.fmt.exact = a->exact;
	c.po.fmt.now = wall_now();
	c.po.cols = cols;
	c.po.ncols = ct_print_default_cols(cols, CT_COL_N, s->timestamp);
	if (a->json)
		printf("{\"nfpilot\": 1, \"count\": %lu, \"max\": %lu, \"accounting\": %s, "
		       "\"timestamps\": %s, \"connections\": [", s->count, s->max,
		       s->acct ? "true" : "false", s->timestamp ? "true" : "false");
	else
		ct_print_header(stdout, &c.po);
	if (a->sort < 0) {
		/* stream: nothing kept */
		d.each = list_row;
		d.arg = &c;
		ret = ct_dump_all(NULL, &d, NULL, err, sizeof(err));
	} else {
		ret = ct_dump_all(&t, &d, NULL, err, sizeof(err));
		if (!ret && (ct_rows_build(&v, &t, NULL, false) ||
			     ct_rows_sort_index(t.e, v.idx, v.n, (enum ct_col)a->sort, a->reverse))) {
			ret = -ENOMEM;
			snprintf(err, sizeof(err), "out of memory sorting");
		}
		for (size_t i = 0; !ret && i < v.n; i++)
			list_row(&t.e[v.idx[i]], &c);
		ct_rows_free(&v);
		ct_table_free(&t);
	}
	if (ret)
		return cli_fail(cli_exit_code(ret), "%s", err);
	if (a->json)
		printf("%s], \"matched\": %zu}\n", c.rows ? "\n" : "", c.rows);
	if (!a->json)
		acct_note(s);
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_fail(EXIT_FAIL, "writing the listing: %s", strerror(errno));
	return EXIT_OK;
}

/* ---- count ---- */

struct count_ctx {
	struct ct_totals tot;
};

static int count_row(const struct ct_entry *e, void *arg)
{
	ct_totals_add(&((struct count_ctx *)arg)->tot, e);
	return 0;
}

static void print_totals(const struct ct_totals *t)
{
	static const char *const pn[CT_TOT_NPROTO] = { "tcp", "udp", "icmp", "other" };
	bool first = true;

	printf("  tcp %zu", t->proto[CT_TOT_TCP]);
	for (size_t s = 0; s < sizeof(t->tcp_state) / sizeof(t->tcp_state[0]); s++) {
		struct ct_entry e = { .proto = IPPROTO_TCP, .l4state = (uint8_t)s };

		if (!t->tcp_state[s])
			continue;
		printf("%s%s %zu", first ? " (" : ", ", ct_l4state_name(&e), t->tcp_state[s]);
		first = false;
	}
	printf("%s", first ? "" : ")");
	for (int p = 1; p < CT_TOT_NPROTO; p++)
		printf(", %s %zu", pn[p], t->proto[p]);
	printf("\n  new %zu, established %zu, related %zu; assured %zu; snat %zu, dnat %zu\n",
	       t->ctstate[CT_NEW], t->ctstate[CT_ESTABLISHED], t->ctstate[CT_RELATED],
	       t->assured, t->snat, t->dnat);
}

static int ct_count(const struct ct_args *a, const struct ct_filter *f, const struct ct_sys *s)
{
	struct count_ctx c = { 0 };
	struct ct_dump_opts d = { .filter = f, .each = count_row, .arg = &c };
	size_t received = 0;
	char err[512];
	int ret;

	if (ct_filter_empty(f) && !a->totals) {
		if (a->json)
			printf("{\"count\": %lu, \"max\": %lu}\n", s->count, s->max);
		else
			printf("%lu connections tracked, maximum %lu (%.1f%% full)%s\n", s->count,
			       s->max, s->max ? 100.0 * (double)s->count / (double)s->max : 0.0,
			       ct_sys_near_full(s) ? ": nearly full, new connections will be "
						     "dropped" : "");
		return EXIT_OK;
	}
	ret = ct_dump_all(NULL, &d, &received, err, sizeof(err));
	if (ret)
		return cli_fail(cli_exit_code(ret), "%s", err);
	if (a->json) {
		printf("{\"count\": %lu, \"max\": %lu, \"matched\": %zu, \"tcp\": %zu, "
		       "\"udp\": %zu, \"icmp\": %zu, \"other\": %zu, \"new\": %zu, "
		       "\"established\": %zu, \"related\": %zu}\n", s->count, s->max,
		       c.tot.all, c.tot.proto[CT_TOT_TCP], c.tot.proto[CT_TOT_UDP],
		       c.tot.proto[CT_TOT_ICMP], c.tot.proto[CT_TOT_OTHER],
		       c.tot.ctstate[CT_NEW], c.tot.ctstate[CT_ESTABLISHED],
		       c.tot.ctstate[CT_RELATED]);
		return EXIT_OK;
	}
	if (ct_filter_empty(f))
		printf("%zu connections tracked, maximum %lu\n", c.tot.all, s->max);
	else
		printf("%zu connections match (of %lu tracked)\n", c.tot.all, s->count);
	if (a->totals)
		print_totals(&c.tot);
	return EXIT_OK;
}

/* ---- kill ---- */

/* What a kill ended, as text or as a JSON object (no newline). */
static void print_kill(const struct ct_args *a, const struct ct_kill_result *r,
		       const struct ct_sys *s, bool failed)
{
	if (a->json)
		printf("{\"matched\": %zu, \"deleted\": %zu, \"already_gone\": %zu, "
		       "\"failed\": %zu, \"local\": %zu, \"sockets_reset\": %zu, "
		       "\"without_socket\": %zu}", r->matched, r->deleted, r->gone, r->failed,
		       r->local, r->sockets, r->unlocal);
	else if (!r->matched && !failed)
		printf("no connection matches\n");
	else {
		printf("ended %zu connection%s: %zu conntrack entr%s deleted, %zu local "
		       "socket%s reset\n", r->deleted + r->gone, r->deleted + r->gone == 1 ? "" : "s",
		       r->deleted, r->deleted == 1 ? "y" : "ies", r->sockets,
		       r->sockets == 1 ? "" : "s");
		if (r->gone)
			printf("%zu had already ended by themselves\n", r->gone);
		if (r->unlocal && !a->no_sockets)
			printf("%zu without a local socket (forwarded, or its socket already "
			       "closed): only the conntrack entry was deleted. The endpoints were "
			       "not told; a TCP connection that sends again is %s.\n", r->unlocal,
			       s->tcp_loose ? "tracked anew (nf_conntrack_tcp_loose=1) unless a rule "
					      "drops its packets" :
					      "seen as invalid (nf_conntrack_tcp_loose=0) and "
					      "dropped by rules that drop invalid packets");
		else if (a->no_sockets)
			printf("sockets were left alone (--no-sockets): local programs were not "
			       "told\n");
	}
}

static int ct_kill_cmd(const struct ct_args *a, const struct ct_filter *f, const struct ct_sys *s)
{
	struct ct_kill_opts ko = { .no_sockets = a->no_sockets };
	struct ct_kill_result r;
	char err[512];
	int ret;

	if (ct_filter_empty(f) && !a->all)
		return cli_fail(EXIT_USAGE, "ct kill needs a filter (or --all to end every "
			       "tracked connection)");
	if (a->dry_run) {
		struct ct_args la = *a;

		la.sort = CT_COL_ID;
		ret = ct_list(&la, f, s);
		return ret;
	}
	ret = ct_kill_filter(f, &ko, &r, err, sizeof(err));
	print_kill(a, &r, s, ret != 0);
	if (a->json)
		putchar('\n');
	if (ret)
		return cli_fail(cli_exit_code(ret), "%s", err);
	return EXIT_OK;
}

/* ---- stale ---- */

static int ct_stale(const struct ct_args *a, const struct ct_filter *f, const struct ct_sys *s)
{
	enum ct_col cols[CT_COL_N];
	struct ct_print_opts po = { .fmt = { .exact = a->exact, .now = wall_now() }, .cols = cols };
	struct ct_kill_opts ko = { .no_sockets = a->no_sockets };
	struct ct_kill_result r = { 0 };
	struct stale st;
	char err[512];
	int ret = stale_run(&st, f, err, sizeof(err));

	if (ret) {
		stale_free(&st);
		return cli_fail(cli_exit_code(ret), "%s", err);
	}
	po.ncols = ct_print_default_cols(cols, CT_COL_N, s->timestamp);
	if (a->kill)
		ret = ct_kill(&st.t, st.refused, st.nrefused, &ko, &r, err, sizeof(err));
	if (a->json) {
		printf("{\"nfpilot\": 1, \"checked\": %zu, \"unsure\": %zu, \"stale\": %zu, "
		       "\"connections\": [", st.checked, st.unsure, st.nrefused);
		for (size_t i = 0; i < st.nrefused; i++) {
			fputs(i ? ",\n  " : "\n  ", stdout);
			ct_print_json(stdout, &st.t.e[st.refused[i]]);
		}
		printf("%s]", st.nrefused ? "\n" : "");
		if (a->kill) {
			fputs(", \"killed\": ", stdout);
			print_kill(a, &r, s, ret != 0);
		}
		printf("}\n");
	} else {
		if (st.nrefused) {
			printf("%zu established connection%s would not be admitted now (of %zu "
			       "checked):\n", st.nrefused, st.nrefused == 1 ? "" : "s", st.checked);
			ct_print_header(stdout, &po);
			for (size_t i = 0; i < st.nrefused; i++)
				ct_print_row(stdout, &st.t.e[st.refused[i]], &po);
		} else {
			printf("every one of the %zu established connections checked would be "
			       "admitted now\n", st.checked);
		}
		if (st.unsure)
			printf("%zu could not be asked: no route back to its source in the "
			       "sandbox, or lost on the way (see nfpilot(8))\n", st.unsure);
		if (a->kill && st.nrefused)
			print_kill(a, &r, s, ret != 0);
	}
	stale_free(&st);
	if (ret)
		return cli_fail(cli_exit_code(ret), "%s", err);
	return EXIT_OK;
}

/* ---- acct ---- */

static int ct_acct(const struct ct_args *a, const struct ct_sys *s)
{
	char err[256];
	int ret;

	if (!a->acct) {
		printf("accounting is %s, timestamps are %s\n", s->acct ? "on" : "off",
		       s->timestamp ? "on" : "off");
		return EXIT_OK;
	}
	ret = ct_sys_set_acct(strcmp(a->acct, "on") == 0, err, sizeof(err));
	if (ret)
		return cli_fail(cli_exit_code(ret), "%s", err);
	printf("accounting is %s%s\n", a->acct,
	       strcmp(a->acct, "on") == 0 ? ": packets and bytes are counted for connections "
					    "made from now on" : "");
	return EXIT_OK;
}

int cli_ct(int argc, char **argv)
{
	struct ct_args a = { 0 };
	struct ct_filter f = { .root = -1 };
	struct ct_sys s;
	char err[512];
	int ret = parse_args(argc, argv, &a);

	if (ret) {
		free(a.filter_text);
		return ret < 0 ? EXIT_OK : ret;
	}
	ret = parse_filter(&a, &f);
	if (ret)
		goto out;
	ret = ct_sys_read(&s, err, sizeof(err));
	if (ret) {
		ret = sys_fail(ret, err);
		goto out;
	}
	if (strcmp(a.cmd, "list") == 0)
		ret = ct_list(&a, &f, &s);
	else if (strcmp(a.cmd, "count") == 0)
		ret = ct_count(&a, &f, &s);
	else if (strcmp(a.cmd, "kill") == 0)
		ret = ct_kill_cmd(&a, &f, &s);
	else if (strcmp(a.cmd, "stale") == 0)
		ret = ct_stale(&a, &f, &s);
	else
		ret = ct_acct(&a, &s);
out:
	ct_filter_free(&f);
	free(a.filter_text);
	return ret;
}
