/* ct_print: tracked connections as text lines (the columns of ct.h,
 * aligned) and as JSON objects, written to a FILE a row at a time so a
 * listing can stream. Only numbers, addresses and fixed names are printed:
 * nothing from the kernel reaches the terminal as text. */
#ifndef NFP_CT_PRINT_H
#define NFP_CT_PRINT_H

#include "conntrack/ct.h"

#include <stdbool.h>
#include <stdio.h>

struct ct_print_opts {
	struct ct_fmt_opts fmt;
	const enum ct_col *cols;   /* columns of a text row */
	int ncols;
};

/* The default columns of `nfpilot ct list` (with_age: timestamps are on). */
int ct_print_default_cols(enum ct_col *cols, int max, bool with_age);

void ct_print_header(FILE *fp, const struct ct_print_opts *o);
void ct_print_row(FILE *fp, const struct ct_entry *e, const struct ct_print_opts *o);

/* One connection as a JSON object (format in nfpilot(8)), no newline. */
void ct_print_json(FILE *fp, const struct ct_entry *e);

#endif
