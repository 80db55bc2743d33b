/*
 * log.c: leveled, timestamped log lines to stderr or a file, with control
 * bytes and invalid UTF-8 escaped in every message. Thread-safe: a line is
 * formatted on the stack and written with one write(2); the destination is
 * a file descriptor replaced with dup2 on reopen.
 */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/isotime.h"
#include "core/jsontext.h"
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

size_t
log_escape(char *dst, size_t dstlen, const char *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)src;
	size_t i = 0, start, len = 0, k;
	uint32_t cp;

	if (dstlen == 0)
		return 0;
	while (i < n) {
		start = i;
		if (u[i] >= 0x20 && u[i] < 0x7f && u[i] != '\\') {
			if (dstlen - len < 2)
				break;
			dst[len++] = (char)u[i++];
			continue;
		}
		if (u[i] == '\\') {
			if (dstlen - len < 3)
				break;
			dst[len++] = '\\';
			dst[len++] = '\\';
			i++;
			continue;
		}
		if (u[i] >= 0x80 && jsontext_utf8_next(u, n, &i, &cp) == 0 &&
		    cp > 0x9f) {
			if (dstlen - len < i - start + 1) {
				i = start;
				break;
			}
			memcpy(dst + len, src + start, i - start);
			len += i - start;
			continue;
		}
		/* A control byte, a C1 control (each of its bytes), or a
		 * byte that is not valid UTF-8. */
		if (i == start)
			i++;
		if (dstlen - len < 4 * (i - start) + 1) {
			i = start;
			break;
		}
		for (k = start; k < i; k++) {
			dst[len++] = '\\';
			dst[len++] = 'x';
			dst[len++] = hex[u[k] >> 4];
			dst[len++] = hex[u[k] & 0xf];
		}
	}
	dst[len] = '\0';
	return len;
}

void
log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	char line[2048], msg[2048], stamp[ISOTIME_LEN];
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
	if ((size_t)n > sizeof line - 2)
		n = (int)sizeof line - 2;
	va_start(ap, fmt);
	m = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	if ((size_t)m >= sizeof msg)
		m = (int)sizeof msg - 1;
	/* Leaves a byte for the newline. */
	n += (int)log_escape(line + n, sizeof line - (size_t)n - 1, msg,
	    (size_t)m);
	line[n++] = '\n';
	do
		w = write(log_fd, line, (size_t)n);
	while (w == -1 && errno == EINTR);
	errno = saved;
}
