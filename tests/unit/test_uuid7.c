/*
 * test_uuid7.c: UUIDv7 format, version and variant, the embedded time, the
 * per-thread ordering (same ms, counter overflow, a clock that goes back)
 * and uniqueness across threads. Each test that depends on the generator's
 * thread-local state runs its generation in a fresh thread; CUnit's
 * assertions are made on the main thread afterwards.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "core/isotime.h"
#include "core/uuid7.h"

#define N_ORDERED 100000
#define N_THREADS 4
#define N_PER_THREAD 50000

/* Runs fn(arg) in a new thread (so with a fresh generator) and waits. */
static void
in_fresh_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	CU_ASSERT_FATAL(pthread_create(&t, NULL, fn, arg) == 0);
	CU_ASSERT_FATAL(pthread_join(t, NULL) == 0);
}

/* Returns the value of n hex digits at s, or -1 if one is not hex. */
static int64_t
hexval(const char *s, int n)
{
	int64_t v = 0;
	int i;

	for (i = 0; i < n; i++) {
		v <<= 4;
		if (s[i] >= '0' && s[i] <= '9')
			v |= s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			v |= s[i] - 'a' + 10;
		else
			return -1;
	}
	return v;
}

/* The 48-bit ms of an id. */
static int64_t
id_ms(const char *id)
{
	char hex[13];

	memcpy(hex, id, 8);
	memcpy(hex + 8, id + 9, 4);
	return hexval(hex, 12);
}

/* The 12-bit counter (rand_a) of an id. */
static int64_t
id_counter(const char *id)
{
	return hexval(id + 15, 3);
}

/* Returns 1 if id is 8-4-4-4-12 lower-case hex. */
static int
well_formed(const char *id)
{
	size_t i;

	if (strlen(id) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (id[i] != '-')
				return 0;
		} else if (hexval(id + i, 1) == -1)
			return 0;
	}
	return 1;
}

static void
TEST_format(void)
{
	char id[UUID7_STRLEN];
	int i;

	for (i = 0; i < 1000; i++) {
		memset(id, 'X', sizeof id);
		uuid7_generate(isotime_now_ms(), id);
		CU_ASSERT_EQUAL(id[36], '\0');
		CU_ASSERT(well_formed(id));
	}
	CU_ASSERT_FALSE(well_formed("0190b7e2-8f5A-7c3b-9d1e-0123456789ab"));
	CU_ASSERT_FALSE(well_formed("0190b7e2-8f5a-7c3b-9d1e0-123456789ab"));
}

static void
TEST_version_variant(void)
{
	char id[UUID7_STRLEN];
	int i;

	for (i = 0; i < 1000; i++) {
		uuid7_generate(isotime_now_ms(), id);
		CU_ASSERT_EQUAL(id[14], '7');
		CU_ASSERT_PTR_NOT_NULL(strchr("89ab", id[19]));
	}
}

struct first_ids {
	int64_t	now;
	char	ids[3][UUID7_STRLEN];
};

static void *
make_first_ids(void *arg)
{
	struct first_ids *f = arg;
	int i;

	for (i = 0; i < 3; i++)
		uuid7_generate(f->now, f->ids[i]);
	return NULL;
}

static void
TEST_embedded_ms_is_now(void)
{
	struct first_ids f;
	int i;

	f.now = isotime_now_ms();
	in_fresh_thread(make_first_ids, &f);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(id_ms(f.ids[i]), f.now);
		CU_ASSERT_EQUAL(id_counter(f.ids[i]), i);
	}
	/* Known value: 2026-01-01T00:00:00.000Z = 0x19b76daa800 ms. */
	f.now = INT64_C(1767225600000);
	in_fresh_thread(make_first_ids, &f);
	CU_ASSERT_NSTRING_EQUAL(f.ids[0], "019b76da-a800-7000-", 19);
}

struct ordered {
	char	(*ids)[UUID7_STRLEN];
	int64_t	*clock;
	size_t	 n;
};

static void *
make_ordered(void *arg)
{
	struct ordered *o = arg;
	size_t i;

	for (i = 0; i < o->n; i++)
		uuid7_generate(o->clock[i], o->ids[i]);
	return NULL;
}

