/*
 * wsload_conn.c: wsload's worker threads and the WebSocket connections
 * they own. Each worker opens its share of connections (a few handshakes
 * at a time, from 127.0.0.x source addresses if asked), speaks the Pusher
 * protocol on them (connection_established, subscribe, ping/pong) and, by
 * mode: counts fan-out deliveries and their latency and order, holds the
 * connections idle, publishes batches with sluice:publish and counts
 * the acks, or hands the presence modes' messages and timers to
 * wsload_presence.c.
 *
 * Threads: a worker and its connections belong to the worker's thread;
 * it shares only the atomics of wsload.h with the others.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wsload.h"

#define RBUF_SIZE	(256u * 1024)
#define READ_MIN	65536
#define EVENTS_MAX	512
#define DATA_VARIANTS	16

static char	*data_variant[DATA_VARIANTS];
static size_t	 data_variant_len[DATA_VARIANTS];
static pthread_once_t data_once = PTHREAD_ONCE_INIT;

/*
 * The "data" of ingested events: a page view with the fields an analytics
 * client sends, about 300 bytes, in a few variants.
 */
static void
data_init(void)
{
	static const char *items[] = { "shoes", "jackets", "garden",
	    "kitchen", "books", "toys", "audio", "bikes" };
	static const char *langs[] = { "en-GB", "fr-FR", "de-DE", "nl-NL" };
	char buf[512];
	unsigned i;
	int n;

	for (i = 0; i < DATA_VARIANTS; i++) {
		n = snprintf(buf, sizeof buf,
		    "{\"url\":\"https://shop.example.com/catalog/%s/item-%u"
		    "?utm_source=newsletter&utm_medium=email\","
		    "\"referrer\":\"https://www.search.example/?q=%s+sale\","
		    "\"title\":\"%s - Example Shop\","
		    "\"session\":\"%08x%08x\",\"user\":\"u-%06u\","
		    "\"screen\":\"1920x1080\",\"lang\":\"%s\","
		    "\"price\":%u.%02u,\"quantity\":%u}",
		    items[i % 8], 2000 + i * 53, items[(i + 5) % 8],
		    items[(i + 3) % 8], 0x6a09e667u ^ i * 2654435761u,
		    0xbb67ae85u + i * 40503u, 300000 + i * 7919,
		    langs[i % 4], 9 + i * 7 % 150, (i * 29) % 100, 1 + i % 4);
		if (n < 0 || (size_t)n >= sizeof buf)
			fatal("data template too long");
		data_variant[i] = strdup(buf);
		if (data_variant[i] == NULL)
			fatal("out of memory");
		data_variant_len[i] = (size_t)n;
	}
}

/* Grows *buf to at least need bytes (doubling); dies when out of memory. */
static void
buf_reserve(char **buf, size_t *cap, size_t need)
{
	size_t ncap;
	char *p;

	if (need <= *cap)
		return;
	ncap = *cap != 0 ? *cap : 256;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*buf, ncap);
	if (p == NULL)
		fatal("out of memory");
	*buf = p;
	*cap = ncap;
}

