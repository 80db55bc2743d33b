/*
 * test_ingest.c: the ingest pipeline against a real journal in a scratch
 * directory and a hub with a recording front door: outcomes and their
 * codes, the per-event rejections, live delivery (frames numbered by the
 * journal, the except subscriber skipped) before durability, the metrics,
 * quiescing, a full journal, and many threads submitting at once with
 * ingest_wait_idle.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "unit.h"
#include "core/app.h"
#include "core/config.h"
#include "core/sluice.h"
#include "hub/hub.h"
#include "ingest/ingest.h"
#include "journal/journal.h"
#include "ws/pusher.h"

/* The pipeline, its journal and hub, and what the front door saw. */
struct rig {
	char			 dir[4096];
	struct config		*cfg;
	struct app_registry	*apps;
	struct journal		*journal;
	struct hub		*hub;
	struct ingest		*in;
	struct hub_channel	*ch[2];
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	unsigned		 answers;	/* callbacks run */
	unsigned		 frames;	/* frames delivered */
	uint64_t		 seqs[64];	/* of the first frames */
	void			*subs[64];	/* who got them */
};

static char sub_a, sub_b;	/* two subscribers of "room" */
static struct rig *current;	/* the one rig_deliver records into */

static struct frame *
rig_encode(const struct hub_event *ev, void *arg)
{
	(void)arg;
	return pusher_event_frame(ev, PUSHER_FORMAT_PUSHER);
}

static void
rig_deliver(void *sub, struct frame *f)
{
	struct rig *r = current;

	if (r->frames < 64) {
		r->seqs[r->frames] = f->seq;
		r->subs[r->frames] = sub;
	}
	r->frames++;
}

static void
rig_wakeup(void *arg)
{
	(void)arg;
}

static struct rig *
rig_open(uint64_t journal_max)
{
	static struct rig r;
	struct journal_config jc;
	struct config_errors errs;
	struct hub_ops ops;
	char path[4200];
	FILE *f;

	memset(&r, 0, sizeof r);
	current = &r;
	snprintf(r.dir, sizeof r.dir, "%s", unit_tmpdir());
	snprintf(path, sizeof path, "%s/t.conf", r.dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("[limits]\nmax_events_per_request = 10\n"
	    "max_event_bytes = 1K\n"
	    "[app one]\nkey = key-1111-0001\n"
	    "secret = secret-1111-1111-0001\norigins = *\n"
	    "publish_channels = room lobby\n"
	    "[app two]\nkey = key-2222-0002\n"
	    "secret = secret-2222-2222-0002\norigins = *\n"
	    "publish_channels = room\n", f);
	fclose(f);
	memset(&errs, 0, sizeof errs);
	CU_ASSERT_EQUAL_FATAL(config_load(path, &r.cfg, &errs), 0);
	config_errors_free(&errs);
	CU_ASSERT_EQUAL_FATAL(app_registry_new(r.cfg, &r.apps), SLUICE_OK);
	snprintf(path, sizeof path, "%s/journal", r.dir);
	jc.dir = path;
	jc.max_bytes = journal_max;
	jc.segment_bytes = 64 * 1024;
	CU_ASSERT_EQUAL_FATAL(journal_open(&jc, &r.journal), SLUICE_OK);
	r.hub = hub_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.hub);
	memset(&ops, 0, sizeof ops);
	ops.encode = rig_encode;
	ops.deliver = rig_deliver;
	ops.wakeup = rig_wakeup;
	ops.arg = &r;
	hub_attach(r.hub, &ops);
	hub_enter(r.hub);	/* this thread delivers at once */
	CU_ASSERT_EQUAL(hub_subscribe(r.hub, 1, "room", &sub_a, &r.ch[0]),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(hub_subscribe(r.hub, 1, "room", &sub_b, &r.ch[1]),
	    SLUICE_OK);
	r.in = ingest_new(r.cfg, r.apps, r.journal, r.hub);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.in);
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	return &r;
}

static void
rig_close(struct rig *r)
{
	CU_ASSERT_EQUAL(ingest_wait_idle(r->in, 10000), 0);
	ingest_free(r->in);
	hub_unsubscribe(r->hub, r->ch[0], &sub_a);
	hub_unsubscribe(r->hub, r->ch[1], &sub_b);
	hub_free(r->hub);
	journal_close(r->journal);
	app_registry_free(r->apps);
	config_free(r->cfg);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	unit_rmtree(r->dir);
}

