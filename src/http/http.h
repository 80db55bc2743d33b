/*
 * http.h: the HTTP API on libmicrohttpd: POST /v1/events (ingestion, with
 * the reply deferred until the events are durable), GET /healthz, /readyz
 * and /metrics, CORS. Threads: http_start and http_stop from the main
 * thread; request handling runs on libmicrohttpd's threads.
 */
#ifndef SLUICE_HTTP_H
#define SLUICE_HTTP_H

#include "core/config.h"

struct journal;
struct amqp_fwd;
struct http_server;
struct ws_server;

/*
 * Listens on cfg->http_listen and serves; accepted events are also fanned
 * out through ws (may be NULL). cfg, j, fwd and ws are borrowed.
 * Returns SLUICE_OK and *out, or SLUICE_EIO (cannot listen, logged) /
 * SLUICE_EINVAL (bad listen address) / SLUICE_ENOMEM.
 */
int http_start(const struct config *cfg, struct journal *j,
    struct amqp_fwd *fwd, struct ws_server *ws, struct http_server **out);

/*
 * Stops accepting connections; requests arriving on open connections get
 * 503. Requests waiting for the journal still get their answer.
 */
void http_quiesce(struct http_server *srv);

/*
 * Refuses new requests, waits up to timeout_ms for those waiting on the
 * journal to be resumed, then stops the server and frees srv; returns 0.
 * Returns -1, leaving the server running, when some still wait (the
 * journal is stuck): it cannot be stopped with connections suspended.
 */
int http_stop(struct http_server *srv, unsigned timeout_ms);

#endif
