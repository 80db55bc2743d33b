/*
 * ws_publish.c: sluice:publish, acknowledged publishing over a WebSocket.
 * The events are checked and enriched by the same code as POST /v1/events,
 * appended to the journal and fanned out at once; the reply (sluice:ack, or
 * sluice:nack naming what was refused) goes out once the journal says they
 * are durable. The journal's callback runs on its writer thread and only
 * queues the publish for the service thread; everything else runs on the
 * WebSocket service thread.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ingest/event.h"
#include "core/isotime.h"
#include "journal/journal.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/sluice.h"
#include "ws/ws.h"
#include "ws/ws_internal.h"

#define WS_REF_MAX		128
#define WS_RETRY_FULL_S		5
#define WS_RETRY_STOPPING_S	2

/* A publish waiting for the journal. */
struct ws_pending {
	struct ws_pending	*next;
	struct ws_conn		*conn;
	int			 status;	/* the journal's answer */
	char			*ref;
	struct event_batch	 batch;		/* ids and rejections */
};

/* A refusal of the whole message: errors[] gets {index: null, ...}. */
struct ws_refusal {
	const char	*code;		/* NULL: none */
	char		 message[200];
	int		 retry_after;	/* seconds; 0: none */
};

/*
 * Sends the one reply to a publish: sluice:ack when every event is durable,
 * else sluice:nack with the ids that are and the errors of the rest.
 */
static void
ws_publish_reply(struct ws_conn *c, const char *ref,
    const struct event_batch *b, int durable, const struct ws_refusal *r)
{
	struct json_object *o, *errors, *e;
	const char *text;
	size_t len;
	int nack = !durable || b->nrejected > 0 || r->code != NULL;

	o = json_object_new_object();
	json_object_object_add(o, "ref", json_object_new_string(ref));
	json_object_object_add(o, "ids", durable ? event_batch_ids_json(b) :
	    json_object_new_array());
	if (nack) {
		errors = event_batch_errors_json(b);
		if (r->code != NULL) {
			e = json_object_new_object();
			json_object_object_add(e, "index", NULL);
			json_object_object_add(e, "code",
			    json_object_new_string(r->code));
			json_object_object_add(e, "message",
			    json_object_new_string(r->message));
			json_object_array_add(errors, e);
		}
		json_object_object_add(o, "errors", errors);
		if (r->retry_after > 0)
			json_object_object_add(o, "retry_after",
			    json_object_new_int(r->retry_after));
	}
	text = json_object_to_json_string_length(o, JSONTEXT_FLAGS, &len);
	if (text != NULL)
		ws_session_message_out(c, nack ? "sluice:nack" : "sluice:ack",
		    NULL, text, len, 1);
	json_object_put(o);
}

/* Refuses the whole message before any event is looked at. */
static void __attribute__((format(printf, 5, 6)))
ws_publish_refuse(struct ws_conn *c, const char *ref, const char *code,
    int retry_after, const char *fmt, ...)
{
	struct event_batch none;
	struct ws_refusal r;
	va_list ap;

	memset(&none, 0, sizeof none);
	r.code = code;
	r.retry_after = retry_after;
	va_start(ap, fmt);
	vsnprintf(r.message, sizeof r.message, fmt, ap);
	va_end(ap);
	ws_publish_reply(c, ref, &none, 0, &r);
}

/* Runs on the journal's writer thread (or this one): queue the answer. */
static void
ws_publish_durable(void *arg, int status)
{
	struct ws_pending *p = arg;
	struct ws_server *srv = p->conn->srv;

	p->status = status;
	pthread_mutex_lock(&srv->done_lock);
	*srv->done_tail = p;
	srv->done_tail = &p->next;
	pthread_mutex_unlock(&srv->done_lock);
	lws_cancel_service(srv->ctx);
	/* Last: ws_stop may go on once this reaches zero. */
	atomic_fetch_sub(&srv->pending, 1);
}

static void
ws_pending_free(struct ws_pending *p)
{
	event_batch_free(&p->batch);
	free(p->ref);
	free(p);
}

/* Counts the per-event rejections of a publish. */
static void
ws_publish_count_rejected(const struct event_batch *b)
{
	size_t i;

	for (i = 0; i < b->nrejected; i++)
		metrics_event_rejected(b->rejected[i].error);
}

