/*
 * test_fwd_window.c: the forwarder's window of publishes, without a broker:
 * acks and nacks with and without multiple, a return and the ack after it,
 * a retry nacked again, confirms out of order, stale tags, a lost
 * connection with retries pending, a publish that never went out, and a
 * randomized run against a simple model of the broker that checks the
 * checkpoint never passes a record not confirmed and that every record is
 * confirmed exactly once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "broker/fwd_window.h"

#define NACK_MS		100
#define RETURN_MS	1000
#define MS		1000	/* microseconds */

/* What the acked callback saw. */
struct acks {
	uint64_t	seqs[64];
	size_t		n;
};

static void
acks_cb(void *arg, const struct fwd_msg *m, int64_t now_us)
{
	struct acks *a = arg;

	(void)now_us;
	if (a->n < sizeof a->seqs / sizeof a->seqs[0])
		a->seqs[a->n] = m->seq;
	a->n++;
}

/* A window of cap with callbacks into a. */
static struct fwd_window *
window(size_t cap, uint64_t checkpoint, struct acks *a)
{
	struct fwd_window *w;

	memset(a, 0, sizeof *a);
	w = fwd_window_new(cap, NACK_MS, RETURN_MS, checkpoint, acks_cb, a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	return w;
}

/* Publishes journal record seq, as read, at now; returns its tag. */
static uint64_t
publish_new(struct fwd_window *w, uint64_t seq, int64_t now)
{
	struct fwd_msg m;

	memset(&m, 0, sizeof m);
	m.seq = seq;
	m.len = 8;
	m.data = malloc(m.len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m.data);
	memcpy(m.data, &seq, sizeof seq);
	CU_ASSERT_FATAL(fwd_window_has_room(w));
	return fwd_window_published(w, &m, now);
}

/* Takes the retry due at now, checks it is seq, publishes it again. */
static uint64_t
republish(struct fwd_window *w, uint64_t seq, int64_t now)
{
	struct fwd_msg m;

	CU_ASSERT_FATAL(fwd_window_take_retry(w, now, &m) == 1);
	CU_ASSERT_EQUAL(m.seq, seq);
	CU_ASSERT_EQUAL(m.is_retry, 1);
	/* The record travels with it. */
	CU_ASSERT(m.len == 8 && memcmp(m.data, &seq, sizeof seq) == 0);
	return fwd_window_published(w, &m, now);
}

static void
TEST_ack_one_by_one(void)
{
	struct fwd_window_tally t = { 0, 0, 0 };
	struct fwd_window *w;
	struct acks a;

	w = window(4, 10, &a);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 10), 10);
	CU_ASSERT_EQUAL(publish_new(w, 11, 0), 1);
	CU_ASSERT_EQUAL(publish_new(w, 12, 0), 2);
	CU_ASSERT_EQUAL(fwd_window_unconfirmed(w), 2);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 12), 10);
	fwd_window_confirm(w, 1, 0, 1, 5 * MS, &t);
	CU_ASSERT_EQUAL(t.acked, 1);
	CU_ASSERT(a.n == 1 && a.seqs[0] == 11);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 12), 11);
	fwd_window_confirm(w, 2, 0, 1, 5 * MS, &t);
	CU_ASSERT_EQUAL(t.acked, 2);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 12), 12);
	CU_ASSERT_EQUAL(fwd_window_unconfirmed(w), 0);
	/* A tag confirmed already, or never given, changes nothing. */
	fwd_window_confirm(w, 2, 0, 0, 5 * MS, &t);
	fwd_window_confirm(w, 9, 1, 0, 5 * MS, &t);
	CU_ASSERT(t.acked == 2 && t.nacked == 0 && t.returned == 0);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 12), 12);
	fwd_window_free(w);
}

