/*
 * ws.c: the WebSocket server: the libwebsockets context on its own listen
 * address, the service thread, the callback that routes libwebsockets'
 * events to the session code, the answer to plain HTTP requests on the
 * port, the sweep timer (pings, pong timeouts), the open-file limit, and
 * shutdown. The service thread owns every connection;
 * other threads only call lws_cancel_service().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/isotime.h"
#include "core/jsontext.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/sluice.h"
#include "ws/ws.h"
#include "ws/ws_internal.h"

#define WS_SWEEP_US		(1000 * 1000)	/* pings checked each second */
#define WS_COUNTS_US		(50 * 1000)	/* subscription counts due */
#define WS_RX_BUFFER		2048		/* per connection */
#define WS_SERV_BUF		(64 * 1024)	/* per service thread */
#define WS_CLOSE_GRACE_US	(2 * 1000 * 1000) /* for 4200 to go out */
#define WS_FD_CAP		(1 << 20)	/* libwebsockets' fd table */

/*
 * Raises RLIMIT_NOFILE to what the config asks (0: the hard limit), raising
 * the hard limit too when allowed. Returns the limit now in force.
 */
static rlim_t
ws_raise_nofile(const struct config *cfg)
{
	struct rlimit rl;
	rlim_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("ws", "getrlimit(RLIMIT_NOFILE): %m");
		return 1024;
	}
	want = cfg->ws_max_open_files != 0 ? cfg->ws_max_open_files :
	    rl.rlim_max;
	if (want > rl.rlim_max) {
		struct rlimit up = { want, want };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
			log_info("ws", "open files: limit raised to %llu",
			    (unsigned long long)want);
			return want;
		}
		log_warn("ws", "open files: max_open_files is %llu but the "
		    "hard limit is %llu and cannot be raised (%m); using %llu",
		    (unsigned long long)want, (unsigned long long)rl.rlim_max,
		    (unsigned long long)rl.rlim_max);
		want = rl.rlim_max;
	}
	if (want != rl.rlim_cur) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			log_warn("ws", "setrlimit(RLIMIT_NOFILE, %llu): %m",
			    (unsigned long long)want);
			getrlimit(RLIMIT_NOFILE, &rl);
			return rl.rlim_cur;
		}
	}
	log_info("ws", "open files: limit %llu", (unsigned long long)want);
	return want;
}

/*
 * Resolves the host of the listen address (a name or a literal; "" for
 * every address) to the numeric address libwebsockets is to bind, into
 * addr (addrlen bytes), and adds to *options what makes it bind that one
 * address only: IPv4 alone for an IPv4 address, IPv6 without the mapped
 * IPv4 addresses for an IPv6 one. "" stays "": every address, both
 * families. Returns 0, or -1 (logged).
 */
static int
ws_bind_address(const char *listen, const char *host, char *addr,
    size_t addrlen, uint64_t *options)
{
	struct addrinfo hints, *ai;
	int rc;

	addr[0] = '\0';
	if (host[0] == '\0')
		return 0;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host, NULL, &hints, &ai);
	if (rc != 0) {
		log_error("ws", "[websocket] listen %s: %s", listen,
		    gai_strerror(rc));
		return -1;
	}
	rc = getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, (socklen_t)addrlen,
	    NULL, 0, NI_NUMERICHOST);
	if (rc == 0 && ai->ai_family == AF_INET)
		*options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	else if (rc == 0)
		*options |= LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY |
		    LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE;
	freeaddrinfo(ai);
	if (rc != 0) {
		log_error("ws", "[websocket] listen %s: %s", listen,
		    gai_strerror(rc));
		return -1;
	}
	return 0;
}

/* libwebsockets writes its frame header in front of the payload. */
_Static_assert(FRAME_PRE >= LWS_PRE, "FRAME_PRE must cover LWS_PRE");

/* Set on the service thread. */
static __thread int ws_service_thread;

int
ws_on_service_thread(void)
{
	return ws_service_thread;
}

/* libwebsockets' own messages go to our log. */
static void
ws_lws_log(int level, const char *line)
{
	size_t n = strlen(line);

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (level & LLL_ERR)
		log_error("lws", "%.*s", (int)n, line);
	else
		log_warn("lws", "%.*s", (int)n, line);
}

