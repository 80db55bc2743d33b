/*
 * loader_batch.h: the messages sluice-loader holds and has not yet
 * acknowledged, in delivery order: each one's delivery tag, a copy of its
 * body and message_id, and either its row (in one COPY text buffer for the
 * whole batch) or the reason it goes to the dead-letter queue. Thread rule:
 * a batch belongs to the loader's one thread.
 */
#ifndef SLUICE_LOADER_BATCH_H
#define SLUICE_LOADER_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/jsontext.h"
#include "loader/loader_row.h"

#define LOADER_WHY_MAX 200

struct loader_msg {
	uint64_t	 tag;		/* delivery tag on the consuming channel */
	size_t		 body_off;	/* in bodies */
	size_t		 body_len;
	size_t		 id_off;	/* message_id, in bodies */
	size_t		 id_len;	/* 0: none */
	size_t		 row_off;	/* in rows */
	size_t		 row_len;	/* 0: no row (dead) */
	int		 dead;		/* goes to the dead-letter queue */
	char		 why[LOADER_WHY_MAX];
};

struct loader_batch {
	struct loader_msg	*msgs;
	size_t			 n;
	size_t			 cap;
	struct jsontext		 rows;		/* COPY text, row after row */
	struct jsontext		 bodies;
	size_t			 nrows;		/* messages with a row */
	size_t			 ndead;
	int64_t			 first_ms;	/* when the first came (mono) */
};

void loader_batch_init(struct loader_batch *b);

/*
 * Adds the message delivered with tag: converts body (len bytes) to a row
 * with p, or marks it dead with the reason when it is not a valid
 * envelope. msgid (msgid_len bytes) may be NULL. now_ms is the monotonic
 * time. Returns 0, or -1 when out of memory (the batch is as it was).
 */
int loader_batch_add(struct loader_batch *b, struct loader_row_parser *p,
    uint64_t tag, const void *body, size_t len, const void *msgid,
    size_t msgid_len, int64_t now_ms);

/* Marks message i dead (its row stays in rows, unused) with why. */
void loader_batch_refuse(struct loader_batch *b, size_t i, const char *why);

/* The message_id of message i, for logs: "(none)" when it has none. */
const char *loader_batch_msgid(const struct loader_batch *b, size_t i,
    char *buf, size_t len);

/* Forgets every message; keeps the buffers for the next batch. */
void loader_batch_clear(struct loader_batch *b);

void loader_batch_free(struct loader_batch *b);

#endif
