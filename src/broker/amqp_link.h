/*
 * amqp_link.h: one connection to the broker. amqp_link_connect is the one
 * connect sequence of sluiced and sluice-loader: connect with a timeout,
 * log in with heartbeats and the client properties asked for, open the
 * channels. amqp_link_open is the forwarder's: that, with the channel in
 * confirm mode and the exchanges, queues and bindings of the config
 * declared. Thread rule: a connection belongs to the one thread that opened
 * it (the forwarder's, the loader's).
 */
#ifndef SLUICE_AMQP_LINK_H
#define SLUICE_AMQP_LINK_H

#include <amqp.h>

#include "core/amqp_url.h"
#include "core/config.h"

#define AMQP_LINK_CHANNEL	1	/* the first channel opened */
#define AMQP_LINK_MAX_CHANNELS	2

/* How to connect: what differs between the forwarder and the loader. */
struct amqp_link_options {
	unsigned	 heartbeat_s;	/* 0: no heartbeats */
	unsigned	 timeout_s;	/* connect, login, each RPC */
	const char	*name;		/* connection_name the broker shows,
					 * or NULL */
	int		 want_blocked;	/* ask for connection.blocked */
	/* What each channel is for ("the consuming channel"), for the log;
	 * they are opened as 1, 2, ... up to the first NULL. */
	const char	*channels[AMQP_LINK_MAX_CHANNELS + 1];
};

/*
 * Parses url ([amqp] url, [loader] amqp_url, amqp:// or amqps:// with its
 * TLS parameters) into t. Returns 0, or -1 (logged) if the URL is bad.
 * Free with amqp_link_target_free.
 */
int amqp_link_target_parse(const char *url, struct amqp_url *t);
void amqp_link_target_free(struct amqp_url *t);

/*
 * Connects to t, logs in as o says and opens o's channels, each RPC
 * waiting at most o->timeout_s (the timeout stays set). Returns the
 * connection, or NULL after logging why (the half-made connection is
 * closed).
 */
amqp_connection_state_t amqp_link_connect(const struct amqp_link_options *o,
    const struct amqp_url *t);

/*
 * The forwarder's connection: connects (amqp_link_connect, with the
 * connection.blocked capability), enables publisher confirms on the
 * channel and declares the topology of cfg. Returns the connection, or
 * NULL after logging why (the half-made connection is destroyed).
 */
amqp_connection_state_t amqp_link_open(const struct config *cfg,
    const struct amqp_url *t);

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
