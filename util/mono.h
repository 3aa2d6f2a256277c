/* mono: the monotonic clock in seconds, for timeouts and durations. */
#ifndef NFP_MONO_H
#define NFP_MONO_H

/* CLOCK_MONOTONIC as seconds. */
double mono_now(void);

#endif
