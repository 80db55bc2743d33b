/*
 * ratelimit.h: a token bucket, for the publish rate of one WebSocket
 * connection: it refills at rate tokens a second up to burst, and a publish
 * of n events takes n tokens or is refused whole. Not thread-safe: a
 * bucket belongs to one connection on the WebSocket service thread.
 */
#ifndef SLUICE_RATELIMIT_H
#define SLUICE_RATELIMIT_H

#include <stdint.h>

struct ratelimit {
	double	 tokens;
	int64_t	 last_us;	/* when tokens was last brought up to date */
};

/* Starts a full bucket at time now_us (any monotonic clock). */
void ratelimit_init(struct ratelimit *r, unsigned burst, int64_t now_us);

/*
 * Takes n tokens at time now_us. Returns 0 when taken; -1 when there are
 * fewer than n, nothing taken, with *wait_us set to how long until there
 * are n (or -1 when n is more than burst: never).
 */
int ratelimit_take(struct ratelimit *r, unsigned rate, unsigned burst,
    unsigned n, int64_t now_us, int64_t *wait_us);

#endif
