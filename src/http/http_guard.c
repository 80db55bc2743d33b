/*
 * http_guard.c: the per-client connection limit and the deadlines of a
 * request's head and body (see http_guard.h). libmicrohttpd's timeout is
 * an idle one, which a client sending a byte every few seconds never
 * reaches, so the deadlines are kept here: a table of clients by address,
 * a list of connections with their deadlines, and a thread that answers
 * the late ones 408 and shuts their sockets down, which libmicrohttpd then
 * sees as the client leaving. One lock guards it all; libmicrohttpd calls
 * the CLOSED notification before it closes the socket, so a socket in the
 * list is always open.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/isotime.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/netaddr.h"
#include "core/sluice.h"
#include "http/http_guard.h"

#define HTTP_GUARD_BUCKETS	1024
#define HTTP_GUARD_TICK_MS	250		/* deadlines checked */
#define HTTP_GUARD_LOG_US	(60LL * 1000 * 1000) /* per client */

enum http_guard_phase {
	HTTP_GUARD_NONE,	/* no deadline: answering, or dropped */
	HTTP_GUARD_HEAD,
	HTTP_GUARD_BODY
};

/* One client address with connections open, or dropped lately. */
struct http_guard_client {
	struct http_guard_client	*next;		/* in its bucket */
	unsigned			 conns;
	int				 exempt;	/* a trusted proxy */
	uint64_t			 dropped;	/* since the last line */
	int64_t				 logged_us;	/* 0: never */
	size_t				 keylen;
	uint8_t				 key[16];
	char				 ip[NETADDR_STRLEN];
};

/* One connection: libmicrohttpd's socket context. */
struct http_guard_conn {
	struct http_guard_conn		*prev, *next;
	struct http_guard_client	*client;	/* NULL: unknown */
	int				 fd;
	enum http_guard_phase		 phase;
	int64_t				 deadline_us;
	uint64_t			 body_bytes;
};

struct http_guard {
	const struct config		*cfg;
	pthread_t			 thread;
	pthread_mutex_t			 lock;		/* guards what follows */
	pthread_cond_t			 wake;
	int				 stop;
	struct http_guard_conn		*conns;
	struct http_guard_client	*buckets[HTTP_GUARD_BUCKETS];
};

/* FNV-1a over an address's bytes. */
static size_t
http_guard_hash(const uint8_t *key, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= key[i];
		h *= 16777619u;
	}
	return h % HTTP_GUARD_BUCKETS;
}

/* The client entry of addr, made if needed. NULL when addr is of no
 * known family or out of memory (then the connection is not limited).
 * Under g->lock. */
static struct http_guard_client *
http_guard_client_get(struct http_guard *g, const struct sockaddr *addr)
{
	struct http_guard_client *cl;
	const void *bytes;
	size_t n, b;

	if (addr == NULL)
		return NULL;
	if (addr->sa_family == AF_INET) {
		bytes = &((const struct sockaddr_in *)(const void *)addr)->
		    sin_addr;
		n = 4;
	} else if (addr->sa_family == AF_INET6) {
		bytes = &((const struct sockaddr_in6 *)(const void *)addr)->
		    sin6_addr;
		n = 16;
	} else
		return NULL;
	b = http_guard_hash(bytes, n);
	for (cl = g->buckets[b]; cl != NULL; cl = cl->next)
		if (cl->keylen == n && memcmp(cl->key, bytes, n) == 0)
			return cl;
	cl = calloc(1, sizeof *cl);
	if (cl == NULL)
		return NULL;
	cl->keylen = n;
	memcpy(cl->key, bytes, n);
	if (inet_ntop(addr->sa_family, bytes, cl->ip, sizeof cl->ip) == NULL)
		snprintf(cl->ip, sizeof cl->ip, "?");
	cl->exempt = netaddr_list_contains(&g->cfg->trusted_proxies, cl->ip);
	cl->next = g->buckets[b];
	g->buckets[b] = cl;
	return cl;
}

/* Frees cl if it has no connection and its last line is old enough to
 * be forgotten. Under g->lock. */
static void
http_guard_client_put(struct http_guard *g, struct http_guard_client *cl,
    int64_t now)
{
	struct http_guard_client **pp;

	if (cl->conns > 0 || (cl->logged_us != 0 &&
	    now - cl->logged_us < HTTP_GUARD_LOG_US))
		return;
	for (pp = &g->buckets[http_guard_hash(cl->key, cl->keylen)];
	    *pp != cl; pp = &(*pp)->next)
		;
	*pp = cl->next;
	free(cl);
}

/* Counts a connection of cl dropped and logs it, once per client per
 * HTTP_GUARD_LOG_US with the count since. Under g->lock. */
static void
http_guard_dropped(struct http_guard_client *cl, int64_t now,
    const char *why)
{
	if (cl == NULL)
		return;
	cl->dropped++;
	if (cl->logged_us != 0 && now - cl->logged_us < HTTP_GUARD_LOG_US)
		return;
	log_warn("http", "client %s: %s; %llu of its connections dropped "
	    "since the last line about it (one a minute at most)", cl->ip,
	    why, (unsigned long long)cl->dropped);
	cl->logged_us = now;
	cl->dropped = 0;
}

