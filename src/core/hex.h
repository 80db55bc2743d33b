/*
 * hex.h: decoding hexadecimal digits, as in JSON's \uXXXX escapes. The one
 * hex decoder of the code base. Thread-safe: no state.
 */
#ifndef SLUICE_HEX_H
#define SLUICE_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of the hex digit c (0-9, a-f, A-F), or -1 if c is not one. */
int hex_digit(int c);

/*
 * The value of the n hex digits at s (n at most 15; both cases), or -1 if
 * one of them is not a hex digit. Reads exactly n bytes: s need not be
 * NUL-terminated.
 */
int64_t hex_decode(const void *s, size_t n);

#endif
