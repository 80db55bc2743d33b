/*
 * metrics.h: process-wide counters and gauges, written from any thread with
 * relaxed atomics and rendered as Prometheus text for GET /metrics.
 * Thread-safe.
 */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/event.h"

struct journal;

/* Reasons a request or an event is rejected before it reaches the journal,
 * beyond the per-event ones of enum event_error. */
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
void metrics_event_rejected(enum event_error reason);
/* Events turned away as a whole request, counted n times. */
void metrics_events_refused(enum metrics_reject reason, uint64_t n);
void metrics_http_request(unsigned status);

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
/* One event frame written: accepted-to-written time, in microseconds. */
void metrics_fanout_delivered(uint64_t usec);

int metrics_amqp_is_connected(void);
int metrics_amqp_is_blocked(void);

/*
 * Renders every metric (and the journal's stats, if j is not NULL) as
 * Prometheus text exposition format 0.0.4. Returns a malloc'd string the
 * caller frees and sets *len, or NULL when out of memory.
 */
char *metrics_render(struct journal *j, size_t *len);

#endif
