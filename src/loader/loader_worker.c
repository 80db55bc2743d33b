/*
 * loader_worker.c: the database thread: one job at a time (connect, or
 * load a batch), handed over and reported back under a mutex. Thread rule:
 * the public functions run on the main thread; worker_main and loader_pg
 * run on the database thread only.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "loader/loader_batch.h"
#include "loader/loader_config.h"
#include "loader/loader_pg.h"
#include "loader/loader_worker.h"

enum worker_job { JOB_NONE, JOB_CONNECT, JOB_LOAD, JOB_QUIT };

struct loader_worker {
	pthread_t		 thread;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct loader_pg	*pg;		/* the database thread's */

	/* Under lock. */
	enum worker_job		 job;		/* handed over, not yet taken */
	struct loader_batch	*batch;
	int			 busy;		/* handed over, not reported */
	int			 done;		/* finished, not yet collected */
	enum loader_pg_result	 result;
	uint64_t		 inserted;

	/* Read without the lock to poll cheaply; written under it. */
	atomic_int		 finished;
};

/* Runs one job on the database thread. */
static enum loader_pg_result
worker_run(struct loader_worker *w, enum worker_job job,
    struct loader_batch *b, uint64_t *inserted)
{
	*inserted = 0;
	if (!loader_pg_connected(w->pg) && loader_pg_connect(w->pg) == -1)
		return LOADER_PG_FAILED;
	if (job == JOB_CONNECT)
		return LOADER_PG_OK;
	return loader_pg_load(w->pg, b, inserted);
}

static void *
worker_main(void *arg)
{
	struct loader_worker *w = arg;
	struct loader_batch *b;
	enum loader_pg_result result;
	enum worker_job job;
	uint64_t inserted;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->job == JOB_NONE)
			pthread_cond_wait(&w->cond, &w->lock);
		job = w->job;
		b = w->batch;
		w->job = JOB_NONE;
		if (job == JOB_QUIT)
			break;
		pthread_mutex_unlock(&w->lock);
		result = worker_run(w, job, b, &inserted);
		pthread_mutex_lock(&w->lock);
		w->result = result;
		w->inserted = inserted;
		w->done = 1;
		atomic_store(&w->finished, 1);
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	loader_pg_close(w->pg);
	return NULL;
}

struct loader_worker *
loader_worker_start(const struct loader_config *cfg)
{
	struct loader_worker *w;

	if ((w = calloc(1, sizeof *w)) == NULL)
		return NULL;
	if ((w->pg = loader_pg_new(cfg)) == NULL)
		goto fail;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		log_error("loader", "cannot start the database thread");
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		goto fail;
	}
	return w;
fail:
	loader_pg_free(w->pg);
	free(w);
	return NULL;
}

/* Hands a job over (the thread must be idle). */
static void
worker_hand(struct loader_worker *w, enum worker_job job,
    struct loader_batch *b)
{
	pthread_mutex_lock(&w->lock);
	w->job = job;
	w->batch = b;
	w->busy = 1;
	w->done = 0;
	atomic_store(&w->finished, 0);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void
loader_worker_connect(struct loader_worker *w)
{
	worker_hand(w, JOB_CONNECT, NULL);
}

void
loader_worker_load(struct loader_worker *w, struct loader_batch *b)
{
	worker_hand(w, JOB_LOAD, b);
}

int
loader_worker_busy(struct loader_worker *w)
{
	int busy;

	pthread_mutex_lock(&w->lock);
	busy = w->busy;
	pthread_mutex_unlock(&w->lock);
	return busy;
}

int
loader_worker_done(struct loader_worker *w, int wait,
    enum loader_pg_result *result, uint64_t *inserted)
{
	int done;

	if (!wait && !atomic_load(&w->finished))
		return 0;
	pthread_mutex_lock(&w->lock);
	while (wait && w->busy && !w->done)
		pthread_cond_wait(&w->cond, &w->lock);
	done = w->busy && w->done;
	if (done) {
		*result = w->result;
		*inserted = w->inserted;
		w->busy = 0;
		w->done = 0;
		atomic_store(&w->finished, 0);
	}
	pthread_mutex_unlock(&w->lock);
	return done;
}

void
loader_worker_stop(struct loader_worker *w)
{
	enum loader_pg_result result;
	uint64_t inserted;

	if (w == NULL)
		return;
	loader_worker_done(w, 1, &result, &inserted);
	pthread_mutex_lock(&w->lock);
	w->job = JOB_QUIT;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	loader_pg_free(w->pg);
	free(w);
}
