/*
 * gzip.h: inflating gzip request bodies with a bound on the inflated size,
 * so a small "gzip bomb" costs at most the bound in memory. Thread-safe.
 */
#ifndef SLUICE_GZIP_H
#define SLUICE_GZIP_H

#include <stddef.h>

/*
 * Inflates in (a gzip stream; concatenated members allowed) into a new
 * buffer (*out, caller frees, NUL-terminated) of *outlen bytes.
 * Returns SLUICE_OK; SLUICE_ETOOBIG when the inflated data would exceed
 * limit (nothing returned); SLUICE_EINVAL when in is not valid gzip;
 * SLUICE_ENOMEM.
 */
int gzip_inflate(const void *in, size_t inlen, size_t limit, char **out,
    size_t *outlen);

#endif
