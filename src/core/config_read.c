/*
 * config_read.c: reading the configuration file line by line for libinih:
 * numbering and classifying each line (so every error gets its file:line,
 * even those libinih would stop at), and opening [section] and
 * [app NAME] / [queue NAME] sections. Thread rule: one load in one thread.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/config_check.h"
#include "core/config_internal.h"
#include "core/sluice.h"

/* Returns the index of the app or queue called name, or -1. */
static ssize_t
config_find_named(const struct config *cfg, enum config_where where,
    const char *name)
{
	size_t i;

	if (where == CONFIG_IN_APP) {
		for (i = 0; i < cfg->napps; i++)
			if (strcmp(cfg->apps[i].id, name) == 0)
				return (ssize_t)i;
	} else {
		for (i = 0; i < cfg->nqueues; i++)
			if (strcmp(cfg->queues[i].name, name) == 0)
				return (ssize_t)i;
	}
	return -1;
}

/* Opens an [app NAME] or [queue NAME] section. Returns 0 or -1. */
static int
config_open_named(struct config_parse *st, const char *name)
{
	struct config *cfg = st->cfg;
	struct config_meta **meta, *m;
	struct config_app *apps;
	char err[CONFIG_MSGLEN / 2];
	ssize_t found;
	size_t n;

	if (st->sec->where == CONFIG_IN_APP &&
	    !config_charset(name, CONFIG_KEY_CHARS, 1, 64)) {
		config_error(st, st->lineno, "[%s]: \"%s\" is not a valid app "
		    "name (1..64 characters of A-Z a-z 0-9 _ -)", st->secname,
		    name);
		return -1;
	}
	if (st->sec->where == CONFIG_IN_QUEUE &&
	    config_check_amqp_name(name, err, sizeof err) == -1) {
		config_error(st, st->lineno, "[%s]: %s", st->secname, err);
		return -1;
	}
	if (st->sec->where == CONFIG_IN_QUEUE && !st->queues_given) {
		/* The first [queue] replaces the default queue. */
		config_queues_free(cfg);
		free(st->queues);
		st->queues = NULL;
		st->queues_given = 1;
	}
	found = config_find_named(cfg, st->sec->where, name);
	meta = st->sec->where == CONFIG_IN_APP ? &st->apps : &st->queues;
	if (found >= 0) {
		config_error(st, st->lineno, "[%s]: given twice (first on line "
		    "%u)", st->secname, (*meta)[found].line);
		return -1;
	}
	n = st->sec->where == CONFIG_IN_APP ? cfg->napps : cfg->nqueues;
	m = reallocarray(*meta, n + 1, sizeof *m);
	if (m == NULL)
		goto nomem;
	*meta = m;
	memset(&m[n], 0, sizeof m[n]);
	m[n].line = st->lineno;
	if (st->sec->where == CONFIG_IN_QUEUE) {
		if (config_queue_add(cfg, name, 0) == -1)
			goto nomem;
	} else {
		apps = reallocarray(cfg->apps, n + 1, sizeof *apps);
		if (apps == NULL)
			goto nomem;
		cfg->apps = apps;
		memset(&apps[n], 0, sizeof apps[n]);
		if ((apps[n].id = strdup(name)) == NULL)
			goto nomem;
		cfg->napps++;
	}
	st->idx = n;
	st->keylines = m[n].keys;
	return 0;

nomem:
	config_nomem(st);
	return -1;
}

