/*
 * bench_util.h: what the benchmark tools (loadgen, amqp_ceiling, wsload)
 * share: dying with a message, the monotonic clock, reading the command
 * line (numbers, and the usage text on -h or a mistake), and a latency
 * histogram. A struct lat_hist belongs to one thread; merge to combine.
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

/* Log-linear histogram of microseconds: exact below 128, then 64 steps a
 * power of two (under 1.6% error), up to 2^40 us. */
#define LAT_HIST_SUB_BITS	7
#define LAT_HIST_SUB		(1u << LAT_HIST_SUB_BITS)
#define LAT_HIST_HALF		(LAT_HIST_SUB / 2)
#define LAT_HIST_MAX_MSB	40
#define LAT_HIST_N		(LAT_HIST_SUB + \
    (LAT_HIST_MAX_MSB - LAT_HIST_SUB_BITS + 1) * LAT_HIST_HALF)

struct lat_hist {
	uint64_t	count[LAT_HIST_N];
	uint64_t	n;
	uint64_t	max;
	double		sum;
};

/* Counts one latency of us microseconds. */
void lat_hist_record(struct lat_hist *h, uint64_t us);

/* Adds the counts of h to into. */
void lat_hist_merge(struct lat_hist *into, const struct lat_hist *h);

/* The value at quantile q (0..1) in microseconds; 0 when h is empty. */
uint64_t lat_hist_quantile(const struct lat_hist *h, double q);

#endif
