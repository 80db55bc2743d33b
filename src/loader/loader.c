/*
 * loader.c: sluice-loader's loop on the main thread: consume and convert
 * into the filling batch; hand a full (or old) batch to the database
 * thread and go on filling the next; once the thread reports a batch
 * committed, dead-letter its invalid messages and acknowledge it. One
 * batch is loaded at a time, so acknowledgements go in delivery order.
 * Both connections are made again with capped backoff; throughput is
 * logged. Thread rule: the main thread only (the database thread is behind
 * loader_worker); a signal handler sets *stop.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/isotime.h"
#include "core/log.h"
#include "loader/loader.h"
#include "loader/loader_amqp.h"
#include "loader/loader_batch.h"
#include "loader/loader_config.h"
#include "loader/loader_pg.h"
#include "loader/loader_row.h"
#include "loader/loader_worker.h"

#define LOADER_WAIT_MS	200	/* longest wait: how soon *stop is seen */
#define LOADER_IDLE_MS	100	/* --once: this long without a message */
#define LOADER_BUSY_MS	1	/* wait while the database thread works */

struct loader_backoff {
	unsigned	delay_ms;
	int64_t		next_ms;	/* monotonic; 0: now */
};

struct loader_stats {
	uint64_t	messages;	/* acknowledged */
	uint64_t	loaded;		/* rows new in the table */
	uint64_t	duplicates;	/* rows that were there already */
	uint64_t	dead;		/* dead-lettered */
	int64_t		first_ms;	/* first delivery (mono), 0: none */
	int64_t		last_ms;	/* last delivery */
	int64_t		last_ack_ms;

	/* At the last periodic line. */
	uint64_t	line_messages;
	uint64_t	line_loaded;
	uint64_t	line_duplicates;
	uint64_t	line_dead;
	int64_t		line_ms;
};

struct loader {
	const struct loader_config	*cfg;
	int				 once;
	volatile sig_atomic_t		*stop;
	struct loader_amqp		*amqp;
	struct loader_worker		*worker;
	struct loader_row_parser	*parser;
	struct loader_batch		 batches[2];
	struct loader_batch		*filling;	/* taking deliveries */
	struct loader_batch		*loading;	/* n > 0: handed over,
							 * or kept to hand again */
	unsigned			 amqp_gen;	/* connections lost */
	unsigned			 loading_gen;	/* amqp_gen of loading */
	struct loader_backoff		 amqp_backoff;
	struct loader_backoff		 pg_backoff;
	struct loader_stats		 stats;
	unsigned			 rand_state;
};

/* Capped exponential backoff with jitter: waits [d/2, d), then doubles. */
static void
loader_backoff_fail(struct loader *l, struct loader_backoff *b,
    const char *what)
{
	unsigned d = b->delay_ms, wait;

	wait = d / 2 + (unsigned)rand_r(&l->rand_state) % (d / 2 + 1);
	b->next_ms = isotime_mono_ms() + wait;
	b->delay_ms = d < l->cfg->reconnect_max_ms / 2 ? d * 2 :
	    l->cfg->reconnect_max_ms;
	if (!l->once)
		log_info("loader", "trying %s again in %u ms", what, wait);
}

static void
loader_backoff_reset(struct loader *l, struct loader_backoff *b)
{
	b->delay_ms = l->cfg->reconnect_min_ms;
	b->next_ms = 0;
}

/* Logs a throughput line when stats_interval has passed since the last. */
static void
loader_stats_line(struct loader *l, int64_t now)
{
	struct loader_stats *s = &l->stats;
	double secs, rate;

	if (l->cfg->stats_interval_s == 0 ||
	    now - s->line_ms < (int64_t)l->cfg->stats_interval_s * 1000)
		return;
	secs = (double)(now - s->line_ms) / 1000.0;
	rate = (double)(s->messages - s->line_messages) / secs;
	if (s->messages != s->line_messages)
		log_info("loader", "%llu messages in %.1f s (%.*f/s): %llu "
		    "rows loaded, %llu duplicates skipped, %llu dead-lettered; "
		    "%llu messages in all",
		    (unsigned long long)(s->messages - s->line_messages), secs,
		    rate < 100 ? 1 : 0, rate,
		    (unsigned long long)(s->loaded - s->line_loaded),
		    (unsigned long long)(s->duplicates - s->line_duplicates),
		    (unsigned long long)(s->dead - s->line_dead),
		    (unsigned long long)s->messages);
	s->line_messages = s->messages;
	s->line_loaded = s->loaded;
	s->line_duplicates = s->duplicates;
	s->line_dead = s->dead;
	s->line_ms = now;
}

