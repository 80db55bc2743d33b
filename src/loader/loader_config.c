/*
 * loader_config.c: sluice-loader's settings from the [loader] section of an
 * INI file and from flags. The file is read with the INI engine
 * (core/inifile.h) and the loader's grammar: [loader] is judged key by
 * key, [amqp] url and queue_type are taken as they come, and every other
 * section (sluiced's: lists over indented lines, named sections) is
 * skipped without being read. Thread rule: main thread, before anything
 * starts.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_check.h"
#include "core/inifile.h"
#include "core/sluice.h"
#include "loader/loader_config.h"

static int loader_check_url(const char *, char *, size_t);
static int loader_check_name(const char *, char *, size_t);
static int loader_check_table(const char *, char *, size_t);

static const struct inifile_choice loader_queue_types = {
	"queue type", { "classic", "quorum", NULL }
};

#define KEY(name, kind, field, min, max, check, flags) \
	{ name, kind, offsetof(struct loader_config, field), min, max, check, \
	    flags, NULL }
static const struct inifile_key loader_keys[] = {
	KEY("amqp_url", INIFILE_STRING, amqp_url, 0, 0, loader_check_url,
	    INIFILE_NONEMPTY),
	KEY("queue", INIFILE_STRING, queue, 0, 0, loader_check_name,
	    INIFILE_NONEMPTY),
	KEY("dead_letter_queue", INIFILE_STRING, dead_letter_queue, 0, 0,
	    loader_check_name, INIFILE_NONEMPTY),
	{ "queue_type", INIFILE_CHOICE, offsetof(struct loader_config, quorum),
	    0, 0, NULL, 0, &loader_queue_types },
	KEY("postgres", INIFILE_STRING, postgres, 0, 0, NULL,
	    INIFILE_KEEP_EMPTY),
	KEY("table", INIFILE_STRING, table, 0, 0, loader_check_table,
	    INIFILE_NONEMPTY),
	KEY("batch_size", INIFILE_UINT, batch_size, 1, LOADER_PREFETCH_MAX,
	    NULL, 0),
	KEY("batch_ms", INIFILE_UINT, batch_ms, 1, 600000, NULL, 0),
	KEY("prefetch", INIFILE_UINT, prefetch, 1, LOADER_PREFETCH_MAX, NULL,
	    0),
	KEY("heartbeat", INIFILE_UINT, heartbeat_s, 0, 600, NULL, 0),
	KEY("reconnect_min_ms", INIFILE_UINT, reconnect_min_ms, 10, 60000,
	    NULL, 0),
	KEY("reconnect_max_ms", INIFILE_UINT, reconnect_max_ms, 10, 600000,
	    NULL, 0),
	KEY("stats_interval", INIFILE_UINT, stats_interval_s, 0, 86400, NULL,
	    0),
	KEY("log_level", INIFILE_LOGLEVEL, log_level, 0, 0, NULL, 0),
};
/* sluiced's [amqp] url and queue_type: the defaults of the two above. */
static const struct inifile_key loader_amqp_keys[] = {
	KEY("url", INIFILE_STRING, amqp_section_url, 0, 0, NULL,
	    INIFILE_KEEP_EMPTY),
	{ "queue_type", INIFILE_CHOICE,
	    offsetof(struct loader_config, amqp_section_quorum), 0, 0, NULL, 0,
	    &loader_queue_types },
};
#undef KEY
enum { KEY_AMQP_URL, KEY_QUEUE, KEY_DEAD, KEY_QUEUE_TYPE, KEY_POSTGRES,
    KEY_TABLE, KEY_BATCH_SIZE, KEY_BATCH_MS, KEY_PREFETCH, KEY_NKEYS = 14 };
_Static_assert(SLUICE_ARRAY_LEN(loader_keys) == KEY_NKEYS,
    "KEY_NKEYS is not the number of keys");
_Static_assert(KEY_NKEYS <= sizeof(((struct loader_config *)0)->given),
    "given[] is too small");

static const struct inifile_section loader_sections[] = {
	{ "loader", loader_keys, SLUICE_ARRAY_LEN(loader_keys), INIFILE_KEYS,
	    NULL },
	{ "amqp", loader_amqp_keys, SLUICE_ARRAY_LEN(loader_amqp_keys),
	    INIFILE_PEEKED, NULL },
};

/* The values of [loader] must stay on their line; every section but
 * [loader] and [amqp] is sluiced's and not read. */
static const struct inifile_grammar loader_grammar = {
	loader_sections, SLUICE_ARRAY_LEN(loader_sections), INIFILE_SAY_RULE,
	INIFILE_OTHERS_SKIPPED | INIFILE_SINGLE_LINE, NULL, NULL
};

/* An AMQP URL librabbitmq understands, without TLS. */
static int
loader_check_url(const char *value, char *err, size_t errlen)
{
	return config_check_url(value, err, errlen);
}

/* A queue name: at most 255 bytes of A-Z a-z 0-9 - _ . : */
static int
loader_check_name(const char *value, char *err, size_t errlen)
{
	if (!config_charset(value, "-_.:", 1, CONFIG_NAME_MAX)) {
		snprintf(err, errlen, "must be 1 to %d characters of A-Z a-z "
		    "0-9 - _ . :", CONFIG_NAME_MAX);
		return -1;
	}
	if (strncmp(value, "amq.", 4) == 0) {
		snprintf(err, errlen, "names starting with \"amq.\" are the "
		    "broker's");
		return -1;
	}
	return 0;
}

