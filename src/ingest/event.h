/*
 * event.h: turns what a client sent into envelopes ready for the journal.
 * Parses a request body (one event object, an array of events, or
 * {"batch":[...]}), validates each event against the app's rules and the
 * limits, and enriches it into the envelope that is journaled, forwarded to
 * RabbitMQ and fanned out, with its journal record (journal/record.h) and
 * the copy the hub delivers from. The pipeline (ingest.h) is its caller.
 * Thread-safe: no shared state (the config is read-only).
 */
#ifndef SLUICE_EVENT_H
#define SLUICE_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "ingest/channel.h"
#include "journal/record.h"

struct json_object;

#define EVENT_NAME_MAX 200	/* characters */
#define EVENT_ID_MAX 128	/* characters */
#define EVENT_ID_MAX_BYTES 255	/* UTF-8 bytes: AMQP message_id, a shortstr */
#define EVENT_CHANNEL_MAX CHANNEL_NAME_MAX
#define EVENT_JSON_DEPTH 64	/* nesting allowed in a body */

/* Why one event was rejected. The names are part of the HTTP API. */
enum event_error {
	EVENT_ERR_NOT_OBJECT,		/* "not_object" */
	EVENT_ERR_MISSING_EVENT,	/* "missing_event" */
	EVENT_ERR_BAD_EVENT_NAME,	/* "invalid_event_name" */
	EVENT_ERR_BAD_CHANNEL,		/* "invalid_channel" */
	EVENT_ERR_CHANNEL_FORBIDDEN,	/* "channel_not_allowed" */
	EVENT_ERR_NO_CHANNEL,		/* "no_channel": none given, no default */
	EVENT_ERR_BAD_ID,		/* "invalid_id" */
	EVENT_ERR_BAD_TIMESTAMP,	/* "invalid_timestamp" */
	EVENT_ERR_BAD_SENT_AT,		/* "invalid_sent_at" */
	EVENT_ERR_UNKNOWN_FIELD,	/* "unknown_field" */
	EVENT_ERR_TOO_LARGE,		/* "event_too_large" */
	EVENT_ERR_BAD_DATA,		/* "invalid_data": not valid UTF-8 */
	EVENT_ERR_MAX
};

/* Returns the API name of an error, e.g. "missing_event". */
const char *event_error_name(enum event_error err);

/* Outcome for a body as a whole. */
enum event_body {
	EVENT_BODY_OK,			/* parsed; see accepted and rejected */
	EVENT_BODY_BAD_JSON,		/* not JSON, or nested too deep */
	EVENT_BODY_BAD_SHAPE,		/* JSON, but not an event, array or batch */
	EVENT_BODY_EMPTY,		/* an empty array or batch */
	EVENT_BODY_TOO_MANY,		/* more events than max_events */
	EVENT_BODY_NOMEM
};

/* What the transport knows of the sender. Strings may be NULL. */
struct event_source {
	const struct config_app	*app;
	const char		*source;	/* "http", "ws", "client",
						   "api" */
	const char		*ip;
	const char		*user_agent;
	const char		*origin;
	int64_t			 received_at_ms;
	const char		*user_id;	/* the sender's, on a presence
						   channel; else NULL */
	int			 channel_granted; /* the front door checked the
						   right to the channel (a
						   client event): no
						   publish_channels check */
	int			 user_channels;	/* the app's server (the HTTP
						   API): it may also publish to
						   a user's own channel,
						   "#server-to-user-<id>" */
	const char		*except_socket;	/* live delivery skips the
						   connection of this socket
						   id; else NULL */
};

struct event_limits {
	size_t	max_event_bytes;	/* an event's JSON text as received */
	size_t	max_events;
};

struct event_reject {
	size_t			index;		/* position in the request */
	enum event_error	error;
	char			message[160];	/* names the problem */
};

struct event_accepted {
	size_t		 index;			/* position in the request */
	char		 id[EVENT_ID_MAX_BYTES + 1]; /* UTF-8, NUL-terminated */
	unsigned char	*record;		/* journal payload, owned */
	size_t		 record_len;
	/* The fields as they lie in record (channel, event name, envelope,
	 * ...), for live delivery without decoding it; NULL once shed. */
	struct event_record view;
	/* Where the published data's JSON text lies in view.json. */
	size_t		 data_off;
	size_t		 data_len;
};


struct event_batch {
	size_t			 total;		/* events in the request */
	struct event_accepted	*accepted;
	size_t			 naccepted;
	struct event_reject	*rejected;
	size_t			 nrejected;
};

/*
 * Parses body (len bytes, need not be NUL-terminated) and fills out, which
 * the caller zeroes first and frees with event_batch_free whatever the
 * result. On anything but EVENT_BODY_OK, err holds a message naming the
 * problem and out holds no events. Size checks on the whole body are the
 * transport's job; this checks each event's size and the event count.
 */
enum event_body event_batch_parse(const char *body, size_t len,
    const struct event_limits *lim, const struct event_source *src,
    struct event_batch *out, char *err, size_t errlen);

/*
 * The same for events that are already parsed: a single event object or an
 * array of them (the WebSocket side's sluice:publish). events is borrowed.
 */
enum event_body event_batch_from_json(struct json_object *events,
    const struct event_limits *lim, const struct event_source *src,
    struct event_batch *out, char *err, size_t errlen);

/*
 * How many events a parsed body (borrowed) holds, counted as
 * event_batch_from_json counts them: the length of an array or of
 * {"batch": [...]}, 1 for one event object; 0 for any other shape (which
 * event_batch_from_json refuses). For charging a rate before the body goes
 * through the pipeline.
 */
size_t event_body_count(struct json_object *events);

void event_batch_free(struct event_batch *batch);

/* Frees the journal record of each accepted event (and so its view),
 * keeping ids and rejections (what a reply needs). */
void event_batch_shed(struct event_batch *batch);

/* The ids of the accepted events, as a new JSON array (caller puts it). */
struct json_object *event_batch_ids_json(const struct event_batch *batch);

/* The rejections as a new JSON array of {index, code, message}. */
struct json_object *event_batch_errors_json(const struct event_batch *batch);

#endif
