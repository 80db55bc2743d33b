/*
 * isotime.c: millisecond clocks and ISO-8601 UTC text. Thread-safe: the
 * calendar arithmetic is done by hand, without the locale or time zone
 * state of localtime/mktime.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/isotime.h"

int64_t
isotime_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
isotime_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
isotime_mono_ms(void)
{
	return isotime_mono_us() / 1000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
static int64_t
isotime_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of isotime_days_from_civil. */
static void
isotime_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void
isotime_format(int64_t ms, char out[ISOTIME_LEN])
{
	int64_t days, rem, y;
	unsigned m, d;
	char buf[64];

	days = ms / 86400000;
	rem = ms % 86400000;
	if (rem < 0) {
		rem += 86400000;
		days--;
	}
	isotime_civil_from_days(days, &y, &m, &d);
	/* Years past 9999 would not fit the fixed width: clamp. */
	if (y > 9999)
		y = 9999;
	else if (y < 0)
		y = 0;
	snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ",
	    (int)y, m, d, (unsigned)(rem / 3600000),
	    (unsigned)(rem / 60000 % 60), (unsigned)(rem / 1000 % 60),
	    (unsigned)(rem % 1000));
	memcpy(out, buf, ISOTIME_LEN - 1);
	out[ISOTIME_LEN - 1] = '\0';
}

/* Reads exactly n digits at *sp into *out and advances. Returns 0 or -1. */
static int
isotime_digits(const char **sp, int n, unsigned *out)
{
	unsigned v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)**sp))
			return -1;
		v = v * 10 + (unsigned)(**sp - '0');
		(*sp)++;
	}
	*out = v;
	return 0;
}

static int
isotime_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
isotime_parse(const char *s, int64_t *ms)
{
	static const unsigned mdays[] =
	    { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, mo, d, h, mi, sec, frac = 0, oh = 0, om = 0;
	int sign = 0, scale = 100;

	if (isotime_digits(&s, 4, &y) == -1 || *s++ != '-' ||
	    isotime_digits(&s, 2, &mo) == -1 || *s++ != '-' ||
	    isotime_digits(&s, 2, &d) == -1)
		return -1;
	if (*s != 'T' && *s != 't' && *s != ' ')
		return -1;
	s++;
	if (isotime_digits(&s, 2, &h) == -1 || *s++ != ':' ||
	    isotime_digits(&s, 2, &mi) == -1 || *s++ != ':' ||
	    isotime_digits(&s, 2, &sec) == -1)
		return -1;
	if (*s == '.' || *s == ',') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		for (; isdigit((unsigned char)*s); s++) {
			frac += (unsigned)(*s - '0') * (unsigned)scale;
			scale /= 10;
		}
	}
	if (*s == 'Z' || *s == 'z')
		s++;
	else if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if (isotime_digits(&s, 2, &oh) == -1)
			return -1;
		if (*s == ':')
			s++;
		if (isotime_digits(&s, 2, &om) == -1)
			return -1;
		if (oh > 23 || om > 59)
			return -1;
	} else
		return -1;
	if (*s != '\0')
		return -1;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && isotime_leap(y)) ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	*ms = (isotime_days_from_civil(y, mo, d) * 86400 + h * 3600 +
	    mi * 60 + sec) * 1000 + frac -
	    (int64_t)sign * (oh * 3600 + om * 60) * 1000;
	return 0;
}
