/*
 * test_journal.c: the write-ahead journal: append, durability waits and
 * group commit, reopen and replay from the checkpoint, torn tails at every
 * offset, corrupt records (more in test_journal_corrupt.c) and
 * checkpoints, segment rollover and deletion, a full journal, the reader
 * (seek, durability, segments, concurrency) and a failing disk
 * (RLIMIT_FSIZE).
 */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "core/sluice.h"
#include "journal/journal.h"
#include "journal/journal_segment.h"

#define MIB (1024 * 1024)

/* A durability callback the test can wait for. */
struct waitbox {
	pthread_mutex_t	m;
	pthread_cond_t	c;
	int		done;
	int		status;
	pthread_t	thread;
};

static void
waitbox_init(struct waitbox *w)
{
	memset(w, 0, sizeof *w);
	pthread_mutex_init(&w->m, NULL);
	pthread_cond_init(&w->c, NULL);
}

static void
waitbox_cb(void *arg, int status)
{
	struct waitbox *w = arg;

	pthread_mutex_lock(&w->m);
	w->done++;
	w->status = status;
	w->thread = pthread_self();
	pthread_cond_broadcast(&w->c);
	pthread_mutex_unlock(&w->m);
}

/* Waits up to 10 s for w->done to reach n; returns 0 or -1. */
static int
waitbox_await(struct waitbox *w, int n)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&w->m);
	while (w->done < n && rc == 0)
		rc = pthread_cond_timedwait(&w->c, &w->m, &ts);
	pthread_mutex_unlock(&w->m);
	return w->done >= n ? 0 : -1;
}

/* How many callbacks w got so far. */
static int
waitbox_count(struct waitbox *w)
{
	int n;

	pthread_mutex_lock(&w->m);
	n = w->done;
	pthread_mutex_unlock(&w->m);
	return n;
}

static void
waitbox_destroy(struct waitbox *w)
{
	pthread_mutex_destroy(&w->m);
	pthread_cond_destroy(&w->c);
}

/* Waits until seq is durable; returns the callback's status, or -1. */
static int
wait_durable(struct journal *j, uint64_t seq)
{
	struct waitbox w;
	int rc;

	waitbox_init(&w);
	CU_ASSERT_EQUAL_FATAL(journal_wait(j, seq, waitbox_cb, &w), SLUICE_OK);
	rc = waitbox_await(&w, 1) == 0 ? w.status : -1;
	waitbox_destroy(&w);
	return rc;
}

static struct journal *
jopen(const char *dir, uint64_t max_bytes, uint64_t segment_bytes)
{
	struct journal_config cfg = { dir, max_bytes, segment_bytes };
	struct journal *j = NULL;

	CU_ASSERT_EQUAL_FATAL(journal_open(&cfg, &j), SLUICE_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	return j;
}

/* Appends one string record; returns the status. */
static int
append_status(struct journal *j, const char *s)
{
	struct iovec iov = { (void *)(uintptr_t)s, strlen(s) };
	uint64_t seq;

	return journal_append(j, &iov, 1, &seq);
}

/* Appends one string record and returns its seq (0 on error). */
static uint64_t
append_str(struct journal *j, const char *s)
{
	struct iovec iov = { (void *)(uintptr_t)s, strlen(s) };
	uint64_t seq = 0;

	CU_ASSERT_EQUAL(journal_append(j, &iov, 1, &seq), SLUICE_OK);
	return seq;
}

/* The payload the tests give record seq, padded to len bytes. */
static size_t
payload(uint64_t seq, char *buf, size_t len)
{
	size_t n;

	n = (size_t)snprintf(buf, len + 1, "record-%llu:",
	    (unsigned long long)seq);
	for (; n < len; n++)
		buf[n] = (char)('a' + (seq + n) % 26);
	return len;
}

/* Appends count records of len bytes; checks their seqs follow. */
static void
append_many(struct journal *j, uint64_t count, size_t len)
{
	char buf[4096];
	struct iovec iov = { buf, 0 };
	struct journal_stats st;
	uint64_t i, seq;

	journal_get_stats(j, &st);
	for (i = 0; i < count; i++) {
		iov.iov_len = payload(st.next_seq + i, buf, len);
		CU_ASSERT_EQUAL_FATAL(journal_append(j, &iov, 1, &seq),
		    SLUICE_OK);
		CU_ASSERT_EQUAL(seq, st.next_seq + i);
	}
}

/*
 * Reads with r until it returns 0 and checks it got exactly the records
 * first..last of len bytes, in order. Returns how many it read.
 */
static uint64_t
expect_records(struct journal_reader *r, uint64_t first, uint64_t last,
    size_t len)
{
	char want[4096];
	const void *data;
	uint64_t seq, n = 0, expect = first;
	size_t dlen;
	int rc, bad = 0;

	while ((rc = journal_reader_next(r, &seq, &data, &dlen)) == 1) {
		payload(seq, want, len);
		if (seq != expect || dlen != len ||
		    memcmp(data, want, len) != 0)
			bad++;
		expect = seq + 1;
		n++;
	}
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(n, first <= last ? last - first + 1 : 0);
	return n;
}

static char *
seg_path(const char *dir, uint64_t first)
{
	char name[JSEG_NAME_LEN], *p;

	jseg_name(first, name);
	CU_ASSERT_FATAL(asprintf(&p, "%s/%s", dir, name) != -1);
	return p;
}

/* Overwrites one byte of a file with its complement. */
static void
flip_byte(const char *path, off_t off)
{
	unsigned char b;
	int fd;

	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd != -1);
	CU_ASSERT_FATAL(pread(fd, &b, 1, off) == 1);
	b = (unsigned char)~b;
	CU_ASSERT_FATAL(pwrite(fd, &b, 1, off) == 1);
	close(fd);
}

static off_t
file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return -1;
	return st.st_size;
}

