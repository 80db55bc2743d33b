/*
 * metrics.c: process-wide counters kept with relaxed atomics, rendered as
 * Prometheus text. Thread-safe: writers never lock; a render reads each
 * value once, so a scrape is consistent per value, not across values.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "core/sluice.h"

/* HTTP statuses counted one by one; anything else lands in "other". */
static const unsigned metrics_statuses[] = {
	200, 202, 204, 207, 304, 400, 401, 403, 404, 405, 408, 413, 415, 429, 500, 503
};
#define METRICS_NSTATUS SLUICE_ARRAY_LEN(metrics_statuses)

/* Confirm latency buckets, upper bounds in microseconds. */
static const uint64_t metrics_latency_le[] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000
};
#define METRICS_NBUCKETS SLUICE_ARRAY_LEN(metrics_latency_le)

static const char *const metrics_reject_names[METRICS_REJECT_MAX] = {
	[METRICS_REJECT_BAD_JSON] = "invalid_json",
	[METRICS_REJECT_BAD_SHAPE] = "invalid_body",
	[METRICS_REJECT_TOO_MANY] = "too_many_events",
	[METRICS_REJECT_REQUEST_TOO_LARGE] = "request_too_large",
	[METRICS_REJECT_JOURNAL_FULL] = "journal_full",
	[METRICS_REJECT_STOPPING] = "stopping",
	[METRICS_REJECT_RATE_LIMITED] = "rate_limited",
};

/* WebSocket close codes the server sends, counted one by one. */
static const int metrics_close_codes[] = {
	4001, 4003, 4004, 4005, 4006, 4007, 4009, 4100, 4200, 4201
};
#define METRICS_NCLOSE SLUICE_ARRAY_LEN(metrics_close_codes)

/* A latency histogram over metrics_latency_le. */
struct metrics_hist {
	atomic_uint_fast64_t	buckets[METRICS_NBUCKETS + 1];
	atomic_uint_fast64_t	sum_usec;
	atomic_uint_fast64_t	count;
};

static struct {
	atomic_uint_fast64_t	events_accepted;
	atomic_uint_fast64_t	events_rejected[METRICS_EVENT_REASONS];
	atomic_uint_fast64_t	events_refused[METRICS_REJECT_MAX];
	atomic_uint_fast64_t	http_requests[METRICS_NSTATUS + 1];
	atomic_int_fast64_t	http_connections;	/* gauge */
	atomic_uint_fast64_t	http_refused;
	atomic_uint_fast64_t	http_deadline[2];	/* head, body */
	atomic_uint_fast64_t	http_api[METRICS_API_MAX][METRICS_NSTATUS + 1];
	atomic_int		amqp_connected;
	atomic_int		amqp_blocked;
	atomic_uint_fast64_t	amqp_published;
	atomic_uint_fast64_t	amqp_confirmed;
	atomic_uint_fast64_t	amqp_nacked;
	atomic_uint_fast64_t	amqp_returned;
	atomic_uint_fast64_t	amqp_stalled_seq;
	atomic_uint_fast64_t	amqp_reconnects;
	struct metrics_hist	confirm_latency;
	atomic_uint_fast64_t	ws_connections;		/* gauge */
	atomic_uint_fast64_t	ws_connections_total;
	atomic_int_fast64_t	ws_subscriptions;	/* gauge */
	atomic_uint_fast64_t	ws_frames_in;
	atomic_uint_fast64_t	ws_frames_out;
	atomic_uint_fast64_t	ws_bytes_in;
	atomic_uint_fast64_t	ws_bytes_out;
	atomic_uint_fast64_t	ws_closes[METRICS_NCLOSE];
	atomic_uint_fast64_t	ws_slow_consumers;
	atomic_int_fast64_t	ws_partial_bytes;	/* gauge */
	atomic_uint_fast64_t	ws_partial_refused;
	atomic_int_fast64_t	hub_inbox;		/* gauge */
	atomic_uint_fast64_t	hub_dropped;
	atomic_uint_fast64_t	ws_missed_closes;
	atomic_uint_fast64_t	ws_event_frames[2];	/* pusher, envelope */
	atomic_int_fast64_t	ws_envelope_conns;	/* gauge */
	atomic_uint_fast64_t	ws_client_events[METRICS_CLIENT_EVENT_KINDS];
	struct metrics_hist	fanout_latency;
} metrics;

