/*
 * loader_config.c: sluice-loader's settings from the [loader] section of an
 * INI file and from flags. libinih parses the pairs; a line reader of ours
 * numbers the lines (for file:line errors), follows the sections and hands
 * libinih only the lines of [loader] and [amqp], so that the rest of
 * sluiced's file (lists over indented lines, named sections) is skipped
 * without being judged. Thread rule: main thread, before anything starts.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amqp.h>
#include <ini.h>

#include "core/config_check.h"
#include "loader/loader_config.h"
#include "core/sluice.h"

enum loader_kind {
	LOADER_STRING,		/* char *, checked by a function */
	LOADER_UINT,		/* unsigned, min..max */
	LOADER_QUEUETYPE,	/* classic or quorum */
	LOADER_LOGLEVEL
};

typedef int (*loader_check_fn)(const char *value, char *err, size_t errlen);

struct loader_key {
	const char		*name;
	enum loader_kind	 kind;
	size_t			 off;
	unsigned		 min, max;
	loader_check_fn		 check;
};

static int loader_check_url(const char *, char *, size_t);
static int loader_check_name(const char *, char *, size_t);
static int loader_check_table(const char *, char *, size_t);
static int loader_check_any(const char *, char *, size_t);

#define OFF(f) offsetof(struct loader_config, f)
static const struct loader_key loader_keys[] = {
	{ "amqp_url", LOADER_STRING, OFF(amqp_url), 0, 0, loader_check_url },
	{ "queue", LOADER_STRING, OFF(queue), 0, 0, loader_check_name },
	{ "dead_letter_queue", LOADER_STRING, OFF(dead_letter_queue), 0, 0,
	    loader_check_name },
	{ "queue_type", LOADER_QUEUETYPE, OFF(quorum), 0, 0, NULL },
	{ "postgres", LOADER_STRING, OFF(postgres), 0, 0, loader_check_any },
	{ "table", LOADER_STRING, OFF(table), 0, 0, loader_check_table },
	{ "batch_size", LOADER_UINT, OFF(batch_size), 1, LOADER_PREFETCH_MAX,
	    NULL },
	{ "batch_ms", LOADER_UINT, OFF(batch_ms), 1, 600000, NULL },
	{ "prefetch", LOADER_UINT, OFF(prefetch), 1, LOADER_PREFETCH_MAX,
	    NULL },
	{ "heartbeat", LOADER_UINT, OFF(heartbeat_s), 0, 600, NULL },
	{ "reconnect_min_ms", LOADER_UINT, OFF(reconnect_min_ms), 10, 60000,
	    NULL },
	{ "reconnect_max_ms", LOADER_UINT, OFF(reconnect_max_ms), 10, 600000,
	    NULL },
	{ "stats_interval", LOADER_UINT, OFF(stats_interval_s), 0, 86400,
	    NULL },
	{ "log_level", LOADER_LOGLEVEL, OFF(log_level), 0, 0, NULL },
};
#undef OFF
enum { KEY_AMQP_URL, KEY_QUEUE, KEY_DEAD, KEY_QUEUE_TYPE, KEY_POSTGRES,
    KEY_TABLE, KEY_BATCH_SIZE, KEY_BATCH_MS, KEY_PREFETCH, KEY_NKEYS = 14 };
_Static_assert(SLUICE_ARRAY_LEN(loader_keys) == KEY_NKEYS,
    "KEY_NKEYS is not the number of keys");
_Static_assert(KEY_NKEYS <= sizeof(((struct loader_config *)0)->given),
    "given[] is too small");

/* Which section a line of the file is in. */
enum loader_sec { SEC_NONE, SEC_LOADER, SEC_AMQP, SEC_OTHER };

/* One load of one file. */
struct loader_parse {
	struct loader_config	*c;
	struct config_errors	*errs;
	const char		*path;
	FILE			*fp;
	char			*buf;
	size_t			 bufcap;
	unsigned		 lineno;
	enum loader_sec		 sec;
	unsigned		 lines[KEY_NKEYS];	/* where each was set */
	size_t			 nerrors;
};