/* Counts the segment files in dir. */
static int
count_segments(const char *dir)
{
	DIR *d;
	struct dirent *de;
	int n = 0;
	size_t len;

	d = opendir(dir);
	CU_ASSERT_FATAL(d != NULL);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len > 4 && strcmp(de->d_name + len - 4, ".seg") == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* Polls until the journal lists at most n segments (10 s). */
static int
await_segments(struct journal *j, uint64_t n)
{
	struct journal_stats st;
	int i;

	for (i = 0; i < 5000; i++) {
		journal_get_stats(j, &st);
		if (st.segments <= n)
			return 0;
		usleep(2000);
	}
	return -1;
}

static char *
tmpdir(void)
{
	char *d = strdup(unit_tmpdir());

	CU_ASSERT_FATAL(d != NULL);
	return d;
}

static void
rmdir_free(char *d)
{
	unit_rmtree(d);
	free(d);
}

/*
 * A callback that holds the writer thread until released, so the tests
 * can pile up records that are deterministically not yet durable.
 */
struct gate {
	pthread_mutex_t	m;
	pthread_cond_t	c;
	int		entered;
	int		open;
	int		status;
};

static void
gate_cb(void *arg, int status)
{
	struct gate *g = arg;

	pthread_mutex_lock(&g->m);
	g->entered = 1;
	g->status = status;
	pthread_cond_broadcast(&g->c);
	while (!g->open)
		pthread_cond_wait(&g->c, &g->m);
	pthread_mutex_unlock(&g->m);
}

static void
gate_init(struct gate *g)
{
	memset(g, 0, sizeof *g);
	pthread_mutex_init(&g->m, NULL);
	pthread_cond_init(&g->c, NULL);
}

static void
gate_await_entered(struct gate *g)
{
	pthread_mutex_lock(&g->m);
	while (!g->entered)
		pthread_cond_wait(&g->c, &g->m);
	pthread_mutex_unlock(&g->m);
}

static void
gate_release(struct gate *g)
{
	pthread_mutex_lock(&g->m);
	g->open = 1;
	pthread_cond_broadcast(&g->c);
	pthread_mutex_unlock(&g->m);
}

static void
gate_destroy(struct gate *g)
{
	pthread_mutex_destroy(&g->m);
	pthread_cond_destroy(&g->c);
}

/*
 * Parks the writer thread in gate_cb: registers the gate on the next seq,
 * appends that record and waits for the writer to reach the callback.
 */
static uint64_t
park_writer(struct journal *j, struct gate *g)
{
	struct journal_stats st;
	uint64_t seq;

	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(journal_wait(j, st.next_seq, gate_cb, g), SLUICE_OK);
	seq = append_str(j, "gate");
	CU_ASSERT_EQUAL(seq, st.next_seq);
	gate_await_entered(g);
	return seq;
}

static void
TEST_invalid_config(void)
{
	struct journal_config cfg = { NULL, MIB, MIB };
	struct journal *j = (struct journal *)&cfg;
	char *d = tmpdir();

	CU_ASSERT_EQUAL(journal_open(&cfg, &j), SLUICE_EINVAL);
	CU_ASSERT_PTR_NULL(j);
	cfg.dir = d;
	cfg.segment_bytes = JSEG_HDR_LEN;
	CU_ASSERT_EQUAL(journal_open(&cfg, &j), SLUICE_EINVAL);
	cfg.segment_bytes = MIB;
	cfg.max_bytes = 0;
	CU_ASSERT_EQUAL(journal_open(&cfg, &j), SLUICE_EINVAL);
	rmdir_free(d);
}

static void
TEST_creates_dir_and_locks_it(void)
{
	struct journal_config cfg = { NULL, MIB, MIB };
	struct journal *j, *j2 = NULL;
	char *d = tmpdir(), *sub;

	CU_ASSERT_FATAL(asprintf(&sub, "%s/a/b/journal", d) != -1);
	j = jopen(sub, MIB, MIB);
	cfg.dir = sub;
	/* A second journal on the same directory is refused. */
	CU_ASSERT_EQUAL(journal_open(&cfg, &j2), SLUICE_EIO);
	CU_ASSERT_PTR_NULL(j2);
	journal_close(j);
	CU_ASSERT_EQUAL(journal_open(&cfg, &j2), SLUICE_OK);
	journal_close(j2);
	free(sub);
	rmdir_free(d);
}

static void
TEST_append_wait_reopen_read(void)
{
	char *d = tmpdir(), buf[3][128];
	struct iovec iov[3];
	struct journal *j;
	struct journal_reader *r;
	struct journal_stats st;
	uint64_t seq, i;

	j = jopen(d, 64 * MIB, MIB);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.next_seq, 1);
	CU_ASSERT_EQUAL(st.durable_seq, 0);
	append_many(j, 97, 100);
	/* Three at once get consecutive numbers. */
	for (i = 0; i < 3; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = payload(98 + i, buf[i], 100);
	}
	CU_ASSERT_EQUAL(journal_append(j, iov, 3, &seq), SLUICE_OK);
	CU_ASSERT_EQUAL(seq, 100);
	CU_ASSERT_EQUAL(journal_append(j, iov, 0, &seq), SLUICE_EINVAL);
	CU_ASSERT_EQUAL(wait_durable(j, 100), SLUICE_OK);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.durable_seq, 100);
	CU_ASSERT(st.fsyncs >= 1);
	journal_close(j);

	j = jopen(d, 64 * MIB, MIB);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.next_seq, 101);
	CU_ASSERT_EQUAL(st.durable_seq, 100);
	CU_ASSERT_EQUAL(st.confirmed_seq, 0);
	CU_ASSERT_EQUAL(st.records_recovered, 100);
	CU_ASSERT_EQUAL(st.records_unconfirmed, 100);
	CU_ASSERT_EQUAL(st.bytes_truncated, 0);
	CU_ASSERT_EQUAL(st.bytes, 100 * (JSEG_HDR_LEN + 100));
	CU_ASSERT_EQUAL(st.segments, 1);
	CU_ASSERT_EQUAL(st.failed, 0);
	r = journal_reader_new(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	expect_records(r, 1, 100, 100);
	/* New records after a reopen follow on and read back too. */
	append_many(j, 5, 100);
	CU_ASSERT_EQUAL(wait_durable(j, 105), SLUICE_OK);
	expect_records(r, 101, 105, 100);
	journal_reader_free(r);
	journal_close(j);
	rmdir_free(d);
}

static void
TEST_wait_when_already_durable_runs_in_caller(void)
{
	char *d = tmpdir();
	struct journal *j;
	struct waitbox w;

	j = jopen(d, MIB, MIB);
	append_str(j, "x");
	CU_ASSERT_EQUAL(wait_durable(j, 1), SLUICE_OK);
	waitbox_init(&w);
	CU_ASSERT_EQUAL(journal_wait(j, 1, waitbox_cb, &w), SLUICE_OK);
	/* Called before journal_wait returned, on this thread. */
	CU_ASSERT_EQUAL(w.done, 1);
	CU_ASSERT_EQUAL(w.status, SLUICE_OK);
	CU_ASSERT(pthread_equal(w.thread, pthread_self()));
	CU_ASSERT_EQUAL(journal_wait(j, 0, waitbox_cb, &w), SLUICE_OK);
	CU_ASSERT_EQUAL(w.done, 2);
	waitbox_destroy(&w);
	journal_close(j);
	rmdir_free(d);
}

#define GC_THREADS	8
#define GC_PER_THREAD	500

