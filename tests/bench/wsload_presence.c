/*
 * wsload_presence.c: the presence modes of wsload, a connection's side.
 * Every connection is a user of one presence channel (connection i is
 * user i % -U), subscribed with channel_data and the auth signed as the
 * app's server would (auth_channel_sign, with the app's secret).
 *
 *   arena   each connection sends -R client events a second to the
 *           channel (a pointer move carrying the sender, its sequence
 *           number and the CLOCK_MONOTONIC time it was sent) and counts
 *           what it gets from the others: deliveries, latency, and per
 *           sender anything lost, repeated, out of order or echoed.
 *   churn   each connection stays in the channel for a random time (0 to
 *           twice -g ms), leaves (pusher:unsubscribe, or in -x percent of
 *           leaves by closing its connection), stays out as long, and
 *           joins again; joins and leaves are counted, and the time from
 *           subscribe to subscription_succeeded. It keeps its member list
 *           as pusher-js does: from subscription_succeeded, then
 *           member_added and member_removed. At the end the main thread
 *           sets the list every connection still in must hold (wl_expected)
 *           and joins as one more user: its member_added is the last
 *           message each connection gets, and each compares its list then.
 *
 * Threads: a connection's part belongs to its worker's thread; the users'
 * counts (wl_user_tabs) and the counters of the end are atomics;
 * wl_expected is written before WL_CHECK and read-only after.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/auth.h"
#include "wsload.h"

#define TICK_MAX_NS	10000000u	/* the longest a tick may wait */
#define BEHIND_MAX_NS	1000000000u	/* sends skipped past this late */

uint64_t		*wl_expected;
_Atomic unsigned	*wl_user_tabs;

/* The words of a member bitmap: every user and the checker. */
static size_t
members_words(void)
{
	return (wl_opt.users + 1 + 63) / 64;
}

static int
bit_get(const uint64_t *b, unsigned i)
{
	return (int)(b[i / 64] >> (i % 64) & 1);
}

static void
bit_set(uint64_t *b, unsigned i)
{
	b[i / 64] |= (uint64_t)1 << (i % 64);
}

static void
bit_clear(uint64_t *b, unsigned i)
{
	b[i / 64] &= ~((uint64_t)1 << (i % 64));
}

size_t
wl_presence_subscribe_msg(char *buf, size_t cap, const char *socket_id,
    unsigned user)
{
	char data[256], auth[256];
	int n;

	/* As pusher-js sends it: channel_data is a string of JSON. */
	n = snprintf(data, sizeof data, "{\"user_id\":\"%u\",\"user_info\":"
	    "{\"name\":\"Player %u\",\"color\":\"#%06x\"}}", user, user,
	    (user * 2654435761u) & 0xffffffu);
	if (n < 0 || (size_t)n >= sizeof data)
		fatal("channel_data too long");
	if (auth_channel_sign(wl_opt.key, wl_opt.secret, socket_id,
	    wl_opt.channel, data, auth, sizeof auth) != 0)
		fatal("cannot sign the presence auth");
	n = snprintf(buf, cap, "{\"event\":\"pusher:subscribe\",\"data\":"
	    "{\"channel\":\"%s\",\"auth\":\"%s\",\"channel_data\":"
	    "\"{\\\"user_id\\\":\\\"%u\\\",\\\"user_info\\\":{\\\"name\\\":"
	    "\\\"Player %u\\\",\\\"color\\\":\\\"#%06x\\\"}}\"}}",
	    wl_opt.channel, auth, user, user,
	    (user * 2654435761u) & 0xffffffu);
	if (n < 0 || (size_t)n >= cap)
		fatal("subscribe message too long");
	return (size_t)n;
}

int
wl_presence_members(const char *m, size_t len, uint64_t *bits,
    unsigned *n)
{
	const char *p, *end = m + len;
	int64_t count;
	unsigned id;
	int bad = 0;

	memset(bits, 0, members_words() * sizeof *bits);
	*n = 0;
	p = memmem(m, len, "ids\\\":[", 7);
	if (p == NULL)
		return -1;
	for (p += 7; p < end && *p != ']'; ) {
		if (*p < '0' || *p > '9') {
			p++;
			continue;
		}
		for (id = 0; p < end && *p >= '0' && *p <= '9'; p++)
			id = id * 10 + (unsigned)(*p - '0');
		if (id > wl_opt.users || bit_get(bits, id)) {
			bad = 1;	/* not one of ours, or twice */
			continue;
		}
		bit_set(bits, id);
		(*n)++;
	}
	count = wl_find_uint(m, len, "count");
	if (count != (int64_t)*n)
		bad = 1;
	return bad ? -1 : 0;
}

