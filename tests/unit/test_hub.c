/*
 * test_hub.c: the fan-out hub with a recording delivery function and a
 * wakeup counter: subscriptions, apps as separate namespaces, the interest
 * check, delivery to exactly the subscribers of a channel, a table of many
 * channels, the event frame's text, the hand-off of frames from other
 * threads (wakeups, order, release, closing), four threads offering
 * while the service thread drains, delivery that skips one subscriber,
 * exact counts, hub_publish on and off the service thread, queries
 * posted from other threads, and the inbox's bound (frames dropped and
 * counted, their subscribers told after the frames before the drop).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "unit.h"
#include "core/metrics.h"
#include "core/sluice.h"
#include "hub/hub.h"
#include "ws/pusher.h"

/* What the hub delivered, in order. */
struct delivery {
	void		*conn;
	struct frame	*f;
	int64_t		 accepted_us;
	uint64_t	 seq;
	unsigned	 refs;		/* f's references when delivered */
};

#define LOG_MAX 50000
static struct delivery	 log_items[LOG_MAX];
static size_t		 log_len;
static int		 log_overflow;
static atomic_uint	 wakeups;
static void		*missed_subs[LOG_MAX];	/* told, in order */
static size_t		 missed_len;
static size_t		 missed_after;	/* log_len at the first telling */
static sem_t		*wake_sem;	/* posted by each wakeup when set */

/* Apps are known to the hub by their index. */
#define APP_A 0u
#define APP_B 1u

/* Connections are just distinct addresses. */
#define CONNS 300
static char conns[CONNS];
#define CONN(i) ((void *)&conns[(i)])

static void
record(void *conn, struct frame *f)
{
	struct delivery *d;

	if (log_len == LOG_MAX) {
		log_overflow = 1;
		return;
	}
	d = &log_items[log_len++];
	d->conn = conn;
	d->f = f;
	d->accepted_us = f->accepted_us;
	d->seq = f->seq;
	d->refs = atomic_load(&f->refs);
}

/* The hub's ops.missed: records who was told. */
static void
missed(void *conn)
{
	if (missed_len == 0)
		missed_after = log_len;
	if (missed_len < LOG_MAX)
		missed_subs[missed_len++] = conn;
}

/* How many times conn was told it missed frames. */
static size_t
told(void *conn)
{
	size_t i, n = 0;

	for (i = 0; i < missed_len; i++)
		if (missed_subs[i] == conn)
			n++;
	return n;
}

static void
wakeup(void *arg)
{
	atomic_fetch_add((atomic_uint *)arg, 1);
	if (wake_sem != NULL)
		sem_post(wake_sem);
}

static void
log_reset(void)
{
	log_len = 0;
}

/* The Pusher encoder, as the WebSocket gateway attaches it. */
static struct frame *
encode(const struct hub_event *ev, void *arg)
{
	(void)arg;
	return pusher_event_frame(ev, PUSHER_FORMAT_PUSHER);
}

/* The frame of an event, as hub_publish would have it encoded. */
static struct frame *
hub_event_frame(unsigned app, const char *channel, size_t channel_len,
    const char *name, size_t name_len, const char *envelope,
    size_t envelope_len, int64_t accepted_us)
{
	struct hub_event ev;

	memset(&ev, 0, sizeof ev);
	ev.app = app;
	ev.channel = channel;
	ev.channel_len = channel_len;
	ev.event = name;
	ev.event_len = name_len;
	ev.envelope = envelope;
	ev.envelope_len = envelope_len;
	/* The envelope published as the data: a string of its text. */
	ev.data = envelope;
	ev.data_len = envelope_len;
	ev.accepted_us = accepted_us;
	return pusher_event_frame(&ev, PUSHER_FORMAT_PUSHER);
}

static struct hub *
hub_make(void)
{
	struct hub_ops ops;
	struct hub *h;

	log_reset();
	log_overflow = 0;
	missed_len = 0;
	missed_after = 0;
	atomic_store(&wakeups, 0);
	wake_sem = NULL;
	h = hub_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	memset(&ops, 0, sizeof ops);
	ops.missed = missed;
	ops.encode = encode;
	ops.deliver = record;
	ops.wakeup = wakeup;
	ops.arg = &wakeups;
	hub_attach(h, &ops);
	return h;
}

/* How many times conn got f in the log. */
static size_t
got(void *conn, struct frame *f)
{
	size_t i, n = 0;

	for (i = 0; i < log_len; i++)
		if (log_items[i].conn == conn && log_items[i].f == f)
			n++;
	return n;
}

/* An event frame for channel of app. */
static struct frame *
event(unsigned app, const char *channel, int64_t at)
{
	static const char env[] = "{\"id\":\"x\"}";
	struct frame *f;

	f = hub_event_frame(app, channel, strlen(channel), "e", 1, env,
	    sizeof env - 1, at);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	return f;
}

static unsigned
refs(struct frame *f)
{
	return atomic_load(&f->refs);
}

