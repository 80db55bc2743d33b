/*
 * loadgen.c: an HTTP/1.1 load generator for sluiced's POST /v1/events.
 * Keeps N keep-alive connections busy (one request in flight each, no
 * pipelining) from T threads, each thread owning its connections and its
 * own epoll set. Every event carries a unique id; every request's latency,
 * from its first byte written to its response read in full, goes into a
 * log-linear histogram. Prints one key=value line on stdout and a human
 * summary on stderr; exits 1 if any response was not 2xx or a request was
 * lost to an I/O error.
 *
 * Threads share nothing but the phase word and, in fixed-count mode, the
 * counter of requests issued; each keeps its own statistics, which the main
 * thread merges after joining them.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define NSTATUS		600
#define IN_MIN		4096
#define DATA_VARIANTS	64

enum phase { PHASE_WARMUP, PHASE_MEASURE, PHASE_DRAIN, PHASE_STOP };

enum conn_state { CONN_CLOSED, CONN_CONNECTING, CONN_IDLE, CONN_SENDING,
    CONN_RECEIVING };

struct stats {
	uint64_t	requests;	/* responses read */
	uint64_t	events;		/* events the 2xx responses accepted */
	uint64_t	ok;		/* 2xx responses */
	struct lat_hist	lat;
};

struct opts {
	const char	*host;
	const char	*port;
	const char	*path;
	const char	*key;
	const char	*prefix;
	const char	*event_name;
	unsigned	 conns;
	unsigned	 threads;
	unsigned	 batch;		/* 0: single events */
	double		 duration_s;
	double		 warmup_s;
	uint64_t	 count;		/* fixed request count; 0: duration */
	double		 drain_s;
	double		 rate;		/* events/s offered; 0: as fast as answered */
	int		 quiet;
};

struct conn {
	struct worker	*w;
	unsigned	 index;		/* global connection number */
	unsigned	 slot;		/* its place in the worker's array */
	uint32_t	 gen;		/* bumped on every connect */
	int		 fd;
	enum conn_state	 state;
	char		*out;
	size_t		 out_len, out_off, out_cap;
	char		*in;
	size_t		 in_len, in_cap;
	uint64_t	 t_start_ns;
	unsigned	 nevents;	/* events in the request in flight */
	int		 queued;	/* in the worker's idle list */
};

struct worker {
	unsigned	 id;
	pthread_t	 thread;
	int		 ep;
	struct conn	*conns;
	unsigned	 nconns;
	uint64_t	 seq;		/* event counter for ids */
	char		*body;		/* scratch for request bodies */
	size_t		 body_cap;
	struct conn	**idle;		/* paced mode: connections waiting */
	unsigned	 nidle;
	uint64_t	 next_ns;	/* paced mode: the next request's slot */
	uint64_t	 interval_ns;

	struct stats	 window;	/* measure phase only */
	uint64_t	 status[NSTATUS + 1];	/* every response; last: other */
	uint64_t	 total_requests;
	uint64_t	 total_events_sent;
	uint64_t	 total_events_acked;
	uint64_t	 io_errors;	/* requests lost to a closed connection */
	uint64_t	 connect_errors;
	uint64_t	 bad_responses;	/* unparsable responses */
	uint64_t	 abandoned_requests;
	uint64_t	 abandoned_events;
};

static struct opts	 opt;
static struct addrinfo	*target;
static _Atomic int	 phase;
static _Atomic uint64_t	 issued;	/* fixed-count mode */
static _Atomic unsigned	 running;	/* workers not finished */
static char		 req_head[1024];	/* up to "Content-Length: " */
static size_t		 req_head_len;
static char		*data_variants[DATA_VARIANTS];
static size_t		 data_variant_len[DATA_VARIANTS];

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes v in decimal at p, zero-padded to width; returns the end. */
static char *
put_uint(char *p, uint64_t v, unsigned width)
{
	char tmp[24];
	unsigned n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n < width)
		tmp[n++] = '0';
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

