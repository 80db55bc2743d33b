/*
 * http_ingest.c: POST /v1/events. Runs on libmicrohttpd's threads; the
 * pipeline's answer, when it comes on the journal's writer thread, only
 * resumes the suspended connection.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "core/app.h"
#include "core/isotime.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/netaddr.h"
#include "core/sluice.h"
#include "http/http_ingest.h"
#include "ingest/gzip.h"
#include "ingest/ingest.h"

#define HTTP_RETRY_AFTER_STOPPING "2"

static const char *
http_header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/*
 * Returns 1 if the media type in a Content-Type value (parameters ignored)
 * equals type, case-insensitively.
 */
static int
http_media_type_is(const char *value, const char *type)
{
	size_t n = strlen(type);

	while (*value == ' ' || *value == '\t')
		value++;
	if (strncasecmp(value, type, n) != 0)
		return 0;
	value += n;
	while (*value == ' ' || *value == '\t')
		value++;
	return *value == '\0' || *value == ';';
}

const char *
http_app_key(struct MHD_Connection *c)
{
	const char *key;

	key = http_header(c, "X-Sluice-Key");
	if (key == NULL || *key == '\0')
		key = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
		    "key");
	return key;
}

enum MHD_Result
http_ingest_preflight(struct http_server *srv, struct MHD_Connection *c)
{
	const struct config_app *app = NULL;
	struct MHD_Response *r;
	const char *origin, *key;
	enum MHD_Result ret;

	origin = http_header(c, "Origin");
	if (origin == NULL)
		return http_reply_error(c, MHD_HTTP_BAD_REQUEST, NULL,
		    "missing_origin", "a CORS preflight needs an Origin header");
	key = http_app_key(c);
	if (key != NULL && *key != '\0') {
		app = app_by_key(srv->apps, key);
		if (app != NULL && !app_origin_allowed(app, origin))
			app = NULL;
	} else
		app = app_for_origin(srv->apps, origin);
	if (app == NULL)
		return http_reply_error(c, MHD_HTTP_FORBIDDEN, NULL,
		    "origin_not_allowed", "origin %s may not post events",
		    origin);
	r = MHD_create_response_from_buffer(0, (void *)"",
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
	MHD_add_response_header(r, "Access-Control-Allow-Methods",
	    "POST, OPTIONS");
	MHD_add_response_header(r, "Access-Control-Allow-Headers",
	    "Content-Type, Content-Encoding, X-Sluice-Key");
	MHD_add_response_header(r, "Access-Control-Max-Age", "600");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Origin");
	ret = MHD_queue_response(c, MHD_HTTP_NO_CONTENT, r);
	MHD_destroy_response(r);
	metrics_http_request(MHD_HTTP_NO_CONTENT);
	return ret;
}

/*
 * The header checks of http_ingest_begin. Returns 0 when the request may
 * go on, or queues the error reply and returns -1 with *ret set.
 */
static int
http_ingest_check(struct http_server *srv, struct MHD_Connection *c,
    struct http_ingest *req, enum MHD_Result *ret)
{
	const struct config *cfg = srv->cfg;
	const char *key, *origin, *type, *enc, *clen;
	unsigned long long declared;
	char *end;

	if (atomic_load(&srv->stopping) || ingest_stopping(srv->ingest)) {
		req->reply.retry_after = HTTP_RETRY_AFTER_STOPPING;
		*ret = http_reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
		    &req->reply, "stopping", "the gateway is shutting down");
		return -1;
	}
	key = http_app_key(c);
	if (key == NULL || *key == '\0') {
		*ret = http_reply_error(c, MHD_HTTP_UNAUTHORIZED, NULL,
		    "missing_key", "send the app key in the X-Sluice-Key "
		    "header or the key query argument");
		return -1;
	}
	req->app = app_by_key(srv->apps, key);
	if (req->app == NULL) {
		*ret = http_reply_error(c, MHD_HTTP_UNAUTHORIZED, NULL,
		    "unknown_key", "no app has this key");
		return -1;
	}
	origin = http_header(c, "Origin");
	if (origin != NULL) {
		if (!app_origin_allowed(req->app, origin)) {
			*ret = http_reply_error(c, MHD_HTTP_FORBIDDEN, NULL,
			    "origin_not_allowed", "origin %s may not post "
			    "events for app %s", origin, req->app->id);
			return -1;
		}
		req->reply.cors_origin = origin;
	}
	if (!req->app->enabled) {
		*ret = http_reply_error(c, MHD_HTTP_FORBIDDEN, &req->reply,
		    "app_disabled", "app %s is disabled", req->app->id);
		return -1;
	}
	type = http_header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (type == NULL || (!http_media_type_is(type, "application/json") &&
	    !http_media_type_is(type, "text/plain"))) {
		*ret = http_reply_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    &req->reply, "unsupported_content_type", "Content-Type "
		    "must be application/json or text/plain, not %s",
		    type != NULL ? type : "missing");
		return -1;
	}
	enc = http_header(c, MHD_HTTP_HEADER_CONTENT_ENCODING);
	if (enc != NULL && (strcasecmp(enc, "gzip") == 0 ||
	    strcasecmp(enc, "x-gzip") == 0))
		req->gzipped = 1;
	else if (enc != NULL && *enc != '\0' &&
	    strcasecmp(enc, "identity") != 0) {
		*ret = http_reply_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    &req->reply, "unsupported_content_encoding",
		    "Content-Encoding must be gzip or identity, not %s", enc);
		return -1;
	}
	clen = http_header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (clen != NULL) {
		errno = 0;
		declared = strtoull(clen, &end, 10);
		if (errno == 0 && *end == '\0' &&
		    declared > cfg->max_request_bytes) {
			metrics_events_refused(METRICS_REJECT_REQUEST_TOO_LARGE,
			    1);
			*ret = http_reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
			    &req->reply, "request_too_large", "the body is "
			    "%llu bytes; the limit is %zu", declared,
			    cfg->max_request_bytes);
			return -1;
		}
	}
	return 0;
}

