/*
 * ws_internal.h: what the files of the WebSocket gateway share: the server
 * and connection structs and the calls between ws.c (libwebsockets, the
 * service thread, timers, shutdown), ws_session.c (a connection's protocol:
 * opening, messages, subscriptions, sending), ws_publish.c
 * (sluice:publish and its acknowledgements) and ws_options.c (the format
 * a connection takes events in). Service thread only, except where
 * marked.
 */
#ifndef SLUICE_WS_INTERNAL_H
#define SLUICE_WS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/queue.h>

#include <libwebsockets.h>

#include "core/app.h"
#include "core/config.h"
#include "core/netaddr.h"
#include "core/ratelimit.h"
#include "hub/hub.h"
#include "hub/sendq.h"
#include "ingest/channel.h"
#include "ingest/ingest.h"
#include "ws/pusher.h"

struct ws_pending;

/* One channel a connection subscribes to. */
struct ws_sub {
	struct hub_channel	*ch;
	char			*user_id;	/* presence: the member it is;
						   else NULL. Owned */
};

#define WS_DISCARD_TOO_LARGE	1
#define WS_DISCARD_BINARY	2

/* One WebSocket connection. Outlives its socket while publishes of its
 * own still wait on the journal. */
struct ws_conn {
	TAILQ_ENTRY(ws_conn)	 entry;		/* in srv->conns */
	struct ws_server	*srv;
	struct lws		*wsi;		/* NULL once closed */
	const struct config_app	*app;		/* NULL until accepted */
	unsigned		 app_index;	/* app's, once accepted */
	struct sendq		 q;
	struct ws_sub		*subs;
	unsigned		 nsubs;
	unsigned		 pending;	/* publishes on the journal */
	uint16_t		 close_code;	/* close once q is written */
	uint8_t			 discarding;	/* WS_DISCARD_*: dropping the
						   message in progress */
	uint8_t			 format;	/* enum pusher_format of the
						   events it takes */
	int64_t			 last_rx_us;
	int64_t			 ping_sent_us;	/* 0: none outstanding */
	struct ratelimit	 bucket;
	struct ratelimit	 client_bucket;	/* client events */
	int64_t			 opened_us;
	char			*user_id;	/* signed in as; NULL: not */
	char			*msg;		/* message being reassembled */
	size_t			 msg_len;
	size_t			 msg_cap;
	char			*user_agent;	/* for envelopes; may be NULL */
	char			*origin;
	char			 ip[NETADDR_STRLEN];
	char			 socket_id[PUSHER_SOCKET_ID_MAX];
};

TAILQ_HEAD(ws_conn_list, ws_conn);

struct ws_server {
	const struct config		*cfg;
	const struct app_registry	*apps;
	struct ingest			*ingest;
	struct lws_context	*ctx;
	struct hub		*hub;
	pthread_t		 thread;
	atomic_int		 stopping;	/* publishes get "stopping" */
	atomic_int		 closing;	/* close everyone and leave */
	atomic_int		 exited;	/* the service loop ended */
	atomic_uint		 envelope_conns; /* connections taking the
						   envelope format; read by
						   the encoder on any
						   thread */
	int			 closed_all;	/* 4200 sent to everyone */
	int64_t			 close_deadline_us;

	struct ws_conn_list	 conns;
	size_t			 nconns;
	unsigned		*app_conns;	/* per app, by index */
	lws_sorted_usec_list_t	 sweep;		/* pings and pong timeouts */
	lws_sorted_usec_list_t	 counts;	/* subscription counts due */
	int			 counted;	/* some app wants counts */
	size_t			 partial_bytes;	/* every c->msg_cap */
	uint64_t		 partial_refused; /* closes for the above */
	int64_t			 partial_logged_us; /* its last log line */

	/* Publishes answered by the pipeline on another thread (the
	 * journal's writer), to reply to. */
	pthread_mutex_t		 done_lock;
	struct ws_pending	*done;
	struct ws_pending	**done_tail;
};

/* ws_session.c */

/* The handshake's Origin check: 1 when allowed (or nothing to check). */
int ws_session_origin_ok(struct lws *wsi, const struct app_registry *apps);

/* Whether the caller is the service thread. Any thread. */
int ws_on_service_thread(void);

/* Checks the request (path, key, protocol, limits) of a new connection and
 * greets it, or closes it with the right code. */
void ws_session_open(struct ws_conn *c);

/* Takes len bytes of a message (a fragment, when final is 0); binary
 * messages are refused once whole. */
void ws_session_receive(struct ws_conn *c, const void *in, size_t len,
    int final, int binary);

/* Writes what the connection has queued. Returns -1 to close it. */
int ws_session_writable(struct ws_conn *c);

/* The socket closed: drops subscriptions, queue and counts. */
void ws_session_closed(struct ws_conn *c);

/* Frees c if its socket closed and nothing of its own is pending. */
void ws_session_release(struct ws_conn *c);

/* Queues len bytes as a frame of c's. */
void ws_session_send(struct ws_conn *c, const char *text, size_t len);

