/*
 * test_loader_copy.c: COPY text-format fields: the escapes, NUL and invalid
 * UTF-8 replaced, JSON for jsonb (\u0000 and lone surrogates replaced,
 * pairs and escaped backslashes kept, nested values), and, over random
 * bytes, that a field never holds a raw separator, a NUL or invalid UTF-8
 * and decodes back to its input when that was valid text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "core/jsontext.h"
#include "core/sluice.h"
#include "loader/loader_copy.h"

#define FFFD "\xef\xbf\xbd"

/* Escapes n bytes of s as text (or JSON); compares with want. */
static void
check(int json, const char *s, size_t n, const char *want, size_t replaced)
{
	struct jsontext b = { 0 };
	char *copy;
	size_t r;

	/* An exact-size copy: a read past the end shows under ASan. */
	copy = malloc(n > 0 ? n : 1);
	CU_ASSERT_FATAL(copy != NULL);
	memcpy(copy, s, n);
	r = json ? loader_copy_json(&b, copy, n) : loader_copy_text(&b, copy,
	    n);
	free(copy);
	CU_ASSERT_FALSE(b.failed);
	CU_ASSERT_EQUAL(r, replaced);
	CU_ASSERT_EQUAL(b.len, strlen(want));
	if (b.len != strlen(want) || (b.len > 0 && memcmp(b.p, want,
	    b.len) != 0)) {
		fprintf(stderr, "\nescaped \"%.*s\" as \"%.*s\", want \"%s\"\n",
		    (int)n, s, (int)b.len, b.p != NULL ? b.p : "", want);
		CU_FAIL("escaped text");
	}
	free(b.p);
}

#define TEXT(s, want, r) check(0, (s), sizeof(s) - 1, (want), (r))
#define JSON(s, want, r) check(1, (s), sizeof(s) - 1, (want), (r))

static void
TEST_text_plain(void)
{
	TEXT("", "", 0);
	TEXT("hello, world", "hello, world", 0);
	TEXT("Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/5.0 (X11; Linux "
	    "x86_64)", 0);
	/* Valid UTF-8 of every length goes through as it is. */
	TEXT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0);
	/* Other control characters are data in COPY text. */
	TEXT("a\x01\x1f\x7f" "b", "a\x01\x1f\x7f" "b", 0);
}

static void
TEST_text_escapes(void)
{
	TEXT("a\tb", "a\\tb", 0);
	TEXT("line\nnext", "line\\nnext", 0);
	TEXT("cr\r\n", "cr\\r\\n", 0);
	TEXT("back\\slash", "back\\\\slash", 0);
	TEXT("\\N", "\\\\N", 0);		/* not a NULL */
	TEXT("\\.", "\\\\.", 0);		/* not the end of data */
	TEXT("\\\\\t\\", "\\\\\\\\\\t\\\\", 0);
}

static void
TEST_text_nul(void)
{
	TEXT("a\0b", "a" FFFD "b", 1);
	TEXT("\0", FFFD, 1);
	TEXT("\0\0", FFFD FFFD, 2);
}