struct http_ingest *
http_ingest_begin(struct http_server *srv, struct MHD_Connection *c,
    enum MHD_Result *ret)
{
	struct http_ingest *req;

	req = calloc(1, sizeof *req);
	if (req == NULL) {
		*ret = MHD_NO;
		return NULL;
	}
	req->kind = HTTP_CTX_INGEST;
	req->srv = srv;
	req->conn = c;
	req->state = HTTP_REQ_BODY;
	if (http_ingest_check(srv, c, req, ret) == -1) {
		free(req);
		return NULL;
	}
	/* Owed an answer until libmicrohttpd completes the request. */
	waitcount_add(&srv->owed);
	return req;
}

enum MHD_Result
http_ingest_body(struct http_ingest *req, const char *data, size_t size)
{
	size_t limit = req->srv->cfg->max_request_bytes;
	size_t cap;
	char *p;

	if (req->state == HTTP_REQ_TOO_LARGE) {
		/* However long the body (a chunked one declares nothing),
		 * the 413 waits for its end; only a client still sending
		 * after http_timeout seconds of it is cut off. */
		return isotime_mono_us() - req->too_large_since_us >
		    (int64_t)req->srv->cfg->http_timeout_s * 1000000 ?
		    MHD_NO : MHD_YES;
	}
	if (req->state != HTTP_REQ_BODY)
		return MHD_YES;		/* an early reply is queued */
	if (size > limit - req->len) {
		req->state = HTTP_REQ_TOO_LARGE;
		req->too_large_since_us = isotime_mono_us();
		free(req->body);
		req->body = NULL;
		req->len = req->cap = 0;
		return MHD_YES;
	}
	if (req->len + size + 1 > req->cap) {
		cap = req->cap == 0 ? 4096 : req->cap;
		while (cap < req->len + size + 1)
			cap *= 2;
		if (cap > limit + 1)
			cap = limit + 1;
		p = realloc(req->body, cap);
		if (p == NULL)
			return MHD_NO;
		req->body = p;
		req->cap = cap;
	}
	memcpy(req->body + req->len, data, size);
	req->len += size;
	return MHD_YES;
}

/*
 * The pipeline's answer: on this thread during ingest_submit_text, or on
 * the journal's writer thread once the events are durable. Resumes the
 * connection if http_ingest_finish suspended it already.
 */
static void
http_ingest_done(struct ingest_request *ir, void *arg)
{
	struct http_ingest *req = arg;

	(void)ir;
	http_park_done(&req->park);
}

/* Adds the per-event rejections as "errors": [{index, code, message}]. */
static void
http_ingest_add_errors(struct json_object *o, const struct event_batch *b)
{
	json_object_object_add(o, "errors", event_batch_errors_json(b));
}

/* 202 (all accepted) or 207 (some rejected) once the events are durable. */
static enum MHD_Result
http_ingest_reply_accepted(struct http_ingest *req)
{
	const struct event_batch *b = &req->ingest.batch;
	struct json_object *o;

	o = json_object_new_object();
	json_object_object_add(o, "accepted",
	    json_object_new_int64((int64_t)b->naccepted));
	json_object_object_add(o, "ids", event_batch_ids_json(b));
	if (b->nrejected > 0)
		http_ingest_add_errors(o, b);
	return http_reply_json(req->conn, b->nrejected > 0 ?
	    MHD_HTTP_MULTI_STATUS : MHD_HTTP_ACCEPTED, o, &req->reply);
}

