/*
 * test_loader_row.c: envelopes to COPY rows: a full envelope field by
 * field, missing and null fields, client times in both forms, data of
 * every shape (nested, NUL, escapes), text made safe, an envelope made by
 * sluiced's own event code, and every kind of invalid message, after which
 * the buffer is as it was. Bodies are exact-size copies without a NUL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "core/config.h"
#include "core/jsontext.h"
#include "core/sluice.h"
#include "ingest/event.h"
#include "loader/loader_row.h"

#define FFFD "\xef\xbf\xbd"

static struct loader_row_parser *parser;
static char why[200];

/* Converts len bytes of body, appending to b. */
static enum loader_row_status
convert_n(const char *body, size_t len, struct jsontext *b)
{
	enum loader_row_status rc;
	char *copy;

	if (parser == NULL)
		parser = loader_row_parser_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(parser);
	copy = malloc(len > 0 ? len : 1);
	CU_ASSERT_FATAL(copy != NULL);
	memcpy(copy, body, len);
	rc = loader_row_append(parser, copy, len, b, why, sizeof why);
	free(copy);
	return rc;
}

/* Converts body, which must be valid, and compares its row with want. */
static void
row_is(const char *body, const char *want)
{
	struct jsontext b = { 0 };

	if (convert_n(body, strlen(body), &b) != LOADER_ROW_OK)
		fprintf(stderr, "\n%s: invalid: %s\n", body, why);
	CU_ASSERT_EQUAL_FATAL(convert_n(body, strlen(body), &b),
	    LOADER_ROW_OK);
	/* Converted twice: the second row follows the first. */
	CU_ASSERT_EQUAL_FATAL(b.len % 2, 0);
	CU_ASSERT(memcmp(b.p, b.p + b.len / 2, b.len / 2) == 0);
	b.len /= 2;
	if (b.len != strlen(want) || memcmp(b.p, want, b.len) != 0)
		fprintf(stderr, "\nrow:  %.*s\nwant: %s\n", (int)b.len, b.p,
		    want);
	CU_ASSERT_EQUAL(b.len, strlen(want));
	CU_ASSERT(b.len == strlen(want) && memcmp(b.p, want, b.len) == 0);
	free(b.p);
}

/* Converts len bytes of body, which must be invalid for a reason that
 * contains part; the buffer keeps what it had. */
static void
invalid_n(const char *body, size_t len, const char *part)
{
	struct jsontext b = { 0 };

	jsontext_lit(&b, "before\n");
	CU_ASSERT_EQUAL(convert_n(body, len, &b), LOADER_ROW_INVALID);
	CU_ASSERT_EQUAL(b.len, 7);
	CU_ASSERT(memcmp(b.p, "before\n", 7) == 0);
	if (strstr(why, part) == NULL)
		fprintf(stderr, "\n%.*s: reason \"%s\" lacks \"%s\"\n",
		    (int)len, body, why, part);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, part));
	free(b.p);
}

static void
invalid(const char *body, const char *part)
{
	invalid_n(body, strlen(body), part);
}

/* The required fields, around the part of a test. */
#define REQ "\"id\":\"e1\",\"app\":\"shop\",\"channel\":\"events\"," \
	"\"event\":\"signup\",\"received_at\":\"2026-11-22T10:00:02.000Z\"," \
	"\"timestamp\":\"2026-11-22T10:00:01.500Z\""
#define REQ_ROW_HEAD "shop\te1\tevents\tsignup\t"
#define REQ_ROW_TIMES "2026-11-22T10:00:01.500Z\t2026-11-22T10:00:02.000Z"
/* A row with only the required fields and data d. */
#define MIN_ROW(d) REQ_ROW_HEAD d "\t" REQ_ROW_TIMES \
	"\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n"

