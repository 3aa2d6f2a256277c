/* nfpilot set list|test|add|del|flush: one set's or map's elements.
 * Listing reads them with libnftnl (nft/setread.h) and writes each as nft
 * writes it, one a line (a file `set add --file` takes back). Element
 * text the admin gives is compiled by libnftables (apply/compile.h);
 * changes are element edits of a changeset (apply/changeset.h), applied
 * as one batch on probation, as the live view applies its edits. */
#include "cli/cli.h"

#include "check/lockout.h"

#include "model/json.h"

#include "apply/apply.h"
#include "apply/compile.h"
#include "model/fmt.h"
#include "model/ruleset.h"
#include "model/setelems.h"
#include "nft/setread.h"
#include "probation/probation.h"

#include <errno.h>
#include <poll.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char set_usage[] =
	"usage: nfpilot [-N NETNS] set list [FAMILY] TABLE SET [--json]\n"
	"       nfpilot [-N NETNS] set test [FAMILY] TABLE SET ELEMENT\n"
	"       nfpilot [-N NETNS] set add|del [FAMILY] TABLE SET ELEMENT...|--file F\n"
	"                          [--timeout S] [--detach] [--confirm-new-session]\n"
	"       nfpilot [-N NETNS] set flush [FAMILY] TABLE SET [probation options]\n"
	"  list    every element as nft writes it, one a line (or --json)\n"
	"  test    is ELEMENT in the set? exit 0 and the element that holds it\n"
	"          (the interval or prefix holding an address), exit 1 if not\n"
	"  add, del, flush: one transaction on probation, as nfpilot apply: unless\n"
	"          confirmed within the timeout the set is put back as it was; the\n"
	"          lockout pre-check first, as for apply (--ignore-lockout)\n"
	"  ELEMENT as nft takes it: 10.0.0.1, 10.0.0.0/8, 10.0.0.1-10.0.0.9,\n"
	"          10.0.0.1 . 22, 1.2.3.4 timeout 1h comment \"x\", 1.2.3.4 : accept\n"
	"  --file F   one element a line (# comments and blank lines skipped)\n"
	"  FAMILY: ip ip6 inet arp bridge netdev; without it, the one table of\n"
	"  that name that has the set\n";

struct set_args {
	const char *verb;
	uint32_t family;
	bool have_family;
	const char *table, *set;
	char **elems;
	size_t nelems, skipped;      /* elems: after the skipped names */
	const char *file;
	bool json;
	struct probation_opts popts;
};

static int parse_args(int argc, char **argv, struct set_args *a)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(set_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : -1;
	}
	a->verb = argv[1];
	if (strcmp(a->verb, "list") && strcmp(a->verb, "test") && strcmp(a->verb, "add") &&
	    strcmp(a->verb, "del") && strcmp(a->verb, "flush")) {
		fputs(set_usage, stderr);
		return cli_fail(EXIT_USAGE, "set: unknown verb '%s'", a->verb);
	}
	a->elems = calloc((size_t)argc, sizeof(*a->elems));
	if (!a->elems)
		return cli_fail(EXIT_FAIL, "out of memory");
	cli_probation_init(&a->popts, "nfpilot set");
	for (int i = 2; i < argc; i++) {
		bool changes = strcmp(a->verb, "list") && strcmp(a->verb, "test");
		int used = changes ? cli_probation_option(argc, argv, i, &a->popts) : 0;

		if (used < 0)
			return EXIT_USAGE;
		if (used) {
			i += used - 1;
		} else if (strcmp(argv[i], "--json") == 0 && strcmp(a->verb, "list") == 0) {
			a->json = true;
		} else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc &&
			   (strcmp(a->verb, "add") == 0 || strcmp(a->verb, "del") == 0)) {
			a->file = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(set_usage, stdout);
			return -1;
		} else if (argv[i][0] == '-' && argv[i][1] && argv[i][1] == '-') {
			fputs(set_usage, stderr);
			return cli_fail(EXIT_USAGE, "set %s: unknown option '%s'", a->verb, argv[i]);
		} else {
			a->elems[a->nelems++] = argv[i]; /* sorted out below */
		}
	}
	/* FAMILY TABLE SET or TABLE SET, then the elements */
	{
		size_t skip = 2;

		if (a->nelems >= 3 && ruleset_family_parse(a->elems[0], &a->family) == 0) {
			a->have_family = true;
			skip = 3;
		}
		if (a->nelems < skip) {
			fputs(set_usage, stderr);
			return cli_fail(EXIT_USAGE, "set %s needs [FAMILY] TABLE SET", a->verb);
		}
		a->table = a->elems[skip - 2];
		a->set = a->elems[skip - 1];
		a->elems += skip;
		a->nelems -= skip;
		a->skipped = skip;
	}
	if (strcmp(a->verb, "test") == 0 && !a->nelems)
		return cli_fail(EXIT_USAGE, "set test needs an ELEMENT");
	if ((strcmp(a->verb, "list") == 0 || strcmp(a->verb, "flush") == 0) && a->nelems)
		return cli_fail(EXIT_USAGE, "set %s takes no ELEMENT", a->verb);
	if ((strcmp(a->verb, "add") == 0 || strcmp(a->verb, "del") == 0) &&
	    !a->nelems == !a->file)
		return cli_fail(EXIT_USAGE, "set %s needs ELEMENT... or --file F (one of them)",
				a->verb);
	return 0;
}

