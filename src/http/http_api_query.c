/*
 * http_api_query.c: the hub's part of the HTTP API: reads the channels of
 * an app (subscribers, presence members, cached events) and closes a
 * user's connections, on the WebSocket service thread, where the hub's
 * state is; builds the answer's JSON there and resumes the request. It
 * must not block: it reads, builds and returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/isotime.h"
#include "core/jsontext.h"
#include "core/sluice.h"
#include "http/http_api.h"
#include "hub/hub.h"
#include "hub/presence.h"
#include "ingest/channel.h"

/* The info object of one channel: the counts asked for. */
static struct json_object *
http_api_info(const struct hub_channel *ch, int presence, int want_users,
    int want_subs)
{
	struct json_object *o = json_object_new_object();

	if (want_users && presence)
		json_object_object_add(o, "user_count", json_object_new_int64(
		    ch != NULL ? (int64_t)presence_count(
		    hub_channel_presence(ch)) : 0));
	if (want_subs)
		json_object_object_add(o, "subscription_count",
		    json_object_new_int64(ch != NULL ?
		    (int64_t)hub_channel_subscribers(ch) : 0));
	return o;
}

/* After a trigger: {"channels": {name: info}}, or {"batch": [info]}. */
static struct json_object *
http_api_trigger_info(struct hub *h, struct http_api *api)
{
	struct json_object *all, *o;
	const struct http_api_target *t;
	const struct hub_channel *ch;
	size_t i;

	all = api->batch ? json_object_new_array() : json_object_new_object();
	for (i = 0; i < api->ntargets; i++) {
		t = &api->targets[i];
		ch = hub_channel_find(h, api->app_index, t->channel);
		o = http_api_info(ch, t->presence, t->want_users, t->want_subs);
		if (api->batch)
			json_object_array_add(all, o);
		else
			json_object_object_add(all, t->channel, o);
	}
	o = json_object_new_object();
	json_object_object_add(o, api->batch ? "batch" : "channels", all);
	return o;
}

/* GET /channels: one channel, if it matches the prefix. */
static void
http_api_channels_one(const struct hub_channel *ch, void *arg)
{
	struct http_api *api = arg;
	struct json_object *channels;
	const char *name = hub_channel_name(ch);

	/* A user's own channel is the server's, not one to list. */
	if (channel_kind(name) == CHANNEL_USER || (api->prefix != NULL &&
	    strncmp(name, api->prefix, strlen(api->prefix)) != 0))
		return;
	json_object_object_get_ex(api->answer, "channels", &channels);
	json_object_object_add(channels, name, http_api_info(ch,
	    channel_kind(name) == CHANNEL_PRESENCE, api->want_users,
	    api->want_subs));
}

/* The cached event of a cache channel: {"event", "data", "ttl"}; NULL
 * when none is kept. */
static struct json_object *
http_api_cached(struct hub *h, struct http_api *api)
{
	struct json_object *msg = NULL, *o, *v;
	struct frame *f;
	char err[64];
	int64_t left;

	f = hub_cached(h, api->app_index, api->name);
	if (f == NULL || jsontext_parse((const char *)frame_payload(f),
	    f->len, 8, &msg, err, sizeof err) != 0 || msg == NULL)
		return NULL;
	o = json_object_new_object();
	if (json_object_object_get_ex(msg, "event", &v))
		json_object_object_add(o, "event", json_object_get(v));
	if (json_object_object_get_ex(msg, "data", &v))
		json_object_object_add(o, "data", json_object_get(v));
	left = (f->cache_until_us - isotime_mono_us()) / 1000000;
	json_object_object_add(o, "ttl", json_object_new_int64(left > 0 ?
	    left : 0));
	json_object_put(msg);
	return o;
}

/* GET /channels/NAME. */
static struct json_object *
http_api_channel(struct hub *h, struct http_api *api)
{
	const struct hub_channel *ch;
	struct json_object *o, *cached;

	ch = hub_channel_find(h, api->app_index, api->name);
	o = http_api_info(ch, channel_kind(api->name) == CHANNEL_PRESENCE,
	    api->want_users, api->want_subs);
	json_object_object_add(o, "occupied", json_object_new_boolean(
	    ch != NULL && hub_channel_subscribers(ch) > 0));
	if (api->want_cache && (cached = http_api_cached(h, api)) != NULL)
		json_object_object_add(o, "cache", cached);
	return o;
}

/* GET /channels/NAME/users: one member. */
static void
http_api_user_one(const struct presence_member *m, void *arg)
{
	struct json_object *users = arg, *u;

	u = json_object_new_object();
	json_object_object_add(u, "id", json_object_new_string(m->id));
	json_object_array_add(users, u);
}

/* POST /users/ID/terminate_connections: closes the user's connections,
 * which hold the user's own channel. */
static void
http_api_terminate(struct hub *h, struct http_api *api)
{
	struct hub_channel *ch;
	char channel[sizeof CHANNEL_USER_PREFIX + HTTP_API_USER_ID_MAX];

	snprintf(channel, sizeof channel, "%s%s", CHANNEL_USER_PREFIX,
	    api->name);
	if ((ch = hub_channel_find(h, api->app_index, channel)) != NULL)
		hub_channel_terminate(h, ch);
}

void
http_api_query(struct hub *h, void *arg, int status)
{
	struct http_api *api = arg;
	struct http_server *srv = api->srv;
	struct json_object *users;
	const struct hub_channel *ch;

	if (status != SLUICE_OK)
		goto done;
	switch (api->endpoint) {
	case METRICS_API_EVENTS:
	case METRICS_API_BATCH_EVENTS:
		api->answer = http_api_trigger_info(h, api);
		break;
	case METRICS_API_CHANNELS:
		api->answer = json_object_new_object();
		json_object_object_add(api->answer, "channels",
		    json_object_new_object());
		hub_channels_each(h, api->app_index, http_api_channels_one,
		    api);
		break;
	case METRICS_API_CHANNEL:
		api->answer = http_api_channel(h, api);
		break;
	case METRICS_API_USERS:
		users = json_object_new_array();
		ch = hub_channel_find(h, api->app_index, api->name);
		if (ch != NULL)
			presence_each(hub_channel_presence(ch),
			    http_api_user_one, users);
		api->answer = json_object_new_object();
		json_object_object_add(api->answer, "users", users);
		break;
	case METRICS_API_TERMINATE:
		http_api_terminate(h, api);
		api->answer = json_object_new_object();
		break;
	default:
		break;
	}
done:
	http_park_done(&api->park);
	/* api may be gone now; shutdown may go on once this is counted. */
	waitcount_done(&srv->parked);
}
