/*
 * test_loader_config.c: sluice-loader's configuration: the defaults, the
 * shipped file, a [loader] section among sluiced's own sections, [amqp] url
 * and queue_type as defaults, flags over the file, and every kind of
 * error with its file:line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "loader/loader_config.h"

#ifndef TEST_SRCDIR
#define TEST_SRCDIR "."
#endif

static char test_dir[4096];
static char test_path[4200];

/* Writes text to a scratch file; returns its path. */
static const char *
write_file(const char *text)
{
	FILE *f;

	snprintf(test_dir, sizeof test_dir, "%s", unit_tmpdir());
	snprintf(test_path, sizeof test_path, "%s/loader.conf", test_dir);
	f = fopen(test_path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	return test_path;
}

/* Loads text and finishes; returns 0 or -1, errors in errs. */
static int
load(const char *text, struct loader_config *c, struct config_errors *errs)
{
	int rc = 0;

	memset(errs, 0, sizeof *errs);
	CU_ASSERT_EQUAL_FATAL(loader_config_init(c), 0);
	if (loader_config_load(c, write_file(text), errs) == -1)
		rc = -1;
	if (loader_config_finish(c, errs) == -1)
		rc = -1;
	unit_rmtree(test_dir);
	return rc;
}

/* Loads text, which must be valid. */
static void
load_ok(const char *text, struct loader_config *c)
{
	struct config_errors errs;
	size_t i;

	CU_ASSERT_EQUAL(load(text, c, &errs), 0);
	for (i = 0; i < errs.count; i++)
		fprintf(stderr, "\nunexpected: %s\n", errs.items[i]);
	config_errors_free(&errs);
}

/* Loads text, which must fail with one error containing want. */
static void
load_bad(const char *text, const char *want)
{
	struct loader_config c;
	struct config_errors errs;
	size_t i;
	int found = 0;

	CU_ASSERT_EQUAL(load(text, &c, &errs), -1);
	for (i = 0; i < errs.count; i++)
		if (strstr(errs.items[i], want) != NULL)
			found = 1;
	if (!found || errs.count != 1) {
		fprintf(stderr, "\nwanted one error with \"%s\", got:\n", want);
		for (i = 0; i < errs.count; i++)
			fprintf(stderr, "  %s\n", errs.items[i]);
	}
	CU_ASSERT(found);
	CU_ASSERT_EQUAL(errs.count, 1);
	config_errors_free(&errs);
	loader_config_free(&c);
}

static void
TEST_defaults(void)
{
	struct loader_config c;
	struct config_errors errs = { NULL, 0 };

	CU_ASSERT_EQUAL_FATAL(loader_config_init(&c), 0);
	CU_ASSERT_EQUAL(loader_config_finish(&c, &errs), 0);
	CU_ASSERT_STRING_EQUAL(c.amqp_url, "amqp://guest:guest@127.0.0.1:5672");
	CU_ASSERT_STRING_EQUAL(c.queue, "sluice.archive");
	CU_ASSERT_STRING_EQUAL(c.dead_letter_queue, "sluice.archive.dead");
	CU_ASSERT_EQUAL(c.quorum, 0);
	CU_ASSERT_STRING_EQUAL(c.postgres, "");
	CU_ASSERT_STRING_EQUAL(c.table, "events");
	CU_ASSERT_EQUAL(c.batch_size, 1000);
	CU_ASSERT_EQUAL(c.batch_ms, 1000);
	CU_ASSERT_EQUAL(c.prefetch, 4000);
	CU_ASSERT_EQUAL(c.heartbeat_s, 30);
	CU_ASSERT_EQUAL(c.reconnect_min_ms, 100);
	CU_ASSERT_EQUAL(c.reconnect_max_ms, 30000);
	CU_ASSERT_EQUAL(c.stats_interval_s, 10);
	CU_ASSERT_EQUAL(c.log_level, LOG_LEVEL_INFO);
	CU_ASSERT_EQUAL(errs.count, 0);
	loader_config_free(&c);
}

/* conf/sluiced.conf documents every key with its default. */
static void
TEST_shipped_file(void)
{
	struct loader_config c;
	struct config_errors errs = { NULL, 0 };
	size_t i;

	CU_ASSERT_EQUAL_FATAL(loader_config_init(&c), 0);
	CU_ASSERT_EQUAL(loader_config_load(&c, TEST_SRCDIR
	    "/conf/sluiced.conf", &errs), 0);
	CU_ASSERT_EQUAL(loader_config_finish(&c, &errs), 0);
	for (i = 0; i < errs.count; i++)
		fprintf(stderr, "\nshipped file: %s\n", errs.items[i]);
	CU_ASSERT_EQUAL(errs.count, 0);
	CU_ASSERT_STRING_EQUAL(c.amqp_url, "amqp://guest:guest@127.0.0.1:5672");
	CU_ASSERT_STRING_EQUAL(c.queue, "sluice.archive");
	CU_ASSERT_STRING_EQUAL(c.dead_letter_queue, "sluice.archive.dead");
	CU_ASSERT_EQUAL(c.batch_size, 1000);
	CU_ASSERT_EQUAL(c.batch_ms, 1000);
	CU_ASSERT_EQUAL(c.prefetch, 4000);
	CU_ASSERT_EQUAL(c.heartbeat_s, 30);
	CU_ASSERT_EQUAL(c.stats_interval_s, 10);
	config_errors_free(&errs);
	loader_config_free(&c);
}

static void
TEST_every_key(void)
{
	struct loader_config c;

	load_ok("[loader]\n"
	    "amqp_url = amqp://u:p@10.0.0.1:5673/vh\n"
	    "queue = q.one\n"
	    "dead_letter_queue = q.dead\n"
	    "queue_type = quorum\n"
	    "postgres = host=/tmp dbname=x user=y ; a comment\n"
	    "table = analytics.events_2\n"
	    "batch_size = 500\n"
	    "batch_ms = 250\n"
	    "prefetch = 600\n"
	    "heartbeat = 0\n"
	    "reconnect_min_ms = 10\n"
	    "reconnect_max_ms = 10\n"
	    "stats_interval = 0\n"
	    "log_level = debug\n", &c);
	CU_ASSERT_STRING_EQUAL(c.amqp_url, "amqp://u:p@10.0.0.1:5673/vh");
	CU_ASSERT_STRING_EQUAL(c.queue, "q.one");
	CU_ASSERT_STRING_EQUAL(c.dead_letter_queue, "q.dead");
	CU_ASSERT_EQUAL(c.quorum, 1);
	CU_ASSERT_STRING_EQUAL(c.postgres, "host=/tmp dbname=x user=y");
	CU_ASSERT_STRING_EQUAL(c.table, "analytics.events_2");
	CU_ASSERT_EQUAL(c.batch_size, 500);
	CU_ASSERT_EQUAL(c.batch_ms, 250);
	CU_ASSERT_EQUAL(c.prefetch, 600);
	CU_ASSERT_EQUAL(c.heartbeat_s, 0);
	CU_ASSERT_EQUAL(c.reconnect_min_ms, 10);
	CU_ASSERT_EQUAL(c.reconnect_max_ms, 10);
	CU_ASSERT_EQUAL(c.stats_interval_s, 0);
	CU_ASSERT_EQUAL(c.log_level, LOG_LEVEL_DEBUG);
	loader_config_free(&c);
}

/* sluiced's sections are skipped, [amqp] url and queue_type are taken. */
static void
TEST_among_sluiced_sections(void)
{
	struct loader_config c;

	load_ok("; sluiced's file\n"
	    "[server]\n"
	    "http_listen = 127.0.0.1:8080\n"
	    "trusted_proxies = 10.0.0.0/8\n"
	    "    192.168.0.0/16\n"
	    "[amqp]\n"
	    "url = amqp://a:b@broker:5672\n"
	    "queue_type = quorum\n"
	    "exchange = sluice.events\n"
	    "[queue sluice.archive]\n"
	    "bind = #\n"
	    "[app demo]\n"
	    "origins = http://a.example\n"
	    "  http://b.example\n"
	    "what = ever\n"
	    "[loader]\n"
	    "batch_size = 10\n"
	    "[websocket]\n"
	    "batch_size = not the loader's\n", &c);
	CU_ASSERT_STRING_EQUAL(c.amqp_url, "amqp://a:b@broker:5672");
	CU_ASSERT_EQUAL(c.quorum, 1);
	CU_ASSERT_EQUAL(c.batch_size, 10);
	CU_ASSERT_EQUAL(c.prefetch, 40);
	loader_config_free(&c);

	/* [loader] wins over [amqp], wherever it comes. */
	load_ok("[loader]\n"
	    "amqp_url = amqp://mine:x@here:1\n"
	    "queue_type = classic\n"
	    "[amqp]\n"
	    "url = amqp://a:b@broker:5672\n"
	    "queue_type = quorum\n", &c);
	CU_ASSERT_STRING_EQUAL(c.amqp_url, "amqp://mine:x@here:1");
	CU_ASSERT_EQUAL(c.quorum, 0);
	loader_config_free(&c);
}

static void
TEST_flags_win(void)
{
	struct loader_config c;
	struct config_errors errs = { NULL, 0 };
	char err[256];

	CU_ASSERT_EQUAL_FATAL(loader_config_init(&c), 0);
	CU_ASSERT_EQUAL(loader_config_load(&c, write_file("[loader]\n"
	    "queue = from.file\nbatch_size = 10\nprefetch = 10\n"), &errs), 0);
	unit_rmtree(test_dir);
	CU_ASSERT_EQUAL(loader_config_set(&c, "queue", "from.flag", err,
	    sizeof err), 0);
	CU_ASSERT_EQUAL(loader_config_set(&c, "batch_size", "5", err,
	    sizeof err), 0);
	CU_ASSERT_EQUAL(loader_config_set(&c, "postgres",
	    "postgresql://u@h:5/db", err, sizeof err), 0);
	CU_ASSERT_EQUAL(loader_config_set(&c, "batch_size", "0", err,
	    sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "from 1 to 65535"));
	CU_ASSERT_EQUAL(loader_config_set(&c, "nope", "1", err, sizeof err),
	    -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown key nope"));
	CU_ASSERT_EQUAL(loader_config_finish(&c, &errs), 0);
	CU_ASSERT_STRING_EQUAL(c.queue, "from.flag");
	CU_ASSERT_STRING_EQUAL(c.dead_letter_queue, "from.flag.dead");
	CU_ASSERT_EQUAL(c.batch_size, 5);
	CU_ASSERT_EQUAL(c.prefetch, 10);
	CU_ASSERT_STRING_EQUAL(c.postgres, "postgresql://u@h:5/db");
	CU_ASSERT_EQUAL(errs.count, 0);
	config_errors_free(&errs);
	loader_config_free(&c);
}

static void
TEST_derived(void)
{
	struct loader_config c;

	/* prefetch follows batch_size, up to the AMQP limit. */
	load_ok("[loader]\nbatch_size = 16383\n", &c);
	CU_ASSERT_EQUAL(c.prefetch, 65532);
	loader_config_free(&c);
	load_ok("[loader]\nbatch_size = 16384\n", &c);
	CU_ASSERT_EQUAL(c.prefetch, 65535);
	loader_config_free(&c);
	load_ok("[loader]\nbatch_size = 65535\n", &c);
	CU_ASSERT_EQUAL(c.prefetch, 65535);
	loader_config_free(&c);
	load_ok("[loader]\nqueue = other\n", &c);
	CU_ASSERT_STRING_EQUAL(c.dead_letter_queue, "other.dead");
	loader_config_free(&c);
	load_ok("[loader]\npostgres =\n", &c);
	CU_ASSERT_STRING_EQUAL(c.postgres, "");
	loader_config_free(&c);
}

static void
TEST_errors(void)
{
	load_bad("[loader]\nbogus = 1\n", "loader.conf:2: [loader]: unknown "
	    "key \"bogus\"");
	load_bad("[loader]\nbatch_size = 0\n", ":2: [loader] batch_size: must "
	    "be a number from 1 to 65535");
	load_bad("[loader]\nbatch_size = 10x\n", ":2: [loader] batch_size");
	load_bad("[loader]\nbatch_ms = -1\n", ":2: [loader] batch_ms");
	load_bad("[loader]\nheartbeat = 601\n", ":2: [loader] heartbeat");
	load_bad("\n[loader]\nqueue = a\n\nqueue = b\n", ":5: [loader] queue: "
	    "given twice (first on line 3)");
	load_bad("[loader]\nqueue = bad name\n", ":2: [loader] queue: must be "
	    "1 to 255 characters");
	load_bad("[loader]\nqueue =\n", ":2: [loader] queue: must not be "
	    "empty");
	load_bad("[loader]\nqueue = amq.x\n", "the broker's");
	load_bad("[loader]\nqueue_type = stream\n", "classic or quorum");
	load_bad("[loader]\nlog_level = loud\n", "debug, info, warn or error");
	load_bad("[loader]\namqp_url = http://x\n", ":2: [loader] amqp_url: "
	    "not an AMQP URL");
	/* amqps:// is taken; its parameters are checked. */
	load_bad("[loader]\namqp_url = amqps://h:5671?verify=maybe\n",
	    "verify must be verify_peer or verify_none");
	load_bad("[loader]\namqp_url = amqp://h:5672?verify=verify_none\n",
	    "TLS parameters need an amqps:// URL");
	load_bad("[loader]\ntable = 1abc\n", ":2: [loader] table");
	load_bad("[loader]\ntable = a.b.c\n", ":2: [loader] table");
	load_bad("[loader]\ntable = ev\"ents\n", ":2: [loader] table");
	load_bad("[loader]\ntable = a.\n", ":2: [loader] table");
	load_bad("[loader]\ntable = "
	    "a234567890123456789012345678901234567890123456789012345678901234"
	    "\n", ":2: [loader] table");
	load_bad("[loader]\nbatch_size = 1\n  2\n", ":3: [loader] values do "
	    "not go on over indented lines");
	load_bad("[loader]\nbatch_size = 100\nprefetch = 50\n", "prefetch "
	    "(50) must be at least batch_size (100)");
	load_bad("[loader]\nqueue = q\ndead_letter_queue = q\n",
	    "must not be the queue itself");
	load_bad("[loader]\nreconnect_min_ms = 500\nreconnect_max_ms = 100\n",
	    "reconnect_max_ms (100) must be at least reconnect_min_ms (500)");
	load_bad("[loader\nqueue = q\n", ":1: section header without");
	load_bad("[loader]\njust words\n", ":2: expected \"key = value\"");
}

static void
TEST_missing_file(void)
{
	struct loader_config c;
	struct config_errors errs = { NULL, 0 };

	CU_ASSERT_EQUAL_FATAL(loader_config_init(&c), 0);
	CU_ASSERT_EQUAL(loader_config_load(&c, "/nonexistent/x.conf", &errs),
	    -1);
	CU_ASSERT_EQUAL_FATAL(errs.count, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(errs.items[0], "/nonexistent/x.conf: "
	    "cannot open"));
	config_errors_free(&errs);
	loader_config_free(&c);
}

void
test_loader_config_register(void)
{
	static const struct unit_test tests[] = {
		{ "defaults", TEST_defaults },
		{ "shipped_file", TEST_shipped_file },
		{ "every_key", TEST_every_key },
		{ "among_sluiced_sections", TEST_among_sluiced_sections },
		{ "flags_win", TEST_flags_win },
		{ "derived", TEST_derived },
		{ "errors", TEST_errors },
		{ "missing_file", TEST_missing_file },
		{ NULL, NULL }
	};

	unit_add_suite("loader_config", tests);
}
