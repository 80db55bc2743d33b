/*
 * cache.h: the last event of each cache channel (cache-*, private-cache-*,
 * presence-cache-*, private-encrypted-cache-*), kept as its encoded frame
 * until it expires, for the channel's next subscribers. The table holds at
 * most a set number of channels: when it is full, the channel published to
 * least recently gives way (and is counted as evicted). Expired entries
 * go when they are looked up or reach the front of that order.
 * Not thread-safe: the hub's service thread only.
 */
#ifndef SLUICE_CACHE_H
#define SLUICE_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct frame;
struct cache;

/* Returns an empty table of at most max channels (at least 1), or NULL
 * when out of memory. */
struct cache *cache_new(size_t max);

/* Frees c and drops its frames. NULL is allowed. */
void cache_free(struct cache *c);

/*
 * Keeps f (taking a reference) as the last event of channel (n bytes) of
 * app until expires_us, replacing the one before; now_us is the time
 * (both monotonic). Returns SLUICE_OK or SLUICE_ENOMEM (nothing changed).
 */
int cache_put(struct cache *c, unsigned app, const char *channel, size_t n,
    struct frame *f, int64_t now_us, int64_t expires_us);

/* The last event of channel of app, borrowed, or NULL when there is none
 * or it expired by now_us (it is then dropped). */
struct frame *cache_get(struct cache *c, unsigned app, const char *channel,
    int64_t now_us);

/* Channels held now, and entries evicted for room so far. */
size_t cache_count(const struct cache *c);
uint64_t cache_evicted(const struct cache *c);

#endif
