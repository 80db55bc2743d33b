/*
 * test_record.c: the journal record format: the version-2 header (version,
 * type), the type peek, records of a type this build does not know, and a
 * version-1 record (as journals written before the type byte hold them),
 * built byte by byte, decoding as an event. (Encoding and decoding events
 * against bad input is in test_event.c.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "journal/record.h"

/* Appends a big-endian integer of bytes bytes at *p. */
static void
put_be(unsigned char **p, uint64_t v, int bytes)
{
	while (bytes-- > 0)
		*(*p)++ = (unsigned char)(v >> (8 * bytes));
}

/* Appends a u16-length-prefixed string at *p. */
static void
put_str(unsigned char **p, const char *s)
{
	size_t n = strlen(s);

	put_be(p, n, 2);
	memcpy(*p, s, n);
	*p += n;
}

static void
TEST_v1_record_decodes_as_event(void)
{
	static const char json[] = "{\"id\":\"e-1\",\"event\":\"click\"}";
	unsigned char buf[256], *p = buf;
	struct event_record rec;
	size_t len;

	/* As the version-1 encoder wrote it: no type byte. */
	*p++ = 1;
	put_str(&p, "e-1");
	put_str(&p, "shop");
	put_str(&p, "orders.eu");
	put_str(&p, "click");
	put_be(&p, (uint64_t)INT64_C(1700000000123), 8);
	put_be(&p, sizeof json - 1, 4);
	memcpy(p, json, sizeof json - 1);
	p += sizeof json - 1;
	len = (size_t)(p - buf);

	CU_ASSERT_EQUAL(journal_record_type(buf, len), JOURNAL_RECORD_EVENT);
	CU_ASSERT_EQUAL_FATAL(event_record_decode(buf, len, &rec), 0);
	CU_ASSERT(rec.id_len == 3 && memcmp(rec.id, "e-1", 3) == 0);
	CU_ASSERT(rec.app_len == 4 && memcmp(rec.app, "shop", 4) == 0);
	CU_ASSERT(rec.channel_len == 9 &&
	    memcmp(rec.channel, "orders.eu", 9) == 0);
	CU_ASSERT(rec.event_len == 5 && memcmp(rec.event, "click", 5) == 0);
	CU_ASSERT_EQUAL(rec.received_at_ms, INT64_C(1700000000123));
	CU_ASSERT(rec.json_len == sizeof json - 1 &&
	    memcmp(rec.json, json, sizeof json - 1) == 0);
	/* Still exact: one byte short or one too many fails. */
	CU_ASSERT_EQUAL(event_record_decode(buf, len - 1, &rec), -1);
	buf[len] = 0;
	CU_ASSERT_EQUAL(event_record_decode(buf, len + 1, &rec), -1);
}

static void
TEST_v2_is_v1_with_a_type_byte(void)
{
	struct event_record in = {
		.id = "e-2", .id_len = 3,
		.app = "web", .app_len = 3,
		.channel = "events", .channel_len = 6,
		.event = "view", .event_len = 4,
		.received_at_ms = 42,
		.json = "{}", .json_len = 2,
	}, out;
	unsigned char *v2, *v1;
	size_t len;

	v2 = event_record_encode(&in, &len, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v2);
	CU_ASSERT_EQUAL(v2[0], 2);
	CU_ASSERT_EQUAL(v2[1], JOURNAL_RECORD_EVENT);
	CU_ASSERT_EQUAL(journal_record_type(v2, len), JOURNAL_RECORD_EVENT);
	/* The same body behind a version-1 header decodes the same. */
	v1 = malloc(len - 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v1);
	v1[0] = 1;
	memcpy(v1 + 1, v2 + 2, len - 2);
	CU_ASSERT_EQUAL_FATAL(event_record_decode(v1, len - 1, &out), 0);
	CU_ASSERT(out.id_len == 3 && memcmp(out.id, "e-2", 3) == 0);
	CU_ASSERT(out.channel_len == 6 && memcmp(out.channel, "events", 6) == 0);
	CU_ASSERT_EQUAL(out.received_at_ms, 42);
	CU_ASSERT(out.json_len == 2 && memcmp(out.json, "{}", 2) == 0);
	free(v1);
	free(v2);
}