struct gc_shared {
	struct journal	*j;
	pthread_mutex_t	 m;
	int		 calls;
	int		 not_ok;
	int		 append_errors;
	pthread_t	 writer;	/* a thread that ran a callback */
	int		 off_writer;	/* callbacks on more than one */
};

static void
gc_cb(void *arg, int status)
{
	struct gc_shared *s = arg;

	pthread_mutex_lock(&s->m);
	s->calls++;
	if (status != SLUICE_OK)
		s->not_ok++;
	pthread_mutex_unlock(&s->m);
}

static void *
gc_thread(void *arg)
{
	struct gc_shared *s = arg;
	char buf[512];
	struct iovec iov = { buf, sizeof buf };
	uint64_t seq;
	int i;

	memset(buf, 'g', sizeof buf);
	for (i = 0; i < GC_PER_THREAD; i++) {
		if (journal_append(s->j, &iov, 1, &seq) != SLUICE_OK ||
		    journal_wait(s->j, seq, gc_cb, s) != SLUICE_OK) {
			pthread_mutex_lock(&s->m);
			s->append_errors++;
			pthread_mutex_unlock(&s->m);
		}
	}
	return NULL;
}

static void
TEST_group_commit_many_threads(void)
{
	char *d = tmpdir();
	struct gc_shared s;
	struct journal_stats st;
	pthread_t t[GC_THREADS];
	int i, calls = 0, spins;

	memset(&s, 0, sizeof s);
	pthread_mutex_init(&s.m, NULL);
	s.j = jopen(d, 64 * MIB, 4 * MIB);
	for (i = 0; i < GC_THREADS; i++)
		CU_ASSERT_FATAL(pthread_create(&t[i], NULL, gc_thread, &s) ==
		    0);
	for (i = 0; i < GC_THREADS; i++)
		pthread_join(t[i], NULL);
	for (spins = 0; spins < 5000; spins++) {
		pthread_mutex_lock(&s.m);
		calls = s.calls;
		pthread_mutex_unlock(&s.m);
		if (calls == GC_THREADS * GC_PER_THREAD)
			break;
		usleep(2000);
	}
	CU_ASSERT_EQUAL(s.append_errors, 0);
	CU_ASSERT_EQUAL(calls, GC_THREADS * GC_PER_THREAD);
	CU_ASSERT_EQUAL(s.not_ok, 0);
	journal_get_stats(s.j, &st);
	CU_ASSERT_EQUAL(st.durable_seq, GC_THREADS * GC_PER_THREAD);
	CU_ASSERT(st.fsyncs >= 1);
	/* Group commit: far fewer fsyncs than records. */
	CU_ASSERT(st.fsyncs <= GC_THREADS * GC_PER_THREAD / 8);
	journal_close(s.j);
	pthread_mutex_destroy(&s.m);
	rmdir_free(d);
}

static void
TEST_group_commit_one_fsync_covers_all_pending(void)
{
	char *d = tmpdir();
	struct journal *j;
	struct journal_stats st, st2;
	struct gate g;
	struct waitbox w;
	uint64_t seq, i;

	gate_init(&g);
	waitbox_init(&w);
	j = jopen(d, 64 * MIB, 4 * MIB);
	park_writer(j, &g);
	journal_get_stats(j, &st);
	/* While the writer is held, 1000 appends and waits pile up. */
	for (i = 0; i < 1000; i++) {
		seq = append_str(j, "piled up");
		CU_ASSERT_EQUAL(journal_wait(j, seq, waitbox_cb, &w),
		    SLUICE_OK);
	}
	CU_ASSERT_EQUAL(waitbox_count(&w), 0);
	gate_release(&g);
	CU_ASSERT_EQUAL(waitbox_await(&w, 1000), 0);
	CU_ASSERT_EQUAL(w.status, SLUICE_OK);
	CU_ASSERT(!pthread_equal(w.thread, pthread_self()));
	journal_get_stats(j, &st2);
	CU_ASSERT_EQUAL(st2.fsyncs, st.fsyncs + 1);
	CU_ASSERT_EQUAL(st2.durable_seq, 1001);
	CU_ASSERT_EQUAL(g.status, SLUICE_OK);
	journal_close(j);
	waitbox_destroy(&w);
	gate_destroy(&g);
	rmdir_free(d);
}

static void
TEST_reader_returns_only_durable(void)
{
	char *d = tmpdir();
	struct journal *j;
	struct journal_reader *r;
	struct journal_stats st;
	struct gate g;
	const void *data;
	uint64_t seq;
	size_t len;
	struct pollfd pfd;
	uint64_t v;

	gate_init(&g);
	j = jopen(d, MIB, 256);
	r = journal_reader_new(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(journal_reader_next(r, &seq, &data, &len), 0);
	park_writer(j, &g);
	/* Enough to roll over into new segments, none of it durable. */
	append_many(j, 20, 50);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.durable_seq, 1);
	CU_ASSERT_EQUAL(st.next_seq, 22);
	CU_ASSERT_EQUAL(journal_reader_next(r, &seq, &data, &len), 1);
	CU_ASSERT_EQUAL(seq, 1);
	CU_ASSERT(len == 4 && memcmp(data, "gate", 4) == 0);
	CU_ASSERT_EQUAL(journal_reader_next(r, &seq, &data, &len), 0);
	CU_ASSERT_EQUAL(journal_reader_next(r, &seq, &data, &len), 0);
	/* Drain the eventfd, release the writer: it becomes readable. */
	while (read(journal_notify_fd(j), &v, sizeof v) == sizeof v)
		;
	gate_release(&g);
	CU_ASSERT_EQUAL(wait_durable(j, 21), SLUICE_OK);
	pfd.fd = journal_notify_fd(j);
	pfd.events = POLLIN;
	CU_ASSERT_EQUAL(poll(&pfd, 1, 5000), 1);
	CU_ASSERT_EQUAL(read(pfd.fd, &v, sizeof v), (ssize_t)sizeof v);
	CU_ASSERT(v >= 1);
	expect_records(r, 2, 21, 50);
	journal_reader_free(r);
	journal_close(j);
	gate_destroy(&g);
	rmdir_free(d);
}

