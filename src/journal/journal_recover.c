/*
 * journal_recover.c: recovery of the journal directory at open: the
 * persisted checkpoint, a scan of every segment that cuts a torn tail at
 * the first bad record, and the list of segments with their valid ends.
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

/*
 * Scans one segment at open: counts its valid records, truncates a torn
 * tail if it is the last segment, and lists it (or deletes it when it holds
 * no valid record). Returns SLUICE_OK, SLUICE_EIO or SLUICE_ENOMEM.
 */
static int
journal_recover_segment(struct journal *j, struct jseg_cursor *c,
    uint64_t first, int is_last, uint64_t ckpt)
{
	char name[JSEG_NAME_LEN];
	struct jseg s = { first, first - 1, 0, 0 };
	struct stat st;
	enum jseg_result res;
	const void *data;
	uint64_t seq;
	size_t len;

	jseg_name(first, name);
	if (jseg_cursor_open(c, j->dirfd, first, O_RDWR) == -1) {
		journal_log_errno(j, name, "open");
		return SLUICE_EIO;
	}
	if (fstat(c->fd, &st) == -1) {
		journal_log_errno(j, name, "fstat");
		return SLUICE_EIO;
	}
	s.size = (uint64_t)st.st_size;
	while ((res = jseg_cursor_next(c, s.size, &seq, &data, &len)) ==
	    JSEG_RECORD) {
		s.last_seq = seq;
		if (seq > ckpt)
			j->records_recovered++;
	}
	s.end = c->pos;
	if (res == JSEG_EIO) {
		journal_log_errno(j, name, "read");
		return SLUICE_EIO;
	}
	if (res != JSEG_END && is_last) {
		log_warn("journal", "%s/%s: %s at offset %llu: torn tail, "
		    "%llu bytes cut off", j->dir, name, jseg_result_str(res),
		    (unsigned long long)s.end,
		    (unsigned long long)(s.size - s.end));
		if (ftruncate(c->fd, (off_t)s.end) == -1 ||
		    fsync(c->fd) == -1) {
			journal_log_errno(j, name, "truncate");
			return SLUICE_EIO;
		}
		j->bytes_truncated += s.size - s.end;
		s.size = s.end;
	} else if (res != JSEG_END) {
		log_error("journal", "%s/%s: %s at offset %llu: the rest of "
		    "this segment is lost", j->dir, name, jseg_result_str(res),
		    (unsigned long long)s.end);
	}
	jseg_cursor_close(c);
	if (s.end == 0) {
		/* Nothing readable: its name would only get in the way. */
		if (unlinkat(j->dirfd, name, 0) == -1) {
			journal_log_errno(j, name, "unlink");
			return SLUICE_EIO;
		}
		return journal_fsync_dir(j) == -1 ? SLUICE_EIO : SLUICE_OK;
	}
	if (journal_seg_add(j, &s) == -1)
		return SLUICE_ENOMEM;
	j->bytes += s.size;
	if (s.last_seq >= j->next_seq)
		j->next_seq = s.last_seq + 1;
	return SLUICE_OK;
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
		rc = journal_recover_segment(j, &c, firsts[i], i == n - 1,
		    ckpt);
	jseg_cursor_free(&c);
	free(firsts);
	if (rc != SLUICE_OK)
		return rc;
	j->durable_seq = j->next_seq - 1;
	j->confirmed_seq = j->persisted_seq = ckpt;
	journal_drop_segments(j, ckpt);
	if (j->records_recovered > 0 || j->bytes_truncated > 0)
		log_info("journal", "%s: %llu unconfirmed records recovered, "
		    "%llu bytes of torn tail cut, next seq %llu", j->dir,
		    (unsigned long long)j->records_recovered,
		    (unsigned long long)j->bytes_truncated,
		    (unsigned long long)j->next_seq);
	return SLUICE_OK;
}
