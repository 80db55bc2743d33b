/*
 * bench_util.h: what the benchmark tools (loadgen, amqp_ceiling) share:
 * dying with a message, the monotonic clock, and reading the command line
 * (numbers, and the usage text on -h or a mistake).
 */
#ifndef SLUICE_BENCH_UTIL_H
#define SLUICE_BENCH_UTIL_H

#include <stdint.h>

/* Prints "<program>: ", the message and a newline to stderr; exits 2. */
void fatal(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

/* Monotonic time (CLOCK_MONOTONIC) in nanoseconds. */
uint64_t now_ns(void);

/* The same in seconds. */
double now_s(void);

/* s as a decimal unsigned integer; dies with "bad what: s" otherwise. */
unsigned long long parse_uint(const char *s, const char *what);

/* s as a number >= 0 (seconds, a rate); dies as parse_uint otherwise. */
double parse_double(const char *s, const char *what);

/*
 * Prints the usage text and exits with status: on stdout for 0 (asked for
 * with -h), on stderr for any other (a bad command line).
 */
void usage_exit(const char *usage, int status) __attribute__((noreturn));

#endif
