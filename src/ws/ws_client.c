/*
 * ws_client.c: client events ("client-*"), which a connection subscribed
 * to a private or presence channel sends to the channel's other
 * subscribers, as Pusher defines them: never on public or end-to-end
 * encrypted channels, never echoed to the sender, rate limited per
 * connection, and carrying the sender's user_id on presence channels.
 * The app chooses what else becomes of them (client_events): forward
 * (they also go through the ingest pipeline, journaled and forwarded,
 * source "client"), live (the channel only) or off. WebSocket service
 * thread only.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/isotime.h"
#include "core/metrics.h"
#include "core/sluice.h"
#include "ingest/event.h"
#include "ws/ws_internal.h"

/* Refuses a client event with code (0: null) and message. */
static void __attribute__((format(printf, 3, 4)))
ws_client_refuse(struct ws_conn *c, int code, const char *fmt, ...)
{
	char msg[240];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	metrics_ws_client_event(METRICS_CLIENT_EVENT_REFUSED);
	ws_session_error(c, code, msg, 0);
}

/*
 * Checks that c may send a client event to the channel of m. Returns c's
 * subscription to it, or NULL after refusing.
 */
static struct ws_sub *
ws_client_check(struct ws_conn *c, struct pusher_msg *m, const char **name)
{
	const struct config_app *app = c->app;
	struct json_object *jch;
	struct ws_sub *sub;
	enum channel_kind k;
	int64_t wait;

	*name = NULL;
	if (app->client_events == CONFIG_CLIENT_EVENTS_OFF) {
		ws_client_refuse(c, 0, "client events are off for app %s "
		    "(client_events = off)", app->id);
		return NULL;
	}
	if (strlen(m->event) > EVENT_NAME_MAX) {
		ws_client_refuse(c, 0, "a client event's name is at most %d "
		    "characters", EVENT_NAME_MAX);
		return NULL;
	}
	if (!json_object_object_get_ex(m->root, "channel", &jch) ||
	    !json_object_is_type(jch, json_type_string)) {
		ws_client_refuse(c, 0, "client event %.100s needs a channel, "
		    "a string", m->event);
		return NULL;
	}
	*name = json_object_get_string(jch);
	k = channel_kind(*name);
	if (k != CHANNEL_PRIVATE && k != CHANNEL_PRESENCE) {
		ws_client_refuse(c, 0, "client events go on private- and "
		    "presence- channels only, not %.170s", *name);
		return NULL;
	}
	if (channel_is_encrypted(*name)) {
		ws_client_refuse(c, 0, "client events are not allowed on "
		    "encrypted channels (%.170s)", *name);
		return NULL;
	}
	if ((sub = ws_channel_sub(c, *name)) == NULL) {
		ws_client_refuse(c, 0, "client event %.100s: not subscribed "
		    "to %.170s", m->event, *name);
		return NULL;
	}
	if (ratelimit_take(&c->client_bucket, app->client_event_rate,
	    app->client_event_burst, 1, isotime_mono_us(), &wait) != 0) {
		ws_client_refuse(c, PUSHER_RATE_LIMITED, "over the client "
		    "event rate of %u a second: %.100s dropped",
		    app->client_event_rate, m->event);
		return NULL;
	}
	return sub;
}

/* Hands a client event to the channel's other subscribers only. */
static void
ws_client_live(struct ws_conn *c, struct ws_sub *sub, const char *event,
    struct json_object *data)
{
	const char *name = hub_channel_name(sub->ch);
	struct hub_event ev;
	struct jsontext b;

	memset(&b, 0, sizeof b);
	jsontext_raw(&b, data);
	if (b.failed) {
		free(b.p);
		ws_session_error(c, 0, "out of memory", 0);
		return;
	}
	memset(&ev, 0, sizeof ev);
	ev.app = c->app_index;
	ev.channel = name;
	ev.channel_len = strlen(name);
	ev.event = event;
	ev.event_len = strlen(event);
	ev.data = b.p;
	ev.data_len = b.len;
	ev.user_id = sub->user_id;
	ev.user_id_len = sub->user_id != NULL ? strlen(sub->user_id) : 0;
	ev.accepted_us = isotime_mono_us();
	ev.except = c;
	if (channel_is_cache(ev.channel, ev.channel_len))
		ev.cache_ttl_us = (int64_t)c->app->cache_ttl_s * 1000000;
	metrics_ws_client_event(METRICS_CLIENT_EVENT_LIVE);
	hub_publish(c->srv->hub, &ev, 1);
	free(b.p);
}

void
ws_client_event(struct ws_conn *c, struct pusher_msg *m)
{
	struct json_object *data = NULL, *ev;
	struct ws_sub *sub;
	const char *name;

	if ((sub = ws_client_check(c, m, &name)) == NULL)
		return;
	json_object_object_get_ex(m->root, "data", &data);
	if (c->app->client_events == CONFIG_CLIENT_EVENTS_LIVE) {
		ws_client_live(c, sub, m->event, data);
		return;
	}
	/* forward: an event like any other, from the pipeline. */
	ev = json_object_new_object();
	if (ev == NULL) {
		ws_session_error(c, 0, "out of memory", 0);
		return;
	}
	json_object_object_add(ev, "event", json_object_new_string(m->event));
	json_object_object_add(ev, "channel", json_object_new_string(name));
	json_object_object_add(ev, "data", json_object_get(data));
	metrics_ws_client_event(METRICS_CLIENT_EVENT_FORWARDED);
	ws_publish_client_event(c, ev, sub->user_id);
	json_object_put(ev);
}
