/*
 * test_cache.c: cache channels' last events (hub/cache.c), with times
 * given explicitly: put and get, replacing, expiry (an expired entry is
 * dropped when looked up or when it reaches the front), the bound on
 * channels (the least recently published gives way; only entries that
 * had not expired count as evicted), apps as separate namespaces, names
 * by length, and the references the table holds on its frames. Then
 * through a hub (hub_cached, hub_cache_limit, hub_cache_stats) with an
 * encode op that makes frames: an event of a cache channel is kept
 * whether or not anyone takes the channel, on the service thread or
 * through the inbox.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "core/isotime.h"
#include "core/sluice.h"
#include "hub/cache.h"
#include "hub/frame.h"
#include "hub/hub.h"

#define MINUTE_US	(60 * 1000000LL)

static struct frame *
frame(const char *text)
{
	struct frame *f;

	f = frame_new(text, strlen(text), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	return f;
}

static unsigned
refs(struct frame *f)
{
	return atomic_load(&f->refs);
}

static struct cache *
table(size_t max)
{
	struct cache *c;

	c = cache_new(max);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	return c;
}

/* Puts f as the last event of NUL-terminated channel of app. */
static int
put(struct cache *c, unsigned app, const char *channel, struct frame *f,
    int64_t now_us, int64_t expires_us)
{
	return cache_put(c, app, channel, strlen(channel), f, now_us,
	    expires_us);
}

static void
TEST_put_get(void)
{
	struct cache *c = table(10);
	struct frame *f = frame("one");

	CU_ASSERT_PTR_NULL(cache_get(c, 0, "cache-a", 0));
	CU_ASSERT_EQUAL(cache_count(c), 0);
	CU_ASSERT_EQUAL(put(c, 0, "cache-a", f, 1000, 2000), SLUICE_OK);
	/* The table took a reference; get lends it. */
	CU_ASSERT_EQUAL(refs(f), 2);
	CU_ASSERT_EQUAL(cache_count(c), 1);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-a", 1000), f);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-a", 1999), f);
	CU_ASSERT_EQUAL(refs(f), 2);
	/* Other names, close ones included, have nothing. */
	CU_ASSERT_PTR_NULL(cache_get(c, 0, "cache-b", 1500));
	CU_ASSERT_PTR_NULL(cache_get(c, 0, "cache-", 1500));
	CU_ASSERT_PTR_NULL(cache_get(c, 0, "cache-aa", 1500));
	CU_ASSERT_PTR_NULL(cache_get(c, 0, "Cache-a", 1500));
	CU_ASSERT_EQUAL(cache_count(c), 1);
	CU_ASSERT_EQUAL(cache_evicted(c), 0);
	/* Freeing the table drops its reference. */
	cache_free(c);
	CU_ASSERT_EQUAL(refs(f), 1);
	frame_unref(f);
	cache_free(NULL);
}