static void
TEST_full_envelope(void)
{
	row_is("{\"id\":\"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\","
	    "\"app\":\"shop\",\"channel\":\"game-1\",\"event\":\"score\","
	    "\"data\":{\"points\":12,\"tags\":[\"a\",\"b\"]},"
	    "\"received_at\":\"2026-11-22T10:00:02.000Z\","
	    "\"timestamp\":\"2026-11-22T10:00:01.250Z\","
	    "\"client_timestamp\":\"2026-11-22T11:00:00.000+01:00\","
	    "\"client_sent_at\":1795341600750,"
	    "\"ip\":\"203.0.113.9\",\"user_agent\":\"Mozilla/5.0 (X11)\","
	    "\"origin\":\"https://example.com\",\"source\":\"http\"}",
	    "shop\t0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\tgame-1\tscore\t"
	    "{\"points\":12,\"tags\":[\"a\",\"b\"]}\t"
	    "2026-11-22T10:00:01.250Z\t2026-11-22T10:00:02.000Z\t"
	    "2026-11-22T10:00:00.000Z\t2026-11-22T10:00:00.750Z\t"
	    "203.0.113.9\tMozilla/5.0 (X11)\thttps://example.com\thttp\n");
}

static void
TEST_missing_and_null(void)
{
	row_is("{" REQ "}", MIN_ROW("\\N"));
	row_is("{" REQ ",\"data\":null,\"client_timestamp\":null,"
	    "\"client_sent_at\":null,\"ip\":null,\"user_agent\":null,"
	    "\"origin\":null,\"source\":null}", MIN_ROW("\\N"));
	/* White space around the object is fine. */
	row_is(" \n{" REQ "}\r\n\t ", MIN_ROW("\\N"));
	/* Keys the loader does not know are ignored. */
	row_is("{\"later\":[1,2]," REQ ",\"x\":{}}", MIN_ROW("\\N"));
}

static void
TEST_client_times(void)
{
	/* Epoch ms, as a number with a fraction, and ISO with offsets. */
	row_is("{" REQ ",\"client_timestamp\":0,\"client_sent_at\":"
	    "253402300799999}", REQ_ROW_HEAD "\\N\t" REQ_ROW_TIMES
	    "\t1970-01-01T00:00:00.000Z\t9999-12-31T23:59:59.999Z"
	    "\t\\N\t\\N\t\\N\t\\N\n");
	row_is("{" REQ ",\"client_timestamp\":1767261602123.9,"
	    "\"client_sent_at\":\"2026-01-01T05:30:00-04:30\"}",
	    REQ_ROW_HEAD "\\N\t" REQ_ROW_TIMES
	    "\t2026-01-01T10:00:02.123Z\t2026-01-01T10:00:00.000Z"
	    "\t\\N\t\\N\t\\N\t\\N\n");
	invalid("{" REQ ",\"client_timestamp\":-1}", "client_timestamp");
	invalid("{" REQ ",\"client_timestamp\":253402300800000}",
	    "client_timestamp");
	invalid("{" REQ ",\"client_sent_at\":\"yesterday\"}",
	    "client_sent_at");
	invalid("{" REQ ",\"client_sent_at\":\"2026-01-01T10:00:00\"}",
	    "client_sent_at");
	invalid("{" REQ ",\"client_sent_at\":true}", "client_sent_at");
	invalid("{" REQ ",\"client_timestamp\":[1]}", "client_timestamp");
}

static void
TEST_data_shapes(void)
{
	row_is("{" REQ ",\"data\":\"text\"}", MIN_ROW("\"text\""));
	row_is("{" REQ ",\"data\":42}", MIN_ROW("42"));
	row_is("{" REQ ",\"data\":[]}", MIN_ROW("[]"));
	row_is("{" REQ ",\"data\":false}", MIN_ROW("false"));
	row_is("{" REQ ",\"data\":{\"a\":{\"b\":{\"c\":[1,[2,[3,{\"d\":null}"
	    "]]]}}}}", MIN_ROW("{\"a\":{\"b\":{\"c\":[1,[2,[3,{\"d\":null}]]]"
	    "}}}"));
	/* Data is the very JSON text that came, numbers and all. */
	row_is("{" REQ ",\"data\":[1.50,1e999,-0,123456789012345678901]}",
	    MIN_ROW("[1.50,1e999,-0,123456789012345678901]"));
	row_is("{" REQ ",\"data\" : { \"a\" : [ 1 , 2 ] } }",
	    MIN_ROW("{ \"a\" : [ 1 , 2 ] }"));
}

