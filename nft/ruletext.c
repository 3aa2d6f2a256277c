#define _GNU_SOURCE /* pipe2 */
#include "nft/ruletext.h"
#include "util/grow.h"
#include "util/spawn.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the command ---- */

/* nft 1.0.6 takes table and chain names in `list` only as bare words:
 * anything else widens the scope (see ruletext_command). */
static bool bare_word(const char *name)
{
	if (!isalpha((unsigned char)*name) && *name != '_')
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_-./", *p))
			return false;
	return true;
}

void ruletext_command(uint32_t family, const char *table, const char *chain,
		      char *buf, size_t size)
{
	const char *fam = ruleset_family_name(family);

	if (table && fam && bare_word(table)) {
		if (chain && bare_word(chain))
			snprintf(buf, size, "list chain %s %s %s", fam, table, chain);
		else
			snprintf(buf, size, "list table %s %s", fam, table);
		return;
	}
	snprintf(buf, size, "list ruleset%s%s", fam ? " " : "", fam ? fam : "");
}

/* Above this many chains a table is listed whole: each `list chain` also
 * fetches the table's chain list. */
#define PLAN_MAX_CHAINS 200

int ruletext_plan_add(struct ruletext_job *job, const char *cmd)
{
	/* "list ruleset" covers everything: once is enough */
	for (size_t i = 0; i < job->ncmds; i++)
		if (strcmp(job->cmds[i], cmd) == 0)
			return 0;
	if (grow(&job->cmds, &job->cmds_cap, job->ncmds + 1, sizeof(*job->cmds), 16))
		return -ENOMEM;
	job->cmds[job->ncmds] = strdup(cmd);
	return job->cmds[job->ncmds++] ? 0 : -ENOMEM;
}

/* nft 1.0.6 (src/cache.c, evaluate_cache_list) fetches every element of
 * every set of the table for `list table` and `list chain`, terse or not
 * (24 s and 645 MB for a set of 1M); only a terse `list ruleset` leaves
 * named sets' elements out. The cache is filled once for all commands of a
 * buffer, with their flags together and narrowed to the table (or chain)
 * `list table`/`list chain` names: "list chain ip T c; list ruleset ip"
 * fetches chain c and the sets of T without elements, and prints it twice
 * (the join takes the same text twice). `list meters ip` after them adds
 * the meters of T (`list ruleset` leaves them out; alone, it would fetch
 * every element of the family's sets): with the sets and maps, the type
 * nft writes of each (typeof, object maps). An nft that narrowed nothing
 * would list the family with each: the same text, but more of it. */
int ruletext_plan_table(struct ruletext_job *job, const struct nfp_table *t,
			const char *chain)
{
	const char *fam = ruleset_family_name(t->family);
	char cmd[1024];
	size_t n;

	ruletext_command(t->family, t->name, chain, cmd, sizeof(cmd));
	n = strlen(cmd);
	if (!job->saved && t->nsets && fam)
		snprintf(cmd + n, sizeof(cmd) - n, "%s%s; list meters %s",
			 strncmp(cmd, "list ruleset", 12) ? "; list ruleset " : "",
			 strncmp(cmd, "list ruleset", 12) ? fam : "", fam);
	return ruletext_plan_add(job, cmd);
}

int ruletext_plan(struct ruletext_job *job, const struct nfp_ruleset *rs)
{
	int err = 0;

	for (size_t i = 0; i < rs->ntables && !err; i++) {
		const struct nfp_table *t = &rs->tables[i];

		if (t->nchains > PLAN_MAX_CHAINS) {
			err = ruletext_plan_table(job, t, NULL);
			continue;
		}
		for (size_t j = 0; j < t->nchains && !err; j++)
			/* a chain binding has no name nft takes: its text comes
			 * with the rule bound to it */
			if (!t->chains[j].binding)
				err = ruletext_plan_table(job, t, t->chains[j].name);
		/* a table without chains: the types nft writes of its sets */
		if (!err && t->nsets && !t->nchains)
			err = ruletext_plan_table(job, t, NULL);
	}
	return err;
}

