/*
 * loader_batch.c: the messages in hand, their rows and their bodies.
 * Thread rule: the loader's thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsontext.h"
#include "loader/loader_batch.h"
#include "loader/loader_row.h"

void
loader_batch_init(struct loader_batch *b)
{
	memset(b, 0, sizeof *b);
}

/* Room for one more message. Returns 0 or -1. */
static int
batch_grow(struct loader_batch *b)
{
	struct loader_msg *m;
	size_t cap;

	if (b->n < b->cap)
		return 0;
	cap = b->cap > 0 ? b->cap * 2 : 256;
	if ((m = reallocarray(b->msgs, cap, sizeof *m)) == NULL)
		return -1;
	b->msgs = m;
	b->cap = cap;
	return 0;
}

int
loader_batch_add(struct loader_batch *b, struct loader_row_parser *p,
    uint64_t tag, const void *body, size_t len, const void *msgid,
    size_t msgid_len, int64_t now_ms)
{
	struct loader_msg *m;
	size_t rows0 = b->rows.len, bodies0 = b->bodies.len;
	enum loader_row_status rc;

	if (batch_grow(b) == -1)
		return -1;
	m = &b->msgs[b->n];
	m->tag = tag;
	m->dead = 0;
	m->why[0] = '\0';
	m->body_off = b->bodies.len;
	m->body_len = len;
	if (len > 0)
		jsontext_put(&b->bodies, body, len);
	m->id_off = b->bodies.len;
	m->id_len = msgid != NULL ? msgid_len : 0;
	if (m->id_len > 0)
		jsontext_put(&b->bodies, msgid, msgid_len);
	m->row_off = b->rows.len;
	m->row_len = 0;
	rc = b->bodies.failed ? LOADER_ROW_NOMEM : loader_row_append(p, body,
	    len, &b->rows, m->why, sizeof m->why);
	if (rc == LOADER_ROW_NOMEM || b->rows.failed) {
		b->bodies.failed = b->rows.failed = 0;
		b->bodies.len = bodies0;
		b->rows.len = rows0;
		return -1;
	}
	if (rc == LOADER_ROW_OK)
		m->row_len = b->rows.len - m->row_off;
	else
		m->dead = 1;
	if (b->n == 0)
		b->first_ms = now_ms;
	if (m->dead)
		b->ndead++;
	else
		b->nrows++;
	b->n++;
	return 0;
}

void
loader_batch_refuse(struct loader_batch *b, size_t i, const char *why)
{
	struct loader_msg *m = &b->msgs[i];

	if (m->dead)
		return;
	m->dead = 1;
	snprintf(m->why, sizeof m->why, "%s", why);
	b->nrows--;
	b->ndead++;
}

const char *
loader_batch_msgid(const struct loader_batch *b, size_t i, char *buf,
    size_t len)
{
	const struct loader_msg *m = &b->msgs[i];
	size_t k, n = m->id_len < len - 1 ? m->id_len : len - 1;

	if (m->id_len == 0) {
		snprintf(buf, len, "(none)");
		return buf;
	}
	/* Printable ASCII only: a log line must stay one line. */
	for (k = 0; k < n; k++) {
		unsigned char c = (unsigned char)b->bodies.p[m->id_off + k];

		buf[k] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	buf[n] = '\0';
	return buf;
}

void
loader_batch_clear(struct loader_batch *b)
{
	b->n = 0;
	b->nrows = 0;
	b->ndead = 0;
	b->rows.len = 0;
	b->bodies.len = 0;
	b->first_ms = 0;
}

void
loader_batch_free(struct loader_batch *b)
{
	free(b->msgs);
	free(b->rows.p);
	free(b->bodies.p);
	memset(b, 0, sizeof *b);
}
