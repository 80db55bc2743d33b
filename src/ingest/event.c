/*
 * event.c: from a request body to journal records. Parses the body (one
 * event, an array of events or {"batch": [...]}), checks each event against
 * the limits and the app's rules, and writes the envelope of each good one
 * straight into a text buffer (no JSON tree is built for it; only the
 * client's data is serialized by json-c) before encoding its record.
 * Thread rule: no shared state; the config is only read, and the borrowed
 * JSON of event_batch_from_json belongs to the calling thread for the call.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "core/app.h"
#include "core/isotime.h"
#include "core/jsontext.h"
#include "core/sluice.h"
#include "core/uuid7.h"
#include "ingest/channel.h"
#include "ingest/event.h"

/* 9999-12-31T23:59:59.999Z: the last ms a client time may name. */
#define EVENT_TIME_MAX INT64_C(253402300799999)

static const char *const event_error_names[EVENT_ERR_MAX] = {
	[EVENT_ERR_NOT_OBJECT] = "not_object",
	[EVENT_ERR_MISSING_EVENT] = "missing_event",
	[EVENT_ERR_BAD_EVENT_NAME] = "invalid_event_name",
	[EVENT_ERR_BAD_CHANNEL] = "invalid_channel",
	[EVENT_ERR_CHANNEL_FORBIDDEN] = "channel_not_allowed",
	[EVENT_ERR_NO_CHANNEL] = "no_channel",
	[EVENT_ERR_BAD_ID] = "invalid_id",
	[EVENT_ERR_BAD_TIMESTAMP] = "invalid_timestamp",
	[EVENT_ERR_BAD_SENT_AT] = "invalid_sent_at",
	[EVENT_ERR_UNKNOWN_FIELD] = "unknown_field",
	[EVENT_ERR_TOO_LARGE] = "event_too_large",
	[EVENT_ERR_BAD_DATA] = "invalid_data",
};

static const char *const event_reserved_prefixes[] = {
	"pusher:", "pusher_internal:", "sluice:"
};

/* What one call works with. */
struct event_run {
	const struct event_limits	*lim;
	const struct event_source	*src;
	struct event_batch		*out;
	struct jsontext		 env;	/* the envelope, reused */
	char				 received_at[ISOTIME_LEN];
};

/* One event once its keys are sorted out and, if good, resolved. */
struct event_fields {
	struct json_object	*event;
	struct json_object	*channel;
	struct json_object	*id;
	struct json_object	*timestamp;
	struct json_object	*sent_at;
	struct json_object	*data;		/* NULL: none, or null */
	const char		*data_text;	/* data as JSON text */
	size_t			 data_len;
	const char		*unknown;	/* the first unknown key */
	size_t			 size;		/* its JSON text's length */

	/* Resolved by event_check. */
	const char		*name;
	size_t			 name_len;
	const char		*chan;
	size_t			 chan_len;
	const char		*idtext;
	size_t			 id_len;
	char			 uuid[UUID7_STRLEN];
	int64_t			 time_ms;	/* envelope's timestamp */
};

const char *
event_error_name(enum event_error err)
{
	if ((int)err < 0 || err >= EVENT_ERR_MAX)
		return "unknown";
	return event_error_names[err];
}

static void
event_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
event_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
event_is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

