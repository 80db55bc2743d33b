/*
 * test_inifile.c: the INI engine on a grammar of its own (not sluiced's
 * nor the loader's): both wordings, named sections, peeked and skipped
 * sections, where keys were given, and values set without a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "core/inifile.h"
#include "core/sluice.h"

struct toy {
	char		*word;
	unsigned	 count;
	int		 color;
	char		*peek;
	char		*names[4];	/* [thing NAME] */
	unsigned	 sizes[4];
	size_t		 nthings;
};

static const struct inifile_choice toy_colors = {
	"color", { "red", "green", "blue", NULL }
};

static const struct inifile_key toy_keys[] = {
	{ "word", INIFILE_STRING, offsetof(struct toy, word), 0, 0, NULL,
	    INIFILE_NONEMPTY, NULL },
	{ "count", INIFILE_UINT, offsetof(struct toy, count), 1, 9, NULL, 0,
	    NULL },
	{ "color", INIFILE_CHOICE, offsetof(struct toy, color), 0, 0, NULL, 0,
	    &toy_colors },
};
static const struct inifile_key toy_peek_keys[] = {
	{ "peek", INIFILE_STRING, offsetof(struct toy, peek), 0, 0, NULL, 0,
	    NULL },
};
static const struct inifile_key toy_thing_keys[] = {
	{ "size", INIFILE_UINT, 0, 0, 100, NULL, 0, NULL },
};

static const struct inifile_section toy_sections[] = {
	{ "toy", toy_keys, SLUICE_ARRAY_LEN(toy_keys), INIFILE_KEYS, NULL },
	{ "peek", toy_peek_keys, SLUICE_ARRAY_LEN(toy_peek_keys),
	    INIFILE_PEEKED, NULL },
	{ "thing", toy_thing_keys, SLUICE_ARRAY_LEN(toy_thing_keys),
	    INIFILE_NAMED, NULL },
};

static int
toy_open(void *user, const struct inifile_section *sec, const char *name,
    size_t index)
{
	struct toy *t = user;

	(void)sec;
	if (index >= SLUICE_ARRAY_LEN(t->names))
		return -1;
	t->names[index] = strdup(name);
	t->nthings = index + 1;
	return t->names[index] == NULL ? -1 : 0;
}

static void *
toy_base(void *user, const struct inifile_section *sec, size_t index)
{
	struct toy *t = user;

	return strcmp(sec->name, "thing") == 0 ? (void *)&t->sizes[index] :
	    (void *)t;
}

static const struct inifile_grammar toy_value_grammar = {
	toy_sections, SLUICE_ARRAY_LEN(toy_sections), INIFILE_SAY_VALUE, 0,
	toy_open, toy_base
};
static const struct inifile_grammar toy_rule_grammar = {
	toy_sections, SLUICE_ARRAY_LEN(toy_sections), INIFILE_SAY_RULE,
	INIFILE_OTHERS_SKIPPED | INIFILE_SINGLE_LINE, toy_open, toy_base
};

static char toy_dir[4096], toy_path[4200];

static void
toy_free(struct toy *t)
{
	size_t i;

	free(t->word);
	free(t->peek);
	for (i = 0; i < t->nthings; i++)
		free(t->names[i]);
	memset(t, 0, sizeof *t);
}

/* Reads text with g into t; errors in errs; ini is left to the caller. */
static void
toy_read(const struct inifile_grammar *g, const char *text, struct toy *t,
    struct inifile *ini, struct config_errors *errs)
{
	FILE *f;

