/*
 * inifile.c: reading a configuration file with libinih for a grammar
 * (inifile.h).
 * Our line reader hands libinih one line at a time after numbering and
 * classifying it and opening [section] and [section NAME] headers itself,
 * so that every error gets its file:line (even those libinih would stop
 * at) and libinih's limits on names do not apply; the handler looks each
 * key up in its section's table and stores the value (inifile_value.c). Thread
 * rule: one load runs in one thread.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "core/inifile.h"
#include "core/sluice.h"

#define INIFILE_LIST_SEP " \t,"

/* What the line being read is, as libinih will see it. */
enum inifile_line {
	INIFILE_LINE_BLANK,		/* empty, a comment, or skipped */
	INIFILE_LINE_SECTION,
	INIFILE_LINE_PAIR,		/* should be key = value */
	INIFILE_LINE_CONT,	/* indented: goes on with the previous value */
	INIFILE_LINE_BAD		/* already reported */
};

/* A section as opened: where it was and where its keys were given. */
struct inifile_block {
	const struct inifile_section *sec;
	size_t			  index;	/* among the blocks of sec */
	char			 *name;		/* [sec NAME]; NULL: unnamed */
	unsigned		  line;
	unsigned		 *lines;	/* per key: first given */
	unsigned char		 *taken;	/* per key: last value taken */
};

void
inifile_init(struct inifile *ini, const struct inifile_grammar *g, void *user,
    const char *path, struct config_errors *errs)
{
	memset(ini, 0, sizeof *ini);
	ini->g = g;
	ini->user = user;
	ini->path = path;
	ini->errs = errs;
	ini->skip = (g->flags & INIFILE_OTHERS_SKIPPED) != 0;
}

void
inifile_free(struct inifile *ini)
{
	size_t i;

	for (i = 0; i < ini->nblocks; i++) {
		free(ini->blocks[i].name);
		free(ini->blocks[i].lines);
		free(ini->blocks[i].taken);
	}
	free(ini->blocks);
	free(ini->buf);
	if (ini->fp != NULL)
		fclose(ini->fp);
	ini->blocks = NULL;
	ini->nblocks = 0;
	ini->buf = NULL;
	ini->fp = NULL;
}

int
inifile_failed(const struct inifile *ini)
{
	return ini->nerrors > 0 || ini->nomem;
}

void
inifile_error(struct inifile *ini, unsigned line, const char *fmt, ...)
{
	char msg[INIFILE_MSGLEN];
	va_list ap;
	int rc;

	ini->nerrors++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line > 0)
		rc = config_errors_add(ini->errs, "%s:%u: %s", ini->path, line,
		    msg);
	else
		rc = config_errors_add(ini->errs, "%s: %s", ini->path, msg);
	if (rc == -1)
		ini->nomem = 1;
}

void
inifile_nomem(struct inifile *ini)
{
	if (!ini->nomem)
		inifile_error(ini, ini->lineno, "out of memory");
	ini->nomem = 1;
}

/* Reports a problem with key on the current line: "[section] key: ...". */
static void
inifile_key_error(struct inifile *ini, const struct inifile_key *key,
    const char *msg)
{
	inifile_error(ini, ini->lineno, "[%s] %s: %s", ini->secname, key->name,
	    msg);
}

const struct inifile_key *
inifile_key_find(const struct inifile_section *sec, const char *name,
    size_t *index)
{
	size_t i;

	for (i = 0; i < sec->nkeys; i++) {
		if (strcmp(sec->keys[i].name, name) == 0) {
			*index = i;
			return &sec->keys[i];
		}
	}
	return NULL;
}

/* The index-th block of the section called section, or NULL. */
static const struct inifile_block *
inifile_block_find(const struct inifile *ini, const char *section,
    size_t index)
{
	size_t i;

	for (i = 0; i < ini->nblocks; i++)
		if (ini->blocks[i].index == index &&
		    strcmp(ini->blocks[i].sec->name, section) == 0)
			return &ini->blocks[i];
	return NULL;
}

