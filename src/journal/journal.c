/*
 * journal.c: the write-ahead journal. journal_append frames records into a
 * pending buffer; the writer thread swaps that buffer out, writes it into
 * segment files (rolling over as they fill), covers it with one fdatasync,
 * advances the durable sequence and calls the waiters. The same thread
 * persists the consumer's checkpoint and deletes fully confirmed segments.
 * journal_open recovers the directory with journal_recover.c (records
 * appended after it go to a new segment); journal_reader.c reads durable
 * records back from the segment files for the forwarder.
 *
 * Threads: j->lock guards the pending buffer, the sequence numbers, the
 * segment list, the waiters and the counters; it is never held across a
 * system call or a callback. Only the writer thread (or journal_open, before
 * it starts) writes files and changes the segment list. A reader belongs to
 * one thread.
 */
#define _GNU_SOURCE
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/isotime.h"
#include "core/log.h"
#include "core/sluice.h"
#include "journal/journal.h"
#include "journal/journal_internal.h"
#include "journal/journal_segment.h"

/* Logs a failed system call on the file name in the journal directory. */
void
journal_log_errno(struct journal *j, const char *name, const char *op)
{
	int saved = errno;

	log_error("journal", "%s/%s: %s: %s", j->dir, name, op,
	    strerror(saved));
	errno = saved;
}

int
journal_fsync_dir(struct journal *j)
{
	if (fsync(j->dirfd) == -1) {
		journal_log_errno(j, ".", "fsync");
		return -1;
	}
	return 0;
}

static int
journal_write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Makes room for need more bytes in b. Returns 0 or -1. */
static int
journal_buf_reserve(struct journal_buf *b, size_t need)
{
	unsigned char *nd;
	size_t cap;

	if (b->cap - b->len >= need)
		return 0;
	cap = b->cap < JOURNAL_BUF_MIN ? JOURNAL_BUF_MIN : b->cap;
	while (cap - b->len < need)
		cap *= 2;
	if ((nd = realloc(b->data, cap)) == NULL)
		return -1;
	b->data = nd;
	b->cap = cap;
	return 0;
}

/* Min-heap of waiters on seq; lock held. */
static int
journal_waiter_push(struct journal *j, const struct journal_waiter *w)
{
	struct journal_waiter *nw, tmp;
	size_t i, parent, cap;

	if (j->nwaiters == j->waitcap) {
		cap = j->waitcap == 0 ? 64 : j->waitcap * 2;
		nw = reallocarray(j->waiters, cap, sizeof *nw);
		if (nw == NULL)
			return -1;
		j->waiters = nw;
		j->waitcap = cap;
	}
	i = j->nwaiters++;
	j->waiters[i] = *w;
	while (i > 0) {
		parent = (i - 1) / 2;
		if (j->waiters[parent].seq <= j->waiters[i].seq)
			break;
		tmp = j->waiters[parent];
		j->waiters[parent] = j->waiters[i];
		j->waiters[i] = tmp;
		i = parent;
	}
	return 0;
}

static struct journal_waiter
journal_waiter_pop(struct journal *j)
{
	struct journal_waiter top = j->waiters[0], tmp;
	size_t i = 0, l, m, n;

	n = --j->nwaiters;
	j->waiters[0] = j->waiters[n];
	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < n && j->waiters[l].seq < j->waiters[m].seq)
			m = l;
		if (l + 1 < n && j->waiters[l + 1].seq < j->waiters[m].seq)
			m = l + 1;
		if (m == i)
			break;
		tmp = j->waiters[m];
		j->waiters[m] = j->waiters[i];
		j->waiters[i] = tmp;
		i = m;
	}
	return top;
}

/*
 * Calls with status every waiter whose seq is <= upto. Entered and left with
 * the lock held; the callbacks run without it, a batch at a time.
 */
static void
journal_wake(struct journal *j, uint64_t upto, int status)
{
	struct journal_waiter batch[JOURNAL_WAKE_BATCH];
	size_t n, i;

	for (;;) {
		n = 0;
		while (n < JOURNAL_WAKE_BATCH && j->nwaiters > 0 &&
		    j->waiters[0].seq <= upto)
			batch[n++] = journal_waiter_pop(j);
		if (n == 0)
			break;
		pthread_mutex_unlock(&j->lock);
		for (i = 0; i < n; i++)
			batch[i].cb(batch[i].arg, status);
		pthread_mutex_lock(&j->lock);
	}
}