static void
TEST_subscribe_unsubscribe(void)
{
	struct hub_channel *ch, *ch2, *ch3;
	struct frame *f;
	char name[16] = "events";
	struct hub *h;

	h = hub_make();
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, name, CONN(1), &ch),
	    SLUICE_OK);
	/* The name is copied. */
	strcpy(name, "other");
	CU_ASSERT_STRING_EQUAL(hub_channel_name(ch), "events");
	CU_ASSERT_EQUAL(hub_channel_subscribers(ch), 1);
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "events", CONN(2), &ch2),
	    SLUICE_OK);
	CU_ASSERT_PTR_EQUAL(ch2, ch);
	CU_ASSERT_EQUAL(hub_channel_subscribers(ch), 2);
	/* Twice is once. */
	ch3 = NULL;
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "events", CONN(1), &ch3),
	    SLUICE_OK);
	CU_ASSERT_PTR_EQUAL(ch3, ch);
	CU_ASSERT_EQUAL(hub_channel_subscribers(ch), 2);

	f = event(APP_A, "events", 1);
	hub_deliver(h, f);
	CU_ASSERT_EQUAL(log_len, 2);
	CU_ASSERT_EQUAL(got(CONN(1), f), 1);
	CU_ASSERT_EQUAL(got(CONN(2), f), 1);
	/* The caller keeps its reference; the hub takes none. */
	CU_ASSERT_EQUAL(refs(f), 1);

	/* Someone not subscribed leaving changes nothing. */
	hub_unsubscribe(h, ch, CONN(3));
	CU_ASSERT_EQUAL(hub_channel_subscribers(ch), 2);

	hub_unsubscribe(h, ch, CONN(1));
	CU_ASSERT_EQUAL(hub_channel_subscribers(ch), 1);
	log_reset();
	hub_deliver(h, f);
	CU_ASSERT_EQUAL(log_len, 1);
	CU_ASSERT_EQUAL(got(CONN(2), f), 1);

	/* The last one leaving frees the channel: nobody gets the event,
	 * and subscribing again starts a fresh one. */
	hub_unsubscribe(h, ch, CONN(2));
	log_reset();
	hub_deliver(h, f);
	CU_ASSERT_EQUAL(log_len, 0);
	CU_ASSERT_EQUAL(hub_wants(h, APP_A, "events", 6), 0);
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "events", CONN(1), &ch),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(hub_channel_subscribers(ch), 1);
	hub_deliver(h, f);
	CU_ASSERT_EQUAL(log_len, 1);
	CU_ASSERT_EQUAL(got(CONN(1), f), 1);
	hub_unsubscribe(h, ch, CONN(1));
	frame_unref(f);
	hub_free(h);
}

static void
TEST_many_subscribers_leave_in_any_order(void)
{
	struct hub_channel *ch = NULL, *c;
	int in[CONNS];
	struct frame *f;
	uint32_t seed = 99;
	size_t i, k, left = CONNS;
	struct hub *h;

	h = hub_make();
	for (i = 0; i < CONNS; i++) {
		CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "room", CONN(i), &c),
		    SLUICE_OK);
		CU_ASSERT(ch == NULL || c == ch);
		ch = c;
		in[i] = 1;
	}
	CU_ASSERT_EQUAL(hub_channel_subscribers(ch), CONNS);
	f = event(APP_A, "room", 0);
	while (left > 1) {
		/* Someone leaves; the rest get the next event, once each. */
		do {
			seed = seed * 1103515245 + 12345;
			k = (seed >> 8) % CONNS;
		} while (!in[k]);
		hub_unsubscribe(h, ch, CONN(k));
		in[k] = 0;
		left--;
		CU_ASSERT_EQUAL_FATAL(hub_channel_subscribers(ch), left);
		if (left % 37 != 0)
			continue;
		log_reset();
		hub_deliver(h, f);
		CU_ASSERT_EQUAL(log_len, left);
		for (i = 0; i < CONNS; i++)
			CU_ASSERT_EQUAL(got(CONN(i), f), (size_t)in[i]);
	}
	for (i = 0; i < CONNS; i++)
		if (in[i])
			hub_unsubscribe(h, ch, CONN(i));
	frame_unref(f);
	hub_free(h);
}

static void
TEST_apps_are_separate(void)
{
	struct hub_channel *ca, *cb;
	struct frame *fa, *fb;
	struct hub *h;

	h = hub_make();
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "events", CONN(1), &ca),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(hub_wants(h, APP_A, "events", 6), 1);
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_B, "events", CONN(2), &cb),
	    SLUICE_OK);
	CU_ASSERT_PTR_NOT_EQUAL(ca, cb);
	CU_ASSERT_EQUAL(hub_channel_subscribers(ca), 1);
	CU_ASSERT_EQUAL(hub_channel_subscribers(cb), 1);
	CU_ASSERT_EQUAL(hub_wants(h, APP_B, "events", 6), 1);

	fa = event(APP_A, "events", 1);
	fb = event(APP_B, "events", 2);
	hub_deliver(h, fa);
	CU_ASSERT_EQUAL(log_len, 1);
	CU_ASSERT_EQUAL(got(CONN(1), fa), 1);
	log_reset();
	hub_deliver(h, fb);
	CU_ASSERT_EQUAL(log_len, 1);
	CU_ASSERT_EQUAL(got(CONN(2), fb), 1);

	/* A's channel gone, B's stays. */
	hub_unsubscribe(h, ca, CONN(1));
	log_reset();
	hub_deliver(h, fa);
	CU_ASSERT_EQUAL(log_len, 0);
	hub_deliver(h, fb);
	CU_ASSERT_EQUAL(log_len, 1);
	CU_ASSERT_EQUAL(got(CONN(2), fb), 1);
	CU_ASSERT_EQUAL(hub_wants(h, APP_B, "events", 6), 1);
	hub_unsubscribe(h, cb, CONN(2));
	CU_ASSERT_EQUAL(hub_wants(h, APP_B, "events", 6), 0);
	frame_unref(fa);
	frame_unref(fb);
	hub_free(h);
}

static void
TEST_wants(void)
{
	struct hub_channel *ch, *ch2;
	struct hub *h;

	h = hub_make();
	/* Nothing subscribed: nothing wanted. */
	CU_ASSERT_EQUAL(hub_wants(h, APP_A, "events", 6), 0);
	CU_ASSERT_EQUAL(hub_wants(h, APP_A, "private-x", 9), 0);
	CU_ASSERT_EQUAL(hub_wants(h, APP_B, "events", 6), 0);
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "events", CONN(1), &ch),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(hub_wants(h, APP_A, "events", 6), 1);
	/* Only n bytes of the name count. */
	CU_ASSERT_EQUAL(hub_wants(h, APP_A, "eventsXYZ", 6), 1);
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "events", CONN(2), &ch2),
	    SLUICE_OK);
	hub_unsubscribe(h, ch, CONN(1));
	CU_ASSERT_EQUAL(hub_wants(h, APP_A, "events", 6), 1);
	hub_unsubscribe(h, ch, CONN(2));
	CU_ASSERT_EQUAL(hub_wants(h, APP_A, "events", 6), 0);
	/* Subscribing twice and leaving once leaves nothing behind. */
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "events", CONN(1), &ch),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "events", CONN(1), &ch),
	    SLUICE_OK);
	hub_unsubscribe(h, ch, CONN(1));
	CU_ASSERT_EQUAL(hub_wants(h, APP_A, "events", 6), 0);
	hub_free(h);
}

