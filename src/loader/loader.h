/*
 * loader.h: sluice-loader's work loop. It consumes the queue, converts each
 * message to a row as it comes, and once batch_size messages are in hand
 * (or the first has waited batch_ms) loads the rows into PostgreSQL in one
 * transaction, publishes the invalid messages to the dead-letter queue and
 * only then acknowledges the batch with one multiple ack. A crash at any
 * point leaves the unacknowledged messages in the queue, and loading them
 * again skips the rows already there: nothing lost, nothing twice. Both
 * connections are made again with capped exponential backoff. Thread rule:
 * runs on the calling (main) thread; stop is set by a signal handler.
 */
#ifndef SLUICE_LOADER_H
#define SLUICE_LOADER_H

#include <signal.h>

#include "loader/loader_config.h"

/*
 * Runs until *stop is set (then the batch in hand is loaded and
 * acknowledged, if it can be, and the loop ends) or, with once, until the
 * queue is drained. Logs its throughput every stats_interval seconds and a
 * summary at the end. Returns the exit status: 0, or 1 when once could
 * not reach the broker or the database or could not load a batch (what
 * was not acknowledged stays in the queue) or on a fatal error.
 */
int loader_run(const struct loader_config *cfg, int once,
    volatile sig_atomic_t *stop);

#endif
