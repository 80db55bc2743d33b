/*
 * amqp_fwd.c: the forwarder thread. It alone touches the librabbitmq
 * connection. It reads durable records from the journal in order, routes
 * each by its type (an event is published to the exchange), publishes with
 * many in flight, and feeds what the broker answers to its window
 * (fwd_window.c), which decides what is published again and how far the
 * journal checkpoint moves. A record it cannot send stops it there. The
 * public functions run on the main thread and talk to the thread through
 * atomics, an eventfd, and a condition variable for the drain.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <amqp.h>

#include "broker/amqp_fwd.h"
#include "broker/amqp_link.h"
#include "broker/fwd_window.h"
#include "core/isotime.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/routekey.h"
#include "core/sluice.h"
#include "core/waitcount.h"
#include "journal/journal.h"
#include "journal/record.h"

#define FWD_IDLE_WAIT_MS 200		/* longest sleep between checks */
#define FWD_NACK_RETRY_MS 100		/* republish a nacked message after */
#define FWD_RETURN_RETRY_MS 1000	/* republish a returned message after */
#define FWD_PROVEN_MS 5000		/* a connection up this long is good */
#define FWD_SEND_TIMEOUT_S 30		/* a send's bound without heartbeats */
#define FWD_GRACE_MS 500		/* a polite close's time at stop */

struct amqp_fwd {
	const struct config	*cfg;
	struct journal		*journal;
	struct routekey		*rk;
	struct amqp_url	 target;
	pthread_t		 thread;
	int			 wake_fd;	/* eventfd: stop requested */
	atomic_int		 stop;
	atomic_int		 ready;
	atomic_uint_fast64_t	 stalled_seq;	/* record it stopped at, or 0 */
	pthread_mutex_t		 lock;		/* for advanced, sockfd */
	pthread_cond_t		 advanced;	/* the checkpoint moved */
	int			 sockfd;	/* the connection's, or -1 */

	/* Below: owned by the forwarder thread. */
	amqp_connection_state_t	 conn;
	struct journal_reader	*reader;
	struct fwd_window	*window;	/* published and to publish */
	uint64_t		 last_read;	/* highest seq read */
	uint64_t		 checkpoint;	/* last seq given to journal */
	int			 blocked;
	int64_t			 last_rx_ms;	/* socket last readable */
	int64_t			 connected_ms;
	int			 proven;	/* got an ack, or up a while */
	unsigned		 backoff_ms;
	int64_t			 next_connect_ms;
	unsigned		 connects;
	unsigned		 rand_state;
};

/* Capped exponential backoff with jitter: a delay in [b/2, b). */
static unsigned
fwd_backoff(struct amqp_fwd *f)
{
	unsigned b = f->backoff_ms, d;

	d = b / 2 + (unsigned)rand_r(&f->rand_state) % (b / 2 + 1);
	if (f->backoff_ms < f->cfg->reconnect_max_ms / 2)
		f->backoff_ms *= 2;
	else
		f->backoff_ms = f->cfg->reconnect_max_ms;
	return d;
}

/*
 * Bounds every send on the connection (heartbeats cannot be checked while
 * a send blocks, so a broker that stops reading would hold the thread for
 * ever): a send that times out fails, and the connection counts as lost.
 * The bound is the heartbeat interval, after which the broker counts as
 * gone anyway. Then makes the socket known to amqp_fwd_stop.
 */
static void
fwd_bound_socket(struct amqp_fwd *f)
{
	struct timeval tv;
	int fd = amqp_get_sockfd(f->conn);

	tv.tv_sec = f->cfg->heartbeat_s > 0 ? (time_t)f->cfg->heartbeat_s :
	    FWD_SEND_TIMEOUT_S;
	tv.tv_usec = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == -1)
		log_warn("amqp", "setsockopt(SO_SNDTIMEO): %s",
		    strerror(errno));
	pthread_mutex_lock(&f->lock);
	f->sockfd = fd;
	pthread_mutex_unlock(&f->lock);
}

/* The socket is about to be closed: amqp_fwd_stop must not touch it (its
 * number may be reused). */
