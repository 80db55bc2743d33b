/*
 * test_journal_corrupt.c: corruption of the journal on disk: every bit of
 * a three-segment journal flipped in turn, found at open and found by the
 * reader; damage in the middle of the newest segment and in the first
 * record of the oldest; the quarantine file, the marker and its
 * acknowledgement; a split interrupted by a crash and redone.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "core/sluice.h"
#include "journal/journal.h"
#include "journal/journal_segment.h"

#define MIB		(1024 * 1024)
#define REC_LEN		24			/* payload bytes */
#define FRAME		(JSEG_HDR_LEN + REC_LEN)	/* 40 */
#define PER_SEG		3
#define NSEG		3
#define NREC		(PER_SEG * NSEG)
#define SEG_BYTES	(PER_SEG * FRAME)
#define MAXREC		128

static struct journal *
jopen(const char *dir, uint64_t segment_bytes)
{
	struct journal_config cfg = { dir, MIB, segment_bytes };
	struct journal *j = NULL;

	CU_ASSERT_EQUAL_FATAL(journal_open(&cfg, &j), SLUICE_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	return j;
}

/* The payload of record seq: REC_LEN bytes, unique to seq. */
static void
payload(uint64_t seq, char buf[REC_LEN])
{
	char tmp[REC_LEN + 1];
	size_t n;

	n = (size_t)snprintf(tmp, sizeof tmp, "rec-%llu:",
	    (unsigned long long)seq);
	for (; n < REC_LEN; n++)
		tmp[n] = (char)('a' + (seq * 7 + n) % 26);
	memcpy(buf, tmp, REC_LEN);
}

/* Writes records 1..n to a new journal in dir (segments of seg_bytes). */
static void
write_journal(const char *dir, uint64_t n, uint64_t seg_bytes)
{
	struct journal *j = jopen(dir, seg_bytes);
	char buf[REC_LEN];
	struct iovec iov = { buf, REC_LEN };
	uint64_t i, seq;

	for (i = 1; i <= n; i++) {
		payload(i, buf);
		CU_ASSERT_EQUAL_FATAL(journal_append(j, &iov, 1, &seq),
		    SLUICE_OK);
		CU_ASSERT_EQUAL(seq, i);
	}
	journal_close(j);	/* writes and fsyncs them all */
}

/*
 * Reads every record r returns until 0; checks each is intact (its own
 * payload), in ascending order, once; sets got[seq] for each. Returns how
 * many records came.
 */
static int
read_all(struct journal_reader *r, int *got, uint64_t max)
{
	char want[REC_LEN];
	const void *data;
	uint64_t seq, prev = 0;
	size_t len;
	int rc, n = 0;

	while ((rc = journal_reader_next(r, &seq, &data, &len)) == 1) {
		payload(seq, want);
		CU_ASSERT_FATAL(seq > prev && seq <= max);
		CU_ASSERT(len == REC_LEN && memcmp(data, want, REC_LEN) == 0);
		got[seq] = 1;
		prev = seq;
		n++;
	}
	CU_ASSERT_EQUAL(rc, 0);
	return n;
}

static char *
path_in(const char *dir, const char *name)
{
	char *p;

	CU_ASSERT_FATAL(asprintf(&p, "%s/%s", dir, name) != -1);
	return p;
}

static char *
seg_path(const char *dir, uint64_t first)
{
	char name[JSEG_NAME_LEN];

	jseg_name(first, name);
	return path_in(dir, name);
}

/* Flips bit (0-7) of the byte at off in the file, in place. */
static void
flip_bit(const char *path, off_t off, int bit)
{
	unsigned char b;
	int fd;

	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd != -1);
	CU_ASSERT_FATAL(pread(fd, &b, 1, off) == 1);
	b ^= (unsigned char)(1u << bit);
	CU_ASSERT_FATAL(pwrite(fd, &b, 1, off) == 1);
	close(fd);
}

