/*
 * app.c: the app registry: two open-addressing tables (by key, by id) over
 * the configuration's apps, and the apps' policies. Read-only once built.
 */
#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/sluice.h"

struct app_registry {
	const struct config	*cfg;
	unsigned		 nslots;	/* a power of two */
	int			*by_key;	/* app index, or -1 */
	int			*by_id;
};

/* FNV-1a: the tables are small and their keys come from the config. */
static uint32_t
app_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

/* Puts index i under name into table; a name already there keeps the
 * first app (the config checker refuses duplicate keys and ids). */
static void
app_table_put(const struct app_registry *r, int *table, const char *name,
    int i, int by_key)
{
	unsigned slot = app_hash(name) & (r->nslots - 1);
	const struct config_app *other;

	while (table[slot] != -1) {
		other = &r->cfg->apps[table[slot]];
		if (strcmp(by_key ? other->key : other->id, name) == 0)
			return;
		slot = (slot + 1) & (r->nslots - 1);
	}
	table[slot] = i;
}

static const struct config_app *
app_table_get(const struct app_registry *r, const int *table,
    const char *name, int by_key)
{
	unsigned slot = app_hash(name) & (r->nslots - 1);
	const struct config_app *app;

	while (table[slot] != -1) {
		app = &r->cfg->apps[table[slot]];
		if (strcmp(by_key ? app->key : app->id, name) == 0)
			return app;
		slot = (slot + 1) & (r->nslots - 1);
	}
	return NULL;
}

int
app_registry_new(const struct config *cfg, struct app_registry **out)
{
	struct app_registry *r;
	unsigned i;

	r = calloc(1, sizeof *r);
	if (r == NULL)
		return SLUICE_ENOMEM;
	r->cfg = cfg;
	/* At most half full, so that every probe ends. */
	r->nslots = 8;
	while (r->nslots < 2 * cfg->napps)
		r->nslots *= 2;
	r->by_key = malloc(r->nslots * sizeof *r->by_key);
	r->by_id = malloc(r->nslots * sizeof *r->by_id);
	if (r->by_key == NULL || r->by_id == NULL) {
		app_registry_free(r);
		return SLUICE_ENOMEM;
	}
	for (i = 0; i < r->nslots; i++)
		r->by_key[i] = r->by_id[i] = -1;
	for (i = 0; i < cfg->napps; i++) {
		if (cfg->apps[i].key != NULL)
			app_table_put(r, r->by_key, cfg->apps[i].key, (int)i,
			    1);
		app_table_put(r, r->by_id, cfg->apps[i].id, (int)i, 0);
	}
	*out = r;
	return SLUICE_OK;
}

void
app_registry_free(struct app_registry *r)
{
	if (r == NULL)
		return;
	free(r->by_key);
	free(r->by_id);
	free(r);
}

unsigned
app_count(const struct app_registry *r)
{
	return (unsigned)r->cfg->napps;
}

const struct config_app *
app_by_key(const struct app_registry *r, const char *key)
{
	if (key == NULL)
		return NULL;
	return app_table_get(r, r->by_key, key, 1);
}

const struct config_app *
app_by_id(const struct app_registry *r, const char *id)
{
	if (id == NULL)
		return NULL;
	return app_table_get(r, r->by_id, id, 0);
}

const struct config_app *
app_by_index(const struct app_registry *r, unsigned i)
{
	return i < r->cfg->napps ? &r->cfg->apps[i] : NULL;
}

unsigned
app_index(const struct app_registry *r, const struct config_app *app)
{
	return (unsigned)(app - r->cfg->apps);
}

const struct config_app *
app_for_origin(const struct app_registry *r, const char *origin)
{
	size_t i;

	for (i = 0; i < r->cfg->napps; i++)
		if (app_origin_allowed(&r->cfg->apps[i], origin))
			return &r->cfg->apps[i];
	return NULL;
}

int
app_origin_allowed(const struct config_app *app, const char *origin)
{
	size_t i;

	if (origin == NULL)
		return 0;
	for (i = 0; i < app->origins.count; i++)
		if (strcmp(app->origins.items[i], "*") == 0 ||
		    strcmp(app->origins.items[i], origin) == 0)
			return 1;
	return 0;
}

/* Returns 1 if channel matches one of the glob patterns in v. */
static int
app_patterns_match(const struct config_strv *v, const char *channel)
{
	size_t i;

	if (channel == NULL)
		return 0;
	for (i = 0; i < v->count; i++)
		if (fnmatch(v->items[i], channel, 0) == 0)
			return 1;
	return 0;
}

int
app_may_publish(const struct config_app *app, const char *channel)
{
	return app_patterns_match(&app->publish_channels, channel);
}

int
app_is_public(const struct config_app *app, const char *channel)
{
	return app_patterns_match(&app->public_channels, channel);
}
