/*
 * amqp_link.h: one connection to the broker for the forwarder: connect
 * with timeouts, log in with heartbeats and the connection.blocked
 * capability, open a channel in confirm mode, and declare the exchanges,
 * queues and bindings of the config. Called only from the forwarder thread,
 * which owns the connection.
 */
#ifndef SLUICE_AMQP_LINK_H
#define SLUICE_AMQP_LINK_H

#include <amqp.h>

#include "core/config.h"

#define AMQP_LINK_CHANNEL 1

/* The parts of [amqp] url, parsed once. */
struct amqp_link_target {
	char	*url;		/* owned copy the fields below point into */
	char	*host;
	int	 port;
	char	*user;
	char	*password;
	char	*vhost;
	int	 ssl;
};

/*
 * Parses cfg->amqp_url into t. Returns 0, or -1 (logged) if the URL is bad
 * or asks for TLS (amqps is not supported). Free with amqp_link_target_free.
 */
int amqp_link_target_parse(const char *url, struct amqp_link_target *t);
void amqp_link_target_free(struct amqp_link_target *t);

/*
 * Connects, logs in, opens the channel, enables publisher confirms and
 * declares the topology. Returns the connection, or NULL after logging why
 * (the half-made connection is destroyed).
 */
amqp_connection_state_t amqp_link_open(const struct config *cfg,
    const struct amqp_link_target *t);

/* Closes the connection politely when possible and destroys it. */
void amqp_link_close(amqp_connection_state_t conn);

/*
 * Describes a failed RPC reply in buf ("connection refused",
 * "NOT_FOUND - no exchange 'x'", ...) and returns buf.
 */
const char *amqp_link_reply_text(amqp_rpc_reply_t r, char *buf, size_t len);

/* Logs the last RPC on conn as the step what and returns -1 if it failed;
 * returns 0 when it succeeded. */
int amqp_link_check(amqp_connection_state_t conn, const char *what);

#endif
