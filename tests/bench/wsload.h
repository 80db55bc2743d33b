/*
 * wsload.h: what the parts of wsload, the WebSocket load generator, share:
 * the options, the phase of the run, the worker threads that own the
 * WebSocket connections (wsload_conn.c), the presence modes' side of a
 * connection (wsload_presence.c: the arena's client events, churn and its
 * member lists), the fan-out publisher and the blocking connections of
 * the publisher and the checks (wsload_pub.c). wsload.c reads the command
 * line, runs a mode and prints the results.
 *
 * Threads: the options are written before any thread starts and read-only
 * after. The phase and the counters below are atomics. A worker's stats
 * belong to it until it is joined; the publisher's likewise.
 */
#ifndef SLUICE_BENCH_WSLOAD_H
#define SLUICE_BENCH_WSLOAD_H

#include <sys/socket.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "bench_util.h"
#include "wsclient.h"

enum wl_mode { WL_FANOUT, WL_IDLE, WL_INGEST, WL_ARENA, WL_CHURN };

/* The run moves forward only: workers and publisher read it. WL_CHECK:
 * churn's end, when the member lists are compared. */
enum wl_phase { WL_SETUP, WL_WARMUP, WL_MEASURE, WL_DRAIN, WL_CHECK,
    WL_STOP };

#define WL_CLOSE_CODES	16	/* distinct close codes counted */

struct wl_opts {
	enum wl_mode	 mode;
	char		 ws_host[256];	/* as in Host:, "127.0.0.1:8081" */
	char		 http_host[256];
	struct sockaddr_storage ws_addr, http_addr;
	socklen_t	 ws_addrlen, http_addrlen;
	const char	*key;
	const char	*secret;	/* arena, churn: signs presence auth */
	const char	*channel;	/* the channel subscribed */
	const char	*event_name;
	const char	*prefix;	/* event ids */
	const char	*publisher;	/* fanout: "http" or "ws" */
	const char	*query;		/* more query arguments, or NULL */
	unsigned	 conns;
	unsigned	 threads;
	unsigned	 batch;		/* ingest: events a publish; fanout: max */
	unsigned	 window;	/* ingest: publishes in flight a connection */
	unsigned	 sources;	/* 127.0.0.2.. source addresses; 0: none */
	unsigned	 opening;	/* handshakes under way at once, in all */
	unsigned	 users;		/* arena, churn: connection i is user
					   i % users */
	unsigned	 close_pct;	/* churn: leaves that close (else
					   unsubscribe), in percent */
	double		 rate;		/* fanout: events/s published; arena:
					   client events/s a connection */
	double		 hold_ms;	/* churn: mean time in, and out */
	double		 warmup_s;
	double		 duration_s;
	double		 drain_s;
	double		 setup_s;	/* longest wait for every connection */
	double		 settle_s;	/* idle: wait before the second sample */
	long		 pid;		/* idle: sluiced's pid, for its memory */
	int		 quiet;
};

/* What one worker saw; merged by the main thread after the join. */
struct wl_stats {
	uint64_t	 deliveries;	/* fanout: in the measured window */
	uint64_t	 deliveries_total;
	uint64_t	 lost;		/* fanout: sequence numbers skipped */
	uint64_t	 reordered;	/* fanout: seen again or out of order */
	uint64_t	 bad_deliveries; /* fanout: no sequence or time in it */
	uint64_t	 batches;	/* ingest: acked in the window */
	uint64_t	 events;	/* ingest: acked in the window */
	uint64_t	 events_sent;
	uint64_t	 events_acked;
	uint64_t	 nacks;
	uint64_t	 pusher_errors;	/* pusher:error messages */
	uint64_t	 connect_errors;
	uint64_t	 handshake_errors;
	uint64_t	 protocol_errors;
	uint64_t	 drops;		/* connections lost without a close */
	uint64_t	 closes;	/* close frames from the server */
	unsigned	 close_code[WL_CLOSE_CODES];
	uint64_t	 close_count[WL_CLOSE_CODES];
	uint64_t	 pings;		/* pusher:ping and ping frames answered */
	uint64_t	 other;		/* other messages */
	uint64_t	 sent;		/* arena: client events sent */
	uint64_t	 sent_window;	/* arena: in the measured window */
	uint64_t	 behind;	/* arena: sends skipped, over 1 s late */
	uint64_t	 joins;		/* churn: in the measured window */
	uint64_t	 leaves;	/* churn: in the measured window */
	uint64_t	 joins_total;
	uint64_t	 leaves_total;
	uint64_t	 member_errors;	/* churn: a list that cannot be right */
	struct lat_hist	 lat;		/* measured window: delivery latency
					   (churn: subscribe to succeeded) */
};

