/*
 * record.h: the payloads the journal stores. Today one kind, the record of
 * an event: the envelope's JSON text plus, in front of it, the fields the
 * forwarder and the hub need without parsing JSON. Thread-safe: no state.
 */
#ifndef SLUICE_JOURNAL_RECORD_H
#define SLUICE_JOURNAL_RECORD_H

#include <stddef.h>
#include <stdint.h>

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
 * Encodes rec into a new buffer (caller frees) and sets *len. Returns NULL
 * when out of memory.
 */
unsigned char *event_record_encode(const struct event_record *rec,
    size_t *len);

/* Decodes buf into rec. Returns 0, or -1 if buf is not a valid record. */
int event_record_decode(const void *buf, size_t len, struct event_record *rec);

#endif
