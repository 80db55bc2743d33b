/*
 * test_metrics.c: the Prometheus rendering of the process-wide counters.
 * The counters are global, so each test compares values before and after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "core/metrics.h"
#include "ingest/ingest.h"

/* Renders as GET /metrics does, with the pipeline naming the reasons. */
static char *
render(size_t *len)
{
	struct metrics_hooks hooks;

	memset(&hooks, 0, sizeof hooks);
	ingest_metrics_hooks(&hooks);
	return metrics_render(&hooks, len);
}

/* Returns the value on the line that starts with "series ", or -1. */
static double
metric_value(const char *series)
{
	char *text, *p, want[256];
	size_t len;
	double v = -1;

	text = render(&len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(strlen(text), len);
	snprintf(want, sizeof want, "\n%s ", series);
	p = strstr(text, want);
	if (p != NULL)
		v = strtod(p + strlen(want), NULL);
	free(text);
	return v;
}

static void
TEST_events_counted(void)
{
	double acc, rej, full;

	acc = metric_value("sluice_events_accepted_total");
	rej = metric_value(
	    "sluice_events_rejected_total{reason=\"missing_event\"}");
	full = metric_value(
	    "sluice_events_rejected_total{reason=\"journal_full\"}");
	CU_ASSERT(acc >= 0 && rej >= 0 && full >= 0);
	metrics_events_accepted(5);
	metrics_event_rejected(EVENT_ERR_MISSING_EVENT);
	metrics_events_refused(METRICS_REJECT_JOURNAL_FULL, 3);
	CU_ASSERT_DOUBLE_EQUAL(metric_value("sluice_events_accepted_total"),
	    acc + 5, 0.1);
	CU_ASSERT_DOUBLE_EQUAL(metric_value(
	    "sluice_events_rejected_total{reason=\"missing_event\"}"),
	    rej + 1, 0.1);
	CU_ASSERT_DOUBLE_EQUAL(metric_value(
	    "sluice_events_rejected_total{reason=\"journal_full\"}"),
	    full + 3, 0.1);
}

static void
TEST_http_status_and_other(void)
{
	double ok, other;

	ok = metric_value("sluice_http_requests_total{code=\"202\"}");
	other = metric_value("sluice_http_requests_total{code=\"other\"}");
	metrics_http_request(202);
	metrics_http_request(202);
	metrics_http_request(418);
	CU_ASSERT_DOUBLE_EQUAL(metric_value(
	    "sluice_http_requests_total{code=\"202\"}"), ok + 2, 0.1);
	CU_ASSERT_DOUBLE_EQUAL(metric_value(
	    "sluice_http_requests_total{code=\"other\"}"), other + 1, 0.1);
}

static void
TEST_latency_histogram_cumulative(void)
{
	double le1ms, le10ms, inf, count, sum;

	le1ms = metric_value(
	    "sluice_amqp_confirm_latency_seconds_bucket{le=\"0.001\"}");
	le10ms = metric_value(
	    "sluice_amqp_confirm_latency_seconds_bucket{le=\"0.01\"}");
	inf = metric_value(
	    "sluice_amqp_confirm_latency_seconds_bucket{le=\"+Inf\"}");
	count = metric_value("sluice_amqp_confirm_latency_seconds_count");
	sum = metric_value("sluice_amqp_confirm_latency_seconds_sum");
	metrics_amqp_confirm_latency(800);		/* 0.8 ms */
	metrics_amqp_confirm_latency(7000);		/* 7 ms */
	metrics_amqp_confirm_latency(60000000);		/* 60 s */
	CU_ASSERT_DOUBLE_EQUAL(metric_value(
	    "sluice_amqp_confirm_latency_seconds_bucket{le=\"0.001\"}"),
	    le1ms + 1, 0.1);
	CU_ASSERT_DOUBLE_EQUAL(metric_value(
	    "sluice_amqp_confirm_latency_seconds_bucket{le=\"0.01\"}"),
	    le10ms + 2, 0.1);
	CU_ASSERT_DOUBLE_EQUAL(metric_value(
	    "sluice_amqp_confirm_latency_seconds_bucket{le=\"+Inf\"}"),
	    inf + 3, 0.1);
	CU_ASSERT_DOUBLE_EQUAL(metric_value(
	    "sluice_amqp_confirm_latency_seconds_count"), count + 3, 0.1);
	CU_ASSERT_DOUBLE_EQUAL(metric_value(
	    "sluice_amqp_confirm_latency_seconds_sum"), sum + 60.0078, 0.001);
}

static void
TEST_amqp_state_gauges(void)
{
	metrics_amqp_connected(1);
	metrics_amqp_blocked(1);
	CU_ASSERT_EQUAL(metrics_amqp_is_connected(), 1);
	CU_ASSERT_EQUAL(metrics_amqp_is_blocked(), 1);
	CU_ASSERT_DOUBLE_EQUAL(metric_value("sluice_amqp_connected"), 1, 0.1);
	CU_ASSERT_DOUBLE_EQUAL(metric_value("sluice_amqp_blocked"), 1, 0.1);
	metrics_amqp_connected(0);
	metrics_amqp_blocked(0);
	CU_ASSERT_DOUBLE_EQUAL(metric_value("sluice_amqp_connected"), 0, 0.1);
	CU_ASSERT_DOUBLE_EQUAL(metric_value("sluice_amqp_blocked"), 0, 0.1);
}

static void
TEST_every_family_has_help_and_type(void)
{
	char *text, *line, *save = NULL;
	char last_type[128] = "";
	size_t len;
	int bad = 0;

	text = render(&len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# TYPE ", 7) == 0) {
			snprintf(last_type, sizeof last_type, "%.*s",
			    (int)strcspn(line + 7, " "), line + 7);
			continue;
		}
		if (line[0] == '#')
			continue;
		/* A sample must belong to the family declared above it. */
		if (strncmp(line, last_type, strlen(last_type)) != 0)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	free(text);
}

void
test_metrics_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_events_counted", TEST_events_counted },
		{ "TEST_http_status_and_other", TEST_http_status_and_other },
		{ "TEST_latency_histogram_cumulative",
		    TEST_latency_histogram_cumulative },
		{ "TEST_amqp_state_gauges", TEST_amqp_state_gauges },
		{ "TEST_every_family_has_help_and_type",
		    TEST_every_family_has_help_and_type },
		{ NULL, NULL }
	};

	unit_add_suite("metrics", tests);
}
