/*
 * auth.c: the signatures of the Pusher protocol, HMAC-SHA256 under an
 * app's secret in lowercase hex, checked in constant time: channel auth,
 * user sign-in and the HTTP API's request signature. Thread-safe.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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


/* Orders params by key, then value (qsort). */
static int
auth_param_cmp(const void *a, const void *b)
{
	const struct auth_param *x = a, *y = b;
	int c = strcasecmp(x->key, y->key);

	return c != 0 ? c : strcmp(x->value, y->value);
}

/* The value of the param named key (exactly), or NULL. */
static const char *
auth_param_get(const struct auth_param *params, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(params[i].key, key) == 0)
			return params[i].value;
	return NULL;
}

int
auth_api_sign(const char *secret, const char *method, const char *path,
    const struct auth_param *params, size_t n, char *hex)
{
	struct auth_param *sorted;
	const char *p;
	char *msg = NULL;
	size_t len = 0, i, k;
	FILE *f;
	int rc;

	if ((sorted = calloc(n + 1, sizeof *sorted)) == NULL)
		return -1;
	for (i = k = 0; i < n; i++)
		if (strcmp(params[i].key, "auth_signature") != 0)
			sorted[k++] = params[i];
	qsort(sorted, k, sizeof *sorted, auth_param_cmp);
	if ((f = open_memstream(&msg, &len)) == NULL) {
		free(sorted);
		return -1;
	}
	fprintf(f, "%s\n%s\n", method, path);
	for (i = 0; i < k; i++) {
		if (i > 0)
			fputc('&', f);
		for (p = sorted[i].key; *p != '\0'; p++)
			fputc(tolower((unsigned char)*p), f);
		fprintf(f, "=%s", sorted[i].value);
	}
	rc = fclose(f) == 0 ? auth_hmac_hex(secret, msg, len, hex) : -1;
	free(msg);
	free(sorted);
	return rc;
}

/* Writes the lowercase hex MD5 of the len bytes at p into hex (33 bytes).
 * Returns 0 or -1. */
static int
auth_md5_hex(const char *p, size_t len, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (EVP_Digest(p, len, md, &mdlen, EVP_md5(), NULL) != 1 ||
	    mdlen != 16)
		return -1;
	for (i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[32] = '\0';
	return 0;
}

enum auth_api_result
auth_api_check(const char *key, const char *secret, const char *method,
    const char *path, const struct auth_param *params, size_t n,
    const char *body, size_t body_len, int64_t now_s, char *err,
    size_t errlen)
{
	const char *akey, *stamp, *version, *sig, *md5;
	char hex[65], md5hex[33], *end;
	long long ts;

	akey = auth_param_get(params, n, "auth_key");
	stamp = auth_param_get(params, n, "auth_timestamp");
	version = auth_param_get(params, n, "auth_version");
	sig = auth_param_get(params, n, "auth_signature");
	md5 = auth_param_get(params, n, "body_md5");
	if (akey == NULL || stamp == NULL || version == NULL || sig == NULL) {
		snprintf(err, errlen, "the request is not signed: auth_key, "
		    "auth_timestamp, auth_version and auth_signature are "
		    "required");
		return AUTH_API_MISSING;
	}
	if (strcmp(akey, key) != 0) {
		snprintf(err, errlen, "auth_key is not the app's key");
		return AUTH_API_BAD_KEY;
	}
	if (strcmp(version, "1.0") != 0) {
		snprintf(err, errlen, "auth_version must be 1.0");
		return AUTH_API_BAD_VERSION;
	}
	errno = 0;
	ts = strtoll(stamp, &end, 10);
	if (errno != 0 || end == stamp || *end != '\0' ||
	    ts < now_s - AUTH_API_WINDOW_S || ts > now_s + AUTH_API_WINDOW_S) {
		snprintf(err, errlen, "auth_timestamp %.24s is not within %d s "
		    "of the server's time (%lld): check the clock",
		    stamp, AUTH_API_WINDOW_S, (long long)now_s);
		return AUTH_API_STALE;
	}
	if (body_len > 0 || md5 != NULL) {
		if (md5 == NULL || auth_md5_hex(body != NULL ? body : "",
		    body_len, md5hex) == -1 || strlen(md5) != 32 ||
		    CRYPTO_memcmp(md5, md5hex, 32) != 0) {
			snprintf(err, errlen, md5 == NULL ? "body_md5 is "
			    "required with a body" : "body_md5 is not the MD5 "
			    "of the body");
			return AUTH_API_BAD_BODY_MD5;
		}
	}
	if (auth_api_sign(secret, method, path, params, n, hex) == -1 ||
	    strlen(sig) != 64 || CRYPTO_memcmp(sig, hex, 64) != 0) {
		snprintf(err, errlen, "invalid auth_signature: it must be the "
		    "hex HMAC-SHA256 of \"METHOD\\nPATH\\nQUERY\" under the "
		    "app's secret");
		return AUTH_API_BAD_SIGNATURE;
	}
	return AUTH_API_OK;
}
