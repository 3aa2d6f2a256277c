/* theme: colours keyed by meaning. Owns the table of colour roles
 * (THEME_ROLES), the theme file parser, the theme search path and the
 * built-in default theme. Only theme_apply() touches ncurses; everything
 * else is pure and unit-tested.
 *
 * Theme file format (themes/NAME.theme):
 *
 *	# comment (also after a value)
 *	inherit NAME            optional, first non-comment line only
 *	ROLE = FG BG [ATTR...]
 *
 * ROLE is one of the names in THEME_ROLES. FG and BG are one of: default,
 * black, red, green, yellow, blue, magenta, cyan, white, bright-black ..
 * bright-white, or color0 .. color255. ATTR is any of: bold, dim,
 * underline, reverse, standout, italic. A later line for the same role
 * wins. Roles a theme does not mention keep the inherited theme's values,
 * or the built-in default theme's (themes/default.theme). */
#ifndef NFP_THEME_H
#define NFP_THEME_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* X(ID, "name-in-theme-files") */
#define THEME_ROLES(X) \
	X(NORMAL, "normal") \
	X(HEADER, "header") \
	X(STATUS, "status") \
	X(STATUS_KEY, "status-key") \
	X(TITLE, "title") \
	X(SELECTED, "selected") \
	X(SELECTED_INACTIVE, "selected-inactive") \
	X(BORDER, "border") \
	X(TABLE, "table") \
	X(CHAIN, "chain") \
	X(BASE_CHAIN, "base-chain") \
	X(BADGE, "badge") \
	X(RULE, "rule") \
	X(RULE_ACCEPT, "rule-accept") \
	X(RULE_DROP, "rule-drop") \
	X(RULE_JUMP, "rule-jump") \
	X(RULE_ACTIVE, "rule-active") \
	X(NO_COUNTER, "no-counter") \
	X(COUNTER, "counter") \
	X(RATE, "rate") \
	X(SPARK, "spark") \
	X(MATCH, "match") \
	X(ERROR, "error") \
	X(WARNING, "warning") \
	X(HELP_KEY, "help-key") \
	X(DIM, "dim")

enum theme_role {
#define THEME_ROLE_ENUM(id, name) ROLE_##id,
	THEME_ROLES(THEME_ROLE_ENUM)
#undef THEME_ROLE_ENUM
	ROLE_COUNT
};

/* attribute bits of a theme_spec (not ncurses bits: the parser is pure) */
enum theme_attr {
	THEME_BOLD      = 1u << 0,
	THEME_DIM       = 1u << 1,
	THEME_UNDERLINE = 1u << 2,
	THEME_REVERSE   = 1u << 3,
	THEME_STANDOUT  = 1u << 4,
	THEME_ITALIC    = 1u << 5,
};

/* colour numbers: -1 is the terminal's default colour, 0..7 the ANSI
 * colours (curses COLOR_* order), 8..15 their bright forms, 16..255 the
 * xterm 256-colour palette */
#define THEME_COLOR_DEFAULT (-1)

struct theme_spec {
	struct {
		short fg, bg;
		unsigned attrs; /* enum theme_attr bits */
	} role[ROLE_COUNT];
};

/* "rule-drop" for ROLE_RULE_DROP; NULL when out of range */
const char *theme_role_name(enum theme_role role);

/* the role called name, or -EINVAL */
int theme_role_parse(const char *name);

/* "red", "bright-red", "color123", "default" -> colour number in *out;
 * 0 or -EINVAL */
int theme_color_parse(const char *name, short *out);

/* Fit colour for a terminal with ncolors colours: 256-colour values become
 * the nearest of the 16 ANSI colours when ncolors < 256; bright colours on
 * an 8-colour terminal become the plain colour and set *bright (the caller
 * adds bold to a foreground). Fewer than 8 colours: THEME_COLOR_DEFAULT. */
short theme_color_fit(short color, int ncolors, bool *bright);

/* The built-in (dark) default theme; identical to themes/default.theme. */
void theme_builtin_default(struct theme_spec *out);

/* Parse a theme file, starting from the built-in default. On the first
 * error returns -EINVAL (-EIO on a read error) with err = "FILE:LINE: what
 * is wrong", and leaves *out unchanged. "inherit NAME" uses theme_load(). */
int theme_parse(struct theme_spec *out, FILE *fp, const char *fname,
		char *err, size_t errlen);

/* Load theme NAME: a NAME containing '/' is a path; otherwise NAME.theme
 * is looked for in $XDG_CONFIG_HOME/nfpilot/themes (~/.config/...),
 * /etc/nfpilot/themes, NFP_THEMEDIR and finally themes/ next to the
 * running executable or up to two directories above it (the source tree).
 * "default" that is found nowhere is the built-in theme. Not found:
 * -ENOENT and err lists where it looked. On any error *out is the built-in
 * default, so the caller can go on and show err. */
int theme_load(struct theme_spec *out, const char *name, char *err, size_t errlen);

/* NO_COLOR is set and not empty (https://no-color.org) */
bool theme_no_color(void);

/* Make spec the screen's colours, after initscr(): out[role] is what to
 * pass to wattrset() for that role. With color (and has_colors()) each role
 * gets colour pair role + 1 (start_color() and use_default_colors() are
 * called here); colours the terminal lacks degrade (theme_color_fit).
 * Without color only the attributes are used: a caller without colour
 * (theme_no_color(), or !has_colors()) should apply the mono theme, whose
 * attributes alone keep the selection and the status line visible. */
void theme_apply(const struct theme_spec *spec, bool color, attr_t out[ROLE_COUNT]);

#endif
