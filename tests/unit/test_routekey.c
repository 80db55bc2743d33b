/*
 * test_routekey.c: routing-key templates: compile errors, rendering and
 * truncation at a UTF-8 character boundary.
 */
#include <string.h>

#include "unit.h"
#include "core/routekey.h"

static struct routekey *
compile_ok(const char *tmpl)
{
	struct routekey *rk = NULL;
	char err[256] = "";

	CU_ASSERT_EQUAL(routekey_compile(tmpl, &rk, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
	return rk;
}

static void
compile_bad(const char *tmpl, const char *needle)
{
	struct routekey *rk = (struct routekey *)&rk;
	char err[256] = "";

	CU_ASSERT_EQUAL(routekey_compile(tmpl, &rk, err, sizeof err), -1);
	CU_ASSERT_PTR_NULL(rk);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, needle));
}

/* Renders tmpl with NUL-terminated inputs into a static buffer. */
static const char *
render(const char *tmpl, const char *app, const char *channel,
    const char *event, size_t *len)
{
	static char out[ROUTEKEY_MAX + 1];
	struct routekey *rk;

	rk = compile_ok(tmpl);
	memset(out, 'x', sizeof out);
	*len = routekey_render(rk, app, strlen(app), channel, strlen(channel),
	    event, strlen(event), out);
	routekey_free(rk);
	CU_ASSERT_EQUAL(strlen(out), *len);
	return out;
}

static void
TEST_compile_errors(void)
{
	compile_bad("", "empty");
	compile_bad("{channel", "unclosed");
	compile_bad("a.{event}.{", "offset 10");
	compile_bad("{user}.x", "unknown placeholder \"{user}\"");
	compile_bad("{}", "unknown placeholder \"{}\"");
	compile_bad("{Channel}", "\"{Channel}\"");
	compile_bad("{ channel }", "\"{ channel }\"");
	compile_bad("a}b", "unmatched \"}\" at offset 1");
	compile_bad("{channel}}", "unmatched");
	compile_bad("{{channel}", "unmatched");
}

static void
TEST_render_placeholders(void)
{
	size_t len;

	CU_ASSERT_STRING_EQUAL(render("{channel}.{event}", "demo", "events",
	    "click", &len), "events.click");
	CU_ASSERT_EQUAL(len, 12);
	CU_ASSERT_STRING_EQUAL(render("{app}.{channel}.{event}", "demo", "c",
	    "e", &len), "demo.c.e");
	CU_ASSERT_STRING_EQUAL(render("ev-{event}-{event}", "a", "c", "x",
	    &len), "ev-x-x");
	CU_ASSERT_STRING_EQUAL(render("{app}", "", "c", "e", &len), "");
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_STRING_EQUAL(render("fixed.key", "a", "c", "e", &len),
	    "fixed.key");
}

static void
TEST_render_braces(void)
{
	size_t len;

	CU_ASSERT_STRING_EQUAL(render("{{channel}}", "a", "c", "e", &len),
	    "{channel}");
	CU_ASSERT_STRING_EQUAL(render("{{{app}}}.{{", "demo", "c", "e", &len),
	    "{demo}.{");
	CU_ASSERT_STRING_EQUAL(render("}}", "a", "c", "e", &len), "}");
}

static void
TEST_render_inputs_are_not_terminated(void)
{
	char out[ROUTEKEY_MAX + 1];
	struct routekey *rk;
	size_t len;

	rk = compile_ok("{app}/{channel}/{event}");
	len = routekey_render(rk, "demoXXX", 4, "eventsYYY", 6, "clickZZZ", 5,
	    out);
	CU_ASSERT_EQUAL(len, 17);
	CU_ASSERT_STRING_EQUAL(out, "demo/events/click");
	len = routekey_render(rk, NULL, 0, NULL, 0, NULL, 0, out);
	CU_ASSERT_EQUAL(len, 2);
	CU_ASSERT_STRING_EQUAL(out, "//");
	routekey_free(rk);
	routekey_free(NULL);
}

