/*
 * config.c: loads and checks the sluiced configuration file with the INI
 * engine (core/inifile.h), which reads the file and reports every problem with
 * its file:line. Here: sluiced's grammar (the table of sections and keys,
 * where [app NAME] and [queue NAME] go), the defaults, and the checks
 * across keys once the file is read. Thread rule: load in one thread; the
 * loaded struct is read-only and may then be read from any thread.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/config.h"
#include "core/config_check.h"
#include "core/inifile.h"
#include "core/sluice.h"

/* A key of struct S: what is stored where, its range and its check. */
#define KEY(S, name, kind, field, min, max, check) \
	{ name, kind, offsetof(struct S, field), min, max, check, 0, NULL }
#define CFG(name, kind, field, min, max, check) \
	KEY(config, name, kind, field, min, max, check)

static const struct inifile_choice config_queue_types = {
	"queue type", { "classic", "quorum", NULL }
};
_Static_assert(CONFIG_QUEUE_CLASSIC == 0 && CONFIG_QUEUE_QUORUM == 1,
    "queue types are stored as their index in config_queue_types");
static const struct inifile_choice config_client_events = {
	"client event mode", { "forward", "live", "off", NULL }
};
_Static_assert(CONFIG_CLIENT_EVENTS_FORWARD == 0 &&
    CONFIG_CLIENT_EVENTS_LIVE == 1 && CONFIG_CLIENT_EVENTS_OFF == 2,
    "client event modes are stored as their index in config_client_events");

static const struct inifile_key config_server_keys[] = {
	CFG("http_listen", INIFILE_STRING, http_listen, 0, 0,
	    config_check_listen),
	CFG("http_threads", INIFILE_UINT, http_threads, 1, 64, NULL),
	CFG("http_max_connections", INIFILE_UINT, http_max_connections, 1,
	    1000000, NULL),
	CFG("http_timeout", INIFILE_UINT, http_timeout_s, 1, 3600, NULL),
	CFG("http_max_connections_per_client", INIFILE_UINT,
	    http_max_per_client, 1, 1000000, NULL),
	CFG("http_header_timeout", INIFILE_UINT, http_header_timeout_s, 1,
	    3600, NULL),
	CFG("http_body_min_rate", INIFILE_SIZE, http_body_min_rate, 1,
	    CONFIG_G, NULL),
	CFG("trusted_proxies", INIFILE_NETADDRS, trusted_proxies, 0, 0, NULL),
	CFG("log_file", INIFILE_STRING, log_file, 0, 0, NULL),
	CFG("log_level", INIFILE_LOGLEVEL, log_level, 0, 0, NULL),
	CFG("shutdown_timeout", INIFILE_UINT, shutdown_timeout_s, 0, 3600,
	    NULL),
	CFG("static_dir", INIFILE_STRING, static_dir, 0, 0, NULL),
};
static const struct inifile_key config_limits_keys[] = {
	CFG("max_event_bytes", INIFILE_SIZE, max_event_bytes, 64,
	    16 * CONFIG_M, NULL),
	CFG("max_request_bytes", INIFILE_SIZE, max_request_bytes, CONFIG_K,
	    64 * CONFIG_M, NULL),
	CFG("max_events_per_request", INIFILE_COUNT, max_events_per_request, 1,
	    100000, NULL),
};
static const struct inifile_key config_journal_keys[] = {
	CFG("dir", INIFILE_STRING, journal_dir, 0, 0, config_check_nonempty),
	CFG("max_bytes", INIFILE_SIZE64, journal_max_bytes, 128 * CONFIG_K,
	    UINT64_MAX, NULL),
	CFG("segment_bytes", INIFILE_SIZE64, journal_segment_bytes,
	    64 * CONFIG_K, CONFIG_G, NULL),
};
static const struct inifile_key config_amqp_keys[] = {
	CFG("url", INIFILE_STRING, amqp_url, 0, 0, config_check_url),
	CFG("exchange", INIFILE_STRING, exchange, 0, 0,
	    config_check_amqp_name),
	CFG("unrouted_exchange", INIFILE_STRING, unrouted_exchange, 0, 0,
	    config_check_amqp_name),
	CFG("routing_key", INIFILE_STRING, routing_key, 0, 0,
	    config_check_routekey),
	{ "queue_type", INIFILE_CHOICE, offsetof(struct config, queue_type),
	    0, 0, NULL, 0, &config_queue_types },
	CFG("heartbeat", INIFILE_UINT, heartbeat_s, 0, 600, NULL),
	CFG("max_inflight", INIFILE_UINT, max_inflight, 1, 65535, NULL),
	CFG("reconnect_min_ms", INIFILE_UINT, reconnect_min_ms, 10, 60000,
	    NULL),
	CFG("reconnect_max_ms", INIFILE_UINT, reconnect_max_ms, 10, 600000,
	    NULL),
};
static const struct inifile_key config_websocket_keys[] = {
	CFG("listen", INIFILE_STRING, ws_listen, 0, 0, config_check_listen),
	CFG("activity_timeout", INIFILE_UINT, ws_activity_timeout_s, 1, 3600,
	    NULL),
	CFG("pong_timeout", INIFILE_UINT, ws_pong_timeout_s, 1, 600, NULL),
	CFG("max_message_bytes", INIFILE_SIZE, ws_max_message_bytes, 256,
	    16 * CONFIG_M, NULL),
	CFG("max_subscriptions", INIFILE_UINT, ws_max_subscriptions, 1, 100000,
	    NULL),
	CFG("send_queue_bytes", INIFILE_SIZE, ws_send_queue_bytes,
	    4 * CONFIG_K, CONFIG_G, NULL),
	CFG("publish_rate", INIFILE_UINT, ws_publish_rate, 1, 10000000,
	    NULL),
	CFG("publish_burst", INIFILE_UINT, ws_publish_burst, 1, 10000000,
	    NULL),
	CFG("max_open_files", INIFILE_UINT, ws_max_open_files, 0, 100000000,
	    NULL),
	CFG("max_partial_bytes", INIFILE_SIZE, ws_max_partial_bytes,
	    64 * CONFIG_K, 64 * CONFIG_G, NULL),
	CFG("inbox_frames", INIFILE_COUNT, ws_inbox_frames, 16, 100000000,
	    NULL),
	CFG("cache_channels", INIFILE_COUNT, ws_cache_channels, 1, 100000000,
	    NULL),
};
#undef CFG
static const struct inifile_key config_queue_keys[] = {
	KEY(config_queue, "bind", INIFILE_LIST, bindings, 1, 0,
	    config_check_bind),
};
#define APP(name, kind, field, min, max, check) \
	KEY(config_app, name, kind, field, min, max, check)