/* Logs each message of b going to the dead-letter queue. */
static void
loader_log_dead(struct loader *l, const struct loader_batch *b)
{
	char id[80];
	size_t i;

	for (i = 0; i < b->n; i++) {
		if (!b->msgs[i].dead)
			continue;
		log_warn("loader", "message %s (delivery %llu) to %s: %s",
		    loader_batch_msgid(b, i, id, sizeof id),
		    (unsigned long long)b->msgs[i].tag,
		    l->cfg->dead_letter_queue, b->msgs[i].why);
	}
}

/*
 * The broker connection is gone: its deliveries come again to the next
 * one. The filling batch is dropped, and the batch out with the database
 * thread will not be acknowledged.
 */
static void
loader_amqp_lost(struct loader *l)
{
	l->amqp_gen++;
	loader_batch_clear(l->filling);
	if (l->loading->n > 0 && !loader_worker_busy(l->worker))
		loader_batch_clear(l->loading);
	loader_backoff_fail(l, &l->amqp_backoff, "the broker");
}

/*
 * The database thread finished the loading batch with result: on success,
 * dead-letter and acknowledge it. Returns 0, or -1 when the loader should
 * give up (--once).
 */
static int
loader_loaded(struct loader *l, enum loader_pg_result result,
    uint64_t inserted)
{
	struct loader_batch *b = l->loading;

	if (result != LOADER_PG_OK) {
		/* Kept, to be handed again after the backoff; unless its
		 * broker connection is gone, and its messages with it. */
		if (l->loading_gen != l->amqp_gen)
			loader_batch_clear(b);
		loader_backoff_fail(l, &l->pg_backoff, "the database");
		return l->once ? -1 : 0;
	}
	l->stats.loaded += inserted;
	if (l->loading_gen != l->amqp_gen ||
	    !loader_amqp_connected(l->amqp)) {
		/* Its messages come again, and will be found loaded. */
		loader_batch_clear(b);
		return 0;
	}
	if (b->ndead > 0) {
		loader_log_dead(l, b);
		if (loader_amqp_dead_letter(l->amqp, b) == -1) {
			loader_batch_clear(b);
			loader_amqp_lost(l);
			return l->once ? -1 : 0;
		}
	}
	if (loader_amqp_ack(l->amqp, b->msgs[b->n - 1].tag) == -1) {
		loader_batch_clear(b);
		loader_amqp_lost(l);
		return l->once ? -1 : 0;
	}
	l->stats.messages += b->n;
	l->stats.duplicates += b->nrows - inserted;
	l->stats.dead += b->ndead;
	l->stats.last_ack_ms = isotime_mono_ms();
	log_debug("loader", "batch of %zu acknowledged: %llu rows new, %zu "
	    "dead-lettered", b->n, (unsigned long long)inserted, b->ndead);
	loader_batch_clear(b);
	loader_backoff_reset(l, &l->amqp_backoff);
	loader_backoff_reset(l, &l->pg_backoff);
	return 0;
}

/* 1 when the filling batch should be loaded now. */
static int
loader_flush_due(const struct loader *l, int64_t now)
{
	const struct loader_batch *b = l->filling;

	if (b->n == 0)
		return 0;
	return b->n >= l->cfg->batch_size || *l->stop ||
	    now - b->first_ms >= (int64_t)l->cfg->batch_ms ||
	    (l->once && now - l->stats.last_ms >= LOADER_IDLE_MS);
}