static void
TEST_replace(void)
{
	struct cache *c = table(10);
	struct frame *f1 = frame("first"), *f2 = frame("second");

	CU_ASSERT_EQUAL(put(c, 0, "cache-a", f1, 0, MINUTE_US), SLUICE_OK);
	CU_ASSERT_EQUAL(put(c, 0, "cache-a", f2, 10, MINUTE_US + 10),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(cache_count(c), 1);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-a", 20), f2);
	/* The frame replaced is no longer held: with the caller's reference
	 * gone, it is freed. */
	CU_ASSERT_EQUAL(refs(f1), 1);
	CU_ASSERT_EQUAL(refs(f2), 2);
	/* Replacing a frame by itself keeps one reference, not two or
	 * none. */
	CU_ASSERT_EQUAL(put(c, 0, "cache-a", f2, 30, MINUTE_US + 30),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(refs(f2), 2);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-a", 40), f2);
	/* The later expiry counts. */
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-a", MINUTE_US + 20), f2);
	CU_ASSERT_PTR_NULL(cache_get(c, 0, "cache-a", MINUTE_US + 30));
	CU_ASSERT_EQUAL(refs(f2), 1);
	/* A shorter time after a longer one counts as well. */
	CU_ASSERT_EQUAL(put(c, 0, "cache-b", f1, 0, MINUTE_US), SLUICE_OK);
	CU_ASSERT_EQUAL(put(c, 0, "cache-b", f2, 0, 100), SLUICE_OK);
	CU_ASSERT_PTR_NULL(cache_get(c, 0, "cache-b", 100));
	CU_ASSERT_EQUAL(refs(f1), 1);
	CU_ASSERT_EQUAL(refs(f2), 1);
	CU_ASSERT_EQUAL(cache_evicted(c), 0);
	cache_free(c);
	frame_unref(f1);
	frame_unref(f2);
}

static void
TEST_expiry(void)
{
	struct cache *c = table(10);
	struct frame *a = frame("a"), *b = frame("b"), *z = frame("z");

	/* Expired at expires_us exactly; dropped by the get that finds it
	 * so, with its reference. */
	CU_ASSERT_EQUAL(put(c, 0, "cache-a", a, 0, 1000), SLUICE_OK);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-a", 999), a);
	CU_ASSERT_PTR_NULL(cache_get(c, 0, "cache-a", 1000));
	CU_ASSERT_EQUAL(cache_count(c), 0);
	CU_ASSERT_EQUAL(refs(a), 1);
	/* Still gone when time seems to go back. */
	CU_ASSERT_PTR_NULL(cache_get(c, 0, "cache-a", 0));

	/* An expired entry at the front goes when any channel is looked
	 * up... */
	CU_ASSERT_EQUAL(put(c, 0, "cache-a", a, 0, 100), SLUICE_OK);
	CU_ASSERT_EQUAL(put(c, 0, "cache-b", b, 0, 10000), SLUICE_OK);
	CU_ASSERT_EQUAL(cache_count(c), 2);
	CU_ASSERT_PTR_NULL(cache_get(c, 0, "cache-z", 500));
	CU_ASSERT_EQUAL(cache_count(c), 1);
	CU_ASSERT_EQUAL(refs(a), 1);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-b", 500), b);
	/* ... one behind a live entry waits for its own lookup. */
	CU_ASSERT_EQUAL(put(c, 0, "cache-z", z, 600, 700), SLUICE_OK);
	CU_ASSERT_PTR_NULL(cache_get(c, 0, "cache-a", 800));
	CU_ASSERT_EQUAL(cache_count(c), 2);
	CU_ASSERT_PTR_NULL(cache_get(c, 0, "cache-z", 800));
	CU_ASSERT_EQUAL(cache_count(c), 1);
	CU_ASSERT_EQUAL(refs(z), 1);
	/* All of them gone, in order, by one lookup. */
	CU_ASSERT_EQUAL(put(c, 0, "cache-a", a, 900, 1000), SLUICE_OK);
	CU_ASSERT_EQUAL(put(c, 0, "cache-z", z, 900, 1000), SLUICE_OK);
	CU_ASSERT_EQUAL(cache_count(c), 3);
	CU_ASSERT_PTR_NULL(cache_get(c, 0, "nothing", 20000));
	CU_ASSERT_EQUAL(cache_count(c), 0);
	CU_ASSERT_EQUAL(refs(a), 1);
	CU_ASSERT_EQUAL(refs(b), 1);
	CU_ASSERT_EQUAL(refs(z), 1);
	/* Expiry is no eviction. */
	CU_ASSERT_EQUAL(cache_evicted(c), 0);
	cache_free(c);
	frame_unref(a);
	frame_unref(b);
	frame_unref(z);
}

static void
TEST_bound(void)
{
	struct frame *f[6];
	struct cache *c = table(3);
	char name[16];
	size_t i;

	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof name, "%c", (int)('a' + i));
		f[i] = frame(name);
	}
	CU_ASSERT_EQUAL(put(c, 0, "cache-a", f[0], 0, MINUTE_US), SLUICE_OK);
	CU_ASSERT_EQUAL(put(c, 0, "cache-b", f[1], 1, MINUTE_US), SLUICE_OK);
	CU_ASSERT_EQUAL(put(c, 0, "cache-c", f[2], 2, MINUTE_US), SLUICE_OK);
	/* Looking a channel up does not keep it: publishing does. */
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-a", 3), f[0]);
	/* Full: the least recently published gives way, counted, and its
	 * frame is let go. */
	CU_ASSERT_EQUAL(put(c, 0, "cache-d", f[3], 4, MINUTE_US), SLUICE_OK);
	CU_ASSERT_EQUAL(cache_count(c), 3);
	CU_ASSERT_EQUAL(cache_evicted(c), 1);
	CU_ASSERT_PTR_NULL(cache_get(c, 0, "cache-a", 5));
	CU_ASSERT_EQUAL(refs(f[0]), 1);
	/* Publishing to b again makes c the least recent. */
	CU_ASSERT_EQUAL(put(c, 0, "cache-b", f[1], 6, MINUTE_US), SLUICE_OK);
	CU_ASSERT_EQUAL(cache_evicted(c), 1);
	CU_ASSERT_EQUAL(put(c, 0, "cache-e", f[4], 7, MINUTE_US), SLUICE_OK);
	CU_ASSERT_EQUAL(cache_evicted(c), 2);
	CU_ASSERT_PTR_NULL(cache_get(c, 0, "cache-c", 8));
	CU_ASSERT_EQUAL(refs(f[2]), 1);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-b", 8), f[1]);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-d", 8), f[3]);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-e", 8), f[4]);

	/* An entry that gives way after it expired is not counted. */
	CU_ASSERT_EQUAL(put(c, 0, "cache-d", f[3], 9, 100), SLUICE_OK);
	CU_ASSERT_EQUAL(put(c, 0, "cache-b", f[1], 10, MINUTE_US),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(put(c, 0, "cache-e", f[4], 11, MINUTE_US),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(put(c, 0, "cache-f", f[5], 200, MINUTE_US),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(cache_evicted(c), 2);
	CU_ASSERT_EQUAL(refs(f[3]), 1);
	CU_ASSERT_EQUAL(cache_count(c), 3);
	/* Nor is one whose time runs out at that very moment; one a moment
	 * from it is. */
	CU_ASSERT_EQUAL(put(c, 0, "cache-b", f[1], 300, 400), SLUICE_OK);
	CU_ASSERT_EQUAL(put(c, 0, "cache-e", f[4], 301, MINUTE_US),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(put(c, 0, "cache-f", f[5], 302, MINUTE_US),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(put(c, 0, "cache-a", f[0], 400, MINUTE_US),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(cache_evicted(c), 2);
	CU_ASSERT_EQUAL(refs(f[1]), 1);
	CU_ASSERT_EQUAL(put(c, 0, "cache-e", f[4], 410, 420), SLUICE_OK);
	CU_ASSERT_EQUAL(put(c, 0, "cache-f", f[5], 411, MINUTE_US),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(put(c, 0, "cache-a", f[0], 412, MINUTE_US),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(put(c, 0, "cache-c", f[2], 419, MINUTE_US),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(cache_evicted(c), 3);
	CU_ASSERT_PTR_NULL(cache_get(c, 0, "cache-e", 419));
	CU_ASSERT_EQUAL(refs(f[4]), 1);
	CU_ASSERT_EQUAL(cache_count(c), 3);
	cache_free(c);
	for (i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(refs(f[i]), 1);
		frame_unref(f[i]);
	}

	/* A bound of 0 is taken as 1. */
	c = table(0);
	f[0] = frame("a");
	CU_ASSERT_EQUAL(put(c, 0, "cache-a", f[0], 0, MINUTE_US), SLUICE_OK);
	CU_ASSERT_EQUAL(put(c, 0, "cache-b", f[0], 0, MINUTE_US), SLUICE_OK);
	CU_ASSERT_EQUAL(cache_count(c), 1);
	CU_ASSERT_EQUAL(cache_evicted(c), 1);
	CU_ASSERT_EQUAL(refs(f[0]), 2);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-b", 0), f[0]);
	cache_free(c);
	CU_ASSERT_EQUAL(refs(f[0]), 1);
	frame_unref(f[0]);
}

static void
TEST_apps_apart(void)
{
	struct frame *f0 = frame("app 0"), *f1 = frame("app 1");
	struct cache *c = table(10);

	/* The same name in two apps is two channels. */
	CU_ASSERT_EQUAL(put(c, 0, "cache-x", f0, 0, MINUTE_US), SLUICE_OK);
	CU_ASSERT_PTR_NULL(cache_get(c, 1, "cache-x", 1));
	CU_ASSERT_EQUAL(put(c, 1, "cache-x", f1, 0, 100), SLUICE_OK);
	CU_ASSERT_EQUAL(cache_count(c), 2);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-x", 1), f0);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 1, "cache-x", 1), f1);
	CU_ASSERT_PTR_NULL(cache_get(c, 2, "cache-x", 1));
	/* One expires, the other stays. */
	CU_ASSERT_PTR_NULL(cache_get(c, 1, "cache-x", 100));
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-x", 100), f0);
	CU_ASSERT_EQUAL(cache_count(c), 1);
	/* Replacing one leaves the other. */
	CU_ASSERT_EQUAL(put(c, 1, "cache-x", f1, 200, MINUTE_US), SLUICE_OK);
	CU_ASSERT_EQUAL(put(c, 1, "cache-x", f0, 201, MINUTE_US), SLUICE_OK);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-x", 202), f0);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 1, "cache-x", 202), f0);
	CU_ASSERT_EQUAL(refs(f0), 3);
	CU_ASSERT_EQUAL(refs(f1), 1);
	/* Apps far apart. */
	CU_ASSERT_EQUAL(put(c, 0xffffffffu, "cache-x", f1, 0, MINUTE_US),
	    SLUICE_OK);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0xffffffffu, "cache-x", 202), f1);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-x", 202), f0);
	CU_ASSERT_EQUAL(cache_count(c), 3);
	cache_free(c);
	frame_unref(f0);
	frame_unref(f1);
}

static void
TEST_name_length(void)
{
	static const char name[] = "cache-abcdef";
	struct frame *f = frame("x"), *g = frame("y");
	struct cache *c = table(10);

	/* Only the n bytes given name the channel. */
	CU_ASSERT_EQUAL(cache_put(c, 0, name, 7, f, 0, MINUTE_US),
	    SLUICE_OK);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-a", 1), f);
	CU_ASSERT_PTR_NULL(cache_get(c, 0, name, 1));
	CU_ASSERT_EQUAL(cache_put(c, 0, name, sizeof name - 1, g, 0,
	    MINUTE_US), SLUICE_OK);
	CU_ASSERT_EQUAL(cache_count(c), 2);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, name, 1), g);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-a", 1), f);
	/* One a prefix of the other, put the other way round. */
	CU_ASSERT_EQUAL(cache_put(c, 0, name, 8, g, 0, MINUTE_US),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(cache_count(c), 3);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-ab", 1), g);
	CU_ASSERT_PTR_EQUAL(cache_get(c, 0, "cache-a", 1), f);
	cache_free(c);
	frame_unref(f);
	frame_unref(g);
}

#define MANY 10000

static void
TEST_many_channels(void)
{
	struct frame *f = frame("x");
	struct cache *c = table(100000);
	char name[32];
	size_t i;

	/* The table grows past its first slots and finds every one. */
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof name, "cache-%zu", i);
		CU_ASSERT_EQUAL_FATAL(put(c, (unsigned)(i % 3), name, f,
		    (int64_t)i, MINUTE_US), SLUICE_OK);
	}
	CU_ASSERT_EQUAL(cache_count(c), MANY);
	CU_ASSERT_EQUAL(refs(f), MANY + 1);
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof name, "cache-%zu", i);
		CU_ASSERT_PTR_EQUAL(cache_get(c, (unsigned)(i % 3), name,
		    MANY), f);
		CU_ASSERT_PTR_NULL(cache_get(c, (unsigned)((i + 1) % 3), name,
		    MANY));
	}
	/* And empties as they expire. */
	CU_ASSERT_PTR_NULL(cache_get(c, 0, "cache-0", MINUTE_US + MANY));
	CU_ASSERT_EQUAL(cache_count(c), 0);
	CU_ASSERT_EQUAL(refs(f), 1);
	cache_free(c);

	/* Over a bound of 1,000: the last 1,000 stay. */
	c = table(1000);
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof name, "cache-%zu", i);
		CU_ASSERT_EQUAL_FATAL(put(c, 0, name, f, (int64_t)i,
		    MINUTE_US), SLUICE_OK);
	}
	CU_ASSERT_EQUAL(cache_count(c), 1000);
	CU_ASSERT_EQUAL(cache_evicted(c), MANY - 1000);
	CU_ASSERT_EQUAL(refs(f), 1001);
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof name, "cache-%zu", i);
		if (i < MANY - 1000) {
			CU_ASSERT_PTR_NULL(cache_get(c, 0, name, MANY));
		} else {
			CU_ASSERT_PTR_EQUAL(cache_get(c, 0, name, MANY), f);
		}
	}
	cache_free(c);
	CU_ASSERT_EQUAL(refs(f), 1);
	frame_unref(f);
}

