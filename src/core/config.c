/*
 * config.c: loads and checks the sluiced configuration file. libinih splits
 * the file into sections and key = value pairs; config_read.c gives it the
 * lines, classified and numbered, so that every problem (libinih reports
 * only the first) is collected with its file:line. Here: the table of
 * sections and keys, applying each value, the defaults, and the checks
 * across keys once the file is read. Thread rule: load in one thread; the
 * loaded struct is read-only and may then be read from any thread.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <amqp.h>
#include <ini.h>

#include "core/app.h"
#include "core/config.h"
#include "core/config_check.h"
#include "core/config_internal.h"
#include "core/routekey.h"
#include "core/sluice.h"

#define CFG(f) offsetof(struct config, f)
static const struct config_key config_server_keys[] = {
	{ "http_listen", CONFIG_STRING, CFG(http_listen), 0, 0,
	    config_check_listen },
	{ "http_threads", CONFIG_UINT, CFG(http_threads), 1, 64, NULL },
	{ "http_max_connections", CONFIG_UINT, CFG(http_max_connections),
	    1, 1000000, NULL },
	{ "http_timeout", CONFIG_UINT, CFG(http_timeout_s), 1, 3600, NULL },
	{ "trusted_proxies", CONFIG_NETADDRS, CFG(trusted_proxies), 0, 0,
	    NULL },
	{ "log_file", CONFIG_STRING, CFG(log_file), 0, 0, NULL },
	{ "log_level", CONFIG_LOGLEVEL, CFG(log_level), 0, 0, NULL },
	{ "shutdown_timeout", CONFIG_UINT, CFG(shutdown_timeout_s), 0, 3600,
	    NULL },
	{ "static_dir", CONFIG_STRING, CFG(static_dir), 0, 0, NULL },
};
static const struct config_key config_limits_keys[] = {
	{ "max_event_bytes", CONFIG_SIZE, CFG(max_event_bytes), 64,
	    16 * CONFIG_M, NULL },
	{ "max_request_bytes", CONFIG_SIZE, CFG(max_request_bytes), CONFIG_K,
	    64 * CONFIG_M, NULL },
	{ "max_events_per_request", CONFIG_COUNT, CFG(max_events_per_request),
	    1, 100000, NULL },
};
static const struct config_key config_journal_keys[] = {
	{ "dir", CONFIG_STRING, CFG(journal_dir), 0, 0,
	    config_check_nonempty },
	{ "max_bytes", CONFIG_SIZE64, CFG(journal_max_bytes), 128 * CONFIG_K,
	    UINT64_MAX, NULL },
	{ "segment_bytes", CONFIG_SIZE64, CFG(journal_segment_bytes),
	    64 * CONFIG_K, CONFIG_G, NULL },
};
static const struct config_key config_amqp_keys[] = {
	{ "url", CONFIG_STRING, CFG(amqp_url), 0, 0, config_check_url },
	{ "exchange", CONFIG_STRING, CFG(exchange), 0, 0,
	    config_check_amqp_name },
	{ "unrouted_exchange", CONFIG_STRING, CFG(unrouted_exchange), 0, 0,
	    config_check_amqp_name },
	{ "routing_key", CONFIG_STRING, CFG(routing_key), 0, 0,
	    config_check_routekey },
	{ "queue_type", CONFIG_QUEUETYPE, CFG(queue_type), 0, 0, NULL },
	{ "heartbeat", CONFIG_UINT, CFG(heartbeat_s), 0, 600, NULL },
	{ "max_inflight", CONFIG_UINT, CFG(max_inflight), 1, 65535, NULL },
	{ "reconnect_min_ms", CONFIG_UINT, CFG(reconnect_min_ms), 10, 60000,
	    NULL },
	{ "reconnect_max_ms", CONFIG_UINT, CFG(reconnect_max_ms), 10, 600000,
	    NULL },
};
static const struct config_key config_websocket_keys[] = {
	{ "listen", CONFIG_STRING, CFG(ws_listen), 0, 0, config_check_listen },
	{ "activity_timeout", CONFIG_UINT, CFG(ws_activity_timeout_s), 1,
	    3600, NULL },
	{ "pong_timeout", CONFIG_UINT, CFG(ws_pong_timeout_s), 1, 600, NULL },
	{ "max_message_bytes", CONFIG_SIZE, CFG(ws_max_message_bytes), 256,
	    16 * CONFIG_M, NULL },
	{ "max_subscriptions", CONFIG_UINT, CFG(ws_max_subscriptions), 1,
	    100000, NULL },
	{ "send_queue_bytes", CONFIG_SIZE, CFG(ws_send_queue_bytes), 4 * CONFIG_K,
	    CONFIG_G, NULL },
	{ "publish_rate", CONFIG_UINT, CFG(ws_publish_rate), 1, 10000000,
	    NULL },
	{ "publish_burst", CONFIG_UINT, CFG(ws_publish_burst), 1, 10000000,
	    NULL },
	{ "max_open_files", CONFIG_UINT, CFG(ws_max_open_files), 0, 100000000,
	    NULL },
};
#undef CFG
static const struct config_key config_queue_keys[] = {
	{ "bind", CONFIG_LIST, offsetof(struct config_queue, bindings), 1, 0,
	    config_check_bind },
};
#define APP(f) offsetof(struct config_app, f)
static const struct config_key config_app_keys[] = {
	{ "key", CONFIG_STRING, APP(key), 0, 0, config_check_app_key },
	{ "secret", CONFIG_STRING, APP(secret), 0, 0, config_check_secret },
	{ "origins", CONFIG_LIST, APP(origins), 0, 0, config_check_origin },
	{ "default_channel", CONFIG_STRING, APP(default_channel), 0, 0,
	    config_check_channel },
	{ "publish_channels", CONFIG_LIST, APP(publish_channels), 0, 0,
	    config_check_pattern },
	{ "public_channels", CONFIG_LIST, APP(public_channels), 0, 0,
	    config_check_pattern },
	{ "max_connections", CONFIG_UINT, APP(max_connections), 1, 10000000,
	    NULL },
};
#undef APP

#define CONFIG_SECTION(name, keys, where) \
	{ name, keys, SLUICE_ARRAY_LEN(keys), where }
/* The unnamed sections come first: their key lines are in fixed[]. */
static const struct config_section config_sections[] = {
	CONFIG_SECTION("server", config_server_keys, CONFIG_IN_CONFIG),
	CONFIG_SECTION("limits", config_limits_keys, CONFIG_IN_CONFIG),
	CONFIG_SECTION("journal", config_journal_keys, CONFIG_IN_CONFIG),
	CONFIG_SECTION("amqp", config_amqp_keys, CONFIG_IN_CONFIG),
	CONFIG_SECTION("websocket", config_websocket_keys, CONFIG_IN_CONFIG),
	CONFIG_SECTION("queue", config_queue_keys, CONFIG_IN_QUEUE),
	CONFIG_SECTION("app", config_app_keys, CONFIG_IN_APP),
	/* sluice-loader's section: its keys are the loader's to check. */
	{ "loader", NULL, 0, CONFIG_IN_OTHER },
};
#undef CONFIG_SECTION
enum { CONFIG_SERVER, CONFIG_LIMITS, CONFIG_JOURNAL, CONFIG_AMQP,
    CONFIG_WEBSOCKET, CONFIG_NFIXED };