/* Index of the segment first_seq, or -1; lock held. */
ssize_t
journal_seg_find(struct journal *j, uint64_t first_seq)
{
	size_t lo = 0, hi = j->nsegs, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (j->segs[mid].first_seq < first_seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < j->nsegs && j->segs[lo].first_seq == first_seq)
		return (ssize_t)lo;
	return -1;
}

/* Appends a segment to the list (capacity reserved); lock held. */
int
journal_seg_add(struct journal *j, const struct jseg *s)
{
	struct jseg *ns;
	size_t cap;

	if (j->nsegs == j->segcap) {
		cap = j->segcap == 0 ? 16 : j->segcap * 2;
		if ((ns = reallocarray(j->segs, cap, sizeof *ns)) == NULL)
			return -1;
		j->segs = ns;
		j->segcap = cap;
	}
	j->segs[j->nsegs++] = *s;
	return 0;
}

/* Publishes the writer's view of the segment it writes; lock held. */
static void
journal_seg_publish(struct journal *j)
{
	struct jseg *s;

	if (j->seg_fd == -1 || j->nsegs == 0)
		return;
	s = &j->segs[j->nsegs - 1];
	s->size = s->end = j->seg_size;
	s->last_seq = j->seg_last;
}

/*
 * Deletes the segments whose records are all <= upto, oldest first, never
 * the one being written, and takes their size off the accounted bytes.
 * Called by the writer thread, or by journal_open before it starts.
 */
void
journal_drop_segments(struct journal *j, uint64_t upto)
{
	char name[JSEG_NAME_LEN];
	struct jseg s;
	int dropped = 0;

	for (;;) {
		pthread_mutex_lock(&j->lock);
		if (j->nsegs == 0 || j->segs[0].last_seq > upto ||
		    (j->seg_fd != -1 && j->segs[0].first_seq == j->seg_first)) {
			pthread_mutex_unlock(&j->lock);
			break;
		}
		s = j->segs[0];
		memmove(j->segs, j->segs + 1, --j->nsegs * sizeof *j->segs);
		j->bytes -= s.size;
		j->full = 0;		/* room again: let appends say */
		pthread_mutex_unlock(&j->lock);

		/* A reader finding it gone moves on to the next one. */
		jseg_name(s.first_seq, name);
		if (unlinkat(j->dirfd, name, 0) == -1 && errno != ENOENT)
			journal_log_errno(j, name, "unlink");
		else
			dropped = 1;
	}
	if (dropped)
		journal_fsync_dir(j);
}

/* Writes the checkpoint file atomically. Writer thread. Returns 0 or -1. */
static int
journal_ckpt_write(struct journal *j, uint64_t seq)
{
	unsigned char b[JSEG_CKPT_LEN];
	const char *op;
	int fd;

	jseg_ckpt_encode(b, seq);
	fd = openat(j->dirfd, JOURNAL_CKPT_TMP,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd == -1) {
		journal_log_errno(j, JOURNAL_CKPT_TMP, "open");
		return -1;
	}
	op = "write";
	if (journal_write_all(fd, b, sizeof b) == -1 ||
	    (op = "fsync", fsync(fd)) == -1) {
		journal_log_errno(j, JOURNAL_CKPT_TMP, op);
		close(fd);
		return -1;
	}
	close(fd);
	if (renameat(j->dirfd, JOURNAL_CKPT_TMP, j->dirfd,
	    JOURNAL_CKPT_NAME) == -1) {
		journal_log_errno(j, JOURNAL_CKPT_NAME, "rename");
		return -1;
	}
	return journal_fsync_dir(j);
}

/*
 * Marks the journal failed after a write or fsync error (already logged):
 * drops what was not written, and fails every waiter. Writer thread, lock
 * not held.
 */
static void
journal_fail(struct journal *j)
{
	size_t i;

	pthread_mutex_lock(&j->lock);
	j->failed = 1;
	j->bytes = j->pending.len;
	for (i = 0; i < j->nsegs; i++)
		j->bytes += j->segs[i].size;
	journal_wake(j, UINT64_MAX, SLUICE_EIO);
	pthread_mutex_unlock(&j->lock);
}

