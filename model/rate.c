#include "model/rate.h"

#include <string.h>

void rate_update(struct nfp_rate *r, uint64_t packets, uint64_t bytes, double now)
{
	double dt = now - r->when;

	if (r->when > 0 && dt > 0) {
		bool down = packets < r->packets || bytes < r->bytes;

		r->pps = down ? 0 : (double)(packets - r->packets) / dt;
		r->bps = down ? 0 : (double)(bytes - r->bytes) / dt;
		r->moved = !down && packets != r->packets;
		r->head = (uint8_t)((r->head + 1) % RATE_HISTORY);
		r->hist[r->head] = (float)r->pps;
		if (r->nhist < RATE_HISTORY)
			r->nhist++;
	} else if (r->when > 0) {
		return; /* same instant: nothing to learn */
	}
	r->packets = packets;
	r->bytes = bytes;
	r->when = now;
}

float rate_hist_at(const struct nfp_rate *r, unsigned i)
{
	return r->hist[(r->head + RATE_HISTORY - i % RATE_HISTORY) % RATE_HISTORY];
}

float rate_hist_max(const struct nfp_rate *r, unsigned width)
{
	unsigned n = r->nhist < width ? r->nhist : width;
	float max = 0;

	for (unsigned i = 0; i < n; i++)
		if (rate_hist_at(r, i) > max)
			max = rate_hist_at(r, i);
	return max;
}

char *rate_spark(const struct nfp_rate *r, unsigned width, float scale, bool utf8, char *buf)
{
	static const char ascii[] = " .:-=+*#";
	float max = scale > 0 ? scale : rate_hist_max(r, width);
	unsigned n = r->nhist < width ? r->nhist : width;
	char *o = buf;
	for (unsigned cell = 0; cell < width; cell++) {
		/* right-aligned: the newest sample is the last cell */
		unsigned age = width - 1 - cell;
		int level = -1; /* no sample */

		if (age < n)
			level = max > 0 ? (int)(rate_hist_at(r, age) / max * 7.0f + 0.5f) : 0;
		if (level < 0) {
			*o++ = ' ';
		} else if (utf8) {
			/* U+2581 + level: E2 96 81..88 */
			*o++ = (char)0xe2;
			*o++ = (char)0x96;
			*o++ = (char)(0x81 + level);
		} else {
			*o++ = ascii[level];
		}
	}
	*o = 0;
	return buf;
}
