/*
 * sendq.h: one connection's queue of frames waiting to be written, bounded
 * in bytes. A connection that lets it fill up is a slow consumer and is
 * closed (4100) rather than let memory grow. Storage is allocated on the
 * first push (8 slots) and kept; a ring grown past that is given back once
 * it empties. Not thread-safe: a queue belongs to the WebSocket service
 * thread.
 */
#ifndef SLUICE_SENDQ_H
#define SLUICE_SENDQ_H

#include <stddef.h>
#include <stdint.h>

#include "hub/frame.h"

struct sendq {
	struct frame	**items;	/* ring */
	uint32_t	  head;
	uint32_t	  count;
	uint32_t	  cap;
	size_t		  bytes;	/* payload bytes queued */
};

/*
 * Queues f, taking a new reference. Returns SLUICE_OK; SLUICE_EFULL when
 * the queue is not empty and f would take it over limit bytes (nothing is
 * queued; one frame always fits in an empty queue); SLUICE_ENOMEM.
 */
int sendq_push(struct sendq *q, struct frame *f, size_t limit);

/* The frame at the head, or NULL when empty. */
struct frame *sendq_peek(const struct sendq *q);

/* Removes the head frame and drops its reference. The queue is not empty. */
void sendq_pop(struct sendq *q);

/* Drops every frame and frees the storage; q is empty afterwards. */
void sendq_clear(struct sendq *q);

#endif