static void
rig_done(struct ingest_request *req, void *arg)
{
	struct rig *r = arg;

	(void)req;
	pthread_mutex_lock(&r->lock);
	r->answers++;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* Waits (at most 10 s) until n answers came. */
static void
rig_await(struct rig *r, unsigned n)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 10;
	pthread_mutex_lock(&r->lock);
	while (r->answers < n)
		if (pthread_cond_timedwait(&r->cond, &r->lock, &deadline) != 0)
			break;
	pthread_mutex_unlock(&r->lock);
	CU_ASSERT_EQUAL_FATAL(r->answers, n);
}

static void
source(struct rig *r, unsigned app, struct event_source *src)
{
	memset(src, 0, sizeof *src);
	src->app = app_by_index(r->apps, app);
	src->source = "test";
	src->ip = "127.0.0.1";
	src->received_at_ms = 1700000000000LL;
}

/* Submits body as app and waits for the answer. */
static void
submit(struct rig *r, unsigned app, const char *body,
    struct ingest_request *req, const void *except)
{
	struct event_source src;
	unsigned before = r->answers;

	source(r, app, &src);
	memset(req, 0, sizeof *req);
	ingest_submit_text(r->in, req, body, strlen(body), &src, except,
	    rig_done, r);
	rig_await(r, before + 1);
}

static void
TEST_accepted_delivered_durable(void)
{
	struct rig *r = rig_open(1 << 20);
	struct ingest_request req;
	struct journal_stats st;

	submit(r, 1, "[{\"event\":\"a\",\"channel\":\"room\"},"
	    "{\"event\":\"b\",\"channel\":\"elsewhere\"},"
	    "{\"event\":\"c\",\"channel\":\"room\",\"data\":{\"n\":1}}]",
	    &req, NULL);
	CU_ASSERT_EQUAL(req.status, INGEST_OK);
	CU_ASSERT_PTR_NULL(req.code);
	CU_ASSERT_EQUAL(req.batch.naccepted, 2);
	CU_ASSERT_EQUAL_FATAL(req.batch.nrejected, 1);
	CU_ASSERT_EQUAL(req.batch.rejected[0].index, 1);
	CU_ASSERT_EQUAL(req.batch.rejected[0].error,
	    EVENT_ERR_CHANNEL_FORBIDDEN);
	/* The records went to the journal and are durable. */
	journal_get_stats(r->journal, &st);
	CU_ASSERT_EQUAL(st.next_seq - 1, 2);
	CU_ASSERT(st.durable_seq >= 2);
	/* Only ids and errors are kept for the reply. */
	CU_ASSERT_PTR_NULL(req.batch.accepted[0].record);
	CU_ASSERT_PTR_NULL(req.batch.accepted[0].view.json);
	/* Each event reached both subscribers, numbered as journaled. */
	CU_ASSERT_EQUAL_FATAL(r->frames, 4);
	CU_ASSERT_EQUAL(r->seqs[0], st.next_seq - 2);
	CU_ASSERT_EQUAL(r->seqs[1], st.next_seq - 2);
	CU_ASSERT_EQUAL(r->seqs[2], st.next_seq - 1);
	CU_ASSERT_EQUAL(r->seqs[3], st.next_seq - 1);
	ingest_request_free(&req);

	/* The except subscriber is skipped; app zero's "room" is another
	 * channel, which nobody takes. */
	submit(r, 1, "{\"event\":\"d\",\"channel\":\"room\"}", &req, &sub_a);
	CU_ASSERT_EQUAL(req.status, INGEST_OK);
	CU_ASSERT_EQUAL_FATAL(r->frames, 5);
	CU_ASSERT_PTR_EQUAL(r->subs[4], &sub_b);
	ingest_request_free(&req);
	submit(r, 0, "{\"event\":\"e\",\"channel\":\"room\"}", &req, NULL);
	CU_ASSERT_EQUAL(req.status, INGEST_OK);
	CU_ASSERT_EQUAL(r->frames, 5);
	ingest_request_free(&req);
	rig_close(r);
}