static void
TEST_ack_multiple(void)
{
	struct fwd_window_tally t = { 0, 0, 0 };
	struct fwd_window *w;
	struct acks a;
	uint64_t seq;

	w = window(8, 0, &a);
	for (seq = 1; seq <= 5; seq++)
		publish_new(w, seq, 0);
	/* Tags 1..3 at once; 4 and 5 stay in flight. */
	fwd_window_confirm(w, 3, 1, 1, 0, &t);
	CU_ASSERT_EQUAL(t.acked, 3);
	CU_ASSERT(a.n == 3 && a.seqs[0] == 1 && a.seqs[1] == 2 &&
	    a.seqs[2] == 3);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 5), 3);
	CU_ASSERT_EQUAL(fwd_window_unconfirmed(w), 2);
	/* Tag 5 with multiple covers 4 as well. */
	fwd_window_confirm(w, 5, 1, 1, 0, &t);
	CU_ASSERT_EQUAL(t.acked, 5);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 5), 5);
	fwd_window_free(w);
}

static void
TEST_nack_multiple(void)
{
	struct fwd_window_tally t = { 0, 0, 0 };
	struct fwd_window *w;
	struct acks a;
	struct fwd_msg m;
	int64_t due;
	uint64_t seq;

	w = window(8, 0, &a);
	for (seq = 1; seq <= 4; seq++)
		publish_new(w, seq, 0);
	/* Tag 2 was acked alone; the nack of 3 with multiple covers 1 and 3,
	 * not 2 (confirmed already). */
	fwd_window_confirm(w, 2, 0, 1, 0, &t);
	fwd_window_confirm(w, 3, 1, 0, 10 * MS, &t);
	CU_ASSERT(t.acked == 1 && t.nacked == 2);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 4), 0);
	CU_ASSERT_EQUAL(fwd_window_unconfirmed(w), 3);
	/* Not before the nack delay; then in sequence order. */
	CU_ASSERT(fwd_window_next_due(w, &due) == 1 &&
	    due == 10 * MS + NACK_MS * MS);
	CU_ASSERT_EQUAL(fwd_window_take_retry(w, due - 1, &m), 0);
	CU_ASSERT_EQUAL(republish(w, 1, due), 5);
	CU_ASSERT_EQUAL(republish(w, 3, due), 6);
	CU_ASSERT_EQUAL(fwd_window_take_retry(w, due, &m), 0);
	/* 4 (tag 4) is acked; 1 and 3 not yet: the checkpoint holds. */
	fwd_window_confirm(w, 4, 0, 1, due, &t);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 4), 0);
	fwd_window_confirm(w, 6, 1, 1, due, &t);
	CU_ASSERT_EQUAL(t.acked, 4);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 4), 4);
	CU_ASSERT_EQUAL(fwd_window_unconfirmed(w), 0);
	fwd_window_free(w);
}

static void
TEST_return_then_ack(void)
{
	struct fwd_window_tally t = { 0, 0, 0 };
	const struct fwd_msg *r;
	struct fwd_window *w;
	struct acks a;
	struct fwd_msg m;

	w = window(4, 0, &a);
	publish_new(w, 1, 0);
	publish_new(w, 2, 0);
	/* basic.return of seq 2, then the ack of both. */
	r = fwd_window_returned(w, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT(r->seq == 2 && r->tag == 2);
	/* A second return of the same publish, or of a seq not in flight,
	 * matches nothing. */
	CU_ASSERT_PTR_NULL(fwd_window_returned(w, 2));
	CU_ASSERT_PTR_NULL(fwd_window_returned(w, 7));
	fwd_window_confirm(w, 2, 1, 1, 0, &t);
	CU_ASSERT(t.acked == 1 && t.returned == 1);
	CU_ASSERT(a.n == 1 && a.seqs[0] == 1);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 2), 1);
	/* Published again after the return delay; this time it is taken. */
	CU_ASSERT_EQUAL(fwd_window_take_retry(w, RETURN_MS * MS - 1, &m), 0);
	CU_ASSERT_EQUAL(republish(w, 2, RETURN_MS * MS), 3);
	fwd_window_confirm(w, 3, 0, 1, RETURN_MS * MS, &t);
	CU_ASSERT(a.n == 2 && a.seqs[1] == 2);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 2), 2);
	fwd_window_free(w);
}