void
wl_presence_init(struct wl_conn *c)
{
	struct wl_presence *pr = &c->pr;

	memset(pr, 0, sizeof *pr);
	if (wl_opt.mode == WL_CHURN) {
		pr->members = calloc(members_words(), sizeof *pr->members);
		if (pr->members == NULL)
			fatal("out of memory");
	} else {
		pr->from_seq = calloc(wl_opt.conns, sizeof *pr->from_seq);
		if (pr->from_seq == NULL)
			fatal("out of memory");
	}
}

void
wl_presence_free(struct wl_conn *c)
{
	free(c->pr.members);
	free(c->pr.from_seq);
	c->pr.members = NULL;
	c->pr.from_seq = NULL;
}

/* A random wait for churn: 0 to twice the mean hold time. */
static uint64_t
churn_wait(struct wl_worker *w)
{
	return wl_random(&w->rng) % ((uint64_t)(wl_opt.hold_ms * 2e6) + 1);
}

int
wl_presence_subscribe(struct wl_conn *c)
{
	char buf[1024];
	size_t len;

	len = wl_presence_subscribe_msg(buf, sizeof buf, c->pr.socket_id,
	    c->index % wl_opt.users);
	c->pr.sub_ns = now_ns();
	if (wl_opt.mode == WL_CHURN && c->nfl == 0) {
		/* A join under way: conn_close gives it up if c fails. */
		c->nfl = 1;
		atomic_fetch_add(&wl_inflight, 1);
	}
	return wl_conn_send(c, buf, len);
}

/* Copies the socket id out of connection_established. */
static void
presence_socket_id(struct wl_conn *c, const char *m, size_t len)
{
	const char *p, *end = m + len;
	size_t n = 0;

	c->pr.socket_id[0] = '\0';
	p = memmem(m, len, "socket_id", 9);
	if (p == NULL)
		return;
	for (p += 9; p < end && (*p == '"' || *p == '\\' || *p == ':' ||
	    *p == ' '); p++)
		;
	while (p < end && *p != '"' && *p != '\\' &&
	    n + 1 < sizeof c->pr.socket_id)
		c->pr.socket_id[n++] = *p++;
	c->pr.socket_id[n] = '\0';
}

/* Churn: c's subscription succeeded; m carries the member list. */
static void
churn_joined(struct wl_conn *c, const char *m, size_t len)
{
	struct wl_worker *w = c->w;
	unsigned user = c->index % wl_opt.users;

	if (wl_presence_members(m, len, c->pr.members, &c->pr.nmembers) ==
	    -1 || !bit_get(c->pr.members, user)) {
		w->st.member_errors++;
		if (w->st.member_errors <= 3)
			fprintf(stderr, "wsload: connection %u: a member list "
			    "that cannot be right: %.*s\n", c->index,
			    (int)(len < 300 ? len : 300), m);
	}
	if (c->nfl > 0) {
		c->nfl = 0;
		atomic_fetch_sub(&wl_inflight, 1);
	}
	c->pr.in = 1;
	atomic_fetch_add(&wl_user_tabs[user], 1);
	w->st.joins_total++;
	if (atomic_load_explicit(&wl_phase, memory_order_relaxed) ==
	    WL_MEASURE) {
		w->st.joins++;
		lat_hist_record(&w->st.lat, (w->now - c->pr.sub_ns) / 1000);
	}
	c->pr.next_ns = w->now + churn_wait(w);
}