static void
TEST_refusals(void)
{
	struct rig *r = rig_open(1 << 20);
	struct ingest_request req;
	struct json_object *o;
	struct event_source src;
	unsigned before;
	char body[4096];
	size_t i;

	submit(r, 1, "{\"event\":\"a\",\"channel\":\"nope\"}", &req, NULL);
	CU_ASSERT_EQUAL(req.status, INGEST_NONE_VALID);
	CU_ASSERT_EQUAL(req.batch.nrejected, 1);
	ingest_request_free(&req);

	submit(r, 1, "{\"event\":", &req, NULL);
	CU_ASSERT_EQUAL(req.status, INGEST_BAD_JSON);
	CU_ASSERT_STRING_EQUAL(req.code, "invalid_json");
	CU_ASSERT(strlen(req.message) > 0);
	ingest_request_free(&req);

	submit(r, 1, "42", &req, NULL);
	CU_ASSERT_EQUAL(req.status, INGEST_BAD_BODY);
	CU_ASSERT_STRING_EQUAL(req.code, "invalid_body");
	ingest_request_free(&req);

	submit(r, 1, "[]", &req, NULL);
	CU_ASSERT_EQUAL(req.status, INGEST_EMPTY);
	CU_ASSERT_STRING_EQUAL(req.code, "no_events");
	ingest_request_free(&req);

	strcpy(body, "[");
	for (i = 0; i < 11; i++)
		strcat(body, i ? ",{\"event\":\"a\"}" : "{\"event\":\"a\"}");
	strcat(body, "]");
	submit(r, 1, body, &req, NULL);
	CU_ASSERT_EQUAL(req.status, INGEST_TOO_MANY);
	CU_ASSERT_STRING_EQUAL(req.code, "too_many_events");
	ingest_request_free(&req);

	/* Parsed JSON goes the same way. */
	o = json_tokener_parse("{\"event\":\"a\",\"channel\":\"lobby\"}");
	source(r, 0, &src);
	before = r->answers;
	memset(&req, 0, sizeof req);
	ingest_submit(r->in, &req, o, &src, NULL, rig_done, r);
	rig_await(r, before + 1);
	CU_ASSERT_EQUAL(req.status, INGEST_OK);
	CU_ASSERT_EQUAL(req.batch.naccepted, 1);
	ingest_request_free(&req);

	/* Quiesced: refused, nothing appended. */
	ingest_quiesce(r->in);
	CU_ASSERT(ingest_stopping(r->in));
	before = r->answers;
	memset(&req, 0, sizeof req);
	ingest_submit(r->in, &req, o, &src, NULL, rig_done, r);
	CU_ASSERT_EQUAL(r->answers, before + 1);	/* at once */
	CU_ASSERT_EQUAL(req.status, INGEST_STOPPING);
	CU_ASSERT_STRING_EQUAL(req.code, "stopping");
	CU_ASSERT_EQUAL(req.retry_after, 2);
	ingest_request_free(&req);
	json_object_put(o);
	rig_close(r);
}

static void
TEST_journal_full(void)
{
	struct rig *r = rig_open(4096);
	struct ingest_request req;
	char body[2048];
	int i, full = 0;

	snprintf(body, sizeof body, "{\"event\":\"a\",\"channel\":\"room\","
	    "\"data\":\"%0600d\"}", 0);
	for (i = 0; i < 20 && !full; i++) {
		submit(r, 1, body, &req, NULL);
		if (req.status == INGEST_JOURNAL_FULL) {
			full = 1;
			CU_ASSERT_STRING_EQUAL(req.code, "journal_full");
			CU_ASSERT_EQUAL(req.retry_after, 5);
		} else
			CU_ASSERT_EQUAL(req.status, INGEST_OK);
		ingest_request_free(&req);
	}
	CU_ASSERT(full);
	rig_close(r);
}

/* Four threads submitting 200 requests each; then nothing waits. */
static void *
submit_many(void *arg)
{
	struct rig *r = arg;
	struct ingest_request *reqs;
	struct event_source src;
	static const char body[] = "{\"event\":\"t\",\"channel\":\"lobby\"}";
	int i;

	reqs = calloc(200, sizeof *reqs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(reqs);
	source(r, 0, &src);
	for (i = 0; i < 200; i++)
		ingest_submit_text(r->in, &reqs[i], body, sizeof body - 1,
		    &src, NULL, rig_done, r);
	/* Every answer must come before the requests are freed. */
	CU_ASSERT_EQUAL(ingest_wait_idle(r->in, 10000), 0);
	for (i = 0; i < 200; i++) {
		CU_ASSERT_EQUAL(reqs[i].status, INGEST_OK);
		ingest_request_free(&reqs[i]);
	}
	free(reqs);
	return NULL;
}

static void
TEST_threads_and_idle(void)
{
	struct rig *r = rig_open(64 << 20);
	struct journal_stats st;
	pthread_t t[4];
	int i;

	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(pthread_create(&t[i], NULL, submit_many, r), 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CU_ASSERT_EQUAL(ingest_wait_idle(r->in, 10000), 0);
	CU_ASSERT_EQUAL(r->answers, 800);
	journal_get_stats(r->journal, &st);
	CU_ASSERT_EQUAL(st.next_seq - 1, 800);
	rig_close(r);
}

void
test_ingest_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_accepted_delivered_durable",
		    TEST_accepted_delivered_durable },
		{ "TEST_refusals", TEST_refusals },
		{ "TEST_journal_full", TEST_journal_full },
		{ "TEST_threads_and_idle", TEST_threads_and_idle },
		{ NULL, NULL }
	};

	unit_add_suite("ingest", tests);
}
