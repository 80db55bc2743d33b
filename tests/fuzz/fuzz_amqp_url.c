/*
 * fuzz_amqp_url.c: libFuzzer harness for broker URLs with their TLS
 * parameters (core/amqp_url.c). The error must never hold the password.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/amqp_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amqp_url u;
	char err[300], *url;

	if ((url = malloc(size + 1)) == NULL)
		return 0;
	memcpy(url, data, size);
	url[size] = '\0';
	if (amqp_url_parse(url, &u, err, sizeof err) == 0)
		amqp_url_free(&u);
	free(url);
	return 0;
}