static char *
put_str(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

#define PUT_LIT(p, s)	put_str((p), (s), sizeof(s) - 1)

/* Adds or changes c's socket in the worker's epoll set. */
static void
conn_epoll(struct wl_conn *c, int op, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	ev.events = events;
	ev.data.u64 = (uint64_t)c->gen << 32 | c->slot;
	if (epoll_ctl(c->w->ep, op, c->fd, &ev) == -1)
		fatal("epoll_ctl: %s", strerror(errno));
}

/* Takes c out of its worker's handshakes under way, if it was in. */
static void
conn_opened(struct wl_conn *c)
{
	if (c->opening) {
		c->opening = 0;
		c->w->opening--;
	}
}

/* Counts close code code. */
static void
stats_close(struct wl_stats *st, unsigned code)
{
	unsigned i;

	st->closes++;
	for (i = 0; i < WL_CLOSE_CODES; i++) {
		if (st->close_count[i] == 0 || st->close_code[i] == code) {
			st->close_code[i] = code;
			st->close_count[i]++;
			return;
		}
	}
}

/*
 * Closes c for good: what it had in flight is abandoned, and a connection
 * that was ready counts as lost.
 */
static void
conn_close(struct wl_conn *c)
{
	struct wl_worker *w = c->w;

	if (c->fd != -1) {
		epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	conn_opened(c);
	if (c->st == CS_READY)
		atomic_fetch_add(&wl_closed, 1);
	else if (c->st != CS_CLOSED)
		atomic_fetch_add(&wl_failed, 1);
	if (c->nfl > 0)
		atomic_fetch_sub(&wl_inflight, c->nfl);
	c->nfl = 0;
	c->st = CS_CLOSED;
	free(c->out);
	free(c->in);
	c->out = c->in = NULL;
	c->out_len = c->out_off = c->out_cap = c->in_len = c->in_cap = 0;
	wsc_msg_free(&c->msg);
}

/* A connection lost without a close frame (or a protocol error). */
static void
conn_fail(struct wl_conn *c, const char *why)
{
	struct wl_worker *w = c->w;

	if (c->st != CS_CLOSED && c->fd != -1 &&
	    atomic_load(&wl_phase) < WL_STOP) {
		w->st.drops++;
		if (w->st.drops <= 3)
			fprintf(stderr, "wsload: connection %u: %s\n",
			    c->index, why);
	}
	conn_close(c);
}

/* Writes what c has queued; returns -1 if c was closed. */
static int
conn_flush(struct wl_conn *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (!c->want_out) {
				c->want_out = 1;
				conn_epoll(c, EPOLL_CTL_MOD, EPOLLIN |
				    EPOLLOUT);
			}
			return 0;
		}
		conn_fail(c, n == 0 ? "write returned 0" : strerror(errno));
		return -1;
	}
	c->out_len = c->out_off = 0;
	if (c->out_cap > RBUF_SIZE) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
	if (c->want_out) {
		c->want_out = 0;
		conn_epoll(c, EPOLL_CTL_MOD, EPOLLIN);
	}
	return 0;
}

/* Queues a frame of opcode with payload and writes; -1 if c was closed. */
static int
conn_send(struct wl_conn *c, unsigned opcode, const char *payload,
    size_t len)
{
	uint32_t mask = (uint32_t)wl_random(&c->w->rng);

	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_len = c->out_off = 0;
	buf_reserve(&c->out, &c->out_cap, c->out_len + wsc_frame_size(len));
	c->out_len += wsc_frame_put(c->out + c->out_len, opcode, payload,
	    len, mask);
	if (c->want_out)
		return 0;
	return conn_flush(c);
}

#define SEND_LIT(c, s)	conn_send((c), WSC_TEXT, (s), sizeof(s) - 1)

/* Starts connecting c (non-blocking), from a 127.0.0.x source address
 * when asked; dies if the system refuses a socket. */
static void
conn_connect(struct wl_conn *c)
{
	const struct sockaddr_storage *to = &wl_opt.ws_addr;
	struct sockaddr_in src;
	int one = 1;

	c->fd = socket(to->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		fatal("socket: %s", strerror(errno));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (wl_opt.sources > 0 && to->ss_family == AF_INET) {
		/* The port is picked at connect(), per 4-tuple. */
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof one);
		memset(&src, 0, sizeof src);
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(0x7f000002u +
		    c->index % wl_opt.sources);
		if (bind(c->fd, (struct sockaddr *)&src, sizeof src) == -1)
			fatal("bind 127.0.0.%u: %s",
			    2 + c->index % wl_opt.sources, strerror(errno));
	}
	c->gen++;
	c->st = CS_CONNECTING;
	c->opening = 1;
	c->w->opening++;
	if (connect(c->fd, (const struct sockaddr *)to, wl_opt.ws_addrlen) ==
	    -1 && errno != EINPROGRESS)
		fatal("connect: %s", strerror(errno));
	conn_epoll(c, EPOLL_CTL_ADD, EPOLLOUT);
}

