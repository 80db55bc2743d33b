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

#include "journal.h"
#include "metrics.h"
#include "sluice.h"

/* HTTP statuses counted one by one; anything else lands in "other". */
static const unsigned metrics_statuses[] = {
	200, 202, 204, 207, 400, 401, 403, 404, 405, 408, 413, 415, 500, 503
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
};

static struct {
	atomic_uint_fast64_t	events_accepted;
	atomic_uint_fast64_t	events_rejected[EVENT_ERR_MAX];
	atomic_uint_fast64_t	events_refused[METRICS_REJECT_MAX];
	atomic_uint_fast64_t	http_requests[METRICS_NSTATUS + 1];
	atomic_int		amqp_connected;
	atomic_int		amqp_blocked;
	atomic_uint_fast64_t	amqp_published;
	atomic_uint_fast64_t	amqp_confirmed;
	atomic_uint_fast64_t	amqp_nacked;
	atomic_uint_fast64_t	amqp_returned;
	atomic_uint_fast64_t	amqp_reconnects;
	atomic_uint_fast64_t	latency_buckets[METRICS_NBUCKETS + 1];
	atomic_uint_fast64_t	latency_sum_usec;
	atomic_uint_fast64_t	latency_count;
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
metrics_event_rejected(enum event_error reason)
{
	if (reason < EVENT_ERR_MAX)
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
metrics_amqp_reconnect(void)
{
	METRICS_ADD(metrics.amqp_reconnects, 1);
}

void
metrics_amqp_confirm_latency(uint64_t usec)
{
	size_t i;

	for (i = 0; i < METRICS_NBUCKETS; i++)
		if (usec <= metrics_latency_le[i])
			break;
	METRICS_ADD(metrics.latency_buckets[i], 1);
	METRICS_ADD(metrics.latency_sum_usec, usec);
	METRICS_ADD(metrics.latency_count, 1);
}

/* A growing text buffer; on allocation failure it goes NULL and stays so. */
struct metrics_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

static void __attribute__((format(printf, 2, 3)))
metrics_printf(struct metrics_buf *b, const char *fmt, ...)
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

/* Writes the HELP and TYPE lines of one metric family. */
static void
metrics_family(struct metrics_buf *b, const char *name, const char *type,
    const char *help)
{
	metrics_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* Writes a family that has a single, unlabelled sample. */
static void
metrics_single(struct metrics_buf *b, const char *name, const char *type,
    const char *help, uint64_t value)
{
	metrics_family(b, name, type, help);
	metrics_printf(b, "%s %llu\n", name, (unsigned long long)value);
}

static void
metrics_render_http(struct metrics_buf *b)
{
	size_t i;

	metrics_family(b, "sluice_events_accepted_total", "counter",
	    "Events made durable in the journal and acknowledged.");
	metrics_printf(b, "sluice_events_accepted_total %llu\n",
	    (unsigned long long)METRICS_GET(metrics.events_accepted));
	metrics_family(b, "sluice_events_rejected_total", "counter",
	    "Events not accepted, by reason.");
	for (i = 0; i < EVENT_ERR_MAX; i++)
		metrics_printf(b,
		    "sluice_events_rejected_total{reason=\"%s\"} %llu\n",
		    event_error_name((enum event_error)i),
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
}

static void
metrics_render_journal(struct metrics_buf *b, struct journal *j)
{
	struct journal_stats st;

	journal_get_stats(j, &st);
	metrics_single(b, "sluice_journal_bytes", "gauge",
	    "Bytes held by the journal (segments and pending writes).",
	    st.bytes);
	metrics_single(b, "sluice_journal_max_bytes", "gauge",
	    "The journal's size limit.", st.max_bytes);
	metrics_single(b, "sluice_journal_segments", "gauge",
	    "Segment files on disk.", st.segments);
	metrics_single(b, "sluice_journal_unconfirmed_records", "gauge",
	    "Durable records the broker has not confirmed yet.",
	    st.records_unconfirmed);
	metrics_single(b, "sluice_journal_fsyncs_total", "counter",
	    "Group commits (one fdatasync each).", st.fsyncs);
	metrics_single(b, "sluice_journal_failed", "gauge",
	    "1 after a journal write or fsync failed.", (uint64_t)st.failed);
	metrics_single(b, "sluice_journal_full", "gauge",
	    "1 while the journal refuses appends for want of space.",
	    (uint64_t)st.full);
}

static void
metrics_render_amqp(struct metrics_buf *b)
{
	uint64_t cumulative = 0;
	size_t i;

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
	metrics_family(b, "sluice_amqp_confirm_latency_seconds", "histogram",
	    "Time from publish to the broker's confirm.");
	for (i = 0; i <= METRICS_NBUCKETS; i++) {
		cumulative += METRICS_GET(metrics.latency_buckets[i]);
		if (i < METRICS_NBUCKETS)
			metrics_printf(b, "sluice_amqp_confirm_latency_seconds"
			    "_bucket{le=\"%g\"} %llu\n",
			    (double)metrics_latency_le[i] / 1e6,
			    (unsigned long long)cumulative);
		else
			metrics_printf(b, "sluice_amqp_confirm_latency_seconds"
			    "_bucket{le=\"+Inf\"} %llu\n",
			    (unsigned long long)cumulative);
	}
	metrics_printf(b, "sluice_amqp_confirm_latency_seconds_sum %.6f\n",
	    (double)METRICS_GET(metrics.latency_sum_usec) / 1e6);
	metrics_printf(b, "sluice_amqp_confirm_latency_seconds_count %llu\n",
	    (unsigned long long)METRICS_GET(metrics.latency_count));
}

char *
metrics_render(struct journal *j, size_t *len)
{
	struct metrics_buf b;

	b.cap = 8192;
	b.len = 0;
	b.data = malloc(b.cap);
	metrics_render_http(&b);
	if (j != NULL)
		metrics_render_journal(&b, j);
	metrics_render_amqp(&b);
	*len = b.len;
	return b.data;
}
