/*
 * routekey.c: compiles the routing-key template into literal and
 * placeholder parts and renders keys from it. Thread-safe: a compiled
 * template is never changed after routekey_compile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/routekey.h"

enum routekey_kind {
	ROUTEKEY_LITERAL,
	ROUTEKEY_APP,
	ROUTEKEY_CHANNEL,
	ROUTEKEY_EVENT
};

struct routekey_part {
	enum routekey_kind	 kind;
	const char		*text;		/* literal: in rk->literals */
	size_t			 len;
};

struct routekey {
	struct routekey_part	*parts;
	size_t			 nparts;
	char			*literals;	/* unescaped literal text */
};

static const struct {
	const char		*name;
	enum routekey_kind	 kind;
} routekey_placeholders[] = {
	{ "app", ROUTEKEY_APP },
	{ "channel", ROUTEKEY_CHANNEL },
	{ "event", ROUTEKEY_EVENT },
};

/* Looks up the placeholder named by len bytes of name; -1 if unknown. */
static int
routekey_placeholder(const char *name, size_t len, enum routekey_kind *kind)
{
	size_t i;

	for (i = 0; i < sizeof routekey_placeholders /
	    sizeof routekey_placeholders[0]; i++) {
		if (strlen(routekey_placeholders[i].name) == len &&
		    memcmp(routekey_placeholders[i].name, name, len) == 0) {
			*kind = routekey_placeholders[i].kind;
			return 0;
		}
	}
	return -1;
}

int
routekey_compile(const char *tmpl, struct routekey **out, char *err,
    size_t errlen)
{
	struct routekey *rk;
	struct routekey_part *part = NULL;
	const char *p, *close;
	char *lit;
	enum routekey_kind kind;
	size_t len;

	*out = NULL;
	len = strlen(tmpl);
	if (len == 0) {
		snprintf(err, errlen, "the template is empty");
		return -1;
	}
	rk = calloc(1, sizeof *rk);
	if (rk == NULL)
		goto nomem;
	/* Parts and literal text are each no longer than the template. */
	rk->parts = calloc(len, sizeof *rk->parts);
	rk->literals = malloc(len);
	if (rk->parts == NULL || rk->literals == NULL)
		goto nomem;
	lit = rk->literals;
	for (p = tmpl; *p != '\0'; p++) {
		if (*p == '{' && p[1] != '{') {
			close = strchr(p + 1, '}');
			if (close == NULL) {
				snprintf(err, errlen, "unclosed \"{\" at "
				    "offset %zu", (size_t)(p - tmpl));
				goto fail;
			}
			if (routekey_placeholder(p + 1, (size_t)(close - p - 1),
			    &kind) == -1) {
				snprintf(err, errlen, "unknown placeholder "
				    "\"%.*s\" at offset %zu (use {app}, "
				    "{channel} or {event}; {{ and }} for "
				    "braces)",
				    (int)(close - p + 1), p,
				    (size_t)(p - tmpl));
				goto fail;
			}
			part = &rk->parts[rk->nparts++];
			part->kind = kind;
			p = close;
			continue;
		}
		if (*p == '}' && p[1] != '}') {
			snprintf(err, errlen, "unmatched \"}\" at offset %zu "
			    "(use }} for a literal brace)", (size_t)(p - tmpl));
			goto fail;
		}
		if (*p == '{' || *p == '}')
			p++;		/* "{{" or "}}": one brace */
		if (part == NULL || part->kind != ROUTEKEY_LITERAL) {
			part = &rk->parts[rk->nparts++];
			part->kind = ROUTEKEY_LITERAL;
			part->text = lit;
		}
		*lit++ = *p;
		part->len++;
	}
	*out = rk;
	return 0;

nomem:
	snprintf(err, errlen, "out of memory");
fail:
	routekey_free(rk);
	return -1;
}

void
routekey_free(struct routekey *rk)
{
	if (rk == NULL)
		return;
	free(rk->parts);
	free(rk->literals);
	free(rk);
}

/*
 * Appends n bytes of src to out, which holds *len bytes. Once the key is
 * full, *cut is set and further text is ignored; a UTF-8 character that
 * would straddle the limit is dropped whole.
 */
static void
routekey_append(char *out, size_t *len, int *cut, const char *src, size_t n)
{
	size_t room, back;
	unsigned char next;

	if (*cut || n == 0)
		return;
	room = ROUTEKEY_MAX - *len;
	if (n <= room) {
		memcpy(out + *len, src, n);
		*len += n;
		return;
	}
	memcpy(out + *len, src, room);
	*len += room;
	*cut = 1;
	/* While the first byte left out continues a character, drop more. */
	next = (unsigned char)src[room];
	for (back = 0; back < 4 && *len > 0 && (next & 0xc0) == 0x80; back++)
		next = (unsigned char)out[--*len];
}

size_t
routekey_render(const struct routekey *rk, const char *app,
    size_t app_len, const char *channel, size_t channel_len,
    const char *event, size_t event_len, char out[ROUTEKEY_MAX + 1])
{
	const struct routekey_part *part;
	size_t i, len = 0;
	int cut = 0;

	for (i = 0; i < rk->nparts; i++) {
		part = &rk->parts[i];
		switch (part->kind) {
		case ROUTEKEY_LITERAL:
			routekey_append(out, &len, &cut, part->text, part->len);
			break;
		case ROUTEKEY_APP:
			routekey_append(out, &len, &cut, app, app_len);
			break;
		case ROUTEKEY_CHANNEL:
			routekey_append(out, &len, &cut, channel, channel_len);
			break;
		case ROUTEKEY_EVENT:
			routekey_append(out, &len, &cut, event, event_len);
			break;
		}
	}
	out[len] = '\0';
	return len;
}
