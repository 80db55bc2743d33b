/*
 * ingest.c: the ingest pipeline: validate and enrich (event.c), append to
 * the journal, publish to the hub, wait for durability, count. Thread-safe;
 * the in-flight count is guarded by a mutex so that ingest_wait_idle can
 * sleep on a condition variable.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <json-c/json.h>

#include "core/app.h"
#include "core/config.h"
#include "core/isotime.h"
#include "core/jsontext.h"
#include "core/metrics.h"
#include "core/sluice.h"
#include "core/waitcount.h"
#include "hub/hub.h"
#include "ingest/channel.h"
#include "ingest/ingest.h"
#include "journal/journal.h"

#define INGEST_RETRY_FULL_S	5
#define INGEST_RETRY_STOPPING_S	2

struct ingest {
	const struct config		*cfg;
	const struct app_registry	*apps;
	struct journal			*journal;
	struct hub			*hub;
	atomic_int			 stopping;

	struct waitcount		 waiting;	/* on the journal */
};

struct ingest *
ingest_new(const struct config *cfg, const struct app_registry *apps,
    struct journal *j, struct hub *h)
{
	struct ingest *in;

	in = calloc(1, sizeof *in);
	if (in == NULL)
		return NULL;
	in->cfg = cfg;
	in->apps = apps;
	in->journal = j;
	in->hub = h;
	atomic_init(&in->stopping, 0);
	waitcount_init(&in->waiting);
	return in;
}

void
ingest_free(struct ingest *in)
{
	if (in == NULL)
		return;
	waitcount_destroy(&in->waiting);
	free(in);
}

/* Fills in a refusal of the whole request and calls back. */
static void __attribute__((format(printf, 5, 6)))
ingest_refuse(struct ingest_request *req, enum ingest_status status,
    const char *code, int retry_after, const char *fmt, ...)
{
	va_list ap;

	req->status = status;
	req->code = code;
	req->retry_after = retry_after;
	va_start(ap, fmt);
	vsnprintf(req->message, sizeof req->message, fmt, ap);
	va_end(ap);
	req->done(req, req->arg);
}

/* Counts the per-event rejections of a request. */
static void
ingest_count_rejected(const struct event_batch *b)
{
	size_t i;

	for (i = 0; i < b->nrejected; i++)
		metrics_event_rejected(b->rejected[i].error);
}

/* The journal's answer: runs on its writer thread (or the caller's). */
static void
ingest_durable(void *arg, int status)
{
	struct ingest_request *req = arg;
	struct ingest *in = req->ingest;

	if (status == SLUICE_OK) {
		metrics_events_accepted(req->batch.naccepted);
		req->status = INGEST_OK;
		req->done(req, req->arg);
	} else
		ingest_refuse(req, INGEST_UNAVAILABLE, "journal_unavailable",
		    INGEST_RETRY_FULL_S, "the events could not be made "
		    "durable: %s", sluice_strerror(status));
	/* Last, and without touching req: its owner may have freed it. */
	waitcount_done(&in->waiting);
}

/* Maps a failed journal_append to the refusal of the request. */
static void
ingest_refuse_append(struct ingest_request *req, int rc)
{
	size_t n = req->batch.naccepted;

	switch (rc) {
	case SLUICE_EFULL:
		metrics_events_refused(METRICS_REJECT_JOURNAL_FULL, n);
		ingest_refuse(req, INGEST_JOURNAL_FULL, "journal_full",
		    INGEST_RETRY_FULL_S, "the journal is full until the "
		    "broker catches up; retry later");
		break;
	case SLUICE_ESTOPPING:
		metrics_events_refused(METRICS_REJECT_STOPPING, n);
		ingest_refuse(req, INGEST_STOPPING, "stopping",
		    INGEST_RETRY_STOPPING_S, "the gateway is shutting down");
		break;
	case SLUICE_ETOOBIG:
		ingest_refuse(req, INGEST_TOO_LARGE, "event_too_large", 0,
		    "an event is larger than a journal segment");
		break;
	case SLUICE_ENOMEM:
		ingest_refuse(req, INGEST_NOMEM, "internal", 0,
		    "out of memory");
		break;
	default:
		ingest_refuse(req, INGEST_UNAVAILABLE, "journal_unavailable",
		    INGEST_RETRY_FULL_S, "the journal cannot be written: %s",
		    sluice_strerror(rc));
		break;
	}
}