static void
TEST_deliver_reaches_exactly_subscribers(void)
{
	struct hub_channel *x = NULL, *y = NULL, *z = NULL;
	struct frame *fx, *fy, *fz, *fw, *fother, *fnone;
	struct hub *h;
	size_t i;

	h = hub_make();
	/* x: 0..99, y: 50..149 (overlapping), z: 200. */
	for (i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "x", CONN(i), &x),
		    SLUICE_OK);
	for (i = 50; i < 150; i++)
		CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "y", CONN(i), &y),
		    SLUICE_OK);
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "z", CONN(200), &z),
	    SLUICE_OK);
	fx = event(APP_A, "x", 0);
	fy = event(APP_A, "y", 0);
	fz = event(APP_A, "z", 0);
	fw = event(APP_A, "w", 0);
	fother = event(APP_B, "x", 0);
	fnone = frame_new("{}", 2, 0);	/* no routing */
	CU_ASSERT_PTR_NOT_NULL_FATAL(fnone);

	hub_deliver(h, fx);
	CU_ASSERT_EQUAL(log_len, 100);
	for (i = 0; i < CONNS; i++)
		CU_ASSERT_EQUAL(got(CONN(i), fx), i < 100 ? 1 : 0);
	for (i = 0; i < log_len; i++)
		CU_ASSERT_EQUAL(log_items[i].refs, 1);
	log_reset();
	hub_deliver(h, fy);
	CU_ASSERT_EQUAL(log_len, 100);
	for (i = 0; i < CONNS; i++)
		CU_ASSERT_EQUAL(got(CONN(i), fy), i >= 50 && i < 150 ? 1 : 0);
	log_reset();
	hub_deliver(h, fz);
	CU_ASSERT_EQUAL(log_len, 1);
	CU_ASSERT_EQUAL(got(CONN(200), fz), 1);
	/* No subscribers, another app's channel of the same name, a frame
	 * without routing: nobody. */
	log_reset();
	hub_deliver(h, fw);
	hub_deliver(h, fother);
	hub_deliver(h, fnone);
	CU_ASSERT_EQUAL(log_len, 0);
	CU_ASSERT_EQUAL(refs(fx), 1);
	CU_ASSERT_EQUAL(refs(fnone), 1);

	for (i = 0; i < 100; i++)
		hub_unsubscribe(h, x, CONN(i));
	for (i = 50; i < 150; i++)
		hub_unsubscribe(h, y, CONN(i));
	hub_unsubscribe(h, z, CONN(200));
	frame_unref(fx);
	frame_unref(fy);
	frame_unref(fz);
	frame_unref(fw);
	frame_unref(fother);
	frame_unref(fnone);
	hub_free(h);
}

#define MANY 10000

static void
TEST_many_channels(void)
{
	struct hub_channel **ch;
	struct frame *f;
	char name[32];
	struct hub *h;
	size_t i, bad = 0, wanted = 0;

	h = hub_make();
	ch = calloc(MANY, sizeof *ch);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	/* Channel i: conn i % CONNS; every third also conn (i+1) % CONNS,
	 * half of them in app B. */
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof name, "ch-%zu", i);
		CU_ASSERT_EQUAL_FATAL(hub_subscribe(h, i % 2 ? APP_B : APP_A,
		    name, CONN(i % CONNS), &ch[i]), SLUICE_OK);
		if (i % 3 == 0)
			CU_ASSERT_EQUAL_FATAL(hub_subscribe(h,
			    i % 2 ? APP_B : APP_A, name,
			    CONN((i + 1) % CONNS), &ch[i]), SLUICE_OK);
	}
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof name, "ch-%zu", i);
		if (strcmp(hub_channel_name(ch[i]), name) != 0 ||
		    hub_channel_subscribers(ch[i]) != (i % 3 == 0 ? 2u : 1u))
			bad++;
		if (!hub_wants(h, i % 2 ? APP_B : APP_A, name,
		    strlen(name)))
			bad++;
		log_reset();
		f = event(i % 2 ? APP_B : APP_A, name, (int64_t)i);
		hub_deliver(h, f);
		if (log_len != (i % 3 == 0 ? 2u : 1u) ||
		    got(CONN(i % CONNS), f) != 1 ||
		    (i % 3 == 0 && got(CONN((i + 1) % CONNS), f) != 1))
			bad++;
		/* The other app has no such channel. */
		log_reset();
		f->app = i % 2 ? APP_A : APP_B;
		hub_deliver(h, f);
		if (log_len != 0)
			bad++;
		frame_unref(f);
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* Half leave; the rest are still found. */
	for (i = 0; i < MANY; i += 2) {
		if (i % 3 == 0)
			hub_unsubscribe(h, ch[i], CONN((i + 1) % CONNS));
		hub_unsubscribe(h, ch[i], CONN(i % CONNS));
		ch[i] = NULL;
	}
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof name, "ch-%zu", i);
		log_reset();
		f = event(i % 2 ? APP_B : APP_A, name, (int64_t)i);
		hub_deliver(h, f);
		if (log_len != (ch[i] == NULL ? 0 : i % 3 == 0 ? 2u : 1u))
			bad++;
		frame_unref(f);
	}
	CU_ASSERT_EQUAL(bad, 0);
	for (i = 1; i < MANY; i += 2) {
		if (i % 3 == 0)
			hub_unsubscribe(h, ch[i], CONN((i + 1) % CONNS));
		hub_unsubscribe(h, ch[i], CONN(i % CONNS));
	}
	/* All gone: no interest left anywhere. */
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof name, "ch-%zu", i);
		wanted += (size_t)hub_wants(h, APP_A, name, strlen(name));
		wanted += (size_t)hub_wants(h, APP_B, name, strlen(name));
	}
	CU_ASSERT_EQUAL(wanted, 0);
	free(ch);
	hub_free(h);
}