#define METRICS_ADD(field, n) \
	atomic_fetch_add_explicit(&(field), (n), memory_order_relaxed)
#define METRICS_GET(field) \
	atomic_load_explicit(&(field), memory_order_relaxed)

void
metrics_events_accepted(uint64_t n)
{
	METRICS_ADD(metrics.events_accepted, n);
}

void
metrics_event_rejected(unsigned reason)
{
	if (reason < METRICS_EVENT_REASONS)
		METRICS_ADD(metrics.events_rejected[reason], 1);
}

void
metrics_events_refused(enum metrics_reject reason, uint64_t n)
{
	if (reason < METRICS_REJECT_MAX)
		METRICS_ADD(metrics.events_refused[reason], n);
}

void
metrics_http_request(unsigned status)
{
	size_t i;

	for (i = 0; i < METRICS_NSTATUS; i++)
		if (metrics_statuses[i] == status)
			break;
	METRICS_ADD(metrics.http_requests[i], 1);
}

void
metrics_http_connections(int delta)
{
	METRICS_ADD(metrics.http_connections, delta);
}

void
metrics_http_refused(void)
{
	METRICS_ADD(metrics.http_refused, 1);
}

void
metrics_http_deadline(int body)
{
	METRICS_ADD(metrics.http_deadline[body != 0], 1);
}

static const char *const metrics_api_names[METRICS_API_MAX] = {
	[METRICS_API_EVENTS] = "events",
	[METRICS_API_BATCH_EVENTS] = "batch_events",
	[METRICS_API_CHANNELS] = "channels",
	[METRICS_API_CHANNEL] = "channel",
	[METRICS_API_USERS] = "users",
	[METRICS_API_TERMINATE] = "terminate_connections",
	[METRICS_API_OTHER] = "other",
};

void
metrics_http_api(enum metrics_api_endpoint endpoint, unsigned status)
{
	size_t i;

	if (endpoint >= METRICS_API_MAX)
		endpoint = METRICS_API_OTHER;
	for (i = 0; i < METRICS_NSTATUS; i++)
		if (metrics_statuses[i] == status)
			break;
	METRICS_ADD(metrics.http_api[endpoint][i], 1);
}

/* The HTTP API's requests by endpoint and status: the pairs seen. */
static void
metrics_render_api(struct metrics_text *b)
{
	uint64_t n;
	size_t e, i;
	char code[16];

	metrics_family(b, "sluice_http_api_requests_total", "counter",
	    "HTTP API (Pusher server API) requests answered, by endpoint and "
	    "status code (the pairs seen so far).");
	for (e = 0; e < METRICS_API_MAX; e++)
		for (i = 0; i <= METRICS_NSTATUS; i++) {
			if ((n = METRICS_GET(metrics.http_api[e][i])) == 0)
				continue;
			if (i < METRICS_NSTATUS)
				snprintf(code, sizeof code, "%u",
				    metrics_statuses[i]);
			else
				snprintf(code, sizeof code, "other");
			metrics_printf(b, "sluice_http_api_requests_total"
			    "{endpoint=\"%s\",code=\"%s\"} %llu\n",
			    metrics_api_names[e], code, (unsigned long long)n);
		}
}

void
metrics_amqp_connected(int connected)
{
	atomic_store_explicit(&metrics.amqp_connected, connected != 0,
	    memory_order_relaxed);
}

void
metrics_amqp_blocked(int blocked)
{
	atomic_store_explicit(&metrics.amqp_blocked, blocked != 0,
	    memory_order_relaxed);
}

int
metrics_amqp_is_connected(void)
{
	return METRICS_GET(metrics.amqp_connected);
}

int
metrics_amqp_is_blocked(void)
{
	return METRICS_GET(metrics.amqp_blocked);
}

