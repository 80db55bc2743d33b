/*
 * fwd_window.c: the forwarder's window of publishes. The ring holds every
 * publish of the current channel in delivery-tag order (tags are
 * consecutive, so a tag's slot is tag - the head's tag); a slot stays until
 * it and every slot before it are done, so the head is always the oldest
 * publish still awaiting its confirm. The retry list is an array kept in
 * ascending sequence order. Each record is in exactly one place: a ring
 * slot not done, the retry list, or the caller's hands; so there are at
 * most cap records, and the ring's cap slots bound what is published.
 * Called only from the thread that owns the window.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/fwd_window.h"

struct fwd_window {
	struct fwd_msg		*ring;		/* published, by delivery tag */
	size_t			 cap;
	size_t			 head;
	size_t			 count;
	size_t			 ring_retries;	/* is_retry slots in the ring */
	size_t			 ring_done;	/* done slots in the ring */
	struct fwd_msg		*retry;		/* waiting, ascending seq */
	size_t			 nretry;
	uint64_t		 next_tag;
	uint64_t		 checkpoint;
	int64_t			 nack_retry_us;
	int64_t			 return_retry_us;
	fwd_window_acked_fn	 acked;
	void			*arg;
};

/* The i-th slot of the ring, from its head. */
static struct fwd_msg *
fwd_window_at(const struct fwd_window *w, size_t i)
{
	return &w->ring[(w->head + i) % w->cap];
}

/* Inserts m into the retry list, keeping it in sequence order. */
static void
fwd_window_wait(struct fwd_window *w, const struct fwd_msg *m,
    int64_t due_us)
{
	size_t i = w->nretry;

	while (i > 0 && w->retry[i - 1].seq > m->seq)
		i--;
	memmove(&w->retry[i + 1], &w->retry[i],
	    (w->nretry - i) * sizeof *w->retry);
	w->retry[i] = *m;
	w->retry[i].retry_at_us = due_us;
	w->retry[i].done = w->retry[i].returned = 0;
	w->nretry++;
}

/* Drops the finished slots at the head of the ring. */
static void
fwd_window_pop_done(struct fwd_window *w)
{
	struct fwd_msg *m;

	while (w->count > 0 && (m = fwd_window_at(w, 0))->done) {
		if (m->is_retry)
			w->ring_retries--;
		free(m->data);
		m->data = NULL;
		w->head = (w->head + 1) % w->cap;
		w->count--;
		w->ring_done--;
	}
}

/* Finishes ring slot m; its record moves to the retry list, due_us. */
static void
fwd_window_to_retry(struct fwd_window *w, struct fwd_msg *m, int64_t due_us)
{
	fwd_window_wait(w, m, due_us);
	m->data = NULL;
	m->done = 1;
	w->ring_done++;
}

struct fwd_window *
fwd_window_new(size_t cap, unsigned nack_retry_ms, unsigned return_retry_ms,
    uint64_t checkpoint, fwd_window_acked_fn acked, void *arg)
{
	struct fwd_window *w;

	if (cap == 0 || (w = calloc(1, sizeof *w)) == NULL)
		return NULL;
	w->ring = calloc(cap, sizeof *w->ring);
	w->retry = calloc(cap, sizeof *w->retry);
	if (w->ring == NULL || w->retry == NULL) {
		fwd_window_free(w);
		return NULL;
	}
	w->cap = cap;
	w->next_tag = 1;
	w->checkpoint = checkpoint;
	w->nack_retry_us = (int64_t)nack_retry_ms * 1000;
	w->return_retry_us = (int64_t)return_retry_ms * 1000;
	w->acked = acked;
	w->arg = arg;
	return w;
}

void
fwd_window_free(struct fwd_window *w)
{
	size_t i;

	if (w == NULL)
		return;
	if (w->ring != NULL)
		for (i = 0; i < w->count; i++)
			free(fwd_window_at(w, i)->data);
	if (w->retry != NULL)
		for (i = 0; i < w->nretry; i++)
			free(w->retry[i].data);
	free(w->ring);
	free(w->retry);
	free(w);
}

size_t
fwd_window_unconfirmed(const struct fwd_window *w)
{
	return w->count - w->ring_done + w->nretry;
}

int
fwd_window_has_room(const struct fwd_window *w)
{
	return w->count < w->cap && fwd_window_unconfirmed(w) < w->cap;
}

