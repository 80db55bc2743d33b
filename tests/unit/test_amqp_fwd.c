/*
 * test_amqp_fwd.c: the forwarder's drain without a broker (its URL names a
 * port nobody listens on): an empty journal drains at once, and a record
 * that can never be confirmed makes the drain give up after its timeout,
 * not before and not much later. (The forwarder against a real broker is
 * tested in tests/integration and tests/fault.)
 */
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "unit.h"
#include "broker/amqp_fwd.h"
#include "core/config.h"
#include "core/isotime.h"
#include "core/sluice.h"
#include "journal/journal.h"

static void
TEST_drain_times_out_without_broker(void)
{
	struct journal_config jcfg = { NULL, 1024 * 1024, 1024 * 1024 };
	struct iovec rec = { "x", 1 };
	struct amqp_fwd *f;
	struct journal *j;
	struct config *cfg;
	uint64_t seq;
	int64_t t0, took;
	char *dir;

	cfg = calloc(1, sizeof *cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL_FATAL(config_defaults(cfg), SLUICE_OK);
	free(cfg->amqp_url);
	cfg->amqp_url = strdup("amqp://guest:guest@127.0.0.1:1/");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg->amqp_url);
	dir = strdup(unit_tmpdir());
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	jcfg.dir = dir;
	CU_ASSERT_EQUAL_FATAL(journal_open(&jcfg, &j), SLUICE_OK);
	CU_ASSERT_EQUAL_FATAL(amqp_fwd_start(cfg, j, &f), SLUICE_OK);
	CU_ASSERT_FALSE(amqp_fwd_ready(f));
	CU_ASSERT_EQUAL(amqp_fwd_stalled_at(f), 0);

	/* Nothing journaled: drained at once, even with no time at all. */
	CU_ASSERT_EQUAL(amqp_fwd_drain(f, 0), 0);
	CU_ASSERT_EQUAL(amqp_fwd_drain(f, 1000), 0);

	/* One record nobody will confirm: the timeout is kept. */
	CU_ASSERT_EQUAL_FATAL(journal_append(j, &rec, 1, &seq), SLUICE_OK);
	CU_ASSERT_EQUAL(amqp_fwd_drain(f, 0), -1);
	t0 = isotime_mono_ms();
	CU_ASSERT_EQUAL(amqp_fwd_drain(f, 300), -1);
	took = isotime_mono_ms() - t0;
	CU_ASSERT(took >= 300);
	CU_ASSERT(took < 2000);

	CU_ASSERT_EQUAL(amqp_fwd_stop(f, 5000), 0);
	journal_close(j);
	config_free(cfg);
	unit_rmtree(dir);
	free(dir);
}

void
test_amqp_fwd_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_drain_times_out_without_broker",
		    TEST_drain_times_out_without_broker },
		{ NULL, NULL }
	};

	unit_add_suite("amqp_fwd", tests);
}
