/*
 * ws_presence.c: presence channels on the WebSocket side: a subscriber's
 * user from its channel_data, the member list it is greeted with, and
 * pusher_internal:member_added / member_removed to the other subscribers
 * as users (not connections) come and go. The members themselves are the
 * hub's (hub_member_join). WebSocket service thread only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/log.h"
#include "core/sluice.h"
#include "hub/presence.h"
#include "ws/ws_internal.h"

#define WS_USER_ID_MAX		128	/* characters, as Pusher */
#define WS_CHANNEL_DATA_DEPTH	32

int
ws_presence_member(const struct config_app *app, const char *data,
    size_t len, struct ws_member *m, char *err, size_t errlen)
{
	struct json_object *id, *info = NULL;
	char perr[160];
	size_t idlen;

	memset(m, 0, sizeof *m);
	if (jsontext_parse(data, len, WS_CHANNEL_DATA_DEPTH, &m->root, perr,
	    sizeof perr) != 0 || !json_object_is_type(m->root,
	    json_type_object)) {
		snprintf(err, errlen, "channel_data must be a JSON object "
		    "{\"user_id\": ..., \"user_info\": ...}");
		return -1;
	}
	if (!json_object_object_get_ex(m->root, "user_id", &id) ||
	    (!json_object_is_type(id, json_type_string) &&
	    !json_object_is_type(id, json_type_int))) {
		snprintf(err, errlen, "channel_data.user_id must be a string "
		    "or an integer");
		return -1;
	}
	m->user_id = json_object_get_string(id);
	idlen = strlen(m->user_id);
	if (json_object_is_type(id, json_type_string) &&
	    idlen != (size_t)json_object_get_string_len(id)) {
		snprintf(err, errlen, "channel_data.user_id must not contain "
		    "NUL characters");
		return -1;
	}
	if (idlen == 0 || idlen > WS_USER_ID_MAX) {
		snprintf(err, errlen, "channel_data.user_id must be 1 to %d "
		    "characters", WS_USER_ID_MAX);
		return -1;
	}
	json_object_object_get_ex(m->root, "user_info", &info);
	jsontext_raw(&m->info, info);
	if (m->info.failed) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (m->info.len > app->presence_max_member_bytes) {
		snprintf(err, errlen, "channel_data.user_info is %zu bytes, "
		    "over presence_max_member_bytes (%zu)", m->info.len,
		    app->presence_max_member_bytes);
		return -1;
	}
	return 0;
}

void
ws_presence_member_free(struct ws_member *m)
{
	json_object_put(m->root);
	free(m->info.p);
	memset(m, 0, sizeof *m);
}

/* Appends one member to the ids and hash being written. */
struct ws_presence_list {
	struct jsontext	ids;
	struct jsontext	hash;
};

static void
ws_presence_list_add(const struct presence_member *m, void *arg)
{
	struct ws_presence_list *l = arg;

	if (l->ids.len > 0)
		jsontext_lit(&l->ids, ",");
	jsontext_cstr(&l->ids, m->id);
	if (l->hash.len > 0)
		jsontext_lit(&l->hash, ",");
	jsontext_cstr(&l->hash, m->id);
	jsontext_lit(&l->hash, ":");
	jsontext_put(&l->hash, m->info, m->info_len);
}

void
ws_presence_greet(struct ws_conn *c, struct ws_sub *sub)
{
	const struct presence *p = hub_channel_presence(sub->ch);
	struct ws_presence_list l;
	struct jsontext b;
	char num[32];

	memset(&l, 0, sizeof l);
	memset(&b, 0, sizeof b);
	presence_each(p, ws_presence_list_add, &l);
	jsontext_lit(&b, "{\"presence\":{\"ids\":[");
	jsontext_put(&b, l.ids.p, l.ids.len);
	jsontext_lit(&b, "],\"hash\":{");
	jsontext_put(&b, l.hash.p, l.hash.len);
	snprintf(num, sizeof num, "},\"count\":%zu}}", presence_count(p));
	jsontext_put(&b, num, strlen(num));
	if (l.ids.failed || l.hash.failed || b.failed)
		ws_session_error(c, 0, "out of memory", 0);
	else
		ws_session_message_out(c,
		    "pusher_internal:subscription_succeeded",
		    hub_channel_name(sub->ch), b.p, b.len, 1);
	free(l.ids.p);
	free(l.hash.p);
	free(b.p);
}

int
ws_presence_join(struct ws_conn *c, struct ws_sub *sub, struct ws_member *m)
{
	struct ws_server *srv = c->srv;
	struct jsontext b;
	int added, rc;

	sub->user_id = strdup(m->user_id);
	if (sub->user_id == NULL)
		return SLUICE_ENOMEM;
	rc = hub_member_join(srv->hub, sub->ch, m->user_id, m->info.p,
	    m->info.len, c->app->presence_max_members, &added);
	if (rc != SLUICE_OK) {
		free(sub->user_id);
		sub->user_id = NULL;
		return rc;
	}
	ws_presence_greet(c, sub);
	if (!added)
		return SLUICE_OK;
	memset(&b, 0, sizeof b);
	jsontext_lit(&b, "{\"user_id\":");
	jsontext_cstr(&b, m->user_id);
	jsontext_lit(&b, ",\"user_info\":");
	jsontext_put(&b, m->info.p, m->info.len);
	jsontext_lit(&b, "}");
	if (!b.failed)
		ws_channel_tell(srv, sub->ch, "pusher_internal:member_added",
		    b.p, b.len, c);
	else
		log_warn("ws", "out of memory: member_added of %s not sent",
		    hub_channel_name(sub->ch));
	free(b.p);
	return SLUICE_OK;
}

void
ws_presence_leave(struct ws_conn *c, struct ws_sub *sub)
{
	struct ws_server *srv = c->srv;
	struct jsontext b;

	if (hub_member_leave(srv->hub, sub->ch, sub->user_id) == 1) {
		memset(&b, 0, sizeof b);
		jsontext_lit(&b, "{\"user_id\":");
		jsontext_cstr(&b, sub->user_id);
		jsontext_lit(&b, "}");
		if (!b.failed)
			ws_channel_tell(srv, sub->ch,
			    "pusher_internal:member_removed", b.p, b.len, c);
		free(b.p);
	}
	free(sub->user_id);
	sub->user_id = NULL;
}