static void
TEST_retry_nacked_again(void)
{
	struct fwd_window_tally t = { 0, 0, 0 };
	struct fwd_window *w;
	struct acks a;
	int64_t now = 0;
	int i;

	w = window(2, 0, &a);
	publish_new(w, 1, now);
	fwd_window_confirm(w, 1, 0, 0, now, &t);
	/* Nacked three times over, each retry due a delay later. */
	for (i = 0; i < 3; i++) {
		now += NACK_MS * MS;
		CU_ASSERT_EQUAL(republish(w, 1, now), (uint64_t)i + 2);
		CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 1), 0);
		fwd_window_confirm(w, (uint64_t)i + 2, 0, 0, now, &t);
		CU_ASSERT_EQUAL(fwd_window_unconfirmed(w), 1);
	}
	CU_ASSERT_EQUAL(t.nacked, 4);
	CU_ASSERT_EQUAL(a.n, 0);
	now += NACK_MS * MS;
	republish(w, 1, now);
	fwd_window_confirm(w, 5, 0, 1, now, &t);
	CU_ASSERT(a.n == 1 && a.seqs[0] == 1);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 1), 1);
	fwd_window_free(w);
}

static void
TEST_confirms_out_of_order(void)
{
	struct fwd_window *w;
	struct acks a;
	uint64_t seq;

	w = window(8, 100, &a);
	for (seq = 101; seq <= 105; seq++)
		publish_new(w, seq, 0);
	/* 5, 3, 4 acked: the oldest (1) is not, the checkpoint holds. */
	fwd_window_confirm(w, 5, 0, 1, 0, NULL);
	fwd_window_confirm(w, 3, 0, 1, 0, NULL);
	fwd_window_confirm(w, 4, 0, 1, 0, NULL);
	CU_ASSERT_EQUAL(a.n, 3);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 105), 100);
	CU_ASSERT_EQUAL(fwd_window_unconfirmed(w), 2);
	fwd_window_confirm(w, 1, 0, 1, 0, NULL);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 105), 101);
	/* The acked slots still hold room until the oldest goes. */
	CU_ASSERT_EQUAL(fwd_window_unconfirmed(w), 1);
	fwd_window_confirm(w, 2, 0, 1, 0, NULL);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 105), 105);
	CU_ASSERT_EQUAL(a.n, 5);
	/* A multiple ack reaching back over them counts nothing twice. */
	fwd_window_confirm(w, 5, 1, 1, 0, NULL);
	CU_ASSERT_EQUAL(a.n, 5);
	fwd_window_free(w);
}

static void
TEST_room(void)
{
	struct fwd_window_tally t = { 0, 0, 0 };
	struct fwd_window *w;
	struct acks a;

	CU_ASSERT_PTR_NULL(fwd_window_new(0, 1, 1, 0, NULL, NULL));
	w = window(2, 0, &a);
	publish_new(w, 1, 0);
	publish_new(w, 2, 0);
	CU_ASSERT_FALSE(fwd_window_has_room(w));
	/* A nacked record waits: it still takes its room. */
	fwd_window_confirm(w, 1, 0, 0, 0, &t);
	CU_ASSERT_FALSE(fwd_window_has_room(w));
	fwd_window_free(w);
	/* An acked one behind an unconfirmed one too, until that goes. */
	w = window(2, 0, &a);
	publish_new(w, 1, 0);
	publish_new(w, 2, 0);
	fwd_window_confirm(w, 2, 0, 1, 0, &t);
	CU_ASSERT_FALSE(fwd_window_has_room(w));
	fwd_window_confirm(w, 1, 0, 1, 0, &t);
	CU_ASSERT_TRUE(fwd_window_has_room(w));
	fwd_window_free(w);
}

