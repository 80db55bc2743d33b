/*
 * http_auth.c: GET /v1/auth, the auth of a channel the app opened to
 * anyone (see http_auth.h), signed with auth_channel_sign, the one
 * implementation of Pusher's channel auth that the WebSocket side checks
 * it with. libmicrohttpd's threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/app.h"
#include "core/auth.h"
#include "core/jsontext.h"
#include "core/sluice.h"
#include "http/http_auth.h"
#include "http/http_ingest.h"
#include "ingest/channel.h"

#define HTTP_AUTH_SOCKET_ID_MAX	41	/* "digits.digits", 20 each */
#define HTTP_AUTH_USER_ID_ROOM	256	/* channel_data past user_info */
#define HTTP_AUTH_DEPTH		32	/* nesting of channel_data */

/* The query argument name, or NULL. */
static const char *
http_auth_arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

int
http_auth_socket_id_valid(const char *s)
{
	size_t n = strlen(s), left = strspn(s, "0123456789");

	return n <= HTTP_AUTH_SOCKET_ID_MAX && left > 0 && s[left] == '.' &&
	    s[left + 1] != '\0' &&
	    strspn(s + left + 1, "0123456789") == n - left - 1;
}

/*
 * Checks a presence channel's channel_data: a JSON object within the
 * app's bound. Its user_id and user_info are checked by the subscribe
 * that uses it, whose errors name the field. Returns 1, or 0 with a
 * message in err.
 */
static int
http_auth_channel_data_valid(const struct config_app *app, const char *data,
    char *err, size_t errlen)
{
	struct json_object *o = NULL;
	size_t len = strlen(data);
	char perr[160];
	int ok;

	if (len > app->presence_max_member_bytes + HTTP_AUTH_USER_ID_ROOM) {
		snprintf(err, errlen, "channel_data is over %zu bytes",
		    app->presence_max_member_bytes + HTTP_AUTH_USER_ID_ROOM);
		return 0;
	}
	if (jsontext_parse(data, len, HTTP_AUTH_DEPTH, &o, perr,
	    sizeof perr) != 0)
		o = NULL;
	ok = o != NULL && json_object_is_type(o, json_type_object);
	json_object_put(o);
	if (!ok)
		snprintf(err, errlen, "channel_data must be a JSON object "
		    "{\"user_id\": ..., \"user_info\": ...}");
	return ok;
}

enum MHD_Result
http_auth_serve(struct http_server *srv, struct MHD_Connection *c)
{
	struct http_reply_opts opts = { 0 };
	const struct config_app *app;
	const char *key, *origin, *socket_id, *channel, *data;
	enum channel_kind kind;
	struct json_object *o;
	char auth[512], err[200];

	key = http_app_key(c);
	if (key == NULL || *key == '\0')
		return http_reply_error(c, MHD_HTTP_UNAUTHORIZED, NULL,
		    "missing_key", "send the app key in the X-Sluice-Key "
		    "header or the key query argument");
	app = app_by_key(srv->apps, key);
	if (app == NULL)
		return http_reply_error(c, MHD_HTTP_UNAUTHORIZED, NULL,
		    "unknown_key", "no app has this key");
	origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	if (origin != NULL) {
		if (!app_origin_allowed(app, origin))
			return http_reply_error(c, MHD_HTTP_FORBIDDEN, NULL,
			    "origin_not_allowed", "origin %s may not ask for "
			    "auth for app %s", origin, app->id);
		opts.cors_origin = origin;
	}
	if (!app->enabled)
		return http_reply_error(c, MHD_HTTP_FORBIDDEN, &opts,
		    "app_disabled", "app %s is disabled", app->id);
	socket_id = http_auth_arg(c, "socket_id");
	if (socket_id == NULL || !http_auth_socket_id_valid(socket_id))
		return http_reply_error(c, MHD_HTTP_BAD_REQUEST, &opts,
		    "invalid_socket_id", "socket_id must be the one of "
		    "pusher:connection_established (digits.digits)");
	channel = http_auth_arg(c, "channel_name");
	if (channel == NULL || !channel_name_valid(channel, strlen(channel)))
		return http_reply_error(c, MHD_HTTP_BAD_REQUEST, &opts,
		    "invalid_channel", "channel_name must be 1 to 164 "
		    "characters of A-Z a-z 0-9 _ - = @ , . ;");
	kind = channel_kind(channel);
	if (kind == CHANNEL_USER || !app_is_public(app, channel))
		return http_reply_error(c, MHD_HTTP_FORBIDDEN, &opts,
		    "channel_not_public", "sluiced signs only the channels "
		    "app %s lists in public_channels; %s needs an auth from "
		    "the app's own server", app->id, channel);
	data = http_auth_arg(c, "channel_data");
	if (kind == CHANNEL_PRESENCE && data == NULL)
		return http_reply_error(c, MHD_HTTP_BAD_REQUEST, &opts,
		    "invalid_channel_data", "a presence channel needs "
		    "channel_data");
	if (kind != CHANNEL_PRESENCE && data != NULL)
		return http_reply_error(c, MHD_HTTP_BAD_REQUEST, &opts,
		    "invalid_channel_data", "channel_data is for presence "
		    "channels only");
	if (data != NULL && !http_auth_channel_data_valid(app, data, err,
	    sizeof err))
		return http_reply_error(c, MHD_HTTP_BAD_REQUEST, &opts,
		    "invalid_channel_data", "%s", err);
	if (auth_channel_sign(app->key, app->secret, socket_id, channel, data,
	    auth, sizeof auth) == -1)
		return MHD_NO;
	o = json_object_new_object();
	if (o == NULL || json_object_object_add(o, "auth",
	    json_object_new_string(auth)) != 0 || (data != NULL &&
	    json_object_object_add(o, "channel_data",
	    json_object_new_string(data)) != 0)) {
		json_object_put(o);
		return MHD_NO;
	}
	return http_reply_json(c, MHD_HTTP_OK, o, &opts);
}
