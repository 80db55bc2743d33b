/*
 * test_log.c: the log's escaping of what it is given: control bytes, the
 * C1 range, backslashes and invalid UTF-8 come out as \xNN, valid UTF-8
 * as it is, and a line written through log_msg stays one line.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "core/log.h"

/* Escapes s (n bytes) into a buffer of dstlen and returns it (static). */
static const char *
esc(const char *s, size_t n, size_t dstlen)
{
	static char out[512];
	size_t len;

	CU_ASSERT_FATAL(dstlen <= sizeof out);
	len = log_escape(out, dstlen, s, n);
	CU_ASSERT_EQUAL(len, strlen(out));
	return out;
}

#define ESC(s) esc((s), sizeof(s) - 1, 512)

static void
TEST_plain_text_unchanged(void)
{
	CU_ASSERT_STRING_EQUAL(ESC("origin http://a.example:8080 refused"),
	    "origin http://a.example:8080 refused");
	CU_ASSERT_STRING_EQUAL(ESC(""), "");
	/* Valid UTF-8 of every length stays readable. */
	CU_ASSERT_STRING_EQUAL(ESC("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

static void
TEST_control_bytes(void)
{
	CU_ASSERT_STRING_EQUAL(ESC("http://x\x1b[31m\x07"),
	    "http://x\\x1b[31m\\x07");
	CU_ASSERT_STRING_EQUAL(ESC("a\nb\rc\td\x7f"),
	    "a\\x0ab\\x0dc\\x09d\\x7f");
	CU_ASSERT_STRING_EQUAL(esc("a\0b", 3, 512), "a\\x00b");
	/* C1 controls, valid UTF-8 but read by terminals (CSI is U+009B). */
	CU_ASSERT_STRING_EQUAL(ESC("x\xc2\x9b" "2J\xc2\x85"),
	    "x\\xc2\\x9b2J\\xc2\\x85");
	CU_ASSERT_STRING_EQUAL(ESC("\xc2\xa0"), "\xc2\xa0");
	/* A backslash is doubled, so that \x1b in a value is not ESC. */
	CU_ASSERT_STRING_EQUAL(ESC("a\\x1b"), "a\\\\x1b");
}

static void
TEST_invalid_utf8(void)
{
	CU_ASSERT_STRING_EQUAL(ESC("\xff\xfe"), "\\xff\\xfe");
	CU_ASSERT_STRING_EQUAL(ESC("\xc0\xaf"), "\\xc0\\xaf");	/* overlong */
	CU_ASSERT_STRING_EQUAL(ESC("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	CU_ASSERT_STRING_EQUAL(ESC("\xf4\x90\x80\x80"),
	    "\\xf4\\x90\\x80\\x80");			/* past U+10FFFF */
	CU_ASSERT_STRING_EQUAL(ESC("ok\xe2\x82"), "ok\\xe2\\x82");
	CU_ASSERT_STRING_EQUAL(ESC("\xe2\x82" "a\xc3\xa9"),
	    "\\xe2\\x82a\xc3\xa9");
}

static void
TEST_bounded(void)
{
	CU_ASSERT_EQUAL(log_escape(NULL, 0, "abc", 3), 0);
	CU_ASSERT_STRING_EQUAL(esc("abcdef", 6, 4), "abc");
	/* An escape or a character is never cut in half. */
	CU_ASSERT_STRING_EQUAL(esc("ab\x1b", 3, 6), "ab");
	CU_ASSERT_STRING_EQUAL(esc("ab\x1b", 3, 7), "ab\\x1b");
	CU_ASSERT_STRING_EQUAL(esc("a\xe2\x82\xac", 4, 4), "a");
	CU_ASSERT_STRING_EQUAL(esc("a\xe2\x82\xac", 4, 5), "a\xe2\x82\xac");
	CU_ASSERT_STRING_EQUAL(esc("a\\", 2, 3), "a");
}

static void
TEST_log_msg_one_line(void)
{
	char dir[480], path[512], buf[4096];
	int saved, fd;
	ssize_t n;

	snprintf(dir, sizeof dir, "%s", unit_tmpdir());
	snprintf(path, sizeof path, "%s/log", dir);
	saved = dup(STDERR_FILENO);
	CU_ASSERT_FATAL(saved != -1);
	CU_ASSERT_EQUAL_FATAL(log_open(path), 0);
	log_set_level(LOG_LEVEL_INFO);
	log_info("ws", "origin %s refused for app %s",
	    "http://evil\x1b]0;owned\x07\n2026-12-08T00:00:00.000Z info x",
	    "a\xc0\xaf");
	log_set_level((enum log_level)(LOG_LEVEL_ERROR + 1));
	dup2(saved, STDERR_FILENO);
	close(saved);

	fd = open(path, O_RDONLY);
	CU_ASSERT_FATAL(fd != -1);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	CU_ASSERT_FATAL(n > 0);
	buf[n] = '\0';
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, " info ws: origin http://evil"
	    "\\x1b]0;owned\\x07\\x0a2026-12-08T00:00:00.000Z info x refused "
	    "for app a\\xc0\\xaf\n"));
	/* One line, ending in its newline. */
	CU_ASSERT_PTR_EQUAL(strchr(buf, '\n'), buf + n - 1);
	unit_rmtree(dir);
}

void
test_log_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_plain_text_unchanged", TEST_plain_text_unchanged },
		{ "TEST_control_bytes", TEST_control_bytes },
		{ "TEST_invalid_utf8", TEST_invalid_utf8 },
		{ "TEST_bounded", TEST_bounded },
		{ "TEST_log_msg_one_line", TEST_log_msg_one_line },
		{ NULL, NULL }
	};

	unit_add_suite("log", tests);
}