static void
TEST_full_of_retries(void)
{
	struct fwd_window_tally t = { 0, 0, 0 };
	struct fwd_window *w;
	struct acks a;

	/* Every record in the window nacked: no room for a new one, but the
	 * waiting ones still go out again. */
	w = window(3, 0, &a);
	publish_new(w, 1, 0);
	publish_new(w, 2, 0);
	publish_new(w, 3, 0);
	fwd_window_confirm(w, 3, 1, 0, 0, &t);
	CU_ASSERT_EQUAL(t.nacked, 3);
	CU_ASSERT_FALSE(fwd_window_has_room(w));
	CU_ASSERT_EQUAL(republish(w, 1, NACK_MS * MS), 4);
	CU_ASSERT_EQUAL(republish(w, 2, NACK_MS * MS), 5);
	CU_ASSERT_EQUAL(republish(w, 3, NACK_MS * MS), 6);
	CU_ASSERT_FALSE(fwd_window_has_room(w));
	fwd_window_confirm(w, 6, 1, 1, NACK_MS * MS, &t);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 3), 3);
	CU_ASSERT_TRUE(fwd_window_has_room(w));
	fwd_window_free(w);
}

static void
TEST_reset_with_retries_pending(void)
{
	struct fwd_window_tally t = { 0, 0, 0 };
	struct fwd_window *w;
	struct acks a;
	struct fwd_msg m;
	uint64_t seq;
	int64_t due;

	w = window(8, 0, &a);
	for (seq = 1; seq <= 6; seq++)
		publish_new(w, seq, 0);
	/* 2 acked, 3 and 5 nacked (waiting 100 ms), 4 returned; 1, 4, 6 in
	 * flight. Then the connection drops. */
	fwd_window_confirm(w, 2, 0, 1, 0, &t);
	fwd_window_confirm(w, 3, 0, 0, 0, &t);
	fwd_window_confirm(w, 5, 0, 0, 0, &t);
	CU_ASSERT_PTR_NOT_NULL(fwd_window_returned(w, 4));
	fwd_window_reset(w, 50 * MS);
	CU_ASSERT_EQUAL(fwd_window_unconfirmed(w), 5);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 6), 0);
	/* Everything in flight is due at once, the nacked ones when they
	 * were, all in sequence order; tags start again at 1. */
	CU_ASSERT(fwd_window_next_due(w, &due) == 1 && due == 50 * MS);
	CU_ASSERT_EQUAL(republish(w, 1, 50 * MS), 1);
	CU_ASSERT_EQUAL(republish(w, 4, 50 * MS), 2);
	CU_ASSERT_EQUAL(republish(w, 6, 50 * MS), 3);
	CU_ASSERT_EQUAL(fwd_window_take_retry(w, 50 * MS, &m), 0);
	CU_ASSERT_EQUAL(republish(w, 3, NACK_MS * MS), 4);
	CU_ASSERT_EQUAL(republish(w, 5, NACK_MS * MS), 5);
	/* The return was of the old publish: this ack confirms 4. */
	fwd_window_confirm(w, 5, 1, 1, NACK_MS * MS, &t);
	CU_ASSERT_EQUAL(t.returned, 0);
	CU_ASSERT_EQUAL(a.n, 6);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 6), 6);
	/* A tag not given on this channel changes nothing. */
	fwd_window_confirm(w, 6, 1, 0, 0, &t);
	CU_ASSERT_EQUAL(t.nacked, 2);
	CU_ASSERT_EQUAL(fwd_window_unconfirmed(w), 0);
	fwd_window_free(w);
}

