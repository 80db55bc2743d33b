/*
 * amqp_url.c: AMQP URLs with TLS query parameters. librabbitmq parses the
 * URL proper; the query, which it does not know, is cut off first and read
 * here. Thread-safe: no state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amqp.h>

#include "core/amqp_url.h"

/* Sets *slot to value once; -1 with err when it was set already. */
static int
amqp_url_once(char **slot, char *value, const char *name, char *err,
    size_t errlen)
{
	if (*slot != NULL) {
		snprintf(err, errlen, "the parameter %s is given twice", name);
		return -1;
	}
	*slot = value;
	return 0;
}

/* Checks that a file a parameter names can be read. */
static int
amqp_url_readable(const char *path, const char *name, char *err,
    size_t errlen)
{
	if (path == NULL || access(path, R_OK) == 0)
		return 0;
	snprintf(err, errlen, "%s %.200s cannot be read: %m", name, path);
	return -1;
}

/* Reads "name=value&..." (in place) into u. */
static int
amqp_url_query(char *q, struct amqp_url *u, char *err, size_t errlen)
{
	char *pair, *value, *save = NULL, *verify = NULL;

	for (pair = strtok_r(q, "&", &save); pair != NULL;
	    pair = strtok_r(NULL, "&", &save)) {
		value = strchr(pair, '=');
		if (value == NULL || value[1] == '\0') {
			snprintf(err, errlen, "the parameter %.40s has no value",
			    pair);
			return -1;
		}
		*value++ = '\0';
		if (strcmp(pair, "cacertfile") == 0) {
			if (amqp_url_once(&u->cacertfile, value, pair, err,
			    errlen) == -1)
				return -1;
		} else if (strcmp(pair, "certfile") == 0) {
			if (amqp_url_once(&u->certfile, value, pair, err,
			    errlen) == -1)
				return -1;
		} else if (strcmp(pair, "keyfile") == 0) {
			if (amqp_url_once(&u->keyfile, value, pair, err,
			    errlen) == -1)
				return -1;
		} else if (strcmp(pair, "verify") == 0) {
			if (amqp_url_once(&verify, value, pair, err,
			    errlen) == -1)
				return -1;
			if (strcmp(value, "verify_peer") == 0)
				u->verify = 1;
			else if (strcmp(value, "verify_none") == 0)
				u->verify = 0;
			else {
				snprintf(err, errlen, "verify must be "
				    "verify_peer or verify_none, not %.40s",
				    value);
				return -1;
			}
		} else {
			snprintf(err, errlen, "unknown parameter %.40s (known: "
			    "cacertfile, certfile, keyfile, verify)", pair);
			return -1;
		}
	}
	return 0;
}

int
amqp_url_parse(const char *url, struct amqp_url *u, char *err, size_t errlen)
{
	struct amqp_connection_info info;
	char *query;
	int rc;

	memset(u, 0, sizeof *u);
	u->verify = 1;
	if ((u->text = strdup(url)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	query = strchr(u->text, '?');
	if (query != NULL)
		*query++ = '\0';
	amqp_default_connection_info(&info);
	rc = amqp_parse_url(u->text, &info);
	if (rc != AMQP_STATUS_OK) {
		snprintf(err, errlen, "not an AMQP URL of the form "
		    "amqp://user:password@host:port/vhost or amqps://... "
		    "(%s)", amqp_error_string2(rc));
		goto fail;
	}
	u->host = info.host;
	u->port = info.port;
	u->user = info.user;
	u->password = info.password;
	u->vhost = info.vhost;
	u->tls = info.ssl != 0;
	if (query != NULL && amqp_url_query(query, u, err, errlen) == -1)
		goto fail;
	if (!u->tls && (query != NULL && *query != '\0')) {
		snprintf(err, errlen, "TLS parameters need an amqps:// URL");
		goto fail;
	}
	if ((u->certfile == NULL) != (u->keyfile == NULL)) {
		snprintf(err, errlen, "certfile and keyfile go together");
		goto fail;
	}
	if (amqp_url_readable(u->cacertfile, "cacertfile", err, errlen) ==
	    -1 || amqp_url_readable(u->certfile, "certfile", err, errlen) ==
	    -1 || amqp_url_readable(u->keyfile, "keyfile", err, errlen) == -1)
		goto fail;
	return 0;
fail:
	amqp_url_free(u);
	return -1;
}

void
amqp_url_free(struct amqp_url *u)
{
	free(u->text);
	memset(u, 0, sizeof *u);
}