static char *
put_str(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

#define PUT_LIT(p, s)	put_str((p), (s), sizeof(s) - 1)

/*
 * Builds the "data" objects the events carry: a page view with the fields
 * an analytics client sends, about 300 bytes, varied so the broker does not
 * see one message over and over.
 */
static void
data_init(void)
{
	static const char *categories[] = { "shoes", "jackets", "garden",
	    "kitchen", "books", "toys", "audio", "bikes" };
	static const char *words[] = { "running+shoes", "winter+coat",
	    "hose+reel", "cast+iron+pan", "crime+novel", "lego+set",
	    "headphones", "gravel+bike" };
	static const char *langs[] = { "en-GB", "fr-FR", "de-DE", "nl-NL" };
	static const char *screens[] = { "1920x1080", "390x844", "1440x900",
	    "412x915" };
	char buf[1024];
	unsigned i;
	int n;

	for (i = 0; i < DATA_VARIANTS; i++) {
		n = snprintf(buf, sizeof buf,
		    "{\"url\":\"https://shop.example.com/catalog/%s/item-%u"
		    "?utm_source=newsletter&utm_medium=email\","
		    "\"referrer\":\"https://www.search.example/?q=%s\","
		    "\"title\":\"%s - Example Shop\","
		    "\"session\":\"%08x%08x\",\"user\":\"u-%06u\","
		    "\"screen\":\"%s\",\"lang\":\"%s\",\"price\":%u.%02u,"
		    "\"quantity\":%u,\"tags\":[\"promo\",\"summer\"]}",
		    categories[i % 8], 1000 + i * 37, words[(i / 8) % 8],
		    categories[(i + 3) % 8], 0x5eed0000u + i * 7919,
		    0xc0ffee00u ^ (i * 104729u), 100000 + i * 4111,
		    screens[i % 4], langs[(i / 4) % 4], 5 + i * 3 % 200,
		    (i * 17) % 100, 1 + i % 5);
		if (n < 0 || (size_t)n >= sizeof buf)
			fatal("data template too long");
		data_variants[i] = strdup(buf);
		if (data_variants[i] == NULL)
			fatal("out of memory");
		data_variant_len[i] = (size_t)n;
	}
}

/* Room one event needs at most in a body. */
static size_t
event_max_len(void)
{
	return 256 + strlen(opt.prefix) + strlen(opt.event_name) +
	    data_variant_len[0] + 64;
}

/* Writes one event at p; returns the end. */
static char *
put_event(struct worker *w, char *p, int64_t now)
{
	uint64_t seq = w->seq++;
	unsigned v = (unsigned)(seq % DATA_VARIANTS);

	p = PUT_LIT(p, "{\"event\":\"");
	p = put_str(p, opt.event_name, strlen(opt.event_name));
	p = PUT_LIT(p, "\",\"id\":\"");
	p = put_str(p, opt.prefix, strlen(opt.prefix));
	*p++ = '-';
	p = put_uint(p, w->id, 2);
	*p++ = '-';
	p = put_uint(p, seq, 10);
	p = PUT_LIT(p, "\",\"timestamp\":");
	p = put_uint(p, (uint64_t)(now - 40 - (int64_t)(seq % 50)), 0);
	p = PUT_LIT(p, ",\"sent_at\":");
	p = put_uint(p, (uint64_t)now, 0);
	p = PUT_LIT(p, ",\"data\":");
	p = put_str(p, data_variants[v], data_variant_len[v]);
	*p++ = '}';
	return p;
}

static void
buf_reserve(char **buf, size_t *cap, size_t need)
{
	char *p;

	if (need <= *cap)
		return;
	p = realloc(*buf, need);
	if (p == NULL)
		fatal("out of memory");
	*buf = p;
	*cap = need;
}

/* Builds the next request of c into c->out. */
static void
conn_build_request(struct conn *c)
{
	struct worker *w = c->w;
	unsigned n = opt.batch == 0 ? 1 : opt.batch, i;
	int64_t now = wall_ms();
	size_t body_len, need;
	char *p;

	buf_reserve(&w->body, &w->body_cap, n * (event_max_len() + 1) + 2);
	p = w->body;
	if (opt.batch != 0)
		*p++ = '[';
	for (i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ',';
		p = put_event(w, p, now);
	}
	if (opt.batch != 0)
		*p++ = ']';
	body_len = (size_t)(p - w->body);
	need = req_head_len + 32 + body_len;
	buf_reserve(&c->out, &c->out_cap, need);
	p = put_str(c->out, req_head, req_head_len);
	p = put_uint(p, body_len, 0);
	p = PUT_LIT(p, "\r\n\r\n");
	p = put_str(p, w->body, body_len);
	c->out_len = (size_t)(p - c->out);
	c->out_off = 0;
	c->nevents = n;
}

static void
conn_epoll(struct conn *c, int op, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	ev.events = events;
	ev.data.u64 = (uint64_t)c->gen << 32 | c->slot;
	if (epoll_ctl(c->w->ep, op, c->fd, &ev) == -1)
		fatal("epoll_ctl: %s", strerror(errno));
}

static void
conn_close(struct conn *c)
{
	if (c->fd != -1) {
		epoll_ctl(c->w->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->state = CONN_CLOSED;
	c->in_len = 0;
}

static void
conn_connect(struct conn *c)
{
	int one = 1;

	c->fd = socket(target->ai_family, target->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, target->ai_protocol);
	if (c->fd == -1)
		fatal("socket: %s", strerror(errno));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->in_len = 0;
	c->gen++;
	if (connect(c->fd, target->ai_addr, target->ai_addrlen) == 0) {
		c->state = CONN_IDLE;
		conn_epoll(c, EPOLL_CTL_ADD, EPOLLIN);
		return;
	}
	if (errno != EINPROGRESS)
		fatal("connect: %s", strerror(errno));
	c->state = CONN_CONNECTING;
	conn_epoll(c, EPOLL_CTL_ADD, EPOLLOUT);
}

/* Returns 1 if c may start another request in the current phase. */
static int
conn_may_issue(void)
{
	int ph = atomic_load_explicit(&phase, memory_order_relaxed);

	if (opt.count != 0)
		return ph != PHASE_STOP && atomic_fetch_add(&issued, 1) <
		    opt.count;
	return ph == PHASE_WARMUP || ph == PHASE_MEASURE;
}

static void conn_write(struct conn *);

/* Sends the next request on c, which is idle. */
static void
conn_send(struct conn *c)
{
	conn_build_request(c);
	c->t_start_ns = now_ns();
	c->state = CONN_SENDING;
	c->w->total_events_sent += c->nevents;
	conn_write(c);
}

/*
 * c is ready for another request: sends it now, or in paced mode leaves c
 * for worker_pace to send when its slot comes.
 */
static void
conn_issue(struct conn *c)
{
	c->state = CONN_IDLE;
	if (opt.rate > 0) {
		if (!c->queued)
			c->w->idle[c->w->nidle++] = c;
		c->queued = 1;
		return;
	}
	if (conn_may_issue())
		conn_send(c);
}

/* Closes c and connects again while requests are still being issued. */
static void
conn_reconnect(struct conn *c)
{
	conn_close(c);
	if (atomic_load(&phase) < PHASE_DRAIN || opt.count != 0)
		conn_connect(c);
}

/* The request in flight, if any, is lost: count it and reconnect. */
static void
conn_fail(struct conn *c, const char *why)
{
	struct worker *w = c->w;

	if (c->state == CONN_SENDING || c->state == CONN_RECEIVING) {
		w->io_errors++;
		if (w->io_errors <= 5)
			fprintf(stderr, "loadgen: connection %u: %s\n",
			    c->index, why);
	}
	conn_reconnect(c);
}

static void
conn_write(struct conn *c)
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
			conn_epoll(c, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT);
			return;
		}
		conn_fail(c, n == 0 ? "write returned 0" : strerror(errno));
		return;
	}
	if (c->state == CONN_SENDING) {
		c->state = CONN_RECEIVING;
		conn_epoll(c, EPOLL_CTL_MOD, EPOLLIN);
	}
}