/* 400, or 413 when every event was too large: nothing was valid. */
static enum MHD_Result
http_ingest_reply_none_valid(struct http_ingest *req)
{
	const struct event_batch *b = &req->ingest.batch;
	struct json_object *o;
	unsigned status = MHD_HTTP_CONTENT_TOO_LARGE;
	char message[128];
	size_t i;

	for (i = 0; i < b->nrejected; i++)
		if (b->rejected[i].error != EVENT_ERR_TOO_LARGE)
			status = MHD_HTTP_BAD_REQUEST;
	o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(
	    status == MHD_HTTP_BAD_REQUEST ? "invalid_events" :
	    "event_too_large"));
	snprintf(message, sizeof message, "none of the %zu events is valid; "
	    "see errors", b->total);
	json_object_object_add(o, "message", json_object_new_string(message));
	json_object_object_add(o, "accepted", json_object_new_int(0));
	json_object_object_add(o, "ids", json_object_new_array());
	http_ingest_add_errors(o, b);
	return http_reply_json(req->conn, status, o, &req->reply);
}

unsigned
http_ingest_status(enum ingest_status status)
{
	switch (status) {
	case INGEST_OK:
	case INGEST_NONE_VALID:
		return MHD_HTTP_OK;
	case INGEST_TOO_MANY:
	case INGEST_TOO_LARGE:
		return MHD_HTTP_CONTENT_TOO_LARGE;
	case INGEST_BAD_JSON:
	case INGEST_BAD_BODY:
	case INGEST_EMPTY:
		return MHD_HTTP_BAD_REQUEST;
	case INGEST_NOMEM:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	default:
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
}

/* The reply to the pipeline's outcome. */
static enum MHD_Result
http_ingest_reply(struct http_ingest *req)
{
	const struct ingest_request *ir = &req->ingest;
	unsigned status;
	char retry[16];

	switch (ir->status) {
	case INGEST_OK:
		return http_ingest_reply_accepted(req);
	case INGEST_NONE_VALID:
		return http_ingest_reply_none_valid(req);
	default:
		status = http_ingest_status(ir->status);
		break;
	}
	if (ir->retry_after > 0) {
		snprintf(retry, sizeof retry, "%d", ir->retry_after);
		req->reply.retry_after = retry;
	}
	return http_reply_error(req->conn, status, &req->reply, ir->code,
	    "%s", ir->message);
}

enum MHD_Result
http_ingest_finish(struct http_ingest *req)
{
	struct http_server *srv = req->srv;
	const union MHD_ConnectionInfo *ci;
	struct event_source src;
	char ip[NETADDR_STRLEN], *inflated = NULL;
	const char *body = req->body;
	size_t len = req->len;
	int status;

	switch (req->state) {
	case HTTP_REQ_REFUSED:
		return MHD_YES;
	case HTTP_REQ_TOO_LARGE:
		req->state = HTTP_REQ_REFUSED;
		metrics_events_refused(METRICS_REJECT_REQUEST_TOO_LARGE, 1);
		return http_reply_error(req->conn, MHD_HTTP_CONTENT_TOO_LARGE,
		    &req->reply, "request_too_large", "the body is over the "
		    "limit of %zu bytes", srv->cfg->max_request_bytes);
	case HTTP_REQ_SUBMITTED:
		if (!http_park_is_done(&req->park))
			return MHD_YES;
		req->state = HTTP_REQ_REFUSED;
		return http_ingest_reply(req);
	case HTTP_REQ_BODY:
		break;
	}
	req->state = HTTP_REQ_REFUSED;
	if (req->gzipped) {
		status = gzip_inflate(body, len, srv->cfg->max_request_bytes,
		    &inflated, &len);
		if (status == SLUICE_ETOOBIG) {
			metrics_events_refused(METRICS_REJECT_REQUEST_TOO_LARGE,
			    1);
			return http_reply_error(req->conn,
			    MHD_HTTP_CONTENT_TOO_LARGE, &req->reply,
			    "request_too_large", "the inflated body is over "
			    "the limit of %zu bytes",
			    srv->cfg->max_request_bytes);
		}
		if (status != SLUICE_OK)
			return http_reply_error(req->conn,
			    MHD_HTTP_BAD_REQUEST, &req->reply, "invalid_gzip",
			    "the body is not valid gzip data");
		body = inflated;
	}
	ci = MHD_get_connection_info(req->conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	netaddr_client(&srv->cfg->trusted_proxies,
	    ci != NULL ? ci->client_addr : NULL,
	    http_header(req->conn, "X-Forwarded-For"), ip);
	memset(&src, 0, sizeof src);
	src.app = req->app;
	src.source = "http";
	src.ip = ip;
	src.user_agent = http_header(req->conn, MHD_HTTP_HEADER_USER_AGENT);
	src.origin = http_header(req->conn, "Origin");
	src.received_at_ms = isotime_now_ms();
	req->state = HTTP_REQ_SUBMITTED;
	http_park_begin(&req->park, req->conn);
	ingest_submit_text(srv->ingest, &req->ingest, body, len, &src, NULL,
	    http_ingest_done, req);
	free(inflated);
	/* Suspended until durable, unless refused at once. */
	if (http_park_wait(&req->park) == 0)
		return MHD_YES;
	req->state = HTTP_REQ_REFUSED;
	return http_ingest_reply(req);
}

void
http_ingest_free(struct http_ingest *req)
{
	if (req == NULL)
		return;
	ingest_request_free(&req->ingest);
	free(req->body);
	free(req);
}
