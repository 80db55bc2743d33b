/*
 * test_isotime.c: ISO-8601 formatting and parsing (zones, offsets,
 * fractions, the space separator, the calendar and the year range) and the
 * two clocks.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "unit.h"
#include "core/isotime.h"
#include "core/sluice.h"

/* 2026-01-01T00:00:00.000Z */
#define JAN1_2026 INT64_C(1767225600000)
#define HOUR INT64_C(3600000)

static void
TEST_format_known_values(void)
{
	static const struct {
		int64_t		 ms;
		const char	*text;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00.000Z" },
		{ 1, "1970-01-01T00:00:00.001Z" },
		{ 999, "1970-01-01T00:00:00.999Z" },
		{ 86399999, "1970-01-01T23:59:59.999Z" },
		{ 951782400000, "2000-02-29T00:00:00.000Z" },
		{ JAN1_2026, "2026-01-01T00:00:00.000Z" },
		{ INT64_C(1795369066123), "2026-11-22T17:37:46.123Z" },
		{ INT64_C(4107542400000), "2100-03-01T00:00:00.000Z" },
		{ INT64_C(253402300799999), "9999-12-31T23:59:59.999Z" },
	};
	char out[ISOTIME_LEN];
	size_t i;

	for (i = 0; i < SLUICE_ARRAY_LEN(cases); i++) {
		memset(out, 'X', sizeof out);
		isotime_format(cases[i].ms, out);
		CU_ASSERT_STRING_EQUAL(out, cases[i].text);
		CU_ASSERT_EQUAL(strlen(out), ISOTIME_LEN - 1);
	}
}