static void
TEST_type_peek(void)
{
	unsigned char b[4] = { 0 };

	CU_ASSERT_EQUAL(journal_record_type(NULL, 0), -1);
	CU_ASSERT_EQUAL(journal_record_type(b, 0), -1);
	b[0] = 0;
	CU_ASSERT_EQUAL(journal_record_type(b, 4), -1);
	b[0] = 3;
	CU_ASSERT_EQUAL(journal_record_type(b, 4), -1);
	b[0] = 255;
	CU_ASSERT_EQUAL(journal_record_type(b, 4), -1);
	/* Version 2 without its type byte is no record. */
	b[0] = 2;
	CU_ASSERT_EQUAL(journal_record_type(b, 1), -1);
	/* A version-1 record is an event, whatever follows. */
	b[0] = 1;
	CU_ASSERT_EQUAL(journal_record_type(b, 1), JOURNAL_RECORD_EVENT);
	CU_ASSERT_EQUAL(journal_record_type(b, 4), JOURNAL_RECORD_EVENT);
	/* Version 2 says its type, known or not. */
	b[0] = 2;
	b[1] = JOURNAL_RECORD_EVENT;
	CU_ASSERT_EQUAL(journal_record_type(b, 2), JOURNAL_RECORD_EVENT);
	b[1] = 0;
	CU_ASSERT_EQUAL(journal_record_type(b, 2), 0);
	b[1] = 200;
	CU_ASSERT_EQUAL(journal_record_type(b, 4), 200);
	CU_ASSERT_STRING_EQUAL(journal_record_type_str(JOURNAL_RECORD_EVENT),
	    "event");
	CU_ASSERT_STRING_EQUAL(journal_record_type_str(200), "unknown");
	CU_ASSERT_STRING_EQUAL(journal_record_type_str(-1), "unknown");
}

static void
TEST_unknown_type_is_no_event(void)
{
	struct event_record in = {
		.id = "e-3", .id_len = 3, .app = "web", .app_len = 3,
		.json = "{}", .json_len = 2,
	}, out;
	unsigned char *rec;
	size_t len;

	rec = event_record_encode(&in, &len, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	/* An event's body under another type: not decoded as an event. */
	rec[1] = JOURNAL_RECORD_EVENT + 1;
	CU_ASSERT_EQUAL(journal_record_type(rec, len),
	    JOURNAL_RECORD_EVENT + 1);
	CU_ASSERT_EQUAL(event_record_decode(rec, len, &out), -1);
	free(rec);
}

/* The view encode gives points where decode finds each field. */
static void
TEST_encode_view(void)
{
	struct event_record in = {
		.id = "id-1", .id_len = 4,
		.app = "shop", .app_len = 4,
		.channel = "orders", .channel_len = 6,
		.event = "paid", .event_len = 4,
		.received_at_ms = 7,
		.json = "{\"n\":1}", .json_len = 7,
	}, view, out;
	unsigned char *buf;
	size_t len;

	buf = event_record_encode(&in, &len, &view);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	CU_ASSERT_EQUAL_FATAL(event_record_decode(buf, len, &out), 0);
	CU_ASSERT_PTR_EQUAL(view.id, out.id);
	CU_ASSERT_PTR_EQUAL(view.app, out.app);
	CU_ASSERT_PTR_EQUAL(view.channel, out.channel);
	CU_ASSERT_PTR_EQUAL(view.event, out.event);
	CU_ASSERT_PTR_EQUAL(view.json, out.json);
	CU_ASSERT_EQUAL(view.channel_len, 6);
	CU_ASSERT_EQUAL(view.json_len, 7);
	CU_ASSERT_EQUAL(view.received_at_ms, 7);
	CU_ASSERT(memcmp(view.json, "{\"n\":1}", 7) == 0);
	free(buf);
}

void
test_record_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_v1_record_decodes_as_event",
		    TEST_v1_record_decodes_as_event },
		{ "TEST_v2_is_v1_with_a_type_byte",
		    TEST_v2_is_v1_with_a_type_byte },
		{ "TEST_type_peek", TEST_type_peek },
		{ "TEST_unknown_type_is_no_event",
		    TEST_unknown_type_is_no_event },
		{ "TEST_encode_view", TEST_encode_view },
		{ NULL, NULL }
	};

	unit_add_suite("record", tests);
}
