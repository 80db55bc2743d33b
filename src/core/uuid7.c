/*
 * uuid7.c: UUID version 7 (RFC 9562) ids for events that come without one.
 * Layout: 48-bit big-endian Unix ms, version 7, a 12-bit counter (rand_a)
 * that orders the ids one thread makes in the same ms, variant 10, then 62
 * random bits. Thread rule: all state is thread-local (the last ms, the
 * counter and a buffer of random bytes refilled with getrandom(2)), so
 * threads never contend; ids from one thread are strictly increasing, ids
 * from different threads are told apart by their random bits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/log.h"
#include "core/uuid7.h"

#define UUID7_MS_MAX ((INT64_C(1) << 48) - 1)
#define UUID7_COUNTER_MAX 0xfff
#define UUID7_RANDBUF 512	/* bytes; 64 ids per getrandom call */

struct uuid7_state {
	int64_t		last_ms;	/* -1 before the first id */
	unsigned	counter;
	size_t		rand_pos;	/* UUID7_RANDBUF: all used */
	unsigned char	rand[UUID7_RANDBUF];
};

static __thread struct uuid7_state uuid7_tls = {
	.last_ms = -1,
	.rand_pos = UUID7_RANDBUF,
};

/*
 * Refills the thread's random buffer. getrandom(2) only fails here if the
 * kernel lacks it or the arguments are wrong; ids without randomness would
 * collide across threads, so that is fatal.
 */
static void
uuid7_refill(struct uuid7_state *st)
{
	size_t got = 0;
	ssize_t n;

	while (got < sizeof st->rand) {
		n = getrandom(st->rand + got, sizeof st->rand - got, 0);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_error("uuid7", "getrandom: %s", strerror(errno));
			abort();
		}
		got += (size_t)n;
	}
	st->rand_pos = 0;
}

void
uuid7_generate(int64_t now_ms, char out[UUID7_STRLEN])
{
	static const char hex[] = "0123456789abcdef";
	struct uuid7_state *st = &uuid7_tls;
	unsigned char b[16];
	uint64_t ms;
	size_t i, o;
	int k;

	if (now_ms < 0)
		now_ms = 0;
	if (now_ms > UUID7_MS_MAX)
		now_ms = UUID7_MS_MAX;
	if (now_ms > st->last_ms) {
		st->last_ms = now_ms;
		st->counter = 0;
	} else if (st->counter < UUID7_COUNTER_MAX)
		st->counter++;	/* same ms, or the clock went back */
	else if (st->last_ms < UUID7_MS_MAX) {
		st->last_ms++;	/* counter spent: borrow the next ms */
		st->counter = 0;
	}
	/* Past both (year 10889) ids stop increasing; random bits remain. */

	if (st->rand_pos + 8 > sizeof st->rand)
		uuid7_refill(st);
	ms = (uint64_t)st->last_ms;
	for (k = 0; k < 6; k++)
		b[k] = (unsigned char)(ms >> (40 - 8 * k));
	b[6] = (unsigned char)(0x70 | (st->counter >> 8));
	b[7] = (unsigned char)(st->counter & 0xff);
	memcpy(b + 8, st->rand + st->rand_pos, 8);
	st->rand_pos += 8;
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));

	for (i = 0, o = 0; i < sizeof b; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0x0f];
	}
	out[o] = '\0';
}