void
metrics_amqp_published(uint64_t n)
{
	METRICS_ADD(metrics.amqp_published, n);
}

void
metrics_amqp_confirmed(uint64_t n)
{
	METRICS_ADD(metrics.amqp_confirmed, n);
}

void
metrics_amqp_nacked(uint64_t n)
{
	METRICS_ADD(metrics.amqp_nacked, n);
}

void
metrics_amqp_returned(uint64_t n)
{
	METRICS_ADD(metrics.amqp_returned, n);
}

void
metrics_amqp_stalled(uint64_t seq)
{
	atomic_store_explicit(&metrics.amqp_stalled_seq, seq,
	    memory_order_relaxed);
}

void
metrics_amqp_reconnect(void)
{
	METRICS_ADD(metrics.amqp_reconnects, 1);
}

static void
metrics_hist_observe(struct metrics_hist *h, uint64_t usec)
{
	size_t i;

	for (i = 0; i < METRICS_NBUCKETS; i++)
		if (usec <= metrics_latency_le[i])
			break;
	METRICS_ADD(h->buckets[i], 1);
	METRICS_ADD(h->sum_usec, usec);
	METRICS_ADD(h->count, 1);
}

void
metrics_amqp_confirm_latency(uint64_t usec)
{
	metrics_hist_observe(&metrics.confirm_latency, usec);
}

void
metrics_ws_opened(void)
{
	METRICS_ADD(metrics.ws_connections, 1);
	METRICS_ADD(metrics.ws_connections_total, 1);
}

void
metrics_ws_closed(void)
{
	atomic_fetch_sub_explicit(&metrics.ws_connections, 1,
	    memory_order_relaxed);
}

void
metrics_ws_close(int code)
{
	size_t i;

	for (i = 0; i < METRICS_NCLOSE; i++)
		if (metrics_close_codes[i] == code)
			METRICS_ADD(metrics.ws_closes[i], 1);
}

void
metrics_ws_subscriptions(int delta)
{
	METRICS_ADD(metrics.ws_subscriptions, delta);
}

void
metrics_ws_frame_in(size_t bytes)
{
	METRICS_ADD(metrics.ws_frames_in, 1);
	METRICS_ADD(metrics.ws_bytes_in, bytes);
}

void
metrics_ws_frame_out(size_t bytes)
{
	METRICS_ADD(metrics.ws_frames_out, 1);
	METRICS_ADD(metrics.ws_bytes_out, bytes);
}

void
metrics_ws_slow_consumer(void)
{
	METRICS_ADD(metrics.ws_slow_consumers, 1);
}

void
metrics_ws_partial_bytes(int64_t delta)
{
	METRICS_ADD(metrics.ws_partial_bytes, delta);
}

void
metrics_ws_partial_refused(void)
{
	METRICS_ADD(metrics.ws_partial_refused, 1);
}

void
metrics_hub_inbox(int64_t delta)
{
	METRICS_ADD(metrics.hub_inbox, delta);
}

void
metrics_hub_dropped(uint64_t n)
{
	METRICS_ADD(metrics.hub_dropped, n);
}

void
metrics_ws_client_event(enum metrics_client_event kind)
{
	METRICS_ADD(metrics.ws_client_events[kind], 1);
}

void
metrics_ws_missed_close(void)
{
	METRICS_ADD(metrics.ws_missed_closes, 1);
}

void
metrics_ws_event_frame(int envelope)
{
	METRICS_ADD(metrics.ws_event_frames[envelope != 0], 1);
}

void
metrics_ws_envelope_connections(int delta)
{
	METRICS_ADD(metrics.ws_envelope_conns, delta);
}

/* A gauge kept as a signed sum, never shown below 0. */
static uint64_t
metrics_gauge(int64_t v)
{
	return v > 0 ? (uint64_t)v : 0;
}

void
metrics_fanout_delivered(uint64_t usec)
{
	metrics_hist_observe(&metrics.fanout_latency, usec);
}

/* A growing text buffer; on allocation failure it goes NULL and stays so. */

