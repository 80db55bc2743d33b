/*
 * journal_reader.c: the consumer's reader. It reads durable records in
 * sequence order from the segment files, one segment at a time, while the
 * writer appends to the last one and deletes confirmed ones behind it. A
 * damaged record is reported (journal_corrupt.c) and reading goes on at
 * the next intact one.
 * Threads: a reader belongs to one thread (the forwarder); it takes
 * j->lock only to look at the segment list and durable_seq.
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

struct journal_reader {
	struct journal		*j;
	struct jseg_cursor	 c;
	uint64_t		 next;		/* first seq it may return */
	int			 have;		/* seg is chosen */
	int			 advance;	/* go past seg on next call */
	uint64_t		 seg;		/* first_seq of its segment */
	uint64_t		 limit;		/* cached end of the segment */
	uint64_t		 durable;	/* cached durable_seq */
	int			 is_last;	/* seg was the last one listed */
	uint64_t		 seg_last;	/* cached last_seq of seg */
	uint64_t		 told_seg;	/* damage reported last: seg, */
	uint64_t		 told_off;	/* offset + 1 (0: none yet) */
};

struct journal_reader *
journal_reader_new(struct journal *j)
{
	struct journal_reader *r;

	if ((r = calloc(1, sizeof *r)) == NULL)
		return NULL;
	r->j = j;
	jseg_cursor_init(&r->c, JSEG_RECORD_MAX);
	pthread_mutex_lock(&j->lock);
	r->next = j->confirmed_seq + 1;
	pthread_mutex_unlock(&j->lock);
	return r;
}

/*
 * Picks the segment to read next: the one holding r->next, or the one after
 * r->seg when r->advance is set. Lock held. Returns 0 and *first, or -1 if
 * there is none yet.
 */
static int
journal_reader_pick(struct journal_reader *r, uint64_t *first)
{
	struct journal *j = r->j;
	size_t i;

	if (r->have && r->advance) {
		for (i = 0; i < j->nsegs; i++) {
			if (j->segs[i].first_seq > r->seg) {
				*first = j->segs[i].first_seq;
				return 0;
			}
		}
		return -1;
	}
	if (j->nsegs == 0)
		return -1;
	/* The last segment starting at or before r->next, else the first. */
	for (i = j->nsegs; i > 0; i--) {
		if (j->segs[i - 1].first_seq <= r->next) {
			*first = j->segs[i - 1].first_seq;
			return 0;
		}
	}
	*first = j->segs[0].first_seq;
	return 0;
}

/* Refreshes the cached end, durable_seq and is_last of r's segment.
 * Returns 0, or -1 if the segment is gone from the list. */
static int
journal_reader_refresh(struct journal_reader *r)
{
	struct journal *j = r->j;
	ssize_t i;

	pthread_mutex_lock(&j->lock);
	r->durable = j->durable_seq;
	i = journal_seg_find(j, r->seg);
	if (i != -1) {
		r->limit = j->segs[i].end;
		r->seg_last = j->segs[i].last_seq;
		r->is_last = (size_t)i == j->nsegs - 1;
	}
	pthread_mutex_unlock(&j->lock);
	return i == -1 ? -1 : 0;
}

/*
 * Resynchronises r after jseg_cursor_next found damage (res) at the
 * cursor: moves it to the next intact record of the segment, or past the
 * segment's records when none is left, and reports the damage unless it
 * reported this very spot before (a seek back reads it again). Returns 0,
 * or -1 on a read error (logged; r is set to read the same place again).
 */
