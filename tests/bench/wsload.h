/*
 * wsload.h: what the parts of wsload, the WebSocket load generator, share:
 * the options, the phase of the run, the worker threads that own the
 * WebSocket connections (wsload_conn.c) and the fan-out publisher
 * (wsload_pub.c). wsload.c reads the command line, runs a mode and prints
 * the results.
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

enum wl_mode { WL_FANOUT, WL_IDLE, WL_INGEST };

/* The run moves forward only: workers and publisher read it. */
enum wl_phase { WL_SETUP, WL_WARMUP, WL_MEASURE, WL_DRAIN, WL_STOP };

#define WL_CLOSE_CODES	16	/* distinct close codes counted */

struct wl_opts {
	enum wl_mode	 mode;
	char		 ws_host[256];	/* as in Host:, "127.0.0.1:8081" */
	char		 http_host[256];
	struct sockaddr_storage ws_addr, http_addr;
	socklen_t	 ws_addrlen, http_addrlen;
	const char	*key;
	const char	*channel;	/* fanout: the channel subscribed */
	const char	*event_name;
	const char	*prefix;	/* event ids */
	const char	*publisher;	/* fanout: "http" or "ws" */
	unsigned	 conns;
	unsigned	 threads;
	unsigned	 batch;		/* ingest: events a publish; fanout: max */
	unsigned	 window;	/* ingest: publishes in flight a connection */
	unsigned	 sources;	/* 127.0.0.2.. source addresses; 0: none */
	unsigned	 opening;	/* handshakes under way at once, in all */
	double		 rate;		/* fanout: events/s published */
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
	struct lat_hist	 lat;		/* measured window */
};

struct wl_conn;

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
extern _Atomic uint64_t	 wl_inflight;	/* ingest publishes unanswered */

/* Starts worker w's thread: it opens its connections and serves them
 * until the phase is WL_STOP, then closes them. */
void wl_worker_start(struct wl_worker *w, unsigned first, unsigned n);

/* Joins w's thread and frees its connections (its stats remain). */
void wl_worker_join(struct wl_worker *w);

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

/* 64 random bits from the state *s (xorshift; not for secrets). */
uint64_t wl_random(uint64_t *s);

/* Writes v in decimal at p; returns the end. */
char *wl_put_uint(char *p, uint64_t v);

/* The unsigned number that follows key in [p, p+len) after at most a few
 * quote, backslash, colon or space characters; -1 when there is none. */
int64_t wl_find_uint(const char *p, size_t len, const char *key);

#endif