static const struct inifile_key config_app_keys[] = {
	APP("key", INIFILE_STRING, key, 0, 0, config_check_app_key),
	APP("secret", INIFILE_STRING, secret, 0, 0, config_check_secret),
	APP("origins", INIFILE_LIST, origins, 0, 0, config_check_origin),
	APP("default_channel", INIFILE_STRING, default_channel, 0, 0,
	    config_check_channel),
	APP("publish_channels", INIFILE_LIST, publish_channels, 0, 0,
	    config_check_pattern),
	APP("public_channels", INIFILE_LIST, public_channels, 0, 0,
	    config_check_pattern),
	APP("max_connections", INIFILE_UINT, max_connections, 1, 10000000,
	    NULL),
	APP("enabled", INIFILE_BOOL, enabled, 0, 0, NULL),
	APP("presence_max_members", INIFILE_UINT, presence_max_members, 1,
	    1000000, NULL),
	APP("presence_max_member_bytes", INIFILE_SIZE,
	    presence_max_member_bytes, 16, 64 * CONFIG_K, NULL),
	{ "client_events", INIFILE_CHOICE, offsetof(struct config_app,
	    client_events), 0, 0, NULL, 0, &config_client_events },
	APP("client_event_rate", INIFILE_UINT, client_event_rate, 1, 1000000,
	    NULL),
	APP("client_event_burst", INIFILE_UINT, client_event_burst, 1,
	    1000000, NULL),
	APP("user_authentication_required", INIFILE_BOOL, user_auth_required,
	    0, 0, NULL),
	APP("user_authentication_timeout", INIFILE_UINT, user_auth_timeout_s,
	    1, 3600, NULL),
	APP("subscription_count", INIFILE_BOOL, subscription_count, 0, 0,
	    NULL),
	APP("subscription_count_interval_ms", INIFILE_UINT,
	    subscription_count_interval_ms, 10, 3600000, NULL),
	APP("cache_ttl", INIFILE_UINT, cache_ttl_s, 1, 30 * 86400, NULL),
	APP("max_batch_events", INIFILE_UINT, max_batch_events, 1, 1000,
	    NULL),
};
#undef APP
#undef KEY