struct wl_conn;

/* What the presence modes keep of a connection (wsload_presence.c). */
struct wl_presence {
	char		 socket_id[64];
	uint64_t	*members;	/* churn: bitmap of users, + checker */
	unsigned	 nmembers;	/* bits set */
	uint64_t	*from_seq;	/* arena: next sequence by sender */
	uint64_t	 seq;		/* arena: next event's number */
	uint64_t	 next_ns;	/* arena: next send; churn: next move */
	uint64_t	 sub_ns;	/* churn: subscribe sent */
	int		 in;		/* churn: subscribed (as we count) */
	int		 checked;	/* churn: compared at the end */
};

/* A connection's state. CS_OPEN: established, not subscribed (churn: also
 * after it unsubscribed). CS_NEW: not connected (churn: also after it
 * hung up, until it connects again). */
enum wl_cstate { CS_NEW, CS_CONNECTING, CS_HANDSHAKE, CS_OPEN,
    CS_SUBSCRIBING, CS_READY, CS_CLOSED };

/* An ingest publish waiting for its ack. */
struct wl_flight {
	uint64_t	ref;
	uint64_t	t_ns;
	unsigned	n;
};

struct wl_conn {
	struct wl_worker *w;
	unsigned	 index;		/* global connection number */
	unsigned	 slot;		/* its place in the worker */
	uint32_t	 gen;		/* bumped on every connect */
	int		 fd;
	enum wl_cstate	 st;
	unsigned	 tries;		/* connects that failed */
	int		 want_out;	/* EPOLLOUT is on */
	char		*out;
	size_t		 out_len, out_off, out_cap;
	char		*in;		/* an incomplete frame kept */
	size_t		 in_len, in_cap;
	struct wsc_msg	 msg;
	struct wsc_key	 key;
	uint64_t	 next_seq;	/* fanout: the sequence expected */
	uint64_t	 seen;		/* fanout: deliveries on this one */
	uint64_t	 ref;		/* ingest: the next publish's ref */
	uint64_t	 ev_seq;	/* ingest: the next event's number */
	struct wl_flight *fl;
	unsigned	 nfl;
	int		 was_ready;	/* counted in wl_ready once */
	int		 opening;	/* counted in its worker's opening */
	struct wl_presence pr;		/* arena, churn */
};

struct wl_worker {
	unsigned	 id;
	pthread_t	 thread;
	int		 ep;
	struct wl_conn	*conns;
	unsigned	 nconns;
	unsigned	 next_connect;	/* the next connection to open */
	unsigned	 opening;	/* handshakes under way */
	unsigned	 open_max;
	uint64_t	 rng;
	uint64_t	 now;		/* time the last read returned */
	int		 kicked;	/* ingest: publishing started */
	char		*rbuf;		/* read buffer */
	size_t		 rbuf_cap;
	char		*scratch;	/* messages being built */
	size_t		 scratch_cap;
	struct wl_stats	 st;
};

extern struct wl_opts	 wl_opt;
extern _Atomic int	 wl_phase;
extern _Atomic unsigned	 wl_established;	/* got connection_established */
extern _Atomic unsigned	 wl_ready;	/* subscribed or established */
extern _Atomic unsigned	 wl_closed;	/* ready connections lost */
extern _Atomic unsigned	 wl_failed;	/* lost before they were ready */
extern _Atomic uint64_t	 wl_delivered;	/* fanout deliveries, all */
extern _Atomic uint64_t	 wl_published;	/* fanout events accepted */
extern _Atomic uint64_t	 wl_inflight;	/* ingest publishes unanswered;
					   churn: joins under way */