/*
 * Appends the accepted events of req. Returns SLUICE_OK with *last set and
 * req counted as waiting, or the journal's error (nothing counted).
 */
static int
ingest_append(struct ingest *in, struct ingest_request *req, uint64_t *last)
{
	const struct event_batch *b = &req->batch;
	struct iovec stack[64], *iov = stack;
	size_t i;
	int rc;

	if (b->naccepted > SLUICE_ARRAY_LEN(stack)) {
		iov = calloc(b->naccepted, sizeof *iov);
		if (iov == NULL)
			return SLUICE_ENOMEM;
	}
	for (i = 0; i < b->naccepted; i++) {
		iov[i].iov_base = b->accepted[i].record;
		iov[i].iov_len = b->accepted[i].record_len;
	}
	/*
	 * Counted as waiting before stopping is looked at: shutdown sets
	 * stopping and then waits for the count to reach zero, so either it
	 * sees this request or this request sees stopping.
	 */
	waitcount_add(&in->waiting);
	if (atomic_load(&in->stopping))
		rc = SLUICE_ESTOPPING;
	else
		rc = journal_append(in->journal, iov, b->naccepted, last);
	if (rc != SLUICE_OK)
		waitcount_done(&in->waiting);
	if (iov != stack)
		free(iov);
	return rc;
}

/* Hands the accepted events, numbered up to last, to the hub. */
static void
ingest_publish(struct ingest *in, const struct event_source *src,
    const struct event_batch *b, uint64_t last, const void *except)
{
	struct hub_event stack[64], *events = stack;
	const struct event_accepted *a;
	int64_t now = isotime_mono_us();
	unsigned app = app_index(in->apps, src->app);
	size_t i;

	if (b->naccepted > SLUICE_ARRAY_LEN(stack)) {
		events = calloc(b->naccepted, sizeof *events);
		if (events == NULL)
			return;		/* the live view misses these */
	}
	for (i = 0; i < b->naccepted; i++) {
		a = &b->accepted[i];
		memset(&events[i], 0, sizeof events[i]);
		events[i].app = app;
		events[i].channel = a->view.channel;
		events[i].channel_len = a->view.channel_len;
		events[i].event = a->view.event;
		events[i].event_len = a->view.event_len;
		events[i].envelope = a->view.json;
		events[i].envelope_len = a->view.json_len;
		events[i].data = a->view.json + a->data_off;
		events[i].data_len = a->data_len;
		events[i].seq = last - (b->naccepted - 1 - i);
		events[i].accepted_us = now;
		events[i].except = except;
		events[i].except_socket = src->except_socket;
		events[i].user_id = src->user_id;
		events[i].user_id_len = src->user_id != NULL ?
		    strlen(src->user_id) : 0;
		events[i].cache_ttl_us = channel_is_cache(a->view.channel,
		    a->view.channel_len) ? (int64_t)src->app->cache_ttl_s *
		    1000000 : 0;
	}
	hub_publish(in->hub, events, b->naccepted);
	if (events != stack)
		free(events);
}

/* Maps a whole-body parse failure to its refusal. */
static void
ingest_refuse_body(struct ingest_request *req, enum event_body rc,
    const char *err)
{
	switch (rc) {
	case EVENT_BODY_TOO_MANY:
		metrics_events_refused(METRICS_REJECT_TOO_MANY, 1);
		ingest_refuse(req, INGEST_TOO_MANY, "too_many_events", 0, "%s",
		    err);
		break;
	case EVENT_BODY_BAD_JSON:
		metrics_events_refused(METRICS_REJECT_BAD_JSON, 1);
		ingest_refuse(req, INGEST_BAD_JSON, "invalid_json", 0, "%s",
		    err);
		break;
	case EVENT_BODY_NOMEM:
		ingest_refuse(req, INGEST_NOMEM, "internal", 0,
		    "out of memory");
		break;
	case EVENT_BODY_EMPTY:
		metrics_events_refused(METRICS_REJECT_BAD_SHAPE, 1);
		ingest_refuse(req, INGEST_EMPTY, "no_events", 0, "%s", err);
		break;
	default:
		metrics_events_refused(METRICS_REJECT_BAD_SHAPE, 1);
		ingest_refuse(req, INGEST_BAD_BODY, "invalid_body", 0, "%s",
		    err);
		break;
	}
}