unsigned
inifile_key_line(const struct inifile *ini, const char *section, size_t index,
    const char *key)
{
	const struct inifile_block *b;
	size_t k;

	b = inifile_block_find(ini, section, index);
	if (b == NULL || inifile_key_find(b->sec, key, &k) == NULL)
		return 0;
	return b->lines[k];
}

int
inifile_key_taken(const struct inifile *ini, const char *section, size_t index,
    const char *key)
{
	const struct inifile_block *b;
	size_t k;

	b = inifile_block_find(ini, section, index);
	if (b == NULL || inifile_key_find(b->sec, key, &k) == NULL)
		return 0;
	return b->taken[k];
}

unsigned
inifile_section_line(const struct inifile *ini, const char *section,
    size_t index)
{
	const struct inifile_block *b;

	b = inifile_block_find(ini, section, index);
	return b != NULL ? b->line : 0;
}

/* Adds a block for sec (named name, or NULL) and makes it the current
 * one. Returns 0, or -1 when out of memory (reported). */
static int
inifile_block_add(struct inifile *ini, const struct inifile_section *sec,
    const char *name, size_t index)
{
	struct inifile_block *blocks, *b;

	blocks = reallocarray(ini->blocks, ini->nblocks + 1, sizeof *blocks);
	if (blocks == NULL)
		goto nomem;
	ini->blocks = blocks;
	b = &blocks[ini->nblocks];
	memset(b, 0, sizeof *b);
	b->sec = sec;
	b->index = index;
	b->line = ini->lineno;
	b->lines = calloc(sec->nkeys + 1, sizeof *b->lines);
	b->taken = calloc(sec->nkeys + 1, sizeof *b->taken);
	if (name != NULL)
		b->name = strdup(name);
	if (b->lines == NULL || b->taken == NULL ||
	    (name != NULL && b->name == NULL)) {
		free(b->lines);
		free(b->taken);
		free(b->name);
		goto nomem;
	}
	ini->nblocks++;
	ini->block = b;
	return 0;

nomem:
	inifile_nomem(ini);
	return -1;
}

/* Opens [sec name]: checks the name, then makes room for it. Returns 0,
 * or -1 (reported). */
static int
inifile_open_named(struct inifile *ini, const struct inifile_section *sec,
    const char *name)
{
	char err[INIFILE_MSGLEN / 2];
	size_t i, n = 0;

	if (sec->name_check != NULL &&
	    sec->name_check(name, err, sizeof err) == -1) {
		inifile_error(ini, ini->lineno, "[%s]: %s", ini->secname, err);
		return -1;
	}
	for (i = 0; i < ini->nblocks; i++) {
		if (ini->blocks[i].sec != sec)
			continue;
		if (strcmp(ini->blocks[i].name, name) == 0) {
			inifile_error(ini, ini->lineno, "[%s]: given twice "
			    "(first on line %u)", ini->secname,
			    ini->blocks[i].line);
			return -1;
		}
		n++;
	}
	if (ini->g->open(ini->user, sec, name, n) == -1) {
		inifile_nomem(ini);
		return -1;
	}
	return inifile_block_add(ini, sec, name, n);
}

/* The section called by the len bytes of name, or NULL. */
static const struct inifile_section *
inifile_section_find(const struct inifile_grammar *g, const char *name,
    size_t len)
{
	size_t i;

	for (i = 0; i < g->nsections; i++)
		if (strlen(g->sections[i].name) == len &&
		    strncmp(g->sections[i].name, name, len) == 0)
			return &g->sections[i];
	return NULL;
}

