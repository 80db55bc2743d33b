/*
 * wsload.c: a WebSocket load generator for sluiced's gateway (the Pusher
 * protocol, version 7, and sluice:publish). Five modes:
 *
 *   fanout  -c subscribers on one public channel and one publisher (HTTP
 *           POST /v1/events or sluice:publish over a WebSocket) sending
 *           events to it at -R events/s, each carrying its sequence
 *           number and send time. Deliveries/s, publish-to-receive
 *           latency, and every subscriber checked for lost, repeated and
 *           out-of-order events.
 *   idle    -c connections opened (from 127.0.0.2.. source addresses) and
 *           held; sluiced's memory (-p PID: VmRSS and Pss) with none and
 *           with all of them established, per connection.
 *   ingest  -c connections each keeping -W publishes of -b events in
 *           flight, the next sent as an ack comes: events/s acknowledged,
 *           publish-to-ack latency.
 *   arena   -c connections in one presence channel, each sending -R
 *           client events a second that every other one receives:
 *           deliveries/s, send-to-receive latency, every sender's events
 *           checked at every receiver (lost, out of order, echoed).
 *   churn   -c connections joining and leaving one presence channel at
 *           random (unsubscribing, or closing and reconnecting), each
 *           keeping its member list from the protocol's messages:
 *           joins+leaves/s, subscribe-to-succeeded latency, and at the
 *           end every list compared with what a fresh subscriber gets
 *           and with the users the generator knows to be in.
 *
 * Prints one key=value line on stdout and a summary on stderr; exits 1 if
 * anything went wrong (a connection lost or refused, a nack, an event
 * lost), 2 on a usage or setup error.
 *
 * Threads: the main thread reads the options, starts -t workers (and the
 * publisher), moves the phase along, and merges the stats after joining.
 */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wsload.h"

struct wl_opts		 wl_opt;
_Atomic int		 wl_phase;
_Atomic unsigned	 wl_established;
_Atomic unsigned	 wl_ready;
_Atomic unsigned	 wl_closed;
_Atomic unsigned	 wl_failed;
_Atomic uint64_t	 wl_delivered;
_Atomic uint64_t	 wl_published;
_Atomic uint64_t	 wl_inflight;
_Atomic uint64_t	 wl_sent;
_Atomic unsigned	 wl_checked;
_Atomic unsigned	 wl_mismatched;

static const char usage[] =
    "usage: wsload -m fanout|idle|ingest|arena|churn [-q] [-u host:port]\n"
    "              [-H host:port] [-k key] [-s secret] [-c conns]\n"
    "              [-t threads] [-w s] [-d s] [-D s] [-C channel]\n"
    "              [-R events/s] [-P http|ws] [-b events] [-W window]\n"
    "              [-S sources] [-O opening] [-p pid] [-T setup-s]\n"
    "              [-e event] [-i id-prefix] [-U users] [-g ms] [-x pct]\n"
    "              [-A query]\n"
    "  -u  sluiced's WebSocket address (127.0.0.1:8081)\n"
    "  -H  its HTTP address, for -P http (127.0.0.1:8080)\n"
    "  -k  app key (bench-key)\n"
    "  -s  arena, churn: the app's secret, to sign presence auth\n"
    "  -c  connections: subscribers, idle ones or publishers (1000)\n"
    "  -t  worker threads (one per online CPU)\n"
    "  -w  warm-up seconds (2); -d measured seconds (6; idle: held)\n"
    "  -D  seconds to wait for what is in flight at the end (10)\n"
    "  -C  the channel: fanout (bench-fanout; must be public), arena\n"
    "      (presence-arena), churn (presence-churn)\n"
    "  -R  fanout: events/s published (300); arena: client events/s\n"
    "      a connection (20)\n"
    "  -P  fanout: publish over http (POST /v1/events) or ws\n"
    "  -b  ingest: events a publish (100); fanout: most a request (100)\n"
    "  -W  ingest: publishes in flight on a connection (4)\n"
    "  -S  source addresses 127.0.0.2.. (default: one per 10000\n"
    "      connections to a 127.x address; 0: let the kernel choose)\n"
    "  -O  handshakes under way at once (256)\n"
    "  -p  idle: sluiced's pid, whose memory is measured\n"
    "  -T  seconds to wait for every connection to be ready (120)\n"
    "  -e  event name (fanout: wsload; ingest: page_view; arena:\n"
    "      client-move)\n"
    "  -i  prefix of the event ids (ws<pid>-<time>)\n"
    "  -U  arena, churn: users; connection i is user i % users (conns)\n"
    "  -g  churn: mean milliseconds in the channel, and out (200)\n"
    "  -x  churn: percent of leaves that close the connection (50)\n"
    "  -A  more query arguments for the WebSocket URL (a=b&c=d)\n"
    "  -q  no summary on stderr\n";

