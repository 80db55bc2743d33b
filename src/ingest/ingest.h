/*
 * ingest.h: the one ingest pipeline every front door uses. A front door
 * (POST /v1/events, sluice:publish, and the endpoints to come) hands it
 * what a client sent and a completion callback; the pipeline validates and
 * enriches each event into its envelope, appends the accepted ones to the
 * journal, hands them to the hub for live delivery, and calls back once
 * they are durable, or at once with the reason the whole request was
 * refused. Nothing else appends events to the journal.
 *
 * Order of what is seen: live subscribers get an event as soon as it is
 * appended, before it is durable (a crash right then can lose an event a
 * subscriber saw, never one a client was told was accepted); the client's
 * answer comes once the journal's fsync covers it.
 *
 * Threads: ingest_new and ingest_free on the main thread; the rest from
 * any thread. The callback runs on the caller's thread (a refusal, or
 * events already durable) or on the journal's writer thread, and must not
 * block.
 */
#ifndef SLUICE_INGEST_H
#define SLUICE_INGEST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/event.h"

struct app_registry;
struct config;
struct hub;
struct journal;
struct json_object;
struct metrics_hooks;

struct ingest;

/* The outcome of a request, for the front door to map to its reply. */
enum ingest_status {
	INGEST_OK,		/* the accepted events are durable; the
				   batch lists them and the rejected ones */
	INGEST_NONE_VALID,	/* every event was rejected (see batch) */
	INGEST_BAD_JSON,	/* not JSON, nested too deep, bad numbers */
	INGEST_BAD_BODY,	/* JSON, but not an event, array or batch */
	INGEST_EMPTY,		/* an empty array or batch */
	INGEST_TOO_MANY,	/* more events than max_events_per_request */
	INGEST_TOO_LARGE,	/* an event larger than a journal segment */
	INGEST_JOURNAL_FULL,	/* retry after retry_after */
	INGEST_STOPPING,	/* shutting down: retry elsewhere or later */
	INGEST_UNAVAILABLE,	/* the journal failed; retry later */
	INGEST_NOMEM
};

/*
 * One request going through the pipeline. The front door embeds it in its
 * own request state, zeroes it before ingest_submit and frees it with
 * ingest_request_free once the callback ran.
 */
struct ingest_request {
	enum ingest_status	 status;
	const char		*code;		/* the API's name of a refusal
						   ("journal_full", ...); NULL
						   for INGEST_OK and
						   INGEST_NONE_VALID */
	char			 message[256];	/* names the problem */
	int			 retry_after;	/* seconds; 0: none */
	struct event_batch	 batch;		/* ids and rejections */

	/* The pipeline's own. */
	struct ingest		*ingest;
	void			(*done)(struct ingest_request *req,
				    void *arg);
	void			*arg;
};

/* Called once per request with its outcome filled in. */
typedef void (*ingest_done_fn)(struct ingest_request *req, void *arg);

/*
 * Returns a new pipeline over the journal j and the hub h (both borrowed,
 * as are cfg and apps), or NULL when out of memory.
 */
struct ingest *ingest_new(const struct config *cfg,
    const struct app_registry *apps, struct journal *j, struct hub *h);

/* Frees the pipeline; nothing may be in flight (ingest_wait_idle). */
void ingest_free(struct ingest *in);

/*
 * Runs the events of a parsed body (one event object, an array of them, or
 * {"batch": [...]}; borrowed) sent from src through the pipeline. Live
 * delivery skips the subscriber except (NULL: none). Calls done(req, arg)
 * exactly once, as the header says; req must stay valid until then.
 */
void ingest_submit(struct ingest *in, struct ingest_request *req,
    struct json_object *events, const struct event_source *src,
    const void *except, ingest_done_fn done, void *arg);

/* The same for a body as JSON text (len bytes, need not be terminated). */
void ingest_submit_text(struct ingest *in, struct ingest_request *req,
    const char *body, size_t len, const struct event_source *src,
    const void *except, ingest_done_fn done, void *arg);

/* Frees what req holds (not req itself). */
void ingest_request_free(struct ingest_request *req);

/* From now on every request is refused with INGEST_STOPPING. */
void ingest_quiesce(struct ingest *in);

/* Whether ingest_quiesce was called. */
int ingest_stopping(struct ingest *in);

/*
 * Waits up to timeout_ms until no request waits for the journal (every
 * callback has returned). Returns 0, or -1 when some still wait.
 */
int ingest_wait_idle(struct ingest *in, unsigned timeout_ms);

/* The metrics hooks naming the per-event rejection reasons; render and
 * arg are left for the caller. */
void ingest_metrics_hooks(struct metrics_hooks *hooks);

#endif
