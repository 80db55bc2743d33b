/*
 * journal_metrics.c: the journal's figures as Prometheus families, for
 * GET /metrics. Thread-safe: reads the stats under the journal's lock.
 */
#include "core/metrics.h"
#include "journal/journal.h"

void
journal_metrics_render(struct metrics_text *t, void *journal)
{
	struct journal_stats st;

	journal_get_stats(journal, &st);
	metrics_single(t, "sluice_journal_bytes", "gauge",
	    "Bytes held by the journal (segments and pending writes).",
	    st.bytes);
	metrics_single(t, "sluice_journal_max_bytes", "gauge",
	    "The journal's size limit.", st.max_bytes);
	metrics_single(t, "sluice_journal_segments", "gauge",
	    "Segment files on disk.", st.segments);
	metrics_single(t, "sluice_journal_unconfirmed_records", "gauge",
	    "Durable records the broker has not confirmed yet.",
	    st.records_unconfirmed);
	metrics_single(t, "sluice_journal_fsyncs_total", "counter",
	    "Group commits (one fdatasync each).", st.fsyncs);
	metrics_single(t, "sluice_journal_failed", "gauge",
	    "1 after a journal write or fsync failed.", (uint64_t)st.failed);
	metrics_single(t, "sluice_journal_corrupt_records_total", "counter",
	    "Records lost to corruption found in the journal since start.",
	    st.records_corrupt);
	metrics_single(t, "sluice_journal_corruption_unacknowledged", "gauge",
	    "1 while corruption was found and the file corrupt in the "
	    "journal directory is not removed.",
	    (uint64_t)journal_corruption_pending(journal));
	metrics_single(t, "sluice_journal_full", "gauge",
	    "1 while the journal refuses appends for want of space.",
	    (uint64_t)st.full);
}