void
metrics_printf(struct metrics_text *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	if (b->data == NULL)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			free(b->data);
			b->data = NULL;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		p = realloc(b->data, b->cap * 2 + (size_t)n);
		if (p == NULL) {
			free(b->data);
			b->data = NULL;
			return;
		}
		b->data = p;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

void
metrics_family(struct metrics_text *b, const char *name, const char *type,
    const char *help)
{
	metrics_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

void
metrics_single(struct metrics_text *b, const char *name, const char *type,
    const char *help, uint64_t value)
{
	metrics_family(b, name, type, help);
	metrics_printf(b, "%s %llu\n", name, (unsigned long long)value);
}

/* Writes a histogram family: buckets, sum and count, in seconds. */
static void
metrics_hist_render(struct metrics_text *b, const char *name,
    const char *help, struct metrics_hist *h)
{
	uint64_t cumulative = 0;
	size_t i;

	metrics_family(b, name, "histogram", help);
	for (i = 0; i <= METRICS_NBUCKETS; i++) {
		cumulative += METRICS_GET(h->buckets[i]);
		if (i < METRICS_NBUCKETS)
			metrics_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name,
			    (double)metrics_latency_le[i] / 1e6,
			    (unsigned long long)cumulative);
		else
			metrics_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n",
			    name, (unsigned long long)cumulative);
	}
	metrics_printf(b, "%s_sum %.6f\n", name,
	    (double)METRICS_GET(h->sum_usec) / 1e6);
	metrics_printf(b, "%s_count %llu\n", name,
	    (unsigned long long)METRICS_GET(h->count));
}

/* Writes one labelled pair of a counter: name{label="value"} n. */
static void
metrics_labelled(struct metrics_text *b, const char *name, const char *label,
    const char *value, uint64_t n)
{
	metrics_printf(b, "%s{%s=\"%s\"} %llu\n", name, label, value,
	    (unsigned long long)n);
}

static void
metrics_render_http(struct metrics_text *b, const struct metrics_hooks *hooks)
{
	size_t i;

	metrics_family(b, "sluice_events_accepted_total", "counter",
	    "Events made durable in the journal and acknowledged.");
	metrics_printf(b, "sluice_events_accepted_total %llu\n",
	    (unsigned long long)METRICS_GET(metrics.events_accepted));
	metrics_family(b, "sluice_events_rejected_total", "counter",
	    "Events not accepted, by reason.");
	for (i = 0; i < hooks->event_reasons && i < METRICS_EVENT_REASONS;
	    i++)
		metrics_printf(b,
		    "sluice_events_rejected_total{reason=\"%s\"} %llu\n",
		    hooks->event_reason_name((unsigned)i),
		    (unsigned long long)METRICS_GET(metrics.events_rejected[i]));
	for (i = 0; i < METRICS_REJECT_MAX; i++)
		metrics_printf(b,
		    "sluice_events_rejected_total{reason=\"%s\"} %llu\n",
		    metrics_reject_names[i],
		    (unsigned long long)METRICS_GET(metrics.events_refused[i]));
	metrics_family(b, "sluice_http_requests_total", "counter",
	    "HTTP requests answered, by status code.");
	for (i = 0; i <= METRICS_NSTATUS; i++) {
		if (i < METRICS_NSTATUS)
			metrics_printf(b,
			    "sluice_http_requests_total{code=\"%u\"} %llu\n",
			    metrics_statuses[i], (unsigned long long)
			    METRICS_GET(metrics.http_requests[i]));
		else
			metrics_printf(b,
			    "sluice_http_requests_total{code=\"other\"} %llu\n",
			    (unsigned long long)
			    METRICS_GET(metrics.http_requests[i]));
	}
	metrics_single(b, "sluice_http_connections", "gauge",
	    "Open HTTP connections.",
	    metrics_gauge(METRICS_GET(metrics.http_connections)));
	metrics_single(b, "sluice_http_connections_refused_total", "counter",
	    "HTTP connections refused because their address had "
	    "http_max_connections_per_client open.",
	    METRICS_GET(metrics.http_refused));
	metrics_family(b, "sluice_http_deadline_closes_total", "counter",
	    "HTTP connections closed (408) because a request's head or body "
	    "did not arrive in time, by phase.");
	metrics_labelled(b, "sluice_http_deadline_closes_total", "phase",
	    "head", METRICS_GET(metrics.http_deadline[0]));
	metrics_labelled(b, "sluice_http_deadline_closes_total", "phase",
	    "body", METRICS_GET(metrics.http_deadline[1]));
	metrics_render_api(b);
}

