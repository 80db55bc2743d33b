/*
 * loader_bench.c: the two ends of sluice-loader's benchmark. "fill" puts N
 * envelopes shaped and sized like sluiced's into a durable queue, as
 * sluiced publishes them (persistent, content_type, message_id, app_id,
 * timestamp, the headers app, channel, event and sluice_seq), in confirm
 * mode with a window of unconfirmed publishes; every id is unique. "drain"
 * is the bare consumer the loader is measured against: it consumes N
 * messages with the loader's prefetch and acknowledges them, like the
 * loader, with one multiple ack every B messages, and does nothing else.
 * Both print one line of key=value (messages, seconds, rate); drain times
 * from the first delivery to the last ack, as the loader's summary does.
 * Single-threaded.
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
#define WAIT_LIMIT_S	30	/* longest wait for anything */

struct opts {
	const char	*url;
	const char	*op;
	const char	*queue;
	uint64_t	 count;
	size_t		 size;
	unsigned	 window;
	unsigned	 prefetch;
	unsigned	 ack_every;
	const char	*prefix;
};

static struct opts opt = {
	.url = "amqp://guest:guest@127.0.0.1:5672",
	.queue = "sluice_bench.loader",
	.count = 1000000,
	.size = 638,
	.window = 1024,
	.prefetch = 4000,
	.ack_every = 1000,
	.prefix = "lb",
};

static const char usage[] =
    "usage: loader_bench -O fill|drain [-u url] [-Q queue] [-n count]\n"
    "           [-s envelope_bytes] [-W window] [-p prefetch] [-b ack_every]\n"
    "           [-i id_prefix]\n"
    "  fill   publish count envelopes of about envelope_bytes (default 638)\n"
    "         to the durable queue, persistent, confirms, window W (1024)\n"
    "  drain  consume count messages with prefetch p (4000), one multiple\n"
    "         ack every b (1000) and at the end; nothing else\n";

/* Dies with what went wrong if a synchronous call failed. */
static void
check_rpc(amqp_connection_state_t conn, const char *what)
{
	amqp_rpc_reply_t r = amqp_get_rpc_reply(conn);

	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return;
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
		fatal("%s: %s", what, amqp_error_string2(r.library_error));
	fatal("%s: the broker refused (method 0x%08x)", what, r.reply.id);
}

static amqp_connection_state_t
bench_connect(void)
{
	struct amqp_connection_info info;
	struct timeval tv = { 10, 0 };
	amqp_connection_state_t conn;
	amqp_socket_t *sock;
	char *url;

	if ((url = strdup(opt.url)) == NULL)
		fatal("out of memory");
	if (amqp_parse_url(url, &info) != AMQP_STATUS_OK)
		fatal("bad url %s", opt.url);
	conn = amqp_new_connection();
	if (conn == NULL || (sock = amqp_tcp_socket_new(conn)) == NULL)
		fatal("out of memory");
	if (amqp_socket_open_noblock(sock, info.host, info.port, &tv) !=
	    AMQP_STATUS_OK)
		fatal("cannot connect to %s:%d", info.host, info.port);
	if (amqp_login(conn, info.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
	    info.user, info.password).reply_type != AMQP_RESPONSE_NORMAL)
		fatal("login failed");
	amqp_channel_open(conn, CHANNEL);
	check_rpc(conn, "channel.open");
	free(url);
	return conn;
}

/*
 * Writes envelope seq into buf (opt.size + 256 bytes): sluiced's shape,
 * its data padded so the whole is about opt.size bytes, and its id into
 * id. Returns the envelope's length.
 */
