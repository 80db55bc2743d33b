/*
 * journal_recover.c: recovery of the journal directory at open: the
 * persisted checkpoint, a scan of every segment, and the list of segments
 * with their valid ends. Only a torn tail (a record cut short at the end
 * of the last segment, what a crash leaves) is cut. Other damage is
 * corruption: the scan resynchronises on the next intact record, the
 * segment is split into segments of its intact runs, and the file as found
 * is kept in quarantine (journal_corrupt.c).
 * Threads: called by journal_open before the writer thread starts.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sluice.h"
#include "journal/journal.h"
#include "journal/journal_internal.h"
#include "journal/journal_segment.h"

/* Reads the persisted checkpoint into *seq (0 if none or corrupt). */
static int
journal_ckpt_read(struct journal *j, uint64_t *seq)
{
	unsigned char b[JSEG_CKPT_LEN + 1];
	ssize_t n;
	size_t got = 0;
	int fd;

	*seq = 0;
	fd = openat(j->dirfd, JOURNAL_CKPT_NAME, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return SLUICE_OK;
		journal_log_errno(j, JOURNAL_CKPT_NAME, "open");
		return SLUICE_EIO;
	}
	while (got < sizeof b) {
		n = read(fd, b + got, sizeof b - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			journal_log_errno(j, JOURNAL_CKPT_NAME, "read");
			close(fd);
			return SLUICE_EIO;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (jseg_ckpt_decode(b, got, seq) == -1) {
		log_warn("journal", "%s/%s: corrupt checkpoint, reading the "
		    "journal from its start", j->dir, JOURNAL_CKPT_NAME);
		*seq = 0;
	}
	return SLUICE_OK;
}

/* A run of intact, consecutive records found in a segment at open. */
struct jrun {
	uint64_t	off;		/* its bytes: [off, end) */
	uint64_t	end;
	uint64_t	first;		/* its records: first..last */
	uint64_t	last;
};

/* What the scan of one segment found. */
struct jscan {
	struct jrun		*runs;
	size_t			 nruns;
	struct journal_damage	*damage;
	size_t			 ndamage;
	uint64_t		 size;		/* of the file */
	uint64_t		 torn;		/* torn tail from here (or size) */
};

static void
jscan_free(struct jscan *sc)
{
	free(sc->runs);
	free(sc->damage);
}

/* Appends a run to sc. Returns 0 or -1 (no memory). */
static int
jscan_add_run(struct jscan *sc, const struct jrun *run)
{
	struct jrun *nr;

	if ((nr = reallocarray(sc->runs, sc->nruns + 1, sizeof *nr)) == NULL)
		return -1;
	nr[sc->nruns++] = *run;
	sc->runs = nr;
	return 0;
}

/* Appends damage to sc. Returns 0 or -1 (no memory). */
static int
jscan_add_damage(struct jscan *sc, const struct journal_damage *d)
{
	struct journal_damage *nd;

	if ((nd = reallocarray(sc->damage, sc->ndamage + 1,
	    sizeof *nd)) == NULL)
		return -1;
	nd[sc->ndamage++] = *d;
	sc->damage = nd;
	return 0;
}

/*
 * Scans the open segment at c into sc: its runs of intact records and the
 * damage between them. A record cut short at the very end of the last
 * segment (or zeros there, with nothing intact after) is a torn tail;
 * any other bad record is damage, and the scan resynchronises on the next
 * intact record (of seq below next_first). Returns SLUICE_OK, SLUICE_EIO
 * (errno set) or SLUICE_ENOMEM.
 */
static int
journal_scan_segment(struct jseg_cursor *c, struct jscan *sc, int is_last,
    uint64_t next_first)
{
	struct journal_damage d;
	struct jrun run = { 0, 0, 0, 0 };
	enum jseg_result res, rr;
	const void *data;
	uint64_t seq, at;
	size_t len;
	int open_run = 0, zero;

	sc->torn = sc->size;
	for (;;) {
		at = c->pos;
		res = jseg_cursor_next(c, sc->size, &seq, &data, &len);
		if (res == JSEG_RECORD) {
			if (!open_run) {
				run.off = at;
				run.first = seq;
				open_run = 1;
			}
			run.last = seq;
			run.end = c->pos;
			continue;
		}
		if (open_run && jscan_add_run(sc, &run) == -1)
			return SLUICE_ENOMEM;
		open_run = 0;
		if (res == JSEG_END)
			return SLUICE_OK;
		if (res == JSEG_EIO)
			return SLUICE_EIO;
		d.seg = c->first_seq;
		d.off = at;
		d.lost_first = c->expect;
		d.what = jseg_result_str(res);
		rr = jseg_cursor_resync(c, sc->size, is_last ? UINT64_MAX :
		    next_first - 1);
		if (rr == JSEG_EIO)
			return SLUICE_EIO;
		if (rr == JSEG_RECORD) {
			d.end = c->pos;
			d.lost_last = c->expect - 1;
		} else {
			if (is_last) {
				zero = res == JSEG_TORN ? 1 :
				    jseg_cursor_all_zero(c, at, sc->size);
				if (zero == -1)
					return SLUICE_EIO;
				if (zero) {
					sc->torn = at;
					return SLUICE_OK;
				}
			}
			/* Damage to the end: the last segment's lost record
			 * count is unknown, at least the one found. */
			d.end = sc->size;
			d.lost_last = is_last ? d.lost_first : next_first - 1;
		}
		if (jscan_add_damage(sc, &d) == -1)
			return SLUICE_ENOMEM;
		if (rr != JSEG_RECORD)
			return SLUICE_OK;
	}
}

/*
 * Writes bytes [run->off, run->end) of the segment open at fd as the
 * segment run->first: a temporary file, fsynced, renamed over that name
 * (which may be the damaged segment's own). Returns 0, or -1 (logged).
 */
static int
journal_write_run(struct journal *j, int fd, const struct jrun *run)
{
	char name[JSEG_NAME_LEN];
	unsigned char buf[64 * 1024];
	uint64_t off = run->off;
	size_t want;
	ssize_t n, w;
	int out;

	jseg_name(run->first, name);
	out = openat(j->dirfd, JOURNAL_RECOVER_TMP,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (out == -1) {
		journal_log_errno(j, JOURNAL_RECOVER_TMP, "create");
		return -1;
	}
	while (off < run->end) {
		want = run->end - off > sizeof buf ? sizeof buf :
		    (size_t)(run->end - off);
		n = pread(fd, buf, want, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			journal_log_errno(j, name, "read");
			goto fail;
		}
		for (w = 0; w < n; ) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));

			if (k == -1 && errno == EINTR)
				continue;
			if (k == -1) {
				journal_log_errno(j, JOURNAL_RECOVER_TMP,
				    "write");
				goto fail;
			}
			w += k;
		}
		off += (uint64_t)n;
	}
	if (fsync(out) == -1) {
		journal_log_errno(j, JOURNAL_RECOVER_TMP, "fsync");
		goto fail;
	}
	close(out);
	if (renameat(j->dirfd, JOURNAL_RECOVER_TMP, j->dirfd, name) == -1) {
		journal_log_errno(j, name, "rename");
		return -1;
	}
	return 0;

fail:
	close(out);
	unlinkat(j->dirfd, JOURNAL_RECOVER_TMP, 0);
	return -1;
}

