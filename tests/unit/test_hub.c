/*
 * test_hub.c: the fan-out hub with a recording delivery function and a
 * wakeup counter: subscriptions, apps as separate namespaces, the interest
 * check, delivery to exactly the subscribers of a channel, a table of many
 * channels, the event frame's text, the hand-off of frames from other
 * threads (wakeups, order, release, closing) and four threads offering
 * while the service thread drains.
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
#include "core/config.h"
#include "hub/hub.h"
#include "core/sluice.h"

/* What the hub delivered, in order. */
struct delivery {
	void		*conn;
	struct frame	*f;
	int64_t		 accepted_us;
	unsigned	 refs;		/* f's references when delivered */
};

#define LOG_MAX 50000
static struct delivery	 log_items[LOG_MAX];
static size_t		 log_len;
static int		 log_overflow;
static atomic_uint	 wakeups;
static sem_t		*wake_sem;	/* posted by each wakeup when set */

static struct config_app app_a;
static struct config_app app_b;

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
	d->refs = atomic_load(&f->refs);
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

static struct hub *
hub_make(void)
{
	struct hub *h;

	log_reset();
	log_overflow = 0;
	atomic_store(&wakeups, 0);
	wake_sem = NULL;
	h = hub_new(record, wakeup, &wakeups);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
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
event(const struct config_app *app, const char *channel, int64_t at)
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
	CU_ASSERT_EQUAL(hub_subscribe(h, &app_a, name, CONN(1), &ch),
	    SLUICE_OK);
	/* The name is copied. */
	strcpy(name, "other");
	CU_ASSERT_STRING_EQUAL(hub_channel_name(ch), "events");
	CU_ASSERT_EQUAL(hub_channel_subscribers(ch), 1);
	CU_ASSERT_EQUAL(hub_subscribe(h, &app_a, "events", CONN(2), &ch2),
	    SLUICE_OK);
	CU_ASSERT_PTR_EQUAL(ch2, ch);
	CU_ASSERT_EQUAL(hub_channel_subscribers(ch), 2);
	/* Twice is once. */
	ch3 = NULL;
	CU_ASSERT_EQUAL(hub_subscribe(h, &app_a, "events", CONN(1), &ch3),
	    SLUICE_OK);
	CU_ASSERT_PTR_EQUAL(ch3, ch);
	CU_ASSERT_EQUAL(hub_channel_subscribers(ch), 2);

	f = event(&app_a, "events", 1);
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
	CU_ASSERT_EQUAL(hub_wants(h, &app_a, "events", 6), 0);
	CU_ASSERT_EQUAL(hub_subscribe(h, &app_a, "events", CONN(1), &ch),
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
		CU_ASSERT_EQUAL(hub_subscribe(h, &app_a, "room", CONN(i), &c),
		    SLUICE_OK);
		CU_ASSERT(ch == NULL || c == ch);
		ch = c;
		in[i] = 1;
	}
	CU_ASSERT_EQUAL(hub_channel_subscribers(ch), CONNS);
	f = event(&app_a, "room", 0);
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
	CU_ASSERT_EQUAL(hub_subscribe(h, &app_a, "events", CONN(1), &ca),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(hub_wants(h, &app_a, "events", 6), 1);
	CU_ASSERT_EQUAL(hub_subscribe(h, &app_b, "events", CONN(2), &cb),
	    SLUICE_OK);
	CU_ASSERT_PTR_NOT_EQUAL(ca, cb);
	CU_ASSERT_EQUAL(hub_channel_subscribers(ca), 1);
	CU_ASSERT_EQUAL(hub_channel_subscribers(cb), 1);
	CU_ASSERT_EQUAL(hub_wants(h, &app_b, "events", 6), 1);

	fa = event(&app_a, "events", 1);
	fb = event(&app_b, "events", 2);
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
	CU_ASSERT_EQUAL(hub_wants(h, &app_b, "events", 6), 1);
	hub_unsubscribe(h, cb, CONN(2));
	CU_ASSERT_EQUAL(hub_wants(h, &app_b, "events", 6), 0);
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
	CU_ASSERT_EQUAL(hub_wants(h, &app_a, "events", 6), 0);
	CU_ASSERT_EQUAL(hub_wants(h, &app_a, "private-x", 9), 0);
	CU_ASSERT_EQUAL(hub_wants(h, &app_b, "events", 6), 0);
	CU_ASSERT_EQUAL(hub_subscribe(h, &app_a, "events", CONN(1), &ch),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(hub_wants(h, &app_a, "events", 6), 1);
	/* Only n bytes of the name count. */
	CU_ASSERT_EQUAL(hub_wants(h, &app_a, "eventsXYZ", 6), 1);
	CU_ASSERT_EQUAL(hub_subscribe(h, &app_a, "events", CONN(2), &ch2),
	    SLUICE_OK);
	hub_unsubscribe(h, ch, CONN(1));
	CU_ASSERT_EQUAL(hub_wants(h, &app_a, "events", 6), 1);
	hub_unsubscribe(h, ch, CONN(2));
	CU_ASSERT_EQUAL(hub_wants(h, &app_a, "events", 6), 0);
	/* Subscribing twice and leaving once leaves nothing behind. */
	CU_ASSERT_EQUAL(hub_subscribe(h, &app_a, "events", CONN(1), &ch),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(hub_subscribe(h, &app_a, "events", CONN(1), &ch),
	    SLUICE_OK);
	hub_unsubscribe(h, ch, CONN(1));
	CU_ASSERT_EQUAL(hub_wants(h, &app_a, "events", 6), 0);
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
		CU_ASSERT_EQUAL(hub_subscribe(h, &app_a, "x", CONN(i), &x),
		    SLUICE_OK);
	for (i = 50; i < 150; i++)
		CU_ASSERT_EQUAL(hub_subscribe(h, &app_a, "y", CONN(i), &y),
		    SLUICE_OK);
	CU_ASSERT_EQUAL(hub_subscribe(h, &app_a, "z", CONN(200), &z),
	    SLUICE_OK);
	fx = event(&app_a, "x", 0);
	fy = event(&app_a, "y", 0);
	fz = event(&app_a, "z", 0);
	fw = event(&app_a, "w", 0);
	fother = event(&app_b, "x", 0);
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
		CU_ASSERT_EQUAL_FATAL(hub_subscribe(h, i % 2 ? &app_b : &app_a,
		    name, CONN(i % CONNS), &ch[i]), SLUICE_OK);
		if (i % 3 == 0)
			CU_ASSERT_EQUAL_FATAL(hub_subscribe(h,
			    i % 2 ? &app_b : &app_a, name,
			    CONN((i + 1) % CONNS), &ch[i]), SLUICE_OK);
	}
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof name, "ch-%zu", i);
		if (strcmp(hub_channel_name(ch[i]), name) != 0 ||
		    hub_channel_subscribers(ch[i]) != (i % 3 == 0 ? 2u : 1u))
			bad++;
		if (!hub_wants(h, i % 2 ? &app_b : &app_a, name,
		    strlen(name)))
			bad++;
		log_reset();
		f = event(i % 2 ? &app_b : &app_a, name, (int64_t)i);
		hub_deliver(h, f);
		if (log_len != (i % 3 == 0 ? 2u : 1u) ||
		    got(CONN(i % CONNS), f) != 1 ||
		    (i % 3 == 0 && got(CONN((i + 1) % CONNS), f) != 1))
			bad++;
		/* The other app has no such channel. */
		log_reset();
		f->app = i % 2 ? &app_a : &app_b;
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
		f = event(i % 2 ? &app_b : &app_a, name, (int64_t)i);
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
		wanted += (size_t)hub_wants(h, &app_a, name, strlen(name));
		wanted += (size_t)hub_wants(h, &app_b, name, strlen(name));
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

	f = hub_event_frame(&app_a, "eventsXX", 6, "clickYY", 5, env,
	    sizeof env - 1, 1234567890123LL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->len, sizeof want - 1);
	CU_ASSERT(f->len == sizeof want - 1 &&
	    memcmp(frame_payload(f), want, f->len) == 0);
	if (f->len != sizeof want - 1 ||
	    memcmp(frame_payload(f), want, f->len) != 0)
		fprintf(stderr, "\n  want: %s\n  got:  %.*s\n", want,
		    (int)f->len, frame_payload(f));
	CU_ASSERT_PTR_EQUAL(f->app, &app_a);
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
		f = hub_event_frame(&app_b, chan, n, "ev", 2, env,
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
	CU_ASSERT_EQUAL(hub_subscribe(h, &app_a, "events", CONN(7), &ch),
	    SLUICE_OK);
	for (i = 0; i < 6; i++) {
		f[i] = event(&app_a, "events", (int64_t)i);
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
		f[i] = event(&app_a, i % 2 ? "nobody" : "none", (int64_t)i);
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
	CU_ASSERT_EQUAL(hub_subscribe(h, &app_a, "events", CONN(1), &ch),
	    SLUICE_OK);
	for (i = 0; i < 4; i++) {
		f[i] = event(&app_a, "events", (int64_t)i);
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
			batch[i] = hub_event_frame(&app_a, chan,
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
	CU_ASSERT_EQUAL(hub_subscribe(h, &app_a, "even", CONN(0), &even),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(hub_subscribe(h, &app_a, "odd", CONN(1), &odd),
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
		{ NULL, NULL }
	};

	unit_add_suite("hub", tests);
}
