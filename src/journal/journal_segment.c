/*
 * journal_segment.c: the journal's segment files: names, record framing and
 * a buffered, validating record cursor (pread into a buffer grown as
 * needed), shared by recovery and the reader. Threads: no shared state; a
 * cursor belongs to one thread at a time.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal/crc32c.h"
#include "journal/journal_segment.h"

#define JSEG_DIGITS	20
#define JSEG_SUFFIX	".seg"
#define JSEG_READ_CHUNK	(64 * 1024)
#define JSEG_CKPT_MAGIC	"SLCK"


static void
jseg_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t
jseg_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
jseg_get64(const unsigned char *p)
{
	return (uint64_t)jseg_get32(p) | (uint64_t)jseg_get32(p + 4) << 32;
}

void
jseg_name(uint64_t first_seq, char out[JSEG_NAME_LEN])
{
	snprintf(out, JSEG_NAME_LEN, "%020llu" JSEG_SUFFIX,
	    (unsigned long long)first_seq);
}

/* Parses a segment file name; returns 0 and *first_seq, or -1. */
static int
jseg_name_parse(const char *name, uint64_t *first_seq)
{
	uint64_t v = 0;
	unsigned d;
	size_t i;

	if (strlen(name) != JSEG_NAME_LEN - 1 ||
	    strcmp(name + JSEG_DIGITS, JSEG_SUFFIX) != 0)
		return -1;
	for (i = 0; i < JSEG_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		d = (unsigned)(name[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*first_seq = v;
	return 0;
}

static int
jseg_cmp_seq(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
jseg_list(int dirfd, uint64_t **firsts, size_t *n)
{
	DIR *d;
	struct dirent *de;
	uint64_t *v = NULL, *nv, seq;
	size_t len = 0, cap = 0;
	int fd, saved;

	*firsts = NULL;
	*n = 0;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (jseg_name_parse(de->d_name, &seq) == -1)
			continue;
		if (len == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((nv = reallocarray(v, cap, sizeof *v)) == NULL) {
				free(v);
				closedir(d);
				errno = ENOMEM;
				return -1;
			}
			v = nv;
		}
		v[len++] = seq;
		errno = 0;
	}
	if (errno != 0) {
		saved = errno;
		free(v);
		closedir(d);
		errno = saved;
		return -1;
	}
	closedir(d);
	if (len > 0)
		qsort(v, len, sizeof *v, jseg_cmp_seq);
	*firsts = v;
	*n = len;
	return 0;
}

void
jseg_frame(unsigned char hdr[JSEG_HDR_LEN], uint64_t seq, uint32_t len)
{
	jseg_put32(hdr, len);
	jseg_put32(hdr + 4, 0);
	jseg_put32(hdr + 8, (uint32_t)seq);
	jseg_put32(hdr + 12, (uint32_t)(seq >> 32));
}

size_t
jseg_seal(unsigned char *rec)
{
	uint32_t len = jseg_get32(rec);

	/* The sequence number sits just before the payload: one pass. */
	jseg_put32(rec + 4, crc32c(0, rec + 8, 8 + (size_t)len));
	return JSEG_HDR_LEN + (size_t)len;
}

void
jseg_ckpt_encode(unsigned char out[JSEG_CKPT_LEN], uint64_t seq)
{
	memcpy(out, JSEG_CKPT_MAGIC, 4);
	jseg_put32(out + 4, (uint32_t)seq);
	jseg_put32(out + 8, (uint32_t)(seq >> 32));
	jseg_put32(out + 12, crc32c(0, out, 12));
}

int
jseg_ckpt_decode(const unsigned char *in, size_t len, uint64_t *seq)
{
	if (len != JSEG_CKPT_LEN || memcmp(in, JSEG_CKPT_MAGIC, 4) != 0 ||
	    crc32c(0, in, 12) != jseg_get32(in + 12))
		return -1;
	*seq = jseg_get64(in + 4);
	return 0;
}

const char *
jseg_result_str(enum jseg_result res)
{
	switch (res) {
	case JSEG_RECORD:
		return "valid record";
	case JSEG_END:
		return "end of segment";
	case JSEG_TORN:
		return "record cut short";
	case JSEG_BADLEN:
		return "bad record length";
	case JSEG_BADCRC:
		return "checksum mismatch";
	case JSEG_BADSEQ:
		return "sequence number out of order";
	case JSEG_EIO:
		return "read error";
	}
	return "unknown";
}

void
jseg_cursor_init(struct jseg_cursor *c, uint64_t max_record)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->max_record = max_record;
}

int
jseg_cursor_open(struct jseg_cursor *c, int dirfd, uint64_t first_seq,
    int flags)
{
	char name[JSEG_NAME_LEN];

	jseg_cursor_close(c);
	jseg_name(first_seq, name);
	c->fd = openat(dirfd, name, flags | O_CLOEXEC);
	if (c->fd == -1)
		return -1;
	c->first_seq = first_seq;
	c->expect = first_seq;
	return 0;
}

void
jseg_cursor_close(struct jseg_cursor *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->pos = 0;
	c->buf_off = 0;
	c->buf_len = 0;
}

void
jseg_cursor_free(struct jseg_cursor *c)
{
	jseg_cursor_close(c);
	free(c->buf);
	c->buf = NULL;
	c->cap = 0;
}

/*
 * Makes bytes [off, off + need) of the file available in the buffer,
 * reading ahead up to limit. Returns 0, 1 if the file ends before them, or
 * -1 with errno set.
 */
static int
jseg_fill(struct jseg_cursor *c, uint64_t off, size_t need, uint64_t limit)
{
	unsigned char *nb;
	size_t want, got = 0;
	ssize_t r;

	if (off >= c->buf_off && off + need <= c->buf_off + c->buf_len)
		return 0;
	want = need > JSEG_READ_CHUNK ? need : JSEG_READ_CHUNK;
	if (want > limit - off)
		want = (size_t)(limit - off);
	if (want > c->cap) {
		if ((nb = realloc(c->buf, want)) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		c->buf = nb;
		c->cap = want;
	}
	c->buf_len = 0;
	while (got < want) {
		r = pread(c->fd, c->buf + got, want - got, (off_t)(off + got));
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	c->buf_off = off;
	c->buf_len = got;
	return got < need ? 1 : 0;
}

enum jseg_result
jseg_cursor_next(struct jseg_cursor *c, uint64_t limit, uint64_t *seq,
    const void **data, size_t *len)
{
	const unsigned char *p;
	uint64_t rlen;
	int r;

	if (c->pos >= limit)
		return JSEG_END;
	if (limit - c->pos < JSEG_HDR_LEN)
		return JSEG_TORN;
	if ((r = jseg_fill(c, c->pos, JSEG_HDR_LEN, limit)) != 0)
		return r == -1 ? JSEG_EIO : JSEG_TORN;
	p = c->buf + (c->pos - c->buf_off);
	rlen = JSEG_HDR_LEN + (uint64_t)jseg_get32(p);
	if (rlen > c->max_record)
		return JSEG_BADLEN;
	if (limit - c->pos < rlen)
		return JSEG_TORN;
	if ((r = jseg_fill(c, c->pos, (size_t)rlen, limit)) != 0)
		return r == -1 ? JSEG_EIO : JSEG_TORN;
	p = c->buf + (c->pos - c->buf_off);
	if (crc32c(0, p + 8, (size_t)rlen - 8) != jseg_get32(p + 4))
		return JSEG_BADCRC;
	if (jseg_get64(p + 8) != c->expect)
		return JSEG_BADSEQ;
	*seq = c->expect++;
	*data = p + JSEG_HDR_LEN;
	*len = (size_t)rlen - JSEG_HDR_LEN;
	c->pos += rlen;
	return JSEG_RECORD;
}

enum jseg_result
jseg_cursor_resync(struct jseg_cursor *c, uint64_t limit, uint64_t max_seq)
{
	const unsigned char *p;
	uint64_t off, rlen, seq;
	int r;

	for (off = c->pos + 1; off < limit && limit - off >= JSEG_HDR_LEN;
	    off++) {
		if ((r = jseg_fill(c, off, JSEG_HDR_LEN, limit)) != 0) {
			if (r == -1)
				return JSEG_EIO;
			break;
		}
		p = c->buf + (off - c->buf_off);
		rlen = JSEG_HDR_LEN + (uint64_t)jseg_get32(p);
		seq = jseg_get64(p + 8);
		/* Cheap checks first: most offsets fail them. Each record
		 * lost in between took at least a header's bytes. */
		if (rlen > c->max_record || rlen > limit - off ||
		    seq < c->expect || seq > max_seq ||
		    seq - c->expect > (off - c->pos) / JSEG_HDR_LEN)
			continue;
		if ((r = jseg_fill(c, off, (size_t)rlen, limit)) != 0) {
			if (r == -1)
				return JSEG_EIO;
			continue;
		}
		p = c->buf + (off - c->buf_off);
		if (crc32c(0, p + 8, (size_t)rlen - 8) != jseg_get32(p + 4))
			continue;
		c->pos = off;
		c->expect = seq;
		return JSEG_RECORD;
	}
	return JSEG_END;
}

int
jseg_cursor_all_zero(struct jseg_cursor *c, uint64_t off, uint64_t limit)
{
	const unsigned char *p;
	size_t n, i;
	int r;

	while (off < limit) {
		n = limit - off > JSEG_READ_CHUNK ? JSEG_READ_CHUNK :
		    (size_t)(limit - off);
		if ((r = jseg_fill(c, off, n, limit)) != 0)
			return r == -1 ? -1 : 0;
		p = c->buf + (off - c->buf_off);
		for (i = 0; i < n; i++)
			if (p[i] != 0)
				return 0;
		off += n;
	}
	return 1;
}
