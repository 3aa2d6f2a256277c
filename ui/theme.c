/* theme: role names, theme file parsing and search, the built-in default
 * theme, and theme_apply() (the only ncurses code here). See theme.h. */
#include "ui/theme.h"

#include "model/fmt.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef NFP_THEMEDIR
#define NFP_THEMEDIR "/usr/local/share/nfpilot/themes"
#endif

#define THEME_MAX_DEPTH 4 /* inherit chains */
#define THEME_MAX_DIRS  8
#define THEME_PATH_LEN  1024
#define THEME_NATTRS    (sizeof(theme_attr_names) / sizeof(theme_attr_names[0]))

static const char *const theme_role_names[ROLE_COUNT] = {
#define THEME_ROLE_NAME(id, name) [ROLE_##id] = name,
	THEME_ROLES(THEME_ROLE_NAME)
#undef THEME_ROLE_NAME
};

static const char *const theme_color_names[8] = {
	"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
};

static const struct {
	const char *name;
	unsigned bit;
} theme_attr_names[] = {
	{ "bold", THEME_BOLD },
	{ "dim", THEME_DIM },
	{ "underline", THEME_UNDERLINE },
	{ "reverse", THEME_REVERSE },
	{ "standout", THEME_STANDOUT },
	{ "italic", THEME_ITALIC },
};

/* must match themes/default.theme (a unit test compares them) */
enum {
	D = THEME_COLOR_DEFAULT, BLACK = 0, RED, GREEN, YELLOW, BLUE, MAGENTA,
	CYAN, WHITE, BRIGHT_BLACK,
};

static const struct theme_spec theme_default = { .role = {
	[ROLE_NORMAL]            = { D, D, 0 },
	[ROLE_HEADER]            = { WHITE, BLUE, THEME_BOLD },
	[ROLE_STATUS]            = { BLACK, CYAN, 0 },
	[ROLE_STATUS_KEY]        = { WHITE, BLUE, THEME_BOLD },
	[ROLE_TITLE]             = { CYAN, D, THEME_BOLD },
	[ROLE_SELECTED]          = { BLACK, CYAN, 0 },
	[ROLE_SELECTED_INACTIVE] = { WHITE, BRIGHT_BLACK, 0 },
	[ROLE_BORDER]            = { BLUE, D, 0 },
	[ROLE_TABLE]             = { MAGENTA, D, THEME_BOLD },
	[ROLE_CHAIN]             = { CYAN, D, 0 },
	[ROLE_BASE_CHAIN]        = { CYAN, D, THEME_BOLD },
	[ROLE_BADGE]             = { BLACK, YELLOW, 0 },
	[ROLE_RULE]              = { D, D, 0 },
	[ROLE_RULE_ACCEPT]       = { GREEN, D, 0 },
	[ROLE_RULE_DROP]         = { RED, D, THEME_BOLD },
	[ROLE_RULE_JUMP]         = { CYAN, D, 0 },
	[ROLE_RULE_ACTIVE]       = { YELLOW, D, THEME_BOLD },
	[ROLE_NO_COUNTER]        = { BRIGHT_BLACK, D, 0 },
	[ROLE_COUNTER]           = { D, D, 0 },
	[ROLE_RATE]              = { YELLOW, D, 0 },
	[ROLE_SPARK]             = { GREEN, D, 0 },
	[ROLE_MATCH]             = { BLACK, YELLOW, 0 },
	[ROLE_ERROR]             = { WHITE, RED, THEME_BOLD },
	[ROLE_WARNING]           = { YELLOW, D, THEME_BOLD },
	[ROLE_HELP_KEY]          = { YELLOW, D, THEME_BOLD },
	[ROLE_DIM]               = { BRIGHT_BLACK, D, 0 },
} };

static int theme_load_depth(struct theme_spec *out, const char *name, char *err,
			    size_t errlen, int depth);

const char *theme_role_name(enum theme_role role)
{
	return fmt_name_at(theme_role_names, ROLE_COUNT, (int)role);
}

int theme_role_parse(const char *name)
{
	return fmt_name_index(theme_role_names, ROLE_COUNT, name);
}