int ruletext_plan_tables(struct ruletext_job *job, const struct nfp_ruleset *rs)
{
	char cmd[1024];
	int err = 0;

	for (size_t i = 0; i < rs->ntables && !err; i++) {
		const struct nfp_table *t = &rs->tables[i];
		bool wide = false;

		/* a name nft does not take widens to the family's `list
		 * ruleset`: then it alone lists that family, never a table twice */
		for (size_t k = 0; k < rs->ntables && !wide; k++) {
			if (rs->tables[k].family != t->family)
				continue;
			ruletext_command(t->family, rs->tables[k].name, NULL, cmd, sizeof(cmd));
			wide = strncmp(cmd, "list ruleset", 12) == 0;
		}
		if (!ruleset_family_name(t->family))
			continue; /* no family nft names: none the kernel has */
		if (wide)
			snprintf(cmd, sizeof(cmd), "list ruleset %s",
				 ruleset_family_name(t->family));
		else
			ruletext_command(t->family, t->name, NULL, cmd, sizeof(cmd));
		err = ruletext_plan_add(job, cmd);
	}
	return err;
}

void ruletext_job_free(struct ruletext_job *job)
{
	for (size_t i = 0; i < job->ncmds; i++)
		free(job->cmds[i]);
	free(job->cmds);
	free(job->text);
	job->cmds = NULL;
	job->ncmds = job->cmds_cap = 0;
	job->text = NULL;
}

/* ---- the worker ---- */

/* The family of a listing command ("list chain ip6 filter INPUT": "ip6"),
 * into fam ("" for `list ruleset`). */
static void cmd_family(const char *cmd, char *fam, size_t len)
{
	char w[3][32] = { "", "", "" };

	fam[0] = 0;
	if (sscanf(cmd, "list %31s %31s %31s", w[0], w[1], w[2]) < 2)
		return;
	/* list chain|table FAM ..., list ruleset FAM, list sets table FAM ... */
	snprintf(fam, len, "%s", strcmp(w[0], "sets") == 0 ? w[2] : w[1]);
}

/* Run cmd; if nft's grammar refuses a name in it (a keyword used as a
 * name), list the family's whole ruleset instead: the join ignores the
 * rest. */
static bool list_text(struct nft_ctx *ctx, const char *cmd)
{
	char fam[32], wide[64];

	if (nft_run_cmd_from_buffer(ctx, cmd) == 0)
		return true;
	cmd_family(cmd, fam, sizeof(fam));
	snprintf(wide, sizeof(wide), "list ruleset%s%s", fam[0] ? " " : "", fam);
	if (strcmp(cmd, wide) == 0)
		return false;
	nft_ctx_get_error_buffer(ctx); /* reading it empties it */
	return nft_run_cmd_from_buffer(ctx, wide) == 0;
}

/* libxtables takes an extension for one family per process — the one
 * current when its .so is first loaded — so a process that printed ip
 * tables with xt targets prints ip6 ones without them ("XT target DNAT not
 * found"; `nft list ruleset` has the same flaw). The families iptables-nft,
 * ip6tables-nft, arptables-nft and ebtables-nft write are each listed in a
 * process of their own; inet and netdev here. */
static const char *const own_process[] = { "ip", "ip6", "arp", "bridge" };

static bool in_group(const char *cmd, const char *group)
{
	char fam[32];

	cmd_family(cmd, fam, sizeof(fam));
	if (group)
		return strcmp(fam, group) == 0;
	for (size_t k = 0; k < sizeof(own_process) / sizeof(own_process[0]); k++)
		if (strcmp(fam, own_process[k]) == 0)
			return false;
	return true;
}

/* The commands of group (a family of own_process; NULL: every other),
 * their output appended to out. 0, or -errno with errmsg filled. */
