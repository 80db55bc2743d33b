/*
 * fuzz_event.c: libFuzzer harness for the event body parser and the
 * envelope writer (ingest/event.c): any bytes as a POST /v1/events body.
 * Every accepted event's record must decode back to what was accepted.
 */
#include <stdint.h>
#include <string.h>

#include "ingest/event.h"
#include "journal/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *patterns[] = { "*" };
	static struct config_app app;
	struct event_limits lim = { 4096, 50 };
	struct event_source src;
	struct event_batch batch;
	struct event_record rec;
	char err[256];
	size_t i;

	app.id = "fuzz";
	app.key = "fuzz-key-0001";
	app.default_channel = "events";
	app.publish_channels.items = patterns;
	app.publish_channels.count = 1;
	memset(&src, 0, sizeof src);
	src.app = &app;
	src.source = "fuzz";
	src.ip = "127.0.0.1";
	src.received_at_ms = 1700000000000LL;
	memset(&batch, 0, sizeof batch);
	if (event_batch_parse((const char *)data, size, &lim, &src, &batch, err,
	    sizeof err) == EVENT_BODY_OK) {
		for (i = 0; i < batch.naccepted; i++) {
			if (event_record_decode(batch.accepted[i].record,
			    batch.accepted[i].record_len, &rec) != 0 ||
			    rec.json_len != batch.accepted[i].view.json_len ||
			    strlen(batch.accepted[i].id) != rec.id_len)
				__builtin_trap();
		}
	}
	event_batch_free(&batch);
	return 0;
}
