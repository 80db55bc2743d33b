/*
 * fuzz_config.c: libFuzzer harness for sluiced's config file reader
 * (core/config*.c, core/inifile.c): any bytes as sluiced.conf, read from
 * a memory file. Every error must name the file.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct config_errors errs;
	struct config *cfg = NULL;
	char path[64];
	size_t i;

	if (fd == -1 && (fd = memfd_create("sluiced.conf", 0)) == -1)
		return 0;
	if (ftruncate(fd, 0) == -1 || pwrite(fd, data, size, 0) !=
	    (ssize_t)size)
		return 0;
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	memset(&errs, 0, sizeof errs);
	if (config_load(path, &cfg, &errs) == 0)
		config_free(cfg);
	else
		for (i = 0; i < errs.count; i++)
			if (strncmp(errs.items[i], path, strlen(path)) != 0)
				__builtin_trap();
	config_errors_free(&errs);
	return 0;
}
