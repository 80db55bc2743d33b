/*
 * http_api.c: the HTTP API (Pusher's server API) on libmicrohttpd's
 * threads: routing under /apps/ID/, the request's signature
 * (auth_api_check), triggering events through the ingest pipeline and
 * asking the hub (http_api_query.c) for what it holds. Every error is a
 * JSON {error, message}; every answer is counted by endpoint and status.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/app.h"
#include "core/auth.h"
#include "core/isotime.h"
#include "core/jsontext.h"
#include "core/log.h"
#include "core/netaddr.h"
#include "core/sluice.h"
#include "http/http_api.h"
#include "http/http_auth.h"
#include "hub/hub.h"
#include "ingest/channel.h"

#define HTTP_API_MAX_PARAMS	32	/* query arguments of a request */
#define HTTP_API_JSON_DEPTH	16

/* Queues a JSON error and counts it under the request's endpoint. */
static enum MHD_Result
http_api_error(struct MHD_Connection *c, enum metrics_api_endpoint endpoint,
    unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static enum MHD_Result
http_api_error(struct MHD_Connection *c, enum metrics_api_endpoint endpoint,
    unsigned status, const char *code, const char *fmt, ...)
{
	char message[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	metrics_http_api(endpoint, status);
	return http_reply_error(c, status, NULL, code, "%s", message);
}

/* Queues o (taken over) with 200 and counts it. */
static enum MHD_Result
http_api_ok(struct http_api *api, struct json_object *o)
{
	metrics_http_api(api->endpoint, MHD_HTTP_OK);
	return http_reply_json(api->conn, MHD_HTTP_OK, o, NULL);
}

/*
 * Sorts out the resource of url (after "/apps/"): the app id into id
 * (idlen bytes), the channel or user id into *name (a copy, or NULL) and
 * the method it takes into *method. Returns the endpoint, or
 * METRICS_API_OTHER when there is no such resource.
 */
static enum metrics_api_endpoint
http_api_route(const char *url, char *id, size_t idlen, char **name,
    const char **method)
{
	const char *p = url + sizeof HTTP_API_PREFIX - 1, *slash, *rest, *end;
	size_t n;

	*name = NULL;
	if ((slash = strchr(p, '/')) == NULL || (n = (size_t)(slash - p)) ==
	    0 || n >= idlen)
		return METRICS_API_OTHER;
	memcpy(id, p, n);
	id[n] = '\0';
	rest = slash + 1;
	*method = MHD_HTTP_METHOD_POST;
	if (strcmp(rest, "events") == 0)
		return METRICS_API_EVENTS;
	if (strcmp(rest, "batch_events") == 0)
		return METRICS_API_BATCH_EVENTS;
	*method = MHD_HTTP_METHOD_GET;
	if (strcmp(rest, "channels") == 0)
		return METRICS_API_CHANNELS;
	if (strncmp(rest, "channels/", 9) == 0 && rest[9] != '\0') {
		rest += 9;
		end = strchr(rest, '/');
		if (end == NULL) {
			*name = strdup(rest);
			return METRICS_API_CHANNEL;
		}
		if (strcmp(end, "/users") != 0 || end == rest)
			return METRICS_API_OTHER;
		*name = strndup(rest, (size_t)(end - rest));
		return METRICS_API_USERS;
	}
	*method = MHD_HTTP_METHOD_POST;
	if (strncmp(rest, "users/", 6) == 0 && rest[6] != '\0') {
		rest += 6;
		end = strchr(rest, '/');
		if (end == NULL || end == rest ||
		    strcmp(end, "/terminate_connections") != 0)
			return METRICS_API_OTHER;
		*name = strndup(rest, (size_t)(end - rest));
		return METRICS_API_TERMINATE;
	}
	return METRICS_API_OTHER;
}

struct http_api *
http_api_begin(struct http_server *srv, struct MHD_Connection *c,
    const char *url, const char *method, enum MHD_Result *ret)
{
	const struct config_app *app;
	enum metrics_api_endpoint endpoint;
	struct http_reply_opts opts = { 0 };
	const char *takes = NULL, *clen;
	struct http_api *api;
	char id[256], *name;
	unsigned long long declared;

	endpoint = http_api_route(url, id, sizeof id, &name, &takes);
	if (endpoint == METRICS_API_OTHER) {
		*ret = http_api_error(c, endpoint, MHD_HTTP_NOT_FOUND,
		    "not_found", "no resource at %s", url);
		return NULL;
	}
	if (strcmp(method, takes) != 0) {
		free(name);
		opts.allow = takes;
		metrics_http_api(endpoint, MHD_HTTP_METHOD_NOT_ALLOWED);
		*ret = http_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, &opts,
		    "method_not_allowed", "%s is not allowed on %s; use %s",
		    method, url, takes);
		return NULL;
	}
	if ((app = app_by_id(srv->apps, id)) == NULL) {
		free(name);
		*ret = http_api_error(c, endpoint, MHD_HTTP_NOT_FOUND,
		    "unknown_app", "no app has the id %.100s", id);
		return NULL;
	}
	if (atomic_load(&srv->stopping) || ingest_stopping(srv->ingest)) {
		free(name);
		*ret = http_api_error(c, endpoint,
		    MHD_HTTP_SERVICE_UNAVAILABLE, "stopping",
		    "the gateway is shutting down");
		return NULL;
	}
	clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (clen != NULL && (declared = strtoull(clen, NULL, 10)) >
	    srv->cfg->max_request_bytes) {
		free(name);
		*ret = http_api_error(c, endpoint, MHD_HTTP_CONTENT_TOO_LARGE,
		    "request_too_large", "the body is %llu bytes; the limit "
		    "is %zu", declared, srv->cfg->max_request_bytes);
		return NULL;
	}
	if ((api = calloc(1, sizeof *api)) == NULL ||
	    (api->path = strdup(url)) == NULL) {
		free(api);
		free(name);
		*ret = MHD_NO;
		return NULL;
	}
	api->kind = HTTP_CTX_API;
	api->state = HTTP_REQ_BODY;
	api->endpoint = endpoint;
	api->srv = srv;
	api->conn = c;
	api->app = app;
	api->app_index = app_index(srv->apps, app);
	api->method = takes;
	api->name = name;
	/* Owed an answer until libmicrohttpd completes the request. */
	waitcount_add(&srv->owed);
	return api;
}

enum MHD_Result
http_api_body(struct http_api *api, const char *data, size_t size)
{
	size_t limit = api->srv->cfg->max_request_bytes, cap;
	char *p;

	if (api->state == HTTP_REQ_TOO_LARGE)
		return isotime_mono_us() - api->too_large_since_us >
		    (int64_t)api->srv->cfg->http_timeout_s * 1000000 ?
		    MHD_NO : MHD_YES;
	if (api->state != HTTP_REQ_BODY)
		return MHD_YES;
	if (size > limit - api->len) {
		api->state = HTTP_REQ_TOO_LARGE;
		api->too_large_since_us = isotime_mono_us();
		free(api->body);
		api->body = NULL;
		api->len = api->cap = 0;
		return MHD_YES;
	}
	if (api->len + size + 1 > api->cap) {
		cap = api->cap == 0 ? 1024 : api->cap;
		while (cap < api->len + size + 1)
			cap *= 2;
		if ((p = realloc(api->body, cap)) == NULL)
			return MHD_NO;
		api->body = p;
		api->cap = cap;
	}
	memcpy(api->body + api->len, data, size);
	api->len += size;
	api->body[api->len] = '\0';
	return MHD_YES;
}

/* The query arguments, gathered for the signature. */
struct http_api_params {
	struct auth_param	p[HTTP_API_MAX_PARAMS];
	size_t			n;
	int			over;
};

static enum MHD_Result
http_api_param(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct http_api_params *ps = cls;

	(void)kind;
	if (ps->n == HTTP_API_MAX_PARAMS) {
		ps->over = 1;
		return MHD_NO;
	}
	ps->p[ps->n].key = key;
	ps->p[ps->n].value = value != NULL ? value : "";
	ps->n++;
	return MHD_YES;
}

/* Checks the request's signature and that the app is enabled. Returns 0,
 * or -1 after queuing the error with *ret set. */
static int
http_api_authorize(struct http_api *api, enum MHD_Result *ret)
{
	struct http_api_params ps;
	char err[200];

	memset(&ps, 0, sizeof ps);
	MHD_get_connection_values(api->conn, MHD_GET_ARGUMENT_KIND,
	    http_api_param, &ps);
	if (ps.over) {
		*ret = http_api_error(api->conn, api->endpoint,
		    MHD_HTTP_BAD_REQUEST, "too_many_parameters", "more than %d "
		    "query arguments", HTTP_API_MAX_PARAMS);
		return -1;
	}
	if (auth_api_check(api->app->key, api->app->secret, api->method,
	    api->path, ps.p, ps.n, api->body, api->len,
	    isotime_now_ms() / 1000, err, sizeof err) != AUTH_API_OK) {
		*ret = http_api_error(api->conn, api->endpoint,
		    MHD_HTTP_UNAUTHORIZED, "unauthorized", "%s", err);
		return -1;
	}
	if (!api->app->enabled) {
		*ret = http_api_error(api->conn, api->endpoint,
		    MHD_HTTP_FORBIDDEN, "app_disabled", "app %s is disabled",
		    api->app->id);
		return -1;
	}
	return 0;
}

/* Reads info ("user_count,subscription_count"): sets *users and *subs.
 * Returns 0, or -1 with err naming the attribute not known. */
static int
http_api_info_parse(const char *info, int *users, int *subs, char *err,
    size_t errlen)
{
	const char *p = info, *end;
	size_t n;

	*users = *subs = 0;
	while (p != NULL && *p != '\0') {
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n == 10 && strncmp(p, "user_count", n) == 0)
			*users = 1;
		else if (n == 18 && strncmp(p, "subscription_count", n) == 0)
			*subs = 1;
		else if (n == 5 && strncmp(p, "cache", n) == 0)
			;	/* a channel's: see http_api_read */
		else if (n > 0) {
			snprintf(err, errlen, "info: unknown attribute "
			    "\"%.*s\" (user_count, subscription_count)",
			    (int)(n > 40 ? 40 : n), p);
			return -1;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return 0;
}

/* A string member of o, or NULL when it is missing; *bad when it is there
 * but not a string. */
static const char *
http_api_string(struct json_object *o, const char *key, int *bad)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		*bad = 1;
		return NULL;
	}
	return json_object_get_string(v);
}

