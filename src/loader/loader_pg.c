/*
 * loader_pg.c: loading batches into PostgreSQL with libpq: COPY into a
 * temporary staging table, INSERT ... ON CONFLICT DO NOTHING into the
 * events table, COMMIT; row by row under savepoints when the database
 * refuses a row. Thread rule: the loader's one thread.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "core/log.h"
#include "loader/loader_batch.h"
#include "loader/loader_config.h"
#include "loader/loader_pg.h"
#include "loader/loader_row.h"

#define PG_STAGING	"pg_temp.sluice_loader_staging"
#define PG_COPY_CHUNK	(1024 * 1024)	/* bytes per PQputCopyData */
#define PG_CONNECT_TIMEOUT "10"		/* seconds, unless conninfo says */

/* How one statement went. */
enum pg_step {
	PG_STEP_OK,
	PG_STEP_ROW,		/* the data was refused: some row is bad */
	PG_STEP_FAIL		/* anything else: the server, the schema... */
};

struct loader_pg {
	const struct loader_config	*cfg;
	PGconn				*conn;
	char				*sql_staging;
	char				*sql_copy;
	char				*sql_insert;
	char				 err[LOADER_WHY_MAX - 32];	/* last error */
};

/* The table name of cfg quoted: "schema"."table" (checked: no quotes). */
static char *
pg_quote_table(const char *table)
{
	const char *dot = strchr(table, '.');
	char *q;

	if (dot == NULL) {
		if (asprintf(&q, "\"%s\"", table) == -1)
			return NULL;
	} else if (asprintf(&q, "\"%.*s\".\"%s\"", (int)(dot - table), table,
	    dot + 1) == -1)
		return NULL;
	return q;
}

struct loader_pg *
loader_pg_new(const struct loader_config *cfg)
{
	struct loader_pg *pg;
	char *table;
	int rc;

	if ((pg = calloc(1, sizeof *pg)) == NULL)
		return NULL;
	pg->cfg = cfg;
	if ((table = pg_quote_table(cfg->table)) == NULL) {
		free(pg);
		return NULL;
	}
	rc = asprintf(&pg->sql_staging, "CREATE TEMP TABLE "
	    "sluice_loader_staging ON COMMIT DELETE ROWS AS SELECT %s FROM %s "
	    "WITH NO DATA", LOADER_ROW_COLUMNS, table);
	if (rc != -1)
		rc = asprintf(&pg->sql_copy, "COPY " PG_STAGING " (%s) FROM "
		    "STDIN", LOADER_ROW_COLUMNS);
	if (rc != -1)
		rc = asprintf(&pg->sql_insert, "INSERT INTO %s (%s) SELECT %s "
		    "FROM " PG_STAGING " ON CONFLICT DO NOTHING", table,
		    LOADER_ROW_COLUMNS, LOADER_ROW_COLUMNS);
	free(table);
	if (rc == -1) {
		loader_pg_free(pg);
		return NULL;
	}
	return pg;
}

void
loader_pg_free(struct loader_pg *pg)
{
	if (pg == NULL)
		return;
	loader_pg_close(pg);
	free(pg->sql_staging);
	free(pg->sql_copy);
	free(pg->sql_insert);
	free(pg);
}

int
loader_pg_connected(const struct loader_pg *pg)
{
	return pg->conn != NULL;
}

void
loader_pg_close(struct loader_pg *pg)
{
	if (pg->conn != NULL) {
		PQfinish(pg->conn);
		pg->conn = NULL;
	}
}

/* Copies s into pg->err as one line: white space runs become a space. */
static void
pg_set_err(struct loader_pg *pg, const char *s)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		s = "unknown error";
	for (; *s != '\0' && n < sizeof pg->err - 1; s++) {
		if (*s == '\n' || *s == '\t' || *s == '\r' || *s == ' ') {
			if (n > 0 && pg->err[n - 1] != ' ')
				pg->err[n++] = ' ';
		} else
			pg->err[n++] = *s;
	}
	while (n > 0 && pg->err[n - 1] == ' ')
		n--;
	pg->err[n] = '\0';
}

/* The server's notices (a table that exists already, ...): debug log. */
static void
pg_notice(void *arg, const char *message)
{
	size_t n = strlen(message);

	(void)arg;
	while (n > 0 && message[n - 1] == '\n')
		n--;
	log_debug("pg", "%.*s", (int)n, message);
}