/* The family of the one table TABLE holding SET, when none was given. */
static int find_family(struct set_args *a, struct setelems_set *set, char *err, size_t errlen)
{
	static const uint32_t fams[] = { NFPROTO_INET, NFPROTO_IPV4, NFPROTO_IPV6,
					 NFPROTO_ARP, NFPROTO_BRIDGE, NFPROTO_NETDEV };
	struct setelems_set s;
	struct nl nl;
	int found = 0, ret = nl_open(&nl, err, errlen);

	for (size_t i = 0; !ret && i < sizeof(fams) / sizeof(fams[0]); i++) {
		int r;

		if (a->have_family && fams[i] != a->family)
			continue;
		r = setread_set(&nl, fams[i], a->table, a->set, &s);
		if (r == 0) {
			if (found++ == 0)
				*set = s;
		} else if (r != -ENOENT) {
			ret = r;
			snprintf(err, errlen, "%s", nl_strerror(r));
		}
	}
	nl_close(&nl);
	if (ret)
		return ret;
	if (!found) {
		snprintf(err, errlen, "no set '%s' in table '%s'%s%s", a->set, a->table,
			 a->have_family ? " of family " : "",
			 a->have_family ? ruleset_family_name(a->family) : "");
		return -ENOENT;
	}
	if (found > 1) {
		snprintf(err, errlen, "tables '%s' of several families have a set '%s': "
			 "name the family (e.g. set %s inet %s %s)", a->table, a->set, a->verb,
			 a->table, a->set);
		return -EINVAL;
	}
	a->family = set->family;
	a->have_family = true;
	return 0;
}

static void put_json_elem(FILE *fp, const struct setelems *s, size_t i, char *buf, size_t len)
{
	const struct setelem *r = &s->rows[i];

	fputs("{\"key\":", fp);
	fmt_put_json(fp, setelems_format_key(s, i, buf, len));
	if (s->set.flags & (NFT_SET_MAP | NFT_SET_OBJECT)) {
		fputs(",\"data\":", fp);
		fmt_put_json(fp, setelems_format_data(s, i, buf, len));
	}
	if (r->flags & SE_COUNTER)
		fprintf(fp, ",\"packets\":%llu,\"bytes\":%llu",
			(unsigned long long)s->counters[2 * i],
			(unsigned long long)s->counters[2 * i + 1]);
	if (s->times && s->times[2 * i])
		fprintf(fp, ",\"timeout_ms\":%llu", (unsigned long long)s->times[2 * i]);
	if (s->times && s->times[2 * i + 1])
		fprintf(fp, ",\"expires_ms\":%llu", (unsigned long long)s->times[2 * i + 1]);
	if (r->comment) {
		fputs(",\"comment\":", fp);
		fmt_put_json(fp, s->text + r->comment - 1);
	}
	fputs(",\"text\":", fp);
	fmt_put_json(fp, setelems_format(s, i, buf, len));
	fputc('}', fp);
}

