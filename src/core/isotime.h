/*
 * isotime.h: wall-clock time in milliseconds since the Unix epoch, and its
 * ISO-8601 text form. Thread-safe.
 */
#ifndef SLUICE_ISOTIME_H
#define SLUICE_ISOTIME_H

#include <stdint.h>

#define ISOTIME_LEN 25		/* "2026-11-22T17:17:46.123Z" plus NUL */

/* Current UTC time in ms since the epoch (CLOCK_REALTIME). */
int64_t isotime_now_ms(void);

/* Current monotonic time in ms, for intervals and deadlines. */
int64_t isotime_mono_ms(void);

/* The same in microseconds. */
int64_t isotime_mono_us(void);

/* Writes ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (ISOTIME_LEN bytes). */
void isotime_format(int64_t ms, char out[ISOTIME_LEN]);

/*
 * Parses an ISO-8601 / RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS", optional
 * fraction of any length (kept to the ms), then "Z", "+HH:MM", "+HHMM" or
 * "-HH:MM" (a missing zone is an error: client times must say their zone).
 * A space is accepted in place of "T". Years 1970 to 9999.
 * Returns 0 and sets *ms, or -1 if s is not such a time.
 */
int isotime_parse(const char *s, int64_t *ms);

#endif
