/*
 * http.c: the libmicrohttpd daemon: listening, routing, the health, ready
 * and metrics endpoints, and an orderly stop. POST /v1/events lives in
 * http_ingest.c, the HTTP API (/apps/ID/...) in http_api.c, the per-client limit and the deadlines of a request in
 * http_guard.c. Requests run on libmicrohttpd's thread pool.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "broker/amqp_fwd.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/netaddr.h"
#include "core/sluice.h"
#include "http/http.h"
#include "http/http_api.h"
#include "http/http_auth.h"
#include "http/http_guard.h"
#include "http/http_ingest.h"
#include "http/http_static.h"
#include "hub/hub.h"
#include "ingest/ingest.h"
#include "journal/journal.h"

#define HTTP_STOP_GRACE_MS 200	/* for requests in flight at the stop */

enum http_route {
	HTTP_ROUTE_EVENTS,
	HTTP_ROUTE_HEALTHZ,
	HTTP_ROUTE_READYZ,
	HTTP_ROUTE_METRICS,
	HTTP_ROUTE_AUTH,
	HTTP_ROUTE_NONE
};

static const struct {
	const char	*path;
	const char	*allow;
} http_routes[] = {
	[HTTP_ROUTE_EVENTS] = { "/v1/events", "POST, OPTIONS" },
	[HTTP_ROUTE_HEALTHZ] = { "/healthz", "GET, HEAD" },
	[HTTP_ROUTE_READYZ] = { "/readyz", "GET, HEAD" },
	[HTTP_ROUTE_METRICS] = { "/metrics", "GET, HEAD" },
	[HTTP_ROUTE_AUTH] = { "/v1/auth", "GET, HEAD" },
};

static enum http_route
http_route_find(const char *url)
{
	size_t i;

	for (i = 0; i < SLUICE_ARRAY_LEN(http_routes); i++)
		if (strcmp(url, http_routes[i].path) == 0)
			return (enum http_route)i;
	return HTTP_ROUTE_NONE;
}

/* Queues a small JSON body given as a literal. */
static enum MHD_Result
http_reply_literal(struct MHD_Connection *c, unsigned status, const char *json)
{
	char *body = strdup(json);

	if (body == NULL)
		return MHD_NO;
	return http_reply(c, status, body, strlen(body), "application/json",
	    NULL);
}

const char *
http_ready_reason(struct http_server *srv, char *probe, size_t probelen)
{
	struct journal_stats st;

	if (probelen > 0)
		probe[0] = '\0';
	if (atomic_load(&srv->stopping))
		return "the gateway is shutting down";
	journal_get_stats(srv->journal, &st);
	if (st.failed)
		return "the journal cannot be written";
	if (st.full)
		return "the journal is full";
	if (journal_probe(srv->journal, probe, probelen) != SLUICE_OK)
		return "the journal directory cannot be written (see the log)";
	if (journal_corruption_pending(srv->journal))
		return "corrupt journal records were found (see the file "
		    "corrupt in the journal directory; remove it to "
		    "acknowledge)";
	if (metrics_amqp_is_blocked())
		return "the broker blocks publishing (resource alarm)";
	if (amqp_fwd_stalled_at(srv->fwd) != 0)
		return "forwarding stopped at a journal record it cannot "
		    "send (see the log)";
	if (!amqp_fwd_ready(srv->fwd))
		return "not connected to the broker";
	return NULL;
}

/* GET /readyz: 200 when http_ready_reason finds nothing, else 503 and
 * the reason. */
static enum MHD_Result
http_readyz(struct http_server *srv, struct MHD_Connection *c)
{
	const char *reason;
	char buf[256], probe[PATH_MAX + 64];

	reason = http_ready_reason(srv, probe, sizeof probe);
	if (reason == NULL)
		return http_reply_literal(c, MHD_HTTP_OK, "{\"ready\":true}");
	if (probe[0] != '\0')
		log_warn("http", "/readyz: %s", probe);
	snprintf(buf, sizeof buf, "{\"ready\":false,\"reason\":\"%s\"}",
	    reason);
	return http_reply_literal(c, MHD_HTTP_SERVICE_UNAVAILABLE, buf);
}

