/*
 * gzip.c: bounded inflation of gzip request bodies (Content-Encoding: gzip).
 * The output buffer grows by doubling but never past limit + 1 bytes (plus
 * the NUL): filling that last probe byte proves the data is too big, so a
 * bomb costs at most about limit bytes of memory and the time to inflate
 * limit bytes. Thread-safe: no shared state.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#define ZLIB_CONST
#include <zlib.h>

#include "core/sluice.h"
#include "ingest/gzip.h"

#define GZIP_MIN_BUF 4096

/* The first output size to try: a guess from the input, within the cap. */
static size_t
gzip_first_cap(size_t inlen, size_t cap_max)
{
	size_t cap;

	cap = inlen <= SIZE_MAX / 4 ? inlen * 4 : SIZE_MAX;
	if (cap < GZIP_MIN_BUF)
		cap = GZIP_MIN_BUF;
	return cap < cap_max ? cap : cap_max;
}

int
gzip_inflate(const void *in, size_t inlen, size_t limit, char **out,
    size_t *outlen)
{
	z_stream z = { 0 };
	const unsigned char *src = in;
	size_t cap_max, cap, total = 0, in_left = inlen, chunk;
	char *buf, *nbuf;
	int zr, rc;

	*out = NULL;
	*outlen = 0;
	if (in == NULL || inlen == 0)
		return SLUICE_EINVAL;
	if (limit >= SIZE_MAX - 2)
		limit = SIZE_MAX - 3;
	cap_max = limit + 1;
	cap = gzip_first_cap(inlen, cap_max);
	if ((buf = malloc(cap + 1)) == NULL)
		return SLUICE_ENOMEM;
	zr = inflateInit2(&z, 16 + MAX_WBITS);
	if (zr != Z_OK) {
		free(buf);
		return zr == Z_MEM_ERROR ? SLUICE_ENOMEM : SLUICE_EINVAL;
	}

	for (;;) {
		if (z.avail_in == 0 && in_left > 0) {
			chunk = in_left < UINT_MAX ? in_left : UINT_MAX;
			z.next_in = src;
			z.avail_in = (uInt)chunk;
			src += chunk;
			in_left -= chunk;
		}
		if (total == cap) {
			if (cap == cap_max) {
				rc = SLUICE_ETOOBIG;
				break;
			}
			cap = cap <= cap_max / 2 ? cap * 2 : cap_max;
			if ((nbuf = realloc(buf, cap + 1)) == NULL) {
				rc = SLUICE_ENOMEM;
				break;
			}
			buf = nbuf;
		}
		chunk = cap - total < UINT_MAX ? cap - total : UINT_MAX;
		z.next_out = (unsigned char *)buf + total;
		z.avail_out = (uInt)chunk;
		zr = inflate(&z, Z_NO_FLUSH);
		total += chunk - z.avail_out;
		if (zr == Z_STREAM_END) {
			if (z.avail_in == 0 && in_left == 0) {
				rc = total > limit ? SLUICE_ETOOBIG : SLUICE_OK;
				break;
			}
			/* Another member follows. */
			if (inflateReset(&z) != Z_OK) {
				rc = SLUICE_EINVAL;
				break;
			}
			continue;
		}
		if (zr == Z_MEM_ERROR) {
			rc = SLUICE_ENOMEM;
			break;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			rc = SLUICE_EINVAL;	/* bad data or a dictionary */
			break;
		}
		/* Input spent and room left over: the stream is truncated. */
		if (z.avail_in == 0 && in_left == 0 && total < cap) {
			rc = SLUICE_EINVAL;
			break;
		}
	}
	inflateEnd(&z);
	if (rc != SLUICE_OK) {
		free(buf);
		return rc;
	}
	buf[total] = '\0';
	*out = buf;
	*outlen = total;
	return SLUICE_OK;
}
