/*
 * hub.h: the fan-out hub. It knows which subscribers (connections of a
 * front door) take which channel of which app, and gives each accepted
 * event to every one of them but the one it must skip. It is transport
 * neutral: the front door that owns the subscribers attaches the calls
 * that encode an event into its wire format, deliver a frame and wake its
 * thread. An event's frame is encoded once, on the thread that accepted
 * it, and shared by reference; frames made on other threads reach the
 * service thread through the hub's inbox and a wakeup, and are delivered
 * there (hub_drain). The inbox is bounded (hub_limit): when it is full,
 * live frames are dropped and counted, and the subscribers of their
 * channels are told at the next drain (hub_ops.missed) so that the front
 * door can close them; the journal, and so the durable path, never sees
 * this. Other threads read channel state only through a query run on the
 * service thread (hub_query).
 *
 * Threads: hub_new, hub_attach, hub_limit and hub_free on the main thread;
 * hub_publish, hub_query and hub_close from any thread; everything else
 * only from the service thread (the one that called hub_enter).
 */
#ifndef SLUICE_HUB_H
#define SLUICE_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "hub/frame.h"

struct hub;
struct hub_channel;
struct presence;

/* One accepted event, as the ingest pipeline hands it to the hub. */
struct hub_event {
	unsigned	 app;		/* the app's index (core/app.h) */
	const char	*channel;
	size_t		 channel_len;
	const char	*event;		/* the event's name */
	size_t		 event_len;
	const char	*envelope;	/* the envelope's JSON text, or NULL
					   (live client events have none) */
	size_t		 envelope_len;
	const char	*data;		/* the published data's JSON text */
	size_t		 data_len;
	const char	*user_id;	/* client events on presence
					   channels: the sender; else NULL */
	size_t		 user_id_len;
	uint64_t	 seq;		/* its journal sequence number */
	int64_t		 accepted_us;	/* monotonic, for the latency */
	const void	*except;	/* a subscriber not to deliver to */
	const char	*except_socket;	/* the socket id of a connection not
					   to deliver to (the HTTP API's
					   socket_id), or NULL */
	int64_t		 cache_ttl_us;	/* a cache channel's: keep the event
					   this long for new subscribers;
					   else 0 */
};

/* What the front door owning the subscribers provides. */
struct hub_ops {
	/* Encodes ev into a new frame (one reference), or NULL when out of
	 * memory. Any thread. */
	struct frame	*(*encode)(const struct hub_event *ev, void *arg);
	/* Gives f to one subscriber. The callee takes its own reference if
	 * it keeps f, and must not subscribe or unsubscribe anyone: a
	 * subscriber it closes leaves later. Service thread. */
	void		 (*deliver)(void *sub, struct frame *f);
	/* Wakes the service thread so that it calls hub_drain. Any thread. */
	void		 (*wakeup)(void *arg);
	/* Closes one subscriber at the request of the app's server (the HTTP
	 * API's terminate_connections). Same rules as deliver; may be NULL.
	 * Service thread. */
	void		 (*terminate)(void *sub);
	/* Tells one subscriber that frames of a channel it takes were
	 * dropped (the inbox was full): it has a gap. Same rules as deliver;
	 * may be NULL. A subscriber of several such channels may be told
	 * more than once. Service thread. */
	void		 (*missed)(void *sub);
	void		*arg;		/* for encode and wakeup */
};

/*
 * Runs on the service thread with status SLUICE_OK, where it may read the
 * hub's channels; or with SLUICE_ESTOPPING, on whatever thread closes the
 * hub, when the hub closed before it could run (it must not read them).
 * It must not block.
 */
typedef void (*hub_query_fn)(struct hub *h, void *arg, int status);

/* Returns a new hub with nothing attached (events are dropped until
 * hub_attach), or NULL when out of memory. */
struct hub *hub_new(void);

/* Attaches the front door's calls (copied). Before any subscriber. */
void hub_attach(struct hub *h, const struct hub_ops *ops);

/* Bounds the inbox to frames frames waiting (0: no bound). Before any
 * event is published. */
void hub_limit(struct hub *h, size_t frames);

/* Frames dropped so far because the inbox was full or could not grow.
 * Any thread. */
uint64_t hub_dropped(struct hub *h);

/* Marks the calling thread as the service thread: events published on it
 * are delivered at once, without the inbox. */
void hub_enter(struct hub *h);

/* Frees the hub and every frame still queued. No channel may be left;
 * queries still queued are answered with SLUICE_ESTOPPING. */
void hub_free(struct hub *h);

/*
 * Adds sub to the subscribers of channel of app and sets *out to the
 * channel, which the caller keeps to unsubscribe. Returns SLUICE_OK
 * (also when sub already subscribes: *out is the same channel) or
 * SLUICE_ENOMEM.
 */
int hub_subscribe(struct hub *h, unsigned app, const char *channel,
    void *sub, struct hub_channel **out);

/* Removes sub from ch's subscribers; ch is freed with its last one. */
void hub_unsubscribe(struct hub *h, struct hub_channel *ch, void *sub);

/* The channel's name and its number of subscribers. */
const char *hub_channel_name(const struct hub_channel *ch);
size_t hub_channel_subscribers(const struct hub_channel *ch);

/* The exact number of subscribers of channel of app (0: none). */
size_t hub_subscribers(struct hub *h, unsigned app, const char *channel);