/* Case-insensitive search for a header line; returns its value or NULL. */
static const char *
http_find_header(const char *head, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = head, *end = head + len, *eol;

	while (p < end) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (eol == NULL)
			return NULL;
		if ((size_t)(eol - p) > nlen && p[nlen] == ':' &&
		    strncasecmp(p, name, nlen) == 0) {
			p += nlen + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			return p;
		}
		p = eol + 2;
	}
	return NULL;
}

/*
 * Decodes a chunked body that starts at p, in place. Returns the bytes of
 * the wire form consumed when it is complete, 0 when more is needed, -1 on
 * a malformed body; *body_len gets the decoded length.
 */
static ssize_t
http_dechunk(char *p, size_t avail, size_t *body_len)
{
	size_t off = 0, out = 0, size;
	char *eol, *end;

	for (;;) {
		eol = memmem(p + off, avail - off, "\r\n", 2);
		if (eol == NULL)
			return 0;
		size = strtoul(p + off, &end, 16);
		if (end == p + off)
			return -1;
		off = (size_t)(eol - p) + 2;
		if (size == 0)
			break;
		if (avail - off < size + 2)
			return 0;
		memmove(p + out, p + off, size);
		out += size;
		off += size + 2;
	}
	/* Trailers, then the empty line. */
	for (;;) {
		eol = memmem(p + off, avail - off, "\r\n", 2);
		if (eol == NULL)
			return 0;
		if (eol == p + off) {
			*body_len = out;
			return (ssize_t)(off + 2);
		}
		off = (size_t)(eol - p) + 2;
	}
}

