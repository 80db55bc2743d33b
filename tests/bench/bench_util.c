/*
 * bench_util.c: what the benchmark tools (loadgen, amqp_ceiling) share:
 * dying with a message, the monotonic clock, and reading the command line.
 * Thread-safe: loadgen's workers may call fatal() and now_ns().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_util.h"

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", program_invocation_short_name);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double
now_s(void)
{
	return (double)now_ns() / 1e9;
}

unsigned long long
parse_uint(const char *s, const char *what)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || *s == '-')
		fatal("bad %s: %s", what, s);
	return v;
}

double
parse_double(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || v < 0)
		fatal("bad %s: %s", what, s);
	return v;
}

void
usage_exit(const char *usage, int status)
{
	fputs(usage, status == 0 ? stdout : stderr);
	exit(status);
}
