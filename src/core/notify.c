/*
 * notify.c: the service manager's notifications through libsystemd's
 * sd_notify (see notify.h); no-ops when built without libsystemd.
 * Thread rule: main thread only.
 */
#include <stdio.h>
#include <stdlib.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "core/log.h"
#include "core/notify.h"

#ifdef HAVE_SYSTEMD
/* Sends state (NUL-terminated lines) and logs a failure at debug level:
 * the service manager going away must not stop the daemon. */
static void
notify_send(const char *state)
{
	int rc;

	rc = sd_notify(0, state);
	if (rc < 0)
		log_debug("notify", "sd_notify: error %d", -rc);
}
#endif

int
notify_wanted(void)
{
#ifdef HAVE_SYSTEMD
	const char *sock = getenv("NOTIFY_SOCKET");

	return sock != NULL && sock[0] != '\0';
#else
	return 0;
#endif
}

void
notify_ready(const char *status)
{
#ifdef HAVE_SYSTEMD
	char buf[512];

	snprintf(buf, sizeof buf, "READY=1\nSTATUS=%s", status);
	notify_send(buf);
#else
	(void)status;
#endif
}

void
notify_stopping(void)
{
#ifdef HAVE_SYSTEMD
	notify_send("STOPPING=1\nSTATUS=stopping");
#endif
}

void
notify_status(const char *status)
{
#ifdef HAVE_SYSTEMD
	char buf[512];

	snprintf(buf, sizeof buf, "STATUS=%s", status);
	notify_send(buf);
#else
	(void)status;
#endif
}

void
notify_watchdog(void)
{
#ifdef HAVE_SYSTEMD
	notify_send("WATCHDOG=1");
#endif
}

int64_t
notify_watchdog_ms(void)
{
#ifdef HAVE_SYSTEMD
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
		return (int64_t)(usec / 1000) > 0 ? (int64_t)(usec / 1000) : 1;
#endif
	return 0;
}
