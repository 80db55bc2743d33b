/*
 * fwd_window.h: the forwarder's window of publishes, without the network.
 * It holds the journal records published and not yet confirmed (a ring in
 * delivery-tag order), the ones waiting to be published again (the retry
 * list, in sequence order), and decides what basic.ack, basic.nack,
 * basic.return and a lost connection do to them, and how far the journal
 * checkpoint may move: never past a record not confirmed. The caller does
 * the I/O and passes the clock in (monotonic microseconds).
 *
 * At-least-once: a record leaves the window only when an ack covers a
 * publish of it that was not returned. A nack, or an ack after a return,
 * sends it to the retry list (due after a delay); a lost connection sends
 * everything in flight there (due at once, in sequence order), and delivery
 * tags start again at 1 on the next channel.
 *
 * Threads: none of its own and no locks: one thread (the forwarder) owns a
 * window.
 */
#ifndef SLUICE_FWD_WINDOW_H
#define SLUICE_FWD_WINDOW_H

#include <stddef.h>
#include <stdint.h>

/* One journal record, published or waiting to be published again. */
struct fwd_msg {
	uint64_t	 seq;		/* journal sequence number */
	uint64_t	 tag;		/* delivery tag of its last publish */
	int64_t		 sent_us;	/* when last published */
	int64_t		 retry_at_us;	/* in the retry list: due then */
	int		 done;		/* ring slot finished: acked or
					   moved to the retry list */
	int		 returned;	/* this publish came back unroutable */
	int		 is_retry;	/* published before */
	unsigned char	*data;		/* the journal record, malloc'd */
	size_t		 len;
};

/* What one confirm did, for the caller's metrics and logs. */
struct fwd_window_tally {
	size_t	acked;		/* confirmed and gone from the window */
	size_t	nacked;		/* nacked: will be published again */
	size_t	returned;	/* acked after a return: published again */
};

/* Called for every record an ack confirms, before it is freed; now_us is
 * the time given to fwd_window_confirm. */
typedef void (*fwd_window_acked_fn)(void *arg, const struct fwd_msg *m,
    int64_t now_us);

struct fwd_window;

/*
 * A window of at most cap records (published plus waiting), everything up
 * to checkpoint already confirmed. A nacked record is due again after
 * nack_retry_ms, a returned one after return_retry_ms. acked (may be NULL)
 * is called with arg for each record confirmed. Returns NULL when out of
 * memory or when cap is 0.
 */
struct fwd_window *fwd_window_new(size_t cap, unsigned nack_retry_ms,
    unsigned return_retry_ms, uint64_t checkpoint, fwd_window_acked_fn acked,
    void *arg);

/* Frees w and every record it holds. */
void fwd_window_free(struct fwd_window *w);

/*
 * Returns 1 when one more record from the journal fits: fewer than cap
 * records unconfirmed, and a free slot for its publish. (A slot stays
 * taken until every publish before it is confirmed too.)
 */
int fwd_window_has_room(const struct fwd_window *w);

/* The records not confirmed: in flight (not acked) plus waiting. */
size_t fwd_window_unconfirmed(const struct fwd_window *w);

/*
 * Takes the waiting record of lowest sequence number that is due at now_us
 * out of the retry list into *m, is_retry set; the caller owns it until it
 * hands it back with fwd_window_published or fwd_window_unsent. It needs a
 * free slot for its publish but no room beyond (it is counted already).
 * Returns 1, or 0 when none is due or no slot is free (then the oldest
 * publish awaits its confirm).
 */
int fwd_window_take_retry(struct fwd_window *w, int64_t now_us,
    struct fwd_msg *m);

/*
 * Sets *due_us to when the earliest waiting record is due. Returns 1, or 0
 * when none waits.
 */
int fwd_window_next_due(const struct fwd_window *w, int64_t *due_us);

/*
 * Records that m (read from the journal, seq and data set, or taken with
 * fwd_window_take_retry) was published at now_us on the channel: it gets
 * the next delivery tag, returned. The window owns m->data from here on.
 * The caller checks fwd_window_has_room before reading a record.
 */
uint64_t fwd_window_published(struct fwd_window *w, const struct fwd_msg *m,
    int64_t now_us);

/*
 * Gives back m, taken or read but not published (the connection failed):
 * it waits in the retry list, due at now_us. The window owns m->data.
 */
void fwd_window_unsent(struct fwd_window *w, const struct fwd_msg *m,
    int64_t now_us);

/*
 * Handles basic.ack (ack 1) or basic.nack (ack 0) for delivery tag, and
 * for every tag before it when multiple. Tags not in flight (confirmed
 * already, or never given) are ignored. Adds what it did to *t, if not
 * NULL.
 */
void fwd_window_confirm(struct fwd_window *w, uint64_t tag, int multiple,
    int ack, int64_t now_us, struct fwd_window_tally *t);

/*
 * Handles basic.return of the publish of journal record seq: the ack that
 * follows does not confirm it. Returns the record (valid until the next
 * call on w), or NULL when no publish of seq is in flight.
 */
const struct fwd_msg *fwd_window_returned(struct fwd_window *w,
    uint64_t seq);

/*
 * The connection is gone: every record in flight and not acked joins the
 * retry list, due at now_us, and delivery tags start again at 1.
 */
void fwd_window_reset(struct fwd_window *w, int64_t now_us);

/*
 * Moves the checkpoint as far as it may go and returns it: just before the
 * oldest record not confirmed, or to last_read (the highest sequence
 * number read from the journal) when none is outstanding. It never moves
 * back. Call it with no record taken out of the window.
 */
uint64_t fwd_window_checkpoint(struct fwd_window *w, uint64_t last_read);

#endif
