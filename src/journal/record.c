/*
 * record.c: the binary journal records. Every record starts with its
 * format version; version 2 follows it with the type byte:
 *
 *	u8  version (2)
 *	u8  type (enum journal_record_type)
 *	... the body of that type
 *
 * Version 1, written before there was more than one kind, has no type
 * byte: the body of an event follows the version at once. Journals on
 * disk may still hold such records; they decode as events.
 *
 * The body of an event (JOURNAL_RECORD_EVENT), all integers big-endian:
 *
 *	u16 id length,      id bytes
 *	u16 app length,     app bytes
 *	u16 channel length, channel bytes
 *	u16 event length,   event bytes
 *	i64 received_at_ms
 *	u32 json length,    json bytes (the envelope)
 *
 * The record ends exactly after the JSON. Thread-safe: no state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "journal/record.h"

#define RECORD_VERSION_UNTYPED	1	/* no type byte: an event */
#define RECORD_VERSION		2	/* version, type, body */
#define RECORD_HEADER_LEN	2	/* of version 2 */

int
journal_record_type(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (buf == NULL || len == 0)
		return -1;
	switch (p[0]) {
	case RECORD_VERSION_UNTYPED:
		return JOURNAL_RECORD_EVENT;
	case RECORD_VERSION:
		return len >= RECORD_HEADER_LEN ? p[1] : -1;
	default:
		return -1;
	}
}

const char *
journal_record_type_str(int type)
{
	switch (type) {
	case JOURNAL_RECORD_EVENT:
		return "event";
	default:
		return "unknown";
	}
}

static unsigned char *
event_record_put_be(unsigned char *p, uint64_t v, int bytes)
{
	while (bytes-- > 0)
		*p++ = (unsigned char)(v >> (8 * bytes));
	return p;
}

static unsigned char *
event_record_put_str(unsigned char *p, const char *s, size_t len)
{
	p = event_record_put_be(p, len, 2);
	if (len > 0)
		memcpy(p, s, len);
	return p + len;
}

unsigned char *
event_record_encode(const struct event_record *rec, size_t *len,
    struct event_record *view)
{
	unsigned char *buf, *p;
	size_t total;

	/* A caller bug, not a memory shortage, but there is no record. */
	if (rec->id_len > UINT16_MAX || rec->app_len > UINT16_MAX ||
	    rec->channel_len > UINT16_MAX || rec->event_len > UINT16_MAX ||
	    rec->json_len > UINT32_MAX) {
		errno = EOVERFLOW;
		return NULL;
	}
	total = RECORD_HEADER_LEN + 2 + rec->id_len + 2 + rec->app_len +
	    2 + rec->channel_len + 2 + rec->event_len + 8 + 4 + rec->json_len;
	if ((buf = malloc(total)) == NULL)
		return NULL;
	p = buf;
	*p++ = RECORD_VERSION;
	*p++ = JOURNAL_RECORD_EVENT;
	p = event_record_put_str(p, rec->id, rec->id_len);
	p = event_record_put_str(p, rec->app, rec->app_len);
	p = event_record_put_str(p, rec->channel, rec->channel_len);
	p = event_record_put_str(p, rec->event, rec->event_len);
	p = event_record_put_be(p, (uint64_t)rec->received_at_ms, 8);
	p = event_record_put_be(p, rec->json_len, 4);
	if (rec->json_len > 0)
		memcpy(p, rec->json, rec->json_len);
	*len = total;
	if (view != NULL) {
		/* Where each part went: its length field, then its bytes. */
		p = buf + RECORD_HEADER_LEN;
		*view = *rec;
		view->id = (const char *)p + 2;
		p += 2 + rec->id_len;
		view->app = (const char *)p + 2;
		p += 2 + rec->app_len;
		view->channel = (const char *)p + 2;
		p += 2 + rec->channel_len;
		view->event = (const char *)p + 2;
		p += 2 + rec->event_len + 8;
		view->json = (const char *)p + 4;
	}
	return buf;
}

/* A cursor over the record being decoded; every read is bounds-checked. */
struct event_record_cur {
	const unsigned char	*p;
	size_t			 left;
};

static int
event_record_get_be(struct event_record_cur *c, int bytes, uint64_t *v)
{
	if (c->left < (size_t)bytes)
		return -1;
	*v = 0;
	while (bytes-- > 0) {
		*v = *v << 8 | *c->p++;
		c->left--;
	}
	return 0;
}

static int
event_record_get_bytes(struct event_record_cur *c, int lenbytes,
    const char **s, size_t *len)
{
	uint64_t n;

	if (event_record_get_be(c, lenbytes, &n) == -1 || n > c->left)
		return -1;
	*s = (const char *)c->p;
	*len = (size_t)n;
	c->p += n;
	c->left -= (size_t)n;
	return 0;
}

int
event_record_decode(const void *buf, size_t len, struct event_record *rec)
{
	struct event_record_cur c = { buf, len };
	uint64_t at;
	size_t hdr;

	if (journal_record_type(buf, len) != JOURNAL_RECORD_EVENT)
		return -1;
	/* The body follows the version byte, and the type byte if any. */
	hdr = c.p[0] == RECORD_VERSION_UNTYPED ? 1 : RECORD_HEADER_LEN;
	c.p += hdr;
	c.left -= hdr;
	if (event_record_get_bytes(&c, 2, &rec->id, &rec->id_len) == -1 ||
	    event_record_get_bytes(&c, 2, &rec->app, &rec->app_len) == -1 ||
	    event_record_get_bytes(&c, 2, &rec->channel,
	    &rec->channel_len) == -1 ||
	    event_record_get_bytes(&c, 2, &rec->event, &rec->event_len) == -1 ||
	    event_record_get_be(&c, 8, &at) == -1 ||
	    event_record_get_bytes(&c, 4, &rec->json, &rec->json_len) == -1 ||
	    c.left != 0)
		return -1;
	rec->received_at_ms = (int64_t)at;
	return 0;
}
