/*
 * auth.h: the signatures of the Pusher protocol, made by an app's server
 * and checked here: a channel's auth ("socket_id:channel", with
 * ":channel_data" for presence) and a user's sign-in
 * ("socket_id::user::user_data"), each "key:" and the hex HMAC-SHA256 of
 * the string under the app's secret. Thread-safe: no state.
 */
#ifndef SLUICE_AUTH_H
#define SLUICE_AUTH_H

#include <stddef.h>

/*
 * Writes the auth string for socket_id on channel into out (outlen bytes,
 * at least key length + 66): "key:" and the hex HMAC-SHA256 under secret
 * of "socket_id:channel", or of "socket_id:channel:channel_data" for a
 * presence channel (channel_data not NULL). Returns 0, or -1 when out is
 * too small or the HMAC fails.
 */
int auth_channel_sign(const char *key, const char *secret,
    const char *socket_id, const char *channel, const char *channel_data,
    char *out, size_t outlen);

/*
 * Returns 1 if auth is the right auth string for socket_id on channel
 * (with channel_data for presence, else NULL), in time that does not
 * depend on where a forged signature differs; 0 otherwise (auth NULL
 * included).
 */
int auth_channel_valid(const char *key, const char *secret,
    const char *socket_id, const char *channel, const char *channel_data,
    const char *auth);

/*
 * Returns 1 if auth signs a user's sign-in: "key:" and the hex
 * HMAC-SHA256 of "socket_id::user::user_data"; 0 otherwise.
 */
int auth_user_valid(const char *key, const char *secret,
    const char *socket_id, const char *user_data, const char *auth);

#endif