/* Parses all of the frame's payload as JSON, or NULL. */
static struct json_object *
frame_json(struct frame *f)
{
	struct json_tokener *tok;
	struct json_object *v;

	tok = json_tokener_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
	v = json_tokener_parse_ex(tok, (const char *)frame_payload(f),
	    (int)f->len);
	if (v != NULL && json_tokener_get_parse_end(tok) != f->len) {
		json_object_put(v);
		v = NULL;
	}
	json_tokener_free(tok);
	return v;
}

/* The string member name of o and its length, or "<missing>" and 0 (never
 * NULL, so that a failed comparison is reported rather than crashing the
 * run). */
static const char *
member_str(struct json_object *o, const char *name, size_t *len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string)) {
		if (len != NULL)
			*len = 0;
		return "<missing>";
	}
	if (len != NULL)
		*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

static void
TEST_event_frame_text(void)
{
	static const char env[] = "{\"id\":\"0190a1b2\",\"app\":\"web\","
	    "\"channel\":\"events\",\"event\":\"click\","
	    "\"data\":{\"q\":\"a\\\"b\\\\c\\n\xc3\xa9 \xe2\x98\x83\","
	    "\"n\":1.50},"
	    "\"timestamp\":\"2024-01-01T00:00:00.000Z\"}";
	static const char want[] = "{\"event\":\"click\","
	    "\"channel\":\"events\",\"data\":\"{\\\"id\\\":\\\"0190a1b2\\\","
	    "\\\"app\\\":\\\"web\\\",\\\"channel\\\":\\\"events\\\","
	    "\\\"event\\\":\\\"click\\\",\\\"data\\\":{\\\"q\\\":"
	    "\\\"a\\\\\\\"b\\\\\\\\c\\\\n\xc3\xa9 \xe2\x98\x83\\\","
	    "\\\"n\\\":1.50},\\\"timestamp\\\":"
	    "\\\"2024-01-01T00:00:00.000Z\\\"}\"}";
	struct json_object *v;
	struct frame *f;
	const char *s;
	size_t len;

	f = hub_event_frame(APP_A, "eventsXX", 6, "clickYY", 5, env,
	    sizeof env - 1, 1234567890123LL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->len, sizeof want - 1);
	CU_ASSERT(f->len == sizeof want - 1 &&
	    memcmp(frame_payload(f), want, f->len) == 0);
	if (f->len != sizeof want - 1 ||
	    memcmp(frame_payload(f), want, f->len) != 0)
		fprintf(stderr, "\n  want: %s\n  got:  %.*s\n", want,
		    (int)f->len, frame_payload(f));
	CU_ASSERT_PTR_EQUAL(f->app, APP_A);
	CU_ASSERT_STRING_EQUAL(f->channel, "events");
	CU_ASSERT_EQUAL(f->accepted_us, 1234567890123LL);
	CU_ASSERT_EQUAL(refs(f), 1);

	v = frame_json(f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(json_object_object_length(v), 3);
	CU_ASSERT_STRING_EQUAL(member_str(v, "event", NULL), "click");
	CU_ASSERT_STRING_EQUAL(member_str(v, "channel", NULL), "events");
	s = member_str(v, "data", &len);
	CU_ASSERT(len == sizeof env - 1 && memcmp(s, env, len) == 0);
	json_object_put(v);
	frame_unref(f);
}

static void
TEST_event_frame_any_channel_length(void)
{
	char chan[165], env[3000];
	struct json_object *v;
	struct frame *f;
	size_t n, len;
	const char *s;

	memset(chan, 'c', sizeof chan);
	for (n = 0; n < sizeof env - 1; n++)
		env[n] = (char)(' ' + n % 90);
	env[sizeof env - 1] = '\0';
	/* The channel name kept after the payload never spoils it. */
	for (n = 1; n <= 164; n += 17) {
		f = hub_event_frame(APP_B, chan, n, "ev", 2, env,
		    strlen(env), 5);
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		CU_ASSERT_EQUAL(strlen(f->channel), n);
		v = frame_json(f);
		CU_ASSERT_PTR_NOT_NULL_FATAL(v);
		s = member_str(v, "channel", &len);
		CU_ASSERT(len == n && strspn(s, "c") == n);
		CU_ASSERT_STRING_EQUAL(member_str(v, "data", NULL), env);
		json_object_put(v);
		frame_unref(f);
	}
}

static void
TEST_offer_wakes_when_empty(void)
{
	struct hub_channel *ch;
	struct frame *f[6];
	struct hub *h;
	size_t i;

	h = hub_make();
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "events", CONN(7), &ch),
	    SLUICE_OK);
	for (i = 0; i < 6; i++) {
		f[i] = event(APP_A, "events", (int64_t)i);
		frame_ref(f[i]);	/* ours; the other is offered */
	}
	hub_drain(h);
	CU_ASSERT_EQUAL(log_len, 0);
	hub_offer(h, &f[0], 0);
	CU_ASSERT_EQUAL(atomic_load(&wakeups), 0);
	hub_offer(h, &f[0], 1);
	CU_ASSERT_EQUAL(atomic_load(&wakeups), 1);
	/* Nothing delivered before the drain. */
	CU_ASSERT_EQUAL(log_len, 0);
	/* Already due to drain: no second wakeup. */
	hub_offer(h, &f[1], 2);
	CU_ASSERT_EQUAL(atomic_load(&wakeups), 1);
	CU_ASSERT_EQUAL(refs(f[1]), 2);
	hub_drain(h);
	CU_ASSERT_EQUAL_FATAL(log_len, 3);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_PTR_EQUAL(log_items[i].f, f[i]);
		CU_ASSERT_PTR_EQUAL(log_items[i].conn, CONN(7));
		/* Delivered while the hub still held it... */
		CU_ASSERT_EQUAL(log_items[i].refs, 2);
		/* ...and released after. */
		CU_ASSERT_EQUAL(refs(f[i]), 1);
	}
	/* Drained: the next offer wakes again. */
	hub_drain(h);
	CU_ASSERT_EQUAL(log_len, 3);
	hub_offer(h, &f[3], 3);
	CU_ASSERT_EQUAL(atomic_load(&wakeups), 2);
	log_reset();
	hub_drain(h);
	CU_ASSERT_EQUAL_FATAL(log_len, 3);
	for (i = 0; i < 3; i++)
		CU_ASSERT_PTR_EQUAL(log_items[i].f, f[3 + i]);
	for (i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(refs(f[i]), 1);
		frame_unref(f[i]);
	}
	hub_unsubscribe(h, ch, CONN(7));
	hub_free(h);
}