static void
TEST_torn_tail_every_offset(void)
{
	char *d = tmpdir(), *path;
	const char *recs[] = { "alpha-one", "bravo-two",
	    "charlie-three-is-the-torn-one" };
	struct journal *j;
	struct journal_reader *r;
	struct journal_stats st;
	unsigned char *orig;
	const void *data;
	size_t len, olen, start, off, i;
	uint64_t seq;

	j = jopen(d, MIB, MIB);
	for (i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(append_str(j, recs[i]), i + 1);
	CU_ASSERT_EQUAL(wait_durable(j, 3), SLUICE_OK);
	journal_close(j);
	path = seg_path(d, 1);
	orig = unit_read_file(path, &olen);
	start = olen - (JSEG_HDR_LEN + strlen(recs[2]));
	CU_ASSERT_EQUAL(start, 2 * JSEG_HDR_LEN + strlen(recs[0]) +
	    strlen(recs[1]));

	for (off = start; off < olen; off++) {
		unit_rmtree(d);
		CU_ASSERT_FATAL(mkdir(d, 0700) == 0);
		unit_write_file(path, orig, off);
		j = jopen(d, MIB, MIB);
		journal_get_stats(j, &st);
		CU_ASSERT_EQUAL(st.bytes_truncated, off - start);
		CU_ASSERT_EQUAL(st.records_recovered, 2);
		CU_ASSERT_EQUAL(st.next_seq, 3);
		CU_ASSERT_EQUAL(st.durable_seq, 2);
		CU_ASSERT_EQUAL(st.bytes, start);
		CU_ASSERT_EQUAL(file_size(path), (off_t)start);
		r = journal_reader_new(j);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		for (i = 0; i < 2; i++) {
			CU_ASSERT_EQUAL(journal_reader_next(r, &seq, &data,
			    &len), 1);
			CU_ASSERT_EQUAL(seq, i + 1);
			CU_ASSERT(len == strlen(recs[i]) &&
			    memcmp(data, recs[i], len) == 0);
		}
		CU_ASSERT_EQUAL(journal_reader_next(r, &seq, &data, &len), 0);
		/* The torn record's number is reused by the next append. */
		CU_ASSERT_EQUAL(append_str(j, "after the tear"), 3);
		CU_ASSERT_EQUAL(wait_durable(j, 3), SLUICE_OK);
		CU_ASSERT_EQUAL(journal_reader_next(r, &seq, &data, &len), 1);
		CU_ASSERT_EQUAL(seq, 3);
		CU_ASSERT(len == 14 && memcmp(data, "after the tear", 14) == 0);
		CU_ASSERT_EQUAL(journal_reader_next(r, &seq, &data, &len), 0);
		journal_reader_free(r);
		journal_close(j);
	}

	/* Once more, reopened: both old and new records are intact. */
	j = jopen(d, MIB, MIB);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.bytes_truncated, 0);
	CU_ASSERT_EQUAL(st.records_recovered, 3);
	journal_close(j);
	free(orig);
	free(path);
	rmdir_free(d);
}

static void
TEST_flipped_payload_byte_in_last_record(void)
{
	char *d = tmpdir(), *path;
	struct journal *j;
	struct journal_reader *r;
	struct journal_stats st;
	size_t olen;
	unsigned char *orig;

	j = jopen(d, MIB, MIB);
	append_many(j, 3, 40);
	CU_ASSERT_EQUAL(wait_durable(j, 3), SLUICE_OK);
	journal_close(j);
	path = seg_path(d, 1);
	orig = unit_read_file(path, &olen);
	CU_ASSERT_EQUAL(olen, 3 * (JSEG_HDR_LEN + 40));
	flip_byte(path, (off_t)(olen - 7));
	j = jopen(d, MIB, MIB);
	journal_get_stats(j, &st);
	/* Whole but damaged: corruption, not a torn tail. The segment is
	 * rewritten without it, its number is not handed out again. */
	CU_ASSERT_EQUAL(st.bytes_truncated, 0);
	CU_ASSERT_EQUAL(st.records_corrupt, 1);
	CU_ASSERT_EQUAL(st.records_recovered, 2);
	CU_ASSERT_EQUAL(st.next_seq, 4);
	CU_ASSERT_EQUAL(file_size(path), (off_t)(2 * (JSEG_HDR_LEN + 40)));
	r = journal_reader_new(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	expect_records(r, 1, 2, 40);
	journal_reader_free(r);
	journal_close(j);
	free(orig);
	free(path);
	rmdir_free(d);
}

/* Four segments of two 40-byte records: 1-2, 3-4, 5-6, 7-8. */
#define MID_SEG	(2 * (JSEG_HDR_LEN + 40))

/* Writes those four segments to a journal in d and closes it. */
static void
write_mid_segments(const char *d)
{
	struct journal *j;

	j = jopen(d, MIB, MID_SEG);
	append_many(j, 8, 40);
	CU_ASSERT_EQUAL(wait_durable(j, 8), SLUICE_OK);
	journal_close(j);
	CU_ASSERT_EQUAL(count_segments(d), 4);
}

/*
 * Reads with r until it returns 0 and checks it got exactly the records
 * want[0..n-1], in order, each of len bytes.
 */
static void
expect_seqs(struct journal_reader *r, const uint64_t *want, size_t n,
    size_t len)
{
	const void *data;
	uint64_t seq;
	size_t dlen, i;

	for (i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(journal_reader_next(r, &seq, &data, &dlen), 1);
		CU_ASSERT_EQUAL(seq, want[i]);
		CU_ASSERT_EQUAL(dlen, len);
	}
	CU_ASSERT_EQUAL(journal_reader_next(r, &seq, &data, &dlen), 0);
}

static void
TEST_corrupt_middle_segment(void)
{
	char *d = tmpdir(), *path;
	struct journal *j;
	struct journal_reader *r;
	struct journal_stats st;
	static const uint64_t want[] = { 1, 2, 3, 5, 6, 7, 8 };

	write_mid_segments(d);
	/* A payload byte of record 4, the second one of segment 3. */
	path = seg_path(d, 3);
	flip_byte(path, JSEG_HDR_LEN + 40 + JSEG_HDR_LEN + 5);

	j = jopen(d, MIB, MID_SEG);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.records_recovered, 7);
	CU_ASSERT_EQUAL(st.records_corrupt, 1);
	CU_ASSERT_EQUAL(st.bytes_truncated, 0);
	CU_ASSERT_EQUAL(st.next_seq, 9);
	CU_ASSERT_EQUAL(st.segments, 4);
	/* Rewritten with its intact record; the original is quarantined. */
	CU_ASSERT_EQUAL(file_size(path), MID_SEG / 2);
	r = journal_reader_new(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	expect_seqs(r, want, SLUICE_ARRAY_LEN(want), 40);
	append_many(j, 1, 40);
	CU_ASSERT_EQUAL(wait_durable(j, 9), SLUICE_OK);
	expect_records(r, 9, 9, 40);
	journal_reader_free(r);
	journal_close(j);
	free(path);
	rmdir_free(d);
}

static void
TEST_corrupt_first_record_of_middle_segment(void)
{
	char *d = tmpdir(), *path;
	struct journal *j;
	struct journal_reader *r;
	struct journal_stats st;
	static const uint64_t want[] = { 1, 2, 4, 5, 6, 7, 8 };

	write_mid_segments(d);
	path = seg_path(d, 3);
	flip_byte(path, 0);	/* the length of record 3 */
	j = jopen(d, MIB, MID_SEG);
	journal_get_stats(j, &st);
	/* Only record 3 is lost: record 4 is found after it. */
	CU_ASSERT_EQUAL(st.records_recovered, 7);
	CU_ASSERT_EQUAL(st.records_corrupt, 1);
	/* No intact record is left under its name: 4 is a segment now. */
	CU_ASSERT_EQUAL(st.segments, 4);
	CU_ASSERT_EQUAL(file_size(path), -1);
	r = journal_reader_new(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	expect_seqs(r, want, SLUICE_ARRAY_LEN(want), 40);
	journal_reader_free(r);
	journal_close(j);
	free(path);
	rmdir_free(d);
}

static void
TEST_reader_resyncs_in_segment_corrupted_while_open(void)
{
	char *d = tmpdir(), *path;
	struct journal *j;
	struct journal_reader *r;
	struct journal_stats st;

	j = jopen(d, MIB, MID_SEG);
	append_many(j, 6, 40);
	CU_ASSERT_EQUAL(wait_durable(j, 6), SLUICE_OK);
	path = seg_path(d, 1);
	flip_byte(path, JSEG_HDR_LEN + 3);	/* record 1's payload */
	r = journal_reader_new(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	/* Record 1 is lost; record 2, in the same segment, is not. */
	expect_records(r, 2, 6, 40);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.records_corrupt, 1);
	CU_ASSERT_EQUAL(journal_corruption_pending(j), 1);
	journal_reader_free(r);
	journal_close(j);
	free(path);
	rmdir_free(d);
}

static void
TEST_replay_from_checkpoint(void)
{
	char *d = tmpdir();
	struct journal *j;
	struct journal_reader *r;
	struct journal_stats st;

	j = jopen(d, MIB, MIB);
	append_many(j, 50, 30);
	CU_ASSERT_EQUAL(wait_durable(j, 50), SLUICE_OK);
	journal_confirm(j, 20);
	journal_confirm(j, 10);		/* backwards: ignored */
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.confirmed_seq, 20);
	CU_ASSERT_EQUAL(st.records_unconfirmed, 30);
	journal_close(j);

	j = jopen(d, MIB, MIB);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.confirmed_seq, 20);
	CU_ASSERT_EQUAL(st.records_recovered, 30);
	CU_ASSERT_EQUAL(st.records_unconfirmed, 30);
	CU_ASSERT_EQUAL(st.next_seq, 51);
	r = journal_reader_new(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	expect_records(r, 21, 50, 30);
	journal_reader_free(r);
	/* Confirming past what is durable is cut to durable_seq. */
	journal_confirm(j, 1000);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.confirmed_seq, 50);
	journal_close(j);

	j = jopen(d, MIB, MIB);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.confirmed_seq, 50);
	CU_ASSERT_EQUAL(st.records_recovered, 0);
	/* Its only segment was all confirmed: deleted at open. */
	CU_ASSERT_EQUAL(st.segments, 0);
	CU_ASSERT_EQUAL(st.bytes, 0);
	CU_ASSERT_EQUAL(st.next_seq, 51);
	CU_ASSERT_EQUAL(append_str(j, "next"), 51);
	journal_close(j);
	rmdir_free(d);
}