/* Queues {"event":event,"channel":channel,"data":data}, data (len bytes of
 * JSON) sent as a string when as_string is set. channel may be NULL. */
void ws_session_message_out(struct ws_conn *c, const char *event,
    const char *channel, const char *data, size_t len, int as_string);

/* Queues a pusher:error with code (0: null) and message, and closes c
 * with code once everything before it is written, when close is set. */
void ws_session_error(struct ws_conn *c, int code, const char *message,
    int close);

/* The hub's delivery: queues f for conn, closing a slow consumer. */
void ws_session_deliver(void *conn, struct frame *f);

/* The hub's missed: conn has a gap in a channel's events (the hub's inbox
 * was full); it is closed with 4100 so that it reconnects. */
void ws_session_missed(void *conn);

/* The hub's terminate: the app's server ended conn's user's connections
 * (the HTTP API's terminate_connections); it is closed with 4009. */
void ws_session_terminate(void *conn);

/* Sends the server's pusher:ping, or closes c with 4201 when the one sent
 * before went unanswered; called by the sweep. */
void ws_session_check_activity(struct ws_conn *c, int64_t now_us);

/* ws_options.c */

/* Sets c's format from the format query argument of its request, if
 * any, once c is greeted; an unknown one gets a pusher:error. */
void ws_options_open(struct ws_conn *c);

/* Handles sluice:options with its data (may be NULL). */
void ws_options(struct ws_conn *c, struct json_object *data);

/* The socket closed: c takes no format any more. */
void ws_options_closed(struct ws_conn *c);
/* ws_channel.c */

/* Handles pusher:subscribe with its data (may be NULL). */
void ws_channel_subscribe(struct ws_conn *c, struct json_object *data);

/* Handles pusher:unsubscribe with its data (may be NULL). */
void ws_channel_unsubscribe(struct ws_conn *c, struct json_object *data);

/* Leaves every channel of c (it closed): its members go, the others are
 * told. */
void ws_channel_leave_all(struct ws_conn *c);

/* c's subscription to channel, or NULL. */
struct ws_sub *ws_channel_sub(struct ws_conn *c, const char *channel);

/* Subscribes c to channel without asking (its own user channel). Returns
 * SLUICE_OK, or an error (c is told). */
int ws_channel_join_user(struct ws_conn *c, const char *channel);

/* Sends the subscription counts that are due; called by a timer. */
void ws_channel_counts(struct ws_server *srv);

/* Queues {"event":event,"channel":channel,"data":"<data>"} for every
 * subscriber of ch but except. */
void ws_channel_tell(struct ws_server *srv, struct hub_channel *ch,
    const char *event, const char *data, size_t len, const void *except);

/* ws_presence.c */

/* A presence subscriber's user, from its channel_data. */
struct ws_member {
	const char	*user_id;	/* in root */
	struct jsontext	 info;		/* user_info's JSON text; owned */
	struct json_object *root;	/* the parse; owned */
};

/* Parses channel_data (len bytes) for app. Returns 0, or -1 with the
 * problem in err. Free m with ws_presence_member_free in both cases. */
int ws_presence_member(const struct config_app *app, const char *data,
    size_t len, struct ws_member *m, char *err, size_t errlen);
void ws_presence_member_free(struct ws_member *m);

/* Makes c's user m a member of sub's channel and greets it with the
 * member list (pusher_internal:subscription_succeeded); the others get
 * member_added when the user is new. Returns SLUICE_OK (sub->user_id
 * set), SLUICE_EFULL or SLUICE_ENOMEM (nothing sent). */
int ws_presence_join(struct ws_conn *c, struct ws_sub *sub,
    struct ws_member *m);

/* Sends c the member list of sub's channel again (a repeated subscribe). */
void ws_presence_greet(struct ws_conn *c, struct ws_sub *sub);

/* Takes c's user out of sub's channel; the others get member_removed when
 * that was its last connection there. */
void ws_presence_leave(struct ws_conn *c, struct ws_sub *sub);

/* ws_client.c */

/* Handles a client event (m->event starts with "client-"). */
void ws_client_event(struct ws_conn *c, struct pusher_msg *m);

/* ws_user.c */

/* Handles pusher:signin with its data (may be NULL). */
void ws_user_signin(struct ws_conn *c, struct json_object *data);

/* Closes c with 4009 when its app requires sign-in and its time is up;
 * called by the sweep. */
void ws_user_check(struct ws_conn *c, int64_t now_us);

/* ws_publish.c */

/* Handles sluice:publish with its data (may be NULL). */
void ws_publish(struct ws_conn *c, struct json_object *data);

/* Replies to every publish the journal has answered. */
void ws_publish_drain(struct ws_server *srv);

/* Sends a client event through the pipeline (client_events = forward):
 * events is {"event","channel","data"} (borrowed); user_id is the
 * sender's on a presence channel, or NULL. A refusal reaches the sender as
 * a pusher:error. */
void ws_publish_client_event(struct ws_conn *c, struct json_object *events,
    const char *user_id);

/* Frees what is left of the answered publishes at shutdown. */
void ws_publish_discard(struct ws_server *srv);

#endif
