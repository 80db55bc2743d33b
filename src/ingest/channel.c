/*
 * channel.c: channel name rules. Thread-safe: no state.
 */
#include <string.h>

#include "ingest/channel.h"

int
channel_name_valid(const char *name, size_t n)
{
	size_t i;
	char c;

	if (n == 0 || n > CHANNEL_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		c = name[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (c == '\0' || strchr("_-=@,.;", c) == NULL)
			return 0;
	}
	return 1;
}

int
channel_user_name_valid(const char *name, size_t n)
{
	size_t len = sizeof CHANNEL_USER_PREFIX - 1;

	return n > len && memcmp(name, CHANNEL_USER_PREFIX, len) == 0 &&
	    channel_name_valid(name + len, n - len);
}

enum channel_kind
channel_kind(const char *name)
{
	if (strncmp(name, "private-", 8) == 0)
		return CHANNEL_PRIVATE;
	if (strncmp(name, "presence-", 9) == 0)
		return CHANNEL_PRESENCE;
	if (strncmp(name, CHANNEL_USER_PREFIX,
	    sizeof CHANNEL_USER_PREFIX - 1) == 0)
		return CHANNEL_USER;
	return CHANNEL_PUBLIC;
}

int
channel_is_encrypted(const char *name)
{
	return strncmp(name, "private-encrypted-", 18) == 0;
}

/* Whether the n bytes of name start with the NUL-terminated prefix. */
static int
channel_prefixed(const char *name, size_t n, const char *prefix)
{
	size_t len = strlen(prefix);

	return n >= len && memcmp(name, prefix, len) == 0;
}

int
channel_is_cache(const char *name, size_t n)
{
	return channel_prefixed(name, n, "cache-") ||
	    channel_prefixed(name, n, "private-cache-") ||
	    channel_prefixed(name, n, "presence-cache-") ||
	    channel_prefixed(name, n, "private-encrypted-cache-");
}