/* The "accepted":N of a 2xx reply, or -1 when it has none. */
static long
http_accepted(const char *body, size_t len)
{
	const char *p;

	p = memmem(body, len, "\"accepted\":", 11);
	if (p == NULL)
		return -1;
	return strtol(p + 11, NULL, 10);
}

/* Accounts for one complete response. */
static void
conn_response(struct conn *c, unsigned status, const char *body,
    size_t body_len)
{
	struct worker *w = c->w;
	uint64_t us = (now_ns() - c->t_start_ns) / 1000;
	long accepted = 0;

	w->total_requests++;
	w->status[status < NSTATUS ? status : NSTATUS]++;
	if (status >= 200 && status < 300) {
		accepted = http_accepted(body, body_len);
		if (accepted < 0)
			accepted = c->nevents;
		w->total_events_acked += (uint64_t)accepted;
	} else if (w->status[status < NSTATUS ? status : NSTATUS] == 1)
		fprintf(stderr, "loadgen: first %u response: %.*s\n", status,
		    (int)(body_len < 300 ? body_len : 300), body);
	if (atomic_load_explicit(&phase, memory_order_relaxed) ==
	    PHASE_MEASURE) {
		w->window.requests++;
		if (status >= 200 && status < 300) {
			w->window.ok++;
			w->window.events += (uint64_t)accepted;
		}
		lat_hist_record(&w->window.lat, us);
	}
}

/*
 * Parses what c has read. Returns 1 when a whole response was consumed, 0
 * when more bytes are needed, -1 on a malformed response; *close_after is
 * set when the server said Connection: close.
 */
static int
conn_parse(struct conn *c, int *close_after)
{
	const char *hend, *v;
	char *body;
	size_t head_len, body_len, consumed;
	unsigned status;
	ssize_t n;

	hend = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	if (hend == NULL)
		return c->in_len > 65536 ? -1 : 0;
	head_len = (size_t)(hend - c->in) + 4;
	if (c->in_len < 12 || strncmp(c->in, "HTTP/1.", 7) != 0 ||
	    c->in[8] != ' ')
		return -1;
	status = (unsigned)strtoul(c->in + 9, NULL, 10);
	if (status < 100 || status > 999)
		return -1;
	if (status < 200) {		/* 100 Continue and friends */
		memmove(c->in, c->in + head_len, c->in_len - head_len);
		c->in_len -= head_len;
		return conn_parse(c, close_after);
	}
	body = c->in + head_len;
	v = http_find_header(c->in, head_len, "Connection");
	*close_after = v != NULL && strncasecmp(v, "close", 5) == 0;
	v = http_find_header(c->in, head_len, "Transfer-Encoding");
	if (v != NULL && strncasecmp(v, "chunked", 7) == 0) {
		n = http_dechunk(body, c->in_len - head_len, &body_len);
		if (n <= 0)
			return (int)n;
		consumed = head_len + (size_t)n;
	} else {
		v = http_find_header(c->in, head_len, "Content-Length");
		if (v != NULL)
			body_len = strtoul(v, NULL, 10);
		else if (status == 204 || status == 304)
			body_len = 0;
		else
			return -1;	/* read-until-close is not used here */
		if (c->in_len - head_len < body_len)
			return 0;
		consumed = head_len + body_len;
	}
	conn_response(c, status, body, body_len);
	memmove(c->in, c->in + consumed, c->in_len - consumed);
	c->in_len -= consumed;
	return 1;
}

