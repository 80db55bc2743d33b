/*
 * hub.c: channels, their subscribers, and the hand-off of frames and
 * queries from other threads to the service thread, through an inbox
 * bounded in frames. The channel table belongs to the service thread; the
 * inbox, the channels that missed frames, the queries and the interest
 * counts are shared.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>

#include "core/isotime.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/sluice.h"
#include "hub/cache.h"
#include "hub/hash.h"
#include "hub/hub.h"
#include "hub/presence.h"

#define HUB_INTEREST	4096	/* interest counters, by channel hash */
#define HUB_FIRST_SLOTS	64	/* hash table slots at first */
#define HUB_MISSED_MAX	1024	/* channels remembered as missing frames */
#define HUB_LOG_US	(10 * 1000 * 1000) /* between "inbox full" lines */
#define HUB_CACHE_DEFAULT 100000 /* cache channels, until hub_cache_limit */

/* A channel whose frames were dropped, by its app and name's hash. */
struct hub_missed {
	unsigned	app;
	uint64_t	hash;
};

struct hub_channel {
	struct hub_channel	*next;		/* in its slot's chain */
	unsigned		 app;
	uint64_t		 hash;
	void			**subs;
	size_t			 nsubs;
	size_t			 cap;
	struct presence		*presence;	/* members, or NULL */
	TAILQ_ENTRY(hub_channel) changed;	/* on h->changed */
	int			 count_changed;	/* on that list */
	int64_t			 count_due_us;	/* may be told then */
	char			 name[];
};

TAILQ_HEAD(hub_changed, hub_channel);

/* A query waiting for the service thread. */
struct hub_query {
	struct hub_query	*next;
	hub_query_fn		 fn;
	void			*arg;
};

struct hub {
	struct hub_ops		 ops;
	pthread_t		 service;
	atomic_int		 entered;	/* service is set */

	/* Service thread only. */
	struct hub_channel	**slots;
	size_t			 nslots;	/* a power of two */
	size_t			 nchannels;
	size_t			 nsubscriptions;
	int64_t			 logged_us;	/* the last "inbox full" line */
	struct cache		*cache;		/* cache channels' events */
	size_t			 nmembers;	/* over every presence
						   channel */
	unsigned char		*counted_apps;	/* by app: counts watched */
	unsigned		 ncounted_apps;
	struct hub_changed	 changed;	/* counts changed, to tell */
	uint64_t		 logged_dropped; /* dropped, as of that line */

	/* Shared. */
	atomic_uint		 interest[HUB_INTEREST];
	pthread_mutex_t		 lock;		/* guards what follows */
	struct frame		**inbox;
	size_t			 ninbox;
	size_t			 inbox_cap;
	size_t			 inbox_limit;	/* 0: none */
	uint64_t		 dropped;	/* frames, all time */
	struct hub_missed	 missed[HUB_MISSED_MAX];
	size_t			 nmissed;
	int			 missed_all;	/* missed overflowed: everyone */
	struct hub_query	*queries;	/* in the order posted */
	struct hub_query	**queries_tail;
	int			 closed;
};

struct hub *
hub_new(void)
{
	struct hub *h;
	size_t i;

	h = calloc(1, sizeof *h);
	if (h == NULL)
		return NULL;
	h->slots = calloc(HUB_FIRST_SLOTS, sizeof *h->slots);
	if (h->slots == NULL) {
		free(h);
		return NULL;
	}
	h->nslots = HUB_FIRST_SLOTS;
	h->cache = cache_new(HUB_CACHE_DEFAULT);
	if (h->cache == NULL) {
		free(h->slots);
		free(h);
		return NULL;
	}
	TAILQ_INIT(&h->changed);
	for (i = 0; i < HUB_INTEREST; i++)
		atomic_init(&h->interest[i], 0);
	atomic_init(&h->entered, 0);
	h->queries_tail = &h->queries;
	pthread_mutex_init(&h->lock, NULL);
	return h;
}

void
hub_attach(struct hub *h, const struct hub_ops *ops)
{
	h->ops = *ops;
}

void
hub_limit(struct hub *h, size_t frames)
{
	h->inbox_limit = frames;
}