const struct config_section *
config_section_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < SLUICE_ARRAY_LEN(config_sections); i++)
		if (strlen(config_sections[i].name) == len &&
		    strncmp(config_sections[i].name, name, len) == 0)
			return &config_sections[i];
	return NULL;
}

size_t
config_section_index(const struct config_section *sec)
{
	return (size_t)(sec - config_sections);
}

_Static_assert(CONFIG_NFIXED == CONFIG_FIXED_SECTIONS,
    "CONFIG_FIXED_SECTIONS is not the number of unnamed sections");
_Static_assert(SLUICE_ARRAY_LEN(config_server_keys) <= CONFIG_MAXKEYS &&
    SLUICE_ARRAY_LEN(config_limits_keys) <= CONFIG_MAXKEYS &&
    SLUICE_ARRAY_LEN(config_journal_keys) <= CONFIG_MAXKEYS &&
    SLUICE_ARRAY_LEN(config_amqp_keys) <= CONFIG_MAXKEYS &&
    SLUICE_ARRAY_LEN(config_websocket_keys) <= CONFIG_MAXKEYS &&
    SLUICE_ARRAY_LEN(config_app_keys) <= CONFIG_MAXKEYS,
    "CONFIG_MAXKEYS is too small");

int
config_errors_add(struct config_errors *errs, const char *fmt, ...)
{
	char **items, *item;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&item, fmt, ap);
	va_end(ap);
	if (rc == -1)
		return -1;
	items = reallocarray(errs->items, errs->count + 1, sizeof *items);
	if (items == NULL) {
		free(item);
		return -1;
	}
	items[errs->count++] = item;
	errs->items = items;
	return 0;
}

