/*
 * ws_channel.c: a connection's channels: pusher:subscribe (with the auth
 * each kind of channel needs), pusher:unsubscribe and leaving them all at
 * close; the last event of a cache channel (or pusher:cache_miss) for a
 * new subscriber; and the coalesced pusher_internal:subscription_count
 * messages. Presence members are ws_presence.c's. WebSocket service
 * thread only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/auth.h"
#include "core/isotime.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/sluice.h"
#include "ws/ws_internal.h"


/* Queues a pusher:subscription_error for channel. */
static void
ws_channel_error(struct ws_conn *c, const char *channel, const char *type,
    const char *error, int status)
{
	struct jsontext b;

	memset(&b, 0, sizeof b);
	pusher_put_subscription_error(&b, channel, type, error, status);
	if (!b.failed)
		ws_session_send(c, b.p, b.len);
	free(b.p);
}

struct ws_sub *
ws_channel_sub(struct ws_conn *c, const char *channel)
{
	unsigned i;

	for (i = 0; i < c->nsubs; i++)
		if (strcmp(hub_channel_name(c->subs[i].ch), channel) == 0)
			return &c->subs[i];
	return NULL;
}

void
ws_channel_tell(struct ws_server *srv, struct hub_channel *ch,
    const char *event, const char *data, size_t len, const void *except)
{
	const char *name = hub_channel_name(ch);
	struct jsontext b;
	struct frame *f;

	memset(&b, 0, sizeof b);
	pusher_put_message(&b, event, strlen(event), name, strlen(name), data,
	    len, 1);
	if (!b.failed && (f = frame_new(b.p, b.len, 0)) != NULL) {
		hub_channel_deliver(srv->hub, ch, f, except);
		frame_unref(f);
	}
	free(b.p);
}

/*
 * Checks c's right to channel name (kind k) with auth (NULL: none given)
 * and, for presence, channel_data. Returns 1, or 0 after telling c why.
 */
static int
ws_channel_allowed(struct ws_conn *c, const char *name, enum channel_kind k,
    const char *auth, const char *channel_data)
{
	const struct config_app *app = c->app;
	char msg[200];

	switch (k) {
	case CHANNEL_USER:
		if (c->user_id != NULL && strcmp(name + sizeof
		    CHANNEL_USER_PREFIX - 1, c->user_id) == 0)
			return 1;
		ws_channel_error(c, name, "AuthError", c->user_id == NULL ?
		    "a user channel needs pusher:signin first" :
		    "this is another user's channel", 403);
		return 0;
	case CHANNEL_PRESENCE:
		if (auth == NULL) {
			ws_channel_error(c, name, "AuthError", "a presence "
			    "channel needs auth", 401);
			return 0;
		}
		if (channel_data == NULL) {
			ws_channel_error(c, name, "InvalidChannelData", "a "
			    "presence channel needs channel_data, a JSON "
			    "string {\"user_id\", \"user_info\"}", 400);
			return 0;
		}
		if (!auth_channel_valid(app->key, app->secret, c->socket_id,
		    name, channel_data, auth)) {
			ws_channel_error(c, name, "AuthError", "invalid auth "
			    "signature (of socket_id:channel:channel_data)",
			    401);
			return 0;
		}
		return 1;
	case CHANNEL_PRIVATE:
		if (!auth_channel_valid(app->key, app->secret, c->socket_id,
		    name, NULL, auth)) {
			ws_channel_error(c, name, "AuthError", auth == NULL ?
			    "a private channel needs auth" :
			    "invalid auth signature", 401);
			return 0;
		}
		return 1;
	case CHANNEL_PUBLIC:
		break;
	}
	if (app_is_public(app, name))
		return 1;
	if (auth == NULL) {
		snprintf(msg, sizeof msg, "channel %s may not be read without "
		    "auth", name);
		ws_channel_error(c, name, "AuthError", msg, 403);
		return 0;
	}
	if (!auth_channel_valid(app->key, app->secret, c->socket_id, name,
	    NULL, auth)) {
		ws_channel_error(c, name, "AuthError", "invalid auth "
		    "signature", 401);
		return 0;
	}
	return 1;
}

