/*
 * loader_amqp.c: consuming the archive queue and dead-lettering with
 * librabbitmq. Channel 1 consumes; channel 2 declares and publishes in
 * transaction mode. Frames for channel 1 that arrive while channel 2 waits
 * for a reply are queued by librabbitmq and read afterwards. Thread rule:
 * the loader's one thread owns the connection.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <amqp.h>

#include "broker/amqp_link.h"
#include "core/log.h"
#include "loader/loader_amqp.h"
#include "loader/loader_batch.h"
#include "loader/loader_config.h"

/* The channels amqp_link_connect opens, in this order. */
#define LA_CONSUME	AMQP_LINK_CHANNEL	/* consuming */
#define LA_PUBLISH	(AMQP_LINK_CHANNEL + 1)	/* declarations, dead
						 * letters */
#define LA_TIMEOUT_S	10		/* connect, login, each RPC */
#define LA_GATHER_MS	1		/* let deliveries gather this long */

struct loader_amqp {
	const struct loader_config	*cfg;
	struct amqp_url		 target;
	int				 target_ok;
	amqp_connection_state_t		 conn;
	amqp_envelope_t			 env;	/* the last delivery */
	int				 have_env;
};

struct loader_amqp *
loader_amqp_new(const struct loader_config *cfg)
{
	struct loader_amqp *a;

	if ((a = calloc(1, sizeof *a)) == NULL)
		return NULL;
	a->cfg = cfg;
	return a;
}

void
loader_amqp_free(struct loader_amqp *a)
{
	if (a == NULL)
		return;
	loader_amqp_close(a);
	if (a->target_ok)
		amqp_link_target_free(&a->target);
	free(a);
}

int
loader_amqp_connected(const struct loader_amqp *a)
{
	return a->conn != NULL;
}

static void
la_drop_envelope(struct loader_amqp *a)
{
	if (a->have_env) {
		amqp_destroy_envelope(&a->env);
		a->have_env = 0;
	}
}

void
loader_amqp_close(struct loader_amqp *a)
{
	la_drop_envelope(a);
	amqp_link_close(a->conn);
	a->conn = NULL;
}

/* The connection failed: drop it without the closing handshake. */
static int
la_lost(struct loader_amqp *a, const char *why)
{
	log_warn("amqp", "connection lost: %s; the messages not acknowledged "
	    "go back to the queue", why);
	la_drop_envelope(a);
	amqp_destroy_connection(a->conn);
	a->conn = NULL;
	return -1;
}

/* Checks the last RPC; logs and returns -1 if it failed. */
static int
la_check(struct loader_amqp *a, const char *what)
{
	return amqp_link_check(a->conn, what);
}

/* 1 if the last RPC failed because the broker closed the channel with
 * code (404 not found, 406 precondition failed). */
static int
la_channel_closed(struct loader_amqp *a, int code)
{
	amqp_rpc_reply_t r = amqp_get_rpc_reply(a->conn);
	const amqp_channel_close_t *c;

	if (r.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION ||
	    r.reply.id != AMQP_CHANNEL_CLOSE_METHOD)
		return 0;
	c = r.reply.decoded;
	return c->reply_code == code;
}

/* After the broker closed channel ch: acknowledge that, open it again. */
static int
la_reopen(struct loader_amqp *a, amqp_channel_t ch)
{
	amqp_channel_close_ok_t ok = { 0 };

	if (amqp_send_method(a->conn, ch, AMQP_CHANNEL_CLOSE_OK_METHOD,
	    &ok) != AMQP_STATUS_OK)
		return -1;
	amqp_maybe_release_buffers_on_channel(a->conn, ch);
	amqp_channel_open(a->conn, ch);
	return la_check(a, "opening a channel again");
}

/* The arguments of the queues the loader declares: the queue type. */
static amqp_table_t
la_queue_args(struct loader_amqp *a, amqp_table_entry_t *e)
{
	amqp_table_t t = { 0, NULL };

	if (!a->cfg->quorum)
		return t;
	e->key = amqp_cstring_bytes("x-queue-type");
	e->value.kind = AMQP_FIELD_KIND_UTF8;
	e->value.value.bytes = amqp_cstring_bytes("quorum");
	t.num_entries = 1;
	t.entries = e;
	return t;
}

/*
 * Makes sure queue name exists, using channel ch: a passive declaration
 * first (whatever arguments the queue was made with, by sluiced or by us);
 * if there is no such queue, a durable one is declared; if someone made it
 * in between with other arguments, it is there. Returns 0 or -1 (logged).
 */
