/*
 * ws_session.c: one WebSocket connection's side of the Pusher protocol:
 * checking the request when it opens, reassembling and dispatching its
 * messages, its subscriptions, its send queue and how it is closed. The
 * bytes of messages being reassembled are bounded over every connection
 * (websocket.max_partial_bytes). WebSocket service thread only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "core/isotime.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/sluice.h"
#include "ws/ws_internal.h"

#define WS_CLOSE_WAIT_S		10	/* for a peer to take its close */
#define WS_WRITE_BUDGET		256	/* frames per writable callback */
#define WS_COALESCE_BYTES	(64 * 1024) /* written in one send */
#define WS_HEADER_MAX		1024	/* a header copied for envelopes */
#define WS_MSG_FIRST		4096	/* a reassembly buffer at first */
#define WS_LOG_US		(10 * 1000 * 1000) /* between like lines */

/* The app of the request's path ("/app/KEY"), or NULL: *why says what. */
static const struct config_app *
ws_session_app(struct lws *wsi, const struct app_registry *apps, int *why)
{
	char path[256];
	const char *key;

	if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) <= 0 ||
	    strncmp(path, "/app/", 5) != 0 || path[5] == '\0' ||
	    strchr(path + 5, '/') != NULL) {
		*why = PUSHER_WRONG_PATH;
		return NULL;
	}
	key = path + 5;
	*why = PUSHER_UNKNOWN_APP;
	return app_by_key(apps, key);
}

/* A copy of header h, or NULL when absent (or out of memory). */
static char *
ws_session_header(struct lws *wsi, enum lws_token_indexes h)
{
	int n = lws_hdr_total_length(wsi, h);
	char *s;

	if (n <= 0 || n > WS_HEADER_MAX)
		return NULL;
	s = malloc((size_t)n + 1);
	if (s != NULL && lws_hdr_copy(wsi, s, n + 1, h) < 0) {
		free(s);
		s = NULL;
	}
	return s;
}

int
ws_session_origin_ok(struct lws *wsi, const struct app_registry *apps)
{
	const struct config_app *app;
	char *origin;
	int why, ok = 1;

	app = ws_session_app(wsi, apps, &why);
	origin = ws_session_header(wsi, WSI_TOKEN_ORIGIN);
	/* Without an app there is nothing to check against: the session
	 * reports the bad key or path over the socket. */
	if (app != NULL && origin != NULL &&
	    !app_origin_allowed(app, origin)) {
		log_info("ws", "origin %s refused for app %s", origin, app->id);
		ok = 0;
	}
	free(origin);
	return ok;
}

/* The client address, as the HTTP side works it out. */
static void
ws_session_peer(struct ws_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	char *xff;
	int fd;

	fd = lws_get_socket_fd(c->wsi);
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sslen) == -1) {
		netaddr_client(&c->srv->cfg->trusted_proxies, NULL, NULL,
		    c->ip);
		return;
	}
	xff = ws_session_header(c->wsi, WSI_TOKEN_X_FORWARDED_FOR);
	netaddr_client(&c->srv->cfg->trusted_proxies, (struct sockaddr *)&ss,
	    xff, c->ip);
	free(xff);
}

/* Checks the protocol query argument: 0, or the close code. */
static int
ws_session_protocol(struct lws *wsi, char *msg, size_t msglen)
{
	char buf[32], *end;
	const char *arg;
	long v;

	/* The value is returned past the name, inside buf. */
	arg = lws_get_urlarg_by_name(wsi, "protocol=", buf, sizeof buf);
	if (arg == NULL || *arg == '\0') {
		snprintf(msg, msglen, "the protocol query argument is "
		    "missing: connect to /app/KEY?protocol=%d",
		    PUSHER_PROTOCOL);
		return PUSHER_BAD_PROTOCOL;
	}
	v = strtol(arg, &end, 10);
	if (*end != '\0' || end == arg) {
		snprintf(msg, msglen, "protocol \"%s\" is not a number", arg);
		return PUSHER_BAD_PROTOCOL;
	}
	if (v != PUSHER_PROTOCOL) {
		snprintf(msg, msglen, "protocol %ld is not supported; this "
		    "server speaks protocol %d", v, PUSHER_PROTOCOL);
		return PUSHER_UNSUPPORTED_PROTOCOL;
	}
	return 0;
}

