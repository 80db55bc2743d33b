/*
 * auth.h: the signatures of the Pusher protocol, made by an app's server
 * and checked here: a channel's auth ("socket_id:channel", with
 * ":channel_data" for presence) and a user's sign-in
 * ("socket_id::user::user_data"), each "key:" and the hex HMAC-SHA256 of
 * the string under the app's secret; and the signature of a request to
 * the HTTP API (the Pusher server API), made by the app's server.
 * Thread-safe: no state.
 */
#ifndef SLUICE_AUTH_H
#define SLUICE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_API_WINDOW_S	600	/* auth_timestamp, either way */

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

/* One query argument of an HTTP API request, as received (decoded). */
struct auth_param {
	const char	*key;
	const char	*value;
};

/* Why an HTTP API request's signature was refused. */
enum auth_api_result {
	AUTH_API_OK,
	AUTH_API_MISSING,	/* auth_key, auth_timestamp, auth_version or
				   auth_signature missing */
	AUTH_API_BAD_KEY,	/* auth_key is not the app's */
	AUTH_API_BAD_VERSION,	/* auth_version is not 1.0 */
	AUTH_API_STALE,		/* auth_timestamp more than AUTH_API_WINDOW_S
				   away from now (or not a number) */
	AUTH_API_BAD_BODY_MD5,	/* body_md5 missing for a body, or not its
				   MD5 */
	AUTH_API_BAD_SIGNATURE	/* auth_signature does not sign the request */
};

/*
 * Writes into hex (65 bytes) the signature of an HTTP API request as
 * Pusher defines it: the hex HMAC-SHA256 under secret of
 * "METHOD\nPATH\nQUERY", QUERY being every one of the n params but
 * auth_signature as key=value (keys lowercased), sorted by key and joined
 * with '&'. Returns 0, or -1 when out of memory.
 */
int auth_api_sign(const char *secret, const char *method, const char *path,
    const struct auth_param *params, size_t n, char *hex);

/*
 * Checks an HTTP API request of app (key, secret): method, path as
 * signed, its n query params and its body (body_len bytes; 0: none), at
 * now_s (seconds since the epoch). The signature is compared in constant
 * time. Returns AUTH_API_OK, or why not with a message in err (errlen
 * bytes) naming the problem.
 */
enum auth_api_result auth_api_check(const char *key, const char *secret,
    const char *method, const char *path, const struct auth_param *params,
    size_t n, const char *body, size_t body_len, int64_t now_s, char *err,
    size_t errlen);

#endif