/* Reads the persisted checkpoint of dir; -1 if missing or corrupt. */
static int64_t
read_checkpoint(const char *dir)
{
	unsigned char b[64];
	char *p;
	uint64_t seq;
	ssize_t n;
	int fd;

	CU_ASSERT_FATAL(asprintf(&p, "%s/checkpoint", dir) != -1);
	fd = open(p, O_RDONLY);
	free(p);
	if (fd == -1)
		return -1;
	n = read(fd, b, sizeof b);
	close(fd);
	if (n < 0 || jseg_ckpt_decode(b, (size_t)n, &seq) == -1)
		return -1;
	return (int64_t)seq;
}

static void
TEST_checkpoint_persisted_while_running(void)
{
	char *d = tmpdir();
	struct journal *j;
	int i;

	j = jopen(d, MIB, MIB);
	append_many(j, 10, 30);
	CU_ASSERT_EQUAL(wait_durable(j, 10), SLUICE_OK);
	CU_ASSERT_EQUAL(read_checkpoint(d), -1);
	journal_confirm(j, 7);
	for (i = 0; i < 5000 && read_checkpoint(d) != 7; i++)
		usleep(2000);
	CU_ASSERT_EQUAL(read_checkpoint(d), 7);
	journal_confirm(j, 9);
	for (i = 0; i < 5000 && read_checkpoint(d) != 9; i++)
		usleep(2000);
	CU_ASSERT_EQUAL(read_checkpoint(d), 9);
	journal_confirm(j, 10);
	journal_close(j);
	/* Close persists the last one at once. */
	CU_ASSERT_EQUAL(read_checkpoint(d), 10);
	rmdir_free(d);
}

static void
TEST_corrupt_checkpoint_reads_from_start(void)
{
	char *d = tmpdir(), *p;
	struct journal *j;
	struct journal_reader *r;
	struct journal_stats st;

	j = jopen(d, MIB, MIB);
	append_many(j, 10, 30);
	CU_ASSERT_EQUAL(wait_durable(j, 10), SLUICE_OK);
	journal_confirm(j, 6);
	journal_close(j);
	CU_ASSERT_EQUAL(read_checkpoint(d), 6);
	CU_ASSERT_FATAL(asprintf(&p, "%s/checkpoint", d) != -1);
	flip_byte(p, 5);
	CU_ASSERT_EQUAL(read_checkpoint(d), -1);

	j = jopen(d, MIB, MIB);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.confirmed_seq, 0);
	CU_ASSERT_EQUAL(st.records_recovered, 10);
	r = journal_reader_new(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	expect_records(r, 1, 10, 30);
	journal_reader_free(r);
	journal_close(j);

	/* A short file is corrupt too. */
	unit_write_file(p, "x", 1);
	j = jopen(d, MIB, MIB);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.confirmed_seq, 0);
	CU_ASSERT_EQUAL(st.records_recovered, 10);
	journal_close(j);
	free(p);
	rmdir_free(d);
}

/* Four 100-byte records per segment. */
#define ROLL_SEG	(4 * (JSEG_HDR_LEN + 100))

