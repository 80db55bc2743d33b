/*
 * record.c: the binary journal record of one event. Layout, all
 * integers big-endian:
 *
 *	u8  version (1)
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

#define EVENT_RECORD_VERSION 1

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
event_record_encode(const struct event_record *rec, size_t *len)
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
	total = 1 + 2 + rec->id_len + 2 + rec->app_len + 2 + rec->channel_len +
	    2 + rec->event_len + 8 + 4 + rec->json_len;
	if ((buf = malloc(total)) == NULL)
		return NULL;
	p = buf;
	*p++ = EVENT_RECORD_VERSION;
	p = event_record_put_str(p, rec->id, rec->id_len);
	p = event_record_put_str(p, rec->app, rec->app_len);
	p = event_record_put_str(p, rec->channel, rec->channel_len);
	p = event_record_put_str(p, rec->event, rec->event_len);
	p = event_record_put_be(p, (uint64_t)rec->received_at_ms, 8);
	p = event_record_put_be(p, rec->json_len, 4);
	if (rec->json_len > 0)
		memcpy(p, rec->json, rec->json_len);
	*len = total;
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
	uint64_t version, at;

	if (buf == NULL || event_record_get_be(&c, 1, &version) == -1 ||
	    version != EVENT_RECORD_VERSION ||
	    event_record_get_bytes(&c, 2, &rec->id, &rec->id_len) == -1 ||
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
