/*
 * http.h: the HTTP API on libmicrohttpd: POST /v1/events (ingestion, with
 * the reply deferred until the events are durable), GET /healthz, /readyz
 * and /metrics, CORS. Threads: http_start and http_stop from the main
 * thread; request handling runs on libmicrohttpd's threads;
 * http_ready_reason from any thread.
 */
#ifndef SLUICE_HTTP_H
#define SLUICE_HTTP_H

#include "core/config.h"

struct amqp_fwd;
struct app_registry;
struct http_server;
struct hub;
struct ingest;
struct journal;

/* What the HTTP server uses, all borrowed. */
struct http_deps {
	const struct config		*cfg;
	const struct app_registry	*apps;
	struct ingest			*ingest;	/* POST /v1/events */
	struct journal			*journal;	/* /readyz, /metrics */
	struct amqp_fwd			*fwd;		/* /readyz */
	struct hub			*hub;		/* /metrics */
};

/*
 * Listens on cfg->http_listen and serves. Returns SLUICE_OK and *out, or
 * SLUICE_EIO (cannot listen, logged) / SLUICE_EINVAL (bad listen address)
 * / SLUICE_ENOMEM.
 */
int http_start(const struct http_deps *deps, struct http_server **out);

/*
 * Whether sluiced can take events, as GET /readyz answers it: the journal
 * takes writes (not failed, not full, a file can be created in its
 * directory), no corruption found in it waits for acknowledgement, the
 * broker neither blocks publishing nor holds forwarding at a record, and
 * the broker link is up. Returns NULL when ready, else the reason (a
 * static string); when the journal directory cannot be written, probe
 * (probelen bytes) says why, else it is empty. Any thread.
 */
const char *http_ready_reason(struct http_server *srv, char *probe,
    size_t probelen);

/*
 * Stops accepting connections; requests arriving on open connections get
 * 503. Requests waiting for the journal still get their answer.
 */
void http_quiesce(struct http_server *srv);

/*
 * Refuses new requests, waits up to timeout_ms for every request in the
 * ingest pipeline to be answered, then stops the server and frees srv;
 * returns 0.
 * Returns -1, leaving the server running, when some still wait (the
 * journal is stuck): it cannot be stopped with connections suspended.
 */
int http_stop(struct http_server *srv, unsigned timeout_ms);

#endif
