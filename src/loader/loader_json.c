/*
 * loader_json.c: checking an envelope's JSON in one pass, without building
 * a tree, and undoing the escapes of a string. Thread-safe: no state.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/hex.h"
#include "core/jsontext.h"
#include "loader/loader_json.h"

#define JSON_MAX_DEPTH 256	/* levels a scan can follow at most */

/* One scan: where it is, and where to say what went wrong. */
struct scan {
	const unsigned char	*start;
	const unsigned char	*p;
	const unsigned char	*end;
	char			*why;
	size_t			 whylen;
};

/* Says what is wrong at the current offset. Returns -1. */
static int
scan_fail(struct scan *s, const char *what)
{
	if (s->why != NULL && s->whylen > 0)
		snprintf(s->why, s->whylen, "not JSON at offset %zu: %s",
		    (size_t)(s->p - s->start), what);
	return -1;
}

static void
scan_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* 1 for the bytes a string's text goes on with: not a quote, not a
 * backslash, not a control character. */
static const unsigned char scan_plain[256] = {
	[0x20] = 1, [0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0xff] = 1
};

/* Scans the string at s->p (its opening quote). Returns 0 or -1. */
static int
scan_string(struct scan *s)
{
	const unsigned char *p = s->p + 1, *end = s->end;

	for (;;) {
		while (p < end && scan_plain[*p])
			p++;
		if (p >= end) {
			s->p = p;
			return scan_fail(s, "a string does not end");
		}
		if (*p == '"') {
			s->p = p + 1;
			return 0;
		}
		if (*p < 0x20) {
			s->p = p;
			return scan_fail(s, "a control character in a string");
		}
		if (end - p < 2) {
			s->p = p;
			return scan_fail(s, "a string does not end");
		}
		if (p[1] == 'u') {
			if (end - p < 6 || hex_decode(p + 2, 4) < 0) {
				s->p = p;
				return scan_fail(s, "a bad \\u escape");
			}
			p += 6;
		} else if (memchr("\"\\/bfnrt", p[1], 8) != NULL) {
			p += 2;
		} else {
			s->p = p;
			return scan_fail(s, "a bad escape");
		}
	}
}

static int
scan_digits(struct scan *s)
{
	const unsigned char *from = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > from ? 0 : scan_fail(s, "a bad number");
}

/* Scans a number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
scan_number(struct scan *s)
{
	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (scan_digits(s) == -1)
		return -1;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (scan_digits(s) == -1)
			return -1;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (scan_digits(s) == -1)
			return -1;
	}
	return 0;
}

static int
scan_word(struct scan *s, const char *word, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return scan_fail(s, "unexpected character");
	s->p += n;
	return 0;
}

/* Scans a value that is not an object or an array; sets *type. */
static int
scan_scalar(struct scan *s, enum loader_json_type *type)
{
	switch (*s->p) {
	case '"':
		*type = LOADER_JSON_STRING;
		return scan_string(s);
	case 't':
		*type = LOADER_JSON_TRUE;
		return scan_word(s, "true", 4);
	case 'f':
		*type = LOADER_JSON_FALSE;
		return scan_word(s, "false", 5);
	case 'n':
		*type = LOADER_JSON_NULL;
		return scan_word(s, "null", 4);
	default:
		*type = LOADER_JSON_NUMBER;
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return scan_number(s);
		return scan_fail(s, "unexpected character");
	}
}

/* Scans a member name and its colon. */
static int
scan_key(struct scan *s)
{
	scan_ws(s);
	if (s->p >= s->end || *s->p != '"')
		return scan_fail(s, "expected a member name");
	if (scan_string(s) == -1)
		return -1;
	scan_ws(s);
	if (s->p >= s->end || *s->p != ':')
		return scan_fail(s, "expected ':'");
	s->p++;
	return 0;
}

/*
 * Scans one value at s->p (after white space) with at most levels levels
 * of objects and arrays, and sets *type to its type. Iterative: the
 * closing brackets still to come are kept on a stack of their own.
 */
static int
scan_value(struct scan *s, int levels, enum loader_json_type *type)
{
	unsigned char close[JSON_MAX_DEPTH];
	enum loader_json_type t;
	int n = 0, first = 1;
	unsigned char c;

	if (levels > JSON_MAX_DEPTH)
		levels = JSON_MAX_DEPTH;
	for (;;) {
		scan_ws(s);
		if (s->p >= s->end)
			return scan_fail(s, "the text ends early");
		c = *s->p;
		if (c == '{' || c == '[') {
			t = c == '{' ? LOADER_JSON_OBJECT : LOADER_JSON_ARRAY;
			if (n >= levels)
				return scan_fail(s, "nested too deep");
			close[n++] = c == '{' ? '}' : ']';
			s->p++;
			scan_ws(s);
			if (s->p < s->end && *s->p == close[n - 1]) {
				s->p++;		/* empty: a whole value */
				n--;
			} else {
				if (first)
					*type = t;
				first = 0;
				if (c == '{' && scan_key(s) == -1)
					return -1;
				continue;
			}
		} else if (scan_scalar(s, &t) == -1)
			return -1;
		if (first)
			*type = t;
		first = 0;
		/* After a value: close what it ends, or go on to the next. */
		for (;;) {
			if (n == 0)
				return 0;
			scan_ws(s);
			if (s->p >= s->end)
				return scan_fail(s, "the text ends early");
			if (*s->p == close[n - 1]) {
				s->p++;
				n--;
				continue;
			}
			if (*s->p != ',')
				return scan_fail(s, close[n - 1] == '}' ?
				    "expected ',' or '}'" : "expected ',' or ']'");
			s->p++;
			if (close[n - 1] == '}' && scan_key(s) == -1)
				return -1;
			break;
		}
	}
}

