/*
 * http_park.c: suspend until answered, without a lock: the phase moves
 * from STARTED to PARKED (the handler) or to DONE (the worker), and
 * whichever comes second does the resuming.
 */
#include <errno.h>
#include <time.h>

#include "http/http_park.h"

enum {
	HTTP_PARK_STARTED,	/* the handler has not parked yet */
	HTTP_PARK_PARKED,	/* suspended, waiting for the answer */
	HTTP_PARK_DONE		/* the answer is in */
};

void
http_park_begin(struct http_park *p, struct MHD_Connection *c)
{
	p->conn = c;
	atomic_store(&p->phase, HTTP_PARK_STARTED);
}

int
http_park_wait(struct http_park *p)
{
	int expected = HTTP_PARK_STARTED;

	if (atomic_load(&p->phase) == HTTP_PARK_DONE)
		return 1;
	MHD_suspend_connection(p->conn);
	/* The answer may have come since the look above: it found nothing
	 * to resume, so resume here. */
	if (!atomic_compare_exchange_strong(&p->phase, &expected,
	    HTTP_PARK_PARKED))
		MHD_resume_connection(p->conn);
	return 0;
}

void
http_park_done(struct http_park *p)
{
	struct MHD_Connection *c = p->conn;

	if (atomic_exchange(&p->phase, HTTP_PARK_DONE) == HTTP_PARK_PARKED)
		MHD_resume_connection(c);
}

int
http_park_is_done(struct http_park *p)
{
	return atomic_load(&p->phase) == HTTP_PARK_DONE;
}

void
http_parked_init(struct http_parked *t)
{
	pthread_condattr_t attr;

	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&t->none, &attr);
	pthread_condattr_destroy(&attr);
	t->count = 0;
}

void
http_parked_destroy(struct http_parked *t)
{
	pthread_cond_destroy(&t->none);
	pthread_mutex_destroy(&t->lock);
}

void
http_parked_add(struct http_parked *t)
{
	pthread_mutex_lock(&t->lock);
	t->count++;
	pthread_mutex_unlock(&t->lock);
}

void
http_parked_remove(struct http_parked *t)
{
	pthread_mutex_lock(&t->lock);
	if (--t->count == 0)
		pthread_cond_broadcast(&t->none);
	pthread_mutex_unlock(&t->lock);
}

int
http_parked_wait(struct http_parked *t, unsigned timeout_ms)
{
	struct timespec deadline;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&t->lock);
	while (t->count > 0 && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&t->none, &t->lock, &deadline);
	rc = t->count > 0 ? -1 : 0;
	pthread_mutex_unlock(&t->lock);
	return rc;
}