/* Records "path:line: message", or "path: message" when line is 0. */
void
config_error(struct config_parse *st, unsigned line, const char *fmt, ...)
{
	char msg[CONFIG_MSGLEN];
	va_list ap;
	int rc;

	st->nerrors++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line > 0)
		rc = config_errors_add(st->errs, "%s:%u: %s", st->path, line,
		    msg);
	else
		rc = config_errors_add(st->errs, "%s: %s", st->path, msg);
	if (rc == -1)
		st->nomem = 1;
}

/* Records a problem with key on the current line: "[section] key: ...". */
static void __attribute__((format(printf, 3, 4)))
config_key_error(struct config_parse *st, const struct config_key *key,
    const char *fmt, ...)
{
	char msg[CONFIG_MSGLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	config_error(st, st->lineno, "[%s] %s: %s", st->secname, key->name,
	    msg);
}

void
config_nomem(struct config_parse *st)
{
	if (!st->nomem)
		config_error(st, st->lineno, "out of memory");
	st->nomem = 1;
}

static int
config_strv_add(struct config_strv *v, const char *item, size_t len)
{
	char **items, *copy;

	copy = strndup(item, len);
	if (copy == NULL)
		return -1;
	items = reallocarray(v->items, v->count + 1, sizeof *items);
	if (items == NULL) {
		free(copy);
		return -1;
	}
	items[v->count++] = copy;
	v->items = items;
	return 0;
}

static void
config_strv_free(struct config_strv *v)
{
	size_t i;

	for (i = 0; i < v->count; i++)
		free(v->items[i]);
	free(v->items);
	v->items = NULL;
	v->count = 0;
}

/* Adds a queue called name bound to "#" only. Returns 0 or -1. */
int
config_queue_add(struct config *cfg, const char *name, int bind_all)
{
	struct config_queue *queues, *q;

	queues = reallocarray(cfg->queues, cfg->nqueues + 1, sizeof *queues);
	if (queues == NULL)
		return -1;
	cfg->queues = queues;
	q = &queues[cfg->nqueues];
	memset(q, 0, sizeof *q);
	q->name = strdup(name);
	if (q->name == NULL)
		return -1;
	cfg->nqueues++;
	if (bind_all && config_strv_add(&q->bindings, "#", 1) == -1)
		return -1;
	return 0;
}

void
config_queues_free(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nqueues; i++) {
		free(cfg->queues[i].name);
		config_strv_free(&cfg->queues[i].bindings);
	}
	free(cfg->queues);
	cfg->queues = NULL;
	cfg->nqueues = 0;
}

/* Frees what cfg holds, not cfg itself. */
static void
config_clear(struct config *cfg)
{
	struct config_app *app;
	size_t i;

	free(cfg->path);
	free(cfg->http_listen);
	netaddr_list_free(&cfg->trusted_proxies);
	free(cfg->log_file);
	free(cfg->static_dir);
	free(cfg->journal_dir);
	free(cfg->amqp_url);
	free(cfg->exchange);
	free(cfg->unrouted_exchange);
	free(cfg->routing_key);
	free(cfg->ws_listen);
	for (i = 0; i < cfg->napps; i++) {
		app = &cfg->apps[i];
		free(app->id);
		free(app->key);
		free(app->secret);
		config_strv_free(&app->origins);
		free(app->default_channel);
		config_strv_free(&app->publish_channels);
		config_strv_free(&app->public_channels);
	}
	free(cfg->apps);
	config_queues_free(cfg);
	memset(cfg, 0, sizeof *cfg);
}