static void
fwd_forget_socket(struct amqp_fwd *f)
{
	pthread_mutex_lock(&f->lock);
	f->sockfd = -1;
	pthread_mutex_unlock(&f->lock);
}

/*
 * The connection failed: drop it and schedule a reconnect. Everything in
 * flight waits in the window to be published again, first thing on the
 * next connection.
 */
static void
fwd_lost(struct amqp_fwd *f, const char *why)
{
	log_warn("amqp", "connection lost: %s; %zu messages unconfirmed will "
	    "be published again", why, fwd_window_unconfirmed(f->window));
	fwd_forget_socket(f);
	amqp_destroy_connection(f->conn);
	f->conn = NULL;
	atomic_store(&f->ready, 0);
	metrics_amqp_connected(0);
	metrics_amqp_blocked(0);
	fwd_window_reset(f->window, isotime_mono_us());
	/* A connection that never proved itself (dropped at once, say)
	 * backs off like a failed connect. */
	f->next_connect_ms = isotime_mono_ms() + (f->proven ?
	    f->cfg->reconnect_min_ms : fwd_backoff(f));
}

/*
 * Connects when due. After a reconnect, the records the window holds
 * unconfirmed go out first, then the journal is read on where it was.
 */
static void
fwd_connect(struct amqp_fwd *f)
{
	unsigned delay;

	if (isotime_mono_ms() < f->next_connect_ms)
		return;
	f->conn = amqp_link_open(f->cfg, &f->target);
	if (f->conn == NULL) {
		delay = fwd_backoff(f);
		f->next_connect_ms = isotime_mono_ms() + delay;
		log_info("amqp", "retrying in %u ms", delay);
		return;
	}
	/* The backoff is reset only once this connection proves itself
	 * (fwd_settle): a broker that accepts connections and then drops
	 * them must not be hammered. */
	fwd_bound_socket(f);
	f->proven = 0;
	f->connected_ms = isotime_mono_ms();
	if (f->connects++ > 0)
		metrics_amqp_reconnect();
	f->blocked = 0;
	f->last_rx_ms = isotime_mono_ms();
	atomic_store(&f->ready, 1);
	metrics_amqp_connected(1);
	log_info("amqp", "connected to %s:%d, exchange %s; %zu records to "
	    "publish again, then forwarding from record %llu", f->target.host,
	    f->target.port, f->cfg->exchange,
	    fwd_window_unconfirmed(f->window),
	    (unsigned long long)f->last_read + 1);
}

/*
 * Publishes m, an event whose record is decoded in rec, and hands it to the
 * window. Returns 0, or -1 when the connection failed (m is still the
 * caller's).
 */
