/*
 * hub.c: channels, their subscribers, and the hand-off of frames from the
 * threads that accept events to the WebSocket service thread. The channel
 * table belongs to the service thread; the inbox and the interest counts
 * are shared.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "hub/hub.h"
#include "core/jsontext.h"
#include "ws/pusher.h"
#include "core/sluice.h"

#define HUB_INTEREST	4096	/* interest counters, by channel hash */
#define HUB_FIRST_SLOTS	64	/* hash table slots at first */

struct hub_channel {
	struct hub_channel	*next;		/* in its slot's chain */
	const struct config_app	*app;
	uint64_t		 hash;
	void			**subs;
	size_t			 nsubs;
	size_t			 cap;
	char			 name[];
};

struct hub {
	hub_deliver_fn		 deliver;
	hub_wakeup_fn		 wakeup;
	void			*wakeup_arg;

	/* Service thread only. */
	struct hub_channel	**slots;
	size_t			 nslots;	/* a power of two */
	size_t			 nchannels;

	/* Shared. */
	atomic_uint		 interest[HUB_INTEREST];
	pthread_mutex_t		 lock;		/* guards the inbox */
	struct frame		**inbox;
	size_t			 ninbox;
	size_t			 inbox_cap;
	int			 closed;
};

/* FNV-1a over the channel name, mixed with the app's address. */
static uint64_t
hub_hash(const struct config_app *app, const char *name, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)(uintptr_t)app;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)name[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

struct hub *
hub_new(hub_deliver_fn deliver, hub_wakeup_fn wakeup, void *wakeup_arg)
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
	h->deliver = deliver;
	h->wakeup = wakeup;
	h->wakeup_arg = wakeup_arg;
	for (i = 0; i < HUB_INTEREST; i++)
		atomic_init(&h->interest[i], 0);
	pthread_mutex_init(&h->lock, NULL);
	return h;
}

void
hub_free(struct hub *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->ninbox; i++)
		frame_unref(h->inbox[i]);
	free(h->inbox);
	free(h->slots);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static struct hub_channel *
hub_find(struct hub *h, const struct config_app *app, const char *name,
    uint64_t hash)
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
hub_subscribe(struct hub *h, const struct config_app *app,
    const char *channel, void *conn, struct hub_channel **out)
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
		if (ch->subs[i] == conn) {
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
	ch->subs[ch->nsubs++] = conn;
	*out = ch;
	return SLUICE_OK;
}

void
hub_unsubscribe(struct hub *h, struct hub_channel *ch, void *conn)
{
	struct hub_channel **pp;
	size_t i;

	for (i = 0; i < ch->nsubs; i++) {
		if (ch->subs[i] == conn) {
			/* Order among subscribers does not matter. */
			ch->subs[i] = ch->subs[--ch->nsubs];
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

void
hub_deliver(struct hub *h, struct frame *f)
{
	struct hub_channel *ch;
	size_t i, n;

	if (f->channel == NULL)
		return;
	ch = hub_find(h, f->app, f->channel,
	    hub_hash(f->app, f->channel, strlen(f->channel)));
	if (ch == NULL)
		return;
	for (i = 0, n = ch->nsubs; i < n; i++)
		h->deliver(ch->subs[i], f);
}

void
hub_drain(struct hub *h)
{
	struct frame **frames;
	size_t n, i;

	pthread_mutex_lock(&h->lock);
	frames = h->inbox;
	n = h->ninbox;
	h->inbox = NULL;
	h->ninbox = 0;
	h->inbox_cap = 0;
	pthread_mutex_unlock(&h->lock);
	for (i = 0; i < n; i++) {
		hub_deliver(h, frames[i]);
		frame_unref(frames[i]);
	}
	free(frames);
}

int
hub_wants(struct hub *h, const struct config_app *app, const char *channel,
    size_t n)
{
	return atomic_load_explicit(&h->interest[hub_hash(app, channel, n) %
	    HUB_INTEREST], memory_order_relaxed) != 0;
}

struct frame *
hub_event_frame(const struct config_app *app, const char *channel,
    size_t channel_len, const char *event, size_t event_len,
    const char *envelope, size_t envelope_len, int64_t accepted_us)
{
	struct jsontext b;
	struct frame *f;
	char *name;

	memset(&b, 0, sizeof b);
	pusher_put_message(&b, event, event_len, channel, channel_len,
	    envelope, envelope_len, 1);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	f = frame_new(b.p, b.len, channel_len + 1);
	free(b.p);
	if (f == NULL)
		return NULL;
	name = (char *)frame_payload(f) + f->len;
	memcpy(name, channel, channel_len);
	name[channel_len] = '\0';
	f->channel = name;
	f->app = app;
	f->accepted_us = accepted_us;
	return f;
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
			goto drop;	/* live view only: the events are
					   journaled all the same */
		h->inbox = inbox;
		h->inbox_cap = cap;
	}
	wake = h->ninbox == 0;
	memcpy(h->inbox + h->ninbox, frames, n * sizeof *frames);
	h->ninbox += n;
	pthread_mutex_unlock(&h->lock);
	if (wake)
		h->wakeup(h->wakeup_arg);
	return;
drop:
	pthread_mutex_unlock(&h->lock);
	for (i = 0; i < n; i++)
		frame_unref(frames[i]);
}

void
hub_close(struct hub *h)
{
	pthread_mutex_lock(&h->lock);
	h->closed = 1;
	pthread_mutex_unlock(&h->lock);
}