/*
 * Closes the segment being written (fsynced) and starts the segment seq:
 * creates it, fsyncs the directory and lists it. Writer thread. Returns 0,
 * or -1 (logged).
 */
static int
journal_roll(struct journal *j, uint64_t seq)
{
	char name[JSEG_NAME_LEN];
	struct jseg s = { seq, seq - 1, 0, 0 };
	int fd, rc;

	if (j->seg_fd != -1) {
		if (fsync(j->seg_fd) == -1) {
			jseg_name(j->seg_first, name);
			journal_log_errno(j, name, "fsync");
			return -1;
		}
	}
	jseg_name(seq, name);
	fd = openat(j->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0640);
	if (fd == -1) {
		journal_log_errno(j, name, "create");
		return -1;
	}
	if (journal_fsync_dir(j) == -1) {
		close(fd);
		unlinkat(j->dirfd, name, 0);
		return -1;
	}
	pthread_mutex_lock(&j->lock);
	journal_seg_publish(j);
	rc = journal_seg_add(j, &s);
	pthread_mutex_unlock(&j->lock);
	if (rc == -1) {
		log_error("journal", "%s/%s: out of memory", j->dir, name);
		close(fd);
		unlinkat(j->dirfd, name, 0);
		return -1;
	}
	if (j->seg_fd != -1)
		close(j->seg_fd);
	j->seg_fd = fd;
	j->seg_first = seq;
	j->seg_size = 0;
	j->seg_last = seq - 1;
	return 0;
}

/* Writes n bytes of framed records ending at seq last to the segment. */
static int
journal_write_chunk(struct journal *j, const unsigned char *p, size_t n,
    uint64_t last)
{
	char name[JSEG_NAME_LEN];

	if (n == 0)
		return 0;
	if (journal_write_all(j->seg_fd, p, n) == -1) {
		jseg_name(j->seg_first, name);
		journal_log_errno(j, name, "write");
		return -1;
	}
	j->seg_size += n;
	j->seg_last = last;
	return 0;
}

/*
 * Group commit of j->wbuf: seals, writes (rolling segments over), one
 * fdatasync, then advances durable_seq, calls the waiters it covered and
 * signals the eventfd. Writer thread, lock not held.
 */
static void
journal_commit(struct journal *j)
{
	unsigned char *p = j->wbuf.data, *end = p + j->wbuf.len, *chunk = p;
	uint64_t seq = j->wbuf.first_seq, one = 1;
	char name[JSEG_NAME_LEN];
	size_t rlen;
	int failed;

	pthread_mutex_lock(&j->lock);
	failed = j->failed;
	pthread_mutex_unlock(&j->lock);
	if (failed)
		goto fail;
	while (p < end) {
		rlen = jseg_seal(p);
		if (j->seg_fd == -1 || (j->seg_size + (size_t)(p - chunk) > 0 &&
		    j->seg_size + (size_t)(p - chunk) + rlen > j->segment_bytes)) {
			if (journal_write_chunk(j, chunk, (size_t)(p - chunk),
			    seq - 1) == -1 || journal_roll(j, seq) == -1)
				goto fail;
			chunk = p;
		}
		p += rlen;
		seq++;
	}
	if (journal_write_chunk(j, chunk, (size_t)(end - chunk),
	    j->wbuf.last_seq) == -1)
		goto fail;
	if (fdatasync(j->seg_fd) == -1) {
		jseg_name(j->seg_first, name);
		journal_log_errno(j, name, "fdatasync");
		goto fail;
	}

	pthread_mutex_lock(&j->lock);
	journal_seg_publish(j);
	j->durable_seq = j->wbuf.last_seq;
	j->fsyncs++;
	journal_wake(j, j->durable_seq, SLUICE_OK);
	pthread_mutex_unlock(&j->lock);
	if (write(j->notify_fd, &one, sizeof one) == -1 && errno != EAGAIN)
		log_error("journal", "eventfd write: %s", strerror(errno));
	j->wbuf.len = 0;
	return;

fail:
	j->wbuf.len = 0;
	journal_fail(j);
}

