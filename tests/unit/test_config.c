/*
 * test_config.c: the configuration file: defaults, the shipped file, every
 * kind of error with its file:line, sizes, and the app lookups.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "core/app.h"
#include "core/config.h"
#include "core/sluice.h"

#ifndef TEST_SRCDIR
#define TEST_SRCDIR "."
#endif

/* A valid app section, for files that test something else. */
#define APP_OK \
	"[app a]\n" \
	"key = key-aaaa-0001\n" \
	"secret = secret-aaaa-aaaa-0001\n"

static char test_path[4200];
static char test_dir[4096];

/* Writes text to a scratch file and loads it. */
static int
load_text(const char *text, struct config **cfg, struct config_errors *errs)
{
	FILE *f;

	snprintf(test_dir, sizeof test_dir, "%s", unit_tmpdir());
	snprintf(test_path, sizeof test_path, "%s/t.conf", test_dir);
	f = fopen(test_path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	memset(errs, 0, sizeof *errs);
	return config_load(test_path, cfg, errs);
}

static void
unload(struct config *cfg, struct config_errors *errs)
{
	config_free(cfg);
	config_errors_free(errs);
	unit_rmtree(test_dir);
}

/* Loads text, which must be valid. Free with unload. */
static struct config *
load_ok(const char *text, struct config_errors *errs)
{
	struct config *cfg = NULL;
	size_t i;

	CU_ASSERT_EQUAL(load_text(text, &cfg, errs), 0);
	for (i = 0; i < errs->count; i++)
		fprintf(stderr, "\nunexpected: %s\n", errs->items[i]);
	CU_ASSERT_EQUAL(errs->count, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	return cfg;
}

/*
 * Returns 1 if one error is "<dir>/t.conf:LINE: ..." ("<dir>/t.conf: ..."
 * when line is 0) and contains every needle of the NULL-terminated list.
 */
static int
has_errorv(const struct config_errors *errs, unsigned line, va_list ap)
{
	char prefix[4300];
	const char *needle;
	va_list aq;
	size_t i;
	int all;

	if (line > 0)
		snprintf(prefix, sizeof prefix, "%s:%u: ", test_path, line);
	else
		snprintf(prefix, sizeof prefix, "%s: ", test_path);
	for (i = 0; i < errs->count; i++) {
		if (strncmp(errs->items[i], prefix, strlen(prefix)) != 0)
			continue;
		all = 1;
		va_copy(aq, ap);
		while ((needle = va_arg(aq, const char *)) != NULL)
			if (strstr(errs->items[i] + strlen(prefix), needle) ==
			    NULL)
				all = 0;
		va_end(aq);
		if (all)
			return 1;
	}
	return 0;
}

static int
has_error(const struct config_errors *errs, unsigned line, ...)
{
	va_list ap;
	int found;

	va_start(ap, line);
	found = has_errorv(errs, line, ap);
	va_end(ap);
	return found;
}

/*
 * Loads text, which must fail with exactly nerr errors, one of them at
 * line and containing every needle. Prints the errors when that is not so.
 */
#define CHECK_BAD(text, nerr, line, ...) \
	check_bad(text, nerr, line, __VA_ARGS__, (const char *)NULL)
static void
check_bad(const char *text, size_t nerr, unsigned line, ...)
{
	struct config_errors errs;
	struct config *cfg = (struct config *)&cfg;
	va_list ap;
	size_t i;
	int found;

	CU_ASSERT_EQUAL(load_text(text, &cfg, &errs), -1);
	CU_ASSERT_PTR_NULL(cfg);
	va_start(ap, line);
	found = has_errorv(&errs, line, ap);
	va_end(ap);
	CU_ASSERT_TRUE(found);
	CU_ASSERT_EQUAL(errs.count, nerr);
	if (!found || errs.count != nerr) {
		fprintf(stderr, "\nwanted %zu errors, one at line %u; in\n%s"
		    "got:\n", nerr, line, text);
		for (i = 0; i < errs.count; i++)
			fprintf(stderr, "  %s\n", errs.items[i]);
	}
	unload(NULL, &errs);
}

/* Checks the values every default must have, apart from apps and queues. */
static void
check_defaults(const struct config *cfg)
{
	CU_ASSERT_STRING_EQUAL(cfg->http_listen, "127.0.0.1:8080");
	CU_ASSERT_EQUAL(cfg->http_threads, 2);
	CU_ASSERT_EQUAL(cfg->http_max_connections, 4096);
	CU_ASSERT_EQUAL(cfg->http_timeout_s, 30);
	CU_ASSERT_EQUAL(cfg->http_max_per_client, 256);
	CU_ASSERT_EQUAL(cfg->http_header_timeout_s, 10);
	CU_ASSERT_EQUAL(cfg->http_body_min_rate, 16 * 1024);
	CU_ASSERT_EQUAL(cfg->trusted_proxies.count, 0);
	CU_ASSERT_PTR_NULL(cfg->log_file);
	CU_ASSERT_EQUAL(cfg->log_level, LOG_LEVEL_INFO);
	CU_ASSERT_EQUAL(cfg->shutdown_timeout_s, 10);
	CU_ASSERT_PTR_NULL(cfg->static_dir);
	CU_ASSERT_EQUAL(cfg->max_event_bytes, 32 * 1024);
	CU_ASSERT_EQUAL(cfg->max_request_bytes, 512 * 1024);
	CU_ASSERT_EQUAL(cfg->max_events_per_request, 500);
	CU_ASSERT_STRING_EQUAL(cfg->journal_dir, "var/journal");
	CU_ASSERT_EQUAL(cfg->journal_max_bytes, UINT64_C(1) << 30);
	CU_ASSERT_EQUAL(cfg->journal_segment_bytes, UINT64_C(64) << 20);
	CU_ASSERT_STRING_EQUAL(cfg->amqp_url,
	    "amqp://guest:guest@127.0.0.1:5672");
	CU_ASSERT_STRING_EQUAL(cfg->exchange, "sluice.events");
	CU_ASSERT_STRING_EQUAL(cfg->unrouted_exchange, "sluice.unrouted");
	CU_ASSERT_STRING_EQUAL(cfg->routing_key, "{channel}.{event}");
	CU_ASSERT_EQUAL(cfg->queue_type, CONFIG_QUEUE_CLASSIC);
	CU_ASSERT_EQUAL(cfg->heartbeat_s, 30);
	CU_ASSERT_EQUAL(cfg->max_inflight, 1024);
	CU_ASSERT_EQUAL(cfg->reconnect_min_ms, 100);
	CU_ASSERT_EQUAL(cfg->reconnect_max_ms, 30000);
	CU_ASSERT_STRING_EQUAL(cfg->ws_listen, "127.0.0.1:8081");
	CU_ASSERT_EQUAL(cfg->ws_activity_timeout_s, 120);
	CU_ASSERT_EQUAL(cfg->ws_pong_timeout_s, 30);
	CU_ASSERT_EQUAL(cfg->ws_max_message_bytes, 64 * 1024);
	CU_ASSERT_EQUAL(cfg->ws_max_subscriptions, 100);
	CU_ASSERT_EQUAL(cfg->ws_send_queue_bytes, 2 * 1024 * 1024);
	CU_ASSERT_EQUAL(cfg->ws_publish_rate, 1000);
	CU_ASSERT_EQUAL(cfg->ws_publish_burst, 2000);
	CU_ASSERT_EQUAL(cfg->ws_max_open_files, 0);
	CU_ASSERT_EQUAL(cfg->ws_max_partial_bytes, 64 * 1024 * 1024);
	CU_ASSERT_EQUAL(cfg->ws_inbox_frames, 65536);
}

static void
check_default_queue(const struct config *cfg)
{
	CU_ASSERT_EQUAL_FATAL(cfg->nqueues, 1);
	CU_ASSERT_STRING_EQUAL(cfg->queues[0].name, "sluice.archive");
	CU_ASSERT_EQUAL_FATAL(cfg->queues[0].bindings.count, 1);
	CU_ASSERT_STRING_EQUAL(cfg->queues[0].bindings.items[0], "#");
}

static void
TEST_defaults(void)
{
	struct config *cfg;

	cfg = calloc(1, sizeof *cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(config_defaults(cfg), 0);
	check_defaults(cfg);
	check_default_queue(cfg);
	CU_ASSERT_EQUAL(cfg->napps, 0);
	CU_ASSERT_PTR_NULL(cfg->apps);
	config_free(cfg);
	config_free(NULL);
}

static void
TEST_file_with_one_app_gets_defaults(void)
{
	struct config_errors errs;
	struct config *cfg;
	const struct config_app *app;

	cfg = load_ok(APP_OK, &errs);
	check_defaults(cfg);
	check_default_queue(cfg);
	CU_ASSERT_STRING_EQUAL(cfg->path, test_path);
	CU_ASSERT_EQUAL_FATAL(cfg->napps, 1);
	app = &cfg->apps[0];
	CU_ASSERT_STRING_EQUAL(app->id, "a");
	CU_ASSERT_STRING_EQUAL(app->key, "key-aaaa-0001");
	CU_ASSERT_STRING_EQUAL(app->secret, "secret-aaaa-aaaa-0001");
	CU_ASSERT_EQUAL(app->origins.count, 0);
	CU_ASSERT_PTR_NULL(app->default_channel);
	CU_ASSERT_EQUAL(app->publish_channels.count, 0);
	/* Nothing is readable without auth unless the config says so. */
	CU_ASSERT_EQUAL(app->public_channels.count, 0);
	CU_ASSERT_FALSE(app_is_public(app, "events"));
	CU_ASSERT_EQUAL(app->max_connections, CONFIG_APP_MAX_CONNECTIONS);
	unload(cfg, &errs);
}

static void
TEST_shipped_conf_loads(void)
{
	struct config_errors errs = { NULL, 0 };
	struct config *cfg = NULL;
	const struct config_app *app;
	size_t i;

	CU_ASSERT_EQUAL(config_load(TEST_SRCDIR "/conf/sluiced.conf", &cfg,
	    &errs), 0);
	for (i = 0; i < errs.count; i++)
		fprintf(stderr, "\nunexpected: %s\n", errs.items[i]);
	CU_ASSERT_EQUAL(errs.count, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	/* The one server key not at its default: tools/dev's demo pages. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg->static_dir);
	CU_ASSERT_STRING_EQUAL(cfg->static_dir, "build/www");
	free(cfg->static_dir);
	cfg->static_dir = NULL;
	check_defaults(cfg);
	check_default_queue(cfg);
	CU_ASSERT_EQUAL_FATAL(cfg->napps, 1);
	app = &cfg->apps[0];
	CU_ASSERT_STRING_EQUAL(app->id, "demo");
	CU_ASSERT_STRING_EQUAL(app->key, "demo-key-0001");
	CU_ASSERT_STRING_EQUAL(app->secret, "demo-secret-change-me-0001");
	CU_ASSERT_EQUAL_FATAL(app->origins.count, 2);
	CU_ASSERT_STRING_EQUAL(app->origins.items[0], "http://localhost:8080");
	CU_ASSERT_STRING_EQUAL(app->origins.items[1], "http://127.0.0.1:8080");
	CU_ASSERT_STRING_EQUAL(app->default_channel, "events");
	CU_ASSERT_EQUAL_FATAL(app->publish_channels.count, 2);
	CU_ASSERT_STRING_EQUAL(app->publish_channels.items[0], "events");
	CU_ASSERT_STRING_EQUAL(app->publish_channels.items[1], "game-*");
	config_free(cfg);
	config_errors_free(&errs);
}

static void
TEST_every_key_set(void)
{
	struct config_errors errs;
	struct config *cfg;
	const struct config_app *app;

	cfg = load_ok(
	    "# a comment\n"
	    "[server]\n"
	    "http_listen = [::1]:9090\n"
	    "http_threads = 64\n"
	    "http_max_connections = 1000000\n"
	    "http_timeout = 3600\n"
	    "http_max_connections_per_client = 1000000\n"
	    "http_header_timeout = 3600\n"
	    "http_body_min_rate = 1G\n"
	    "trusted_proxies = 10.0.0.0/8, ::1\n"
	    "log_file = /var/log/sluiced.log\n"
	    "log_level = debug\n"
	    "shutdown_timeout = 0\n"
	    "static_dir = /srv/www\n"
	    "[limits]\n"
	    "max_event_bytes = 16M\n"
	    "max_request_bytes = 64mb\n"
	    "max_events_per_request = 100000\n"
	    "[journal]\n"
	    "dir = /srv/journal ; inline comment\n"
	    "max_bytes = 3g\n"
	    "segment_bytes = 1G\n"
	    "[amqp]\n"
	    "url = amqps://u:p@broker.example:5671/prod\n"
	    "exchange = ev:x_y-z.1\n"
	    "unrouted_exchange = ev.unrouted\n"
	    "routing_key = {app}.{{x}}.{event}\n"
	    "queue_type = quorum\n"
	    "heartbeat = 0\n"
	    "max_inflight = 65535\n"
	    "reconnect_min_ms = 60000\n"
	    "reconnect_max_ms = 600000\n"
	    "[websocket]\n"
	    "listen = *:9091\n"
	    "activity_timeout = 3600\n"
	    "pong_timeout = 1\n"
	    "max_message_bytes = 16M\n"
	    "max_subscriptions = 100000\n"
	    "send_queue_bytes = 1G\n"
	    "publish_rate = 10000000\n"
	    "publish_burst = 1\n"
	    "max_open_files = 200000\n"
	    "max_partial_bytes = 64G\n"
	    "inbox_frames = 100000000\n"
	    "[queue q1]\n"
	    "bind = a.* b.#,c\n"
	    "[queue q2]\n"
	    "[app shop]\n"
	    "key = shop_key-1234\n"
	    "secret = 0123456789abcdef\n"
	    "origins = *\n"
	    "default_channel = orders@eu\n"
	    "publish_channels = orders@* returns\n"
	    "public_channels = orders@* private-x\n"
	    "max_connections = 10000000\n"
	    "[loader]\n"
	    "queue = anything: the loader checks its own keys\n"
	    "batch = 1000\n", &errs);
	CU_ASSERT_STRING_EQUAL(cfg->http_listen, "[::1]:9090");
	CU_ASSERT_EQUAL(cfg->http_threads, 64);
	CU_ASSERT_EQUAL(cfg->http_max_connections, 1000000);
	CU_ASSERT_EQUAL(cfg->http_timeout_s, 3600);
	CU_ASSERT_EQUAL(cfg->trusted_proxies.count, 2);
	CU_ASSERT_TRUE(netaddr_list_contains(&cfg->trusted_proxies,
	    "10.9.8.7"));
	CU_ASSERT_TRUE(netaddr_list_contains(&cfg->trusted_proxies, "::1"));
	CU_ASSERT_STRING_EQUAL(cfg->log_file, "/var/log/sluiced.log");
	CU_ASSERT_EQUAL(cfg->log_level, LOG_LEVEL_DEBUG);
	CU_ASSERT_EQUAL(cfg->shutdown_timeout_s, 0);
	CU_ASSERT_STRING_EQUAL(cfg->static_dir, "/srv/www");
	CU_ASSERT_EQUAL(cfg->max_event_bytes, 16 << 20);
	CU_ASSERT_EQUAL(cfg->max_request_bytes, 64 << 20);
	CU_ASSERT_EQUAL(cfg->max_events_per_request, 100000);
	CU_ASSERT_STRING_EQUAL(cfg->journal_dir, "/srv/journal");
	CU_ASSERT_EQUAL(cfg->journal_max_bytes, UINT64_C(3) << 30);
	CU_ASSERT_EQUAL(cfg->journal_segment_bytes, UINT64_C(1) << 30);
	CU_ASSERT_STRING_EQUAL(cfg->amqp_url,
	    "amqps://u:p@broker.example:5671/prod");
	CU_ASSERT_STRING_EQUAL(cfg->exchange, "ev:x_y-z.1");
	CU_ASSERT_STRING_EQUAL(cfg->unrouted_exchange, "ev.unrouted");
	CU_ASSERT_STRING_EQUAL(cfg->routing_key, "{app}.{{x}}.{event}");
	CU_ASSERT_EQUAL(cfg->queue_type, CONFIG_QUEUE_QUORUM);
	CU_ASSERT_EQUAL(cfg->heartbeat_s, 0);
	CU_ASSERT_EQUAL(cfg->max_inflight, 65535);
	CU_ASSERT_EQUAL(cfg->reconnect_min_ms, 60000);
	CU_ASSERT_EQUAL(cfg->reconnect_max_ms, 600000);
	/* Given queues replace the default one; "bind" defaults to "#". */
	CU_ASSERT_EQUAL_FATAL(cfg->nqueues, 2);
	CU_ASSERT_STRING_EQUAL(cfg->queues[0].name, "q1");
	CU_ASSERT_EQUAL_FATAL(cfg->queues[0].bindings.count, 3);
	CU_ASSERT_STRING_EQUAL(cfg->queues[0].bindings.items[0], "a.*");
	CU_ASSERT_STRING_EQUAL(cfg->queues[0].bindings.items[1], "b.#");
	CU_ASSERT_STRING_EQUAL(cfg->queues[0].bindings.items[2], "c");
	CU_ASSERT_STRING_EQUAL(cfg->queues[1].name, "q2");
	CU_ASSERT_EQUAL_FATAL(cfg->queues[1].bindings.count, 1);
	CU_ASSERT_STRING_EQUAL(cfg->queues[1].bindings.items[0], "#");
	CU_ASSERT_EQUAL_FATAL(cfg->napps, 1);
	app = &cfg->apps[0];
	CU_ASSERT_STRING_EQUAL(app->id, "shop");
	CU_ASSERT_STRING_EQUAL(app->default_channel, "orders@eu");
	CU_ASSERT_EQUAL(app->publish_channels.count, 2);
	CU_ASSERT_EQUAL(app->public_channels.count, 2);
	CU_ASSERT_TRUE(app_is_public(app, "orders@us"));
	CU_ASSERT_TRUE(app_is_public(app, "private-x"));
	CU_ASSERT_FALSE(app_is_public(app, "returns"));
	CU_ASSERT_FALSE(app_is_public(app, NULL));
	CU_ASSERT_EQUAL(app->max_connections, 10000000);
	CU_ASSERT_STRING_EQUAL(cfg->ws_listen, "*:9091");
	CU_ASSERT_EQUAL(cfg->ws_activity_timeout_s, 3600);
	CU_ASSERT_EQUAL(cfg->ws_pong_timeout_s, 1);
	CU_ASSERT_EQUAL(cfg->ws_max_message_bytes, 16 << 20);
	CU_ASSERT_EQUAL(cfg->ws_max_subscriptions, 100000);
	CU_ASSERT_EQUAL(cfg->ws_send_queue_bytes, UINT64_C(1) << 30);
	CU_ASSERT_EQUAL(cfg->ws_publish_rate, 10000000);
	CU_ASSERT_EQUAL(cfg->ws_publish_burst, 1);
	CU_ASSERT_EQUAL(cfg->ws_max_open_files, 200000);
	CU_ASSERT_EQUAL(cfg->ws_max_partial_bytes, UINT64_C(64) << 30);
	CU_ASSERT_EQUAL(cfg->ws_inbox_frames, 100000000);
	CU_ASSERT_EQUAL(cfg->http_max_per_client, 1000000);
	CU_ASSERT_EQUAL(cfg->http_header_timeout_s, 3600);
	CU_ASSERT_EQUAL(cfg->http_body_min_rate, UINT64_C(1) << 30);
	unload(cfg, &errs);
}

static void
TEST_lists_continue_and_repeat(void)
{
	struct config_errors errs;
	struct config *cfg;
	const struct config_app *app;

	cfg = load_ok(
	    "[server]\n"
	    "trusted_proxies = 10.0.0.1\n"
	    "    10.0.0.2, 10.0.0.3\n"
	    "\n"
	    "  ; a comment between continuation lines\n"
	    "    ::1\n"
	    "trusted_proxies = 192.168.0.0/16\n"
	    "[app a]\n"
	    "key = key-aaaa-0001\n"
	    "secret = secret-aaaa-aaaa-0001\n"
	    "origins = https://a.example\n"
	    "\thttps://b.example:8443\n"
	    "origins = http://c.example\n"
	    "default_channel = events\n"
	    "publish_channels =\n"
	    "    events\n"
	    "    game-*\n", &errs);
	CU_ASSERT_EQUAL(cfg->trusted_proxies.count, 5);
	CU_ASSERT_TRUE(netaddr_list_contains(&cfg->trusted_proxies,
	    "10.0.0.3"));
	CU_ASSERT_TRUE(netaddr_list_contains(&cfg->trusted_proxies,
	    "192.168.7.7"));
	CU_ASSERT_TRUE(netaddr_list_contains(&cfg->trusted_proxies, "::1"));
	app = &cfg->apps[0];
	CU_ASSERT_EQUAL_FATAL(app->origins.count, 3);
	CU_ASSERT_STRING_EQUAL(app->origins.items[1], "https://b.example:8443");
	CU_ASSERT_STRING_EQUAL(app->origins.items[2], "http://c.example");
	CU_ASSERT_EQUAL_FATAL(app->publish_channels.count, 2);
	CU_ASSERT_STRING_EQUAL(app->publish_channels.items[1], "game-*");
	unload(cfg, &errs);
}

static void
TEST_unknown_section(void)
{
	CHECK_BAD(APP_OK "[sever]\nhttp_threads = 4\nbogus = 1\n", 1, 4,
	    "[sever]", "unknown section");
	CHECK_BAD("[server x]\n" APP_OK, 1, 1, "[server x]",
	    "unknown section");
	/* An empty unknown section is found too. */
	CHECK_BAD(APP_OK "\n[nothing here]\n", 1, 5, "[nothing here]",
	    "unknown section");
	CHECK_BAD("[Server]\n" APP_OK, 1, 1, "Server");
	/* sluice-loader's section is its own; a named one is not. */
	CHECK_BAD("[loader x]\nqueue = q\n" APP_OK, 1, 1, "[loader x]",
	    "unknown section");
}

static void
TEST_unknown_key(void)
{
	CHECK_BAD("[server]\nhttp_thread = 4\n" APP_OK, 1, 2, "http_thread",
	    "unknown key");
	CHECK_BAD(APP_OK "origin = *\n", 1, 4, "[app a] origin",
	    "unknown key");
	CHECK_BAD("[limits]\nhttp_threads = 4\n" APP_OK, 1, 2,
	    "[limits] http_threads", "unknown key");
	CHECK_BAD("http_threads = 4\n" APP_OK, 1, 1, "http_threads",
	    "outside any section");
}

static void
TEST_repeated_key(void)
{
	CHECK_BAD("[server]\nhttp_threads = 4\n\nhttp_threads = 8\n" APP_OK,
	    1, 4, "http_threads", "twice", "line 2");
	/* Also when the section is given again. */
	CHECK_BAD("[amqp]\nexchange = a\n" APP_OK "[amqp]\nexchange = b\n", 1,
	    7, "exchange", "twice");
	CHECK_BAD(APP_OK "secret = secret-bbbb-bbbb-0002\n", 1, 4, "secret",
	    "twice");
	/* An indented line would continue a single value. */
	CHECK_BAD("[journal]\ndir = /a\n  /b\n" APP_OK, 1, 3, "dir",
	    "single value");
}

static void
TEST_bad_numbers(void)
{
	CHECK_BAD("[server]\nhttp_threads = four\n" APP_OK, 1, 2,
	    "http_threads", "\"four\" is not a number");
	CHECK_BAD("[server]\nhttp_threads = -1\n" APP_OK, 1, 2,
	    "http_threads", "not a number");
	CHECK_BAD("[server]\nhttp_threads = +2\n" APP_OK, 1, 2,
	    "http_threads", "not a number");
	CHECK_BAD("[server]\nhttp_threads = 2x\n" APP_OK, 1, 2,
	    "http_threads", "not a number");
	CHECK_BAD("[server]\nhttp_threads =\n" APP_OK, 1, 2,
	    "http_threads", "not a number");
	CHECK_BAD("[server]\nhttp_threads = 0x10\n" APP_OK, 1, 2,
	    "http_threads", "not a number");
	CHECK_BAD("[server]\nhttp_threads = 99999999999999999999999\n" APP_OK,
	    1, 2, "http_threads", "not a number");
	CHECK_BAD("[amqp]\nheartbeat = 1.5\n" APP_OK, 1, 2, "heartbeat",
	    "not a number");
	CHECK_BAD("[limits]\nmax_events_per_request = 1K\n" APP_OK, 1, 2,
	    "max_events_per_request", "not a number");
}

/*
 * Checks key = value in section (followed by the line extra, if not NULL)
 * is refused as out of range, or accepted when range is NULL.
 */
static void
check_range(const char *section, const char *key, const char *value,
    const char *extra, const char *range)
{
	struct config_errors errs;
	struct config *cfg;
	char text[512];

	snprintf(text, sizeof text, "[%s]\n%s = %s\n%s\n" APP_OK, section, key,
	    value, extra != NULL ? extra : "");
	if (range != NULL) {
		CHECK_BAD(text, 1, 2, key, "out of range", range);
		return;
	}
	cfg = load_ok(text, &errs);
	unload(cfg, &errs);
}

static void
TEST_out_of_range(void)
{
	static const struct {
		const char *section, *key, *low, *high, *below, *above,
		    *range, *extra;
	} r[] = {
		{ "server", "http_threads", "1", "64", "0", "65", "1..64",
		    NULL },
		{ "server", "http_max_connections", "1", "1000000", "0",
		    "1000001", "1..1000000", NULL },
		{ "server", "http_timeout", "1", "3600", "0", "3601",
		    "1..3600", NULL },
		{ "server", "http_max_connections_per_client", "1", "1000000",
		    "0", "1000001", "1..1000000", NULL },
		{ "server", "http_header_timeout", "1", "3600", "0", "3601",
		    "1..3600", NULL },
		{ "server", "http_body_min_rate", "1", "1G", "0", "1025M",
		    "1..1G", NULL },
		{ "server", "shutdown_timeout", "0", "3600", NULL, "3601",
		    "0..3600", NULL },
		{ "limits", "max_event_bytes", "64", "16M", "63", "16385K",
		    "64..16M", "max_request_bytes = 64M\n[websocket]\n"
		    "send_queue_bytes = 128M" },
		{ "limits", "max_request_bytes", "1K", "64M", "1023", "65M",
		    "1K..64M", "max_event_bytes = 64\n[websocket]\n"
		    "send_queue_bytes = 128M" },
		{ "limits", "max_events_per_request", "1", "100000", "0",
		    "100001", "1..100000", NULL },
		{ "journal", "segment_bytes", "64K", "1G", "65535", "2G",
		    "64K..1G", "max_bytes = 2G" },
		{ "journal", "max_bytes", "128K", "16777216G", "127K", NULL,
		    "at least 128K", "segment_bytes = 64K" },
		{ "amqp", "heartbeat", "0", "600", NULL, "601", "0..600",
		    NULL },
		{ "amqp", "max_inflight", "1", "65535", "0", "65536",
		    "1..65535", NULL },
		{ "amqp", "reconnect_min_ms", "10", "60000", "9", "60001",
		    "10..60000", "reconnect_max_ms = 60000" },
		{ "amqp", "reconnect_max_ms", "10", "600000", "9", "600001",
		    "10..600000", "reconnect_min_ms = 10" },
		{ "websocket", "activity_timeout", "1", "3600", "0", "3601",
		    "1..3600", NULL },
		{ "websocket", "pong_timeout", "1", "600", "0", "601",
		    "1..600", NULL },
		{ "websocket", "max_message_bytes", "256", "16M", "255",
		    "16385K", "256..16M", NULL },
		{ "websocket", "max_subscriptions", "1", "100000", "0",
		    "100001", "1..100000", NULL },
		{ "websocket", "send_queue_bytes", "4K", "1G", "4095", "2G",
		    "4K..1G", "[limits]\nmax_request_bytes = 2K\n"
		    "max_event_bytes = 64" },
		{ "websocket", "publish_rate", "1", "10000000", "0",
		    "10000001", "1..10000000", NULL },
		{ "websocket", "publish_burst", "1", "10000000", "0",
		    "10000001", "1..10000000", NULL },
		{ "websocket", "max_open_files", "0", "100000000", NULL,
		    "100000001", "0..100000000", NULL },
		{ "websocket", "max_partial_bytes", "64K", "64G", "65535",
		    "65G", "64K..64G", NULL },
		{ "websocket", "inbox_frames", "16", "100000000", "15",
		    "100000001", "16..100000000", NULL },
	};
	size_t i;

	for (i = 0; i < SLUICE_ARRAY_LEN(r); i++) {
		check_range(r[i].section, r[i].key, r[i].low, r[i].extra, NULL);
		check_range(r[i].section, r[i].key, r[i].high, r[i].extra,
		    NULL);
		if (r[i].below != NULL)
			check_range(r[i].section, r[i].key, r[i].below,
			    r[i].extra, r[i].range);
		if (r[i].above != NULL)
			check_range(r[i].section, r[i].key, r[i].above,
			    r[i].extra, r[i].range);
	}
}

static void
TEST_cross_checks(void)
{
	/* The line is that of the later of the two keys. */
	CHECK_BAD("[limits]\nmax_request_bytes = 4K\n\nmax_event_bytes = 8K\n"
	    APP_OK, 1, 4, "max_request_bytes (4K)", "max_event_bytes (8K)");
	CHECK_BAD("[limits]\nmax_event_bytes = 1M\n" APP_OK, 1, 2,
	    "max_request_bytes (512K)", "at least max_event_bytes (1M)");
	CHECK_BAD("[journal]\nsegment_bytes = 1G\n" APP_OK, 1, 2,
	    "max_bytes (1G)", "twice segment_bytes (1G)");
	CHECK_BAD("[journal]\nmax_bytes = 100M\n" APP_OK, 1, 2,
	    "max_bytes (100M)", "segment_bytes (64M)");
	CHECK_BAD("[amqp]\nreconnect_max_ms = 50\n" APP_OK, 1, 2,
	    "reconnect_max_ms (50)", "reconnect_min_ms (100)");
	CHECK_BAD("[amqp]\nunrouted_exchange = sluice.events\n" APP_OK, 1, 2,
	    "unrouted_exchange", "differ from exchange");
	CHECK_BAD(APP_OK "[queue sluice.unrouted]\n", 1, 4,
	    "[queue sluice.unrouted]", "unrouted_exchange");
	CHECK_BAD("[websocket]\nlisten = 127.0.0.1:8080\n" APP_OK, 1, 2,
	    "[websocket] listen", "differ from [server] http_listen");
	/* The later of the two lines, across sections. */
	CHECK_BAD("[websocket]\nsend_queue_bytes = 1M\n[limits]\n"
	    "max_request_bytes = 1M\n" APP_OK, 1, 4, "send_queue_bytes (1M)",
	    "twice [limits] max_request_bytes (1M)");
	CHECK_BAD("[limits]\nmax_request_bytes = 2M\n" APP_OK, 1, 2,
	    "send_queue_bytes (2M)", "max_request_bytes (2M)");
	CHECK_BAD("[websocket]\nmax_message_bytes = 1M\n"
	    "max_partial_bytes = 512K\n" APP_OK, 1, 3,
	    "max_partial_bytes (512K)", "at least max_message_bytes (1M)");
	check_range("websocket", "max_partial_bytes", "1M",
	    "max_message_bytes = 1M", NULL);
	check_range("websocket", "send_queue_bytes", "1M", NULL, NULL);
	check_range("journal", "max_bytes", "128M", NULL, NULL);
	check_range("limits", "max_request_bytes", "32K", NULL, NULL);
}

static void
TEST_bad_sizes_and_enums(void)
{
	CHECK_BAD("[limits]\nmax_event_bytes = 32Q\n" APP_OK, 1, 2,
	    "max_event_bytes", "\"32Q\" is not a size");
	CHECK_BAD("[limits]\nmax_event_bytes = -1K\n" APP_OK, 1, 2,
	    "max_event_bytes", "not a size");
	CHECK_BAD("[limits]\nmax_event_bytes =\n" APP_OK, 1, 2,
	    "max_event_bytes", "not a size");
	CHECK_BAD("[journal]\nmax_bytes = 99999999999G\n" APP_OK, 1, 2,
	    "max_bytes", "not a size");
	CHECK_BAD("[server]\nlog_level = verbose\n" APP_OK, 1, 2, "log_level",
	    "\"verbose\" is not a log level");
	CHECK_BAD("[amqp]\nqueue_type = stream\n" APP_OK, 1, 2, "queue_type",
	    "\"stream\" is not a queue type");
}

static void
TEST_bad_strings(void)
{
	CHECK_BAD("[server]\nhttp_listen = 8080\n" APP_OK, 1, 2,
	    "http_listen", "host:port");
	CHECK_BAD("[server]\nhttp_listen = ::1:8080\n" APP_OK, 1, 2,
	    "http_listen", "brackets");
	CHECK_BAD("[server]\nhttp_listen = [::g]:8080\n" APP_OK, 1, 2,
	    "http_listen", "not an IPv6 address");
	CHECK_BAD("[server]\nhttp_listen = *:0\n" APP_OK, 1, 2,
	    "http_listen", "not a port");
	CHECK_BAD("[server]\nhttp_listen = *:65536\n" APP_OK, 1, 2,
	    "http_listen", "not a port");
	CHECK_BAD("[server]\nhttp_listen = local_host:80\n" APP_OK, 1, 2,
	    "http_listen", "not a host");
	CHECK_BAD("[server]\ntrusted_proxies = 10.0.0.0/8 proxy.lan\n" APP_OK,
	    1, 2, "trusted_proxies", "proxy.lan");
	CHECK_BAD("[journal]\ndir =\n" APP_OK, 1, 2, "dir", "empty");
	CHECK_BAD("[amqp]\nurl = http://x/\n" APP_OK, 1, 2, "url",
	    "not an AMQP URL");
	CHECK_BAD("[amqp]\nurl =\n" APP_OK, 1, 2, "url", "not an AMQP URL");
	CHECK_BAD("[amqp]\nrouting_key = {channel}.{evt}\n" APP_OK, 1, 2,
	    "routing_key", "{evt}");
	CHECK_BAD("[amqp]\nrouting_key = {channel\n" APP_OK, 1, 2,
	    "routing_key", "unclosed");
	CHECK_BAD("[amqp]\nrouting_key =\n" APP_OK, 1, 2, "routing_key",
	    "empty");
	check_range("server", "http_listen", "*:80", NULL, NULL);
	check_range("server", "http_listen", "localhost:8080", NULL, NULL);
	check_range("server", "http_listen", "0.0.0.0:65535", NULL, NULL);
	check_range("server", "log_file", "", NULL, NULL);
}

static void
TEST_exchange_names(void)
{
	char text[1024], name[300];

	CHECK_BAD("[amqp]\nexchange =\n" APP_OK, 1, 2, "exchange", "empty");
	CHECK_BAD("[amqp]\nunrouted_exchange =\n" APP_OK, 1, 2,
	    "unrouted_exchange", "empty");
	CHECK_BAD("[amqp]\nexchange = my exchange\n" APP_OK, 1, 2,
	    "exchange", "not a valid name");
	CHECK_BAD("[amqp]\nexchange = ev/1\n" APP_OK, 1, 2, "exchange",
	    "not a valid name");
	CHECK_BAD("[amqp]\nexchange = amq.topic\n" APP_OK, 1, 2, "exchange",
	    "reserved");
	CHECK_BAD("[amqp]\nexchange = ev\n  more\n" APP_OK, 1, 3, "exchange",
	    "single value");
	/* A 255-character name does not fit on a line. */
	memset(name, 'x', 190);
	name[190] = '\0';
	snprintf(text, sizeof text, "[amqp]\nexchange = %s\n" APP_OK, name);
	CHECK_BAD(text, 1, 2, "longer than 198");
	CHECK_BAD(APP_OK "[queue bad name!]\n", 1, 4, "[queue bad name!]",
	    "not a valid name");
	CHECK_BAD(APP_OK "[queue amq.q]\n", 1, 4, "reserved");
}

static void
TEST_nameless_sections(void)
{
	CHECK_BAD("[app]\nkey = key-bbbb-0002\nsecret = 0123456789abcdef\n"
	    APP_OK, 1, 1, "[app]", "needs a name");
	CHECK_BAD(APP_OK "[queue]\nbind = #\n", 1, 4, "[queue]",
	    "needs a name");
	CHECK_BAD(APP_OK "[ queue  ]\n", 1, 4, "[queue]", "needs a name");
	CHECK_BAD(APP_OK "[app a/b]\n", 1, 4, "\"a/b\"", "app name");
}

static void
TEST_app_requirements(void)
{
	CHECK_BAD("[app x]\nsecret = 0123456789abcdef\n", 1, 1, "[app x]",
	    "key is required");
	CHECK_BAD("[app x]\nkey = key-xxxx-0001\n", 1, 1, "[app x]",
	    "secret is required");
	/* An empty section is seen, and both are missing. */
	CHECK_BAD(APP_OK "[app y]\n", 2, 4, "[app y]", "secret is required");
	CHECK_BAD(APP_OK "[app y]\n", 2, 4, "[app y]", "key is required");
	CHECK_BAD(APP_OK "[app b]\nkey = short/\nsecret = 0123456789abcdef\n",
	    1, 5, "key", "\"short/\" is not a valid key");
	CHECK_BAD(APP_OK "[app b]\nkey = key with space\n"
	    "secret = 0123456789abcdef\n", 1, 5, "[app b] key", "valid key");
	CHECK_BAD(APP_OK "[app b]\nkey = key-bbbb-0002\nsecret =\n", 1,
	    6, "[app b] secret", "must not be empty");
	CHECK_BAD(APP_OK "[app b]\nkey = key-aaaa-0001\n"
	    "secret = secret-bbbb-bbbb-0002\n", 1, 5, "[app b] key",
	    "already used by [app a]");
	CHECK_BAD(APP_OK "[app a]\n", 1, 4, "[app a]", "twice");
	CHECK_BAD(APP_OK "default_channel = bad/channel\n", 1, 4,
	    "default_channel", "not a channel name");
	CHECK_BAD(APP_OK "default_channel = events\n"
	    "publish_channels = game-*\n", 1, 4, "default_channel",
	    "not matched by publish_channels");
	CHECK_BAD(APP_OK "origins = http://ok.example http://x.example/\n", 1,
	    4, "origins", "\"http://x.example/\" is not an origin");
	CHECK_BAD(APP_OK "origins = localhost:8080\n", 1, 4, "origins",
	    "not an origin");
	/* No scheme at all: the check read past the value's end (ASan). */
	CHECK_BAD(APP_OK "origins = localhost\n", 1, 4, "origins",
	    "\"localhost\" is not an origin", "did you mean http://localhost");
	CHECK_BAD(APP_OK "origins = http://ok.example a\n", 1, 4, "origins",
	    "\"a\" is not an origin", "did you mean http://a?");
	CHECK_BAD(APP_OK "origins = http:/\n", 1, 4, "origins",
	    "\"http:/\" is not an origin (scheme");
	CHECK_BAD(APP_OK "publish_channels = a/b\n", 1, 4, "publish_channels",
	    "\"a/b\"");
	CHECK_BAD(APP_OK "public_channels = a/b\n", 1, 4, "public_channels",
	    "\"a/b\"");
	CHECK_BAD(APP_OK "max_connections = 0\n", 1, 4, "max_connections",
	    "out of range");
	CHECK_BAD(APP_OK "[queue q]\nbind =\n", 1, 5, "bind", "no value");
}

/* Keys and secrets follow Pusher's rules: any key of the allowed
 * characters, any secret but an empty one, a short one warned of. */
static void
TEST_app_key_and_secret_rules(void)
{
	static const char *const bad_keys[] = { "a/b", "a b", "a?b", "a%20",
	    "a:b", "a\"b", "k\xc3\xa9", "a.b" };
	struct config_errors errs;
	struct config *cfg;
	char text[512], key[CONFIG_APP_KEY_MAX + 2], prefix[4300];
	size_t i;

	/* soketi's test app loads, with a warning for its secret. */
	cfg = load_ok("[app soketi]\n"	/* 1 */
	    "key = app-key\n"			/* 2 */
	    "secret = app-secret\n"		/* 3 */
	    "[app one]\n"			/* 4 */
	    "key = k\n"				/* 5 */
	    "secret = x\n"			/* 6 */
	    "[app sixteen]\n"			/* 7 */
	    "key = A_Z-09\n"			/* 8 */
	    "secret = 0123456789abcdef\n", &errs);	/* 9 */
	CU_ASSERT_EQUAL_FATAL(cfg->napps, 3);
	CU_ASSERT_STRING_EQUAL(cfg->apps[0].key, "app-key");
	CU_ASSERT_STRING_EQUAL(cfg->apps[0].secret, "app-secret");
	CU_ASSERT_STRING_EQUAL(cfg->apps[1].key, "k");
	CU_ASSERT_STRING_EQUAL(cfg->apps[1].secret, "x");
	CU_ASSERT_STRING_EQUAL(cfg->apps[2].key, "A_Z-09");
	/* One warning a short secret, with its line; none at 16. */
	CU_ASSERT_EQUAL(cfg->warnings.count, 2);
	CU_ASSERT_TRUE(has_error(&cfg->warnings, 3, "[app soketi] secret",
	    "only 10 characters", "shorter than 16", NULL));
	CU_ASSERT_TRUE(has_error(&cfg->warnings, 6, "[app one] secret",
	    "only 1 characters", NULL));
	/* The secret itself is never quoted. */
	snprintf(prefix, sizeof prefix, "%s:3: ", test_path);
	for (i = 0; i < cfg->warnings.count; i++)
		CU_ASSERT_PTR_NULL(strstr(cfg->warnings.items[i] +
		    strlen(prefix), "app-secret"));
	unload(cfg, &errs);

	/* The longest key, and one past it. */
	memset(key, 'k', CONFIG_APP_KEY_MAX);
	key[CONFIG_APP_KEY_MAX] = '\0';
	snprintf(text, sizeof text, "[app a]\nkey = %s\nsecret = "
	    "0123456789abcdef\n", key);
	cfg = load_ok(text, &errs);
	CU_ASSERT_EQUAL(strlen(cfg->apps[0].key), CONFIG_APP_KEY_MAX);
	CU_ASSERT_EQUAL(cfg->warnings.count, 0);
	unload(cfg, &errs);
	key[CONFIG_APP_KEY_MAX] = 'k';
	key[CONFIG_APP_KEY_MAX + 1] = '\0';
	snprintf(text, sizeof text, "[app a]\nkey = %s\nsecret = "
	    "0123456789abcdef\n", key);
	CHECK_BAD(text, 1, 2, "[app a] key", "1..128 characters");

	/* Characters unsafe in a URL's path or a header stay refused. */
	for (i = 0; i < SLUICE_ARRAY_LEN(bad_keys); i++) {
		snprintf(text, sizeof text, "[app a]\nkey = %s\nsecret = "
		    "0123456789abcdef\n", bad_keys[i]);
		CHECK_BAD(text, 1, 2, "[app a] key", "is not a valid key");
	}
	/* An empty key is no key. */
	CHECK_BAD("[app a]\nkey =\nsecret = 0123456789abcdef\n", 1, 2,
	    "[app a] key", "is not a valid key");
}

/* enabled = no is read; an app is enabled by default. */
static void
TEST_app_enabled(void)
{
	struct config_errors errs;
	struct config *cfg;

	cfg = load_ok(APP_OK "[app b]\nkey = key-bbbb-0002\n"
	    "secret = secret-bbbb-bbbb-0002\nenabled = no\n", &errs);
	CU_ASSERT_EQUAL_FATAL(cfg->napps, 2);
	CU_ASSERT_EQUAL(cfg->apps[0].enabled, 1);
	CU_ASSERT_EQUAL(cfg->apps[1].enabled, 0);
	unload(cfg, &errs);
	CHECK_BAD(APP_OK "enabled = maybe\n", 1, 4, "enabled");
}

static void
TEST_no_app_section(void)
{
	CHECK_BAD("", 1, 0, "no [app NAME] section");
	CHECK_BAD("[server]\nhttp_threads = 3\n", 1, 0, "at least one app");
}

static void
TEST_syntax_errors(void)
{
	CHECK_BAD("[server]\nhttp_threads 4\n" APP_OK, 1, 2, "expected");
	CHECK_BAD("[server\nhttp_threads = 4\n" APP_OK, 1, 1, "without \"]\"");
	CHECK_BAD("[server] junk\n" APP_OK, 1, 1, "after");
	CHECK_BAD("[server]\n\xef\xbb\xbfhttp_threads = 4\n" APP_OK, 1, 2,
	    "unknown key");
	CHECK_BAD("[queue q]\nbind = #\n  [queue r]\nbind = x\n" APP_OK, 1, 3,
	    "\"[queue r]\"", "must start its line");
}

static void
TEST_multiple_errors_collected(void)
{
	struct config_errors errs;
	struct config *cfg = NULL;

	CU_ASSERT_EQUAL(load_text(
	    "[server]\n"			/* 1 */
	    "http_threads = 0\n"		/* 2 */
	    "nonsense = 1\n"			/* 3 */
	    "[limits]\n"			/* 4 */
	    "max_event_bytes = lots\n"		/* 5 */
	    "no equals sign\n"			/* 6 */
	    "[bogus]\n"				/* 7 */
	    "anything = goes\n"			/* 8 */
	    "[app one]\n"			/* 9 */
	    "key = key-1111-0001\n"		/* 10 */
	    "[app two]\n"			/* 11 */
	    "key = key-1111-0001\n"		/* 12 */
	    "secret = 0123456789abcdef\n"	/* 13 */
	    "[amqp]\n"				/* 14 */
	    "queue_type = fast\n",		/* 15 */
	    &cfg, &errs), -1);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL(errs.count, 8);
	CU_ASSERT_TRUE(has_error(&errs, 2, "http_threads", NULL));
	CU_ASSERT_TRUE(has_error(&errs, 3, "nonsense", NULL));
	CU_ASSERT_TRUE(has_error(&errs, 5, "max_event_bytes", NULL));
	CU_ASSERT_TRUE(has_error(&errs, 6, "expected", NULL));
	CU_ASSERT_TRUE(has_error(&errs, 7, "bogus", NULL));
	CU_ASSERT_TRUE(has_error(&errs, 9, "[app one]", "secret", NULL));
	CU_ASSERT_TRUE(has_error(&errs, 12, "[app two] key", "[app one]",
	    NULL));
	CU_ASSERT_TRUE(has_error(&errs, 15, "queue_type", NULL));
	unload(NULL, &errs);
}

static void
TEST_long_lines(void)
{
	struct config_errors errs;
	struct config *cfg;
	char text[4096], origins[600];
	size_t i;

	/* A pair longer than libinih's line is refused, with its line. */
	for (i = 0; i + 24 < 400; i += 24)
		memcpy(origins + i, "http://host.example:80  ", 24);
	origins[i] = '\0';
	snprintf(text, sizeof text, APP_OK "origins = %s\nsecret = x\n",
	    origins);
	CHECK_BAD(text, 2, 4, "longer than");
	/* The lines after it are still read. */
	CHECK_BAD(text, 2, 5, "twice");
	/* Comments and section names may be long. */
	memset(origins, 'c', 500);
	origins[500] = '\0';
	snprintf(text, sizeof text, "; %s\n" APP_OK "  # %s\n", origins,
	    origins);
	cfg = load_ok(text, &errs);
	unload(cfg, &errs);
}

static void
TEST_missing_file(void)
{
	struct config_errors errs = { NULL, 0 };
	struct config *cfg = (struct config *)&cfg;

	CU_ASSERT_EQUAL(config_load("/nonexistent/sluiced.conf", &cfg, &errs),
	    -1);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL_FATAL(errs.count, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(errs.items[0],
	    "/nonexistent/sluiced.conf: cannot open"));
	config_errors_free(&errs);
	CU_ASSERT_EQUAL(errs.count, 0);
	CU_ASSERT_PTR_NULL(errs.items);
}

static void
TEST_parse_size(void)
{
	static const struct {
		const char *text;
		uint64_t value;
	} good[] = {
		{ "0", 0 }, { "64", 64 }, { "1K", 1024 }, { "1k", 1024 },
		{ "1KB", 1024 }, { "1kb", 1024 }, { "100B", 100 },
		{ "64M", 64 << 20 }, { "64mB", 64 << 20 },
		{ "1G", UINT64_C(1) << 30 }, { "16g", UINT64_C(16) << 30 },
		{ "007", 7 },
		{ "17179869183G", UINT64_C(17179869183) << 30 },
		{ "18446744073709551615", UINT64_MAX },
	};
	static const char *const bad[] = {
		"", "K", "B", "-1", "-1K", "+1", " 1", "1 ", "1 K", "1KK",
		"1BK", "1T", "1.5M", "0x10", "1Kx", "17179869184G",
		"18446744073709551616", "99999999999999999999999",
	};
	uint64_t v;
	size_t i;

	for (i = 0; i < SLUICE_ARRAY_LEN(good); i++) {
		v = 12345;
		CU_ASSERT_EQUAL(config_parse_size(good[i].text, &v), 0);
		CU_ASSERT_EQUAL(v, good[i].value);
	}
	for (i = 0; i < SLUICE_ARRAY_LEN(bad); i++) {
		v = 12345;
		CU_ASSERT_EQUAL(config_parse_size(bad[i], &v), -1);
		CU_ASSERT_EQUAL(v, 12345);
	}
	CU_ASSERT_EQUAL(config_parse_size(NULL, &v), -1);
}

/* A file with two apps, for the lookups. */
static const char two_apps[] =
	"[app one]\n"
	"key = key-1111-0001\n"
	"secret = secret-1111-1111-0001\n"
	"origins = https://one.example http://localhost:3000\n"
	"default_channel = events\n"
	"[app two]\n"
	"key = key-2222-0002\n"
	"secret = secret-2222-2222-0002\n"
	"origins = *\n"
	"publish_channels = game-* chat-[ab] room-?\n";

/* Loads two_apps; *one and *two get its apps. Free with unload. */
static struct config *
load_two_apps(struct config_errors *errs, const struct config_app **one,
    const struct config_app **two)
{
	struct config *cfg;

	cfg = load_ok(two_apps, errs);
	CU_ASSERT_EQUAL_FATAL(cfg->napps, 2);
	*one = &cfg->apps[0];
	*two = &cfg->apps[1];
	return cfg;
}

static void
TEST_app_by_key(void)
{
	struct config_errors errs;
	struct app_registry *r;
	struct config *cfg;

	cfg = load_ok(two_apps, &errs);
	CU_ASSERT_EQUAL_FATAL(cfg->napps, 2);
	CU_ASSERT_EQUAL_FATAL(app_registry_new(cfg, &r), SLUICE_OK);
	CU_ASSERT_EQUAL(app_count(r), 2);
	CU_ASSERT_PTR_EQUAL(app_by_key(r, "key-1111-0001"), &cfg->apps[0]);
	CU_ASSERT_PTR_EQUAL(app_by_key(r, "key-2222-0002"), &cfg->apps[1]);
	CU_ASSERT_PTR_NULL(app_by_key(r, "key-3333-0003"));
	CU_ASSERT_PTR_NULL(app_by_key(r, "key-1111-000"));
	CU_ASSERT_PTR_NULL(app_by_key(r, "KEY-1111-0001"));
	CU_ASSERT_PTR_NULL(app_by_key(r, ""));
	CU_ASSERT_PTR_NULL(app_by_key(r, NULL));
	/* The app's secret is not a key, nor its id. */
	CU_ASSERT_PTR_NULL(app_by_key(r, "secret-1111-1111-0001"));
	CU_ASSERT_PTR_NULL(app_by_key(r, cfg->apps[0].id));
	/* By id and by index, and back. */
	CU_ASSERT_PTR_EQUAL(app_by_id(r, cfg->apps[1].id), &cfg->apps[1]);
	CU_ASSERT_PTR_EQUAL(app_by_id(r, cfg->apps[0].id), &cfg->apps[0]);
	CU_ASSERT_PTR_NULL(app_by_id(r, "nosuchapp"));
	CU_ASSERT_PTR_NULL(app_by_id(r, NULL));
	CU_ASSERT_PTR_EQUAL(app_by_index(r, 0), &cfg->apps[0]);
	CU_ASSERT_PTR_EQUAL(app_by_index(r, 1), &cfg->apps[1]);
	CU_ASSERT_PTR_NULL(app_by_index(r, 2));
	CU_ASSERT_EQUAL(app_index(r, &cfg->apps[1]), 1);
	app_registry_free(r);
	unload(cfg, &errs);
}

/* Many apps: every one is found by key and by id through the tables. */
static void
TEST_app_registry_many(void)
{
	struct config_errors errs;
	struct app_registry *r;
	struct config *cfg;
	char *text, *p, key[64], id[32];
	size_t i, n = 300;

	text = malloc(n * 200 + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	p = text;
	for (i = 0; i < n; i++)
		p += sprintf(p, "[app a%zu]\nkey = key-%06zu-abcdef\n"
		    "secret = secret-%06zu-0123456789\norigins = *\n"
		    "publish_channels = *\n", i, i, i);
	cfg = load_ok(text, &errs);
	CU_ASSERT_EQUAL_FATAL(cfg->napps, n);
	CU_ASSERT_EQUAL_FATAL(app_registry_new(cfg, &r), SLUICE_OK);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof key, "key-%06zu-abcdef", i);
		snprintf(id, sizeof id, "a%zu", i);
		CU_ASSERT_PTR_EQUAL(app_by_key(r, key), &cfg->apps[i]);
		CU_ASSERT_PTR_EQUAL(app_by_id(r, id), &cfg->apps[i]);
		CU_ASSERT_EQUAL(app_index(r, app_by_id(r, id)), i);
	}
	CU_ASSERT_PTR_NULL(app_by_key(r, "key-000300-abcdef"));
	app_registry_free(r);
	unload(cfg, &errs);
	free(text);
}

static void
TEST_origins(void)
{
	struct config_errors errs;
	struct config *cfg;
	const struct config_app *one, *two;

	cfg = load_two_apps(&errs, &one, &two);
	CU_ASSERT_TRUE(app_origin_allowed(one, "https://one.example"));
	CU_ASSERT_TRUE(app_origin_allowed(one,
	    "http://localhost:3000"));
	CU_ASSERT_FALSE(app_origin_allowed(one, "http://one.example"));
	CU_ASSERT_FALSE(app_origin_allowed(one,
	    "https://one.example:443"));
	CU_ASSERT_FALSE(app_origin_allowed(one,
	    "https://one.example.evil"));
	CU_ASSERT_FALSE(app_origin_allowed(one, "http://localhost"));
	CU_ASSERT_FALSE(app_origin_allowed(one, "null"));
	CU_ASSERT_FALSE(app_origin_allowed(one, ""));
	CU_ASSERT_FALSE(app_origin_allowed(one, NULL));
	CU_ASSERT_TRUE(app_origin_allowed(two, "https://any.example"));
	CU_ASSERT_TRUE(app_origin_allowed(two, "null"));
	CU_ASSERT_FALSE(app_origin_allowed(two, NULL));
	unload(cfg, &errs);
}

static void
TEST_publish_patterns(void)
{
	struct config_errors errs;
	struct config *cfg;
	const struct config_app *one, *two;

	cfg = load_two_apps(&errs, &one, &two);
	/* Without publish_channels, only the default channel. */
	CU_ASSERT_EQUAL_FATAL(one->publish_channels.count, 1);
	CU_ASSERT_STRING_EQUAL(one->publish_channels.items[0], "events");
	CU_ASSERT_TRUE(app_may_publish(one, "events"));
	CU_ASSERT_FALSE(app_may_publish(one, "events2"));
	CU_ASSERT_FALSE(app_may_publish(one, "game-1"));
	CU_ASSERT_FALSE(app_may_publish(one, NULL));
	CU_ASSERT_TRUE(app_may_publish(two, "game-1"));
	CU_ASSERT_TRUE(app_may_publish(two, "game-"));
	CU_ASSERT_FALSE(app_may_publish(two, "game"));
	CU_ASSERT_TRUE(app_may_publish(two, "chat-a"));
	CU_ASSERT_TRUE(app_may_publish(two, "chat-b"));
	CU_ASSERT_FALSE(app_may_publish(two, "chat-c"));
	CU_ASSERT_TRUE(app_may_publish(two, "room-7"));
	CU_ASSERT_FALSE(app_may_publish(two, "room-77"));
	CU_ASSERT_FALSE(app_may_publish(two, "events"));
	unload(cfg, &errs);
}

static void
TEST_no_publish_channels(void)
{
	struct config_errors errs;
	struct config *cfg;

	/* Neither a default channel nor patterns: nothing may be published. */
	cfg = load_ok(APP_OK, &errs);
	CU_ASSERT_FALSE(app_may_publish(&cfg->apps[0], "events"));
	unload(cfg, &errs);
	cfg = load_ok(APP_OK "publish_channels =\n", &errs);
	CU_ASSERT_EQUAL(cfg->apps[0].publish_channels.count, 0);
	CU_ASSERT_FALSE(app_may_publish(&cfg->apps[0], "events"));
	unload(cfg, &errs);
	/* An explicit empty list must still allow the default channel. */
	CHECK_BAD(APP_OK "default_channel = events\npublish_channels =\n", 1,
	    4, "default_channel", "not matched");
}

void
test_config_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_defaults", TEST_defaults },
		{ "TEST_file_with_one_app_gets_defaults",
		    TEST_file_with_one_app_gets_defaults },
		{ "TEST_shipped_conf_loads", TEST_shipped_conf_loads },
		{ "TEST_every_key_set", TEST_every_key_set },
		{ "TEST_lists_continue_and_repeat",
		    TEST_lists_continue_and_repeat },
		{ "TEST_unknown_section", TEST_unknown_section },
		{ "TEST_unknown_key", TEST_unknown_key },
		{ "TEST_repeated_key", TEST_repeated_key },
		{ "TEST_bad_numbers", TEST_bad_numbers },
		{ "TEST_out_of_range", TEST_out_of_range },
		{ "TEST_cross_checks", TEST_cross_checks },
		{ "TEST_bad_sizes_and_enums", TEST_bad_sizes_and_enums },
		{ "TEST_bad_strings", TEST_bad_strings },
		{ "TEST_exchange_names", TEST_exchange_names },
		{ "TEST_nameless_sections", TEST_nameless_sections },
		{ "TEST_app_requirements", TEST_app_requirements },
		{ "TEST_app_key_and_secret_rules",
		    TEST_app_key_and_secret_rules },
		{ "TEST_app_enabled", TEST_app_enabled },
		{ "TEST_no_app_section", TEST_no_app_section },
		{ "TEST_syntax_errors", TEST_syntax_errors },
		{ "TEST_multiple_errors_collected",
		    TEST_multiple_errors_collected },
		{ "TEST_long_lines", TEST_long_lines },
		{ "TEST_missing_file", TEST_missing_file },
		{ "TEST_parse_size", TEST_parse_size },
		{ "TEST_app_by_key", TEST_app_by_key },
		{ "TEST_app_registry_many", TEST_app_registry_many },
		{ "TEST_origins", TEST_origins },
		{ "TEST_publish_patterns", TEST_publish_patterns },
		{ "TEST_no_publish_channels", TEST_no_publish_channels },
		{ NULL, NULL }
	};

	unit_add_suite("config", tests);
}
