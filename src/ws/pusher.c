/*
 * pusher.c: the Pusher protocol's names, ids, signatures and messages.
 * Thread-safe.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <json-c/json.h>

#include "hub/hub.h"
#include "ws/pusher.h"

#define PUSHER_MSG_DEPTH 32

const char *
pusher_close_reason(int code)
{
	switch (code) {
	case PUSHER_UNKNOWN_APP:
		return "unknown app key";
	case PUSHER_APP_DISABLED:
		return "app disabled";
	case PUSHER_OVER_QUOTA:
		return "over the app's connection limit";
	case PUSHER_WRONG_PATH:
		return "wrong path: use /app/KEY";
	case PUSHER_BAD_PROTOCOL:
		return "missing or bad protocol";
	case PUSHER_UNSUPPORTED_PROTOCOL:
		return "unsupported protocol version";
	case PUSHER_UNAUTHORIZED:
		return "connection not authorized";
	case PUSHER_OVER_CAPACITY:
		return "over capacity: reading too slowly";
	case PUSHER_SHUTTING_DOWN:
		return "server shutting down";
	case PUSHER_PONG_TIMEOUT:
		return "pong not received";
	default:
		return "closing";
	}
}

void
pusher_socket_id(char *out)
{
	static atomic_uint_fast64_t counter;
	uint64_t n;
	uint32_t r;

	/* The counter makes it unique; the random part, unguessable. */
	if (getrandom(&r, sizeof r, 0) != sizeof r)
		r = (uint32_t)random();
	n = atomic_fetch_add(&counter, 1) + 1;
	snprintf(out, PUSHER_SOCKET_ID_MAX, "%u.%llu", r % 1000000000u,
	    (unsigned long long)n);
}

int
pusher_msg_parse(const char *text, size_t len, struct pusher_msg *m,
    char *err, size_t errlen)
{
	struct json_object *ev, *data;
	const char *s;

	memset(m, 0, sizeof m[0]);
	if (jsontext_parse(text, len, PUSHER_MSG_DEPTH, &m->root, err,
	    errlen) != 0)
		return -1;
	if (!json_object_is_type(m->root, json_type_object)) {
		snprintf(err, errlen, "the message must be a JSON object");
		return -1;
	}
	if (jsontext_unfit(m->root, PUSHER_MSG_DEPTH) != JSONTEXT_FIT) {
		snprintf(err, errlen, "invalid JSON: NaN, Infinity and "
		    "numbers out of range are not allowed");
		return -1;
	}
	if (!json_object_object_get_ex(m->root, "event", &ev) ||
	    !json_object_is_type(ev, json_type_string)) {
		snprintf(err, errlen, "the message needs a string \"event\"");
		return -1;
	}
	m->event = json_object_get_string(ev);
	/* A client event's data is the client's: any JSON value, relayed
	 * as it is (root's "data"). */
	if (strncmp(m->event, "client-", 7) == 0)
		return 0;
	if (!json_object_object_get_ex(m->root, "data", &data) ||
	    json_object_is_type(data, json_type_null))
		return 0;
	if (json_object_is_type(data, json_type_object)) {
		m->data = data;
		return 0;
	}
	if (json_object_is_type(data, json_type_string)) {
		s = json_object_get_string(data);
		if (jsontext_parse(s, (size_t)json_object_get_string_len(data),
		    PUSHER_MSG_DEPTH, &m->data_parsed, err, errlen) != 0)
			return -1;
		if (json_object_is_type(m->data_parsed, json_type_object) &&
		    jsontext_unfit(m->data_parsed, PUSHER_MSG_DEPTH) ==
		    JSONTEXT_FIT) {
			m->data = m->data_parsed;
			return 0;
		}
	}
	snprintf(err, errlen, "\"data\" must be an object or a string of "
	    "JSON holding one");
	return -1;
}

void
pusher_msg_free(struct pusher_msg *m)
{
	json_object_put(m->data_parsed);
	json_object_put(m->root);
	memset(m, 0, sizeof m[0]);
}

/* Writes a message's head: {"event":..,"channel":..,"data": (no channel
 * when it is NULL). */
static void
pusher_put_head(struct jsontext *b, const char *event, size_t event_len,
    const char *channel, size_t channel_len)
{
	jsontext_lit(b, "{\"event\":");
	jsontext_str(b, event, event_len);
	if (channel != NULL) {
		jsontext_lit(b, ",\"channel\":");
		jsontext_str(b, channel, channel_len);
	}
	jsontext_lit(b, ",\"data\":");
}