uint64_t
wl_random(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

char *
wl_put_uint(char *p, uint64_t v)
{
	char tmp[24];
	unsigned n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

int64_t
wl_find_uint(const char *p, size_t len, const char *key)
{
	const char *q, *end = p + len;
	size_t klen = strlen(key);
	int64_t v = 0;
	unsigned skip = 0;

	q = memmem(p, len, key, klen);
	if (q == NULL)
		return -1;
	for (q += klen; q < end && skip < 8 && (*q == '"' || *q == '\\' ||
	    *q == ':' || *q == ' '); q++)
		skip++;
	if (q == end || *q < '0' || *q > '9')
		return -1;
	for (; q < end && *q >= '0' && *q <= '9'; q++)
		v = v * 10 + (*q - '0');
	return v;
}

int
wl_dial(const struct sockaddr_storage *addr, socklen_t len)
{
	struct timeval tv = { 10, 0 };
	int fd, one = 1;

	fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (const struct sockaddr *)addr, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Resolves "host:port" (or "[v6]:port") into host (for Host:) and addr. */
static void
parse_addr(const char *s, char *host, size_t host_cap,
    struct sockaddr_storage *addr, socklen_t *len)
{
	struct addrinfo hints, *ai;
	char buf[256], *colon, *h;
	int rc;

	if (strncmp(s, "ws://", 5) == 0)
		s += 5;
	else if (strncmp(s, "http://", 7) == 0)
		s += 7;
	if (strlen(s) >= sizeof buf || strlen(s) >= host_cap)
		fatal("address too long: %s", s);
	strcpy(host, s);
	strcpy(buf, s);
	colon = strrchr(buf, ':');
	if (colon == NULL)
		fatal("address must be host:port: %s", s);
	*colon = '\0';
	h = buf;
	if (h[0] == '[' && colon > h && colon[-1] == ']') {
		colon[-1] = '\0';
		h++;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(h, colon + 1, &hints, &ai)) != 0)
		fatal("%s: %s", s, gai_strerror(rc));
	memcpy(addr, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
}

static void
parse_args(int argc, char **argv)
{
	static char prefix[64];
	const char *ws = "127.0.0.1:8081", *http = "127.0.0.1:8080";
	long ncpu, sources = -1;
	int ch;

	wl_opt.mode = WL_FANOUT;
	wl_opt.key = "bench-key";
	wl_opt.channel = NULL;
	wl_opt.event_name = NULL;
	wl_opt.publisher = "http";
	wl_opt.conns = 1000;
	wl_opt.batch = 100;
	wl_opt.window = 4;
	wl_opt.opening = 256;
	wl_opt.rate = -1;
	wl_opt.hold_ms = 200;
	wl_opt.close_pct = 50;
	wl_opt.warmup_s = 2;
	wl_opt.duration_s = 6;
	wl_opt.drain_s = 10;
	wl_opt.setup_s = 120;
	wl_opt.settle_s = 1;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	wl_opt.threads = ncpu > 0 ? (unsigned)ncpu : 1;
	snprintf(prefix, sizeof prefix, "ws%ld-%lld", (long)getpid(),
	    (long long)time(NULL));
	wl_opt.prefix = prefix;
	while ((ch = getopt(argc, argv,
	    "A:b:C:c:D:d:e:g:H:hi:k:m:O:P:p:qR:S:s:T:t:U:u:W:w:x:")) != -1) {
		switch (ch) {
		case 'A':
			wl_opt.query = optarg;
			break;
		case 'b':
			wl_opt.batch = (unsigned)parse_uint(optarg, "batch");
			break;
		case 'C':
			wl_opt.channel = optarg;
			break;
		case 'c':
			wl_opt.conns = (unsigned)parse_uint(optarg, "conns");
			break;
		case 'D':
			wl_opt.drain_s = parse_double(optarg, "drain time");
			break;
		case 'd':
			wl_opt.duration_s = parse_double(optarg, "duration");
			break;
		case 'e':
			wl_opt.event_name = optarg;
			break;
		case 'g':
			wl_opt.hold_ms = parse_double(optarg, "hold time");
			break;
		case 'H':
			http = optarg;
			break;
		case 'h':
			usage_exit(usage, 0);
		case 'i':
			wl_opt.prefix = optarg;
			break;
		case 'k':
			wl_opt.key = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "fanout") == 0)
				wl_opt.mode = WL_FANOUT;
			else if (strcmp(optarg, "idle") == 0)
				wl_opt.mode = WL_IDLE;
			else if (strcmp(optarg, "ingest") == 0)
				wl_opt.mode = WL_INGEST;
			else if (strcmp(optarg, "arena") == 0)
				wl_opt.mode = WL_ARENA;
			else if (strcmp(optarg, "churn") == 0)
				wl_opt.mode = WL_CHURN;
			else
				fatal("mode must be fanout, idle, ingest, arena "
				    "or churn");
			break;
		case 'O':
			wl_opt.opening = (unsigned)parse_uint(optarg,
			    "opening");
			break;
		case 'P':
			if (strcmp(optarg, "http") != 0 &&
			    strcmp(optarg, "ws") != 0)
				fatal("publisher must be http or ws");
			wl_opt.publisher = optarg;
			break;
		case 'p':
			wl_opt.pid = (long)parse_uint(optarg, "pid");
			break;
		case 'q':
			wl_opt.quiet = 1;
			break;
		case 'R':
			wl_opt.rate = parse_double(optarg, "rate");
			break;
		case 'S':
			sources = (long)parse_uint(optarg, "sources");
			break;
		case 's':
			wl_opt.secret = optarg;
			break;
		case 'T':
			wl_opt.setup_s = parse_double(optarg, "setup time");
			break;
		case 't':
			wl_opt.threads = (unsigned)parse_uint(optarg,
			    "threads");
			break;
		case 'U':
			wl_opt.users = (unsigned)parse_uint(optarg, "users");
			break;
		case 'u':
			ws = optarg;
			break;
		case 'W':
			wl_opt.window = (unsigned)parse_uint(optarg, "window");
			break;
		case 'w':
			wl_opt.warmup_s = parse_double(optarg, "warm-up");
			break;
		case 'x':
			wl_opt.close_pct = (unsigned)parse_uint(optarg,
			    "close percent");
			if (wl_opt.close_pct > 100)
				fatal("-x is a percentage, 0 to 100");
			break;
		default:
			usage_exit(usage, 2);
		}
	}
	if (optind != argc)
		usage_exit(usage, 2);
	if (wl_opt.event_name == NULL)
		wl_opt.event_name = wl_opt.mode == WL_INGEST ? "page_view" :
		    wl_opt.mode == WL_ARENA ? "client-move" : "wsload";
	if (wl_opt.channel == NULL)
		wl_opt.channel = wl_opt.mode == WL_ARENA ? "presence-arena" :
		    wl_opt.mode == WL_CHURN ? "presence-churn" : "bench-fanout";
	if (wl_opt.rate < 0)
		wl_opt.rate = wl_opt.mode == WL_ARENA ? 20 : 300;
	if (wl_opt.users == 0)
		wl_opt.users = wl_opt.conns;
	parse_addr(ws, wl_opt.ws_host, sizeof wl_opt.ws_host, &wl_opt.ws_addr,
	    &wl_opt.ws_addrlen);
	parse_addr(http, wl_opt.http_host, sizeof wl_opt.http_host,
	    &wl_opt.http_addr, &wl_opt.http_addrlen);
	if (sources < 0) {
		sources = 0;
		if (wl_opt.ws_addr.ss_family == AF_INET &&
		    ntohl(((struct sockaddr_in *)&wl_opt.ws_addr)->
		    sin_addr.s_addr) >> 24 == 127)
			sources = wl_opt.conns / 10000 + 1;
	}
	if (sources > 253)
		fatal("at most 253 source addresses");
	wl_opt.sources = (unsigned)sources;
	if (wl_opt.conns == 0 || wl_opt.threads == 0 || wl_opt.opening == 0)
		fatal("need at least one connection, thread and handshake");
	if (wl_opt.threads > wl_opt.conns)
		wl_opt.threads = wl_opt.conns;
	if (wl_opt.batch == 0 || wl_opt.window == 0)
		fatal("batch and window must be at least 1");
	if ((wl_opt.mode == WL_FANOUT || wl_opt.mode == WL_ARENA) &&
	    wl_opt.rate <= 0)
		fatal("fanout and arena need a rate above 0");
	if ((wl_opt.mode == WL_ARENA || wl_opt.mode == WL_CHURN) &&
	    wl_opt.secret == NULL)
		fatal("arena and churn need the app's secret (-s)");
	if ((wl_opt.mode == WL_ARENA || wl_opt.mode == WL_CHURN) &&
	    strncmp(wl_opt.channel, "presence-", 9) != 0)
		fatal("arena and churn need a presence- channel");
	if (wl_opt.mode == WL_IDLE && wl_opt.pid == 0)
		fatal("idle needs sluiced's pid (-p)");
}

static void
sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Raises the open-file limit to what conns need, as far as allowed. */
static void
raise_nofile(unsigned conns)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)conns + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >
		    need ? need : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < need)
		fatal("%u connections need %llu open files; the limit is %llu "
		    "(ulimit -n)", conns, (unsigned long long)need,
		    (unsigned long long)rl.rlim_cur);
}