/* Files in dir/sub (0 if it does not exist). */
static int
count_files(const char *dir, const char *sub)
{
	char *p = path_in(dir, sub);
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir(p);
	free(p);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int
exists(const char *dir, const char *name)
{
	char *p = path_in(dir, name);
	int rc = access(p, F_OK) == 0;

	free(p);
	return rc;
}

/* The pristine three-segment journal, read into memory once. */
struct pristine {
	unsigned char	*seg[NSEG];
	size_t		 len[NSEG];
};

static void
pristine_make(struct pristine *p)
{
	char *d = strdup(unit_tmpdir()), *path;
	int k;

	CU_ASSERT_FATAL(d != NULL);
	write_journal(d, NREC, SEG_BYTES);
	for (k = 0; k < NSEG; k++) {
		path = seg_path(d, (uint64_t)k * PER_SEG + 1);
		p->seg[k] = unit_read_file(path, &p->len[k]);
		CU_ASSERT_EQUAL_FATAL(p->len[k], SEG_BYTES);
		free(path);
	}
	unit_rmtree(d);
	free(d);
}

static void
pristine_free(struct pristine *p)
{
	int k;

	for (k = 0; k < NSEG; k++)
		free(p->seg[k]);
}

/* Writes the pristine segments into the empty directory d. */
static void
pristine_put(const struct pristine *p, const char *d)
{
	char *path;
	int k;

	for (k = 0; k < NSEG; k++) {
		path = seg_path(d, (uint64_t)k * PER_SEG + 1);
		unit_write_file(path, p->seg[k], p->len[k]);
		free(path);
	}
}

/*
 * Checks the records read: every one but hit (the record holding the
 * flipped bit) must have come. Returns 1 if all did, else 0 (and says
 * which bit, to make a failure readable).
 */
static int
check_all_but(const int *got, uint64_t hit, int seg, size_t byte, int bit,
    const char *how)
{
	uint64_t s;
	int ok = 1;

	for (s = 1; s <= NREC; s++) {
		if (s == hit || got[s])
			continue;
		fprintf(stderr, "%s: bit %d of byte %zu of segment %d: record "
		    "%llu lost\n", how, bit, byte, seg, (unsigned long long)s);
		ok = 0;
	}
	return ok;
}

/*
 * Flips every bit of a three-segment journal in turn, each time on a
 * fresh copy, and opens it: recovery must keep every record that does
 * not hold the bit, and report what it lost. Opened once more, the
 * journal reads the same and finds nothing new to report.
 */
static void
TEST_recovery_every_bit_flipped(void)
{
	struct pristine p;
	struct journal *j;
	struct journal_reader *r;
	struct journal_stats st;
	int got[NREC + 1], again[NREC + 1], seg, bit, bad = 0;
	char *d = strdup(unit_tmpdir()), *path;
	uint64_t hit;
	size_t byte;

	CU_ASSERT_FATAL(d != NULL);
	pristine_make(&p);
	for (seg = 0; seg < NSEG && bad < 5; seg++) {
		for (byte = 0; byte < SEG_BYTES; byte++) {
			for (bit = 0; bit < 8; bit++) {
				unit_rmtree(d);
				CU_ASSERT_FATAL(mkdir(d, 0700) == 0);
				pristine_put(&p, d);
				path = seg_path(d, (uint64_t)seg * PER_SEG + 1);
				flip_bit(path, (off_t)byte, bit);
				free(path);
				hit = (uint64_t)seg * PER_SEG + 1 + byte / FRAME;

				memset(got, 0, sizeof got);
				j = jopen(d, SEG_BYTES);
				r = journal_reader_new(j);
				CU_ASSERT_PTR_NOT_NULL_FATAL(r);
				read_all(r, got, NREC);
				journal_reader_free(r);
				journal_get_stats(j, &st);
				/* Lost records are counted and quarantined,
				 * or the last was a torn tail. */
				if (st.records_corrupt > 0) {
					CU_ASSERT(count_files(d,
					    "quarantine") == 1);
					CU_ASSERT(exists(d, "corrupt"));
					CU_ASSERT(journal_corruption_pending(j));
				} else
					CU_ASSERT(hit == NREC || got[hit]);
				journal_close(j);
				if (!check_all_but(got, hit, seg, byte, bit,
				    "at open"))
					bad++;

				/* Reopened: the same, nothing new. */
				memset(again, 0, sizeof again);
				j = jopen(d, SEG_BYTES);
				journal_get_stats(j, &st);
				CU_ASSERT_EQUAL(st.records_corrupt, 0);
				r = journal_reader_new(j);
				CU_ASSERT_PTR_NOT_NULL_FATAL(r);
				read_all(r, again, NREC);
				CU_ASSERT(memcmp(got, again, sizeof got) == 0);
				journal_reader_free(r);
				journal_close(j);
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	pristine_free(&p);
	unit_rmtree(d);
	free(d);
}

/*
 * The same with the damage done while the journal is open, after
 * recovery found it whole: the reader must resynchronise, not skip.
 */
static void
TEST_reader_every_bit_flipped(void)
{
	struct pristine p;
	struct journal *j;
	struct journal_reader *r;
	struct journal_stats st;
	int got[NREC + 1], seg, bit, bad = 0;
	char *d = strdup(unit_tmpdir()), *path;
	uint64_t hit;
	size_t byte;

	CU_ASSERT_FATAL(d != NULL);
	pristine_make(&p);
	for (seg = 0; seg < NSEG && bad < 5; seg++) {
		for (byte = 0; byte < SEG_BYTES; byte++) {
			for (bit = 0; bit < 8; bit++) {
				unit_rmtree(d);
				CU_ASSERT_FATAL(mkdir(d, 0700) == 0);
				pristine_put(&p, d);
				j = jopen(d, SEG_BYTES);
				path = seg_path(d, (uint64_t)seg * PER_SEG + 1);
				flip_bit(path, (off_t)byte, bit);
				free(path);
				hit = (uint64_t)seg * PER_SEG + 1 + byte / FRAME;

				memset(got, 0, sizeof got);
				r = journal_reader_new(j);
				CU_ASSERT_PTR_NOT_NULL_FATAL(r);
				read_all(r, got, NREC);
				journal_reader_free(r);
				journal_get_stats(j, &st);
				CU_ASSERT_EQUAL(st.records_corrupt, 1);
				CU_ASSERT_FALSE(got[hit]);
				CU_ASSERT(count_files(d, "quarantine") == 1);
				CU_ASSERT(journal_corruption_pending(j));
				journal_close(j);
				if (!check_all_but(got, hit, seg, byte, bit,
				    "reader"))
					bad++;
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	pristine_free(&p);
	unit_rmtree(d);
	free(d);
}

/* Offset of record seq in a one-segment journal of FRAME-sized records. */
#define REC_OFF(seq)	((off_t)((seq) - 1) * FRAME)

/*
 * Issue scenario 1: 60 records in one (the newest) segment, one bit
 * flipped in record 20. Only record 20 is lost; the damaged file is kept
 * byte for byte; the marker names the record; removing it acknowledges.
 */
static void
TEST_flip_in_middle_of_newest_segment(void)
{
	char *d = strdup(unit_tmpdir()), *path, *qpath, *mark;
	unsigned char *orig, *kept, *text;
	struct journal *j;
	struct journal_reader *r;
	struct journal_stats st;
	int got[MAXREC] = { 0 }, n;
	size_t olen, klen, tlen;
	uint64_t seq;

	CU_ASSERT_FATAL(d != NULL);
	write_journal(d, 60, MIB);
	path = seg_path(d, 1);
	flip_bit(path, REC_OFF(20) + JSEG_HDR_LEN + 5, 3);
	orig = unit_read_file(path, &olen);

	j = jopen(d, MIB);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.records_corrupt, 1);
	CU_ASSERT_EQUAL(st.records_recovered, 59);
	CU_ASSERT_EQUAL(st.bytes_truncated, 0);
	CU_ASSERT_EQUAL(st.next_seq, 61);
	CU_ASSERT_EQUAL(st.segments, 2);	/* 1-19 and 21-60 */
	r = journal_reader_new(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	n = read_all(r, got, 60);
	CU_ASSERT_EQUAL(n, 59);
	for (seq = 1; seq <= 60; seq++)
		CU_ASSERT_EQUAL(got[seq], seq != 20);
	journal_reader_free(r);

	/* The segment as it was found, damage and all, in quarantine. */
	qpath = path_in(d, "quarantine/00000000000000000001.seg");
	kept = unit_read_file(qpath, &klen);
	CU_ASSERT(klen == olen && memcmp(kept, orig, olen) == 0);
	mark = path_in(d, "corrupt");
	text = unit_read_file(mark, &tlen);
	text[tlen] = '\0';
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)text, "record 20 lost"));
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)text,
	    "quarantine/00000000000000000001.seg"));
	CU_ASSERT_EQUAL(journal_corruption_pending(j), 1);
	journal_close(j);

	/* Not acknowledged: still pending after a restart. */
	j = jopen(d, MIB);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.records_corrupt, 0);
	CU_ASSERT_EQUAL(journal_corruption_pending(j), 1);
	CU_ASSERT_FATAL(unlink(mark) == 0);
	CU_ASSERT_EQUAL(journal_corruption_pending(j), 0);
	journal_close(j);
	/* Acknowledged, and nothing new: not pending after a restart. */
	j = jopen(d, MIB);
	CU_ASSERT_EQUAL(journal_corruption_pending(j), 0);
	/* The quarantined file is never removed. */
	CU_ASSERT_EQUAL(access(qpath, F_OK), 0);
	journal_close(j);

	free(text);
	free(kept);
	free(orig);
	free(mark);
	free(qpath);
	free(path);
	unit_rmtree(d);
	free(d);
}