static int
la_ensure_queue(struct loader_amqp *a, amqp_channel_t ch, const char *name)
{
	amqp_bytes_t q = amqp_cstring_bytes(name);
	amqp_table_entry_t e;
	char what[320];

	snprintf(what, sizeof what, "declaring queue %s", name);
	amqp_queue_declare(a->conn, ch, q, 1, 0, 0, 0, amqp_empty_table);
	if (amqp_get_rpc_reply(a->conn).reply_type == AMQP_RESPONSE_NORMAL)
		return 0;
	if (!la_channel_closed(a, AMQP_NOT_FOUND))
		return la_check(a, what);
	if (la_reopen(a, ch) == -1)
		return -1;
	amqp_queue_declare(a->conn, ch, q, 0, 1, 0, 0, la_queue_args(a, &e));
	if (amqp_get_rpc_reply(a->conn).reply_type == AMQP_RESPONSE_NORMAL) {
		log_info("amqp", "declared queue %s", name);
		return 0;
	}
	if (!la_channel_closed(a, AMQP_PRECONDITION_FAILED))
		return la_check(a, what);
	if (la_reopen(a, ch) == -1)
		return -1;
	amqp_queue_declare(a->conn, ch, q, 1, 0, 0, 0, amqp_empty_table);
	return la_check(a, what);
}

int
loader_amqp_connect(struct loader_amqp *a)
{
	const struct loader_config *cfg = a->cfg;
	struct amqp_link_options o = {
		.heartbeat_s = cfg->heartbeat_s,
		.timeout_s = LA_TIMEOUT_S,
		.channels = { "the consuming channel",
		    "the publishing channel", NULL },
	};
	char name[300];

	loader_amqp_close(a);
	if (!a->target_ok) {
		if (amqp_link_target_parse(cfg->amqp_url, &a->target) == -1)
			return -1;
		a->target_ok = 1;
	}
	/* The name the broker shows for the connection. */
	snprintf(name, sizeof name, "sluice-loader %s", cfg->queue);
	o.name = name;
	if ((a->conn = amqp_link_connect(&o, &a->target)) == NULL)
		return -1;
	if (la_ensure_queue(a, LA_CONSUME, cfg->queue) == -1 ||
	    la_ensure_queue(a, LA_PUBLISH, cfg->dead_letter_queue) == -1)
		goto fail;
	amqp_tx_select(a->conn, LA_PUBLISH);
	if (la_check(a, "selecting transactions") == -1)
		goto fail;
	amqp_basic_qos(a->conn, LA_CONSUME, 0, (uint16_t)cfg->prefetch, 0);
	if (la_check(a, "setting the prefetch window") == -1)
		goto fail;
	amqp_basic_consume(a->conn, LA_CONSUME, amqp_cstring_bytes(cfg->queue),
	    amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
	if (la_check(a, "consuming") == -1)
		goto fail;
	log_info("amqp", "connected to %s:%d, consuming %s (prefetch %u); "
	    "dead letters to %s", a->target.host, a->target.port, cfg->queue,
	    cfg->prefetch, cfg->dead_letter_queue);
	return 0;
fail:
	loader_amqp_close(a);
	return -1;
}

/*
 * Reads the frame that is not a delivery (librabbitmq put it back) and
 * deals with it. Returns 0, or -1 when it ends the connection.
 */
static int
la_other_frame(struct loader_amqp *a)
{
	amqp_connection_close_ok_t close_ok = { 0 };
	const amqp_connection_close_t *cc;
	const amqp_channel_close_t *ch;
	amqp_frame_t frame;
	char why[320];
	int rc;

	if ((rc = amqp_simple_wait_frame(a->conn, &frame)) != AMQP_STATUS_OK)
		return la_lost(a, amqp_error_string2(rc));
	if (frame.frame_type != AMQP_FRAME_METHOD)
		return 0;
	switch (frame.payload.method.id) {
	case AMQP_CONNECTION_CLOSE_METHOD:
		cc = frame.payload.method.decoded;
		snprintf(why, sizeof why, "closed by the broker: %u %.*s",
		    cc->reply_code, (int)cc->reply_text.len,
		    (const char *)cc->reply_text.bytes);
		amqp_send_method(a->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD,
		    &close_ok);
		return la_lost(a, why);
	case AMQP_CHANNEL_CLOSE_METHOD:
		ch = frame.payload.method.decoded;
		snprintf(why, sizeof why, "channel %u closed by the broker: "
		    "%u %.*s", frame.channel, ch->reply_code,
		    (int)ch->reply_text.len,
		    (const char *)ch->reply_text.bytes);
		return la_lost(a, why);
	case AMQP_BASIC_CANCEL_METHOD:
		return la_lost(a, "the broker cancelled the consumer (was the "
		    "queue deleted?)");
	default:
		log_debug("amqp", "ignored method 0x%08x on channel %u",
		    frame.payload.method.id, frame.channel);
		return 0;
	}
}

int
loader_amqp_next(struct loader_amqp *a, int timeout_ms,
    struct loader_delivery *d)
{
	struct pollfd pfd;
	struct timeval tv;
	amqp_rpc_reply_t r;
	char buf[256];
	int gather;

	la_drop_envelope(a);
	if (a->conn == NULL)
		return -1;
	amqp_maybe_release_buffers(a->conn);
	if (timeout_ms > 0 && !amqp_frames_enqueued(a->conn) &&
	    !amqp_data_in_buffer(a->conn)) {
		/* Nothing in hand and nothing on the socket: rather than wake
		 * for each message as it comes, wait a little and read what
		 * came meanwhile in one go (fewer wake-ups, less CPU taken
		 * from the broker and the database on the same machine). */
		pfd.fd = amqp_get_sockfd(a->conn);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) == 0) {
			gather = timeout_ms < LA_GATHER_MS ? timeout_ms :
			    LA_GATHER_MS;
			poll(NULL, 0, gather);
			timeout_ms -= gather;
		}
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	r = amqp_consume_message(a->conn, &a->env, &tv, 0);
	if (r.reply_type == AMQP_RESPONSE_NORMAL) {
		a->have_env = 1;
		d->tag = a->env.delivery_tag;
		d->body = a->env.message.body.bytes;
		d->len = a->env.message.body.len;
		d->redelivered = a->env.redelivered;
		d->msgid = NULL;
		d->msgid_len = 0;
		if (a->env.message.properties._flags &
		    AMQP_BASIC_MESSAGE_ID_FLAG) {
			d->msgid = a->env.message.properties.message_id.bytes;
			d->msgid_len = a->env.message.properties.message_id.len;
		}
		return 1;
	}
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_TIMEOUT)
		return 0;
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_UNEXPECTED_STATE)
		return la_other_frame(a);
	return la_lost(a, amqp_link_reply_text(r, buf, sizeof buf));
}