/* Reads "Key:   123 kB" from file; bytes, or 0 when it is not there. */
static uint64_t
proc_kb(const char *file, const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	uint64_t v = 0;
	FILE *f;

	f = fopen(file, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtoull(line + klen + 1, NULL, 10) * 1024;
			break;
		}
	fclose(f);
	return v;
}

/* sluiced's VmRSS and Pss in bytes. */
static void
proc_mem(long pid, uint64_t *rss, uint64_t *pss)
{
	char file[64];

	snprintf(file, sizeof file, "/proc/%ld/status", pid);
	*rss = proc_kb(file, "VmRSS");
	snprintf(file, sizeof file, "/proc/%ld/smaps_rollup", pid);
	*pss = proc_kb(file, "Pss");
	if (*rss == 0)
		fatal("cannot read the memory of pid %ld", pid);
}

/* Waits until wl_ready reaches want, the rest are lost, or the setup
 * time is over. Returns 0 when all are ready. */
static int
wait_ready(unsigned want)
{
	uint64_t deadline = now_ns() + (uint64_t)(wl_opt.setup_s * 1e9);

	while (atomic_load(&wl_ready) < want && now_ns() < deadline &&
	    atomic_load(&wl_ready) + atomic_load(&wl_failed) < want)
		sleep_s(0.01);
	return atomic_load(&wl_ready) >= want ? 0 : -1;
}