uint64_t
hub_dropped(struct hub *h)
{
	uint64_t n;

	pthread_mutex_lock(&h->lock);
	n = h->dropped;
	pthread_mutex_unlock(&h->lock);
	return n;
}

/* Whether the service thread has nothing to drain: an offer, a query or
 * a mark wakes it only then. Under h->lock. */
static int
hub_idle_locked(const struct hub *h)
{
	return h->ninbox == 0 && h->queries == NULL && h->nmissed == 0 &&
	    !h->missed_all;
}

/* Remembers that channel (n bytes) of app missed a frame. Under h->lock. */
static void
hub_mark_locked(struct hub *h, unsigned app, const char *channel, size_t n)
{
	uint64_t hash = hub_name_hash(app, channel, n);
	size_t i;

	if (h->missed_all)
		return;
	for (i = 0; i < h->nmissed; i++)
		if (h->missed[i].hash == hash && h->missed[i].app == app)
			return;
	if (h->nmissed == HUB_MISSED_MAX) {
		h->missed_all = 1;
		return;
	}
	h->missed[h->nmissed].app = app;
	h->missed[h->nmissed].hash = hash;
	h->nmissed++;
}

/* Counts n events dropped from the live view (out of memory) and marks
 * their channels. Any thread. */
static void
hub_lose_events(struct hub *h, const struct hub_event *events, size_t n)
{
	size_t i;
	int wake;

	if (n == 0)
		return;
	pthread_mutex_lock(&h->lock);
	if (h->closed) {
		pthread_mutex_unlock(&h->lock);
		return;
	}
	wake = hub_idle_locked(h);
	for (i = 0; i < n; i++)
		hub_mark_locked(h, events[i].app, events[i].channel,
		    events[i].channel_len);
	h->dropped += n;
	pthread_mutex_unlock(&h->lock);
	metrics_hub_dropped(n);
	if (wake && h->ops.wakeup != NULL)
		h->ops.wakeup(h->ops.arg);
}

void
hub_enter(struct hub *h)
{
	h->service = pthread_self();
	atomic_store(&h->entered, 1);
}

/* Takes the queued queries out of h; the caller runs them. */
static struct hub_query *
hub_take_queries(struct hub *h)
{
	struct hub_query *q;

	pthread_mutex_lock(&h->lock);
	q = h->queries;
	h->queries = NULL;
	h->queries_tail = &h->queries;
	pthread_mutex_unlock(&h->lock);
	return q;
}

/* Runs a list of queries with status, freeing it. */
static void
hub_run_queries(struct hub *h, struct hub_query *q, int status)
{
	struct hub_query *next;

	for (; q != NULL; q = next) {
		next = q->next;
		q->fn(h, q->arg, status);
		free(q);
	}
}

