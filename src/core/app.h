/*
 * app.h: the registry of apps: every app of the configuration by its key,
 * by its id and by a small integer index (0 .. app_count - 1, stable for
 * the life of the registry) that hub keys and per-app counters use instead
 * of pointers; and the app's policies (allowed origins, the channels it
 * may publish to and the ones readable without auth) in one place.
 *
 * Threads: built and freed on the main thread; every lookup is read-only
 * and thread-safe.
 */
#ifndef SLUICE_APP_H
#define SLUICE_APP_H

#include <stddef.h>

#include "core/config.h"

struct app_registry;

/*
 * Builds the registry of cfg's apps (cfg is borrowed and must outlive it).
 * Returns SLUICE_OK and *out, or SLUICE_ENOMEM.
 */
int app_registry_new(const struct config *cfg, struct app_registry **out);

void app_registry_free(struct app_registry *r);

/* How many apps there are. */
unsigned app_count(const struct app_registry *r);

/* The app with public key key (X-Sluice-Key, ?key=, /app/KEY), or NULL
 * (also for a NULL key). */
const struct config_app *app_by_key(const struct app_registry *r,
    const char *key);

/* The app whose section is [app ID], or NULL. */
const struct config_app *app_by_id(const struct app_registry *r,
    const char *id);

/* The app of index i, or NULL when i is out of range. */
const struct config_app *app_by_index(const struct app_registry *r,
    unsigned i);

/* The index of app, which must be one of r's. */
unsigned app_index(const struct app_registry *r, const struct config_app *app);

/* The first app (in the order of the file) that allows origin, or NULL. */
const struct config_app *app_for_origin(const struct app_registry *r,
    const char *origin);

/* Returns 1 if origin is allowed for app ("*" allows any), else 0. */
int app_origin_allowed(const struct config_app *app, const char *origin);

/* Returns 1 if channel matches one of app's publish_channels patterns. */
int app_may_publish(const struct config_app *app, const char *channel);

/* Returns 1 if channel matches one of app's public_channels patterns:
 * WebSocket clients may subscribe to it without auth. */
int app_is_public(const struct config_app *app, const char *channel);

#endif