static int
event_is_space(uint32_t c)
{
	return c == ' ' || c == 0xa0 || c == 0x1680 ||
	    (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
	    c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Fills r with err and a formatted message. Returns 1 (rejected). */
static int
event_why(struct event_reject *r, enum event_error err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
event_why(struct event_reject *r, enum event_error err, const char *fmt, ...)
{
	va_list ap;

	r->error = err;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof r->message, fmt, ap);
	va_end(ap);
	return 1;
}

/* Appends r as the rejection of event index. Returns 0, or -1 (memory). */
static int
event_add_reject(struct event_run *run, size_t index,
    const struct event_reject *r)
{
	struct event_batch *out = run->out;

	if (out->rejected == NULL) {
		out->rejected = calloc(out->total, sizeof *out->rejected);
		if (out->rejected == NULL)
			return -1;
	}
	out->rejected[out->nrejected] = *r;
	out->rejected[out->nrejected].index = index;
	out->nrejected++;
	return 0;
}

/*
 * Checks an event name or an id: 1..max characters of valid UTF-8 without
 * control characters (nor whitespace, with no_space). Returns NULL, or what
 * is wrong with it (in buf, or a static string).
 */
static const char *
event_text_problem(struct json_object *v, size_t max, int no_space,
    char *buf, size_t buflen)
{
	const unsigned char *s;
	size_t n, i = 0, chars = 0;
	uint32_t cp;

	if (!json_object_is_type(v, json_type_string))
		return "must be a string";
	s = (const unsigned char *)json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	while (i < n) {
		if (jsontext_utf8_next(s, n, &i, &cp) == -1)
			return "not valid UTF-8";
		if (event_is_control(cp))
			return "must not contain control characters";
		if (no_space && event_is_space(cp))
			return "must not contain whitespace";
		chars++;
	}
	if (chars == 0 || chars > max) {
		snprintf(buf, buflen, "must be 1 to %zu characters, not %zu",
		    max, chars);
		return buf;
	}
	return NULL;
}

/*
 * Reads a client time: an ISO-8601 string with a zone, or a number of epoch
 * ms, within years 1970..9999. Returns 0 and sets *ms, or -1.
 */
static int
event_time(struct json_object *v, int64_t *ms)
{
	const char *s;
	double d;

	switch (json_object_get_type(v)) {
	case json_type_string:
		s = json_object_get_string(v);
		if (strlen(s) != (size_t)json_object_get_string_len(v) ||
		    isotime_parse(s, ms) == -1)
			return -1;
		break;
	case json_type_int:
		/* get_int64 clamps larger (unsigned) values to INT64_MAX. */
		*ms = json_object_get_int64(v);
		break;
	case json_type_double:
		d = json_object_get_double(v);
		if (!isfinite(d) || d < 0 || d > (double)EVENT_TIME_MAX)
			return -1;
		*ms = (int64_t)d;
		break;
	default:
		return -1;
	}
	return *ms >= 0 && *ms <= EVENT_TIME_MAX ? 0 : -1;
}

/*
 * Sorts out the keys of event ev, noting the first unknown one, and works
 * out the size of its JSON text as json-c would write it, writing only the
 * data (which the envelope needs anyway). Returns 0, or -1 when out of
 * memory.
 */
static int
event_fields(struct json_object *ev, struct event_fields *f)
{
	size_t len;

	memset(f, 0, sizeof *f);
	f->data_text = "null";
	f->data_len = 4;
	f->size = 2;			/* the braces */
	json_object_object_foreach(ev, key, val) {
		if (strcmp(key, "data") == 0) {
			f->data = val;
			f->data_text = json_object_to_json_string_length(val,
			    JSONTEXT_FLAGS, &f->data_len);
			if (f->data_text == NULL)
				return -1;
			len = f->data_len;
		} else if (jsontext_len(val, &len) == -1)
			return -1;
		if (f->size > 2)
			f->size++;	/* the comma */
		f->size += jsontext_str_len(key, strlen(key)) + 1 + len;
		if (strcmp(key, "event") == 0)
			f->event = val;
		else if (strcmp(key, "channel") == 0)
			f->channel = val;
		else if (strcmp(key, "id") == 0)
			f->id = val;
		else if (strcmp(key, "timestamp") == 0)
			f->timestamp = val;
		else if (strcmp(key, "sent_at") == 0)
			f->sent_at = val;
		else if (f->unknown == NULL && strcmp(key, "data") != 0)
			f->unknown = key;
	}
	return 0;
}

/* Rejects for an unknown key, quoted safely and briefly. Returns 1. */
static int
event_why_unknown(struct event_reject *r, const char *key)
{
	char name[52];
	size_t i;

	for (i = 0; key[i] != '\0' && i < 48; i++)
		name[i] = key[i] >= 0x20 && key[i] < 0x7f && key[i] != '"' &&
		    key[i] != '\\' ? key[i] : '?';
	if (key[i] != '\0') {
		memcpy(name + i, "...", 3);
		i += 3;
	}
	name[i] = '\0';
	return event_why(r, EVENT_ERR_UNKNOWN_FIELD, "unknown field \"%s\"",
	    name);
}

/* How long a path into data a rejection names, in bytes. */
#define EVENT_PATH_MAX 100

/*
 * Appends ".key" (printable ASCII only, others as '?', cut at 32 bytes) or
 * "[index]" (key NULL) to path, which holds *len bytes of cap. A path that
 * would grow past cap ends in "...".
 */
static void
event_path_add(char *path, size_t *len, size_t cap, const char *key,
    size_t index)
{
	char part[48];
	size_t n = 0, i;

	if (key != NULL) {
		part[n++] = '.';
		for (i = 0; key[i] != '\0' && i < 32; i++)
			part[n++] = key[i] > 0x20 && key[i] < 0x7f &&
			    key[i] != '"' && key[i] != '\\' ? key[i] : '?';
		if (key[i] != '\0') {
			memcpy(part + n, "...", 3);
			n += 3;
		}
		part[n] = '\0';
	} else
		n = (size_t)snprintf(part, sizeof part, "[%zu]", index);
	if (*len + n + 1 > cap) {
		if (*len + 4 <= cap && (*len < 3 ||
		    memcmp(path + *len - 3, "...", 3) != 0)) {
			memcpy(path + *len, "...", 4);
			*len += 3;
		}
		return;
	}
	memcpy(path + *len, part, n + 1);
	*len += n;
}

/*
 * Looks through v (an event's data, at most EVENT_JSON_DEPTH deep, as
 * jsontext_unfit checked) for a string or a key that is not valid UTF-8
 * (json-c lets overlong forms, surrogates and code points past U+10FFFF
 * through). Returns NULL, or the problem with path (len bytes of cap)
 * naming where.
 */
static const char *
event_data_problem(struct json_object *v, char *path, size_t len,
    size_t cap)
{
	const char *why = NULL;
	size_t i, n, sub;

	switch (json_object_get_type(v)) {
	case json_type_string:
		if (!jsontext_utf8_valid(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v)))
			return "not valid UTF-8";
		return NULL;
	case json_type_array:
		n = json_object_array_length(v);
		for (i = 0; i < n && why == NULL; i++) {
			sub = len;
			event_path_add(path, &sub, cap, NULL, i);
			why = event_data_problem(json_object_array_get_idx(v,
			    i), path, sub, cap);
		}
		if (why == NULL)
			path[len] = '\0';
		return why;
	case json_type_object: {
		/* The macro declares: a block of its own, for C17. */
		json_object_object_foreach(v, key, val) {
			sub = len;
			event_path_add(path, &sub, cap, key, 0);
			if (!jsontext_utf8_valid(key, strlen(key)))
				return "a key that is not valid UTF-8";
			if ((why = event_data_problem(val, path, sub, cap)) !=
			    NULL)
				return why;
		}
		path[len] = '\0';
		return NULL;
	}
	default:
		return NULL;
	}
}

/* Resolves the event's channel into f. Returns 0, or 1 with r filled. */
static int
event_check_channel(const struct event_source *src, struct event_fields *f,
    struct event_reject *r)
{
	const struct config_app *app = src->app;

	if (f->channel != NULL) {
		if (!json_object_is_type(f->channel, json_type_string))
			return event_why(r, EVENT_ERR_BAD_CHANNEL,
			    "channel: must be a string");
		f->chan = json_object_get_string(f->channel);
		f->chan_len = (size_t)json_object_get_string_len(f->channel);
	} else if (app->default_channel != NULL &&
	    *app->default_channel != '\0') {
		f->chan = app->default_channel;
		f->chan_len = strlen(f->chan);
	} else
		return event_why(r, EVENT_ERR_NO_CHANNEL,
		    "channel: none given and the app has no default channel");
	if (src->user_channels && channel_user_name_valid(f->chan,
	    f->chan_len))
		;	/* a user's own channel: the '#' form, from the API */
	else if (!channel_name_valid(f->chan, f->chan_len))
		return event_why(r, EVENT_ERR_BAD_CHANNEL,
		    "channel: must be 1 to %d characters of A-Z a-z 0-9 "
		    "_ - = @ , . ;", EVENT_CHANNEL_MAX);
	if (!src->channel_granted && !app_may_publish(app, f->chan))
		return event_why(r, EVENT_ERR_CHANNEL_FORBIDDEN,
		    "channel: \"%.100s\" is not allowed for this app", f->chan);
	return 0;
}

/*
 * Resolves the envelope's timestamp into f: the client's timestamp moved
 * by its clock's skew (received_at - (sent_at - timestamp)) when both are
 * given, the timestamp alone as given, else received_at. Returns 0, or 1
 * with r filled.
 */
static int
event_check_times(int64_t received_at, struct event_fields *f,
    struct event_reject *r)
{
	int64_t ts = 0, sent = 0;

	if (f->timestamp != NULL && event_time(f->timestamp, &ts) == -1)
		return event_why(r, EVENT_ERR_BAD_TIMESTAMP, "timestamp: must "
		    "be an ISO-8601 time with a zone or epoch milliseconds, "
		    "from 1970 to 9999");
	if (f->sent_at != NULL && event_time(f->sent_at, &sent) == -1)
		return event_why(r, EVENT_ERR_BAD_SENT_AT, "sent_at: must be "
		    "an ISO-8601 time with a zone or epoch milliseconds, from "
		    "1970 to 9999");
	if (f->timestamp != NULL && f->sent_at != NULL) {
		f->time_ms = received_at - (sent - ts);
		if (f->time_ms < 0)
			f->time_ms = 0;
		if (f->time_ms > EVENT_TIME_MAX)
			f->time_ms = EVENT_TIME_MAX;
	} else if (f->timestamp != NULL)
		f->time_ms = ts;
	else
		f->time_ms = received_at;
	return 0;
}

/*
 * Checks event ev against the limits and the app's rules and resolves its
 * fields into f. Returns 0 if it is good, 1 with r filled if not, or -1
 * when out of memory.
 */
static int
event_check(const struct event_run *run, struct json_object *ev,
    struct event_fields *f, struct event_reject *r)
{
	const char *why;
	char whybuf[64], path[EVENT_PATH_MAX];
	size_t k;

	if (!json_object_is_type(ev, json_type_object))
		return event_why(r, EVENT_ERR_NOT_OBJECT,
		    "event must be a JSON object");
	if (event_fields(ev, f) == -1)
		return -1;
	if (f->size > run->lim->max_event_bytes)
		return event_why(r, EVENT_ERR_TOO_LARGE,
		    "event is %zu bytes; the limit is %zu", f->size,
		    run->lim->max_event_bytes);
	if (f->unknown != NULL)
		return event_why_unknown(r, f->unknown);

	if (f->event == NULL)
		return event_why(r, EVENT_ERR_MISSING_EVENT,
		    "event: the event name is required");
	if ((why = event_text_problem(f->event, EVENT_NAME_MAX, 0, whybuf,
	    sizeof whybuf)) != NULL)
		return event_why(r, EVENT_ERR_BAD_EVENT_NAME, "event: %s",
		    why);
	f->name = json_object_get_string(f->event);
	f->name_len = (size_t)json_object_get_string_len(f->event);
	for (k = 0; k < SLUICE_ARRAY_LEN(event_reserved_prefixes); k++) {
		if (strncmp(f->name, event_reserved_prefixes[k],
		    strlen(event_reserved_prefixes[k])) == 0)
			return event_why(r, EVENT_ERR_BAD_EVENT_NAME,
			    "event: names starting with \"%s\" are reserved",
			    event_reserved_prefixes[k]);
	}

	if (event_check_channel(run->src, f, r) != 0)
		return 1;

	if (f->id != NULL) {
		if ((why = event_text_problem(f->id, EVENT_ID_MAX, 1, whybuf,
		    sizeof whybuf)) != NULL)
			return event_why(r, EVENT_ERR_BAD_ID, "id: %s", why);
		f->idtext = json_object_get_string(f->id);
		f->id_len = (size_t)json_object_get_string_len(f->id);
		if (f->id_len > EVENT_ID_MAX_BYTES)
			return event_why(r, EVENT_ERR_BAD_ID, "id: must be at "
			    "most %d bytes of UTF-8, not %zu", EVENT_ID_MAX_BYTES,
			    f->id_len);
	}

	if (f->data != NULL) {
		memcpy(path, "data", 5);
		if ((why = event_data_problem(f->data, path, 4, sizeof path)) !=
		    NULL)
			return event_why(r, EVENT_ERR_BAD_DATA, "%s: %s", path,
			    why);
	}

	if (event_check_times(run->src->received_at_ms, f, r) != 0)
		return 1;

	if (f->id == NULL) {
		/* Made last, so that rejected events use up no ids. */
		uuid7_generate(run->src->received_at_ms, f->uuid);
		f->idtext = f->uuid;
		f->id_len = UUID7_STRLEN - 1;
	}
	return 0;
}

/*
 * Writes the envelope of good event f and appends it, with its record, to
 * the accepted list. Returns 0, or -1 when out of memory.
 */
static int
event_accept(struct event_run *run, size_t index,
    const struct event_fields *f)
{
	const struct event_source *src = run->src;
	struct jsontext *b = &run->env;
	struct event_accepted *acc;
	struct event_record rec;
	char stamp[ISOTIME_LEN];
	size_t data_off;

	isotime_format(f->time_ms, stamp);
	b->len = 0;
	jsontext_lit(b, "{\"id\":");
	jsontext_str(b, f->idtext, f->id_len);
	jsontext_lit(b, ",\"app\":");
	jsontext_cstr(b, src->app->id);
	jsontext_lit(b, ",\"channel\":");
	jsontext_str(b, f->chan, f->chan_len);
	jsontext_lit(b, ",\"event\":");
	jsontext_str(b, f->name, f->name_len);
	jsontext_lit(b, ",\"data\":");
	data_off = b->len;
	jsontext_put(b, f->data_text, f->data_len);
	jsontext_lit(b, ",\"received_at\":");
	jsontext_cstr(b, run->received_at);
	jsontext_lit(b, ",\"timestamp\":");
	jsontext_cstr(b, stamp);
	jsontext_lit(b, ",\"client_timestamp\":");
	jsontext_raw(b, f->timestamp);
	jsontext_lit(b, ",\"client_sent_at\":");
	jsontext_raw(b, f->sent_at);
	jsontext_lit(b, ",\"ip\":");
	jsontext_cstr(b, src->ip);
	jsontext_lit(b, ",\"user_agent\":");
	jsontext_cstr(b, src->user_agent);
	jsontext_lit(b, ",\"origin\":");
	jsontext_cstr(b, src->origin);
	jsontext_lit(b, ",\"source\":");
	jsontext_cstr(b, src->source);
	jsontext_lit(b, "}");
	if (b->failed)
		return -1;

	rec.id = f->idtext;
	rec.id_len = f->id_len;
	rec.app = src->app->id;
	rec.app_len = strlen(src->app->id);
	rec.channel = f->chan;
	rec.channel_len = f->chan_len;
	rec.event = f->name;
	rec.event_len = f->name_len;
	rec.received_at_ms = src->received_at_ms;
	rec.json = b->p;
	rec.json_len = b->len;
	acc = &run->out->accepted[run->out->naccepted];
	if ((acc->record = event_record_encode(&rec, &acc->record_len,
	    &acc->view)) == NULL)
		return -1;
	acc->index = index;
	acc->data_off = data_off;
	acc->data_len = f->data_len;
	memcpy(acc->id, f->idtext, f->id_len);
	acc->id[f->id_len] = '\0';
	run->out->naccepted++;
	return 0;
}

/* Accepts or rejects event index. Returns 0, or -1 when out of memory. */
static int
event_one(struct event_run *run, size_t index, struct json_object *ev)
{
	struct event_fields f;
	struct event_reject r;

	switch (event_check(run, ev, &f, &r)) {
	case 0:
		return event_accept(run, index, &f);
	case 1:
		return event_add_reject(run, index, &r);
	default:
		return -1;
	}
}

void
event_batch_shed(struct event_batch *batch)
{
	size_t i;

	for (i = 0; i < batch->naccepted; i++) {
		free(batch->accepted[i].record);
		batch->accepted[i].record = NULL;
		batch->accepted[i].record_len = 0;
		memset(&batch->accepted[i].view, 0,
		    sizeof batch->accepted[i].view);
	}
}

void
event_batch_free(struct event_batch *batch)
{
	if (batch == NULL)
		return;
	event_batch_shed(batch);
	free(batch->accepted);
	free(batch->rejected);
	memset(batch, 0, sizeof *batch);
}

/*
 * Finds the events of a parsed body: *list is the array holding them (the
 * body, or its "batch"), or NULL for a body that is one event. Returns how
 * many there are, or -1 for a body of another shape.
 */
static ssize_t
event_body_list(struct json_object *events, struct json_object **list)
{
	struct json_object *batch;

	*list = NULL;
	if (json_object_is_type(events, json_type_object) &&
	    json_object_object_length(events) == 1 &&
	    json_object_object_get_ex(events, "batch", &batch)) {
		if (!json_object_is_type(batch, json_type_array))
			return -1;
		*list = batch;
	} else if (json_object_is_type(events, json_type_array))
		*list = events;
	else if (!json_object_is_type(events, json_type_object))
		return -1;
	return *list != NULL ? (ssize_t)json_object_array_length(*list) : 1;
}

size_t
event_body_count(struct json_object *events)
{
	struct json_object *list;
	ssize_t n = event_body_list(events, &list);

	return n < 0 ? 0 : (size_t)n;
}

enum event_body
event_batch_from_json(struct json_object *events,
    const struct event_limits *lim, const struct event_source *src,
    struct event_batch *out, char *err, size_t errlen)
{
	struct event_run run = { .lim = lim, .src = src, .out = out };
	struct json_object *list;
	ssize_t found;
	size_t i, n;

	if (err != NULL && errlen > 0)
		*err = '\0';
	if ((found = event_body_list(events, &list)) < 0)
		goto bad_shape;
	n = (size_t)found;

	if (n == 0) {
		event_errf(err, errlen, "request has no events");
		return EVENT_BODY_EMPTY;
	}
	if (n > lim->max_events) {
		event_errf(err, errlen, "request has %zu events; the limit is "
		    "%zu", n, lim->max_events);
		return EVENT_BODY_TOO_MANY;
	}
	switch (jsontext_unfit(events, EVENT_JSON_DEPTH)) {
	case JSONTEXT_FIT:
		break;
	case JSONTEXT_UNFIT_NUMBER:
		event_errf(err, errlen, "invalid JSON: NaN, Infinity and "
		    "numbers out of range are not allowed");
		return EVENT_BODY_BAD_JSON;
	case JSONTEXT_UNFIT_DEPTH:
		event_errf(err, errlen, "invalid JSON: nested deeper than %d",
		    EVENT_JSON_DEPTH);
		return EVENT_BODY_BAD_JSON;
	}

	out->total = n;
	if ((out->accepted = calloc(n, sizeof *out->accepted)) == NULL)
		goto nomem;
	isotime_format(src->received_at_ms, run.received_at);
	for (i = 0; i < n; i++) {
		if (event_one(&run, i, list != NULL ?
		    json_object_array_get_idx(list, i) : events) == -1)
			goto nomem;
	}
	free(run.env.p);
	return EVENT_BODY_OK;

nomem:
	free(run.env.p);
	event_batch_free(out);
	event_errf(err, errlen, "out of memory");
	return EVENT_BODY_NOMEM;

bad_shape:
	event_errf(err, errlen, "body must be an event object, an array of "
	    "events or {\"batch\": [...]}");
	return EVENT_BODY_BAD_SHAPE;
}

enum event_body
event_batch_parse(const char *body, size_t len,
    const struct event_limits *lim, const struct event_source *src,
    struct event_batch *out, char *err, size_t errlen)
{
	struct json_object *root;
	enum event_body rc;

	switch (jsontext_parse(body, len, EVENT_JSON_DEPTH, &root, err,
	    errlen)) {
	case 0:
		break;
	case -2:
		return EVENT_BODY_NOMEM;
	default:
		return EVENT_BODY_BAD_JSON;
	}
	/* A bare null is root == NULL: JSON, but of the wrong shape. */
	rc = event_batch_from_json(root, lim, src, out, err, errlen);
	json_object_put(root);
	return rc;
}

struct json_object *
event_batch_ids_json(const struct event_batch *b)
{
	struct json_object *ids;
	size_t i;

	ids = json_object_new_array_ext((int)b->naccepted);
	for (i = 0; i < b->naccepted; i++)
		json_object_array_add(ids,
		    json_object_new_string(b->accepted[i].id));
	return ids;
}

struct json_object *
event_batch_errors_json(const struct event_batch *b)
{
	struct json_object *errors, *e;
	size_t i;

	errors = json_object_new_array_ext((int)b->nrejected);
	for (i = 0; i < b->nrejected; i++) {
		e = json_object_new_object();
		json_object_object_add(e, "index",
		    json_object_new_int64((int64_t)b->rejected[i].index));
		json_object_object_add(e, "code", json_object_new_string(
		    event_error_name(b->rejected[i].error)));
		json_object_object_add(e, "message",
		    json_object_new_string(b->rejected[i].message));
		json_object_array_add(errors, e);
	}
	return errors;
}