/* The TCP connection is up: sends the opening handshake. */
static void
conn_handshake(struct wl_conn *c)
{
	unsigned char r[16];
	uint64_t a, b;
	char req[1024], path[512];
	size_t len;

	a = wl_random(&c->w->rng);
	b = wl_random(&c->w->rng);
	memcpy(r, &a, 8);
	memcpy(r + 8, &b, 8);
	wsc_key_make(&c->key, r);
	snprintf(path, sizeof path,
	    "/app/%s?protocol=7&client=wsload&version=1.0%s%s", wl_opt.key,
	    wl_opt.query != NULL ? "&" : "",
	    wl_opt.query != NULL ? wl_opt.query : "");
	len = wsc_request(req, sizeof req, wl_opt.ws_host, path, &c->key);
	if (len == 0)
		fatal("handshake request too long");
	c->st = CS_HANDSHAKE;
	conn_epoll(c, EPOLL_CTL_MOD, EPOLLIN);
	buf_reserve(&c->out, &c->out_cap, len);
	memcpy(c->out, req, len);
	c->out_len = len;
	c->out_off = 0;
	conn_flush(c);
}

/* Builds the next publish of c into its worker's scratch; returns its length. */
static size_t
conn_build_publish(struct wl_conn *c, uint64_t ref)
{
	struct wl_worker *w = c->w;
	size_t one = 96 + strlen(wl_opt.event_name) + strlen(wl_opt.prefix) +
	    data_variant_len[0];
	unsigned i, v;
	char *p;

	buf_reserve(&w->scratch, &w->scratch_cap, 128 + wl_opt.batch *
	    (one + 1));
	p = w->scratch;
	p = PUT_LIT(p, "{\"event\":\"sluice:publish\",\"data\":{\"ref\":\"");
	p = wl_put_uint(p, ref);
	p = PUT_LIT(p, "\",\"events\":[");
	for (i = 0; i < wl_opt.batch; i++) {
		v = (unsigned)(c->ev_seq % DATA_VARIANTS);
		if (i > 0)
			*p++ = ',';
		p = PUT_LIT(p, "{\"event\":\"");
		p = put_str(p, wl_opt.event_name, strlen(wl_opt.event_name));
		p = PUT_LIT(p, "\",\"id\":\"");
		p = put_str(p, wl_opt.prefix, strlen(wl_opt.prefix));
		*p++ = '-';
		p = wl_put_uint(p, c->index);
		*p++ = '-';
		p = wl_put_uint(p, c->ev_seq++);
		p = PUT_LIT(p, "\",\"data\":");
		p = put_str(p, data_variant[v], data_variant_len[v]);
		*p++ = '}';
	}
	p = PUT_LIT(p, "]}}");
	return (size_t)(p - w->scratch);
}

/* Ingest: fills c's window of publishes while the run is on. */
static void
conn_publish(struct wl_conn *c)
{
	struct wl_worker *w = c->w;
	size_t len;
	int ph;

	while (c->st == CS_READY && c->nfl < wl_opt.window) {
		ph = atomic_load_explicit(&wl_phase, memory_order_relaxed);
		if (ph != WL_WARMUP && ph != WL_MEASURE)
			return;
		len = conn_build_publish(c, c->ref);
		c->fl[c->nfl].ref = c->ref++;
		c->fl[c->nfl].t_ns = now_ns();
		c->fl[c->nfl].n = wl_opt.batch;
		c->nfl++;
		atomic_fetch_add(&wl_inflight, 1);
		w->st.events_sent += wl_opt.batch;
		if (conn_send(c, WSC_TEXT, w->scratch, len) == -1)
			return;
	}
}

