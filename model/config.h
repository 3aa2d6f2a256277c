/* config: the user's settings. Owns struct nfp_config, its defaults, the
 * table of rule-list columns (CONFIG_COLUMNS) and the parser of
 * /etc/nfpilot.conf and ~/.config/nfpilot/config. Pure apart from opening
 * those files; no ncurses.
 *
 * File format: "key = value" lines, '#' starts a comment, blank lines are
 * ignored; a later value overrides an earlier one. Keys:
 *
 *	refresh = 1        counter refresh, seconds, 0.2 .. 60
 *	theme   = default  theme name or path (see ui/theme.h)
 *	numeric = yes      ports and protocols as numbers (yes/no, true/false,
 *	                   on/off, 1/0)
 *	columns = num, pkts, bytes, pps, bps, history, handle, rule
 *	                   rule-list columns in order; "rule" is required
 *	timeout = 60       probation time of an applied change, seconds,
 *	                   integer CONFIG_TIMEOUT_MIN .. CONFIG_TIMEOUT_MAX
 *	save_file = /etc/nftables.conf
 *	                   where S and `nfpilot save` write the machine's
 *	                   ruleset, and what the "not saved" indicator
 *	                   compares with
 *	save_file.NAME = /etc/nft/NAME.nft
 *	                   the same for network namespace NAME (`ip netns`
 *	                   name, or ns-INODE): a namespace has no default
 *	save_mode = 0640   the saved file's mode (octal); at most 0755: no
 *	                   set-id bits, no write for group or others. Unset:
 *	                   the previous file's bits, never more than 0644
 *	trace_count = 100  the live view's trace (l) ends after this many
 *	trace_seconds = 300  ... or seconds
 *	trace_rate = 100   ... and marks at most this many packets a second
 *	                   (each 1 .. CONFIG_TRACE_MAX) */
#ifndef NFP_CONFIG_H
#define NFP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* X(ID, "name") in default order */
#define CONFIG_COLUMNS(X) \
	X(NUM, "num") \
	X(PKTS, "pkts") \
	X(BYTES, "bytes") \
	X(PPS, "pps") \
	X(BPS, "bps") \
	X(HISTORY, "history") \
	X(HANDLE, "handle") \
	X(RULE, "rule")

enum config_column {
#define CONFIG_COLUMN_ENUM(id, name) COL_##id,
	CONFIG_COLUMNS(CONFIG_COLUMN_ENUM)
#undef CONFIG_COLUMN_ENUM
	COL_COUNT
};

#define CONFIG_REFRESH_MIN 0.2
#define CONFIG_REFRESH_MAX 60.0
/* The probation time of an applied change, in seconds: the config key
 * timeout, the live view's --timeout and that of every verb that applies a
 * change all take it through config_timeout_parse, the one check. */
#define CONFIG_TIMEOUT_MIN 10
#define CONFIG_TIMEOUT_MAX 3600
#define CONFIG_TIMEOUT_DEFAULT 60
/* ... as text, for the help: "10..3600", "60" */
#define CONFIG_STR_(x) #x
#define CONFIG_STR(x) CONFIG_STR_(x)
#define CONFIG_TIMEOUT_RANGE CONFIG_STR(CONFIG_TIMEOUT_MIN) ".." CONFIG_STR(CONFIG_TIMEOUT_MAX)
#define CONFIG_NS_SAVE_MAX 16
#define CONFIG_TRACE_MAX 100000
#define CONFIG_SAVE_MODE_MAX 0755   /* SAFEFILE_MODE_MAX: ui/ parses, apply/ writes */

struct nfp_config {
	double refresh;              /* seconds */
	char theme[64];              /* theme name or path */
	bool numeric;                /* ports and protocols as numbers */
	unsigned char columns[16];   /* enum config_column, in display order */
	size_t ncolumns;             /* each column at most once; COL_RULE always */
	int timeout;                 /* probation seconds before auto-revert */
	int trace_count, trace_seconds, trace_rate; /* the live view's trace */
	char save_file[256];         /* the boot-time ruleset file */
	int save_mode;               /* its mode as asked (octal, at most 0755), or -1:
				      * the previous file's bits within 0644 */
	struct {
		char ns[64];
		char file[256];
	} ns_save[CONFIG_NS_SAVE_MAX]; /* save_file.NAME */
	size_t nns_save;
};

/* The boot file of namespace ns (NULL: the machine's own): save_file, or
 * save_file.NS for a namespace; NULL when the namespace has none (a
 * namespace never gets the machine's file). */
const char *config_save_file(const struct nfp_config *c, const char *ns);

/* "pkts" for COL_PKTS; NULL when out of range */
const char *config_column_name(enum config_column col);

/* the column called name, or -EINVAL */
int config_column_parse(const char *name);

/* A file mode as the admin writes it: octal digits ("644", "0640"),
 * at most CONFIG_SAVE_MODE_MAX. The mode, or -EINVAL / -ERANGE. */
int config_mode_parse(const char *s);

/* A probation time as the admin writes it: whole seconds (digits only)
 * from CONFIG_TIMEOUT_MIN to CONFIG_TIMEOUT_MAX. 0 with *out set, or
 * -EINVAL with err = "seconds from 10 to 3600, not 'S'" (S as given). */
int config_timeout_parse(const char *s, int *out, char *err, size_t errlen);

/* refresh 1, theme "default", numeric, every column in table order,
 * timeout CONFIG_TIMEOUT_DEFAULT, save_mode -1 */
void config_defaults(struct nfp_config *c);

/* Apply the settings in fp (named fname in messages) on top of *c. A bad
 * line changes nothing and parsing goes on; each problem is passed to warn
 * (may be NULL) as "FILE:LINE: message". Returns the number of problems. */
int config_parse(struct nfp_config *c, FILE *fp, const char *fname,
		 void (*warn)(void *ctx, const char *msg), void *ctx);

/* Defaults, then /etc/nfpilot.conf, then $XDG_CONFIG_HOME/nfpilot/config
 * (~/.config/nfpilot/config); or only the file named by $NFPILOT_CONFIG
 * when that is set. Missing default files are silent, an unreadable file
 * or a missing $NFPILOT_CONFIG is a warning. Returns the number of
 * problems (0 when all is well). */
int config_load(struct nfp_config *c, void (*warn)(void *ctx, const char *msg),
		void *ctx);

#endif
