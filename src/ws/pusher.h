/*
 * pusher.h: the Pusher Channels protocol (version 7) as sluiced speaks it:
 * socket ids (the signatures are core/auth.h's),
 * parsing a client's message and writing the server's. No I/O here.
 * Thread-safe, except where a function says otherwise.
 */
#ifndef SLUICE_PUSHER_H
#define SLUICE_PUSHER_H

#include <stddef.h>

#include "core/jsontext.h"

struct frame;
struct hub_event;
struct json_object;

#define PUSHER_PROTOCOL		7
#define PUSHER_SOCKET_ID_MAX	32	/* "digits.digits" and a NUL */

/* Close codes (and pusher:error codes), by Pusher's ranges. */
enum pusher_code {
	PUSHER_UNKNOWN_APP = 4001,	/* 4000s: do not reconnect */
	PUSHER_APP_DISABLED = 4003,
	PUSHER_OVER_QUOTA = 4004,
	PUSHER_WRONG_PATH = 4005,
	PUSHER_BAD_PROTOCOL = 4006,
	PUSHER_UNSUPPORTED_PROTOCOL = 4007,
	PUSHER_UNAUTHORIZED = 4009,	/* sign-in failed or overdue */
	PUSHER_OVER_CAPACITY = 4100,	/* 4100s: reconnect after a while */
	PUSHER_SHUTTING_DOWN = 4200,	/* 4200s: reconnect now */
	PUSHER_PONG_TIMEOUT = 4201,
	PUSHER_RATE_LIMITED = 4301	/* 4300s: not closed */
};

/* A short reason for the close frame of code (at most 123 bytes). */
const char *pusher_close_reason(int code);

/*
 * Writes a new socket id, "digits.digits", unique within the process and
 * hard to guess, into out (PUSHER_SOCKET_ID_MAX bytes).
 */
void pusher_socket_id(char *out);

/* A client's message, parsed. */
struct pusher_msg {
	struct json_object	*root;
	const char		*event;		/* never NULL after a parse */
	struct json_object	*data;		/* object or NULL */
	struct json_object	*data_parsed;	/* owned, when data was a
						   string of JSON */
};

/*
 * Parses a client's message: a JSON object with a string "event" and an
 * optional "data", an object or a string holding a JSON object; for a
 * client event ("client-*") data may be any JSON value and is left in
 * root (m->data stays NULL). Returns 0,
 * or -1 with a message naming the problem in err. Free m with
 * pusher_msg_free in both cases.
 */
int pusher_msg_parse(const char *text, size_t len, struct pusher_msg *m,
    char *err, size_t errlen);

void pusher_msg_free(struct pusher_msg *m);

/*
 * Writing the server's messages into b. data_json is JSON text; as_string
 * sends it as a JSON string (channel events, pusher_internal and sluice
 * messages) rather than as an object (pusher:error and the like). channel
 * may be NULL.
 */
void pusher_put_message(struct jsontext *b, const char *event,
    size_t event_len, const char *channel, size_t channel_len,
    const char *data_json, size_t data_len, int as_string);

/* {"event":"pusher:error","data":{"code":code,"message":...}}; code 0 is
 * written as null. */
void pusher_put_error(struct jsontext *b, int code, const char *message);

/* pusher:subscription_error for channel: data {type, error, status}. */
void pusher_put_subscription_error(struct jsontext *b, const char *channel,
    const char *type, const char *error, int status);

/* The formats a connection may take channel events in. */
enum pusher_format {
	PUSHER_FORMAT_PUSHER,		/* the data as published, as Pusher
					   sends it (the default) */
	PUSHER_FORMAT_ENVELOPE		/* the whole envelope */
};

/* The format called name (len bytes): "pusher" or "envelope". Returns
 * 0 and sets *out, or -1 for any other name. */
int pusher_format_parse(const char *name, size_t len,
    enum pusher_format *out);

/* The name of format ("pusher", "envelope"). */
const char *pusher_format_name(enum pusher_format format);

/*
 * Makes the frame of an event in format, routed to its channel and app:
 *   PUSHER_FORMAT_PUSHER: {"event":E,"channel":C,"data":D}, D the
 *     published data as Pusher sends it: a JSON string as it is, any
 *     other JSON value serialized once into a string (no data: "null");
 *     ev->data is JSON text without whitespace around it, as json-c
 *     writes it;
 *   PUSHER_FORMAT_ENVELOPE: {"event":E,"channel":C,"data":"<the envelope
 *     as a JSON string>","envelope":true}; ev->envelope must be set.
 * Either carries "user_id" after the data when ev->user_id is set. Returns
 * a frame with one reference (its alt NULL), or NULL when out of memory.
 */
struct frame *pusher_event_frame(const struct hub_event *ev,
    enum pusher_format format);

#endif
