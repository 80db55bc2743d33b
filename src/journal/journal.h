/*
 * journal.h: the write-ahead journal that makes events durable before they
 * are acknowledged, and the queue the forwarder reads them from.
 *
 * Records go into append-only segment files in one directory, each framed
 * with its length, a CRC-32C and its sequence number. A writer thread owned
 * by the journal does group commit: one fdatasync covers every record
 * appended since the previous one, then the waiters whose records it covered
 * are called. The consumer (the forwarder) reads durable records in order and
 * reports how far the broker confirmed them; that checkpoint is persisted
 * and fully confirmed segments are deleted. On open, a torn tail is found by
 * its CRC and cut off, and every unconfirmed record is read again. Damage
 * anywhere else (at open or while reading) is corruption: reading goes on
 * at the next intact record, the damaged segment is kept in quarantine/,
 * and the loss is logged, counted and reported until acknowledged
 * (journal_corruption_pending).
 *
 * Threads: journal_append, journal_wait and the stats are thread-safe. One
 * reader at a time, from one thread (the forwarder). Durability callbacks run
 * on the journal's writer thread (or on the caller's, when the record is
 * already durable) and must not block.
 */
#ifndef SLUICE_JOURNAL_H
#define SLUICE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct journal;
struct journal_reader;
struct metrics_text;

struct journal_config {
	const char	*dir;		/* created if missing */
	uint64_t	 max_bytes;	/* segments on disk plus pending */
	uint64_t	 segment_bytes;	/* a segment rolls over past this */
};

struct journal_stats {
	uint64_t	bytes;			/* on disk and pending */
	uint64_t	max_bytes;
	uint64_t	segments;
	uint64_t	next_seq;		/* seq the next record gets */
	uint64_t	durable_seq;		/* highest fsynced */
	uint64_t	confirmed_seq;		/* highest confirmed */
	uint64_t	records_unconfirmed;	/* durable_seq - confirmed */
	uint64_t	fsyncs;			/* group commits so far */
	uint64_t	records_recovered;	/* unconfirmed found at open */
	uint64_t	bytes_truncated;	/* torn tail cut at open */
	uint64_t	records_corrupt;	/* lost to corruption so far */
	int		failed;			/* a write or fsync failed */
	int		full;			/* the last append did not fit,
						   and no space was freed since */
};

/* Called once when the record waited for is durable (status SLUICE_OK) or
 * can never be (SLUICE_EIO, SLUICE_ESTOPPING). */
typedef void (*journal_durable_cb)(void *arg, int status);

/*
 * Opens (creating if needed) the journal in cfg->dir, makes its name
 * durable (an fsync of the directory holding it), checks that files can
 * be created there, recovers it and starts its writer thread. Returns
 * SLUICE_OK and *out, or SLUICE_EIO (logged with the path and errno) /
 * SLUICE_EINVAL (bad config) / SLUICE_ENOMEM.
 */
int journal_open(const struct journal_config *cfg, struct journal **out);

/*
 * Writes and fsyncs everything appended, persists the checkpoint, stops the
 * writer thread and frees j. Waiters still pending get SLUICE_ESTOPPING only
 * if their record could not be written. Readers must be freed first.
 */
void journal_close(struct journal *j);

/*
 * Appends n records (all or none) and sets *last_seq to the sequence number
 * of the last one; they get consecutive numbers. The data is copied.
 * Returns SLUICE_OK; SLUICE_EFULL when they do not fit under max_bytes
 * (nothing appended); SLUICE_ETOOBIG when one record is larger than a
 * segment; SLUICE_EIO after a write or fsync failed; SLUICE_ESTOPPING once
 * journal_close began.
 */
int journal_append(struct journal *j, const struct iovec *recs, size_t n,
    uint64_t *last_seq);

/*
 * Calls cb(arg, status) once every record up to seq is durable. If it
 * already is, cb runs at once on the caller's thread. Returns SLUICE_OK or
 * SLUICE_ENOMEM (cb not called).
 */
int journal_wait(struct journal *j, uint64_t seq, journal_durable_cb cb,
    void *arg);

/*
 * A file descriptor (eventfd) that becomes readable when the durable
 * sequence advances; the reader polls it and reads it to clear it.
 */
int journal_notify_fd(struct journal *j);

/*
 * Records the consumer's progress: every record up to and including seq was
 * confirmed. Moving backwards is ignored. The checkpoint is persisted by the
 * writer thread soon after (and at close); segments whose records are all
 * confirmed are then deleted.
 */
void journal_confirm(struct journal *j, uint64_t seq);

void journal_get_stats(struct journal *j, struct journal_stats *st);

/*
 * Checks that a file can be created in the journal's directory (and
 * removed), as the next segment must be: for /readyz. Returns SLUICE_OK, or
 * SLUICE_EIO with err (errlen bytes) naming the directory and the reason.
 * Does not fail the journal. Any thread.
 */
int journal_probe(struct journal *j, char *err, size_t errlen);

/* Adds the journal's stats to a /metrics render; journal is a struct
 * journal (the signature of metrics_hooks.render). */
void journal_metrics_render(struct metrics_text *t, void *journal);

/*
 * Whether corrupt records were found (at open, now or in an earlier run,
 * or by a reader) and the operator has not acknowledged it yet by removing
 * the file "corrupt" from the journal directory. Returns 1 or 0. Any
 * thread; looks at the file system (one faccessat) while it is pending.
 */
int journal_corruption_pending(struct journal *j);

/*
 * Opens a reader positioned at the first unconfirmed record. Returns NULL
 * when out of memory.
 */
struct journal_reader *journal_reader_new(struct journal *j);

/*
 * Reads the next durable record. Returns 1 with *seq, *data and *len set
 * (data stays valid until the next call on r); 0 when none is durable yet;
 * -1 on a read error (logged; the next call tries the same record again).
 * A corrupt record is not an error: the reader goes on at the next intact
 * record, never skipping one, and the damage is reported (logged,
 * counted, quarantined, marked) once.
 */
int journal_reader_next(struct journal_reader *r, uint64_t *seq,
    const void **data, size_t *len);

/* Repositions r so the next record read is the first one after seq. */
void journal_reader_seek(struct journal_reader *r, uint64_t after_seq);

void journal_reader_free(struct journal_reader *r);

#endif
