/*
 * amqp_ceiling.c: the broker's own ceiling for what sluiced asks of it.
 * One librabbitmq connection publishes persistent messages (delivery_mode
 * 2, the properties and about the size of sluiced's envelopes) with the
 * mandatory flag to a durable topic exchange bound to a durable queue, in
 * confirm mode with up to W messages unconfirmed, and counts the messages
 * confirmed per second over a measured window (or a fixed count). Declares
 * and purges its queue first; deletes its queue and exchange at the end
 * unless told to keep them. With -O it is instead a small queue tool for
 * tests/bench/run: count a queue's messages (and the size of the first),
 * purge it, or delete a queue and an exchange. Single-threaded.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include "bench_util.h"

#define CHANNEL		1
#define WAIT_LIMIT_S	10	/* longest wait for a confirm */

struct opts {
	const char	*url;
	const char	*exchange;
	const char	*queue;
	const char	*routing_key;
	size_t		 size;
	unsigned	 window;
	uint64_t	 count;		/* 0: by duration */
	double		 duration_s;
	double		 warmup_s;
	const char	*op;		/* -O: count, purge, delete */
	int		 keep;
	int		 quiet;
};

struct state {
	amqp_connection_state_t	 conn;
	uint64_t		 next_tag;	/* the next publish's tag */
	uint64_t		 low;		/* lowest tag not yet settled */
	unsigned char		*settled;	/* ring of window flags */
	uint64_t		 acked;
	uint64_t		 nacked;
	uint64_t		 returned;
	int			 blocked;
};

static struct opts opt;

/* Dies with what went wrong if a synchronous call failed. */
static void
check_reply(amqp_rpc_reply_t r, const char *what)
{
	amqp_connection_close_t *xc;
	amqp_channel_close_t *cc;

	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		return;
	case AMQP_RESPONSE_NONE:
		fatal("%s: missing RPC reply", what);
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		fatal("%s: %s", what, amqp_error_string2(r.library_error));
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			xc = r.reply.decoded;
			fatal("%s: connection closed: %u %.*s", what,
			    xc->reply_code, (int)xc->reply_text.len,
			    (char *)xc->reply_text.bytes);
		}
		if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			cc = r.reply.decoded;
			fatal("%s: channel closed: %u %.*s", what,
			    cc->reply_code, (int)cc->reply_text.len,
			    (char *)cc->reply_text.bytes);
		}
		fatal("%s: server exception, method 0x%08x", what,
		    r.reply.id);
	}
}

/* The same for the last synchronous call on conn. */
static void
check_rpc(amqp_connection_state_t conn, const char *what)
{
	check_reply(amqp_get_rpc_reply(conn), what);
}

static amqp_connection_state_t
ceiling_connect(void)
{
	struct amqp_connection_info ci;
	amqp_connection_state_t conn;
	amqp_socket_t *sock;
	char *url;
	int rc;

	url = strdup(opt.url);
	if (url == NULL)
		fatal("out of memory");
	amqp_default_connection_info(&ci);
	if (amqp_parse_url(url, &ci) != AMQP_STATUS_OK)
		fatal("bad AMQP URL: %s", opt.url);
	if (ci.ssl)
		fatal("amqps is not supported here");
	conn = amqp_new_connection();
	sock = amqp_tcp_socket_new(conn);
	if (sock == NULL)
		fatal("cannot create a socket");
	if ((rc = amqp_socket_open(sock, ci.host, ci.port)) != AMQP_STATUS_OK)
		fatal("connecting to %s:%d: %s", ci.host, ci.port,
		    amqp_error_string2(rc));
	check_reply(amqp_login(conn, ci.vhost, 0, 131072, 0,
	    AMQP_SASL_METHOD_PLAIN, ci.user, ci.password), "login");
	free(url);
	amqp_channel_open(conn, CHANNEL);
	check_rpc(conn, "channel.open");
	return conn;
}