/* Whether a channel may be triggered to from the API. */
static int
http_api_channel_valid(const char *name)
{
	size_t n = strlen(name);

	return channel_name_valid(name, n) || channel_user_name_valid(name, n);
}

/*
 * Adds one event to trigger, item of a batch (where = "batch[i]: ") or
 * the body of /events (where = ""): a submission, and the info targets.
 * Returns 0, or an HTTP status with err naming the problem.
 */
static unsigned
http_api_add(struct http_api *api, struct json_object *item,
    const char *where, char *err, size_t errlen)
{
	struct http_api_submit *s = &api->submits[api->nsubmits];
	struct http_api_target *t;
	struct json_object *chans = NULL, *ev, *v;
	const char *name, *data, *socket_id, *info, *one;
	size_t i, n, datalen;
	int bad = 0, users, subs;

	if (!json_object_is_type(item, json_type_object)) {
		snprintf(err, errlen, "%sthe event must be a JSON object",
		    where);
		return MHD_HTTP_BAD_REQUEST;
	}
	name = http_api_string(item, "name", &bad);
	data = http_api_string(item, "data", &bad);
	socket_id = http_api_string(item, "socket_id", &bad);
	info = http_api_string(item, "info", &bad);
	one = http_api_string(item, "channel", &bad);
	if (bad || name == NULL || data == NULL) {
		snprintf(err, errlen, "%sname and data are required, and name, "
		    "data, channel, socket_id and info must be strings", where);
		return MHD_HTTP_BAD_REQUEST;
	}
	if (*name == '\0' || strlen(name) > EVENT_NAME_MAX) {
		snprintf(err, errlen, "%sname must be 1 to %d characters",
		    where, EVENT_NAME_MAX);
		return MHD_HTTP_BAD_REQUEST;
	}
	json_object_object_get_ex(item, "data", &v);
	datalen = (size_t)json_object_get_string_len(v);
	if (datalen > api->srv->cfg->max_event_bytes) {
		snprintf(err, errlen, "%sdata is %zu bytes; the limit is %zu",
		    where, datalen, api->srv->cfg->max_event_bytes);
		return MHD_HTTP_CONTENT_TOO_LARGE;
	}
	if (socket_id != NULL && !http_auth_socket_id_valid(socket_id)) {
		snprintf(err, errlen, "%ssocket_id must be a connection's "
		    "socket_id (digits.digits)", where);
		return MHD_HTTP_BAD_REQUEST;
	}
	if (info != NULL && http_api_info_parse(info, &users, &subs, err,
	    errlen) == -1)
		return MHD_HTTP_BAD_REQUEST;
	if (info == NULL)
		users = subs = 0;
	if (!api->batch && json_object_object_get_ex(item, "channels", &v)) {
		if (one != NULL || !json_object_is_type(v, json_type_array) ||
		    json_object_array_length(v) == 0 ||
		    json_object_array_length(v) > HTTP_API_MAX_CHANNELS) {
			snprintf(err, errlen, "channels must be an array of 1 "
			    "to %d channel names (or give channel)",
			    HTTP_API_MAX_CHANNELS);
			return MHD_HTTP_BAD_REQUEST;
		}
		chans = v;
	} else if (one == NULL) {
		snprintf(err, errlen, "%schannel is required", where);
		return MHD_HTTP_BAD_REQUEST;
	}
	n = chans != NULL ? json_object_array_length(chans) : 1;
	s->events = json_object_new_array();
	s->api = api;
	if (socket_id != NULL)
		s->except_socket = strdup(socket_id);
	api->nsubmits++;
	for (i = 0; i < n; i++) {
		if (chans != NULL) {
			v = json_object_array_get_idx(chans, i);
			one = json_object_is_type(v, json_type_string) ?
			    json_object_get_string(v) : NULL;
		}
		if (one == NULL || !http_api_channel_valid(one)) {
			snprintf(err, errlen, "%schannel %zu: must be 1 to %d "
			    "characters of A-Z a-z 0-9 _ - = @ , . ; (or "
			    "#server-to-user-ID)", where, i, CHANNEL_NAME_MAX);
			return MHD_HTTP_BAD_REQUEST;
		}
		ev = json_object_new_object();
		json_object_object_add(ev, "event",
		    json_object_new_string(name));
		json_object_object_add(ev, "channel",
		    json_object_new_string(one));
		json_object_object_add(ev, "data",
		    json_object_new_string_len(data, (int)datalen));
		json_object_array_add(s->events, ev);
		if (api->batch || info != NULL) {
			t = &api->targets[api->ntargets++];
			t->channel = strdup(one);
			t->presence = channel_kind(one) == CHANNEL_PRESENCE;
			t->want_users = users;
			t->want_subs = subs;
		}
	}
	return 0;
}

