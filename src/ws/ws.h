/*
 * ws.h: the WebSocket gateway: libwebsockets on its own listen address,
 * speaking the Pusher Channels protocol (version 7) with sluice:publish for
 * acknowledged publishing, and the live delivery of accepted events to the
 * subscribers of their channel: it attaches itself to the hub as the owner
 * of the subscribers and the Pusher encoder of frames. One service thread
 * owns every connection; other threads reach it only through the hub's
 * queue and lws_cancel_service().
 *
 * Threads: ws_start, ws_quiesce and ws_stop from the main thread.
 */
#ifndef SLUICE_WS_H
#define SLUICE_WS_H

#include "core/config.h"

struct app_registry;
struct hub;
struct ingest;
struct ws_server;

/* What the WebSocket gateway uses, all borrowed. */
struct ws_deps {
	const struct config		*cfg;
	const struct app_registry	*apps;
	struct ingest			*ingest;	/* sluice:publish */
	struct hub			*hub;		/* subscriptions; the
							   gateway attaches
							   itself to it */
};

/*
 * Raises the open-file limit as cfg asks, listens on cfg->ws_listen,
 * attaches to the hub and starts the service thread. Returns SLUICE_OK and
 * *out, or SLUICE_EIO (cannot listen, logged) / SLUICE_EINVAL (bad listen
 * address) / SLUICE_ENOMEM.
 */
int ws_start(const struct ws_deps *deps, struct ws_server **out);

/* From now on sluice:publish is answered with a nack ("stopping"). */
void ws_quiesce(struct ws_server *ws);

/*
 * Waits up to timeout_ms for every request in the ingest pipeline to be
 * answered, closes every connection with 4200, closes the hub, stops the
 * service thread and frees ws. Returns 0, or -1 when requests still wait
 * (the journal is stuck; nothing is freed).
 */
int ws_stop(struct ws_server *ws, unsigned timeout_ms);

#endif