/*
 * Issue scenario 2: three segments, one bit flipped in the first record
 * of the first (its length). Only that record is lost, not the segment.
 */
static void
TEST_flip_in_first_record_of_oldest_segment(void)
{
	char *d = strdup(unit_tmpdir()), *path;
	struct journal *j;
	struct journal_reader *r;
	struct journal_stats st;
	int got[MAXREC] = { 0 }, n;
	uint64_t seq;

	CU_ASSERT_FATAL(d != NULL);
	write_journal(d, 30, 10 * FRAME);	/* 1-10, 11-20, 21-30 */
	path = seg_path(d, 1);
	flip_bit(path, 1, 0);
	j = jopen(d, 10 * FRAME);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.records_corrupt, 1);
	CU_ASSERT_EQUAL(st.records_recovered, 29);
	/* Its name held no intact record any more: 2-10 is its own. */
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
	CU_ASSERT_EQUAL(count_files(d, "quarantine"), 1);
	r = journal_reader_new(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	n = read_all(r, got, 30);
	CU_ASSERT_EQUAL(n, 29);
	for (seq = 2; seq <= 30; seq++)
		CU_ASSERT(got[seq]);
	journal_reader_free(r);
	journal_close(j);
	free(path);
	unit_rmtree(d);
	free(d);
}