static int list_group(const struct ruletext_job *job, unsigned flags, const char *group,
		      FILE *out, char *errmsg, size_t len)
{
	struct nft_ctx *ctx = NULL;
	int err = 0;

	for (size_t i = 0; i < job->ncmds && !err; i++) {
		if (!in_group(job->cmds[i], group))
			continue;
		if (!ctx && !(ctx = ruletext_ctx(flags, false))) {
			snprintf(errmsg, len, "cannot start libnftables");
			return -ENOMEM;
		}
		if (!list_text(ctx, job->cmds[i])) {
			const char *e = nft_ctx_get_error_buffer(ctx);

			err = -EIO;
			/* the first line says it; the rest points into our command */
			snprintf(errmsg, len, "libnftables: %.*s", e ? (int)strcspn(e, "\n") : 6,
				 e ? e : "failed");
			break;
		}
		fputs(nft_ctx_get_output_buffer(ctx), out);
	}
	if (ctx)
		nft_ctx_free(ctx);
	return err;
}

/* What a listing child sends after its text. */
struct child_end {
	int32_t err;
	char msg[256];
};

int ruletext_child_main(int argc, char **argv)
{
	struct ruletext_job job = { 0 };
	struct child_end end = { 0 };
	unsigned flags;

	if (argc < 3)
		return 2;
	flags = (unsigned)strtoul(argv[1], NULL, 10);
	job.cmds = argv + 3;
	job.ncmds = (size_t)argc - 3;
	end.err = list_group(&job, flags, argv[2], stdout, end.msg, sizeof(end.msg));
	fwrite(&end, sizeof(end), 1, stdout);
	return fflush(stdout) ? 1 : 0;
}

/* The commands of group listed by `nfpilot ruletext`, a process of its
 * own (util/spawn.h). */
static int list_in_child(const struct ruletext_job *job, unsigned flags, const char *group,
			 FILE *out, char *errmsg, size_t len)
{
	struct child_end end = { 0 };
	char *buf = NULL, chunk[16384], flagbuf[16];
	char **argv = calloc(job->ncmds + 5, sizeof(*argv));
	size_t got = 0, cap = 0, n = 0;
	int fds[2], status, ret;
	ssize_t r;
	pid_t pid;

	if (!argv || pipe2(fds, O_CLOEXEC) < 0) {
		free(argv);
		snprintf(errmsg, len, "cannot list the %s tables: %s", group, strerror(errno));
		return -ENOMEM;
	}
	snprintf(flagbuf, sizeof(flagbuf), "%u", flags);
	argv[n++] = "nfpilot";
	argv[n++] = "ruletext";
	argv[n++] = flagbuf;
	argv[n++] = (char *)group;
	for (size_t i = 0; i < job->ncmds; i++)
		if (in_group(job->cmds[i], group))
			argv[n++] = job->cmds[i];
	/* libxtables' complaints are not for the terminal: quiet */
	ret = spawn_self(argv, -1, fds[1], true, &pid);
	free(argv);
	close(fds[1]);
	if (ret) {
		close(fds[0]);
		snprintf(errmsg, len, "cannot list the %s tables: %s", group, strerror(-ret));
		return ret;
	}
	while ((r = read(fds[0], chunk, sizeof(chunk))) > 0 || (r < 0 && errno == EINTR)) {
		if (r < 0)
			continue;
		if (grow(&buf, &cap, got + (size_t)r, 1, sizeof(chunk)))
			break;
		memcpy(buf + got, chunk, (size_t)r);
		got += (size_t)r;
	}
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (got < sizeof(end)) {
		free(buf);
		snprintf(errmsg, len, "listing the %s tables failed", group);
		return -EIO;
	}
	memcpy(&end, buf + got - sizeof(end), sizeof(end));
	fwrite(buf, 1, got - sizeof(end), out);
	free(buf);
	if (end.err) {
		end.msg[sizeof(end.msg) - 1] = 0;
		snprintf(errmsg, len, "%s", end.msg);
	}
	return end.err;
}

