/*
 * hash.h: the hash the hub's tables use for names (channels, cached
 * channels, presence members): FNV-1a over the bytes, mixed with a small
 * number (an app's index, or 0) and folded. Thread-safe: no state.
 */
#ifndef SLUICE_HUB_HASH_H
#define SLUICE_HUB_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t
hub_name_hash(unsigned app, const char *name, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ ((uint64_t)app << 32);
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)name[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

#endif
