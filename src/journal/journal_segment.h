/*
 * journal_segment.h: the on-disk format of the journal's segment files:
 * their names, the framing of a record, and a buffered cursor that reads
 * and validates the records of one segment in order. Used by journal.c.
 * Threads: no shared state; a cursor belongs to one thread at a time.
 */
#ifndef SLUICE_JOURNAL_SEGMENT_H
#define SLUICE_JOURNAL_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

/* [u32 length][u32 CRC-32C of seq bytes + payload][u64 seq], little-endian. */
#define JSEG_HDR_LEN	16
#define JSEG_NAME_LEN	25	/* "00000000000000000001.seg" and NUL */

/* A segment as the journal lists it. */
struct jseg {
	uint64_t	first_seq;	/* from its name */
	uint64_t	last_seq;	/* first_seq - 1 while it has none */
	uint64_t	size;		/* bytes in the file */
	uint64_t	end;		/* end of its valid records (<= size) */
};

/* What jseg_cursor_next found at the cursor's position. */
/*
 * No record is larger than the largest segment the configuration allows.
 * Lengths are checked against this, not against the segment size in force,
 * so records written under a larger segment_bytes still read back.
 */
#define JSEG_RECORD_MAX (UINT64_C(1) << 30)

enum jseg_result {
	JSEG_RECORD,		/* a valid record */
	JSEG_END,		/* no byte left before the limit */
	JSEG_TORN,		/* a record cut short by the limit */
	JSEG_BADLEN,		/* a length larger than any record */
	JSEG_BADCRC,		/* the checksum does not match */
	JSEG_BADSEQ,		/* not the sequence number expected */
	JSEG_EIO		/* pread failed (errno set) */
};

struct jseg_cursor {
	int		 fd;		/* -1 when closed */
	uint64_t	 first_seq;	/* of the open segment */
	uint64_t	 pos;		/* offset of the next record */
	uint64_t	 expect;	/* seq the next record must carry */
	uint64_t	 max_record;	/* largest record, header included */
	unsigned char	*buf;
	size_t		 cap;
	uint64_t	 buf_off;	/* file offset of buf[0] */
	size_t		 buf_len;
};

/* Writes the file name of the segment starting at first_seq. */
void jseg_name(uint64_t first_seq, char out[JSEG_NAME_LEN]);

/*
 * Lists the segments in the directory dirfd: *firsts gets a malloc'ed array
 * of their first sequence numbers in ascending order (NULL if none), *n its
 * length. Other files are ignored. Returns 0, or -1 with errno set.
 */
int jseg_list(int dirfd, uint64_t **firsts, size_t *n);

/* Writes a record header with a zero CRC; jseg_seal fills the CRC in. */
void jseg_frame(unsigned char hdr[JSEG_HDR_LEN], uint64_t seq, uint32_t len);

/*
 * Computes and stores the CRC of the framed record at rec (header, then
 * payload). Returns the record's size, header included.
 */
size_t jseg_seal(unsigned char *rec);

/* The checkpoint file: "SLCK", u64 seq, u32 CRC-32C of those 12 bytes. */
#define JSEG_CKPT_LEN	16

/* Encodes the checkpoint seq into its file content. */
void jseg_ckpt_encode(unsigned char out[JSEG_CKPT_LEN], uint64_t seq);

/* Decodes len bytes of checkpoint file; returns 0 and *seq, or -1 if they
 * are not a valid checkpoint. */
int jseg_ckpt_decode(const unsigned char *in, size_t len, uint64_t *seq);

/* A static name for a result, for log messages. */
const char *jseg_result_str(enum jseg_result res);

/* Prepares a closed cursor that accepts records up to max_record bytes. */
void jseg_cursor_init(struct jseg_cursor *c, uint64_t max_record);

/*
 * Opens the segment first_seq in dirfd (flags O_RDONLY or O_RDWR) and puts
 * the cursor at its start, closing what it had open. Returns 0, or -1 with
 * errno set (the cursor is then closed).
 */
int jseg_cursor_open(struct jseg_cursor *c, int dirfd, uint64_t first_seq,
    int flags);

/* Closes the cursor's file; the buffer is kept for the next open. */
void jseg_cursor_close(struct jseg_cursor *c);

/* Closes the file and frees the buffer. */
void jseg_cursor_free(struct jseg_cursor *c);

/*
 * Reads and checks the record at the cursor, reading no byte at or past
 * limit. On JSEG_RECORD sets *seq, *data (valid until the next call) and
 * *len and moves past it; on anything else the cursor stays where it is.
 */
enum jseg_result jseg_cursor_next(struct jseg_cursor *c, uint64_t limit,
    uint64_t *seq, const void **data, size_t *len);

/*
 * After jseg_cursor_next found damage at the cursor, looks for the next
 * intact record: scans forward from the byte after the cursor, before
 * limit, for a frame whose length fits, whose CRC matches and whose
 * sequence number fits (from c->expect on, no more records skipped than
 * the skipped bytes can hold, at most max_seq). Returns JSEG_RECORD with
 * the cursor moved to it (the next jseg_cursor_next returns it) and
 * c->expect set to its seq; JSEG_END if there is none (the cursor stays);
 * JSEG_EIO (errno set) if a read failed.
 */
enum jseg_result jseg_cursor_resync(struct jseg_cursor *c, uint64_t limit,
    uint64_t max_seq);

/*
 * Whether the bytes [off, limit) of the cursor's file are all zero (what a
 * crash can leave past the last write on some file systems). Returns 1, 0,
 * or -1 (errno set) if a read failed.
 */
int jseg_cursor_all_zero(struct jseg_cursor *c, uint64_t off, uint64_t limit);

#endif
