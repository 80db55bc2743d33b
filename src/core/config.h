/*
 * config.h: the sluiced configuration, loaded from an INI file with the
 * INI engine (core/inifile.h, which also holds struct config_strv and the
 * error list struct config_errors). Every key has a default; unknown
 * sections, unknown keys and bad values are errors reported with
 * file:line. The loaded struct is read-only afterwards and may be read
 * from any thread.
 */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/inifile.h"
#include "core/log.h"
#include "core/netaddr.h"

enum config_queue_type { CONFIG_QUEUE_CLASSIC, CONFIG_QUEUE_QUORUM };

/* [app ID] */
struct config_app {
	char			*id;		/* the section's name */
	char			*key;		/* public key: X-Sluice-Key, ?key= */
	char			*secret;	/* HMAC secret (private channels) */
	struct config_strv	 origins;	/* allowed Origin values; "*" = any */
	char			*default_channel;
	struct config_strv	 publish_channels; /* glob patterns (fnmatch) */
	struct config_strv	 public_channels; /* readable without auth */
	unsigned		 max_connections; /* WebSocket connections */
	int			 enabled;	/* 0: connections refused */
	unsigned		 presence_max_members;	/* users a channel */
	size_t			 presence_max_member_bytes; /* user_info */
	int			 client_events;	/* enum config_client_events */
	unsigned		 client_event_rate;	/* a s, a connection */
	unsigned		 client_event_burst;
	int			 user_auth_required;	/* pusher:signin */
	unsigned		 user_auth_timeout_s;
	int			 subscription_count;	/* counts sent */
	unsigned		 subscription_count_interval_ms;
	unsigned		 cache_ttl_s;	/* cache-* channels' last event */
	unsigned		 max_batch_events; /* HTTP API batch_events */
};

/* What an app does with a client event (client-*). */
enum config_client_events {
	CONFIG_CLIENT_EVENTS_FORWARD,	/* journaled and forwarded too */
	CONFIG_CLIENT_EVENTS_LIVE,	/* to the channel's subscribers only */
	CONFIG_CLIENT_EVENTS_OFF	/* refused */
};

#define CONFIG_APP_MAX_CONNECTIONS 65536	/* default per app */
#define CONFIG_APP_KEY_MAX	128	/* characters of an app key */
#define CONFIG_SECRET_ADVISED	16	/* shorter secrets are warned of */

/* [queue NAME] */
struct config_queue {
	char			*name;
	struct config_strv	 bindings;	/* topic patterns; default "#" */
};

struct config {
	char			*path;		/* the file it was loaded from */

	/* [server] */
	char			*http_listen;	/* "host:port", "[v6]:port" */
	unsigned		 http_threads;
	unsigned		 http_max_connections;
	unsigned		 http_timeout_s;	/* idle connection timeout */
	unsigned		 http_max_per_client;	/* connections, one address */
	unsigned		 http_header_timeout_s;	/* a request's head */
	size_t			 http_body_min_rate;	/* bytes/s of a body */
	struct netaddr_list	 trusted_proxies;
	char			*log_file;	/* NULL: stderr */
	enum log_level		 log_level;
	unsigned		 shutdown_timeout_s;	/* wait for confirms */
	char			*static_dir;	/* served at /; NULL: none */

	/* [limits] */
	size_t			 max_event_bytes;
	size_t			 max_request_bytes;
	size_t			 max_events_per_request;

	/* [journal] */
	char			*journal_dir;
	uint64_t		 journal_max_bytes;
	uint64_t		 journal_segment_bytes;

	/* [amqp] */
	char			*amqp_url;
	char			*exchange;
	char			*unrouted_exchange;	/* also its queue's name */
	char			*routing_key;		/* template */
	enum config_queue_type	 queue_type;
	unsigned		 heartbeat_s;
	unsigned		 max_inflight;
	unsigned		 reconnect_min_ms;
	unsigned		 reconnect_max_ms;

	/* [websocket] */
	char			*ws_listen;
	unsigned		 ws_activity_timeout_s;
	unsigned		 ws_pong_timeout_s;
	size_t			 ws_max_message_bytes;
	unsigned		 ws_max_subscriptions;
	size_t			 ws_send_queue_bytes;	/* per connection */
	unsigned		 ws_publish_rate;	/* events/s */
	unsigned		 ws_publish_burst;	/* events */
	unsigned		 ws_max_open_files;	/* 0: the hard limit */
	size_t			 ws_max_partial_bytes;	/* every connection's */
	size_t			 ws_inbox_frames;	/* hub inbox bound */
	size_t			 ws_cache_channels;	/* cached events kept */

	struct config_app	*apps;
	size_t			 napps;
	struct config_queue	*queues;
	size_t			 nqueues;

	/* What is allowed but unwise ("file:line: ..."): sluiced logs
	 * these at startup, and sluiced -t prints them. */
	struct config_errors	 warnings;
};

/*
 * Loads path. On success returns 0 and *out (free with config_free). On
 * failure returns -1, *out is NULL and errs holds every problem found (the
 * whole file is checked, not just up to the first error). errs must be zeroed
 * by the caller and freed with config_errors_free in both cases.
 */
int config_load(const char *path, struct config **out,
    struct config_errors *errs);

/*
 * Fills cfg with every default (no apps; queue "sluice.archive" bound "#").
 * Returns SLUICE_OK, or SLUICE_ENOMEM with cfg left empty.
 */
int config_defaults(struct config *cfg);

/*
 * Frees everything cfg holds and cfg itself, so cfg must come from
 * config_load or from malloc/calloc (then filled by config_defaults).
 * NULL is allowed.
 */
void config_free(struct config *cfg);

/*
 * Parses a size: a number with an optional K, M or G suffix (powers of 1024,
 * case-insensitive, an optional trailing "B"). Returns 0 or -1.
 */
int config_parse_size(const char *text, uint64_t *out);

#endif