static void
TEST_data_escapes(void)
{
	/* Tabs, newlines, backslashes and quotes in data: JSON escapes, then
	 * COPY's escapes of their backslashes. */
	row_is("{" REQ ",\"data\":{\"s\":\"a\\tb\\nc\\\\d\\\"e\"}}",
	    MIN_ROW("{\"s\":\"a\\\\tb\\\\nc\\\\\\\\d\\\\\"e\"}"));
	/* NUL: jsonb cannot hold it, in a value or in a name. */
	row_is("{" REQ ",\"data\":{\"s\":\"x\\u0000y\",\"k\\u0000\":1}}",
	    MIN_ROW("{\"s\":\"x\\\\ufffdy\",\"k\\\\ufffd\":1}"));
	/* Characters beyond ASCII, escaped or not, stay as they came. */
	row_is("{" REQ ",\"data\":\"\\u00e9\xc3\xa9\\ud83d\\ude00\"}",
	    MIN_ROW("\"\\\\u00e9\xc3\xa9\\\\ud83d\\\\ude00\""));
	/* An unpaired surrogate, which jsonb refuses. */
	row_is("{" REQ ",\"data\":\"\\ud83dx\"}",
	    MIN_ROW("\"\\\\ufffdx\""));
	/* Invalid UTF-8 inside data. */
	row_is("{" REQ ",\"data\":[\"\xff\"]}", MIN_ROW("[\"" FFFD "\"]"));
}

static void
TEST_text_fields(void)
{
	row_is("{" REQ ",\"user_agent\":\"a\\tb\\nc\\\\d\",\"origin\":"
	    "\"x\\u0000y\",\"source\":\"\xe2\x82\"}",
	    REQ_ROW_HEAD "\\N\t" REQ_ROW_TIMES "\t\\N\t\\N\t\\N\t"
	    "a\\tb\\nc\\\\d\tx" FFFD "y\t" FFFD FFFD "\n");
	/* Required strings may hold tabs (escaped), not NUL. */
	row_is("{\"id\":\"i\\\\d\",\"app\":\"a\\tb\",\"channel\":\"c\","
	    "\"event\":\"e\\nf\",\"received_at\":\"2026-11-22T10:00:02Z\","
	    "\"timestamp\":\"2026-11-22 10:00:02+00:00\"}",
	    "a\\tb\ti\\\\d\tc\te\\nf\t\\N\t2026-11-22T10:00:02.000Z\t"
	    "2026-11-22T10:00:02.000Z\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n");
}

static void
TEST_ip(void)
{
	row_is("{" REQ ",\"ip\":\"2001:db8::1\"}", REQ_ROW_HEAD "\\N\t"
	    REQ_ROW_TIMES "\t\\N\t\\N\t2001:db8::1\t\\N\t\\N\t\\N\n");
	row_is("{" REQ ",\"ip\":\"::ffff:192.0.2.1\"}", REQ_ROW_HEAD "\\N\t"
	    REQ_ROW_TIMES "\t\\N\t\\N\t::ffff:192.0.2.1\t\\N\t\\N\t\\N\n");
	/* Not an address: NULL, the event is kept. */
	row_is("{" REQ ",\"ip\":\"fe80::1%eth0\"}", MIN_ROW("\\N"));
	row_is("{" REQ ",\"ip\":\"999.1.1.1\"}", MIN_ROW("\\N"));
	row_is("{" REQ ",\"ip\":\"1.2.3.4\\u0000\"}", MIN_ROW("\\N"));
	invalid("{" REQ ",\"ip\":7}", "ip");
}

