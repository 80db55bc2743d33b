/*
 * loader_main.c: sluice-loader's entry point: the command line, the
 * configuration (file, then flags), the signals, and the loop.
 * Thread rule: one thread; the signal handlers only set a flag.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "loader/loader.h"
#include "loader/loader_config.h"

#ifndef SLUICE_SYSCONFDIR
#define SLUICE_SYSCONFDIR "/etc"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define LOADER_DEFAULT_CONFIG SLUICE_SYSCONFDIR "/sluice/sluiced.conf"
#define LOADER_MAX_FLAGS 64

static volatile sig_atomic_t loader_stop;

static void
loader_usage(FILE *out)
{
	fprintf(out,
	    "usage: sluice-loader [-n] [--once] [-c file] [-u url] [-q queue]\n"
	    "           [-d conninfo] [-b batch_size] [-m batch_ms] "
	    "[-p prefetch]\n"
	    "  -c, --config FILE      read the [loader] section of FILE "
	    "(default\n"
	    "                         %s, if it exists)\n"
	    "  -u, --amqp-url URL     the broker (amqp_url)\n"
	    "  -q, --queue NAME       the queue to load (queue)\n"
	    "  -d, --postgres CONNINFO  the database, as libpq takes it "
	    "(postgres)\n"
	    "  -b, --batch-size N     load after N messages (batch_size)\n"
	    "  -m, --batch-ms MS      or once the first waited MS ms "
	    "(batch_ms)\n"
	    "  -p, --prefetch N       messages unacknowledged at most "
	    "(prefetch)\n"
	    "  -1, --once             drain the queue, then exit\n"
	    "  -n, --check            check the configuration and exit\n"
	    "  -V, --version          print the version and exit\n"
	    "  -h, --help             print this help and exit\n"
	    "Flags win over the file.\n", LOADER_DEFAULT_CONFIG);
}

static void
loader_on_signal(int sig)
{
	(void)sig;
	loader_stop = 1;
}

static void
loader_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = loader_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Prints every problem in errs to stderr and frees them. */
static void
loader_print_errors(struct config_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->count; i++)
		fprintf(stderr, "sluice-loader: %s\n", errs->items[i]);
	config_errors_free(errs);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "amqp-url", required_argument, NULL, 'u' },
		{ "queue", required_argument, NULL, 'q' },
		{ "postgres", required_argument, NULL, 'd' },
		{ "batch-size", required_argument, NULL, 'b' },
		{ "batch-ms", required_argument, NULL, 'm' },
		{ "prefetch", required_argument, NULL, 'p' },
		{ "once", no_argument, NULL, '1' },
		{ "check", no_argument, NULL, 'n' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *flag_keys[LOADER_MAX_FLAGS], *flag_values[LOADER_MAX_FLAGS];
	const char *path = NULL, *key;
	struct loader_config cfg;
	struct config_errors errs = { NULL, 0 };
	int ch, check = 0, once = 0, nflags = 0, i, bad = 0, rc;
	char err[512];

	while ((ch = getopt_long(argc, argv, "c:u:q:d:b:m:p:1nVh", longopts,
	    NULL)) != -1) {
		key = NULL;
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'u':
			key = "amqp_url";
			break;
		case 'q':
			key = "queue";
			break;
		case 'd':
			key = "postgres";
			break;
		case 'b':
			key = "batch_size";
			break;
		case 'm':
			key = "batch_ms";
			break;
		case 'p':
			key = "prefetch";
			break;
		case '1':
			once = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'V':
			printf("sluice-loader %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			loader_usage(stdout);
			return 0;
		default:
			loader_usage(stderr);
			return 2;
		}
		if (key != NULL) {
			if (nflags == LOADER_MAX_FLAGS) {
				fprintf(stderr, "sluice-loader: too many "
				    "flags\n");
				return 2;
			}
			flag_keys[nflags] = key;
			flag_values[nflags++] = optarg;
		}
	}
	if (optind < argc) {
		loader_usage(stderr);
		return 2;
	}

	if (loader_config_init(&cfg) == -1) {
		fprintf(stderr, "sluice-loader: out of memory\n");
		return 1;
	}
	if (path == NULL && access(LOADER_DEFAULT_CONFIG, F_OK) == 0)
		path = LOADER_DEFAULT_CONFIG;
	if (path != NULL && loader_config_load(&cfg, path, &errs) == -1)
		bad = 1;
	for (i = 0; i < nflags; i++) {
		if (loader_config_set(&cfg, flag_keys[i], flag_values[i], err,
		    sizeof err) == -1) {
			config_errors_add(&errs, "%s (flag): %s", flag_keys[i],
			    err);
			bad = 1;
		}
	}
	if (loader_config_finish(&cfg, &errs) == -1)
		bad = 1;
	if (bad) {
		loader_print_errors(&errs);
		loader_config_free(&cfg);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		loader_config_free(&cfg);
		return 0;
	}
	log_set_level(cfg.log_level);
	loader_signals();
	log_info("loader", "sluice-loader %s starting%s%s", PACKAGE_VERSION,
	    path != NULL ? " with " : "", path != NULL ? path : "");
	rc = loader_run(&cfg, once, &loader_stop);
	loader_config_free(&cfg);
	return rc;
}
