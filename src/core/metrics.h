/*
 * metrics.h: process-wide counters and gauges, written from any thread with
 * relaxed atomics and rendered as Prometheus text for GET /metrics.
 * Thread-safe.
 */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Per-event rejection reasons counted: an upper layer's enum (the ingest
 * pipeline's enum event_error), named at render time. */
#define METRICS_EVENT_REASONS 32

/* Reasons a request or an event is rejected before it reaches the journal,
 * beyond the per-event ones. */
enum metrics_reject {
	METRICS_REJECT_BAD_JSON,
	METRICS_REJECT_BAD_SHAPE,
	METRICS_REJECT_TOO_MANY,
	METRICS_REJECT_REQUEST_TOO_LARGE,
	METRICS_REJECT_JOURNAL_FULL,
	METRICS_REJECT_STOPPING,
	METRICS_REJECT_RATE_LIMITED,
	METRICS_REJECT_MAX
};

void metrics_events_accepted(uint64_t n);
/* One event rejected for reason (below METRICS_EVENT_REASONS). */
void metrics_event_rejected(unsigned reason);
/* Events turned away as a whole request, counted n times. */
void metrics_events_refused(enum metrics_reject reason, uint64_t n);
void metrics_http_request(unsigned status);

/* HTTP connections: opened (+1) or closed (-1); one refused for being
 * over the per-client limit; one closed at its deadline, in the request's
 * head (body 0) or its body (body 1). */
void metrics_http_connections(int delta);
void metrics_http_refused(void);
void metrics_http_deadline(int body);

/* The endpoints of the HTTP API (the Pusher server API), for
 * metrics_http_api. */
enum metrics_api_endpoint {
	METRICS_API_EVENTS,		/* POST /apps/ID/events */
	METRICS_API_BATCH_EVENTS,	/* POST /apps/ID/batch_events */
	METRICS_API_CHANNELS,		/* GET /apps/ID/channels */
	METRICS_API_CHANNEL,		/* GET /apps/ID/channels/NAME */
	METRICS_API_USERS,		/* GET /apps/ID/channels/NAME/users */
	METRICS_API_TERMINATE,		/* POST .../terminate_connections */
	METRICS_API_OTHER,		/* no such endpoint */
	METRICS_API_MAX
};

/* Counts one HTTP API request answered with status. */
void metrics_http_api(enum metrics_api_endpoint endpoint, unsigned status);

void metrics_amqp_connected(int connected);
void metrics_amqp_blocked(int blocked);
void metrics_amqp_published(uint64_t n);
void metrics_amqp_confirmed(uint64_t n);
void metrics_amqp_nacked(uint64_t n);
void metrics_amqp_returned(uint64_t n);
void metrics_amqp_reconnect(void);
/* The journal record forwarding stopped at (it cannot be sent), 0: none. */
void metrics_amqp_stalled(uint64_t seq);
/* One confirm's latency: publish to basic.ack, in microseconds. */
void metrics_amqp_confirm_latency(uint64_t usec);

/* The WebSocket side (service thread). */
void metrics_ws_opened(void);
void metrics_ws_closed(void);
/* A close the server decided, by its code. */
void metrics_ws_close(int code);
void metrics_ws_subscriptions(int delta);
void metrics_ws_frame_in(size_t bytes);
void metrics_ws_frame_out(size_t bytes);
void metrics_ws_slow_consumer(void);
/* Bytes held for partial messages, over every connection (a change); one
 * connection closed because their bound was reached. */
void metrics_ws_partial_bytes(int64_t delta);
void metrics_ws_partial_refused(void);
/* The hub's inbox: frames waiting (a change), frames dropped because it
 * was full; and (WebSocket) one subscriber closed because it missed some. */
void metrics_hub_inbox(int64_t delta);
void metrics_hub_dropped(uint64_t n);
void metrics_ws_missed_close(void);
/* One event frame encoded, in the envelope format or (0) the default;
 * connections taking the envelope format (a change). */
void metrics_ws_event_frame(int envelope);
void metrics_ws_envelope_connections(int delta);
/* What became of a client event (client-*). */
enum metrics_client_event {
	METRICS_CLIENT_EVENT_LIVE,
	METRICS_CLIENT_EVENT_FORWARDED,
	METRICS_CLIENT_EVENT_REFUSED,
	METRICS_CLIENT_EVENT_KINDS
};
void metrics_ws_client_event(enum metrics_client_event kind);
/* One event frame written: accepted-to-written time, in microseconds. */
void metrics_fanout_delivered(uint64_t usec);

int metrics_amqp_is_connected(void);
int metrics_amqp_is_blocked(void);

/* Prometheus text being rendered; the upper layers add their own
 * families to it through metrics_hooks.render. */
struct metrics_text {
	char	*data;		/* NULL once out of memory */
	size_t	 len;
	size_t	 cap;
};

/* Appends formatted text to t (nothing once t is out of memory). */
void metrics_printf(struct metrics_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes the HELP and TYPE lines of one metric family. */
void metrics_family(struct metrics_text *t, const char *name,
    const char *type, const char *help);

/* Writes a family that has a single, unlabelled sample. */
void metrics_single(struct metrics_text *t, const char *name,
    const char *type, const char *help, uint64_t value);

/* What the layers above add to a render. */
struct metrics_hooks {
	/* The name of a per-event rejection reason, and how many there are. */
	const char	*(*event_reason_name)(unsigned reason);
	unsigned	 event_reasons;
	/* Renders further families (the journal's); may be NULL. */
	void		(*render)(struct metrics_text *t, void *arg);
	void		*arg;
};

/*
 * Renders every metric, and what hooks adds, as Prometheus text exposition
 * format 0.0.4. Returns a malloc'd string the caller frees and sets *len,
 * or NULL when out of memory.
 */
char *metrics_render(const struct metrics_hooks *hooks, size_t *len);

#endif