static void
TEST_strictly_increasing_100k(void)
{
	struct ordered o;
	int64_t base = INT64_C(1767225600000), ms = base;
	size_t i, bad = 0, same_ms = 0;

	o.n = N_ORDERED;
	o.ids = calloc(o.n, sizeof *o.ids);
	o.clock = calloc(o.n, sizeof *o.clock);
	CU_ASSERT_FATAL(o.ids != NULL && o.clock != NULL);
	/*
	 * A clock that mostly stands still (about 40 ids per ms), jumps back
	 * 3 ms every 997 ids, goes back a whole second once, and stands still
	 * for 10,000 ids (more than the 4096 the counter holds).
	 */
	for (i = 0; i < o.n; i++) {
		if (i % 40 == 0)
			ms++;
		if (i % 997 == 996)
			ms -= 3;
		if (i == 50000)
			ms -= 1000;
		o.clock[i] = i >= 60000 && i < 70000 ? o.clock[59999] : ms;
	}
	in_fresh_thread(make_ordered, &o);
	for (i = 0; i < o.n; i++) {
		CU_ASSERT_TRUE(well_formed(o.ids[i]));
		if (i > 0 && strcmp(o.ids[i - 1], o.ids[i]) >= 0)
			bad++;
		if (i > 0 && id_ms(o.ids[i - 1]) == id_ms(o.ids[i]))
			same_ms++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(same_ms > o.n / 2);
	/* The embedded time never runs behind the clock it was given. */
	for (i = 0; i < o.n; i++)
		if (id_ms(o.ids[i]) < o.clock[i])
			bad++;
	CU_ASSERT_EQUAL(bad, 0);
	free(o.ids);
	free(o.clock);
}

static void
TEST_clock_backwards_keeps_last_ms(void)
{
	char ids[3][UUID7_STRLEN];
	int64_t clock[3] = { 5000000, 4000000, 5000001 };
	struct ordered o = { ids, clock, 3 };

	in_fresh_thread(make_ordered, &o);
	CU_ASSERT_EQUAL(id_ms(ids[0]), 5000000);
	CU_ASSERT_EQUAL(id_ms(ids[1]), 5000000);
	CU_ASSERT_EQUAL(id_counter(ids[1]), 1);
	CU_ASSERT_EQUAL(id_ms(ids[2]), 5000001);
	CU_ASSERT_EQUAL(id_counter(ids[2]), 0);
	CU_ASSERT(strcmp(ids[0], ids[1]) < 0);
	CU_ASSERT(strcmp(ids[1], ids[2]) < 0);
}

static void
TEST_counter_overflow_carries(void)
{
	struct ordered o;
	size_t i;

	o.n = 4098;
	o.ids = calloc(o.n, sizeof *o.ids);
	o.clock = calloc(o.n, sizeof *o.clock);
	CU_ASSERT_FATAL(o.ids != NULL && o.clock != NULL);
	for (i = 0; i < o.n; i++)
		o.clock[i] = 7000000;
	in_fresh_thread(make_ordered, &o);
	CU_ASSERT_EQUAL(id_ms(o.ids[4095]), 7000000);
	CU_ASSERT_EQUAL(id_counter(o.ids[4095]), 0xfff);
	CU_ASSERT_EQUAL(id_ms(o.ids[4096]), 7000001);
	CU_ASSERT_EQUAL(id_counter(o.ids[4096]), 0);
	CU_ASSERT_EQUAL(id_counter(o.ids[4097]), 1);
	CU_ASSERT(strcmp(o.ids[4095], o.ids[4096]) < 0);
	free(o.ids);
	free(o.clock);
}

static void
TEST_random_bits_differ(void)
{
	char a[UUID7_STRLEN], b[UUID7_STRLEN];
	int64_t now = isotime_now_ms();

	uuid7_generate(now, a);
	uuid7_generate(now, b);
	/* The last 62 bits: 2 bits of the 4th group and all of the 5th. */
	CU_ASSERT(strcmp(a + 19, b + 19) != 0);
	CU_ASSERT(strcmp(a + 24, b + 24) != 0);
}

static void
TEST_out_of_range_clock(void)
{
	char ids[2][UUID7_STRLEN];
	int64_t clock[2] = { -5, INT64_MAX };
	struct ordered o = { ids, clock, 2 };

	in_fresh_thread(make_ordered, &o);
	CU_ASSERT(well_formed(ids[0]));
	CU_ASSERT_EQUAL(id_ms(ids[0]), 0);
	CU_ASSERT_NSTRING_EQUAL(ids[1], "ffffffff-ffff-7000-", 19);
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
TEST_unique_across_threads(void)
{
	struct ordered o[N_THREADS];
	pthread_t t[N_THREADS];
	char (*all)[UUID7_STRLEN];
	int64_t *clock, base = isotime_now_ms();
	size_t i, dups = 0;
	int k;

	all = calloc((size_t)N_THREADS * N_PER_THREAD, sizeof *all);
	clock = calloc(N_PER_THREAD, sizeof *clock);
	CU_ASSERT_FATAL(all != NULL && clock != NULL);
	/* Every thread sees the same clock: many ids share ms and counter. */
	for (i = 0; i < N_PER_THREAD; i++)
		clock[i] = base + (int64_t)(i / 100);
	for (k = 0; k < N_THREADS; k++) {
		o[k].ids = all + (size_t)k * N_PER_THREAD;
		o[k].clock = clock;
		o[k].n = N_PER_THREAD;
		CU_ASSERT_FATAL(pthread_create(&t[k], NULL, make_ordered,
		    &o[k]) == 0);
	}
	for (k = 0; k < N_THREADS; k++)
		CU_ASSERT_FATAL(pthread_join(t[k], NULL) == 0);
	/* Same clock, same counters: only the random bits tell them apart. */
	CU_ASSERT_NSTRING_EQUAL(all[0], all[N_PER_THREAD], 19);
	qsort(all, (size_t)N_THREADS * N_PER_THREAD, sizeof *all, cmp_id);
	for (i = 1; i < (size_t)N_THREADS * N_PER_THREAD; i++)
		if (strcmp(all[i - 1], all[i]) == 0)
			dups++;
	CU_ASSERT_EQUAL(dups, 0);
	free(all);
	free(clock);
}

void
test_uuid7_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_format", TEST_format },
		{ "TEST_version_variant", TEST_version_variant },
		{ "TEST_embedded_ms_is_now", TEST_embedded_ms_is_now },
		{ "TEST_strictly_increasing_100k",
		    TEST_strictly_increasing_100k },
		{ "TEST_clock_backwards_keeps_last_ms",
		    TEST_clock_backwards_keeps_last_ms },
		{ "TEST_counter_overflow_carries",
		    TEST_counter_overflow_carries },
		{ "TEST_random_bits_differ", TEST_random_bits_differ },
		{ "TEST_out_of_range_clock", TEST_out_of_range_clock },
		{ "TEST_unique_across_threads", TEST_unique_across_threads },
		{ NULL, NULL }
	};

	unit_add_suite("uuid7", tests);
}