/*
 * Replaces a damaged segment by its intact runs: the file as found is
 * linked into quarantine/ first, then each run becomes a segment of its
 * own (named by its first record), the one at the segment's name last;
 * with no run there, the name goes (the bytes stay in quarantine). Every
 * step can be redone after a crash. Returns SLUICE_OK or SLUICE_EIO.
 */
static int
journal_split_segment(struct journal *j, struct jseg_cursor *c,
    const struct jscan *sc, char *kept, size_t keptlen)
{
	char name[JSEG_NAME_LEN];
	const struct jrun *own = NULL;
	size_t i;

	if (journal_quarantine(j, c->first_seq, kept, keptlen) == -1)
		return SLUICE_EIO;
	for (i = 0; i < sc->nruns; i++) {
		if (sc->runs[i].first == c->first_seq)
			own = &sc->runs[i];
		else if (journal_write_run(j, c->fd, &sc->runs[i]) == -1)
			return SLUICE_EIO;
	}
	if (own != NULL) {
		if (journal_write_run(j, c->fd, own) == -1)
			return SLUICE_EIO;
	} else {
		jseg_name(c->first_seq, name);
		if (unlinkat(j->dirfd, name, 0) == -1) {
			journal_log_errno(j, name, "unlink");
			return SLUICE_EIO;
		}
	}
	return journal_fsync_dir(j) == -1 ? SLUICE_EIO : SLUICE_OK;
}

/* Lists one run as a segment and counts its records. */
static int
journal_list_run(struct journal *j, const struct jrun *run, uint64_t ckpt)
{
	struct jseg s = { run->first, run->last, run->end - run->off,
	    run->end - run->off };

	if (journal_seg_add(j, &s) == -1)
		return SLUICE_ENOMEM;
	j->bytes += s.size;
	if (run->last > ckpt)
		j->records_recovered += run->last -
		    (run->first > ckpt ? run->first : ckpt + 1) + 1;
	if (run->last >= j->next_seq)
		j->next_seq = run->last + 1;
	return SLUICE_OK;
}