static void
TEST_offer_without_subscribers_releases(void)
{
	struct frame *f[100];
	struct hub *h;
	size_t i;

	h = hub_make();
	for (i = 0; i < 100; i++) {
		f[i] = event(APP_A, i % 2 ? "nobody" : "none", (int64_t)i);
		frame_ref(f[i]);
	}
	/* One at a time and all at once; the inbox grows past its first
	 * size. */
	for (i = 0; i < 30; i++)
		hub_offer(h, &f[i], 1);
	hub_offer(h, &f[30], 70);
	CU_ASSERT_EQUAL(atomic_load(&wakeups), 1);
	hub_drain(h);
	CU_ASSERT_EQUAL(log_len, 0);
	for (i = 0; i < 100; i++) {
		CU_ASSERT_EQUAL(refs(f[i]), 1);
		frame_unref(f[i]);
	}
	hub_free(h);
}

static void
TEST_close_drops_offers(void)
{
	struct hub_channel *ch;
	struct frame *f[4];
	struct hub *h;
	size_t i;

	h = hub_make();
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "events", CONN(1), &ch),
	    SLUICE_OK);
	for (i = 0; i < 4; i++) {
		f[i] = event(APP_A, "events", (int64_t)i);
		frame_ref(f[i]);
	}
	hub_offer(h, &f[0], 2);		/* before closing: kept */
	CU_ASSERT_EQUAL(atomic_load(&wakeups), 1);
	hub_close(h);
	hub_offer(h, &f[2], 2);		/* after: dropped */
	CU_ASSERT_EQUAL(atomic_load(&wakeups), 1);
	CU_ASSERT_EQUAL(refs(f[2]), 1);
	CU_ASSERT_EQUAL(refs(f[3]), 1);
	CU_ASSERT_EQUAL(refs(f[0]), 2);
	hub_close(h);
	hub_drain(h);
	CU_ASSERT_EQUAL(log_len, 2);
	CU_ASSERT_EQUAL(got(CONN(1), f[0]), 1);
	CU_ASSERT_EQUAL(got(CONN(1), f[1]), 1);
	CU_ASSERT_EQUAL(got(CONN(1), f[2]), 0);
	CU_ASSERT_EQUAL(refs(f[0]), 1);
	/* Frames still in the inbox are released by hub_free. */
	frame_ref(f[0]);
	frame_ref(f[1]);
	hub_unsubscribe(h, ch, CONN(1));
	hub_free(h);
	h = hub_make();
	hub_offer(h, &f[0], 2);
	hub_free(h);
	CU_ASSERT_EQUAL(refs(f[0]), 1);
	CU_ASSERT_EQUAL(refs(f[1]), 1);
	for (i = 0; i < 4; i++)
		frame_unref(f[i]);
}

#define OFFER_THREADS	4
#define OFFER_FRAMES	10000

struct offerer {
	struct hub	*h;
	unsigned	 id;
	int		 failed;
};

static void *
offer_run(void *arg)
{
	struct offerer *o = arg;
	struct frame *batch[8];
	uint32_t seed = o->id * 7919 + 1;
	size_t sent = 0, n, i;
	const char *chan;

	while (sent < OFFER_FRAMES) {
		seed = seed * 1103515245 + 12345;
		n = 1 + (seed >> 16) % 8;
		if (n > OFFER_FRAMES - sent)
			n = OFFER_FRAMES - sent;
		for (i = 0; i < n; i++) {
			chan = o->id % 2 ? "odd" : "even";
			batch[i] = hub_event_frame(APP_A, chan,
			    strlen(chan), "e", 1, "{}", 2,
			    (int64_t)o->id * 1000000 + (int64_t)(sent + i));
			if (batch[i] == NULL) {
				o->failed = 1;
				return NULL;
			}
		}
		hub_offer(o->h, batch, n);
		sent += n;
		if (seed % 5 == 0)
			sched_yield();
	}
	return NULL;
}