static void
TEST_unsent_goes_first(void)
{
	struct fwd_window *w;
	struct acks a;
	struct fwd_msg m;

	w = window(4, 0, &a);
	publish_new(w, 1, 0);
	/* Record 2 was read, the publish failed: the connection is reset
	 * and 2 handed back. Both go out again, 1 first. */
	memset(&m, 0, sizeof m);
	m.seq = 2;
	m.len = 8;
	m.data = malloc(8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m.data);
	memcpy(m.data, &m.seq, sizeof m.seq);
	fwd_window_reset(w, 7);
	fwd_window_unsent(w, &m, 7);
	CU_ASSERT_EQUAL(fwd_window_unconfirmed(w), 2);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 2), 0);
	CU_ASSERT_EQUAL(republish(w, 1, 7), 1);
	CU_ASSERT_EQUAL(republish(w, 2, 7), 2);
	fwd_window_confirm(w, 2, 1, 1, 7, NULL);
	CU_ASSERT_EQUAL(fwd_window_checkpoint(w, 2), 2);
	/* Freed with records waiting and in flight: nothing leaks (the
	 * ASan run says). */
	publish_new(w, 3, 8);
	fwd_window_confirm(w, 3, 0, 0, 8, NULL);
	publish_new(w, 4, 8);
	CU_ASSERT_EQUAL(fwd_window_unconfirmed(w), 2);
	fwd_window_free(w);
}

/*
 * The model: each record's state as the broker and the forwarder would
 * have it, kept independently of the window.
 */
enum model_state { UNREAD, INFLIGHT, WAITING, CONFIRMED };

struct model {
	size_t			 n;		/* records 1..n */
	size_t			 cap;		/* of the window */
	enum model_state	*state;
	uint64_t		*tag;		/* INFLIGHT: of its publish */
	int			*returned;	/* INFLIGHT: came back */
	int64_t			*due;		/* WAITING: due then */
	unsigned		*confirms;	/* acked callbacks seen */
	uint64_t		 last_read;
	uint64_t		 next_tag;
	uint64_t		 checkpoint;
	unsigned		 seed;
};

static unsigned
model_rand(struct model *mo, unsigned n)
{
	mo->seed = mo->seed * 1103515245 + 12345;
	return (mo->seed >> 16) % n;
}

static void
model_acked(void *arg, const struct fwd_msg *m, int64_t now_us)
{
	struct model *mo = arg;

	(void)now_us;
	CU_ASSERT_FATAL(m->seq >= 1 && m->seq <= mo->n);
	mo->confirms[m->seq]++;
}

/* Where the checkpoint must be: before the oldest record not confirmed. */
static uint64_t
model_checkpoint(const struct model *mo)
{
	uint64_t s;

	for (s = 1; s <= mo->last_read; s++)
		if (mo->state[s] != CONFIRMED)
			return s - 1;
	return mo->last_read;
}

/* Applies a publish of seq to the model; tag is what the window gave. */
static void
model_published(struct model *mo, uint64_t seq, uint64_t tag)
{
	CU_ASSERT_EQUAL(tag, mo->next_tag);
	mo->next_tag++;
	mo->state[seq] = INFLIGHT;
	mo->tag[seq] = tag;
	mo->returned[seq] = 0;
}

/*
 * The ring slots taken: from the oldest publish not confirmed to the last
 * one (done slots after the oldest stay), none when all are done.
 */
static size_t
model_slots(const struct model *mo)
{
	uint64_t s, oldest = 0;

	for (s = 1; s <= mo->n; s++)
		if (mo->state[s] == INFLIGHT &&
		    (oldest == 0 || mo->tag[s] < oldest))
			oldest = mo->tag[s];
	return oldest == 0 ? 0 : (size_t)(mo->next_tag - oldest);
}

/* The records read and not confirmed. */
static size_t
model_open(const struct model *mo)
{
	size_t s, open = 0;

	for (s = 1; s <= mo->n; s++)
		if (mo->state[s] == INFLIGHT || mo->state[s] == WAITING)
			open++;
	return open;
}

/* One publish, as the forwarder does it: the waiting record due first, else
 * the next unread one if there is room. Sometimes it fails: the connection
 * resets and it is handed back. */
