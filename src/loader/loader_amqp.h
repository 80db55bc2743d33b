/*
 * loader_amqp.h: sluice-loader's broker side: one connection with two
 * channels. The first consumes the queue with manual acknowledgements and
 * a prefetch window; the second, in transaction mode, publishes the
 * messages that are not valid envelopes to the dead-letter queue, which
 * the loader declares itself. The queue is declared (durable) only when it
 * does not exist yet, so whichever of sluiced and the loader starts first,
 * neither trips over the other's declaration. Thread rule: the loader's
 * one thread owns the connection.
 */
#ifndef SLUICE_LOADER_AMQP_H
#define SLUICE_LOADER_AMQP_H

#include <stddef.h>
#include <stdint.h>

#include "loader/loader_batch.h"
#include "loader/loader_config.h"

/* A delivered message; its pointers live until the next loader_amqp call. */
struct loader_delivery {
	uint64_t	 tag;
	const void	*body;
	size_t		 len;
	const void	*msgid;		/* NULL: no message_id */
	size_t		 msgid_len;
	int		 redelivered;
};

struct loader_amqp;

/* A new, unconnected side for cfg (borrowed), or NULL. */
struct loader_amqp *loader_amqp_new(const struct loader_config *cfg);
void loader_amqp_free(struct loader_amqp *a);

/*
 * Connects, declares the queues when missing, and starts consuming.
 * Returns 0, or -1 after logging why (the connection is dropped).
 */
int loader_amqp_connect(struct loader_amqp *a);

int loader_amqp_connected(const struct loader_amqp *a);

/*
 * Closes the connection; the broker puts every unacknowledged message back
 * in the queue.
 */
void loader_amqp_close(struct loader_amqp *a);

/*
 * Waits up to timeout_ms for the next message. Returns 1 with d filled, 0
 * when none came in time, or -1 when the connection is lost (logged and
 * closed: everything unacknowledged goes back to the queue).
 */
int loader_amqp_next(struct loader_amqp *a, int timeout_ms,
    struct loader_delivery *d);

/*
 * Acknowledges every message delivered up to and including tag. Returns
 * 0, or -1 when the connection is lost (logged and closed).
 */
int loader_amqp_ack(struct loader_amqp *a, uint64_t tag);

/*
 * Publishes the dead messages of b to the dead-letter queue, persistent,
 * with their message_id and the headers x-sluice-error (why) and
 * x-sluice-queue, and commits the transaction: once this returns 0 the
 * broker has them. Returns 0, or -1 when the connection is lost (logged
 * and closed).
 */
int loader_amqp_dead_letter(struct loader_amqp *a,
    const struct loader_batch *b);

/*
 * Asks how many messages are ready in the queue (not counting those
 * delivered and unacknowledged). Returns 0 with *count set, or -1 when
 * the connection is lost (logged and closed).
 */
int loader_amqp_ready(struct loader_amqp *a, uint32_t *count);

#endif