static void ruletext_list(struct ruletext_job *job)
{
	unsigned flags = job->saved ? NFT_CTX_OUTPUT_STATELESS
				    : NFT_CTX_OUTPUT_STATELESS | NFT_CTX_OUTPUT_HANDLE |
					      NFT_CTX_OUTPUT_TERSE;
	struct nl nl;
	size_t outlen;
	FILE *out;

	job->err = nl_open(&nl, job->errmsg, sizeof(job->errmsg));
	if (job->err)
		return;
	if (!job->numeric)
		flags |= NFT_CTX_OUTPUT_SERVICE; /* ssh rather than 22 */
	out = open_memstream(&job->text, &outlen);
	if (!out) {
		job->err = -ENOMEM;
		goto done;
	}
	job->err = nl_genid(&nl, &job->genid_before);
	if (!job->err)
		job->err = list_group(job, flags, NULL, out, job->errmsg, sizeof(job->errmsg));
	for (size_t k = 0; k < sizeof(own_process) / sizeof(own_process[0]) && !job->err; k++) {
		bool any = false;

		for (size_t i = 0; i < job->ncmds && !any; i++)
			any = in_group(job->cmds[i], own_process[k]);
		if (any)
			job->err = list_in_child(job, flags, own_process[k], out, job->errmsg,
						 sizeof(job->errmsg));
	}
	if (!job->err)
		job->err = nl_genid(&nl, &job->genid_after);
	if (fclose(out) != 0 && !job->err)
		job->err = -ENOMEM;
done:
	if (job->err && !job->errmsg[0])
		snprintf(job->errmsg, sizeof(job->errmsg), "%s", nl_strerror(job->err));
	if (job->err) {
		free(job->text);
		job->text = NULL;
	}
	nl_close(&nl);
}

static void *ruletext_run(void *arg)
{
	struct ruletext_job *job = arg;

	ruletext_list(job);
	if (job->notify) {
		char byte = 1;

		while (write(job->notify_fd, &byte, 1) < 0 && errno == EINTR)
			;
	}
	return NULL;
}

int ruletext_start(struct ruletext_job *job)
{
	job->text = NULL;
	job->err = 0;
	job->errmsg[0] = 0;
	return -pthread_create(&job->thread, NULL, ruletext_run, job);
}

int ruletext_wait(struct ruletext_job *job)
{
	pthread_join(job->thread, NULL);
	return job->err;
}

/* ---- the join ---- */

/* Split off a trailing " # handle N": returns N (0 if none) and cuts the
 * line there. The last occurrence counts: a comment may contain the text. */
static uint64_t cut_handle(char *line)
{
	char *p = NULL, *q = line;
	char *end;
	uint64_t h;

	while ((q = strstr(q, " # handle ")) != NULL)
		p = q++;
	if (!p)
		return 0;
	h = strtoull(p + 10, &end, 10);
	if (end == p + 10 || *end)
		return 0;
	while (p > line && p[-1] == ' ')
		p--;
	*p = 0;
	return h;
}

/* Brace balance of a line outside double-quoted strings; *open_quote tells
 * whether a string is still open at the end. */
static int brace_delta(const char *s, bool *open_quote)
{
	bool q = false;
	int d = 0;

	for (; *s; s++) {
		if (*s == '\\' && q && s[1])
			s++;
		else if (*s == '"')
			q = !q;
		else if (!q && *s == '{')
			d++;
		else if (!q && *s == '}')
			d--;
	}
	*open_quote = q;
	return d;
}

static bool starts(const char *s, const char *word)
{
	size_t n = strlen(word);

	return strncmp(s, word, n) == 0 && s[n] == ' ';
}

struct join {
	struct nfp_ruleset *rs;
	struct nfp_table *table;
	struct nfp_chain *chain;
	struct nfp_set *set;
	size_t next_rule;    /* where the next rule of chain should be */
	int depth;
	long joined;
	/* a rule nft prints on several lines (`jump { ... }`, a chain
	 * binding): its lines, until the one with its handle */
	char **block;
	size_t nblock, block_cap;
};