static int
fwd_publish_event(struct amqp_fwd *f, const struct fwd_msg *m,
    const struct event_record *rec)
{
	amqp_basic_properties_t props;
	amqp_table_entry_t headers[4];
	char key[ROUTEKEY_MAX + 1];
	amqp_bytes_t body, rkey;
	size_t keylen;
	int rc;

	keylen = routekey_render(f->rk, rec->app, rec->app_len,
	    rec->channel, rec->channel_len, rec->event, rec->event_len,
	    key);
	rkey.bytes = key;
	rkey.len = keylen;
	memset(&props, 0, sizeof props);
	props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
	    AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
	    AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_APP_ID_FLAG |
	    AMQP_BASIC_HEADERS_FLAG;
	props.content_type = amqp_cstring_bytes("application/json");
	props.delivery_mode = 2;
	/* A shortstr: ingestion keeps ids within it; a record from before
	 * that rule goes without (its id is in the body all the same). */
	if (rec->id_len <= 255) {
		props.message_id.bytes = (void *)rec->id;
		props.message_id.len = rec->id_len;
	} else
		props._flags &= ~AMQP_BASIC_MESSAGE_ID_FLAG;
	props.timestamp = (uint64_t)(rec->received_at_ms / 1000);
	props.app_id.bytes = (void *)rec->app;
	props.app_id.len = rec->app_len;
	headers[0].key = amqp_cstring_bytes("app");
	headers[0].value.kind = AMQP_FIELD_KIND_UTF8;
	headers[0].value.value.bytes = props.app_id;
	headers[1].key = amqp_cstring_bytes("channel");
	headers[1].value.kind = AMQP_FIELD_KIND_UTF8;
	headers[1].value.value.bytes.bytes = (void *)rec->channel;
	headers[1].value.value.bytes.len = rec->channel_len;
	headers[2].key = amqp_cstring_bytes("event");
	headers[2].value.kind = AMQP_FIELD_KIND_UTF8;
	headers[2].value.value.bytes.bytes = (void *)rec->event;
	headers[2].value.value.bytes.len = rec->event_len;
	/* The journal sequence number identifies this publish exactly when
	 * the broker returns it (client ids may repeat). */
	headers[3].key = amqp_cstring_bytes("sluice_seq");
	headers[3].value.kind = AMQP_FIELD_KIND_I64;	/* "l": RabbitMQ's */
	headers[3].value.value.i64 = (int64_t)m->seq;
	props.headers.num_entries = 4;
	props.headers.entries = headers;
	body.bytes = (void *)rec->json;
	body.len = rec->json_len;
	rc = amqp_basic_publish(f->conn, AMQP_LINK_CHANNEL,
	    amqp_cstring_bytes(f->cfg->exchange), rkey, 1, 0, &props, body);
	if (rc != AMQP_STATUS_OK) {
		fwd_lost(f, amqp_error_string2(rc));
		return -1;
	}
	(void)fwd_window_published(f->window, m, isotime_mono_us());
	metrics_amqp_published(1);
	return 0;
}

/*
 * Checks that the record data can be sent, by its type: today an event
 * that decodes (into *rec). Returns its type, or -1 when it cannot be sent.
 */
static int
fwd_route(const void *data, size_t len, struct event_record *rec)
{
	switch (journal_record_type(data, len)) {
	case JOURNAL_RECORD_EVENT:
		if (event_record_decode(data, len, rec) == 0)
			return JOURNAL_RECORD_EVENT;
		return -1;
	default:
		return -1;
	}
}

/*
 * Stops forwarding at journal record seq, which cannot be sent: it is
 * never skipped, so the checkpoint stays before it. Logged once.
 */
static void
fwd_stall(struct amqp_fwd *f, uint64_t seq, const void *data, size_t len)
{
	const unsigned char *p = data;
	int type;

	if (atomic_load(&f->stalled_seq) == seq)
		return;
	type = journal_record_type(data, len);
	if (type == -1)
		log_error("amqp", "journal record %llu has no known format "
		    "(version byte %d, %zu bytes)", (unsigned long long)seq,
		    len > 0 ? p[0] : -1, len);
	else
		log_error("amqp", "journal record %llu of type %d (%s) cannot "
		    "be %s", (unsigned long long)seq, type,
		    journal_record_type_str(type),
		    type == JOURNAL_RECORD_EVENT ? "decoded" :
		    "sent by this version of sluiced");
	log_error("amqp", "forwarding stops before record %llu and /readyz "
	    "says not ready: the journal keeps it and every record after it "
	    "(run a sluiced that can send it)", (unsigned long long)seq);
	atomic_store(&f->stalled_seq, seq);
	metrics_amqp_stalled(seq);
}

/*
 * Takes the next message due: a retry whose time has come, else a record
 * from the journal, unless forwarding stopped at one it cannot send.
 * Returns 1 with *m (owning its data) and *rec filled, 0 if none.
 */
static int
fwd_next(struct amqp_fwd *f, struct fwd_msg *m, struct event_record *rec)
{
	const void *data;
	uint64_t seq;
	size_t len;

	if (fwd_window_take_retry(f->window, isotime_mono_us(), m)) {
		/* Checked when it was read; the window does not change it. */
		if (fwd_route(m->data, m->len, rec) == -1)
			abort();
		return 1;
	}
	if (!fwd_window_has_room(f->window) ||
	    atomic_load(&f->stalled_seq) != 0 ||
	    journal_reader_next(f->reader, &seq, &data, &len) <= 0)
		return 0;
	if (fwd_route(data, len, rec) == -1) {
		fwd_stall(f, seq, data, len);
		journal_reader_seek(f->reader, seq - 1);
		return 0;
	}
	memset(m, 0, sizeof *m);
	m->seq = seq;
	m->data = malloc(len);
	if (m->data == NULL) {
		/* Read it again next time round. */
		journal_reader_seek(f->reader, seq - 1);
		return 0;
	}
	memcpy(m->data, data, len);
	m->len = len;
	f->last_read = seq;
	/* rec pointed into the reader's buffer: point it into the copy. */
	(void)fwd_route(m->data, m->len, rec);
	return 1;
}

