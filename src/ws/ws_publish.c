/*
 * ws_publish.c: sluice:publish, acknowledged publishing over a WebSocket.
 * The events go through the ingest pipeline like those of POST /v1/events;
 * the reply (sluice:ack, or sluice:nack naming what was refused) goes out
 * once the pipeline says they are durable. The pipeline's answer, when it
 * comes on the journal's writer thread, only queues the publish for the
 * service thread; everything else runs on the WebSocket service thread.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/isotime.h"
#include "core/jsontext.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/sluice.h"
#include "ingest/ingest.h"
#include "ws/ws.h"
#include "ws/ws_internal.h"

#define WS_REF_MAX		128
#define WS_RETRY_STOPPING_S	2

/* A publish in the pipeline, or a forwarded client event (ref NULL). */
struct ws_pending {
	struct ws_pending	*next;
	struct ws_conn		*conn;
	char			*ref;
	struct ingest_request	 ingest;
};

/* A refusal of the whole message: errors[] gets {index: null, ...}. */
struct ws_refusal {
	const char	*code;		/* NULL: none */
	const char	*message;
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
	char message[200];
	va_list ap;

	memset(&none, 0, sizeof none);
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	r.code = code;
	r.message = message;
	r.retry_after = retry_after;
	ws_publish_reply(c, ref, &none, 0, &r);
}

static void
ws_pending_free(struct ws_pending *p)
{
	ingest_request_free(&p->ingest);
	free(p->ref);
	free(p);
}

/* Tells the sender of a forwarded client event that it was refused; a
 * client event has no acknowledgement. */
static void
ws_publish_client_refused(struct ws_conn *c, const struct ingest_request *ir,
    int durable)
{
	char msg[300];

	if (durable && ir->batch.nrejected == 0)
		return;
	if (!durable)
		snprintf(msg, sizeof msg, "client event refused: %s",
		    ir->message);
	else
		snprintf(msg, sizeof msg, "client event refused: %s",
		    ir->batch.rejected[0].message);
	metrics_ws_client_event(METRICS_CLIENT_EVENT_REFUSED);
	ws_session_error(c, 0, msg, 0);
}

/* Replies to p with the pipeline's outcome and frees it. Service thread. */
static void
ws_publish_answer(struct ws_pending *p)
{
	const struct ingest_request *ir = &p->ingest;
	struct ws_conn *c = p->conn;
	struct ws_refusal r = { NULL, "", 0 };
	int durable;

	durable = ir->status == INGEST_OK || ir->status == INGEST_NONE_VALID;
	if (!durable) {
		/* The library's retry logic knows this code for a message
		 * that can never be valid. */
		r.code = ir->status == INGEST_BAD_JSON ? "invalid_body" :
		    ir->code;
		r.message = ir->message;
		r.retry_after = ir->retry_after;
	}
	if (c->wsi != NULL && p->ref != NULL)
		ws_publish_reply(c, p->ref, &ir->batch, durable, &r);
	else if (c->wsi != NULL)
		ws_publish_client_refused(c, ir, durable);
	c->pending--;
	ws_pending_free(p);
	ws_session_release(c);
}

/*
 * The pipeline's answer: on the service thread (a refusal, or events
 * durable already) it replies at once; on the journal's writer thread it
 * queues the publish and wakes the service thread.
 */