static void
conn_read(struct conn *c)
{
	int close_after = 0, rc;
	size_t room;
	ssize_t n;

	for (;;) {
		buf_reserve(&c->in, &c->in_cap, c->in_len + IN_MIN);
		room = c->in_cap - c->in_len;
		n = read(c->fd, c->in + c->in_len, room);
		if (n > 0) {
			c->in_len += (size_t)n;
			if ((size_t)n < room)
				break;		/* drained the socket */
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		conn_fail(c, n == 0 ? "closed by the server" :
		    strerror(errno));
		return;
	}
	if (c->state != CONN_RECEIVING) {
		if (c->in_len > 0) {
			c->w->bad_responses++;
			conn_fail(c, "unsolicited bytes");
		}
		return;
	}
	rc = conn_parse(c, &close_after);
	if (rc == 0)
		return;
	if (rc == -1) {
		c->w->bad_responses++;
		conn_fail(c, "malformed response");
		return;
	}
	c->state = CONN_IDLE;
	if (close_after)
		conn_reconnect(c);
	else
		conn_issue(c);
}

static void
conn_event(struct conn *c, uint32_t events)
{
	int err = 0;
	socklen_t len = sizeof err;

	if (c->state == CONN_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			c->w->connect_errors++;
			if (c->w->connect_errors <= 5)
				fprintf(stderr, "loadgen: connect: %s\n",
				    strerror(err));
			conn_close(c);
			if (c->w->connect_errors > 300)
				fatal("cannot connect to %s:%s", opt.host,
				    opt.port);
			usleep(10000);
			conn_connect(c);
			return;
		}
		c->state = CONN_IDLE;
		conn_epoll(c, EPOLL_CTL_MOD, EPOLLIN);
		conn_issue(c);
		return;
	}
	if (events & EPOLLOUT && c->state == CONN_SENDING) {
		conn_write(c);
		if (c->fd == -1 || c->state == CONN_SENDING)
			return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		conn_read(c);
}

/*
 * Paced mode: sends a request on an idle connection for every slot that
 * has come, and returns the milliseconds until the next slot (or 50). A
 * schedule that fell behind because every connection was busy catches up
 * by at most 100 ms worth of requests.
 */
static int
worker_pace(struct worker *w)
{
	uint64_t now = now_ns();
	struct conn *c;

	if (w->next_ns + 100000000u < now)
		w->next_ns = now - 100000000u;
	while (w->nidle > 0 && w->next_ns <= now) {
		c = w->idle[--w->nidle];
		c->queued = 0;
		if (c->fd == -1 || c->state != CONN_IDLE)
			continue;	/* reconnecting; it comes back */
		if (!conn_may_issue()) {
			c->queued = 1;
			w->nidle++;
			return 50;
		}
		conn_send(c);
		w->next_ns += w->interval_ns;
	}
	if (w->nidle == 0 || w->next_ns <= now)
		return 50;
	return (int)((w->next_ns - now) / 1000000) + 1;
}

/*
 * Dispatches an epoll event, unless it is for a socket that an earlier
 * event of the same batch already closed and replaced.
 */
static void
worker_event(struct worker *w, uint64_t data, uint32_t events)
{
	struct conn *c = &w->conns[(uint32_t)data];

	if (c->fd != -1 && c->gen == (uint32_t)(data >> 32))
		conn_event(c, events);
}

static int
worker_busy(struct worker *w)
{
	unsigned i;

	for (i = 0; i < w->nconns; i++)
		if (w->conns[i].state == CONN_SENDING ||
		    w->conns[i].state == CONN_RECEIVING ||
		    w->conns[i].state == CONN_CONNECTING)
			return 1;
	return 0;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[256];
	unsigned i;
	int n, ph, timeout;

	w->ep = epoll_create1(EPOLL_CLOEXEC);
	if (w->ep == -1)
		fatal("epoll_create1: %s", strerror(errno));
	for (i = 0; i < w->nconns; i++)
		conn_connect(&w->conns[i]);
	w->next_ns = now_ns();
	timeout = 50;
	for (;;) {
		n = epoll_wait(w->ep, evs, 256, timeout);
		if (n == -1 && errno != EINTR)
			fatal("epoll_wait: %s", strerror(errno));
		for (i = 0; i < (unsigned)(n > 0 ? n : 0); i++)
			worker_event(w, evs[i].data.u64, evs[i].events);
		if (opt.rate > 0)
			timeout = worker_pace(w);
		ph = atomic_load(&phase);
		if (ph == PHASE_STOP)
			break;
		if ((ph == PHASE_DRAIN || (opt.count != 0 &&
		    atomic_load(&issued) >= opt.count)) && !worker_busy(w))
			break;
	}
	for (i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];

		if (c->state == CONN_SENDING || c->state == CONN_RECEIVING) {
			w->abandoned_requests++;
			w->abandoned_events += c->nevents;
		}
		conn_close(c);
		free(c->in);
		free(c->out);
	}
	close(w->ep);
	atomic_fetch_sub(&running, 1);
	return NULL;
}