int
fwd_window_take_retry(struct fwd_window *w, int64_t now_us, struct fwd_msg *m)
{
	size_t i;

	if (w->count == w->cap)
		return 0;
	for (i = 0; i < w->nretry; i++) {
		if (w->retry[i].retry_at_us <= now_us) {
			*m = w->retry[i];
			m->is_retry = 1;
			memmove(&w->retry[i], &w->retry[i + 1],
			    (w->nretry - i - 1) * sizeof *w->retry);
			w->nretry--;
			return 1;
		}
	}
	return 0;
}

int
fwd_window_next_due(const struct fwd_window *w, int64_t *due_us)
{
	size_t i;

	if (w->nretry == 0)
		return 0;
	*due_us = w->retry[0].retry_at_us;
	for (i = 1; i < w->nretry; i++)
		if (w->retry[i].retry_at_us < *due_us)
			*due_us = w->retry[i].retry_at_us;
	return 1;
}

uint64_t
fwd_window_published(struct fwd_window *w, const struct fwd_msg *m,
    int64_t now_us)
{
	struct fwd_msg *slot = fwd_window_at(w, w->count++);

	*slot = *m;
	slot->tag = w->next_tag++;
	slot->sent_us = now_us;
	slot->done = slot->returned = 0;
	if (slot->is_retry)
		w->ring_retries++;
	return slot->tag;
}

void
fwd_window_unsent(struct fwd_window *w, const struct fwd_msg *m,
    int64_t now_us)
{
	fwd_window_wait(w, m, now_us);
}

void
fwd_window_confirm(struct fwd_window *w, uint64_t tag, int multiple, int ack,
    int64_t now_us, struct fwd_window_tally *t)
{
	struct fwd_window_tally none;
	struct fwd_msg *m;
	uint64_t first;
	size_t i, from, to;

	if (t == NULL)
		t = &none;
	if (w->count == 0)
		return;
	first = fwd_window_at(w, 0)->tag;
	if (tag < first || tag - first >= w->count)
		return;
	to = (size_t)(tag - first);
	from = multiple ? 0 : to;
	for (i = from; i <= to; i++) {
		m = fwd_window_at(w, i);
		if (m->done)
			continue;
		if (!ack) {
			t->nacked++;
			fwd_window_to_retry(w, m, now_us + w->nack_retry_us);
		} else if (m->returned) {
			t->returned++;
			fwd_window_to_retry(w, m, now_us + w->return_retry_us);
		} else {
			t->acked++;
			if (w->acked != NULL)
				w->acked(w->arg, m, now_us);
			m->done = 1;
			w->ring_done++;
		}
	}
	fwd_window_pop_done(w);
}

const struct fwd_msg *
fwd_window_returned(struct fwd_window *w, uint64_t seq)
{
	struct fwd_msg *m;
	size_t i;

	for (i = 0; i < w->count; i++) {
		m = fwd_window_at(w, i);
		if (!m->done && !m->returned && m->seq == seq) {
			m->returned = 1;
			return m;
		}
	}
	return NULL;
}

void
fwd_window_reset(struct fwd_window *w, int64_t now_us)
{
	struct fwd_msg *m;
	size_t i;

	for (i = 0; i < w->count; i++) {
		m = fwd_window_at(w, i);
		if (!m->done)
			fwd_window_to_retry(w, m, now_us);
	}
	fwd_window_pop_done(w);
	w->head = 0;
	w->next_tag = 1;
}

uint64_t
fwd_window_checkpoint(struct fwd_window *w, uint64_t last_read)
{
	uint64_t low = last_read + 1;
	struct fwd_msg *m;
	size_t i;

	if (w->ring_retries == 0 && w->nretry == 0) {
		/* Published in journal order: the head is the oldest. */
		if (w->count > 0)
			low = fwd_window_at(w, 0)->seq;
	} else {
		for (i = 0; i < w->count; i++) {
			m = fwd_window_at(w, i);
			if (!m->done && m->seq < low)
				low = m->seq;
		}
		if (w->nretry > 0 && w->retry[0].seq < low)
			low = w->retry[0].seq;
	}
	if (low - 1 > w->checkpoint)
		w->checkpoint = low - 1;
	return w->checkpoint;
}
