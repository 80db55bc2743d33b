/*
 * sluice.h: definitions shared by every module of sluiced: the one status
 * enum and a few helpers. Thread-safe (constants only).
 */
#ifndef SLUICE_H
#define SLUICE_H

#include <stddef.h>
#include <stdint.h>

/* Status codes returned by every module. Zero is success. */
enum sluice_status {
	SLUICE_OK = 0,
	SLUICE_ENOMEM,		/* allocation failed */
	SLUICE_EIO,		/* a system call on a file or socket failed */
	SLUICE_EINVAL,		/* bad argument or bad input */
	SLUICE_EFULL,		/* a bounded resource (the journal) is full */
	SLUICE_ETOOBIG,		/* an item is over its size limit */
	SLUICE_ECORRUPT,	/* stored data failed its checksum */
	SLUICE_ESTOPPING,	/* the daemon is shutting down */
	SLUICE_ENOTFOUND,	/* no such item */
	SLUICE_STATUS_MAX
};

/* Returns a static, human-readable name for a status code. */
const char *sluice_strerror(int status);

#define SLUICE_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