static void
ws_publish_done(struct ingest_request *ir, void *arg)
{
	struct ws_pending *p = arg;
	struct ws_server *srv = p->conn->srv;

	(void)ir;
	if (ws_on_service_thread()) {
		ws_publish_answer(p);
		return;
	}
	pthread_mutex_lock(&srv->done_lock);
	*srv->done_tail = p;
	srv->done_tail = &p->next;
	pthread_mutex_unlock(&srv->done_lock);
	lws_cancel_service(srv->ctx);
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

/*
 * Checks a publish's ref: 1..WS_REF_MAX characters of valid UTF-8 without
 * control characters (the reply must give it back whole, to match).
 * Returns NULL, or what is wrong with it (in buf, or a static string).
 */
static const char *
ws_ref_problem(struct json_object *jref, char *buf, size_t buflen)
{
	const unsigned char *s;
	size_t n, i = 0, chars = 0;
	uint32_t cp;

	if (!json_object_is_type(jref, json_type_string))
		return "sluice:publish needs data.ref, a string of 1 to 128 "
		    "characters";
	s = (const unsigned char *)json_object_get_string(jref);
	n = (size_t)json_object_get_string_len(jref);
	while (i < n) {
		if (jsontext_utf8_next(s, n, &i, &cp) == -1)
			return "sluice:publish data.ref is not valid UTF-8";
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return "sluice:publish data.ref must not contain "
			    "control characters";
		chars++;
	}
	if (chars < 1 || chars > WS_REF_MAX) {
		snprintf(buf, buflen, "sluice:publish needs data.ref, a string "
		    "of 1 to %d characters, not %zu", WS_REF_MAX, chars);
		return buf;
	}
	return NULL;
}

/* Fills src with what c's events are enriched with. */
static void
ws_publish_source(struct ws_conn *c, struct event_source *src,
    const char *source)
{
	memset(src, 0, sizeof *src);
	src->app = c->app;
	src->source = source;
	src->ip = c->ip;
	src->user_agent = c->user_agent;
	src->origin = c->origin;
	src->received_at_ms = isotime_now_ms();
}

void
ws_publish(struct ws_conn *c, struct json_object *data)
{
	struct ws_server *srv = c->srv;
	struct json_object *jref, *events;
	struct event_source src;
	struct ws_pending *p;
	const char *ref, *why;
	char whybuf[100];
	size_t n;

	if (data == NULL || !json_object_object_get_ex(data, "ref", &jref))
		jref = NULL;
	if ((why = ws_ref_problem(jref, whybuf, sizeof whybuf)) != NULL) {
		ws_session_error(c, 0, why, 0);
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
	/* Each event costs a token, however the batch is shaped. */
	n = event_body_count(events);
	if (ws_publish_rate(c, ref, n) == -1)
		return;
	p = calloc(1, sizeof *p);
	if (p == NULL || (p->ref = strdup(ref)) == NULL) {
		free(p);
		ws_session_error(c, 0, "out of memory", 0);
		return;
	}
	p->conn = c;
	ws_publish_source(c, &src, "ws");
	/* Answered exactly once, maybe before this returns. */
	c->pending++;
	ingest_submit(srv->ingest, &p->ingest, events, &src, NULL,
	    ws_publish_done, p);
}

void
ws_publish_client_event(struct ws_conn *c, struct json_object *events,
    const char *user_id)
{
	struct ws_server *srv = c->srv;
	struct event_source src;
	struct ws_pending *p;

	if (atomic_load(&srv->stopping)) {
		ws_session_error(c, 0, "client event refused: the gateway is "
		    "shutting down", 0);
		return;
	}
	p = calloc(1, sizeof *p);
	if (p == NULL) {
		ws_session_error(c, 0, "out of memory", 0);
		return;
	}
	p->conn = c;
	ws_publish_source(c, &src, "client");
	src.user_id = user_id;
	src.channel_granted = 1;
	c->pending++;
	ingest_submit(srv->ingest, &p->ingest, events, &src, c,
	    ws_publish_done, p);
}

void
ws_publish_drain(struct ws_server *srv)
{
	struct ws_pending *p, *next;

	pthread_mutex_lock(&srv->done_lock);
	p = srv->done;
	srv->done = NULL;
	srv->done_tail = &srv->done;
	pthread_mutex_unlock(&srv->done_lock);
	for (; p != NULL; p = next) {
		next = p->next;
		ws_publish_answer(p);
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