int theme_color_parse(const char *name, short *out)
{
	const char *p = name;
	bool bright = false;

	if (strcmp(name, "default") == 0) {
		*out = THEME_COLOR_DEFAULT;
		return 0;
	}
	if (strncmp(name, "color", 5) == 0 && name[5] != '\0') {
		int v = 0;

		for (p = name + 5; *p; p++) {
			if (*p < '0' || *p > '9' || v > 255)
				return -EINVAL;
			v = v * 10 + (*p - '0');
		}
		if (v > 255 || (name[5] == '0' && name[6] != '\0'))
			return -EINVAL;
		*out = (short)v;
		return 0;
	}
	if (strncmp(name, "bright-", 7) == 0) {
		bright = true;
		p = name + 7;
	}
	for (int i = 0; i < 8; i++) {
		if (strcmp(p, theme_color_names[i]) == 0) {
			*out = (short)(bright ? i + 8 : i);
			return 0;
		}
	}
	return -EINVAL;
}

/* nearest of the 16 ANSI colours for an xterm 256-colour index >= 16 */
static short theme_color_to16(short c)
{
	int r, g, b, max, idx;

	if (c >= 232) {
		int level = 8 + 10 * (c - 232);

		return level < 60 ? 0 : level < 120 ? 8 : level < 200 ? 7 : 15;
	}
	c -= 16;
	r = c / 36;
	g = c / 6 % 6;
	b = c % 6;
	max = r > g ? r : g;
	max = max > b ? max : b;
	if (max == 0)
		return 0;
	/* a component counts when it is at least half the strongest one */
	idx = (r && 2 * r >= max) | (g && 2 * g >= max) << 1 | (b && 2 * b >= max) << 2;
	if (idx == 7 && max <= 2)
		return 8;
	return (short)(max >= 4 ? idx + 8 : idx);
}

short theme_color_fit(short color, int ncolors, bool *bright)
{
	if (bright)
		*bright = false;
	if (color < 0 || color < ncolors)
		return color;
	if (ncolors < 8)
		return THEME_COLOR_DEFAULT;
	if (color >= 16)
		color = theme_color_to16(color);
	if (color < ncolors)
		return color;
	if (bright)
		*bright = true;
	return (short)(color - 8);
}

void theme_builtin_default(struct theme_spec *out)
{
	*out = theme_default;
}

bool theme_no_color(void)
{
	const char *v = getenv("NO_COLOR");

	return v && *v;
}

/* split s in place at blanks; returns the number of words (at most max) */
static int theme_split(char *s, char **word, int max)
{
	int n = 0;

	for (;;) {
		s += strspn(s, " \t\r\n");
		if (*s == '\0' || n == max)
			return n;
		word[n++] = s;
		s += strcspn(s, " \t\r\n");
		if (*s)
			*s++ = '\0';
	}
}


/* one "ROLE = FG BG [ATTR...]" line into t; 0 or -EINVAL with a message
 * (without the FILE:LINE prefix) */
static int theme_parse_role(struct theme_spec *t, char *line, char *msg, size_t len)
{
	char *eq = strchr(line, '='), *word[16], *role_s;
	int role, n;
	short fg, bg;
	unsigned attrs = 0;

	if (!eq) {
		snprintf(msg, len, "missing '=' (expected ROLE = FG BG [ATTR...])");
		return -EINVAL;
	}
	*eq = '\0';
	role_s = fmt_trim(line);
	if (*role_s == '\0') {
		snprintf(msg, len, "missing role before '='");
		return -EINVAL;
	}
	role = theme_role_parse(role_s);
	if (role < 0) {
		snprintf(msg, len, "unknown role '%s'", role_s);
		return -EINVAL;
	}
	n = theme_split(eq + 1, word, 16);
	if (n < 2) {
		snprintf(msg, len, "%s: expected FG BG [ATTR...] after '='",
			 theme_role_names[role]);
		return -EINVAL;
	}
	if (theme_color_parse(word[0], &fg) < 0) {
		snprintf(msg, len, "unknown colour '%s'", word[0]);
		return -EINVAL;
	}
	if (theme_color_parse(word[1], &bg) < 0) {
		snprintf(msg, len, "unknown colour '%s'", word[1]);
		return -EINVAL;
	}
	for (int i = 2; i < n; i++) {
		size_t a;

		for (a = 0; a < THEME_NATTRS; a++)
			if (strcmp(word[i], theme_attr_names[a].name) == 0)
				break;
		if (a == THEME_NATTRS) {
			snprintf(msg, len, "unknown attribute '%s'", word[i]);
			return -EINVAL;
		}
		attrs |= theme_attr_names[a].bit;
	}
	t->role[role].fg = fg;
	t->role[role].bg = bg;
	t->role[role].attrs = attrs;
	return 0;
}

