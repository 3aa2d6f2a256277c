/* config: settings file parsing and the column table. See config.h. */
#include "model/config.h"

#include "model/fmt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_PATH_LEN 1024

static const char *const config_column_names[COL_COUNT] = {
#define CONFIG_COLUMN_NAME(id, name) [COL_##id] = name,
	CONFIG_COLUMNS(CONFIG_COLUMN_NAME)
#undef CONFIG_COLUMN_NAME
};

struct config_ctx {
	const char *fname;
	unsigned lineno;
	int problems;
	void (*warn)(void *ctx, const char *msg);
	void *ctx;
};

const char *config_column_name(enum config_column col)
{
	return fmt_name_at(config_column_names, COL_COUNT, (int)col);
}

int config_column_parse(const char *name)
{
	return fmt_name_index(config_column_names, COL_COUNT, name);
}

void config_defaults(struct nfp_config *c)
{
	memset(c, 0, sizeof(*c));
	c->refresh = 1.0;
	snprintf(c->theme, sizeof(c->theme), "default");
	c->numeric = true;
	for (int i = 0; i < COL_COUNT; i++)
		c->columns[i] = (unsigned char)i;
	c->ncolumns = COL_COUNT;
	c->timeout = CONFIG_TIMEOUT_DEFAULT;
	c->trace_count = 100;
	c->trace_seconds = 300;
	c->trace_rate = 100;
	snprintf(c->save_file, sizeof(c->save_file), "/etc/nftables.conf");
	c->save_mode = -1;
}

int config_mode_parse(const char *s)
{
	long v = 0;
	size_t n = 0;

	for (; *s >= '0' && *s <= '7' && n < 5; s++, n++)
		v = v * 8 + (*s - '0');
	if (*s || n < 3 || n > 4)
		return -EINVAL;
	if (v & ~(long)CONFIG_SAVE_MODE_MAX)
		return -ERANGE;
	return (int)v;
}

/* report one problem, prefixed "FILE:LINE: " (or "FILE: " when lineno is 0) */
__attribute__((format(printf, 2, 3)))
static void config_warn(struct config_ctx *x, const char *fmt, ...)
{
	char msg[256], line[1300];
	va_list ap;

	x->problems++;
	if (!x->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (x->lineno)
		snprintf(line, sizeof(line), "%s:%u: %s", x->fname, x->lineno, msg);
	else
		snprintf(line, sizeof(line), "%s: %s", x->fname, msg);
	x->warn(x->ctx, line);
}


/* "1", "0.5", "12.25": digits with an optional fraction, independent of
 * the locale (the TUI may run with a decimal comma) */
static int config_parse_decimal(const char *s, double *out)
{
	double v = 0, scale = 1;
	bool digits = false;

	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		digits = true;
		if (v > 1e9)
			return -ERANGE;
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++) {
			scale /= 10;
			v += (*s - '0') * scale;
			digits = true;
		}
	}
	if (!digits || *s != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

static int config_parse_int(const char *s, long *out)
{
	long v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (*s - '0');
		if (v > 1000000000L)
			return -ERANGE;
	}
	*out = v;
	return 0;
}