void
pusher_put_message(struct jsontext *b, const char *event, size_t event_len,
    const char *channel, size_t channel_len, const char *data_json,
    size_t data_len, int as_string)
{
	pusher_put_head(b, event, event_len, channel, channel_len);
	if (as_string)
		jsontext_str(b, data_json, data_len);
	else
		jsontext_put(b, data_json, data_len);
	jsontext_lit(b, "}");
}

void
pusher_put_error(struct jsontext *b, int code, const char *message)
{
	char num[16];

	jsontext_lit(b, "{\"event\":\"pusher:error\",\"data\":{\"code\":");
	if (code == 0)
		jsontext_lit(b, "null");
	else {
		snprintf(num, sizeof num, "%d", code);
		jsontext_put(b, num, strlen(num));
	}
	jsontext_lit(b, ",\"message\":");
	jsontext_cstr(b, message);
	jsontext_lit(b, "}}");
}

void
pusher_put_subscription_error(struct jsontext *b, const char *channel,
    const char *type, const char *error, int status)
{
	char num[16];

	jsontext_lit(b, "{\"event\":\"pusher:subscription_error\","
	    "\"channel\":");
	jsontext_cstr(b, channel);
	jsontext_lit(b, ",\"data\":{\"type\":");
	jsontext_cstr(b, type);
	jsontext_lit(b, ",\"error\":");
	jsontext_cstr(b, error);
	snprintf(num, sizeof num, ",\"status\":%d}}", status);
	jsontext_put(b, num, strlen(num));
}

int
pusher_format_parse(const char *name, size_t len, enum pusher_format *out)
{
	if (len == 6 && memcmp(name, "pusher", 6) == 0)
		*out = PUSHER_FORMAT_PUSHER;
	else if (len == 8 && memcmp(name, "envelope", 8) == 0)
		*out = PUSHER_FORMAT_ENVELOPE;
	else
		return -1;
	return 0;
}

const char *
pusher_format_name(enum pusher_format format)
{
	return format == PUSHER_FORMAT_ENVELOPE ? "envelope" : "pusher";
}

/*
 * Writes the published data (len bytes of JSON text without whitespace
 * around it, as json-c writes it; NULL: none) as Pusher sends it: a JSON
 * string as it is, any other value as a string of its text.
 */
static void
pusher_put_data(struct jsontext *b, const char *data, size_t len)
{
	if (data == NULL || len == 0)
		jsontext_lit(b, "\"null\"");
	else if (*data == '"')
		jsontext_put(b, data, len);
	else
		jsontext_str(b, data, len);
}

struct frame *
pusher_event_frame(const struct hub_event *ev, enum pusher_format format)
{
	struct jsontext b;
	struct frame *f;
	char *name;
	size_t skip;

	memset(&b, 0, sizeof b);
	pusher_put_head(&b, ev->event, ev->event_len, ev->channel,
	    ev->channel_len);
	if (format == PUSHER_FORMAT_ENVELOPE)
		jsontext_str(&b, ev->envelope, ev->envelope_len);
	else
		pusher_put_data(&b, ev->data, ev->data_len);
	if (ev->user_id != NULL) {
		jsontext_lit(&b, ",\"user_id\":");
		jsontext_str(&b, ev->user_id, ev->user_id_len);
	}
	if (format == PUSHER_FORMAT_ENVELOPE)
		jsontext_lit(&b, ",\"envelope\":true");
	jsontext_lit(&b, "}");
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	/* The channel's name follows the payload: the hub routes by it; then
	 * the socket id to skip, if any. */
	skip = ev->except_socket != NULL ? strlen(ev->except_socket) + 1 : 0;
	f = frame_new(b.p, b.len, ev->channel_len + 1 + skip);
	free(b.p);
	if (f == NULL)
		return NULL;
	name = (char *)frame_payload(f) + f->len;
	memcpy(name, ev->channel, ev->channel_len);
	name[ev->channel_len] = '\0';
	f->channel = name;
	if (skip > 0) {
		memcpy(name + ev->channel_len + 1, ev->except_socket, skip);
		f->except_socket = name + ev->channel_len + 1;
	}
	f->app = ev->app;
	f->seq = ev->seq;
	f->accepted_us = ev->accepted_us;
	f->except = ev->except;
	return f;
}
