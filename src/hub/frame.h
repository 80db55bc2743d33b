/*
 * frame.h: an outgoing message, encoded once and shared by reference among
 * every subscriber it goes to. FRAME_PRE bytes of room are kept in front of
 * the payload for the transport's own header (the WebSocket layer checks
 * that it covers libwebsockets' LWS_PRE), so a frame is written without a
 * copy. Event frames also carry what the hub routes them by (app index and
 * channel), the subscriber they must skip, the event's journal sequence
 * number and when it was accepted (for the fan-out latency).
 * Thread-safe: a frame may be made on any thread; references are atomic.
 */
#ifndef SLUICE_FRAME_H
#define SLUICE_FRAME_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Room for a transport header before the payload, kept 16-byte aligned. */
#define FRAME_PRE 16

struct frame {
	atomic_uint		 refs;
	uint32_t		 len;		/* payload bytes */
	unsigned		 app;		/* event frames: app index */
	int64_t			 accepted_us;	/* event frames; else 0 */
	uint64_t		 seq;		/* event frames: journal seq */
	const char		*channel;	/* event frames: routing; else
						   NULL */
	const void		*except;	/* a subscriber to skip, or
						   NULL */
	const char		*except_socket;	/* the socket id of a
						   connection to skip (kept in
						   the frame's extra room), or
						   NULL */
	int64_t			 cache_until_us; /* cache channels' events:
						   kept for new subscribers
						   until then; else 0 */
	struct frame		*alt;		/* event frames: the same event
						   in the envelope format, or
						   NULL; owned */
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