/*
 * Adds channel name to c's subscriptions and sets *out. Returns SLUICE_OK,
 * or an error after telling c (the limit, or out of memory).
 */
static int
ws_channel_add(struct ws_conn *c, const char *name, struct ws_sub **out)
{
	const struct config *cfg = c->srv->cfg;
	struct hub_channel *ch;
	struct ws_sub *subs;
	char msg[120];

	if (c->nsubs >= cfg->ws_max_subscriptions) {
		snprintf(msg, sizeof msg, "a connection may subscribe to %u "
		    "channels at most", cfg->ws_max_subscriptions);
		ws_channel_error(c, name, "LimitReached", msg, 429);
		return SLUICE_EFULL;
	}
	subs = reallocarray(c->subs, c->nsubs + 1, sizeof *subs);
	if (subs == NULL) {
		ws_session_error(c, 0, "out of memory", 0);
		return SLUICE_ENOMEM;
	}
	c->subs = subs;
	if (hub_subscribe(c->srv->hub, c->app_index, name, c, &ch) !=
	    SLUICE_OK) {
		ws_session_error(c, 0, "out of memory", 0);
		return SLUICE_ENOMEM;
	}
	subs[c->nsubs].ch = ch;
	subs[c->nsubs].user_id = NULL;
	*out = &subs[c->nsubs++];
	metrics_ws_subscriptions(1);
	return SLUICE_OK;
}

/* Drops c's subscription sub (its members leave first). */
static void
ws_channel_drop(struct ws_conn *c, struct ws_sub *sub)
{
	if (sub->user_id != NULL)
		ws_presence_leave(c, sub);
	hub_unsubscribe(c->srv->hub, sub->ch, c);
	*sub = c->subs[--c->nsubs];
	metrics_ws_subscriptions(-1);
}

/* Sends c the cache channel's last event, or pusher:cache_miss. */
static void
ws_channel_cached(struct ws_conn *c, const char *name)
{
	struct frame *f;

	f = hub_cached(c->srv->hub, c->app_index, name);
	if (f != NULL) {
		ws_session_deliver(c, f);
		return;
	}
	ws_session_message_out(c, "pusher:cache_miss", name, "{}", 2, 0);
}