/* Writes a whole short reply on fd, without waiting, and shuts the
 * socket down: libmicrohttpd reads the end and closes it. */
static void
http_guard_reply_close(int fd, unsigned status, const char *reason,
    const char *code, const char *message)
{
	char body[300], head[300];
	int nb, nh;

	nb = snprintf(body, sizeof body, "{\"error\":\"%s\",\"message\":"
	    "\"%s\"}", code, message);
	if (nb < 0 || (size_t)nb >= sizeof body)
		nb = 0;
	nh = snprintf(head, sizeof head, "HTTP/1.1 %u %s\r\nContent-Type: "
	    "application/json\r\nContent-Length: %d\r\nConnection: close\r\n"
	    "%s\r\n", status, reason, nb, status == 429 ?
	    "Retry-After: 1\r\n" : "");
	if (nh > 0 && (size_t)nh < sizeof head &&
	    send(fd, head, (size_t)nh, MSG_NOSIGNAL | MSG_DONTWAIT |
	    MSG_MORE) == nh && nb > 0)
		(void)send(fd, body, (size_t)nb, MSG_NOSIGNAL | MSG_DONTWAIT);
	metrics_http_request(status);
	(void)shutdown(fd, SHUT_RDWR);
}

/* The guard's record of c, or NULL. */
static struct http_guard_conn *
http_guard_conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info;

	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info != NULL ? info->socket_context : NULL;
}

/* Counts c in, refusing it (429) when its client is at the limit. */
static void
http_guard_opened(struct http_guard *g, struct MHD_Connection *c,
    void **socket_context)
{
	const union MHD_ConnectionInfo *info;
	const struct sockaddr *addr = NULL;
	struct http_guard_conn *hc;
	struct http_guard_client *cl;
	unsigned limit = g->cfg->http_max_per_client;
	int64_t now = isotime_mono_us();
	char why[160];
	int refuse = 0;

	hc = calloc(1, sizeof *hc);
	if (hc == NULL)
		return;		/* not guarded; the limits do not see it */
	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	hc->fd = info != NULL ? info->connect_fd : -1;
	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (info != NULL)
		addr = info->client_addr;
	pthread_mutex_lock(&g->lock);
	cl = http_guard_client_get(g, addr);
	if (cl != NULL && !cl->exempt && cl->conns >= limit) {
		refuse = 1;
		snprintf(why, sizeof why, "connection refused (429): it has "
		    "%u open, http_max_connections_per_client", cl->conns);
		http_guard_dropped(cl, now, why);
		hc->phase = HTTP_GUARD_NONE;
		http_guard_client_put(g, cl, now);
	} else {
		hc->client = cl;
		if (cl != NULL)
			cl->conns++;
		hc->phase = HTTP_GUARD_HEAD;
		hc->deadline_us = now +
		    (int64_t)g->cfg->http_header_timeout_s * 1000000;
	}
	hc->next = g->conns;
	if (g->conns != NULL)
		g->conns->prev = hc;
	g->conns = hc;
	pthread_mutex_unlock(&g->lock);
	*socket_context = hc;
	metrics_http_connections(1);
	if (refuse && hc->fd >= 0) {
		metrics_http_refused();
		snprintf(why, sizeof why, "this address has %u connections "
		    "open, the most allowed; close one or retry later", limit);
		http_guard_reply_close(hc->fd, 429, "Too Many Requests",
		    "too_many_connections", why);
	}
}

/* Counts c out. */
static void
http_guard_closed(struct http_guard *g, void **socket_context)
{
	struct http_guard_conn *hc = *socket_context;

	if (hc == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	if (hc->prev != NULL)
		hc->prev->next = hc->next;
	else
		g->conns = hc->next;
	if (hc->next != NULL)
		hc->next->prev = hc->prev;
	if (hc->client != NULL) {
		hc->client->conns--;
		http_guard_client_put(g, hc->client, isotime_mono_us());
	}
	pthread_mutex_unlock(&g->lock);
	free(hc);
	*socket_context = NULL;
	metrics_http_connections(-1);
}

void
http_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct http_guard *g = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		http_guard_opened(g, c, socket_context);
	else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
		http_guard_closed(g, socket_context);
}

/* Sets c's phase and its deadline, seconds from now. */
static void
http_guard_set(struct http_guard *g, struct MHD_Connection *c,
    enum http_guard_phase phase, uint64_t seconds, uint64_t body_bytes)
{
	struct http_guard_conn *hc = http_guard_conn_of(c);