#define SECTION(name, keys, mode, check) \
	{ name, keys, SLUICE_ARRAY_LEN(keys), mode, check }
enum { CONFIG_SEC_QUEUE = 5, CONFIG_SEC_APP = 6 };
static const struct inifile_section config_sections[] = {
	SECTION("server", config_server_keys, INIFILE_KEYS, NULL),
	SECTION("limits", config_limits_keys, INIFILE_KEYS, NULL),
	SECTION("journal", config_journal_keys, INIFILE_KEYS, NULL),
	SECTION("amqp", config_amqp_keys, INIFILE_KEYS, NULL),
	SECTION("websocket", config_websocket_keys, INIFILE_KEYS, NULL),
	SECTION("queue", config_queue_keys, INIFILE_NAMED,
	    config_check_amqp_name),
	SECTION("app", config_app_keys, INIFILE_NAMED, config_check_app_name),
	/* sluice-loader's section: its keys are the loader's to check. */
	{ "loader", NULL, 0, INIFILE_PASSED, NULL },
};
#undef SECTION

/* What the grammar's callbacks work on during one load. */
struct config_parse {
	struct config	*cfg;
	int		 queues_given;	/* the defaults were dropped */
};

static int config_open(void *user, const struct inifile_section *sec,
    const char *name, size_t index);
static void *config_base(void *user, const struct inifile_section *sec,
    size_t index);

static const struct inifile_grammar config_grammar = {
	config_sections, SLUICE_ARRAY_LEN(config_sections),
	INIFILE_SAY_VALUE, 0, config_open, config_base
};

/* Adds a queue called name, bound to "#" when bind_all. Returns 0 or -1
 * (out of memory). */
static int
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

/* Drops every queue (when the file names its own). */
static void
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
	config_errors_free(&cfg->warnings);
	memset(cfg, 0, sizeof *cfg);
}

int
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->http_threads = 2;
	cfg->http_max_connections = 4096;
	cfg->http_timeout_s = 30;
	cfg->http_max_per_client = 256;
	cfg->http_header_timeout_s = 10;
	cfg->http_body_min_rate = 16 * CONFIG_K;
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
	cfg->ws_max_partial_bytes = 64 * CONFIG_M;
	cfg->ws_inbox_frames = 65536;
	cfg->ws_cache_channels = 100000;
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

/* Makes room for [app NAME] or [queue NAME], the index-th of its kind;
 * the first [queue] replaces the default queue. Returns 0 or -1. */
static int
config_open(void *user, const struct inifile_section *sec, const char *name,
    size_t index)
{
	struct config_parse *st = user;
	struct config *cfg = st->cfg;
	struct config_app *apps, *app;

	if (sec == &config_sections[CONFIG_SEC_QUEUE]) {
		if (!st->queues_given) {
			config_queues_free(cfg);
			st->queues_given = 1;
		}
		return config_queue_add(cfg, name, 0);
	}
	apps = reallocarray(cfg->apps, index + 1, sizeof *apps);
	if (apps == NULL)
		return -1;
	cfg->apps = apps;
	app = &apps[index];
	memset(app, 0, sizeof *app);
	if ((app->id = strdup(name)) == NULL)
		return -1;
	cfg->napps++;
	app->max_connections = CONFIG_APP_MAX_CONNECTIONS;
	app->enabled = 1;
	app->presence_max_members = 100;		/* as Pusher */
	app->presence_max_member_bytes = 1024;
	app->client_events = CONFIG_CLIENT_EVENTS_FORWARD;
	app->client_event_rate = 10;			/* as Pusher */
	app->client_event_burst = 20;
	app->user_auth_timeout_s = 30;
	app->subscription_count_interval_ms = 1000;
	app->cache_ttl_s = 30 * 60;
	app->max_batch_events = 10;			/* as Pusher */
	return 0;
}