static void
TEST_offer_from_threads(void)
{
	struct offerer o[OFFER_THREADS];
	pthread_t t[OFFER_THREADS];
	struct hub_channel *even, *odd;
	int64_t next[OFFER_THREADS], id, seq;
	size_t i, delivered = 0, bad = 0;
	struct timespec ts;
	struct hub *h;
	sem_t sem;
	int lost = 0;

	h = hub_make();
	CU_ASSERT_FATAL(sem_init(&sem, 0, 0) == 0);
	wake_sem = &sem;
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "even", CONN(0), &even),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "odd", CONN(1), &odd),
	    SLUICE_OK);
	for (i = 0; i < OFFER_THREADS; i++) {
		o[i].h = h;
		o[i].id = (unsigned)i;
		o[i].failed = 0;
		next[i] = 0;
		CU_ASSERT_FATAL(pthread_create(&t[i], NULL, offer_run,
		    &o[i]) == 0);
	}
	/* The service thread's loop: sleep until woken, then drain. A lost
	 * wakeup leaves frames in the inbox and times out here. */
	while (delivered < OFFER_THREADS * OFFER_FRAMES) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 10;
		if (sem_timedwait(&sem, &ts) == -1) {
			if (errno == EINTR)
				continue;
			lost = 1;
			break;
		}
		log_reset();
		hub_drain(h);
		for (i = 0; i < log_len; i++) {
			id = log_items[i].accepted_us / 1000000;
			seq = log_items[i].accepted_us % 1000000;
			if (id < 0 || id >= OFFER_THREADS ||
			    seq != next[id] ||
			    log_items[i].conn != CONN(id % 2)) {
				if (bad++ < 5)
					fprintf(stderr, "\n  thread %lld: "
					    "got %lld, want %lld\n",
					    (long long)id, (long long)seq,
					    (long long)(id >= 0 && id <
					    OFFER_THREADS ? next[id] : -1));
				continue;
			}
			next[id]++;
			delivered++;
		}
	}
	for (i = 0; i < OFFER_THREADS; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(o[i].failed, 0);
	}
	CU_ASSERT_EQUAL(lost, 0);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(delivered, OFFER_THREADS * OFFER_FRAMES);
	for (i = 0; i < OFFER_THREADS; i++)
		CU_ASSERT_EQUAL(next[i], OFFER_FRAMES);
	/* Nothing more comes: every frame was delivered exactly once. */
	log_reset();
	hub_drain(h);
	CU_ASSERT_EQUAL(log_len, 0);
	CU_ASSERT(atomic_load(&wakeups) >= 1);
	CU_ASSERT_EQUAL(log_overflow, 0);
	wake_sem = NULL;
	sem_destroy(&sem);
	hub_unsubscribe(h, even, CONN(0));
	hub_unsubscribe(h, odd, CONN(1));
	hub_free(h);
}

/* hub_deliver skips the frame's except subscriber, and only that one. */
static void
TEST_deliver_except(void)
{
	struct hub_channel *ch;
	struct frame *f;
	struct hub *h;
	int i;

	h = hub_make();
	for (i = 1; i <= 3; i++)
		CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "room", CONN(i), &ch),
		    SLUICE_OK);
	f = event(APP_A, "room", 1);
	f->except = CONN(2);
	hub_deliver(h, f);
	CU_ASSERT_EQUAL(log_len, 2);
	CU_ASSERT_EQUAL(got(CONN(1), f), 1);
	CU_ASSERT_EQUAL(got(CONN(2), f), 0);
	CU_ASSERT_EQUAL(got(CONN(3), f), 1);
	/* Someone not subscribed as except: everyone gets it. */
	log_reset();
	f->except = CONN(9);
	hub_deliver(h, f);
	CU_ASSERT_EQUAL(log_len, 3);
	frame_unref(f);
	for (i = 1; i <= 3; i++)
		hub_unsubscribe(h, ch, CONN(i));
	hub_free(h);
}

/* Counts the channels it is called for and their subscribers. */
static void
count_channel(const struct hub_channel *ch, void *arg)
{
	size_t *seen = arg;

	seen[0]++;
	seen[1] += hub_channel_subscribers(ch);
}

/* Exact counts per channel and overall, whatever the interest filter. */
static void
TEST_exact_counts(void)
{
	static struct hub_channel *ch[200];
	struct hub_channel *other;
	char name[32];
	size_t seen[2];
	struct hub *h;
	int i, k;

	h = hub_make();
	CU_ASSERT_EQUAL(hub_channel_count(h), 0);
	CU_ASSERT_EQUAL(hub_subscribers(h, APP_A, "c0"), 0);
	/* Channel i of app A gets i % 5 + 1 subscribers. */
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof name, "c%d", i);
		for (k = 0; k <= i % 5; k++)
			CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, name,
			    CONN(k), &ch[i]), SLUICE_OK);
	}
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_B, "c0", CONN(7), &other),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(hub_channel_count(h), 201);
	CU_ASSERT_EQUAL(hub_subscription_count(h), 200 * 3 + 1);
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof name, "c%d", i);
		CU_ASSERT_EQUAL(hub_subscribers(h, APP_A, name),
		    (size_t)(i % 5 + 1));
	}
	CU_ASSERT_EQUAL(hub_subscribers(h, APP_B, "c0"), 1);
	CU_ASSERT_EQUAL(hub_subscribers(h, APP_B, "c1"), 0);
	CU_ASSERT_EQUAL(hub_subscribers(h, APP_A, "c200"), 0);
	memset(seen, 0, sizeof seen);
	hub_channels_each(h, APP_A, count_channel, seen);
	CU_ASSERT_EQUAL(seen[0], 200);
	CU_ASSERT_EQUAL(seen[1], 600);
	memset(seen, 0, sizeof seen);
	hub_channels_each(h, APP_B, count_channel, seen);
	CU_ASSERT_EQUAL(seen[0], 1);
	CU_ASSERT_EQUAL(seen[1], 1);
	/* Leaving brings every count back down. */
	hub_unsubscribe(h, other, CONN(7));
	for (i = 0; i < 200; i++)
		for (k = 0; k <= i % 5; k++)
			hub_unsubscribe(h, ch[i], CONN(k));
	CU_ASSERT_EQUAL(hub_channel_count(h), 0);
	CU_ASSERT_EQUAL(hub_subscription_count(h), 0);
	hub_free(h);
}

/* Three events for hub_publish: two to "news", one to nobody's channel. */
struct publish_ctx {
	struct hub		*h;
	struct hub_event	 ev[3];
};

static void *
publish_thread(void *arg)
{
	struct publish_ctx *p = arg;

	hub_publish(p->h, p->ev, 3);
	return NULL;
}

/* hub_publish encodes only what a subscriber may take, delivers at once
 * on the service thread and through the inbox from any other. */