static void
TEST_not_json(void)
{
	invalid("", "empty");
	invalid("not json", "not JSON");
	invalid("{\"id\":", "not JSON");
	invalid("{" REQ "} trailing", "not JSON");
	invalid("{" REQ "}{}", "not JSON at offset 140: text after the "
	    "object");
	/* A raw control character in a string: jsonb would refuse it. */
	invalid("{" REQ ",\"data\":\"a\tb\"}", "control character");
	invalid("{" REQ ",}", "not JSON");
	invalid("{\"id\":\"e1\" \"app\":\"x\"}", "not JSON");
	invalid("[1,2]", "not a JSON object");
	invalid("\"string\"", "not a JSON object");
	invalid("null", "not a JSON object");
	invalid_n("{\"id\":\"a\"}\0", 11, "not JSON");
}

static void
TEST_too_deep(void)
{
	char body[600];
	size_t i, n = 0;

	n += (size_t)snprintf(body, sizeof body, "{" REQ ",\"data\":");
	for (i = 0; i < 200; i++)
		body[n++] = '[';
	for (i = 0; i < 200; i++)
		body[n++] = ']';
	body[n++] = '}';
	invalid_n(body, n, "not JSON");
}

static void
TEST_required_fields(void)
{
	invalid("{\"app\":\"a\",\"channel\":\"c\",\"event\":\"e\","
	    "\"received_at\":\"2026-11-22T10:00:02Z\","
	    "\"timestamp\":\"2026-11-22T10:00:02Z\"}", "id: missing or null");
	invalid("{\"id\":\"i\",\"channel\":\"c\",\"event\":\"e\","
	    "\"received_at\":\"2026-11-22T10:00:02Z\","
	    "\"timestamp\":\"2026-11-22T10:00:02Z\"}", "app: missing or null");
	invalid("{\"id\":\"i\",\"app\":\"a\",\"event\":\"e\","
	    "\"received_at\":\"2026-11-22T10:00:02Z\","
	    "\"timestamp\":\"2026-11-22T10:00:02Z\"}", "channel: missing or null");
	invalid("{\"id\":\"i\",\"app\":\"a\",\"channel\":\"c\","
	    "\"received_at\":\"2026-11-22T10:00:02Z\","
	    "\"timestamp\":\"2026-11-22T10:00:02Z\"}", "event: missing or null");
	invalid("{\"id\":\"i\",\"app\":\"a\",\"channel\":\"c\",\"event\":\"e\","
	    "\"timestamp\":\"2026-11-22T10:00:02Z\"}", "received_at: missing or null");
	invalid("{\"id\":\"i\",\"app\":\"a\",\"channel\":\"c\",\"event\":\"e\","
	    "\"received_at\":\"2026-11-22T10:00:02Z\"}", "timestamp: missing or null");
	invalid("{\"id\":null,\"app\":\"a\",\"channel\":\"c\",\"event\":\"e\","
	    "\"received_at\":\"2026-11-22T10:00:02Z\","
	    "\"timestamp\":\"2026-11-22T10:00:02Z\"}", "id: missing or null");
	invalid("{" REQ ",\"app\":7}", "app: must be a string");
	invalid("{" REQ ",\"event\":\"\"}", "event: must be 1 to");
	invalid("{" REQ ",\"timestamp\":1767261602000}", "timestamp");
	invalid("{" REQ ",\"received_at\":\"2026-13-01T00:00:00Z\"}",
	    "received_at");
	invalid("{" REQ ",\"user_agent\":12}", "user_agent");
	invalid("{" REQ ",\"source\":{}}", "source");
}