/* The hub's ops: an encoder that makes a frame of the event's data, and
 * a subscriber that keeps a reference to each frame it gets. */
#define KEPT_MAX 16
static struct frame	*kept[KEPT_MAX];
static size_t		 nkept;
static unsigned		 wakeups;

static struct frame *
encode(const struct hub_event *ev, void *arg)
{
	struct frame *f;
	char *name;

	(void)arg;
	f = frame_new(ev->data, ev->data_len, ev->channel_len + 1);
	if (f == NULL)
		return NULL;
	name = (char *)frame_payload(f) + f->len;
	memcpy(name, ev->channel, ev->channel_len);
	name[ev->channel_len] = '\0';
	f->channel = name;
	f->app = ev->app;
	f->accepted_us = ev->accepted_us;
	return f;
}

static void
deliver(void *sub, struct frame *f)
{
	(void)sub;
	CU_ASSERT_FATAL(nkept < KEPT_MAX);
	kept[nkept++] = frame_ref(f);
}

static void
wakeup(void *arg)
{
	(void)arg;
	wakeups++;
}

static void
kept_free(void)
{
	while (nkept > 0)
		frame_unref(kept[--nkept]);
}

static struct hub *
hub_make(void)
{
	struct hub_ops ops;
	struct hub *h;

	nkept = 0;
	wakeups = 0;
	h = hub_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	memset(&ops, 0, sizeof ops);
	ops.encode = encode;
	ops.deliver = deliver;
	ops.wakeup = wakeup;
	hub_attach(h, &ops);
	return h;
}