static void
TEST_publish(void)
{
	struct publish_ctx p;
	struct hub_channel *ch;
	pthread_t t;
	int i;

	p.h = hub_make();
	CU_ASSERT_EQUAL(hub_subscribe(p.h, APP_A, "news", CONN(1), &ch),
	    SLUICE_OK);
	memset(p.ev, 0, sizeof p.ev);
	for (i = 0; i < 3; i++) {
		p.ev[i].app = APP_A;
		p.ev[i].channel = i == 1 ? "nobody" : "news";
		p.ev[i].channel_len = strlen(p.ev[i].channel);
		p.ev[i].event = "e";
		p.ev[i].event_len = 1;
		p.ev[i].envelope = "{}";
		p.ev[i].envelope_len = 2;
		p.ev[i].seq = 100 + (uint64_t)i;
	}
	CU_ASSERT_EQUAL(pthread_create(&t, NULL, publish_thread, &p), 0);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(log_len, 0);
	CU_ASSERT_EQUAL(atomic_load(&wakeups), 1);
	hub_drain(p.h);
	CU_ASSERT_EQUAL_FATAL(log_len, 2);
	CU_ASSERT_EQUAL(log_items[0].seq, 100);
	CU_ASSERT_EQUAL(log_items[1].seq, 102);
	/* On the service thread: at once, the except carried along. */
	hub_enter(p.h);
	log_reset();
	p.ev[0].except = CONN(1);
	hub_publish(p.h, p.ev, 3);
	CU_ASSERT_EQUAL(log_len, 1);
	CU_ASSERT_EQUAL(log_items[0].seq, 102);
	CU_ASSERT_EQUAL(atomic_load(&wakeups), 1);
	hub_unsubscribe(p.h, ch, CONN(1));
	hub_free(p.h);
}

/* What a query saw. */
struct query_ctx {
	struct hub	*h;
	pthread_t	 ran_on;
	int		 status;
	int		 runs;
	size_t		 channels;
};

static void
query_fn(struct hub *h, void *arg, int status)
{
	struct query_ctx *q = arg;

	q->ran_on = pthread_self();
	q->status = status;
	q->runs++;
	if (status == SLUICE_OK)
		q->channels = hub_channel_count(h);
}

static void *
query_thread(void *arg)
{
	struct query_ctx *q = arg;

	CU_ASSERT_EQUAL(hub_query(q->h, query_fn, q), SLUICE_OK);
	return NULL;
}

/* A query from another thread runs once, on the thread that drains; one
 * queued when the hub closes is answered with ESTOPPING. */
static void
TEST_query(void)
{
	struct query_ctx q[2];
	struct hub_channel *ch;
	pthread_t t;
	struct hub *h;

	h = hub_make();
	memset(q, 0, sizeof q);
	q[0].h = q[1].h = h;
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "x", CONN(1), &ch),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(pthread_create(&t, NULL, query_thread, &q[0]), 0);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(q[0].runs, 0);
	CU_ASSERT_EQUAL(atomic_load(&wakeups), 1);
	hub_drain(h);
	CU_ASSERT_EQUAL(q[0].runs, 1);
	CU_ASSERT_EQUAL(q[0].status, SLUICE_OK);
	CU_ASSERT(pthread_equal(q[0].ran_on, pthread_self()));
	CU_ASSERT_EQUAL(q[0].channels, 1);
	hub_drain(h);
	CU_ASSERT_EQUAL(q[0].runs, 1);
	CU_ASSERT_EQUAL(hub_query(h, query_fn, &q[1]), SLUICE_OK);
	hub_close(h);
	CU_ASSERT_EQUAL(q[1].runs, 1);
	CU_ASSERT_EQUAL(q[1].status, SLUICE_ESTOPPING);
	CU_ASSERT_EQUAL(q[1].channels, 0);
	CU_ASSERT_EQUAL(hub_query(h, query_fn, &q[1]), SLUICE_ESTOPPING);
	CU_ASSERT_EQUAL(q[1].runs, 1);
	hub_unsubscribe(h, ch, CONN(1));
	hub_free(h);
}

/* Without a front door attached, queries are refused, events dropped. */
static void
TEST_unattached(void)
{
	struct hub_event ev;
	struct query_ctx q;
	struct hub *h;

	h = hub_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	memset(&q, 0, sizeof q);
	CU_ASSERT_EQUAL(hub_query(h, query_fn, &q), SLUICE_ESTOPPING);
	memset(&ev, 0, sizeof ev);
	ev.channel = "x";
	ev.channel_len = 1;
	hub_publish(h, &ev, 1);
	hub_free(h);
	CU_ASSERT_EQUAL(q.runs, 0);
}

