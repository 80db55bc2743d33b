/*
 * test_waitcount.c: the in-flight count: waiting for zero with nothing in
 * flight, a timeout while something is, and a wakeup from another thread.
 */
#include <pthread.h>
#include <time.h>

#include "unit.h"
#include "core/isotime.h"
#include "core/waitcount.h"

static void *
finish_later(void *arg)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	struct waitcount *w = arg;

	nanosleep(&pause, NULL);
	waitcount_done(w);
	waitcount_done(w);
	return NULL;
}

static void
TEST_waitcount(void)
{
	struct waitcount w;
	pthread_t t;
	int64_t start;

	waitcount_init(&w);
	CU_ASSERT_EQUAL(waitcount_wait(&w, 0), 0);
	waitcount_add(&w);
	start = isotime_mono_ms();
	CU_ASSERT_EQUAL(waitcount_wait(&w, 30), -1);
	CU_ASSERT(isotime_mono_ms() - start >= 30);
	waitcount_add(&w);
	CU_ASSERT_EQUAL(pthread_create(&t, NULL, finish_later, &w), 0);
	/* Woken by the last done, long before the 10 s bound. */
	CU_ASSERT_EQUAL(waitcount_wait(&w, 10000), 0);
	pthread_join(t, NULL);
	waitcount_destroy(&w);
}

/* A deadline lies timeout_ms ahead on the monotonic clock. */
static void
TEST_deadline(void)
{
	struct timespec now, d;
	int64_t diff_ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	wait_deadline(1500, &d);
	CU_ASSERT(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
	diff_ms = (int64_t)(d.tv_sec - now.tv_sec) * 1000 +
	    (d.tv_nsec - now.tv_nsec) / 1000000;
	CU_ASSERT(diff_ms >= 1500 && diff_ms < 1600);
}

void
test_waitcount_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_waitcount", TEST_waitcount },
		{ "TEST_deadline", TEST_deadline },
		{ NULL, NULL }
	};

	unit_add_suite("waitcount", tests);
}
