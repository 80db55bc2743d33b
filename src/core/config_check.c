/*
 * config_check.c: checks of single configuration values, named in
 * sluiced's key tables (config.c); numbers and sizes are parsed by the INI
 * engine (inifile_value.c). Thread-safe: no state.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <amqp.h>

#include "core/config.h"
#include "core/amqp_url.h"
#include "core/config_check.h"
#include "core/inifile.h"
#include "core/routekey.h"
#include "core/sluice.h"

/*
 * Returns 1 if s is min..max characters, each an ASCII letter, a digit or
 * one of extra.
 */
int
config_charset(const char *s, const char *extra, size_t min, size_t max)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++) {
		if (!isascii((unsigned char)s[n]) ||
		    (!isalnum((unsigned char)s[n]) &&
		    strchr(extra, s[n]) == NULL))
			return 0;
	}
	return n >= min && n <= max;
}

int
config_parse_size(const char *text, uint64_t *out)
{
	return inifile_parse_size(text, out);
}

int
config_check_nonempty(const char *value, char *err, size_t errlen)
{
	if (*value != '\0')
		return 0;
	snprintf(err, errlen, "must not be empty");
	return -1;
}

/* "host:port", "[v6addr]:port" or "*:port". */
int
config_check_listen(const char *value, char *err, size_t errlen)
{
	char host[CONFIG_NAME_MAX + 1];
	unsigned char addr[16];
	const char *port, *close;
	uint64_t n;
	size_t hlen;

	if (*value == '[') {
		close = strchr(value, ']');
		if (close == NULL || close[1] != ':')
			goto bad;
		hlen = (size_t)(close - value - 1);
		if (hlen >= sizeof host)
			goto bad;
		memcpy(host, value + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1) {
			snprintf(err, errlen, "\"%s\" is not an IPv6 address",
			    host);
			return -1;
		}
		port = close + 2;
	} else {
		port = strrchr(value, ':');
		if (port == NULL)
			goto bad;
		hlen = (size_t)(port - value);
		port++;
		if (memchr(value, ':', hlen) != NULL) {
			snprintf(err, errlen, "\"%s\": an IPv6 address needs "
			    "brackets, as in [::1]:8080", value);
			return -1;
		}
		if (hlen == 0 || hlen >= sizeof host)
			goto bad;
		memcpy(host, value, hlen);
		host[hlen] = '\0';
		if (strcmp(host, "*") != 0 &&
		    inet_pton(AF_INET, host, addr) != 1 &&
		    !config_charset(host, CONFIG_HOST_CHARS, 1, 253)) {
			snprintf(err, errlen, "\"%s\" is not a host name or "
			    "address", host);
			return -1;
		}
	}
	if (inifile_parse_number(port, &n) == -1 || n < 1 || n > 65535) {
		snprintf(err, errlen, "\"%s\" is not a port (1..65535)", port);
		return -1;
	}
	return 0;

bad:
	snprintf(err, errlen, "\"%s\" is not host:port, [IPv6]:port or *:port",
	    value);
	return -1;
}

/* An AMQP URL (core/amqp_url.h), TLS parameters included. The message
 * leaves the URL (a secret) out. */
int
config_check_url(const char *value, char *err, size_t errlen)
{
	struct amqp_url u;

	if (amqp_url_parse(value, &u, err, errlen) == -1)
		return -1;
	amqp_url_free(&u);
	return 0;
}

/* An exchange or queue name sluiced declares. */
int
config_check_amqp_name(const char *value, char *err, size_t errlen)
{
	if (*value == '\0') {
		snprintf(err, errlen, "an exchange or queue name must not be "
		    "empty");
		return -1;
	}
	if (!config_charset(value, CONFIG_AMQP_CHARS, 1, CONFIG_NAME_MAX)) {
		snprintf(err, errlen, "\"%.64s\" is not a valid name (at most "
		    "%d characters of A-Z a-z 0-9 - _ . :)", value,
		    CONFIG_NAME_MAX);
		return -1;
	}
	if (strncmp(value, "amq.", 4) == 0) {
		snprintf(err, errlen, "\"%s\": names starting with \"amq.\" "
		    "are reserved by the broker", value);
		return -1;
	}
	return 0;
}