/*
 * Returns 1 when a publish could go out now: a retry, and a record from the
 * journal if the window has room.
 */
static int
fwd_can_publish(struct amqp_fwd *f)
{
	return f->conn != NULL && !f->blocked;
}

/* Publishes while there is something to send and room for it. */
static void
fwd_publish_some(struct amqp_fwd *f)
{
	struct event_record rec;
	struct fwd_msg m;

	while (fwd_can_publish(f)) {
		if (!fwd_next(f, &m, &rec))
			break;
		if (fwd_publish_event(f, &m, &rec) == -1) {
			/* The connection is gone: m goes out on the next. */
			fwd_window_unsent(f->window, &m, isotime_mono_us());
			break;
		}
	}
}

/* The window's word that the broker confirmed m. */
static void
fwd_acked(void *arg, const struct fwd_msg *m, int64_t now_us)
{
	(void)arg;
	metrics_amqp_confirmed(1);
	metrics_amqp_confirm_latency((uint64_t)(now_us - m->sent_us));
}

/* Handles basic.ack / basic.nack for tag (and all before it if multiple). */
static void
fwd_on_confirm(struct amqp_fwd *f, uint64_t tag, int multiple, int ack)
{
	struct fwd_window_tally t = { 0, 0, 0 };

	fwd_window_confirm(f->window, tag, multiple, ack, isotime_mono_us(),
	    &t);
	if (t.nacked > 0)
		metrics_amqp_nacked(t.nacked);
	if (t.acked > 0)
		f->proven = 1;
}

/* The sluice_seq header of a returned message, or 0 when it has none. */
static uint64_t
fwd_header_seq(const amqp_basic_properties_t *p)
{
	const amqp_table_entry_t *e;
	int i;

	if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG))
		return 0;
	for (i = 0; i < p->headers.num_entries; i++) {
		e = &p->headers.entries[i];
		if (e->key.len != 10 || memcmp(e->key.bytes, "sluice_seq", 10))
			continue;
		switch (e->value.kind) {
		case AMQP_FIELD_KIND_U64:
			return e->value.value.u64;
		case AMQP_FIELD_KIND_I64:
			return (uint64_t)e->value.value.i64;
		default:
			return 0;
		}
	}
	return 0;
}

/* basic.return: the broker could not route a mandatory message. */
static int
fwd_on_return(struct amqp_fwd *f)
{
	const struct fwd_msg *m;
	struct event_record rec;
	amqp_message_t msg;
	amqp_rpc_reply_t r;
	char buf[256];

	r = amqp_read_message(f->conn, AMQP_LINK_CHANNEL, &msg, 0);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		fwd_lost(f, amqp_link_reply_text(r, buf, sizeof buf));
		return -1;
	}
	metrics_amqp_returned(1);
	m = fwd_window_returned(f->window, fwd_header_seq(&msg.properties));
	if (m != NULL && fwd_route(m->data, m->len, &rec) != -1)
		log_warn("amqp", "event %.*s was returned unroutable; is the "
		    "alternate exchange %s bound to a queue?", (int)rec.id_len,
		    rec.id, f->cfg->unrouted_exchange);
	amqp_destroy_message(&msg);
	return 0;
}