/* Persists the checkpoint seq, then deletes what it confirmed. Writer. */
static int
journal_persist(struct journal *j, uint64_t seq)
{
	if (journal_ckpt_write(j, seq) == -1)
		return -1;
	pthread_mutex_lock(&j->lock);
	j->persisted_seq = seq;
	pthread_mutex_unlock(&j->lock);
	journal_drop_segments(j, seq);
	return 0;
}

/*
 * The writer thread: commits whatever is pending, persists the checkpoint
 * when it moved (at most every JOURNAL_CKPT_MS, and at close), and on close
 * drains everything before answering the waiters left.
 */
static void *
journal_writer(void *arg)
{
	struct journal *j = arg;
	struct journal_buf tmp;
	struct timespec ts;
	int64_t now = 0, due;
	uint64_t seq;
	int dirty, stopping, gave_up = 0;

	pthread_mutex_lock(&j->lock);
	for (;;) {
		dirty = !gave_up && j->confirmed_seq != j->persisted_seq;
		if (dirty) {
			now = isotime_mono_ms();
			if (j->stopping || now - j->ckpt_ms >= JOURNAL_CKPT_MS) {
				seq = j->confirmed_seq;
				stopping = j->stopping;
				j->ckpt_ms = now;
				pthread_mutex_unlock(&j->lock);
				/* At close, one failed try is enough. */
				if (journal_persist(j, seq) == -1 && stopping)
					gave_up = 1;
				pthread_mutex_lock(&j->lock);
				continue;
			}
		}
		if (j->pending.len > 0) {
			tmp = j->wbuf;
			j->wbuf = j->pending;
			j->pending = tmp;
			j->pending.len = 0;
			pthread_mutex_unlock(&j->lock);
			journal_commit(j);
			if (j->wbuf.cap > JOURNAL_BUF_KEEP) {
				free(j->wbuf.data);
				j->wbuf.data = NULL;
				j->wbuf.cap = 0;
			}
			pthread_mutex_lock(&j->lock);
			continue;
		}
		if (j->stopping)
			break;
		if (dirty) {
			due = j->ckpt_ms + JOURNAL_CKPT_MS;
			ts.tv_sec = (time_t)(due / 1000);
			ts.tv_nsec = (long)(due % 1000) * 1000000;
			pthread_cond_timedwait(&j->cond, &j->lock, &ts);
		} else
			pthread_cond_wait(&j->cond, &j->lock);
	}
	j->writer_done = 1;
	journal_wake(j, UINT64_MAX, j->failed ? SLUICE_EIO : SLUICE_ESTOPPING);
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/*
 * fsyncs the directory that holds path (the part before its last '/', or
 * "." if none), so that a name made in it survives a power loss. Returns
 * 0, or -1 with errno set.
 */
static int
journal_fsync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *parent;
	int fd, rc, saved;

	if (slash == NULL)
		parent = strdup(".");
	else if (slash == path)
		parent = strdup("/");
	else
		parent = strndup(path, (size_t)(slash - path));
	if (parent == NULL)
		return -1;
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(parent);
	if (fd == -1)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/*
 * Makes the name path durable in the directory holding it. A failure
 * (say, a parent sluiced may create in but not read) is logged as a
 * warning and not fatal: the journal works, only a power loss may then
 * take the name.
 */
static void
journal_sync_name(const char *path)
{
	if (journal_fsync_parent(path) == -1)
		log_warn("journal", "%s: cannot fsync the directory holding "
		    "it (%s): a power loss may lose it", path,
		    strerror(errno));
}

/*
 * Creates dir and its missing parents, each made durable in its parent
 * (journal_sync_name); dir's own name is synced even when it was there
 * already, as an earlier run may have died before doing so. Returns 0,
 * or -1 with errno set.
 */
static int
journal_mkdirs(const char *dir)
{
	char *p, *s;
	int rc = 0;

	if ((s = strdup(dir)) == NULL)
		return -1;
	for (p = s + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (*p == '\0') {
			if (mkdir(s, 0750) == -1 && errno != EEXIST)
				rc = -1;
			else
				journal_sync_name(s);
			break;
		}
		*p = '\0';
		if (mkdir(s, 0750) == 0)
			journal_sync_name(s);
		else if (errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	free(s);
	return rc;
}

/* Frees j and what it holds; the writer thread is not running. */
static void
journal_free(struct journal *j)
{
	if (j->seg_fd != -1)
		close(j->seg_fd);
	if (j->notify_fd != -1)
		close(j->notify_fd);
	if (j->dirfd != -1)
		close(j->dirfd);
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
	free(j->pending.data);
	free(j->wbuf.data);
	free(j->segs);
	free(j->waiters);
	free(j->dir);
	free(j);
}

/*
 * Creates a file in the journal directory (dirfd) and removes it. Returns 0,
 * or -1 with errno set. Each call has a name of its own, so two threads may
 * probe at once; another process is kept out by the directory's lock. A
 * name left by a crash between the two steps is ignored by recovery.
 */
static int
journal_probe_dir(int dirfd)
{
	static atomic_uint calls;
	char name[32];
	int fd;

	snprintf(name, sizeof name, "probe.%u.tmp",
	    atomic_fetch_add(&calls, 1));
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0640);
	if (fd == -1)
		return -1;
	close(fd);
	return unlinkat(dirfd, name, 0);
}

int
journal_probe(struct journal *j, char *err, size_t errlen)
{
	if (journal_probe_dir(j->dirfd) == 0)
		return SLUICE_OK;
	snprintf(err, errlen, "%s: cannot create a file: %s", j->dir,
	    strerror(errno));
	return SLUICE_EIO;
}

int
journal_open(const struct journal_config *cfg, struct journal **out)
{
	struct journal *j;
	pthread_condattr_t ca;
	int rc;

	*out = NULL;
	if (cfg->dir == NULL || *cfg->dir == '\0' || cfg->max_bytes == 0 ||
	    cfg->segment_bytes <= JSEG_HDR_LEN)
		return SLUICE_EINVAL;
	if ((j = calloc(1, sizeof *j)) == NULL)
		return SLUICE_ENOMEM;
	j->dirfd = j->notify_fd = j->seg_fd = -1;
	j->max_bytes = cfg->max_bytes;
	j->segment_bytes = cfg->segment_bytes;
	if (pthread_condattr_init(&ca) != 0) {
		free(j);
		return SLUICE_ENOMEM;
	}
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	rc = pthread_cond_init(&j->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (rc != 0) {
		free(j);
		return SLUICE_ENOMEM;
	}
	if (pthread_mutex_init(&j->lock, NULL) != 0) {
		pthread_cond_destroy(&j->cond);
		free(j);
		return SLUICE_ENOMEM;
	}
	if ((j->dir = strdup(cfg->dir)) == NULL) {
		rc = SLUICE_ENOMEM;
		goto fail;
	}
	rc = SLUICE_EIO;
	if (journal_mkdirs(j->dir) == -1) {
		log_error("journal", "%s: mkdir: %s", j->dir, strerror(errno));
		goto fail;
	}
	j->dirfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd == -1) {
		log_error("journal", "%s: open: %s", j->dir, strerror(errno));
		goto fail;
	}
	if (flock(j->dirfd, LOCK_EX | LOCK_NB) == -1) {
		log_error("journal", "%s: lock: %s (in use by another "
		    "process?)", j->dir, strerror(errno));
		goto fail;
	}
	/* Segments are created as records come: find out now, not at the
	 * first append, whether that can work. */
	if (journal_probe_dir(j->dirfd) == -1) {
		log_error("journal", "%s: cannot create a file: %s", j->dir,
		    strerror(errno));
		goto fail;
	}
	/* Reported in an earlier run and not yet acknowledged. */
	j->corrupt_pending = faccessat(j->dirfd, JOURNAL_CORRUPT_NAME, F_OK,
	    0) == 0;
	if ((rc = journal_recover(j)) != SLUICE_OK)
		goto fail;
	j->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (j->notify_fd == -1) {
		log_error("journal", "eventfd: %s", strerror(errno));
		rc = SLUICE_EIO;
		goto fail;
	}
	if (pthread_create(&j->thread, NULL, journal_writer, j) != 0) {
		log_error("journal", "%s: cannot start the writer thread",
		    j->dir);
		rc = SLUICE_ENOMEM;
		goto fail;
	}
	*out = j;
	return SLUICE_OK;

fail:
	journal_free(j);
	return rc;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	pthread_mutex_lock(&j->lock);
	j->stopping = 1;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
	pthread_join(j->thread, NULL);
	journal_free(j);
}

int
journal_append(struct journal *j, const struct iovec *recs, size_t n,
    uint64_t *last_seq)
{
	unsigned char *p;
	uint64_t need = 0;
	size_t i;
	int rc;

	if (n == 0)
		return SLUICE_EINVAL;
	for (i = 0; i < n; i++) {
		if (recs[i].iov_len > UINT32_MAX ||
		    recs[i].iov_len > j->segment_bytes - JSEG_HDR_LEN)
			return SLUICE_ETOOBIG;
		/* Past max_bytes it cannot fit anyway: stop counting. */
		if (need <= j->max_bytes)
			need += JSEG_HDR_LEN + recs[i].iov_len;
	}

	pthread_mutex_lock(&j->lock);
	if (j->failed)
		rc = SLUICE_EIO;
	else if (j->stopping)
		rc = SLUICE_ESTOPPING;
	else if (need > j->max_bytes || j->bytes > j->max_bytes - need) {
		rc = SLUICE_EFULL;
		j->full = 1;
	}
	else if (need > SIZE_MAX - j->pending.len ||
	    journal_buf_reserve(&j->pending, (size_t)need) == -1)
		rc = SLUICE_ENOMEM;
	else {
		if (j->pending.len == 0) {
			j->pending.first_seq = j->next_seq;
			pthread_cond_signal(&j->cond);
		}
		p = j->pending.data + j->pending.len;
		for (i = 0; i < n; i++) {
			jseg_frame(p, j->next_seq++, (uint32_t)recs[i].iov_len);
			memcpy(p + JSEG_HDR_LEN, recs[i].iov_base,
			    recs[i].iov_len);
			p += JSEG_HDR_LEN + recs[i].iov_len;
		}
		j->pending.len += (size_t)need;
		j->pending.last_seq = j->next_seq - 1;
		j->bytes += need;
		j->full = 0;
		*last_seq = j->next_seq - 1;
		rc = SLUICE_OK;
	}
	pthread_mutex_unlock(&j->lock);
	return rc;
}

int
journal_wait(struct journal *j, uint64_t seq, journal_durable_cb cb,
    void *arg)
{
	struct journal_waiter w = { seq, cb, arg };
	int status = -1;

	pthread_mutex_lock(&j->lock);
	if (seq <= j->durable_seq)
		status = SLUICE_OK;
	else if (j->failed)
		status = SLUICE_EIO;
	else if (j->writer_done)
		status = SLUICE_ESTOPPING;
	else if (journal_waiter_push(j, &w) == -1) {
		pthread_mutex_unlock(&j->lock);
		return SLUICE_ENOMEM;
	}
	pthread_mutex_unlock(&j->lock);
	if (status != -1)
		cb(arg, status);
	return SLUICE_OK;
}

int
journal_notify_fd(struct journal *j)
{
	return j->notify_fd;
}

void
journal_confirm(struct journal *j, uint64_t seq)
{
	pthread_mutex_lock(&j->lock);
	if (seq > j->durable_seq)
		seq = j->durable_seq;
	if (seq > j->confirmed_seq) {
		/* The writer sleeps without a deadline while it is clean. */
		if (j->confirmed_seq == j->persisted_seq)
			pthread_cond_signal(&j->cond);
		j->confirmed_seq = seq;
	}
	pthread_mutex_unlock(&j->lock);
}

void
journal_get_stats(struct journal *j, struct journal_stats *st)
{
	pthread_mutex_lock(&j->lock);
	st->bytes = j->bytes;
	st->max_bytes = j->max_bytes;
	st->segments = j->nsegs;
	st->next_seq = j->next_seq;
	st->durable_seq = j->durable_seq;
	st->confirmed_seq = j->confirmed_seq;
	st->records_unconfirmed = j->durable_seq - j->confirmed_seq;
	st->fsyncs = j->fsyncs;
	st->records_recovered = j->records_recovered;
	st->bytes_truncated = j->bytes_truncated;
	st->records_corrupt = j->records_corrupt;
	st->failed = j->failed;
	st->full = j->full;
	pthread_mutex_unlock(&j->lock);
}