/* The rows of s, as text lines or JSON objects (*out: how many so far). */
static void put_rows(const struct set_args *a, const struct setelems *s, size_t *out)
{
	char buf[1024];

	for (size_t i = 0; i < s->n; i++, (*out)++) {
		if (a->json) {
			fputs(*out ? ",\n" : "\n", stdout);
			put_json_elem(stdout, s, i, buf, sizeof(buf));
		} else {
			fmt_put_safe(stdout, setelems_format(s, i, buf, sizeof(buf)));
			fputc('\n', stdout);
		}
	}
}

/* The elements as they come, a receive buffer at a time: the first are
 * out before the last are read, and each slice's rows go once written
 * (a million elements take no more memory than one). The ruleset changing meanwhile (rules,
 * not packets: a meter's updates do not count) is an error: what is out
 * cannot be taken back. */
static int do_list(const struct set_args *a, struct setelems *s)
{
	struct setread r = { 0 };
	size_t done = 0;
	int ret = setread_start(&r, s);

	if (a->json) {
		printf("{\"version\":1,\"family\":\"%s\",\"table\":",
		       ruleset_family_name(s->set.family) ?: "?");
		fmt_put_json(stdout, s->set.table);
		fputs(",\"set\":", stdout);
		fmt_put_json(stdout, s->set.name);
		printf(",\"map\":%s,\"flags\":%u,\"elements\":[",
		       s->set.flags & (NFT_SET_MAP | NFT_SET_OBJECT) ? "true" : "false",
		       s->set.flags);
	}
	while (ret == 0 && r.active) {
		struct pollfd pfd = { setread_fd(&r), POLLIN, 0 };

		if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		ret = setread_step(&r);
		if (ret >= 0) {
			put_rows(a, s, &done);
			s->n = s->keys_len = s->text_len = 0;
			/* out now: a reader sees the first slice at once */
			ret = fflush(stdout) == 0 ? 0 : -errno;
		}
	}
	setread_cancel(&r);
	if (a->json && !ret)
		fputs("\n]}\n", stdout);
	if (ret == -EPIPE)
		return EXIT_FAIL; /* a reader that had enough (| head) needs no message */
	if (ret)
		return cli_fail(cli_exit_code(ret), "reading the elements: %s",
				ret == -EINTR ? "the ruleset changed meanwhile; try again"
					      : nl_strerror(ret));
	if (fflush(stdout) == 0)
		return EXIT_OK;
	/* a reader that had enough (| head) needs no message */
	return errno == EPIPE ? EXIT_FAIL : cli_fail(EXIT_FAIL, "writing: %s", strerror(errno));
}

/* The words joined by sep: elements as nft takes them between braces
 * ("a, b, c"), or the words of one element. */
static char *join(char *const *elems, size_t n, const char *sep)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	if (!fp)
		return NULL;
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "%s%s", i ? sep : "", elems[i]);
	fclose(fp);
	return text;
}

static int do_test(const struct set_args *a, struct setelems *s)
{
	uint8_t *key = NULL;
	char err[1024] = "", buf[1024], *text;
	struct compile_set k = { 0 };
	struct nl nl;
	long i;
	int ret = nl_open(&nl, err, sizeof(err));

	/* "10.0.0.1 . 22" may come as one word or three */
	text = join(a->elems, a->nelems, " ");
	if (!ret && !text)
		ret = -ENOMEM;
	if (!ret)
		ret = apply_set_start(&nl, &s->set, &k, err, sizeof(err));
	if (!ret)
		ret = apply_element_key(&k, &s->set, text, &key, err, sizeof(err));
	compile_set_stop(&k);
	free(text);
	nl_close(&nl);
	if (ret)
		return cli_fail(ret == -EINVAL ? EXIT_USAGE : cli_exit_code(ret), "%s", err);
	i = setelems_find(s, key);
	free(key);
	if (i == -ENOMEM)
		return cli_fail(EXIT_FAIL, "out of memory");
	if (i < 0) {
		printf("not in %s %s %s\n", ruleset_family_name(s->set.family) ?: "?",
		       s->set.table, s->set.name);
		cli_json_outcome("not in");
		return EXIT_FAIL;
	}
	fmt_put_safe(stdout, setelems_format(s, (size_t)i, buf, sizeof(buf)));
	fputc('\n', stdout);
	cli_json_outcome("in");
	if (cli_json())
		json_str(cli_json(), "element", setelems_format(s, (size_t)i, buf, sizeof(buf)));
	return EXIT_OK;
}