/* Handles one method frame. Returns 0, or -1 when the connection is gone. */
static int
fwd_on_method(struct amqp_fwd *f, amqp_frame_t *frame)
{
	const amqp_basic_ack_t *ack;
	const amqp_basic_nack_t *nack;
	const amqp_channel_close_t *cc;
	const amqp_connection_close_t *xc;
	char why[320];

	switch (frame->payload.method.id) {
	case AMQP_BASIC_ACK_METHOD:
		ack = frame->payload.method.decoded;
		fwd_on_confirm(f, ack->delivery_tag, ack->multiple, 1);
		return 0;
	case AMQP_BASIC_NACK_METHOD:
		nack = frame->payload.method.decoded;
		log_warn("amqp", "broker nacked delivery %llu; publishing again",
		    (unsigned long long)nack->delivery_tag);
		fwd_on_confirm(f, nack->delivery_tag, nack->multiple, 0);
		return 0;
	case AMQP_BASIC_RETURN_METHOD:
		return fwd_on_return(f);
	case AMQP_CONNECTION_BLOCKED_METHOD:
		log_warn("amqp", "broker blocked publishing (resource alarm)");
		f->blocked = 1;
		metrics_amqp_blocked(1);
		return 0;
	case AMQP_CONNECTION_UNBLOCKED_METHOD:
		log_info("amqp", "broker unblocked publishing");
		f->blocked = 0;
		metrics_amqp_blocked(0);
		return 0;
	case AMQP_CHANNEL_CLOSE_METHOD:
		cc = frame->payload.method.decoded;
		snprintf(why, sizeof why, "channel closed by broker: %u %.*s",
		    cc->reply_code, (int)cc->reply_text.len,
		    (const char *)cc->reply_text.bytes);
		fwd_lost(f, why);
		return -1;
	case AMQP_CONNECTION_CLOSE_METHOD:
		xc = frame->payload.method.decoded;
		snprintf(why, sizeof why, "connection closed by broker: %u "
		    "%.*s", xc->reply_code, (int)xc->reply_text.len,
		    (const char *)xc->reply_text.bytes);
		fwd_lost(f, why);
		return -1;
	default:
		return 0;
	}
}

/* Reads every frame already available without blocking. */
static void
fwd_read_frames(struct amqp_fwd *f)
{
	struct timeval zero = { 0, 0 };
	amqp_frame_t frame;
	int rc;

	while (f->conn != NULL) {
		rc = amqp_simple_wait_frame_noblock(f->conn, &frame, &zero);
		if (rc == AMQP_STATUS_TIMEOUT)
			break;
		if (rc != AMQP_STATUS_OK) {
			fwd_lost(f, amqp_error_string2(rc));
			return;
		}
		if (frame.frame_type == AMQP_FRAME_METHOD &&
		    fwd_on_method(f, &frame) == -1)
			return;
	}
	if (f->conn != NULL)
		amqp_maybe_release_buffers(f->conn);
}

/*
 * Tells the journal how far everything is confirmed (the window knows) and
 * wakes amqp_fwd_drain when that moved.
 */
static void
fwd_update_checkpoint(struct amqp_fwd *f)
{
	uint64_t cp = fwd_window_checkpoint(f->window, f->last_read);

	if (cp > f->checkpoint) {
		f->checkpoint = cp;
		journal_confirm(f->journal, cp);
		pthread_mutex_lock(&f->lock);
		pthread_cond_broadcast(&f->advanced);
		pthread_mutex_unlock(&f->lock);
	}
}

/* How long the thread may sleep before something is due. */
static int
fwd_wait_ms(struct amqp_fwd *f)
{
	int64_t now = isotime_mono_ms(), due = now + FWD_IDLE_WAIT_MS;
	int64_t retry_us;

	if (f->conn == NULL)
		due = f->next_connect_ms < due ? f->next_connect_ms : due;
	else if (fwd_can_publish(f) &&
	    fwd_window_next_due(f->window, &retry_us)) {
		/* Rounded up: a retry is taken only once it is due. */
		if ((retry_us + 999) / 1000 < due)
			due = (retry_us + 999) / 1000;
	}
	return due > now ? (int)(due - now) : 0;
}

