/*
 * frame.h: an outgoing WebSocket message, encoded once and shared by
 * reference among every connection it goes to. Room for the WebSocket
 * header libwebsockets writes (LWS_PRE bytes) is kept in front of the
 * payload, so a frame is written without a copy. Event frames also carry
 * what the hub routes them by (app and channel) and when the event was
 * accepted (for the fan-out latency). Thread-safe: a frame may be made on
 * any thread; references are atomic.
 */
#ifndef SLUICE_FRAME_H
#define SLUICE_FRAME_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#define FRAME_PRE LWS_PRE

struct config_app;

struct frame {
	atomic_uint		 refs;
	uint32_t		 len;		/* payload bytes */
	int64_t			 accepted_us;	/* event frames; else 0 */
	const struct config_app	*app;		/* event frames: routing */
	const char		*channel;	/* event frames: routing */
	unsigned char		 buf[];		/* FRAME_PRE, then payload */
};

/*
 * Makes a frame holding a copy of the len bytes of payload, with one
 * reference. extra bytes of room follow the payload for the caller (the
 * hub keeps the channel name there). Returns NULL when out of memory.
 */
struct frame *frame_new(const void *payload, size_t len, size_t extra);

/* The payload, writable: FRAME_PRE bytes of room precede it. */
static inline unsigned char *
frame_payload(struct frame *f)
{
	return f->buf + FRAME_PRE;
}

/* Takes one more reference and returns f. */
struct frame *frame_ref(struct frame *f);

/* Drops one reference; the last frees f. NULL is allowed. */
void frame_unref(struct frame *f);

#endif
