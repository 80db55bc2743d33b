/*
 * frame.c: reference-counted outgoing messages. Thread-safe.
 */
#include <stdlib.h>
#include <string.h>

#include "hub/frame.h"

struct frame *
frame_new(const void *payload, size_t len, size_t extra)
{
	struct frame *f;

	if (len > UINT32_MAX || extra > SIZE_MAX - sizeof *f - FRAME_PRE - len)
		return NULL;
	f = malloc(sizeof *f + FRAME_PRE + len + extra);
	if (f == NULL)
		return NULL;
	atomic_init(&f->refs, 1);
	f->len = (uint32_t)len;
	f->app = 0;
	f->accepted_us = 0;
	f->seq = 0;
	f->channel = NULL;
	f->except = NULL;
	f->except_socket = NULL;
	f->alt = NULL;
	f->cache_until_us = 0;
	if (len > 0)
		memcpy(frame_payload(f), payload, len);
	return f;
}

struct frame *
frame_ref(struct frame *f)
{
	atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
	return f;
}

void
frame_unref(struct frame *f)
{
	if (f == NULL)
		return;
	if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1) {
		frame_unref(f->alt);
		free(f);
	}
}