/* The name of the Pusher event of message m; NULL if it has none. */
static const char *
msg_event(const char *m, size_t len, size_t *nlen)
{
	const char *p, *q;

	p = memmem(m, len, "\"event\":\"", 9);
	if (p == NULL)
		return NULL;
	p += 9;
	q = memchr(p, '"', len - (size_t)(p - m));
	if (q == NULL)
		return NULL;
	*nlen = (size_t)(q - p);
	return p;
}

static int
name_is(const char *name, size_t nlen, const char *s)
{
	return nlen == strlen(s) && memcmp(name, s, nlen) == 0;
}

/* Fanout: one delivery of the publisher's events. */
void
wl_conn_delivered(struct wl_stats *st, uint64_t *next, uint64_t seq,
    uint64_t t, uint64_t now)
{
	if (seq == *next)
		(*next)++;
	else if (seq > *next) {
		st->lost += seq - *next;
		*next = seq + 1;
	} else
		st->reordered++;
	st->deliveries_total++;
	if (atomic_load_explicit(&wl_phase, memory_order_relaxed) ==
	    WL_MEASURE) {
		st->deliveries++;
		lat_hist_record(&st->lat, now > t ? (now - t) / 1000 : 0);
	}
}

static void
conn_delivery(struct wl_conn *c, const char *m, size_t len)
{
	struct wl_stats *st = &c->w->st;
	int64_t seq, t;
	uint64_t now = c->w->now;

	seq = wl_find_uint(m, len, "wsload_seq");
	t = wl_find_uint(m, len, "wsload_t");
	if (seq < 0 || t < 0) {
		st->bad_deliveries++;
		return;
	}
	c->seen++;
	wl_conn_delivered(st, &c->next_seq, (uint64_t)seq, (uint64_t)t, now);
}

/* Ingest: a sluice:ack or sluice:nack. */
static void
conn_ack(struct wl_conn *c, const char *m, size_t len, int nack)
{
	struct wl_stats *st = &c->w->st;
	const char *p, *end;
	uint64_t ids = 0, now = c->w->now;
	int64_t ref;
	unsigned i;

	ref = wl_find_uint(m, len, "ref");
	p = memmem(m, len, "ids\\\":[", 7);
	if (p != NULL) {
		p += 7;
		end = memchr(p, ']', len - (size_t)(p - m));
		for (; end != NULL && p + 1 < end; p++)
			if (p[0] == '\\' && p[1] == '"')
				ids++;
		ids /= 2;
	}
	for (i = 0; i < c->nfl; i++)
		if (ref >= 0 && c->fl[i].ref == (uint64_t)ref)
			break;
	if (i == c->nfl) {
		st->protocol_errors++;
		if (st->protocol_errors <= 3)
			fprintf(stderr, "wsload: an ack for no publish: %.*s\n",
			    (int)(len < 300 ? len : 300), m);
		return;
	}
	if (nack) {
		st->nacks++;
		if (st->nacks <= 3)
			fprintf(stderr, "wsload: connection %u: %.*s\n",
			    c->index, (int)(len < 400 ? len : 400), m);
	}
	st->events_acked += ids;
	if (atomic_load_explicit(&wl_phase, memory_order_relaxed) ==
	    WL_MEASURE) {
		st->batches++;
		st->events += ids;
		lat_hist_record(&st->lat, (now - c->fl[i].t_ns) / 1000);
	}
	c->fl[i] = c->fl[--c->nfl];
	atomic_fetch_sub(&wl_inflight, 1);
	conn_publish(c);
}