/* Reads a trigger's body into submissions. Returns 0, or a status with
 * err set. */
static unsigned
http_api_trigger_parse(struct http_api *api, char *err, size_t errlen)
{
	struct json_object *root = NULL, *list;
	char where[32], perr[160];
	unsigned status = 0;
	size_t i, n;

	if (jsontext_parse(api->body != NULL ? api->body : "", api->len,
	    HTTP_API_JSON_DEPTH, &root, perr, sizeof perr) != 0 ||
	    !json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "the body must be a JSON object%s%s",
		    root == NULL && perr[0] != '\0' ? ": " : "",
		    root == NULL ? perr : "");
		json_object_put(root);
		return MHD_HTTP_BAD_REQUEST;
	}
	if (api->endpoint == METRICS_API_EVENTS) {
		api->submits = calloc(1, sizeof *api->submits);
		api->targets = calloc(HTTP_API_MAX_CHANNELS,
		    sizeof *api->targets);
		if (api->submits == NULL || api->targets == NULL)
			status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		else
			status = http_api_add(api, root, "", err, errlen);
		json_object_put(root);
		return status;
	}
	api->batch = 1;
	if (!json_object_object_get_ex(root, "batch", &list) ||
	    !json_object_is_type(list, json_type_array) ||
	    (n = json_object_array_length(list)) == 0) {
		snprintf(err, errlen, "the body must be {\"batch\": [events]} "
		    "with at least one event");
		json_object_put(root);
		return MHD_HTTP_BAD_REQUEST;
	}
	if (n > api->app->max_batch_events) {
		snprintf(err, errlen, "the batch has %zu events; the limit is "
		    "%u (max_batch_events)", n, api->app->max_batch_events);
		json_object_put(root);
		return MHD_HTTP_CONTENT_TOO_LARGE;
	}
	api->submits = calloc(n, sizeof *api->submits);
	api->targets = calloc(n, sizeof *api->targets);
	if (api->submits == NULL || api->targets == NULL)
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	for (i = 0; i < n && status == 0; i++) {
		snprintf(where, sizeof where, "batch[%zu]: ", i);
		status = http_api_add(api, json_object_array_get_idx(list, i),
		    where, err, errlen);
	}
	/* Only an event with info asks the hub: none, no query. */
	for (i = 0; i < api->ntargets && status == 0; i++)
		if (api->targets[i].want_users || api->targets[i].want_subs)
			break;
	if (i == api->ntargets) {
		for (i = 0; i < api->ntargets; i++)
			free(api->targets[i].channel);
		api->ntargets = 0;
	}
	json_object_put(root);
	return status;
}

