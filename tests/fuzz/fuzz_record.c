/*
 * fuzz_record.c: libFuzzer harness for the journal record decoder
 * (journal/record.c): any bytes as a record read back from disk. A record
 * that decodes must encode again to the same bytes (version 2).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "journal/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event_record rec, again;
	unsigned char *buf;
	size_t len;

	(void)journal_record_type(data, size);
	if (event_record_decode(data, size, &rec) != 0)
		return 0;
	buf = event_record_encode(&rec, &len, NULL);
	if (buf == NULL)
		return 0;
	if (event_record_decode(buf, len, &again) != 0 ||
	    again.json_len != rec.json_len ||
	    memcmp(again.json, rec.json, rec.json_len) != 0 ||
	    again.id_len != rec.id_len || again.received_at_ms !=
	    rec.received_at_ms)
		__builtin_trap();
	if (data[0] == 2 && (len != size || memcmp(buf, data, size) != 0))
		__builtin_trap();
	free(buf);
	return 0;
}
