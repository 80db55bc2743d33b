/*
 * test_counts.c: the hub's subscription counts (hub_watch_counts,
 * hub_counts_due), with times given explicitly: changes to a channel's
 * subscribers make one call however many there were; the interval the
 * call returns delays the next; a channel freed meanwhile is forgotten;
 * an app whose counts are not watched is never called for.
 */
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "core/sluice.h"
#include "hub/hub.h"

/* Connections are just distinct addresses. */
static char conns[8];
#define CONN(i) ((void *)&conns[(i)])

/* The calls made, in order: the channel's app, name and subscribers. */
#define CALLS_MAX 64
struct call {
	unsigned	 app;
	char		 name[32];
	size_t		 subscribers;
};
static struct call	 calls[CALLS_MAX];
static size_t		 ncalls;
static int64_t		 interval_us;	/* what count returns */
static struct hub	*expected_hub;
static int		 arg_token;

static int64_t
count(struct hub *h, struct hub_channel *ch, void *arg)
{
	struct call *c;

	CU_ASSERT_PTR_EQUAL(h, expected_hub);
	CU_ASSERT_PTR_EQUAL(arg, &arg_token);
	CU_ASSERT_FATAL(ncalls < CALLS_MAX);
	c = &calls[ncalls++];
	c->app = hub_channel_app(ch);
	snprintf(c->name, sizeof c->name, "%s", hub_channel_name(ch));
	c->subscribers = hub_channel_subscribers(ch);
	return interval_us;
}

/* Runs hub_counts_due at now_us; returns how many calls it made. */
static size_t
due(struct hub *h, int64_t now_us)
{
	ncalls = 0;
	hub_counts_due(h, now_us, count, &arg_token);
	return ncalls;
}

/* The call made for channel of app in the last run, or NULL; fails the
 * test when there were two. */
static const struct call *
call_for(unsigned app, const char *name)
{
	const struct call *found = NULL;
	size_t i;

	for (i = 0; i < ncalls; i++) {
		if (calls[i].app != app || strcmp(calls[i].name, name) != 0)
			continue;
		CU_ASSERT_PTR_NULL(found);
		found = &calls[i];
	}
	return found;
}

static struct hub *
hub_make(void)
{
	struct hub *h;

	h = hub_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	hub_enter(h);
	expected_hub = h;
	interval_us = 0;
	ncalls = 0;
	return h;
}

static struct hub_channel *
subscribe(struct hub *h, unsigned app, const char *name, void *sub)
{
	struct hub_channel *ch;

	CU_ASSERT_EQUAL_FATAL(hub_subscribe(h, app, name, sub, &ch),
	    SLUICE_OK);
	return ch;
}

static void
TEST_one_call_per_channel(void)
{
	struct hub_channel *a, *b;
	const struct call *c;
	struct hub *h = hub_make();

	hub_watch_counts(h, 0);
	/* Nothing changed, nothing to tell. */
	CU_ASSERT_EQUAL(due(h, 1000), 0);
	a = subscribe(h, 0, "a", CONN(1));
	subscribe(h, 0, "a", CONN(2));
	subscribe(h, 0, "a", CONN(3));
	b = subscribe(h, 0, "b", CONN(1));
	hub_unsubscribe(h, a, CONN(2));
	/* Four changes to a, one to b: one call each, with the count as it
	 * is now. */
	CU_ASSERT_EQUAL(due(h, 1000), 2);
	c = call_for(0, "a");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->subscribers, 2);
	c = call_for(0, "b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->subscribers, 1);
	/* Told: nothing more until the next change. */
	CU_ASSERT_EQUAL(due(h, 1000), 0);
	CU_ASSERT_EQUAL(due(h, 1000000), 0);

	/* What changes no count is no change: subscribing again, or
	 * unsubscribing someone who was not subscribed. */
	subscribe(h, 0, "a", CONN(1));
	hub_unsubscribe(h, a, CONN(5));
	hub_unsubscribe(h, b, CONN(5));
	CU_ASSERT_EQUAL(due(h, 2000000), 0);

	/* A change back to where it was is still told. */
	subscribe(h, 0, "b", CONN(2));
	hub_unsubscribe(h, b, CONN(2));
	CU_ASSERT_EQUAL(due(h, 3000000), 1);
	CU_ASSERT_EQUAL(calls[0].subscribers, 1);

	hub_unsubscribe(h, a, CONN(1));
	hub_unsubscribe(h, a, CONN(3));
	hub_unsubscribe(h, b, CONN(1));
	CU_ASSERT_EQUAL(hub_channel_count(h), 0);
	CU_ASSERT_EQUAL(due(h, 4000000), 0);
	hub_free(h);
}