static void
metrics_render_amqp(struct metrics_text *b)
{
	metrics_single(b, "sluice_amqp_connected", "gauge",
	    "1 while connected to the broker with the topology declared.",
	    (uint64_t)METRICS_GET(metrics.amqp_connected));
	metrics_single(b, "sluice_amqp_blocked", "gauge",
	    "1 while the broker blocks publishing (connection.blocked).",
	    (uint64_t)METRICS_GET(metrics.amqp_blocked));
	metrics_single(b, "sluice_amqp_reconnects_total", "counter",
	    "Connections to the broker established after the first.",
	    METRICS_GET(metrics.amqp_reconnects));
	metrics_single(b, "sluice_amqp_publishes_total", "counter",
	    "Messages published to the broker, retries included.",
	    METRICS_GET(metrics.amqp_published));
	metrics_family(b, "sluice_amqp_confirms_total", "counter",
	    "Publisher confirms received, by outcome.");
	metrics_printf(b, "sluice_amqp_confirms_total{outcome=\"ack\"} %llu\n",
	    (unsigned long long)METRICS_GET(metrics.amqp_confirmed));
	metrics_printf(b, "sluice_amqp_confirms_total{outcome=\"nack\"} %llu\n",
	    (unsigned long long)METRICS_GET(metrics.amqp_nacked));
	metrics_single(b, "sluice_amqp_returned_total", "counter",
	    "Messages the broker returned as unroutable.",
	    METRICS_GET(metrics.amqp_returned));
	metrics_hist_render(b, "sluice_amqp_confirm_latency_seconds",
	    "Time from publish to the broker's confirm.",
	    &metrics.confirm_latency);
	metrics_single(b, "sluice_amqp_stalled_record", "gauge",
	    "Sequence number of the journal record forwarding stopped at "
	    "because it cannot be sent (unknown type, undecodable); 0 while "
	    "forwarding goes on.",
	    METRICS_GET(metrics.amqp_stalled_seq));
}

