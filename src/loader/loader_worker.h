/*
 * loader_worker.h: sluice-loader's database thread. It alone owns the
 * PostgreSQL connection (loader_pg): it connects, and loads the batches the
 * main thread hands it, one at a time, while the main thread goes on
 * consuming and converting the next batch. The main thread owns the broker
 * connection and acknowledges a batch once the thread reports it
 * committed. Thread rule: every function here is called from the main
 * thread; a batch handed over belongs to the database thread until
 * loader_worker_done says it is done.
 */
#ifndef SLUICE_LOADER_WORKER_H
#define SLUICE_LOADER_WORKER_H

#include <stdint.h>

#include "loader/loader_batch.h"
#include "loader/loader_config.h"
#include "loader/loader_pg.h"

struct loader_worker;

/* Starts the thread (not yet connected). Returns NULL on failure. */
struct loader_worker *loader_worker_start(const struct loader_config *cfg);

/* Asks the thread to connect (or check its connection); see done. */
void loader_worker_connect(struct loader_worker *w);

/*
 * Hands b to the thread to load (connecting first if need be); see done.
 * Only when the thread is idle.
 */
void loader_worker_load(struct loader_worker *w, struct loader_batch *b);

/* 1 while a job handed over is not done. */
int loader_worker_busy(struct loader_worker *w);

/*
 * Returns 1 once the last job is done, with its result and, for a load,
 * the rows that were new in *inserted; 0 while it runs (or when there was
 * no job). With wait, blocks until it is done. The result is returned
 * once: the thread is idle afterwards.
 */
int loader_worker_done(struct loader_worker *w, int wait,
    enum loader_pg_result *result, uint64_t *inserted);

/* Waits for the job in hand, stops the thread, closes the connection. */
void loader_worker_stop(struct loader_worker *w);

#endif