/* Sleeps until the socket, the journal or a stop request needs us. */
static void
fwd_wait(struct amqp_fwd *f)
{
	struct pollfd pfd[3];
	uint64_t v;
	nfds_t n = 0;
	int timeout, can_send;

	if (f->conn != NULL && (amqp_frames_enqueued(f->conn) ||
	    amqp_data_in_buffer(f->conn))) {
		f->last_rx_ms = isotime_mono_ms();
		return;
	}
	timeout = fwd_wait_ms(f);
	pfd[n].fd = f->wake_fd;
	pfd[n++].events = POLLIN;
	can_send = fwd_can_publish(f) && fwd_window_has_room(f->window) &&
	    atomic_load(&f->stalled_seq) == 0;
	pfd[n].fd = journal_notify_fd(f->journal);
	pfd[n++].events = can_send ? POLLIN : 0;
	if (f->conn != NULL) {
		pfd[n].fd = amqp_get_sockfd(f->conn);
		pfd[n++].events = POLLIN;
	}
	if (poll(pfd, n, timeout) == -1 && errno != EINTR)
		log_warn("amqp", "poll: %s", strerror(errno));
	if (pfd[1].revents & POLLIN)
		(void)read(pfd[1].fd, &v, sizeof v);
	/* Heartbeat frames are consumed inside librabbitmq and never seen
	 * here, so the broker's liveness is the socket's readability. */
	if (n == 3 && (pfd[2].revents & (POLLIN | POLLHUP | POLLERR)))
		f->last_rx_ms = isotime_mono_ms();
}

/* Resets the backoff once the connection has proved itself. */
static void
fwd_settle(struct amqp_fwd *f)
{
	if (f->conn == NULL)
		return;
	if (!f->proven && isotime_mono_ms() - f->connected_ms >= FWD_PROVEN_MS)
		f->proven = 1;
	if (f->proven)
		f->backoff_ms = f->cfg->reconnect_min_ms;
}

/* Closes the connection when the broker has been silent too long. */
static void
fwd_check_heartbeat(struct amqp_fwd *f)
{
	int64_t limit;

	if (f->conn == NULL || f->cfg->heartbeat_s == 0)
		return;
	limit = (int64_t)f->cfg->heartbeat_s * 2000;
	if (isotime_mono_ms() - f->last_rx_ms > limit)
		fwd_lost(f, "missed heartbeats");
}

static void *
fwd_thread(void *arg)
{
	struct amqp_fwd *f = arg;

	while (!atomic_load(&f->stop)) {
		if (f->conn == NULL)
			fwd_connect(f);
		fwd_publish_some(f);
		fwd_wait(f);
		if (f->conn != NULL) {
			fwd_read_frames(f);
			fwd_check_heartbeat(f);
			fwd_settle(f);
		}
		fwd_update_checkpoint(f);
	}
	if (f->conn != NULL) {
		/* Polite (channel.close, connection.close) unless
		 * amqp_fwd_stop shut the socket down meanwhile. */
		amqp_link_close(f->conn);
		fwd_forget_socket(f);
		f->conn = NULL;
	}
	atomic_store(&f->ready, 0);
	metrics_amqp_connected(0);
	return NULL;
}

