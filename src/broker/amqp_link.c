/*
 * amqp_link.c: connecting to the broker and declaring the topology. Called
 * only from the forwarder thread.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include "broker/amqp_link.h"
#include "core/log.h"

#define AMQP_LINK_TIMEOUT_S 5
#define AMQP_LINK_FRAME_MAX 131072

int
amqp_link_target_parse(const char *url, struct amqp_link_target *t)
{
	struct amqp_connection_info info;

	memset(t, 0, sizeof *t);
	t->url = strdup(url);
	if (t->url == NULL)
		return -1;
	amqp_default_connection_info(&info);
	if (amqp_parse_url(t->url, &info) != AMQP_STATUS_OK) {
		log_error("amqp", "cannot parse amqp url");
		amqp_link_target_free(t);
		return -1;
	}
	if (info.ssl) {
		log_error("amqp", "amqps:// is not supported; use amqp://");
		amqp_link_target_free(t);
		return -1;
	}
	t->host = info.host;
	t->port = info.port;
	t->user = info.user;
	t->password = info.password;
	t->vhost = info.vhost;
	return 0;
}

void
amqp_link_target_free(struct amqp_link_target *t)
{
	free(t->url);
	memset(t, 0, sizeof *t);
}

const char *
amqp_link_reply_text(amqp_rpc_reply_t r, char *buf, size_t len)
{
	const amqp_connection_close_t *cc;
	const amqp_channel_close_t *ch;

	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		snprintf(buf, len, "ok");
		break;
	case AMQP_RESPONSE_NONE:
		snprintf(buf, len, "missing RPC reply");
		break;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		snprintf(buf, len, "%s", amqp_error_string2(r.library_error));
		break;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			cc = r.reply.decoded;
			snprintf(buf, len, "connection closed by broker: %u %.*s",
			    cc->reply_code, (int)cc->reply_text.len,
			    (const char *)cc->reply_text.bytes);
		} else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			ch = r.reply.decoded;
			snprintf(buf, len, "channel closed by broker: %u %.*s",
			    ch->reply_code, (int)ch->reply_text.len,
			    (const char *)ch->reply_text.bytes);
		} else
			snprintf(buf, len, "broker error, method 0x%08x",
			    r.reply.id);
		break;
	}
	return buf;
}

int
amqp_link_check(amqp_connection_state_t conn, const char *what)
{
	amqp_rpc_reply_t r = amqp_get_rpc_reply(conn);
	char buf[256];

	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return 0;
	log_error("amqp", "%s: %s", what, amqp_link_reply_text(r, buf,
	    sizeof buf));
	return -1;
}

/* One-entry argument table {key: value} for declarations. */
static amqp_table_t
amqp_link_arg(amqp_table_entry_t *e, const char *key, const char *value)
{
	amqp_table_t t = { 0, NULL };

	if (value == NULL)
		return t;
	e->key = amqp_cstring_bytes(key);
	e->value.kind = AMQP_FIELD_KIND_UTF8;
	e->value.value.bytes = amqp_cstring_bytes(value);
	t.num_entries = 1;
	t.entries = e;
	return t;
}

static int
amqp_link_declare_queue(amqp_connection_state_t conn, const struct config *cfg,
    const char *name)
{
	amqp_table_entry_t e;
	amqp_table_t args;
	char what[320];

	args = amqp_link_arg(&e, "x-queue-type",
	    cfg->queue_type == CONFIG_QUEUE_QUORUM ? "quorum" : NULL);
	amqp_queue_declare(conn, AMQP_LINK_CHANNEL, amqp_cstring_bytes(name),
	    0, 1, 0, 0, args);
	snprintf(what, sizeof what, "declaring queue %s", name);
	return amqp_link_check(conn, what);
}

static int
amqp_link_bind(amqp_connection_state_t conn, const char *queue,
    const char *exchange, const char *pattern)
{
	char what[800];

	amqp_queue_bind(conn, AMQP_LINK_CHANNEL, amqp_cstring_bytes(queue),
	    amqp_cstring_bytes(exchange), amqp_cstring_bytes(pattern),
	    amqp_empty_table);
	snprintf(what, sizeof what, "binding queue %s to %s with %s", queue,
	    exchange, pattern);
	return amqp_link_check(conn, what);
}

/*
 * Declares: the unrouted fanout exchange and its queue; the topic exchange
 * with that one as its alternate exchange; the configured queues and their
 * bindings. Every declaration is durable and idempotent.
 */