/* Appends p's accepted events; returns 0, or -1 after replying. */
static int
ws_publish_append(struct ws_conn *c, struct ws_pending *p, uint64_t *last)
{
	struct ws_server *srv = c->srv;
	struct event_batch *b = &p->batch;
	struct ws_refusal r;
	struct iovec *iov;
	size_t i;
	int rc;

	iov = calloc(b->naccepted, sizeof *iov);
	if (iov == NULL)
		rc = SLUICE_ENOMEM;
	else {
		for (i = 0; i < b->naccepted; i++) {
			iov[i].iov_base = b->accepted[i].record;
			iov[i].iov_len = b->accepted[i].record_len;
		}
		/* Counted before stopping is looked at, as on HTTP. */
		atomic_fetch_add(&srv->pending, 1);
		if (atomic_load(&srv->stopping))
			rc = SLUICE_ESTOPPING;
		else
			rc = journal_append(srv->journal, iov, b->naccepted,
			    last);
		if (rc != SLUICE_OK)
			atomic_fetch_sub(&srv->pending, 1);
		free(iov);
	}
	if (rc == SLUICE_OK)
		return 0;
	r.retry_after = 0;
	switch (rc) {
	case SLUICE_EFULL:
		metrics_events_refused(METRICS_REJECT_JOURNAL_FULL,
		    b->naccepted);
		r.code = "journal_full";
		r.retry_after = WS_RETRY_FULL_S;
		snprintf(r.message, sizeof r.message, "the journal is full "
		    "until the broker catches up; retry later");
		break;
	case SLUICE_ESTOPPING:
		metrics_events_refused(METRICS_REJECT_STOPPING, b->naccepted);
		r.code = "stopping";
		r.retry_after = WS_RETRY_STOPPING_S;
		snprintf(r.message, sizeof r.message, "the gateway is "
		    "shutting down");
		break;
	case SLUICE_ETOOBIG:
		r.code = "event_too_large";
		snprintf(r.message, sizeof r.message, "an event is larger "
		    "than a journal segment");
		break;
	default:
		r.code = "journal_unavailable";
		r.retry_after = WS_RETRY_FULL_S;
		snprintf(r.message, sizeof r.message, "the journal cannot be "
		    "written: %s", sluice_strerror(rc));
		break;
	}
	ws_publish_reply(c, p->ref, b, 0, &r);
	return -1;
}

/* The whole-message outcome of event_batch_from_json as a nack. */
static void
ws_publish_refuse_body(struct ws_conn *c, const char *ref, enum event_body rc,
    const char *err)
{
	const char *code;

	switch (rc) {
	case EVENT_BODY_TOO_MANY:
		metrics_events_refused(METRICS_REJECT_TOO_MANY, 1);
		code = "too_many_events";
		break;
	case EVENT_BODY_EMPTY:
		metrics_events_refused(METRICS_REJECT_BAD_SHAPE, 1);
		code = "no_events";
		break;
	case EVENT_BODY_NOMEM:
		code = "internal";
		break;
	default:
		metrics_events_refused(METRICS_REJECT_BAD_SHAPE, 1);
		code = "invalid_body";
		break;
	}
	ws_publish_refuse(c, ref, code, 0, "%s", err);
}

/* Takes the tokens for n events; returns 0, or -1 after refusing. */
static int
ws_publish_rate(struct ws_conn *c, const char *ref, size_t n)
{
	const struct config *cfg = c->srv->cfg;
	char msg[200];
	int64_t wait;
	int secs;

	if (ratelimit_take(&c->bucket, cfg->ws_publish_rate,
	    cfg->ws_publish_burst, n > UINT32_MAX ? UINT32_MAX : (unsigned)n,
	    isotime_mono_us(), &wait) == 0)
		return 0;
	metrics_events_refused(METRICS_REJECT_RATE_LIMITED, n);
	if (wait < 0) {
		snprintf(msg, sizeof msg, "a publish of %zu events is more "
		    "than publish_burst (%u) allows", n,
		    cfg->ws_publish_burst);
		secs = 0;
	} else {
		secs = (int)((wait + 999999) / 1000000);
		snprintf(msg, sizeof msg, "over the publish rate of %u events "
		    "a second; retry in %d s", cfg->ws_publish_rate, secs);
	}
	ws_session_error(c, PUSHER_RATE_LIMITED, msg, 0);
	ws_publish_refuse(c, ref, "rate_limited", secs, "%s", msg);
	return -1;
}