/* Churn: member_added (added) or member_removed of the user in m. */
static void
churn_member(struct wl_conn *c, const char *m, size_t len, int added)
{
	struct wl_stats *st = &c->w->st;
	int64_t id;
	size_t i;

	if (c->st != CS_READY)
		return;		/* for a subscription it has left */
	id = wl_find_uint(m, len, "user_id");
	if (id < 0 || id > (int64_t)wl_opt.users) {
		st->member_errors++;
		return;
	}
	if (atomic_load_explicit(&wl_phase, memory_order_relaxed) ==
	    WL_MEASURE)
		st->deliveries++;
	if (id == (int64_t)wl_opt.users) {
		/* The checker: nothing comes after it (but its leave). */
		if (!added || c->pr.checked || wl_expected == NULL)
			return;
		c->pr.checked = 1;
		for (i = 0; i < members_words(); i++)
			if (c->pr.members[i] != wl_expected[i])
				break;
		if (i < members_words())
			atomic_fetch_add(&wl_mismatched, 1);
		atomic_fetch_add(&wl_checked, 1);
		return;
	}
	if (added == bit_get(c->pr.members, (unsigned)id)) {
		st->member_errors++;
		if (st->member_errors <= 3)
			fprintf(stderr, "wsload: connection %u: member %s of "
			    "user %lld, which it %s\n", c->index, added ?
			    "added" : "removed", (long long)id, added ?
			    "had already" : "did not have");
		return;
	}
	if (added) {
		bit_set(c->pr.members, (unsigned)id);
		c->pr.nmembers++;
	} else {
		bit_clear(c->pr.members, (unsigned)id);
		c->pr.nmembers--;
	}
}

/* Arena: one client event from another connection. */
static void
arena_delivery(struct wl_conn *c, const char *m, size_t len)
{
	struct wl_stats *st = &c->w->st;
	int64_t from, seq, t;
	uint64_t now = c->w->now;

	from = wl_find_uint(m, len, "wsload_from");
	seq = wl_find_uint(m, len, "wsload_seq");
	t = wl_find_uint(m, len, "wsload_t");
	if (from < 0 || seq < 0 || t < 0 || from >= (int64_t)wl_opt.conns ||
	    from == (int64_t)c->index) {
		st->bad_deliveries++;
		if (st->bad_deliveries <= 3)
			fprintf(stderr, "wsload: connection %u: %s: %.*s\n",
			    c->index, from == (int64_t)c->index ?
			    "its own event echoed" : "a delivery without "
			    "sender, sequence or time",
			    (int)(len < 300 ? len : 300), m);
		return;
	}
	wl_conn_delivered(st, &c->pr.from_seq[from], (uint64_t)seq,
	    (uint64_t)t, now);
}

static int
name_is(const char *name, size_t nlen, const char *s)
{
	return nlen == strlen(s) && memcmp(name, s, nlen) == 0;
}

int
wl_presence_message(struct wl_conn *c, const char *name, size_t nlen,
    const char *m, size_t len)
{
	if (wl_opt.mode == WL_ARENA && name_is(name, nlen,
	    wl_opt.event_name)) {
		arena_delivery(c, m, len);
		return 1;
	}
	if (name_is(name, nlen, "pusher:connection_established")) {
		presence_socket_id(c, m, len);
		return 0;	/* the connection code subscribes */
	}
	if (name_is(name, nlen, "pusher_internal:subscription_succeeded")) {
		if (c->st != CS_SUBSCRIBING)
			return 0;
		if (wl_opt.mode == WL_CHURN)
			churn_joined(c, m, len);
		wl_conn_ready(c);
		return 1;
	}
	if (name_is(name, nlen, "pusher_internal:member_added") ||
	    name_is(name, nlen, "pusher_internal:member_removed")) {
		if (wl_opt.mode == WL_CHURN)
			churn_member(c, m, len, name_is(name, nlen,
			    "pusher_internal:member_added"));
		return 1;
	}
	return 0;
}

/* Arena: sends c's client events that are due; returns when the next is. */
static uint64_t
arena_send(struct wl_conn *c, uint64_t now, int measure, uint64_t *sent)
{
	struct wl_worker *w = c->w;
	uint64_t period = (uint64_t)(1e9 / wl_opt.rate), t;
	char buf[512];
	unsigned r;
	int n;

	if (c->pr.next_ns == 0) {
		/* Spread over the period: connection i starts i/N in. */
		c->pr.next_ns = now + period * c->index / wl_opt.conns;
		return c->pr.next_ns;
	}
	if (now > c->pr.next_ns + BEHIND_MAX_NS) {
		/* Far behind (the machine was busy): skip, do not burst. */
		w->st.behind += (now - c->pr.next_ns) / period;
		c->pr.next_ns += (now - c->pr.next_ns) / period * period;
	}
	while (c->pr.next_ns <= now && c->st == CS_READY) {
		r = (unsigned)wl_random(&w->rng);
		t = now_ns();
		n = snprintf(buf, sizeof buf, "{\"event\":\"%s\",\"channel\":"
		    "\"%s\",\"data\":{\"x\":0.%04u,\"y\":0.%04u,"
		    "\"wsload_from\":%u,\"wsload_seq\":%llu,"
		    "\"wsload_t\":%llu}}", wl_opt.event_name, wl_opt.channel,
		    r % 10000, (r >> 16) % 10000, c->index,
		    (unsigned long long)c->pr.seq, (unsigned long long)t);
		c->pr.seq++;
		c->pr.next_ns += period;
		w->st.sent++;
		(*sent)++;
		if (measure)
			w->st.sent_window++;
		if (wl_conn_send(c, buf, (size_t)n) == -1)
			break;
	}
	return c->pr.next_ns;
}