extern _Atomic uint64_t	 wl_sent;	/* arena client events sent */
extern _Atomic unsigned	 wl_checked;	/* churn: lists compared */
extern _Atomic unsigned	 wl_mismatched;	/* churn: lists that differ */

/* Starts worker w's thread: it opens its connections and serves them
 * until the phase is WL_STOP, then closes them. */
void wl_worker_start(struct wl_worker *w, unsigned first, unsigned n);

/* Joins w's thread and frees its connections (its stats remain). */
void wl_worker_join(struct wl_worker *w);

/*
 * For the presence modes, on the worker's thread. wl_conn_send queues a
 * text message and writes; -1 if c was closed. wl_conn_connect starts
 * connecting c again (churn). wl_conn_hangup closes c on purpose (churn:
 * a leave), not counted as lost; it may connect again. wl_conn_ready: c's
 * subscription succeeded (counted once in wl_ready).
 */
int wl_conn_send(struct wl_conn *c, const char *text, size_t len);
void wl_conn_connect(struct wl_conn *c);
void wl_conn_hangup(struct wl_conn *c);
void wl_conn_ready(struct wl_conn *c);
/* Counts a delivery of sequence seq sent at t (both from the event) and
 * received at now, where *next is the sequence expected from its sender:
 * lost, reordered, and the latency while measuring. */
void wl_conn_delivered(struct wl_stats *st, uint64_t *next, uint64_t seq,
    uint64_t t, uint64_t now);

/*
 * A blocking connection, HTTP or WebSocket, with 10 s timeouts: the
 * publisher's, and the main thread's own (reading /metrics, a fresh
 * subscriber). Its first failure is written to error as "name: what".
 * Belongs to one thread.
 */
struct wl_bconn {
	int		 fd;
	char		*in;
	size_t		 in_len, in_cap;
	char		*out;
	size_t		 out_cap;
	uint64_t	 rng;
	struct wsc_msg	 msg;
	char		 socket_id[64];	/* WebSocket: its socket id */
	const char	*name;
	char		*error;
	size_t		 error_cap;
};

/*
 * Connects bc (zeroed by the call) to sluiced's HTTP address, or with ws
 * set to its WebSocket address, where it makes the handshake and waits for
 * connection_established. Failures go to error (error_cap bytes, emptied
 * first) as "name: what". Returns 0, or -1 (close bc all the same).
 */
int wl_bconn_open(struct wl_bconn *bc, int ws, const char *name,
    char *error, size_t error_cap);

/* Closes bc and frees its buffers. */
void wl_bconn_close(struct wl_bconn *bc);

/* Records bc's first failure; returns -1. */
int wl_bconn_fail(struct wl_bconn *bc, const char *what);

/* WebSocket: sends a text message; -1 on a failure, recorded. */
int wl_bconn_ws_send(struct wl_bconn *bc, const char *text, size_t len);

/*
 * WebSocket: reads messages until one whose event is want (or want2 if not
 * NULL), answering pings on the way and failing on a pusher:error or a
 * close. Returns the message's length with *msg pointing at it and
 * *frame_len set: the caller passes that to wl_bconn_consume once done
 * with it. -1 on a failure, recorded.
 */
long wl_bconn_ws_wait(struct wl_bconn *bc, const char *want,
    const char *want2, const char **msg, size_t *frame_len);

/* Drops the first n bytes read. */
void wl_bconn_consume(struct wl_bconn *bc, size_t n);

/*
 * HTTP: sends one request (body NULL for none; with a body, JSON and the
 * app's key) and reads the reply, which must have a Content-Length.
 * Returns the body's length with *reply pointing at it, *status and
 * *total (the bytes to consume) set; -1 on a failure, recorded.
 */
long wl_bconn_http(struct wl_bconn *bc, const char *method, const char *path,
    const char *body, size_t blen, unsigned *status, const char **reply,
    size_t *total);