static int do_change(struct set_args *a)
{
	struct edit e = { .family = a->family, .table = (char *)a->table, .set = (char *)a->set };
	struct changeset cs = { 0 };
	struct probation prob;
	char err[4096] = "", what[600];
	int ret, failed = -1, locked;
	struct nl nl;

	if (strcmp(a->verb, "flush") == 0) {
		e.kind = EDIT_SET_FLUSH;
	} else {
		e.kind = strcmp(a->verb, "add") == 0 ? EDIT_ELEM_ADD : EDIT_ELEM_DELETE;
		if (a->file) {
			ret = apply_elements_file(a->file, &e.text, err, sizeof(err));
			if (ret)
				return cli_fail(ret == -ENOENT ? EXIT_NOTFOUND : ret == -EINVAL
						? EXIT_USAGE : EXIT_FAIL, "%s", err);
		} else {
			e.text = join(a->elems, a->nelems, ", ");
		}
		if (!e.text)
			return cli_fail(EXIT_FAIL, "out of memory");
	}
	snprintf(what, sizeof(what), "nfpilot set %s %s %.200s %.200s", a->verb,
		 ruleset_family_name(a->family) ?: "?", a->table, a->set);
	a->popts.what = what;
	ret = nl_open(&nl, err, sizeof(err));
	if (!ret)
		ret = nl_genid(&nl, &cs.genid);
	if (!ret)
		ret = changeset_add(&cs, &e);
	if (!ret && (locked = cli_lockout(&(struct check_change){ .cs = &cs }, &a->popts))) {
		nl_close(&nl);
		free(e.text);
		changeset_free(&cs);
		return locked;
	}
	if (!ret)
		ret = apply_changeset_on_probation(&nl, &cs, &a->popts, &prob, &failed, err,
						   sizeof(err));
	nl_close(&nl);
	free(e.text);
	if (!ret) {
		char *text = changeset_text(&cs);

		cli_json_change(text);
		free(text);
	}
	changeset_free(&cs);
	if (ret) {
		cli_fail(0, "not changed: %s%s", err[0] ? err : nl_strerror(ret),
			 cli_probation_hint(ret));
		return ret == -EINVAL ? EXIT_USAGE : cli_exit_code(ret);
	}
	printf("set %s %s %s %s: applied as one transaction\n", a->verb,
	       ruleset_family_name(a->family) ?: "?", a->table, a->set);
	return cli_probation_finish(&prob, &a->popts);
}

int cli_set(int argc, char **argv)
{
	struct set_args a = { 0 };
	struct setelems s = { 0 };
	char err[1024] = "";
	int ret = parse_args(argc, argv, &a);

	if (ret) {
		free(a.elems ? a.elems - a.skipped : NULL);
		return ret < 0 ? EXIT_OK : ret;
	}
	ret = find_family(&a, &s.set, err, sizeof(err));
	if (ret) {
		free(a.elems - a.skipped);
		return cli_fail(ret == -ENOENT ? EXIT_NOTFOUND : ret == -EINVAL ? EXIT_USAGE
								: cli_exit_code(ret),
				"%s", err);
	}
	if (strcmp(a.verb, "list") == 0) {
		ret = do_list(&a, &s);
	} else if (strcmp(a.verb, "test") == 0) {
		ret = setread_all(a.family, a.table, a.set, &s, err, sizeof(err));
		if (ret)
			ret = cli_fail(ret == -ENOENT ? EXIT_NOTFOUND : cli_exit_code(ret), "%s", err);
		else
			ret = do_test(&a, &s);
	} else {
		ret = do_change(&a);
	}
	setelems_free(&s);
	free(a.elems - a.skipped);
	return ret;
}
