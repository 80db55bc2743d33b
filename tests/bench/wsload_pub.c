/*
 * wsload_pub.c: blocking connections to sluiced (HTTP, or WebSocket with
 * the Pusher greeting), and on one of them the fan-out publisher of
 * wsload: HTTP (POST /v1/events) or WebSocket (sluice:publish), sending
 * events to the channel at a fixed rate, each carrying its sequence number
 * and the CLOCK_MONOTONIC time it was sent in its data ({"wsload_seq":..,
 * "wsload_t":..}), and waiting for each batch's reply before the next.
 *
 * Threads: a blocking connection belongs to one thread. The publisher
 * runs on its own thread; it shares only the phase and wl_published with
 * the others.
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "wsload.h"

int
wl_bconn_fail(struct wl_bconn *bc, const char *what)
{
	if (bc->error[0] == '\0')
		snprintf(bc->error, bc->error_cap, "%s: %.200s", bc->name,
		    what);
	return -1;
}

static void
pub_reserve(char **buf, size_t *cap, size_t need)
{
	char *nb;
	size_t ncap = *cap != 0 ? *cap : 4096;

	if (need <= *cap)
		return;
	while (ncap < need)
		ncap *= 2;
	nb = realloc(*buf, ncap);
	if (nb == NULL)
		fatal("out of memory");
	*buf = nb;
	*cap = ncap;
}

/* Writes all of buf (blocking); -1 on an error, recorded. */
static int
pub_write(struct wl_bconn *pc, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(pc->fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return wl_bconn_fail(pc, n == 0 ? "write returned 0" :
			    strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads more into pc->in; -1 on EOF, error or timeout. */
static int
pub_read(struct wl_bconn *pc)
{
	ssize_t n;

	pub_reserve(&pc->in, &pc->in_cap, pc->in_len + 16384);
	for (;;) {
		n = read(pc->fd, pc->in + pc->in_len, pc->in_cap - pc->in_len);
		if (n > 0) {
			pc->in_len += (size_t)n;
			return 0;
		}
		if (n == -1 && errno == EINTR)
			continue;
		return wl_bconn_fail(pc, n == 0 ? "closed by the server" :
		    strerror(errno));
	}
}

void
wl_bconn_consume(struct wl_bconn *pc, size_t n)
{
	memmove(pc->in, pc->in + n, pc->in_len - n);
	pc->in_len -= n;
}

/* Writes the events [seq, seq + n) as a JSON array at p; returns the end. */
static char *
pub_events(char *p, uint64_t seq, unsigned n)
{
	uint64_t t = now_ns();
	unsigned i;

	*p++ = '[';
	for (i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ',';
		p += sprintf(p, "{\"event\":\"%s\",\"channel\":\"%s\","
		    "\"id\":\"%s-%llu\",\"data\":{\"wsload_seq\":",
		    wl_opt.event_name, wl_opt.channel, wl_opt.prefix,
		    (unsigned long long)(seq + i));
		p = wl_put_uint(p, seq + i);
		memcpy(p, ",\"wsload_t\":", 12);
		p = wl_put_uint(p + 12, t);
		*p++ = '}';
		*p++ = '}';
	}
	*p++ = ']';
	return p;
}

static size_t
pub_event_room(void)
{
	return 160 + strlen(wl_opt.event_name) + strlen(wl_opt.channel) +
	    strlen(wl_opt.prefix);
}

long
wl_bconn_http(struct wl_bconn *pc, const char *method, const char *path,
    const char *body, size_t blen, unsigned *status, const char **reply,
    size_t *total)
{
	char head[1024], *end, *v;
	size_t hlen, clen;

	if (body != NULL)
		hlen = (size_t)snprintf(head, sizeof head,
		    "%s %s HTTP/1.1\r\nHost: %s\r\n"
		    "User-Agent: sluice-wsload/1\r\nX-Sluice-Key: %s\r\n"
		    "Content-Type: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n", method, path,
		    wl_opt.http_host, wl_opt.key, blen);
	else
		hlen = (size_t)snprintf(head, sizeof head,
		    "%s %s HTTP/1.1\r\nHost: %s\r\n"
		    "User-Agent: sluice-wsload/1\r\n\r\n", method, path,
		    wl_opt.http_host);
	if (pub_write(pc, head, hlen) == -1 ||
	    (body != NULL && pub_write(pc, body, blen) == -1))
		return -1;
	for (;;) {
		end = pc->in_len > 0 ? memmem(pc->in, pc->in_len, "\r\n\r\n", 4) :
		    NULL;
		if (end != NULL) {
			hlen = (size_t)(end - pc->in) + 4;
			*end = '\0';
			v = strcasestr(pc->in, "\r\nContent-Length:");
			if (v == NULL)
				return wl_bconn_fail(pc, "a reply without "
				    "Content-Length");
			clen = strtoul(v + 17, NULL, 10);
			*total = hlen + clen;
			while (pc->in_len < *total)
				if (pub_read(pc) == -1)
					return -1;
			*status = (unsigned)strtoul(pc->in + 9, NULL, 10);
			*reply = pc->in + hlen;
			return (long)clen;
		}
		if (pub_read(pc) == -1)
			return -1;
	}
}

/* HTTP: one POST of n events; returns the events accepted, or -1. */
static long
pub_http(struct wl_bconn *pc, char **body, size_t *body_cap, uint64_t seq,
    unsigned n)
{
	const char *reply, *v;
	char what[256];
	size_t blen, total;
	unsigned status;
	long clen, acc;

	pub_reserve(body, body_cap, 4 + n * pub_event_room());
	blen = (size_t)(pub_events(*body, seq, n) - *body);
	clen = wl_bconn_http(pc, "POST", "/v1/events", *body, blen, &status,
	    &reply, &total);
	if (clen < 0)
		return -1;
	if (status < 200 || status > 299) {
		snprintf(what, sizeof what, "HTTP %u: %.*s", status,
		    (int)(clen < 200 ? clen : 200), reply);
		return wl_bconn_fail(pc, what);
	}
	v = memmem(reply, (size_t)clen, "\"accepted\":", 11);
	acc = v != NULL ? strtol(v + 11, NULL, 10) : (long)n;
	wl_bconn_consume(pc, total);
	return acc;
}

long
wl_bconn_ws_wait(struct wl_bconn *pc, const char *want, const char *want2,
    const char **msg, size_t *frame_len)
{
	struct wsc_frame f;
	const char *m;
	char name[64], pong[64];
	size_t len, wl;
	ssize_t n;
	int rc;

	for (;;) {
		n = wsc_frame_parse(pc->in, pc->in_len, &f, NULL);
		if (n < 0)
			return wl_bconn_fail(pc, "malformed frame");
		if (n == 0) {
			if (pub_read(pc) == -1)
				return -1;
			continue;
		}
		*frame_len = (size_t)n;
		if (f.opcode == WSC_PING) {
			len = wsc_frame_put(pong, WSC_PONG, f.payload, f.len,
			    (uint32_t)wl_random(&pc->rng));
			wl_bconn_consume(pc, (size_t)n);
			if (pub_write(pc, pong, len) == -1)
				return -1;
			continue;
		}
		if (f.opcode == WSC_CLOSE)
			return wl_bconn_fail(pc, "closed by the server");
		if (f.opcode == WSC_PONG) {
			wl_bconn_consume(pc, (size_t)n);
			continue;
		}
		rc = wsc_msg_feed(&pc->msg, &f, &m, &len);
		if (rc < 0)
			return wl_bconn_fail(pc, "bad fragments");
		if (rc == 1) {
			wl = (size_t)snprintf(name, sizeof name,
			    "\"event\":\"%s\"", want);
			if (memmem(m, len, name, wl) != NULL) {
				*msg = m;
				return (long)len;
			}
			if (want2 != NULL) {
				wl = (size_t)snprintf(name, sizeof name,
				    "\"event\":\"%s\"", want2);
				if (memmem(m, len, name, wl) != NULL) {
					*msg = m;
					return (long)len;
				}
			}
			if (memmem(m, len, "\"event\":\"pusher:ping\"", 21)) {
				len = wsc_frame_put(pong, WSC_TEXT,
				    "{\"event\":\"pusher:pong\",\"data\":{}}",
				    33, (uint32_t)wl_random(&pc->rng));
				if (pub_write(pc, pong, len) == -1)
					return -1;
			} else if (memmem(m, len, "\"event\":\"pusher:error\"",
			    22) != NULL) {
				snprintf(name, sizeof name, "%.*s",
				    (int)(len < 60 ? len : 60), m);
				return wl_bconn_fail(pc, name);
			}
		}
		wl_bconn_consume(pc, (size_t)n);
	}
}

int
wl_bconn_ws_send(struct wl_bconn *pc, const char *text, size_t len)
{
	size_t n;

	pub_reserve(&pc->out, &pc->out_cap, wsc_frame_size(len));
	n = wsc_frame_put(pc->out, WSC_TEXT, text, len,
	    (uint32_t)wl_random(&pc->rng));
	return pub_write(pc, pc->out, n);
}

/* WebSocket: the handshake and connection_established, whose socket id
 * is kept. */
static int
pub_ws_open(struct wl_bconn *pc)
{
	struct wsc_key k;
	unsigned char r[16];
	uint64_t a = wl_random(&pc->rng), b = wl_random(&pc->rng);
	const char *m, *p, *end;
	char req[1024], path[512];
	size_t len, head, flen, n = 0;
	long mlen;
	int rc;

	memcpy(r, &a, 8);
	memcpy(r + 8, &b, 8);
	wsc_key_make(&k, r);
	snprintf(path, sizeof path,
	    "/app/%s?protocol=7&client=wsload&version=1.0%s%s", wl_opt.key,
	    wl_opt.query != NULL ? "&" : "",
	    wl_opt.query != NULL ? wl_opt.query : "");
	len = wsc_request(req, sizeof req, wl_opt.ws_host, path, &k);
	if (pub_write(pc, req, len) == -1)
		return -1;
	while ((rc = wsc_reply(pc->in, pc->in_len, &k, &head)) == 0)
		if (pub_read(pc) == -1)
			return -1;
	if (rc != 101)
		return wl_bconn_fail(pc, "handshake refused");
	wl_bconn_consume(pc, head);
	mlen = wl_bconn_ws_wait(pc, "pusher:connection_established", NULL,
	    &m, &flen);
	if (mlen < 0)
		return -1;
	p = memmem(m, (size_t)mlen, "socket_id", 9);
	end = m + mlen;
	if (p != NULL) {
		for (p += 9; p < end && (*p == '"' || *p == '\\' ||
		    *p == ':'); p++)
			;
		while (p < end && *p != '"' && *p != '\\' &&
		    n + 1 < sizeof pc->socket_id)
			pc->socket_id[n++] = *p++;
	}
	pc->socket_id[n] = '\0';
	wl_bconn_consume(pc, flen);
	return 0;
}

int
wl_bconn_open(struct wl_bconn *bc, int ws, const char *name, char *error,
    size_t error_cap)
{
	memset(bc, 0, sizeof *bc);
	bc->name = name;
	bc->error = error;
	bc->error_cap = error_cap;
	error[0] = '\0';
	bc->rng = now_ns() | 1;
	bc->fd = ws ? wl_dial(&wl_opt.ws_addr, wl_opt.ws_addrlen) :
	    wl_dial(&wl_opt.http_addr, wl_opt.http_addrlen);
	if (bc->fd == -1)
		return wl_bconn_fail(bc, strerror(errno));
	return ws ? pub_ws_open(bc) : 0;
}

void
wl_bconn_close(struct wl_bconn *bc)
{
	if (bc->fd != -1)
		close(bc->fd);
	bc->fd = -1;
	free(bc->in);
	free(bc->out);
	bc->in = bc->out = NULL;
	wsc_msg_free(&bc->msg);
}

/* WebSocket: one sluice:publish of n events; the events acked, or -1. */
static long
pub_ws(struct wl_bconn *pc, char **body, size_t *body_cap, uint64_t seq,
    unsigned n)
{
	const char *m, *p, *end;
	size_t flen, plen;
	long ids = 0, mlen;
	char *q;

	pub_reserve(body, body_cap, 128 + n * pub_event_room());
	q = *body + sprintf(*body, "{\"event\":\"sluice:publish\",\"data\":"
	    "{\"ref\":\"%llu\",\"events\":", (unsigned long long)seq);
	q = pub_events(q, seq, n);
	*q++ = '}';
	*q++ = '}';
	plen = (size_t)(q - *body);
	if (wl_bconn_ws_send(pc, *body, plen) == -1)
		return -1;
	mlen = wl_bconn_ws_wait(pc, "sluice:ack", "sluice:nack", &m, &flen);
	if (mlen < 0)
		return -1;
	if (memmem(m, (size_t)mlen, "sluice:nack", 11) != NULL) {
		snprintf(pc->error, pc->error_cap, "publisher: %.*s",
		    (int)(mlen < 200 ? mlen : 200), m);
		return -1;
	}
	p = memmem(m, (size_t)mlen, "ids\\\":[", 7);
	if (p != NULL) {
		end = memchr(p, ']', (size_t)mlen - (size_t)(p - m));
		for (p += 7; end != NULL && p + 1 < end; p++)
			if (p[0] == '\\' && p[1] == '"')
				ids++;
	}
	wl_bconn_consume(pc, flen);
	return ids / 2;
}

static void
sleep_ns(uint64_t ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ns / 1000000000u);
	ts.tv_nsec = (long)(ns % 1000000000u);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* The publisher's thread: connects, then sends what is due and waits for
 * each reply until the measured window is over or a request fails. */
static void *
pub_main(void *arg)
{
	struct wl_pub *p = arg;
	struct wl_bconn pc;
	uint64_t start, now, due, sched, t0;
	char *body = NULL;
	size_t body_cap = 0;
	unsigned n;
	long acc;
	int ws = strcmp(wl_opt.publisher, "ws") == 0, ph;

	if (wl_bconn_open(&pc, ws, "publisher", p->error,
	    sizeof p->error) == -1)
		goto out;
	start = now_ns();
	while ((ph = atomic_load(&wl_phase)) == WL_WARMUP ||
	    ph == WL_MEASURE) {
		now = now_ns();
		due = (uint64_t)((double)(now - start) * wl_opt.rate / 1e9) + 1;
		if (due <= p->sent) {
			sched = start + (uint64_t)((double)p->sent * 1e9 /
			    wl_opt.rate);
			sleep_ns(sched > now ? (sched - now < 10000000u ?
			    sched - now : 10000000u) : 0);
			continue;
		}
		n = due - p->sent > wl_opt.batch ? wl_opt.batch :
		    (unsigned)(due - p->sent);
		sched = start + (uint64_t)((double)p->sent * 1e9 /
		    wl_opt.rate);
		if (ph == WL_MEASURE && now - sched > p->late_ns)
			p->late_ns = now - sched;
		t0 = now_ns();
		acc = ws ? pub_ws(&pc, &body, &body_cap, p->sent, n) :
		    pub_http(&pc, &body, &body_cap, p->sent, n);
		if (acc < 0)
			break;
		if ((unsigned long)acc != n) {
			wl_bconn_fail(&pc, "events were refused");
			break;
		}
		p->requests++;
		p->sent += n;
		p->accepted += (uint64_t)acc;
		if (ph == WL_MEASURE) {
			p->measure_sent += n;
			lat_hist_record(&p->lat, (now_ns() - t0) / 1000);
		}
		atomic_store(&wl_published, p->accepted);
	}
out:
	wl_bconn_close(&pc);
	free(body);
	return NULL;
}

void
wl_pub_start(struct wl_pub *p)
{
	if (pthread_create(&p->thread, NULL, pub_main, p) != 0)
		fatal("pthread_create failed");
}

void
wl_pub_join(struct wl_pub *p)
{
	pthread_join(p->thread, NULL);
}