static void
merge(struct wl_stats *all, const struct wl_stats *s)
{
	unsigned i, k;

	all->deliveries += s->deliveries;
	all->deliveries_total += s->deliveries_total;
	all->lost += s->lost;
	all->reordered += s->reordered;
	all->bad_deliveries += s->bad_deliveries;
	all->batches += s->batches;
	all->events += s->events;
	all->events_sent += s->events_sent;
	all->events_acked += s->events_acked;
	all->nacks += s->nacks;
	all->pusher_errors += s->pusher_errors;
	all->connect_errors += s->connect_errors;
	all->handshake_errors += s->handshake_errors;
	all->protocol_errors += s->protocol_errors;
	all->drops += s->drops;
	all->pings += s->pings;
	all->other += s->other;
	all->sent += s->sent;
	all->sent_window += s->sent_window;
	all->behind += s->behind;
	all->joins += s->joins;
	all->leaves += s->leaves;
	all->joins_total += s->joins_total;
	all->leaves_total += s->leaves_total;
	all->member_errors += s->member_errors;
	for (i = 0; i < WL_CLOSE_CODES && s->close_count[i] > 0; i++) {
		for (k = 0; k < WL_CLOSE_CODES; k++)
			if (all->close_count[k] == 0 ||
			    all->close_code[k] == s->close_code[i])
				break;
		if (k == WL_CLOSE_CODES)
			continue;
		all->close_code[k] = s->close_code[i];
		all->close_count[k] += s->close_count[i];
		all->closes += s->close_count[i];
	}
	lat_hist_merge(&all->lat, &s->lat);
}

/* "4100:3,1006:1" or "none". */
static void
close_codes(const struct wl_stats *st, char *buf, size_t cap)
{
	size_t len = 0;
	unsigned i;
	int n;

	buf[0] = '\0';
	for (i = 0; i < WL_CLOSE_CODES && st->close_count[i] > 0; i++) {
		n = snprintf(buf + len, cap - len, "%s%u:%" PRIu64,
		    len > 0 ? "," : "", st->close_code[i], st->close_count[i]);
		if (n < 0 || (size_t)n >= cap - len)
			break;
		len += (size_t)n;
	}
	if (len == 0)
		snprintf(buf, cap, "none");
}

static double
ms(uint64_t us)
{
	return (double)us / 1000;
}

