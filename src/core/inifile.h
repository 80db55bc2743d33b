/*
 * inifile.h: the INI engine both programs (sluiced, sluice-loader) read their
 * configuration file with. libinih splits the file into key = value pairs;
 * the engine's line reader numbers and classifies every line first, so
 * that each problem is collected as "file:line: message" (libinih reports
 * only the first). A program describes its part of the file with a
 * grammar: sections, each with a table of keys saying how a value is
 * parsed, checked and stored. inifile.c reads files, inifile_value.c parses
 * values. Thread rule: one load runs in one thread; tables are constant.
 */
#ifndef SLUICE_INIFILE_H
#define SLUICE_INIFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define INIFILE_K		(UINT64_C(1) << 10)
#define INIFILE_M		(UINT64_C(1) << 20)
#define INIFILE_G		(UINT64_C(1) << 30)
#define INIFILE_MSGLEN	512	/* one message, before file:line */
#define INIFILE_SECNAME_MAX 270	/* "queue NAME" with a 255-byte name */

/*
 * Two lists the configuration code of both programs shares. They keep the
 * config_ names that sluiced's config struct and its callers use.
 */
struct config_strv {		/* strings from a space/comma list */
	char	**items;
	size_t	  count;
};

struct config_errors {		/* each "file:line: message" */
	char	**items;
	size_t	  count;
};

/* Adds a formatted message to errs. Returns 0, or -1 when out of memory
 * (nothing added). */