/* ---- rules on several lines ----
 * nft prints a chain binding as a block:
 *	meta l4proto ipv6-icmp jump {
 *		ip saddr 10.0.0.0/8 accept
 *		counter drop
 *	} # handle 8
 * The rule's text is the block on one line, as nft also reads it back:
 * "meta l4proto ipv6-icmp jump { ip saddr 10.0.0.0/8 accept; counter drop; }";
 * each statement inside is the text of a rule of the bound chain, in
 * order (blocks nest). */

/* lines[a..b) on one line */
static char *flatten(char *const *lines, size_t a, size_t b)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	if (!fp)
		return NULL;
	for (size_t i = a; i < b; i++) {
		size_t pl = i > a ? strlen(lines[i - 1]) : 0;

		/* nft ends every statement in a block with ";" (or a newline) */
		if (i > a)
			fputs(pl && lines[i - 1][pl - 1] == '{' ? " " : "; ", fp);
		fputs(lines[i], fp);
	}
	fclose(fp);
	return out;
}

static struct nfp_chain *binding_chain(struct nfp_table *t, const char *name)
{
	struct nfp_chain *c = name ? ruleset_find_chain(t, name) : NULL;

	return c && c->binding ? c : NULL;
}

static int brace_delta(const char *s, bool *open_quote);

/* The statements of lines[a..b) are the rules of chain c, in order. */
static int join_bound(struct join *j, struct nfp_chain *c, char *const *lines, size_t a,
		      size_t b)
{
	size_t k = 0;

	for (size_t i = a; i < b; k++) {
		size_t start = i;
		bool q;
		int bal = brace_delta(lines[i++], &q);
		struct nfp_rule *r = k < c->nrules ? &c->rules[k] : NULL;
		struct nfp_chain *inner;

		while (bal > 0 && i < b)
			bal += brace_delta(lines[i++], &q);
		if (!r)
			continue;
		free(r->text);
		r->text = flatten(lines, start, i);
		if (!r->text)
			return -ENOMEM;
		j->joined++;
		inner = i - start > 2 ? binding_chain(j->table, r->target) : NULL;
		if (inner && join_bound(j, inner, lines, start + 1, i - 1))
			return -ENOMEM;
	}
	return 0;
}

static void block_free(struct join *j)
{
	for (size_t i = 0; i < j->nblock; i++)
		free(j->block[i]);
	j->nblock = 0;
}

static int block_add(struct join *j, const char *line)
{
	if (grow(&j->block, &j->block_cap, j->nblock + 1, sizeof(*j->block), 8))
		return -ENOMEM;
	j->block[j->nblock] = strdup(line);
	return j->block[j->nblock++] ? 0 : -ENOMEM;
}

/* "table inet web" (+ handle, except in `list chain` output): the table */
static struct nfp_table *table_of(struct nfp_ruleset *rs, const char *line,
				  uint64_t handle)
{
	char fam[16];
	const char *name, *end;
	uint32_t family;
	int off = 0;

	if (sscanf(line, "table %15s %n", fam, &off) != 1 || !off ||
	    ruleset_family_parse(fam, &family))
		return NULL;
	name = line + off;
	end = strrchr(name, '{');
	while (end && end > name && end[-1] == ' ')
		end--;
	for (size_t i = 0; i < rs->ntables; i++) {
		struct nfp_table *t = &rs->tables[i];

		if (t->family != family)
			continue;
		if (handle ? t->handle == handle
			   : end && strlen(t->name) == (size_t)(end - name) &&
				     strncmp(t->name, name, end - name) == 0)
			return t;
	}
	return NULL;
}

static struct nfp_rule *rule_of(struct join *j, uint64_t handle)
{
	struct nfp_chain *c = j->chain;
	struct nfp_rule *r;

	if (j->next_rule < c->nrules && c->rules[j->next_rule].handle == handle)
		r = &c->rules[j->next_rule];
	else
		r = ruleset_find_rule(c, handle);
	if (r)
		j->next_rule = (size_t)(r - c->rules) + 1;
	return r;
}