int
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->http_threads = 2;
	cfg->http_max_connections = 4096;
	cfg->http_timeout_s = 30;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->shutdown_timeout_s = 10;
	cfg->max_event_bytes = 32 * CONFIG_K;
	cfg->max_request_bytes = 512 * CONFIG_K;
	cfg->max_events_per_request = 500;
	cfg->journal_max_bytes = CONFIG_G;
	cfg->journal_segment_bytes = 64 * CONFIG_M;
	cfg->queue_type = CONFIG_QUEUE_CLASSIC;
	cfg->heartbeat_s = 30;
	cfg->max_inflight = 1024;
	cfg->reconnect_min_ms = 100;
	cfg->reconnect_max_ms = 30000;
	cfg->ws_activity_timeout_s = 120;
	cfg->ws_pong_timeout_s = 30;
	cfg->ws_max_message_bytes = 64 * CONFIG_K;
	cfg->ws_max_subscriptions = 100;
	cfg->ws_send_queue_bytes = 2 * CONFIG_M;
	cfg->ws_publish_rate = 1000;
	cfg->ws_publish_burst = 2000;
	cfg->ws_max_open_files = 0;
	if ((cfg->http_listen = strdup("127.0.0.1:8080")) == NULL ||
	    (cfg->journal_dir = strdup("var/journal")) == NULL ||
	    (cfg->amqp_url = strdup("amqp://guest:guest@127.0.0.1:5672")) ==
	    NULL ||
	    (cfg->exchange = strdup("sluice.events")) == NULL ||
	    (cfg->unrouted_exchange = strdup("sluice.unrouted")) == NULL ||
	    (cfg->routing_key = strdup("{channel}.{event}")) == NULL ||
	    (cfg->ws_listen = strdup("127.0.0.1:8081")) == NULL ||
	    config_queue_add(cfg, "sluice.archive", 1) == -1) {
		config_clear(cfg);
		return SLUICE_ENOMEM;
	}
	return SLUICE_OK;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	config_clear(cfg);
	free(cfg);
}

void
config_errors_free(struct config_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->count; i++)
		free(errs->items[i]);
	free(errs->items);
	errs->items = NULL;
	errs->count = 0;
}

/* The struct the current section's keys are stored in. */
static void *
config_section_base(struct config_parse *st)
{
	switch (st->sec->where) {
	case CONFIG_IN_APP:
		return &st->cfg->apps[st->idx];
	case CONFIG_IN_QUEUE:
		return &st->cfg->queues[st->idx];
	case CONFIG_IN_OTHER:
	case CONFIG_IN_CONFIG:
		break;
	}
	return st->cfg;
}

/* Parses a number or size value and checks its range. */
static int
config_apply_number(struct config_parse *st, const struct config_key *key,
    const char *value, uint64_t *v)
{
	char lo[24], hi[24];
	int size = key->kind == CONFIG_SIZE || key->kind == CONFIG_SIZE64;

	if (size ? config_parse_size(value, v) == -1 :
	    config_parse_number(value, v) == -1) {
		if (size)
			config_key_error(st, key, "\"%s\" is not a size (a "
			    "number with an optional K, M or G suffix)", value);
		else
			config_key_error(st, key, "\"%s\" is not a number",
			    value);
		return -1;
	}
	if (*v >= key->min && *v <= key->max)
		return 0;
	if (size) {
		config_size_text(key->min, lo, sizeof lo);
		config_size_text(key->max, hi, sizeof hi);
	} else {
		snprintf(lo, sizeof lo, "%" PRIu64, key->min);
		snprintf(hi, sizeof hi, "%" PRIu64, key->max);
	}
	if (key->max == UINT64_MAX)
		config_key_error(st, key, "%s is out of range (at least %s)",
		    value, lo);
	else
		config_key_error(st, key, "%s is out of range (%s..%s)", value,
		    lo, hi);
	return -1;
}

/* Splits a list value and appends each good item. */
static void
config_apply_list(struct config_parse *st, const struct config_key *key,
    struct config_strv *v, const char *value)
{
	char err[CONFIG_MSGLEN / 2], *item;
	const char *p;
	size_t n, found = 0;

	for (p = value + strspn(value, CONFIG_LIST_SEP); *p != '\0';
	    p += strspn(p, CONFIG_LIST_SEP)) {
		n = strcspn(p, CONFIG_LIST_SEP);
		found++;
		if ((item = strndup(p, n)) == NULL) {
			config_nomem(st);
			return;
		}
		if (key->check != NULL &&
		    key->check(item, err, sizeof err) == -1)
			config_key_error(st, key, "%s", err);
		else if (config_strv_add(v, p, n) == -1)
			config_nomem(st);
		free(item);
		p += n;
	}
	if (found < key->min)
		config_key_error(st, key, "no value given");
}