int config_errors_add(struct config_errors *errs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void config_errors_free(struct config_errors *errs);

/* Appends a copy of the len bytes at item. Returns 0, or -1 when out of
 * memory (v unchanged). */
int config_strv_add(struct config_strv *v, const char *item, size_t len);
void config_strv_free(struct config_strv *v);

/* How a key's value is parsed and what its field is. */
enum inifile_kind {
	INIFILE_STRING,	/* char *, owned; "" stored as NULL (but see
			 * INIFILE_KEEP_EMPTY) */
	INIFILE_UINT,	/* unsigned, a plain number in min..max */
	INIFILE_COUNT,	/* size_t, a plain number in min..max */
	INIFILE_SIZE,	/* size_t, a size with a K/M/G suffix, in min..max */
	INIFILE_SIZE64,	/* uint64_t, the same */
	INIFILE_LOGLEVEL,	/* enum log_level */
	INIFILE_CHOICE,	/* int: the index of the value in choice->names */
	INIFILE_BOOL,	/* int, 0 or 1: yes/no, on/off, true/false, 1/0 */
	INIFILE_LIST,	/* struct config_strv; repeats and indented lines add;
			 * min: the fewest items a line may give */
	INIFILE_NETADDRS /* struct netaddr_list; repeats and indented lines
			 * add */
};

/* Key flags. */
#define INIFILE_NONEMPTY 0x1	/* "" is refused: "must not be empty" */
#define INIFILE_KEEP_EMPTY 0x2	/* "" is stored as "", not NULL */

/*
 * Checks a string value or one list item. Returns 0, or -1 with a message
 * in err (which must not quote secrets).
 */
typedef int (*inifile_check_fn)(const char *value, char *err, size_t errlen);

/* The values an INIFILE_CHOICE key takes, and what one is called. */
struct inifile_choice {
	const char	*what;		/* "queue type" */
	const char	*names[4];	/* NULL after the last */
};

struct inifile_key {
	const char		*name;
	enum inifile_kind		 kind;
	size_t			 off;		/* in the section's struct */
	uint64_t		 min, max;
	inifile_check_fn	 check;		/* strings, list items */
	unsigned		 flags;
	const struct inifile_choice *choice;	/* INIFILE_CHOICE */
};

enum inifile_mode {
	INIFILE_KEYS,	/* [name]: the keys of the table, every value judged */
	INIFILE_NAMED,	/* [name X]: the same, once for each X */
	INIFILE_PASSED,	/* another program's: lines read, keys skipped */
	INIFILE_PEEKED	/* another program's: the table's keys are taken as
			 * they come (a bad value is skipped), others
			 * skipped */
};

struct inifile_section {
	const char		*name;
	const struct inifile_key	*keys;
	size_t			 nkeys;
	enum inifile_mode		 mode;
	inifile_check_fn	 name_check;	/* INIFILE_NAMED: the X */
};

/* How value errors read: '"x" is not a number' or 'must be a number from
 * 1 to 9'; and '[s] k: unknown key' or '[s]: unknown key "k"'. */
enum inifile_wording { INIFILE_SAY_VALUE, INIFILE_SAY_RULE };

/* Grammar flags. */
#define INIFILE_OTHERS_SKIPPED 0x1	/* sections not in the table, and lines
				 * before any section, are not read */
#define INIFILE_SINGLE_LINE 0x2	/* no value goes on over indented
				 * lines */

struct inifile_grammar {
	const struct inifile_section *sections;
	size_t			  nsections;
	enum inifile_wording	  wording;
	unsigned		  flags;
	/*
	 * INIFILE_NAMED sections: makes room for [sec->name name], the
	 * index-th of sec (0, 1, ...). Returns 0, or -1 when out of memory.
	 */
	int	(*open)(void *user, const struct inifile_section *sec,
		    const char *name, size_t index);
	/* The struct that the index-th section sec stores its keys in;
	 * NULL: user itself, for every section. */
	void	*(*base)(void *user, const struct inifile_section *sec,
		    size_t index);
};

struct inifile_block;

/* One load of one file. The fields are the engine's: use the functions. */
struct inifile {
	const struct inifile_grammar *g;
	void			*user;
	struct config_errors	*errs;
	const char		*path;
	FILE			*fp;
	char			*buf;		/* the current line */
	size_t			 bufcap;
	unsigned		 lineno;
	int			 line;		/* what it is, for libinih */
	int			 handled;	/* libinih passed it on */
	int			 have_name;	/* libinih's "previous name" */
	const struct inifile_section *sec;	/* NULL: none, or unknown */
	struct inifile_block	*block;		/* where sec's keys go */
	int			 ignore;	/* skip the section's keys */
	int			 skip;		/* skip the section's lines */
	char			 secname[INIFILE_SECNAME_MAX];
	const struct inifile_key *cont;		/* for indented lines */
	struct inifile_block	*blocks;	/* every section opened */
	size_t			 nblocks;
	size_t			 nerrors;
	int			 nomem;
};

/*
 * Prepares ini to read path with grammar g, storing values through g's
 * callbacks into user and errors into errs (which the caller owns). Call
 * inifile_free afterwards in every case.
 */
void inifile_init(struct inifile *ini, const struct inifile_grammar *g,
    void *user, const char *path, struct config_errors *errs);

/*
 * Reads the whole file, reporting every problem to errs. Returns 0 when
 * the file was read to its end (inifile_failed says whether anything was
 * wrong), or -1 when it could not be opened or memory ran out (reported).
 */
int inifile_read(struct inifile *ini);

/* 1 if any error was reported through ini, or memory ran out. */
int inifile_failed(const struct inifile *ini);

/* Frees what ini holds (not the values stored, nor errs). */
void inifile_free(struct inifile *ini);

/* Reports "path:line: message" ("path: message" when line is 0). */
void inifile_error(struct inifile *ini, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reports, once, that memory ran out; the read stops. */
void inifile_nomem(struct inifile *ini);

/*
 * The line where key was first given in the index-th section called
 * section (0 for an unnamed one), or 0 when it was not.
 */
unsigned inifile_key_line(const struct inifile *ini, const char *section,
    size_t index, const char *key);

/* 1 if key of that section was given and its last value was taken. */
int inifile_key_taken(const struct inifile *ini, const char *section,
    size_t index, const char *key);

/* The line of the index-th [section NAME], or 0 when there is none. */
unsigned inifile_section_line(const struct inifile *ini, const char *section,
    size_t index);

/* The key called name in sec's table, or NULL; *index: its position. */
const struct inifile_key *inifile_key_find(const struct inifile_section *sec,
    const char *name, size_t *index);

/*
 * Parses value as key says and stores it in the struct at base (a list key
 * takes one item; the old string of a string key is freed). Returns
 * SLUICE_OK; SLUICE_EINVAL with why in err, worded as w says, the field
 * unchanged; or SLUICE_ENOMEM ("out of memory" in err).
 */
int inifile_key_apply(const struct inifile_key *key, enum inifile_wording w,
    void *base, const char *value, char *err, size_t errlen);

/* Parses a plain decimal number: digits only. Returns 0 or -1. */
int inifile_parse_number(const char *text, uint64_t *out);

/*
 * Parses a size: a number with an optional K, M or G suffix (powers of
 * 1024, case-insensitive, an optional trailing "B"). Returns 0 or -1.
 */
int inifile_parse_size(const char *text, uint64_t *out);

/* Writes v as the shortest exact size text ("64", "32K", "1G") into buf
 * and returns buf. */
const char *inifile_size_text(uint64_t v, char *buf, size_t len);

#endif