/* The connection is open: subscribes, or is ready. */
static void
conn_established(struct wl_conn *c)
{
	char sub[512];
	int n;

	if (c->st != CS_OPEN)
		return;
	atomic_fetch_add(&wl_established, 1);
	if (wl_opt.mode == WL_ARENA || wl_opt.mode == WL_CHURN) {
		c->st = CS_SUBSCRIBING;
		wl_presence_subscribe(c);
		return;
	}
	if (wl_opt.mode == WL_FANOUT) {
		n = snprintf(sub, sizeof sub, "{\"event\":\"pusher:subscribe\","
		    "\"data\":{\"channel\":\"%s\"}}", wl_opt.channel);
		c->st = CS_SUBSCRIBING;
		conn_send(c, WSC_TEXT, sub, (size_t)n);
		return;
	}
	wl_conn_ready(c);
	if (wl_opt.mode == WL_INGEST && c->w->kicked)
		conn_publish(c);
}

/* One whole text message; returns -1 if c was closed. */
static int
conn_message(struct wl_conn *c, const char *m, size_t len)
{
	struct wl_stats *st = &c->w->st;
	const char *name;
	size_t nlen;
	int rc;

	name = msg_event(m, len, &nlen);
	if (name == NULL) {
		st->other++;
		return 0;
	}
	if (wl_opt.mode == WL_ARENA || wl_opt.mode == WL_CHURN) {
		rc = wl_presence_message(c, name, nlen, m, len);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
	if (wl_opt.mode == WL_FANOUT && name_is(name, nlen,
	    wl_opt.event_name))
		conn_delivery(c, m, len);
	else if (name_is(name, nlen, "sluice:ack"))
		conn_ack(c, m, len, 0);
	else if (name_is(name, nlen, "sluice:nack"))
		conn_ack(c, m, len, 1);
	else if (name_is(name, nlen, "pusher:connection_established"))
		conn_established(c);
	else if (name_is(name, nlen, "pusher_internal:subscription_succeeded")) {
		if (c->st == CS_SUBSCRIBING)
			wl_conn_ready(c);
	} else if (name_is(name, nlen, "pusher:ping")) {
		st->pings++;
		return SEND_LIT(c, "{\"event\":\"pusher:pong\",\"data\":{}}");
	} else if (name_is(name, nlen, "pusher:error") ||
	    name_is(name, nlen, "pusher:subscription_error")) {
		st->pusher_errors++;
		if (st->pusher_errors <= 3)
			fprintf(stderr, "wsload: connection %u: %.*s\n",
			    c->index, (int)(len < 300 ? len : 300), m);
		if (c->st == CS_SUBSCRIBING) {
			conn_fail(c, "subscription refused");
			return -1;
		}
	} else
		st->other++;
	return 0;
}

/* One frame; returns -1 if c was closed. */
static int
conn_frame(struct wl_conn *c, const struct wsc_frame *f)
{
	const char *m;
	size_t len;
	unsigned code;
	int rc;

	switch (f->opcode) {
	case WSC_PING:
		c->w->st.pings++;
		return conn_send(c, WSC_PONG, f->payload, f->len);
	case WSC_PONG:
		return 0;
	case WSC_CLOSE:
		code = f->len >= 2 ? (unsigned)(unsigned char)f->payload[0] << 8 |
		    (unsigned char)f->payload[1] : 1005;
		if (atomic_load(&wl_phase) < WL_STOP) {
			stats_close(&c->w->st, code);
			if (c->w->st.closes <= 3)
				fprintf(stderr, "wsload: connection %u closed "
				    "by the server: %u %.*s\n", c->index, code,
				    (int)(f->len > 2 ? f->len - 2 : 0),
				    f->payload + 2);
		}
		conn_close(c);
		return -1;
	}
	rc = wsc_msg_feed(&c->msg, f, &m, &len);
	if (rc == 0)
		return 0;
	if (rc < 0) {
		c->w->st.protocol_errors++;
		conn_fail(c, "bad fragments");
		return -1;
	}
	return conn_message(c, m, len);
}

/*
 * Takes what was read into buf (len bytes): the handshake reply, then
 * frames. Returns the bytes consumed (an incomplete frame stays), or -1 if
 * c was closed.
 */
static ssize_t
conn_input(struct wl_conn *c, char *buf, size_t len)
{
	struct wsc_frame f;
	size_t off = 0, head;
	ssize_t n;
	int rc;

	if (c->st == CS_HANDSHAKE) {
		rc = wsc_reply(buf, len, &c->key, &head);
		if (rc == 0)
			return 0;
		if (rc != 101) {
			c->w->st.handshake_errors++;
			if (c->w->st.handshake_errors <= 3)
				fprintf(stderr, "wsload: connection %u: "
				    "handshake refused: %.*s\n", c->index,
				    (int)(len < 200 ? len : 200), buf);
			conn_close(c);
			return -1;
		}
		c->st = CS_OPEN;
		off = head;
	}
	while (off < len) {
		n = wsc_frame_parse(buf + off, len - off, &f, NULL);
		if (n == 0)
			break;
		if (n < 0) {
			c->w->st.protocol_errors++;
			conn_fail(c, "malformed frame");
			return -1;
		}
		off += (size_t)n;
		if (conn_frame(c, &f) == -1)
			return -1;
	}
	return (ssize_t)off;
}

/* Reads all c has; frames go to conn_input. */
static void
conn_readable(struct wl_conn *c)
{
	struct wl_worker *w = c->w;
	size_t room, total, left;
	ssize_t n, used;
	char *buf, *dst;

	for (;;) {
		if (c->in_len > 0) {
			buf_reserve(&c->in, &c->in_cap, c->in_len + READ_MIN);
			buf = c->in;
			dst = c->in + c->in_len;
			room = c->in_cap - c->in_len;
		} else {
			buf = dst = w->rbuf;
			room = w->rbuf_cap;
		}
		n = read(c->fd, dst, room);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_fail(c, n == 0 ? "closed by the server" :
			    strerror(errno));
			return;
		}
		w->now = now_ns();
		total = (buf == c->in ? c->in_len : 0) + (size_t)n;
		used = conn_input(c, buf, total);
		if (used < 0)
			return;
		left = total - (size_t)used;
		if (buf == c->in) {
			memmove(c->in, c->in + used, left);
			c->in_len = left;
			if (left == 0 && c->in_cap > READ_MIN * 2) {
				free(c->in);
				c->in = NULL;
				c->in_cap = 0;
			}
		} else if (left > 0) {
			buf_reserve(&c->in, &c->in_cap, left);
			memcpy(c->in, buf + used, left);
			c->in_len = left;
		}
		if ((size_t)n < room)
			return;
	}
}