void
hub_free(struct hub *h)
{
	size_t i;

	if (h == NULL)
		return;
	hub_run_queries(h, hub_take_queries(h), SLUICE_ESTOPPING);
	for (i = 0; i < h->ninbox; i++)
		frame_unref(h->inbox[i]);
	metrics_hub_inbox(-(int64_t)h->ninbox);
	free(h->inbox);
	free(h->slots);
	cache_free(h->cache);
	free(h->counted_apps);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static struct hub_channel *
hub_find(struct hub *h, unsigned app, const char *name, uint64_t hash)
{
	struct hub_channel *ch;

	for (ch = h->slots[hash & (h->nslots - 1)]; ch != NULL; ch = ch->next)
		if (ch->hash == hash && ch->app == app &&
		    strcmp(ch->name, name) == 0)
			return ch;
	return NULL;
}

/* Doubles the table; on failure the table stays as it was. */
static void
hub_grow(struct hub *h)
{
	struct hub_channel **slots, *ch, *next;
	size_t n = h->nslots * 2, i;

	slots = calloc(n, sizeof *slots);
	if (slots == NULL)
		return;
	for (i = 0; i < h->nslots; i++) {
		for (ch = h->slots[i]; ch != NULL; ch = next) {
			next = ch->next;
			ch->next = slots[ch->hash & (n - 1)];
			slots[ch->hash & (n - 1)] = ch;
		}
	}
	free(h->slots);
	h->slots = slots;
	h->nslots = n;
}

/* Puts ch on the list of channels whose count changed, when its app's
 * counts are watched. */
static void
hub_count_changed(struct hub *h, struct hub_channel *ch)
{
	if (ch->count_changed || ch->app >= h->ncounted_apps ||
	    !h->counted_apps[ch->app])
		return;
	ch->count_changed = 1;
	TAILQ_INSERT_TAIL(&h->changed, ch, changed);
}

int
hub_subscribe(struct hub *h, unsigned app, const char *channel, void *sub,
    struct hub_channel **out)
{
	size_t n = strlen(channel), i;
	uint64_t hash = hub_name_hash(app, channel, n);
	struct hub_channel *ch;
	void **subs;

	ch = hub_find(h, app, channel, hash);
	if (ch == NULL) {
		ch = calloc(1, sizeof *ch + n + 1);
		if (ch == NULL)
			return SLUICE_ENOMEM;
		ch->app = app;
		ch->hash = hash;
		memcpy(ch->name, channel, n + 1);
		if (h->nchannels >= h->nslots)
			hub_grow(h);
		ch->next = h->slots[hash & (h->nslots - 1)];
		h->slots[hash & (h->nslots - 1)] = ch;
		h->nchannels++;
		atomic_fetch_add(&h->interest[hash % HUB_INTEREST], 1);
	}
	for (i = 0; i < ch->nsubs; i++) {
		if (ch->subs[i] == sub) {
			*out = ch;
			return SLUICE_OK;
		}
	}
	if (ch->nsubs == ch->cap) {
		subs = reallocarray(ch->subs, ch->cap == 0 ? 4 : ch->cap * 2,
		    sizeof *subs);
		if (subs == NULL) {
			if (ch->nsubs == 0)
				hub_unsubscribe(h, ch, NULL);
			return SLUICE_ENOMEM;
		}
		ch->subs = subs;
		ch->cap = ch->cap == 0 ? 4 : ch->cap * 2;
	}
	ch->subs[ch->nsubs++] = sub;
	h->nsubscriptions++;
	hub_count_changed(h, ch);
	*out = ch;
	return SLUICE_OK;
}

void
hub_unsubscribe(struct hub *h, struct hub_channel *ch, void *sub)
{
	struct hub_channel **pp;
	size_t i;

	for (i = 0; i < ch->nsubs; i++) {
		if (ch->subs[i] == sub) {
			/* Order among subscribers does not matter. */
			ch->subs[i] = ch->subs[--ch->nsubs];
			h->nsubscriptions--;
			hub_count_changed(h, ch);
			break;
		}
	}
	if (ch->nsubs > 0)
		return;
	if (ch->count_changed)
		TAILQ_REMOVE(&h->changed, ch, changed);
	h->nmembers -= presence_count(ch->presence);
	presence_free(ch->presence);
	for (pp = &h->slots[ch->hash & (h->nslots - 1)]; *pp != ch;
	    pp = &(*pp)->next)
		;
	*pp = ch->next;
	h->nchannels--;
	atomic_fetch_sub(&h->interest[ch->hash % HUB_INTEREST], 1);
	free(ch->subs);
	free(ch);
}

const char *
hub_channel_name(const struct hub_channel *ch)
{
	return ch->name;
}

size_t
hub_channel_subscribers(const struct hub_channel *ch)
{
	return ch->nsubs;
}

size_t
hub_subscribers(struct hub *h, unsigned app, const char *channel)
{
	struct hub_channel *ch;

	ch = hub_find(h, app, channel, hub_name_hash(app, channel,
	    strlen(channel)));
	return ch != NULL ? ch->nsubs : 0;
}

void
hub_channels_each(struct hub *h, unsigned app,
    void (*fn)(const struct hub_channel *ch, void *arg), void *arg)
{
	struct hub_channel *ch;
	size_t i;

	for (i = 0; i < h->nslots; i++)
		for (ch = h->slots[i]; ch != NULL; ch = ch->next)
			if (ch->app == app)
				fn(ch, arg);
}

size_t
hub_channel_count(const struct hub *h)
{
	return h->nchannels;
}

size_t
hub_subscription_count(const struct hub *h)
{
	return h->nsubscriptions;
}

void
hub_deliver(struct hub *h, struct frame *f)
{
	struct hub_channel *ch;

	if (f->channel == NULL || h->ops.deliver == NULL)
		return;
	if (f->cache_until_us != 0 && cache_put(h->cache, f->app, f->channel,
	    strlen(f->channel), f, isotime_mono_us(), f->cache_until_us) !=
	    SLUICE_OK)
		log_warn("hub", "out of memory: the last event of %s is not "
		    "cached", f->channel);
	ch = hub_find(h, f->app, f->channel,
	    hub_name_hash(f->app, f->channel, strlen(f->channel)));
	if (ch != NULL)
		hub_channel_deliver(h, ch, f, f->except);
}

/* Tells every subscriber of ch that it missed frames. */
static void
hub_tell_channel(struct hub *h, struct hub_channel *ch)
{
	size_t i, n;

	for (i = 0, n = ch->nsubs; i < n; i++)
		h->ops.missed(ch->subs[i]);
}

/* Tells the subscribers of the channels in missed[n] (of every channel
 * when all is set) that they missed frames. */
static void
hub_tell_missed(struct hub *h, const struct hub_missed *missed, size_t n,
    int all)
{
	struct hub_channel *ch;
	size_t i;

	if (h->ops.missed == NULL)
		return;
	if (all) {
		for (i = 0; i < h->nslots; i++)
			for (ch = h->slots[i]; ch != NULL; ch = ch->next)
				hub_tell_channel(h, ch);
		return;
	}
	for (i = 0; i < n; i++) {
		for (ch = h->slots[missed[i].hash & (h->nslots - 1)];
		    ch != NULL; ch = ch->next)
			if (ch->hash == missed[i].hash &&
			    ch->app == missed[i].app)
				hub_tell_channel(h, ch);
	}
}

/* Logs the frames dropped since the last line, at most once per
 * HUB_LOG_US. */
static void
hub_log_dropped(struct hub *h, uint64_t dropped, int all)
{
	int64_t now = isotime_mono_us();

	if (dropped == h->logged_dropped ||
	    (h->logged_us != 0 && now - h->logged_us < HUB_LOG_US))
		return;
	log_warn("hub", "the inbox was full (inbox_frames %zu): %llu live "
	    "frames dropped since the last report; the subscribers of %s "
	    "are told to reconnect", h->inbox_limit,
	    (unsigned long long)(dropped - h->logged_dropped),
	    all ? "every channel" : "the channels that missed them");
	h->logged_us = now;
	h->logged_dropped = dropped;
}

void
hub_drain(struct hub *h)
{
	struct hub_missed missed[HUB_MISSED_MAX];
	struct hub_query *queries;
	struct frame **frames;
	size_t n, i, nmissed;
	uint64_t dropped;
	int all;

	/* All at once: an offer, a mark or a query wakes the thread only
	 * when it finds them all empty. */
	pthread_mutex_lock(&h->lock);
	frames = h->inbox;
	n = h->ninbox;
	h->inbox = NULL;
	h->ninbox = 0;
	h->inbox_cap = 0;
	nmissed = h->nmissed;
	memcpy(missed, h->missed, nmissed * sizeof *missed);
	all = h->missed_all;
	h->nmissed = 0;
	h->missed_all = 0;
	dropped = h->dropped;
	queries = h->queries;
	h->queries = NULL;
	h->queries_tail = &h->queries;
	pthread_mutex_unlock(&h->lock);
	metrics_hub_inbox(-(int64_t)n);
	/* Frames offered before the drop go first; a subscriber told next
	 * is closing and takes no later frame, so it never sees a gap. */
	for (i = 0; i < n; i++) {
		hub_deliver(h, frames[i]);
		frame_unref(frames[i]);
	}
	free(frames);
	if (nmissed > 0 || all) {
		hub_tell_missed(h, missed, nmissed, all);
		hub_log_dropped(h, dropped, all);
	}
	hub_run_queries(h, queries, SLUICE_OK);
}

int
hub_wants(struct hub *h, unsigned app, const char *channel, size_t n)
{
	uint64_t hash = hub_name_hash(app, channel, n);

	return atomic_load_explicit(&h->interest[hash % HUB_INTEREST],
	    memory_order_relaxed) != 0;
}

/* Makes room in the inbox for want more frames, within its bound.
 * Returns how many fit. Under h->lock. */
static size_t
hub_room_locked(struct hub *h, size_t want)
{
	struct frame **inbox;
	size_t cap;

	if (h->inbox_limit != 0 && want > h->inbox_limit - h->ninbox)
		want = h->inbox_limit - h->ninbox;
	if (want == 0 || h->ninbox + want <= h->inbox_cap)
		return want;
	cap = h->inbox_cap == 0 ? 64 : h->inbox_cap;
	while (cap < h->ninbox + want)
		cap *= 2;
	if (h->inbox_limit != 0 && cap > h->inbox_limit)
		cap = h->inbox_limit;
	inbox = reallocarray(h->inbox, cap, sizeof *inbox);
	if (inbox == NULL)
		return h->inbox_cap - h->ninbox;
	h->inbox = inbox;
	h->inbox_cap = cap;
	return want;
}

void
hub_offer(struct hub *h, struct frame **frames, size_t n)
{
	size_t i, fit;
	int wake;

	if (n == 0)
		return;
	pthread_mutex_lock(&h->lock);
	if (h->closed) {
		pthread_mutex_unlock(&h->lock);
		for (i = 0; i < n; i++)
			frame_unref(frames[i]);
		return;
	}
	wake = hub_idle_locked(h);
	fit = hub_room_locked(h, n);
	if (fit > 0) {
		memcpy(h->inbox + h->ninbox, frames, fit * sizeof *frames);
		h->ninbox += fit;
	}
	/* What does not fit is dropped; its subscribers will be told. */
	for (i = fit; i < n; i++)
		if (frames[i]->channel != NULL)
			hub_mark_locked(h, frames[i]->app, frames[i]->channel,
			    strlen(frames[i]->channel));
	h->dropped += n - fit;
	pthread_mutex_unlock(&h->lock);
	metrics_hub_inbox((int64_t)fit);
	if (fit < n)
		metrics_hub_dropped(n - fit);
	for (i = fit; i < n; i++)
		frame_unref(frames[i]);
	if (wake)
		h->ops.wakeup(h->ops.arg);
}

/* Whether the caller is the service thread. */
static int
hub_on_service_thread(struct hub *h)
{
	return atomic_load(&h->entered) &&
	    pthread_equal(h->service, pthread_self());
}

void
hub_publish(struct hub *h, const struct hub_event *events, size_t n)
{
	struct frame *stack[64], **frames = stack, *f;
	size_t i, nframes = 0;
	int here;

	if (h->ops.encode == NULL || n == 0)
		return;
	here = hub_on_service_thread(h);
	if (!here && n > SLUICE_ARRAY_LEN(stack)) {
		frames = calloc(n, sizeof *frames);
		if (frames == NULL) {
			/* The live view misses these; their readers are
			 * told. */
			hub_lose_events(h, events, n);
			return;
		}
	}
	for (i = 0; i < n; i++) {
		/* A cache channel's event is kept, taken or not. */
		if (events[i].cache_ttl_us == 0 && !hub_wants(h,
		    events[i].app, events[i].channel, events[i].channel_len))
			continue;
		f = h->ops.encode(&events[i], h->ops.arg);
		if (f == NULL) {
			hub_lose_events(h, &events[i], 1);
			continue;
		}
		if (events[i].cache_ttl_us > 0)
			f->cache_until_us = (events[i].accepted_us != 0 ?
			    events[i].accepted_us : isotime_mono_us()) +
			    events[i].cache_ttl_us;
		if (here) {
			hub_deliver(h, f);
			frame_unref(f);
		} else
			frames[nframes++] = f;
	}
	hub_offer(h, frames, nframes);
	if (frames != stack)
		free(frames);
}

int
hub_query(struct hub *h, hub_query_fn fn, void *arg)
{
	struct hub_query *q;
	int wake;

	q = calloc(1, sizeof *q);
	if (q == NULL)
		return SLUICE_ENOMEM;
	q->fn = fn;
	q->arg = arg;
	pthread_mutex_lock(&h->lock);
	if (h->closed || h->ops.wakeup == NULL) {
		pthread_mutex_unlock(&h->lock);
		free(q);
		return SLUICE_ESTOPPING;
	}
	wake = hub_idle_locked(h);
	*h->queries_tail = q;
	h->queries_tail = &q->next;
	pthread_mutex_unlock(&h->lock);
	if (wake)
		h->ops.wakeup(h->ops.arg);
	return SLUICE_OK;
}

void
hub_close(struct hub *h)
{
	pthread_mutex_lock(&h->lock);
	h->closed = 1;
	pthread_mutex_unlock(&h->lock);
	hub_run_queries(h, hub_take_queries(h), SLUICE_ESTOPPING);
}

void
hub_cache_limit(struct hub *h, size_t channels)
{
	struct cache *c;

	c = cache_new(channels);
	if (c == NULL)
		return;		/* the default bound stays */
	cache_free(h->cache);
	h->cache = c;
}

struct frame *
hub_cached(struct hub *h, unsigned app, const char *channel)
{
	return cache_get(h->cache, app, channel, isotime_mono_us());
}

void
hub_cache_stats(const struct hub *h, size_t *channels, uint64_t *evicted)
{
	*channels = cache_count(h->cache);
	*evicted = cache_evicted(h->cache);
}

int
hub_member_join(struct hub *h, struct hub_channel *ch, const char *user_id,
    const char *info, size_t info_len, size_t max, int *added)
{
	int rc;

	*added = 0;
	if (ch->presence == NULL && (ch->presence = presence_new()) == NULL)
		return SLUICE_ENOMEM;
	rc = presence_join(ch->presence, user_id, info, info_len, max, added);
	if (*added)
		h->nmembers++;
	return rc;
}

int
hub_member_leave(struct hub *h, struct hub_channel *ch, const char *user_id)
{
	int rc;

	if (ch->presence == NULL)
		return -1;
	rc = presence_leave(ch->presence, user_id);
	if (rc == 1)
		h->nmembers--;
	return rc;
}

const struct presence *
hub_channel_presence(const struct hub_channel *ch)
{
	return ch->presence;
}

size_t
hub_member_count(const struct hub *h)
{
	return h->nmembers;
}

unsigned
hub_channel_app(const struct hub_channel *ch)
{
	return ch->app;
}

struct hub_channel *
hub_channel_find(struct hub *h, unsigned app, const char *channel)
{
	return hub_find(h, app, channel, hub_name_hash(app, channel,
	    strlen(channel)));
}

void
hub_watch_counts(struct hub *h, unsigned app)
{
	unsigned char *apps;

	if (app >= h->ncounted_apps) {
		apps = realloc(h->counted_apps, app + 1);
		if (apps == NULL)
			return;
		memset(apps + h->ncounted_apps, 0, app + 1 -
		    h->ncounted_apps);
		h->counted_apps = apps;
		h->ncounted_apps = app + 1;
	}
	h->counted_apps[app] = 1;
}

void
hub_counts_due(struct hub *h, int64_t now_us, hub_count_fn fn, void *arg)
{
	struct hub_channel *ch, *next;

	for (ch = TAILQ_FIRST(&h->changed); ch != NULL; ch = next) {
		next = TAILQ_NEXT(ch, changed);
		if (ch->count_due_us > now_us)
			continue;
		TAILQ_REMOVE(&h->changed, ch, changed);
		ch->count_changed = 0;
		ch->count_due_us = now_us + fn(h, ch, arg);
	}
}

size_t
hub_channel_terminate(struct hub *h, struct hub_channel *ch)
{
	size_t i, n;

	if (h->ops.terminate == NULL)
		return 0;
	/* ops.terminate must not unsubscribe: the array stays as it is. */
	for (i = 0, n = ch->nsubs; i < n; i++)
		h->ops.terminate(ch->subs[i]);
	return n;
}

void
hub_channel_deliver(struct hub *h, struct hub_channel *ch, struct frame *f,
    const void *except)
{
	size_t i, n;

	if (h->ops.deliver == NULL)
		return;
	for (i = 0, n = ch->nsubs; i < n; i++)
		if (ch->subs[i] != except)
			h->ops.deliver(ch->subs[i], f);
}