/* One submission's answer (any thread): the last resumes the request. */
static void
http_api_submitted(struct ingest_request *ir, void *arg)
{
	struct http_api_submit *s = arg;
	struct http_api *api = s->api;

	(void)ir;
	if (atomic_fetch_sub(&api->pending, 1) == 1)
		http_park_done(&api->park);
}

/* Hands the submissions to the pipeline; parked until all are durable. */
static enum MHD_Result
http_api_trigger(struct http_api *api)
{
	struct event_source src;
	const union MHD_ConnectionInfo *ci;
	char ip[NETADDR_STRLEN];
	size_t i;

	ci = MHD_get_connection_info(api->conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	netaddr_client(&api->srv->cfg->trusted_proxies,
	    ci != NULL ? ci->client_addr : NULL,
	    MHD_lookup_connection_value(api->conn, MHD_HEADER_KIND,
	    "X-Forwarded-For"), ip);
	memset(&src, 0, sizeof src);
	src.app = api->app;
	src.source = "api";
	src.ip = ip;
	src.user_agent = MHD_lookup_connection_value(api->conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
	src.received_at_ms = isotime_now_ms();
	src.channel_granted = 1;	/* the app's own server */
	src.user_channels = 1;
	api->state = HTTP_REQ_SUBMITTED;
	http_park_begin(&api->park, api->conn);
	/* One more than the submissions until all are handed over. */
	atomic_store(&api->pending, api->nsubmits + 1);
	for (i = 0; i < api->nsubmits; i++) {
		src.except_socket = api->submits[i].except_socket;
		ingest_submit(api->srv->ingest, &api->submits[i].ingest,
		    api->submits[i].events, &src, NULL, http_api_submitted,
		    &api->submits[i]);
	}
	if (atomic_fetch_sub(&api->pending, 1) == 1)
		http_park_done(&api->park);
	return http_park_wait(&api->park) == 0 ? MHD_YES : http_api_finish(api);
}

/* Asks the hub for what the request reads; parked until answered. */
static enum MHD_Result
http_api_ask(struct http_api *api)
{
	struct http_server *srv = api->srv;

	api->state = HTTP_REQ_SUBMITTED;
	api->querying = 1;
	http_park_begin(&api->park, api->conn);
	waitcount_add(&srv->parked);
	if (hub_query(srv->hub, http_api_query, api) != SLUICE_OK) {
		http_park_done(&api->park);
		waitcount_done(&srv->parked);
	}
	return http_park_wait(&api->park) == 0 ? MHD_YES : http_api_finish(api);
}

/* The outcome of the submissions: an error reply, or 0 when all went in. */
static int
http_api_trigger_failed(struct http_api *api, enum MHD_Result *ret)
{
	const struct ingest_request *ir;
	struct http_reply_opts opts;
	struct json_object *o;
	unsigned status;
	char retry[16];
	size_t i, k;

	for (i = 0; i < api->nsubmits; i++) {
		ir = &api->submits[i].ingest;
		if (ir->status == INGEST_OK && ir->batch.nrejected == 0)
			continue;
		if (ir->status == INGEST_OK || ir->status ==
		    INGEST_NONE_VALID) {
			status = MHD_HTTP_CONTENT_TOO_LARGE;
			for (k = 0; k < ir->batch.nrejected; k++)
				if (ir->batch.rejected[k].error !=
				    EVENT_ERR_TOO_LARGE)
					status = MHD_HTTP_BAD_REQUEST;
			o = json_object_new_object();
			json_object_object_add(o, "error",
			    json_object_new_string(status ==
			    MHD_HTTP_BAD_REQUEST ? "invalid_events" :
			    "event_too_large"));
			json_object_object_add(o, "message",
			    json_object_new_string("events were refused; see "
			    "errors"));
			json_object_object_add(o, "errors",
			    event_batch_errors_json(&ir->batch));
			metrics_http_api(api->endpoint, status);
			*ret = http_reply_json(api->conn, status, o, NULL);
			return -1;
		}
		status = http_ingest_status(ir->status);
		memset(&opts, 0, sizeof opts);
		if (ir->retry_after > 0) {
			snprintf(retry, sizeof retry, "%d", ir->retry_after);
			opts.retry_after = retry;
		}
		metrics_http_api(api->endpoint, status);
		*ret = http_reply_error(api->conn, status, &opts,
		    ir->code != NULL ? ir->code : "refused", "%s",
		    ir->message);
		return -1;
	}
	return 0;
}

/* Checks a read's arguments and asks the hub. */
static enum MHD_Result
http_api_read(struct http_api *api)
{
	const char *info, *prefix;
	char err[160];
	int presence = 0;

	info = MHD_lookup_connection_value(api->conn, MHD_GET_ARGUMENT_KIND,
	    "info");
	if (info != NULL && http_api_info_parse(info, &api->want_users,
	    &api->want_subs, err, sizeof err) == -1)
		return http_api_error(api->conn, api->endpoint,
		    MHD_HTTP_BAD_REQUEST, "invalid_info", "%s", err);
	api->want_cache = info != NULL && (strcmp(info, "cache") == 0 ||
	    strstr(info, "cache,") != NULL || (strlen(info) > 6 &&
	    strcmp(info + strlen(info) - 6, ",cache") == 0));
	if (api->name != NULL) {
		if (api->endpoint == METRICS_API_TERMINATE ?
		    strlen(api->name) > HTTP_API_USER_ID_MAX :
		    !http_api_channel_valid(api->name))
			return http_api_error(api->conn, api->endpoint,
			    MHD_HTTP_BAD_REQUEST, "invalid_name", "%s is not "
			    "a valid %s", api->endpoint ==
			    METRICS_API_TERMINATE ? "the user id" :
			    "the channel name", api->endpoint ==
			    METRICS_API_TERMINATE ? "user id" : "channel name");
		presence = channel_kind(api->name) == CHANNEL_PRESENCE;
	}
	if (api->endpoint == METRICS_API_CHANNELS) {
		prefix = MHD_lookup_connection_value(api->conn,
		    MHD_GET_ARGUMENT_KIND, "filter_by_prefix");
		if (prefix != NULL && *prefix != '\0' &&
		    (api->prefix = strdup(prefix)) == NULL)
			return MHD_NO;
		presence = prefix != NULL && strncmp(prefix, "presence-",
		    9) == 0;
	}
	if (api->want_users && !presence)
		return http_api_error(api->conn, api->endpoint,
		    MHD_HTTP_BAD_REQUEST, "invalid_info", "info=user_count is "
		    "for presence channels only%s", api->endpoint ==
		    METRICS_API_CHANNELS ? " (filter_by_prefix=presence-)" :
		    "");
	if (api->endpoint == METRICS_API_USERS && !presence)
		return http_api_error(api->conn, api->endpoint,
		    MHD_HTTP_BAD_REQUEST, "not_presence", "only presence "
		    "channels have users");
	return http_api_ask(api);
}

/* A request whose work is done: its answer. */
static enum MHD_Result
http_api_answer(struct http_api *api)
{
	struct json_object *o;
	enum MHD_Result ret;

	api->state = HTTP_REQ_REFUSED;
	if (!api->querying) {
		/* The events are durable (or refused). */
		if (http_api_trigger_failed(api, &ret) == -1)
			return ret;
		if (api->ntargets > 0)
			return http_api_ask(api);
		return http_api_ok(api, json_object_new_object());
	}
	if (api->answer == NULL)
		return http_api_error(api->conn, api->endpoint,
		    MHD_HTTP_SERVICE_UNAVAILABLE, "stopping",
		    "the gateway is shutting down");
	o = api->answer;
	api->answer = NULL;
	return http_api_ok(api, o);
}

enum MHD_Result
http_api_finish(struct http_api *api)
{
	enum MHD_Result ret;
	char err[300];
	unsigned status;

	switch (api->state) {
	case HTTP_REQ_REFUSED:
		return MHD_YES;
	case HTTP_REQ_TOO_LARGE:
		api->state = HTTP_REQ_REFUSED;
		return http_api_error(api->conn, api->endpoint,
		    MHD_HTTP_CONTENT_TOO_LARGE, "request_too_large", "the body "
		    "is over the limit of %zu bytes",
		    api->srv->cfg->max_request_bytes);
	case HTTP_REQ_SUBMITTED:
		if (!http_park_is_done(&api->park))
			return MHD_YES;
		return http_api_answer(api);
	case HTTP_REQ_BODY:
		break;
	}
	api->state = HTTP_REQ_REFUSED;
	if (http_api_authorize(api, &ret) == -1)
		return ret;
	if (api->endpoint == METRICS_API_EVENTS ||
	    api->endpoint == METRICS_API_BATCH_EVENTS) {
		if ((status = http_api_trigger_parse(api, err, sizeof err)) != 0)
			return http_api_error(api->conn, api->endpoint, status,
			    status == MHD_HTTP_CONTENT_TOO_LARGE ?
			    "too_large" : "invalid_body", "%s", err);
		return http_api_trigger(api);
	}
	return http_api_read(api);
}

void
http_api_free(struct http_api *api)
{
	size_t i;

	if (api == NULL)
		return;
	for (i = 0; i < api->nsubmits; i++) {
		ingest_request_free(&api->submits[i].ingest);
		json_object_put(api->submits[i].events);
		free(api->submits[i].except_socket);
	}
	for (i = 0; i < api->ntargets; i++)
		free(api->targets[i].channel);
	free(api->submits);
	free(api->targets);
	json_object_put(api->answer);
	free(api->prefix);
	free(api->name);
	free(api->path);
	free(api->body);
	free(api);
}