/* Publishes data on channel of app, accepted at accepted_us (0: now),
 * kept ttl_us (0: not a cache channel's). */
static void
publish(struct hub *h, unsigned app, const char *channel, const char *data,
    int64_t accepted_us, int64_t ttl_us)
{
	struct hub_event ev;

	memset(&ev, 0, sizeof ev);
	ev.app = app;
	ev.channel = channel;
	ev.channel_len = strlen(channel);
	ev.event = "e";
	ev.event_len = 1;
	ev.data = data;
	ev.data_len = strlen(data);
	ev.accepted_us = accepted_us;
	ev.cache_ttl_us = ttl_us;
	hub_publish(h, &ev, 1);
}

/* Whether f holds text. */
static int
holds(struct frame *f, const char *text)
{
	return f != NULL && f->len == strlen(text) &&
	    memcmp(frame_payload(f), text, f->len) == 0;
}

static void
TEST_hub_cached(void)
{
	struct hub_channel *ch;
	struct frame *f;
	size_t channels;
	uint64_t evicted;
	struct hub *h;
	int64_t now;

	h = hub_make();
	hub_enter(h);
	/* Nobody takes the channel: its event is still kept. */
	publish(h, 0, "cache-room", "\"first\"", 0, MINUTE_US);
	f = hub_cached(h, 0, "cache-room");
	CU_ASSERT(holds(f, "\"first\""));
	CU_ASSERT_EQUAL(refs(f), 1);	/* the cache's own */
	CU_ASSERT_PTR_NULL(hub_cached(h, 1, "cache-room"));
	CU_ASSERT_PTR_NULL(hub_cached(h, 0, "cache-other"));
	/* Without a ttl it is not (and nothing is encoded for nobody). */
	publish(h, 0, "cache-plain", "1", 0, 0);
	CU_ASSERT_PTR_NULL(hub_cached(h, 0, "cache-plain"));
	hub_cache_stats(h, &channels, &evicted);
	CU_ASSERT_EQUAL(channels, 1);
	CU_ASSERT_EQUAL(evicted, 0);

	/* A subscriber gets the event, and the same frame is kept; the next
	 * event replaces it, and the cache lets the first go. */
	CU_ASSERT_EQUAL(hub_subscribe(h, 0, "cache-room", &nkept, &ch),
	    SLUICE_OK);
	publish(h, 0, "cache-room", "\"second\"", 0, MINUTE_US);
	CU_ASSERT_EQUAL_FATAL(nkept, 1);
	CU_ASSERT_PTR_EQUAL(hub_cached(h, 0, "cache-room"), kept[0]);
	CU_ASSERT(holds(kept[0], "\"second\""));
	CU_ASSERT_EQUAL(refs(kept[0]), 2);
	publish(h, 0, "cache-room", "\"third\"", 0, MINUTE_US);
	CU_ASSERT_EQUAL_FATAL(nkept, 2);
	CU_ASSERT_EQUAL(refs(kept[0]), 1);
	CU_ASSERT_EQUAL(refs(kept[1]), 2);
	CU_ASSERT(holds(hub_cached(h, 0, "cache-room"), "\"third\""));
	/* Kept with the channel gone, too. */
	hub_unsubscribe(h, ch, &nkept);
	CU_ASSERT(holds(hub_cached(h, 0, "cache-room"), "\"third\""));
	kept_free();

	/* An event accepted longer ago than its ttl has expired already. */
	now = isotime_mono_us();
	publish(h, 0, "cache-old", "\"old\"", now - 2 * MINUTE_US,
	    MINUTE_US);
	CU_ASSERT_PTR_NULL(hub_cached(h, 0, "cache-old"));
	/* The same name in another app is another channel. */
	publish(h, 1, "cache-room", "\"app 1\"", 0, MINUTE_US);
	CU_ASSERT(holds(hub_cached(h, 1, "cache-room"), "\"app 1\""));
	CU_ASSERT(holds(hub_cached(h, 0, "cache-room"), "\"third\""));
	hub_cache_stats(h, &channels, &evicted);
	CU_ASSERT_EQUAL(channels, 2);
	CU_ASSERT_EQUAL(evicted, 0);
	hub_free(h);
}

