/*
 * http_reply.c: building and queuing HTTP responses with their headers.
 * Runs on libmicrohttpd's threads; keeps no state of its own.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/log.h"
#include "core/metrics.h"
#include "http/http_reply.h"

/* Adds one header, logging (not failing) when it cannot be added. */
static void
http_reply_header(struct MHD_Response *r, const char *name, const char *value)
{
	if (MHD_add_response_header(r, name, value) != MHD_YES)
		log_warn("http", "cannot add header %s", name);
}

enum MHD_Result
http_reply(struct MHD_Connection *c, unsigned status, char *body, size_t len,
    const char *content_type, const struct http_reply_opts *opts)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (body == NULL)
		r = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
	else
		r = MHD_create_response_from_buffer(len, body,
		    MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	if (content_type != NULL)
		http_reply_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	http_reply_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (opts != NULL && opts->cors_origin != NULL) {
		http_reply_header(r, "Access-Control-Allow-Origin",
		    opts->cors_origin);
		http_reply_header(r, "Access-Control-Expose-Headers",
		    "Retry-After");
		http_reply_header(r, MHD_HTTP_HEADER_VARY, "Origin");
	}
	if (opts != NULL && opts->retry_after != NULL)
		http_reply_header(r, MHD_HTTP_HEADER_RETRY_AFTER,
		    opts->retry_after);
	if (opts != NULL && opts->allow != NULL)
		http_reply_header(r, MHD_HTTP_HEADER_ALLOW, opts->allow);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	metrics_http_request(status);
	return ret;
}

enum MHD_Result
http_reply_json(struct MHD_Connection *c, unsigned status,
    struct json_object *o, const struct http_reply_opts *opts)
{
	const char *text;
	char *body;
	size_t len;

	text = json_object_to_json_string_length(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	body = text != NULL ? strndup(text, len) : NULL;
	json_object_put(o);
	if (body == NULL)
		return MHD_NO;
	return http_reply(c, status, body, len, "application/json", opts);
}

enum MHD_Result
http_reply_error(struct MHD_Connection *c, unsigned status,
    const struct http_reply_opts *opts, const char *code, const char *fmt, ...)
{
	char message[512];
	struct json_object *o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	o = json_object_new_object();
	if (o == NULL)
		return MHD_NO;
	json_object_object_add(o, "error", json_object_new_string(code));
	json_object_object_add(o, "message", json_object_new_string(message));
	return http_reply_json(c, status, o, opts);
}