/* A string member of data, or NULL (absent, not a string, or empty). */
static const char *
ws_channel_string(struct json_object *data, const char *key, size_t *len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(data, key, &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0)
		return NULL;
	if (len != NULL)
		*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

void
ws_channel_subscribe(struct ws_conn *c, struct json_object *data)
{
	struct json_object *jch = NULL;
	struct ws_member member;
	struct ws_sub *sub;
	const char *name, *auth, *channel_data;
	size_t cd_len = 0, n;
	enum channel_kind k;
	char msg[200];
	int rc;

	if (data == NULL || !json_object_object_get_ex(data, "channel", &jch)
	    || !json_object_is_type(jch, json_type_string)) {
		ws_session_error(c, 0, "pusher:subscribe needs data.channel, a "
		    "string", 0);
		return;
	}
	name = json_object_get_string(jch);
	n = (size_t)json_object_get_string_len(jch);
	/* pusher-js sends "" for channels it does not authorize: no auth. */
	auth = ws_channel_string(data, "auth", NULL);
	channel_data = ws_channel_string(data, "channel_data", &cd_len);
	k = channel_kind(name);
	if (k == CHANNEL_USER ? strlen(name) != n || n > CHANNEL_NAME_MAX :
	    !channel_name_valid(name, n)) {
		snprintf(msg, sizeof msg, "a channel name is 1 to %d "
		    "characters of A-Z a-z 0-9 _ - = @ , . ;",
		    CHANNEL_NAME_MAX);
		ws_channel_error(c, name, "InvalidChannel", msg, 400);
		return;
	}
	if (!ws_channel_allowed(c, name, k, auth, channel_data))
		return;
	memset(&member, 0, sizeof member);
	if (k == CHANNEL_PRESENCE && ws_presence_member(c->app, channel_data,
	    cd_len, &member, msg, sizeof msg) == -1) {
		ws_channel_error(c, name, "InvalidChannelData", msg, 400);
		ws_presence_member_free(&member);
		return;
	}
	if ((sub = ws_channel_sub(c, name)) != NULL) {
		/* Again: the same answer, as a new subscription would get. */
		if (sub->user_id != NULL)
			ws_presence_greet(c, sub);
		else
			ws_session_message_out(c,
			    "pusher_internal:subscription_succeeded", name,
			    "{}", 2, 1);
		ws_presence_member_free(&member);
		return;
	}
	if (ws_channel_add(c, name, &sub) != SLUICE_OK) {
		ws_presence_member_free(&member);
		return;
	}
	if (k == CHANNEL_PRESENCE) {
		rc = ws_presence_join(c, sub, &member);
		ws_presence_member_free(&member);
		if (rc != SLUICE_OK) {
			ws_channel_drop(c, sub);
			if (rc == SLUICE_EFULL) {
				snprintf(msg, sizeof msg, "presence channel "
				    "%s has its %u members already", name,
				    c->app->presence_max_members);
				ws_channel_error(c, name, "LimitReached", msg,
				    403);
			} else
				ws_session_error(c, 0, "out of memory", 0);
			return;
		}
	} else
		ws_session_message_out(c,
		    "pusher_internal:subscription_succeeded", name, "{}", 2,
		    1);
	if (channel_is_cache(name, n))
		ws_channel_cached(c, name);
}

int
ws_channel_join_user(struct ws_conn *c, const char *channel)
{
	struct ws_sub *sub;

	if (ws_channel_sub(c, channel) != NULL)
		return SLUICE_OK;
	return ws_channel_add(c, channel, &sub);
}

void
ws_channel_unsubscribe(struct ws_conn *c, struct json_object *data)
{
	struct json_object *jch;
	struct ws_sub *sub;

	if (data == NULL || !json_object_object_get_ex(data, "channel", &jch)
	    || !json_object_is_type(jch, json_type_string)) {
		ws_session_error(c, 0, "pusher:unsubscribe needs data.channel, "
		    "a string", 0);
		return;
	}
	/* A signed-in user keeps its own channel: the server made it. */
	sub = ws_channel_sub(c, json_object_get_string(jch));
	if (sub != NULL && channel_kind(hub_channel_name(sub->ch)) !=
	    CHANNEL_USER)
		ws_channel_drop(c, sub);
}

void
ws_channel_leave_all(struct ws_conn *c)
{
	while (c->nsubs > 0)
		ws_channel_drop(c, &c->subs[c->nsubs - 1]);
	free(c->subs);
	c->subs = NULL;
}

/* The hub's call for a channel whose count is due: tells its subscribers
 * (public and private channels of apps that want it) and returns the
 * interval before the next. */
static int64_t
ws_channel_count_due(struct hub *h, struct hub_channel *ch, void *arg)
{
	struct ws_server *srv = arg;
	const struct config_app *app;
	const char *name = hub_channel_name(ch);
	char data[64];
	int len;

	(void)h;
	app = app_by_index(srv->apps, hub_channel_app(ch));
	if (app == NULL || !app->subscription_count ||
	    channel_kind(name) == CHANNEL_PRESENCE ||
	    channel_kind(name) == CHANNEL_USER)
		return 0;
	len = snprintf(data, sizeof data, "{\"subscription_count\":%zu}",
	    hub_channel_subscribers(ch));
	ws_channel_tell(srv, ch, "pusher_internal:subscription_count", data,
	    (size_t)len, NULL);
	return (int64_t)app->subscription_count_interval_ms * 1000;
}

void
ws_channel_counts(struct ws_server *srv)
{
	hub_counts_due(srv->hub, isotime_mono_us(), ws_channel_count_due,
	    srv);
}