static void
metrics_render_ws(struct metrics_text *b)
{
	char code[16];
	int64_t subs;
	size_t i;

	metrics_single(b, "sluice_ws_connections", "gauge",
	    "Open WebSocket connections.",
	    METRICS_GET(metrics.ws_connections));
	metrics_single(b, "sluice_ws_connections_total", "counter",
	    "WebSocket connections opened.",
	    METRICS_GET(metrics.ws_connections_total));
	subs = METRICS_GET(metrics.ws_subscriptions);
	metrics_single(b, "sluice_ws_subscriptions", "gauge",
	    "Channel subscriptions of open connections.",
	    subs > 0 ? (uint64_t)subs : 0);
	metrics_family(b, "sluice_ws_frames_total", "counter",
	    "WebSocket messages, by direction.");
	metrics_labelled(b, "sluice_ws_frames_total", "direction", "in",
	    METRICS_GET(metrics.ws_frames_in));
	metrics_labelled(b, "sluice_ws_frames_total", "direction", "out",
	    METRICS_GET(metrics.ws_frames_out));
	metrics_family(b, "sluice_ws_bytes_total", "counter",
	    "WebSocket message payload bytes, by direction.");
	metrics_labelled(b, "sluice_ws_bytes_total", "direction", "in",
	    METRICS_GET(metrics.ws_bytes_in));
	metrics_labelled(b, "sluice_ws_bytes_total", "direction", "out",
	    METRICS_GET(metrics.ws_bytes_out));
	metrics_family(b, "sluice_ws_closes_total", "counter",
	    "WebSocket connections the server closed, by close code.");
	for (i = 0; i < METRICS_NCLOSE; i++) {
		snprintf(code, sizeof code, "%d", metrics_close_codes[i]);
		metrics_labelled(b, "sluice_ws_closes_total", "code", code,
		    METRICS_GET(metrics.ws_closes[i]));
	}
	metrics_single(b, "sluice_ws_slow_consumer_closes_total", "counter",
	    "Connections closed (4100) for not reading fast enough.",
	    METRICS_GET(metrics.ws_slow_consumers));
	metrics_single(b, "sluice_ws_partial_bytes", "gauge",
	    "Bytes held for messages still arriving in pieces, over every "
	    "connection (bounded by max_partial_bytes).",
	    metrics_gauge(METRICS_GET(metrics.ws_partial_bytes)));
	metrics_single(b, "sluice_ws_partial_overflow_closes_total",
	    "counter", "Connections closed (4100) because the bytes of "
	    "partial messages reached max_partial_bytes.",
	    METRICS_GET(metrics.ws_partial_refused));
	metrics_single(b, "sluice_hub_inbox_frames", "gauge",
	    "Frames from the HTTP threads waiting for the WebSocket thread "
	    "(bounded by inbox_frames).",
	    metrics_gauge(METRICS_GET(metrics.hub_inbox)));
	metrics_single(b, "sluice_hub_inbox_dropped_total", "counter",
	    "Live frames dropped because the hub's inbox was full (the "
	    "events are journaled all the same).",
	    METRICS_GET(metrics.hub_dropped));
	metrics_single(b, "sluice_ws_missed_closes_total", "counter",
	    "Subscribers closed (4100) because live frames of their channels "
	    "were dropped from the hub's inbox.",
	    METRICS_GET(metrics.ws_missed_closes));
	metrics_family(b, "sluice_ws_event_frames_total", "counter",
	    "Event frames encoded, by format: one per event and format, "
	    "shared by every subscriber that takes it.");
	metrics_labelled(b, "sluice_ws_event_frames_total", "format",
	    "pusher", METRICS_GET(metrics.ws_event_frames[0]));
	metrics_labelled(b, "sluice_ws_event_frames_total", "format",
	    "envelope", METRICS_GET(metrics.ws_event_frames[1]));
	metrics_single(b, "sluice_ws_envelope_connections", "gauge",
	    "Open connections that take events in the envelope format.",
	    metrics_gauge(METRICS_GET(metrics.ws_envelope_conns)));
	metrics_family(b, "sluice_ws_client_events_total", "counter",
	    "Client events (client-*) sent by WebSocket clients, by what "
	    "became of them: live (to the channel only), forwarded (also "
	    "journaled) or refused.");
	metrics_labelled(b, "sluice_ws_client_events_total", "outcome", "live",
	    METRICS_GET(metrics.ws_client_events[METRICS_CLIENT_EVENT_LIVE]));
	metrics_labelled(b, "sluice_ws_client_events_total", "outcome",
	    "forwarded", METRICS_GET(
	    metrics.ws_client_events[METRICS_CLIENT_EVENT_FORWARDED]));
	metrics_labelled(b, "sluice_ws_client_events_total", "outcome",
	    "refused", METRICS_GET(
	    metrics.ws_client_events[METRICS_CLIENT_EVENT_REFUSED]));
	metrics_single(b, "sluice_fanout_deliveries_total", "counter",
	    "Event frames written to subscribers.",
	    METRICS_GET(metrics.fanout_latency.count));
	metrics_hist_render(b, "sluice_fanout_latency_seconds",
	    "Time from an event's acceptance to its frame being written to "
	    "a subscriber.", &metrics.fanout_latency);
}

char *
metrics_render(const struct metrics_hooks *hooks, size_t *len)
{
	static const struct metrics_hooks none;
	struct metrics_text b;

	b.cap = 8192;
	b.len = 0;
	b.data = malloc(b.cap);
	if (hooks == NULL)
		hooks = &none;
	metrics_render_http(&b, hooks);
	if (hooks->render != NULL)
		hooks->render(&b, hooks->arg);
	metrics_render_amqp(&b);
	metrics_render_ws(&b);
	*len = b.len;
	return b.data;
}
