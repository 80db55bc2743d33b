/*
 * waitcount.c: monotonic deadlines and the in-flight count. Thread-safe.
 */
#include <errno.h>

#include "core/waitcount.h"

int
wait_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	int rc;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	rc = pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
	return rc;
}

void
wait_deadline(unsigned timeout_ms, struct timespec *out)
{
	wait_deadline_on(CLOCK_MONOTONIC, timeout_ms, out);
}

void
wait_deadline_on(clockid_t clock, unsigned timeout_ms, struct timespec *out)
{
	clock_gettime(clock, out);
	out->tv_sec += timeout_ms / 1000;
	out->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (out->tv_nsec >= 1000000000L) {
		out->tv_sec++;
		out->tv_nsec -= 1000000000L;
	}
}

void
waitcount_init(struct waitcount *w)
{
	pthread_mutex_init(&w->lock, NULL);
	wait_cond_init(&w->zero);
	w->count = 0;
}

void
waitcount_destroy(struct waitcount *w)
{
	pthread_cond_destroy(&w->zero);
	pthread_mutex_destroy(&w->lock);
}

void
waitcount_add(struct waitcount *w)
{
	pthread_mutex_lock(&w->lock);
	w->count++;
	pthread_mutex_unlock(&w->lock);
}

void
waitcount_done(struct waitcount *w)
{
	pthread_mutex_lock(&w->lock);
	if (--w->count == 0)
		pthread_cond_broadcast(&w->zero);
	pthread_mutex_unlock(&w->lock);
}

int
waitcount_wait(struct waitcount *w, unsigned timeout_ms)
{
	struct timespec deadline;
	int rc = 0;

	wait_deadline(timeout_ms, &deadline);
	pthread_mutex_lock(&w->lock);
	while (w->count > 0 && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->zero, &w->lock, &deadline);
	rc = w->count > 0 ? -1 : 0;
	pthread_mutex_unlock(&w->lock);
	return rc;
}