/* A GET /metrics in progress: parked while the hub is asked. */
struct http_metrics {
	enum http_ctx_kind	 kind;		/* HTTP_CTX_METRICS */
	struct http_server	*srv;
	struct http_park	 park;
	int			 asked;		/* the query was posted */
	int			 answered;	/* the figures below are set */
	size_t			 channels;
	size_t			 subscriptions;
	size_t			 members;
	size_t			 cached;
	uint64_t		 cache_evicted;
};

/* Runs on the hub's service thread (or at its close): read, resume. */
static void
http_metrics_hub(struct hub *h, void *arg, int status)
{
	struct http_metrics *m = arg;
	struct http_server *srv = m->srv;

	if (status == SLUICE_OK) {
		m->channels = hub_channel_count(h);
		m->subscriptions = hub_subscription_count(h);
		m->members = hub_member_count(h);
		hub_cache_stats(h, &m->cached, &m->cache_evicted);
		m->answered = 1;
	}
	http_park_done(&m->park);
	/* m may be gone now; shutdown may go on once this is counted. */
	waitcount_done(&srv->parked);
}

/* The journal's and the hub's families of a render. */
static void
http_metrics_extra(struct metrics_text *t, void *arg)
{
	struct http_metrics *m = arg;

	journal_metrics_render(t, m->srv->journal);
	if (!m->answered)
		return;
	metrics_single(t, "sluice_hub_channels", "gauge",
	    "Channels with at least one subscriber.", m->channels);
	metrics_single(t, "sluice_hub_subscriptions", "gauge",
	    "Subscriptions held by the hub, over every channel.",
	    m->subscriptions);
	metrics_single(t, "sluice_presence_members", "gauge",
	    "Members (users) of presence channels, over every channel.",
	    m->members);
	metrics_single(t, "sluice_cache_channels", "gauge",
	    "Cache channels whose last event is kept (websocket."
	    "cache_channels bounds them).", m->cached);
	metrics_single(t, "sluice_cache_evicted_total", "counter",
	    "Cached events dropped for room before they expired.",
	    m->cache_evicted);
}

/*
 * GET /metrics: asks the hub for its figures on its own thread, parked
 * meanwhile, then renders (without them if the hub is closed).
 */
static enum MHD_Result
http_metrics(struct http_server *srv, struct MHD_Connection *c,
    void **con_cls)
{
	struct http_metrics *m = *con_cls;
	struct metrics_hooks hooks;
	size_t len;
	char *text;

	if (m == NULL) {
		if ((m = calloc(1, sizeof *m)) == NULL)
			return MHD_NO;
		m->kind = HTTP_CTX_METRICS;
		m->srv = srv;
		*con_cls = m;
	}
	if (!m->asked) {
		m->asked = 1;
		http_park_begin(&m->park, c);
		waitcount_add(&srv->parked);
		if (hub_query(srv->hub, http_metrics_hub, m) != SLUICE_OK) {
			http_park_done(&m->park);
			waitcount_done(&srv->parked);
		}
		if (http_park_wait(&m->park) == 0)
			return MHD_YES;
	} else if (!http_park_is_done(&m->park))
		return MHD_YES;
	memset(&hooks, 0, sizeof hooks);
	ingest_metrics_hooks(&hooks);
	hooks.render = http_metrics_extra;
	hooks.arg = m;
	text = metrics_render(&hooks, &len);
	if (text == NULL)
		return MHD_NO;
	return http_reply(c, MHD_HTTP_OK, text, len,
	    "text/plain; version=0.0.4; charset=utf-8", NULL);
}

/* Answers the GET endpoints and the errors of routing. */
static enum MHD_Result
http_dispatch_simple(struct http_server *srv, struct MHD_Connection *c,
    enum http_route route, const char *url, void **con_cls)
{
	switch (route) {
	case HTTP_ROUTE_HEALTHZ:
		return http_reply_literal(c, MHD_HTTP_OK, "{\"alive\":true}");
	case HTTP_ROUTE_READYZ:
		return http_readyz(srv, c);
	case HTTP_ROUTE_METRICS:
		return http_metrics(srv, c, con_cls);
	case HTTP_ROUTE_AUTH:
		return http_auth_serve(srv, c);
	default:
		return http_reply_error(c, MHD_HTTP_NOT_FOUND, NULL,
		    "not_found", "no resource at %s", url);
	}
}

/*
 * The bytes of body the request's head announces, for the body's
 * deadline: its Content-Length, or max_request_bytes for a chunked body;
 * never more than max_request_bytes (a larger one is refused at once).
 */