/* Hands the database thread what is due, when it is idle. */
static void
loader_hand_over(struct loader *l, int64_t now)
{
	struct loader_batch *b;

	if (loader_worker_busy(l->worker))
		return;
	if (l->loading->n == 0 && loader_flush_due(l, now)) {
		b = l->loading;
		l->loading = l->filling;
		l->filling = b;
		l->loading_gen = l->amqp_gen;
	} else if (l->loading->n == 0 || now < l->pg_backoff.next_ms)
		return;
	loader_worker_load(l->worker, l->loading);
}

/* How long to wait for the next message. */
static int
loader_wait_ms(const struct loader *l, int64_t now)
{
	int64_t w = l->once ? LOADER_IDLE_MS : LOADER_WAIT_MS;

	if (loader_worker_busy(l->worker))
		return LOADER_BUSY_MS;
	if (l->filling->n > 0 && l->filling->first_ms + l->cfg->batch_ms -
	    now < w)
		w = l->filling->first_ms + l->cfg->batch_ms - now;
	if (l->loading->n > 0 && l->pg_backoff.next_ms - now < w)
		w = l->pg_backoff.next_ms - now;
	return w > 0 ? (int)w : 0;
}

/* Takes one delivery into the filling batch. Returns 0, or -1 (memory). */
static int
loader_take(struct loader *l, const struct loader_delivery *d, int64_t now)
{
	if (loader_batch_add(l->filling, l->parser, d->tag, d->body, d->len,
	    d->msgid, d->msgid_len, now) == -1) {
		log_error("loader", "out of memory");
		return -1;
	}
	if (l->stats.first_ms == 0)
		l->stats.first_ms = now;
	l->stats.last_ms = now;
	return 0;
}

/*
 * --once, with nothing in hand and nothing for a while: is the queue
 * drained? Returns 1 if so, 0 to go on, -1 when the broker was lost.
 */
static int
loader_drained(struct loader *l)
{
	struct loader_delivery d;
	uint32_t ready;
	int rc;

	if (loader_amqp_ready(l->amqp, &ready) == -1)
		return -1;
	if (ready > 0)
		return 0;
	/* Deliveries may have come in while the broker answered. */
	rc = loader_amqp_next(l->amqp, 0, &d);
	if (rc == 1 && loader_take(l, &d, isotime_mono_ms()) == -1)
		return -1;
	return rc == 0 ? 1 : rc == 1 ? 0 : -1;
}

/* One turn of the loop. Returns 0 to go on, 1 when done, -1 on failure. */
static int
loader_step(struct loader *l)
{
	struct loader_delivery d;
	enum loader_pg_result result;
	uint64_t inserted;
	int64_t now = isotime_mono_ms();
	int rc;

	if (loader_worker_done(l->worker, 0, &result, &inserted) &&
	    loader_loaded(l, result, inserted) == -1)
		return -1;
	if (!loader_amqp_connected(l->amqp) &&
	    now >= l->amqp_backoff.next_ms) {
		if (loader_amqp_connect(l->amqp) == -1) {
			if (l->once)
				return -1;
			loader_backoff_fail(l, &l->amqp_backoff, "the broker");
		}
	}
	loader_hand_over(l, now);
	if (!loader_amqp_connected(l->amqp)) {
		poll(NULL, 0, loader_worker_busy(l->worker) ? LOADER_BUSY_MS :
		    LOADER_WAIT_MS / 4);
		return 0;
	}
	rc = loader_amqp_next(l->amqp, loader_wait_ms(l, now), &d);
	if (rc == 1)
		return loader_take(l, &d, isotime_mono_ms());
	if (rc == -1) {
		loader_amqp_lost(l);
		return l->once ? -1 : 0;
	}
	now = isotime_mono_ms();
	if (!l->once || l->filling->n > 0 || l->loading->n > 0 ||
	    loader_worker_busy(l->worker) ||
	    now - l->stats.last_ms < LOADER_IDLE_MS)
		return 0;
	rc = loader_drained(l);
	if (rc == -1)
		loader_amqp_lost(l);
	return rc;
}

