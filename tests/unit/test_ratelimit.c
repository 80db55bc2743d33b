/*
 * test_ratelimit.c: the publish token bucket on a simulated clock: full at
 * the start, refused takes with the wait that makes them succeed, refill
 * at the rate and never above the burst, takes larger than the burst,
 * a clock going backwards, and fractions of a token accumulating.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "core/ratelimit.h"

#define T0 1000000000LL		/* an arbitrary start, in microseconds */

/* Takes n at now; returns the result and sets *wait. */
static int
take(struct ratelimit *r, unsigned rate, unsigned burst, unsigned n,
    int64_t now, int64_t *wait)
{
	*wait = -12345;
	return ratelimit_take(r, rate, burst, n, now, wait);
}

/* The same take on a copy of r: a probe that leaves r as it was (each
 * look at the clock refills, and the refills of two looks need not add
 * up to one to the last bit). */
static int
probe(const struct ratelimit *r, unsigned rate, unsigned burst, unsigned n,
    int64_t now, int64_t *wait)
{
	struct ratelimit copy = *r;

	return take(&copy, rate, burst, n, now, wait);
}

static void
TEST_starts_full(void)
{
	struct ratelimit r;
	int64_t w;
	unsigned i;

	ratelimit_init(&r, 10, T0);
	CU_ASSERT_EQUAL(take(&r, 100, 10, 10, T0, &w), 0);
	CU_ASSERT_EQUAL(w, 0);
	CU_ASSERT_EQUAL(take(&r, 100, 10, 1, T0, &w), -1);

	/* One at a time, the same. */
	ratelimit_init(&r, 5, T0);
	for (i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(take(&r, 1, 5, 1, T0, &w), 0);
		CU_ASSERT_EQUAL(w, 0);
	}
	CU_ASSERT_EQUAL(take(&r, 1, 5, 1, T0, &w), -1);
	CU_ASSERT(w > 0);

	/* Taking nothing always works, even when empty. */
	CU_ASSERT_EQUAL(take(&r, 1, 5, 0, T0, &w), 0);
	CU_ASSERT_EQUAL(w, 0);
}

static void
TEST_refused_wait(void)
{
	struct ratelimit r;
	int64_t w;

	/* 100 a second: one token is 10 ms away. */
	ratelimit_init(&r, 10, T0);
	CU_ASSERT_EQUAL(take(&r, 100, 10, 10, T0, &w), 0);
	CU_ASSERT_EQUAL(take(&r, 100, 10, 1, T0, &w), -1);
	CU_ASSERT(w >= 10000 && w <= 10001);
	CU_ASSERT_EQUAL(take(&r, 100, 10, 3, T0, &w), -1);
	CU_ASSERT(w >= 30000 && w <= 30001);
	CU_ASSERT_EQUAL(take(&r, 100, 10, 10, T0, &w), -1);
	CU_ASSERT(w >= 100000 && w <= 100001);
	/* Refusals took nothing: 3 tokens 30 ms later, not 2. */
	CU_ASSERT_EQUAL(take(&r, 100, 10, 3, T0 + 29998, &w), -1);
	CU_ASSERT(w >= 2 && w <= 3);
	CU_ASSERT_EQUAL(take(&r, 100, 10, 3, T0 + 30001, &w), 0);
	CU_ASSERT_EQUAL(take(&r, 100, 10, 1, T0 + 30001, &w), -1);
	CU_ASSERT(w >= 9999 && w <= 10001);

	/* Part of a token left: the wait is for the rest only. */
	ratelimit_init(&r, 10, T0);
	CU_ASSERT_EQUAL(take(&r, 10, 10, 10, T0, &w), 0);
	CU_ASSERT_EQUAL(take(&r, 10, 10, 1, T0 + 150000, &w), 0);
	CU_ASSERT_EQUAL(take(&r, 10, 10, 1, T0 + 150000, &w), -1);
	CU_ASSERT(w >= 50000 && w <= 50001);
	CU_ASSERT_EQUAL(take(&r, 10, 10, 1, T0 + 150000 + w, &w), 0);
}

