/*
 * ws_user.c: user sign-in (pusher:signin), as Pusher defines it: the app's
 * server signs "socket_id::user::user_data", and the connection is then
 * that user's: it holds the user's own channel, #server-to-user-<id>, by
 * which events reach every connection of the user (and by which the
 * user's connections are found). An app may require sign-in within a
 * time; a connection that fails it or lets the time pass is closed with
 * 4009. WebSocket service thread only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/auth.h"
#include "core/log.h"
#include "core/sluice.h"
#include "ws/ws_internal.h"

#define WS_USER_ID_MAX		128	/* characters, as presence */
#define WS_USER_DATA_DEPTH	32

/* Refuses a sign-in: pusher:error 4009, and the connection is closed. */
static void
ws_user_refuse(struct ws_conn *c, const char *why)
{
	char msg[200];

	snprintf(msg, sizeof msg, "sign-in refused: %s", why);
	log_info("ws", "%s (app %s, %s): %s", c->socket_id, c->app->id, c->ip,
	    msg);
	ws_session_error(c, PUSHER_UNAUTHORIZED, msg, 1);
}

/* The user id in user_data (len bytes of JSON), copied into id (at least
 * WS_USER_ID_MAX + 1 bytes). Returns NULL, or what is wrong. */
static const char *
ws_user_id(const char *user_data, size_t len, char *id)
{
	struct json_object *root = NULL, *jid;
	const char *why = NULL;
	char err[160];
	size_t n;

	if (jsontext_parse(user_data, len, WS_USER_DATA_DEPTH, &root, err,
	    sizeof err) != 0 || !json_object_is_type(root, json_type_object))
		why = "user_data must be a JSON object with an id";
	else if (!json_object_object_get_ex(root, "id", &jid) ||
	    !json_object_is_type(jid, json_type_string))
		why = "user_data.id must be a string";
	else {
		n = (size_t)json_object_get_string_len(jid);
		if (n == 0 || n > WS_USER_ID_MAX || strlen(
		    json_object_get_string(jid)) != n)
			why = "user_data.id must be 1 to 128 characters";
		else
			memcpy(id, json_object_get_string(jid), n + 1);
	}
	json_object_put(root);
	return why;
}

void
ws_user_signin(struct ws_conn *c, struct json_object *data)
{
	struct json_object *jauth, *jdata;
	const char *auth, *user_data, *why;
	struct jsontext b;
	char id[WS_USER_ID_MAX + 1], channel[sizeof CHANNEL_USER_PREFIX +
	    WS_USER_ID_MAX];
	size_t len;

	if (data == NULL || !json_object_object_get_ex(data, "auth", &jauth) ||
	    !json_object_is_type(jauth, json_type_string) ||
	    !json_object_object_get_ex(data, "user_data", &jdata) ||
	    !json_object_is_type(jdata, json_type_string)) {
		ws_user_refuse(c, "pusher:signin needs data.auth and "
		    "data.user_data, strings");
		return;
	}
	if (c->user_id != NULL) {
		ws_session_error(c, 0, "already signed in", 0);
		return;
	}
	auth = json_object_get_string(jauth);
	user_data = json_object_get_string(jdata);
	len = (size_t)json_object_get_string_len(jdata);
	if (!auth_user_valid(c->app->key, c->app->secret,
	    c->socket_id, user_data, auth)) {
		ws_user_refuse(c, "invalid auth signature (of "
		    "socket_id::user::user_data)");
		return;
	}
	if ((why = ws_user_id(user_data, len, id)) != NULL) {
		ws_user_refuse(c, why);
		return;
	}
	if ((c->user_id = strdup(id)) == NULL) {
		ws_session_error(c, 0, "out of memory", 0);
		return;
	}
	snprintf(channel, sizeof channel, "%s%s", CHANNEL_USER_PREFIX, id);
	if (ws_channel_join_user(c, channel) != SLUICE_OK) {
		free(c->user_id);
		c->user_id = NULL;
		return;
	}
	memset(&b, 0, sizeof b);
	jsontext_lit(&b, "{\"user_data\":");
	jsontext_str(&b, user_data, len);
	jsontext_lit(&b, "}");
	if (!b.failed)
		ws_session_message_out(c, "pusher:signin_success", NULL, b.p,
		    b.len, 1);
	free(b.p);
}

void
ws_user_check(struct ws_conn *c, int64_t now_us)
{
	const struct config_app *app = c->app;
	char msg[120];

	if (app == NULL || !app->user_auth_required || c->user_id != NULL ||
	    now_us - c->opened_us < (int64_t)app->user_auth_timeout_s *
	    1000000)
		return;
	snprintf(msg, sizeof msg, "connection not signed in within %u s "
	    "(pusher:signin)", app->user_auth_timeout_s);
	ws_session_error(c, PUSHER_UNAUTHORIZED, msg, 1);
}