static void
TEST_rollover_and_deletion_of_confirmed_segments(void)
{
	char *d = tmpdir(), *p;
	struct journal *j;
	struct journal_reader *r;
	struct journal_stats st;
	uint64_t first;

	j = jopen(d, MIB, ROLL_SEG);
	append_many(j, 40, 100);
	CU_ASSERT_EQUAL(wait_durable(j, 40), SLUICE_OK);
	CU_ASSERT_EQUAL(count_segments(d), 10);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.segments, 10);
	CU_ASSERT_EQUAL(st.bytes, 40 * (JSEG_HDR_LEN + 100));
	for (first = 1; first <= 37; first += 4) {
		p = seg_path(d, first);
		CU_ASSERT_EQUAL(file_size(p), ROLL_SEG);
		free(p);
	}
	/* Confirming 22 frees the segments 1..20 only. */
	journal_confirm(j, 22);
	CU_ASSERT_EQUAL(await_segments(j, 5), 0);
	CU_ASSERT_EQUAL(count_segments(d), 5);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.bytes, 20 * (JSEG_HDR_LEN + 100));
	p = seg_path(d, 21);
	CU_ASSERT(file_size(p) == ROLL_SEG);
	free(p);
	/* A reader starts after the confirmed record. */
	r = journal_reader_new(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	expect_records(r, 23, 40, 100);
	/* The segment being written is never deleted. */
	journal_confirm(j, 40);
	CU_ASSERT_EQUAL(await_segments(j, 1), 0);
	CU_ASSERT_EQUAL(count_segments(d), 1);
	/* Its reader goes on with what comes next. */
	append_many(j, 10, 100);
	CU_ASSERT_EQUAL(wait_durable(j, 50), SLUICE_OK);
	expect_records(r, 41, 50, 100);
	journal_reader_free(r);
	journal_close(j);
	rmdir_free(d);
}

static void
TEST_full_then_freed_by_confirm(void)
{
	char *d = tmpdir(), buf[2][128];
	struct iovec iov[2];
	struct journal *j;
	struct journal_stats st, st2;
	uint64_t seq = 0, n;
	int i, rc;

	j = jopen(d, 3 * ROLL_SEG, ROLL_SEG);
	append_many(j, 11, 100);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.bytes, 11 * (JSEG_HDR_LEN + 100));
	/* Room for one more record, not two: all or nothing. */
	for (i = 0; i < 2; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = payload(12 + (uint64_t)i, buf[i], 100);
	}
	CU_ASSERT_EQUAL(st.full, 0);
	CU_ASSERT_EQUAL(journal_append(j, iov, 2, &seq), SLUICE_EFULL);
	journal_get_stats(j, &st2);
	CU_ASSERT_EQUAL(st2.next_seq, 12);
	CU_ASSERT_EQUAL(st2.bytes, st.bytes);
	CU_ASSERT_EQUAL(st2.full, 1);
	CU_ASSERT_EQUAL(journal_append(j, iov, 1, &seq), SLUICE_OK);
	CU_ASSERT_EQUAL(seq, 12);
	journal_get_stats(j, &st2);
	CU_ASSERT_EQUAL(st2.full, 0);
	CU_ASSERT_EQUAL(journal_append(j, iov + 1, 1, &seq), SLUICE_EFULL);
	CU_ASSERT_EQUAL(wait_durable(j, 12), SLUICE_OK);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.bytes, st.max_bytes);
	CU_ASSERT_EQUAL(st.next_seq, 13);
	/* Still full once durable: the space is on disk. */
	CU_ASSERT_EQUAL(journal_append(j, iov + 1, 1, &seq), SLUICE_EFULL);

	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.full, 1);

	/* Confirm all: the two full segments go, the last one stays. */
	journal_confirm(j, 12);
	CU_ASSERT_EQUAL(await_segments(j, 1), 0);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.bytes, ROLL_SEG);
	CU_ASSERT_EQUAL(st.full, 0);
	for (n = 0; n < 8; n++) {
		iov[0].iov_len = payload(13 + n, buf[0], 100);
		rc = journal_append(j, iov, 1, &seq);
		CU_ASSERT_EQUAL(rc, SLUICE_OK);
		CU_ASSERT_EQUAL(seq, 13 + n);
	}
	CU_ASSERT_EQUAL(journal_append(j, iov, 1, &seq), SLUICE_EFULL);
	CU_ASSERT_EQUAL(wait_durable(j, 20), SLUICE_OK);
	journal_close(j);
	rmdir_free(d);
}

static void
TEST_too_big(void)
{
	char *d = tmpdir(), *big;
	struct iovec iov[2];
	struct journal *j;
	struct journal_stats st;
	uint64_t seq = 0;

	big = calloc(1, 1000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	j = jopen(d, MIB, 1000);
	iov[0].iov_base = big;
	iov[0].iov_len = 1000 - JSEG_HDR_LEN + 1;
	CU_ASSERT_EQUAL(journal_append(j, iov, 1, &seq), SLUICE_ETOOBIG);
	/* One too big among others: none is appended. */
	iov[1] = iov[0];
	iov[0].iov_len = 10;
	CU_ASSERT_EQUAL(journal_append(j, iov, 2, &seq), SLUICE_ETOOBIG);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.next_seq, 1);
	CU_ASSERT_EQUAL(st.bytes, 0);
	/* Exactly a segment fits, alone in its segment. */
	iov[1].iov_len = 1000 - JSEG_HDR_LEN;
	CU_ASSERT_EQUAL(journal_append(j, iov, 2, &seq), SLUICE_OK);
	CU_ASSERT_EQUAL(seq, 2);
	CU_ASSERT_EQUAL(wait_durable(j, 2), SLUICE_OK);
	CU_ASSERT_EQUAL(count_segments(d), 2);
	journal_close(j);
	free(big);
	rmdir_free(d);
}

/*
 * A segment that cannot be opened for a moment (no file descriptors left)
 * is not skipped: the reader says -1 and later goes on from the same
 * record, so the forwarder never moves past records it did not send.
 */
static void
TEST_reader_retries_after_open_error(void)
{
	char *d = tmpdir();
	struct journal *j;
	struct journal_reader *r;
	struct rlimit old, low;
	const void *data;
	uint64_t seq, want = 1;
	size_t len;
	int rc, fd, errors = 0, guard;

	j = jopen(d, MIB, ROLL_SEG);
	append_many(j, 12, 100);	/* three segments of four */
	CU_ASSERT_EQUAL(wait_durable(j, 12), SLUICE_OK);
	r = journal_reader_new(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(journal_reader_next(r, &seq, &data, &len), 1);
	CU_ASSERT_EQUAL(seq, want++);
	/* No descriptor left: with 0, 1 and 2 open and the limit at 3,
	 * every open fails with EMFILE (those open stay usable). */
	for (fd = 0; fd < 3; fd++)
		CU_ASSERT_FATAL(fcntl(fd, F_GETFD) != -1);
	CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 3;
	CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_NOFILE, &low), 0);
	for (guard = 0; guard < 10; guard++) {
		rc = journal_reader_next(r, &seq, &data, &len);
		if (rc == -1)
			errors++;
		else if (rc == 1)
			CU_ASSERT_EQUAL(seq, want++);
	}
	CU_ASSERT_EQUAL(setrlimit(RLIMIT_NOFILE, &old), 0);
	CU_ASSERT(errors > 0);
	CU_ASSERT_EQUAL(want, 5);	/* stopped at the segment's end */
	/* Descriptors again: the rest, in order, none missing. */
	while ((rc = journal_reader_next(r, &seq, &data, &len)) == 1)
		CU_ASSERT_EQUAL(seq, want++);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(want, 13);
	journal_reader_free(r);
	journal_close(j);
	rmdir_free(d);
}