/* The hub's wakeup: any thread. */
static void
ws_wakeup(void *arg)
{
	struct ws_server *srv = arg;

	lws_cancel_service(srv->ctx);
}

/*
 * The hub's encoder: the frame of an event in the default format and,
 * while a connection takes envelopes, the same event in the envelope
 * format as its alt (events without an envelope have none); a cache
 * channel's always, since its frame is kept for subscribers to come.
 * Each is made once and shared by every subscriber. Any thread.
 */
static struct frame *
ws_encode(const struct hub_event *ev, void *arg)
{
	struct ws_server *srv = arg;
	struct frame *f;

	f = pusher_event_frame(ev, PUSHER_FORMAT_PUSHER);
	if (f == NULL)
		return NULL;
	metrics_ws_event_frame(0);
	if (ev->envelope == NULL || (atomic_load(&srv->envelope_conns) == 0 &&
	    !channel_is_cache(ev->channel, ev->channel_len)))
		return f;
	f->alt = pusher_event_frame(ev, PUSHER_FORMAT_ENVELOPE);
	if (f->alt == NULL) {
		frame_unref(f);
		return NULL;
	}
	metrics_ws_event_frame(1);
	return f;
}

/* Closes every connection with 4200 (once). */
static void
ws_close_all(struct ws_server *srv)
{
	struct ws_conn *c;

	srv->closed_all = 1;
	srv->close_deadline_us = isotime_mono_us() + WS_CLOSE_GRACE_US;
	TAILQ_FOREACH(c, &srv->conns, entry) {
		if (c->wsi != NULL && c->close_code == 0)
			ws_session_error(c, PUSHER_SHUTTING_DOWN,
			    "the server is shutting down; reconnect", 1);
	}
}

static void
ws_sweep(lws_sorted_usec_list_t *sul)
{
	struct ws_server *srv = lws_container_of(sul, struct ws_server,
	    sweep);
	struct ws_conn *c, *next;
	int64_t now = isotime_mono_us();

	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->wsi != NULL && c->close_code == 0)
			ws_session_check_activity(c, now);
		if (c->wsi != NULL && c->close_code == 0)
			ws_user_check(c, now);
	}
	lws_sul_schedule(srv->ctx, 0, &srv->sweep, ws_sweep, WS_SWEEP_US);
}

/* The counts timer: sends the subscription counts that are due. */
static void
ws_counts(lws_sorted_usec_list_t *sul)
{
	struct ws_server *srv = lws_container_of(sul, struct ws_server,
	    counts);

	ws_channel_counts(srv);
	lws_sul_schedule(srv->ctx, 0, &srv->counts, ws_counts, WS_COUNTS_US);
}

/*
 * Answers a plain HTTP request (not a WebSocket upgrade) on the WebSocket
 * port at once, and closes the connection once the reply is out: GET or
 * HEAD /healthz gets 200 {"alive":true}, for load balancers that probe
 * this port; anything else 426 Upgrade Required with a JSON body saying
 * where to connect. Written as it is (HTTP/1.1; libwebsockets knows no
 * reason phrase for 426). Returns -1: the callback's "close".
 */
static int
ws_http_answer(struct lws *wsi)
{
	static const char upgrade[] = "{\"error\":\"upgrade_required\","
	    "\"message\":\"this port speaks WebSocket (the Pusher protocol): "
	    "connect to ws://HOST:PORT/app/KEY?protocol=7\"}";
	static const char alive[] = "{\"alive\":true}";
	unsigned char buf[LWS_PRE + 512], *out = buf + LWS_PRE;
	size_t room = sizeof buf - LWS_PRE;
	char path[64];
	const char *body;
	int n, head, probe;

	head = lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
	path[0] = '\0';
	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0)
		lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI);
	else if (head)
		lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_HEAD_URI);
	probe = strcmp(path, "/healthz") == 0;
	body = probe ? alive : upgrade;
	n = snprintf((char *)out, room, "HTTP/1.1 %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "%s"
	    "Connection: close\r\n\r\n%s",
	    probe ? "200 OK" : "426 Upgrade Required", strlen(body),
	    probe ? "" : "Upgrade: websocket\r\n", head ? "" : body);
	if (n > 0 && (size_t)n < room)
		(void)lws_write(wsi, out, (size_t)n, LWS_WRITE_HTTP_FINAL);
	return -1;
}

