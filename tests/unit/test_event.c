/*
 * test_event.c: request bodies to envelopes: the three body shapes, every
 * rejection code with its index and message, the app's channel rules, ids,
 * client times and skew correction, escaping of what the transport says,
 * the limits, and the binary record (round trip and fuzzing). Every body is
 * copied into a buffer of exactly its length, without a NUL, so a read past
 * its end is caught under ASan and valgrind. Data keeps what was sent:
 * integers outside 64 bits as their digits, invalid UTF-8 refused with the
 * path to it.
 */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "unit.h"
#include "core/config.h"
#include "core/sluice.h"
#include "ingest/event.h"

/* 2026-01-01T10:00:02.000Z */
#define RECEIVED_AT INT64_C(1767261602000)

static char app_id[] = "shop";
static char app_default[] = "events";
static char pat_events[] = "events";
static char pat_public[] = "public-*";
static char pat_orders[] = "orders.*";
static char *app_patterns[] = { pat_events, pat_public, pat_orders };

static struct config_app test_app = {
	.id = app_id,
	.default_channel = app_default,
	.publish_channels = { app_patterns, 3 },
};

static struct config_app test_app_nodefault = {
	.id = app_id,
	.publish_channels = { app_patterns, 3 },
};

static const struct event_limits test_limits = {
	.max_event_bytes = 65536,
	.max_events = 500,
};

static const struct event_source test_source = {
	.app = &test_app,
	.source = "http",
	.ip = "203.0.113.9",
	.user_agent = "Mozilla/5.0 (X11)",
	.origin = "https://example.com",
	.received_at_ms = RECEIVED_AT,
};

static char last_err[256];

/* Parses len bytes of body from an exact-size copy. */
static enum event_body
parse_full(const char *body, size_t len, const struct event_limits *lim,
    const struct event_source *src, struct event_batch *b)
{
	enum event_body rc;
	char *copy;

	copy = malloc(len > 0 ? len : 1);
	CU_ASSERT_FATAL(copy != NULL);
	memcpy(copy, body, len);
	memset(b, 0, sizeof *b);
	memset(last_err, 'X', sizeof last_err);
	rc = event_batch_parse(copy, len, lim, src, b, last_err,
	    sizeof last_err);
	free(copy);
	if (rc != EVENT_BODY_OK) {
		CU_ASSERT_EQUAL(b->naccepted, 0);
		CU_ASSERT_EQUAL(b->nrejected, 0);
		CU_ASSERT(strlen(last_err) > 0);
	}
	return rc;
}

static enum event_body
parse(const char *body, struct event_batch *b)
{
	return parse_full(body, strlen(body), &test_limits, &test_source, b);
}