/* Sets the slot of the member whose name (with its quotes) is key. */
static void
members_note(const unsigned char *key, size_t keylen,
    const char *const *names, size_t nnames, struct loader_json_value *vals,
    enum loader_json_type type, const unsigned char *text, size_t len)
{
	size_t i;

	for (i = 0; i < nnames; i++) {
		if (strlen(names[i]) == keylen - 2 &&
		    memcmp(names[i], key + 1, keylen - 2) == 0) {
			vals[i].type = type;
			vals[i].text = (const char *)text;
			vals[i].len = len;
			return;
		}
	}
}

int
loader_json_members(const char *text, size_t len, int depth,
    const char *const *names, size_t nnames, struct loader_json_value *vals,
    char *why, size_t whylen)
{
	struct scan s = { (const unsigned char *)text,
	    (const unsigned char *)text, (const unsigned char *)text + len,
	    why, whylen };
	const unsigned char *key, *value;
	enum loader_json_type t;
	size_t i;

	for (i = 0; i < nnames; i++)
		vals[i] = (struct loader_json_value){ LOADER_JSON_NONE, NULL, 0 };
	scan_ws(&s);
	if (s.p < s.end && *s.p != '{') {
		/* Some other value: say which it is, if it is JSON. */
		if (scan_value(&s, depth, &t) == -1)
			return -1;
		scan_ws(&s);
		if (s.p < s.end)
			return scan_fail(&s, "text after the value");
		snprintf(why, whylen, "not a JSON object");
		return -1;
	}
	if (s.p >= s.end)
		return scan_fail(&s, "no value");
	if (depth < 1)
		return scan_fail(&s, "nested too deep");
	s.p++;
	scan_ws(&s);
	if (s.p < s.end && *s.p == '}')
		s.p++;
	else {
		for (;;) {
			scan_ws(&s);
			key = s.p;
			if (scan_key(&s) == -1)
				return -1;
			scan_ws(&s);
			value = s.p;
			if (scan_value(&s, depth - 1, &t) == -1)
				return -1;
			/* The name's length: its string ends at its quote. */
			i = 1;
			while (key[i] != '"')
				i += key[i] == '\\' ? 2 : 1;
			members_note(key, i + 1, names, nnames, vals, t, value,
			    (size_t)(s.p - value));
			scan_ws(&s);
			if (s.p >= s.end)
				return scan_fail(&s, "the text ends early");
			if (*s.p == '}') {
				s.p++;
				break;
			}
			if (*s.p != ',')
				return scan_fail(&s, "expected ',' or '}'");
			s.p++;
		}
	}
	scan_ws(&s);
	if (s.p < s.end)
		return scan_fail(&s, "text after the object");
	return 0;
}

/* Appends code point cp as UTF-8 (room is reserved already). */
static void
unescape_put(struct jsontext *out, uint32_t cp)
{
	unsigned char *o = (unsigned char *)out->p + out->len;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		out->len += 1;
	} else if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		out->len += 2;
	} else if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		out->len += 3;
	} else {
		o[0] = (unsigned char)(0xf0 | cp >> 18);
		o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (unsigned char)(0x80 | (cp & 0x3f));
		out->len += 4;
	}
}

void
loader_json_unescape(const struct loader_json_value *v, struct jsontext *out)
{
	const unsigned char *p = (const unsigned char *)v->text + 1;
	const unsigned char *end = (const unsigned char *)v->text + v->len - 1;
	const unsigned char *run;
	long cp, lo;

	/* Undoing escapes never makes a string longer. */
	jsontext_reserve(out, v->len);
	if (out->failed)
		return;
	while (p < end) {
		for (run = p; p < end && *p != '\\'; p++)
			;
		if (p > run) {
			memcpy(out->p + out->len, run, (size_t)(p - run));
			out->len += (size_t)(p - run);
			continue;
		}
		if (p[1] != 'u') {
			out->p[out->len++] = p[1] == 'b' ? '\b' : p[1] == 'f' ?
			    '\f' : p[1] == 'n' ? '\n' : p[1] == 'r' ? '\r' :
			    p[1] == 't' ? '\t' : (char)p[1];
			p += 2;
			continue;
		}
		cp = hex_decode(p + 2, 4);
		p += 6;
		if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 6 &&
		    p[0] == '\\' && p[1] == 'u' &&
		    (lo = hex_decode(p + 2, 4)) >= 0xdc00 && lo <= 0xdfff) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			p += 6;
		} else if (cp >= 0xd800 && cp <= 0xdfff)
			cp = 0xfffd;
		unescape_put(out, (uint32_t)cp);
	}
}
