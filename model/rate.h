/* rate: packets/s and bytes/s of a counter between two readings, and a
 * short history of the packet rate for a sparkline. Pure: the caller passes
 * the time of each reading (seconds, monotonic). */
#ifndef NFP_RATE_H
#define NFP_RATE_H

#include <stdbool.h>
#include <stdint.h>

#define RATE_HISTORY 16

struct nfp_rate {
	uint64_t packets, bytes;  /* at the last reading */
	double when;              /* time of the last reading; 0 = none yet */
	double pps, bps;          /* rate over the last interval */
	bool moved;               /* packets changed at the last reading */
	uint8_t nhist;            /* valid samples in hist (<= RATE_HISTORY) */
	uint8_t head;             /* index of the newest sample */
	float hist[RATE_HISTORY]; /* packets/s, newest at head */
};

/* Record a reading. A counter that went down (zeroed, or a rule replaced)
 * restarts the rate at 0 instead of showing a huge bogus number. */
void rate_update(struct nfp_rate *r, uint64_t packets, uint64_t bytes, double now);

/* The i-th most recent packet rate (0 = newest); i < r->nhist. */
float rate_hist_at(const struct nfp_rate *r, unsigned i);

/* The largest of the width most recent samples. */
float rate_hist_max(const struct nfp_rate *r, unsigned width);

/* Render the history as a sparkline of width cells, oldest left, newest
 * right, scaled so that scale is a full bar (the largest of a chain's
 * rules: one packet next to a busy rule draws low), or, scale 0, to r's
 * own largest sample. utf8: block characters (U+2581..U+2588), else ASCII
 * " .:-=+*#". Returns buf (size >= 3*width+1). */
char *rate_spark(const struct nfp_rate *r, unsigned width, float scale, bool utf8, char *buf);

#endif