static void
config_apply_netaddrs(struct config_parse *st, const struct config_key *key,
    struct netaddr_list *list, const char *value)
{
	struct netaddr_list add;
	struct netaddr_cidr *items;
	char err[CONFIG_MSGLEN / 2];

	if (netaddr_list_parse(value, &add, err, sizeof err) == -1) {
		config_key_error(st, key, "%s", err);
		return;
	}
	if (add.count == 0)
		return;
	items = reallocarray(list->items, list->count + add.count,
	    sizeof *items);
	if (items == NULL) {
		config_nomem(st);
		netaddr_list_free(&add);
		return;
	}
	memcpy(items + list->count, add.items, add.count * sizeof *items);
	list->items = items;
	list->count += add.count;
	netaddr_list_free(&add);
}

/* Stores value for key, or records why not. cont: an indented line. */
static void
config_apply(struct config_parse *st, const struct config_key *key,
    const char *value, int cont)
{
	char err[CONFIG_MSGLEN / 2], **str;
	char *field = (char *)config_section_base(st) + key->off;
	enum log_level level;
	uint64_t v;

	if (cont && key->kind != CONFIG_LIST && key->kind != CONFIG_NETADDRS) {
		config_key_error(st, key, "takes a single value, but an "
		    "indented line continues it");
		st->cont = NULL;
		return;
	}
	switch (key->kind) {
	case CONFIG_STRING:
		if (key->check != NULL && key->check(value, err, sizeof err) ==
		    -1) {
			config_key_error(st, key, "%s", err);
			break;
		}
		str = (char **)(void *)field;
		free(*str);
		*str = NULL;
		if (*value != '\0' && (*str = strdup(value)) == NULL)
			config_nomem(st);
		break;
	case CONFIG_UINT:
		if (config_apply_number(st, key, value, &v) == 0)
			*(unsigned *)(void *)field = (unsigned)v;
		break;
	case CONFIG_COUNT:
	case CONFIG_SIZE:
		if (config_apply_number(st, key, value, &v) == 0)
			*(size_t *)(void *)field = (size_t)v;
		break;
	case CONFIG_SIZE64:
		if (config_apply_number(st, key, value, &v) == 0)
			*(uint64_t *)(void *)field = v;
		break;
	case CONFIG_LOGLEVEL:
		if (log_level_parse(value, &level) == 0)
			*(enum log_level *)(void *)field = level;
		else
			config_key_error(st, key, "\"%s\" is not a log level "
			    "(debug, info, warn or error)", value);
		break;
	case CONFIG_QUEUETYPE:
		if (strcmp(value, "classic") == 0)
			*(enum config_queue_type *)(void *)field =
			    CONFIG_QUEUE_CLASSIC;
		else if (strcmp(value, "quorum") == 0)
			*(enum config_queue_type *)(void *)field =
			    CONFIG_QUEUE_QUORUM;
		else
			config_key_error(st, key, "\"%s\" is not a queue type "
			    "(classic or quorum)", value);
		break;
	case CONFIG_LIST:
		config_apply_list(st, key, (struct config_strv *)(void *)field,
		    value);
		break;
	case CONFIG_NETADDRS:
		config_apply_netaddrs(st, key,
		    (struct netaddr_list *)(void *)field, value);
		break;
	}
}

