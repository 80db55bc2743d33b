/*
 * uuid7.h: UUID version 7 (RFC 9562): 48 bits of Unix ms, then a 12-bit
 * counter that keeps ids made by one thread in the same ms strictly
 * increasing, then 62 random bits. Thread-safe (per-thread state).
 */
#ifndef SLUICE_UUID7_H
#define SLUICE_UUID7_H

#include <stdint.h>

#define UUID7_STRLEN 37		/* 36 characters plus NUL */

/* Formats a new UUIDv7 for time now_ms into out, lower-case hex with dashes. */
void uuid7_generate(int64_t now_ms, char out[UUID7_STRLEN]);

#endif