static void
TEST_format_parse_round_trip(void)
{
	char out[ISOTIME_LEN];
	int64_t ms, back, bad = 0;

	/* About 3,000 points from 1970 to 9999, odd ms included. */
	for (ms = 0; ms < INT64_C(253402300799999);
	    ms += INT64_C(86400000) * 997 + 12345) {
		isotime_format(ms, out);
		if (isotime_parse(out, &back) != 0 || back != ms)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void
TEST_parse_zulu(void)
{
	int64_t ms = -1;

	CU_ASSERT_EQUAL(isotime_parse("2026-01-01T00:00:00Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, JAN1_2026);
	CU_ASSERT_EQUAL(isotime_parse("1970-01-01T00:00:00Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, 0);
	CU_ASSERT_EQUAL(isotime_parse("2026-01-01T10:00:02.000Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, JAN1_2026 + 10 * HOUR + 2000);
}

static void
TEST_parse_offsets(void)
{
	int64_t ms = -1;

	CU_ASSERT_EQUAL(isotime_parse("2026-01-01T02:00:00+02:00", &ms), 0);
	CU_ASSERT_EQUAL(ms, JAN1_2026);
	CU_ASSERT_EQUAL(isotime_parse("2026-01-01T02:00:00+0200", &ms), 0);
	CU_ASSERT_EQUAL(ms, JAN1_2026);
	CU_ASSERT_EQUAL(isotime_parse("2025-12-31T18:30:00-05:30", &ms), 0);
	CU_ASSERT_EQUAL(ms, JAN1_2026);
	CU_ASSERT_EQUAL(isotime_parse("2026-01-01T00:00:00+00:00", &ms), 0);
	CU_ASSERT_EQUAL(ms, JAN1_2026);
	CU_ASSERT_EQUAL(isotime_parse("2026-01-01T05:45:00.250+05:45", &ms),
	    0);
	CU_ASSERT_EQUAL(ms, JAN1_2026 + 250);
}

static void
TEST_parse_fractions(void)
{
	int64_t ms = -1;

	CU_ASSERT_EQUAL(isotime_parse("2026-01-01T00:00:00.5Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, JAN1_2026 + 500);
	CU_ASSERT_EQUAL(isotime_parse("2026-01-01T00:00:00.12Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, JAN1_2026 + 120);
	CU_ASSERT_EQUAL(isotime_parse("2026-01-01T00:00:00.123Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, JAN1_2026 + 123);
	/* Any length, kept to the ms. */
	CU_ASSERT_EQUAL(isotime_parse("2026-01-01T00:00:00.123456Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, JAN1_2026 + 123);
	CU_ASSERT_EQUAL(isotime_parse(
	    "2026-01-01T00:00:00.0420000000000000000001Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, JAN1_2026 + 42);
	CU_ASSERT_EQUAL(isotime_parse("2026-01-01T00:00:00.007+01:00", &ms),
	    0);
	CU_ASSERT_EQUAL(ms, JAN1_2026 - HOUR + 7);
}

static void
TEST_parse_space_separator(void)
{
	int64_t ms = -1;

	CU_ASSERT_EQUAL(isotime_parse("2026-01-01 00:00:00Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, JAN1_2026);
	CU_ASSERT_EQUAL(isotime_parse("2026-01-01 01:00:00.001+01:00", &ms),
	    0);
	CU_ASSERT_EQUAL(ms, JAN1_2026 + 1);
}

static void
TEST_parse_calendar(void)
{
	int64_t ms;

	CU_ASSERT_EQUAL(isotime_parse("2024-02-29T00:00:00Z", &ms), 0);
	CU_ASSERT_EQUAL(isotime_parse("2000-02-29T00:00:00Z", &ms), 0);
	CU_ASSERT_EQUAL(isotime_parse("2026-12-31T23:59:59.999Z", &ms), 0);
	CU_ASSERT_EQUAL(isotime_parse("9999-12-31T23:59:59.999Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, INT64_C(253402300799999));
	CU_ASSERT_EQUAL(isotime_parse("2026-02-30T00:00:00Z", &ms), -1);
	CU_ASSERT_EQUAL(isotime_parse("2023-02-29T00:00:00Z", &ms), -1);
	CU_ASSERT_EQUAL(isotime_parse("2100-02-29T00:00:00Z", &ms), -1);
	CU_ASSERT_EQUAL(isotime_parse("2026-04-31T00:00:00Z", &ms), -1);
	CU_ASSERT_EQUAL(isotime_parse("2026-13-01T00:00:00Z", &ms), -1);
	CU_ASSERT_EQUAL(isotime_parse("2026-00-01T00:00:00Z", &ms), -1);
	CU_ASSERT_EQUAL(isotime_parse("2026-01-00T00:00:00Z", &ms), -1);
	CU_ASSERT_EQUAL(isotime_parse("2026-01-32T00:00:00Z", &ms), -1);
	CU_ASSERT_EQUAL(isotime_parse("2026-01-01T24:00:00Z", &ms), -1);
	CU_ASSERT_EQUAL(isotime_parse("2026-01-01T00:60:00Z", &ms), -1);
	CU_ASSERT_EQUAL(isotime_parse("2026-01-01T00:00:61Z", &ms), -1);
}

static void
TEST_parse_year_range(void)
{
	int64_t ms;

	CU_ASSERT_EQUAL(isotime_parse("1969-12-31T23:59:59Z", &ms), -1);
	CU_ASSERT_EQUAL(isotime_parse("0000-01-01T00:00:00Z", &ms), -1);
	CU_ASSERT_EQUAL(isotime_parse("10000-01-01T00:00:00Z", &ms), -1);
	CU_ASSERT_EQUAL(isotime_parse("+2026-01-01T00:00:00Z", &ms), -1);
	CU_ASSERT_EQUAL(isotime_parse("-2026-01-01T00:00:00Z", &ms), -1);
	CU_ASSERT_EQUAL(isotime_parse("26-01-01T00:00:00Z", &ms), -1);
}

static void
TEST_parse_rejects_missing_zone(void)
{
	int64_t ms;

	CU_ASSERT_EQUAL(isotime_parse("2026-01-01T00:00:00", &ms), -1);
	CU_ASSERT_EQUAL(isotime_parse("2026-01-01T00:00:00.123", &ms), -1);
	CU_ASSERT_EQUAL(isotime_parse("2026-01-01 00:00:00", &ms), -1);
	CU_ASSERT_EQUAL(isotime_parse("2026-01-01", &ms), -1);
}

static void
TEST_parse_rejects_junk(void)
{
	static const char *const junk[] = {
		"", "Z", "now", "yesterday", "1767225600000",
		"2026-01-01T00:00:00ZZ", "2026-01-01T00:00:00Z ",
		" 2026-01-01T00:00:00Z", "2026-01-01T00:00:00+",
		"2026-01-01T00:00:00+1", "2026-01-01T00:00:00+01:",
		"2026-01-01T00:00:00+01:0", "2026-01-01T00:00:00+25:00",
		"2026-01-01T00:00:00+01:60", "2026-01-01T00:00:00.Z",
		"2026-01-01T00:00:00.12xZ", "2026-01-01X00:00:00Z",
		"2026/01/01T00:00:00Z", "2026-1-01T00:00:00Z",
		"2026-01-01T0:00:00Z", "2026-01-01T00:00Z",
		"2026-01-01T00:00:00 Z", "2026-01-01T00:00:00Zjunk",
		"2026-01-01T00:00:00+01:00:00", "2026-0a-01T00:00:00Z",
		"\xff\xfe", "2026-01-01T00:00:00\n",
	};
	int64_t ms = 42;
	size_t i, bad = 0;

	for (i = 0; i < SLUICE_ARRAY_LEN(junk); i++) {
		if (isotime_parse(junk[i], &ms) != -1) {
			fprintf(stderr, "accepted \"%s\"\n", junk[i]);
			bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(ms, 42);	/* untouched on failure */
}

static void
TEST_clocks(void)
{
	struct timespec ts;
	int64_t now, mono, mono2;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = isotime_now_ms();
	CU_ASSERT(now >= (int64_t)ts.tv_sec * 1000);
	CU_ASSERT(now - (int64_t)ts.tv_sec * 1000 < 5000);
	mono = isotime_mono_ms();
	mono2 = isotime_mono_ms();
	CU_ASSERT(mono >= 0);
	CU_ASSERT(mono2 >= mono);
}

void
test_isotime_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_format_known_values", TEST_format_known_values },
		{ "TEST_format_parse_round_trip",
		    TEST_format_parse_round_trip },
		{ "TEST_parse_zulu", TEST_parse_zulu },
		{ "TEST_parse_offsets", TEST_parse_offsets },
		{ "TEST_parse_fractions", TEST_parse_fractions },
		{ "TEST_parse_space_separator", TEST_parse_space_separator },
		{ "TEST_parse_calendar", TEST_parse_calendar },
		{ "TEST_parse_year_range", TEST_parse_year_range },
		{ "TEST_parse_rejects_missing_zone",
		    TEST_parse_rejects_missing_zone },
		{ "TEST_parse_rejects_junk", TEST_parse_rejects_junk },
		{ "TEST_clocks", TEST_clocks },
		{ NULL, NULL }
	};

	unit_add_suite("isotime", tests);
}
