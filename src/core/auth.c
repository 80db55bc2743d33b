/*
 * auth.c: the signatures of the Pusher protocol, HMAC-SHA256 under an
 * app's secret in lowercase hex, checked in constant time. Thread-safe.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/auth.h"

/* Writes the hex HMAC-SHA256 of the len bytes of msg under secret into
 * hex (65 bytes). Returns 0 or -1. */
static int
auth_hmac_hex(const char *secret, const char *msg, size_t len, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0, i;

	if (HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (const unsigned char *)msg, len, mac, &maclen) == NULL ||
	    maclen != 32)
		return -1;
	for (i = 0; i < maclen; i++) {
		hex[2 * i] = digits[mac[i] >> 4];
		hex[2 * i + 1] = digits[mac[i] & 0xf];
	}
	hex[64] = '\0';
	return 0;
}

/* The string a channel's auth signs: "socket_id:channel", and
 * ":channel_data" after it for presence. NULL when out of memory. */
static char *
auth_channel_string(const char *socket_id, const char *channel,
    const char *channel_data, size_t *len)
{
	char *msg;
	int n;

	if (channel_data != NULL)
		n = asprintf(&msg, "%s:%s:%s", socket_id, channel,
		    channel_data);
	else
		n = asprintf(&msg, "%s:%s", socket_id, channel);
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return msg;
}

/* Whether auth is "key:" and the hex HMAC-SHA256 of the len bytes of msg,
 * compared in constant time. */
static int
auth_signed(const char *key, const char *secret, const char *msg,
    size_t len, const char *auth)
{
	char hex[65];
	size_t klen = strlen(key);

	if (msg == NULL || auth == NULL || strncmp(auth, key, klen) != 0 ||
	    auth[klen] != ':' || strlen(auth + klen + 1) != 64)
		return 0;
	if (auth_hmac_hex(secret, msg, len, hex) == -1)
		return 0;
	return CRYPTO_memcmp(auth + klen + 1, hex, 64) == 0;
}

int
auth_channel_sign(const char *key, const char *secret, const char *socket_id,
    const char *channel, const char *channel_data, char *out, size_t outlen)
{
	char hex[65], *msg;
	size_t len;
	int n, rc;

	msg = auth_channel_string(socket_id, channel, channel_data, &len);
	if (msg == NULL)
		return -1;
	rc = auth_hmac_hex(secret, msg, len, hex);
	free(msg);
	if (rc == -1)
		return -1;
	n = snprintf(out, outlen, "%s:%s", key, hex);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int
auth_channel_valid(const char *key, const char *secret, const char *socket_id,
    const char *channel, const char *channel_data, const char *auth)
{
	char *msg;
	size_t len = 0;
	int ok;

	msg = auth_channel_string(socket_id, channel, channel_data, &len);
	ok = auth_signed(key, secret, msg, len, auth);
	free(msg);
	return ok;
}

int
auth_user_valid(const char *key, const char *secret,
    const char *socket_id, const char *user_data, const char *auth)
{
	char *msg;
	int n, ok;

	n = asprintf(&msg, "%s::user::%s", socket_id, user_data);
	if (n < 0)
		return 0;
	ok = auth_signed(key, secret, msg, (size_t)n, auth);
	free(msg);
	return ok;
}