int
main(int argc, char **argv)
{
	struct wl_worker *ws;
	struct wl_pub pub;
	struct wl_stats all;
	struct wl_churn_end end;
	uint64_t t_start, t_ready = 0, t0 = 0, t1 = 0, want;
	uint64_t rss0 = 0, pss0 = 0, rss1 = 0, pss1 = 0;
	unsigned i, per, first, ready_n, lost_conns, established;
	double secs, setup;
	char codes[256];
	int problem = 0;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile(wl_opt.conns + 1);
	memset(&pub, 0, sizeof pub);
	memset(&all, 0, sizeof all);
	memset(&end, 0, sizeof end);
	atomic_store(&wl_phase, WL_SETUP);
	if (wl_opt.mode == WL_IDLE) {
		proc_mem(wl_opt.pid, &rss0, &pss0);
	}
	if (wl_opt.mode == WL_CHURN) {
		wl_user_tabs = calloc(wl_opt.users, sizeof *wl_user_tabs);
		if (wl_user_tabs == NULL)
			fatal("out of memory");
	}

	ws = calloc(wl_opt.threads, sizeof *ws);
	if (ws == NULL)
		fatal("out of memory");
	t_start = now_ns();
	first = 0;
	for (i = 0; i < wl_opt.threads; i++) {
		per = wl_opt.conns / wl_opt.threads +
		    (i < wl_opt.conns % wl_opt.threads);
		ws[i].id = i;
		ws[i].open_max = wl_opt.opening / wl_opt.threads + 1;
		wl_worker_start(&ws[i], first, per);
		first += per;
	}
	if (wait_ready(wl_opt.conns) == -1)
		problem = 1;
	t_ready = now_ns();
	setup = (double)(t_ready - t_start) / 1e9;
	ready_n = atomic_load(&wl_ready);
	established = atomic_load(&wl_established);

	if (problem) {
		fprintf(stderr, "wsload: only %u of %u connections ready after "
		    "%.1f s (%u established)\n", ready_n, wl_opt.conns,
		    setup, established);
	} else if (wl_opt.mode == WL_IDLE) {
		sleep_s(wl_opt.settle_s);
		proc_mem(wl_opt.pid, &rss1, &pss1);
		sleep_s(wl_opt.duration_s);
	} else {
		if (wl_opt.mode == WL_CHURN && wl_opt.pid != 0)
			proc_mem(wl_opt.pid, &rss0, &pss0);
		atomic_store(&wl_phase, WL_WARMUP);
		if (wl_opt.mode == WL_FANOUT)
			wl_pub_start(&pub);
		sleep_s(wl_opt.warmup_s);
		t0 = now_ns();
		atomic_store(&wl_phase, WL_MEASURE);
		sleep_s(wl_opt.duration_s);
		atomic_store(&wl_phase, WL_DRAIN);
		t1 = now_ns();
		if (wl_opt.mode == WL_FANOUT) {
			wl_pub_join(&pub);
			/* Until every subscriber still open has it all. */
			want = 0;
			for (i = 0; i * 10 < wl_opt.drain_s * 1000; i++) {
				want = atomic_load(&wl_published) *
				    (atomic_load(&wl_ready) -
				    atomic_load(&wl_closed));
				if (atomic_load(&wl_delivered) >= want)
					break;
				sleep_s(0.01);
			}
		} else if (wl_opt.mode == WL_ARENA) {
			/* Every sender's events at every other one. */
			for (i = 0; i * 10 < wl_opt.drain_s * 1000; i++) {
				want = atomic_load(&wl_sent) *
				    (atomic_load(&wl_ready) -
				    atomic_load(&wl_closed) - 1);
				if (atomic_load(&wl_delivered) >= want)
					break;
				sleep_s(0.01);
			}
		} else if (wl_opt.mode == WL_CHURN) {
			wl_churn_check(&end);
			if (wl_opt.pid != 0)
				proc_mem(wl_opt.pid, &rss1, &pss1);
		} else {
			for (i = 0; i * 10 < wl_opt.drain_s * 1000 &&
			    atomic_load(&wl_inflight) > 0; i++)
				sleep_s(0.01);
		}
	}
	lost_conns = atomic_load(&wl_closed);
	atomic_store(&wl_phase, WL_STOP);
	for (i = 0; i < wl_opt.threads; i++) {
		wl_worker_join(&ws[i]);
		merge(&all, &ws[i].st);
	}
	free(ws);
	close_codes(&all, codes, sizeof codes);
	secs = t1 > t0 ? (double)(t1 - t0) / 1e9 : 0;
	if (all.connect_errors > 0 || all.handshake_errors > 0 ||
	    all.protocol_errors > 0 || all.drops > 0 || all.closes > 0 ||
	    all.pusher_errors > 0 || lost_conns > 0)
		problem = 1;

	switch (wl_opt.mode) {
	case WL_FANOUT: {
		uint64_t expected = pub.sent * (uint64_t)(ready_n - lost_conns);
		uint64_t missing = expected > all.deliveries_total ?
		    expected - all.deliveries_total : 0;

		if (pub.error[0] != '\0' || all.lost > 0 || all.reordered > 0 ||
		    all.bad_deliveries > 0 || missing > 0 ||
		    all.deliveries == 0)
			problem = 1;
		printf("mode=fanout subscribers=%u threads=%u publisher=%s "
		    "rate=%.0f setup_s=%.2f seconds=%.3f published=%" PRIu64
		    " pub_requests=%" PRIu64 " pub_eps=%.0f deliveries=%" PRIu64
		    " dps=%.0f "
		    "p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f "
		    "mean_ms=%.3f pub_p99_ms=%.3f pub_late_ms=%.3f "
		    "delivered_total=%" PRIu64 " expected=%" PRIu64
		    " missing=%" PRIu64 " lost=%" PRIu64 " reordered=%" PRIu64
		    " bad=%" PRIu64 " closed=%u closes=%s errors=%" PRIu64
		    " pub_error=%s\n",
		    wl_opt.conns, wl_opt.threads, wl_opt.publisher,
		    wl_opt.rate, setup, secs, pub.sent, pub.requests,
		    secs > 0 ? (double)pub.measure_sent / secs : 0,
		    all.deliveries, secs > 0 ? (double)all.deliveries / secs : 0,
		    ms(lat_hist_quantile(&all.lat, 0.50)),
		    ms(lat_hist_quantile(&all.lat, 0.99)),
		    ms(lat_hist_quantile(&all.lat, 0.999)), ms(all.lat.max),
		    all.lat.n > 0 ? all.lat.sum / (double)all.lat.n / 1000 : 0,
		    ms(lat_hist_quantile(&pub.lat, 0.99)),
		    (double)pub.late_ns / 1e6, all.deliveries_total, expected,
		    missing, all.lost, all.reordered, all.bad_deliveries,
		    lost_conns, codes, all.pusher_errors + all.protocol_errors +
		    all.connect_errors + all.handshake_errors + all.drops,
		    pub.error[0] != '\0' ? "yes" : "no");
		if (!wl_opt.quiet)
			fprintf(stderr, "fanout: %u subscribers ready in %.1f "
			    "s; %.0f events/s published (%s), %.0f "
			    "deliveries/s; latency p50 %.2f ms, p99 %.2f ms, "
			    "p99.9 %.2f ms, max %.2f ms; %" PRIu64 " missing, "
			    "%" PRIu64 " out of order, %u connections lost%s%s\n",
			    wl_opt.conns, setup, secs > 0 ?
			    (double)pub.measure_sent / secs : 0,
			    wl_opt.publisher, secs > 0 ?
			    (double)all.deliveries / secs : 0,
			    ms(lat_hist_quantile(&all.lat, 0.50)),
			    ms(lat_hist_quantile(&all.lat, 0.99)),
			    ms(lat_hist_quantile(&all.lat, 0.999)),
			    ms(all.lat.max), missing, all.reordered,
			    lost_conns, pub.error[0] != '\0' ? "; " : "",
			    pub.error);
		break;
	}
	case WL_ARENA: {
		/* Each event goes to every other connection. */
		uint64_t expected = all.sent * (uint64_t)(ready_n - lost_conns -
		    1);
		uint64_t missing = expected > all.deliveries_total ?
		    expected - all.deliveries_total : 0;

		if (all.lost > 0 || all.reordered > 0 ||
		    all.bad_deliveries > 0 || missing > 0 ||
		    all.deliveries == 0)
			problem = 1;
		printf("mode=arena conns=%u threads=%u channel=%s rate=%.1f "
		    "setup_s=%.2f seconds=%.3f sent=%" PRIu64 " eps=%.0f "
		    "deliveries=%" PRIu64 " dps=%.0f p50_ms=%.3f p99_ms=%.3f "
		    "p999_ms=%.3f max_ms=%.3f mean_ms=%.3f delivered_total=%"
		    PRIu64 " expected=%" PRIu64 " missing=%" PRIu64 " lost=%"
		    PRIu64 " reordered=%" PRIu64 " bad=%" PRIu64 " behind=%"
		    PRIu64 " closed=%u closes=%s errors=%" PRIu64 "\n",
		    wl_opt.conns, wl_opt.threads, wl_opt.channel, wl_opt.rate,
		    setup, secs, all.sent, secs > 0 ?
		    (double)all.sent_window / secs : 0, all.deliveries,
		    secs > 0 ? (double)all.deliveries / secs : 0,
		    ms(lat_hist_quantile(&all.lat, 0.50)),
		    ms(lat_hist_quantile(&all.lat, 0.99)),
		    ms(lat_hist_quantile(&all.lat, 0.999)), ms(all.lat.max),
		    all.lat.n > 0 ? all.lat.sum / (double)all.lat.n / 1000 : 0,
		    all.deliveries_total, expected, missing, all.lost,
		    all.reordered, all.bad_deliveries, all.behind, lost_conns,
		    codes, all.pusher_errors + all.protocol_errors +
		    all.connect_errors + all.handshake_errors + all.drops);
		if (!wl_opt.quiet)
			fprintf(stderr, "arena: %u connections in %s, %.0f "
			    "client events/s sent, %.0f deliveries/s; latency "
			    "p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max "
			    "%.2f ms; %" PRIu64 " missing, %" PRIu64 " out of "
			    "order, %u connections lost\n", wl_opt.conns,
			    wl_opt.channel, secs > 0 ?
			    (double)all.sent_window / secs : 0, secs > 0 ?
			    (double)all.deliveries / secs : 0,
			    ms(lat_hist_quantile(&all.lat, 0.50)),
			    ms(lat_hist_quantile(&all.lat, 0.99)),
			    ms(lat_hist_quantile(&all.lat, 0.999)),
			    ms(all.lat.max), missing, all.reordered,
			    lost_conns);
		break;
	}
	case WL_CHURN:
		if (all.member_errors > 0 || !end.settled || !end.fresh_ok ||
		    end.checked < end.subscribed || end.mismatched > 0 ||
		    end.joins_unfinished > 0 || all.joins == 0 ||
		    end.error[0] != '\0')
			problem = 1;
		printf("mode=churn conns=%u users=%u threads=%u channel=%s "
		    "hold_ms=%.0f close_pct=%u setup_s=%.2f seconds=%.3f "
		    "joins=%" PRIu64 " leaves=%" PRIu64 " ops=%.0f "
		    "member_eps=%.0f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f "
		    "max_ms=%.3f joins_total=%" PRIu64 " leaves_total=%" PRIu64
		    " in_end=%u members_end=%u server_subs=%lld "
		    "server_members=%lld settled=%s fresh_members=%u "
		    "fresh_ok=%s checked=%u mismatched=%u member_errors=%"
		    PRIu64 " unfinished=%u rss_before_kb=%" PRIu64
		    " rss_after_kb=%" PRIu64 " closed=%u closes=%s errors=%"
		    PRIu64 "\n", wl_opt.conns, wl_opt.users, wl_opt.threads,
		    wl_opt.channel, wl_opt.hold_ms, wl_opt.close_pct, setup,
		    secs, all.joins, all.leaves, secs > 0 ?
		    (double)(all.joins + all.leaves) / secs : 0, secs > 0 ?
		    (double)all.deliveries / secs : 0,
		    ms(lat_hist_quantile(&all.lat, 0.50)),
		    ms(lat_hist_quantile(&all.lat, 0.99)),
		    ms(lat_hist_quantile(&all.lat, 0.999)), ms(all.lat.max),
		    all.joins_total, all.leaves_total, end.subscribed,
		    end.members, (long long)end.server_subs,
		    (long long)end.server_members, end.settled ? "yes" : "no",
		    end.fresh_members, end.fresh_ok ? "yes" : "no",
		    end.checked, end.mismatched, all.member_errors,
		    end.joins_unfinished, rss0 / 1024, rss1 / 1024, lost_conns,
		    codes, all.pusher_errors + all.protocol_errors +
		    all.connect_errors + all.handshake_errors + all.drops);
		if (!wl_opt.quiet)
			fprintf(stderr, "churn: %u connections, %u users in "
			    "%s: %.0f joins+leaves/s; subscribe to succeeded "
			    "p50 %.2f ms, p99 %.2f ms; at the end %u "
			    "connections in, %u members (sluiced: %lld, "
			    "%lld%s), fresh subscriber's list %s, %u of %u "
			    "lists compared, %u different, %" PRIu64
			    " impossible member messages%s%s\n", wl_opt.conns,
			    wl_opt.users, wl_opt.channel, secs > 0 ?
			    (double)(all.joins + all.leaves) / secs : 0,
			    ms(lat_hist_quantile(&all.lat, 0.50)),
			    ms(lat_hist_quantile(&all.lat, 0.99)),
			    end.subscribed, end.members,
			    (long long)end.server_subs,
			    (long long)end.server_members,
			    end.settled ? "" : ", never agreed",
			    end.fresh_ok ? "right" : "WRONG", end.checked,
			    end.subscribed, end.mismatched, all.member_errors,
			    end.error[0] != '\0' ? "; " : "", end.error);
		break;
	case WL_IDLE:
		if (established < wl_opt.conns)
			problem = 1;
		printf("mode=idle conns=%u sources=%u threads=%u setup_s=%.2f "
		    "established=%u rss_before_kb=%" PRIu64 " rss_after_kb=%"
		    PRIu64 " pss_before_kb=%" PRIu64 " pss_after_kb=%" PRIu64
		    " rss_per_conn=%.0f pss_per_conn=%.0f"
		    " closed=%u closes=%s errors=%" PRIu64 "\n",
		    wl_opt.conns, wl_opt.sources, wl_opt.threads, setup,
		    established, rss0 / 1024, rss1 / 1024, pss0 / 1024,
		    pss1 / 1024, rss1 > 0 ? ((double)rss1 - (double)rss0) /
		    wl_opt.conns : 0, pss1 > 0 ? ((double)pss1 -
		    (double)pss0) / wl_opt.conns : 0,
		    lost_conns, codes, all.pusher_errors + all.protocol_errors +
		    all.connect_errors + all.handshake_errors + all.drops);
		if (!wl_opt.quiet)
			fprintf(stderr, "idle: %u connections established in "
			    "%.1f s from %u source addresses; sluiced's RSS "
			    "%.1f -> %.1f MB (%.0f bytes a connection), Pss "
			    "%.1f -> %.1f MB (%.0f bytes); %u lost\n",
			    established, setup, wl_opt.sources,
			    (double)rss0 / 1048576, (double)rss1 / 1048576,
			    rss1 > 0 ? ((double)rss1 - (double)rss0) /
			    wl_opt.conns : 0, (double)pss0 / 1048576,
			    (double)pss1 / 1048576, pss1 > 0 ?
			    ((double)pss1 - (double)pss0) / wl_opt.conns : 0,
			    lost_conns);
		break;
	case WL_INGEST:
		if (all.nacks > 0 || all.events == 0)
			problem = 1;
		printf("mode=ingest conns=%u threads=%u batch=%u window=%u "
		    "seconds=%.3f batches=%" PRIu64 " events=%" PRIu64
		    " eps=%.0f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f "
		    "max_ms=%.3f nacks=%" PRIu64 " total_events_sent=%" PRIu64
		    " total_events_acked=%" PRIu64 " abandoned=%" PRIu64
		    " closed=%u closes=%s errors=%" PRIu64 " id_prefix=%s\n",
		    wl_opt.conns, wl_opt.threads, wl_opt.batch, wl_opt.window,
		    secs, all.batches, all.events, secs > 0 ?
		    (double)all.events / secs : 0,
		    ms(lat_hist_quantile(&all.lat, 0.50)),
		    ms(lat_hist_quantile(&all.lat, 0.99)),
		    ms(lat_hist_quantile(&all.lat, 0.999)), ms(all.lat.max),
		    all.nacks, all.events_sent, all.events_acked,
		    atomic_load(&wl_inflight), lost_conns, codes,
		    all.pusher_errors + all.protocol_errors +
		    all.connect_errors + all.handshake_errors + all.drops,
		    wl_opt.prefix);
		if (!wl_opt.quiet)
			fprintf(stderr, "ingest: %u connections, batches of "
			    "%u, %u in flight each: %.0f events/s acked; "
			    "latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms; "
			    "%" PRIu64 " nacks, %u connections lost\n",
			    wl_opt.conns, wl_opt.batch, wl_opt.window,
			    secs > 0 ? (double)all.events / secs : 0,
			    ms(lat_hist_quantile(&all.lat, 0.50)),
			    ms(lat_hist_quantile(&all.lat, 0.99)),
			    ms(lat_hist_quantile(&all.lat, 0.999)), all.nacks,
			    lost_conns);
		break;
	}
	fflush(stdout);
	return problem;
}
