/*
 * loader_json.h: a strict JSON (RFC 8259) scanner for envelopes, which
 * builds no tree: it checks a whole text and finds the top-level members
 * the loader wants, as slices of the text, so that a value such as data
 * goes on to PostgreSQL as the very text that came. Strings are not
 * checked for valid UTF-8 here (the COPY writer repairs text), but raw
 * control characters in them, bad escapes, bad numbers and nesting deeper
 * than the limit are errors. Thread-safe: no state.
 */
#ifndef SLUICE_LOADER_JSON_H
#define SLUICE_LOADER_JSON_H

#include <stddef.h>

#include "core/jsontext.h"

enum loader_json_type {
	LOADER_JSON_NONE,	/* the member is missing */
	LOADER_JSON_NULL,
	LOADER_JSON_FALSE,
	LOADER_JSON_TRUE,
	LOADER_JSON_NUMBER,
	LOADER_JSON_STRING,
	LOADER_JSON_ARRAY,
	LOADER_JSON_OBJECT
};

/* A value: its type and its JSON text (a string with its quotes). */
struct loader_json_value {
	enum loader_json_type	 type;
	const char		*text;
	size_t			 len;
};

/*
 * Checks that the len bytes of text are one JSON object, with white space
 * around it allowed and at most depth levels of nesting (the object is
 * one), and sets vals[i] to its member named names[i] (the last one when
 * a name repeats; type LOADER_JSON_NONE when there is none). Member names
 * are compared as they are written (an escaped name matches nothing).
 * Returns 0, or -1 with why filled: "not JSON at offset N: ..." or "not a
 * JSON object".
 */
int loader_json_members(const char *text, size_t len, int depth,
    const char *const *names, size_t nnames, struct loader_json_value *vals,
    char *why, size_t whylen);

/*
 * Appends the bytes the string value v stands for to out: escapes undone,
 * surrogate pairs joined, \u0000 a NUL byte, an unpaired surrogate U+FFFD.
 * v must be a LOADER_JSON_STRING from loader_json_members.
 */
void loader_json_unescape(const struct loader_json_value *v,
    struct jsontext *out);

#endif