/* Parses body, expects one event rejected for err; returns its message. */
static const char *
reject_one(const char *body, enum event_error err)
{
	static char msg[160];
	struct event_batch b;

	msg[0] = '\0';
	CU_ASSERT_EQUAL_FATAL(parse(body, &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL(b.total, 1);
	CU_ASSERT_EQUAL(b.naccepted, 0);
	CU_ASSERT_EQUAL_FATAL(b.nrejected, 1);
	CU_ASSERT_EQUAL(b.rejected[0].index, 0);
	if (b.rejected[0].error != err)
		fprintf(stderr, "%s: got %s (%s)\n", body,
		    event_error_name(b.rejected[0].error),
		    b.rejected[0].message);
	CU_ASSERT_EQUAL(b.rejected[0].error, err);
	snprintf(msg, sizeof msg, "%s", b.rejected[0].message);
	event_batch_free(&b);
	return msg;
}

/* Parses body and expects its one event accepted. */
static void
accept_one(const char *body)
{
	struct event_batch b;

	CU_ASSERT_EQUAL_FATAL(parse(body, &b), EVENT_BODY_OK);
	if (b.nrejected > 0)
		fprintf(stderr, "%s: rejected: %s\n", body,
		    b.rejected[0].message);
	CU_ASSERT_EQUAL(b.naccepted, 1);
	CU_ASSERT_EQUAL(b.nrejected, 0);
	event_batch_free(&b);
}

/*
 * Decodes accepted entry i into *rec and parses its envelope strictly (and
 * as UTF-8), checking that the whole text is one JSON object.
 */
static struct json_object *
envelope(const struct event_batch *b, size_t i, struct event_record *rec)
{
	struct json_tokener *tok;
	struct json_object *env;

	CU_ASSERT_FATAL(i < b->naccepted);
	CU_ASSERT_EQUAL_FATAL(event_record_decode(b->accepted[i].record,
	    b->accepted[i].record_len, rec), 0);
	tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	env = json_tokener_parse_ex(tok, rec->json, (int)rec->json_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(env);
	CU_ASSERT_EQUAL(json_tokener_get_parse_end(tok), rec->json_len);
	json_tokener_free(tok);
	CU_ASSERT_FATAL(json_object_is_type(env, json_type_object));
	return env;
}

/* The string value of key in env, or NULL if it is null. */
static const char *
env_str(struct json_object *env, const char *key)
{
	struct json_object *v;

	CU_ASSERT_FATAL(json_object_object_get_ex(env, key, &v));
	if (v == NULL)
		return NULL;
	CU_ASSERT_FATAL(json_object_is_type(v, json_type_string));
	return json_object_get_string(v);
}

/* The compact JSON text of key's value in env. */
static const char *
env_json(struct json_object *env, const char *key)
{
	struct json_object *v;

	CU_ASSERT_FATAL(json_object_object_get_ex(env, key, &v));
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Parses a one-event body and returns the envelope's field key. */
static void
one_field(const char *body, const char *key, char *out, size_t outlen)
{
	struct event_batch b;
	struct event_record rec;
	struct json_object *env;

	CU_ASSERT_EQUAL_FATAL(parse(body, &b), EVENT_BODY_OK);
	if (b.nrejected > 0)
		fprintf(stderr, "%s: rejected: %s\n", body,
		    b.rejected[0].message);
	CU_ASSERT_EQUAL_FATAL(b.naccepted, 1);
	env = envelope(&b, 0, &rec);
	snprintf(out, outlen, "%s", env_json(env, key));
	json_object_put(env);
	event_batch_free(&b);
}

static void
TEST_single_object(void)
{
	struct event_batch b;
	struct event_record rec;
	struct json_object *env;

	CU_ASSERT_EQUAL_FATAL(parse("{\"event\":\"click\",\"channel\":"
	    "\"public-news\",\"data\":{\"x\":1}}", &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL(b.total, 1);
	CU_ASSERT_EQUAL_FATAL(b.naccepted, 1);
	CU_ASSERT_EQUAL(b.nrejected, 0);
	CU_ASSERT_EQUAL(b.accepted[0].index, 0);
	env = envelope(&b, 0, &rec);
	CU_ASSERT_STRING_EQUAL(env_str(env, "event"), "click");
	CU_ASSERT_STRING_EQUAL(env_str(env, "channel"), "public-news");
	CU_ASSERT_STRING_EQUAL(env_str(env, "app"), "shop");
	CU_ASSERT_STRING_EQUAL(env_json(env, "data"), "{\"x\":1}");
	CU_ASSERT_STRING_EQUAL(env_str(env, "source"), "http");
	json_object_put(env);
	event_batch_free(&b);
}

static void
TEST_array(void)
{
	struct event_batch b;
	struct event_record rec;
	struct json_object *env;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(parse(" [ {\"event\":\"a\"}, {\"event\":\"b\"},"
	    "{\"event\":\"c\"} ] ", &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL(b.total, 3);
	CU_ASSERT_EQUAL_FATAL(b.naccepted, 3);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(b.accepted[i].index, i);
		env = envelope(&b, i, &rec);
		CU_ASSERT_EQUAL(env_str(env, "event")[0], (char)('a' + i));
		CU_ASSERT_EQUAL(rec.event_len, 1);
		CU_ASSERT_EQUAL(rec.event[0], (char)('a' + i));
		json_object_put(env);
	}
	/* Each event has its own id. */
	CU_ASSERT(strcmp(b.accepted[0].id, b.accepted[1].id) != 0);
	event_batch_free(&b);
}

static void
TEST_batch(void)
{
	struct event_batch b;

	CU_ASSERT_EQUAL_FATAL(parse("{\"batch\":[{\"event\":\"a\"},"
	    "{\"event\":\"b\",\"channel\":\"orders.eu\"}]}", &b),
	    EVENT_BODY_OK);
	CU_ASSERT_EQUAL(b.total, 2);
	CU_ASSERT_EQUAL(b.naccepted, 2);
	event_batch_free(&b);
	/* "batch" next to other keys is not a batch but an unknown field. */
	CU_ASSERT_STRING_EQUAL(reject_one("{\"event\":\"a\",\"batch\":[]}",
	    EVENT_ERR_UNKNOWN_FIELD), "unknown field \"batch\"");
}

static void
TEST_bad_shape(void)
{
	static const char *const bodies[] = { "\"click\"", "42", "null",
	    "true", "{\"batch\":{}}", "{\"batch\":\"x\"}",
	    "{\"batch\":null}" };
	struct event_batch b;
	size_t i;

	for (i = 0; i < SLUICE_ARRAY_LEN(bodies); i++) {
		CU_ASSERT_EQUAL(parse(bodies[i], &b), EVENT_BODY_BAD_SHAPE);
		CU_ASSERT_STRING_EQUAL(last_err, "body must be an event "
		    "object, an array of events or {\"batch\": [...]}");
		event_batch_free(&b);
	}
}

static void
TEST_bad_json(void)
{
	static const char *const bodies[] = { "", " ", "{", "[{\"event\":",
	    "{\"event\":\"a\",}", "[1,]", "{'event':'a'}x", "tru",
	    "{\"event\":\"a\" \"x\":1}", "[\"\xff\"]", "\xef\xbb\xbf[]",
	    "{\"event\":\"a\"}\0", "[1] //", "{\"a\":[01]}" };
	struct event_batch b;
	size_t i;

	for (i = 0; i < SLUICE_ARRAY_LEN(bodies); i++) {
		CU_ASSERT_EQUAL(parse_full(bodies[i], strlen(bodies[i]) +
		    (i == 11), &test_limits, &test_source, &b),
		    EVENT_BODY_BAD_JSON);
		CU_ASSERT_NSTRING_EQUAL(last_err, "invalid JSON at offset ",
		    23);
		event_batch_free(&b);
	}
	CU_ASSERT_EQUAL(parse("{\"event\":\"click\",\"x\":}", &b),
	    EVENT_BODY_BAD_JSON);
	CU_ASSERT_STRING_EQUAL(last_err,
	    "invalid JSON at offset 21: unexpected character");
	CU_ASSERT_EQUAL(parse("[\"ok\", \"\xc3\x28\"]", &b),
	    EVENT_BODY_BAD_JSON);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_err, "utf-8"));
	CU_ASSERT_EQUAL(parse("{\"event\":\"a\"", &b), EVENT_BODY_BAD_JSON);
	CU_ASSERT_STRING_EQUAL(last_err,
	    "invalid JSON at offset 12: unexpected end of data");
}

static void
TEST_trailing_junk(void)
{
	struct event_batch b;

	CU_ASSERT_EQUAL(parse("{\"event\":\"a\"} x", &b),
	    EVENT_BODY_BAD_JSON);
	CU_ASSERT_STRING_EQUAL(last_err,
	    "invalid JSON at offset 14: unexpected character");
	CU_ASSERT_EQUAL(parse("{\"event\":\"a\"}{\"event\":\"b\"}", &b),
	    EVENT_BODY_BAD_JSON);
	CU_ASSERT_EQUAL(parse("[{\"event\":\"a\"}]]", &b),
	    EVENT_BODY_BAD_JSON);
	CU_ASSERT_EQUAL(parse("42 43", &b), EVENT_BODY_BAD_JSON);
	accept_one("{\"event\":\"a\"} \r\n\t ");
	accept_one(" \n{\"event\":\"a\"}");
}

static void
TEST_not_nul_terminated(void)
{
	const char *text = "{\"event\":\"a\"}garbage that is not JSON";
	struct event_batch b;

	/* Only the first 13 bytes are the body. */
	CU_ASSERT_EQUAL(parse_full(text, 13, &test_limits, &test_source, &b),
	    EVENT_BODY_OK);
	CU_ASSERT_EQUAL(b.naccepted, 1);
	event_batch_free(&b);
	/* A number at the very end of the body ends there. */
	CU_ASSERT_EQUAL(parse_full("123456", 3, &test_limits, &test_source,
	    &b), EVENT_BODY_BAD_SHAPE);
	CU_ASSERT_EQUAL(parse_full("{\"event\":\"a\"}", 12, &test_limits,
	    &test_source, &b), EVENT_BODY_BAD_JSON);
}

static void
TEST_empty(void)
{
	struct event_batch b;

	CU_ASSERT_EQUAL(parse("[]", &b), EVENT_BODY_EMPTY);
	CU_ASSERT_EQUAL(parse("{\"batch\":[]}", &b), EVENT_BODY_EMPTY);
	CU_ASSERT_EQUAL(parse(" [ ] ", &b), EVENT_BODY_EMPTY);
	/* An empty object is an event without a name, not an empty body. */
	reject_one("{}", EVENT_ERR_MISSING_EVENT);
}

/* Makes a body of n events, as an array or a batch. */
static char *
many_events(size_t n, int batch)
{
	static const char one[] = "{\"event\":\"e\"},";
	char *body, *p;
	size_t i;

	body = malloc(n * (sizeof one - 1) + 32);
	CU_ASSERT_FATAL(body != NULL);
	p = body + sprintf(body, "%s", batch ? "{\"batch\":[" : "[");
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s", one);
	if (n > 0)
		p--;
	sprintf(p, "%s", batch ? "]}" : "]");
	return body;
}

static void
TEST_too_many(void)
{
	struct event_batch b;
	char *body;

	body = many_events(600, 0);
	CU_ASSERT_EQUAL(parse(body, &b), EVENT_BODY_TOO_MANY);
	CU_ASSERT_STRING_EQUAL(last_err,
	    "request has 600 events; the limit is 500");
	event_batch_free(&b);
	free(body);
	body = many_events(501, 1);
	CU_ASSERT_EQUAL(parse(body, &b), EVENT_BODY_TOO_MANY);
	CU_ASSERT_STRING_EQUAL(last_err,
	    "request has 501 events; the limit is 500");
	free(body);
	/* Too many is decided before any event is looked at. */
	body = many_events(501, 0);
	body[3] = 'X';	/* "Xvent": an unknown field */
	CU_ASSERT_EQUAL(parse(body, &b), EVENT_BODY_TOO_MANY);
	free(body);
	body = many_events(500, 1);
	CU_ASSERT_EQUAL(parse(body, &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL(b.total, 500);
	CU_ASSERT_EQUAL(b.naccepted, 500);
	CU_ASSERT_EQUAL(b.accepted[499].index, 499);
	event_batch_free(&b);
	free(body);
}

/* A one-event body whose data nests depth arrays. */
static char *
deep_body(int depth)
{
	char *body, *p;
	int i;

	body = malloc((size_t)depth * 2 + 64);
	CU_ASSERT_FATAL(body != NULL);
	p = body + sprintf(body, "[{\"event\":\"a\",\"data\":");
	for (i = 0; i < depth; i++)
		*p++ = '[';
	for (i = 0; i < depth; i++)
		*p++ = ']';
	strcpy(p, "}]");
	return body;
}

static void
TEST_depth_limit(void)
{
	struct event_batch b;
	char *body;

	/* The array and the event take two of the 64 levels. */
	body = deep_body(EVENT_JSON_DEPTH - 2);
	CU_ASSERT_EQUAL(parse(body, &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL(b.naccepted, 1);
	event_batch_free(&b);
	free(body);
	body = deep_body(EVENT_JSON_DEPTH - 1);
	CU_ASSERT_EQUAL(parse(body, &b), EVENT_BODY_BAD_JSON);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_err, "nesting too deep"));
	free(body);
	body = deep_body(100000);
	CU_ASSERT_EQUAL(parse(body, &b), EVENT_BODY_BAD_JSON);
	free(body);
}

static void
TEST_non_finite_numbers(void)
{
	struct event_batch b;

	CU_ASSERT_EQUAL(parse("{\"event\":\"a\",\"data\":NaN}", &b),
	    EVENT_BODY_BAD_JSON);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_err, "NaN"));
	CU_ASSERT_EQUAL(parse("{\"event\":\"a\",\"data\":[1,{\"x\":"
	    "-Infinity}]}", &b), EVENT_BODY_BAD_JSON);
	CU_ASSERT_EQUAL(parse("[{\"event\":\"a\",\"data\":1e999}]", &b),
	    EVENT_BODY_BAD_JSON);
	CU_ASSERT_EQUAL(parse("{\"event\":\"a\",\"timestamp\":Infinity}", &b),
	    EVENT_BODY_BAD_JSON);
	accept_one("{\"event\":\"a\",\"data\":[1e300,-0.5,0]}");
}

static void
TEST_not_object(void)
{
	struct event_batch b;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(parse("[1,\"x\",{\"event\":\"a\"},[],null]",
	    &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL(b.total, 5);
	CU_ASSERT_EQUAL(b.naccepted, 1);
	CU_ASSERT_EQUAL(b.accepted[0].index, 2);
	CU_ASSERT_EQUAL_FATAL(b.nrejected, 4);
	for (i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(b.rejected[i].error, EVENT_ERR_NOT_OBJECT);
		CU_ASSERT_STRING_EQUAL(b.rejected[i].message,
		    "event must be a JSON object");
	}
	CU_ASSERT_EQUAL(b.rejected[0].index, 0);
	CU_ASSERT_EQUAL(b.rejected[1].index, 1);
	CU_ASSERT_EQUAL(b.rejected[2].index, 3);
	CU_ASSERT_EQUAL(b.rejected[3].index, 4);
	event_batch_free(&b);
}

static void
TEST_missing_event(void)
{
	const char *msg;

	msg = reject_one("{\"channel\":\"events\"}", EVENT_ERR_MISSING_EVENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "event"));
	reject_one("{\"event\":null}", EVENT_ERR_MISSING_EVENT);
}

/* Repeats s n times into a new string. */
static char *
repeat(const char *s, size_t n)
{
	size_t len = strlen(s), i;
	char *out;

	out = malloc(len * n + 1);
	CU_ASSERT_FATAL(out != NULL);
	for (i = 0; i < n; i++)
		memcpy(out + i * len, s, len);
	out[len * n] = '\0';
	return out;
}

/* Makes {"<field>":"<value>"<rest>} into buf. */
static char *
body_with(const char *field, const char *value, const char *rest)
{
	char *buf;

	buf = malloc(strlen(field) + strlen(value) + strlen(rest) + 64);
	CU_ASSERT_FATAL(buf != NULL);
	sprintf(buf, "{\"%s\":\"%s\"%s}", field, value, rest);
	return buf;
}

static void
TEST_event_name_length(void)
{
	static const char *const chars[] = { "a", "\xc3\xa9", "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80", "\\u00e9" };
	char *name, *body;
	const char *msg;
	size_t i;

	for (i = 0; i < SLUICE_ARRAY_LEN(chars); i++) {
		name = repeat(chars[i], EVENT_NAME_MAX);
		body = body_with("event", name, "");
		accept_one(body);
		free(body);
		free(name);
		name = repeat(chars[i], EVENT_NAME_MAX + 1);
		body = body_with("event", name, "");
		msg = reject_one(body, EVENT_ERR_BAD_EVENT_NAME);
		CU_ASSERT_STRING_EQUAL(msg,
		    "event: must be 1 to 200 characters, not 201");
		free(body);
		free(name);
	}
	msg = reject_one("{\"event\":\"\"}", EVENT_ERR_BAD_EVENT_NAME);
	CU_ASSERT_STRING_EQUAL(msg,
	    "event: must be 1 to 200 characters, not 0");
}

static void
TEST_event_name_rules(void)
{
	const char *msg;

	msg = reject_one("{\"event\":42}", EVENT_ERR_BAD_EVENT_NAME);
	CU_ASSERT_STRING_EQUAL(msg, "event: must be a string");
	reject_one("{\"event\":[\"a\"]}", EVENT_ERR_BAD_EVENT_NAME);
	msg = reject_one("{\"event\":\"a\\nb\"}", EVENT_ERR_BAD_EVENT_NAME);
	CU_ASSERT_STRING_EQUAL(msg,
	    "event: must not contain control characters");
	reject_one("{\"event\":\"a\\u0000b\"}", EVENT_ERR_BAD_EVENT_NAME);
	reject_one("{\"event\":\"a\x7f\"}", EVENT_ERR_BAD_EVENT_NAME);
	reject_one("{\"event\":\"a\\u0085\"}", EVENT_ERR_BAD_EVENT_NAME);
	msg = reject_one("{\"event\":\"pusher:subscribe\"}",
	    EVENT_ERR_BAD_EVENT_NAME);
	CU_ASSERT_STRING_EQUAL(msg,
	    "event: names starting with \"pusher:\" are reserved");
	msg = reject_one("{\"event\":\"pusher_internal:member_added\"}",
	    EVENT_ERR_BAD_EVENT_NAME);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "\"pusher_internal:\""));
	msg = reject_one("{\"event\":\"sluice:publish\"}",
	    EVENT_ERR_BAD_EVENT_NAME);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "\"sluice:\""));
	accept_one("{\"event\":\"pusher\"}");
	accept_one("{\"event\":\"my-pusher:thing\"}");
	accept_one("{\"event\":\"Pusher:thing\"}");
	accept_one("{\"event\":\"client-event with spaces\"}");
}

/* Runs event_batch_from_json on one event built by the caller. */
static enum event_body
from_json(struct json_object *events, struct event_batch *b)
{
	memset(b, 0, sizeof *b);
	return event_batch_from_json(events, &test_limits, &test_source, b,
	    last_err, sizeof last_err);
}

static void
TEST_invalid_utf8_from_json(void)
{
	struct json_object *ev;
	struct event_batch b;

	/* The parser refuses bad UTF-8; a tree built elsewhere may have it. */
	ev = json_object_new_object();
	json_object_object_add(ev, "event",
	    json_object_new_string_len("ab\xff", 3));
	CU_ASSERT_EQUAL_FATAL(from_json(ev, &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL_FATAL(b.nrejected, 1);
	CU_ASSERT_EQUAL(b.rejected[0].error, EVENT_ERR_BAD_EVENT_NAME);
	CU_ASSERT_STRING_EQUAL(b.rejected[0].message,
	    "event: not valid UTF-8");
	event_batch_free(&b);
	/* Overlong, surrogate and truncated sequences too. */
	json_object_object_add(ev, "event",
	    json_object_new_string_len("\xc0\xaf", 2));
	CU_ASSERT_EQUAL_FATAL(from_json(ev, &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL(b.nrejected, 1);
	event_batch_free(&b);
	json_object_object_add(ev, "event",
	    json_object_new_string_len("\xed\xa0\x80", 3));
	CU_ASSERT_EQUAL_FATAL(from_json(ev, &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL(b.nrejected, 1);
	event_batch_free(&b);
	json_object_object_add(ev, "event",
	    json_object_new_string_len("a\xe2\x82", 3));
	CU_ASSERT_EQUAL_FATAL(from_json(ev, &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL(b.nrejected, 1);
	event_batch_free(&b);
	json_object_object_add(ev, "event", json_object_new_string("ok"));
	json_object_object_add(ev, "id",
	    json_object_new_string_len("id-\xfe", 4));
	CU_ASSERT_EQUAL_FATAL(from_json(ev, &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL_FATAL(b.nrejected, 1);
	CU_ASSERT_EQUAL(b.rejected[0].error, EVENT_ERR_BAD_ID);
	CU_ASSERT_STRING_EQUAL(b.rejected[0].message, "id: not valid UTF-8");
	event_batch_free(&b);
	json_object_put(ev);
}

/* The data of accepted event i as it lies in the envelope's text. */
static void
data_text(const struct event_batch *b, size_t i, char *out, size_t outlen)
{
	struct event_record rec;
	const char *p, *end;

	CU_ASSERT_FATAL(i < b->naccepted);
	CU_ASSERT_EQUAL_FATAL(event_record_decode(b->accepted[i].record,
	    b->accepted[i].record_len, &rec), 0);
	p = memmem(rec.json, rec.json_len, ",\"data\":", 8);
	end = memmem(rec.json, rec.json_len, ",\"received_at\":", 15);
	CU_ASSERT_FATAL(p != NULL && end != NULL && end > p);
	p += 8;
	snprintf(out, outlen, "%.*s", (int)(end - p), p);
}

static void
TEST_data_invalid_utf8(void)
{
	static const char *const bad[] = {
		"\xc0\xaf",			/* overlong "/" */
		"\xe0\x80\xaf",		/* overlong, three bytes */
		"\xed\xa0\x80",		/* a raw surrogate */
		"\xf4\x90\x80\x80",		/* past U+10FFFF */
	};
	struct event_batch b;
	char body[256];
	size_t i;

	for (i = 0; i < SLUICE_ARRAY_LEN(bad); i++) {
		snprintf(body, sizeof body, "{\"event\":\"a\",\"data\":"
		    "{\"user\":{\"name\":\"x%sy\"}}}", bad[i]);
		CU_ASSERT_STRING_EQUAL(reject_one(body, EVENT_ERR_BAD_DATA),
		    "data.user.name: not valid UTF-8");
		snprintf(body, sizeof body, "{\"event\":\"a\",\"data\":"
		    "[1,[\"ok\",\"%s\"]]}", bad[i]);
		CU_ASSERT_STRING_EQUAL(reject_one(body, EVENT_ERR_BAD_DATA),
		    "data[1][1]: not valid UTF-8");
		/* A key: the message shows it without the bad bytes. */
		snprintf(body, sizeof body, "{\"event\":\"a\",\"data\":"
		    "{\"k%s\":1}}", bad[i]);
		CU_ASSERT_STRING_EQUAL(reject_one(body, EVENT_ERR_BAD_DATA),
		    (i == 0 ? "data.k??: a key that is not valid UTF-8" :
		    i == 3 ? "data.k????: a key that is not valid UTF-8" :
		    "data.k???: a key that is not valid UTF-8"));
		snprintf(body, sizeof body, "{\"event\":\"a\",\"data\":"
		    "\"%s\"}", bad[i]);
		CU_ASSERT_STRING_EQUAL(reject_one(body, EVENT_ERR_BAD_DATA),
		    "data: not valid UTF-8");
	}
	/* Only the bad event of a batch is refused; the message is ASCII. */
	CU_ASSERT_EQUAL_FATAL(parse("[{\"event\":\"a\",\"data\":\"\xc3\xa9\"},"
	    "{\"event\":\"b\",\"data\":{\"\xc3\xa9\":{\"x\":\"\xc0\xaf\"}}}]",
	    &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL(b.naccepted, 1);
	CU_ASSERT_EQUAL_FATAL(b.nrejected, 1);
	CU_ASSERT_EQUAL(b.rejected[0].index, 1);
	CU_ASSERT_STRING_EQUAL(b.rejected[0].message,
	    "data.??.x: not valid UTF-8");
	event_batch_free(&b);
	/* Valid UTF-8 of every length, and escapes, go through. */
	accept_one("{\"event\":\"a\",\"data\":{\"\xc3\xa9\xe2\x82\xac\":"
	    "\"\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\\ud83d\\ude00\"}}");
}

static void
TEST_data_path_bounded(void)
{
	char body[2048], want[160];
	size_t n = 0, i;

	n += (size_t)snprintf(body + n, sizeof body - n,
	    "{\"event\":\"a\",\"data\":");
	for (i = 0; i < 30; i++)
		n += (size_t)snprintf(body + n, sizeof body - n,
		    "{\"key-%02zu-and-some-more-to-be-long\":", i);
	n += (size_t)snprintf(body + n, sizeof body - n, "\"\xed\xbf\xbf\"");
	for (i = 0; i < 30; i++)
		body[n++] = '}';
	body[n++] = '}';
	body[n] = '\0';
	snprintf(want, sizeof want, "%s", reject_one(body,
	    EVENT_ERR_BAD_DATA));
	CU_ASSERT_NSTRING_EQUAL(want, "data.key-00-and-some-more-to-be-long"
	    ".key-01-and-some-more-to-be-long", 68);
	CU_ASSERT_PTR_NOT_NULL(strstr(want, "...: not valid UTF-8"));
	CU_ASSERT(strlen(want) < 120);
}

static void
TEST_data_big_integers(void)
{
	static const char *const kept[] = {
		"123456789012345678901234567890",
		"-123456789012345678901234567890",
		"18446744073709551616",
		"-9223372036854775809",
		"99999999999999999999999999999999999999999999999999999999999"
		"999999999999999999999999999999999999999999999999999999999999",
	};
	static const char *const exact[] = {
		"18446744073709551615", "-9223372036854775808",
		"9223372036854775807", "1234567890123456789", "0",
		"1.5e300", "12345678901234567890123.5",
	};
	struct event_batch b;
	char body[512], out[512], want[512];
	size_t i;

	for (i = 0; i < SLUICE_ARRAY_LEN(kept); i++) {
		snprintf(body, sizeof body, "{\"event\":\"a\",\"data\":{\"n\":"
		    "%s,\"s\":\"%s\",\"l\":[%s,1]}}", kept[i], kept[i], kept[i]);
		CU_ASSERT_EQUAL_FATAL(parse(body, &b), EVENT_BODY_OK);
		CU_ASSERT_EQUAL_FATAL(b.naccepted, 1);
		data_text(&b, 0, out, sizeof out);
		snprintf(want, sizeof want, "{\"n\":%s,\"s\":\"%s\",\"l\":"
		    "[%s,1]}", kept[i], kept[i], kept[i]);
		CU_ASSERT_STRING_EQUAL(out, want);
		event_batch_free(&b);
	}
	for (i = 0; i < SLUICE_ARRAY_LEN(exact); i++) {
		snprintf(body, sizeof body, "[{\"event\":\"a\",\"data\":%s},"
		    "{\"event\":\"b\",\"data\":[%s]}]", exact[i],
		    "123456789012345678901234567890");
		CU_ASSERT_EQUAL_FATAL(parse(body, &b), EVENT_BODY_OK);
		CU_ASSERT_EQUAL_FATAL(b.naccepted, 2);
		data_text(&b, 0, out, sizeof out);
		CU_ASSERT_STRING_EQUAL(out, exact[i]);
		data_text(&b, 1, out, sizeof out);
		CU_ASSERT_STRING_EQUAL(out, "[123456789012345678901234567890]");
		event_batch_free(&b);
	}
	/* The size limit counts the digits sent. */
	snprintf(body, sizeof body, "{\"event\":\"a\",\"data\":%s}", kept[4]);
	{
		struct event_limits lim = test_limits;

		lim.max_event_bytes = strlen(body) - 1;
		CU_ASSERT_EQUAL_FATAL(parse_full(body, strlen(body), &lim,
		    &test_source, &b), EVENT_BODY_OK);
		CU_ASSERT_EQUAL(b.nrejected, 1);
		event_batch_free(&b);
		lim.max_event_bytes = strlen(body);
		CU_ASSERT_EQUAL_FATAL(parse_full(body, strlen(body), &lim,
		    &test_source, &b), EVENT_BODY_OK);
		CU_ASSERT_EQUAL(b.naccepted, 1);
		event_batch_free(&b);
	}
	/* A time outside 64 bits is refused, not clamped into range. */
	CU_ASSERT_NSTRING_EQUAL(reject_one("{\"event\":\"a\",\"timestamp\":"
	    "-123456789012345678901234567890}", EVENT_ERR_BAD_TIMESTAMP),
	    "timestamp: must be", 18);
	/* A repeated key hides which value json-c kept: refused whole
	 * (unless no clamped value is left in the tree). */
	CU_ASSERT_EQUAL(parse("{\"event\":\"a\",\"data\":{\"x\":"
	    "99999999999999999999999,\"x\":1}}", &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL_FATAL(b.naccepted, 1);
	data_text(&b, 0, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "{\"x\":1}");
	event_batch_free(&b);
	CU_ASSERT_EQUAL(parse("{\"event\":\"a\",\"data\":{\"x\":"
	    "99999999999999999999999,\"y\":18446744073709551615,"
	    "\"x\":1}}", &b), EVENT_BODY_BAD_JSON);
	event_batch_free(&b);
	CU_ASSERT_EQUAL(parse("{\"event\":\"a\",\"data\":{\"x\":1,\"y\":"
	    "99999999999999999999999,\"x\":2}}", &b), EVENT_BODY_BAD_JSON);
	CU_ASSERT_STRING_EQUAL(last_err, "invalid JSON at offset 31: an "
	    "integer outside 64 bits in an object whose keys repeat");
	event_batch_free(&b);
}

static void
TEST_channel_rules(void)
{
	char *chan, *body;
	const char *msg;
	char out[256];

	one_field("{\"event\":\"a\"}", "channel", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"events\"");
	one_field("{\"event\":\"a\",\"channel\":null}", "channel", out,
	    sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"events\"");
	one_field("{\"event\":\"a\",\"channel\":\"orders.eu-west_1=@,;\"}",
	    "channel", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"orders.eu-west_1=@,;\"");

	msg = reject_one("{\"event\":\"a\",\"channel\":\"private-x\"}",
	    EVENT_ERR_CHANNEL_FORBIDDEN);
	CU_ASSERT_STRING_EQUAL(msg,
	    "channel: \"private-x\" is not allowed for this app");
	reject_one("{\"event\":\"a\",\"channel\":\"event\"}",
	    EVENT_ERR_CHANNEL_FORBIDDEN);
	msg = reject_one("{\"event\":\"a\",\"channel\":\"public news\"}",
	    EVENT_ERR_BAD_CHANNEL);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "channel:"));
	reject_one("{\"event\":\"a\",\"channel\":\"\"}", EVENT_ERR_BAD_CHANNEL);
	reject_one("{\"event\":\"a\",\"channel\":\"public-*\"}",
	    EVENT_ERR_BAD_CHANNEL);
	reject_one("{\"event\":\"a\",\"channel\":\"public-\\u00e9\"}",
	    EVENT_ERR_BAD_CHANNEL);
	reject_one("{\"event\":\"a\",\"channel\":\"public-a\\u0000b\"}",
	    EVENT_ERR_BAD_CHANNEL);
	msg = reject_one("{\"event\":\"a\",\"channel\":7}",
	    EVENT_ERR_BAD_CHANNEL);
	CU_ASSERT_STRING_EQUAL(msg, "channel: must be a string");

	/* 164 characters is the most. */
	chan = repeat("a", EVENT_CHANNEL_MAX);
	memcpy(chan, "public-", 7);
	body = body_with("channel", chan, ",\"event\":\"a\"");
	accept_one(body);
	free(body);
	free(chan);
	chan = repeat("a", EVENT_CHANNEL_MAX + 1);
	memcpy(chan, "public-", 7);
	body = body_with("channel", chan, ",\"event\":\"a\"");
	reject_one(body, EVENT_ERR_BAD_CHANNEL);
	free(body);
	free(chan);
}

static void
TEST_no_channel(void)
{
	struct event_source src = test_source;
	struct event_batch b;
	static const char body[] = "[{\"event\":\"a\"},{\"event\":\"b\","
	    "\"channel\":\"events\"}]";

	src.app = &test_app_nodefault;
	CU_ASSERT_EQUAL_FATAL(parse_full(body, sizeof body - 1, &test_limits,
	    &src, &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL(b.naccepted, 1);
	CU_ASSERT_EQUAL(b.accepted[0].index, 1);
	CU_ASSERT_EQUAL_FATAL(b.nrejected, 1);
	CU_ASSERT_EQUAL(b.rejected[0].index, 0);
	CU_ASSERT_EQUAL(b.rejected[0].error, EVENT_ERR_NO_CHANNEL);
	CU_ASSERT_STRING_EQUAL(b.rejected[0].message,
	    "channel: none given and the app has no default channel");
	event_batch_free(&b);
}

static void
TEST_id_given_is_kept(void)
{
	struct event_batch b;
	struct event_record rec;
	struct json_object *env;

	CU_ASSERT_EQUAL_FATAL(parse("{\"event\":\"a\",\"id\":\"order-42\"}",
	    &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL_FATAL(b.naccepted, 1);
	CU_ASSERT_STRING_EQUAL(b.accepted[0].id, "order-42");
	env = envelope(&b, 0, &rec);
	CU_ASSERT_STRING_EQUAL(env_str(env, "id"), "order-42");
	CU_ASSERT_EQUAL(rec.id_len, 8);
	CU_ASSERT(memcmp(rec.id, "order-42", 8) == 0);
	json_object_put(env);
	event_batch_free(&b);
}

static void
TEST_id_rules(void)
{
	char *id, *body, *fit;
	const char *msg;

	/* 128 characters are allowed, but no more than 255 bytes (the
	 * AMQP message_id limit): 63 of 4 bytes and 3 of 1 fit exactly. */
	id = repeat("\xf0\x9f\x98\x80", 63);
	fit = malloc(strlen(id) + 4);
	CU_ASSERT_FATAL(fit != NULL);
	sprintf(fit, "%sxyz", id);
	body = body_with("id", fit, ",\"event\":\"a\"");
	accept_one(body);
	free(body);
	free(fit);
	free(id);
	id = repeat("\xf0\x9f\x98\x80", 64);
	body = body_with("id", id, ",\"event\":\"a\"");
	msg = reject_one(body, EVENT_ERR_BAD_ID);
	CU_ASSERT_STRING_EQUAL(msg,
	    "id: must be at most 255 bytes of UTF-8, not 256");
	free(body);
	free(id);
	id = repeat("\xc3\xa9", EVENT_ID_MAX);
	body = body_with("id", id, ",\"event\":\"a\"");
	reject_one(body, EVENT_ERR_BAD_ID);
	free(body);
	free(id);
	id = repeat("x", EVENT_ID_MAX);
	body = body_with("id", id, ",\"event\":\"a\"");
	accept_one(body);
	free(body);
	free(id);
	id = repeat("x", EVENT_ID_MAX + 1);
	body = body_with("id", id, ",\"event\":\"a\"");
	msg = reject_one(body, EVENT_ERR_BAD_ID);
	CU_ASSERT_STRING_EQUAL(msg, "id: must be 1 to 128 characters, not 129");
	free(body);
	free(id);
	reject_one("{\"event\":\"a\",\"id\":\"\"}", EVENT_ERR_BAD_ID);
	msg = reject_one("{\"event\":\"a\",\"id\":42}", EVENT_ERR_BAD_ID);
	CU_ASSERT_STRING_EQUAL(msg, "id: must be a string");
	msg = reject_one("{\"event\":\"a\",\"id\":\"a b\"}", EVENT_ERR_BAD_ID);
	CU_ASSERT_STRING_EQUAL(msg, "id: must not contain whitespace");
	reject_one("{\"event\":\"a\",\"id\":\"a\\u00a0b\"}", EVENT_ERR_BAD_ID);
	reject_one("{\"event\":\"a\",\"id\":\"a\\u3000b\"}", EVENT_ERR_BAD_ID);
	msg = reject_one("{\"event\":\"a\",\"id\":\"a\\tb\"}",
	    EVENT_ERR_BAD_ID);
	CU_ASSERT_STRING_EQUAL(msg, "id: must not contain control characters");
	accept_one("{\"event\":\"a\",\"id\":\"caf\\u00e9:1/2\"}");
}

struct fresh_parse {
	struct event_batch	b;
	enum event_body		rc;
};

static void *
fresh_parse_run(void *arg)
{
	struct fresh_parse *f = arg;
	static const char body[] = "[{\"event\":\"a\"},{\"event\":\"b\"}]";

	memset(&f->b, 0, sizeof f->b);
	f->rc = event_batch_parse(body, sizeof body - 1, &test_limits,
	    &test_source, &f->b, NULL, 0);
	return NULL;
}

static void
TEST_id_absent_is_uuid7(void)
{
	struct fresh_parse f;
	struct event_record rec;
	struct json_object *env;
	pthread_t t;
	const char *id;
	char hex[13];
	size_t i;

	/* A fresh thread, so its UUIDv7 clock starts at received_at. */
	CU_ASSERT_FATAL(pthread_create(&t, NULL, fresh_parse_run, &f) == 0);
	CU_ASSERT_FATAL(pthread_join(t, NULL) == 0);
	CU_ASSERT_EQUAL_FATAL(f.rc, EVENT_BODY_OK);
	CU_ASSERT_EQUAL_FATAL(f.b.naccepted, 2);
	for (i = 0; i < 2; i++) {
		id = f.b.accepted[i].id;
		CU_ASSERT_EQUAL(strlen(id), 36);
		CU_ASSERT_EQUAL(id[14], '7');
		CU_ASSERT_PTR_NOT_NULL(strchr("89ab", id[19]));
		memcpy(hex, id, 8);
		memcpy(hex + 8, id + 9, 4);
		hex[12] = '\0';
		CU_ASSERT_EQUAL(strtoll(hex, NULL, 16), RECEIVED_AT);
		env = envelope(&f.b, i, &rec);
		CU_ASSERT_STRING_EQUAL(env_str(env, "id"), id);
		CU_ASSERT_EQUAL(rec.id_len, 36);
		json_object_put(env);
	}
	CU_ASSERT(strcmp(f.b.accepted[0].id, f.b.accepted[1].id) < 0);
	event_batch_free(&f.b);
}

static void
TEST_skew_correction(void)
{
	char out[256];

	/* The client's clock is 3 s ahead: its event was 5 s before send. */
	one_field("{\"event\":\"a\",\"timestamp\":\"2026-01-01T10:00:00.000Z\","
	    "\"sent_at\":\"2026-01-01T10:00:05.000Z\"}", "timestamp", out,
	    sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"2026-01-01T09:59:57.000Z\"");
	/* A clock 1 h behind, in another zone, with fractions. */
	one_field("{\"event\":\"a\","
	    "\"timestamp\":\"2026-01-01T10:59:00.250+02:00\","
	    "\"sent_at\":\"2026-01-01T08:59:01.750Z\"}", "timestamp", out,
	    sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"2026-01-01T10:00:00.500Z\"");
	/* Numbers and strings mixed. */
	one_field("{\"event\":\"a\",\"timestamp\":1767261600000,"
	    "\"sent_at\":\"2026-01-01T10:00:05Z\"}", "timestamp", out,
	    sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"2026-01-01T09:59:57.000Z\"");
	/* Correction never leaves the years that can be written. */
	one_field("{\"event\":\"a\",\"timestamp\":0,"
	    "\"sent_at\":\"9999-01-01T00:00:00Z\"}", "timestamp", out,
	    sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"1970-01-01T00:00:00.000Z\"");
}

static void
TEST_timestamp_only_and_none(void)
{
	char out[256];

	one_field("{\"event\":\"a\","
	    "\"timestamp\":\"2026-01-01T08:00:00+01:00\"}", "timestamp", out,
	    sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"2026-01-01T07:00:00.000Z\"");
	one_field("{\"event\":\"a\","
	    "\"timestamp\":\"2026-01-01T08:00:00+01:00\"}", "client_timestamp",
	    out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"2026-01-01T08:00:00+01:00\"");
	one_field("{\"event\":\"a\"}", "timestamp", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"2026-01-01T10:00:02.000Z\"");
	one_field("{\"event\":\"a\"}", "received_at", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"2026-01-01T10:00:02.000Z\"");
	one_field("{\"event\":\"a\"}", "client_timestamp", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "null");
	one_field("{\"event\":\"a\"}", "client_sent_at", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "null");
	/* sent_at alone corrects nothing but is kept. */
	one_field("{\"event\":\"a\",\"sent_at\":\"2026-01-01T10:00:05Z\"}",
	    "timestamp", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"2026-01-01T10:00:02.000Z\"");
	one_field("{\"event\":\"a\",\"sent_at\":\"2026-01-01T10:00:05Z\"}",
	    "client_sent_at", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"2026-01-01T10:00:05Z\"");
	/* null is the same as absent. */
	one_field("{\"event\":\"a\",\"timestamp\":null}", "timestamp", out,
	    sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"2026-01-01T10:00:02.000Z\"");
}

static void
TEST_epoch_ms_numbers(void)
{
	char out[256];

	one_field("{\"event\":\"a\",\"timestamp\":1767261600123}", "timestamp",
	    out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"2026-01-01T10:00:00.123Z\"");
	one_field("{\"event\":\"a\",\"timestamp\":1767261600123.9}",
	    "timestamp", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"2026-01-01T10:00:00.123Z\"");
	one_field("{\"event\":\"a\",\"timestamp\":1.7672616e12}", "timestamp",
	    out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"2026-01-01T10:00:00.000Z\"");
	one_field("{\"event\":\"a\",\"timestamp\":0}", "timestamp", out,
	    sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"1970-01-01T00:00:00.000Z\"");
	one_field("{\"event\":\"a\",\"timestamp\":253402300799999}",
	    "timestamp", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"9999-12-31T23:59:59.999Z\"");
	/* The raw values are kept as the client wrote them. */
	one_field("{\"event\":\"a\",\"timestamp\":1767261600000,"
	    "\"sent_at\":1767261605000.50}", "client_sent_at", out,
	    sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "1767261605000.50");
	one_field("{\"event\":\"a\",\"timestamp\":1767261600000,"
	    "\"sent_at\":1767261605000.50}", "client_timestamp", out,
	    sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "1767261600000");
	one_field("{\"event\":\"a\",\"timestamp\":1767261600000,"
	    "\"sent_at\":1767261605000.50}", "timestamp", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"2026-01-01T09:59:57.000Z\"");
}

static void
TEST_bad_times(void)
{
	static const char *const bad[] = { "\"2026-01-01T10:00:00\"",
	    "\"2026-02-30T10:00:00Z\"", "\"1969-12-31T23:59:59Z\"",
	    "\"yesterday\"", "\"\"", "\"2026-01-01T10:00:00Z\\u0000junk\"",
	    "-1", "-0.5", "253402300800000", "1e20", "18446744073709551615",
	    "true", "{}", "[]", "\"9999-12-31T23:30:00-01:00\"" };
	char body[160];
	const char *msg;
	size_t i;

	for (i = 0; i < SLUICE_ARRAY_LEN(bad); i++) {
		snprintf(body, sizeof body,
		    "{\"event\":\"a\",\"timestamp\":%s}", bad[i]);
		msg = reject_one(body, EVENT_ERR_BAD_TIMESTAMP);
		CU_ASSERT_NSTRING_EQUAL(msg, "timestamp: ", 11);
		snprintf(body, sizeof body, "{\"event\":\"a\",\"sent_at\":%s}",
		    bad[i]);
		msg = reject_one(body, EVENT_ERR_BAD_SENT_AT);
		CU_ASSERT_NSTRING_EQUAL(msg, "sent_at: ", 9);
	}
}

static void
TEST_unknown_field(void)
{
	char *key, *body, expect[160];
	const char *msg;

	msg = reject_one("{\"event\":\"a\",\"colour\":\"red\"}",
	    EVENT_ERR_UNKNOWN_FIELD);
	CU_ASSERT_STRING_EQUAL(msg, "unknown field \"colour\"");
	msg = reject_one("{\"event\":\"a\",\"a\\\"b\\n\":1}",
	    EVENT_ERR_UNKNOWN_FIELD);
	CU_ASSERT_STRING_EQUAL(msg, "unknown field \"a?b?\"");
	key = repeat("k", 300);
	body = body_with(key, "v", ",\"event\":\"a\"");
	msg = reject_one(body, EVENT_ERR_UNKNOWN_FIELD);
	snprintf(expect, sizeof expect, "unknown field \"%.48s...\"", key);
	CU_ASSERT_STRING_EQUAL(msg, expect);
	free(body);
	free(key);
}

static void
TEST_event_too_large(void)
{
	struct event_limits lim = { .max_event_bytes = 200, .max_events = 10 };
	struct event_batch b;
	char *pad, *body;
	size_t len;

	/* {"event":"e","data":"<pad>"} is 23 bytes plus the pad. */
	pad = repeat("x", 177);
	body = body_with("data", pad, ",\"event\":\"e\"");
	len = strlen(body);
	CU_ASSERT_EQUAL(len, 200);
	CU_ASSERT_EQUAL(parse_full(body, len, &lim, &test_source, &b),
	    EVENT_BODY_OK);
	CU_ASSERT_EQUAL(b.naccepted, 1);
	event_batch_free(&b);
	free(body);
	free(pad);

	pad = repeat("x", 178);
	body = body_with("data", pad, ",\"event\":\"e\",\"bogus\":1");
	/* Too large wins over everything else wrong with it. */
	CU_ASSERT_EQUAL(parse_full(body, strlen(body), &lim, &test_source,
	    &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL_FATAL(b.nrejected, 1);
	CU_ASSERT_EQUAL(b.rejected[0].error, EVENT_ERR_TOO_LARGE);
	CU_ASSERT_STRING_EQUAL(b.rejected[0].message,
	    "event is 211 bytes; the limit is 200");
	event_batch_free(&b);
	free(body);
	free(pad);
}

/*
 * The size of an event is that of the text json-c writes for it (compact,
 * "/" unescaped): accepted at exactly that limit, too large one byte under.
 */
static void
TEST_event_size_matches_json_c(void)
{
	static const char *const events[] = {
		"{\"event\":\"e\"}",
		"{\"event\":\"a/b \\\"q\\\" \\\\ \\n\\t\\r\\b\\f \\u0001 "
		    "\\u001f \\u007f \\u00e9 \\ud83d\\ude00\"}",
		"{\"event\":\"e\",\"data\":{\"k/\\n\":[1,-2,0,1.50,-0.0,"
		    "1e300,true,false,null,\"\\u0000\"]},\"id\":\"x\"}",
		"{\"event\":\"e\",\"timestamp\":1767261600000,"
		    "\"sent_at\":1767261605000.25,\"channel\":null}",
		"{\"event\":\"e\",\"timestamp\":-9223372036854775808}",
		"{\"event\":\"e\",\"timestamp\":9223372036854775807}",
		"{\"event\":\"e\",\"timestamp\":18446744073709551615}",
		"{\"event\":\"e\",\"timestamp\":-1,\"sent_at\":9}",
		"{\"event\":\"e\",\"data\":null,\"x\\\"y\\u0002\":{\"a\":[[]]},"
		    "\"z\":true,\"w\":2.5e-3}",
		"{\"event\":\"e\",\"data\":\"dup\",\"data\":\"dup2\"}",
		"{\"event\":\"e\",\"channel\":12345678901,\"id\":[]}",
	};
	struct event_limits lim = { .max_events = 1 };
	struct json_object *ev;
	struct event_batch b;
	size_t i, n, bad = 0;
	int tight;

	for (i = 0; i < SLUICE_ARRAY_LEN(events); i++) {
		ev = json_tokener_parse(events[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
		json_object_to_json_string_length(ev, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE, &n);
		for (tight = 0; tight < 2; tight++) {
			lim.max_event_bytes = n - (size_t)tight;
			memset(&b, 0, sizeof b);
			CU_ASSERT_EQUAL_FATAL(event_batch_from_json(ev, &lim,
			    &test_source, &b, NULL, 0), EVENT_BODY_OK);
			if ((b.nrejected == 1 &&
			    b.rejected[0].error == EVENT_ERR_TOO_LARGE) !=
			    tight) {
				fprintf(stderr, "%s: size %zu, limit %zu\n",
				    events[i], n, lim.max_event_bytes);
				bad++;
			}
			event_batch_free(&b);
		}
		json_object_put(ev);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void
TEST_mixed_valid_invalid(void)
{
	struct event_batch b;

	CU_ASSERT_EQUAL_FATAL(parse("[{\"event\":\"ok1\"},"
	    "{\"event\":\"a\",\"channel\":\"bad channel\"},"
	    "{\"event\":\"ok2\",\"channel\":\"public-x\"},"
	    "7,"
	    "{\"data\":1},"
	    "{\"event\":\"a\",\"id\":\"\"},"
	    "{\"event\":\"ok3\",\"id\":\"x-1\"}]", &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL(b.total, 7);
	CU_ASSERT_EQUAL_FATAL(b.naccepted, 3);
	CU_ASSERT_EQUAL_FATAL(b.nrejected, 4);
	CU_ASSERT_EQUAL(b.accepted[0].index, 0);
	CU_ASSERT_EQUAL(b.accepted[1].index, 2);
	CU_ASSERT_EQUAL(b.accepted[2].index, 6);
	CU_ASSERT_STRING_EQUAL(b.accepted[2].id, "x-1");
	CU_ASSERT_EQUAL(b.rejected[0].index, 1);
	CU_ASSERT_EQUAL(b.rejected[0].error, EVENT_ERR_BAD_CHANNEL);
	CU_ASSERT_EQUAL(b.rejected[1].index, 3);
	CU_ASSERT_EQUAL(b.rejected[1].error, EVENT_ERR_NOT_OBJECT);
	CU_ASSERT_EQUAL(b.rejected[2].index, 4);
	CU_ASSERT_EQUAL(b.rejected[2].error, EVENT_ERR_MISSING_EVENT);
	CU_ASSERT_EQUAL(b.rejected[3].index, 5);
	CU_ASSERT_EQUAL(b.rejected[3].error, EVENT_ERR_BAD_ID);
	event_batch_free(&b);
}

static void
TEST_envelope_exact_text(void)
{
	static const char body[] = "{\"sent_at\":\"2026-01-01T10:00:05.000Z\","
	    "\"data\":{\"x\":[1,\"a/b\",null,true,1.50]},\"id\":\"abc\","
	    "\"timestamp\":\"2026-01-01T10:00:00.000Z\",\"channel\":\"events\","
	    "\"event\":\"click\"}";
	static const char expect[] = "{\"id\":\"abc\",\"app\":\"shop\","
	    "\"channel\":\"events\",\"event\":\"click\","
	    "\"data\":{\"x\":[1,\"a/b\",null,true,1.50]},"
	    "\"received_at\":\"2026-01-01T10:00:02.000Z\","
	    "\"timestamp\":\"2026-01-01T09:59:57.000Z\","
	    "\"client_timestamp\":\"2026-01-01T10:00:00.000Z\","
	    "\"client_sent_at\":\"2026-01-01T10:00:05.000Z\","
	    "\"ip\":\"203.0.113.9\",\"user_agent\":\"Mozilla/5.0 (X11)\","
	    "\"origin\":\"https://example.com\",\"source\":\"http\"}";
	struct event_batch b;
	struct event_record rec;

	CU_ASSERT_EQUAL_FATAL(parse(body, &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL_FATAL(b.naccepted, 1);
	CU_ASSERT_EQUAL_FATAL(event_record_decode(b.accepted[0].record,
	    b.accepted[0].record_len, &rec), 0);
	CU_ASSERT_EQUAL(rec.json_len, sizeof expect - 1);
	CU_ASSERT(rec.json_len == sizeof expect - 1 &&
	    memcmp(rec.json, expect, rec.json_len) == 0);
	if (rec.json_len != sizeof expect - 1 ||
	    memcmp(rec.json, expect, rec.json_len) != 0)
		fprintf(stderr, "got %.*s\n", (int)rec.json_len, rec.json);
	event_batch_free(&b);
}

static void
TEST_data(void)
{
	char out[256];

	one_field("{\"event\":\"a\"}", "data", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "null");
	one_field("{\"event\":\"a\",\"data\":\"text \\\"q\\\" \\u00e9\"}",
	    "data", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "\"text \\\"q\\\" \xc3\xa9\"");
	one_field("{\"event\":\"a\",\"data\":[{},[],0,-1,\"\"]}", "data", out,
	    sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "[{},[],0,-1,\"\"]");
}

static void
TEST_transport_strings_escaped(void)
{
	static const char ua[] = "Evil \"agent\"\\ \x01\x1f\n\x7f"
	    "\xff\xc3(\xe2\x82 ok \xc3\xa9 \xf0\x9f\x98\x80";
	static const char ua_clean[] = "Evil \"agent\"\\ \x01\x1f\n\x7f"
	    "\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd ok \xc3\xa9 "
	    "\xf0\x9f\x98\x80";
	struct event_source src = test_source;
	struct event_batch b;
	struct event_record rec;
	struct json_object *env, *v;
	const char *s;

	src.ip = "1.2.3.4\",\"admin\":true,\"x\":\"";
	src.user_agent = ua;
	src.origin = NULL;
	src.source = "ws";
	CU_ASSERT_EQUAL_FATAL(parse_full("{\"event\":\"a\"}", 13, &test_limits,
	    &src, &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL_FATAL(b.naccepted, 1);
	env = envelope(&b, 0, &rec);
	CU_ASSERT_STRING_EQUAL(env_str(env, "ip"), src.ip);
	CU_ASSERT_FALSE(json_object_object_get_ex(env, "admin", NULL));
	CU_ASSERT_FATAL(json_object_object_get_ex(env, "user_agent", &v));
	s = json_object_get_string(v);
	CU_ASSERT_EQUAL(json_object_get_string_len(v), sizeof ua_clean - 1);
	CU_ASSERT(memcmp(s, ua_clean, sizeof ua_clean - 1) == 0);
	CU_ASSERT_PTR_NULL(env_str(env, "origin"));
	CU_ASSERT_STRING_EQUAL(env_str(env, "source"), "ws");
	/* Raw control characters never reach the text. */
	CU_ASSERT_PTR_NULL(memchr(rec.json, '\n', rec.json_len));
	CU_ASSERT_PTR_NULL(memchr(rec.json, '\x01', rec.json_len));
	json_object_put(env);
	event_batch_free(&b);
}

static void
TEST_record_round_trip(void)
{
	struct event_batch b;
	struct event_record rec;
	struct json_object *env;

	CU_ASSERT_EQUAL_FATAL(parse("{\"event\":\"caf\\u00e9\",\"channel\":"
	    "\"orders.1\",\"id\":\"r-1\",\"data\":{\"n\":1}}", &b),
	    EVENT_BODY_OK);
	CU_ASSERT_EQUAL_FATAL(b.naccepted, 1);
	env = envelope(&b, 0, &rec);
	CU_ASSERT(rec.id_len == 3 && memcmp(rec.id, "r-1", 3) == 0);
	CU_ASSERT(rec.app_len == 4 && memcmp(rec.app, "shop", 4) == 0);
	CU_ASSERT(rec.channel_len == 8 &&
	    memcmp(rec.channel, "orders.1", 8) == 0);
	CU_ASSERT(rec.event_len == 5 &&
	    memcmp(rec.event, "caf\xc3\xa9", 5) == 0);
	CU_ASSERT_EQUAL(rec.received_at_ms, RECEIVED_AT);
	CU_ASSERT_STRING_EQUAL(env_str(env, "event"), "caf\xc3\xa9");
	/* The decoded pointers point into the record. */
	CU_ASSERT(rec.json > (const char *)b.accepted[0].record &&
	    rec.json + rec.json_len ==
	    (const char *)b.accepted[0].record + b.accepted[0].record_len);
	json_object_put(env);
	event_batch_free(&b);
}

/* Decodes len bytes of buf from an exact-size copy. */
static int
decode_copy(const unsigned char *buf, size_t len, struct event_record *rec)
{
	unsigned char *copy;
	int r;

	copy = malloc(len > 0 ? len : 1);
	CU_ASSERT_FATAL(copy != NULL);
	memcpy(copy, buf, len);
	r = event_record_decode(copy, len, rec);
	/* A good decode lies wholly inside the buffer. */
	if (r == 0 && (rec->id < (char *)copy || rec->json + rec->json_len >
	    (char *)copy + len || rec->app + rec->app_len > rec->channel ||
	    rec->event + rec->event_len > rec->json))
		r = -2;
	free(copy);
	return r;
}

static void
TEST_record_fuzz(void)
{
	struct event_record in = {
		.id = "0190b7e2-8f5a-7c3b-9d1e-0123456789ab", .id_len = 36,
		.app = "shop", .app_len = 4,
		.channel = "orders.eu", .channel_len = 9,
		.event = "", .event_len = 0,
		.received_at_ms = -12345,
		.json = "{\"k\":1}", .json_len = 7,
	}, out;
	unsigned char *rec, buf[80];
	size_t len, n, i, bad = 0, ok = 0;
	unsigned seed = 99;
	int r;

	rec = event_record_encode(&in, &len, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_EQUAL(len, 2 + 2 + 36 + 2 + 4 + 2 + 9 + 2 + 0 + 8 + 4 + 7);
	CU_ASSERT_EQUAL(rec[0], 2);
	CU_ASSERT_EQUAL(rec[1], JOURNAL_RECORD_EVENT);
	CU_ASSERT_EQUAL(decode_copy(rec, len, &out), 0);
	/* The encoder's buffer is exactly len bytes: decode it in place. */
	CU_ASSERT_EQUAL_FATAL(event_record_decode(rec, len, &out), 0);
	CU_ASSERT(out.id_len == 36 && memcmp(out.id, in.id, 36) == 0);
	CU_ASSERT(out.channel_len == 9 &&
	    memcmp(out.channel, "orders.eu", 9) == 0);
	CU_ASSERT_EQUAL(out.received_at_ms, -12345);
	CU_ASSERT_EQUAL(out.event_len, 0);
	CU_ASSERT(out.json_len == 7 && memcmp(out.json, "{\"k\":1}", 7) == 0);
	/* Every truncation fails. */
	for (n = 0; n < len; n++)
		if (decode_copy(rec, n, &out) != -1)
			bad++;
	CU_ASSERT_EQUAL(bad, 0);
	/* Extra bytes, other versions and other types fail. */
	CU_ASSERT_FATAL(len < sizeof buf);
	memcpy(buf, rec, len);
	buf[len] = 0;
	CU_ASSERT_EQUAL(decode_copy(buf, len + 1, &out), -1);
	buf[0] = 3;
	CU_ASSERT_EQUAL(decode_copy(buf, len, &out), -1);
	buf[0] = 0;
	CU_ASSERT_EQUAL(decode_copy(buf, len, &out), -1);
	buf[0] = 2;
	buf[1] = JOURNAL_RECORD_EVENT + 1;
	CU_ASSERT_EQUAL(decode_copy(buf, len, &out), -1);
	CU_ASSERT_EQUAL(event_record_decode(NULL, 0, &out), -1);
	/* Every single-bit flip either fails or decodes inside the buffer. */
	for (i = 0; i < len * 8; i++) {
		memcpy(buf, rec, len);
		buf[i / 8] ^= (unsigned char)(1u << (i % 8));
		r = decode_copy(buf, len, &out);
		if (r == -2)
			bad++;
		if (r == 0)
			ok++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(ok > 0);	/* flips in the content still decode */
	/* Random bytes: small lengths so some of them decode. */
	for (i = 0; i < 200000; i++) {
		n = 0;
		seed = seed * 1103515245 + 12345;
		len = (seed >> 16) % sizeof buf;
		for (n = 0; n < len; n++) {
			seed = seed * 1103515245 + 12345;
			buf[n] = (unsigned char)((seed >> 16) % 4 == 0 ?
			    (seed >> 20) : (seed >> 20) % 5);
		}
		/* Half of them look like records of either version. */
		if (len > 1 && i % 2 == 0) {
			buf[0] = (unsigned char)(1 + i / 2 % 2);
			if (buf[0] == 2)
				buf[1] = JOURNAL_RECORD_EVENT;
		}
		if (decode_copy(buf, len, &out) == -2)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	free(rec);
}

static void
TEST_record_encode_overflow(void)
{
	struct event_record in = { .id = "x", .id_len = 70000 };
	size_t len = 0;

	CU_ASSERT_PTR_NULL(event_record_encode(&in, &len, NULL));
}

/* Counts a body's events as the parser does, whatever its shape. */
static void
TEST_body_count(void)
{
	static const struct {
		const char	*json;
		size_t		 n;
	} cases[] = {
		{ "{\"event\":\"a\"}", 1 },
		{ "[{\"event\":\"a\"},{\"event\":\"b\"},3]", 3 },
		{ "{\"batch\":[{\"event\":\"a\"},{\"event\":\"b\"}]}", 2 },
		{ "{\"batch\":[]}", 0 },
		{ "[]", 0 },
		{ "{\"batch\":{\"event\":\"a\"}}", 0 },
		{ "\"x\"", 0 },
		/* Another key next to batch: one (invalid) event. */
		{ "{\"batch\":[{},{}],\"event\":\"a\"}", 1 },
	};
	struct json_object *o;
	struct event_batch b;
	size_t i;

	CU_ASSERT_EQUAL(event_body_count(NULL), 0);
	for (i = 0; i < SLUICE_ARRAY_LEN(cases); i++) {
		o = json_tokener_parse(cases[i].json);
		CU_ASSERT_PTR_NOT_NULL_FATAL(o);
		CU_ASSERT_EQUAL(event_body_count(o), cases[i].n);
		/* The parser sees as many. */
		if (from_json(o, &b) == EVENT_BODY_OK)
			CU_ASSERT_EQUAL(b.total, cases[i].n);
		event_batch_free(&b);
		json_object_put(o);
	}
}

static void
TEST_from_json(void)
{
	struct json_object *arr, *ev, *deep, *inner;
	struct event_batch b;
	int i;

	arr = json_tokener_parse("[{\"event\":\"a\"},{\"event\":\"b\","
	    "\"channel\":\"nope\"}]");
	CU_ASSERT_PTR_NOT_NULL_FATAL(arr);
	CU_ASSERT_EQUAL(from_json(arr, &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL(b.total, 2);
	CU_ASSERT_EQUAL(b.naccepted, 1);
	CU_ASSERT_EQUAL(b.nrejected, 1);
	event_batch_free(&b);
	/* Borrowed: still ours, and still whole. */
	CU_ASSERT_EQUAL(json_object_array_length(arr), 2);
	ev = json_object_array_get_idx(arr, 0);
	CU_ASSERT_EQUAL(from_json(ev, &b), EVENT_BODY_OK);
	CU_ASSERT_EQUAL(b.total, 1);
	CU_ASSERT_EQUAL(b.naccepted, 1);
	event_batch_free(&b);
	json_object_put(arr);

	CU_ASSERT_EQUAL(from_json(NULL, &b), EVENT_BODY_BAD_SHAPE);
	ev = json_object_new_string("x");
	CU_ASSERT_EQUAL(from_json(ev, &b), EVENT_BODY_BAD_SHAPE);
	json_object_put(ev);

	/* Trees made elsewhere get the parser's rules too. */
	ev = json_object_new_object();
	json_object_object_add(ev, "event", json_object_new_string("a"));
	json_object_object_add(ev, "data", json_object_new_double(NAN));
	CU_ASSERT_EQUAL(from_json(ev, &b), EVENT_BODY_BAD_JSON);
	deep = json_object_new_array();
	inner = deep;
	for (i = 0; i < 100; i++) {
		json_object_array_add(inner, json_object_new_array());
		inner = json_object_array_get_idx(inner, 0);
	}
	json_object_object_add(ev, "data", deep);
	CU_ASSERT_EQUAL(from_json(ev, &b), EVENT_BODY_BAD_JSON);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_err, "deeper"));
	json_object_put(ev);
}

static void
TEST_error_names(void)
{
	static const char *const names[EVENT_ERR_MAX] = { "not_object",
	    "missing_event", "invalid_event_name", "invalid_channel",
	    "channel_not_allowed", "no_channel", "invalid_id",
	    "invalid_timestamp", "invalid_sent_at", "unknown_field",
	    "event_too_large", "invalid_data" };
	int i;

	for (i = 0; i < EVENT_ERR_MAX; i++)
		CU_ASSERT_STRING_EQUAL(event_error_name((enum event_error)i),
		    names[i]);
	CU_ASSERT_STRING_EQUAL(event_error_name(EVENT_ERR_MAX), "unknown");
}

void
test_event_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_single_object", TEST_single_object },
		{ "TEST_array", TEST_array },
		{ "TEST_batch", TEST_batch },
		{ "TEST_bad_shape", TEST_bad_shape },
		{ "TEST_bad_json", TEST_bad_json },
		{ "TEST_trailing_junk", TEST_trailing_junk },
		{ "TEST_not_nul_terminated", TEST_not_nul_terminated },
		{ "TEST_empty", TEST_empty },
		{ "TEST_too_many", TEST_too_many },
		{ "TEST_depth_limit", TEST_depth_limit },
		{ "TEST_non_finite_numbers", TEST_non_finite_numbers },
		{ "TEST_not_object", TEST_not_object },
		{ "TEST_missing_event", TEST_missing_event },
		{ "TEST_event_name_length", TEST_event_name_length },
		{ "TEST_event_name_rules", TEST_event_name_rules },
		{ "TEST_invalid_utf8_from_json", TEST_invalid_utf8_from_json },
		{ "TEST_data_invalid_utf8", TEST_data_invalid_utf8 },
		{ "TEST_data_path_bounded", TEST_data_path_bounded },
		{ "TEST_data_big_integers", TEST_data_big_integers },
		{ "TEST_channel_rules", TEST_channel_rules },
		{ "TEST_no_channel", TEST_no_channel },
		{ "TEST_id_given_is_kept", TEST_id_given_is_kept },
		{ "TEST_id_rules", TEST_id_rules },
		{ "TEST_id_absent_is_uuid7", TEST_id_absent_is_uuid7 },
		{ "TEST_skew_correction", TEST_skew_correction },
		{ "TEST_timestamp_only_and_none",
		    TEST_timestamp_only_and_none },
		{ "TEST_epoch_ms_numbers", TEST_epoch_ms_numbers },
		{ "TEST_bad_times", TEST_bad_times },
		{ "TEST_unknown_field", TEST_unknown_field },
		{ "TEST_event_too_large", TEST_event_too_large },
		{ "TEST_event_size_matches_json_c",
		    TEST_event_size_matches_json_c },
		{ "TEST_mixed_valid_invalid", TEST_mixed_valid_invalid },
		{ "TEST_envelope_exact_text", TEST_envelope_exact_text },
		{ "TEST_data", TEST_data },
		{ "TEST_transport_strings_escaped",
		    TEST_transport_strings_escaped },
		{ "TEST_record_round_trip", TEST_record_round_trip },
		{ "TEST_record_fuzz", TEST_record_fuzz },
		{ "TEST_record_encode_overflow", TEST_record_encode_overflow },
		{ "TEST_body_count", TEST_body_count },
		{ "TEST_from_json", TEST_from_json },
		{ "TEST_error_names", TEST_error_names },
		{ NULL, NULL }
	};

	unit_add_suite("event", tests);
}