static const char usage[] =
    "usage: loadgen [-q] [-u host:port] [-k key] [-c conns] "
    "[-t threads]\n"
    "               [-m single|batch] [-b events] [-d seconds] "
    "[-w seconds]\n"
    "               [-n requests] [-R events/s] [-D seconds] "
    "[-i id-prefix]\n"
    "               [-e event] [-P path]\n"
    "  -u  sluiced's address (127.0.0.1:8080)\n"
    "  -k  app key sent as X-Sluice-Key (bench-key)\n"
    "  -c  keep-alive connections (64)\n"
    "  -t  threads (one per online CPU)\n"
    "  -m  single: one event a request; batch: -b events (100)\n"
    "  -d  measured seconds (10), after -w seconds of warm-up (2)\n"
    "  -n  send exactly this many requests instead, all measured\n"
    "  -R  offer this many events/s in all (default: send the next\n"
    "      request as soon as a connection's answer is read)\n"
    "  -i  prefix of the event ids (lg<pid>-<time>)\n"
    "  -D  seconds to wait for answers in flight at the end (10)\n"
    "  -e  event name (page_view); -P  path (/v1/events)\n"
    "  -q  no human summary on stderr\n";

static void
parse_args(int argc, char **argv)
{
	static char hostbuf[256], prefix[64];
	char *addr = NULL, *colon;
	long ncpu;
	int ch;

	opt.host = "127.0.0.1";
	opt.port = "8080";
	opt.path = "/v1/events";
	opt.key = "bench-key";
	opt.event_name = "page_view";
	opt.conns = 64;
	opt.batch = 0;
	opt.duration_s = 10;
	opt.warmup_s = 2;
	opt.drain_s = 10;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	opt.threads = ncpu > 0 ? (unsigned)ncpu : 1;
	snprintf(prefix, sizeof prefix, "lg%ld-%lld", (long)getpid(),
	    (long long)time(NULL));
	opt.prefix = prefix;
	while ((ch = getopt(argc, argv, "b:c:D:d:e:hi:k:m:n:P:qR:t:u:w:")) !=
	    -1) {
		switch (ch) {
		case 'b':
			opt.batch = (unsigned)parse_uint(optarg, "batch");
			if (opt.batch == 0)
				fatal("a batch needs at least one event");
			break;
		case 'c':
			opt.conns = (unsigned)parse_uint(optarg, "conns");
			break;
		case 'D':
			opt.drain_s = parse_double(optarg, "drain time");
			break;
		case 'd':
			opt.duration_s = parse_double(optarg, "duration");
			break;
		case 'e':
			opt.event_name = optarg;
			break;
		case 'h':
			usage_exit(usage, 0);
		case 'i':
			opt.prefix = optarg;
			break;
		case 'k':
			opt.key = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "single") == 0)
				opt.batch = 0;
			else if (strcmp(optarg, "batch") == 0) {
				if (opt.batch == 0)
					opt.batch = 100;
			} else
				fatal("mode must be single or batch");
			break;
		case 'n':
			opt.count = parse_uint(optarg, "request count");
			break;
		case 'P':
			opt.path = optarg;
			break;
		case 'q':
			opt.quiet = 1;
			break;
		case 'R':
			opt.rate = parse_double(optarg, "rate");
			break;
		case 't':
			opt.threads = (unsigned)parse_uint(optarg, "threads");
			break;
		case 'u':
			addr = optarg;
			break;
		case 'w':
			opt.warmup_s = parse_double(optarg, "warm-up");
			break;
		default:
			usage_exit(usage, 2);
		}
	}
	if (optind != argc)
		usage_exit(usage, 2);
	if (addr != NULL) {
		if (strncmp(addr, "http://", 7) == 0)
			addr += 7;
		if (strlen(addr) >= sizeof hostbuf)
			fatal("address too long");
		strcpy(hostbuf, addr);
		colon = strrchr(hostbuf, ':');
		if (colon == NULL)
			fatal("address must be host:port");
		*colon = '\0';
		opt.port = colon + 1;
		opt.host = hostbuf;
		if (hostbuf[0] == '[' && colon > hostbuf &&
		    colon[-1] == ']') {
			colon[-1] = '\0';
			opt.host = hostbuf + 1;
		}
	}
	if (opt.conns == 0 || opt.threads == 0)
		fatal("need at least one connection and one thread");
	if (opt.threads > opt.conns)
		opt.threads = opt.conns;
	if (opt.count == 0 && opt.duration_s <= 0)
		fatal("need a duration or a request count");
}

