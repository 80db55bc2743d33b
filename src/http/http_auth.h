/*
 * http_auth.h: GET /v1/auth, sluiced's own signer of channel auth for the
 * channels an app opens to anyone. A private- or presence- channel always
 * needs an auth signed with the app's secret; an app's own backend makes
 * it (as with Pusher). For a channel the app lists in public_channels,
 * which it has opened to everyone, sluiced signs it itself, so that a page
 * with no backend of its own (the demo) can join a presence channel
 * without the secret ever reaching the browser. Channels not listed there
 * are never signed. Called on libmicrohttpd's threads.
 */
#ifndef SLUICE_HTTP_AUTH_H
#define SLUICE_HTTP_AUTH_H

#include <microhttpd.h>

struct http_server;

/*
 * Answers GET /v1/auth?key=KEY&socket_id=S&channel_name=C[&channel_data=D]
 * (the key may come in X-Sluice-Key instead): 200 with {"auth"} (and
 * {"channel_data"}, D as given, for a presence channel), what the
 * subscribe of connection S to C needs. Errors, as JSON {error, message}:
 * 401 missing_key, unknown_key; 403 app_disabled, origin_not_allowed (an
 * Origin the app does not allow), channel_not_public (C not in the app's
 * public_channels, or a user channel); 400 invalid_socket_id,
 * invalid_channel, invalid_channel_data (missing for a presence channel,
 * given for another, not a JSON object, or over the app's
 * presence_max_member_bytes plus room for the user_id).
 */
enum MHD_Result http_auth_serve(struct http_server *srv,
    struct MHD_Connection *c);

/* Whether s is a socket_id as sluiced makes them: digits, a dot, digits
 * (the HTTP API's socket_id too). */
int http_auth_socket_id_valid(const char *s);

#endif
