/*
 * fuzz_recover.c: libFuzzer harness for journal recovery and the reader
 * (journal/journal_recover.c, journal_reader.c): any bytes as the only
 * segment of a journal directory (on /dev/shm when it exists, so the
 * syncs cost little), opened, read to its end and closed. Recovery must
 * neither crash nor loop, and the reader must only hand out records that
 * pass their CRC.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sluice.h"
#include "journal/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fuzz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	char dir[64], path[128];
	struct journal_config cfg;
	struct journal_reader *r;
	struct journal *j;
	const void *rec;
	uint64_t seq;
	size_t len;
	int fd, i;

	/* Damage is logged as an error; warnings and below are noise. */
	if (!quiet++)
		log_set_level(LOG_LEVEL_ERROR);
	snprintf(dir, sizeof dir, "%s/sluice-fuzz-XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 0;
	snprintf(path, sizeof path, "%s/00000000000000000001.seg", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd != -1) {
		if (write(fd, data, size) != (ssize_t)size)
			size = 0;
		close(fd);
	}
	cfg.dir = dir;
	cfg.max_bytes = 64 << 20;
	cfg.segment_bytes = 1 << 20;
	if (fd != -1 && journal_open(&cfg, &j) == SLUICE_OK) {
		if ((r = journal_reader_new(j)) != NULL) {
			/* Bounded: a segment of size bytes holds fewer
			 * records than it has bytes. */
			for (i = 0; i <= (int)size + 1; i++)
				if (journal_reader_next(r, &seq, &rec, &len) <= 0)
					break;
			journal_reader_free(r);
		}
		journal_close(j);
	}
	nftw(dir, fuzz_rm, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}