/* One epoll event of c: a connect finished (retried up to 5 times when it
 * failed), room to write, or bytes to read. */
static void
conn_event(struct wl_conn *c, uint32_t events)
{
	int err = 0;
	socklen_t len = sizeof err;

	if (c->st == CS_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err == 0 && !(events & (EPOLLERR | EPOLLHUP))) {
			conn_handshake(c);
			return;
		}
		c->w->st.connect_errors++;
		if (c->w->st.connect_errors <= 3)
			fprintf(stderr, "wsload: connect: %s\n",
			    strerror(err != 0 ? err : ECONNRESET));
		epoll_ctl(c->w->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
		conn_opened(c);
		c->st = CS_NEW;
		if (++c->tries >= 5) {
			c->st = CS_CLOSED;	/* given up */
			atomic_fetch_add(&wl_failed, 1);
		} else
			conn_connect(c);
		return;
	}
	if (events & EPOLLOUT && c->want_out && conn_flush(c) == -1)
		return;
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		conn_readable(c);
}

/* Opens connections while fewer than the worker's share are opening. */
static void
worker_open_more(struct wl_worker *w)
{
	while (w->next_connect < w->nconns && w->opening < w->open_max)
		conn_connect(&w->conns[w->next_connect++]);
}

/* The worker's thread: opens, serves and finally closes its connections. */
static void *
worker_main(void *arg)
{
	struct wl_worker *w = arg;
	struct epoll_event evs[EVENTS_MAX];
	struct wl_conn *c;
	uint64_t delivered, wait_ns = 10000000;
	unsigned i;
	int n, ph, presence = wl_opt.mode == WL_ARENA ||
	    wl_opt.mode == WL_CHURN;

	for (;;) {
		worker_open_more(w);
		n = epoll_wait(w->ep, evs, EVENTS_MAX,
		    (int)((wait_ns + 999999) / 1000000));
		if (n == -1 && errno != EINTR)
			fatal("epoll_wait: %s", strerror(errno));
		delivered = w->st.deliveries_total;
		for (i = 0; i < (unsigned)(n > 0 ? n : 0); i++) {
			c = &w->conns[(uint32_t)evs[i].data.u64];
			if (c->fd != -1 &&
			    c->gen == (uint32_t)(evs[i].data.u64 >> 32))
				conn_event(c, evs[i].events);
		}
		if (presence)
			wait_ns = wl_presence_tick(w);
		if (w->st.deliveries_total != delivered)
			atomic_fetch_add(&wl_delivered,
			    w->st.deliveries_total - delivered);
		ph = atomic_load(&wl_phase);
		if (wl_opt.mode == WL_INGEST && ph >= WL_WARMUP && !w->kicked) {
			w->kicked = 1;
			for (i = 0; i < w->nconns; i++)
				conn_publish(&w->conns[i]);
		}
		if (ph == WL_STOP)
			break;
	}
	for (i = 0; i < w->nconns; i++) {
		conn_close(&w->conns[i]);
		free(w->conns[i].fl);
		if (presence)
			wl_presence_free(&w->conns[i]);
	}
	close(w->ep);
	return NULL;
}

