/*
 * bench_util.c: what the benchmark tools (loadgen, amqp_ceiling, wsload)
 * share: dying with a message, the monotonic clock, reading the command
 * line, and a latency histogram.
 * Thread-safe: workers may call fatal() and now_ns(); a histogram belongs
 * to the thread that records into it.
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

static unsigned
lat_hist_index(uint64_t v)
{
	unsigned msb, shift;

	if (v < LAT_HIST_SUB)
		return (unsigned)v;
	msb = 63 - (unsigned)__builtin_clzll(v);
	if (msb > LAT_HIST_MAX_MSB)
		return LAT_HIST_N - 1;
	shift = msb - (LAT_HIST_SUB_BITS - 1);
	return LAT_HIST_SUB + (msb - LAT_HIST_SUB_BITS) * LAT_HIST_HALF +
	    (unsigned)(v >> shift) - LAT_HIST_HALF;
}

/* The largest value that falls into bucket i. */
static uint64_t
lat_hist_value(unsigned i)
{
	unsigned msb, shift, sub;

	if (i < LAT_HIST_SUB)
		return i;
	msb = (i - LAT_HIST_SUB) / LAT_HIST_HALF + LAT_HIST_SUB_BITS;
	sub = (i - LAT_HIST_SUB) % LAT_HIST_HALF + LAT_HIST_HALF;
	shift = msb - (LAT_HIST_SUB_BITS - 1);
	return (((uint64_t)sub + 1) << shift) - 1;
}

void
lat_hist_record(struct lat_hist *h, uint64_t us)
{
	h->count[lat_hist_index(us)]++;
	h->n++;
	h->sum += (double)us;
	if (us > h->max)
		h->max = us;
}

void
lat_hist_merge(struct lat_hist *into, const struct lat_hist *h)
{
	unsigned i;

	for (i = 0; i < LAT_HIST_N; i++)
		into->count[i] += h->count[i];
	into->n += h->n;
	into->sum += h->sum;
	if (h->max > into->max)
		into->max = h->max;
}

uint64_t
lat_hist_quantile(const struct lat_hist *h, double q)
{
	uint64_t rank, seen = 0;
	unsigned i;

	if (h->n == 0)
		return 0;
	rank = (uint64_t)(q * (double)h->n + 0.5);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < LAT_HIST_N; i++) {
		seen += h->count[i];
		if (seen >= rank)
			return lat_hist_value(i) < h->max ? lat_hist_value(i) :
			    h->max;
	}
	return h->max;
}