static void
TEST_hub_cached_through_inbox(void)
{
	struct hub *h;

	/* Published off the service thread (the hub was never entered):
	 * kept when the service thread drains the inbox. */
	h = hub_make();
	publish(h, 0, "cache-room", "\"queued\"", 0, MINUTE_US);
	CU_ASSERT_EQUAL(wakeups, 1);
	hub_enter(h);
	CU_ASSERT_PTR_NULL(hub_cached(h, 0, "cache-room"));
	hub_drain(h);
	CU_ASSERT(holds(hub_cached(h, 0, "cache-room"), "\"queued\""));
	CU_ASSERT_EQUAL(nkept, 0);
	hub_free(h);

	/* A hub freed with the frame still queued lets it go too (as seen
	 * under the sanitizers). */
	h = hub_make();
	publish(h, 0, "cache-room", "\"never\"", 0, MINUTE_US);
	hub_free(h);
}

static void
TEST_hub_cache_limit(void)
{
	size_t channels;
	uint64_t evicted;
	struct hub *h;

	h = hub_make();
	hub_cache_limit(h, 2);
	hub_enter(h);
	publish(h, 0, "cache-a", "1", 0, MINUTE_US);
	publish(h, 0, "cache-b", "2", 0, MINUTE_US);
	publish(h, 0, "cache-a", "3", 0, MINUTE_US);
	hub_cache_stats(h, &channels, &evicted);
	CU_ASSERT_EQUAL(channels, 2);
	CU_ASSERT_EQUAL(evicted, 0);
	/* b was published to least recently: it gives way. */
	publish(h, 0, "cache-c", "4", 0, MINUTE_US);
	hub_cache_stats(h, &channels, &evicted);
	CU_ASSERT_EQUAL(channels, 2);
	CU_ASSERT_EQUAL(evicted, 1);
	CU_ASSERT_PTR_NULL(hub_cached(h, 0, "cache-b"));
	CU_ASSERT(holds(hub_cached(h, 0, "cache-a"), "3"));
	CU_ASSERT(holds(hub_cached(h, 0, "cache-c"), "4"));
	/* An expired one makes room without counting. */
	publish(h, 0, "cache-a", "5", isotime_mono_us() - MINUTE_US, 1);
	publish(h, 0, "cache-c", "6", 0, MINUTE_US);
	publish(h, 0, "cache-d", "7", 0, MINUTE_US);
	hub_cache_stats(h, &channels, &evicted);
	CU_ASSERT_EQUAL(channels, 2);
	CU_ASSERT_EQUAL(evicted, 1);
	hub_free(h);
}

void
test_cache_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_put_get", TEST_put_get },
		{ "TEST_replace", TEST_replace },
		{ "TEST_expiry", TEST_expiry },
		{ "TEST_bound", TEST_bound },
		{ "TEST_apps_apart", TEST_apps_apart },
		{ "TEST_name_length", TEST_name_length },
		{ "TEST_many_channels", TEST_many_channels },
		{ "TEST_hub_cached", TEST_hub_cached },
		{ "TEST_hub_cached_through_inbox",
		    TEST_hub_cached_through_inbox },
		{ "TEST_hub_cache_limit", TEST_hub_cache_limit },
		{ NULL, NULL }
	};

	unit_add_suite("cache", tests);
}
