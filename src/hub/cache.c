/*
 * cache.c: cache channels' last events in a hash table by app and name,
 * with every entry also on a list in the order of its last publish (the
 * least recent first), which gives the entry to evict. Service thread.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "core/sluice.h"
#include "hub/cache.h"
#include "hub/hash.h"
#include "hub/frame.h"

#define CACHE_FIRST_SLOTS	64

struct cache_entry {
	struct cache_entry	*next;		/* in its slot's chain */
	TAILQ_ENTRY(cache_entry) order;		/* by last publish */
	unsigned		 app;
	uint64_t		 hash;
	struct frame		*frame;
	int64_t			 expires_us;
	char			 name[];
};

TAILQ_HEAD(cache_order, cache_entry);

struct cache {
	struct cache_entry	**slots;
	size_t			 nslots;	/* a power of two */
	size_t			 count;
	size_t			 max;
	uint64_t		 evicted;
	struct cache_order	 order;
};

struct cache *
cache_new(size_t max)
{
	struct cache *c;

	c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->slots = calloc(CACHE_FIRST_SLOTS, sizeof *c->slots);
	if (c->slots == NULL) {
		free(c);
		return NULL;
	}
	c->nslots = CACHE_FIRST_SLOTS;
	c->max = max > 0 ? max : 1;
	TAILQ_INIT(&c->order);
	return c;
}

void
cache_free(struct cache *c)
{
	struct cache_entry *e;

	if (c == NULL)
		return;
	while ((e = TAILQ_FIRST(&c->order)) != NULL) {
		TAILQ_REMOVE(&c->order, e, order);
		frame_unref(e->frame);
		free(e);
	}
	free(c->slots);
	free(c);
}

/* Where the entry of channel (n bytes) of app is, or where its chain
 * ends. */
static struct cache_entry **
cache_slot(struct cache *c, unsigned app, const char *name, size_t n,
    uint64_t hash)
{
	struct cache_entry **ep;

	ep = &c->slots[hash & (c->nslots - 1)];
	while (*ep != NULL && ((*ep)->hash != hash || (*ep)->app != app ||
	    strncmp((*ep)->name, name, n) != 0 || (*ep)->name[n] != '\0'))
		ep = &(*ep)->next;
	return ep;
}

/* Unlinks and frees entry e. */
static void
cache_drop(struct cache *c, struct cache_entry *e)
{
	struct cache_entry **ep;

	ep = cache_slot(c, e->app, e->name, strlen(e->name), e->hash);
	*ep = e->next;
	TAILQ_REMOVE(&c->order, e, order);
	frame_unref(e->frame);
	free(e);
	c->count--;
}

/* Doubles the slots when entries outnumber them; a failure to grow only
 * makes the chains longer. */
static void
cache_grow(struct cache *c)
{
	struct cache_entry **slots, *e, *next;
	size_t n = c->nslots * 2, i, j;

	if (c->count < c->nslots || n > SIZE_MAX / sizeof *slots)
		return;
	slots = calloc(n, sizeof *slots);
	if (slots == NULL)
		return;
	for (i = 0; i < c->nslots; i++) {
		for (e = c->slots[i]; e != NULL; e = next) {
			next = e->next;
			j = e->hash & (n - 1);
			e->next = slots[j];
			slots[j] = e;
		}
	}
	free(c->slots);
	c->slots = slots;
	c->nslots = n;
}

int
cache_put(struct cache *c, unsigned app, const char *channel, size_t n,
    struct frame *f, int64_t now_us, int64_t expires_us)
{
	uint64_t hash = hub_name_hash(app, channel, n);
	struct cache_entry **ep, *e, *old;

	ep = cache_slot(c, app, channel, n, hash);
	if ((e = *ep) != NULL) {
		frame_unref(e->frame);
		e->frame = frame_ref(f);
		e->expires_us = expires_us;
		TAILQ_REMOVE(&c->order, e, order);
		TAILQ_INSERT_TAIL(&c->order, e, order);
		return SLUICE_OK;
	}
	e = malloc(sizeof *e + n + 1);
	if (e == NULL)
		return SLUICE_ENOMEM;
	/* Room first: the least recently published goes; it counts as
	 * evicted unless it had expired anyway. */
	while (c->count >= c->max) {
		old = TAILQ_FIRST(&c->order);
		if (old->expires_us > now_us)
			c->evicted++;
		cache_drop(c, old);
	}
	memcpy(e->name, channel, n);
	e->name[n] = '\0';
	e->app = app;
	e->hash = hash;
	e->frame = frame_ref(f);
	e->expires_us = expires_us;
	ep = cache_slot(c, app, channel, n, hash);
	e->next = NULL;
	*ep = e;
	TAILQ_INSERT_TAIL(&c->order, e, order);
	c->count++;
	cache_grow(c);
	return SLUICE_OK;
}

struct frame *
cache_get(struct cache *c, unsigned app, const char *channel, int64_t now_us)
{
	size_t n = strlen(channel);
	struct cache_entry *e, *first;

	/* Expired entries at the front of the order go on the way. */
	while ((first = TAILQ_FIRST(&c->order)) != NULL &&
	    first->expires_us <= now_us)
		cache_drop(c, first);
	e = *cache_slot(c, app, channel, n, hub_name_hash(app, channel, n));
	if (e == NULL)
		return NULL;
	if (e->expires_us <= now_us) {
		cache_drop(c, e);
		return NULL;
	}
	return e->frame;
}

size_t
cache_count(const struct cache *c)
{
	return c->count;
}

uint64_t
cache_evicted(const struct cache *c)
{
	return c->evicted;
}
