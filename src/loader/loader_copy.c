/*
 * loader_copy.c: COPY text-format fields that PostgreSQL always takes.
 * Thread-safe: no shared state.
 */
#include <stdint.h>
#include <string.h>

#include "core/hex.h"
#include "core/jsontext.h"
#include "loader/loader_copy.h"

#define REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD in UTF-8 */

/* 1 for the bytes copied as they are: printable ASCII but backslash. */
static int
copy_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\';
}

/*
 * Writes the character at s[*i] (into room reserved already) and moves *i
 * past it: an escape for backslash, tab, newline and carriage return, the
 * replacement character for NUL and for a byte that does not start valid
 * UTF-8. Returns 1 if something was replaced, else 0.
 */
static int
copy_char(struct jsontext *b, const unsigned char *s, size_t n, size_t *i)
{
	unsigned char c = s[*i];
	size_t from = *i;
	uint32_t cp;
	char *out = b->p + b->len;

	switch (c) {
	case '\\':
		memcpy(out, "\\\\", 2);
		b->len += 2;
		(*i)++;
		return 0;
	case '\t':
		memcpy(out, "\\t", 2);
		b->len += 2;
		(*i)++;
		return 0;
	case '\n':
		memcpy(out, "\\n", 2);
		b->len += 2;
		(*i)++;
		return 0;
	case '\r':
		memcpy(out, "\\r", 2);
		b->len += 2;
		(*i)++;
		return 0;
	case '\0':
		break;
	default:
		if (jsontext_utf8_next(s, n, i, &cp) == 0) {
			memcpy(out, s + from, *i - from);
			b->len += *i - from;
			return 0;
		}
		break;
	}
	memcpy(out, REPLACEMENT, 3);
	b->len += 3;
	*i = from + 1;
	return 1;
}

/*
 * Writes the JSON escape at s[*i] (a backslash) and moves *i past it.
 * Returns 1 if the escape was replaced by \ufffd, else 0.
 */
static int
copy_json_escape(struct jsontext *b, const unsigned char *s, size_t n,
    size_t *i)
{
	size_t k = *i;
	long v, lo;
	size_t len;

	if (k + 1 >= n) {
		/* A lone backslash at the end: not JSON; keep it escaped. */
		memcpy(b->p + b->len, "\\\\", 2);
		b->len += 2;
		*i = k + 1;
		return 0;
	}
	if (s[k + 1] != 'u' || n - k < 6 ||
	    (v = hex_decode(s + k + 2, 4)) < 0) {
		/* \" \\ \/ \b \f \n \r \t: the backslash doubled, then the
		 * character after it, escaped as any other. */
		memcpy(b->p + b->len, "\\\\", 2);
		b->len += 2;
		*i = k + 1;
		return copy_char(b, s, n, i);
	}
	len = 6;
	if (v >= 0xd800 && v <= 0xdbff) {
		/* A high surrogate: fine when a low one follows. */
		if (n - k >= 12 && s[k + 6] == '\\' && s[k + 7] == 'u' &&
		    (lo = hex_decode(s + k + 8, 4)) >= 0xdc00 && lo <= 0xdfff)
			len = 12;
		else
			v = 0;
	} else if (v >= 0xdc00 && v <= 0xdfff)
		v = 0;
	if (v == 0) {
		memcpy(b->p + b->len, "\\\\ufffd", 7);
		b->len += 7;
		*i = k + 6;
		return 1;
	}
	/* Each backslash of the escape doubled, the hex digits as they are. */
	memcpy(b->p + b->len, "\\\\", 2);
	memcpy(b->p + b->len + 2, s + k + 1, 5);
	b->len += 7;
	if (len == 12) {
		memcpy(b->p + b->len, "\\\\", 2);
		memcpy(b->p + b->len + 2, s + k + 7, 5);
		b->len += 7;
	}
	*i = k + len;
	return 0;
}

/*
 * Copies n bytes of s into b as a COPY text field, plain bytes in runs;
 * with json set, JSON escapes are doubled for COPY (copy_json_escape).
 * Returns how many characters were replaced.
 */
static size_t
copy_field(struct jsontext *b, const char *s, size_t n, int json)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run, replaced = 0;

	/* At most 3 bytes out for each byte in (U+FFFD for a bad byte); an
	 * escape grows from 6 bytes to at most 7. */
	jsontext_reserve(b, n <= SIZE_MAX / 3 ? n * 3 : SIZE_MAX);
	if (b->failed)
		return 0;
	while (i < n) {
		for (run = i; run < n && copy_plain(u[run]); run++)
			;
		if (run > i) {
			memcpy(b->p + b->len, s + i, run - i);
			b->len += run - i;
			i = run;
			continue;
		}
		if (json && u[i] == '\\')
			replaced += (size_t)copy_json_escape(b, u, n, &i);
		else
			replaced += (size_t)copy_char(b, u, n, &i);
	}
	return replaced;
}

size_t
loader_copy_text(struct jsontext *b, const char *s, size_t n)
{
	return copy_field(b, s, n, 0);
}

size_t
loader_copy_json(struct jsontext *b, const char *s, size_t n)
{
	return copy_field(b, s, n, 1);
}