/* A table name, schema-qualified or not: identifiers of A-Z a-z 0-9 _. */
static int
loader_check_table(const char *value, char *err, size_t errlen)
{
	const char *dot = strchr(value, '.');
	char part[64];
	size_t len;
	int i;

	for (i = 0; i < 2 && value != NULL; i++) {
		len = dot != NULL ? (size_t)(dot - value) : strlen(value);
		if (len == 0 || len >= sizeof part)
			goto bad;
		memcpy(part, value, len);
		part[len] = '\0';
		if (isdigit((unsigned char)part[0]) ||
		    !config_charset(part, "_", 1, sizeof part - 1))
			goto bad;
		value = dot != NULL ? dot + 1 : NULL;
		dot = value != NULL ? strchr(value, '.') : NULL;
	}
	if (value == NULL)
		return 0;
bad:
	snprintf(err, errlen, "must be a table name, or schema.table: each 1 "
	    "to 63 characters of A-Z a-z 0-9 _, not starting with a digit");
	return -1;
}

/* Replaces the string at *slot with a copy of value. Returns 0 or -1. */
static int
loader_set_string(char **slot, const char *value)
{
	char *s = strdup(value);

	if (s == NULL)
		return -1;
	free(*slot);
	*slot = s;
	return 0;
}

int
loader_config_init(struct loader_config *c)
{
	memset(c, 0, sizeof *c);
	c->batch_size = 1000;
	c->batch_ms = 1000;
	c->heartbeat_s = 30;
	c->reconnect_min_ms = 100;
	c->reconnect_max_ms = 30000;
	c->stats_interval_s = 10;
	c->log_level = LOG_LEVEL_INFO;
	if (loader_set_string(&c->amqp_url, LOADER_DEFAULT_AMQP_URL) == -1 ||
	    loader_set_string(&c->queue, LOADER_DEFAULT_QUEUE) == -1 ||
	    loader_set_string(&c->postgres, "") == -1 ||
	    loader_set_string(&c->table, LOADER_DEFAULT_TABLE) == -1) {
		loader_config_free(c);
		return -1;
	}
	return 0;
}

void
loader_config_free(struct loader_config *c)
{
	free(c->amqp_url);
	free(c->queue);
	free(c->dead_letter_queue);
	free(c->postgres);
	free(c->table);
	free(c->amqp_section_url);
	memset(c, 0, sizeof *c);
}

int
loader_config_set(struct loader_config *c, const char *key,
    const char *value, char *err, size_t errlen)
{
	const struct inifile_key *k;
	size_t i;

	if ((k = inifile_key_find(&loader_sections[0], key, &i)) == NULL) {
		snprintf(err, errlen, "unknown key %s", key);
		return -1;
	}
	if (inifile_key_apply(k, INIFILE_SAY_RULE, c, value, err, errlen) !=
	    SLUICE_OK)
		return -1;
	c->given[i] = 1;
	return 0;
}

int
loader_config_load(struct loader_config *c, const char *path,
    struct config_errors *errs)
{
	struct inifile ini;
	size_t i;
	int rc;

	inifile_init(&ini, &loader_grammar, c, path, errs);
	rc = inifile_read(&ini);
	for (i = 0; i < KEY_NKEYS; i++)
		if (inifile_key_taken(&ini, "loader", 0, loader_keys[i].name))
			c->given[i] = 1;
	if (inifile_failed(&ini))
		rc = -1;
	inifile_free(&ini);
	return rc;
}

int
loader_config_finish(struct loader_config *c, struct config_errors *errs)
{
	char err[CONFIG_MSGLEN / 2];
	size_t n0 = errs->count;

	if (!c->given[KEY_AMQP_URL] && c->amqp_section_url != NULL) {
		if (loader_check_url(c->amqp_section_url, err, sizeof err) ==
		    -1)
			config_errors_add(errs, "[amqp] url: %s", err);
		else if (loader_set_string(&c->amqp_url,
		    c->amqp_section_url) == -1)
			config_errors_add(errs, "out of memory");
	}
	if (!c->given[KEY_QUEUE_TYPE])
		c->quorum = c->amqp_section_quorum;
	if (!c->given[KEY_DEAD]) {
		free(c->dead_letter_queue);
		if (asprintf(&c->dead_letter_queue, "%s%s", c->queue,
		    LOADER_DEAD_SUFFIX) == -1) {
			c->dead_letter_queue = NULL;
			config_errors_add(errs, "out of memory");
		} else if (strlen(c->dead_letter_queue) > CONFIG_NAME_MAX)
			config_errors_add(errs, "queue: too long to make the "
			    "dead_letter_queue name from; give "
			    "dead_letter_queue");
	}
	if (c->dead_letter_queue != NULL &&
	    strcmp(c->dead_letter_queue, c->queue) == 0)
		config_errors_add(errs, "dead_letter_queue must not be the "
		    "queue itself");
	/* Room for the batch being loaded, the one filling meanwhile and
	 * some slack, so the broker rarely waits for an ack. */
	if (!c->given[KEY_PREFETCH])
		c->prefetch = c->batch_size <= LOADER_PREFETCH_MAX / 4 ?
		    4 * c->batch_size : LOADER_PREFETCH_MAX;
	else if (c->prefetch < c->batch_size)
		config_errors_add(errs, "prefetch (%u) must be at least "
		    "batch_size (%u): a batch is loaded once batch_size "
		    "messages are in hand", c->prefetch, c->batch_size);
	if (c->reconnect_max_ms < c->reconnect_min_ms)
		config_errors_add(errs, "reconnect_max_ms (%u) must be at least "
		    "reconnect_min_ms (%u)", c->reconnect_max_ms,
		    c->reconnect_min_ms);
	return errs->count == n0 ? 0 : -1;
}
