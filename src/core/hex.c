/*
 * hex.c: decoding hexadecimal digits. Thread-safe: no state.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/hex.h"

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int64_t
hex_decode(const void *s, size_t n)
{
	const unsigned char *p = s;
	int64_t v = 0;
	size_t i;
	int d;

	if (n > 15)
		return -1;
	for (i = 0; i < n; i++) {
		if ((d = hex_digit(p[i])) < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}