int
config_check_routekey(const char *value, char *err, size_t errlen)
{
	struct routekey *rk;
	char msg[CONFIG_MSGLEN / 2];

	if (routekey_compile(value, &rk, msg, sizeof msg) == -1) {
		snprintf(err, errlen, "bad template: %s", msg);
		return -1;
	}
	routekey_free(rk);
	return 0;
}

/* As Pusher's: any length (up to a bound for paths and headers) of
 * characters that go into a URL's path and a header as they are. */
int
config_check_app_key(const char *value, char *err, size_t errlen)
{
	if (config_charset(value, CONFIG_KEY_CHARS, 1, CONFIG_APP_KEY_MAX))
		return 0;
	snprintf(err, errlen, "\"%.80s\" is not a valid key (1..%d "
	    "characters of A-Z a-z 0-9 _ -)", value, CONFIG_APP_KEY_MAX);
	return -1;
}

int
config_check_app_name(const char *value, char *err, size_t errlen)
{
	if (config_charset(value, CONFIG_KEY_CHARS, 1, 64))
		return 0;
	snprintf(err, errlen, "\"%s\" is not a valid app name (1..64 "
	    "characters of A-Z a-z 0-9 _ -)", value);
	return -1;
}

/* Any secret but an empty one; a short one is warned of (config.c). */
int
config_check_secret(const char *value, char *err, size_t errlen)
{
	if (*value != '\0')
		return 0;
	snprintf(err, errlen, "must not be empty");
	return -1;
}

/*
 * "*", or an origin as browsers send it: scheme://host[:port]. Reads value
 * only up to its NUL. A value without a scheme (localhost, host:8080) gets
 * a hint to add one.
 */
int
config_check_origin(const char *value, char *err, size_t errlen)
{
	const char *p = value, *host;

	if (strcmp(value, "*") == 0)
		return 0;
	if (isascii((unsigned char)*p) && isalpha((unsigned char)*p)) {
		/* strchr finds the NUL too: stop at the value's end. */
		while (*p != '\0' && isascii((unsigned char)*p) &&
		    (isalnum((unsigned char)*p) || strchr("+-.", *p) != NULL))
			p++;
		if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
			host = p + 3;
			if (*host != '\0' && strpbrk(host, "/?#@") == NULL)
				return 0;
		}
	}
	if (strstr(value, "://") == NULL && *value != '\0' &&
	    strpbrk(value, "/?#@ ") == NULL) {
		snprintf(err, errlen, "\"%.200s\" is not an origin: it has "
		    "no scheme (did you mean http://%.200s?)", value, value);
		return -1;
	}
	snprintf(err, errlen, "\"%.200s\" is not an origin "
	    "(scheme://host[:port] without a path, or *)", value);
	return -1;
}

int
config_check_channel(const char *value, char *err, size_t errlen)
{
	if (config_charset(value, CONFIG_CHANNEL_CHARS, 1, CONFIG_CHANNEL_MAX))
		return 0;
	snprintf(err, errlen, "\"%.200s\" is not a channel name (1..%d "
	    "characters of A-Z a-z 0-9 _ - = @ , . ;)", value,
	    CONFIG_CHANNEL_MAX);
	return -1;
}

int
config_check_pattern(const char *value, char *err, size_t errlen)
{
	if (config_charset(value, CONFIG_PATTERN_CHARS, 1, CONFIG_NAME_MAX))
		return 0;
	snprintf(err, errlen, "\"%.200s\" is not a channel pattern (channel "
	    "name characters and the wildcards * ? [ ] !)", value);
	return -1;
}

int
config_check_bind(const char *value, char *err, size_t errlen)
{
	if (strlen(value) <= CONFIG_NAME_MAX)
		return 0;
	snprintf(err, errlen, "\"%.64s...\" is longer than %d bytes", value,
	    CONFIG_NAME_MAX);
	return -1;
}