/* On SIGTERM: the batches in hand are loaded and acknowledged, once. */
static void
loader_finish(struct loader *l)
{
	enum loader_pg_result result;
	uint64_t inserted;
	int round;

	log_info("loader", "stopping: %zu messages in hand",
	    l->filling->n + l->loading->n);
	for (round = 0; round < 3; round++) {
		if (loader_worker_done(l->worker, 1, &result, &inserted)) {
			loader_loaded(l, result, inserted);
			if (result != LOADER_PG_OK)
				break;
		}
		if (!loader_amqp_connected(l->amqp))
			break;
		/* The kept batch first, then the filling one. */
		l->pg_backoff.next_ms = 0;
		loader_hand_over(l, isotime_mono_ms());
		if (!loader_worker_busy(l->worker))
			break;
	}
	if (l->filling->n + l->loading->n > 0)
		log_warn("loader", "%zu messages not loaded go back to the "
		    "queue", l->filling->n + l->loading->n);
}

/* The summary at the end. */
static void
loader_summary(const struct loader *l, int drained)
{
	const struct loader_stats *s = &l->stats;
	double secs = 0;

	if (s->first_ms > 0 && s->last_ack_ms > s->first_ms)
		secs = (double)(s->last_ack_ms - s->first_ms) / 1000.0;
	log_info("loader", "%s: messages=%llu loaded=%llu duplicates=%llu "
	    "dead=%llu seconds=%.3f rate=%.0f (from the first delivery to "
	    "the last ack)", drained ? "drained" : "stopped",
	    (unsigned long long)s->messages, (unsigned long long)s->loaded,
	    (unsigned long long)s->duplicates, (unsigned long long)s->dead,
	    secs, secs > 0 ? (double)s->messages / secs : 0.0);
}

/* Connects to the database first. Returns 0, or -1 (only with once). */
static int
loader_first_connect(struct loader *l)
{
	enum loader_pg_result result;
	uint64_t inserted;

	loader_worker_connect(l->worker);
	if (!loader_worker_done(l->worker, 1, &result, &inserted))
		return 0;
	if (result == LOADER_PG_OK)
		return 0;
	if (l->once)
		return -1;
	loader_backoff_fail(l, &l->pg_backoff, "the database");
	return 0;
}

int
loader_run(const struct loader_config *cfg, int once,
    volatile sig_atomic_t *stop)
{
	struct loader l;
	int rc = 0;

	memset(&l, 0, sizeof l);
	l.cfg = cfg;
	l.once = once;
	l.stop = stop;
	l.rand_state = (unsigned)time(NULL) ^ (unsigned)getpid();
	loader_batch_init(&l.batches[0]);
	loader_batch_init(&l.batches[1]);
	l.filling = &l.batches[0];
	l.loading = &l.batches[1];
	loader_backoff_reset(&l, &l.amqp_backoff);
	loader_backoff_reset(&l, &l.pg_backoff);
	l.stats.line_ms = isotime_mono_ms();
	l.amqp = loader_amqp_new(cfg);
	l.parser = loader_row_parser_new();
	if (l.amqp == NULL || l.parser == NULL ||
	    (l.worker = loader_worker_start(cfg)) == NULL) {
		log_error("loader", "out of memory");
		rc = 1;
		goto out;
	}
	log_info("loader", "loading %s into %s: batches of %u messages or "
	    "%u ms%s", cfg->queue, cfg->table, cfg->batch_size, cfg->batch_ms,
	    once ? ", until the queue is drained" : "");
	if (loader_first_connect(&l) == -1)
		rc = -1;
	while (rc == 0 && !*stop) {
		rc = loader_step(&l);
		loader_stats_line(&l, isotime_mono_ms());
	}
	if (*stop) {
		loader_finish(&l);
		rc = 0;
	}
	loader_summary(&l, rc == 1);
	rc = rc == -1 ? 1 : 0;
out:
	loader_worker_stop(l.worker);
	loader_amqp_free(l.amqp);
	loader_row_parser_free(l.parser);
	loader_batch_free(&l.batches[0]);
	loader_batch_free(&l.batches[1]);
	return rc;
}