/* Starts the section named by text, the len bytes between the brackets. */
static void
inifile_open_section(struct inifile *ini, const char *text, size_t len)
{
	const struct inifile_section *sec;
	const char *name;
	size_t tlen;

	while (len > 0 && isspace((unsigned char)*text)) {
		text++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	snprintf(ini->secname, sizeof ini->secname, "%.*s", (int)len, text);
	tlen = strcspn(ini->secname, " \t");
	name = ini->secname + tlen + strspn(ini->secname + tlen, " \t");
	ini->sec = NULL;
	ini->block = NULL;
	ini->ignore = 1;
	ini->skip = 0;
	ini->cont = NULL;
	sec = inifile_section_find(ini->g, ini->secname, tlen);
	if (sec == NULL || (sec->mode != INIFILE_NAMED && *name != '\0')) {
		if (ini->g->flags & INIFILE_OTHERS_SKIPPED)
			ini->skip = 1;
		else
			inifile_error(ini, ini->lineno, "[%s]: unknown "
			    "section", ini->secname);
		return;
	}
	ini->sec = sec;
	if (sec->mode == INIFILE_PASSED)
		return;			/* ignore stays set */
	if (sec->mode != INIFILE_NAMED) {
		ini->block = (struct inifile_block *)inifile_block_find(ini,
		    sec->name, 0);
		if (ini->block == NULL &&
		    inifile_block_add(ini, sec, NULL, 0) == -1)
			return;
		ini->ignore = 0;
		return;
	}
	if (*name == '\0') {
		inifile_error(ini, ini->lineno, "[%s]: the section needs a "
		    "name, as in [%s NAME]", ini->secname, sec->name);
		return;
	}
	if (inifile_open_named(ini, sec, name) == 0)
		ini->ignore = 0;
}

/* 1 if the keys of the current section are judged (the section is ours). */
static int
inifile_judged(const struct inifile *ini)
{
	return !ini->ignore && ini->sec != NULL &&
	    (ini->sec->mode == INIFILE_KEYS ||
	    ini->sec->mode == INIFILE_NAMED);
}

/* Classifies the line in ini->buf, and opens sections. p is its first
 * non-blank character. */
static enum inifile_line
inifile_classify(struct inifile *ini, const char *p)
{
	const char *q;
	int was_space = 0;

	if (*p == '\0' || *p == ';' || *p == '#')
		return INIFILE_LINE_BLANK;
	if (!(ini->g->flags & INIFILE_SINGLE_LINE) && ini->have_name &&
	    p > ini->buf)
		return INIFILE_LINE_CONT;
	if (*p != '[') {
		if (ini->skip)
			return INIFILE_LINE_BLANK;
		if (!(ini->g->flags & INIFILE_SINGLE_LINE) || p == ini->buf)
			return INIFILE_LINE_PAIR;
		if (inifile_judged(ini))
			inifile_error(ini, ini->lineno, "[%s] values do not "
			    "go on over indented lines", ini->secname);
		return INIFILE_LINE_BAD;
	}
	/* libinih: the "]" before any inline comment (" ;"). */
	for (q = p + 1; *q != '\0' && *q != ']' && !(was_space && *q == ';');
	    q++)
		was_space = isspace((unsigned char)*q);
	if (*q != ']') {
		inifile_error(ini, ini->lineno, "section header without "
		    "\"]\"");
		ini->ignore = 1;
		ini->skip = (ini->g->flags & INIFILE_OTHERS_SKIPPED) != 0;
		ini->cont = NULL;
		return INIFILE_LINE_BAD;
	}
	inifile_open_section(ini, p + 1, (size_t)(q - p - 1));
	ini->have_name = 0;
	for (q++; isspace((unsigned char)*q); q++)
		;
	if (*q != '\0' && *q != ';' && *q != '#')
		inifile_error(ini, ini->lineno, "text after the section "
		    "header's \"]\"");
	return INIFILE_LINE_SECTION;
}

/* Called once a line has been through libinih. */
static void
inifile_line_done(struct inifile *ini)
{
	if (ini->line == INIFILE_LINE_PAIR && !ini->handled)
		inifile_error(ini, ini->lineno, "expected \"key = value\", "
		    "\"[section]\" or a comment");
	ini->line = INIFILE_LINE_BLANK;
}

/* Reports a line too long for libinih's buffer of num bytes. */
static void
inifile_too_long(struct inifile *ini, int num)
{
	if (!(ini->g->flags & INIFILE_SINGLE_LINE))
		inifile_error(ini, ini->lineno, "the line is longer than %d "
		    "characters (a list can go on over indented lines)",
		    num - 2);
	else if (inifile_judged(ini))
		inifile_error(ini, ini->lineno, "the line is longer than %d "
		    "characters", num - 2);
}

/*
 * The libinih reader (ini_parse_stream): hands over one line of the file
 * at a time, after noting what it is. Blank lines, comments, skipped lines
 * and section headers go to libinih in a neutral form ("" or "[]"), so
 * only pairs and continuations reach the handler.
 */
static char *
inifile_reader(char *str, int num, void *stream)
{
	struct inifile *ini = stream;
	const char *p;
	ssize_t n;
	size_t len;

	inifile_line_done(ini);
	if (ini->nomem || num < 4)
		return NULL;
	errno = 0;
	n = getline(&ini->buf, &ini->bufcap, ini->fp);
	if (n == -1) {
		if (errno == ENOMEM)
			inifile_nomem(ini);
		else if (ferror(ini->fp))
			inifile_error(ini, 0, "read error: %s",
			    strerror(errno));
		return NULL;
	}
	ini->lineno++;
	ini->handled = 0;
	len = (size_t)n;
	if (len > 0 && ini->buf[len - 1] == '\n')
		ini->buf[--len] = '\0';
	if (strlen(ini->buf) != len) {
		inifile_error(ini, ini->lineno, "the line holds a NUL byte");
		ini->line = INIFILE_LINE_BAD;
		ini->cont = NULL;
		strcpy(str, "\n");
		return str;
	}
	p = ini->buf;
	if (ini->lineno == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (isspace((unsigned char)*p))
		p++;
	ini->line = inifile_classify(ini, p);
	switch (ini->line) {
	case INIFILE_LINE_SECTION:
		strcpy(str, "[]\n");
		break;
	case INIFILE_LINE_PAIR:
	case INIFILE_LINE_CONT:
		if (len + 2 <= (size_t)num) {
			memcpy(str, ini->buf, len);
			strcpy(str + len, "\n");
			break;
		}
		inifile_too_long(ini, num);
		ini->line = INIFILE_LINE_BAD;
		ini->cont = NULL;
		/* FALLTHROUGH */
	case INIFILE_LINE_BLANK:
	case INIFILE_LINE_BAD:
		strcpy(str, "\n");
		break;
	}
	return str;
}

/* Splits a list value and appends each good item. */
static void
inifile_apply_list(struct inifile *ini, const struct inifile_key *key,
    void *base, const char *value)
{
	char err[INIFILE_MSGLEN / 2], *item;
	const char *p;
	size_t n, found = 0;
	int rc;

	for (p = value + strspn(value, INIFILE_LIST_SEP); *p != '\0';
	    p += strspn(p, INIFILE_LIST_SEP)) {
		n = strcspn(p, INIFILE_LIST_SEP);
		found++;
		if ((item = strndup(p, n)) == NULL) {
			inifile_nomem(ini);
			return;
		}
		rc = inifile_key_apply(key, ini->g->wording, base, item, err,
		    sizeof err);
		free(item);
		if (rc == SLUICE_ENOMEM)
			inifile_nomem(ini);
		else if (rc != SLUICE_OK)
			inifile_key_error(ini, key, err);
		p += n;
	}
	if (found < key->min)
		inifile_key_error(ini, key, "no value given");
}

/* Stores value for key (the k-th of the current section), or reports why
 * not. cont: an indented line goes on with it. */
static void
inifile_apply(struct inifile *ini, const struct inifile_key *key, size_t k,
    const char *value, int cont)
{
	char err[INIFILE_MSGLEN / 2];
	void *base = ini->user;
	int rc;

	if (ini->g->base != NULL)
		base = ini->g->base(ini->user, ini->sec, ini->block->index);
	if (cont && key->kind != INIFILE_LIST &&
	    key->kind != INIFILE_NETADDRS) {
		inifile_key_error(ini, key, "takes a single value, but an "
		    "indented line continues it");
		ini->cont = NULL;
		return;
	}
	if (key->kind == INIFILE_LIST) {
		inifile_apply_list(ini, key, base, value);
		return;
	}
	rc = inifile_key_apply(key, ini->g->wording, base, value, err,
	    sizeof err);
	ini->block->taken[k] = rc == SLUICE_OK;
	if (ini->sec->mode == INIFILE_PEEKED)
		return;
	if (rc == SLUICE_ENOMEM)
		inifile_nomem(ini);
	else if (rc != SLUICE_OK)
		inifile_key_error(ini, key, err);
}

/* The libinih handler: one key = value pair, or an indented continuation. */
static int
inifile_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct inifile *ini = user;
	const struct inifile_key *key;
	size_t i, len;

	(void)section;		/* the reader follows sections itself */
	if (name == NULL || value == NULL)
		return 1;
	ini->handled = 1;
	if (ini->line == INIFILE_LINE_CONT) {
		len = strlen(value);
		if (len > 0 && *value == '[' && value[len - 1] == ']') {
			/* libinih reads an indented header as a value. */
			inifile_error(ini, ini->lineno, "indented \"%s\" "
			    "would continue the value above: a section header "
			    "must start its line", value);
			ini->cont = NULL;
		} else if (ini->cont != NULL && !ini->ignore)
			inifile_apply(ini, ini->cont,
			    (size_t)(ini->cont - ini->sec->keys), value, 1);
		return 1;
	}
	ini->have_name = *name != '\0';
	ini->cont = NULL;
	if (ini->ignore)
		return 1;
	if (ini->sec == NULL) {
		inifile_error(ini, ini->lineno, "%s: key outside any section",
		    name);
		return 1;
	}
	key = inifile_key_find(ini->sec, name, &i);
	if (ini->sec->mode == INIFILE_PEEKED) {
		if (key != NULL)
			inifile_apply(ini, key, i, value, 0);
		return 1;
	}
	if (key == NULL) {
		if (ini->g->wording == INIFILE_SAY_RULE)
			inifile_error(ini, ini->lineno, "[%s]: unknown key "
			    "\"%.64s\"", ini->secname, name);
		else
			inifile_error(ini, ini->lineno, "[%s] %s: unknown key",
			    ini->secname, name);
		return 1;
	}
	if (ini->block->lines[i] != 0) {
		if (key->kind != INIFILE_LIST &&
		    key->kind != INIFILE_NETADDRS) {
			inifile_error(ini, ini->lineno, "[%s] %s: given twice "
			    "(first on line %u)", ini->secname, key->name,
			    ini->block->lines[i]);
			return 1;
		}
	} else
		ini->block->lines[i] = ini->lineno;
	ini->cont = key;
	inifile_apply(ini, key, i, value, 0);
	return 1;
}

int
inifile_read(struct inifile *ini)
{
	int rc;

	ini->fp = fopen(ini->path, "re");
	if (ini->fp == NULL) {
		inifile_error(ini, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	rc = ini_parse_stream(inifile_reader, ini, inifile_handler, ini);
	fclose(ini->fp);
	ini->fp = NULL;
	if (rc == -2)
		inifile_nomem(ini);
	else if (rc > 0 && ini->nerrors == 0)
		inifile_error(ini, (unsigned)rc, "syntax error");
	return ini->nomem ? -1 : 0;
}
