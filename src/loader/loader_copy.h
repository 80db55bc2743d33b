/*
 * loader_copy.h: values written as fields of PostgreSQL's COPY text format
 * (tab-separated, one row a line, \N for NULL), such that PostgreSQL takes
 * every row: a field never holds a NUL byte or invalid UTF-8 (each bad
 * byte, and each NUL, becomes U+FFFD), and a JSON field for a jsonb column
 * never holds the escapes jsonb refuses (\u0000 and unpaired surrogates
 * become \ufffd). Thread-safe: a buffer belongs to its caller.
 */
#ifndef SLUICE_LOADER_COPY_H
#define SLUICE_LOADER_COPY_H

#include <stddef.h>

#include "core/jsontext.h"

/* The NULL field, the field separator and the row end. */
#define loader_copy_null(b)	jsontext_lit((b), "\\N")
#define loader_copy_sep(b)	jsontext_lit((b), "\t")
#define loader_copy_end(b)	jsontext_lit((b), "\n")

/*
 * Appends the n bytes of s as one text field: backslash, tab, newline and
 * carriage return escaped; NUL and bytes that are not valid UTF-8 replaced
 * by U+FFFD. Returns how many bytes were replaced. On allocation failure
 * b->failed is set.
 */
size_t loader_copy_text(struct jsontext *b, const char *s, size_t n);

/*
 * Appends the JSON text s (n bytes) as one field for a jsonb column:
 * escaped as loader_copy_text does, and in its strings the escape \u0000
 * and a \uD800..\uDFFF escape not part of a surrogate pair each become
 * \ufffd. Returns how many were replaced. The text is not otherwise
 * checked: it should be JSON.
 */
size_t loader_copy_json(struct jsontext *b, const char *s, size_t n);

#endif
