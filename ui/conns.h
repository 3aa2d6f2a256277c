/* conns: the state of the tracked connections screen (ui/conns.c, key 2):
 * the table as loaded and followed, the rows a filter keeps, sorted. */
#ifndef NFP_CONNS_H
#define NFP_CONNS_H

#include "conntrack/ct_dump.h"
#include "conntrack/ct_events.h"
#include "conntrack/ct_rows.h"
#include "conntrack/ct_sys.h"
#include "ui/keymap.h"
#include "ui/list.h"
#include "sandbox/stale.h"

#include <stdbool.h>
#include <stdint.h>

struct view;

struct conns_view {
	struct ct_table t;
	struct ct_rows rows;       /* what the filter keeps, sorted */
	struct ct_filter f;
	char ftext[256];
	enum ct_col sort;
	bool reverse;
	struct list l;             /* over rows */
	uint32_t sel_id;           /* the selected entry, kept across re-sorts */
	struct ct_dump dump;
	bool dumping;
	struct ct_events ev;
	bool ev_open;
	struct ct_sys sys;
	bool sys_ok;
	struct ct_totals tot;
	bool any_mark, any_zone;   /* some entry has one: the column is shown */
	double dump_started, last_sync, sync_cost, last_purge, rebuilt, rebuild_cost;
	bool stale;                /* the rows need a rebuild */
	enum action pending;       /* what the y/N question is for */
	/* the connections the live ruleset no longer admits (key !): the
	 * check runs in slices in the background, whatever is shown */
	struct stale check;
	bool checking;
	bool check_ready;          /* the sandbox's interfaces can send */
	bool check_show;           /* show them once the check is done */
	struct ct_entry *refused;  /* its answer: sorted by id */
	size_t nrefused, nchecked;
	bool have_refused;         /* a check has answered ... */
	uint32_t refused_gen;      /* ... about the ruleset of this generation */
	bool only_refused;         /* the rows: those only */
	char block_addr[64];
	char err[256];
};

/* From the ruleset screen: the connections the rule with this text would
 * match, as a filter (shown in the prompt, to use or change). */
void conns_show_rule(struct view *v, const char *rule_text);
/* The connection selected (NULL: none): the detail screen's. */
struct ct_entry;
const struct ct_entry *conns_selected(const struct view *v);

/* Start the check of which established connections the live ruleset no
 * longer admits (after an apply; again if one runs): its answer on the
 * status line, and on ! (show: show them when it is done). */
void conns_check_start(struct view *v, bool show);
/* ! on any main screen. */
void conns_show_refused(struct view *v);

#endif
