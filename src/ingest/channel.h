/*
 * channel.h: channel names as every front door and the hub know them:
 * which names are valid (Pusher's rule, which Sluice follows for all of
 * its channels) and which kind a name denotes. Thread-safe: no state.
 */
#ifndef SLUICE_CHANNEL_H
#define SLUICE_CHANNEL_H

#include <stddef.h>

#define CHANNEL_NAME_MAX	164	/* characters */

enum channel_kind {
	CHANNEL_PUBLIC,
	CHANNEL_PRIVATE,	/* "private-" (and "private-encrypted-"):
				   needs auth */
	CHANNEL_PRESENCE,	/* "presence-": auth with the user's data */
	CHANNEL_USER		/* "#server-to-user-ID": a signed-in user's
				   own, made by the server */
};

#define CHANNEL_USER_PREFIX	"#server-to-user-"

/* Returns 1 if the n bytes of name are a valid channel name: 1 to 164
 * characters of A-Z a-z 0-9 _ - = @ , . ; and 0 otherwise (a NUL byte
 * included). */
int channel_name_valid(const char *name, size_t n);

/* Returns 1 if the n bytes of name are a user's own channel as the app's
 * server names it: "#server-to-user-" and a valid channel name. */
int channel_user_name_valid(const char *name, size_t n);

/* The kind of the channel named by the NUL-terminated name, by prefix. */
enum channel_kind channel_kind(const char *name);

/* Whether name is an end-to-end encrypted channel ("private-encrypted-"):
 * its payloads are opaque to the server. */
int channel_is_encrypted(const char *name);

/* Whether name is a cache channel (cache-, private-cache-,
 * presence-cache-, private-encrypted-cache-): its last event is kept for
 * new subscribers. n is name's length. */
int channel_is_cache(const char *name, size_t n);

#endif
