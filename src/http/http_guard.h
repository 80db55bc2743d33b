/*
 * http_guard.h: what keeps slow or greedy clients from holding the HTTP
 * server: at most server.http_max_connections_per_client connections from
 * one address (more are answered 429 and closed at once), and deadlines:
 * a request's head must arrive within server.http_header_timeout seconds
 * of the connection opening (a later request on a kept-alive connection:
 * of the previous answer, and at least http_timeout), its body within that
 * plus one second per http_body_min_rate bytes it declares; a connection
 * past its deadline is answered 408 and closed. Drops are logged once per
 * client per minute, with a count.
 *
 * Threads: http_guard_start and http_guard_stop on the main thread (stop
 * after libmicrohttpd stopped); http_guard_notify and the request calls on
 * libmicrohttpd's threads; a timer thread of its own checks the deadlines.
 */
#ifndef SLUICE_HTTP_GUARD_H
#define SLUICE_HTTP_GUARD_H

#include <stdint.h>

#include <microhttpd.h>

#include "core/config.h"

struct http_guard;

/* Starts the guard's timer thread. Returns SLUICE_OK and *out, or
 * SLUICE_ENOMEM (nothing started). cfg is borrowed. */
int http_guard_start(const struct config *cfg, struct http_guard **out);

/* Stops the timer thread and frees g; every connection must be closed
 * (libmicrohttpd stopped). NULL is allowed. */
void http_guard_stop(struct http_guard *g);

/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback (cls is the
 * guard): counts a connection in and out, refusing one over its client's
 * limit. */
void http_guard_notify(void *cls, struct MHD_Connection *c,
    void **socket_context, enum MHD_ConnectionNotificationCode toe);

/* The request's head arrived; body_bytes it says will follow (0: none):
 * the body's deadline starts. */
void http_guard_head_done(struct http_guard *g, struct MHD_Connection *c,
    uint64_t body_bytes);

/* The request's body arrived whole: no deadline until it is answered. */
void http_guard_body_done(struct http_guard *g, struct MHD_Connection *c);

/* The request was answered: the next head's deadline starts. */
void http_guard_request_done(struct http_guard *g, struct MHD_Connection *c);

#endif