/* Publisher thread (fanout): its stats and how it ended. */
struct wl_pub {
	pthread_t	 thread;
	uint64_t	 sent;		/* events sent */
	uint64_t	 accepted;	/* events acknowledged */
	uint64_t	 requests;
	uint64_t	 measure_sent;	/* events sent in the measured window */
	uint64_t	 late_ns;	/* longest a batch was behind schedule */
	char		 error[256];	/* empty unless it failed */
	struct lat_hist	 lat;		/* request to reply, measured window */
};

/* Starts the publisher: paced at wl_opt.rate while the phase is WL_WARMUP
 * or WL_MEASURE; sets wl_published as replies come. */
void wl_pub_start(struct wl_pub *p);

void wl_pub_join(struct wl_pub *p);

/* A blocking TCP connection to addr with TCP_NODELAY and 10 s timeouts,
 * or -1 with errno set. */
int wl_dial(const struct sockaddr_storage *addr, socklen_t len);

/*
 * The presence modes (wsload_presence.c), called by the connection code of
 * the worker that owns c.
 * wl_presence_init: sets up c's part (after the worker's connections are
 * made); wl_presence_free frees it.
 * wl_presence_subscribe: sends the signed pusher:subscribe of c's user
 * (c has its socket id); -1 if c was closed.
 * wl_presence_message: takes a message of a presence mode (event name,
 * nlen bytes); returns 1 when it was one of its own, 0 when not, -1 if c
 * was closed.
 * wl_presence_tick: the worker's timed work (arena sends, churn moves);
 * returns the nanoseconds until it is due again (at most 10 ms).
 */
void wl_presence_init(struct wl_conn *c);
void wl_presence_free(struct wl_conn *c);
int wl_presence_subscribe(struct wl_conn *c);
int wl_presence_message(struct wl_conn *c, const char *name, size_t nlen,
    const char *m, size_t len);
uint64_t wl_presence_tick(struct wl_worker *w);

/*
 * wl_presence_subscribe_msg: writes the pusher:subscribe of user (signed
 * for socket_id) into buf; returns its length. wl_presence_members: reads
 * the ids of a subscription_succeeded message into bits (every user and
 * the checker) and *n; 0, or -1 when the list is not one of ours, has an
 * id twice or does not match its count.
 */
size_t wl_presence_subscribe_msg(char *buf, size_t cap, const char *socket_id,
    unsigned user);
int wl_presence_members(const char *m, size_t len, uint64_t *bits,
    unsigned *n);

/* The end of churn: the users with a connection still in the channel, as
 * the workers counted them (set before WL_CHECK): the member list that the
 * fresh subscriber and every connection still in must hold. */
extern uint64_t		*wl_expected;

/* What the end of churn found. */
struct wl_churn_end {
	unsigned	 joins_unfinished; /* still under way at the end */
	unsigned	 subscribed;	/* connections in the channel */
	unsigned	 members;	/* users with a connection in it */
	int64_t		 server_subs;	/* sluiced's /metrics said (-1: ?) */
	int64_t		 server_members;
	int		 settled;	/* sluiced agreed within the drain */
	int		 fresh_ok;	/* the fresh subscriber's list right */
	unsigned	 fresh_members;
	unsigned	 checked;	/* connections that compared */
	unsigned	 mismatched;	/* of which had another list */
	char		 error[256];	/* the checks' own failure, or "" */
};

/*
 * Main thread, after the measured window of churn (phase WL_DRAIN): waits
 * for the joins under way, works out the expected list, waits until
 * sluiced's /metrics agree, moves to WL_CHECK, joins as the fresh
 * subscriber and waits until every connection still in has compared its
 * list with the expected one.
 */
void wl_churn_check(struct wl_churn_end *e);

/* Per user, its connections in the channel as counted by the workers
 * (churn): what the server's member list must hold. */
extern _Atomic unsigned	*wl_user_tabs;

/* 64 random bits from the state *s (xorshift; not for secrets). */
uint64_t wl_random(uint64_t *s);

/* Writes v in decimal at p; returns the end. */
char *wl_put_uint(char *p, uint64_t v);

/* The unsigned number that follows key in [p, p+len) after at most a few
 * quote, backslash, colon or space characters; -1 when there is none. */
int64_t wl_find_uint(const char *p, size_t len, const char *key);

#endif