static uint64_t
http_body_expected(struct http_server *srv, struct MHD_Connection *c)
{
	uint64_t max = srv->cfg->max_request_bytes, n;
	const char *v;
	char *end;

	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (v != NULL) {
		n = strtoull(v, &end, 10);
		return end != v && n < max ? n : max;
	}
	if (MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)
		return max;
	return 0;
}

/* Counts a Transfer-Encoding header whose value is not chunked. */
static enum MHD_Result
http_transfer_encoding_each(void *cls, enum MHD_ValueKind kind,
    const char *key, const char *value)
{
	unsigned *bad = cls;

	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0 &&
	    (value == NULL || strcasecmp(value, "chunked") != 0))
		(*bad)++;
	return MHD_YES;
}

/*
 * Whether the request names a Transfer-Encoding other than chunked (in any
 * of its Transfer-Encoding headers): libmicrohttpd decodes only chunked,
 * and with another would read the body until the client closes.
 */
static int
http_transfer_encoding_bad(struct MHD_Connection *c)
{
	unsigned bad = 0;

	MHD_get_connection_values(c, MHD_HEADER_KIND,
	    http_transfer_encoding_each, &bad);
	return bad > 0;
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	enum http_ctx_kind *kind = *con_cls;
	struct http_reply_opts opts = { 0 };
	struct http_ingest *req;
	struct http_api *api;
	enum http_route route;
	enum MHD_Result ret;
	int is_get;

	(void)version;
	if (kind != NULL && *kind == HTTP_CTX_METRICS)
		return http_metrics(srv, c, con_cls);
	if (kind != NULL && *kind == HTTP_CTX_API) {
		api = *con_cls;
		if (*upload_data_size > 0) {
			ret = http_api_body(api, upload_data,
			    *upload_data_size);
			*upload_data_size = 0;
			return ret;
		}
		http_guard_body_done(srv->guard, c);
		return http_api_finish(api);
	}
	if (kind != NULL) {
		req = *con_cls;
		if (*upload_data_size > 0) {
			ret = http_ingest_body(req, upload_data,
			    *upload_data_size);
			*upload_data_size = 0;
			return ret;
		}
		http_guard_body_done(srv->guard, c);
		return http_ingest_finish(req);
	}
	/* The head is in: from now on the body's deadline, if any. */
	http_guard_head_done(srv->guard, c, http_body_expected(srv, c));
	if (http_transfer_encoding_bad(c))
		return http_reply_error(c, MHD_HTTP_BAD_REQUEST, NULL,
		    "unsupported_transfer_encoding", "Transfer-Encoding %s is "
		    "not supported; send chunked, or a Content-Length",
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_TRANSFER_ENCODING));
	if (strncmp(url, HTTP_API_PREFIX, sizeof HTTP_API_PREFIX - 1) == 0) {
		api = http_api_begin(srv, c, url, method, &ret);
		if (api == NULL)
			return ret;
		*con_cls = api;
		return MHD_YES;
	}
	route = http_route_find(url);
	if (route == HTTP_ROUTE_NONE)
		return http_static_serve(srv->statics, c, url, method);
	is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	if (route == HTTP_ROUTE_EVENTS) {
		if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0)
			return http_ingest_preflight(srv, c);
		if (strcmp(method, MHD_HTTP_METHOD_POST) == 0) {
			req = http_ingest_begin(srv, c, &ret);
			if (req == NULL)
				return ret;
			*con_cls = req;
			return MHD_YES;
		}
	} else if (is_get)
		return http_dispatch_simple(srv, c, route, url, con_cls);
	opts.allow = http_routes[route].allow;
	return http_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, &opts,
	    "method_not_allowed", "%s is not allowed on %s; use %s", method,
	    url, opts.allow);
}

static void
http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	enum http_ctx_kind *kind = *con_cls;

	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		http_guard_request_done(srv->guard, c);
	if (kind != NULL && *kind == HTTP_CTX_METRICS)
		free(*con_cls);
	else if (kind != NULL && *kind == HTTP_CTX_API) {
		http_api_free(*con_cls);
		waitcount_done(&srv->owed);
	} else if (kind != NULL) {
		http_ingest_free(*con_cls);
		/* Its answer is written (or its client gone). */
		waitcount_done(&srv->owed);
	}
	*con_cls = NULL;
}

static void
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof buf, fmt, ap);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	log_warn("http", "%s", buf);
}

