/*
 * presence.c: a presence channel's members, in a hash table of chains by
 * user id, grown as members come. Service thread only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sluice.h"
#include "hub/hash.h"
#include "hub/presence.h"

#define PRESENCE_FIRST_SLOTS	8

struct presence {
	struct presence_member	**slots;
	size_t			 nslots;	/* a power of two */
	size_t			 count;
};

/* The hash of user id. */
static uint64_t
presence_hash(const char *id)
{
	return hub_name_hash(0, id, strlen(id));
}

struct presence *
presence_new(void)
{
	struct presence *p;

	p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	p->slots = calloc(PRESENCE_FIRST_SLOTS, sizeof *p->slots);
	if (p->slots == NULL) {
		free(p);
		return NULL;
	}
	p->nslots = PRESENCE_FIRST_SLOTS;
	return p;
}

void
presence_free(struct presence *p)
{
	struct presence_member *m, *next;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nslots; i++) {
		for (m = p->slots[i]; m != NULL; m = next) {
			next = m->next;
			free(m->info);
			free(m);
		}
	}
	free(p->slots);
	free(p);
}

/* The place of the member with user id: where it is, or where its chain
 * ends. */
static struct presence_member **
presence_slot(const struct presence *p, const char *id)
{
	struct presence_member **mp;

	mp = &p->slots[presence_hash(id) & (p->nslots - 1)];
	while (*mp != NULL && strcmp((*mp)->id, id) != 0)
		mp = &(*mp)->next;
	return mp;
}

/* Doubles the slots when the members outnumber them; a failure to grow
 * only makes the chains longer. */
static void
presence_grow(struct presence *p)
{
	struct presence_member **slots, *m, *next;
	size_t n = p->nslots * 2, i, j;

	if (p->count < p->nslots || n > SIZE_MAX / sizeof *slots)
		return;
	slots = calloc(n, sizeof *slots);
	if (slots == NULL)
		return;
	for (i = 0; i < p->nslots; i++) {
		for (m = p->slots[i]; m != NULL; m = next) {
			next = m->next;
			j = presence_hash(m->id) & (n - 1);
			m->next = slots[j];
			slots[j] = m;
		}
	}
	free(p->slots);
	p->slots = slots;
	p->nslots = n;
}

int
presence_join(struct presence *p, const char *id, const char *info,
    size_t info_len, size_t max, int *added)
{
	struct presence_member **mp, *m;
	size_t idlen = strlen(id);

	*added = 0;
	mp = presence_slot(p, id);
	if (*mp != NULL) {
		(*mp)->conns++;
		return SLUICE_OK;
	}
	if (p->count >= max)
		return SLUICE_EFULL;
	m = malloc(sizeof *m + idlen + 1);
	if (m == NULL)
		return SLUICE_ENOMEM;
	m->info = malloc(info_len + 1);
	if (m->info == NULL) {
		free(m);
		return SLUICE_ENOMEM;
	}
	memcpy(m->info, info, info_len);
	m->info[info_len] = '\0';
	m->info_len = info_len;
	memcpy(m->id, id, idlen + 1);
	m->conns = 1;
	m->next = NULL;
	*mp = m;
	p->count++;
	*added = 1;
	presence_grow(p);
	return SLUICE_OK;
}

int
presence_leave(struct presence *p, const char *id)
{
	struct presence_member **mp, *m;

	mp = presence_slot(p, id);
	if ((m = *mp) == NULL)
		return -1;
	if (--m->conns > 0)
		return 0;
	*mp = m->next;
	p->count--;
	free(m->info);
	free(m);
	return 1;
}

const struct presence_member *
presence_find(const struct presence *p, const char *id)
{
	return p == NULL ? NULL : *presence_slot(p, id);
}

size_t
presence_count(const struct presence *p)
{
	return p == NULL ? 0 : p->count;
}

void
presence_each(const struct presence *p,
    void (*fn)(const struct presence_member *m, void *arg), void *arg)
{
	const struct presence_member *m;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nslots; i++)
		for (m = p->slots[i]; m != NULL; m = m->next)
			fn(m, arg);
}
