/*
 * jsontext.h: writing JSON text straight into a growing buffer (strings from
 * untrusted sources escaped, invalid UTF-8 replaced), and measuring how long
 * json-c's compact text of a value is without writing it. Used by event.c
 * for the envelope. Thread-safe: a buffer belongs to its caller.
 */
#ifndef SLUICE_JSONTEXT_H
#define SLUICE_JSONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* How json-c writes the JSON that is measured and copied. */
#define JSONTEXT_FLAGS \
	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* A growing text buffer; failed is set once an allocation fails, after
 * which every append does nothing. The caller frees p. */
struct jsontext {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 failed;
};

/*
 * Decodes the UTF-8 sequence at s[*i] (n bytes in all) into *cp and
 * advances *i. Returns 0, or -1 for a bad sequence (truncated, overlong, a
 * surrogate or past U+10FFFF), leaving *i alone.
 */
int jsontext_utf8_next(const unsigned char *s, size_t n, size_t *i,
    uint32_t *cp);

/* Returns 1 if s (n bytes) is all valid UTF-8, else 0. */
int jsontext_utf8_valid(const char *s, size_t n);

/* Makes room for more bytes (sets failed when it cannot). */
void jsontext_reserve(struct jsontext *b, size_t more);

/* Appends n bytes as they are. */
void jsontext_put(struct jsontext *b, const char *s, size_t n);

/* Appends a string literal as it is. */
#define jsontext_lit(b, s) jsontext_put((b), (s), sizeof(s) - 1)

/*
 * Appends s (n bytes, untrusted) as a JSON string: quotes, backslashes and
 * control characters are escaped and each byte that is not part of valid
 * UTF-8 becomes U+FFFD, so the result is always valid JSON. NULL is null.
 */
void jsontext_str(struct jsontext *b, const char *s, size_t n);

/* Appends a NUL-terminated string, or null. */
void jsontext_cstr(struct jsontext *b, const char *s);

/*
 * Appends a client's value as it was sent: strings through jsontext_str,
 * anything else as json-c writes it (numbers keep their text).
 */
void jsontext_raw(struct jsontext *b, struct json_object *v);

/* The length of n bytes as a JSON string written by json-c. */
size_t jsontext_str_len(const char *s, size_t n);

/*
 * Sets *len to the length of v as json-c writes it with JSONTEXT_FLAGS,
 * counting the common small values without writing them. Returns 0, or -1
 * when out of memory.
 */
int jsontext_len(struct json_object *v, size_t *len);

/*
 * Parses len bytes of text (need not be NUL-terminated) as one JSON value,
 * strictly: RFC 8259 only (no trailing commas, single quotes, NaN or
 * leading zeros) and UTF-8 (json-c's check: overlong forms, surrogates and
 * code points past U+10FFFF get through; see jsontext_utf8_valid), white
 * space allowed around it, nested at most depth deep. An integer outside
 * 64 bits, which json-c clamps, is written back with the digits sent;
 * read as a number it is the clamp (INT64_MIN or UINT64_MAX). Returns 0
 * with *out (NULL for a bare null; the caller puts it); -1 with a message
 * naming the offset and the problem in err; -2 when out of memory.
 */
int jsontext_parse(const char *text, size_t len, int depth,
    struct json_object **out, char *err, size_t errlen);

enum jsontext_unfit {
	JSONTEXT_FIT,
	JSONTEXT_UNFIT_NUMBER,	/* NaN, Infinity, 1e999: json-c reads them */
	JSONTEXT_UNFIT_DEPTH	/* deeper than depth */
};

/*
 * Looks through v for what JSON cannot carry: a number that is not finite
 * (json-c parses NaN and Infinity even when strict) or nesting deeper than
 * depth levels (which also bounds the recursion for trees built by hand).
 */
enum jsontext_unfit jsontext_unfit(struct json_object *v, int depth);

#endif