/* Starts the section named by text, the len bytes between the brackets. */
static void
config_open_section(struct config_parse *st, const char *text, size_t len)
{
	const struct config_section *sec;
	const char *name;
	size_t tlen;

	while (len > 0 && isspace((unsigned char)*text)) {
		text++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	snprintf(st->secname, sizeof st->secname, "%.*s", (int)len, text);
	tlen = strcspn(st->secname, " \t");
	name = st->secname + tlen + strspn(st->secname + tlen, " \t");
	st->sec = NULL;
	st->ignore = 1;
	st->cont = NULL;
	sec = config_section_find(st->secname, tlen);
	if (sec == NULL || (sec->where != CONFIG_IN_APP &&
	    sec->where != CONFIG_IN_QUEUE && *name != '\0')) {
		config_error(st, st->lineno, "[%s]: unknown section",
		    st->secname);
		return;
	}
	st->sec = sec;
	if (sec->where == CONFIG_IN_OTHER)
		return;			/* ignore stays set */
	if (sec->where == CONFIG_IN_CONFIG) {
		st->keylines = st->fixed[config_section_index(sec)];
		st->ignore = 0;
		return;
	}
	if (*name == '\0') {
		config_error(st, st->lineno, "[%s]: the section needs a name, "
		    "as in [%s NAME]", st->secname, sec->name);
		return;
	}
	if (config_open_named(st, name) == 0)
		st->ignore = 0;
}

/*
 * Classifies the line in st->buf as libinih will see it, and opens
 * sections. p is the first non-blank character.
 */
static enum config_line
config_classify(struct config_parse *st, const char *p)
{
	const char *q;
	int was_space = 0;

	if (*p == '\0' || *p == ';' || *p == '#')
		return CONFIG_LINE_BLANK;
	if (st->have_name && p > st->buf)
		return CONFIG_LINE_CONT;
	if (*p != '[')
		return CONFIG_LINE_PAIR;
	/* libinih: the "]" before any inline comment (" ;"). */
	for (q = p + 1; *q != '\0' && *q != ']' && !(was_space && *q == ';');
	    q++)
		was_space = isspace((unsigned char)*q);
	if (*q != ']') {
		config_error(st, st->lineno, "section header without \"]\"");
		st->ignore = 1;
		st->cont = NULL;
		return CONFIG_LINE_BAD;
	}
	config_open_section(st, p + 1, (size_t)(q - p - 1));
	st->have_name = 0;
	for (q++; isspace((unsigned char)*q); q++)
		;
	if (*q != '\0' && *q != ';' && *q != '#')
		config_error(st, st->lineno, "text after the section header's "
		    "\"]\"");
	return CONFIG_LINE_SECTION;
}

/* Called once a line has been through libinih. */
static void
config_line_done(struct config_parse *st)
{
	if (st->line == CONFIG_LINE_PAIR && !st->handled)
		config_error(st, st->lineno, "expected \"key = value\", "
		    "\"[section]\" or a comment");
	st->line = CONFIG_LINE_BLANK;
}

/*
 * The libinih reader: hands over one line of the file at a time, after
 * noting what it is. Blank lines, comments and section headers go to
 * libinih in a neutral form ("" or "[]"), so only pairs and continuations
 * reach the handler, and libinih's limits on names do not apply.
 */
char *
config_reader(char *str, int num, void *stream)
{
	struct config_parse *st = stream;
	const char *p;
	ssize_t n;
	size_t len;

	config_line_done(st);
	if (st->nomem || num < 4)
		return NULL;
	errno = 0;
	n = getline(&st->buf, &st->bufcap, st->fp);
	if (n == -1) {
		if (errno == ENOMEM)
			config_nomem(st);
		else if (ferror(st->fp))
			config_error(st, 0, "read error: %s", strerror(errno));
		return NULL;
	}
	st->lineno++;
	st->handled = 0;
	len = (size_t)n;
	if (len > 0 && st->buf[len - 1] == '\n')
		st->buf[--len] = '\0';
	if (strlen(st->buf) != len) {
		config_error(st, st->lineno, "the line holds a NUL byte");
		st->line = CONFIG_LINE_BAD;
		st->cont = NULL;
		strcpy(str, "\n");
		return str;
	}
	p = st->buf;
	if (st->lineno == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (isspace((unsigned char)*p))
		p++;
	st->line = config_classify(st, p);
	switch (st->line) {
	case CONFIG_LINE_SECTION:
		strcpy(str, "[]\n");
		break;
	case CONFIG_LINE_PAIR:
	case CONFIG_LINE_CONT:
		if (len + 2 <= (size_t)num) {
			memcpy(str, st->buf, len);
			strcpy(str + len, "\n");
			break;
		}
		config_error(st, st->lineno, "the line is longer than %d "
		    "characters (a list can go on over indented lines)",
		    num - 2);
		st->line = CONFIG_LINE_BAD;
		st->cont = NULL;
		/* FALLTHROUGH */
	case CONFIG_LINE_BLANK:
	case CONFIG_LINE_BAD:
		strcpy(str, "\n");
		break;
	}
	return str;
}