static void
TEST_interval(void)
{
	struct hub_channel *x, *y;
	struct hub *h = hub_make();

	hub_watch_counts(h, 0);
	interval_us = 500;
	x = subscribe(h, 0, "x", CONN(1));
	CU_ASSERT_EQUAL(due(h, 1000), 1);
	/* Changes within the interval wait for its end... */
	subscribe(h, 0, "x", CONN(2));
	CU_ASSERT_EQUAL(due(h, 1200), 0);
	subscribe(h, 0, "x", CONN(3));
	CU_ASSERT_EQUAL(due(h, 1499), 0);
	/* ... and are told then, once, as they are by then. */
	CU_ASSERT_EQUAL(due(h, 1500), 1);
	CU_ASSERT_STRING_EQUAL(calls[0].name, "x");
	CU_ASSERT_EQUAL(calls[0].subscribers, 3);
	/* With no change, the interval's end tells nothing. */
	CU_ASSERT_EQUAL(due(h, 2000), 0);
	CU_ASSERT_EQUAL(due(h, 9000), 0);
	/* A change long after the interval is told at once. */
	hub_unsubscribe(h, x, CONN(3));
	CU_ASSERT_EQUAL(due(h, 9000), 1);
	CU_ASSERT_EQUAL(calls[0].subscribers, 2);

	/* A channel waiting does not hold back another that is due. */
	hub_unsubscribe(h, x, CONN(2));
	y = subscribe(h, 0, "y", CONN(1));
	CU_ASSERT_EQUAL(due(h, 9100), 1);
	CU_ASSERT_PTR_NOT_NULL(call_for(0, "y"));
	CU_ASSERT_EQUAL(due(h, 9499), 0);
	CU_ASSERT_EQUAL(due(h, 9500), 1);
	CU_ASSERT_PTR_NOT_NULL(call_for(0, "x"));
	CU_ASSERT_EQUAL(calls[0].subscribers, 1);

	/* Each call sets its channel's own interval; 0 lets the next
	 * change be told at once. */
	interval_us = 0;
	subscribe(h, 0, "x", CONN(2));
	CU_ASSERT_EQUAL(due(h, 10000), 1);
	subscribe(h, 0, "x", CONN(3));
	CU_ASSERT_EQUAL(due(h, 10000), 1);
	CU_ASSERT_EQUAL(calls[0].subscribers, 3);
	interval_us = 1000000;
	subscribe(h, 0, "y", CONN(2));
	CU_ASSERT_EQUAL(due(h, 10000), 1);
	subscribe(h, 0, "x", CONN(4));
	subscribe(h, 0, "y", CONN(3));
	CU_ASSERT_EQUAL(due(h, 10001), 1);
	CU_ASSERT_PTR_NOT_NULL(call_for(0, "x"));
	CU_ASSERT_EQUAL(due(h, 1009999), 0);
	CU_ASSERT_EQUAL(due(h, 1010000), 1);
	CU_ASSERT_PTR_NOT_NULL(call_for(0, "y"));
	CU_ASSERT_EQUAL(calls[0].subscribers, 3);

	hub_unsubscribe(h, x, CONN(1));
	hub_unsubscribe(h, x, CONN(2));
	hub_unsubscribe(h, x, CONN(3));
	hub_unsubscribe(h, x, CONN(4));
	hub_unsubscribe(h, y, CONN(1));
	hub_unsubscribe(h, y, CONN(2));
	hub_unsubscribe(h, y, CONN(3));
	CU_ASSERT_EQUAL(hub_channel_count(h), 0);
	hub_free(h);
}