static void
TEST_render_truncates_at_255(void)
{
	char event[400], want[ROUTEKEY_MAX + 1];
	size_t len;

	/* "c." plus 253 bytes fits exactly. */
	memset(event, 'e', 253);
	event[253] = '\0';
	render("{channel}.{event}", "a", "c", event, &len);
	CU_ASSERT_EQUAL(len, 255);
	/* One more byte is cut. */
	memset(event, 'e', 399);
	event[399] = '\0';
	memcpy(want, "c.", 2);
	memset(want + 2, 'e', 253);
	want[255] = '\0';
	CU_ASSERT_STRING_EQUAL(render("{channel}.{event}", "a", "c", event,
	    &len), want);
	CU_ASSERT_EQUAL(len, 255);
	/* Parts after the cut are dropped too. */
	CU_ASSERT_STRING_EQUAL(render("{channel}.{event}.tail", "a", "c",
	    event, &len), want);
}

/*
 * Fills an event with prefix 'a's and then copies of the UTF-8 character
 * ch, renders "{event}" and checks the key ends on a whole character.
 */
static void
check_utf8_cut(size_t prefix, const char *ch, size_t want)
{
	char event[600];
	const char *out;
	size_t i, n = strlen(ch), len;

	memset(event, 'a', prefix);
	for (i = prefix; i + n < sizeof event; i += n)
		memcpy(event + i, ch, n);
	event[i] = '\0';
	out = render("{event}", "a", "c", event, &len);
	CU_ASSERT_EQUAL(len, want);
	CU_ASSERT_EQUAL(memcmp(out, event, len), 0);
	CU_ASSERT_EQUAL(((unsigned char)out[len - 1] & 0xc0) == 0x80 ||
	    (unsigned char)out[len - 1] < 0x80, 1);
}

static void
TEST_render_cuts_whole_utf8_characters(void)
{
	/* 2-byte "é": 254 'a' + é would need 256 bytes. */
	check_utf8_cut(254, "\xc3\xa9", 254);
	check_utf8_cut(253, "\xc3\xa9", 255);
	/* 3-byte "€": 255 is 1 + 3*84 + 2: the last one is dropped. */
	check_utf8_cut(1, "\xe2\x82\xac", 253);
	check_utf8_cut(2, "\xe2\x82\xac", 254);
	check_utf8_cut(3, "\xe2\x82\xac", 255);
	/* 4-byte emoji, cut after 1, 2 and 3 of its bytes. */
	check_utf8_cut(252, "\xf0\x9f\x98\x80", 252);
	check_utf8_cut(253, "\xf0\x9f\x98\x80", 253);
	check_utf8_cut(254, "\xf0\x9f\x98\x80", 254);
	check_utf8_cut(251, "\xf0\x9f\x98\x80", 255);
}

static void
TEST_render_cut_between_parts(void)
{
	char app[300];
	size_t len;
	const char *out;

	/* The app fills 254 bytes; the channel's "é" does not fit. */
	memset(app, 'a', 254);
	app[254] = '\0';
	out = render("{app}{channel}", app, "\xc3\xa9x", "e", &len);
	CU_ASSERT_EQUAL(len, 254);
	CU_ASSERT_EQUAL(out[253], 'a');
	/* A literal after a full key is dropped. */
	memset(app, 'a', 255);
	app[255] = '\0';
	out = render("{app}.x", app, "c", "e", &len);
	CU_ASSERT_EQUAL(len, 255);
	CU_ASSERT_EQUAL(out[254], 'a');
}

void
test_routekey_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_compile_errors", TEST_compile_errors },
		{ "TEST_render_placeholders", TEST_render_placeholders },
		{ "TEST_render_braces", TEST_render_braces },
		{ "TEST_render_inputs_are_not_terminated",
		    TEST_render_inputs_are_not_terminated },
		{ "TEST_render_truncates_at_255",
		    TEST_render_truncates_at_255 },
		{ "TEST_render_cuts_whole_utf8_characters",
		    TEST_render_cuts_whole_utf8_characters },
		{ "TEST_render_cut_between_parts",
		    TEST_render_cut_between_parts },
		{ NULL, NULL }
	};

	unit_add_suite("routekey", tests);
}
