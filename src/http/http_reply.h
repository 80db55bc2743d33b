/*
 * http_reply.h: queuing HTTP responses: JSON bodies, JSON errors that name
 * the problem, the CORS and Retry-After headers, and the per-status count.
 * Called on libmicrohttpd's threads, from the access handler only.
 */
#ifndef SLUICE_HTTP_REPLY_H
#define SLUICE_HTTP_REPLY_H

#include <stddef.h>

#include <microhttpd.h>

/* Headers that go with a reply besides the body. Any field may be NULL. */
struct http_reply_opts {
	const char	*cors_origin;	/* echoed in Access-Control-Allow-Origin */
	const char	*retry_after;	/* seconds, for 503 */
	const char	*allow;		/* methods, for 405 */
};

/*
 * Queues a response of status with body (len bytes, taken over: freed by
 * libmicrohttpd or here on failure; NULL for an empty body) and
 * content_type. Returns what MHD_queue_response returned.
 */
enum MHD_Result http_reply(struct MHD_Connection *c, unsigned status,
    char *body, size_t len, const char *content_type,
    const struct http_reply_opts *opts);

struct json_object;

/*
 * Queues the JSON text of o with status and releases o (one reference).
 */
enum MHD_Result http_reply_json(struct MHD_Connection *c, unsigned status,
    struct json_object *o, const struct http_reply_opts *opts);

/*
 * Queues a JSON error {"error": code, "message": <formatted>} with status.
 */
enum MHD_Result http_reply_error(struct MHD_Connection *c, unsigned status,
    const struct http_reply_opts *opts, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
