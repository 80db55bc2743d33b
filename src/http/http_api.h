/*
 * http_api.h: the HTTP API, Pusher's server API (/apps/ID/...), by which
 * an app's server triggers events and reads the state of its channels,
 * signed with the app's key and secret as Pusher signs it. A request's
 * body is gathered with a size bound; triggered events go through the
 * ingest pipeline (source "api") and are answered once durable; reads run
 * on the hub's service thread (hub_query), so that they agree with what
 * the WebSocket side holds. Runs on libmicrohttpd's threads, except the
 * pipeline's answers (the journal's writer thread) and the hub's part
 * (http_api_query, the WebSocket service thread), which only fill the
 * request in and resume its connection.
 */
#ifndef SLUICE_HTTP_API_H
#define SLUICE_HTTP_API_H

#include <stdatomic.h>
#include <stddef.h>

#include <microhttpd.h>

#include "core/metrics.h"
#include "http/http_ingest.h"

#define HTTP_API_PREFIX		"/apps/"
#define HTTP_API_MAX_CHANNELS	100	/* channels of one trigger */
#define HTTP_API_USER_ID_MAX	128	/* as a signed-in user's */

/* What a hub query reads for one channel (see http_api_query). */
struct http_api_target {
	char			*channel;
	int			 presence;	/* a presence- channel */
	int			 want_users;	/* info user_count */
	int			 want_subs;	/* info subscription_count */
};

/* One ingest submission: its events and the connection they skip. */
struct http_api_submit {
	struct ingest_request	 ingest;
	struct json_object	*events;
	char			*except_socket;
	struct http_api		*api;
};

/* One HTTP API request in progress. Freed when libmicrohttpd completes
 * it. */
struct http_api {
	enum http_ctx_kind	 kind;		/* HTTP_CTX_API */
	enum http_req_state	 state;
	enum metrics_api_endpoint endpoint;
	struct http_server	*srv;
	struct MHD_Connection	*conn;
	const struct config_app	*app;
	unsigned		 app_index;
	const char		*method;	/* libmicrohttpd's */
	char			*path;		/* as signed */
	char			*name;		/* the channel, or the user id */
	char			*body;
	size_t			 len;
	size_t			 cap;
	int64_t			 too_large_since_us;
	struct http_park	 park;
	int			 querying;	/* the hub was asked */

	/* Triggering: the submissions, how many still wait for the
	 * journal, and the info asked for (per submission for a batch). */
	struct http_api_submit	*submits;
	size_t			 nsubmits;
	atomic_size_t		 pending;
	int			 batch;

	/* Reading: what to read, filled in on the hub's thread. */
	struct http_api_target	*targets;	/* per channel */
	size_t			 ntargets;
	char			*prefix;	/* GET /channels filter */
	int			 want_users;	/* GET /channels, /channel */
	int			 want_subs;
	int			 want_cache;
	struct json_object	*answer;	/* made by the query */
};

/*
 * Routes a request under /apps/: checks what the head tells (resource,
 * method, app, declared length) and returns a new request, or NULL after
 * queuing the error reply (or on allocation failure, with *ret MHD_NO).
 * The caller stores it as the connection's context.
 */
struct http_api *http_api_begin(struct http_server *srv,
    struct MHD_Connection *c, const char *url, const char *method,
    enum MHD_Result *ret);

/* Takes size bytes of body, within max_request_bytes (as
 * http_ingest_body). */
enum MHD_Result http_api_body(struct http_api *api, const char *data,
    size_t size);

/* Called once the body is complete, and again after each resume. */
enum MHD_Result http_api_finish(struct http_api *api);

void http_api_free(struct http_api *api);

/* http_api_query.c */

/* The hub's part of a request: runs on the service thread (or with
 * status SLUICE_ESTOPPING wherever the hub closes), fills api in and
 * resumes its connection. */
void http_api_query(struct hub *h, void *arg, int status);

#endif
