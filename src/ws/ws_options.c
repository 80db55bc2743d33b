/*
 * ws_options.c: what a WebSocket connection chooses for itself: today the
 * format it takes channel events in, "pusher" (the default: the data as
 * published, as Pusher sends it) or "envelope" (the whole envelope, for
 * dashboards), from the format query argument of the WebSocket URL
 * (/app/KEY?protocol=7&format=envelope) or a sluice:options message. The
 * server counts the connections that take envelopes, so that the encoder
 * makes the envelope frame of an event (frame.alt) only while one does
 * (and for every event of a cache channel, whose frame is kept: ws.c).
 *
 * Events are encoded when they are accepted, on whatever thread accepted
 * them, so a switch to the envelope is not instantaneous: an event encoded
 * before the count went up has no envelope frame, and if it is still on
 * its way (in the hub's inbox) when the connection takes it, it comes in
 * the default format. Envelope frames carry "envelope":true, which tells
 * them apart. Chosen in the URL, the format is counted when the connection
 * opens, before it can subscribe to anything, which leaves only events
 * accepted before it opened; chosen later, those accepted around the
 * switch. A switch back to the default format takes effect at once.
 * WebSocket service thread only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "core/metrics.h"
#include "ws/ws_internal.h"

#define WS_OPTIONS_ARG_MAX	64	/* the query argument's value */

/* Sets c's format, keeping the server's count of envelope takers. */
static void
ws_options_format(struct ws_conn *c, enum pusher_format format)
{
	if (c->format == format)
		return;
	if (format == PUSHER_FORMAT_ENVELOPE) {
		atomic_fetch_add(&c->srv->envelope_conns, 1);
		metrics_ws_envelope_connections(1);
	} else {
		atomic_fetch_sub(&c->srv->envelope_conns, 1);
		metrics_ws_envelope_connections(-1);
	}
	c->format = (uint8_t)format;
}

/* Queues the pusher:error of an unknown format name (len bytes) given
 * where. */
static void
ws_options_unknown_format(struct ws_conn *c, const char *where,
    const char *name, size_t len)
{
	char msg[200];

	snprintf(msg, sizeof msg, "unknown format \"%.*s\" in %s: use "
	    "\"pusher\" (the default: data as published) or \"envelope\"",
	    (int)(len > 40 ? 40 : len), name, where);
	ws_session_error(c, 0, msg, 0);
}

void
ws_options_open(struct ws_conn *c)
{
	enum pusher_format format;
	char buf[WS_OPTIONS_ARG_MAX];
	const char *arg;

	/* The value is returned past the name, inside buf. */
	arg = lws_get_urlarg_by_name(c->wsi, "format=", buf, sizeof buf);
	if (arg == NULL)
		return;
	if (pusher_format_parse(arg, strlen(arg), &format) == -1) {
		ws_options_unknown_format(c, "the format query argument",
		    arg, strlen(arg));
		return;
	}
	ws_options_format(c, format);
}

void
ws_options(struct ws_conn *c, struct json_object *data)
{
	enum pusher_format format = (enum pusher_format)c->format;
	char msg[200], reply[64];
	int n;

	if (data == NULL) {
		ws_session_error(c, 0, "sluice:options needs data, an object "
		    "such as {\"format\":\"envelope\"}", 0);
		return;
	}
	/* Every option is checked before any is applied. */
	json_object_object_foreach(data, key, val) {
		if (strcmp(key, "format") != 0) {
			snprintf(msg, sizeof msg, "unknown option \"%.40s\": "
			    "sluice:options takes \"format\"", key);
			ws_session_error(c, 0, msg, 0);
			return;
		}
		if (!json_object_is_type(val, json_type_string)) {
			ws_session_error(c, 0, "sluice:options format must be "
			    "a string: \"pusher\" or \"envelope\"", 0);
			return;
		}
		if (pusher_format_parse(json_object_get_string(val),
		    (size_t)json_object_get_string_len(val), &format) == -1) {
			ws_options_unknown_format(c, "sluice:options",
			    json_object_get_string(val),
			    (size_t)json_object_get_string_len(val));
			return;
		}
	}
	ws_options_format(c, format);
	/* The options now in force ({} asks for them). */
	n = snprintf(reply, sizeof reply, "{\"format\":\"%s\"}",
	    pusher_format_name(format));
	ws_session_message_out(c, "sluice:options_succeeded", NULL, reply,
	    (size_t)n, 1);
}

void
ws_options_closed(struct ws_conn *c)
{
	ws_options_format(c, PUSHER_FORMAT_PUSHER);
}