static void *
query_many(void *arg)
{
	struct query_ctx *q = arg;
	int i;

	for (i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(hub_query(q[i].h, query_fn, &q[i]), SLUICE_OK);
	return NULL;
}

/* Four threads posting queries while this one drains: each runs once. */
static void
TEST_query_from_threads(void)
{
	static struct query_ctx q[4][100];
	pthread_t t[4];
	struct hub *h;
	int i, k, done = 0;

	h = hub_make();
	memset(q, 0, sizeof q);
	for (i = 0; i < 4; i++)
		for (k = 0; k < 100; k++)
			q[i][k].h = h;
	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(pthread_create(&t[i], NULL, query_many, q[i]),
		    0);
	while (done < 400) {
		hub_drain(h);
		for (done = 0, i = 0; i < 4; i++)
			for (k = 0; k < 100; k++)
				done += q[i][k].runs;
		sched_yield();
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	hub_drain(h);
	for (i = 0; i < 4; i++)
		for (k = 0; k < 100; k++)
			CU_ASSERT_EQUAL(q[i][k].runs, 1);
	hub_free(h);
}

/* The value of an unlabelled sample in a metrics render. */
static uint64_t
metric(const char *name)
{
	char *text, *p, key[128];
	uint64_t v = 0;
	size_t len;

	text = metrics_render(NULL, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	snprintf(key, sizeof key, "\n%s ", name);
	p = strstr(text, key);
	CU_ASSERT_PTR_NOT_NULL(p);
	if (p != NULL)
		v = strtoull(p + strlen(key), NULL, 10);
	free(text);
	return v;
}

static void
TEST_inbox_bound(void)
{
	struct hub_channel *ca, *cb, *cc;
	struct frame *f[7];
	uint64_t dropped0 = metric("sluice_hub_inbox_dropped_total");
	size_t i;
	struct hub *h = hub_make();

	hub_limit(h, 4);
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "a", CONN(0), &ca), SLUICE_OK);
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "a", CONN(1), &ca), SLUICE_OK);
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "b", CONN(2), &cb), SLUICE_OK);
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "c", CONN(3), &cc), SLUICE_OK);
	/* Same name, other app: not told. */
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_B, "b", CONN(4), &cc), SLUICE_OK);
	for (i = 0; i < 4; i++)
		f[i] = event(APP_A, "a", 1);
	f[4] = event(APP_A, "b", 2);
	f[5] = event(APP_A, "b", 3);
	f[6] = event(APP_A, "c", 4);
	hub_offer(h, f, 3);		/* a a a: fit */
	hub_offer(h, f + 3, 3);		/* a fits; b b dropped */
	hub_offer(h, f + 6, 1);		/* c dropped */
	CU_ASSERT_EQUAL(hub_dropped(h), 3);
	CU_ASSERT_EQUAL(metric("sluice_hub_inbox_dropped_total") - dropped0,
	    3);
	CU_ASSERT_EQUAL(metric("sluice_hub_inbox_frames"), 4);
	CU_ASSERT_EQUAL(atomic_load(&wakeups), 1);
	CU_ASSERT_EQUAL(missed_len, 0);	/* told on the service thread */
	hub_drain(h);
	CU_ASSERT_EQUAL(log_len, 8);	/* four frames, two subscribers */
	for (i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(got(CONN(0), f[i]), 1);
		CU_ASSERT_EQUAL(got(CONN(1), f[i]), 1);
	}
	CU_ASSERT_EQUAL(told(CONN(0)), 0);
	CU_ASSERT_EQUAL(told(CONN(1)), 0);
	CU_ASSERT_EQUAL(told(CONN(2)), 1);
	CU_ASSERT_EQUAL(told(CONN(3)), 1);
	CU_ASSERT_EQUAL(told(CONN(4)), 0);
	CU_ASSERT_EQUAL(missed_len, 2);
	/* After every frame offered before the drop. */
	CU_ASSERT_EQUAL(missed_after, 8);
	CU_ASSERT_EQUAL(metric("sluice_hub_inbox_frames"), 0);
	/* Drained: there is room again, and nobody is told twice. */
	for (i = 0; i < 4; i++)
		f[i] = event(APP_A, "b", 5);
	hub_offer(h, f, 4);
	hub_drain(h);
	CU_ASSERT_EQUAL(hub_dropped(h), 3);
	CU_ASSERT_EQUAL(missed_len, 2);
	CU_ASSERT_EQUAL(log_len, 12);
	hub_unsubscribe(h, ca, CONN(0));
	hub_unsubscribe(h, ca, CONN(1));
	hub_unsubscribe(h, cb, CONN(2));
	hub_unsubscribe(h, cc, CONN(4));
	cc = NULL;
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "c", CONN(3), &cc), SLUICE_OK);
	hub_unsubscribe(h, cc, CONN(3));
	hub_free(h);
}

/* More channels dropped than the hub remembers: everyone is told. */
static void
TEST_inbox_bound_many_channels(void)
{
	struct hub_channel *ch, *quiet;
	struct frame *f;
	char name[32];
	size_t i;
	struct hub *h = hub_make();

	hub_limit(h, 16);
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "ch-7", CONN(0), &ch),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(hub_subscribe(h, APP_A, "quiet", CONN(1), &quiet),
	    SLUICE_OK);
	for (i = 0; i < 16 + 2000; i++) {
		snprintf(name, sizeof name, "ch-%zu", i);
		f = event(APP_A, name, 1);
		hub_offer(h, &f, 1);
	}
	CU_ASSERT_EQUAL(hub_dropped(h), 2000);
	hub_drain(h);
	CU_ASSERT_EQUAL(told(CONN(0)), 1);
	CU_ASSERT_EQUAL(told(CONN(1)), 1);
	hub_unsubscribe(h, ch, CONN(0));
	hub_unsubscribe(h, quiet, CONN(1));
	hub_free(h);
}

void
test_hub_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_subscribe_unsubscribe", TEST_subscribe_unsubscribe },
		{ "TEST_many_subscribers_leave_in_any_order",
		    TEST_many_subscribers_leave_in_any_order },
		{ "TEST_apps_are_separate", TEST_apps_are_separate },
		{ "TEST_wants", TEST_wants },
		{ "TEST_deliver_reaches_exactly_subscribers",
		    TEST_deliver_reaches_exactly_subscribers },
		{ "TEST_many_channels", TEST_many_channels },
		{ "TEST_event_frame_text", TEST_event_frame_text },
		{ "TEST_event_frame_any_channel_length",
		    TEST_event_frame_any_channel_length },
		{ "TEST_offer_wakes_when_empty", TEST_offer_wakes_when_empty },
		{ "TEST_offer_without_subscribers_releases",
		    TEST_offer_without_subscribers_releases },
		{ "TEST_close_drops_offers", TEST_close_drops_offers },
		{ "TEST_offer_from_threads", TEST_offer_from_threads },
		{ "TEST_deliver_except", TEST_deliver_except },
		{ "TEST_exact_counts", TEST_exact_counts },
		{ "TEST_publish", TEST_publish },
		{ "TEST_query", TEST_query },
		{ "TEST_unattached", TEST_unattached },
		{ "TEST_query_from_threads", TEST_query_from_threads },
		{ "TEST_inbox_bound", TEST_inbox_bound },
		{ "TEST_inbox_bound_many_channels",
		    TEST_inbox_bound_many_channels },
		{ NULL, NULL }
	};

	unit_add_suite("hub", tests);
}