static void
TEST_text_invalid_utf8(void)
{
	TEXT("\xff", FFFD, 1);
	TEXT("a\xc3", "a" FFFD, 1);			/* truncated */
	TEXT("\xc3(", FFFD "(", 1);			/* bad continuation */
	TEXT("\xc0\xaf", FFFD FFFD, 2);			/* overlong */
	TEXT("\xed\xa0\x80", FFFD FFFD FFFD, 3);	/* a surrogate */
	TEXT("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD, 4); /* > U+10FFFF */
	TEXT("\x80x\xe2\x82", FFFD "x" FFFD FFFD, 3);
	/* A bad byte does not swallow a tab after it. */
	TEXT("\xe2\t", FFFD "\\t", 1);
}

static void
TEST_json_plain(void)
{
	JSON("null", "null", 0);
	JSON("{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
	    "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}", 0);
	JSON("\"caf\xc3\xa9\"", "\"caf\xc3\xa9\"", 0);
	JSON("[1.5e300,-0.0,12345678901234567890]",
	    "[1.5e300,-0.0,12345678901234567890]", 0);
}

static void
TEST_json_escapes(void)
{
	/* Each JSON escape keeps its meaning once COPY undoes its own. */
	JSON("\"a\\nb\\tc\\\"d\\\\e\\/f\"", "\"a\\\\nb\\\\tc\\\\\"d\\\\\\\\e"
	    "\\\\/f\"", 0);
	JSON("\"\\u00e9\\u001f\"", "\"\\\\u00e9\\\\u001f\"", 0);
	/* Raw white space between tokens (pretty-printed JSON). */
	JSON("{\n\t\"a\": 1\r\n}", "{\\n\\t\"a\": 1\\r\\n}", 0);
}

static void
TEST_json_nul(void)
{
	JSON("\"x\\u0000y\"", "\"x\\\\ufffdy\"", 1);
	JSON("{\"\\u0000\":\"\\u0000\"}", "{\"\\\\ufffd\":\"\\\\ufffd\"}", 2);
	/* An escaped backslash before "u0000" is text, not an escape. */
	JSON("\"\\\\u0000\"", "\"\\\\\\\\u0000\"", 0);
	/* A raw NUL byte (not JSON, but it must not reach the server). */
	JSON("\"a\0\"", "\"a" FFFD "\"", 1);
}

static void
TEST_json_surrogates(void)
{
	/* A pair is kept; either half alone is replaced. */
	JSON("\"\\ud83d\\ude00\"", "\"\\\\ud83d\\\\ude00\"", 0);
	JSON("\"\\uD83D\\uDE00\"", "\"\\\\uD83D\\\\uDE00\"", 0);
	JSON("\"\\ud83d\"", "\"\\\\ufffd\"", 1);
	JSON("\"\\ud83dx\"", "\"\\\\ufffdx\"", 1);
	JSON("\"\\ude00\"", "\"\\\\ufffd\"", 1);
	JSON("\"\\ud83d\\u0041\"", "\"\\\\ufffd\\\\u0041\"", 1);
	JSON("\"\\ud83d\\ud83d\\ude00\"", "\"\\\\ufffd\\\\ud83d\\\\ude00\"",
	    1);
	/* Cut short: the text is left as it is, escaped. */
	JSON("\"\\u00", "\"\\\\u00", 0);
	JSON("\\", "\\\\", 0);
}

static void
TEST_json_nested(void)
{
	JSON("{\"a\":{\"b\":[{\"c\":\"line\\nnext\\u0000\"},[[[\"\t\"]]]]}}",
	    "{\"a\":{\"b\":[{\"c\":\"line\\\\nnext\\\\ufffd\"},[[[\"\\t\"]]]]"
	    "}}", 1);
	JSON("[\"\xff\",{\"k\\\\\":\"v\\\\\\u0000\"}]",
	    "[\"" FFFD "\",{\"k\\\\\\\\\":\"v\\\\\\\\\\\\ufffd\"}]", 2);
}

/* Undoes COPY's escapes of text; returns the length. */
static size_t
unescape(const char *s, size_t n, char *out)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (s[i] != '\\') {
			out[k++] = s[i];
			continue;
		}
		i++;
		out[k++] = s[i] == 't' ? '\t' : s[i] == 'n' ? '\n' :
		    s[i] == 'r' ? '\r' : s[i];
	}
	return k;
}

static int
valid_utf8(const char *s, size_t n)
{
	size_t i = 0;
	uint32_t cp;

	while (i < n)
		if (jsontext_utf8_next((const unsigned char *)s, n, &i, &cp) ==
		    -1)
			return 0;
	return 1;
}

static void
TEST_random_bytes(void)
{
	static const unsigned char pool[] = { 'a', 'z', ' ', '\t', '\n', '\r',
	    '\\', '"', '\0', 0x7f, 0x80, 0xbf, 0xc3, 0xa9, 0xe2, 0x82, 0xac,
	    0xed, 0xa0, 0xf0, 0x9f, 0x98, 0xff, 'u', '0' };
	struct jsontext b = { 0 };
	unsigned seed = 42;
	char in[64], back[256];
	size_t round, n, i, k;

	for (round = 0; round < 20000; round++) {
		seed = seed * 1103515245 + 12345;
		n = (seed >> 16) % sizeof in;
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			in[i] = (char)pool[(seed >> 16) % sizeof pool];
		}
		b.len = 0;
		loader_copy_text(&b, in, n);
		CU_ASSERT_FATAL(!b.failed);
		for (k = 0; k < b.len; k++)
			CU_ASSERT_FATAL(b.p[k] != '\t' && b.p[k] != '\n' &&
			    b.p[k] != '\r' && b.p[k] != '\0');
		CU_ASSERT_FATAL(valid_utf8(b.p, b.len));
		if (memchr(in, '\0', n) == NULL && valid_utf8(in, n)) {
			CU_ASSERT_FATAL(b.len <= sizeof back);
			CU_ASSERT_EQUAL_FATAL(unescape(b.p, b.len, back), n);
			CU_ASSERT_FATAL(memcmp(back, in, n) == 0);
		}
		b.len = 0;
		loader_copy_json(&b, in, n);
		CU_ASSERT_FATAL(!b.failed);
		for (k = 0; k < b.len; k++)
			CU_ASSERT_FATAL(b.p[k] != '\t' && b.p[k] != '\n' &&
			    b.p[k] != '\r' && b.p[k] != '\0');
		CU_ASSERT_FATAL(valid_utf8(b.p, b.len));
	}
	free(b.p);
}

void
test_loader_copy_register(void)
{
	static const struct unit_test tests[] = {
		{ "text_plain", TEST_text_plain },
		{ "text_escapes", TEST_text_escapes },
		{ "text_nul", TEST_text_nul },
		{ "text_invalid_utf8", TEST_text_invalid_utf8 },
		{ "json_plain", TEST_json_plain },
		{ "json_escapes", TEST_json_escapes },
		{ "json_nul", TEST_json_nul },
		{ "json_surrogates", TEST_json_surrogates },
		{ "json_nested", TEST_json_nested },
		{ "random_bytes", TEST_random_bytes },
		{ NULL, NULL }
	};

	unit_add_suite("loader_copy", tests);
}
