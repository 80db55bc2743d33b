/*
 * record.h: the payloads the journal stores. Every record starts with a
 * format version and names its type, so the forwarder can tell the kinds
 * apart without knowing them all. Today one kind, the record of an event:
 * the envelope's JSON text plus, in front of it, the fields the forwarder
 * and the hub need without parsing JSON. Thread-safe: no state.
 */
#ifndef SLUICE_JOURNAL_RECORD_H
#define SLUICE_JOURNAL_RECORD_H

#include <stddef.h>
#include <stdint.h>

/*
 * The kinds of journal record, by the type byte they carry on disk. Values
 * are never reused; new kinds (webhook jobs, presence changes) take the
 * next free number.
 */
enum journal_record_type {
	JOURNAL_RECORD_EVENT = 1	/* an accepted event: event_record */
};

/*
 * The type of the record in buf: a value of enum journal_record_type, or
 * another byte value (0..255) for a type this build does not know. Returns
 * -1 when buf is not a journal record of a known format version (NULL,
 * empty, or a version byte other than 1 and 2). Version-1 records, from
 * before the type byte, are events. Only the header is looked at: a
 * JOURNAL_RECORD_EVENT answer does not mean event_record_decode succeeds.
 */
int journal_record_type(const void *buf, size_t len);

/* A static name for a record type ("event"), or "unknown". */
const char *journal_record_type_str(int type);

/* The journal record of one event. Decoded pointers point into the
 * record's bytes. */
struct event_record {
	const char	*id;
	size_t		 id_len;
	const char	*app;
	size_t		 app_len;
	const char	*channel;
	size_t		 channel_len;
	const char	*event;
	size_t		 event_len;
	int64_t		 received_at_ms;
	const char	*json;		/* the envelope */
	size_t		 json_len;
};

/*
 * Encodes rec as a JOURNAL_RECORD_EVENT record (format version 2) into a
 * new buffer (caller frees) and sets *len. When view is not NULL, it gets
 * rec's lengths and pointers to where each field now lies in the buffer.
 * Returns NULL when out of memory, or with errno EOVERFLOW when a field is
 * longer than the format allows.
 */
unsigned char *event_record_encode(const struct event_record *rec,
    size_t *len, struct event_record *view);

/*
 * Decodes buf, a version-2 event record or a version-1 record (every one
 * of which is an event), into rec. Returns 0, or -1 if buf is not a valid
 * event record (another type, a bad version, truncated or trailing bytes).
 */
int event_record_decode(const void *buf, size_t len, struct event_record *rec);

#endif