static void
TEST_id_rules(void)
{
	char body[800];
	char id[300];

	memset(id, 'x', 255);
	id[255] = '\0';
	snprintf(body, sizeof body, "{" REQ ",\"id\":\"%s\"}", id);
	{
		struct jsontext b = { 0 };

		CU_ASSERT_EQUAL(convert_n(body, strlen(body), &b),
		    LOADER_ROW_OK);
		CU_ASSERT_PTR_NOT_NULL(b.p != NULL ? strstr(b.p, id) : NULL);
		free(b.p);
	}
	id[255] = 'x';
	id[256] = '\0';
	snprintf(body, sizeof body, "{" REQ ",\"id\":\"%s\"}", id);
	invalid(body, "id: must be 1 to 255 bytes");
	invalid("{" REQ ",\"id\":\"\"}", "id: must be 1 to 255 bytes");
	invalid("{" REQ ",\"id\":\"a\\u0000b\"}", "id: not valid UTF-8");
	invalid("{" REQ ",\"id\":\"a\xff\"}", "id: not valid UTF-8");
	invalid("{" REQ ",\"channel\":\"\xc3\"}", "channel: not valid UTF-8");
}

/* The loader reads what sluiced's own event code writes. */
static void
TEST_sluiced_envelope(void)
{
	static char app_id[] = "shop", chan[] = "events";
	static char *patterns[] = { chan };
	static struct config_app app = {
		.id = app_id,
		.default_channel = chan,
		.publish_channels = { patterns, 1 },
	};
	static const struct event_limits lim = { 65536, 500 };
	const struct event_source src = {
		.app = &app, .source = "http", .ip = "203.0.113.9",
		.user_agent = "UA\twith tab", .origin = NULL,
		.received_at_ms = INT64_C(1767261602000),
	};
	static const char body[] = "{\"event\":\"signup\",\"id\":\"e-42\","
	    "\"data\":{\"plan\":\"pro\",\"s\":\"\\u0000\"},"
	    "\"timestamp\":1767261601000,\"sent_at\":1767261601500}";
	struct event_batch batch;
	struct event_record rec;
	struct jsontext b = { 0 };
	char err[160];

	memset(&batch, 0, sizeof batch);
	CU_ASSERT_EQUAL_FATAL(event_batch_parse(body, strlen(body), &lim, &src,
	    &batch, err, sizeof err), EVENT_BODY_OK);
	CU_ASSERT_EQUAL_FATAL(batch.naccepted, 1);
	CU_ASSERT_EQUAL_FATAL(event_record_decode(batch.accepted[0].record,
	    batch.accepted[0].record_len, &rec), 0);
	CU_ASSERT_EQUAL(convert_n(rec.json, rec.json_len, &b), LOADER_ROW_OK);
	jsontext_put(&b, "", 1);
	CU_ASSERT_FATAL(!b.failed);
	if (strcmp(b.p, "shop\te-42\tevents\tsignup\t{\"plan\":\"pro\","
	    "\"s\":\"\\\\ufffd\"}\t2026-01-01T10:00:01.500Z\t"
	    "2026-01-01T10:00:02.000Z\t2026-01-01T10:00:01.000Z\t"
	    "2026-01-01T10:00:01.500Z\t203.0.113.9\tUA\\twith tab\t\\N\t"
	    "http\n") != 0)
		fprintf(stderr, "\nrow of sluiced's envelope: %s\n", b.p);
	CU_ASSERT_STRING_EQUAL(b.p, "shop\te-42\tevents\tsignup\t{\"plan\":"
	    "\"pro\",\"s\":\"\\\\ufffd\"}\t2026-01-01T10:00:01.500Z\t"
	    "2026-01-01T10:00:02.000Z\t2026-01-01T10:00:01.000Z\t"
	    "2026-01-01T10:00:01.500Z\t203.0.113.9\tUA\\twith tab\t\\N\t"
	    "http\n");
	free(b.p);
	event_batch_free(&batch);
}

/*
 * Random edits of a valid envelope: each is either refused or makes one
 * well-formed row: 13 fields (12 tabs), one newline at its end, no NUL,
 * valid UTF-8.
 */