/* Calls fn for every channel of app that has subscribers, in no order;
 * fn must not subscribe or unsubscribe anyone. */
void hub_channels_each(struct hub *h, unsigned app,
    void (*fn)(const struct hub_channel *ch, void *arg), void *arg);

/* Channels with subscribers, and subscriptions, over every app. */
size_t hub_channel_count(const struct hub *h);
size_t hub_subscription_count(const struct hub *h);

/*
 * Hands n accepted events to their subscribers: each one that may have
 * some is encoded once and delivered at once on the service thread, or
 * through the inbox from any other. Never blocks on a subscriber. Events
 * of a channel nobody takes are not encoded. Any thread.
 */
void hub_publish(struct hub *h, const struct hub_event *events, size_t n);

/*
 * Hands n frames already encoded to the service thread, taking the
 * caller's references, and wakes it if it was not already due to drain.
 * After hub_close the frames are dropped. When the inbox is full (or
 * cannot grow) the frames that do not fit are dropped and counted, and
 * their channels are remembered: at the next drain every subscriber of
 * them is told through ops.missed. The events are journaled all the same.
 * Any thread.
 */
void hub_offer(struct hub *h, struct frame **frames, size_t n);

/* Gives f (an event frame: app and channel set) to every subscriber of its
 * channel but f->except, and keeps it as the channel's last event when
 * f->cache_until_us is set. The caller keeps its reference. */
void hub_deliver(struct hub *h, struct frame *f);

/* Gives f to every subscriber of ch but except (NULL: none); for the front
 * door's own messages to a channel (members coming and going, counts). The
 * caller keeps its reference. */
void hub_channel_deliver(struct hub *h, struct hub_channel *ch,
    struct frame *f, const void *except);

/* Closes every subscriber of ch through ops.terminate; returns how many
 * were told. Service thread. */
size_t hub_channel_terminate(struct hub *h, struct hub_channel *ch);

/* The channel of app called channel, or NULL when nobody takes it. */
struct hub_channel *hub_channel_find(struct hub *h, unsigned app,
    const char *channel);

/* The app index of ch. */
unsigned hub_channel_app(const struct hub_channel *ch);

/*
 * Presence: the members (users) of a channel, kept with it and freed with
 * its last subscriber; the front door joins a subscriber's user after
 * hub_subscribe and has it leave before hub_unsubscribe.
 * hub_member_join adds one connection of user_id (user_info: info_len
 * bytes of JSON text) to ch; returns SLUICE_OK with *added set when the
 * user is a new member, SLUICE_EFULL when it would be one more than max,
 * SLUICE_ENOMEM. hub_member_leave takes one connection of user_id away:
 * 1 when it was the user's last (the member is gone), 0 when not, -1 when
 * user_id is not a member.
 */
int hub_member_join(struct hub *h, struct hub_channel *ch,
    const char *user_id, const char *info, size_t info_len, size_t max,
    int *added);
int hub_member_leave(struct hub *h, struct hub_channel *ch,
    const char *user_id);

/* ch's members (see hub/presence.h), or NULL when it never had any. */
const struct presence *hub_channel_presence(const struct hub_channel *ch);

/* Members over every presence channel. */
size_t hub_member_count(const struct hub *h);

/*
 * Cache channels. hub_cache_limit bounds the channels whose last event is
 * kept (main thread, before any event; the default is 100000).
 * hub_cached returns channel's last event, borrowed, or NULL when none is
 * kept or it expired. hub_cache_stats gives the channels held and how many
 * were evicted for room.
 */
void hub_cache_limit(struct hub *h, size_t channels);
struct frame *hub_cached(struct hub *h, unsigned app, const char *channel);
void hub_cache_stats(const struct hub *h, size_t *channels,
    uint64_t *evicted);

/*
 * Subscription counts. hub_watch_counts makes the hub note the channels of
 * app whose number of subscribers changes (main thread, before any
 * subscriber). hub_counts_due calls fn for each noted channel that is due
 * by now_us, once however many changes it had; fn tells it (or not) and
 * returns the microseconds before the channel may be due again. Channels
 * freed meanwhile are forgotten.
 */
typedef int64_t (*hub_count_fn)(struct hub *h, struct hub_channel *ch,
    void *arg);
void hub_watch_counts(struct hub *h, unsigned app);
void hub_counts_due(struct hub *h, int64_t now_us, hub_count_fn fn,
    void *arg);

/* Delivers every frame offered by other threads, in the order offered,
 * then tells the subscribers of channels whose frames were dropped
 * (ops.missed), then runs the queries posted. */
void hub_drain(struct hub *h);

/*
 * Posts fn(h, arg, status) to run on the service thread and wakes it.
 * Returns SLUICE_OK (fn will be called exactly once), SLUICE_ESTOPPING
 * (the hub is closed) or SLUICE_ENOMEM; fn is not called on an error.
 * Any thread.
 */
int hub_query(struct hub *h, hub_query_fn fn, void *arg);

/* Refuses further events and queries, and answers the queries still
 * queued with SLUICE_ESTOPPING (shutdown). Any thread. */
void hub_close(struct hub *h);

/*
 * Returns 0 when no subscriber takes channel (n bytes) of app, so that no
 * frame need be made; 1 when one may (false positives happen; a
 * subscription made meanwhile may miss the event). Any thread.
 */
int hub_wants(struct hub *h, unsigned app, const char *channel, size_t n);

#endif
