/*
 * journal_internal.h: what the journal's own files share: the journal's
 * state, and the helpers that journal.c (open, append, the writer thread),
 * journal_recover.c (recovery at open) and journal_reader.c (the consumer's
 * reader) all use. Not for other modules. The locking rules are those of
 * journal.c: j->lock guards the fields marked "under lock".
 */
#ifndef SLUICE_JOURNAL_INTERNAL_H
#define SLUICE_JOURNAL_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "journal/journal.h"
#include "journal/journal_segment.h"

#define JOURNAL_CKPT_NAME	"checkpoint"
#define JOURNAL_CKPT_TMP	"checkpoint.tmp"
#define JOURNAL_RECOVER_TMP	"recover.tmp"	/* a segment being split */
#define JOURNAL_CKPT_MS		100	/* persist at most this often */
#define JOURNAL_BUF_MIN		(64 * 1024)
#define JOURNAL_BUF_KEEP	(4 * 1024 * 1024) /* kept between batches */
#define JOURNAL_WAKE_BATCH	64	/* waiters called per unlock */
#define JOURNAL_CORRUPT_NAME	"corrupt"	/* marker: remove to ack */
#define JOURNAL_QUARANTINE_DIR	"quarantine"	/* damaged segments kept */

/* A journal_wait caller. */
struct journal_waiter {
	uint64_t		 seq;
	journal_durable_cb	 cb;
	void			*arg;
};

/* Framed records, consecutive from first_seq. */
struct journal_buf {
	unsigned char	*data;
	size_t		 len;
	size_t		 cap;
	uint64_t	 first_seq;
	uint64_t	 last_seq;
};

struct journal {
	char			*dir;
	int			 dirfd;
	int			 notify_fd;
	uint64_t		 max_bytes;
	uint64_t		 segment_bytes;

	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;		/* wakes the writer */
	pthread_t		 thread;

	/* Under lock. */
	int			 stopping;
	int			 writer_done;
	int			 failed;
	int			 full;		/* the last append did not fit */
	struct journal_buf	 pending;
	uint64_t		 next_seq;
	uint64_t		 durable_seq;
	uint64_t		 confirmed_seq;
	uint64_t		 persisted_seq;
	uint64_t		 bytes;
	uint64_t		 fsyncs;
	struct jseg		*segs;		/* ascending first_seq */
	size_t			 nsegs;
	size_t			 segcap;
	struct journal_waiter	*waiters;	/* min-heap on seq */
	size_t			 nwaiters;
	size_t			 waitcap;
	uint64_t		 records_corrupt; /* lost to damage */
	int			 corrupt_pending; /* marker not removed */

	/* Set by journal_open. */
	uint64_t		 records_recovered;
	uint64_t		 bytes_truncated;

	/* Writer thread only. */
	struct journal_buf	 wbuf;
	int			 seg_fd;	/* segment being written */
	uint64_t		 seg_first;
	uint64_t		 seg_size;
	uint64_t		 seg_last;
	int64_t			 ckpt_ms;	/* last persist attempt */
};

/* Logs a failed system call on the file name in the journal directory;
 * errno is kept. */
void journal_log_errno(struct journal *j, const char *name, const char *op);

/* fsyncs the journal directory. Returns 0, or -1 (logged). */
int journal_fsync_dir(struct journal *j);

/* Index of the segment whose first record is first_seq, or -1. Lock held. */
ssize_t journal_seg_find(struct journal *j, uint64_t first_seq);

/* Appends a segment to the list. Returns 0 or -1 (no memory). Lock held. */
int journal_seg_add(struct journal *j, const struct jseg *s);

/*
 * Deletes the segments whose records are all <= upto, except the one being
 * written. Called by the writer thread, or by journal_open before it starts.
 */
void journal_drop_segments(struct journal *j, uint64_t upto);

/*
 * Recovers the directory at open: reads the checkpoint, scans every
 * segment, cuts a torn tail, lists the segments and sets the sequence
 * numbers. Returns SLUICE_OK, SLUICE_EIO or SLUICE_ENOMEM (logged).
 */
int journal_recover(struct journal *j);

/* Damage found in a segment (see journal_corrupt.c). */
struct journal_damage {
	uint64_t	 seg;		/* first_seq of the segment */
	uint64_t	 off;		/* the damaged bytes: [off, end) */
	uint64_t	 end;
	uint64_t	 lost_first;	/* the records lost: lost_first.. */
	uint64_t	 lost_last;	/* ..lost_last (none if below first) */
	const char	*what;		/* jseg_result_str of what was found */
};

/*
 * Keeps the segment file seg, as it is now, in the quarantine directory
 * (a hard link, named after it, or after it and its inode number when an
 * earlier file has the name) and writes its path, relative to the journal
 * directory, to kept.
 * Returns 0, or -1 (logged; kept says "(nothing)"). Any thread.
 */
int journal_quarantine(struct journal *j, uint64_t seg, char *kept,
    size_t keptlen);

/*
 * Logs the damage d with the records it lost, counts them, appends it to
 * the marker file and sets the journal's corruption pending. kept is
 * where the segment was quarantined. Any thread; lock not held.
 */
void journal_corrupt_report(struct journal *j, const struct journal_damage *d,
    const char *kept);

#endif
