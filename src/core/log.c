/*
 * log.c: leveled, timestamped log lines to stderr or a file. Thread-safe:
 * a line is formatted on the stack and written with one write(2); the
 * destination is a file descriptor replaced with dup2 on reopen.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/isotime.h"
#include "core/log.h"

static volatile int log_min_level = LOG_LEVEL_INFO;
static const int log_fd = STDERR_FILENO;

static const char *const log_level_names[] = {
	"debug", "info", "warn", "error"
};

int
log_level_parse(const char *name, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof log_level_names / sizeof log_level_names[0];
	    i++) {
		if (strcasecmp(name, log_level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_set_level(enum log_level level)
{
	log_min_level = (int)level;
}

int
log_open(const char *path)
{
	int fd, saved;

	if (path == NULL || *path == '\0')
		return 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	/* Replacing stderr keeps every writer, libraries too, on the file. */
	if (dup2(fd, log_fd) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return 0;
}

void
log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	char line[2048], stamp[ISOTIME_LEN];
	va_list ap;
	int n, m;
	ssize_t w;
	int saved = errno;

	if ((int)level < log_min_level || (int)level > LOG_LEVEL_ERROR)
		return;
	isotime_format(isotime_now_ms(), stamp);
	n = snprintf(line, sizeof line, "%s %s %s: ", stamp,
	    log_level_names[level], module);
	if (n < 0)
		n = 0;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	do
		w = write(log_fd, line, (size_t)n);
	while (w == -1 && errno == EINTR);
	errno = saved;
}
