/*
 * sluiced.c: sluiced's entry point: options, configuration, start-up of the
 * journal, the forwarder, the hub, the ingest pipeline, the WebSocket
 * gateway and the HTTP server, signal handling on the main thread, and the
 * orderly shutdown. The wiring follows the layers: the front doors (http,
 * ws) use the pipeline (ingest), which writes to the journal and hands
 * events to the hub; the forwarder (broker) reads the journal.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/amqp_fwd.h"
#include "core/app.h"
#include "core/config.h"
#include "core/isotime.h"
#include "core/log.h"
#include "core/notify.h"
#include "core/sluice.h"
#include "http/http.h"
#include "hub/hub.h"
#include "ingest/ingest.h"
#include "journal/journal.h"
#include "ws/ws.h"

#ifndef SLUICE_SYSCONFDIR
#define SLUICE_SYSCONFDIR "/etc"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define MAIN_DEFAULT_CONFIG SLUICE_SYSCONFDIR "/sluice/sluiced.conf"
#define MAIN_HTTP_STOP_MS 10000
#define MAIN_FWD_STOP_MS 1000
#define MAIN_READY_POLL_MS 250

static void
main_usage(FILE *out)
{
	fprintf(out,
	    "usage: sluiced [-t] [-c file]\n"
	    "  -c, --config FILE  configuration file (default %s)\n"
	    "  -t, --test         check the configuration and exit\n"
	    "  -V, --version      print the version and exit\n"
	    "  -h, --help         print this help and exit\n",
	    MAIN_DEFAULT_CONFIG);
}

/* Loads the configuration, printing every error. Returns NULL on error. */
static struct config *
main_load_config(const char *path)
{
	struct config_errors errs;
	struct config *cfg = NULL;
	size_t i;

	memset(&errs, 0, sizeof errs);
	if (config_load(path, &cfg, &errs) == -1) {
		for (i = 0; i < errs.count; i++)
			fprintf(stderr, "%s\n", errs.items[i]);
		if (errs.count == 0)
			fprintf(stderr, "%s: cannot load configuration\n", path);
	}
	config_errors_free(&errs);
	return cfg;
}

/* Tells the service manager why sluiced is not ready yet, once a reason. */
static void
main_not_ready(const char *reason, const char *probe)
{
	char status[256];

	if (probe[0] != '\0')
		log_warn("main", "not ready: %s", probe);
	log_info("main", "not ready yet: %s", reason);
	snprintf(status, sizeof status, "starting: %s", reason);
	notify_status(status);
}

/*
 * Runs until SIGTERM or SIGINT; SIGHUP reopens the log file. Under a
 * service manager (notify_wanted), meanwhile: polls http_ready_reason
 * (what GET /readyz answers) every MAIN_READY_POLL_MS until sluiced is
 * ready, then sends READY=1 once, and feeds the watchdog at half its
 * interval when one is asked for.
 */
static void
main_wait_for_signal(const struct config *cfg, const sigset_t *set,
    struct http_server *http)
{
	char probe[PATH_MAX + 64];
	const char *reason, *said = NULL;
	int64_t watchdog_ms = notify_watchdog_ms(), ping_at = 0, now, wait_ms;
	struct timespec ts;
	int ready = !notify_wanted(), sig;