void
ws_session_open(struct ws_conn *c)
{
	struct ws_server *srv = c->srv;
	const struct config *cfg = srv->cfg;
	const struct config_app *app;
	char msg[160], data[128];
	size_t idx;
	int code, n;

	c->last_rx_us = isotime_mono_us();
	c->opened_us = c->last_rx_us;
	metrics_ws_opened();
	if (atomic_load(&srv->closing)) {
		ws_session_error(c, PUSHER_SHUTTING_DOWN, "the server is "
		    "shutting down; reconnect", 1);
		return;
	}
	app = ws_session_app(c->wsi, srv->apps, &code);
	if (app == NULL) {
		ws_session_error(c, code, code == PUSHER_WRONG_PATH ?
		    "connect to /app/KEY?protocol=7" : "no app has this key",
		    1);
		return;
	}
	if (!app->enabled) {
		snprintf(msg, sizeof msg, "app %s is disabled", app->id);
		ws_session_error(c, PUSHER_APP_DISABLED, msg, 1);
		return;
	}
	code = ws_session_protocol(c->wsi, msg, sizeof msg);
	if (code != 0) {
		ws_session_error(c, code, msg, 1);
		return;
	}
	idx = app_index(srv->apps, app);
	if (srv->app_conns[idx] >= app->max_connections) {
		snprintf(msg, sizeof msg, "app %s has its %u connections "
		    "already", app->id, app->max_connections);
		ws_session_error(c, PUSHER_OVER_QUOTA, msg, 1);
		return;
	}
	srv->app_conns[idx]++;
	c->app = app;
	c->app_index = (unsigned)idx;
	c->user_agent = ws_session_header(c->wsi, WSI_TOKEN_HTTP_USER_AGENT);
	c->origin = ws_session_header(c->wsi, WSI_TOKEN_ORIGIN);
	ws_session_peer(c);
	ratelimit_init(&c->bucket, cfg->ws_publish_burst, c->last_rx_us);
	ratelimit_init(&c->client_bucket, app->client_event_burst,
	    c->last_rx_us);
	pusher_socket_id(c->socket_id);
	n = snprintf(data, sizeof data, "{\"socket_id\":\"%s\","
	    "\"activity_timeout\":%u}", c->socket_id,
	    cfg->ws_activity_timeout_s);
	ws_session_message_out(c, "pusher:connection_established", NULL,
	    data, (size_t)n, 1);
	ws_options_open(c);
}

void
ws_session_send(struct ws_conn *c, const char *text, size_t len)
{
	struct frame *f;

	if (c->wsi == NULL || c->close_code != 0)
		return;
	f = frame_new(text, len, 0);
	if (f == NULL) {
		log_warn("ws", "out of memory: closing %s", c->socket_id);
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
		return;
	}
	ws_session_deliver(c, f);
	frame_unref(f);
}

void
ws_session_message_out(struct ws_conn *c, const char *event,
    const char *channel, const char *data, size_t len, int as_string)
{
	struct jsontext b;

	memset(&b, 0, sizeof b);
	pusher_put_message(&b, event, strlen(event), channel,
	    channel != NULL ? strlen(channel) : 0, data, len, as_string);
	if (!b.failed)
		ws_session_send(c, b.p, b.len);
	free(b.p);
}

/* Queues f whatever the queue holds (the last words of a connection). */
static void
ws_session_push_last(struct ws_conn *c, const char *text, size_t len)
{
	struct frame *f;

	f = frame_new(text, len, 0);
	if (f != NULL) {
		if (sendq_push(&c->q, f, SIZE_MAX) == SLUICE_OK &&
		    c->q.count == 1)
			lws_callback_on_writable(c->wsi);
		frame_unref(f);
	}
}

void
ws_session_error(struct ws_conn *c, int code, const char *message, int close)
{
	struct jsontext b;

	if (c->wsi == NULL || c->close_code != 0)
		return;
	memset(&b, 0, sizeof b);
	pusher_put_error(&b, code, message);
	if (!close) {
		if (!b.failed)
			ws_session_send(c, b.p, b.len);
		free(b.p);
		return;
	}
	if (!b.failed)
		ws_session_push_last(c, b.p, b.len);
	free(b.p);
	c->close_code = (uint16_t)code;
	metrics_ws_close(code);
	lws_callback_on_writable(c->wsi);
	/* A peer that does not read never takes its close frame. */
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, WS_CLOSE_WAIT_S);
}