static void
TEST_refill_at_rate(void)
{
	struct ratelimit r;
	int64_t w, t;

	/* The daemon's defaults: 1000 a second, 2000 at most. */
	ratelimit_init(&r, 2000, T0);
	CU_ASSERT_EQUAL(take(&r, 1000, 2000, 2000, T0, &w), 0);
	CU_ASSERT_EQUAL(probe(&r, 1000, 2000, 500, T0 + 499999, &w), -1);
	CU_ASSERT(w >= 1 && w <= 2);
	CU_ASSERT_EQUAL(take(&r, 1000, 2000, 500, T0 + 500000, &w), 0);
	CU_ASSERT_EQUAL(take(&r, 1000, 2000, 1, T0 + 500000, &w), -1);
	CU_ASSERT_EQUAL(take(&r, 1000, 2000, 500, T0 + 1000000, &w), 0);
	CU_ASSERT_EQUAL(take(&r, 1000, 2000, 1, T0 + 1000000, &w), -1);
	/* A steady 1000 a second is sustained, and no more. */
	for (t = T0 + 1001000; t <= T0 + 60000000; t += 1000)
		CU_ASSERT_EQUAL_FATAL(take(&r, 1000, 2000, 1, t, &w), 0);
	CU_ASSERT_EQUAL(take(&r, 1000, 2000, 1, t - 1000, &w), -1);
}

static void
TEST_never_above_burst(void)
{
	struct ratelimit r;
	int64_t w, t = T0;

	ratelimit_init(&r, 50, t);
	CU_ASSERT_EQUAL(take(&r, 1000, 50, 1, t, &w), 0);
	/* An hour idle fills it to the burst, no more. */
	t += 3600LL * 1000000;
	CU_ASSERT_EQUAL(take(&r, 1000, 50, 50, t, &w), 0);
	CU_ASSERT_EQUAL(take(&r, 1000, 50, 1, t, &w), -1);
	CU_ASSERT(w >= 1000 && w <= 1001);
	/* Idle in many small steps (each refills), the same. */
	for (t += 1000; t < T0 + 3700LL * 1000000; t += 1000)
		CU_ASSERT_EQUAL(take(&r, 1000, 50, 0, t, &w), 0);
	CU_ASSERT_EQUAL(take(&r, 1000, 50, 50, t, &w), 0);
	CU_ASSERT_EQUAL(take(&r, 1000, 50, 1, t, &w), -1);
	/* A clock a year on. */
	t += 365LL * 86400 * 1000000;
	CU_ASSERT_EQUAL(take(&r, 4000000000u, 50, 50, t, &w), 0);
	CU_ASSERT_EQUAL(take(&r, 1000, 50, 1, t, &w), -1);
}

static void
TEST_more_than_burst(void)
{
	struct ratelimit r;
	int64_t w;

	ratelimit_init(&r, 10, T0);
	/* Never possible: wait -1, and nothing taken. */
	CU_ASSERT_EQUAL(take(&r, 100, 10, 11, T0, &w), -1);
	CU_ASSERT_EQUAL(w, -1);
	CU_ASSERT_EQUAL(take(&r, 100, 10, 4000000000u, T0, &w), -1);
	CU_ASSERT_EQUAL(w, -1);
	CU_ASSERT_EQUAL(take(&r, 100, 10, 10, T0, &w), 0);
	/* Empty, the answer is the same. */
	CU_ASSERT_EQUAL(take(&r, 100, 10, 11, T0, &w), -1);
	CU_ASSERT_EQUAL(w, -1);
	/* A burst of 0 refuses everything but nothing. */
	ratelimit_init(&r, 0, T0);
	CU_ASSERT_EQUAL(take(&r, 100, 0, 1, T0 + 1000000, &w), -1);
	CU_ASSERT_EQUAL(w, -1);
	CU_ASSERT_EQUAL(take(&r, 100, 0, 0, T0 + 1000000, &w), 0);
}

static void
TEST_clock_backwards(void)
{
	struct ratelimit r;
	int64_t w;

	ratelimit_init(&r, 10, T0);
	CU_ASSERT_EQUAL(take(&r, 100, 10, 10, T0, &w), 0);
	/* Half a second back: nothing added, a sane wait. */
	CU_ASSERT_EQUAL(take(&r, 100, 10, 1, T0 - 500000, &w), -1);
	CU_ASSERT(w > 0 && w <= 10001);
	CU_ASSERT_EQUAL(take(&r, 100, 10, 1, INT64_MIN / 2, &w), -1);
	CU_ASSERT(w > 0 && w <= 10001);
	/* Coming forward again counts from the latest time seen: 10 ms
	 * after T0 is one token, not 51. */
	CU_ASSERT_EQUAL(take(&r, 100, 10, 2, T0 + 10000, &w), -1);
	CU_ASSERT_EQUAL(take(&r, 100, 10, 1, T0 + 10000, &w), 0);
	CU_ASSERT_EQUAL(take(&r, 100, 10, 1, T0 + 10000, &w), -1);

	/* A bucket started at a negative time works as well. */
	ratelimit_init(&r, 3, -5000000);
	CU_ASSERT_EQUAL(take(&r, 1, 3, 3, -5000000, &w), 0);
	CU_ASSERT_EQUAL(probe(&r, 1, 3, 1, -4000001, &w), -1);
	CU_ASSERT_EQUAL(take(&r, 1, 3, 1, -4000000, &w), 0);
}