/* Declares the exchange and the queue, binds them and empties the queue. */
static void
ceiling_declare(amqp_connection_state_t conn)
{
	amqp_exchange_declare(conn, CHANNEL, amqp_cstring_bytes(opt.exchange),
	    amqp_cstring_bytes("topic"), 0, 1, 0, 0, amqp_empty_table);
	check_rpc(conn, "exchange.declare");
	amqp_queue_declare(conn, CHANNEL, amqp_cstring_bytes(opt.queue), 0, 1,
	    0, 0, amqp_empty_table);
	check_rpc(conn, "queue.declare");
	amqp_queue_bind(conn, CHANNEL, amqp_cstring_bytes(opt.queue),
	    amqp_cstring_bytes(opt.exchange), amqp_cstring_bytes("#"),
	    amqp_empty_table);
	check_rpc(conn, "queue.bind");
	amqp_queue_purge(conn, CHANNEL, amqp_cstring_bytes(opt.queue));
	check_rpc(conn, "queue.purge");
	amqp_confirm_select(conn, CHANNEL);
	check_rpc(conn, "confirm.select");
}

/* Messages in the queue now (a passive declare). */
static uint32_t
ceiling_queue_depth(amqp_connection_state_t conn)
{
	amqp_queue_declare_ok_t *ok;

	ok = amqp_queue_declare(conn, CHANNEL, amqp_cstring_bytes(opt.queue),
	    1, 1, 0, 0, amqp_empty_table);
	check_rpc(conn, "queue.declare passive");
	return ok->message_count;
}

/*
 * An envelope like sluiced's: its fields in the same order, "data" padded
 * so the whole body is opt.size bytes; the id sits at a fixed offset.
 */
static char *
ceiling_body(size_t *id_off)
{
	static const char head[] = "{\"id\":\"";
	static const char rest[] = "00000000-0000-7000-8000-000000000000\","
	    "\"app\":\"bench\",\"channel\":\"web\",\"event\":\"page_view\","
	    "\"received_at\":\"2026-11-22T17:21:33.123Z\","
	    "\"timestamp\":\"2026-11-22T17:21:33.083Z\","
	    "\"client_timestamp\":1795368093083,\"sent_at\":1795368093123,"
	    "\"ip\":\"127.0.0.1\",\"user_agent\":\"sluice-loadgen/1\","
	    "\"origin\":null,\"source\":\"http\",\"data\":{\"pad\":\"";
	static const char tail[] = "\"}}";
	size_t fixed = sizeof head - 1 + sizeof rest - 1 + sizeof tail - 1;
	char *body;

	if (opt.size < fixed)
		fatal("a message needs at least %zu bytes", fixed);
	body = malloc(opt.size);
	if (body == NULL)
		fatal("out of memory");
	memcpy(body, head, sizeof head - 1);
	memcpy(body + sizeof head - 1, rest, sizeof rest - 1);
	memset(body + sizeof head - 1 + sizeof rest - 1, 'x',
	    opt.size - fixed);
	memcpy(body + opt.size - (sizeof tail - 1), tail, sizeof tail - 1);
	*id_off = sizeof head - 1;
	return body;
}

/* Writes seq as the last 12 hex digits of the id at id (36 chars). */
static void
ceiling_set_id(char *id, uint64_t seq)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 35; i >= 24; i--) {
		id[i] = hex[seq & 15];
		seq >>= 4;
	}
}

static void
ceiling_publish(struct state *st, char *body, size_t id_off)
{
	amqp_basic_properties_t props;
	amqp_table_entry_t headers[3];
	amqp_bytes_t b;
	int rc;

	ceiling_set_id(body + id_off, st->next_tag);
	memset(&props, 0, sizeof props);
	props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
	    AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
	    AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_APP_ID_FLAG |
	    AMQP_BASIC_HEADERS_FLAG;
	props.content_type = amqp_cstring_bytes("application/json");
	props.delivery_mode = 2;
	props.message_id.bytes = body + id_off;
	props.message_id.len = 36;
	props.timestamp = (uint64_t)time(NULL);
	props.app_id = amqp_cstring_bytes("bench");
	headers[0].key = amqp_cstring_bytes("app");
	headers[0].value.kind = AMQP_FIELD_KIND_UTF8;
	headers[0].value.value.bytes = props.app_id;
	headers[1].key = amqp_cstring_bytes("channel");
	headers[1].value.kind = AMQP_FIELD_KIND_UTF8;
	headers[1].value.value.bytes = amqp_cstring_bytes("web");
	headers[2].key = amqp_cstring_bytes("event");
	headers[2].value.kind = AMQP_FIELD_KIND_UTF8;
	headers[2].value.value.bytes = amqp_cstring_bytes("page_view");
	props.headers.num_entries = 3;
	props.headers.entries = headers;
	b.bytes = body;
	b.len = opt.size;
	rc = amqp_basic_publish(st->conn, CHANNEL,
	    amqp_cstring_bytes(opt.exchange),
	    amqp_cstring_bytes(opt.routing_key), 1, 0, &props, b);
	if (rc != AMQP_STATUS_OK)
		fatal("basic.publish: %s", amqp_error_string2(rc));
	st->settled[st->next_tag % opt.window] = 0;
	st->next_tag++;
}

