/*
 * hub.c: channels, their subscribers, and the hand-off of frames and
 * queries from other threads to the service thread. The channel table
 * belongs to the service thread; the inbox, the queries and the interest
 * counts are shared.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/sluice.h"
#include "hub/hub.h"

#define HUB_INTEREST	4096	/* interest counters, by channel hash */
#define HUB_FIRST_SLOTS	64	/* hash table slots at first */

struct hub_channel {
	struct hub_channel	*next;		/* in its slot's chain */
	unsigned		 app;
	uint64_t		 hash;
	void			**subs;
	size_t			 nsubs;
	size_t			 cap;
	char			 name[];
};

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

	/* Shared. */
	atomic_uint		 interest[HUB_INTEREST];
	pthread_mutex_t		 lock;		/* guards what follows */
	struct frame		**inbox;
	size_t			 ninbox;
	size_t			 inbox_cap;
	struct hub_query	*queries;	/* in the order posted */
	struct hub_query	**queries_tail;
	int			 closed;
};

/* FNV-1a over the channel name, mixed with the app's index. */
static uint64_t
hub_hash(unsigned app, const char *name, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ ((uint64_t)app << 32);
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)name[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

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
	free(h->inbox);
	free(h->slots);
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

int
hub_subscribe(struct hub *h, unsigned app, const char *channel, void *sub,
    struct hub_channel **out)
{
	size_t n = strlen(channel), i;
	uint64_t hash = hub_hash(app, channel, n);
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
			break;
		}
	}
	if (ch->nsubs > 0)
		return;
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

	ch = hub_find(h, app, channel, hub_hash(app, channel,
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
	size_t i, n;

	if (f->channel == NULL || h->ops.deliver == NULL)
		return;
	ch = hub_find(h, f->app, f->channel,
	    hub_hash(f->app, f->channel, strlen(f->channel)));
	if (ch == NULL)
		return;
	for (i = 0, n = ch->nsubs; i < n; i++)
		if (ch->subs[i] != f->except)
			h->ops.deliver(ch->subs[i], f);
}

void
hub_drain(struct hub *h)
{
	struct hub_query *queries;
	struct frame **frames;
	size_t n, i;

	/* Both at once: an offer or a query wakes the thread only when it
	 * finds both empty. */
	pthread_mutex_lock(&h->lock);
	frames = h->inbox;
	n = h->ninbox;
	h->inbox = NULL;
	h->ninbox = 0;
	h->inbox_cap = 0;
	queries = h->queries;
	h->queries = NULL;
	h->queries_tail = &h->queries;
	pthread_mutex_unlock(&h->lock);
	for (i = 0; i < n; i++) {
		hub_deliver(h, frames[i]);
		frame_unref(frames[i]);
	}
	free(frames);
	hub_run_queries(h, queries, SLUICE_OK);
}

int
hub_wants(struct hub *h, unsigned app, const char *channel, size_t n)
{
	return atomic_load_explicit(&h->interest[hub_hash(app, channel, n) %
	    HUB_INTEREST], memory_order_relaxed) != 0;
}

void
hub_offer(struct hub *h, struct frame **frames, size_t n)
{
	struct frame **inbox;
	size_t i, cap;
	int wake;

	if (n == 0)
		return;
	pthread_mutex_lock(&h->lock);
	if (h->closed)
		goto drop;
	if (h->ninbox + n > h->inbox_cap) {
		cap = h->inbox_cap == 0 ? 64 : h->inbox_cap;
		while (cap < h->ninbox + n)
			cap *= 2;
		inbox = reallocarray(h->inbox, cap, sizeof *inbox);
		if (inbox == NULL)
			goto drop;
		h->inbox = inbox;
		h->inbox_cap = cap;
	}
	wake = h->ninbox == 0 && h->queries == NULL;
	memcpy(h->inbox + h->ninbox, frames, n * sizeof *frames);
	h->ninbox += n;
	pthread_mutex_unlock(&h->lock);
	if (wake)
		h->ops.wakeup(h->ops.arg);
	return;
drop:
	pthread_mutex_unlock(&h->lock);
	for (i = 0; i < n; i++)
		frame_unref(frames[i]);
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
		if (frames == NULL)
			return;		/* the live view misses these */
	}
	for (i = 0; i < n; i++) {
		if (!hub_wants(h, events[i].app, events[i].channel,
		    events[i].channel_len))
			continue;
		f = h->ops.encode(&events[i], h->ops.arg);
		if (f == NULL)
			continue;
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
	wake = h->queries == NULL && h->ninbox == 0;
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