/*
 * Resolves "host:port", "[v6]:port" or "*:port" into *res (freeaddrinfo).
 * Returns 0 or -1 (logged).
 */
static int
http_resolve(const char *listen, struct addrinfo **res)
{
	struct addrinfo hints;
	char host[256], err[300];
	const char *port;
	int rc;

	if (netaddr_split_listen(listen, host, sizeof host, &port, err,
	    sizeof err) == -1) {
		log_error("http", "http_listen %s", err);
		return -1;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, res);
	if (rc != 0) {
		log_error("http", "http_listen %s: %s", listen,
		    gai_strerror(rc));
		return -1;
	}
	return 0;
}

int
http_start(const struct http_deps *deps, struct http_server **out)
{
	const struct config *cfg = deps->cfg;
	struct http_server *srv;
	struct addrinfo *ai;
	const union MHD_DaemonInfo *info;
	unsigned flags;

	if (http_resolve(cfg->http_listen, &ai) == -1)
		return SLUICE_EINVAL;
	srv = calloc(1, sizeof *srv);
	if (srv == NULL) {
		freeaddrinfo(ai);
		return SLUICE_ENOMEM;
	}
	if (cfg->static_dir != NULL &&
	    http_static_open(cfg->static_dir, &srv->statics) != SLUICE_OK) {
		freeaddrinfo(ai);
		free(srv);
		return SLUICE_EINVAL;
	}
	if (http_guard_start(cfg, &srv->guard) != SLUICE_OK) {
		freeaddrinfo(ai);
		http_static_free(srv->statics);
		free(srv);
		return SLUICE_ENOMEM;
	}
	waitcount_init(&srv->parked);
	waitcount_init(&srv->owed);
	srv->cfg = cfg;
	srv->apps = deps->apps;
	srv->ingest = deps->ingest;
	srv->journal = deps->journal;
	srv->fwd = deps->fwd;
	srv->hub = deps->hub;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_TURBO;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The logger goes first so every later message reaches it. */
	srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, http_access, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, srv,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->http_threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->http_max_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->http_timeout_s,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, srv,
	    MHD_OPTION_NOTIFY_CONNECTION, http_guard_notify, srv->guard,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
	    MHD_OPTION_END);
	freeaddrinfo(ai);
	if (srv->mhd == NULL) {
		log_error("http", "cannot listen on %s", cfg->http_listen);
		http_guard_stop(srv->guard);
		http_static_free(srv->statics);
		waitcount_destroy(&srv->parked);
		waitcount_destroy(&srv->owed);
		free(srv);
		return SLUICE_EIO;
	}
	info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
	log_info("http", "listening on %s (port %u), %u threads",
	    cfg->http_listen, info != NULL ? (unsigned)info->port : 0,
	    cfg->http_threads);
	*out = srv;
	return SLUICE_OK;
}

void
http_quiesce(struct http_server *srv)
{
	MHD_socket fd;

	atomic_store(&srv->stopping, 1);
	fd = MHD_quiesce_daemon(srv->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

int
http_stop(struct http_server *srv, unsigned timeout_ms)
{
	const struct timespec grace = { 0, HTTP_STOP_GRACE_MS * 1000000L };

	atomic_store(&srv->stopping, 1);
	if (ingest_wait_idle(srv->ingest, timeout_ms) == -1 ||
	    waitcount_wait(&srv->parked, timeout_ms) == -1) {
		/* libmicrohttpd must not be stopped with a connection
		 * suspended, and the journal still holds its callback. */
		log_error("http", "requests still wait for the journal after "
		    "%u ms", timeout_ms);
		return -1;
	}
	/* Every POST owed an answer gets it written before the daemon stops
	 * (a durable event whose 202 is lost would come again, from a
	 * client retrying, as a duplicate); a client still sending its body
	 * is not waited for past timeout_ms. */
	if (waitcount_wait(&srv->owed, timeout_ms) == -1)
		log_warn("http", "requests still unanswered after %u ms; "
		    "stopping all the same", timeout_ms);
	/* A request already on its way over an open connection gets its 503
	 * rather than a reset. */
	nanosleep(&grace, NULL);
	MHD_stop_daemon(srv->mhd);
	http_guard_stop(srv->guard);
	http_static_free(srv->statics);
	waitcount_destroy(&srv->parked);
	waitcount_destroy(&srv->owed);
	free(srv);
	return 0;
}