/* An AMQP URL librabbitmq understands, without TLS. */
static int
loader_check_url(const char *value, char *err, size_t errlen)
{
	if (config_check_url(value, err, errlen) == -1)
		return -1;
	if (strncmp(value, "amqps:", 6) == 0) {
		snprintf(err, errlen, "amqps:// (TLS) is not supported; use "
		    "amqp://");
		return -1;
	}
	return 0;
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

static int
loader_check_any(const char *value, char *err, size_t errlen)
{
	(void)value;
	(void)err;
	(void)errlen;
	return 0;
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

static const struct loader_key *
loader_key_find(const char *name, size_t *index)
{
	size_t i;

	for (i = 0; i < SLUICE_ARRAY_LEN(loader_keys); i++) {
		if (strcmp(loader_keys[i].name, name) == 0) {
			*index = i;
			return &loader_keys[i];
		}
	}
	return NULL;
}

/* Parses a queue type. Returns 0 and sets *quorum, or -1. */
static int
loader_queue_type(const char *value, int *quorum, char *err, size_t errlen)
{
	if (strcmp(value, "classic") == 0)
		*quorum = 0;
	else if (strcmp(value, "quorum") == 0)
		*quorum = 1;
	else {
		snprintf(err, errlen, "must be classic or quorum");
		return -1;
	}
	return 0;
}

/* Applies value to key k of c. Returns 0, or -1 with err filled. */
static int
loader_apply(struct loader_config *c, const struct loader_key *k,
    const char *value, char *err, size_t errlen)
{
	char *base = (char *)c;
	enum log_level level;
	uint64_t n;

	switch (k->kind) {
	case LOADER_STRING:
		if (*value == '\0' && k->check != loader_check_any) {
			snprintf(err, errlen, "must not be empty");
			return -1;
		}
		if (k->check(value, err, errlen) == -1)
			return -1;
		if (loader_set_string((char **)(base + k->off), value) == -1) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	case LOADER_UINT:
		if (config_parse_number(value, &n) == -1 || n < k->min ||
		    n > k->max) {
			snprintf(err, errlen, "must be a number from %u to %u",
			    k->min, k->max);
			return -1;
		}
		*(unsigned *)(base + k->off) = (unsigned)n;
		return 0;
	case LOADER_QUEUETYPE:
		return loader_queue_type(value, (int *)(base + k->off), err,
		    errlen);
	case LOADER_LOGLEVEL:
		if (log_level_parse(value, &level) == -1) {
			snprintf(err, errlen, "must be debug, info, warn or "
			    "error");
			return -1;
		}
		*(enum log_level *)(base + k->off) = level;
		return 0;
	}
	return -1;
}

int
loader_config_set(struct loader_config *c, const char *key,
    const char *value, char *err, size_t errlen)
{
	const struct loader_key *k;
	size_t i;

	if ((k = loader_key_find(key, &i)) == NULL) {
		snprintf(err, errlen, "unknown key %s", key);
		return -1;
	}
	if (loader_apply(c, k, value, err, errlen) == -1)
		return -1;
	c->given[i] = 1;
	return 0;
}

/* Records "path:line: message" and counts it. */
static void
loader_parse_error(struct loader_parse *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
loader_parse_error(struct loader_parse *st, const char *fmt, ...)
{
	char msg[CONFIG_MSGLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (st->lineno > 0)
		config_errors_add(st->errs, "%s:%u: %s", st->path, st->lineno,
		    msg);
	else
		config_errors_add(st->errs, "%s: %s", st->path, msg);
	st->nerrors++;
}

/* Notes the section a "[...]" line at p opens. */
static void
loader_open_section(struct loader_parse *st, const char *p)
{
	const char *end = strchr(p, ']');
	size_t len;

	if (end == NULL) {
		loader_parse_error(st, "section header without \"]\"");
		st->sec = SEC_OTHER;
		return;
	}
	len = (size_t)(end - p - 1);
	if (len == 6 && strncmp(p + 1, "loader", 6) == 0)
		st->sec = SEC_LOADER;
	else if (len == 4 && strncmp(p + 1, "amqp", 4) == 0)
		st->sec = SEC_AMQP;
	else
		st->sec = SEC_OTHER;
}

/*
 * The libinih reader: hands over the next line, numbered. Lines outside
 * [loader] and [amqp] go over as blank lines, and so do lines that go on
 * from the previous one (reported in [loader]: its values are single).
 */
static char *
loader_reader(char *str, int num, void *stream)
{
	struct loader_parse *st = stream;
	const char *p;
	ssize_t n;
	size_t len;

	if (num < 4)
		return NULL;
	errno = 0;
	n = getline(&st->buf, &st->bufcap, st->fp);
	if (n == -1) {
		if (ferror(st->fp))
			loader_parse_error(st, "read error: %s",
			    strerror(errno));
		return NULL;
	}
	st->lineno++;
	len = (size_t)n;
	if (len > 0 && st->buf[len - 1] == '\n')
		st->buf[--len] = '\0';
	strcpy(str, "\n");
	if (strlen(st->buf) != len) {
		loader_parse_error(st, "the line holds a NUL byte");
		return str;
	}
	p = st->buf;
	if (st->lineno == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == ';' || *p == '#')
		return str;
	if (*p == '[') {
		loader_open_section(st, p);
		if (st->sec == SEC_LOADER || st->sec == SEC_AMQP)
			snprintf(str, (size_t)num, "[%s]\n",
			    st->sec == SEC_LOADER ? "loader" : "amqp");
		return str;
	}
	if (st->sec != SEC_LOADER && st->sec != SEC_AMQP)
		return str;
	if (p > st->buf) {
		if (st->sec == SEC_LOADER)
			loader_parse_error(st, "[loader] values do not go on "
			    "over indented lines");
		return str;
	}
	if (len + 2 > (size_t)num) {
		if (st->sec == SEC_LOADER)
			loader_parse_error(st, "the line is longer than %d "
			    "characters", num - 2);
		return str;
	}
	memcpy(str, st->buf, len);
	strcpy(str + len, "\n");
	return str;
}

/* [amqp] url and queue_type: the defaults of amqp_url and queue_type. */
static void
loader_amqp_pair(struct loader_parse *st, const char *name, const char *value)
{
	struct loader_config *c = st->c;
	char err[CONFIG_MSGLEN / 2];

	if (strcmp(name, "url") == 0) {
		if (loader_set_string(&c->amqp_section_url, value) == -1)
			loader_parse_error(st, "out of memory");
	} else if (strcmp(name, "queue_type") == 0) {
		/* A bad value is sluiced's to report: classic stays. */
		if (loader_queue_type(value, &c->amqp_section_quorum, err,
		    sizeof err) == -1)
			c->amqp_section_quorum = 0;
	}
}

/* The libinih handler: one key = value of [loader] or [amqp]. */
static int
loader_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct loader_parse *st = user;
	const struct loader_key *k;
	char err[CONFIG_MSGLEN / 2];
	size_t i;

	if (strcmp(section, "amqp") == 0) {
		loader_amqp_pair(st, name, value);
		return 1;
	}
	if ((k = loader_key_find(name, &i)) == NULL) {
		loader_parse_error(st, "[loader]: unknown key \"%.64s\"", name);
		return 1;
	}
	if (st->lines[i] != 0) {
		loader_parse_error(st, "[loader] %s: given twice (first on "
		    "line %u)", name, st->lines[i]);
		return 1;
	}
	st->lines[i] = st->lineno;
	if (loader_apply(st->c, k, value, err, sizeof err) == -1) {
		loader_parse_error(st, "[loader] %s: %s", name, err);
		return 1;
	}
	st->c->given[i] = 1;
	return 1;
}

int
loader_config_load(struct loader_config *c, const char *path,
    struct config_errors *errs)
{
	struct loader_parse st;
	int rc;

	memset(&st, 0, sizeof st);
	st.c = c;
	st.errs = errs;
	st.path = path;
	if ((st.fp = fopen(path, "r")) == NULL) {
		config_errors_add(errs, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	rc = ini_parse_stream(loader_reader, &st, loader_handler, &st);
	fclose(st.fp);
	free(st.buf);
	if (rc > 0 && st.nerrors == 0) {
		/* A line libinih could not read as key = value. */
		st.lineno = (unsigned)rc;
		loader_parse_error(&st, "expected \"key = value\", "
		    "\"[section]\" or a comment");
	} else if (rc < 0 && st.nerrors == 0) {
		st.lineno = 0;
		loader_parse_error(&st, "cannot be read");
	}
	return st.nerrors == 0 ? 0 : -1;
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
