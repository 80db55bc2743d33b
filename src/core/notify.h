/*
 * notify.h: tells the service manager how sluiced is doing, with the
 * sd_notify(3) protocol of systemd's Type=notify units: READY=1 once it
 * can take events, STOPPING=1 when it starts to stop, WATCHDOG=1 while
 * the main thread lives, and a STATUS= line. Without NOTIFY_SOCKET in the
 * environment (not run by systemd), or when built --without-systemd, every
 * call does nothing. Thread rule: main thread only.
 */
#ifndef SLUICE_NOTIFY_H
#define SLUICE_NOTIFY_H

#include <stdint.h>

/* Whether a service manager listens (NOTIFY_SOCKET is set and sluiced
 * is built with libsystemd). Returns 1 or 0. */
int notify_wanted(void);

/* Says sluiced is ready, with status as its STATUS= line. */
void notify_ready(const char *status);

/* Says sluiced is stopping (before the orderly shutdown starts). */
void notify_stopping(void);

/* Sets the STATUS= line alone (e.g. why sluiced is not ready yet). */
void notify_status(const char *status);

/* Tells the watchdog the main thread is alive. */
void notify_watchdog(void);

/*
 * The watchdog interval the service manager asks for (WatchdogSec=), in
 * milliseconds, or 0 when there is none: notify_watchdog is due at least
 * that often (sluiced sends it twice as often).
 */
int64_t notify_watchdog_ms(void);

#endif