int
loader_amqp_ack(struct loader_amqp *a, uint64_t tag)
{
	int rc;

	if (a->conn == NULL)
		return -1;
	if ((rc = amqp_basic_ack(a->conn, LA_CONSUME, tag, 1)) !=
	    AMQP_STATUS_OK)
		return la_lost(a, amqp_error_string2(rc));
	return 0;
}

/* Publishes dead message i of b (in the transaction). Returns 0 or -1. */
static int
la_publish_dead(struct loader_amqp *a, const struct loader_batch *b,
    size_t i)
{
	const struct loader_msg *m = &b->msgs[i];
	amqp_basic_properties_t props;
	amqp_table_entry_t headers[2];
	amqp_bytes_t body;

	memset(&props, 0, sizeof props);
	props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG |
	    AMQP_BASIC_HEADERS_FLAG;
	props.delivery_mode = 2;
	if (m->id_len > 0) {
		props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
		props.message_id.bytes = b->bodies.p + m->id_off;
		props.message_id.len = m->id_len;
	}
	headers[0].key = amqp_cstring_bytes("x-sluice-error");
	headers[0].value.kind = AMQP_FIELD_KIND_UTF8;
	headers[0].value.value.bytes = amqp_cstring_bytes(m->why);
	headers[1].key = amqp_cstring_bytes("x-sluice-queue");
	headers[1].value.kind = AMQP_FIELD_KIND_UTF8;
	headers[1].value.value.bytes = amqp_cstring_bytes(a->cfg->queue);
	props.headers.num_entries = 2;
	props.headers.entries = headers;
	body.bytes = m->body_len > 0 ? b->bodies.p + m->body_off : NULL;
	body.len = m->body_len;
	return amqp_basic_publish(a->conn, LA_PUBLISH, amqp_empty_bytes,
	    amqp_cstring_bytes(a->cfg->dead_letter_queue), 0, 0, &props,
	    body) == AMQP_STATUS_OK ? 0 : -1;
}

int
loader_amqp_dead_letter(struct loader_amqp *a, const struct loader_batch *b)
{
	char buf[256];
	size_t i;

	if (a->conn == NULL)
		return -1;
	if (b->ndead == 0)
		return 0;
	/* Published to the default exchange, a message for a queue that is
	 * gone would be dropped: check the queue is there first. */
	amqp_queue_declare(a->conn, LA_PUBLISH,
	    amqp_cstring_bytes(a->cfg->dead_letter_queue), 1, 0, 0, 0,
	    amqp_empty_table);
	if (amqp_get_rpc_reply(a->conn).reply_type != AMQP_RESPONSE_NORMAL) {
		snprintf(buf, sizeof buf, "the dead-letter queue %s is gone",
		    a->cfg->dead_letter_queue);
		return la_lost(a, buf);
	}
	for (i = 0; i < b->n; i++) {
		if (b->msgs[i].dead && la_publish_dead(a, b, i) == -1)
			return la_lost(a, "publishing to the dead-letter queue "
			    "failed");
	}
	amqp_tx_commit(a->conn, LA_PUBLISH);
	if (amqp_get_rpc_reply(a->conn).reply_type != AMQP_RESPONSE_NORMAL)
		return la_lost(a, amqp_link_reply_text(amqp_get_rpc_reply(
		    a->conn), buf, sizeof buf));
	return 0;
}

int
loader_amqp_ready(struct loader_amqp *a, uint32_t *count)
{
	amqp_queue_declare_ok_t *ok;
	char buf[256];

	if (a->conn == NULL)
		return -1;
	ok = amqp_queue_declare(a->conn, LA_PUBLISH,
	    amqp_cstring_bytes(a->cfg->queue), 1, 0, 0, 0, amqp_empty_table);
	if (ok == NULL)
		return la_lost(a, amqp_link_reply_text(amqp_get_rpc_reply(
		    a->conn), buf, sizeof buf));
	*count = ok->message_count;
	return 0;
}
