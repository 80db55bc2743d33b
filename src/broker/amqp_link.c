/*
 * amqp_link.c: connecting to the broker (for the forwarder and the loader)
 * and declaring the forwarder's topology. Thread rule: a connection is
 * used only by the thread that opened it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <amqp_ssl_socket.h>
#include <openssl/ssl.h>

#include "broker/amqp_link.h"
#include "core/log.h"

#define AMQP_LINK_TIMEOUT_S 5	/* the forwarder's */
#define AMQP_LINK_FRAME_MAX 131072

int
amqp_link_target_parse(const char *url, struct amqp_url *t)
{
	char err[300];

	if (amqp_url_parse(url, t, err, sizeof err) == -1) {
		log_error("amqp", "amqp url: %s", err);
		return -1;
	}
	return 0;
}

void
amqp_link_target_free(struct amqp_url *t)
{
	amqp_url_free(t);
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

/* The client properties of o: a capabilities table, a connection name. */
static amqp_table_t
amqp_link_props(const struct amqp_link_options *o, amqp_table_entry_t *cap,
    amqp_table_entry_t *prop)
{
	amqp_table_t props = { 0, prop };

	/* Ask for connection.blocked so a broker under resource alarm tells
	 * us to pause instead of silently stalling our writes. */
	cap->key = amqp_cstring_bytes("connection.blocked");
	cap->value.kind = AMQP_FIELD_KIND_BOOLEAN;
	cap->value.value.boolean = 1;
	if (o->want_blocked) {
		prop[props.num_entries].key =
		    amqp_cstring_bytes("capabilities");
		prop[props.num_entries].value.kind = AMQP_FIELD_KIND_TABLE;
		prop[props.num_entries].value.value.table.num_entries = 1;
		prop[props.num_entries].value.value.table.entries = cap;
		props.num_entries++;
	}
	/* The name the broker shows for the connection (rabbitmqctl
	 * list_connections client_properties, the management UI). */
	if (o->name != NULL) {
		prop[props.num_entries].key =
		    amqp_cstring_bytes("connection_name");
		prop[props.num_entries].value.kind = AMQP_FIELD_KIND_UTF8;
		prop[props.num_entries].value.value.bytes =
		    amqp_cstring_bytes(o->name);
		props.num_entries++;
	}
	return props;
}

/*
 * A TLS socket for t: its CAs (the system's without cacertfile), its
 * client certificate, and peer and host name verification unless
 * verify_none. Returns NULL after logging why.
 */
static amqp_socket_t *
amqp_link_tls_socket(amqp_connection_state_t conn,
    const struct amqp_url *t)
{
	amqp_socket_t *sock;
	int rc;

	sock = amqp_ssl_socket_new(conn);
	if (sock == NULL) {
		log_warn("amqp", "cannot make a TLS socket");
		return NULL;
	}
	if (t->cacertfile != NULL)
		rc = amqp_ssl_socket_set_cacert(sock, t->cacertfile);
	else
		rc = SSL_CTX_set_default_verify_paths(
		    amqp_ssl_socket_get_context(sock)) == 1 ? AMQP_STATUS_OK :
		    AMQP_STATUS_SSL_ERROR;
	if (rc != AMQP_STATUS_OK) {
		log_warn("amqp", "TLS: cannot load the CA certificates %s: %s",
		    t->cacertfile != NULL ? t->cacertfile : "of the system",
		    amqp_error_string2(rc));
		return NULL;
	}
	if (t->certfile != NULL) {
		rc = amqp_ssl_socket_set_key(sock, t->certfile, t->keyfile);
		if (rc != AMQP_STATUS_OK) {
			log_warn("amqp", "TLS: cannot load the client "
			    "certificate %s and key %s: %s", t->certfile,
			    t->keyfile, amqp_error_string2(rc));
			return NULL;
		}
	}
	amqp_ssl_socket_set_verify_peer(sock, t->verify);
	amqp_ssl_socket_set_verify_hostname(sock, t->verify);
	return sock;
}

amqp_connection_state_t
amqp_link_connect(const struct amqp_link_options *o,
    const struct amqp_url *t)
{
	amqp_connection_state_t conn;
	amqp_socket_t *sock;
	amqp_table_entry_t cap, prop[2];
	amqp_table_t props;
	amqp_rpc_reply_t r;
	struct timeval tv = { (time_t)o->timeout_s, 0 };
	char buf[256], what[128];
	size_t i;
	int rc;

	conn = amqp_new_connection();
	if (conn == NULL)
		return NULL;
	sock = t->tls ? amqp_link_tls_socket(conn, t) :
	    amqp_tcp_socket_new(conn);
	if (sock == NULL) {
		amqp_destroy_connection(conn);
		return NULL;
	}
	rc = amqp_socket_open_noblock(sock, t->host, t->port, &tv);
	if (rc != AMQP_STATUS_OK) {
		/* For TLS, the handshake's failure (a certificate that does
		 * not verify, say) is reported here too. */
		log_warn("amqp", "cannot connect to %s:%d%s: %s", t->host,
		    t->port, t->tls ? " (TLS)" : "", amqp_error_string2(rc));
		amqp_destroy_connection(conn);
		return NULL;
	}
	amqp_set_handshake_timeout(conn, &tv);
	amqp_set_rpc_timeout(conn, &tv);
	props = amqp_link_props(o, &cap, prop);
	r = amqp_login_with_properties(conn, t->vhost, 0, AMQP_LINK_FRAME_MAX,
	    (int)o->heartbeat_s, &props, AMQP_SASL_METHOD_PLAIN, t->user,
	    t->password);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		log_warn("amqp", "login to %s:%d failed: %s", t->host, t->port,
		    amqp_link_reply_text(r, buf, sizeof buf));
		amqp_destroy_connection(conn);
		return NULL;
	}
	for (i = 0; i < AMQP_LINK_MAX_CHANNELS && o->channels[i] != NULL;
	    i++) {
		amqp_channel_open(conn,
		    (amqp_channel_t)(AMQP_LINK_CHANNEL + i));
		snprintf(what, sizeof what, "opening %s", o->channels[i]);
		if (amqp_link_check(conn, what) == -1) {
			amqp_link_close(conn);
			return NULL;
		}
	}
	return conn;
}

amqp_connection_state_t
amqp_link_open(const struct config *cfg, const struct amqp_url *t)
{
	struct amqp_link_options o = {
		.heartbeat_s = cfg->heartbeat_s,
		.timeout_s = AMQP_LINK_TIMEOUT_S,
		.want_blocked = 1,
		.channels = { "channel", NULL },
	};
	amqp_connection_state_t conn;

	if ((conn = amqp_link_connect(&o, t)) == NULL)
		return NULL;
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
