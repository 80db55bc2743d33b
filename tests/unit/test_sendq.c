/*
 * test_sendq.c: outgoing frames (copies, room around the payload,
 * references) and a connection's bounded send queue (FIFO order across
 * wrap-around and growth, byte accounting against a model, the limit,
 * clearing, storage given back). Frames a test holds show by their refs
 * field whether the queue still holds them.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "unit.h"
#include "core/sluice.h"
#include "hub/frame.h"
#include "hub/sendq.h"

static unsigned
refs(struct frame *f)
{
	return atomic_load(&f->refs);
}

/* A frame of len bytes, every one set to tag. */
static struct frame *
frame_of(size_t len, unsigned char tag)
{
	unsigned char *p;
	struct frame *f;

	p = malloc(len + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memset(p, tag, len);
	f = frame_new(p, len, 0);
	free(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	return f;
}

static void
TEST_frame_copies_payload(void)
{
	char src[] = "{\"event\":\"e\"}";
	struct frame *f;

	f = frame_new(src, sizeof src - 1, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(refs(f), 1);
	CU_ASSERT_EQUAL(f->len, sizeof src - 1);
	CU_ASSERT_EQUAL(f->accepted_us, 0);
	CU_ASSERT_PTR_NULL(f->app);
	CU_ASSERT_PTR_NULL(f->channel);
	CU_ASSERT_PTR_NOT_EQUAL(frame_payload(f), (unsigned char *)src);
	memset(src, 'x', sizeof src - 1);
	CU_ASSERT(memcmp(frame_payload(f), "{\"event\":\"e\"}",
	    sizeof src - 1) == 0);
	frame_unref(f);

	/* Empty payload, no source needed. */
	f = frame_new(NULL, 0, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->len, 0);
	CU_ASSERT_EQUAL(refs(f), 1);
	frame_unref(f);
}

static void
TEST_frame_room_before_and_after(void)
{
	static const char payload[] = "0123456789";
	struct frame *f;
	unsigned char *p;

	CU_ASSERT(FRAME_PRE >= LWS_PRE);
	f = frame_new(payload, 10, 100);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	p = frame_payload(f);
	CU_ASSERT_EQUAL(p - f->buf, FRAME_PRE);
	/* The room before (the WebSocket header) and after (the caller's)
	 * is writable without touching the payload; the sanitizers and
	 * valgrind see any write past the allocation. */
	memset(f->buf, 0xee, FRAME_PRE);
	memset(p + 10, 0xdd, 100);
	CU_ASSERT(memcmp(p, payload, 10) == 0);
	CU_ASSERT_EQUAL(f->len, 10);
	CU_ASSERT_EQUAL(p[-1], 0xee);
	CU_ASSERT_EQUAL(p[109], 0xdd);
	frame_unref(f);
}

static void
TEST_frame_sizes_refused(void)
{
	char small[4] = "abc";

	/* Over 32 bits of payload, or room that overflows: NULL, and the
	 * source is not read. */
	CU_ASSERT_PTR_NULL(frame_new(small, (size_t)UINT32_MAX + 1, 0));
	CU_ASSERT_PTR_NULL(frame_new(small, 3, SIZE_MAX));
	CU_ASSERT_PTR_NULL(frame_new(small, 3, SIZE_MAX - 3));
}

static void
TEST_frame_refs(void)
{
	struct frame *f;

	f = frame_of(5, 'a');
	CU_ASSERT_PTR_EQUAL(frame_ref(f), f);
	CU_ASSERT_EQUAL(refs(f), 2);
	CU_ASSERT_PTR_EQUAL(frame_ref(f), f);
	CU_ASSERT_EQUAL(refs(f), 3);
	frame_unref(f);
	CU_ASSERT_EQUAL(refs(f), 2);
	frame_unref(f);
	CU_ASSERT_EQUAL(refs(f), 1);
	CU_ASSERT_EQUAL(frame_payload(f)[4], 'a');
	frame_unref(f);		/* freed: a leak checker sees otherwise */
	frame_unref(NULL);
}

#define REF_THREADS	4
#define REF_ROUNDS	100000

static void *
ref_run(void *arg)
{
	struct frame *f = arg;
	size_t i;

	for (i = 0; i < REF_ROUNDS; i++) {
		frame_ref(f);
		frame_ref(f);
		frame_unref(f);
		frame_unref(f);
	}
	frame_unref(f);
	return NULL;
}

static void
TEST_frame_refs_across_threads(void)
{
	pthread_t t[REF_THREADS];
	struct frame *f;
	size_t i;

	f = frame_of(8, 'r');
	for (i = 0; i < REF_THREADS; i++) {
		frame_ref(f);
		CU_ASSERT_FATAL(pthread_create(&t[i], NULL, ref_run, f) == 0);
	}
	for (i = 0; i < REF_THREADS; i++)
		pthread_join(t[i], NULL);
	CU_ASSERT_EQUAL(refs(f), 1);
	frame_unref(f);
}

static void
TEST_sendq_empty(void)
{
	struct sendq q;

	memset(&q, 0, sizeof q);
	CU_ASSERT_PTR_NULL(sendq_peek(&q));
	/* No storage until the first push. */
	CU_ASSERT_PTR_NULL(q.items);
	sendq_clear(&q);
	CU_ASSERT_PTR_NULL(q.items);
	CU_ASSERT_EQUAL(q.count, 0);
	CU_ASSERT_EQUAL(q.bytes, 0);
}

static void
TEST_sendq_fifo(void)
{
	struct frame *f[5];
	struct sendq q;
	size_t i;

	memset(&q, 0, sizeof q);
	for (i = 0; i < 5; i++) {
		f[i] = frame_of(i + 1, (unsigned char)('a' + i));
		CU_ASSERT_EQUAL(sendq_push(&q, f[i], 1000), SLUICE_OK);
		CU_ASSERT_EQUAL(refs(f[i]), 2);
		CU_ASSERT_PTR_EQUAL(sendq_peek(&q), f[0]);
	}
	CU_ASSERT_EQUAL(q.count, 5);
	CU_ASSERT_EQUAL(q.bytes, 1 + 2 + 3 + 4 + 5);
	for (i = 0; i < 5; i++) {
		CU_ASSERT_PTR_EQUAL(sendq_peek(&q), f[i]);
		sendq_pop(&q);
		CU_ASSERT_EQUAL(refs(f[i]), 1);
	}
	CU_ASSERT_PTR_NULL(sendq_peek(&q));
	CU_ASSERT_EQUAL(q.bytes, 0);
	sendq_clear(&q);
	for (i = 0; i < 5; i++)
		frame_unref(f[i]);
}

static void
TEST_sendq_same_frame_many_times(void)
{
	struct sendq q;
	struct frame *f;
	size_t i;

	memset(&q, 0, sizeof q);
	f = frame_of(10, 's');
	for (i = 0; i < 50; i++)
		CU_ASSERT_EQUAL(sendq_push(&q, f, 1000), SLUICE_OK);
	CU_ASSERT_EQUAL(refs(f), 51);
	CU_ASSERT_EQUAL(q.bytes, 500);
	for (i = 0; i < 20; i++)
		sendq_pop(&q);
	CU_ASSERT_EQUAL(refs(f), 31);
	CU_ASSERT_EQUAL(q.bytes, 300);
	sendq_clear(&q);
	CU_ASSERT_EQUAL(refs(f), 1);
	frame_unref(f);
}

static void
TEST_sendq_wrap_and_grow(void)
{
	struct frame *f[40];
	struct sendq q;
	size_t i, next = 0, head = 0;

	memset(&q, 0, sizeof q);
	for (i = 0; i < 40; i++)
		f[i] = frame_of(i + 1, (unsigned char)i);
	/* Fill the first ring part way, take some off, so that it wraps;
	 * then grow it while wrapped, twice. */
	for (; next < 6; next++)
		CU_ASSERT_EQUAL(sendq_push(&q, f[next], SIZE_MAX), SLUICE_OK);
	for (; head < 4; head++) {
		CU_ASSERT_PTR_EQUAL(sendq_peek(&q), f[head]);
		sendq_pop(&q);
	}
	for (; next < 12; next++)
		CU_ASSERT_EQUAL(sendq_push(&q, f[next], SIZE_MAX), SLUICE_OK);
	CU_ASSERT_EQUAL(q.count, 8);
	CU_ASSERT(q.head != 0);
	for (; next < 40; next++)
		CU_ASSERT_EQUAL(sendq_push(&q, f[next], SIZE_MAX), SLUICE_OK);
	CU_ASSERT_EQUAL(q.count, 36);
	for (; head < 40; head++) {
		CU_ASSERT_PTR_EQUAL_FATAL(sendq_peek(&q), f[head]);
		sendq_pop(&q);
	}
	CU_ASSERT_PTR_NULL(sendq_peek(&q));
	for (i = 0; i < 40; i++) {
		CU_ASSERT_EQUAL(refs(f[i]), 1);
		frame_unref(f[i]);
	}
	sendq_clear(&q);
}

#define MODEL_FRAMES	64
#define MODEL_OPS	200000

static void
TEST_sendq_against_model(void)
{
	struct frame *pool[MODEL_FRAMES];
	size_t *model, mhead = 0, mcount = 0, mbytes = 0, i, k, wraps = 0;
	unsigned held[MODEL_FRAMES];
	uint32_t seed = 12345, maxcap = 0;
	struct sendq q;
	int push;

	memset(&q, 0, sizeof q);
	memset(held, 0, sizeof held);
	model = calloc(MODEL_OPS, sizeof *model);
	CU_ASSERT_PTR_NOT_NULL_FATAL(model);
	for (i = 0; i < MODEL_FRAMES; i++)
		pool[i] = frame_of(i * 7 % 50, (unsigned char)i);
	for (i = 0; i < MODEL_OPS; i++) {
		seed = seed * 1103515245 + 12345;
		/* Phases of filling and of emptying, so the ring grows,
		 * wraps and is given back many times. */
		push = ((i / 3000) % 2 == 0) ? (seed >> 16) % 10 < 7 :
		    (seed >> 16) % 10 < 3;
		if (push || mcount == 0) {
			k = (seed >> 8) % MODEL_FRAMES;
			CU_ASSERT_EQUAL_FATAL(sendq_push(&q, pool[k],
			    SIZE_MAX), SLUICE_OK);
			model[mhead + mcount++] = k;
			mbytes += pool[k]->len;
			held[k]++;
		} else {
			k = model[mhead];
			CU_ASSERT_PTR_EQUAL_FATAL(sendq_peek(&q), pool[k]);
			sendq_pop(&q);
			mhead++;
			mcount--;
			mbytes -= pool[k]->len;
			held[k]--;
		}
		if (q.cap > maxcap)
			maxcap = q.cap;
		if (q.count > 0 && q.head + q.count > q.cap)
			wraps++;
		CU_ASSERT_EQUAL_FATAL(q.count, mcount);
		CU_ASSERT_EQUAL_FATAL(q.bytes, mbytes);
	}
	/* The run did exercise growth and wrapping. */
	CU_ASSERT(maxcap >= 1024);
	CU_ASSERT(wraps > 1000);
	for (k = 0; k < MODEL_FRAMES; k++)
		CU_ASSERT_EQUAL(refs(pool[k]), 1 + held[k]);
	sendq_clear(&q);
	for (k = 0; k < MODEL_FRAMES; k++) {
		CU_ASSERT_EQUAL(refs(pool[k]), 1);
		frame_unref(pool[k]);
	}
	free(model);
}

static void
TEST_sendq_limit(void)
{
	struct frame *a, *b, *c, *z, *one;
	struct sendq q;

	memset(&q, 0, sizeof q);
	a = frame_of(60, 'a');
	b = frame_of(41, 'b');
	c = frame_of(40, 'c');
	z = frame_of(0, 'z');
	one = frame_of(1, '1');
	CU_ASSERT_EQUAL(sendq_push(&q, a, 100), SLUICE_OK);
	/* One byte over: refused, nothing queued, no reference kept. */
	CU_ASSERT_EQUAL(sendq_push(&q, b, 100), SLUICE_EFULL);
	CU_ASSERT_EQUAL(q.count, 1);
	CU_ASSERT_EQUAL(q.bytes, 60);
	CU_ASSERT_EQUAL(refs(b), 1);
	CU_ASSERT_PTR_EQUAL(sendq_peek(&q), a);
	/* Exactly to the limit: taken. */
	CU_ASSERT_EQUAL(sendq_push(&q, c, 100), SLUICE_OK);
	CU_ASSERT_EQUAL(q.bytes, 100);
	CU_ASSERT_EQUAL(refs(c), 2);
	CU_ASSERT_EQUAL(sendq_push(&q, one, 100), SLUICE_EFULL);
	CU_ASSERT_EQUAL(refs(one), 1);
	/* An empty frame does not go over. */
	CU_ASSERT_EQUAL(sendq_push(&q, z, 100), SLUICE_OK);
	CU_ASSERT_EQUAL(q.count, 3);
	CU_ASSERT_EQUAL(q.bytes, 100);
	/* Room again once the head is written: 40 queued, 60 more fit,
	 * not 61. */
	sendq_pop(&q);
	CU_ASSERT_EQUAL(q.bytes, 40);
	CU_ASSERT_EQUAL(refs(a), 1);
	CU_ASSERT_EQUAL(sendq_push(&q, b, 59), SLUICE_EFULL);
	CU_ASSERT_EQUAL(sendq_push(&q, a, 99), SLUICE_EFULL);
	CU_ASSERT_EQUAL(sendq_push(&q, a, 100), SLUICE_OK);
	CU_ASSERT_EQUAL(q.bytes, 100);
	CU_ASSERT_EQUAL(sendq_push(&q, one, 100), SLUICE_EFULL);
	CU_ASSERT_PTR_EQUAL(sendq_peek(&q), c);
	sendq_pop(&q);
	CU_ASSERT_PTR_EQUAL(sendq_peek(&q), z);
	sendq_pop(&q);
	CU_ASSERT_PTR_EQUAL(sendq_peek(&q), a);
	sendq_clear(&q);
	CU_ASSERT_EQUAL(refs(a), 1);
	CU_ASSERT_EQUAL(refs(b), 1);
	CU_ASSERT_EQUAL(refs(c), 1);
	CU_ASSERT_EQUAL(refs(z), 1);
	CU_ASSERT_EQUAL(refs(one), 1);
	frame_unref(a);
	frame_unref(b);
	frame_unref(c);
	frame_unref(z);
	frame_unref(one);
}

static void
TEST_sendq_oversize_in_empty_queue(void)
{
	struct frame *big, *small;
	struct sendq q;

	memset(&q, 0, sizeof q);
	big = frame_of(1000, 'B');
	small = frame_of(1, 's');
	/* One frame always fits an empty queue, even over the limit... */
	CU_ASSERT_EQUAL(sendq_push(&q, big, 10), SLUICE_OK);
	CU_ASSERT_EQUAL(q.bytes, 1000);
	/* ...but nothing goes behind it. */
	CU_ASSERT_EQUAL(sendq_push(&q, small, 10), SLUICE_EFULL);
	CU_ASSERT_EQUAL(sendq_push(&q, big, 10), SLUICE_EFULL);
	CU_ASSERT_EQUAL(refs(big), 2);
	CU_ASSERT_EQUAL(refs(small), 1);
	sendq_pop(&q);
	CU_ASSERT_EQUAL(q.bytes, 0);
	CU_ASSERT_EQUAL(sendq_push(&q, big, 0), SLUICE_OK);
	CU_ASSERT_EQUAL(sendq_push(&q, small, 0), SLUICE_EFULL);
	/* A limit near SIZE_MAX does not wrap around. */
	CU_ASSERT_EQUAL(sendq_push(&q, small, SIZE_MAX), SLUICE_OK);
	CU_ASSERT_EQUAL(sendq_push(&q, big, 1000), SLUICE_EFULL);
	sendq_clear(&q);
	CU_ASSERT_EQUAL(refs(big), 1);
	CU_ASSERT_EQUAL(refs(small), 1);
	frame_unref(big);
	frame_unref(small);
}

static void
TEST_sendq_clear_drops_refs(void)
{
	struct frame *f[30];
	struct sendq q;
	size_t i;

	memset(&q, 0, sizeof q);
	for (i = 0; i < 30; i++)
		f[i] = frame_of(i, (unsigned char)i);
	/* Wrapped, with frames queued more than once. */
	for (i = 0; i < 30; i++)
		CU_ASSERT_EQUAL(sendq_push(&q, f[i], SIZE_MAX), SLUICE_OK);
	for (i = 0; i < 10; i++)
		sendq_pop(&q);
	for (i = 0; i < 15; i++)
		CU_ASSERT_EQUAL(sendq_push(&q, f[i], SIZE_MAX), SLUICE_OK);
	CU_ASSERT_EQUAL(refs(f[12]), 3);
	sendq_clear(&q);
	CU_ASSERT_EQUAL(q.count, 0);
	CU_ASSERT_EQUAL(q.bytes, 0);
	CU_ASSERT_EQUAL(q.cap, 0);
	CU_ASSERT_PTR_NULL(q.items);
	CU_ASSERT_PTR_NULL(sendq_peek(&q));
	for (i = 0; i < 30; i++)
		CU_ASSERT_EQUAL(refs(f[i]), 1);
	/* Usable again. */
	CU_ASSERT_EQUAL(sendq_push(&q, f[3], 10), SLUICE_OK);
	CU_ASSERT_PTR_EQUAL(sendq_peek(&q), f[3]);
	sendq_clear(&q);
	for (i = 0; i < 30; i++) {
		CU_ASSERT_EQUAL(refs(f[i]), 1);
		frame_unref(f[i]);
	}
}

static void
TEST_sendq_storage_given_back(void)
{
	struct frame *f;
	struct sendq q;
	size_t i;

	memset(&q, 0, sizeof q);
	f = frame_of(3, 'g');
	/* A burst grows the ring; emptying it frees the storage. */
	for (i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(sendq_push(&q, f, SIZE_MAX), SLUICE_OK);
	CU_ASSERT(q.cap >= 100);
	for (i = 0; i < 100; i++)
		sendq_pop(&q);
	CU_ASSERT_PTR_NULL(q.items);
	CU_ASSERT_EQUAL(q.cap, 0);
	CU_ASSERT_EQUAL(q.count, 0);
	CU_ASSERT_EQUAL(q.bytes, 0);
	CU_ASSERT_EQUAL(refs(f), 1);
	/* And it works again from nothing. */
	for (i = 0; i < 20; i++)
		CU_ASSERT_EQUAL(sendq_push(&q, f, SIZE_MAX), SLUICE_OK);
	for (i = 0; i < 20; i++) {
		CU_ASSERT_PTR_EQUAL(sendq_peek(&q), f);
		sendq_pop(&q);
	}
	CU_ASSERT_PTR_NULL(q.items);
	CU_ASSERT_EQUAL(refs(f), 1);
	sendq_clear(&q);
	frame_unref(f);
}

void
test_sendq_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_frame_copies_payload", TEST_frame_copies_payload },
		{ "TEST_frame_room_before_and_after",
		    TEST_frame_room_before_and_after },
		{ "TEST_frame_sizes_refused", TEST_frame_sizes_refused },
		{ "TEST_frame_refs", TEST_frame_refs },
		{ "TEST_frame_refs_across_threads",
		    TEST_frame_refs_across_threads },
		{ "TEST_sendq_empty", TEST_sendq_empty },
		{ "TEST_sendq_fifo", TEST_sendq_fifo },
		{ "TEST_sendq_same_frame_many_times",
		    TEST_sendq_same_frame_many_times },
		{ "TEST_sendq_wrap_and_grow", TEST_sendq_wrap_and_grow },
		{ "TEST_sendq_against_model", TEST_sendq_against_model },
		{ "TEST_sendq_limit", TEST_sendq_limit },
		{ "TEST_sendq_oversize_in_empty_queue",
		    TEST_sendq_oversize_in_empty_queue },
		{ "TEST_sendq_clear_drops_refs", TEST_sendq_clear_drops_refs },
		{ "TEST_sendq_storage_given_back",
		    TEST_sendq_storage_given_back },
		{ NULL, NULL }
	};

	unit_add_suite("sendq", tests);
}