	for (;;) {
		now = isotime_mono_ms();
		if (!ready) {
			reason = http_ready_reason(http, probe, sizeof probe);
			if (reason == NULL) {
				notify_ready("ready");
				log_info("main", "ready: told the service "
				    "manager");
				ready = 1;
			} else if (reason != said) {
				main_not_ready(reason, probe);
				said = reason;
			}
		}
		if (watchdog_ms > 0 && now >= ping_at) {
			notify_watchdog();
			ping_at = now + watchdog_ms / 2;
		}
		wait_ms = -1;
		if (!ready)
			wait_ms = MAIN_READY_POLL_MS;
		if (watchdog_ms > 0 && (wait_ms < 0 || ping_at - now < wait_ms))
			wait_ms = ping_at - now;
		if (wait_ms < 0) {
			if (sigwait(set, &sig) != 0)
				continue;
		} else {
			ts.tv_sec = wait_ms / 1000;
			ts.tv_nsec = (wait_ms % 1000) * 1000000;
			if ((sig = sigtimedwait(set, NULL, &ts)) == -1)
				continue;	/* timeout or EINTR */
		}
		if (sig == SIGHUP) {
			if (log_open(cfg->log_file) == -1)
				log_error("main", "cannot reopen log %s: %m",
				    cfg->log_file);
			else
				log_info("main", "log reopened");
			continue;
		}
		log_info("main", "%s received; shutting down",
		    sig == SIGTERM ? "SIGTERM" : "SIGINT");
		notify_stopping();
		return;
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = MAIN_DEFAULT_CONFIG;
	struct journal_config jcfg;
	struct app_registry *apps = NULL;
	struct http_deps hdeps;
	struct ws_deps wdeps;
	struct ingest *ingest = NULL;
	struct hub *hub = NULL;
	struct http_server *http = NULL;
	struct ws_server *ws = NULL;
	struct amqp_fwd *fwd = NULL;
	struct journal *journal = NULL;
	struct config *cfg;
	sigset_t set;
	int64_t stop_deadline_ms, left_ms;
	int ch, test_only = 0, status = 1, rc;
	size_t i;

	while ((ch = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			test_only = 1;
			break;
		case 'V':
			printf("sluiced %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			main_usage(stdout);
			return 0;
		default:
			main_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		main_usage(stderr);
		return 2;
	}
	cfg = main_load_config(path);
	if (cfg == NULL)
		return 1;
	if (test_only) {
		for (i = 0; i < cfg->warnings.count; i++)
			fprintf(stderr, "warning: %s\n",
			    cfg->warnings.items[i]);
		printf("configuration OK\n");
		config_free(cfg);
		return 0;
	}
	log_set_level(cfg->log_level);
	if (log_open(cfg->log_file) == -1) {
		fprintf(stderr, "cannot open log file %s: %m\n", cfg->log_file);
		config_free(cfg);
		return 1;
	}

	/* Threads inherit this mask; the main thread takes the signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	log_info("main", "sluiced %s starting with %s", PACKAGE_VERSION, path);
	for (i = 0; i < cfg->warnings.count; i++)
		log_warn("config", "%s", cfg->warnings.items[i]);
	jcfg.dir = cfg->journal_dir;
	jcfg.max_bytes = cfg->journal_max_bytes;
	jcfg.segment_bytes = cfg->journal_segment_bytes;
	rc = journal_open(&jcfg, &journal);
	if (rc != SLUICE_OK) {
		log_error("main", "cannot open the journal in %s: %s",
		    cfg->journal_dir, sluice_strerror(rc));
		goto out;
	}
	if (amqp_fwd_start(cfg, journal, &fwd) != SLUICE_OK)
		goto out;
	if (app_registry_new(cfg, &apps) != SLUICE_OK ||
	    (hub = hub_new()) == NULL ||
	    (ingest = ingest_new(cfg, apps, journal, hub)) == NULL) {
		log_error("main", "out of memory");
		goto out;
	}
	wdeps.cfg = cfg;
	wdeps.apps = apps;
	wdeps.ingest = ingest;
	wdeps.hub = hub;
	if (ws_start(&wdeps, &ws) != SLUICE_OK)
		goto out;
	hdeps.cfg = cfg;
	hdeps.apps = apps;
	hdeps.ingest = ingest;
	hdeps.journal = journal;
	hdeps.fwd = fwd;
	hdeps.hub = hub;
	if (http_start(&hdeps, &http) != SLUICE_OK)
		goto out;
	log_info("main", "ready");
	main_wait_for_signal(cfg, &set, http);
	stop_deadline_ms = isotime_mono_ms() +
	    (int64_t)cfg->shutdown_timeout_s * 1000;

	/* Stop taking events, answer the ones in flight once durable, close
	 * the WebSockets (4200: reconnect elsewhere), then give the broker
	 * what is left of shutdown_timeout, less the forwarder's stop, to
	 * confirm what is journaled. */
	ingest_quiesce(ingest);
	ws_quiesce(ws);
	http_quiesce(http);
	if (http_stop(http, MAIN_HTTP_STOP_MS) == -1 ||
	    ws_stop(ws, MAIN_HTTP_STOP_MS) == -1) {
		/* A journal write that does not end: what was acknowledged
		 * is on disk already; nothing else can be saved by waiting. */
		log_error("main", "the journal does not answer; exiting now");
		_exit(1);
	}
	ws = NULL;
	left_ms = stop_deadline_ms - isotime_mono_ms() - MAIN_FWD_STOP_MS;
	if (amqp_fwd_drain(fwd, left_ms > 0 ? (unsigned)left_ms : 0) == 0)
		log_info("main", "every journaled event is confirmed");
	status = 0;
out:
	if (ws != NULL && ws_stop(ws, MAIN_HTTP_STOP_MS) == -1)
		_exit(1);
	/* Nothing is in the pipeline now: the front doors are stopped. */
	ingest_free(ingest);
	hub_free(hub);
	app_registry_free(apps);
	if (fwd != NULL && amqp_fwd_stop(fwd, MAIN_FWD_STOP_MS) == -1) {
		/* Everything acknowledged is in the journal already; its
		 * checkpoint is older, so some events go out twice. */
		log_error("main", "exiting without closing the journal");
		_exit(status);
	}
	if (journal != NULL)
		journal_close(journal);
	log_info("main", "stopped");
	config_free(cfg);
	return status;
}
