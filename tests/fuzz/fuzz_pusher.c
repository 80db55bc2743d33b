/*
 * fuzz_pusher.c: libFuzzer harness for the parser of a WebSocket client's
 * Pusher message (ws/pusher.c): any bytes as a text frame.
 */
#include <stdint.h>
#include <string.h>

#include "ws/pusher.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pusher_msg m;
	char err[256];

	memset(&m, 0, sizeof m);
	if (pusher_msg_parse((const char *)data, size, &m, err,
	    sizeof err) == 0 && m.event == NULL)
		__builtin_trap();
	pusher_msg_free(&m);
	return 0;
}