	snprintf(toy_dir, sizeof toy_dir, "%s", unit_tmpdir());
	snprintf(toy_path, sizeof toy_path, "%s/toy.ini", toy_dir);
	f = fopen(toy_path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	memset(t, 0, sizeof *t);
	memset(errs, 0, sizeof *errs);
	inifile_init(ini, g, t, toy_path, errs);
	CU_ASSERT_EQUAL(inifile_read(ini), 0);
	unit_rmtree(toy_dir);
}

/* 1 if errs holds exactly one error, "<path>:line: want". */
static int
toy_one_error(const struct config_errors *errs, unsigned line,
    const char *want)
{
	char expect[4600];
	size_t i;

	snprintf(expect, sizeof expect, "%s:%u: %s", toy_path, line, want);
	if (errs->count == 1 && strcmp(errs->items[0], expect) == 0)
		return 1;
	fprintf(stderr, "\nwanted \"%s\", got:\n", expect);
	for (i = 0; i < errs->count; i++)
		fprintf(stderr, "  %s\n", errs->items[i]);
	return 0;
}

static void
TEST_values_and_lines(void)
{
	struct config_errors errs;
	struct inifile ini;
	struct toy t;

	toy_read(&toy_value_grammar, "[toy]\nword = hi\n\ncount = 7\n"
	    "color = blue\n[thing a]\nsize = 5\n[thing b]\n[peek]\n"
	    "peek = x\nother = ignored\n", &t, &ini, &errs);
	CU_ASSERT_FALSE(inifile_failed(&ini));
	CU_ASSERT_EQUAL(errs.count, 0);
	CU_ASSERT_STRING_EQUAL(t.word, "hi");
	CU_ASSERT_EQUAL(t.count, 7);
	CU_ASSERT_EQUAL(t.color, 2);
	CU_ASSERT_STRING_EQUAL(t.peek, "x");
	CU_ASSERT_EQUAL(t.nthings, 2);
	CU_ASSERT_STRING_EQUAL(t.names[1], "b");
	CU_ASSERT_EQUAL(t.sizes[0], 5);
	CU_ASSERT_EQUAL(inifile_key_line(&ini, "toy", 0, "count"), 4);
	CU_ASSERT_EQUAL(inifile_key_line(&ini, "toy", 0, "nope"), 0);
	CU_ASSERT_EQUAL(inifile_key_line(&ini, "thing", 0, "size"), 7);
	CU_ASSERT_EQUAL(inifile_key_line(&ini, "thing", 1, "size"), 0);
	CU_ASSERT_EQUAL(inifile_section_line(&ini, "thing", 1), 8);
	CU_ASSERT_EQUAL(inifile_section_line(&ini, "thing", 2), 0);
	CU_ASSERT_TRUE(inifile_key_taken(&ini, "toy", 0, "word"));
	inifile_free(&ini);
	config_errors_free(&errs);
	toy_free(&t);
}

static void
TEST_two_wordings(void)
{
	static const struct {
		const char	*text;
		unsigned	 line;
		const char	*value_says, *rule_says;
	} cases[] = {
		{ "[toy]\ncount = 10\n", 2, "[toy] count: 10 is out of range "
		    "(1..9)", "[toy] count: must be a number from 1 to 9" },
		{ "[toy]\ncount = x\n", 2, "[toy] count: \"x\" is not a number",
		    "[toy] count: must be a number from 1 to 9" },
		{ "[toy]\ncolor = pink\n", 2, "[toy] color: \"pink\" is not a "
		    "color (red, green or blue)", "[toy] color: must be red, "
		    "green or blue" },
		{ "[toy]\nword =\n", 2, "[toy] word: must not be empty",
		    "[toy] word: must not be empty" },
		{ "[toy]\nbogus = 1\n", 2, "[toy] bogus: unknown key",
		    "[toy]: unknown key \"bogus\"" },
		{ "[toy]\ncount = 1\ncount = 2\n", 3, "[toy] count: given "
		    "twice (first on line 2)", "[toy] count: given twice "
		    "(first on line 2)" },
		{ "[thing a]\n[thing a]\n", 2, "[thing a]: given twice (first "
		    "on line 1)", "[thing a]: given twice (first on line 1)" },
		{ "[toy]\ncount = 1\n  2\n", 3, "[toy] count: takes a single "
		    "value, but an indented line continues it",
		    "[toy] values do not go on over indented lines" },
	};
	struct config_errors errs;
	struct inifile ini;
	struct toy t;
	size_t i;

	for (i = 0; i < SLUICE_ARRAY_LEN(cases); i++) {
		toy_read(&toy_value_grammar, cases[i].text, &t, &ini, &errs);
		CU_ASSERT_TRUE(inifile_failed(&ini));
		CU_ASSERT_TRUE(toy_one_error(&errs, cases[i].line,
		    cases[i].value_says));
		inifile_free(&ini);
		config_errors_free(&errs);
		toy_free(&t);
		toy_read(&toy_rule_grammar, cases[i].text, &t, &ini, &errs);
		CU_ASSERT_TRUE(toy_one_error(&errs, cases[i].line,
		    cases[i].rule_says));
		inifile_free(&ini);
		config_errors_free(&errs);
		toy_free(&t);
	}
}

/* Unknown sections: an error, or (INIFILE_OTHERS_SKIPPED) not read. */
static void
TEST_other_sections(void)
{
	const char *text = "key = before\n[other]\n  indented = x\njunk\n"
	    "[toy]\ncount = 3\n";
	struct config_errors errs;
	struct inifile ini;
	struct toy t;

	toy_read(&toy_rule_grammar, text, &t, &ini, &errs);
	CU_ASSERT_FALSE(inifile_failed(&ini));
	CU_ASSERT_EQUAL(t.count, 3);
	inifile_free(&ini);
	config_errors_free(&errs);
	toy_free(&t);
	toy_read(&toy_value_grammar, text, &t, &ini, &errs);
	CU_ASSERT_TRUE(inifile_failed(&ini));
	CU_ASSERT_EQUAL(errs.count, 3);	/* outside, [other], junk */
	CU_ASSERT_EQUAL(t.count, 3);
	inifile_free(&ini);
	config_errors_free(&errs);
	toy_free(&t);
}

/* inifile_key_apply: a value from elsewhere than a file (a flag). */
static void
TEST_apply(void)
{
	struct toy t;
	char err[128];

	memset(&t, 0, sizeof t);
	CU_ASSERT_EQUAL(inifile_key_apply(&toy_keys[1], INIFILE_SAY_RULE, &t,
	    "4", err, sizeof err), SLUICE_OK);
	CU_ASSERT_EQUAL(t.count, 4);
	CU_ASSERT_EQUAL(inifile_key_apply(&toy_keys[1], INIFILE_SAY_RULE, &t,
	    "0", err, sizeof err), SLUICE_EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "must be a number from 1 to 9");
	CU_ASSERT_EQUAL(t.count, 4);
	CU_ASSERT_EQUAL(inifile_key_apply(&toy_keys[0], INIFILE_SAY_VALUE, &t,
	    "a", err, sizeof err), SLUICE_OK);
	CU_ASSERT_EQUAL(inifile_key_apply(&toy_keys[0], INIFILE_SAY_VALUE, &t,
	    "b", err, sizeof err), SLUICE_OK);
	CU_ASSERT_STRING_EQUAL(t.word, "b");
	toy_free(&t);
}

void
test_inifile_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_values_and_lines", TEST_values_and_lines },
		{ "TEST_two_wordings", TEST_two_wordings },
		{ "TEST_other_sections", TEST_other_sections },
		{ "TEST_apply", TEST_apply },
		{ NULL, NULL }
	};

	unit_add_suite("inifile", tests);
}