static void
TEST_mutations(void)
{
	static const char base[] = "{\"id\":\"m-1\",\"app\":\"shop\","
	    "\"channel\":\"events\",\"event\":\"e\\tf\",\"data\":{\"a\":"
	    "[1,2.5,\"x\\u0000\\ud83d\\ude00\"],\"b\":{\"c\":null}},"
	    "\"received_at\":\"2026-11-22T10:00:02.000Z\",\"timestamp\":"
	    "\"2026-11-22T10:00:01.500Z\",\"client_timestamp\":1767261601000,"
	    "\"ip\":\"::1\",\"user_agent\":\"ua\",\"origin\":null,"
	    "\"source\":\"http\"}";
	static const char pool[] = "{}[]\",:\\ \t\n0123456789-+.eEtrufalsn"
	    "\x00\x80\xc3\xa9\xff";
	struct jsontext b = { 0 };
	char text[sizeof base + 8];
	unsigned seed = 7;
	size_t round, n, i, k, tabs, ok = 0;
	enum loader_row_status rc;
	uint32_t cp;

	for (round = 0; round < 20000; round++) {
		memcpy(text, base, sizeof base - 1);
		n = sizeof base - 1;
		for (k = 0; k < 1 + round % 3; k++) {
			seed = seed * 1103515245 + 12345;
			i = (seed >> 16) % n;
			seed = seed * 1103515245 + 12345;
			switch ((seed >> 16) % 3) {
			case 0:		/* replace a byte */
				text[i] = pool[(seed >> 20) % (sizeof pool -
				    1)];
				break;
			case 1:		/* drop a byte */
				memmove(text + i, text + i + 1, n - i - 1);
				n--;
				break;
			default:	/* insert a byte */
				if (n + 1 >= sizeof text)
					break;
				memmove(text + i + 1, text + i, n - i);
				text[i] = pool[(seed >> 20) % (sizeof pool -
				    1)];
				n++;
				break;
			}
		}
		b.len = 0;
		rc = convert_n(text, n, &b);
		CU_ASSERT_FATAL(rc == LOADER_ROW_OK || rc ==
		    LOADER_ROW_INVALID);
		if (rc != LOADER_ROW_OK) {
			CU_ASSERT_FATAL(b.len == 0 && why[0] != '\0');
			continue;
		}
		ok++;
		CU_ASSERT_FATAL(b.len > 0 && b.p[b.len - 1] == '\n');
		for (i = 0, tabs = 0; i < b.len - 1; i++) {
			CU_ASSERT_FATAL(b.p[i] != '\n' && b.p[i] != '\r' &&
			    b.p[i] != '\0');
			tabs += b.p[i] == '\t';
		}
		CU_ASSERT_EQUAL_FATAL(tabs, LOADER_ROW_NCOLUMNS - 1);
		for (i = 0; i < b.len; )
			CU_ASSERT_FATAL(jsontext_utf8_next(
			    (const unsigned char *)b.p, b.len, &i, &cp) == 0);
	}
	/* Both outcomes came up many times. */
	CU_ASSERT(ok > 1000 && ok < 19000);
	free(b.p);
}

static void
TEST_cleanup(void)
{
	loader_row_parser_free(parser);
	parser = NULL;
	loader_row_parser_free(NULL);
}

void
test_loader_row_register(void)
{
	static const struct unit_test tests[] = {
		{ "full_envelope", TEST_full_envelope },
		{ "missing_and_null", TEST_missing_and_null },
		{ "client_times", TEST_client_times },
		{ "data_shapes", TEST_data_shapes },
		{ "data_escapes", TEST_data_escapes },
		{ "text_fields", TEST_text_fields },
		{ "ip", TEST_ip },
		{ "not_json", TEST_not_json },
		{ "too_deep", TEST_too_deep },
		{ "required_fields", TEST_required_fields },
		{ "id_rules", TEST_id_rules },
		{ "sluiced_envelope", TEST_sluiced_envelope },
		{ "mutations", TEST_mutations },
		{ "cleanup", TEST_cleanup },
		{ NULL, NULL }
	};

	unit_add_suite("loader_row", tests);
}
