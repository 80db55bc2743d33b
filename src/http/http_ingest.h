/*
 * http_ingest.h: POST /v1/events, and the state the HTTP server and the
 * ingestion handler share. A request's body is gathered with a size bound,
 * inflated if gzipped and handed to the ingest pipeline; its connection is
 * suspended until the pipeline says the events are durable, and only then
 * answered. Runs on libmicrohttpd's threads, except the pipeline's answer,
 * which may run on the journal's writer thread and only resumes the
 * connection.
 */
#ifndef SLUICE_HTTP_INGEST_H
#define SLUICE_HTTP_INGEST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "core/config.h"
#include "core/waitcount.h"
#include "http/http_park.h"
#include "http/http_reply.h"
#include "ingest/ingest.h"

struct amqp_fwd;
struct app_registry;
struct http_static;
struct hub;
struct journal;

struct http_server {
	struct MHD_Daemon		*mhd;
	const struct config		*cfg;
	const struct app_registry	*apps;
	struct ingest			*ingest;
	struct journal			*journal;	/* for /readyz, /metrics */
	struct amqp_fwd			*fwd;
	struct hub			*hub;		/* for /metrics */
	struct http_static		*statics;	/* static_dir; may be
							   NULL */
	atomic_int			 stopping;	/* answer 503 from now
							   on */
	struct waitcount		 parked;	/* /metrics on the hub */
	struct waitcount		 owed;		/* POSTs not yet answered
							   to the end */
	struct http_guard		*guard;		/* limits, deadlines */
};

enum http_req_state {
	HTTP_REQ_BODY,		/* gathering the body */
	HTTP_REQ_TOO_LARGE,	/* over the limit: discarding the rest */
	HTTP_REQ_REFUSED,	/* a reply was queued */
	HTTP_REQ_SUBMITTED	/* in the pipeline: parked until answered */
};

/* What a connection's context points at first: which request it is. */
enum http_ctx_kind {
	HTTP_CTX_INGEST,	/* struct http_ingest */
	HTTP_CTX_METRICS,	/* GET /metrics, waiting on the hub */
	HTTP_CTX_API		/* the HTTP API: struct http_api */
};

/* One POST /v1/events in progress. Freed when libmicrohttpd completes it. */
struct http_ingest {
	enum http_ctx_kind	 kind;		/* HTTP_CTX_INGEST */
	enum http_req_state	 state;
	const struct config_app	*app;
	struct http_reply_opts	 reply;		/* CORS for this request */
	struct MHD_Connection	*conn;
	struct http_server	*srv;
	char			*body;
	size_t			 len;
	size_t			 cap;
	int64_t			 too_large_since_us; /* when the body
						   passed the limit */
	int			 gzipped;
	struct http_park	 park;
	struct ingest_request	 ingest;
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
 * Takes size bytes of body. Past the limit what was gathered is freed and
 * the rest is read and dropped, so the 413 can be sent once the body ends
 * (libmicrohttpd does not take a reply in the middle of an upload, and a
 * chunked body declares no length to refuse it by); a client still sending
 * http_timeout seconds after passing the limit is cut off.
 */
enum MHD_Result http_ingest_body(struct http_ingest *req, const char *data,
    size_t size);

/* Called once the body is complete, and again after a resume. */
enum MHD_Result http_ingest_finish(struct http_ingest *req);

void http_ingest_free(struct http_ingest *req);

/*
 * Answers an OPTIONS preflight for /v1/events: 204 with the CORS headers
 * when the origin is allowed for the app named by ?key= (or, without a
 * key, by any app), 403 otherwise.
 */
enum MHD_Result http_ingest_preflight(struct http_server *srv,
    struct MHD_Connection *c);

/* The app key of a request: its X-Sluice-Key header, else its key query
 * argument; NULL when it has neither. Borrowed from libmicrohttpd. */
const char *http_app_key(struct MHD_Connection *c);

/* The HTTP status of the pipeline's refusal status (journal full,
 * stopping and the like: 503; too large: 413; bad input: 400). Any
 * thread. */
unsigned http_ingest_status(enum ingest_status status);

#endif