static size_t
bench_envelope(char *buf, uint64_t seq, int64_t base_ms, char *id,
    size_t idsize)
{
	static const char pad[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	char when[64], pads[1024];
	struct tm tm;
	time_t secs;
	int64_t ms = base_ms + (int64_t)(seq / 10);
	size_t n, want, k;

	secs = (time_t)(ms / 1000);
	gmtime_r(&secs, &tm);
	snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	snprintf(id, idsize, "%s-%016" PRIx64, opt.prefix, seq);
	pads[0] = '\0';
	for (k = 0; k < 2; k++) {
		n = (size_t)snprintf(buf, opt.size + 256, "{\"id\":\"%s\","
		    "\"app\":\"bench\",\"channel\":\"web\",\"event\":"
		    "\"page_view\",\"data\":{\"path\":\"/products/%" PRIu64 "\","
		    "\"referrer\":\"https://www.example.com/search?q=sluice\","
		    "\"screen\":{\"w\":1920,\"h\":1080},\"n\":%" PRIu64 ","
		    "\"pad\":\"%s\"},\"received_at\":\"%s\",\"timestamp\":"
		    "\"%s\",\"client_timestamp\":\"%s\",\"client_sent_at\":null,"
		    "\"ip\":\"203.0.113.%u\",\"user_agent\":\"Mozilla/5.0 (X11; "
		    "Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
		    "Chrome/120.0 Safari/537.36\",\"origin\":"
		    "\"https://www.example.com\",\"source\":\"http\"}", id,
		    seq % 1000, seq, pads, when, when, when,
		    (unsigned)(seq % 250) + 1);
		want = opt.size > n ? opt.size - n : 0;
		if (want == 0 || k == 1)
			break;
		if (want >= sizeof pads)
			want = sizeof pads - 1;
		for (n = 0; n < want; n++)
			pads[n] = pad[(seq + n) % (sizeof pad - 1)];
		pads[want] = '\0';
	}
	return n;
}

/* Reads confirms until at most limit publishes are unconfirmed. */
static void
fill_settle(amqp_connection_state_t conn, uint64_t published,
    uint64_t *confirmed, uint64_t limit)
{
	struct timeval tv = { WAIT_LIMIT_S, 0 };
	amqp_basic_ack_t *ack;
	amqp_frame_t frame;

	while (published - *confirmed > limit) {
		if (amqp_simple_wait_frame_noblock(conn, &frame, &tv) !=
		    AMQP_STATUS_OK)
			fatal("no confirm in %d s", WAIT_LIMIT_S);
		if (frame.frame_type != AMQP_FRAME_METHOD)
			continue;
		switch (frame.payload.method.id) {
		case AMQP_BASIC_ACK_METHOD:
			ack = frame.payload.method.decoded;
			*confirmed = ack->multiple ? ack->delivery_tag :
			    *confirmed + 1;
			break;
		case AMQP_BASIC_NACK_METHOD:
			fatal("the broker nacked a publish");
		case AMQP_CHANNEL_CLOSE_METHOD:
		case AMQP_CONNECTION_CLOSE_METHOD:
			fatal("the broker closed the connection");
		default:
			break;
		}
	}
}

static void
op_fill(amqp_connection_state_t conn)
{
	amqp_basic_properties_t props;
	amqp_table_entry_t headers[4];
	uint64_t seq, confirmed = 0;
	int64_t base_ms = (int64_t)time(NULL) * 1000;
	char *buf, id[64], seqtext[24];
	double t0, secs;
	size_t len = 0;

	amqp_queue_declare(conn, CHANNEL, amqp_cstring_bytes(opt.queue), 0, 1,
	    0, 0, amqp_empty_table);
	check_rpc(conn, "queue.declare");
	amqp_confirm_select(conn, CHANNEL);
	check_rpc(conn, "confirm.select");
	if ((buf = malloc(opt.size + 256)) == NULL)
		fatal("out of memory");
	memset(&props, 0, sizeof props);
	props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
	    AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
	    AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_APP_ID_FLAG |
	    AMQP_BASIC_HEADERS_FLAG;
	props.content_type = amqp_cstring_bytes("application/json");
	props.delivery_mode = 2;
	props.app_id = amqp_cstring_bytes("bench");
	props.timestamp = (uint64_t)time(NULL);
	headers[0].key = amqp_cstring_bytes("app");
	headers[0].value.kind = AMQP_FIELD_KIND_UTF8;
	headers[0].value.value.bytes = amqp_cstring_bytes("bench");
	headers[1].key = amqp_cstring_bytes("channel");
	headers[1].value.kind = AMQP_FIELD_KIND_UTF8;
	headers[1].value.value.bytes = amqp_cstring_bytes("web");
	headers[2].key = amqp_cstring_bytes("event");
	headers[2].value.kind = AMQP_FIELD_KIND_UTF8;
	headers[2].value.value.bytes = amqp_cstring_bytes("page_view");
	headers[3].key = amqp_cstring_bytes("sluice_seq");
	headers[3].value.kind = AMQP_FIELD_KIND_UTF8;
	props.headers.num_entries = 4;
	props.headers.entries = headers;
	t0 = now_s();
	for (seq = 1; seq <= opt.count; seq++) {
		len = bench_envelope(buf, seq, base_ms, id, sizeof id);
		snprintf(seqtext, sizeof seqtext, "%" PRIu64, seq);
		headers[3].value.value.bytes = amqp_cstring_bytes(seqtext);
		props.message_id = amqp_cstring_bytes(id);
		if (amqp_basic_publish(conn, CHANNEL, amqp_empty_bytes,
		    amqp_cstring_bytes(opt.queue), 0, 0, &props,
		    (amqp_bytes_t){ len, buf }) != AMQP_STATUS_OK)
			fatal("publish failed");
		fill_settle(conn, seq, &confirmed, opt.window - 1);
	}
	fill_settle(conn, opt.count, &confirmed, 0);
	secs = now_s() - t0;
	printf("op=fill messages=%" PRIu64 " bytes=%zu seconds=%.3f "
	    "rate=%.0f\n", opt.count, len, secs, (double)opt.count / secs);
	free(buf);
}

static void
op_drain(amqp_connection_state_t conn)
{
	struct timeval tv = { WAIT_LIMIT_S, 0 };
	amqp_envelope_t env;
	amqp_rpc_reply_t r;
	uint64_t got = 0, last = 0;
	double t0 = 0, secs;

	amqp_basic_qos(conn, CHANNEL, 0, (uint16_t)opt.prefetch, 0);
	check_rpc(conn, "basic.qos");
	amqp_basic_consume(conn, CHANNEL, amqp_cstring_bytes(opt.queue),
	    amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
	check_rpc(conn, "basic.consume");
	while (got < opt.count) {
		amqp_maybe_release_buffers(conn);
		r = amqp_consume_message(conn, &env, &tv, 0);
		if (r.reply_type != AMQP_RESPONSE_NORMAL)
			fatal("%" PRIu64 " of %" PRIu64 " messages came", got,
			    opt.count);
		if (got++ == 0)
			t0 = now_s();
		last = env.delivery_tag;
		amqp_destroy_envelope(&env);
		if (got % opt.ack_every == 0 &&
		    amqp_basic_ack(conn, CHANNEL, last, 1) != AMQP_STATUS_OK)
			fatal("ack failed");
	}
	if (got % opt.ack_every != 0 &&
	    amqp_basic_ack(conn, CHANNEL, last, 1) != AMQP_STATUS_OK)
		fatal("ack failed");
	secs = now_s() - t0;
	printf("op=drain messages=%" PRIu64 " seconds=%.3f rate=%.0f\n", got,
	    secs, (double)got / secs);
}

int
main(int argc, char **argv)
{
	amqp_connection_state_t conn;
	int ch;

	while ((ch = getopt(argc, argv, "O:u:Q:n:s:W:p:b:i:h")) != -1) {
		switch (ch) {
		case 'O':
			opt.op = optarg;
			break;
		case 'u':
			opt.url = optarg;
			break;
		case 'Q':
			opt.queue = optarg;
			break;
		case 'n':
			opt.count = parse_uint(optarg, "count");
			break;
		case 's':
			opt.size = parse_uint(optarg, "size");
			break;
		case 'W':
			opt.window = (unsigned)parse_uint(optarg, "window");
			break;
		case 'p':
			opt.prefetch = (unsigned)parse_uint(optarg, "prefetch");
			break;
		case 'b':
			opt.ack_every = (unsigned)parse_uint(optarg,
			    "ack_every");
			break;
		case 'i':
			opt.prefix = optarg;
			break;
		case 'h':
			usage_exit(usage, 0);
		default:
			usage_exit(usage, 2);
		}
	}
	if (opt.op == NULL || optind != argc || opt.count == 0 ||
	    opt.window == 0 || opt.prefetch == 0 || opt.prefetch > 65535 ||
	    opt.ack_every == 0)
		usage_exit(usage, 2);
	conn = bench_connect();
	if (strcmp(opt.op, "fill") == 0)
		op_fill(conn);
	else if (strcmp(opt.op, "drain") == 0)
		op_drain(conn);
	else
		usage_exit(usage, 2);
	amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(conn);
	return 0;
}
