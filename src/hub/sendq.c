/*
 * sendq.c: a connection's bounded ring of frames to write. WebSocket
 * service thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "core/sluice.h"
#include "hub/sendq.h"

#define SENDQ_FIRST_CAP 8

/* Doubles the ring, unwrapping it. Returns 0 or -1. */
static int
sendq_grow(struct sendq *q)
{
	struct frame **items;
	uint32_t cap, i;

	if (q->cap > UINT32_MAX / 2)
		return -1;
	cap = q->cap == 0 ? SENDQ_FIRST_CAP : q->cap * 2;
	items = malloc(cap * sizeof *items);
	if (items == NULL)
		return -1;
	for (i = 0; i < q->count; i++)
		items[i] = q->items[(q->head + i) % q->cap];
	free(q->items);
	q->items = items;
	q->head = 0;
	q->cap = cap;
	return 0;
}

int
sendq_push(struct sendq *q, struct frame *f, size_t limit)
{
	if (q->count > 0 && (f->len > limit || q->bytes > limit - f->len))
		return SLUICE_EFULL;
	if (q->count == q->cap && sendq_grow(q) == -1)
		return SLUICE_ENOMEM;
	q->items[(q->head + q->count) % q->cap] = frame_ref(f);
	q->count++;
	q->bytes += f->len;
	return SLUICE_OK;
}

struct frame *
sendq_peek(const struct sendq *q)
{
	return q->count > 0 ? q->items[q->head] : NULL;
}

void
sendq_pop(struct sendq *q)
{
	struct frame *f = q->items[q->head];

	q->bytes -= f->len;
	q->head = (q->head + 1) % q->cap;
	q->count--;
	frame_unref(f);
	/* An emptied queue gives its storage back: most connections are
	 * idle most of the time. */
	if (q->count == 0 && q->cap > SENDQ_FIRST_CAP)
		sendq_clear(q);
}

void
sendq_clear(struct sendq *q)
{
	while (q->count > 0) {
		frame_unref(q->items[q->head]);
		q->head = (q->head + 1) % q->cap;
		q->count--;
	}
	free(q->items);
	memset(q, 0, sizeof *q);
}
