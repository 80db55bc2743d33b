/*
 * ratelimit.c: token buckets. Single-threaded per bucket.
 */
#include "core/ratelimit.h"

void
ratelimit_init(struct ratelimit *r, unsigned burst, int64_t now_us)
{
	r->tokens = burst;
	r->last_us = now_us;
}

int
ratelimit_take(struct ratelimit *r, unsigned rate, unsigned burst,
    unsigned n, int64_t now_us, int64_t *wait_us)
{
	double missing;

	if (now_us > r->last_us) {
		r->tokens += (double)(now_us - r->last_us) * rate / 1e6;
		if (r->tokens > burst)
			r->tokens = burst;
		r->last_us = now_us;
	}
	if (n > burst) {
		*wait_us = -1;
		return -1;
	}
	if (r->tokens >= n) {
		r->tokens -= n;
		*wait_us = 0;
		return 0;
	}
	missing = n - r->tokens;
	*wait_us = (int64_t)(missing * 1e6 / rate) + 1;
	return -1;
}
