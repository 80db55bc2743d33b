/*
 * http_ingest.h: POST /v1/events, and the state the HTTP server and the
 * ingestion handler share. A request's body is gathered with a size bound,
 * inflated if gzipped, parsed into envelopes, appended to the journal, and
 * its connection suspended until the journal says the events are durable;
 * only then is it answered. Runs on libmicrohttpd's threads, except the
 * durability callback, which runs on the journal's writer thread and only
 * resumes the connection.
 */
#ifndef SLUICE_HTTP_INGEST_H
#define SLUICE_HTTP_INGEST_H

#include <stdatomic.h>
#include <stddef.h>

#include <microhttpd.h>

#include "core/config.h"
#include "ingest/event.h"
#include "http/http_reply.h"

struct journal;
struct amqp_fwd;
struct ws_server;
struct http_static;

struct http_server {
	struct MHD_Daemon	*mhd;
	const struct config	*cfg;
	struct journal		*journal;
	struct amqp_fwd		*fwd;
	struct ws_server	*ws;		/* fan-out; may be NULL */
	struct http_static	*statics;	/* static_dir; may be NULL */
	atomic_int		 stopping;	/* answer 503 from now on */
	atomic_uint		 waiting;	/* requests waiting on the journal */
};

enum http_req_state {
	HTTP_REQ_BODY,		/* gathering the body */
	HTTP_REQ_TOO_LARGE,	/* over the limit: discarding the rest */
	HTTP_REQ_REFUSED,	/* a reply was queued early */
	HTTP_REQ_WAITING,	/* suspended until durable */
	HTTP_REQ_DURABLE	/* resumed: reply with the outcome */
};

/* One POST /v1/events in progress. Freed when libmicrohttpd completes it. */
struct http_ingest {
	enum http_req_state	 state;
	const struct config_app	*app;
	struct http_reply_opts	 reply;		/* CORS for this request */
	struct MHD_Connection	*conn;
	struct http_server	*srv;
	char			*body;
	size_t			 len;
	size_t			 cap;
	size_t			 discarded;	/* bytes past the limit */
	int			 gzipped;
	struct event_batch	 batch;
	atomic_int		 durable_status; /* from the journal */
};

/*
 * Checks what can be checked from the headers (app key, origin, content
 * type and encoding, declared length, stopping) and returns a new request,
 * or NULL after queuing the error reply (or on allocation failure, with
 * *ret set to MHD_NO). The caller stores the request as the connection's
 * context and frees it with http_ingest_free.
 */
struct http_ingest *http_ingest_begin(struct http_server *srv,
    struct MHD_Connection *c, enum MHD_Result *ret);

/*
 * Takes size bytes of body. Past the limit the rest is read and dropped, so
 * the 413 can be sent once the client stops sending (libmicrohttpd does not
 * take a reply in the middle of an upload); a client that sends more than
 * the limit again on top is cut off.
 */
enum MHD_Result http_ingest_body(struct http_ingest *req, const char *data,
    size_t size);

/* Called once the body is complete, and again after the resume. */
enum MHD_Result http_ingest_finish(struct http_ingest *req);

void http_ingest_free(struct http_ingest *req);

/*
 * Answers an OPTIONS preflight for /v1/events: 204 with the CORS headers
 * when the origin is allowed for the app named by ?key= (or, without a
 * key, by any app), 403 otherwise.
 */
enum MHD_Result http_ingest_preflight(struct http_server *srv,
    struct MHD_Connection *c);

#endif