static int theme_parse_depth(struct theme_spec *out, FILE *fp, const char *fname,
			     char *err, size_t errlen, int depth)
{
	struct theme_spec t = theme_default;
	char *line = NULL, msg[512];
	size_t cap = 0;
	unsigned lineno = 0;
	bool first = true;
	int rc = 0;

	while (getline(&line, &cap, fp) >= 0) {
		char *s, *word[3];
		int n;

		lineno++;
		s = line;
		s[strcspn(s, "#")] = '\0';
		s = fmt_trim(s);
		if (*s == '\0')
			continue;
		if (strncmp(s, "inherit", 7) == 0 && (s[7] == '\0' || s[7] == ' '
						      || s[7] == '\t')) {
			n = theme_split(s, word, 3);
			if (!first) {
				snprintf(msg, sizeof(msg),
					 "'inherit' must be the first line");
				rc = -EINVAL;
			} else if (n != 2) {
				snprintf(msg, sizeof(msg), "expected 'inherit NAME'");
				rc = -EINVAL;
			} else if (depth >= THEME_MAX_DEPTH) {
				snprintf(msg, sizeof(msg),
					 "inherit '%s': nested too deeply", word[1]);
				rc = -EINVAL;
			} else {
				char sub[384];

				rc = theme_load_depth(&t, word[1], sub, sizeof(sub),
						      depth + 1);
				if (rc < 0) {
					snprintf(msg, sizeof(msg), "inherit '%s': %s",
						 word[1], sub);
					rc = -EINVAL;
				}
			}
		} else {
			rc = theme_parse_role(&t, s, msg, sizeof(msg));
		}
		if (rc < 0) {
			snprintf(err, errlen, "%s:%u: %s", fname, lineno, msg);
			free(line);
			return rc;
		}
		first = false;
	}
	free(line);
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: read error", fname);
		return -EIO;
	}
	*out = t;
	return 0;
}

int theme_parse(struct theme_spec *out, FILE *fp, const char *fname,
		char *err, size_t errlen)
{
	return theme_parse_depth(out, fp, fname, err, errlen, 0);
}

/* fill dirs with the search path; returns how many */
static int theme_search_dirs(char dirs[][THEME_PATH_LEN], int max)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char exe[THEME_PATH_LEN];
	ssize_t len;
	int n = 0, w;

	if (xdg && xdg[0] == '/')
		w = snprintf(dirs[n], THEME_PATH_LEN, "%s/nfpilot/themes", xdg);
	else if (home && home[0])
		w = snprintf(dirs[n], THEME_PATH_LEN, "%s/.config/nfpilot/themes", home);
	else
		w = -1;
	if (w > 0 && w < THEME_PATH_LEN)
		n++;
	snprintf(dirs[n++], THEME_PATH_LEN, "/etc/nfpilot/themes");
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len > 0 && len < (ssize_t)sizeof(exe) - 1) {
		/* installed: PREFIX/sbin/nfpilot finds PREFIX/share/nfpilot/themes,
		 * whatever PREFIX `make install` was given */
		char *slash;

		exe[len] = '\0';
		slash = strrchr(exe, '/');
		if (slash && slash > exe) {
			*slash = '\0';
			w = snprintf(dirs[n], THEME_PATH_LEN, "%s/../share/nfpilot/themes", exe);
			*slash = '/';
			if (w > 0 && w < THEME_PATH_LEN)
				n++;
		}
	}
	snprintf(dirs[n++], THEME_PATH_LEN, "%s", NFP_THEMEDIR);

	/* the source tree or an unpacked build: themes/ next to the binary
	 * (./nfpilot) or up to two levels above it (build/asan/nfpilot) */
	if (len <= 0 || len >= (ssize_t)sizeof(exe) - 1)
		return n;
	for (int up = 0; up < 3 && n < max; up++) {
		char *slash = strrchr(exe, '/');
		struct stat st;

		if (!slash || slash == exe)
			break;
		*slash = '\0';
		w = snprintf(dirs[n], THEME_PATH_LEN, "%s/themes", exe);
		if (w > 0 && w < THEME_PATH_LEN && stat(dirs[n], &st) == 0
		    && S_ISDIR(st.st_mode))
			n++;
	}
	return n;
}

