/*
 * waitcount.h: waiting with a deadline on the monotonic clock: condition
 * variables timed on CLOCK_MONOTONIC, absolute deadlines for them, and a
 * count of things in flight that shutdown waits to reach zero (requests
 * waiting for the journal, scrapes waiting for the hub). Thread-safe.
 */
#ifndef SLUICE_WAITCOUNT_H
#define SLUICE_WAITCOUNT_H

#include <pthread.h>
#include <time.h>

/* Initializes cond to be timed against CLOCK_MONOTONIC. Returns 0 or an
 * errno value, as pthread_cond_init. */
int wait_cond_init(pthread_cond_t *cond);

/* Sets *out to timeout_ms from now on CLOCK_MONOTONIC, for a
 * pthread_cond_timedwait on a condition from wait_cond_init. */
void wait_deadline(unsigned timeout_ms, struct timespec *out);

/* The same on another clock (CLOCK_REALTIME for pthread_timedjoin_np). */
void wait_deadline_on(clockid_t clock, unsigned timeout_ms,
    struct timespec *out);

struct waitcount {
	pthread_mutex_t	lock;
	pthread_cond_t	zero;		/* count reached 0 */
	unsigned	count;
};

void waitcount_init(struct waitcount *w);
void waitcount_destroy(struct waitcount *w);

/* One more in flight. */
void waitcount_add(struct waitcount *w);

/* One fewer; wakes the waiters when none is left. */
void waitcount_done(struct waitcount *w);

/* Waits up to timeout_ms for the count to reach 0. Returns 0, or -1 when
 * some are still in flight. */
int waitcount_wait(struct waitcount *w, unsigned timeout_ms);

#endif