void
ws_publish(struct ws_conn *c, struct json_object *data)
{
	struct ws_server *srv = c->srv;
	const struct config *cfg = srv->cfg;
	struct json_object *jref, *events;
	struct event_limits lim;
	struct event_source src;
	struct ws_pending *p;
	enum event_body rc;
	const char *ref;
	char err[256];
	uint64_t last;
	size_t n, i;

	if (data == NULL || !json_object_object_get_ex(data, "ref", &jref) ||
	    !json_object_is_type(jref, json_type_string) ||
	    json_object_get_string_len(jref) < 1 ||
	    json_object_get_string_len(jref) > WS_REF_MAX) {
		ws_session_error(c, 0, "sluice:publish needs data.ref, a string "
		    "of 1 to 128 characters", 0);
		return;
	}
	ref = json_object_get_string(jref);
	if (!json_object_object_get_ex(data, "events", &events) ||
	    (!json_object_is_type(events, json_type_array) &&
	    !json_object_is_type(events, json_type_object))) {
		metrics_events_refused(METRICS_REJECT_BAD_SHAPE, 1);
		ws_publish_refuse(c, ref, "invalid_body", 0, "data.events must "
		    "be an array of events or one event object");
		return;
	}
	if (atomic_load(&srv->stopping)) {
		ws_publish_refuse(c, ref, "stopping", WS_RETRY_STOPPING_S,
		    "the gateway is shutting down");
		return;
	}
	n = json_object_is_type(events, json_type_array) ?
	    json_object_array_length(events) : 1;
	if (ws_publish_rate(c, ref, n) == -1)
		return;
	p = calloc(1, sizeof *p);
	if (p == NULL || (p->ref = strdup(ref)) == NULL) {
		free(p);
		ws_session_error(c, 0, "out of memory", 0);
		return;
	}
	p->conn = c;
	memset(&src, 0, sizeof src);
	src.app = c->app;
	src.source = "ws";
	src.ip = c->ip;
	src.user_agent = c->user_agent;
	src.origin = c->origin;
	src.received_at_ms = isotime_now_ms();
	lim.max_event_bytes = cfg->max_event_bytes;
	lim.max_events = cfg->max_events_per_request;
	rc = event_batch_from_json(events, &lim, &src, &p->batch, err,
	    sizeof err);
	if (rc != EVENT_BODY_OK) {
		ws_publish_refuse_body(c, ref, rc, err);
		ws_pending_free(p);
		return;
	}
	ws_publish_count_rejected(&p->batch);
	if (p->batch.naccepted == 0) {
		struct ws_refusal none = { NULL, "", 0 };

		ws_publish_reply(c, ref, &p->batch, 1, &none);
		ws_pending_free(p);
		return;
	}
	if (ws_publish_append(c, p, &last) == -1) {
		ws_pending_free(p);
		return;
	}
	ws_fanout(srv, c->app, &p->batch);
	/* The records are in the journal now; keep only ids and errors. */
	for (i = 0; i < p->batch.naccepted; i++) {
		free(p->batch.accepted[i].record);
		p->batch.accepted[i].record = NULL;
		p->batch.accepted[i].record_len = 0;
	}
	c->pending++;
	if (journal_wait(srv->journal, last, ws_publish_durable, p) !=
	    SLUICE_OK)
		ws_publish_durable(p, SLUICE_ENOMEM);
}

void
ws_publish_drain(struct ws_server *srv)
{
	struct ws_pending *p, *next;
	struct ws_refusal r;
	struct ws_conn *c;

	pthread_mutex_lock(&srv->done_lock);
	p = srv->done;
	srv->done = NULL;
	srv->done_tail = &srv->done;
	pthread_mutex_unlock(&srv->done_lock);
	for (; p != NULL; p = next) {
		next = p->next;
		c = p->conn;
		r.code = NULL;
		r.retry_after = 0;
		if (p->status == SLUICE_OK)
			metrics_events_accepted(p->batch.naccepted);
		else {
			r.code = "journal_unavailable";
			r.retry_after = WS_RETRY_FULL_S;
			snprintf(r.message, sizeof r.message, "the events "
			    "could not be made durable: %s",
			    sluice_strerror(p->status));
		}
		if (c->wsi != NULL)
			ws_publish_reply(c, p->ref, &p->batch,
			    p->status == SLUICE_OK, &r);
		c->pending--;
		ws_pending_free(p);
		ws_session_release(c);
	}
}

void
ws_publish_discard(struct ws_server *srv)
{
	struct ws_pending *p, *next;
	struct ws_conn *c;

	for (p = srv->done; p != NULL; p = next) {
		next = p->next;
		c = p->conn;
		c->pending--;
		ws_pending_free(p);
		ws_session_release(c);
	}
	srv->done = NULL;
	srv->done_tail = &srv->done;
}
