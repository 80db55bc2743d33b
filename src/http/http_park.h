/*
 * http_park.h: parking a request while another thread works for it (the
 * ingest pipeline waiting for the journal, a query on the hub's service
 * thread). The handler starts the work, then parks: the connection is
 * suspended unless the answer came already; the worker's answer resumes
 * it. The answer may come on any thread, before or after the suspension.
 * Threads: begin, wait and is_done on libmicrohttpd's threads; done on
 * the worker's.
 */
#ifndef SLUICE_HTTP_PARK_H
#define SLUICE_HTTP_PARK_H

#include <stdatomic.h>

#include <microhttpd.h>

struct http_park {
	struct MHD_Connection	*conn;
	atomic_int		 phase;		/* private */
};

/* Before the work starts. */
void http_park_begin(struct http_park *p, struct MHD_Connection *c);

/* After the work started: returns 1 when the answer is in already (reply
 * now), else suspends the connection and returns 0. */
int http_park_wait(struct http_park *p);

/* The worker's side: the answer is in; resumes the connection if parked.
 * The request may be freed as soon as this returns. */
void http_park_done(struct http_park *p);

/* Whether the answer is in (the handler, called again after a resume). */
int http_park_is_done(struct http_park *p);

#endif