static int
amqp_link_declare(amqp_connection_state_t conn, const struct config *cfg)
{
	amqp_table_entry_t e;
	amqp_table_t args;
	char what[320];
	size_t i, k;

	amqp_exchange_declare(conn, AMQP_LINK_CHANNEL,
	    amqp_cstring_bytes(cfg->unrouted_exchange),
	    amqp_cstring_bytes("fanout"), 0, 1, 0, 0, amqp_empty_table);
	snprintf(what, sizeof what, "declaring exchange %s",
	    cfg->unrouted_exchange);
	if (amqp_link_check(conn, what) == -1 ||
	    amqp_link_declare_queue(conn, cfg, cfg->unrouted_exchange) == -1 ||
	    amqp_link_bind(conn, cfg->unrouted_exchange,
	    cfg->unrouted_exchange, "") == -1)
		return -1;
	args = amqp_link_arg(&e, "alternate-exchange", cfg->unrouted_exchange);
	amqp_exchange_declare(conn, AMQP_LINK_CHANNEL,
	    amqp_cstring_bytes(cfg->exchange), amqp_cstring_bytes("topic"),
	    0, 1, 0, 0, args);
	snprintf(what, sizeof what, "declaring exchange %s", cfg->exchange);
	if (amqp_link_check(conn, what) == -1)
		return -1;
	for (i = 0; i < cfg->nqueues; i++) {
		if (amqp_link_declare_queue(conn, cfg,
		    cfg->queues[i].name) == -1)
			return -1;
		for (k = 0; k < cfg->queues[i].bindings.count; k++)
			if (amqp_link_bind(conn, cfg->queues[i].name,
			    cfg->exchange,
			    cfg->queues[i].bindings.items[k]) == -1)
				return -1;
	}
	return 0;
}

amqp_connection_state_t
amqp_link_open(const struct config *cfg, const struct amqp_link_target *t)
{
	amqp_connection_state_t conn;
	amqp_socket_t *sock;
	amqp_table_entry_t cap_entry, prop_entry;
	amqp_table_t caps, props;
	amqp_rpc_reply_t r;
	struct timeval tv = { AMQP_LINK_TIMEOUT_S, 0 };
	char buf[256];
	int rc;

	conn = amqp_new_connection();
	if (conn == NULL)
		return NULL;
	sock = amqp_tcp_socket_new(conn);
	if (sock == NULL) {
		amqp_destroy_connection(conn);
		return NULL;
	}
	rc = amqp_socket_open_noblock(sock, t->host, t->port, &tv);
	if (rc != AMQP_STATUS_OK) {
		log_warn("amqp", "cannot connect to %s:%d: %s", t->host,
		    t->port, amqp_error_string2(rc));
		amqp_destroy_connection(conn);
		return NULL;
	}
	amqp_set_handshake_timeout(conn, &tv);
	amqp_set_rpc_timeout(conn, &tv);
	/* Ask for connection.blocked so a broker under resource alarm tells
	 * us to pause instead of silently stalling our writes. */
	cap_entry.key = amqp_cstring_bytes("connection.blocked");
	cap_entry.value.kind = AMQP_FIELD_KIND_BOOLEAN;
	cap_entry.value.value.boolean = 1;
	caps.num_entries = 1;
	caps.entries = &cap_entry;
	prop_entry.key = amqp_cstring_bytes("capabilities");
	prop_entry.value.kind = AMQP_FIELD_KIND_TABLE;
	prop_entry.value.value.table = caps;
	props.num_entries = 1;
	props.entries = &prop_entry;
	r = amqp_login_with_properties(conn, t->vhost, 0, AMQP_LINK_FRAME_MAX,
	    (int)cfg->heartbeat_s, &props, AMQP_SASL_METHOD_PLAIN, t->user,
	    t->password);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		log_warn("amqp", "login to %s:%d failed: %s", t->host, t->port,
		    amqp_link_reply_text(r, buf, sizeof buf));
		amqp_destroy_connection(conn);
		return NULL;
	}
	amqp_channel_open(conn, AMQP_LINK_CHANNEL);
	if (amqp_link_check(conn, "opening channel") == -1)
		goto fail;
	amqp_confirm_select(conn, AMQP_LINK_CHANNEL);
	if (amqp_link_check(conn, "enabling publisher confirms") == -1)
		goto fail;
	if (amqp_link_declare(conn, cfg) == -1)
		goto fail;
	/* Publishing is asynchronous; only declarations wait for replies. */
	amqp_set_rpc_timeout(conn, NULL);
	return conn;
fail:
	amqp_link_close(conn);
	return NULL;
}

void
amqp_link_close(amqp_connection_state_t conn)
{
	struct timeval tv = { 1, 0 };

	if (conn == NULL)
		return;
	amqp_set_rpc_timeout(conn, &tv);
	amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(conn);
}