/*
 * Classifies the failed result res (NULL: the connection failed) and
 * records its message. Data the server refused (class 22 data exception,
 * 23 integrity constraint, 54000 a row too large for an index, P0001
 * raised by a trigger) is PG_STEP_ROW; the rest is PG_STEP_FAIL.
 */
static enum pg_step
pg_failed(struct loader_pg *pg, const PGresult *res)
{
	const char *state, *primary;

	if (res == NULL) {
		pg_set_err(pg, PQerrorMessage(pg->conn));
		return PG_STEP_FAIL;
	}
	primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	pg_set_err(pg, primary != NULL ? primary : PQresultErrorMessage(res));
	if (PQstatus(pg->conn) != CONNECTION_OK)
		return PG_STEP_FAIL;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state != NULL && (strncmp(state, "22", 2) == 0 ||
	    strncmp(state, "23", 2) == 0 || strcmp(state, "54000") == 0 ||
	    strcmp(state, "P0001") == 0))
		return PG_STEP_ROW;
	return PG_STEP_FAIL;
}

/*
 * Runs sql, which should end with status want. On success, *count (if not
 * NULL) is the number of rows the command affected.
 */
static enum pg_step
pg_exec(struct loader_pg *pg, const char *sql, ExecStatusType want,
    uint64_t *count)
{
	PGresult *res;
	enum pg_step step = PG_STEP_OK;

	res = PQexec(pg->conn, sql);
	if (res == NULL || PQresultStatus(res) != want)
		step = pg_failed(pg, res);
	else if (count != NULL)
		*count = strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return step;
}

/* Ends a failed transaction, if the connection still stands. */
static void
pg_rollback(struct loader_pg *pg)
{
	if (PQstatus(pg->conn) == CONNECTION_OK)
		PQclear(PQexec(pg->conn, "ROLLBACK"));
}

/* COPYs the len bytes of rows at text into the staging table. */
static enum pg_step
pg_copy(struct loader_pg *pg, const char *text, size_t len)
{
	enum pg_step step;
	PGresult *res;
	size_t off, n;

	if ((step = pg_exec(pg, pg->sql_copy, PGRES_COPY_IN, NULL)) !=
	    PG_STEP_OK)
		return step;
	for (off = 0; off < len; off += n) {
		n = len - off < PG_COPY_CHUNK ? len - off : PG_COPY_CHUNK;
		if (PQputCopyData(pg->conn, text + off, (int)n) != 1)
			break;
	}
	if (off < len)
		PQputCopyEnd(pg->conn, "the loader could not send the rows");
	else if (PQputCopyEnd(pg->conn, NULL) != 1) {
		pg_set_err(pg, PQerrorMessage(pg->conn));
		return PG_STEP_FAIL;
	}
	step = PG_STEP_OK;
	while ((res = PQgetResult(pg->conn)) != NULL) {
		if (step == PG_STEP_OK &&
		    PQresultStatus(res) != PGRES_COMMAND_OK)
			step = pg_failed(pg, res);
		PQclear(res);
	}
	if (step == PG_STEP_OK && off < len) {
		pg_set_err(pg, PQerrorMessage(pg->conn));
		step = PG_STEP_FAIL;
	}
	return step;
}

/* The whole batch in one transaction. */
static enum pg_step
pg_load_all(struct loader_pg *pg, struct loader_batch *b, uint64_t *inserted)
{
	enum pg_step step;

	if ((step = pg_exec(pg, "BEGIN", PGRES_COMMAND_OK, NULL)) !=
	    PG_STEP_OK)
		return step;
	if ((step = pg_copy(pg, b->rows.p, b->rows.len)) == PG_STEP_OK &&
	    (step = pg_exec(pg, pg->sql_insert, PGRES_COMMAND_OK,
	    inserted)) == PG_STEP_OK &&
	    (step = pg_exec(pg, "COMMIT", PGRES_COMMAND_OK, NULL)) ==
	    PG_STEP_OK)
		return PG_STEP_OK;
	pg_rollback(pg);
	return step;
}

/*
 * Each row of the batch on its own, under a savepoint, in one transaction:
 * the rows the database refuses are marked dead.
 */