void
ws_session_deliver(void *conn, struct frame *f)
{
	struct ws_conn *c = conn;
	char msg[160];
	int rc;

	if (c->wsi == NULL || c->close_code != 0)
		return;
	/* The HTTP API's socket_id: the connection that caused the event. */
	if (f->except_socket != NULL && strcmp(f->except_socket,
	    c->socket_id) == 0)
		return;
	/* An event in the format c takes, when it was made (ws_options.c). */
	if (c->format == PUSHER_FORMAT_ENVELOPE && f->alt != NULL)
		f = f->alt;
	rc = sendq_push(&c->q, f, c->srv->cfg->ws_send_queue_bytes);
	if (rc == SLUICE_OK) {
		if (c->q.count == 1)
			lws_callback_on_writable(c->wsi);
		return;
	}
	/* A slow consumer: what it has not taken is dropped, and it goes,
	 * so that it holds no more memory and the others go on. */
	snprintf(msg, sizeof msg, "over capacity: more than %zu bytes "
	    "waited to be sent; reconnect and read faster",
	    c->srv->cfg->ws_send_queue_bytes);
	log_info("ws", "%s (app %s, %s) is a slow consumer: closed",
	    c->socket_id, c->app != NULL ? c->app->id : "-", c->ip);
	sendq_clear(&c->q);
	metrics_ws_slow_consumer();
	(void)rc;		/* full, or out of memory: the same cure */
	ws_session_error(c, PUSHER_OVER_CAPACITY, msg, 1);
}

void
ws_session_missed(void *conn)
{
	struct ws_conn *c = conn;

	if (c->wsi == NULL || c->close_code != 0)
		return;
	/* What it has queued is older than the gap: it may go first. */
	metrics_ws_missed_close();
	ws_session_error(c, PUSHER_OVER_CAPACITY, "over capacity: live "
	    "events of your channels were dropped while the server was "
	    "behind; reconnect", 1);
}

void
ws_session_terminate(void *conn)
{
	struct ws_conn *c = conn;

	if (c->wsi == NULL || c->close_code != 0)
		return;
	log_info("ws", "%s (app %s, %s): connections of user %s terminated "
	    "by the app's server", c->socket_id, c->app != NULL ? c->app->id :
	    "-", c->ip, c->user_id != NULL ? c->user_id : "-");
	ws_session_error(c, PUSHER_UNAUTHORIZED, "connection terminated by "
	    "the app's server", 1);
}

/* Counts one frame written: bytes, and the fan-out latency of events. */
static void
ws_session_written(const struct frame *f, int64_t *now)
{
	metrics_ws_frame_out(f->len);
	if (f->accepted_us != 0) {
		if (*now == 0)
			*now = isotime_mono_us();
		metrics_fanout_delivered((uint64_t)(*now - f->accepted_us));
	}
}

/* Writes the WebSocket header of a final text frame of len bytes into p;
 * returns its size. */
static size_t
ws_session_header_put(unsigned char *p, size_t len)
{
	p[0] = 0x81;		/* FIN, text */
	if (len < 126) {
		p[1] = (unsigned char)len;
		return 2;
	}
	if (len < 65536) {
		p[1] = 126;
		p[2] = (unsigned char)(len >> 8);
		p[3] = (unsigned char)len;
		return 4;
	}
	p[1] = 127;
	p[2] = p[3] = p[4] = p[5] = 0;
	p[6] = (unsigned char)(len >> 24);
	p[7] = (unsigned char)(len >> 16);
	p[8] = (unsigned char)(len >> 8);
	p[9] = (unsigned char)len;
	return 10;
}

/*
 * Writes the frames at the head of c's queue, several in one send: each
 * is framed here and copied into one buffer that goes out as it is (small
 * frames are most of the fan-out, and a send per frame is what costs).
 * A frame too large for the buffer goes alone through lws_write. Returns
 * 0, or -1 when the connection failed.
 */
