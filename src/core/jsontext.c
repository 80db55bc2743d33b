/*
 * jsontext.c: JSON text written straight into a buffer, and the length of
 * json-c's compact text of a value. Thread-safe: no shared state.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/jsontext.h"

/*
 * Decodes the UTF-8 sequence at s[*i] (n bytes in all) into *cp and
 * advances *i. Returns 0, or -1 for a bad sequence (truncated, overlong, a
 * surrogate or past U+10FFFF), leaving *i alone.
 */
int
jsontext_utf8_next(const unsigned char *s, size_t n, size_t *i, uint32_t *cp)
{
	size_t k = *i, need, j;
	uint32_t c = s[k], min;

	if (c < 0x80) {
		*cp = c;
		*i = k + 1;
		return 0;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		c &= 0x07;
		min = 0x10000;
	} else
		return -1;
	if (n - k - 1 < need)
		return -1;
	for (j = 1; j <= need; j++) {
		if ((s[k + j] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (s[k + j] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	*i = k + 1 + need;
	return 0;
}

/* Returns 1 if s (n bytes) is all valid UTF-8, else 0. */
int
jsontext_utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	uint32_t cp;

	while (i < n) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if (jsontext_utf8_next(u, n, &i, &cp) == -1)
			return 0;
	}
	return 1;
}

void
jsontext_reserve(struct jsontext *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->failed || b->cap - b->len >= more)
		return;
	cap = b->cap > 0 ? b->cap : 1024;
	while (cap - b->len < more) {
		if (cap > SIZE_MAX / 2) {
			b->failed = 1;
			return;
		}
		cap *= 2;
	}
	if ((p = realloc(b->p, cap)) == NULL) {
		b->failed = 1;
		return;
	}
	b->p = p;
	b->cap = cap;
}

void
jsontext_put(struct jsontext *b, const char *s, size_t n)
{
	jsontext_reserve(b, n);
	if (b->failed)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/*
 * Appends s (n bytes, untrusted) as a JSON string: quotes, backslashes and
 * control characters are escaped and each byte that is not part of valid
 * UTF-8 becomes U+FFFD, so the result is always valid JSON. NULL is null.
 */
void
jsontext_str(struct jsontext *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run;
	uint32_t cp;
	char esc[6];

	if (s == NULL) {
		jsontext_lit(b, "null");
		return;
	}
	/* Worst case: every byte becomes a 6-byte escape. */
	jsontext_reserve(b, n <= (SIZE_MAX - 2) / 6 ? n * 6 + 2 : SIZE_MAX);
	if (b->failed)
		return;
	b->p[b->len++] = '"';
	while (i < n) {
		for (run = i; run < n && u[run] >= 0x20 && u[run] < 0x80 &&
		    u[run] != '"' && u[run] != '\\'; run++)
			;
		if (run > i) {
			memcpy(b->p + b->len, s + i, run - i);
			b->len += run - i;
			i = run;
			continue;
		}
		if (u[i] >= 0x80) {
			run = i;
			if (jsontext_utf8_next(u, n, &i, &cp) == 0) {
				memcpy(b->p + b->len, s + run, i - run);
				b->len += i - run;
			} else {
				memcpy(b->p + b->len, "\xef\xbf\xbd", 3);
				b->len += 3;
				i++;
			}
			continue;
		}
		esc[0] = '\\';
		switch (u[i]) {
		case '"':
		case '\\':
			esc[1] = (char)u[i];
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[u[i] >> 4];
			esc[5] = hex[u[i] & 0xf];
			memcpy(b->p + b->len, esc, 6);
			b->len += 6;
			i++;
			continue;
		}
		memcpy(b->p + b->len, esc, 2);
		b->len += 2;
		i++;
	}
	b->p[b->len++] = '"';
}

/* Appends a NUL-terminated string, or null. */
void
jsontext_cstr(struct jsontext *b, const char *s)
{
	jsontext_str(b, s, s != NULL ? strlen(s) : 0);
}

/*
 * Appends a client's value as it was sent: strings through jsontext_str,
 * anything else as json-c writes it (numbers keep their text); NULL is null.
 */
void
jsontext_raw(struct jsontext *b, struct json_object *v)
{
	const char *text;
	size_t n;

	if (json_object_is_type(v, json_type_string)) {
		jsontext_str(b, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
		return;
	}
	text = json_object_to_json_string_length(v, JSONTEXT_FLAGS, &n);
	if (text == NULL) {
		b->failed = 1;
		return;
	}
	jsontext_put(b, text, n);
}

/*
 * The length of n bytes as a JSON string written by json-c: quotes, two
 * bytes for the short escapes, six for other control characters, and the
 * other bytes as they are.
 */
size_t
jsontext_str_len(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = n + 2, i;

	for (i = 0; i < n; i++) {
		if (u[i] >= 0x20 && u[i] != '"' && u[i] != '\\')
			continue;
		if (strchr("\"\\\b\f\n\r\t", u[i]) != NULL && u[i] != '\0')
			len += 1;
		else
			len += 5;
	}
	return len;
}

/*
 * Sets *len to the length of v as json-c writes it, counting the common
 * small values (null, strings, integers) without writing them. Returns 0,
 * or -1 when out of memory.
 */
int
jsontext_len(struct json_object *v, size_t *len)
{
	int64_t i;
	uint64_t u;
	size_t n;

	switch (json_object_get_type(v)) {
	case json_type_null:
		*len = 4;
		return 0;
	case json_type_string:
		*len = jsontext_str_len(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
		return 0;
	case json_type_int:
		/* The extremes may be clamped (uint64): let json-c say. */
		i = json_object_get_int64(v);
		if (i == INT64_MAX || i == INT64_MIN)
			break;
		u = i < 0 ? (uint64_t)-i : (uint64_t)i;
		for (n = i < 0 ? 2 : 1; u >= 10; u /= 10)
			n++;
		*len = n;
		return 0;
	default:
		break;
	}
	if (json_object_to_json_string_length(v, JSONTEXT_FLAGS, len) ==
	    NULL)
		return -1;
	return 0;
}

/* An integer literal json-c stores clamped or at a clamp value. */
struct jsontext_bigint {
	size_t	start;
	size_t	len;
	int	negative;
	int	overflows;	/* outside int64/uint64: json-c clamped it */
};

/* A quick look: does text hold 19 digits in a row (strings included)? */
static int
jsontext_has_long_digits(const char *text, size_t len)
{
	size_t i, run = 0;

	for (i = 0; i < len; i++) {
		if (text[i] >= '0' && text[i] <= '9') {
			if (++run >= 19)
				return 1;
		} else
			run = 0;
	}
	return 0;
}

/*
 * Classifies the integer literal at text[start] (len bytes): returns 1 and
 * fills *b when json-c stores it as UINT64_MAX or INT64_MIN (clamped or
 * not), else 0.
 */
static int
jsontext_bigint_of(const char *text, size_t start, size_t len,
    struct jsontext_bigint *b)
{
	static const char umax[] = "18446744073709551615";
	static const char imin[] = "9223372036854775808";
	const char *digits = text + start, *limit = umax;
	size_t n = len, lim = sizeof umax - 1;
	int cmp;

	b->negative = *digits == '-';
	if (b->negative) {
		digits++;
		n--;
		limit = imin;
		lim = sizeof imin - 1;
	}
	if (n < lim)
		return 0;
	cmp = n > lim ? 1 : memcmp(digits, limit, lim);
	if (cmp < 0)
		return 0;
	b->start = start;
	b->len = len;
	b->overflows = cmp > 0;
	return 1;
}

/*
 * Lexes text (which json-c has parsed), counting its values and keys into
 * *tokens and listing the integer literals at or past json-c's clamps in
 * order (caller frees *list). Returns 0, or -1 when out of memory.
 */
static int
jsontext_scan_bigints(const char *text, size_t len, size_t *tokens,
    struct jsontext_bigint **list, size_t *count)
{
	struct jsontext_bigint b, *grown;
	size_t i = 0, start, cap = 0;
	int integer;

	*tokens = 0;
	*list = NULL;
	*count = 0;
	while (i < len) {
		switch (text[i]) {
		case '"':
			for (i++; i < len && text[i] != '"'; i++)
				if (text[i] == '\\')
					i++;
			i++;
			(*tokens)++;
			continue;
		case '{':
		case '[':
		case 't':
		case 'f':
		case 'n':
			(*tokens)++;
			for (i++; i < len && text[i] >= 'a' && text[i] <= 'z';
			    i++)
				;
			continue;
		default:
			break;
		}
		if (text[i] != '-' && (text[i] < '0' || text[i] > '9')) {
			i++;
			continue;
		}
		(*tokens)++;
		integer = 1;
		for (start = i; i < len && strchr("0123456789+-.eE",
		    text[i]) != NULL && text[i] != '\0'; i++)
			if (strchr(".eE", text[i]) != NULL)
				integer = 0;
		if (!integer || !jsontext_bigint_of(text, start, i - start, &b))
			continue;
		if (*count == cap) {
			cap = cap > 0 ? cap * 2 : 8;
			if ((grown = realloc(*list, cap * sizeof **list)) ==
			    NULL) {
				free(*list);
				*list = NULL;
				return -1;
			}
			*list = grown;
		}
		(*list)[(*count)++] = b;
	}
	return 0;
}

/*
 * Walks v in the order of its text, counting values and keys into *tokens
 * and listing the integers json-c holds at a clamp (UINT64_MAX, INT64_MIN)
 * into nodes (at most max; *count may pass it).
 */
static void
jsontext_walk_clamped(struct json_object *v, size_t *tokens,
    struct json_object **nodes, size_t max, size_t *count)
{
	size_t i, n;

	(*tokens)++;
	switch (json_object_get_type(v)) {
	case json_type_int:
		if (json_object_get_uint64(v) != UINT64_MAX &&
		    json_object_get_int64(v) != INT64_MIN)
			return;
		if (*count < max)
			nodes[*count] = v;
		(*count)++;
		return;
	case json_type_array:
		n = json_object_array_length(v);
		for (i = 0; i < n; i++)
			jsontext_walk_clamped(json_object_array_get_idx(v, i),
			    tokens, nodes, max, count);
		return;
	case json_type_object: {
		/* The macro declares: a block of its own, for C17. */
		json_object_object_foreach(v, key, val) {
			(void)key;
			(*tokens)++;
			jsontext_walk_clamped(val, tokens, nodes, max, count);
		}
		return;
	}
	default:
		return;
	}
}

/*
 * json-c clamps an integer outside 64 bits to UINT64_MAX or INT64_MIN.
 * Finds such literals in text and gives each its node in root a
 * serializer that writes the literal's digits, so the number goes on as
 * it was sent. The nodes are found by walking root in text order, which
 * holds only when no key repeats (json-c keeps the last value of a
 * repeated key): when the counts of values disagree, the literal cannot
 * be placed and the text is refused. Returns 0; -1 with a message in err;
 * -2 when out of memory.
 */
static int
jsontext_keep_bigints(const char *text, size_t len, struct json_object *root,
    char *err, size_t errlen)
{
	struct jsontext_bigint *list;
	struct json_object **nodes = NULL;
	size_t count, tokens, tree_tokens = 0, nclamped = 0, i;
	int overflows = 0, rc = 0;
	char *digits;

	if (!jsontext_has_long_digits(text, len))
		return 0;
	if (jsontext_scan_bigints(text, len, &tokens, &list, &count) == -1)
		goto nomem;
	for (i = 0; i < count; i++)
		overflows |= list[i].overflows;
	if (!overflows)
		goto done;
	if ((nodes = calloc(count, sizeof *nodes)) == NULL) {
		free(list);
		goto nomem;
	}
	jsontext_walk_clamped(root, &tree_tokens, nodes, count, &nclamped);
	if (nclamped == 0)
		goto done;	/* every such literal was a repeated key's */
	if (tree_tokens != tokens || nclamped != count) {
		for (i = 0; !list[i].overflows; i++)
			;
		snprintf(err, errlen, "invalid JSON at offset %zu: an integer "
		    "outside 64 bits in an object whose keys repeat",
		    list[i].start);
		rc = -1;
		goto done;
	}
	for (i = 0; i < count; i++) {
		if ((json_object_get_int64(nodes[i]) == INT64_MIN) !=
		    list[i].negative) {
			snprintf(err, errlen, "invalid JSON at offset %zu: an "
			    "integer outside 64 bits", list[i].start);
			rc = -1;
			goto done;
		}
		if (!list[i].overflows)
			continue;
		if ((digits = strndup(text + list[i].start, list[i].len)) ==
		    NULL) {
			free(list);
			free(nodes);
			goto nomem;
		}
		json_object_set_serializer(nodes[i],
		    json_object_userdata_to_json_string, digits,
		    json_object_free_userdata);
	}
done:
	free(list);
	free(nodes);
	return rc;
nomem:
	snprintf(err, errlen, "out of memory");
	return -2;
}

int
jsontext_parse(const char *text, size_t len, int depth,
    struct json_object **out, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *root;
	enum json_tokener_error jerr;
	size_t end;
	int rc;

	*out = NULL;
	if (len > INT32_MAX - 1) {
		snprintf(err, errlen, "%zu bytes of JSON is too large", len);
		return -1;
	}
	if ((tok = json_tokener_new_ex(depth)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -2;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) {
		/* The end of the text ends a bare number or literal. */
		root = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	}
	json_tokener_free(tok);
	if (jerr == json_tokener_success) {
		while (end < len && strchr(" \t\r\n", text[end]) != NULL &&
		    text[end] != '\0')
			end++;
		if (end < len) {
			jerr = json_tokener_error_parse_unexpected;
			json_object_put(root);
		}
	}
	if (jerr != json_tokener_success) {
		snprintf(err, errlen, "invalid JSON at offset %zu: %s", end,
		    json_tokener_error_desc(jerr));
		return -1;
	}
	if ((rc = jsontext_keep_bigints(text, len, root, err, errlen)) != 0) {
		json_object_put(root);
		return rc;
	}
	*out = root;
	return 0;
}

enum jsontext_unfit
jsontext_unfit(struct json_object *v, int depth)
{
	enum jsontext_unfit u = JSONTEXT_FIT;
	size_t i, n;

	switch (json_object_get_type(v)) {
	case json_type_double:
		return isfinite(json_object_get_double(v)) ? JSONTEXT_FIT :
		    JSONTEXT_UNFIT_NUMBER;
	case json_type_array:
		if (depth <= 0)
			return JSONTEXT_UNFIT_DEPTH;
		n = json_object_array_length(v);
		for (i = 0; i < n && u == JSONTEXT_FIT; i++)
			u = jsontext_unfit(json_object_array_get_idx(v, i),
			    depth - 1);
		return u;
	case json_type_object:
		if (depth <= 0)
			return JSONTEXT_UNFIT_DEPTH;
		json_object_object_foreach(v, key, val) {
			(void)key;
			if ((u = jsontext_unfit(val, depth - 1)) !=
			    JSONTEXT_FIT)
				break;
		}
		return u;
	default:
		return JSONTEXT_FIT;
	}
}
