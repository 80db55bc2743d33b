/*
 * hub.h: the fan-out hub. It knows which connections subscribe to which
 * channel of which app, and gives each accepted event to every one of
 * them. An event's frame is made once, on the thread that accepted it, and
 * shared by reference; frames made on other threads are handed to the
 * WebSocket service thread through a queue and a wakeup (hub_offer), and
 * delivered there (hub_drain).
 *
 * Threads: hub_wants, hub_event_frame and hub_offer may be called from any
 * thread; everything else only from the WebSocket service thread.
 */
#ifndef SLUICE_HUB_H
#define SLUICE_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "hub/frame.h"

struct config_app;
struct hub;
struct hub_channel;

/* Gives f to one subscriber (a connection of the WebSocket layer). The
 * callee takes its own reference if it keeps f, and must not subscribe or
 * unsubscribe anyone: a subscriber it closes leaves later. */
typedef void (*hub_deliver_fn)(void *conn, struct frame *f);

/* Wakes the service thread so that it calls hub_drain (any thread). */
typedef void (*hub_wakeup_fn)(void *arg);

/* Returns a new hub, or NULL when out of memory. */
struct hub *hub_new(hub_deliver_fn deliver, hub_wakeup_fn wakeup,
    void *wakeup_arg);

/* Frees the hub and every frame still queued. No channel may be left. */
void hub_free(struct hub *h);

/*
 * Adds conn to the subscribers of channel of app and sets *out to the
 * channel, which the caller keeps to unsubscribe. Returns SLUICE_OK
 * (also when conn already subscribes: *out is the same channel) or
 * SLUICE_ENOMEM.
 */
int hub_subscribe(struct hub *h, const struct config_app *app,
    const char *channel, void *conn, struct hub_channel **out);

/* Removes conn from ch's subscribers; ch is freed with its last one. */
void hub_unsubscribe(struct hub *h, struct hub_channel *ch, void *conn);

/* The channel's name and its number of subscribers. */
const char *hub_channel_name(const struct hub_channel *ch);
size_t hub_channel_subscribers(const struct hub_channel *ch);

/* Gives f (an event frame: app and channel set) to every subscriber of its
 * channel. The caller keeps its reference. */
void hub_deliver(struct hub *h, struct frame *f);

/* Delivers every frame offered by other threads, in the order offered. */
void hub_drain(struct hub *h);

/*
 * Returns 0 when no connection subscribes to channel (n bytes) of app, so
 * that no frame need be made; 1 when one may (false positives happen;
 * a subscription made meanwhile may miss the event). Any thread.
 */
int hub_wants(struct hub *h, const struct config_app *app,
    const char *channel, size_t n);

/*
 * Makes the frame of an event: {"event":..,"channel":..,"data":"<the
 * envelope as a JSON string>"}, routed to channel of app. Returns NULL when
 * out of memory. Any thread.
 */
struct frame *hub_event_frame(const struct config_app *app,
    const char *channel, size_t channel_len, const char *event,
    size_t event_len, const char *envelope, size_t envelope_len,
    int64_t accepted_us);

/*
 * Hands n frames to the service thread, taking the caller's references,
 * and wakes it if it was not already due to drain. After hub_close the
 * frames are dropped. Any thread.
 */
void hub_offer(struct hub *h, struct frame **frames, size_t n);

/* Refuses further offers (shutdown). Any thread. */
void hub_close(struct hub *h);

#endif
