/* prompt: the line editor of every prompt (see ui/prompt.h). Readline is
 * used the way ncurses programs such as tig use it: its input comes from
 * rl_getc_function (the bytes of the key the loop read, queued here), its
 * output goes to rl_redisplay_function (which copies the line and the
 * cursor into the view for ui/draw.c to draw), and the terminal is never
 * prepared by it (rl_prep_term_function does nothing). */
#define _GNU_SOURCE
#include "ui/prompt.h"

#include "ui/view.h"
#include "util/safefile.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <readline/history.h>
#include <readline/readline.h>

#define HISTORY_MAX 200

/* libnftables has no list of its keywords: these are nft(8)'s words an
 * admin types most in a rule or a chain spec. */
static const char *const keywords[] = {
	"accept", "drop", "reject", "return", "jump", "goto", "continue", "queue",
	"counter", "log", "prefix", "level", "limit", "rate", "burst", "over",
	"masquerade", "snat", "dnat", "redirect", "to", "notrack", "meta", "mark",
	"ip", "ip6", "inet", "arp", "bridge", "netdev", "saddr", "daddr", "protocol",
	"nexthdr", "tcp", "udp", "icmp", "icmpv6", "sctp", "sport", "dport", "flags",
	"type", "ct", "state", "new", "established", "related", "invalid", "untracked",
	"status", "iif", "oif", "iifname", "oifname", "l4proto", "nfproto", "pkttype",
	"comment", "set", "map", "element", "with", "reset", "hook", "priority",
	"policy", "filter", "nat", "route", "prerouting", "input", "forward",
	"output", "postrouting", "ingress", "egress", "table", "chain", "rule",
	"echo-request", "port-unreachable", "admin-prohibited", "tcp-reset",
};

static struct {
	struct view *v;
	bool ready;               /* readline set up */
	bool done, cancelled;     /* what the last byte fed did */
	char *line;               /* the accepted line */
	unsigned char queue[16];  /* a key's bytes, for rl_getc_function */
	size_t qhead, qlen;
	size_t point;
	char matches[512];
	char label[256];          /* readline's own prompt (Ctrl-R's search) */
	/* each kind's lines, oldest first; loaded from its file once */
	struct kind_hist {
		const char *kind;
		char *lines[HISTORY_MAX];
		size_t n;
		bool loaded;
	} hist[12];
	size_t nhist;
	struct kind_hist *cur;    /* the open prompt's */
	unsigned opened;          /* prompts opened so far */
	bool save_failed;         /* said once */
	/* what Tab offers, built when it is pressed */
	char **words;
	size_t nwords, wpos;
} P;

const char *prompt_kind(enum action act)
{
	switch (act) {
	case ACT_INSERT: case ACT_ADD_BELOW: case ACT_APPEND: case ACT_EDIT: return "rule";
	case ACT_FILTER: return "filter";
	case ACT_CT_FILTER: return "conns-filter";
	case ACT_SEARCH: return "search";
	case ACT_CHAIN_ADD: return "chain";
	case ACT_TABLE_ADD: return "table";
	case ACT_SET_ADD: return "set";
	case ACT_BLOCK: return "block";
	case ACT_ALLOW_PORT: return "port";
	case ACT_MOVE_TO: return "position";
	case ACT_ELEM_SEARCH: return "element-search";
	case ACT_ELEM_FILTER: return "element-filter";
	case ACT_ELEM_ADD: return "elements";
	case ACT_SAVE: return "save-file";
	case ACT_TRACE: return "trace";
	case ACT_WHY: return "why";
	default: return "other";
	}
}

/* ---- the history files ---- */