static int
ws_session_write_some(struct ws_conn *c)
{
	static unsigned char buf[LWS_PRE + WS_COALESCE_BYTES];
	unsigned char *out = buf + LWS_PRE;
	struct frame *f;
	int64_t now = 0;
	size_t used = 0, hlen = 0;
	int budget = WS_WRITE_BUDGET;

	while ((f = sendq_peek(&c->q)) != NULL && budget-- > 0) {
		if (f->len + 10 > WS_COALESCE_BYTES - used) {
			if (used > 0)
				break;
			if (lws_write(c->wsi, frame_payload(f), f->len,
			    LWS_WRITE_TEXT) < (int)f->len)
				return -1;
			ws_session_written(f, &now);
			sendq_pop(&c->q);
			return 0;
		}
		hlen = ws_session_header_put(out + used, f->len);
		memcpy(out + used + hlen, frame_payload(f), f->len);
		used += hlen + f->len;
		ws_session_written(f, &now);
		sendq_pop(&c->q);
	}
	/* Whole frames, framed above: libwebsockets sends the bytes as they
	 * are, and keeps what the socket does not take for later. */
	if (used > 0 && lws_write(c->wsi, out, used, LWS_WRITE_HTTP) <
	    (int)used)
		return -1;
	return 0;
}

int
ws_session_writable(struct ws_conn *c)
{
	const char *reason;

	if (ws_session_write_some(c) == -1)
		return -1;
	if (c->q.count > 0) {
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (c->close_code == 0)
		return 0;
	reason = pusher_close_reason(c->close_code);
	lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
	    (unsigned char *)reason, strlen(reason));
	return -1;
}

/* Frees c's reassembly buffer and takes it off the server's total. */
static void
ws_session_msg_free(struct ws_conn *c)
{
	c->srv->partial_bytes -= c->msg_cap;
	metrics_ws_partial_bytes(-(int64_t)c->msg_cap);
	free(c->msg);
	c->msg = NULL;
	c->msg_cap = 0;
}

/*
 * Grows c's reassembly buffer to hold need bytes (at most limit), within
 * what every connection's partial messages may hold together. Returns 0,
 * or -1 when it cannot (c is then closed with 4100, or told it ran out of
 * memory).
 */
static int
ws_session_msg_grow(struct ws_conn *c, size_t need, size_t limit)
{
	struct ws_server *srv = c->srv;
	size_t bound = srv->cfg->ws_max_partial_bytes, cap;
	int64_t now;
	char msg[200];
	char *p;

	cap = c->msg_cap == 0 ? WS_MSG_FIRST : c->msg_cap;
	while (cap < need)
		cap *= 2;
	if (cap > limit)
		cap = limit;
	if (cap - c->msg_cap > bound - srv->partial_bytes) {
		/* Refusing this one keeps the others whole. */
		metrics_ws_partial_refused();
		srv->partial_refused++;
		now = isotime_mono_us();
		if (srv->partial_logged_us == 0 ||
		    now - srv->partial_logged_us >= WS_LOG_US) {
			log_warn("ws", "partial messages hold %zu bytes of "
			    "max_partial_bytes %zu: %s (app %s, %s) closed "
			    "with 4100 (%llu so far)", srv->partial_bytes,
			    bound, c->socket_id, c->app->id, c->ip,
			    (unsigned long long)srv->partial_refused);
			srv->partial_logged_us = now;
		}
		ws_session_msg_free(c);
		c->msg_len = 0;
		snprintf(msg, sizeof msg, "over capacity: the server holds "
		    "as many bytes of messages still arriving as it may "
		    "(%zu); send whole messages, or reconnect later", bound);
		ws_session_error(c, PUSHER_OVER_CAPACITY, msg, 1);
		return -1;
	}
	p = realloc(c->msg, cap);
	if (p == NULL) {
		ws_session_error(c, 0, "out of memory", 0);
		return -1;
	}
	srv->partial_bytes += cap - c->msg_cap;
	metrics_ws_partial_bytes((int64_t)(cap - c->msg_cap));
	c->msg = p;
	c->msg_cap = cap;
	return 0;
}