/* Marks tag (and, if multiple, every earlier one) settled. */
static void
ceiling_settle(struct state *st, uint64_t tag, int multiple, int ack)
{
	uint64_t t;

	if (tag < st->low || tag >= st->next_tag)
		return;
	for (t = multiple ? st->low : tag; t <= tag; t++) {
		if (st->settled[t % opt.window])
			continue;
		st->settled[t % opt.window] = 1;
		if (ack)
			st->acked++;
		else
			st->nacked++;
	}
	while (st->low < st->next_tag && st->settled[st->low % opt.window])
		st->low++;
}

/*
 * Reads frames: waits up to WAIT_LIMIT_S for the first when block is set,
 * then takes whatever else is already there.
 */
static void
ceiling_read(struct state *st, int block)
{
	struct timeval tv;
	amqp_frame_t f;
	amqp_basic_ack_t *ack;
	amqp_basic_nack_t *nack;
	amqp_channel_close_t *cc;
	int rc;

	for (;;) {
		tv.tv_sec = block ? WAIT_LIMIT_S : 0;
		tv.tv_usec = 0;
		rc = amqp_simple_wait_frame_noblock(st->conn, &f, &tv);
		if (rc == AMQP_STATUS_TIMEOUT) {
			if (block)
				fatal("no confirm for %d s (%" PRIu64
				    " unconfirmed)", WAIT_LIMIT_S,
				    st->next_tag - st->low);
			break;
		}
		if (rc != AMQP_STATUS_OK)
			fatal("reading frames: %s", amqp_error_string2(rc));
		block = 0;
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;	/* a returned message's header and body */
		switch (f.payload.method.id) {
		case AMQP_BASIC_ACK_METHOD:
			ack = f.payload.method.decoded;
			ceiling_settle(st, ack->delivery_tag, ack->multiple, 1);
			break;
		case AMQP_BASIC_NACK_METHOD:
			nack = f.payload.method.decoded;
			ceiling_settle(st, nack->delivery_tag, nack->multiple,
			    0);
			break;
		case AMQP_BASIC_RETURN_METHOD:
			st->returned++;
			break;
		case AMQP_CONNECTION_BLOCKED_METHOD:
			st->blocked = 1;
			fprintf(stderr, "amqp_ceiling: the broker blocks "
			    "publishers (resource alarm)\n");
			break;
		case AMQP_CONNECTION_UNBLOCKED_METHOD:
			st->blocked = 0;
			break;
		case AMQP_CHANNEL_CLOSE_METHOD:
			cc = f.payload.method.decoded;
			fatal("channel closed by the broker: %u %.*s",
			    cc->reply_code, (int)cc->reply_text.len,
			    (char *)cc->reply_text.bytes);
		case AMQP_CONNECTION_CLOSE_METHOD:
			fatal("connection closed by the broker");
		default:
			break;
		}
	}
	amqp_maybe_release_buffers(st->conn);
}

/*
 * -O count: prints queue_messages=N and, when N > 0, sample_bytes=S, the
 * body size of the message at the head (read and put back).
 */