/* The folder: $XDG_STATE_HOME/nfpilot, else ~/.local/state/nfpilot. */
static int state_dir(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/nfpilot", xdg);
	else if (home && home[0] == '/')
		n = snprintf(buf, len, "%s/.local/state/nfpilot", home);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int hist_path(const struct kind_hist *h, char *buf, size_t len)
{
	char dir[PATH_MAX - 64];
	int ret = state_dir(dir, sizeof(dir));

	if (ret)
		return ret;
	snprintf(buf, len, "%s/history-%s", dir, h->kind);
	return 0;
}

static void hist_push(struct kind_hist *h, const char *line)
{
	if (!line[0] || (h->n && strcmp(h->lines[h->n - 1], line) == 0))
		return;
	if (h->n == HISTORY_MAX) {
		free(h->lines[0]);
		memmove(h->lines, h->lines + 1, (h->n - 1) * sizeof(h->lines[0]));
		h->n--;
	}
	h->lines[h->n] = strdup(line);
	if (h->lines[h->n])
		h->n++;
}

/* A file of lines, as written below; what is not a line of text the
 * prompt takes (too long) is left out. Missing: an empty history. */
static void hist_load(struct kind_hist *h)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *fp;

	h->loaded = true;
	if (hist_path(h, path, sizeof(path)) || !(fp = fopen(path, "re")))
		return;
	while ((n = getline(&line, &cap, fp)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = 0;
		if ((size_t)n < sizeof(((struct view *)0)->input) && strlen(line) == (size_t)n)
			hist_push(h, line);
	}
	free(line);
	fclose(fp);
}

static int hist_write(FILE *fp, void *arg)
{
	const struct kind_hist *h = arg;

	for (size_t i = 0; i < h->n; i++)
		fprintf(fp, "%s\n", h->lines[i]);
	return 0;
}

static void hist_save(struct view *v, struct kind_hist *h)
{
	struct safefile_opts o = { .mode = 0600 };
	char dir[PATH_MAX - 64], path[PATH_MAX], err[512];
	int ret = state_dir(dir, sizeof(dir));

	if (ret == 0)
		ret = safefile_mkdirs(dir, dir, 0700, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "no XDG_STATE_HOME or HOME");
	if (ret == 0 && hist_path(h, path, sizeof(path)) == 0)
		ret = safefile_write_stream(path, hist_write, h, &o, err, sizeof(err));
	if (ret && !P.save_failed) {
		P.save_failed = true;
		view_status(v, ROLE_WARNING, "prompt history not kept: %s", err);
	}
}

static struct kind_hist *hist_of(const char *kind)
{
	for (size_t i = 0; i < P.nhist; i++)
		if (strcmp(P.hist[i].kind, kind) == 0)
			return &P.hist[i];
	if (P.nhist == sizeof(P.hist) / sizeof(P.hist[0]))
		return NULL;
	P.hist[P.nhist].kind = kind;
	return &P.hist[P.nhist++];
}

/* ---- completion ---- */

static void add_word(const char *w)
{
	char **grown;

	for (size_t i = 0; i < P.nwords; i++)
		if (strcmp(P.words[i], w) == 0)
			return;
	grown = realloc(P.words, (P.nwords + 1) * sizeof(*P.words));
	if (!grown)
		return;
	P.words = grown;
	if ((P.words[P.nwords] = strdup(w)))
		P.nwords++;
}

static void free_words(void)
{
	for (size_t i = 0; i < P.nwords; i++)
		free(P.words[i]);
	free(P.words);
	P.words = NULL;
	P.nwords = 0;
}

/* The ruleset's table, chain and set names, the staged ones, then the
 * keywords. */
static void build_words(const struct view *v)
{
	const struct nfp_ruleset *rs = &v->live.rs;

	free_words();
	for (size_t t = 0; t < rs->ntables; t++) {
		const struct nfp_table *tb = &rs->tables[t];

		add_word(tb->name);
		for (size_t c = 0; c < tb->nchains; c++)
			add_word(tb->chains[c].name);
		for (size_t s = 0; s < tb->nsets; s++)
			add_word(tb->sets[s].name);
	}
	/* and the tables, chains and sets staged (a jump to one staged with
	 * it, a lookup in a set staged with it) */
	for (size_t i = 0; i < v->cs.n; i++) {
		const struct edit *e = &v->cs.edits[i];

		if (e->kind == EDIT_TABLE_ADD)
			add_word(e->table);
		else if (e->kind == EDIT_CHAIN_ADD)
			add_word(e->chain);
		else if (e->kind == EDIT_SET_ADD)
			add_word(e->set);
	}
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		add_word(keywords[i]);
}

static char *next_word(const char *text, int state)
{
	size_t len = strlen(text);

	if (!state)
		P.wpos = 0;
	while (P.wpos < P.nwords) {
		const char *w = P.words[P.wpos++];

		if (strncmp(w, text, len) == 0)
			return strdup(w);
	}
	return NULL;
}

static char **complete(const char *text, int start, int end)
{
	(void)start;
	(void)end;
	rl_attempted_completion_over = 1; /* never file names */
	build_words(P.v);
	return rl_completion_matches(text, next_word);
}

/* More than one word fits: they are listed over the prompt. */
static void show_matches(char **matches, int n, int longest)
{
	size_t off = 0;

	(void)longest;
	P.matches[0] = 0;
	for (int i = 1; i <= n && off < sizeof(P.matches); i++)
		off += (size_t)snprintf(P.matches + off, sizeof(P.matches) - off, "%s%s",
					i > 1 ? "  " : "", matches[i]);
}

/* ---- readline's ends ---- */

static int next_byte(FILE *fp)
{
	(void)fp;
	if (!P.qlen)
		return EOF;
	P.qlen--;
	return P.queue[P.qhead++];
}

static int byte_waiting(void)
{
	return P.qlen > 0;
}

static void redisplay(void)
{
	snprintf(P.v->input, sizeof(P.v->input), "%s", rl_line_buffer ? rl_line_buffer : "");
	snprintf(P.label, sizeof(P.label), "%s", rl_display_prompt ? rl_display_prompt : "");
	P.point = rl_point < 0 ? 0 : (size_t)rl_point;
	if (P.point > strlen(P.v->input))
		P.point = strlen(P.v->input);
}

static void no_term(int meta)
{
	(void)meta;
}

static void no_deprep(void)
{
}

static void on_line(char *line)
{
	rl_callback_handler_remove();
	if (!line) {
		P.cancelled = true; /* Ctrl-D on an empty line */
		return;
	}
	P.done = true;
	P.line = line;
}

/* The line given up (Esc, the end): what readline keeps of it freed —
 * the line saved while Up showed older ones, the undo list. */
static void drop_line(void)
{
	rl_callback_handler_remove();
	rl_maybe_unsave_line();
	rl_free_undo_list();
}

static void setup(void)
{
	static FILE *devnull;

	if (P.ready)
		return;
	P.ready = true;
	rl_readline_name = "nfpilot";
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_change_environment = 0;
	rl_prep_term_function = no_term;
	rl_deprep_term_function = no_deprep;
	rl_getc_function = next_byte;
	rl_input_available_hook = byte_waiting;
	rl_redisplay_function = redisplay;
	/* nothing readline writes may reach the terminal ncurses draws */
	devnull = fopen("/dev/null", "we");
	rl_outstream = devnull;
	rl_attempted_completion_function = complete;
	rl_completion_display_matches_hook = show_matches;
	rl_basic_word_break_characters = " \t\n\"'@$><=;|&{}(),";
	rl_initialize();
	rl_variable_bind("bell-style", "none");
	rl_variable_bind("show-all-if-ambiguous", "on");
	rl_variable_bind("enable-bracketed-paste", "off");
	/* Delete as the loop hands it over (see prompt_key) */
	rl_bind_keyseq("\033[3~", rl_delete);
	stifle_history(HISTORY_MAX);
}

/* ---- the prompt ---- */

static void install(struct view *v, const char *text)
{
	P.v = v;
	P.done = P.cancelled = false;
	P.qlen = P.qhead = 0;
	P.matches[0] = 0;
	rl_callback_handler_install("", on_line);
	rl_insert_text(text);
	redisplay();
}

void prompt_open(struct view *v)
{
	char text[sizeof(v->input)];

	P.v = v; /* before readline may call redisplay() */
	setup();
	P.opened++;
	P.cur = hist_of(prompt_kind(v->prompt_for));
	rl_clear_history();
	if (P.cur) {
		if (!P.cur->loaded)
			hist_load(P.cur);
		for (size_t i = 0; i < P.cur->n; i++)
			add_history(P.cur->lines[i]);
	}
	using_history();
	snprintf(text, sizeof(text), "%s", v->input);
	install(v, text);
}

/* A curses key as the bytes readline's emacs keymap knows. */
static size_t key_bytes(int key, unsigned char *b)
{
	switch (key) {
	case KEY_LEFT: b[0] = CTRL_KEY('B'); return 1;
	case KEY_RIGHT: b[0] = CTRL_KEY('F'); return 1;
	case KEY_HOME: b[0] = CTRL_KEY('A'); return 1;
	case KEY_END: b[0] = CTRL_KEY('E'); return 1;
	case KEY_UP: b[0] = CTRL_KEY('P'); return 1;
	case KEY_DOWN: b[0] = CTRL_KEY('N'); return 1;
	case KEY_BACKSPACE: case 8: b[0] = 127; return 1;
	case KEY_ENTER: case '\n': b[0] = '\r'; return 1;
	case KEY_DC: memcpy(b, "\033[3~", 4); return 4;
	}
	if (key >= KEY_ALT(0) && key < KEY_ALT(256)) {
		b[0] = 27;
		b[1] = (unsigned char)(key - KEY_ALT(0));
		return 2;
	}
	if (key >= 0 && key < 256 && key != 27) {
		b[0] = (unsigned char)key;
		return 1;
	}
	return 0;
}

enum redraw prompt_key(struct view *v, int key)
{
	unsigned char b[8];
	size_t n = key_bytes(key, b);
	unsigned opened = P.opened;
	char *line, keep[sizeof(v->input)];

	if (key == 27) {
		/* cancelled: what the prompt was for stays as it was */
		drop_line();
		v->mode = MODE_BROWSE;
		v->input_err[0] = 0;
		return REDRAW_ALL;
	}
	if (!n)
		return REDRAW_NONE;
	P.v = v;
	P.matches[0] = 0;
	memcpy(P.queue, b, n);
	P.qhead = 0;
	P.qlen = n;
	while (P.qlen && !P.done && !P.cancelled)
		rl_callback_read_char();
	if (P.cancelled) {
		v->mode = MODE_BROWSE;
		v->input_err[0] = 0;
		return REDRAW_ALL;
	}
	if (!P.done)
		return REDRAW_STATUS;
	line = P.line;
	P.line = NULL;
	P.done = false;
	snprintf(v->input, sizeof(v->input), "%s", line);
	free(line);
	view_prompt_done(v);
	if (v->mode != MODE_PROMPT) {
		if (P.cur) {
			hist_push(P.cur, v->input);
			hist_save(v, P.cur);
		}
	} else if (P.opened == opened) {
		/* refused: the text stays to be put right (a prompt it opened
		 * instead is installed already) */
		snprintf(keep, sizeof(keep), "%s", v->input);
		install(v, keep);
	}
	return REDRAW_ALL;
}

size_t prompt_point(void)
{
	return P.point;
}

const char *prompt_label(void)
{
	return P.label;
}

const char *prompt_matches(void)
{
	return P.matches;
}

void prompt_free(void)
{
	for (size_t i = 0; i < P.nhist; i++)
		for (size_t j = 0; j < P.hist[i].n; j++)
			free(P.hist[i].lines[j]);
	P.nhist = 0;
	free_words();
	if (P.ready) {
		drop_line();
		rl_clear_history();
	}
}