/* The struct the keys of the index-th section sec go into. */
static void *
config_base(void *user, const struct inifile_section *sec, size_t index)
{
	struct config_parse *st = user;

	if (sec == &config_sections[CONFIG_SEC_APP])
		return &st->cfg->apps[index];
	if (sec == &config_sections[CONFIG_SEC_QUEUE])
		return &st->cfg->queues[index];
	return st->cfg;
}

/* The later of the lines of two keys of unnamed sections, where a check
 * across them failed. */
static unsigned
config_later_of(const struct inifile *ini, const char *sa, const char *a,
    const char *sb, const char *b)
{
	unsigned la = inifile_key_line(ini, sa, 0, a);
	unsigned lb = inifile_key_line(ini, sb, 0, b);

	return la > lb ? la : lb;
}

/* The same, for two keys of one section. */
static unsigned
config_later(const struct inifile *ini, const char *sec, const char *a,
    const char *b)
{
	return config_later_of(ini, sec, a, sec, b);
}

/* The line where app i's key name was given, or 0. */
static unsigned
config_app_line(const struct inifile *ini, size_t i, const char *name)
{
	return inifile_key_line(ini, "app", i, name);
}

static void
config_finish_app(struct inifile *ini, struct config *cfg, size_t i)
{
	struct config_app *app = &cfg->apps[i];
	unsigned line = inifile_section_line(ini, "app", i);
	size_t j;

	if (app->key == NULL && config_app_line(ini, i, "key") == 0)
		inifile_error(ini, line, "[app %s]: key is required", app->id);
	if (app->secret == NULL && config_app_line(ini, i, "secret") == 0)
		inifile_error(ini, line, "[app %s]: secret is required",
		    app->id);
	/* Allowed, as Pusher allows it (soketi's test app has "app-secret"),
	 * but a short secret is easier to guess. */
	if (app->secret != NULL &&
	    strlen(app->secret) < CONFIG_SECRET_ADVISED &&
	    config_errors_add(&cfg->warnings, "%s:%u: [app %s] secret: only "
	    "%zu characters; a secret shorter than %d is easier to guess",
	    cfg->path, config_app_line(ini, i, "secret"), app->id,
	    strlen(app->secret), CONFIG_SECRET_ADVISED) == -1)
		inifile_nomem(ini);
	for (j = 0; j < i && app->key != NULL; j++) {
		if (cfg->apps[j].key != NULL &&
		    strcmp(cfg->apps[j].key, app->key) == 0)
			inifile_error(ini, config_app_line(ini, i, "key"),
			    "[app %s] key: already used by [app %s]", app->id,
			    cfg->apps[j].id);
	}
	if (app->default_channel == NULL)
		return;
	if (config_app_line(ini, i, "publish_channels") == 0) {
		if (config_strv_add(&app->publish_channels,
		    app->default_channel, strlen(app->default_channel)) == -1)
			inifile_nomem(ini);
	} else if (!app_may_publish(app, app->default_channel))
		inifile_error(ini, config_app_line(ini, i, "default_channel"),
		    "[app %s] default_channel: \"%s\" is not matched by "
		    "publish_channels", app->id, app->default_channel);
}

