/*
 * sluice.c: names for the shared status codes. Thread-safe.
 */
#include "core/sluice.h"

static const char *const sluice_status_names[SLUICE_STATUS_MAX] = {
	[SLUICE_OK] = "success",
	[SLUICE_ENOMEM] = "out of memory",
	[SLUICE_EIO] = "input/output error",
	[SLUICE_EINVAL] = "invalid argument",
	[SLUICE_EFULL] = "journal full",
	[SLUICE_ETOOBIG] = "too large",
	[SLUICE_ECORRUPT] = "corrupt data",
	[SLUICE_ESTOPPING] = "shutting down",
	[SLUICE_ENOTFOUND] = "not found",
};

const char *
sluice_strerror(int status)
{
	if (status < 0 || status >= SLUICE_STATUS_MAX)
		return "unknown status";
	return sluice_status_names[status];
}
