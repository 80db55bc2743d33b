/*
 * config_check.h: the checks of single configuration values (addresses,
 * names, keys, origins, channels, patterns) that sluiced's key tables
 * (config.c) name; numbers and sizes are the INI engine's (inifile.h). Thread-safe: no state.
 */
#ifndef SLUICE_CONFIG_CHECK_H
#define SLUICE_CONFIG_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "core/inifile.h"

#define CONFIG_K		INIFILE_K
#define CONFIG_M		INIFILE_M
#define CONFIG_G		INIFILE_G
#define CONFIG_MSGLEN		INIFILE_MSGLEN	/* before file:line */
#define CONFIG_NAME_MAX		255	/* AMQP shortstr */
#define CONFIG_CHANNEL_MAX	164	/* Pusher's channel name limit */

/* Characters allowed, besides ASCII letters and digits, in names. */
#define CONFIG_KEY_CHARS	"_-"
#define CONFIG_AMQP_CHARS	"-_.:"
#define CONFIG_CHANNEL_CHARS	"_-=@,.;"
#define CONFIG_PATTERN_CHARS	"_-=@,.;*?[]!"
#define CONFIG_HOST_CHARS	".-"

/*
 * Returns 1 if s is min..max characters, each an ASCII letter, a digit or
 * one of extra.
 */
int config_charset(const char *s, const char *extra, size_t min,
    size_t max);

/*
 * Value checks, one per kind of value. Each returns 0, or -1 with a message
 * in err naming the problem (never quoting a secret or a URL).
 */
int config_check_listen(const char *value, char *err, size_t errlen);
int config_check_nonempty(const char *value, char *err, size_t errlen);
int config_check_url(const char *value, char *err, size_t errlen);
int config_check_amqp_name(const char *value, char *err, size_t errlen);
int config_check_routekey(const char *value, char *err, size_t errlen);
int config_check_app_key(const char *value, char *err, size_t errlen);
int config_check_app_name(const char *value, char *err, size_t errlen);
int config_check_secret(const char *value, char *err, size_t errlen);
int config_check_origin(const char *value, char *err, size_t errlen);
int config_check_channel(const char *value, char *err, size_t errlen);
int config_check_pattern(const char *value, char *err, size_t errlen);
int config_check_bind(const char *value, char *err, size_t errlen);

#endif
