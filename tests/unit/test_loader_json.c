/*
 * test_loader_json.c: the envelope scanner: valid JSON of every kind taken
 * and invalid JSON refused with its offset, the members found (the last
 * of a repeated name, nested ones not), the depth limit, and strings
 * unescaped (pairs joined, lone surrogates replaced, \u0000 kept as a
 * byte). Texts are exact-size copies without a NUL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "core/jsontext.h"
#include "core/sluice.h"
#include "loader/loader_json.h"

static const char *const names[] = { "a", "b", "data" };
static struct loader_json_value vals[3];
static char why[200];

/* Scans len bytes of text with depth levels; returns what it returned. */
static int
scan_n(const char *text, size_t len, int depth)
{
	char *copy;
	int rc;

	copy = malloc(len > 0 ? len : 1);
	CU_ASSERT_FATAL(copy != NULL);
	memcpy(copy, text, len);
	why[0] = '\0';
	rc = loader_json_members(copy, len, depth, names, 3, vals, why,
	    sizeof why);
	/* The slices point into the copy: keep only the types. */
	free(copy);
	return rc;
}

static int
scan(const char *text)
{
	return scan_n(text, strlen(text), 16);
}

static void
valid(const char *text)
{
	if (scan(text) != 0)
		fprintf(stderr, "\n%s: refused: %s\n", text, why);
	CU_ASSERT_EQUAL(scan(text), 0);
}

static void
invalid(const char *text, const char *part)
{
	CU_ASSERT_EQUAL(scan(text), -1);
	if (strstr(why, part) == NULL)
		fprintf(stderr, "\n%s: \"%s\" lacks \"%s\"\n", text, why, part);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, part));
}

static void
TEST_valid(void)
{
	valid("{}");
	valid(" \t\r\n{ } \n");
	valid("{\"a\":1}");
	valid("{\"x\":[],\"y\":{},\"z\":[[],{}],\"w\":[1,-2,0,-0,3.25,"
	    "1e5,1E+5,2.5e-3,12345678901234567890123]}");
	valid("{\"x\":[true,false,null,\"s\"]}");
	valid("{\"x\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\uD83D\\uDE00\"}");
	valid("{\"x\":\"raw \xc3\xa9 and \xff bytes\"}");
	valid("{ \"a\" : { \"b\" : [ 1 , 2 ] } , \"b\" : \"c\" }");
	valid("{\"\":0,\"\\u0000\":1}");
}

static void
TEST_invalid(void)
{
	invalid("", "not JSON at offset 0: no value");
	invalid("   ", "no value");
	invalid("{", "not JSON at offset 1:");
	invalid("{\"a\"", "expected ':'");
	invalid("{\"a\":}", "unexpected character");
	invalid("{\"a\":1,}", "expected a member name");
	invalid("{\"a\":1 \"b\":2}", "expected ',' or '}'");
	invalid("{a:1}", "expected a member name");
	invalid("{'a':1}", "expected a member name");
	invalid("{\"a\":[1,]}", "unexpected character");
	invalid("{\"a\":[1 2]}", "expected ',' or ']'");
	invalid("{\"a\":{\"b\":1]}", "expected ',' or '}'");
	invalid("{\"a\":01}", "expected ',' or '}'");
	invalid("{\"a\":1.}", "bad number");
	invalid("{\"a\":.5}", "unexpected character");
	invalid("{\"a\":1e}", "bad number");
	invalid("{\"a\":-}", "bad number");
	invalid("{\"a\":+1}", "unexpected character");
	invalid("{\"a\":NaN}", "unexpected character");
	invalid("{\"a\":Infinity}", "unexpected character");
	invalid("{\"a\":tru}", "unexpected character");
	invalid("{\"a\":nul}", "unexpected character");
	invalid("{\"a\":\"x}", "a string does not end");
	invalid("{\"a\":\"x\\", "a string does not end");
	invalid("{\"a\":\"\\x\"}", "a bad escape");
	invalid("{\"a\":\"\\u12\"}", "a bad \\u escape");
	invalid("{\"a\":\"\\u12G4\"}", "a bad \\u escape");
	invalid("{\"a\":\"tab\there\"}", "a control character");
	invalid("{\"a\":\"nl\nhere\"}", "a control character");
	invalid("{}{}", "text after the object");
	invalid("{} x", "not JSON at offset 3: text after the object");
	invalid("[1]", "not a JSON object");
	invalid("\"s\"", "not a JSON object");
	invalid("null", "not a JSON object");
	invalid("12", "not a JSON object");
	invalid("[1] x", "text after the value");
	invalid("[1", "the text ends early");
}

static void
TEST_nul_in_text(void)
{
	CU_ASSERT_EQUAL(scan_n("{\"a\":1}\0", 8, 16), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "offset 7: text after"));
	CU_ASSERT_EQUAL(scan_n("{\"a\":\"x\0y\"}", 11, 16), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "control character"));
}

