/*
 * log.h: leveled logging to stderr or a file, one line per message with UTC
 * time, level and module: "2026-11-22T17:17:46.123Z info journal: ...".
 * Thread-safe: each line is written with a single write(2).
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stddef.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Parses "debug", "info", "warn" or "error". Returns 0, or -1 if unknown. */
int log_level_parse(const char *name, enum log_level *out);

/* Sets the minimum level written. Call before threads start. */
void log_set_level(enum log_level level);

/*
 * Sends the log to path (appending), or to stderr when path is NULL or "".
 * Returns 0, or -1 with errno set when the file cannot be opened (the
 * previous destination is kept). Called from the main thread (also on SIGHUP
 * to reopen a rotated file).
 */
int log_open(const char *path);

/*
 * Writes one line. module is a short static name such as "http". The
 * formatted message goes through log_escape, so a value a client sent
 * (an origin, a user agent) can neither break the line nor reach a
 * terminal as control codes.
 */
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Copies n bytes of src into dst (dstlen bytes, always NUL-terminated when
 * dstlen > 0) with each control byte (below 0x20, 0x7f, and the C1 range
 * U+0080..U+009F), each byte that is not part of valid UTF-8 written as
 * \xNN and a backslash as \\; valid UTF-8 is copied as it is. Stops before
 * a character that would not fit whole. Returns the length written.
 * Thread-safe.
 */
size_t log_escape(char *dst, size_t dstlen, const char *src, size_t n);

#define log_debug(m, ...) log_msg(LOG_LEVEL_DEBUG, m, __VA_ARGS__)
#define log_info(m, ...) log_msg(LOG_LEVEL_INFO, m, __VA_ARGS__)
#define log_warn(m, ...) log_msg(LOG_LEVEL_WARN, m, __VA_ARGS__)
#define log_error(m, ...) log_msg(LOG_LEVEL_ERROR, m, __VA_ARGS__)

#endif