/* The checks that involve more than one key. */
static void
config_finish(struct inifile *ini, struct config *cfg)
{
	char a[24], b[24];
	size_t i;

	for (i = 0; i < cfg->napps; i++)
		config_finish_app(ini, cfg, i);
	if (cfg->napps == 0)
		inifile_error(ini, 0, "no [app NAME] section: sluiced needs "
		    "at least one app");
	for (i = 0; i < cfg->nqueues; i++) {
		if (cfg->queues[i].bindings.count == 0 &&
		    config_strv_add(&cfg->queues[i].bindings, "#", 1) == -1)
			inifile_nomem(ini);
		if (cfg->unrouted_exchange != NULL &&
		    strcmp(cfg->queues[i].name, cfg->unrouted_exchange) == 0)
			inifile_error(ini,
			    inifile_section_line(ini, "queue", i),
			    "[queue %s]: the name is taken by the queue of "
			    "unrouted_exchange", cfg->queues[i].name);
	}
	if (cfg->max_request_bytes < cfg->max_event_bytes)
		inifile_error(ini, config_later(ini, "limits",
		    "max_request_bytes", "max_event_bytes"),
		    "[limits] max_request_bytes (%s) must be at least "
		    "max_event_bytes (%s)",
		    inifile_size_text(cfg->max_request_bytes, a, sizeof a),
		    inifile_size_text(cfg->max_event_bytes, b, sizeof b));
	if (cfg->journal_max_bytes / 2 < cfg->journal_segment_bytes)
		inifile_error(ini, config_later(ini, "journal", "max_bytes",
		    "segment_bytes"), "[journal] max_bytes (%s) must be at "
		    "least twice segment_bytes (%s)",
		    inifile_size_text(cfg->journal_max_bytes, a, sizeof a),
		    inifile_size_text(cfg->journal_segment_bytes, b,
		    sizeof b));
	if (cfg->reconnect_max_ms < cfg->reconnect_min_ms)
		inifile_error(ini, config_later(ini, "amqp",
		    "reconnect_max_ms", "reconnect_min_ms"), "[amqp] "
		    "reconnect_max_ms (%u) must be at least reconnect_min_ms "
		    "(%u)", cfg->reconnect_max_ms, cfg->reconnect_min_ms);
	/* One request's events go to each subscriber at once: a reader that
	 * keeps up must not be taken for a slow one. */
	if (cfg->ws_send_queue_bytes / 2 < cfg->max_request_bytes)
		inifile_error(ini, config_later_of(ini, "websocket",
		    "send_queue_bytes", "limits", "max_request_bytes"),
		    "[websocket] send_queue_bytes (%s) must be at least twice "
		    "[limits] max_request_bytes (%s)",
		    inifile_size_text(cfg->ws_send_queue_bytes, a, sizeof a),
		    inifile_size_text(cfg->max_request_bytes, b, sizeof b));
	/* Room for at least one message of the largest size. */
	if (cfg->ws_max_partial_bytes < cfg->ws_max_message_bytes)
		inifile_error(ini, config_later(ini, "websocket",
		    "max_partial_bytes", "max_message_bytes"),
		    "[websocket] max_partial_bytes (%s) must be at least "
		    "max_message_bytes (%s)",
		    inifile_size_text(cfg->ws_max_partial_bytes, a, sizeof a),
		    inifile_size_text(cfg->ws_max_message_bytes, b, sizeof b));
	if (cfg->http_listen != NULL && cfg->ws_listen != NULL &&
	    strcmp(cfg->http_listen, cfg->ws_listen) == 0)
		inifile_error(ini,
		    inifile_key_line(ini, "websocket", 0, "listen"),
		    "[websocket] listen must differ from [server] "
		    "http_listen (%s)", cfg->http_listen);
	if (cfg->exchange != NULL && cfg->unrouted_exchange != NULL &&
	    strcmp(cfg->exchange, cfg->unrouted_exchange) == 0)
		inifile_error(ini, config_later(ini, "amqp", "exchange",
		    "unrouted_exchange"), "[amqp] unrouted_exchange must "
		    "differ from exchange");
}

int
config_load(const char *path, struct config **out,
    struct config_errors *errs)
{
	struct config_parse st;
	struct config *cfg;
	struct inifile ini;
	int rc = -1;

	*out = NULL;
	memset(&st, 0, sizeof st);
	inifile_init(&ini, &config_grammar, &st, path, errs);
	cfg = calloc(1, sizeof *cfg);
	if (cfg == NULL || config_defaults(cfg) != SLUICE_OK) {
		free(cfg);
		inifile_nomem(&ini);
		return -1;
	}
	st.cfg = cfg;
	if ((cfg->path = strdup(path)) == NULL)
		inifile_nomem(&ini);
	else if (inifile_read(&ini) == 0) {
		config_finish(&ini, cfg);
		if (!inifile_failed(&ini))
			rc = 0;
	}
	if (rc == -1 && errs->count == 0)
		inifile_nomem(&ini);
	inifile_free(&ini);
	if (rc == -1) {
		config_free(cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}