/* Frees f and what it owns; the thread is not running. */
static void
fwd_free(struct amqp_fwd *f)
{
	if (f->reader != NULL)
		journal_reader_free(f->reader);
	if (f->wake_fd != -1)
		close(f->wake_fd);
	fwd_window_free(f->window);
	amqp_link_target_free(&f->target);
	routekey_free(f->rk);
	pthread_cond_destroy(&f->advanced);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

int
amqp_fwd_start(const struct config *cfg, struct journal *j,
    struct amqp_fwd **out)
{
	struct amqp_fwd *f;
	struct journal_stats st;
	char err[256];
	int rc;

	f = calloc(1, sizeof *f);
	if (f == NULL)
		return SLUICE_ENOMEM;
	/* The drain's deadline is on the monotonic clock, as ours are. */
	pthread_mutex_init(&f->lock, NULL);
	rc = wait_cond_init(&f->advanced);
	if (rc != 0) {
		pthread_mutex_destroy(&f->lock);
		free(f);
		return SLUICE_ENOMEM;
	}
	f->cfg = cfg;
	f->journal = j;
	f->wake_fd = -1;
	f->sockfd = -1;
	rc = SLUICE_EINVAL;
	if (routekey_compile(cfg->routing_key, &f->rk, err, sizeof err) == -1) {
		log_error("amqp", "routing_key: %s", err);
		goto fail;
	}
	if (amqp_link_target_parse(cfg->amqp_url, &f->target) == -1)
		goto fail;
	journal_get_stats(j, &st);
	f->checkpoint = f->last_read = st.confirmed_seq;
	f->window = fwd_window_new(cfg->max_inflight, FWD_NACK_RETRY_MS,
	    FWD_RETURN_RETRY_MS, f->checkpoint, fwd_acked, NULL);
	f->reader = journal_reader_new(j);
	f->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->window == NULL || f->reader == NULL || f->wake_fd == -1) {
		rc = SLUICE_ENOMEM;
		goto fail;
	}
	f->backoff_ms = cfg->reconnect_min_ms;
	f->rand_state = (unsigned)(isotime_mono_us() ^ getpid());
	rc = pthread_create(&f->thread, NULL, fwd_thread, f);
	if (rc != 0) {
		log_error("amqp", "pthread_create: %s", strerror(rc));
		rc = SLUICE_ENOMEM;
		goto fail;
	}
	*out = f;
	return SLUICE_OK;
fail:
	fwd_free(f);
	return rc;
}

int
amqp_fwd_ready(struct amqp_fwd *f)
{
	return atomic_load(&f->ready) && !metrics_amqp_is_blocked() &&
	    atomic_load(&f->stalled_seq) == 0;
}

uint64_t
amqp_fwd_stalled_at(struct amqp_fwd *f)
{
	return atomic_load(&f->stalled_seq);
}

int
amqp_fwd_drain(struct amqp_fwd *f, unsigned timeout_ms)
{
	struct journal_stats st;
	struct timespec deadline;
	int rc = 0;

	wait_deadline(timeout_ms, &deadline);
	/* The thread broadcasts under the lock after it moved the journal's
	 * checkpoint: checking under the lock misses no wakeup. */
	pthread_mutex_lock(&f->lock);
	for (;;) {
		journal_get_stats(f->journal, &st);
		if (st.confirmed_seq + 1 >= st.next_seq)
			break;
		if (rc == ETIMEDOUT) {
			pthread_mutex_unlock(&f->lock);
			log_warn("amqp", "%llu records not confirmed by the "
			    "broker; they are kept in the journal and sent "
			    "after the restart", (unsigned long long)
			    (st.next_seq - 1 - st.confirmed_seq));
			return -1;
		}
		rc = pthread_cond_timedwait(&f->advanced, &f->lock, &deadline);
	}
	pthread_mutex_unlock(&f->lock);
	return 0;
}

/* Joins the thread by the absolute CLOCK_REALTIME time ms from now.
 * Returns 0, or -1 when it still runs. */
static int
fwd_join_within(struct amqp_fwd *f, unsigned ms)
{
	struct timespec deadline;

	wait_deadline_on(CLOCK_REALTIME, ms, &deadline);
	return pthread_timedjoin_np(f->thread, NULL, &deadline) == 0 ? 0 : -1;
}

int
amqp_fwd_stop(struct amqp_fwd *f, unsigned timeout_ms)
{
	uint64_t one = 1;
	unsigned grace = timeout_ms < FWD_GRACE_MS ? timeout_ms :
	    FWD_GRACE_MS;

	atomic_store(&f->stop, 1);
	(void)write(f->wake_fd, &one, sizeof one);
	if (fwd_join_within(f, grace) == -1) {
		/* Stuck on a broker that does not read or answer: whatever
		 * the thread waits for on the socket fails now. */
		pthread_mutex_lock(&f->lock);
		if (f->sockfd != -1)
			shutdown(f->sockfd, SHUT_RDWR);
		pthread_mutex_unlock(&f->lock);
		if (fwd_join_within(f, timeout_ms - grace) == -1) {
			log_error("amqp", "the forwarder did not stop within "
			    "%u ms", timeout_ms);
			return -1;
		}
	}
	fwd_free(f);
	return 0;
}
