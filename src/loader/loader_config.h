/*
 * loader_config.h: sluice-loader's settings: their defaults, the [loader]
 * section of an INI file in sluiced's format (the same file sluiced reads:
 * the loader takes [amqp] url and queue_type as the defaults of its own
 * amqp_url and queue_type and skips every other section), and command-line
 * values, which win over the file's. Every problem is reported, the file's
 * as file:line. Thread rule: built on the main thread before the loader
 * starts, read-only afterwards.
 */
#ifndef SLUICE_LOADER_CONFIG_H
#define SLUICE_LOADER_CONFIG_H

#include <stddef.h>

#include "core/config.h"
#include "core/log.h"

#define LOADER_DEFAULT_AMQP_URL		"amqp://guest:guest@127.0.0.1:5672"
#define LOADER_DEFAULT_QUEUE		"sluice.archive"
#define LOADER_DEAD_SUFFIX		".dead"
#define LOADER_DEFAULT_TABLE		"events"
#define LOADER_PREFETCH_MAX		65535	/* basic.qos prefetch_count */

struct loader_config {
	char		*amqp_url;
	char		*queue;
	char		*dead_letter_queue;	/* default: queue + ".dead" */
	int		 quorum;		/* declare quorum queues */
	char		*postgres;		/* libpq conninfo or URI */
	char		*table;			/* [schema.]table */
	unsigned	 batch_size;
	unsigned	 batch_ms;
	unsigned	 prefetch;		/* default: 4 * batch_size */
	unsigned	 heartbeat_s;
	unsigned	 reconnect_min_ms;
	unsigned	 reconnect_max_ms;
	unsigned	 stats_interval_s;	/* 0: no periodic line */
	enum log_level	 log_level;

	/* Internal: which keys were given (in [loader] or as flags), by
	 * key index, and what [amqp] said of url and queue_type. */
	unsigned char	 given[16];
	char		*amqp_section_url;
	int		 amqp_section_quorum;
};

/*
 * Sets every key to its default. The strings are owned by c: free with
 * loader_config_free. Returns 0, or -1 when out of memory.
 */
int loader_config_init(struct loader_config *c);

/*
 * Reads the [loader] section (and [amqp] url and queue_type) of the INI
 * file at path into c, adding every problem to errs (config_errors_add;
 * free with config_errors_free). Returns 0, or -1 if
 * there was any problem (the file cannot be read, a syntax error, an
 * unknown key, a bad value, a key given twice).
 */
int loader_config_load(struct loader_config *c, const char *path,
    struct config_errors *errs);

/*
 * Sets key (a [loader] key name) to value, as a flag does; a flag given
 * later wins over the file and over an earlier flag. Returns 0, or -1 with
 * the problem in err.
 */
int loader_config_set(struct loader_config *c, const char *key,
    const char *value, char *err, size_t errlen);

/*
 * Fills in the defaults that depend on other keys (dead_letter_queue,
 * prefetch, amqp_url and queue_type from [amqp]) and checks the keys
 * against each other, adding problems to errs. Call once, after the file
 * and the flags. Returns 0, or -1 if there was any problem.
 */
int loader_config_finish(struct loader_config *c, struct config_errors *errs);

void loader_config_free(struct loader_config *c);

#endif