void
wl_worker_start(struct wl_worker *w, unsigned first, unsigned n)
{
	unsigned i;

	pthread_once(&data_once, data_init);
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	if (w->ep == -1)
		fatal("epoll_create1: %s", strerror(errno));
	w->nconns = n;
	w->conns = calloc(n > 0 ? n : 1, sizeof *w->conns);
	w->rbuf_cap = RBUF_SIZE;
	w->rbuf = malloc(w->rbuf_cap);
	if (w->conns == NULL || w->rbuf == NULL)
		fatal("out of memory");
	w->rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)w->id << 32) ^ now_ns();
	for (i = 0; i < n; i++) {
		w->conns[i].w = w;
		w->conns[i].index = first + i;
		w->conns[i].slot = i;
		w->conns[i].fd = -1;
		if (wl_opt.mode == WL_INGEST) {
			w->conns[i].fl = calloc(wl_opt.window,
			    sizeof *w->conns[i].fl);
			if (w->conns[i].fl == NULL)
				fatal("out of memory");
		}
		if (wl_opt.mode == WL_ARENA || wl_opt.mode == WL_CHURN)
			wl_presence_init(&w->conns[i]);
	}
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
		fatal("pthread_create failed");
}

void
wl_worker_join(struct wl_worker *w)
{
	pthread_join(w->thread, NULL);
	free(w->conns);
	free(w->rbuf);
	free(w->scratch);
	w->conns = NULL;
	w->rbuf = w->scratch = NULL;
}

int
wl_conn_send(struct wl_conn *c, const char *text, size_t len)
{
	return conn_send(c, WSC_TEXT, text, len);
}

void
wl_conn_connect(struct wl_conn *c)
{
	conn_connect(c);
}

void
wl_conn_hangup(struct wl_conn *c)
{
	/* Closed as a leave: neither lost nor failed. */
	conn_opened(c);
	c->st = CS_CLOSED;
	conn_close(c);
	c->st = CS_NEW;
}

void
wl_conn_ready(struct wl_conn *c)
{
	c->st = CS_READY;
	conn_opened(c);
	if (!c->was_ready) {
		c->was_ready = 1;
		atomic_fetch_add(&wl_ready, 1);
	}
}
