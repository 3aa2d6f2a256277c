#define _GNU_SOURCE /* asprintf */
#include "nft/xtables.h"

#include "util/spawn.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

bool xtables_family(uint32_t family)
{
	return family == NFPROTO_IPV4 || family == NFPROTO_IPV6;
}

bool xtables_rule_text(const char *text)
{
	text += strspn(text, " \t");
	if (text[0] == '!')
		text += 1 + strspn(text + 1, " \t");
	return text[0] == '-';
}

/* program for family: "iptables-nft-restore", ... */
static const char *program(uint32_t family, const char *what, char *buf, size_t len)
{
	snprintf(buf, len, "%s-nft-%s", family == NFPROTO_IPV6 ? "ip6tables" : "iptables", what);
	return buf;
}

/* iptables' complaint, its first line without "iptables-nft-restore
 * v1.8.9 (nf_tables): " */
static void complaint(const char *prog, const char *msg, char *err, size_t errlen)
{
	const char *p = strstr(msg, "): ");
	size_t n;

	p = p && p < msg + strcspn(msg, "\n") ? p + 3 : msg;
	n = strcspn(p, "\n");
	if (n)
		snprintf(err, errlen, "iptables: %.*s", (int)n, p);
	else
		snprintf(err, errlen, "%s refused it without a word", prog);
}

/* Run family's program what with one more argument, input on stdin:
 * 0 with *out, or -EINVAL with iptables' complaint, or -errno. */
static int run(uint32_t family, const char *what, char *arg1, char *arg2, const char *input,
	       char **out, char *err, size_t errlen)
{
	char prog[32], *errout = NULL;
	char *argv[] = { (char *)program(family, what, prog, sizeof(prog)), arg1, arg2, NULL };
	int status = 0, ret;

	if (!xtables_family(family)) {
		snprintf(err, errlen, "iptables syntax is for ip and ip6 tables");
		return -EINVAL;
	}
	ret = spawn_run(argv, input, input ? strlen(input) : 0, out, &errout, &status);
	if (ret == -ENOENT)
		snprintf(err, errlen, "%s is not installed (Debian: apt-get install iptables)",
			 prog);
	else if (ret)
		snprintf(err, errlen, "cannot run %s: %s", prog, strerror(-ret));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		complaint(prog, errout, err, errlen);
		free(*out);
		*out = NULL;
		ret = -EINVAL;
	}
	free(errout);
	return ret;
}

int xtables_add_rule(uint32_t family, const char *table, const char *chain, const char *text,
		     char *err, size_t errlen)
{
	size_t clen = strlen(chain);
	char *input = NULL, *out = NULL;
	int ret;

	text += strspn(text, " \t");
	/* as iptables -S prints it: "-A CHAIN" first is this chain */
	if (strncmp(text, "-A ", 3) == 0 && strncmp(text + 3, chain, clen) == 0 &&
	    (text[3 + clen] == ' ' || text[3 + clen] == 0))
		text += 3 + clen;
	if (strpbrk(text, "\n\r")) {
		snprintf(err, errlen, "an iptables rule is one line");
		return -EINVAL;
	}
	if (asprintf(&input, "*%s\n-A %s %s\nCOMMIT\n", table, chain, text) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = run(family, "restore", "--noflush", NULL, input, &out, err, errlen);
	free(input);
	free(out);
	return ret;
}

int xtables_save(uint32_t family, const char *table, char **text, char *err, size_t errlen)
{
	return run(family, "save", "-t", (char *)table, NULL, text, err, errlen);
}

/* The next "-A chain " line of save from *p on: its start, or NULL;
 * *p past it. */
static const char *next_line(const char **p, const char *chain, size_t *len)
{
	size_t clen = strlen(chain);

	while (**p) {
		const char *line = *p;

		*len = strcspn(line, "\n");
		*p = line + *len + (line[*len] == '\n');
		if (strncmp(line, "-A ", 3) == 0 && strncmp(line + 3, chain, clen) == 0 &&
		    line[3 + clen] == ' ')
			return line;
	}
	return NULL;
}

int xtables_save_line(const char *save, const char *chain, size_t k, char **line)
{
	const char *p = save, *l;
	size_t len = 0;

	for (size_t i = 0; (l = next_line(&p, chain, &len)); i++)
		if (i == k)
			return (*line = strndup(l, len)) ? 0 : -ENOMEM;
	return -ENOENT;
}

int xtables_join(struct nfp_table *t, const char *save)
{
	int ret = 0;

	for (size_t i = 0; i < t->nchains; i++) {
		struct nfp_chain *c = &t->chains[i];
		const char *p = save, *l;
		size_t n = 0, len;

		while (next_line(&p, c->name, &len))
			n++;
		for (size_t k = 0; k < c->nrules; k++) {
			free(c->rules[k].xt_text);
			c->rules[k].xt_text = NULL;
		}
		if (n != c->nrules) {
			ret = -ESTALE;
			continue;
		}
		p = save;
		for (size_t k = 0; k < n && (l = next_line(&p, c->name, &len)); k++)
			if (!(c->rules[k].xt_text = strndup(l, len)))
				return -ENOMEM;
	}
	return ret;
}
