/*
 * loader_pg.h: sluice-loader's PostgreSQL side: one libpq connection with a
 * temporary staging table shaped like the events table's columns; a batch
 * goes in with COPY into the staging table and INSERT ... SELECT ... ON
 * CONFLICT DO NOTHING into the events table, in one transaction. When the
 * database refuses some row (bad data, a constraint, a trigger), the rows
 * are loaded one at a time, each under a savepoint, and the refused ones
 * are marked dead in the batch, so one bad row never holds up the rest.
 * Thread rule: the loader's one thread.
 */
#ifndef SLUICE_LOADER_PG_H
#define SLUICE_LOADER_PG_H

#include <stdint.h>

#include "loader/loader_batch.h"
#include "loader/loader_config.h"

enum loader_pg_result {
	LOADER_PG_OK,		/* committed (some rows may be marked dead) */
	LOADER_PG_FAILED	/* nothing committed; logged; the connection
				 * is closed, to be made again */
};

struct loader_pg;

/* A new, unconnected side for cfg (borrowed), or NULL without memory. */
struct loader_pg *loader_pg_new(const struct loader_config *cfg);
void loader_pg_free(struct loader_pg *pg);

/*
 * Connects and makes the staging table. Returns 0, or -1 after logging why
 * (the events table is missing, the server is down, ...).
 */
int loader_pg_connect(struct loader_pg *pg);

int loader_pg_connected(const struct loader_pg *pg);

void loader_pg_close(struct loader_pg *pg);

/*
 * Loads the rows of b in one transaction and commits; *inserted is how
 * many were new (the rest were there already). Rows the database refuses
 * are marked dead in b with its reason, and the others are loaded.
 */
enum loader_pg_result loader_pg_load(struct loader_pg *pg,
    struct loader_batch *b, uint64_t *inserted);

#endif