static int
journal_reader_resync(struct journal_reader *r, enum jseg_result res)
{
	struct journal *j = r->j;
	struct journal_damage d;
	char name[JSEG_NAME_LEN], kept[JSEG_NAME_LEN + 64];
	enum jseg_result rr;

	if (journal_reader_refresh(r) == -1) {
		/* Confirmed and deleted meanwhile: nothing is lost. */
		r->advance = 1;
		return 0;
	}
	d.seg = r->seg;
	d.off = r->c.pos;
	d.lost_first = r->c.expect;
	d.what = jseg_result_str(res);
	rr = jseg_cursor_resync(&r->c, r->limit, r->seg_last);
	if (rr == JSEG_EIO) {
		jseg_name(r->seg, name);
		journal_log_errno(j, name, "read");
		journal_reader_seek(r, r->next - 1);
		return -1;
	}
	if (rr == JSEG_RECORD) {
		d.end = r->c.pos;
		d.lost_last = r->c.expect - 1;
	} else {
		/* Nothing intact left in what is durable of it. */
		d.end = r->limit;
		d.lost_last = r->seg_last;
		if (r->is_last) {
			/* The writer appends after it: read on from there. */
			r->c.pos = r->limit;
			r->c.expect = r->seg_last + 1;
		} else
			r->advance = 1;
	}
	if (r->told_seg == d.seg && r->told_off == d.off + 1)
		return 0;
	r->told_seg = d.seg;
	r->told_off = d.off + 1;
	journal_quarantine(j, d.seg, kept, sizeof kept);
	journal_corrupt_report(j, &d, kept);
	return 0;
}

int
journal_reader_next(struct journal_reader *r, uint64_t *seq,
    const void **data, size_t *len)
{
	struct journal *j = r->j;
	char name[JSEG_NAME_LEN];
	enum jseg_result res;
	uint64_t first;
	int rc;

	for (;;) {
		if (r->c.fd == -1 || r->advance) {
			pthread_mutex_lock(&j->lock);
			rc = r->next <= j->durable_seq ?
			    journal_reader_pick(r, &first) : -1;
			pthread_mutex_unlock(&j->lock);
			if (rc == -1)
				return 0;
			r->have = 1;
			r->seg = first;
			r->advance = 0;
			r->limit = 0;
			if (jseg_cursor_open(&r->c, j->dirfd, first,
			    O_RDONLY) == -1) {
				if (errno == ENOENT) {
					/* Deleted behind us: all confirmed. */
					r->advance = 1;
					continue;
				}
				/* Out of descriptors, say: try the same
				 * place again later, never skip it. */
				jseg_name(first, name);
				journal_log_errno(j, name, "open");
				journal_reader_seek(r, r->next - 1);
				return -1;
			}
		}
		if ((r->c.pos >= r->limit || r->c.expect > r->durable) &&
		    journal_reader_refresh(r) == -1) {
			/* Confirmed and deleted: what it had is read. */
			r->advance = 1;
			continue;
		}
		if (r->c.pos >= r->limit) {
			if (r->is_last)
				return 0;
			r->advance = 1;
			continue;
		}
		if (r->c.expect > r->durable)
			return 0;
		res = jseg_cursor_next(&r->c, r->limit, seq, data, len);
		if (res == JSEG_EIO) {
			/* A failed read (or no memory): from the same
			 * record again later. */
			jseg_name(r->seg, name);
			journal_log_errno(j, name, "read");
			journal_reader_seek(r, r->next - 1);
			return -1;
		}
		if (res != JSEG_RECORD) {
			/* Damaged on disk since it was written (or since
			 * open): go on at the next intact record. */
			if (journal_reader_resync(r, res) == -1)
				return -1;
			continue;
		}
		if (*seq < r->next)
			continue;
		if (*seq > r->next)
			log_warn("journal", "%s: records %llu to %llu are "
			    "not in the journal (lost to damage, reported "
			    "when found); going on from %llu",
			    j->dir, (unsigned long long)r->next,
			    (unsigned long long)*seq - 1,
			    (unsigned long long)*seq);
		r->next = *seq + 1;
		return 1;
	}
}

void
journal_reader_seek(struct journal_reader *r, uint64_t after_seq)
{
	jseg_cursor_close(&r->c);
	r->next = after_seq + 1;
	r->have = 0;
	r->advance = 0;
	r->limit = 0;
}

void
journal_reader_free(struct journal_reader *r)
{
	if (r == NULL)
		return;
	jseg_cursor_free(&r->c);
	free(r);
}