static void
TEST_fractions_accumulate(void)
{
	struct ratelimit r;
	int64_t w, t;
	unsigned steps;

	/* 3 a second, looked at every millisecond: a third of a token
	 * takes 333.3 ms, so the 334th look is the first to get one. */
	ratelimit_init(&r, 1, T0);
	CU_ASSERT_EQUAL(take(&r, 3, 1, 1, T0, &w), 0);
	for (steps = 1, t = T0 + 1000; steps < 1000; steps++, t += 1000)
		if (take(&r, 3, 1, 1, t, &w) == 0)
			break;
	CU_ASSERT_EQUAL(steps, 334);

	/* The wait is rounded up, not down. */
	ratelimit_init(&r, 1, T0);
	CU_ASSERT_EQUAL(take(&r, 3, 1, 1, T0, &w), 0);
	CU_ASSERT_EQUAL(take(&r, 3, 1, 1, T0, &w), -1);
	CU_ASSERT(w >= 333334 && w <= 333335);
	CU_ASSERT_EQUAL(take(&r, 3, 1, 1, T0 + 333332, &w), -1);
	CU_ASSERT_EQUAL(take(&r, 3, 1, 1, T0 + 333334, &w), 0);

	/* One a second, to the microsecond. */
	ratelimit_init(&r, 1, T0);
	CU_ASSERT_EQUAL(take(&r, 1, 1, 1, T0, &w), 0);
	CU_ASSERT_EQUAL(probe(&r, 1, 1, 1, T0 + 999999, &w), -1);
	CU_ASSERT(w >= 1 && w <= 2);
	CU_ASSERT_EQUAL(take(&r, 1, 1, 1, T0 + 1000000, &w), 0);

	/* A million a second: a token a microsecond. */
	ratelimit_init(&r, 1000, T0);
	CU_ASSERT_EQUAL(take(&r, 1000000, 1000, 1000, T0, &w), 0);
	CU_ASSERT_EQUAL(take(&r, 1000000, 1000, 7, T0 + 6, &w), -1);
	CU_ASSERT(w >= 1 && w <= 2);
	CU_ASSERT_EQUAL(take(&r, 1000000, 1000, 7, T0 + 7, &w), 0);
}

/*
 * Seeded random use: every refusal's wait is right, i.e. the same take
 * fails 2 us early and succeeds on time; the bucket never hands out more
 * than burst + rate * elapsed.
 */
static void
TEST_random_waits_are_right(void)
{
	struct ratelimit r;
	uint32_t seed = 777;
	unsigned rate, burst, n, i, round, bad = 0;
	int64_t t, w, w2;
	double taken;

	for (round = 0; round < 200; round++) {
		seed = seed * 1103515245 + 12345;
		rate = 1 + (seed >> 8) % 5000;
		seed = seed * 1103515245 + 12345;
		burst = 1 + (seed >> 8) % 5000;
		t = T0;
		taken = 0;
		ratelimit_init(&r, burst, t);
		for (i = 0; i < 500; i++) {
			seed = seed * 1103515245 + 12345;
			t += (seed >> 8) % 20000;
			seed = seed * 1103515245 + 12345;
			n = 1 + (seed >> 8) % (burst < 50 ? burst : 50);
			if (take(&r, rate, burst, n, t, &w) == 0) {
				taken += n;
				continue;
			}
			if (w < 1) {
				bad++;
				continue;
			}
			if (w >= 2 && probe(&r, rate, burst, n, t + w - 2,
			    &w2) == 0)
				bad++;
			if (probe(&r, rate, burst, n, t + w, &w2) != 0)
				bad++;
		}
		if (taken > burst + (double)(t - T0) * rate / 1e6 + 1e-6)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
}

void
test_ratelimit_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_starts_full", TEST_starts_full },
		{ "TEST_refused_wait", TEST_refused_wait },
		{ "TEST_refill_at_rate", TEST_refill_at_rate },
		{ "TEST_never_above_burst", TEST_never_above_burst },
		{ "TEST_more_than_burst", TEST_more_than_burst },
		{ "TEST_clock_backwards", TEST_clock_backwards },
		{ "TEST_fractions_accumulate", TEST_fractions_accumulate },
		{ "TEST_random_waits_are_right", TEST_random_waits_are_right },
		{ NULL, NULL }
	};

	unit_add_suite("ratelimit", tests);
}