static void
model_publish_one(struct model *mo, struct fwd_window *w, int64_t now,
    int may_fail)
{
	uint64_t s, want = 0;
	struct fwd_msg m;

	/* A publish needs a free slot. */
	for (s = 1; s <= mo->n && want == 0 && model_slots(mo) < mo->cap; s++)
		if (mo->state[s] == WAITING && mo->due[s] <= now)
			want = s;
	if (fwd_window_take_retry(w, now, &m)) {
		CU_ASSERT_EQUAL_FATAL(m.seq, want);
	} else {
		CU_ASSERT_EQUAL_FATAL(want, 0);
		if (mo->last_read == mo->n || !fwd_window_has_room(w))
			return;
		memset(&m, 0, sizeof m);
		m.seq = ++mo->last_read;
		m.data = malloc(1);
		m.len = 1;
	}
	if (may_fail && model_rand(mo, 50) == 0) {
		/* Reset first, as fwd_lost does inside the publish. */
		for (s = 1; s <= mo->n; s++)
			if (mo->state[s] == INFLIGHT) {
				mo->state[s] = WAITING;
				mo->due[s] = now;
			}
		mo->next_tag = 1;
		fwd_window_reset(w, now);
		fwd_window_unsent(w, &m, now);
		mo->state[m.seq] = WAITING;
		mo->due[m.seq] = now;
		return;
	}
	model_published(mo, m.seq, fwd_window_published(w, &m, now));
}

/* A confirm of tag (and before, if multiple) as the model sees it. */
static void
model_confirm(struct model *mo, struct fwd_window *w, uint64_t tag,
    int multiple, int ack, int64_t now)
{
	struct fwd_window_tally t = { 0, 0, 0 };
	size_t acked = 0, again = 0;
	uint64_t s;

	for (s = 1; s <= mo->n; s++) {
		if (mo->state[s] != INFLIGHT || mo->tag[s] > tag ||
		    (!multiple && mo->tag[s] != tag))
			continue;
		if (ack && !mo->returned[s]) {
			mo->state[s] = CONFIRMED;
			acked++;
		} else {
			mo->state[s] = WAITING;
			mo->due[s] = now + (ack ? RETURN_MS : NACK_MS) * MS;
			again++;
		}
	}
	fwd_window_confirm(w, tag, multiple, ack, now, &t);
	CU_ASSERT_EQUAL(t.acked, acked);
	CU_ASSERT_EQUAL(t.nacked + t.returned, again);
}

/* Picks the tag of a random record in flight; 0 if none. */
static uint64_t
model_some_tag(struct model *mo, uint64_t *seq)
{
	uint64_t s, pick = 0, k = 0;

	for (s = 1; s <= mo->n; s++)
		if (mo->state[s] == INFLIGHT && model_rand(mo, (unsigned)++k) == 0)
			pick = s;
	*seq = pick;
	return pick != 0 ? mo->tag[pick] : 0;
}

/* Checks the window against the model after every step. */
static void
model_check(struct model *mo, struct fwd_window *w)
{
	uint64_t cp, s;

	cp = fwd_window_checkpoint(w, mo->last_read);
	CU_ASSERT_FATAL(cp >= mo->checkpoint);	/* never back */
	CU_ASSERT_EQUAL_FATAL(cp, model_checkpoint(mo));
	mo->checkpoint = cp;
	for (s = 1; s <= mo->n; s++)
		CU_ASSERT_FATAL(mo->confirms[s] ==
		    (mo->state[s] == CONFIRMED ? 1u : 0u));
	CU_ASSERT_EQUAL_FATAL(fwd_window_unconfirmed(w), model_open(mo));
	CU_ASSERT_EQUAL_FATAL(fwd_window_has_room(w),
	    model_slots(mo) < mo->cap && model_open(mo) < mo->cap);
}