static void
TEST_depth(void)
{
	char text[600];
	size_t n, i, k;

	for (k = 1; k <= 20; k++) {
		n = (size_t)snprintf(text, sizeof text, "{\"a\":");
		/* Objects and arrays by turns, 1 inside. */
		for (i = 0; i < k; i++) {
			if (i % 2)
				text[n++] = '[';
			else
				n += (size_t)snprintf(text + n, sizeof text - n,
				    "{\"k\":");
		}
		text[n++] = '1';
		for (i = k; i > 0; i--)
			text[n++] = (i - 1) % 2 ? ']' : '}';
		text[n++] = '}';
		/* The outer object and k more levels. */
		CU_ASSERT_EQUAL(scan_n(text, n, (int)k + 1), 0);
		CU_ASSERT_EQUAL(scan_n(text, n, (int)k), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "nested too deep"));
	}
	CU_ASSERT_EQUAL(scan_n("{}", 2, 0), -1);
	CU_ASSERT_EQUAL(scan_n("{}", 2, 1), 0);
	CU_ASSERT_EQUAL(scan_n("{\"a\":[]}", 8, 1), -1);
}

static void
TEST_members(void)
{
	static const char text[] = "{\"b\":\"two\",\"x\":{\"a\":\"inner\"},"
	    "\"data\" : [1, {\"a\":2}] ,\"a\":null,\"a\":-1.5e3,\"\\u0062\":3}";

	CU_ASSERT_EQUAL_FATAL(loader_json_members(text, sizeof text - 1, 16,
	    names, 3, vals, why, sizeof why), 0);
	/* The last "a" at the top level; not the nested one. */
	CU_ASSERT_EQUAL(vals[0].type, LOADER_JSON_NUMBER);
	CU_ASSERT_EQUAL(vals[0].len, 6);
	CU_ASSERT(memcmp(vals[0].text, "-1.5e3", 6) == 0);
	/* "\u0062" is not matched as "b". */
	CU_ASSERT_EQUAL(vals[1].type, LOADER_JSON_STRING);
	CU_ASSERT_EQUAL(vals[1].len, 5);
	CU_ASSERT(memcmp(vals[1].text, "\"two\"", 5) == 0);
	CU_ASSERT_EQUAL(vals[2].type, LOADER_JSON_ARRAY);
	CU_ASSERT_EQUAL_FATAL(vals[2].len, 12);
	CU_ASSERT(memcmp(vals[2].text, "[1, {\"a\":2}]", 12) == 0);

	CU_ASSERT_EQUAL_FATAL(loader_json_members("{\"x\":1}", 7, 16, names,
	    3, vals, why, sizeof why), 0);
	CU_ASSERT_EQUAL(vals[0].type, LOADER_JSON_NONE);
	CU_ASSERT_EQUAL(vals[1].type, LOADER_JSON_NONE);
	CU_ASSERT_EQUAL(vals[2].type, LOADER_JSON_NONE);
	CU_ASSERT_EQUAL_FATAL(loader_json_members("{\"a\":true,\"b\":false,"
	    "\"data\":{}}", 30, 16, names, 3, vals, why, sizeof why), 0);
	CU_ASSERT_EQUAL(vals[0].type, LOADER_JSON_TRUE);
	CU_ASSERT_EQUAL(vals[1].type, LOADER_JSON_FALSE);
	CU_ASSERT_EQUAL(vals[2].type, LOADER_JSON_OBJECT);
}

/* Unescapes the JSON string text; compares with want (n bytes). */
static void
unescaped(const char *text, const char *want, size_t n)
{
	struct loader_json_value v = { LOADER_JSON_STRING, text, strlen(text) };
	struct jsontext out = { 0 };

	jsontext_lit(&out, "<");
	loader_json_unescape(&v, &out);
	CU_ASSERT_FALSE(out.failed);
	CU_ASSERT_EQUAL(out.len, n + 1);
	CU_ASSERT(out.len == n + 1 && memcmp(out.p + 1, want, n) == 0);
	free(out.p);
}

#define UNESCAPED(text, want) unescaped((text), (want), sizeof(want) - 1)

static void
TEST_unescape(void)
{
	UNESCAPED("\"\"", "");
	UNESCAPED("\"plain \xc3\xa9\"", "plain \xc3\xa9");
	UNESCAPED("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t");
	UNESCAPED("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac");
	UNESCAPED("\"\\ud83d\\ude00!\"", "\xf0\x9f\x98\x80!");
	UNESCAPED("\"a\\u0000b\"", "a\0b");
	UNESCAPED("\"\\ud83d\"", "\xef\xbf\xbd");
	UNESCAPED("\"\\ude00\\ud83d x\"", "\xef\xbf\xbd\xef\xbf\xbd x");
	UNESCAPED("\"\\ud83d\\u0041\"", "\xef\xbf\xbd" "A");
	UNESCAPED("\"\\\\u0041\"", "\\u0041");
}

void
test_loader_json_register(void)
{
	static const struct unit_test tests[] = {
		{ "valid", TEST_valid },
		{ "invalid", TEST_invalid },
		{ "nul_in_text", TEST_nul_in_text },
		{ "depth", TEST_depth },
		{ "members", TEST_members },
		{ "unescape", TEST_unescape },
		{ NULL, NULL }
	};

	unit_add_suite("loader_json", tests);
}