/* Churn: c's next move, if due: leave, or join again. */
static void
churn_move(struct wl_conn *c, uint64_t now, int measure)
{
	static const char unsub_fmt[] = "{\"event\":\"pusher:unsubscribe\","
	    "\"data\":{\"channel\":\"%s\"}}";
	struct wl_worker *w = c->w;
	char buf[512];
	int n;

	if (c->pr.next_ns == 0) {
		c->pr.next_ns = now + churn_wait(w);
		return;
	}
	if (now < c->pr.next_ns)
		return;
	c->pr.next_ns = now + churn_wait(w);
	switch (c->st) {
	case CS_READY:
		c->pr.in = 0;
		atomic_fetch_sub(&wl_user_tabs[c->index % wl_opt.users], 1);
		w->st.leaves_total++;
		if (measure)
			w->st.leaves++;
		if (wl_random(&w->rng) % 100 < wl_opt.close_pct) {
			wl_conn_hangup(c);
			return;
		}
		n = snprintf(buf, sizeof buf, unsub_fmt, wl_opt.channel);
		c->st = CS_OPEN;
		wl_conn_send(c, buf, (size_t)n);
		return;
	case CS_OPEN:
		/* Not yet greeted (no socket id): the connection code will
		 * subscribe then. */
		if (c->pr.socket_id[0] == '\0')
			return;
		c->st = CS_SUBSCRIBING;
		wl_presence_subscribe(c);
		return;
	case CS_NEW:
		/* Counted as under way from here: the join starts now. */
		c->nfl = 1;
		atomic_fetch_add(&wl_inflight, 1);
		c->pr.socket_id[0] = '\0';
		wl_conn_connect(c);
		return;
	default:
		return;		/* a move under way */
	}
}

uint64_t
wl_presence_tick(struct wl_worker *w)
{
	uint64_t now = now_ns(), next = now + TICK_MAX_NS, due, sent = 0;
	struct wl_conn *c;
	unsigned i;
	int ph, measure;

	ph = atomic_load_explicit(&wl_phase, memory_order_relaxed);
	if (ph != WL_WARMUP && ph != WL_MEASURE)
		return TICK_MAX_NS;
	measure = ph == WL_MEASURE;
	for (i = 0; i < w->nconns; i++) {
		c = &w->conns[i];
		if (wl_opt.mode == WL_ARENA) {
			if (c->st != CS_READY)
				continue;
			due = arena_send(c, now, measure, &sent);
			if (due < next)
				next = due;
		} else
			churn_move(c, now, measure);
	}
	if (sent > 0)
		atomic_fetch_add(&wl_sent, sent);
	if (wl_opt.mode == WL_CHURN)
		return 1000000;	/* a millisecond: moves are spread */
	now = now_ns();
	return next > now ? next - now : 0;
}

/* The value of metric name (a line "name value") in text, or -1. */
static int64_t
metric_value(const char *text, size_t len, const char *name)
{
	char key[128];
	const char *p;
	int n;

	n = snprintf(key, sizeof key, "\n%s ", name);
	p = memmem(text, len, key, (size_t)n);
	if (p == NULL)
		return -1;
	return wl_find_uint(p + 1, len - (size_t)(p + 1 - text), name);
}

/*
 * Waits (up to the drain time) until sluiced's /metrics count the
 * subscriptions and members we do: every leave, closes included, is done
 * on its side. Returns 0, or -1 when they never agreed.
 */