static void
ceiling_op_count(amqp_connection_state_t conn)
{
	amqp_basic_get_ok_t *ok;
	amqp_rpc_reply_t r;
	amqp_message_t msg;
	uint32_t depth;

	depth = ceiling_queue_depth(conn);
	printf("queue=%s queue_messages=%" PRIu32, opt.queue, depth);
	if (depth > 0) {
		r = amqp_basic_get(conn, CHANNEL, amqp_cstring_bytes(opt.queue),
		    0);
		check_reply(r, "basic.get");
		if (r.reply.id == AMQP_BASIC_GET_OK_METHOD) {
			ok = r.reply.decoded;
			check_reply(amqp_read_message(conn, CHANNEL, &msg, 0),
			    "reading a message");
			printf(" sample_bytes=%zu", msg.body.len);
			amqp_destroy_message(&msg);
			if (amqp_basic_reject(conn, CHANNEL, ok->delivery_tag,
			    1) != AMQP_STATUS_OK)
				fatal("basic.reject failed");
		}
	}
	printf("\n");
}

/* Runs the -O operation on opt.queue (and opt.exchange for delete). */
static void
ceiling_op(amqp_connection_state_t conn)
{
	if (strcmp(opt.op, "count") == 0)
		ceiling_op_count(conn);
	else if (strcmp(opt.op, "purge") == 0) {
		amqp_queue_purge(conn, CHANNEL, amqp_cstring_bytes(opt.queue));
		check_rpc(conn, "queue.purge");
	} else if (strcmp(opt.op, "delete") == 0) {
		if (*opt.queue != '\0') {
			amqp_queue_delete(conn, CHANNEL,
			    amqp_cstring_bytes(opt.queue), 0, 0);
			check_rpc(conn, "queue.delete");
		}
		if (*opt.exchange != '\0') {
			amqp_exchange_delete(conn, CHANNEL,
			    amqp_cstring_bytes(opt.exchange), 0);
			check_rpc(conn, "exchange.delete");
		}
	} else
		fatal("-O takes count, purge or delete, not %s", opt.op);
}

static const char usage[] =
    "usage: amqp_ceiling [-kq] [-u url] [-x exchange] [-Q queue] "
    "[-r key]\n"
    "       amqp_ceiling -O count|purge|delete [-u url] [-x exchange] "
    "[-Q queue]\n"
    "                    [-s bytes] [-W window] [-d seconds] "
    "[-w seconds] [-n count]\n"
    "  -u  broker URL (amqp://guest:guest@127.0.0.1:5672/)\n"
    "  -x  durable topic exchange (bench.ceiling)\n"
    "  -Q  durable queue bound to it with # (bench.ceiling)\n"
    "  -r  routing key (web.page_view)\n"
    "  -s  message body size in bytes (600)\n"
    "  -W  messages unconfirmed at most (1024)\n"
    "  -d  measured seconds (10) after -w seconds of warm-up (1)\n"
    "  -n  publish exactly this many messages instead, all measured\n"
    "  -k  keep the queue and the exchange at the end\n"
    "  -q  no human summary on stderr\n"
    "  -O count|purge|delete: only count the messages of queue -Q\n"
    "      (and the size of the first), purge it, or delete queue -Q\n"
    "      and exchange -x (\"\" skips one)\n";

static void
parse_args(int argc, char **argv)
{
	int ch;

	opt.url = "amqp://guest:guest@127.0.0.1:5672/";
	opt.exchange = "bench.ceiling";
	opt.queue = "bench.ceiling";
	opt.routing_key = "web.page_view";
	opt.size = 600;
	opt.window = 1024;
	opt.duration_s = 10;
	opt.warmup_s = 1;
	while ((ch = getopt(argc, argv, "d:hkn:O:Q:qr:s:u:W:w:x:")) != -1) {
		switch (ch) {
		case 'd':
			opt.duration_s = parse_double(optarg, "duration");
			break;
		case 'h':
			usage_exit(usage, 0);
		case 'k':
			opt.keep = 1;
			break;
		case 'n':
			opt.count = parse_uint(optarg, "count");
			break;
		case 'O':
			opt.op = optarg;
			break;
		case 'Q':
			opt.queue = optarg;
			break;
		case 'q':
			opt.quiet = 1;
			break;
		case 'r':
			opt.routing_key = optarg;
			break;
		case 's':
			opt.size = (size_t)parse_uint(optarg, "size");
			break;
		case 'u':
			opt.url = optarg;
			break;
		case 'W':
			opt.window = (unsigned)parse_uint(optarg, "window");
			break;
		case 'w':
			opt.warmup_s = parse_double(optarg, "warm-up");
			break;
		case 'x':
			opt.exchange = optarg;
			break;
		default:
			usage_exit(usage, 2);
		}
	}
	if (optind != argc)
		usage_exit(usage, 2);
	if (opt.window == 0)
		fatal("the window must be at least 1");
	if (opt.count == 0 && opt.duration_s <= 0)
		fatal("need a duration or a count");
}

