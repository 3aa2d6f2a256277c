#include "apply/translate.h"

#include "util/spawn.h"

#include <ctype.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define MAX_WORDS 128

/* the rule goes in the chain being edited: the translator only needs a name */
#define PLACEHOLDER "NFPILOT"

static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Split text as a shell splits words: blanks, '...', "..." (\" and \\
 * inside), \x outside. Into buf (strlen(text) + 1 bytes); words[] point
 * into it. The count, or -1 with err filled. */
static int split(const char *text, char *buf, char **words, char *err, size_t errlen)
{
	int n = 0;

	for (const char *s = text; *(s = skip_blanks(s));) {
		char quote = 0;

		if (n == MAX_WORDS - 1) {
			snprintf(err, errlen, "more than %d words", MAX_WORDS - 2);
			return -1;
		}
		words[n++] = buf;
		for (; *s && (quote || (*s != ' ' && *s != '\t')); s++) {
			if (quote == '\'' && *s == '\'') {
				quote = 0;
			} else if (quote == '\'') {
				*buf++ = *s;
			} else if (*s == '\\' && s[1] && (!quote || s[1] == '"' || s[1] == '\\')) {
				*buf++ = *++s;
			} else if (*s == quote) {
				quote = 0;
			} else if (!quote && (*s == '\'' || *s == '"')) {
				quote = *s;
			} else {
				*buf++ = *s;
			}
		}
		if (quote) {
			snprintf(err, errlen, "a %c quote is not closed", quote);
			return -1;
		}
		*buf++ = 0;
	}
	words[n] = NULL;
	return n;
}

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* The first line of the translator's error, without its "iptables-translate
 * v1.8.9 (nf_tables): " */
static void first_line(const char *msg, char *out, size_t outlen)
{
	const char *colon = strstr(msg, "): ");
	const char *nl = strchr(msg, '\n');

	if (colon && (!nl || colon < nl))
		msg = colon + 3;
	snprintf(out, outlen, "%.*s", (int)strcspn(msg, "\n"), msg);
}

/* What the translator printed: one `nft 'add rule FAMILY TABLE CHAIN RULE'`
 * line, or `nft # ...` for what it cannot translate. */
