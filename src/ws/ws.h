/*
 * ws.h: the WebSocket gateway: libwebsockets on its own listen address,
 * speaking the Pusher Channels protocol (version 7) with sluice:publish for
 * acknowledged publishing, and the live fan-out of accepted events to the
 * subscribers of their channel. One service thread owns every connection;
 * other threads reach it only through the hub's queue and
 * lws_cancel_service().
 *
 * Threads: ws_start, ws_quiesce and ws_stop from the main thread;
 * ws_fanout from any thread that accepted events.
 */
#ifndef SLUICE_WS_H
#define SLUICE_WS_H

#include "core/config.h"
#include "ingest/event.h"

struct journal;
struct ws_server;

/*
 * Raises the open-file limit as cfg asks, listens on cfg->ws_listen and
 * starts the service thread. cfg and j are borrowed. Returns SLUICE_OK and
 * *out, or SLUICE_EIO (cannot listen, logged) / SLUICE_EINVAL (bad listen
 * address) / SLUICE_ENOMEM.
 */
int ws_start(const struct config *cfg, struct journal *j,
    struct ws_server **out);

/*
 * Gives the events of batch accepted for app (appended to the journal) to
 * their channels' subscribers, without waiting for them to be durable.
 * A NULL ws does nothing. Any thread; never blocks on a subscriber.
 */
void ws_fanout(struct ws_server *ws, const struct config_app *app,
    const struct event_batch *batch);

/* From now on sluice:publish is answered with a nack ("stopping"). */
void ws_quiesce(struct ws_server *ws);

/*
 * Waits up to timeout_ms for publishes waiting on the journal to be
 * answered, closes every connection with 4200, stops the service thread
 * and frees ws. Returns 0, or -1 when publishes still wait (the journal
 * is stuck; nothing is freed).
 */
int ws_stop(struct ws_server *ws, unsigned timeout_ms);

#endif