static void
TEST_freed_channel_forgotten(void)
{
	struct hub_channel *z, *w;
	struct hub *h = hub_make();

	hub_watch_counts(h, 0);
	/* Changed, then freed before it was due: no call (the channel is
	 * gone; a call would read freed memory). */
	z = subscribe(h, 0, "z", CONN(1));
	w = subscribe(h, 0, "w", CONN(1));
	hub_unsubscribe(h, z, CONN(1));
	CU_ASSERT_EQUAL(due(h, 1000), 1);
	CU_ASSERT_PTR_NOT_NULL(call_for(0, "w"));

	/* Freed while waiting out its interval. */
	interval_us = 500;
	z = subscribe(h, 0, "z", CONN(1));
	CU_ASSERT_EQUAL(due(h, 2000), 1);
	subscribe(h, 0, "z", CONN(2));
	CU_ASSERT_EQUAL(due(h, 2100), 0);
	hub_unsubscribe(h, z, CONN(1));
	hub_unsubscribe(h, z, CONN(2));
	CU_ASSERT_PTR_NULL(hub_channel_find(h, 0, "z"));
	CU_ASSERT_EQUAL(due(h, 2500), 0);
	CU_ASSERT_EQUAL(due(h, 9000), 0);
	/* The name again is a new channel, due at once. */
	z = subscribe(h, 0, "z", CONN(3));
	CU_ASSERT_EQUAL(due(h, 9100), 1);
	CU_ASSERT_EQUAL(calls[0].subscribers, 1);

	/* Every channel freed, others' changes still told. */
	hub_unsubscribe(h, w, CONN(1));
	subscribe(h, 0, "z", CONN(4));
	hub_unsubscribe(h, z, CONN(3));
	hub_unsubscribe(h, z, CONN(4));
	CU_ASSERT_EQUAL(hub_channel_count(h), 0);
	CU_ASSERT_EQUAL(due(h, 100000), 0);
	hub_free(h);
}

static void
TEST_unwatched_apps(void)
{
	struct hub_channel *ch[6];
	struct hub *h = hub_make();
	unsigned app;

	/* Apps 1 and 4 watched; 0, 2, 3 and 5 not, though 5 is past the
	 * highest watched and 2 and 3 between. */
	hub_watch_counts(h, 1);
	hub_watch_counts(h, 4);
	for (app = 0; app < 6; app++)
		ch[app] = subscribe(h, app, "room", CONN(1));
	CU_ASSERT_EQUAL(due(h, 1000), 2);
	CU_ASSERT_PTR_NOT_NULL(call_for(1, "room"));
	CU_ASSERT_PTR_NOT_NULL(call_for(4, "room"));
	for (app = 0; app < 6; app++)
		subscribe(h, app, "room", CONN(2));
	CU_ASSERT_EQUAL(due(h, 2000), 2);
	CU_ASSERT_EQUAL(call_for(1, "room")->subscribers, 2);
	CU_ASSERT_EQUAL(call_for(4, "room")->subscribers, 2);
	/* Watching twice is watching once. */
	hub_watch_counts(h, 4);
	for (app = 0; app < 6; app++)
		hub_unsubscribe(h, ch[app], CONN(2));
	CU_ASSERT_EQUAL(due(h, 3000), 2);
	for (app = 0; app < 6; app++)
		hub_unsubscribe(h, ch[app], CONN(1));
	CU_ASSERT_EQUAL(due(h, 4000), 0);
	hub_free(h);

	/* A hub that watches no app calls for none. */
	h = hub_make();
	ch[0] = subscribe(h, 0, "room", CONN(1));
	CU_ASSERT_EQUAL(due(h, 1000), 0);
	hub_unsubscribe(h, ch[0], CONN(1));
	hub_free(h);
}

void
test_counts_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_one_call_per_channel", TEST_one_call_per_channel },
		{ "TEST_interval", TEST_interval },
		{ "TEST_freed_channel_forgotten",
		    TEST_freed_channel_forgotten },
		{ "TEST_unwatched_apps", TEST_unwatched_apps },
		{ NULL, NULL }
	};

	unit_add_suite("counts", tests);
}