static int parse_output(const char *prog, const char *out, const char *typed, char **nft,
			char *err, size_t errlen)
{
	const char *rule = NULL, *end = NULL;
	int rules = 0;

	for (const char *l = out; *l; l += strcspn(l, "\n"), l += *l == '\n') {
		size_t len = strcspn(l, "\n");

		if (strncmp(l, "nft #", 5) == 0) {
			snprintf(err, errlen, "%s cannot translate '%s' into nft: it answers with a "
				 "comment, its word for a match or target without an nft form", prog,
				 typed);
			return -EOPNOTSUPP;
		}
		if (strncmp(l, "nft 'add rule ", 14) != 0 || len < 16 || l[len - 1] != '\'')
			continue;
		rules++;
		rule = l + 14;
		/* past FAMILY TABLE CHAIN */
		for (int w = 0; w < 3 && rule; w++)
			rule = (rule = strchr(rule, ' ')) ? rule + 1 : NULL;
		end = l + len - 1;
	}
	if (rules > 1) {
		snprintf(err, errlen, "%s makes %d nft rules of '%s': type them one at a time",
			 prog, rules, typed);
		return -EOPNOTSUPP;
	}
	if (!rules || !rule || rule >= end) {
		snprintf(err, errlen, "%s gave no nft rule for '%s'", prog, typed);
		return -EOPNOTSUPP;
	}
	if (!(*nft = strndup(rule, (size_t)(end - rule)))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* One translator on the words; 0 or -errno with err filled. */
static int run(const char *prog, const char *xt_table, char **rule, int nrule,
	       const char *typed, char **nft, char *err, size_t errlen)
{
	char *argv[MAX_WORDS + 6], *out, *errout, msg[512];
	int n = 0, status, ret;

	argv[n++] = (char *)prog;
	argv[n++] = "-t";
	argv[n++] = (char *)xt_table;
	argv[n++] = "-A";
	argv[n++] = PLACEHOLDER;
	for (int i = 0; i < nrule; i++)
		argv[n++] = rule[i];
	argv[n] = NULL;
	ret = spawn_run(argv, NULL, 0, &out, &errout, &status);
	if (ret == -ENOENT) {
		snprintf(err, errlen, "%s is not installed (Debian: apt install iptables): "
			 "iptables words cannot be translated", prog);
		return ret;
	}
	if (ret) {
		snprintf(err, errlen, "running %s: %s", prog, strerror(-ret));
		return ret;
	}
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (status != 0) {
		first_line(errout, msg, sizeof(msg));
		if (msg[0])
			snprintf(err, errlen, "%s: %s", prog, msg);
		else
			snprintf(err, errlen, "%s failed (exit %d)", prog, status);
		ret = strstr(msg, "not implemented") ? -EOPNOTSUPP : -EINVAL;
	} else {
		ret = parse_output(prog, out, typed, nft, err, errlen);
	}
	free(out);
	free(errout);
	return ret;
}

int translate_iptables(uint32_t family, const char *chain_type, const char *text, char **nft,
		       char *err, size_t errlen)
{
	char *buf = malloc(strlen(text) + 1), *words[MAX_WORDS], typed[1024];
	const char *xt_table = chain_type && strcmp(chain_type, "nat") == 0 ? "nat"
			       : chain_type && strcmp(chain_type, "route") == 0 ? "mangle"
										: "filter";
	const char *prog = family == NFPROTO_IPV6 ? "ip6tables-translate" : "iptables-translate";
	int n, i = 0, ret;

	*nft = NULL;
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (family != NFPROTO_IPV4 && family != NFPROTO_IPV6 && family != NFPROTO_INET) {
		snprintf(err, errlen, "iptables words are for ip, ip6 and inet tables; write nft "
			 "syntax here");
		free(buf);
		return -EAFNOSUPPORT;
	}
	n = split(text, buf, words, err, errlen);
	if (n < 0) {
		free(buf);
		return -EINVAL;
	}
	/* -t TABLE, -A CHAIN, -I CHAIN before the rule: the chain is the one
	 * being edited, the place is the editor's */
	ret = 0;
	while (!ret && i + 1 < n) {
		const char *w = words[i];

		if (strcmp(w, "-t") == 0 || strcmp(w, "--table") == 0) {
			xt_table = words[i + 1];
			i += 2;
		} else if (strcmp(w, "-A") == 0 || strcmp(w, "--append") == 0 ||
			   strcmp(w, "-I") == 0 || strcmp(w, "--insert") == 0) {
			bool insert = strcmp(w, "-I") == 0 || strcmp(w, "--insert") == 0;

			i += 2;
			if (insert && i < n && is_number(words[i])) {
				snprintf(err, errlen, "%s %s %s: where the rule goes is the editor's "
					 "(i, a, or edit --insert N): type the rule only", w,
					 words[i - 1], words[i]);
				ret = -EINVAL;
			}
		} else if (w[0] == '-' && w[1] && strchr("DRPNXFZLSE", w[1]) && !w[2]) {
			snprintf(err, errlen, "%s: only a rule translates (as after -A CHAIN), not "
				 "another iptables command", w);
			ret = -EINVAL;
		} else {
			break;
		}
	}
	if (!ret && i >= n) {
		snprintf(err, errlen, "no rule after the iptables command");
		ret = -EINVAL;
	}
	if (!ret) {
		snprintf(typed, sizeof(typed), "%s", skip_blanks(text));
		ret = run(prog, xt_table, words + i, n - i, typed, nft, err, errlen);
		/* inet takes either: an IPv6 address is ip6tables' */
		if (ret == -EINVAL && family == NFPROTO_INET) {
			char err6[512];

			if (run("ip6tables-translate", xt_table, words + i, n - i, typed, nft, err6,
				sizeof(err6)) == 0)
				ret = 0;
		}
	}
	free(buf);
	return ret;
}