	if (hc == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	/* A connection refused or past its deadline stays so. */
	if (hc->phase != HTTP_GUARD_NONE || phase != HTTP_GUARD_BODY) {
		hc->phase = phase;
		hc->body_bytes = body_bytes;
		hc->deadline_us = isotime_mono_us() +
		    (int64_t)seconds * 1000000;
	}
	pthread_mutex_unlock(&g->lock);
}

void
http_guard_head_done(struct http_guard *g, struct MHD_Connection *c,
    uint64_t body_bytes)
{
	const struct config *cfg = g->cfg;

	if (body_bytes == 0)
		http_guard_set(g, c, HTTP_GUARD_NONE, 0, 0);
	else
		http_guard_set(g, c, HTTP_GUARD_BODY, cfg->http_header_timeout_s
		    + (body_bytes + cfg->http_body_min_rate - 1) /
		    cfg->http_body_min_rate, body_bytes);
}

void
http_guard_body_done(struct http_guard *g, struct MHD_Connection *c)
{
	http_guard_set(g, c, HTTP_GUARD_NONE, 0, 0);
}

void
http_guard_request_done(struct http_guard *g, struct MHD_Connection *c)
{
	const struct config *cfg = g->cfg;

	/* An idle kept-alive connection is libmicrohttpd's to time out. */
	http_guard_set(g, c, HTTP_GUARD_HEAD, cfg->http_timeout_s >
	    cfg->http_header_timeout_s ? cfg->http_timeout_s :
	    cfg->http_header_timeout_s, 0);
}

/* Answers 408 and closes every connection past its deadline. Under
 * g->lock. */
static void
http_guard_sweep(struct http_guard *g, int64_t now)
{
	const struct config *cfg = g->cfg;
	struct http_guard_conn *hc;
	char why[200];
	int body;

	for (hc = g->conns; hc != NULL; hc = hc->next) {
		if (hc->phase == HTTP_GUARD_NONE || now < hc->deadline_us)
			continue;
		body = hc->phase == HTTP_GUARD_BODY;
		hc->phase = HTTP_GUARD_NONE;
		metrics_http_deadline(body);
		if (body)
			snprintf(why, sizeof why, "the request's body of %llu "
			    "bytes did not arrive within %llu s "
			    "(http_header_timeout and http_body_min_rate)",
			    (unsigned long long)hc->body_bytes,
			    (unsigned long long)(cfg->http_header_timeout_s +
			    (hc->body_bytes + cfg->http_body_min_rate - 1) /
			    cfg->http_body_min_rate));
		else
			snprintf(why, sizeof why, "the request's head did not "
			    "arrive in time (http_header_timeout %u s)",
			    cfg->http_header_timeout_s);
		http_guard_dropped(hc->client, now, why);
		if (hc->fd >= 0)
			http_guard_reply_close(hc->fd, 408, "Request Timeout",
			    "request_timeout", why);
	}
}

/* Forgets the clients with no connection whose last line is old. Under
 * g->lock. */
static void
http_guard_forget(struct http_guard *g, int64_t now)
{
	struct http_guard_client *cl, *next;
	size_t b;

	for (b = 0; b < HTTP_GUARD_BUCKETS; b++)
		for (cl = g->buckets[b]; cl != NULL; cl = next) {
			next = cl->next;
			http_guard_client_put(g, cl, now);
		}
}

/* The timer thread: a sweep each tick until stopped. */
static void *
http_guard_run(void *arg)
{
	struct http_guard *g = arg;
	struct timespec at;
	unsigned ticks = 0;

	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		clock_gettime(CLOCK_MONOTONIC, &at);
		at.tv_nsec += HTTP_GUARD_TICK_MS * 1000000L;
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		while (!g->stop && pthread_cond_timedwait(&g->wake, &g->lock,
		    &at) != ETIMEDOUT)
			;
		if (g->stop)
			break;
		http_guard_sweep(g, isotime_mono_us());
		if (++ticks % 40 == 0)
			http_guard_forget(g, isotime_mono_us());
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

int
http_guard_start(const struct config *cfg, struct http_guard **out)
{
	struct http_guard *g;
	pthread_condattr_t ca;

	g = calloc(1, sizeof *g);
	if (g == NULL)
		return SLUICE_ENOMEM;
	g->cfg = cfg;
	pthread_mutex_init(&g->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&g->thread, NULL, http_guard_run, g) != 0) {
		pthread_cond_destroy(&g->wake);
		pthread_mutex_destroy(&g->lock);
		free(g);
		return SLUICE_ENOMEM;
	}
	*out = g;
	return SLUICE_OK;
}

void
http_guard_stop(struct http_guard *g)
{
	struct http_guard_client *cl, *next;
	struct http_guard_conn *hc, *hnext;
	size_t b;

	if (g == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	g->stop = 1;
	pthread_cond_signal(&g->wake);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	for (hc = g->conns; hc != NULL; hc = hnext) {
		hnext = hc->next;
		free(hc);
	}
	for (b = 0; b < HTTP_GUARD_BUCKETS; b++)
		for (cl = g->buckets[b]; cl != NULL; cl = next) {
			next = cl->next;
			free(cl);
		}
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->lock);
	free(g);
}
