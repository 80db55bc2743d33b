/*
 * test_gzip.c: bounded gzip inflation: round trips, the limit to the byte,
 * a bomb, garbage, every truncation, bad checksums and concatenated
 * members. The gzip input is made here with zlib's deflate.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "unit.h"
#include "core/isotime.h"
#include "core/sluice.h"
#include "ingest/gzip.h"

/* Compresses len bytes of data as one gzip member; sets *outlen. */
static unsigned char *
gz(const void *data, size_t len, size_t *outlen)
{
	z_stream z = { 0 };
	unsigned char *out;
	size_t cap;

	CU_ASSERT_FATAL(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9,
	    Z_DEFAULT_STRATEGY) == Z_OK);
	cap = deflateBound(&z, (uLong)len) + 64;
	out = malloc(cap);
	CU_ASSERT_FATAL(out != NULL);
	z.next_in = (unsigned char *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	CU_ASSERT_FATAL(deflate(&z, Z_FINISH) == Z_STREAM_END);
	*outlen = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

/* Fills buf with compressible but not trivial text. */
static void
fill_text(char *buf, size_t len, unsigned seed)
{
	static const char *const words[] = { "event", "channel", "sluice",
	    "journal", "{\"a\":1}", " ", "\n", "rabbit", "0123456789" };
	size_t i = 0, w;

	while (i < len) {
		seed = seed * 1103515245 + 12345;
		w = strlen(words[(seed >> 16) % SLUICE_ARRAY_LEN(words)]);
		if (w > len - i)
			w = len - i;
		memcpy(buf + i, words[(seed >> 16) % SLUICE_ARRAY_LEN(words)],
		    w);
		i += w;
	}
}

static void
TEST_round_trip(void)
{
	static const size_t sizes[] = { 0, 1, 100, 4095, 4096, 4097, 100000,
	    1000000 };
	unsigned char *z;
	char *src, *out;
	size_t i, zlen, outlen;

	for (i = 0; i < SLUICE_ARRAY_LEN(sizes); i++) {
		src = malloc(sizes[i] + 1);
		CU_ASSERT_FATAL(src != NULL);
		fill_text(src, sizes[i], (unsigned)i);
		z = gz(src, sizes[i], &zlen);
		out = NULL;
		CU_ASSERT_EQUAL(gzip_inflate(z, zlen, 2000000, &out, &outlen),
		    SLUICE_OK);
		CU_ASSERT_PTR_NOT_NULL_FATAL(out);
		CU_ASSERT_EQUAL(outlen, sizes[i]);
		CU_ASSERT(memcmp(out, src, sizes[i]) == 0);
		CU_ASSERT_EQUAL(out[outlen], '\0');
		free(out);
		free(z);
		free(src);
	}
}

static void
TEST_exact_limit_and_one_over(void)
{
	static const size_t sizes[] = { 1, 4096, 4097, 8192, 65536, 100001 };
	unsigned char *z;
	char *src, *out;
	size_t i, n, zlen, outlen;

	for (i = 0; i < SLUICE_ARRAY_LEN(sizes); i++) {
		n = sizes[i];
		src = malloc(n);
		CU_ASSERT_FATAL(src != NULL);
		fill_text(src, n, 7);
		z = gz(src, n, &zlen);
		CU_ASSERT_EQUAL(gzip_inflate(z, zlen, n, &out, &outlen),
		    SLUICE_OK);
		CU_ASSERT_EQUAL(outlen, n);
		free(out);
		out = (char *)1;
		outlen = 99;
		CU_ASSERT_EQUAL(gzip_inflate(z, zlen, n - 1, &out, &outlen),
		    SLUICE_ETOOBIG);
		CU_ASSERT_PTR_NULL(out);
		CU_ASSERT_EQUAL(outlen, 0);
		free(z);
		free(src);
	}
}

static void
TEST_bomb_stops_at_limit(void)
{
	size_t n = 10 * 1024 * 1024, zlen, outlen;
	unsigned char *z;
	char *zeros, *out = NULL;
	int64_t t0;

	zeros = calloc(1, n);
	CU_ASSERT_FATAL(zeros != NULL);
	z = gz(zeros, n, &zlen);
	free(zeros);
	CU_ASSERT(zlen < 20000);
	t0 = isotime_mono_ms();
	CU_ASSERT_EQUAL(gzip_inflate(z, zlen, 512 * 1024, &out, &outlen),
	    SLUICE_ETOOBIG);
	/* Inflating 512K takes milliseconds; 10 MB would take longer. */
	CU_ASSERT(isotime_mono_ms() - t0 < 5000);
	CU_ASSERT_PTR_NULL(out);
	free(z);
}

static void
TEST_garbage(void)
{
	unsigned char junk[4096];
	unsigned seed = 12345;
	char *out = NULL;
	size_t i, outlen;
	int round;

	CU_ASSERT_EQUAL(gzip_inflate("hello, world", 12, 1000, &out, &outlen),
	    SLUICE_EINVAL);
	CU_ASSERT_PTR_NULL(out);
	for (round = 0; round < 200; round++) {
		for (i = 0; i < sizeof junk; i++) {
			seed = seed * 1103515245 + 12345;
			junk[i] = (unsigned char)(seed >> 16);
		}
		/* Half of them with a gzip magic in front. */
		if (round % 2 == 0) {
			junk[0] = 0x1f;
			junk[1] = 0x8b;
			junk[2] = 8;
		}
		CU_ASSERT_EQUAL(gzip_inflate(junk, sizeof junk, 1 << 20, &out,
		    &outlen), SLUICE_EINVAL);
		CU_ASSERT_PTR_NULL(out);
	}
}

static void
TEST_zlib_stream_is_not_gzip(void)
{
	unsigned char z[256];
	uLongf zlen = sizeof z;
	char *out = NULL;
	size_t outlen;

	CU_ASSERT_FATAL(compress(z, &zlen, (const Bytef *)"abcabcabc", 9) ==
	    Z_OK);
	CU_ASSERT_EQUAL(gzip_inflate(z, zlen, 1000, &out, &outlen),
	    SLUICE_EINVAL);
	CU_ASSERT_PTR_NULL(out);
}

static void
TEST_empty_input(void)
{
	char *out = (char *)1;
	size_t outlen = 5;

	CU_ASSERT_EQUAL(gzip_inflate("", 0, 1000, &out, &outlen),
	    SLUICE_EINVAL);
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT_EQUAL(outlen, 0);
	CU_ASSERT_EQUAL(gzip_inflate(NULL, 0, 1000, &out, &outlen),
	    SLUICE_EINVAL);
}

static void
TEST_truncated_every_length(void)
{
	char src[3000], *out;
	unsigned char *z, *part;
	size_t zlen, n, outlen, bad = 0;

	fill_text(src, sizeof src, 3);
	z = gz(src, sizeof src, &zlen);
	for (n = 1; n < zlen; n++) {
		/* An exact-size copy, so reading past it is caught by ASan. */
		part = malloc(n);
		CU_ASSERT_FATAL(part != NULL);
		memcpy(part, z, n);
		out = NULL;
		if (gzip_inflate(part, n, sizeof src, &out, &outlen) !=
		    SLUICE_EINVAL || out != NULL)
			bad++;
		free(out);
		free(part);
	}
	CU_ASSERT_EQUAL(bad, 0);
	free(z);
}

static void
TEST_bad_checksum(void)
{
	char src[500], *out = NULL;
	unsigned char *z;
	size_t zlen, outlen;

	fill_text(src, sizeof src, 4);
	z = gz(src, sizeof src, &zlen);
	z[zlen - 6] ^= 0x01;		/* the CRC-32 in the trailer */
	CU_ASSERT_EQUAL(gzip_inflate(z, zlen, 1000, &out, &outlen),
	    SLUICE_EINVAL);
	z[zlen - 6] ^= 0x01;
	z[zlen - 2] ^= 0x01;		/* the length in the trailer */
	CU_ASSERT_EQUAL(gzip_inflate(z, zlen, 1000, &out, &outlen),
	    SLUICE_EINVAL);
	CU_ASSERT_PTR_NULL(out);
	free(z);
}

static void
TEST_concatenated_members(void)
{
	const char *parts[] = { "first member|", "", "second|",
	    "third and last" };
	unsigned char *cat = NULL, *z, *tmp;
	size_t catlen = 0, zlen, outlen, i;
	char *out = NULL;

	for (i = 0; i < SLUICE_ARRAY_LEN(parts); i++) {
		z = gz(parts[i], strlen(parts[i]), &zlen);
		tmp = realloc(cat, catlen + zlen);
		CU_ASSERT_FATAL(tmp != NULL);
		cat = tmp;
		memcpy(cat + catlen, z, zlen);
		catlen += zlen;
		free(z);
	}
	CU_ASSERT_EQUAL(gzip_inflate(cat, catlen, 1000, &out, &outlen),
	    SLUICE_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_STRING_EQUAL(out, "first member|second|third and last");
	CU_ASSERT_EQUAL(outlen, strlen(out));
	free(out);
	out = NULL;
	/* The limit counts all members together. */
	CU_ASSERT_EQUAL(gzip_inflate(cat, catlen, 33, &out, &outlen),
	    SLUICE_ETOOBIG);
	CU_ASSERT_PTR_NULL(out);
	/* A cut in the last member is still truncation. */
	CU_ASSERT_EQUAL(gzip_inflate(cat, catlen - 3, 1000, &out, &outlen),
	    SLUICE_EINVAL);
	free(cat);
}

static void
TEST_trailing_garbage(void)
{
	unsigned char *z, *tmp;
	size_t zlen, outlen;
	char *out = NULL;

	z = gz("payload", 7, &zlen);
	tmp = realloc(z, zlen + 4);
	CU_ASSERT_FATAL(tmp != NULL);
	z = tmp;
	memcpy(z + zlen, "junk", 4);
	CU_ASSERT_EQUAL(gzip_inflate(z, zlen + 4, 1000, &out, &outlen),
	    SLUICE_EINVAL);
	CU_ASSERT_PTR_NULL(out);
	free(z);
}

static void
TEST_zero_limit(void)
{
	unsigned char *z;
	size_t zlen, outlen;
	char *out = NULL;

	z = gz("", 0, &zlen);
	CU_ASSERT_EQUAL(gzip_inflate(z, zlen, 0, &out, &outlen), SLUICE_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_EQUAL(outlen, 0);
	CU_ASSERT_EQUAL(out[0], '\0');
	free(out);
	free(z);
	z = gz("x", 1, &zlen);
	CU_ASSERT_EQUAL(gzip_inflate(z, zlen, 0, &out, &outlen),
	    SLUICE_ETOOBIG);
	free(z);
}

void
test_gzip_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_round_trip", TEST_round_trip },
		{ "TEST_exact_limit_and_one_over",
		    TEST_exact_limit_and_one_over },
		{ "TEST_bomb_stops_at_limit", TEST_bomb_stops_at_limit },
		{ "TEST_garbage", TEST_garbage },
		{ "TEST_zlib_stream_is_not_gzip",
		    TEST_zlib_stream_is_not_gzip },
		{ "TEST_empty_input", TEST_empty_input },
		{ "TEST_truncated_every_length", TEST_truncated_every_length },
		{ "TEST_bad_checksum", TEST_bad_checksum },
		{ "TEST_concatenated_members", TEST_concatenated_members },
		{ "TEST_trailing_garbage", TEST_trailing_garbage },
		{ "TEST_zero_limit", TEST_zero_limit },
		{ NULL, NULL }
	};

	unit_add_suite("gzip", tests);
}
