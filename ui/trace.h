/* trace: the state of the trace screen (ui/trace.c, key 3): the live
 * trace running (nft/trace.h: its socket joins the main loop's poll), the
 * entries shown — packets traced and answers to why, each its header line
 * then its path — as lines a list moves over, the rules they passed
 * through (marked on the ruleset screen), and the live view's sandbox
 * (sandbox/sandbox.h), kept from the first question on. */
#ifndef NFP_TRACE_VIEW_H
#define NFP_TRACE_VIEW_H

#include "conntrack/ct.h"
#include "nft/trace.h"
#include "sandbox/sandbox.h"
#include "ui/list.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct view;

struct trace_entry {
	struct trace_packet *p;
	char title[300];           /* "packet 3" or "why tcp 10.0.0.2:4000 -> ..." */
	char how[300];             /* an answer's "asked in a sandbox: ...", else "" */
	char **notes;              /* an answer's notes, one line each */
	size_t nnotes;
};

/* a line of the screen: an entry's part */
enum trace_line_kind { TL_TITLE, TL_HOW, TL_NAT, TL_STEP, TL_VERDICT, TL_NOTE };

struct trace_line {
	size_t entry;
	enum trace_line_kind kind;
	size_t i;                  /* TL_NAT, TL_STEP: the step; TL_NOTE: the note */
};

/* a rule the entries passed through */
struct trace_rule {
	uint32_t family;
	char *table, *chain;
	uint64_t handle;
};

struct trace_view {
	struct trace t;
	bool on;                   /* tracing now */
	char filter[1024];         /* the filter it traces (connections filter words) */
	/* a trace of a rule: only packets through its chain are kept */
	uint32_t family;
	char table[256], chain[256]; /* "" when none */
	char pend_table[256], pend_chain[256]; /* the prompt's, until Enter */
	uint32_t pend_family;
	long seen, left_out;       /* packets kept; not through the chain */
	double started;
	uint32_t described_gen;    /* the ruleset entries' text was taken from */
	bool missing;              /* a rule's text was not there */
	double described_at;
	bool dirty;                /* packets came since the last draw */
	double drawn_at;

	struct trace_entry *e;
	size_t n, cap;
	struct trace_line *lines;
	size_t nlines, lines_cap;
	struct list l;
	struct trace_rule *passed;
	size_t npassed, passed_cap;

	/* why: the sandbox, made at the first question, made anew when the
	 * ruleset moved on; the staged edits staged in it by differences */
	struct sandbox sb;
	bool sb_open;
	uint32_t sb_gen;           /* the host's generation it stands for */
	char question[1024];
	double answer_ms;          /* the last answer's time (for the status line) */
};

/* From the ruleset screen: a trace of the rule with this text in chain
 * family/table/chain — its filter in the prompt, to use or change. */
void trace_of_rule(struct view *v, uint32_t family, const char *table, const char *chain,
		   const char *rule_text);
/* From the connections screen: a trace of connection e's flow (both
 * directions), in the prompt. */
void trace_of_conn(struct view *v, const struct ct_entry *e);
/* The why prompt (prefill: a packet, or NULL for the last question). */
void trace_why(struct view *v, const char *prefill);
/* The session's sandbox, of the ruleset on screen with the staged edits
 * (made when the ruleset moved on, staged by differences when the edits
 * changed: sandbox_stage): for why's answers, the lockout pre-check of W
 * (check/lockout.h) and the effect check of o, b and typed rules
 * (check/effect.h: pass &v->trace.sb_open as its open). NULL with err
 * filled. */
struct sandbox *trace_sandbox(struct view *v, char *err, size_t errlen);
/* Whether the entries shown passed through this rule. */
bool trace_passed(const struct view *v, uint32_t family, const char *table, const char *chain,
		  uint64_t handle);

#endif
