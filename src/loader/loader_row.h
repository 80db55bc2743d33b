/*
 * loader_row.h: from an envelope (the body of a message sluiced published)
 * to one row of the events table in COPY text format, or the reason the
 * message is not a valid envelope. Thread rule: a parser belongs to one
 * thread.
 *
 * A valid envelope is a JSON object with id (1..255 bytes), app, channel
 * and event (non-empty strings of valid UTF-8 without NUL), received_at and
 * timestamp (ISO-8601 times with a zone). The rest may be missing or null:
 * data (any JSON), client_timestamp and client_sent_at (ISO-8601 strings
 * or epoch milliseconds, years 1970..9999), ip, user_agent, origin and
 * source (strings). Other keys are ignored; the whole must be strict JSON.
 * In the row, NUL and invalid UTF-8 in strings become U+FFFD, data is the
 * JSON text that came (with \u0000 and unpaired surrogates as \ufffd:
 * jsonb refuses them), and an ip that is not an IPv4 or IPv6 address is
 * NULL.
 */
#ifndef SLUICE_LOADER_ROW_H
#define SLUICE_LOADER_ROW_H

#include <stddef.h>

#include "core/jsontext.h"

/* The columns of a row, in order, as COPY and INSERT name them. */
#define LOADER_ROW_COLUMNS \
	"app, id, channel, event, data, \"timestamp\", received_at, " \
	"client_timestamp, client_sent_at, ip, user_agent, origin, source"
#define LOADER_ROW_NCOLUMNS 13

#define LOADER_ROW_DEPTH 128	/* JSON nesting allowed in an envelope */
#define LOADER_ROW_ID_MAX 255	/* bytes: AMQP message_id's limit */

enum loader_row_status {
	LOADER_ROW_OK,
	LOADER_ROW_INVALID,	/* not a valid envelope; see why */
	LOADER_ROW_NOMEM
};

struct loader_row_parser;

/* A new parser, or NULL when out of memory. */
struct loader_row_parser *loader_row_parser_new(void);
void loader_row_parser_free(struct loader_row_parser *p);

/*
 * Converts the envelope body (len bytes) and appends its row, ending in a
 * newline, to out. On LOADER_ROW_INVALID, out is as it was and why names
 * the problem (NUL-terminated, cut to whylen); on LOADER_ROW_NOMEM out may
 * be failed (out->failed).
 */
enum loader_row_status loader_row_append(struct loader_row_parser *p,
    const char *body, size_t len, struct jsontext *out, char *why,
    size_t whylen);

#endif
