/*
 * http_park.c: suspend until answered, without a lock: the phase moves
 * from STARTED to PARKED (the handler) or to DONE (the worker), and
 * whichever comes second does the resuming.
 */
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