static int
ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct ws_conn **pss = user, *c = pss != NULL ? *pss : NULL;
	struct ws_server *srv;

	switch (reason) {
	case LWS_CALLBACK_PROTOCOL_INIT:
		srv = lws_context_user(lws_get_context(wsi));
		lws_sul_schedule(srv->ctx, 0, &srv->sweep, ws_sweep,
		    WS_SWEEP_US);
		if (srv->counted)
			lws_sul_schedule(srv->ctx, 0, &srv->counts,
			    ws_counts, WS_COUNTS_US);
		break;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		srv = lws_context_user(lws_get_context(wsi));
		hub_drain(srv->hub);
		ws_publish_drain(srv);
		if (atomic_load(&srv->closing) && !srv->closed_all)
			ws_close_all(srv);
		break;
	case LWS_CALLBACK_HTTP:
		return ws_http_answer(wsi);
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		srv = lws_context_user(lws_get_context(wsi));
		if (ws_session_origin_ok(wsi, srv->apps))
			return 0;
		lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN,
		    "origin not allowed for this app");
		return 1;
	case LWS_CALLBACK_ESTABLISHED:
		srv = lws_context_user(lws_get_context(wsi));
		c = calloc(1, sizeof *c);
		if (c == NULL)
			return -1;
		c->srv = srv;
		c->wsi = wsi;
		*pss = c;
		TAILQ_INSERT_TAIL(&srv->conns, c, entry);
		srv->nconns++;
		ws_session_open(c);
		break;
	case LWS_CALLBACK_RECEIVE:
		if (c != NULL)
			ws_session_receive(c, in, len,
			    lws_is_final_fragment(wsi) &&
			    lws_remaining_packet_payload(wsi) == 0,
			    lws_frame_is_binary(wsi));
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (c != NULL)
			return ws_session_writable(c);
		break;
	case LWS_CALLBACK_CLOSED:
		if (c != NULL) {
			*pss = NULL;
			ws_options_closed(c);
			ws_session_closed(c);
			ws_session_release(c);
		}
		break;
	default:
		break;
	}
	return 0;
}

static void *
ws_thread(void *arg)
{
	struct ws_server *srv = arg;

	ws_service_thread = 1;
	hub_enter(srv->hub);
	for (;;) {
		if (lws_service(srv->ctx, 0) < 0)
			break;
		if (srv->closed_all && (srv->nconns == 0 ||
		    isotime_mono_us() > srv->close_deadline_us))
			break;
	}
	atomic_store(&srv->exited, 1);
	return NULL;
}

/* Unlinks c from the server (its socket closed). */
static void
ws_forget(struct ws_conn *c)
{
	TAILQ_REMOVE(&c->srv->conns, c, entry);
	c->srv->nconns--;
}

void
ws_session_release(struct ws_conn *c)
{
	if (c->wsi != NULL || c->pending > 0)
		return;
	ws_forget(c);
	free(c->msg);
	free(c->user_agent);
	free(c->origin);
	free(c);
}

