/*
 * amqp_fwd.h: the forwarder. One thread owns the librabbitmq connection: it
 * declares the exchanges, queues and bindings, reads the journal in order,
 * publishes each envelope as a persistent, mandatory message in confirm mode
 * with many publishes in flight, and advances the journal checkpoint only
 * over confirmed messages. Nacked and returned messages are published again;
 * a lost connection is retried with capped exponential backoff and jitter,
 * after which everything unconfirmed is published again. At least once: a
 * message may go out more than once, with the event id as its message_id.
 *
 * Records are routed by their type (journal/record.h): an event is
 * published. A record the forwarder cannot send (a type this build does
 * not know, or one that does not decode) is never skipped: forwarding
 * stops before it, for good (until a restart), and what came before it is
 * still confirmed. The error is logged once with its sequence number and
 * type, the gauge sluice_amqp_stalled_record holds its sequence number,
 * amqp_fwd_ready() turns false (so /readyz says not ready) and the journal
 * keeps it and every record after it, filling up until a sluiced that can
 * send it runs.
 *
 * Threads: amqp_fwd_start/drain/stop from the main thread; the state queries
 * from any thread.
 */
#ifndef SLUICE_AMQP_FWD_H
#define SLUICE_AMQP_FWD_H

#include <stdint.h>

#include "core/config.h"

struct journal;
struct amqp_fwd;

/*
 * Starts the forwarder thread for cfg and j (both borrowed; they outlive
 * it). It connects in the background. Returns SLUICE_OK and *out, or
 * SLUICE_EINVAL (bad URL or routing-key template, logged) / SLUICE_ENOMEM.
 */
int amqp_fwd_start(const struct config *cfg, struct journal *j,
    struct amqp_fwd **out);

/* Returns 1 while connected with the topology declared, not blocked and
 * not stopped at a record it cannot send. */
int amqp_fwd_ready(struct amqp_fwd *f);

/* The sequence number of the journal record forwarding stopped at because
 * it cannot be sent, or 0 while it goes on. */
uint64_t amqp_fwd_stalled_at(struct amqp_fwd *f);

/*
 * Waits until every record journaled so far is confirmed, or timeout_ms
 * passed; it sleeps until the forwarder moves the checkpoint. Returns 0
 * when all were confirmed, -1 otherwise (logged).
 */
int amqp_fwd_drain(struct amqp_fwd *f, unsigned timeout_ms);

/*
 * Stops the thread, closes the connection and frees f; returns 0. A
 * thread still busy after a short grace (a send to a broker that reads
 * nothing, a close it does not answer) has its socket shut down. Returns
 * -1, leaving f as it is, when the thread did not stop within timeout_ms
 * even so (a connect's handshake in progress): the caller should exit
 * without touching the journal; every acknowledged record is in it.
 */
int amqp_fwd_stop(struct amqp_fwd *f, unsigned timeout_ms);

#endif
