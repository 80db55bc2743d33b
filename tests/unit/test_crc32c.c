/*
 * test_crc32c.c: unit tests for crc32c: the standard check values, and the
 * hardware and table paths agreeing on every length and alignment.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "journal/crc32c.h"

/* Runs the check value and RFC 3720 vectors through one implementation. */
static void
check_vectors(uint32_t (*fn)(uint32_t, const void *, size_t))
{
	unsigned char buf[32];
	size_t i;

	CU_ASSERT_EQUAL(fn(0, "123456789", 9), 0xE3069283U);
	CU_ASSERT_EQUAL(fn(0, "", 0), 0);
	memset(buf, 0, sizeof buf);
	CU_ASSERT_EQUAL(fn(0, buf, sizeof buf), 0x8A9136AAU);
	memset(buf, 0xff, sizeof buf);
	CU_ASSERT_EQUAL(fn(0, buf, sizeof buf), 0x62A8AB43U);
	for (i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)i;
	CU_ASSERT_EQUAL(fn(0, buf, sizeof buf), 0x46DD794EU);
	for (i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(31 - i);
	CU_ASSERT_EQUAL(fn(0, buf, sizeof buf), 0x113FDB5CU);
	/* Extending in two steps equals one pass. */
	CU_ASSERT_EQUAL(fn(fn(0, "1234", 4), "56789", 5), 0xE3069283U);
}

static void
TEST_check_value(void)
{
	check_vectors(crc32c);
}

static void
TEST_table_path(void)
{
	check_vectors(crc32c_sw);
}

static void
TEST_hardware_path(void)
{
	if (!crc32c_hw_available()) {
		/* Nothing to compare on this CPU; crc32c() is the table. */
		CU_ASSERT_EQUAL(crc32c(0, "123456789", 9),
		    crc32c_sw(0, "123456789", 9));
		return;
	}
	check_vectors(crc32c_hw);
}

static void
TEST_paths_agree_every_length_and_alignment(void)
{
	unsigned char buf[1024 + 16];
	unsigned int seed = 12345;
	size_t len, off, i, bad = 0;
	uint32_t a, b, c;

	for (i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)rand_r(&seed);
	for (len = 0; len <= 1024; len++) {
		for (off = 0; off < 8; off++) {
			a = crc32c_sw(0, buf + off, len);
			b = crc32c_hw_available() ?
			    crc32c_hw(0, buf + off, len) : a;
			c = crc32c(0, buf + off, len);
			if (a != b || a != c)
				bad++;
			/* Split at an odd point: still the same value. */
			if (crc32c(crc32c(0, buf + off, len / 3),
			    buf + off + len / 3, len - len / 3) != a)
				bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void
TEST_detects_single_bit_flip(void)
{
	unsigned char buf[64];
	uint32_t ref;
	size_t i, bit, same = 0;

	memset(buf, 0x5a, sizeof buf);
	ref = crc32c(0, buf, sizeof buf);
	for (i = 0; i < sizeof buf; i++) {
		for (bit = 0; bit < 8; bit++) {
			buf[i] ^= (unsigned char)(1U << bit);
			if (crc32c(0, buf, sizeof buf) == ref)
				same++;
			buf[i] ^= (unsigned char)(1U << bit);
		}
	}
	CU_ASSERT_EQUAL(same, 0);
}

void
test_crc32c_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_check_value", TEST_check_value },
		{ "TEST_table_path", TEST_table_path },
		{ "TEST_hardware_path", TEST_hardware_path },
		{ "TEST_paths_agree_every_length_and_alignment",
		    TEST_paths_agree_every_length_and_alignment },
		{ "TEST_detects_single_bit_flip",
		    TEST_detects_single_bit_flip },
		{ NULL, NULL }
	};

	unit_add_suite("crc32c", tests);
}