int config_timeout_parse(const char *s, int *out, char *err, size_t errlen)
{
	long v;

	if (config_parse_int(s, &v) < 0 || v < CONFIG_TIMEOUT_MIN || v > CONFIG_TIMEOUT_MAX) {
		snprintf(err, errlen, "seconds from %d to %d, not '%.100s'", CONFIG_TIMEOUT_MIN,
			 CONFIG_TIMEOUT_MAX, s);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

static int config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static void config_set_columns(struct nfp_config *c, char *value, struct config_ctx *x)
{
	unsigned char cols[COL_COUNT];
	bool seen[COL_COUNT] = { false };
	size_t n = 0;
	char *tok;

	while ((tok = strsep(&value, ","))) {
		char *name = fmt_trim(tok);
		int col;

		if (*name == '\0') {
			config_warn(x, "empty column name in columns");
			return;
		}
		col = config_column_parse(name);
		if (col < 0) {
			config_warn(x, "unknown column '%s'", name);
			return;
		}
		if (seen[col]) {
			config_warn(x, "column '%s' listed twice", name);
			return;
		}
		seen[col] = true; /* so n < COL_COUNT */
		cols[n++] = (unsigned char)col;
	}
	if (!seen[COL_RULE]) {
		config_warn(x, "columns must include 'rule'");
		return;
	}
	memcpy(c->columns, cols, n);
	c->ncolumns = n;
}

/* save_file.NS = PATH: a later line for NS replaces the earlier one */
static void config_set_ns_save(struct nfp_config *c, const char *ns, const char *value,
			       struct config_ctx *x)
{
	size_t i = 0;

	if (!ns[0] || strlen(ns) >= sizeof(c->ns_save[0].ns) || strchr(ns, '/')) {
		config_warn(x, "save_file.NAME needs a namespace name (at most %zu characters)",
			    sizeof(c->ns_save[0].ns) - 1);
		return;
	}
	if (value[0] != '/' || strlen(value) >= sizeof(c->ns_save[0].file)) {
		config_warn(x, "save_file.%s must be an absolute path", ns);
		return;
	}
	while (i < c->nns_save && strcmp(c->ns_save[i].ns, ns) != 0)
		i++;
	if (i == CONFIG_NS_SAVE_MAX) {
		config_warn(x, "at most %d save_file.NAME keys", CONFIG_NS_SAVE_MAX);
		return;
	}
	snprintf(c->ns_save[i].ns, sizeof(c->ns_save[i].ns), "%s", ns);
	snprintf(c->ns_save[i].file, sizeof(c->ns_save[i].file), "%s", value);
	if (i == c->nns_save)
		c->nns_save++;
}

const char *config_save_file(const struct nfp_config *c, const char *ns)
{
	if (!ns)
		return c->save_file;
	for (size_t i = 0; i < c->nns_save; i++)
		if (strcmp(c->ns_save[i].ns, ns) == 0)
			return c->ns_save[i].file;
	return NULL;
}

static void config_set(struct nfp_config *c, const char *key, char *value,
		       struct config_ctx *x)
{
	if (strcmp(key, "refresh") == 0) {
		double v;

		if (config_parse_decimal(value, &v) < 0 || v < CONFIG_REFRESH_MIN - 1e-9
		    || v > CONFIG_REFRESH_MAX)
			config_warn(x, "refresh must be between 0.2 and 60 seconds");
		else
			c->refresh = v;
	} else if (strcmp(key, "theme") == 0) {
		if (strlen(value) >= sizeof(c->theme))
			config_warn(x, "theme name longer than %zu characters",
				    sizeof(c->theme) - 1);
		else if (strpbrk(value, " \t"))
			config_warn(x, "theme name must be one word");
		else
			snprintf(c->theme, sizeof(c->theme), "%s", value);
	} else if (strcmp(key, "numeric") == 0) {
		bool v;

		if (config_parse_bool(value, &v) < 0)
			config_warn(x, "numeric must be yes or no");
		else
			c->numeric = v;
	} else if (strcmp(key, "columns") == 0) {
		config_set_columns(c, value, x);
	} else if (strcmp(key, "timeout") == 0) {
		char why[200];
		int v;

		if (config_timeout_parse(value, &v, why, sizeof(why)) < 0)
			config_warn(x, "timeout: %s", why);
		else
			c->timeout = v;
	} else if (strcmp(key, "trace_count") == 0 || strcmp(key, "trace_seconds") == 0 ||
		   strcmp(key, "trace_rate") == 0) {
		int *to = key[6] == 'c' ? &c->trace_count : key[6] == 's' ? &c->trace_seconds
			  : &c->trace_rate;
		long v;

		if (config_parse_int(value, &v) < 0 || v < 1 || v > CONFIG_TRACE_MAX)
			config_warn(x, "%s must be a number from 1 to %d", key, CONFIG_TRACE_MAX);
		else
			*to = (int)v;
	} else if (strncmp(key, "save_file.", 10) == 0) {
		config_set_ns_save(c, key + 10, value, x);
	} else if (strcmp(key, "save_file") == 0) {
		if (value[0] != '/' || strlen(value) >= sizeof(c->save_file))
			config_warn(x, "save_file must be an absolute path");
		else
			snprintf(c->save_file, sizeof(c->save_file), "%s", value);
	} else if (strcmp(key, "save_mode") == 0) {
		int m = config_mode_parse(value);

		if (m == -ERANGE)
			config_warn(x, "save_mode %s: at most 0755 (no set-id bits, no write for "
				    "group or others)", value);
		else if (m < 0)
			config_warn(x, "save_mode must be an octal mode such as 0640");
		else
			c->save_mode = m;
	} else {
		config_warn(x, "unknown key '%s'", key);
	}
}

int config_parse(struct nfp_config *c, FILE *fp, const char *fname,
		 void (*warn)(void *ctx, const char *msg), void *ctx)
{
	struct config_ctx x = { .fname = fname, .warn = warn, .ctx = ctx };
	char *line = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, fp) >= 0) {
		char *s = line, *eq, *key, *value;

		x.lineno++;
		s[strcspn(s, "#")] = '\0';
		s = fmt_trim(s);
		if (*s == '\0')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			config_warn(&x, "expected key = value");
			continue;
		}
		*eq = '\0';
		key = fmt_trim(s);
		value = fmt_trim(eq + 1);
		if (*key == '\0' || *value == '\0' || strpbrk(key, " \t")) {
			config_warn(&x, "expected key = value");
			continue;
		}
		config_set(c, key, value, &x);
	}
	free(line);
	if (ferror(fp)) {
		x.lineno = 0;
		config_warn(&x, "read error");
	}
	return x.problems;
}

/* parse path if it exists; missing is silent unless must_exist */
static int config_load_file(struct nfp_config *c, const char *path, bool must_exist,
			    void (*warn)(void *ctx, const char *msg), void *ctx)
{
	FILE *fp = fopen(path, "r");
	int n;

	if (!fp) {
		struct config_ctx x = { .fname = path, .warn = warn, .ctx = ctx };

		if (errno == ENOENT && !must_exist)
			return 0;
		config_warn(&x, "%s", strerror(errno));
		return x.problems;
	}
	n = config_parse(c, fp, path, warn, ctx);
	fclose(fp);
	return n;
}

int config_load(struct nfp_config *c, void (*warn)(void *ctx, const char *msg),
		void *ctx)
{
	const char *env = getenv("NFPILOT_CONFIG");
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char path[CONFIG_PATH_LEN];
	int n, w = -1;

	config_defaults(c);
	if (env && *env)
		return config_load_file(c, env, true, warn, ctx);
	n = config_load_file(c, "/etc/nfpilot.conf", false, warn, ctx);
	if (xdg && xdg[0] == '/')
		w = snprintf(path, sizeof(path), "%s/nfpilot/config", xdg);
	else if (home && home[0])
		w = snprintf(path, sizeof(path), "%s/.config/nfpilot/config", home);
	if (w > 0 && w < (int)sizeof(path))
		n += config_load_file(c, path, false, warn, ctx);
	return n;
}