/* Handles one whole message. */
static void
ws_session_message(struct ws_conn *c, const char *text, size_t len)
{
	struct pusher_msg m;
	char err[200];

	if (pusher_msg_parse(text, len, &m, err, sizeof err) == -1) {
		ws_session_error(c, 0, err, 0);
		pusher_msg_free(&m);
		return;
	}
	if (strcmp(m.event, "pusher:ping") == 0)
		ws_session_message_out(c, "pusher:pong", NULL, "{}", 2, 0);
	else if (strcmp(m.event, "pusher:pong") == 0)
		;			/* the activity is what counts */
	else if (strcmp(m.event, "pusher:subscribe") == 0)
		ws_channel_subscribe(c, m.data);
	else if (strcmp(m.event, "pusher:unsubscribe") == 0)
		ws_channel_unsubscribe(c, m.data);
	else if (strcmp(m.event, "pusher:signin") == 0)
		ws_user_signin(c, m.data);
	else if (strcmp(m.event, "sluice:publish") == 0)
		ws_publish(c, m.data);
	else if (strcmp(m.event, "sluice:options") == 0)
		ws_options(c, m.data);
	else if (strncmp(m.event, "client-", 7) == 0)
		ws_client_event(c, &m);
	else {
		snprintf(err, sizeof err, "unknown event \"%.100s\"", m.event);
		ws_session_error(c, 0, err, 0);
	}
	pusher_msg_free(&m);
}

void
ws_session_receive(struct ws_conn *c, const void *in, size_t len, int final,
    int binary)
{
	size_t limit = c->srv->cfg->ws_max_message_bytes;
	char msg[160];

	c->last_rx_us = isotime_mono_us();
	c->ping_sent_us = 0;
	if (c->app == NULL || c->close_code != 0)
		return;
	if (!c->discarding && (binary || len > limit - c->msg_len)) {
		c->discarding = binary ? WS_DISCARD_BINARY :
		    WS_DISCARD_TOO_LARGE;
		ws_session_msg_free(c);
	}
	if (c->discarding) {
		c->msg_len += len;
		if (!final)
			return;
		if (c->discarding == WS_DISCARD_BINARY)
			snprintf(msg, sizeof msg, "binary messages are not "
			    "part of the protocol; send JSON text");
		else
			snprintf(msg, sizeof msg, "a message of %zu bytes is "
			    "over the limit of %zu bytes; it was dropped",
			    c->msg_len, limit);
		c->discarding = 0;
		c->msg_len = 0;
		ws_session_error(c, 0, msg, 0);
		return;
	}
	if (final && c->msg_len == 0) {
		/* Whole in one piece: no copy. */
		metrics_ws_frame_in(len);
		ws_session_message(c, in, len);
		return;
	}
	if (c->msg_len + len > c->msg_cap &&
	    ws_session_msg_grow(c, c->msg_len + len, limit) == -1) {
		c->msg_len = 0;
		c->discarding = final || c->close_code != 0 ? 0 :
		    WS_DISCARD_TOO_LARGE;
		return;
	}
	memcpy(c->msg + c->msg_len, in, len);
	c->msg_len += len;
	if (!final)
		return;
	metrics_ws_frame_in(c->msg_len);
	ws_session_message(c, c->msg, c->msg_len);
	c->msg_len = 0;
	/* An idle connection holds no buffer: the bound is for messages
	 * in flight. */
	ws_session_msg_free(c);
}

void
ws_session_check_activity(struct ws_conn *c, int64_t now_us)
{
	const struct config *cfg = c->srv->cfg;
	char msg[96];

	if (c->ping_sent_us != 0) {
		if (now_us - c->ping_sent_us >=
		    (int64_t)cfg->ws_pong_timeout_s * 1000000) {
			snprintf(msg, sizeof msg, "no pong within %u s of the "
			    "server's ping", cfg->ws_pong_timeout_s);
			ws_session_error(c, PUSHER_PONG_TIMEOUT, msg, 1);
		}
		return;
	}
	if (now_us - c->last_rx_us >=
	    (int64_t)cfg->ws_activity_timeout_s * 1000000) {
		ws_session_message_out(c, "pusher:ping", NULL, "{}", 2, 0);
		c->ping_sent_us = now_us;
	}
}

void
ws_session_closed(struct ws_conn *c)
{
	struct ws_server *srv = c->srv;

	/* The members it was leave: the others are told. */
	ws_channel_leave_all(c);
	free(c->user_id);
	c->user_id = NULL;
	sendq_clear(&c->q);
	ws_session_msg_free(c);
	c->msg_len = 0;
	if (c->app != NULL)
		srv->app_conns[c->app_index]--;
	metrics_ws_closed();
	c->wsi = NULL;
}