/* The libinih handler: one key = value pair, or an indented continuation. */
static int
config_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct config_parse *st = user;
	const struct config_key *key = NULL;
	size_t i, len;

	(void)section;		/* the reader tracks sections itself */
	if (name == NULL || value == NULL)
		return 1;
	st->handled = 1;
	if (st->line == CONFIG_LINE_CONT) {
		len = strlen(value);
		if (len > 0 && *value == '[' && value[len - 1] == ']') {
			/* libinih reads an indented header as a value. */
			config_error(st, st->lineno, "indented \"%s\" would "
			    "continue the value above: a section header must "
			    "start its line", value);
			st->cont = NULL;
		} else if (st->cont != NULL && !st->ignore)
			config_apply(st, st->cont, value, 1);
		return 1;
	}
	st->have_name = *name != '\0';
	st->cont = NULL;
	if (st->ignore)
		return 1;
	if (st->sec == NULL) {
		config_error(st, st->lineno, "%s: key outside any section",
		    name);
		return 1;
	}
	for (i = 0; i < st->sec->nkeys; i++) {
		if (strcmp(st->sec->keys[i].name, name) == 0) {
			key = &st->sec->keys[i];
			break;
		}
	}
	if (key == NULL) {
		config_error(st, st->lineno, "[%s] %s: unknown key",
		    st->secname, name);
		return 1;
	}
	if (st->keylines[i] != 0) {
		if (key->kind != CONFIG_LIST && key->kind != CONFIG_NETADDRS) {
			config_key_error(st, key, "given twice (first on line "
			    "%u)", st->keylines[i]);
			return 1;
		}
	} else
		st->keylines[i] = st->lineno;
	st->cont = key;
	config_apply(st, key, value, 0);
	return 1;
}

static unsigned
config_fixed_line(const struct config_parse *st, int sec, const char *name)
{
	const struct config_section *s = &config_sections[sec];
	size_t i;

	for (i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].name, name) == 0)
			return st->fixed[sec][i];
	return 0;
}

/* The later of two keys' lines, in two different unnamed sections. */
static unsigned
config_later_of(const struct config_parse *st, int sa, const char *a, int sb,
    const char *b)
{
	unsigned la = config_fixed_line(st, sa, a);
	unsigned lb = config_fixed_line(st, sb, b);

	return la > lb ? la : lb;
}

/* The line of the later of two keys, where a cross-check failed. */
static unsigned
config_later(const struct config_parse *st, int sec, const char *a,
    const char *b)
{
	return config_later_of(st, sec, a, sec, b);
}

/* The line where app i's key name was given. */
static unsigned
config_app_line(const struct config_parse *st, size_t i, const char *name)
{
	size_t k;

	for (k = 0; k < SLUICE_ARRAY_LEN(config_app_keys); k++)
		if (strcmp(config_app_keys[k].name, name) == 0)
			return st->apps[i].keys[k];
	return 0;
}

static void
config_finish_app(struct config_parse *st, size_t i)
{
	struct config_app *app = &st->cfg->apps[i];
	unsigned line = st->apps[i].line;
	size_t j;

	if (app->key == NULL && config_app_line(st, i, "key") == 0)
		config_error(st, line, "[app %s]: key is required", app->id);
	if (app->secret == NULL && config_app_line(st, i, "secret") == 0)
		config_error(st, line, "[app %s]: secret is required", app->id);
	for (j = 0; j < i && app->key != NULL; j++) {
		if (st->cfg->apps[j].key != NULL &&
		    strcmp(st->cfg->apps[j].key, app->key) == 0)
			config_error(st, config_app_line(st, i, "key"),
			    "[app %s] key: already used by [app %s]", app->id,
			    st->cfg->apps[j].id);
	}
	if (config_app_line(st, i, "max_connections") == 0)
		app->max_connections = CONFIG_APP_MAX_CONNECTIONS;
	if (app->default_channel == NULL)
		return;
	if (config_app_line(st, i, "publish_channels") == 0) {
		if (config_strv_add(&app->publish_channels,
		    app->default_channel, strlen(app->default_channel)) == -1)
			config_nomem(st);
	} else if (!app_may_publish(app, app->default_channel))
		config_error(st, config_app_line(st, i, "default_channel"),
		    "[app %s] default_channel: \"%s\" is not matched by "
		    "publish_channels", app->id, app->default_channel);
}