static int
churn_settle(struct wl_churn_end *e)
{
	struct wl_bconn bc;
	const char *reply;
	size_t total;
	unsigned status;
	uint64_t deadline = now_ns() + (uint64_t)(wl_opt.drain_s * 1e9);
	int64_t subs = -1, members = -1;
	long len;
	int rc = -1;

	if (wl_bconn_open(&bc, 0, "metrics", e->error, sizeof e->error) ==
	    -1) {
		wl_bconn_close(&bc);
		return -1;
	}
	do {
		len = wl_bconn_http(&bc, "GET", "/metrics", NULL, 0, &status,
		    &reply, &total);
		if (len < 0)
			break;
		subs = metric_value(reply, (size_t)len,
		    "sluice_hub_subscriptions");
		members = metric_value(reply, (size_t)len,
		    "sluice_presence_members");
		wl_bconn_consume(&bc, total);
		if (status == 200 && subs == (int64_t)e->subscribed &&
		    members == (int64_t)e->members) {
			rc = 0;
			break;
		}
		usleep(50000);
	} while (now_ns() < deadline);
	e->server_subs = subs;
	e->server_members = members;
	wl_bconn_close(&bc);
	return rc;
}

/*
 * The fresh subscriber: joins as the checker's user and compares the
 * member list it gets with wl_expected (and itself). Returns 0 when they
 * are the same.
 */
static int
churn_fresh(struct wl_churn_end *e, struct wl_bconn *bc)
{
	uint64_t *got;
	const char *m;
	char buf[1024];
	size_t len, flen, i;
	long mlen;
	int rc = -1;

	if (wl_bconn_open(bc, 1, "fresh subscriber", e->error,
	    sizeof e->error) == -1)
		return -1;
	len = wl_presence_subscribe_msg(buf, sizeof buf, bc->socket_id,
	    wl_opt.users);
	if (wl_bconn_ws_send(bc, buf, len) == -1)
		return -1;
	mlen = wl_bconn_ws_wait(bc, "pusher_internal:subscription_succeeded",
	    "pusher:subscription_error", &m, &flen);
	if (mlen < 0)
		return -1;
	got = calloc(members_words(), sizeof *got);
	if (got == NULL)
		fatal("out of memory");
	if (memmem(m, (size_t)mlen, "subscription_error", 18) != NULL)
		snprintf(e->error, sizeof e->error, "fresh subscriber: %.*s",
		    (int)(mlen < 200 ? mlen : 200), m);
	else if (wl_presence_members(m, (size_t)mlen, got,
	    &e->fresh_members) == -1 || !bit_get(got, wl_opt.users))
		snprintf(e->error, sizeof e->error, "fresh subscriber: a "
		    "member list that cannot be right");
	else {
		bit_clear(got, wl_opt.users);
		e->fresh_members--;
		for (i = 0; i < members_words(); i++)
			if (got[i] != wl_expected[i])
				break;
		rc = i == members_words() ? 0 : -1;
	}
	wl_bconn_consume(bc, flen);
	free(got);
	return rc;
}

void
wl_churn_check(struct wl_churn_end *e)
{
	struct wl_bconn bc;
	uint64_t deadline;
	unsigned u, tabs;

	memset(e, 0, sizeof *e);
	/* The joins under way finish; nobody moves any more. */
	deadline = now_ns() + (uint64_t)(wl_opt.drain_s * 1e9);
	while (atomic_load(&wl_inflight) > 0 && now_ns() < deadline)
		usleep(10000);
	e->joins_unfinished = (unsigned)atomic_load(&wl_inflight);
	wl_expected = calloc(members_words(), sizeof *wl_expected);
	if (wl_expected == NULL)
		fatal("out of memory");
	for (u = 0; u < wl_opt.users; u++) {
		tabs = atomic_load(&wl_user_tabs[u]);
		e->subscribed += tabs;
		if (tabs > 0) {
			bit_set(wl_expected, u);
			e->members++;
		}
	}
	e->settled = churn_settle(e) == 0;
	/* Each connection still in compares its list when the fresh
	 * subscriber's member_added comes: the last message it gets. */
	atomic_store(&wl_phase, WL_CHECK);
	e->fresh_ok = churn_fresh(e, &bc) == 0;
	deadline = now_ns() + (uint64_t)(wl_opt.drain_s * 1e9);
	while (atomic_load(&wl_checked) < e->subscribed && now_ns() < deadline)
		usleep(10000);
	e->checked = atomic_load(&wl_checked);
	e->mismatched = atomic_load(&wl_mismatched);
	wl_bconn_close(&bc);
}
