/*
 * test_hex.c: the hex decoder: digits of both cases, what is not a digit,
 * lengths, and that it reads no further than it is told.
 */
#include <stdint.h>

#include "unit.h"
#include "core/hex.h"

static void
TEST_digits(void)
{
	const char *digits = "0123456789abcdef", *upper = "ABCDEF";
	int i;

	for (i = 0; i < 16; i++)
		CU_ASSERT_EQUAL(hex_digit(digits[i]), i);
	for (i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(hex_digit(upper[i]), 10 + i);
	CU_ASSERT_EQUAL(hex_digit('g'), -1);
	CU_ASSERT_EQUAL(hex_digit('G'), -1);
	CU_ASSERT_EQUAL(hex_digit('/'), -1);
	CU_ASSERT_EQUAL(hex_digit(':'), -1);
	CU_ASSERT_EQUAL(hex_digit('@'), -1);
	CU_ASSERT_EQUAL(hex_digit('`'), -1);
	CU_ASSERT_EQUAL(hex_digit(' '), -1);
	CU_ASSERT_EQUAL(hex_digit('\0'), -1);
	CU_ASSERT_EQUAL(hex_digit(0xe9), -1);
}

static void
TEST_decode(void)
{
	CU_ASSERT_EQUAL(hex_decode("0000", 4), 0);
	CU_ASSERT_EQUAL(hex_decode("00e9", 4), 0xe9);
	CU_ASSERT_EQUAL(hex_decode("D83D", 4), 0xd83d);
	CU_ASSERT_EQUAL(hex_decode("dE0a", 4), 0xde0a);
	CU_ASSERT_EQUAL(hex_decode("ffff", 4), 0xffff);
	CU_ASSERT_EQUAL(hex_decode("123456789ABCdef", 15),
	    INT64_C(0x123456789abcdef));
	CU_ASSERT_EQUAL(hex_decode("", 0), 0);
	/* Only n bytes are read: what follows does not matter. */
	CU_ASSERT_EQUAL(hex_decode("12zz", 2), 0x12);
	CU_ASSERT_EQUAL(hex_decode("0x12", 4), -1);
	CU_ASSERT_EQUAL(hex_decode("12 4", 4), -1);
	CU_ASSERT_EQUAL(hex_decode("123", 4), -1);	/* the NUL */
	CU_ASSERT_EQUAL(hex_decode("-123", 4), -1);
	CU_ASSERT_EQUAL(hex_decode("0123456789abcdef", 16), -1);
}

void
test_hex_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_digits", TEST_digits },
		{ "TEST_decode", TEST_decode },
		{ NULL, NULL }
	};

	unit_add_suite("hex", tests);
}
