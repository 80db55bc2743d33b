/*
 * journal_corrupt.c: what the journal does about damaged records, found at
 * open (journal_recover.c) or while reading (journal_reader.c): keeps the
 * damaged segment file, as found, in the quarantine directory beside the
 * segments (a hard link: the bytes stay whatever happens to the segment's
 * name), logs and counts the records lost with their sequence range, and
 * appends the incident to the marker file "corrupt" in the journal
 * directory. /readyz reports the corruption until an operator removes that
 * file. Sluiced never removes a quarantined file.
 *
 * Threads: thread-safe. The counters and the pending flag are under
 * j->lock; the files are written without it.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "journal/journal.h"
#include "journal/journal_internal.h"
#include "journal/journal_segment.h"

/* Whether dirfd/name is the same file as st. */
static int
journal_same_file(int dirfd, const char *name, const struct stat *st)
{
	struct stat qst;

	return fstatat(dirfd, name, &qst, 0) == 0 &&
	    qst.st_dev == st->st_dev && qst.st_ino == st->st_ino;
}

int
journal_quarantine(struct journal *j, uint64_t seg, char *kept,
    size_t keptlen)
{
	char name[JSEG_NAME_LEN], qname[JSEG_NAME_LEN + 32];
	struct stat st;
	int try, qfd;

	jseg_name(seg, name);
	snprintf(kept, keptlen, "(nothing)");
	if (fstatat(j->dirfd, name, &st, 0) == -1) {
		journal_log_errno(j, name, "stat");
		return -1;
	}
	if (mkdirat(j->dirfd, JOURNAL_QUARANTINE_DIR, 0750) == -1 &&
	    errno != EEXIST) {
		journal_log_errno(j, JOURNAL_QUARANTINE_DIR, "mkdir");
		return -1;
	}
	qfd = openat(j->dirfd, JOURNAL_QUARANTINE_DIR,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (qfd == -1) {
		journal_log_errno(j, JOURNAL_QUARANTINE_DIR, "open");
		return -1;
	}
	/*
	 * Its own name, or, when an earlier damaged file of that name is
	 * kept there, the name and its inode number: no other file in
	 * quarantine/ can have that, as the link keeps the inode in use.
	 */
	for (try = 0; try < 2; try++) {
		if (try == 0)
			snprintf(qname, sizeof qname, "%s", name);
		else
			snprintf(qname, sizeof qname, "%s.%llu", name,
			    (unsigned long long)st.st_ino);
		/* Kept already (found again after a restart): done. */
		if (journal_same_file(qfd, qname, &st))
			break;
		if (linkat(j->dirfd, name, qfd, qname, 0) == 0)
			break;
		if (errno != EEXIST || try == 1) {
			journal_log_errno(j, name, "link into quarantine");
			close(qfd);
			return -1;
		}
	}
	if (fsync(qfd) == -1)
		journal_log_errno(j, JOURNAL_QUARANTINE_DIR, "fsync");
	close(qfd);
	snprintf(kept, keptlen, "%s/%s", JOURNAL_QUARANTINE_DIR, qname);
	return 0;
}

/* Appends line to the marker file, creating it. Logged on failure. */
static void
journal_mark(struct journal *j, const char *line)
{
	static const char head[] =
	    "# Sluice found corrupt records in this journal. Each line below\n"
	    "# says where, which records were lost, and where the damaged\n"
	    "# segment is kept. Remove this file to acknowledge: /readyz\n"
	    "# reports the corruption until then.\n";
	struct stat st;
	size_t len;
	int fd;

	fd = openat(j->dirfd, JOURNAL_CORRUPT_NAME,
	    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd == -1) {
		journal_log_errno(j, JOURNAL_CORRUPT_NAME, "open");
		return;
	}
	len = strlen(line);
	if ((fstat(fd, &st) == 0 && st.st_size == 0 &&
	    write(fd, head, sizeof head - 1) != (ssize_t)(sizeof head - 1)) ||
	    write(fd, line, len) != (ssize_t)len || fsync(fd) == -1)
		journal_log_errno(j, JOURNAL_CORRUPT_NAME, "write");
	close(fd);
	journal_fsync_dir(j);
}

void
journal_corrupt_report(struct journal *j, const struct journal_damage *d,
    const char *kept)
{
	char name[JSEG_NAME_LEN], lost[96], line[512], when[32];
	uint64_t n;
	time_t now = time(NULL);
	struct tm tm;

	jseg_name(d->seg, name);
	n = d->lost_last >= d->lost_first ? d->lost_last - d->lost_first + 1 :
	    0;
	if (n == 0)
		snprintf(lost, sizeof lost, "no record lost");
	else if (n == 1)
		snprintf(lost, sizeof lost, "record %llu lost",
		    (unsigned long long)d->lost_first);
	else
		snprintf(lost, sizeof lost, "records %llu to %llu lost",
		    (unsigned long long)d->lost_first,
		    (unsigned long long)d->lost_last);
	log_error("journal", "%s/%s: %s at offset %llu: %llu corrupt bytes, "
	    "%s; reading on from offset %llu; the segment as found is "
	    "kept in %s/%s", j->dir, name, d->what,
	    (unsigned long long)d->off,
	    (unsigned long long)(d->end - d->off), lost,
	    (unsigned long long)d->end, j->dir, kept);
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(line, sizeof line, "%s %s offset %llu-%llu (%s): %s; kept "
	    "in %s\n", when, name, (unsigned long long)d->off,
	    (unsigned long long)d->end, d->what, lost, kept);
	journal_mark(j, line);
	pthread_mutex_lock(&j->lock);
	j->records_corrupt += n;
	j->corrupt_pending = 1;
	pthread_mutex_unlock(&j->lock);
}

int
journal_corruption_pending(struct journal *j)
{
	int pending;

	pthread_mutex_lock(&j->lock);
	pending = j->corrupt_pending;
	pthread_mutex_unlock(&j->lock);
	if (!pending)
		return 0;
	if (faccessat(j->dirfd, JOURNAL_CORRUPT_NAME, F_OK, 0) == 0 ||
	    errno != ENOENT)
		return 1;
	pthread_mutex_lock(&j->lock);
	pending = j->corrupt_pending;
	j->corrupt_pending = 0;
	pthread_mutex_unlock(&j->lock);
	if (pending)
		log_info("journal", "%s/%s removed: the corruption is "
		    "acknowledged", j->dir, JOURNAL_CORRUPT_NAME);
	return 0;
}