/* One randomized run: n records through a window of cap. */
static void
model_run(size_t n, size_t cap, unsigned seed, unsigned steps)
{
	struct fwd_window *w;
	struct model mo;
	uint64_t tag, seq, s;
	int64_t now = 0;
	unsigned i, op;

	memset(&mo, 0, sizeof mo);
	mo.n = n;
	mo.cap = cap;
	mo.seed = seed;
	mo.next_tag = 1;
	mo.state = calloc(n + 1, sizeof *mo.state);
	mo.tag = calloc(n + 1, sizeof *mo.tag);
	mo.returned = calloc(n + 1, sizeof *mo.returned);
	mo.due = calloc(n + 1, sizeof *mo.due);
	mo.confirms = calloc(n + 1, sizeof *mo.confirms);
	CU_ASSERT_FATAL(mo.state && mo.tag && mo.returned && mo.due &&
	    mo.confirms);
	w = fwd_window_new(cap, NACK_MS, RETURN_MS, 0, model_acked, &mo);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);

	/* Chaos: publishes, acks, nacks, returns, resets, time passing. */
	for (i = 0; i < steps; i++) {
		op = model_rand(&mo, 100);
		if (op < 40)
			model_publish_one(&mo, w, now, 1);
		else if (op < 70) {
			tag = model_some_tag(&mo, &seq);
			if (tag != 0)
				model_confirm(&mo, w, tag, model_rand(&mo, 3) == 0,
				    1, now);
		} else if (op < 80) {
			tag = model_some_tag(&mo, &seq);
			if (tag != 0)
				model_confirm(&mo, w, tag, model_rand(&mo, 2),
				    0, now);
		} else if (op < 85) {
			tag = model_some_tag(&mo, &seq);
			if (tag != 0 && !mo.returned[seq]) {
				CU_ASSERT_PTR_NOT_NULL(fwd_window_returned(w,
				    seq));
				mo.returned[seq] = 1;
			}
		} else if (op < 87) {
			for (s = 1; s <= n; s++)
				if (mo.state[s] == INFLIGHT) {
					mo.state[s] = WAITING;
					mo.due[s] = now;
				}
			mo.next_tag = 1;
			fwd_window_reset(w, now);
		} else if (op < 90) {
			/* A stale or unknown tag: ignored. */
			model_confirm(&mo, w, mo.next_tag + model_rand(&mo, 3),
			    0, model_rand(&mo, 2), now);
		} else
			now += (int64_t)model_rand(&mo, 400) * MS;
		model_check(&mo, w);
	}

	/* Calm: the broker takes everything; all of it gets confirmed. */
	for (i = 0; mo.checkpoint < n && i < 100000; i++) {
		/* Publish while there is something to publish. */
		for (;;) {
			tag = mo.next_tag;
			model_publish_one(&mo, w, now, 0);
			if (mo.next_tag == tag)
				break;
		}
		if (mo.next_tag > 1)
			model_confirm(&mo, w, mo.next_tag - 1, 1, 1, now);
		now += RETURN_MS * MS;
		model_check(&mo, w);
	}
	CU_ASSERT_EQUAL(mo.checkpoint, n);
	for (s = 1; s <= n; s++)
		CU_ASSERT_EQUAL(mo.confirms[s], 1);
	CU_ASSERT_EQUAL(fwd_window_unconfirmed(w), 0);
	fwd_window_free(w);
	free(mo.state);
	free(mo.tag);
	free(mo.returned);
	free(mo.due);
	free(mo.confirms);
}

static void
TEST_against_model(void)
{
	static const size_t caps[] = { 1, 2, 3, 5, 8, 16, 64 };
	unsigned seed;

	for (seed = 1; seed <= 70; seed++)
		model_run(300, caps[seed % 7], seed, 4000);
}

void
test_fwd_window_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_ack_one_by_one", TEST_ack_one_by_one },
		{ "TEST_ack_multiple", TEST_ack_multiple },
		{ "TEST_nack_multiple", TEST_nack_multiple },
		{ "TEST_return_then_ack", TEST_return_then_ack },
		{ "TEST_retry_nacked_again", TEST_retry_nacked_again },
		{ "TEST_confirms_out_of_order", TEST_confirms_out_of_order },
		{ "TEST_room", TEST_room },
		{ "TEST_full_of_retries", TEST_full_of_retries },
		{ "TEST_reset_with_retries_pending",
		    TEST_reset_with_retries_pending },
		{ "TEST_unsent_goes_first", TEST_unsent_goes_first },
		{ "TEST_against_model", TEST_against_model },
		{ NULL, NULL }
	};

	unit_add_suite("fwd_window", tests);
}