static int join_rule(struct join *j, const char *body, uint64_t handle)
{
	struct nfp_rule *r = rule_of(j, handle);

	if (!r)
		return 0;
	free(r->text);
	r->text = strdup(body);
	if (!r->text)
		return -ENOMEM;
	j->joined++;
	return 0;
}

/* The block closed by the line with handle: one rule, and those of the
 * chain bound to it. */
static int join_block(struct join *j, uint64_t handle)
{
	struct nfp_rule *r = rule_of(j, handle);
	struct nfp_chain *bound;
	int err = 0;

	if (r) {
		free(r->text);
		r->text = flatten(j->block, 0, j->nblock);
		err = r->text ? 0 : -ENOMEM;
		j->joined += !err;
		bound = binding_chain(j->table, r->target);
		if (!err && bound && j->nblock > 2)
			err = join_bound(j, bound, j->block, 1, j->nblock - 1);
	}
	block_free(j);
	return err;
}

static int join_line(struct join *j, char *line)
{
	bool open_quote;
	uint64_t handle;
	char *body = line;
	int depth = j->depth;

	while (*body == ' ' || *body == '\t')
		body++;
	handle = cut_handle(body);
	j->depth += brace_delta(body, &open_quote);

	if (j->nblock) {
		/* inside a rule printed on several lines */
		if (block_add(j, body))
			return -ENOMEM;
		if (j->depth <= 2)
			return handle && j->chain ? join_block(j, handle) : (block_free(j), 0);
		return 0;
	}
	if (depth == 2 && j->chain && !handle && j->depth > 2)
		return block_add(j, body);

	if (depth == 0 && starts(body, "table")) {
		j->table = table_of(j->rs, body, handle);
	} else if (depth == 1 && j->table && handle) {
		j->chain = NULL;
		j->set = NULL;
		if (starts(body, "chain")) {
			for (size_t i = 0; i < j->table->nchains; i++)
				if (j->table->chains[i].handle == handle)
					j->chain = &j->table->chains[i];
			j->next_rule = 0;
		} else if (starts(body, "set") || starts(body, "map") || starts(body, "meter")) {
			for (size_t i = 0; i < j->table->nsets; i++)
				if (j->table->sets[i].handle == handle)
					j->set = &j->table->sets[i];
		}
	} else if (depth == 2 && j->chain && handle) {
		return join_rule(j, body, handle);
	} else if (depth == 2 && j->set && (starts(body, "type") || starts(body, "typeof"))) {
		char *type = strdup(body);  /* nft's words win (typeof) */

		if (!type)
			return -ENOMEM;
		free(j->set->key_type);
		j->set->key_type = type;
	}
	if (j->depth <= 1) {
		j->chain = NULL;
		j->set = NULL;
	}
	if (j->depth <= 0) {
		j->table = NULL;
		j->depth = 0;
	}
	return 0;
}

long ruletext_join(struct nfp_ruleset *rs, const char *listing)
{
	struct join j = { .rs = rs };
	char *copy = strdup(listing);
	char *line, *next;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	/* A quoted string (a comment) may hold a newline: such a line goes on
	 * until its quote closes, so it is re-joined before parsing. */
	for (line = copy; line && *line && !err; line = next) {
		char *nl = strchr(line, '\n');
		bool open_quote;

		while (nl) {
			*nl = 0;
			brace_delta(line, &open_quote);
			if (!open_quote)
				break;
			*nl = '\n';
			nl = strchr(nl + 1, '\n');
		}
		next = nl ? nl + 1 : NULL;
		err = join_line(&j, line);
	}
	block_free(&j);
	free(j.block);
	free(copy);
	return err ? err : j.joined;
}

struct nft_ctx *ruletext_ctx(unsigned int output_flags, bool dry_run)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!ctx)
		return NULL;
	nft_ctx_output_set_flags(ctx, output_flags);
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	nft_ctx_set_dry_run(ctx, dry_run);
	return ctx;
}