int
main(int argc, char **argv)
{
	struct state st;
	char *body;
	size_t id_off;
	double t, t0, t1, t_end, rate;
	uint64_t acked0 = 0, acked1;
	uint32_t depth;
	int measuring;

	parse_args(argc, argv);
	if (opt.op != NULL) {
		st.conn = ceiling_connect();
		ceiling_op(st.conn);
		amqp_channel_close(st.conn, CHANNEL, AMQP_REPLY_SUCCESS);
		amqp_connection_close(st.conn, AMQP_REPLY_SUCCESS);
		amqp_destroy_connection(st.conn);
		return 0;
	}
	memset(&st, 0, sizeof st);
	st.settled = calloc(opt.window, 1);
	if (st.settled == NULL)
		fatal("out of memory");
	st.next_tag = st.low = 1;	/* confirm tags start at 1 */
	body = ceiling_body(&id_off);
	st.conn = ceiling_connect();
	ceiling_declare(st.conn);

	t0 = now_s();
	measuring = opt.count != 0 || opt.warmup_s == 0;
	t_end = opt.count != 0 ? 0 : t0 + opt.warmup_s + opt.duration_s;
	if (!measuring)
		t0 += opt.warmup_s;
	for (;;) {
		t = now_s();
		if (!measuring && t >= t0) {
			measuring = 1;
			t0 = t;
			acked0 = st.acked;
		}
		if (opt.count != 0 ? st.next_tag > opt.count : t >= t_end)
			break;
		while (!st.blocked && st.next_tag - st.low < opt.window &&
		    (opt.count == 0 || st.next_tag <= opt.count))
			ceiling_publish(&st, body, id_off);
		ceiling_read(&st, st.next_tag - st.low >= opt.window ||
		    st.blocked);
	}
	/* The rate counts what was confirmed in the window; then drain. */
	if (opt.count != 0)
		while (st.low < st.next_tag)
			ceiling_read(&st, 1);
	t1 = now_s();
	acked1 = st.acked;
	while (st.low < st.next_tag)
		ceiling_read(&st, 1);
	depth = ceiling_queue_depth(st.conn);
	if (!opt.keep) {
		amqp_queue_delete(st.conn, CHANNEL,
		    amqp_cstring_bytes(opt.queue), 0, 0);
		check_rpc(st.conn, "queue.delete");
		amqp_exchange_delete(st.conn, CHANNEL,
		    amqp_cstring_bytes(opt.exchange), 0);
		check_rpc(st.conn, "exchange.delete");
	}
	amqp_channel_close(st.conn, CHANNEL, AMQP_REPLY_SUCCESS);
	amqp_connection_close(st.conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(st.conn);

	rate = (double)(acked1 - acked0) / (t1 - t0);
	printf("size=%zu window=%u seconds=%.3f confirmed=%" PRIu64
	    " rate=%.0f published=%" PRIu64 " acked=%" PRIu64 " nacked=%"
	    PRIu64 " returned=%" PRIu64 " queue_messages=%" PRIu32 "\n",
	    opt.size, opt.window, t1 - t0, acked1 - acked0, rate,
	    st.next_tag - 1, st.acked, st.nacked, st.returned, depth);
	fflush(stdout);
	if (!opt.quiet)
		fprintf(stderr, "broker ceiling: %.0f persistent %zu-byte "
		    "messages/s confirmed (window %u, %.1f s); %" PRIu64
		    " published, %" PRIu64 " nacked, %" PRIu64 " returned, %"
		    PRIu32 " in the queue\n", rate, opt.size, opt.window,
		    t1 - t0, st.next_tag - 1, st.nacked, st.returned, depth);
	free(body);
	free(st.settled);
	return st.nacked > 0 || st.returned > 0 ||
	    depth != st.acked ? 1 : 0;
}