/*
 * A crash in the middle of a split: the new segment of the records after
 * the damage was written, the damaged file not yet replaced. Opening again
 * redoes the split: every intact record once, none twice.
 */
static void
TEST_split_interrupted_and_redone(void)
{
	char *d = strdup(unit_tmpdir()), *path, *qpath;
	unsigned char *damaged;
	struct journal *j;
	struct journal_reader *r;
	struct journal_stats st;
	int got[MAXREC] = { 0 }, n;
	size_t dlen;

	CU_ASSERT_FATAL(d != NULL);
	write_journal(d, 10, MIB);
	path = seg_path(d, 1);
	flip_bit(path, REC_OFF(4) + 2, 0);
	damaged = unit_read_file(path, &dlen);
	j = jopen(d, MIB);
	journal_close(j);
	/* Put the damaged file back beside the new segment 5. */
	CU_ASSERT_FATAL(unlink(path) == 0);
	unit_write_file(path, damaged, dlen);
	qpath = seg_path(d, 5);
	CU_ASSERT_EQUAL(access(qpath, F_OK), 0);

	j = jopen(d, MIB);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.records_recovered, 9);
	CU_ASSERT_EQUAL(st.records_corrupt, 1);
	CU_ASSERT_EQUAL(st.next_seq, 11);
	r = journal_reader_new(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	n = read_all(r, got, 10);
	CU_ASSERT_EQUAL(n, 9);
	CU_ASSERT_FALSE(got[4]);
	journal_reader_free(r);
	journal_close(j);
	free(damaged);
	free(qpath);
	free(path);
	unit_rmtree(d);
	free(d);
}