/*
 * Recovers one segment at open: scans it, cuts a torn tail if it is the
 * last segment, splits it around damage (journal_split_segment) and lists
 * what is intact, or deletes it when it holds nothing (and no damage).
 * next_first is the first seq of the segment after it (UINT64_MAX for
 * the last). Returns SLUICE_OK, SLUICE_EIO or SLUICE_ENOMEM.
 */
static int
journal_recover_segment(struct journal *j, struct jseg_cursor *c,
    uint64_t first, uint64_t next_first, uint64_t ckpt)
{
	char name[JSEG_NAME_LEN], kept[JSEG_NAME_LEN + 64];
	struct jscan sc = { 0 };
	struct stat st;
	size_t i;
	int rc, is_last = next_first == UINT64_MAX;

	jseg_name(first, name);
	if (jseg_cursor_open(c, j->dirfd, first, O_RDWR) == -1) {
		journal_log_errno(j, name, "open");
		return SLUICE_EIO;
	}
	if (fstat(c->fd, &st) == -1) {
		journal_log_errno(j, name, "fstat");
		return SLUICE_EIO;
	}
	sc.size = (uint64_t)st.st_size;
	if ((rc = journal_scan_segment(c, &sc, is_last, next_first)) !=
	    SLUICE_OK) {
		if (rc == SLUICE_EIO)
			journal_log_errno(j, name, "read");
		goto out;
	}
	if (sc.torn < sc.size) {
		log_warn("journal", "%s/%s: torn tail at offset %llu: %llu "
		    "bytes cut off", j->dir, name,
		    (unsigned long long)sc.torn,
		    (unsigned long long)(sc.size - sc.torn));
		j->bytes_truncated += sc.size - sc.torn;
	}
	if (sc.ndamage > 0) {
		/* The torn tail, if any, is left out of the runs. */
		if ((rc = journal_split_segment(j, c, &sc, kept,
		    sizeof kept)) != SLUICE_OK)
			goto out;
		for (i = 0; i < sc.ndamage; i++) {
			journal_corrupt_report(j, &sc.damage[i], kept);
			/* Never hand a lost record's number out again. */
			if (sc.damage[i].lost_last >= j->next_seq)
				j->next_seq = sc.damage[i].lost_last + 1;
		}
	} else if (sc.torn < sc.size) {
		if (ftruncate(c->fd, (off_t)sc.torn) == -1 ||
		    fsync(c->fd) == -1) {
			journal_log_errno(j, name, "truncate");
			rc = SLUICE_EIO;
			goto out;
		}
	}
	jseg_cursor_close(c);
	if (sc.nruns == 0 && sc.ndamage == 0) {
		/* Nothing readable: its name would only get in the way. */
		if (unlinkat(j->dirfd, name, 0) == -1) {
			journal_log_errno(j, name, "unlink");
			rc = SLUICE_EIO;
			goto out;
		}
		rc = journal_fsync_dir(j) == -1 ? SLUICE_EIO : SLUICE_OK;
		goto out;
	}
	for (i = 0; i < sc.nruns && rc == SLUICE_OK; i++)
		rc = journal_list_run(j, &sc.runs[i], ckpt);
out:
	jscan_free(&sc);
	return rc;
}

/* Recovers the directory: checkpoint, segments, sequence numbers. */
int
journal_recover(struct journal *j)
{
	struct jseg_cursor c;
	uint64_t *firsts, ckpt;
	size_t n, i;
	int rc;

	if ((rc = journal_ckpt_read(j, &ckpt)) != SLUICE_OK)
		return rc;
	if (jseg_list(j->dirfd, &firsts, &n) == -1) {
		journal_log_errno(j, ".", "list");
		return SLUICE_EIO;
	}
	j->next_seq = ckpt + 1;
	jseg_cursor_init(&c, JSEG_RECORD_MAX);
	for (i = 0, rc = SLUICE_OK; i < n && rc == SLUICE_OK; i++)
		rc = journal_recover_segment(j, &c, firsts[i],
		    i == n - 1 ? UINT64_MAX : firsts[i + 1], ckpt);
	jseg_cursor_free(&c);
	free(firsts);
	if (rc != SLUICE_OK)
		return rc;
	j->durable_seq = j->next_seq - 1;
	j->confirmed_seq = j->persisted_seq = ckpt;
	journal_drop_segments(j, ckpt);
	if (j->records_recovered > 0 || j->bytes_truncated > 0 ||
	    j->records_corrupt > 0)
		log_info("journal", "%s: %llu unconfirmed records recovered, "
		    "%llu bytes of torn tail cut, next seq %llu, %llu "
		    "records lost to corruption", j->dir,
		    (unsigned long long)j->records_recovered,
		    (unsigned long long)j->bytes_truncated,
		    (unsigned long long)j->next_seq,
		    (unsigned long long)j->records_corrupt);
	return SLUICE_OK;
}