/* Sets up req for a submission. Returns 0, or -1 after refusing it. */
static int
ingest_begin(struct ingest *in, struct ingest_request *req,
    ingest_done_fn done, void *arg, struct event_limits *lim)
{
	req->ingest = in;
	req->done = done;
	req->arg = arg;
	req->code = NULL;
	req->message[0] = '\0';
	req->retry_after = 0;
	lim->max_event_bytes = in->cfg->max_event_bytes;
	lim->max_events = in->cfg->max_events_per_request;
	if (atomic_load(&in->stopping)) {
		ingest_refuse(req, INGEST_STOPPING, "stopping",
		    INGEST_RETRY_STOPPING_S, "the gateway is shutting down");
		return -1;
	}
	return 0;
}

/* What follows parsing: append, publish, wait. */
static void
ingest_commit(struct ingest *in, struct ingest_request *req,
    const struct event_source *src, enum event_body rc, const char *err,
    const void *except)
{
	uint64_t last;
	int status;

	if (rc != EVENT_BODY_OK) {
		ingest_refuse_body(req, rc, err);
		return;
	}
	ingest_count_rejected(&req->batch);
	if (req->batch.naccepted == 0) {
		req->status = INGEST_NONE_VALID;
		req->done(req, req->arg);
		return;
	}
	status = ingest_append(in, req, &last);
	if (status != SLUICE_OK) {
		ingest_refuse_append(req, status);
		return;
	}
	/* Subscribers see the events now; the client hears once durable. */
	ingest_publish(in, src, &req->batch, last, except);
	/* The records are in the journal: keep only ids and errors. */
	event_batch_shed(&req->batch);
	if (journal_wait(in->journal, last, ingest_durable, req) != SLUICE_OK)
		ingest_durable(req, SLUICE_ENOMEM);
}

void
ingest_submit(struct ingest *in, struct ingest_request *req,
    struct json_object *events, const struct event_source *src,
    const void *except, ingest_done_fn done, void *arg)
{
	struct event_limits lim;
	enum event_body rc;
	char err[256];

	if (ingest_begin(in, req, done, arg, &lim) == -1)
		return;
	rc = event_batch_from_json(events, &lim, src, &req->batch, err,
	    sizeof err);
	ingest_commit(in, req, src, rc, err, except);
}

void
ingest_submit_text(struct ingest *in, struct ingest_request *req,
    const char *body, size_t len, const struct event_source *src,
    const void *except, ingest_done_fn done, void *arg)
{
	struct event_limits lim;
	enum event_body rc;
	char err[256];

	if (ingest_begin(in, req, done, arg, &lim) == -1)
		return;
	rc = event_batch_parse(body != NULL ? body : "", len, &lim, src,
	    &req->batch, err, sizeof err);
	ingest_commit(in, req, src, rc, err, except);
}

void
ingest_request_free(struct ingest_request *req)
{
	if (req != NULL)
		event_batch_free(&req->batch);
}

void
ingest_quiesce(struct ingest *in)
{
	atomic_store(&in->stopping, 1);
}

int
ingest_stopping(struct ingest *in)
{
	return atomic_load(&in->stopping);
}

int
ingest_wait_idle(struct ingest *in, unsigned timeout_ms)
{
	return waitcount_wait(&in->waiting, timeout_ms);
}

/* The reason names of the metrics: enum event_error's API names. */
static const char *
ingest_reason_name(unsigned reason)
{
	return event_error_name((enum event_error)reason);
}

void
ingest_metrics_hooks(struct metrics_hooks *hooks)
{
	hooks->event_reason_name = ingest_reason_name;
	hooks->event_reasons = EVENT_ERR_MAX;
}
