/*
 * config_internal.h: what config.c (the key tables, applying values, the
 * cross-key checks) and config_read.c (reading lines, opening sections)
 * share while one configuration file is loaded. Not for other modules.
 * Thread rule: one load runs in one thread.
 */
#ifndef SLUICE_CONFIG_INTERNAL_H
#define SLUICE_CONFIG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"
#include "core/config_check.h"

#define CONFIG_MAXKEYS		12	/* keys in the largest section */
#define CONFIG_LIST_SEP		" \t,"

enum config_kind {
	CONFIG_STRING,		/* char *; "" is stored as NULL */
	CONFIG_UINT,		/* unsigned, a plain number */
	CONFIG_COUNT,		/* size_t, a plain number */
	CONFIG_SIZE,		/* size_t, a size with a K/M/G suffix */
	CONFIG_SIZE64,		/* uint64_t, a size with a K/M/G suffix */
	CONFIG_LOGLEVEL,	/* enum log_level */
	CONFIG_QUEUETYPE,	/* enum config_queue_type */
	CONFIG_LIST,		/* struct config_strv; repeats append */
	CONFIG_NETADDRS		/* struct netaddr_list; repeats append */
};

/*
 * Checks a string value or one list item. Returns 0, or -1 with a message
 * in err (which must not quote secrets).
 */
typedef int (*config_check_fn)(const char *value, char *err, size_t errlen);

struct config_key {
	const char	*name;
	enum config_kind kind;
	size_t		 off;		/* in the section's struct */
	uint64_t	 min, max;	/* numbers: range; lists: min items */
	config_check_fn	 check;
};

#define CONFIG_FIXED_SECTIONS	5	/* unnamed sections sluiced reads */

/* Which struct a section's keys are stored in; CONFIG_IN_OTHER: the
 * section belongs to another program and its keys are skipped. */
enum config_where { CONFIG_IN_CONFIG, CONFIG_IN_APP, CONFIG_IN_QUEUE,
    CONFIG_IN_OTHER };

struct config_section {
	const char		*name;
	const struct config_key	*keys;
	size_t			 nkeys;
	enum config_where	 where;		/* apps and queues are named */
};

/* What the line being parsed is. */
enum config_line {
	CONFIG_LINE_BLANK,	/* empty or a comment */
	CONFIG_LINE_SECTION,
	CONFIG_LINE_PAIR,	/* should be key = value */
	CONFIG_LINE_CONT,	/* indented: continues the previous value */
	CONFIG_LINE_BAD		/* already reported */
};

/* Where an app or queue section and each of its keys were given. */
struct config_meta {
	unsigned	line;
	unsigned	keys[CONFIG_MAXKEYS];
};

struct config_parse {
	struct config		*cfg;
	struct config_errors	*errs;
	const char		*path;
	FILE			*fp;
	char			*buf;		/* the current line */
	size_t			 bufcap;
	unsigned		 lineno;
	enum config_line	 line;
	int			 handled;	/* libinih passed the line on */
	int			 have_name;	/* libinih's "previous name" */

	const struct config_section *sec;	/* NULL: before any section */
	int			 ignore;	/* skip keys: section is bad */
	char			 secname[CONFIG_NAME_MAX + 16];
	size_t			 idx;		/* app or queue index */
	unsigned		*keylines;	/* where sec's keys were set */
	const struct config_key	*cont;		/* for indented lines */

	unsigned		 fixed[CONFIG_FIXED_SECTIONS][CONFIG_MAXKEYS];
	struct config_meta	*apps;		/* parallel to cfg->apps */
	struct config_meta	*queues;	/* parallel to cfg->queues */
	int			 queues_given;

	size_t			 nerrors;
	int			 nomem;
};

/* The section named by the len bytes of name, or NULL. */
const struct config_section *config_section_find(const char *name,
    size_t len);

/* The position of an unnamed section in the table (its index in fixed). */
size_t config_section_index(const struct config_section *sec);

/* Records "path:line: message" (or "path: message" when line is 0). */
void config_error(struct config_parse *st, unsigned line, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* Records that memory ran out (once). */
void config_nomem(struct config_parse *st);

/* Adds a queue named name, bound "#" when bind_all. Returns 0 or -1. */
int config_queue_add(struct config *cfg, const char *name, int bind_all);

/* Drops every queue (when the file names its own). */
void config_queues_free(struct config *cfg);

/*
 * libinih's line reader (ini_parse_stream): reads the next line of st->fp
 * into str, numbers and classifies it, opens sections, and hands libinih
 * only what it should parse. Returns str, or NULL at the end.
 */
char *config_reader(char *str, int num, void *stream);

#endif
