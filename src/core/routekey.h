/*
 * routekey.h: the AMQP routing-key template, e.g. "{channel}.{event}".
 * Placeholders: {app}, {channel}, {event}; "{{" and "}}" stand for braces.
 * A compiled template is read-only and may be used from any thread.
 */
#ifndef SLUICE_ROUTEKEY_H
#define SLUICE_ROUTEKEY_H

#include <stddef.h>

#define ROUTEKEY_MAX 255	/* AMQP shortstr limit */

struct routekey;

/*
 * Compiles tmpl. Returns 0 and *out (free with routekey_free), or -1 with a
 * message in err naming the problem (unknown placeholder, unclosed brace,
 * empty template).
 */
int routekey_compile(const char *tmpl, struct routekey **out, char *err,
    size_t errlen);
void routekey_free(struct routekey *rk);

/*
 * Renders the key for one event into out (ROUTEKEY_MAX + 1 bytes) and
 * returns its length. Inputs are (pointer, length) pairs, not NUL-terminated.
 * A key longer than ROUTEKEY_MAX is cut at the last whole UTF-8 character
 * that fits.
 */
size_t routekey_render(const struct routekey *rk, const char *app,
    size_t app_len, const char *channel, size_t channel_len,
    const char *event, size_t event_len, char out[ROUTEKEY_MAX + 1]);

#endif