static int theme_load_file(struct theme_spec *out, const char *path, char *err,
			   size_t errlen, int depth)
{
	FILE *fp = fopen(path, "r");
	int rc;

	if (!fp) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	rc = theme_parse_depth(out, fp, path, err, errlen, depth);
	fclose(fp);
	return rc;
}

static int theme_load_depth(struct theme_spec *out, const char *name, char *err,
			    size_t errlen, int depth)
{
	char (*dirs)[THEME_PATH_LEN], path[THEME_PATH_LEN + 64];
	int n, rc = -ENOENT;
	size_t off;

	theme_builtin_default(out);
	if (strchr(name, '/'))
		return theme_load_file(out, name, err, errlen, depth);
	if (name[0] == '\0' || name[0] == '.' || strlen(name) > 63) {
		snprintf(err, errlen, "invalid theme name '%s'", name);
		return -EINVAL;
	}
	dirs = malloc(THEME_MAX_DIRS * sizeof(*dirs));
	if (!dirs) {
		snprintf(err, errlen, "theme '%s': out of memory", name);
		return -ENOMEM;
	}
	n = theme_search_dirs(dirs, THEME_MAX_DIRS);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s.theme", dirs[i], name);
		if (access(path, F_OK) != 0)
			continue;
		rc = theme_load_file(out, path, err, errlen, depth);
		if (rc < 0)
			theme_builtin_default(out);
		free(dirs);
		return rc;
	}
	if (strcmp(name, "default") == 0) {
		free(dirs);
		return 0;
	}
	off = (size_t)snprintf(err, errlen, "theme '%s' not found in", name);
	for (int i = 0; i < n && off < errlen; i++)
		off += (size_t)snprintf(err + off, errlen - off, "%s %s",
					i ? "," : "", dirs[i]);
	free(dirs);
	return rc;
}

int theme_load(struct theme_spec *out, const char *name, char *err, size_t errlen)
{
	return theme_load_depth(out, name, err, errlen, 0);
}

static attr_t theme_attrs(unsigned a)
{
	attr_t r = A_NORMAL;

	if (a & THEME_BOLD)
		r |= A_BOLD;
	if (a & THEME_DIM)
		r |= A_DIM;
	if (a & THEME_UNDERLINE)
		r |= A_UNDERLINE;
	if (a & THEME_REVERSE)
		r |= A_REVERSE;
	if (a & THEME_STANDOUT)
		r |= A_STANDOUT;
#ifdef A_ITALIC
	if (a & THEME_ITALIC)
		r |= A_ITALIC;
#endif
	return r;
}

void theme_apply(const struct theme_spec *spec, bool color, attr_t out[ROLE_COUNT])
{
	bool defaults = false;

	if (color && has_colors() && start_color() != ERR) {
		defaults = use_default_colors() != ERR;
	} else {
		color = false;
	}
	for (int i = 0; i < ROLE_COUNT; i++) {
		short fg = spec->role[i].fg, bg = spec->role[i].bg;
		bool bright = false, ignored;

		out[i] = theme_attrs(spec->role[i].attrs);
		if (!color || i + 1 >= COLOR_PAIRS)
			continue;
		fg = theme_color_fit(fg, COLORS, &bright);
		bg = theme_color_fit(bg, COLORS, &ignored);
		if (!defaults) {
			if (fg < 0)
				fg = COLOR_WHITE;
			if (bg < 0)
				bg = COLOR_BLACK;
		}
		if (init_pair((short)(i + 1), fg, bg) == ERR)
			continue;
		out[i] |= COLOR_PAIR(i + 1) | (bright ? A_BOLD : 0);
	}
}