/*
 * The same segment damaged again after it was split: the second damaged
 * file is kept too, beside the first, under a name of its own.
 */
static void
TEST_second_damage_to_same_segment_kept_too(void)
{
	char *d = strdup(unit_tmpdir()), *path;
	struct journal *j;
	struct journal_reader *r;
	struct journal_stats st;
	int got[MAXREC] = { 0 }, n;

	CU_ASSERT_FATAL(d != NULL);
	write_journal(d, 10, MIB);
	path = seg_path(d, 1);
	flip_bit(path, REC_OFF(8) + JSEG_HDR_LEN, 1);
	j = jopen(d, MIB);		/* 1-7 and 9-10 */
	journal_close(j);
	flip_bit(path, REC_OFF(3) + JSEG_HDR_LEN, 1);
	j = jopen(d, MIB);		/* 1-2, 4-7 and 9-10 */
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.records_corrupt, 1);
	CU_ASSERT_EQUAL(count_files(d, "quarantine"), 2);
	r = journal_reader_new(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	n = read_all(r, got, 10);
	CU_ASSERT_EQUAL(n, 8);
	CU_ASSERT(!got[3] && !got[8]);
	journal_reader_free(r);
	journal_close(j);
	free(path);
	unit_rmtree(d);
	free(d);
}

/* A record cut short at the end of the newest segment is a torn tail:
 * cut, and not reported as corruption. */
static void
TEST_torn_tail_is_not_corruption(void)
{
	char *d = strdup(unit_tmpdir()), *path;
	struct journal *j;
	struct journal_stats st;

	CU_ASSERT_FATAL(d != NULL);
	write_journal(d, 5, MIB);
	path = seg_path(d, 1);
	CU_ASSERT_FATAL(truncate(path, 5 * FRAME - 7) == 0);
	j = jopen(d, MIB);
	journal_get_stats(j, &st);
	CU_ASSERT_EQUAL(st.records_corrupt, 0);
	CU_ASSERT_EQUAL(st.bytes_truncated, FRAME - 7);
	CU_ASSERT_EQUAL(st.next_seq, 5);
	CU_ASSERT_EQUAL(journal_corruption_pending(j), 0);
	CU_ASSERT_FALSE(exists(d, "corrupt"));
	CU_ASSERT_EQUAL(count_files(d, "quarantine"), 0);
	journal_close(j);
	free(path);
	unit_rmtree(d);
	free(d);
}

void
test_journal_corrupt_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_recovery_every_bit_flipped",
		    TEST_recovery_every_bit_flipped },
		{ "TEST_reader_every_bit_flipped",
		    TEST_reader_every_bit_flipped },
		{ "TEST_flip_in_middle_of_newest_segment",
		    TEST_flip_in_middle_of_newest_segment },
		{ "TEST_flip_in_first_record_of_oldest_segment",
		    TEST_flip_in_first_record_of_oldest_segment },
		{ "TEST_split_interrupted_and_redone",
		    TEST_split_interrupted_and_redone },
		{ "TEST_second_damage_to_same_segment_kept_too",
		    TEST_second_damage_to_same_segment_kept_too },
		{ "TEST_torn_tail_is_not_corruption",
		    TEST_torn_tail_is_not_corruption },
		{ NULL, NULL }
	};

	unit_add_suite("journal_corrupt", tests);
}