static void
sleep_s(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Waits up to s seconds for every worker to finish on its own. */
static void
wait_workers(double s)
{
	uint64_t deadline = now_ns() + (uint64_t)(s * 1e9);

	while (atomic_load(&running) > 0 && now_ns() < deadline)
		sleep_s(0.002);
}

int
main(int argc, char **argv)
{
	struct addrinfo hints;
	struct worker *ws;
	struct stats all;
	uint64_t status[NSTATUS + 1], t0, t1, non2xx = 0;
	uint64_t total_requests = 0, total_sent = 0, total_acked = 0;
	uint64_t io_errors = 0, connect_errors = 0, bad = 0;
	uint64_t abandoned_requests = 0, abandoned_events = 0;
	char codes[1024];
	size_t clen = 0;
	unsigned i, k;
	double secs, p50, p90, p99, p999, mean;
	int rc, n;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(opt.host, opt.port, &hints, &target)) != 0)
		fatal("%s:%s: %s", opt.host, opt.port, gai_strerror(rc));
	n = snprintf(req_head, sizeof req_head,
	    "POST %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: sluice-loadgen/1\r\n"
	    "X-Sluice-Key: %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: ", opt.path, opt.host, opt.port, opt.key);
	if (n < 0 || (size_t)n >= sizeof req_head)
		fatal("request head too long");
	req_head_len = (size_t)n;
	data_init();

	ws = calloc(opt.threads, sizeof *ws);
	if (ws == NULL)
		fatal("out of memory");
	for (i = 0; i < opt.threads; i++) {
		ws[i].id = i;
		ws[i].nconns = opt.conns / opt.threads +
		    (i < opt.conns % opt.threads);
		ws[i].conns = calloc(ws[i].nconns, sizeof *ws[i].conns);
		ws[i].idle = calloc(ws[i].nconns, sizeof *ws[i].idle);
		if (ws[i].conns == NULL || ws[i].idle == NULL)
			fatal("out of memory");
		if (opt.rate > 0)
			ws[i].interval_ns = (uint64_t)(1e9 * opt.threads *
			    (opt.batch == 0 ? 1 : opt.batch) / opt.rate);
		for (k = 0; k < ws[i].nconns; k++) {
			ws[i].conns[k].w = &ws[i];
			ws[i].conns[k].fd = -1;
			ws[i].conns[k].index = i + k * opt.threads;
			ws[i].conns[k].slot = k;
		}
	}
	atomic_store(&phase, opt.count != 0 ? PHASE_MEASURE : PHASE_WARMUP);
	t0 = now_ns();
	atomic_store(&running, opt.threads);
	for (i = 0; i < opt.threads; i++)
		if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]))
			fatal("pthread_create failed");
	if (opt.count == 0) {
		sleep_s(opt.warmup_s);
		t0 = now_ns();
		atomic_store(&phase, PHASE_MEASURE);
		sleep_s(opt.duration_s);
		atomic_store(&phase, PHASE_DRAIN);
		t1 = now_ns();
		wait_workers(opt.drain_s);
	} else {
		wait_workers(1e9);
		t1 = now_ns();
	}
	atomic_store(&phase, PHASE_STOP);
	for (i = 0; i < opt.threads; i++)
		pthread_join(ws[i].thread, NULL);

	memset(&all, 0, sizeof all);
	memset(status, 0, sizeof status);
	for (i = 0; i < opt.threads; i++) {
		all.requests += ws[i].window.requests;
		all.events += ws[i].window.events;
		all.ok += ws[i].window.ok;
		lat_hist_merge(&all.lat, &ws[i].window.lat);
		for (k = 0; k <= NSTATUS; k++)
			status[k] += ws[i].status[k];
		total_requests += ws[i].total_requests;
		total_sent += ws[i].total_events_sent;
		total_acked += ws[i].total_events_acked;
		io_errors += ws[i].io_errors;
		connect_errors += ws[i].connect_errors;
		bad += ws[i].bad_responses;
		abandoned_requests += ws[i].abandoned_requests;
		abandoned_events += ws[i].abandoned_events;
		free(ws[i].conns);
		free(ws[i].idle);
		free(ws[i].body);
	}
	free(ws);
	for (i = 0; i < DATA_VARIANTS; i++)
		free(data_variants[i]);
	freeaddrinfo(target);

	codes[0] = '\0';
	for (k = 0; k <= NSTATUS; k++) {
		if (status[k] == 0)
			continue;
		if (k < 200 || k >= 300)
			non2xx += status[k];
		n = snprintf(codes + clen, sizeof codes - clen, "%s%s%u:%" PRIu64,
		    clen > 0 ? "," : "", k == NSTATUS ? "other" : "",
		    k == NSTATUS ? 0 : k, status[k]);
		if (n > 0 && (size_t)n < sizeof codes - clen)
			clen += (size_t)n;
	}
	secs = (double)(t1 - t0) / 1e9;
	p50 = (double)lat_hist_quantile(&all.lat, 0.50) / 1000;
	p90 = (double)lat_hist_quantile(&all.lat, 0.90) / 1000;
	p99 = (double)lat_hist_quantile(&all.lat, 0.99) / 1000;
	p999 = (double)lat_hist_quantile(&all.lat, 0.999) / 1000;
	mean = all.lat.n > 0 ? all.lat.sum / (double)all.lat.n / 1000 : 0;
	printf("mode=%s batch=%u conns=%u threads=%u seconds=%.3f "
	    "requests=%" PRIu64 " events=%" PRIu64 " rps=%.0f eps=%.0f "
	    "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f "
	    "mean_ms=%.3f non2xx=%" PRIu64 " io_errors=%" PRIu64
	    " connect_errors=%" PRIu64 " bad_responses=%" PRIu64
	    " total_requests=%" PRIu64 " total_events_sent=%" PRIu64
	    " total_events_acked=%" PRIu64 " abandoned_requests=%" PRIu64
	    " abandoned_events=%" PRIu64 " id_prefix=%s codes=%s\n",
	    opt.batch == 0 ? "single" : "batch", opt.batch == 0 ? 1 : opt.batch,
	    opt.conns, opt.threads, secs, all.requests, all.events,
	    (double)all.requests / secs, (double)all.events / secs, p50, p90,
	    p99, p999, (double)all.lat.max / 1000, mean, non2xx, io_errors,
	    connect_errors, bad, total_requests, total_sent, total_acked,
	    abandoned_requests, abandoned_events, opt.prefix,
	    clen > 0 ? codes : "none");
	fflush(stdout);
	if (!opt.quiet)
		fprintf(stderr, "%s x%u over %u connections, %u threads, "
		    "%.1f s: %.0f requests/s, %.0f events/s; latency p50 %.2f "
		    "ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms; %" PRIu64
		    " not 2xx, %" PRIu64 " I/O errors\n",
		    opt.batch == 0 ? "single" : "batch",
		    opt.batch == 0 ? 1 : opt.batch, opt.conns, opt.threads,
		    secs, (double)all.requests / secs,
		    (double)all.events / secs, p50, p99, p999,
		    (double)all.lat.max / 1000, non2xx, io_errors);
	return non2xx > 0 || io_errors > 0 || bad > 0 ||
	    all.requests == 0 ? 1 : 0;
}