static enum pg_step
pg_load_each(struct loader_pg *pg, struct loader_batch *b, uint64_t *inserted)
{
	struct loader_msg *m;
	enum pg_step step;
	uint64_t n;
	char why[LOADER_WHY_MAX];
	size_t i;

	*inserted = 0;
	if ((step = pg_exec(pg, "BEGIN", PGRES_COMMAND_OK, NULL)) !=
	    PG_STEP_OK)
		return step;
	for (i = 0; i < b->n; i++) {
		m = &b->msgs[i];
		if (m->dead)
			continue;
		n = 0;
		if ((step = pg_exec(pg, "SAVEPOINT sluice_row",
		    PGRES_COMMAND_OK, NULL)) == PG_STEP_OK &&
		    (step = pg_copy(pg, b->rows.p + m->row_off,
		    m->row_len)) == PG_STEP_OK &&
		    (step = pg_exec(pg, pg->sql_insert, PGRES_COMMAND_OK,
		    &n)) == PG_STEP_OK)
			step = pg_exec(pg, "DELETE FROM " PG_STAGING "; "
			    "RELEASE SAVEPOINT sluice_row", PGRES_COMMAND_OK,
			    NULL);
		if (step == PG_STEP_OK) {
			*inserted += n;
			continue;
		}
		if (step == PG_STEP_FAIL)
			break;
		snprintf(why, sizeof why, "refused by the database: %s",
		    pg->err);
		loader_batch_refuse(b, i, why);
		if ((step = pg_exec(pg, "ROLLBACK TO SAVEPOINT sluice_row",
		    PGRES_COMMAND_OK, NULL)) != PG_STEP_OK)
			break;
	}
	if (step == PG_STEP_OK &&
	    (step = pg_exec(pg, "COMMIT", PGRES_COMMAND_OK, NULL)) ==
	    PG_STEP_OK)
		return PG_STEP_OK;
	pg_rollback(pg);
	return PG_STEP_FAIL;
}

int
loader_pg_connect(struct loader_pg *pg)
{
	const char *keys[] = { "application_name", "connect_timeout",
	    "dbname", NULL };
	const char *values[] = { "sluice-loader", PG_CONNECT_TIMEOUT,
	    pg->cfg->postgres, NULL };

	loader_pg_close(pg);
	/* An empty conninfo: libpq's defaults (PGHOST, PGDATABASE, ...). */
	if (*pg->cfg->postgres == '\0')
		keys[2] = NULL;
	/* The conninfo comes last and expands: its settings win. */
	pg->conn = PQconnectdbParams(keys, values, 1);
	if (pg->conn == NULL) {
		log_warn("pg", "cannot connect: out of memory");
		return -1;
	}
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		pg_set_err(pg, PQerrorMessage(pg->conn));
		log_warn("pg", "cannot connect: %s", pg->err);
		loader_pg_close(pg);
		return -1;
	}
	PQsetNoticeProcessor(pg->conn, pg_notice, NULL);
	if (pg_exec(pg, pg->sql_staging, PGRES_COMMAND_OK, NULL) !=
	    PG_STEP_OK) {
		log_error("pg", "cannot make the staging table from table %s "
		    "(was sql/schema.sql applied?): %s", pg->cfg->table,
		    pg->err);
		loader_pg_close(pg);
		return -1;
	}
	log_info("pg", "connected to database %s on %s:%s, loading into %s",
	    PQdb(pg->conn), PQhost(pg->conn), PQport(pg->conn),
	    pg->cfg->table);
	return 0;
}

enum loader_pg_result
loader_pg_load(struct loader_pg *pg, struct loader_batch *b,
    uint64_t *inserted)
{
	enum pg_step step;

	*inserted = 0;
	if (pg->conn == NULL)
		return LOADER_PG_FAILED;
	if (b->nrows == 0)
		return LOADER_PG_OK;
	step = pg_load_all(pg, b, inserted);
	if (step == PG_STEP_ROW) {
		log_warn("pg", "the database refused a batch of %zu rows (%s); "
		    "loading them one at a time", b->nrows, pg->err);
		step = pg_load_each(pg, b, inserted);
	}
	if (step == PG_STEP_OK)
		return LOADER_PG_OK;
	log_warn("pg", "loading a batch of %zu rows failed: %s; it will be "
	    "loaded again", b->nrows, pg->err);
	loader_pg_close(pg);
	return LOADER_PG_FAILED;
}