/* The checks that involve more than one key. */
static void
config_finish(struct config_parse *st)
{
	struct config *cfg = st->cfg;
	char a[24], b[24];
	size_t i;

	for (i = 0; i < cfg->napps; i++)
		config_finish_app(st, i);
	if (cfg->napps == 0)
		config_error(st, 0, "no [app NAME] section: sluiced needs at "
		    "least one app");
	for (i = 0; i < cfg->nqueues; i++) {
		if (cfg->queues[i].bindings.count == 0 &&
		    config_strv_add(&cfg->queues[i].bindings, "#", 1) == -1)
			config_nomem(st);
		if (cfg->unrouted_exchange != NULL &&
		    strcmp(cfg->queues[i].name, cfg->unrouted_exchange) == 0)
			config_error(st, st->queues_given ? st->queues[i].line :
			    0, "[queue %s]: the name is taken by the queue of "
			    "unrouted_exchange", cfg->queues[i].name);
	}
	if (cfg->max_request_bytes < cfg->max_event_bytes)
		config_error(st, config_later(st, CONFIG_LIMITS,
		    "max_request_bytes", "max_event_bytes"),
		    "[limits] max_request_bytes (%s) must be at least "
		    "max_event_bytes (%s)",
		    config_size_text(cfg->max_request_bytes, a, sizeof a),
		    config_size_text(cfg->max_event_bytes, b, sizeof b));
	if (cfg->journal_max_bytes / 2 < cfg->journal_segment_bytes)
		config_error(st, config_later(st, CONFIG_JOURNAL, "max_bytes",
		    "segment_bytes"), "[journal] max_bytes (%s) must be at "
		    "least twice segment_bytes (%s)",
		    config_size_text(cfg->journal_max_bytes, a, sizeof a),
		    config_size_text(cfg->journal_segment_bytes, b, sizeof b));
	if (cfg->reconnect_max_ms < cfg->reconnect_min_ms)
		config_error(st, config_later(st, CONFIG_AMQP,
		    "reconnect_max_ms", "reconnect_min_ms"),
		    "[amqp] reconnect_max_ms (%u) must be at least "
		    "reconnect_min_ms (%u)", cfg->reconnect_max_ms,
		    cfg->reconnect_min_ms);
	/* One request's events go to each subscriber at once: a reader that
	 * keeps up must not be taken for a slow one. */
	if (cfg->ws_send_queue_bytes / 2 < cfg->max_request_bytes)
		config_error(st, config_later_of(st, CONFIG_WEBSOCKET,
		    "send_queue_bytes", CONFIG_LIMITS, "max_request_bytes"),
		    "[websocket] send_queue_bytes (%s) must be at least twice "
		    "[limits] max_request_bytes (%s)",
		    config_size_text(cfg->ws_send_queue_bytes, a, sizeof a),
		    config_size_text(cfg->max_request_bytes, b, sizeof b));
	if (cfg->http_listen != NULL && cfg->ws_listen != NULL &&
	    strcmp(cfg->http_listen, cfg->ws_listen) == 0)
		config_error(st, config_fixed_line(st, CONFIG_WEBSOCKET,
		    "listen"), "[websocket] listen must differ from [server] "
		    "http_listen (%s)", cfg->http_listen);
	if (cfg->exchange != NULL && cfg->unrouted_exchange != NULL &&
	    strcmp(cfg->exchange, cfg->unrouted_exchange) == 0)
		config_error(st, config_later(st, CONFIG_AMQP, "exchange",
		    "unrouted_exchange"), "[amqp] unrouted_exchange must "
		    "differ from exchange");
}

int
config_load(const char *path, struct config **out,
    struct config_errors *errs)
{
	struct config_parse st;
	struct config *cfg;
	int rc;

	*out = NULL;
	memset(&st, 0, sizeof st);
	st.errs = errs;
	st.path = path;
	cfg = calloc(1, sizeof *cfg);
	if (cfg == NULL || config_defaults(cfg) != SLUICE_OK) {
		free(cfg);
		config_nomem(&st);
		return -1;
	}
	if ((cfg->path = strdup(path)) == NULL) {
		config_free(cfg);
		config_nomem(&st);
		return -1;
	}
	st.cfg = cfg;
	st.fp = fopen(path, "re");
	if (st.fp == NULL) {
		config_error(&st, 0, "cannot open: %s", strerror(errno));
		config_free(cfg);
		return -1;
	}
	rc = ini_parse_stream(config_reader, &st, config_handler, &st);
	fclose(st.fp);
	free(st.buf);
	if (rc == -2)
		config_nomem(&st);
	else if (rc > 0 && st.nerrors == 0)
		config_error(&st, (unsigned)rc, "syntax error");
	if (!st.nomem)
		config_finish(&st);
	free(st.apps);
	free(st.queues);
	if (st.nerrors > 0 || st.nomem) {
		if (errs->count == 0)
			config_nomem(&st);
		config_free(cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}