static void
TEST_reader_seek(void)
{
	char *d = tmpdir();
	struct journal *j;
	struct journal_reader *r;

	j = jopen(d, MIB, ROLL_SEG);
	append_many(j, 30, 100);
	CU_ASSERT_EQUAL(wait_durable(j, 30), SLUICE_OK);
	r = journal_reader_new(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	expect_records(r, 1, 30, 100);
	/* Back to the middle of a segment (18 is the 2nd of 17..20). */
	journal_reader_seek(r, 17);
	expect_records(r, 18, 30, 100);
	journal_reader_seek(r, 0);
	expect_records(r, 1, 30, 100);
	/* The first record of a segment, and the last of one. */
	journal_reader_seek(r, 24);
	expect_records(r, 25, 30, 100);
	journal_reader_seek(r, 28);
	expect_records(r, 29, 30, 100);
	journal_reader_seek(r, 30);
	expect_records(r, 31, 30, 100);
	/* Past the end: nothing until records get there. */
	journal_reader_seek(r, 31);
	expect_records(r, 32, 31, 100);
	append_many(j, 3, 100);
	CU_ASSERT_EQUAL(wait_durable(j, 33), SLUICE_OK);
	expect_records(r, 32, 33, 100);
	/* Seeking into deleted segments lands on the first one kept. */
	journal_confirm(j, 33);
	CU_ASSERT_EQUAL(await_segments(j, 1), 0);
	journal_reader_seek(r, 5);
	expect_records(r, 33, 33, 100);
	journal_reader_free(r);
	journal_close(j);
	rmdir_free(d);
}

struct producer {
	struct journal	*j;
	uint64_t	 count;
	size_t		 len;
	int		 errors;
};

static void *
producer_thread(void *arg)
{
	struct producer *p = arg;
	char buf[4096];
	struct iovec iov = { buf, 0 };
	uint64_t i, seq;

	for (i = 1; i <= p->count; i++) {
		iov.iov_len = payload(i, buf, p->len);
		if (journal_append(p->j, &iov, 1, &seq) != SLUICE_OK ||
		    seq != i)
			p->errors++;
		if (i % 64 == 0)
			usleep(100);
	}
	return NULL;
}

static void
TEST_reader_many_segments_while_writing(void)
{
	char *d = tmpdir(), want[4096];
	struct producer p = { NULL, 3000, 200, 0 };
	struct journal_reader *r;
	struct pollfd pfd;
	pthread_t t;
	const void *data;
	uint64_t seq, expect = 1, v;
	size_t len;
	int rc, bad = 0, idle = 0;

	/* Five records a segment: 600 segments. */
	p.j = jopen(d, 64 * MIB, 5 * (JSEG_HDR_LEN + 200));
	r = journal_reader_new(p.j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_FATAL(pthread_create(&t, NULL, producer_thread, &p) == 0);
	pfd.fd = journal_notify_fd(p.j);
	pfd.events = POLLIN;
	while (expect <= p.count && idle < 100) {
		rc = journal_reader_next(r, &seq, &data, &len);
		if (rc == 1) {
			payload(seq, want, p.len);
			if (seq != expect || len != p.len ||
			    memcmp(data, want, len) != 0)
				bad++;
			expect = seq + 1;
			/* Confirm as we go: segments vanish behind us. */
			if (seq % 50 == 0)
				journal_confirm(p.j, seq);
			idle = 0;
			continue;
		}
		CU_ASSERT_EQUAL(rc, 0);
		if (rc != 0)
			bad++;
		if (poll(&pfd, 1, 100) == 1)
			(void)!read(pfd.fd, &v, sizeof v);
		else
			idle++;
	}
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(p.errors, 0);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(expect, p.count + 1);
	journal_reader_free(r);
	journal_close(p.j);
	rmdir_free(d);
}

static void
TEST_close_flushes_and_answers_waiters(void)
{
	char *d = tmpdir();
	struct journal *j;
	struct journal_reader *r;
	struct waitbox w, never;
	struct gate g;
	uint64_t i, seq;

	waitbox_init(&w);
	waitbox_init(&never);
	gate_init(&g);
	j = jopen(d, MIB, MIB);
	park_writer(j, &g);
	for (i = 0; i < 100; i++) {
		seq = append_str(j, "flushed at close");
		CU_ASSERT_EQUAL(journal_wait(j, seq, waitbox_cb, &w),
		    SLUICE_OK);
	}
	/* Waiting for a record never appended gets ESTOPPING. */
	CU_ASSERT_EQUAL(journal_wait(j, seq + 1, waitbox_cb, &never),
	    SLUICE_OK);
	gate_release(&g);
	journal_close(j);
	CU_ASSERT_EQUAL(w.done, 100);
	CU_ASSERT_EQUAL(w.status, SLUICE_OK);
	CU_ASSERT_EQUAL(never.done, 1);
	CU_ASSERT_EQUAL(never.status, SLUICE_ESTOPPING);

	j = jopen(d, MIB, MIB);
	r = journal_reader_new(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(journal_reader_next(r, &seq, &(const void *){ NULL },
	    &(size_t){ 0 }), 1);
	journal_reader_seek(r, 100);
	CU_ASSERT_EQUAL(journal_reader_next(r, &seq, &(const void *){ NULL },
	    &(size_t){ 0 }), 1);
	CU_ASSERT_EQUAL(seq, 101);
	journal_reader_free(r);
	journal_close(j);
	waitbox_destroy(&w);
	waitbox_destroy(&never);
	gate_destroy(&g);
	rmdir_free(d);
}

#define EFBIG_MSG	"this does not fit under RLIMIT_FSIZE, so the " \
			"writer's write fails with EFBIG"
#define EFBIG_LIMIT	1024

static void
TEST_write_error_fails_the_journal(void)
{
	char *d = tmpdir();
	struct journal *j;
	struct journal_stats st;
	struct rlimit old, lim;
	struct waitbox w;
	struct gate g;
	void (*oldsig)(int);
	uint64_t seq = 0, i, used, rlen, whole;

	waitbox_init(&w);
	gate_init(&g);
	j = jopen(d, 64 * MIB, 4 * MIB);
	append_many(j, 2, 100);
	CU_ASSERT_EQUAL(wait_durable(j, 2), SLUICE_OK);
	park_writer(j, &g);
	for (i = 0; i < 100; i++) {
		seq = append_str(j, EFBIG_MSG);
		CU_ASSERT_EQUAL(journal_wait(j, seq, waitbox_cb, &w),
		    SLUICE_OK);
	}
	/* Files of this process cannot grow past 1 KiB from now on. */
	CU_ASSERT_FATAL(getrlimit(RLIMIT_FSIZE, &old) == 0);
	lim = old;
	lim.rlim_cur = EFBIG_LIMIT;
	oldsig = signal(SIGXFSZ, SIG_IGN);
	CU_ASSERT_FATAL(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	gate_release(&g);
	CU_ASSERT_EQUAL(waitbox_await(&w, 100), 0);
	CU_ASSERT_EQUAL(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);
	CU_ASSERT_EQUAL(w.status, SLUICE_EIO);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.failed, 1);
	CU_ASSERT_EQUAL(st.durable_seq, 3);
	CU_ASSERT_EQUAL(append_status(j, "refused"), SLUICE_EIO);
	/* A wait that cannot be met is answered at once. */
	CU_ASSERT_EQUAL(journal_wait(j, seq, waitbox_cb, &w), SLUICE_OK);
	CU_ASSERT_EQUAL(w.done, 101);
	CU_ASSERT_EQUAL(w.status, SLUICE_EIO);
	journal_close(j);

	/*
	 * At the next open the whole records the short write left are
	 * valid (they were only never acknowledged) and the torn one is cut.
	 */
	used = 2 * (JSEG_HDR_LEN + 100) + JSEG_HDR_LEN + 4;
	rlen = JSEG_HDR_LEN + strlen(EFBIG_MSG);
	whole = (EFBIG_LIMIT - used) / rlen;
	j = jopen(d, 64 * MIB, 4 * MIB);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.failed, 0);
	CU_ASSERT_EQUAL(st.next_seq, 4 + whole);
	CU_ASSERT_EQUAL(st.bytes_truncated, (EFBIG_LIMIT - used) % rlen);
	CU_ASSERT_EQUAL(append_str(j, "works again"), 4 + whole);
	CU_ASSERT_EQUAL(wait_durable(j, 4 + whole), SLUICE_OK);
	journal_close(j);
	waitbox_destroy(&w);
	gate_destroy(&g);
	rmdir_free(d);
}

static void *
closer_thread(void *arg)
{
	journal_close(arg);
	return NULL;
}

static void
TEST_stopping_refuses_appends(void)
{
	char *d = tmpdir();
	struct journal *j;
	struct journal_stats st;
	struct waitbox w;
	struct gate g;
	pthread_t t;
	uint64_t ok = 0;
	int rc = SLUICE_OK, i;

	waitbox_init(&w);
	gate_init(&g);
	j = jopen(d, MIB, MIB);
	park_writer(j, &g);
	CU_ASSERT_FATAL(pthread_create(&t, NULL, closer_thread, j) == 0);
	/* Appends succeed until journal_close begins, then are refused. */
	for (i = 0; i < 10000; i++) {
		rc = append_status(j, "before close");
		if (rc != SLUICE_OK)
			break;
		ok++;
		usleep(1000);
	}
	CU_ASSERT_EQUAL(rc, SLUICE_ESTOPPING);
	/* Nobody will ever append this one. */
	CU_ASSERT_EQUAL(journal_wait(j, ok + 2, waitbox_cb, &w), SLUICE_OK);
	gate_release(&g);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(w.done, 1);
	CU_ASSERT_EQUAL(w.status, SLUICE_ESTOPPING);

	/* Everything accepted before close was flushed. */
	j = jopen(d, MIB, MIB);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.next_seq, ok + 2);
	CU_ASSERT_EQUAL(st.records_recovered, ok + 1);
	journal_close(j);
	waitbox_destroy(&w);
	gate_destroy(&g);
	rmdir_free(d);
}

void
test_journal_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_invalid_config", TEST_invalid_config },
		{ "TEST_creates_dir_and_locks_it",
		    TEST_creates_dir_and_locks_it },
		{ "TEST_append_wait_reopen_read",
		    TEST_append_wait_reopen_read },
		{ "TEST_wait_when_already_durable_runs_in_caller",
		    TEST_wait_when_already_durable_runs_in_caller },
		{ "TEST_group_commit_many_threads",
		    TEST_group_commit_many_threads },
		{ "TEST_group_commit_one_fsync_covers_all_pending",
		    TEST_group_commit_one_fsync_covers_all_pending },
		{ "TEST_reader_returns_only_durable",
		    TEST_reader_returns_only_durable },
		{ "TEST_torn_tail_every_offset", TEST_torn_tail_every_offset },
		{ "TEST_flipped_payload_byte_in_last_record",
		    TEST_flipped_payload_byte_in_last_record },
		{ "TEST_corrupt_middle_segment", TEST_corrupt_middle_segment },
		{ "TEST_corrupt_first_record_of_middle_segment",
		    TEST_corrupt_first_record_of_middle_segment },
		{ "TEST_reader_resyncs_in_segment_corrupted_while_open",
		    TEST_reader_resyncs_in_segment_corrupted_while_open },
		{ "TEST_replay_from_checkpoint", TEST_replay_from_checkpoint },
		{ "TEST_checkpoint_persisted_while_running",
		    TEST_checkpoint_persisted_while_running },
		{ "TEST_corrupt_checkpoint_reads_from_start",
		    TEST_corrupt_checkpoint_reads_from_start },
		{ "TEST_rollover_and_deletion_of_confirmed_segments",
		    TEST_rollover_and_deletion_of_confirmed_segments },
		{ "TEST_full_then_freed_by_confirm",
		    TEST_full_then_freed_by_confirm },
		{ "TEST_too_big", TEST_too_big },
		{ "TEST_reader_seek", TEST_reader_seek },
		{ "TEST_reader_retries_after_open_error",
		    TEST_reader_retries_after_open_error },
		{ "TEST_reader_many_segments_while_writing",
		    TEST_reader_many_segments_while_writing },
		{ "TEST_close_flushes_and_answers_waiters",
		    TEST_close_flushes_and_answers_waiters },
		{ "TEST_write_error_fails_the_journal",
		    TEST_write_error_fails_the_journal },
		{ "TEST_stopping_refuses_appends",
		    TEST_stopping_refuses_appends },
		{ NULL, NULL }
	};

	unit_add_suite("journal", tests);
}