int
ws_start(const struct ws_deps *deps, struct ws_server **out)
{
	static const struct lws_protocols protocols[] = {
		{ "pusher", ws_callback, sizeof(struct ws_conn *), WS_RX_BUFFER,
		    0, NULL, WS_SERV_BUF },
		{ NULL, NULL, 0, 0, 0, NULL, 0 }
	};
	/*
	 * No libwebsockets keep-alive: the sweep pings at the Pusher level.
	 * Its validity timers go into one sorted list, an insertion per
	 * connection and per message that walks the whole list.
	 */
	static const lws_retry_bo_t no_keepalive = { NULL, 0, 0, 0, 0, 0 };
	const struct config *cfg = deps->cfg;
	struct lws_context_creation_info info;
	unsigned i;
	struct hub_ops ops;
	struct ws_server *srv;
	char host[256], addr[NI_MAXHOST], err[300];
	const char *port;
	uint64_t options = LWS_SERVER_OPTION_VALIDATE_UTF8 |
	    LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS |
	    LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
	rlim_t nofile;
	long portnum;

	if (netaddr_split_listen(cfg->ws_listen, host, sizeof host, &port,
	    err, sizeof err) == -1) {
		log_error("ws", "[websocket] listen %s", err);
		return SLUICE_EINVAL;
	}
	portnum = strtol(port, NULL, 10);
	if (ws_bind_address(cfg->ws_listen, host, addr, sizeof addr,
	    &options) == -1)
		return SLUICE_EINVAL;
	nofile = ws_raise_nofile(cfg);
	srv = calloc(1, sizeof *srv);
	if (srv == NULL)
		return SLUICE_ENOMEM;
	srv->cfg = cfg;
	srv->apps = deps->apps;
	srv->ingest = deps->ingest;
	srv->hub = deps->hub;
	TAILQ_INIT(&srv->conns);
	pthread_mutex_init(&srv->done_lock, NULL);
	srv->done_tail = &srv->done;
	srv->app_conns = calloc(app_count(deps->apps) + 1,
	    sizeof *srv->app_conns);
	if (srv->app_conns == NULL)
		goto nomem;

	lws_set_log_level(LLL_ERR, ws_lws_log);
	memset(&info, 0, sizeof info);
	info.port = (int)portnum;
	info.iface = addr[0] != '\0' ? addr : NULL;
	info.protocols = protocols;
	info.user = srv;
	info.options = options;
	info.pt_serv_buf_size = WS_SERV_BUF;
	info.fd_limit_per_thread = (unsigned)(nofile < WS_FD_CAP ? nofile :
	    WS_FD_CAP);
	info.count_threads = 1;
	info.timeout_secs = 10;
	info.retry_and_idle_policy = &no_keepalive;
	srv->ctx = lws_create_context(&info);
	if (srv->ctx == NULL) {
		log_error("ws", "cannot listen on %s", cfg->ws_listen);
		free(srv->app_conns);
		pthread_mutex_destroy(&srv->done_lock);
		free(srv);
		return SLUICE_EIO;
	}
	memset(&ops, 0, sizeof ops);
	ops.encode = ws_encode;
	ops.deliver = ws_session_deliver;
	ops.wakeup = ws_wakeup;
	ops.missed = ws_session_missed;
	ops.terminate = ws_session_terminate;
	ops.arg = srv;
	hub_attach(srv->hub, &ops);
	hub_limit(srv->hub, cfg->ws_inbox_frames);
	hub_cache_limit(srv->hub, cfg->ws_cache_channels);
	for (i = 0; i < app_count(srv->apps); i++) {
		if (app_by_index(srv->apps, i)->subscription_count) {
			hub_watch_counts(srv->hub, i);
			srv->counted = 1;
		}
	}
	if (pthread_create(&srv->thread, NULL, ws_thread, srv) != 0) {
		lws_context_destroy(srv->ctx);
		srv->ctx = NULL;
		goto nomem;
	}
	log_info("ws", "listening on %s, activity timeout %u s, up to %u "
	    "connections", cfg->ws_listen, cfg->ws_activity_timeout_s,
	    info.fd_limit_per_thread);
	*out = srv;
	return SLUICE_OK;
nomem:
	free(srv->app_conns);
	pthread_mutex_destroy(&srv->done_lock);
	free(srv);
	return SLUICE_ENOMEM;
}

void
ws_quiesce(struct ws_server *srv)
{
	if (srv != NULL)
		atomic_store(&srv->stopping, 1);
}

int
ws_stop(struct ws_server *srv, unsigned timeout_ms)
{
	if (srv == NULL)
		return 0;
	atomic_store(&srv->stopping, 1);
	if (ingest_wait_idle(srv->ingest, timeout_ms) == -1) {
		log_error("ws", "publishes still wait for the journal after "
		    "%u ms", timeout_ms);
		return -1;
	}
	hub_close(srv->hub);
	atomic_store(&srv->closing, 1);
	lws_cancel_service(srv->ctx);
	pthread_join(srv->thread, NULL);
	lws_context_destroy(srv->ctx);
	/* Connections that lws closed while destroying are released by
	 * their CLOSED callbacks; what remains are the pending-free ones. */
	ws_publish_discard(srv);
	free(srv->app_conns);
	pthread_mutex_destroy(&srv->done_lock);
	log_info("ws", "stopped");
	free(srv);
	return 0;
}
