/*
 * test_presence.c: a presence channel's member table (hub/presence.c) and
 * the hub's calls over it: users with several connections are one member,
 * added with the first and removed with the last; the bound on members
 * (a known user's extra connection still joins); leaving when not a
 * member; growth to 10,000 members and back to none; and, against a
 * simple model driven by a seeded generator, that count, find and each
 * always agree with what was joined. Then through a hub: members counted
 * over every channel and freed with a channel's last subscriber.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "core/sluice.h"
#include "hub/hub.h"
#include "hub/presence.h"

#define NO_MAX ((size_t)-1)

/* Connections are just distinct addresses. */
static char conns[8];
#define CONN(i) ((void *)&conns[(i)])

static struct presence *
table(void)
{
	struct presence *p;

	p = presence_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	return p;
}

/* Joins one connection of id with info; returns presence_join's result
 * and sets *added. */
static int
join(struct presence *p, const char *id, const char *info, size_t max,
    int *added)
{
	*added = -1;
	return presence_join(p, id, info, strlen(info), max, added);
}

/* What presence_each saw: the ids (copied) and their connections. */
struct listing {
	char		**ids;
	unsigned	 *conns;
	size_t		  n;
	size_t		  cap;
};

static void
list_one(const struct presence_member *m, void *arg)
{
	struct listing *l = arg;

	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 64 : l->cap * 2;
		l->ids = realloc(l->ids, l->cap * sizeof *l->ids);
		l->conns = realloc(l->conns, l->cap * sizeof *l->conns);
		CU_ASSERT_FATAL(l->ids != NULL && l->conns != NULL);
	}
	l->ids[l->n] = strdup(m->id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l->ids[l->n]);
	l->conns[l->n] = m->conns;
	l->n++;
}

static void
list(const struct presence *p, struct listing *l)
{
	memset(l, 0, sizeof *l);
	presence_each(p, list_one, l);
}

static void
list_free(struct listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->ids[i]);
	free(l->ids);
	free(l->conns);
}

static void
TEST_multi_tab_user(void)
{
	const struct presence_member *m;
	struct presence *p = table();
	struct listing l;
	int added;

	/* Three tabs of one user: one member, added with the first. */
	CU_ASSERT_EQUAL(join(p, "alice", "{\"name\":\"Alice\"}", NO_MAX,
	    &added), SLUICE_OK);
	CU_ASSERT_EQUAL(added, 1);
	CU_ASSERT_EQUAL(join(p, "alice", "{\"name\":\"Tab 2\"}", NO_MAX,
	    &added), SLUICE_OK);
	CU_ASSERT_EQUAL(added, 0);
	CU_ASSERT_EQUAL(join(p, "alice", "{}", NO_MAX, &added), SLUICE_OK);
	CU_ASSERT_EQUAL(added, 0);
	CU_ASSERT_EQUAL(presence_count(p), 1);
	m = presence_find(p, "alice");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_STRING_EQUAL(m->id, "alice");
	CU_ASSERT_EQUAL(m->conns, 3);
	/* The first connection's user_info is the member's. */
	CU_ASSERT_STRING_EQUAL(m->info, "{\"name\":\"Alice\"}");
	CU_ASSERT_EQUAL(m->info_len, strlen("{\"name\":\"Alice\"}"));
	list(p, &l);
	CU_ASSERT_EQUAL_FATAL(l.n, 1);
	CU_ASSERT_STRING_EQUAL(l.ids[0], "alice");
	CU_ASSERT_EQUAL(l.conns[0], 3);
	list_free(&l);

	/* Removed only when the third leaves. */
	CU_ASSERT_EQUAL(presence_leave(p, "alice"), 0);
	CU_ASSERT_EQUAL(presence_count(p), 1);
	CU_ASSERT_EQUAL(presence_find(p, "alice")->conns, 2);
	CU_ASSERT_EQUAL(presence_leave(p, "alice"), 0);
	CU_ASSERT_EQUAL(presence_count(p), 1);
	CU_ASSERT_EQUAL(presence_leave(p, "alice"), 1);
	CU_ASSERT_EQUAL(presence_count(p), 0);
	CU_ASSERT_PTR_NULL(presence_find(p, "alice"));
	list(p, &l);
	CU_ASSERT_EQUAL(l.n, 0);
	list_free(&l);
	/* A fourth leave is of no member. */
	CU_ASSERT_EQUAL(presence_leave(p, "alice"), -1);
	CU_ASSERT_EQUAL(presence_count(p), 0);

	/* Coming back makes a new member, with its new user_info. */
	CU_ASSERT_EQUAL(join(p, "alice", "{\"back\":true}", NO_MAX, &added),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(added, 1);
	CU_ASSERT_STRING_EQUAL(presence_find(p, "alice")->info,
	    "{\"back\":true}");
	CU_ASSERT_EQUAL(presence_find(p, "alice")->conns, 1);
	presence_free(p);
}

static void
TEST_user_info_copied(void)
{
	static const char info[] = "{\"a\":\"x\\u0000y\",\"b\":\"\xc3\xa9\"}";
	const struct presence_member *m;
	struct presence *p = table();
	char buf[64], id[16];
	int added;

	/* Both the id and the user_info are copied; info_len bytes of it,
	 * NUL-terminated. */
	strcpy(id, "u1");
	memcpy(buf, info, sizeof info);
	CU_ASSERT_EQUAL(presence_join(p, id, buf, sizeof info - 1, NO_MAX,
	    &added), SLUICE_OK);
	memset(buf, 'z', sizeof buf);
	strcpy(id, "zz");
	m = presence_find(p, "u1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->info_len, sizeof info - 1);
	CU_ASSERT(memcmp(m->info, info, sizeof info) == 0);
	CU_ASSERT_PTR_NULL(presence_find(p, "zz"));

	/* Only info_len bytes are taken; none at all is allowed. */
	CU_ASSERT_EQUAL(presence_join(p, "u2", "{}garbage", 2, NO_MAX,
	    &added), SLUICE_OK);
	CU_ASSERT_STRING_EQUAL(presence_find(p, "u2")->info, "{}");
	CU_ASSERT_EQUAL(presence_join(p, "u3", "", 0, NO_MAX, &added),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(added, 1);
	CU_ASSERT_EQUAL(presence_find(p, "u3")->info_len, 0);
	CU_ASSERT_STRING_EQUAL(presence_find(p, "u3")->info, "");
	CU_ASSERT_EQUAL(presence_count(p), 3);
	presence_free(p);
}

static void
TEST_ids_exact(void)
{
	static const char *const ids[] = { "1", "10", "100", "01", "U1", "u1",
	    "u1 ", " u1", "", "caf\xc3\xa9", "cafe\xcc\x81",
	    "\xf0\x9f\x8e\xae", "a:b", "\"q\"" };
	struct presence *p = table();
	size_t i, j;
	int added;

	/* Ids that differ in one byte, by a prefix or by case are distinct
	 * users. */
	for (i = 0; i < SLUICE_ARRAY_LEN(ids); i++) {
		CU_ASSERT_EQUAL(join(p, ids[i], "{}", NO_MAX, &added),
		    SLUICE_OK);
		CU_ASSERT_EQUAL(added, 1);
	}
	CU_ASSERT_EQUAL(presence_count(p), SLUICE_ARRAY_LEN(ids));
	for (i = 0; i < SLUICE_ARRAY_LEN(ids); i++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(presence_find(p, ids[i]));
		CU_ASSERT_STRING_EQUAL(presence_find(p, ids[i])->id, ids[i]);
	}
	/* Each leaves alone. */
	for (i = 0; i < SLUICE_ARRAY_LEN(ids); i++) {
		CU_ASSERT_EQUAL(presence_leave(p, ids[i]), 1);
		CU_ASSERT_EQUAL(presence_count(p),
		    SLUICE_ARRAY_LEN(ids) - i - 1);
		for (j = i + 1; j < SLUICE_ARRAY_LEN(ids); j++)
			CU_ASSERT_PTR_NOT_NULL(presence_find(p, ids[j]));
	}
	presence_free(p);
}

static void
TEST_max_members(void)
{
	struct presence *p = table();
	int added;

	CU_ASSERT_EQUAL(join(p, "a", "{}", 3, &added), SLUICE_OK);
	CU_ASSERT_EQUAL(join(p, "b", "{}", 3, &added), SLUICE_OK);
	CU_ASSERT_EQUAL(join(p, "c", "{}", 3, &added), SLUICE_OK);
	CU_ASSERT_EQUAL(added, 1);
	/* A new user at the limit is refused, and nothing changes. */
	CU_ASSERT_EQUAL(join(p, "d", "{}", 3, &added), SLUICE_EFULL);
	CU_ASSERT_EQUAL(added, 0);
	CU_ASSERT_EQUAL(presence_count(p), 3);
	CU_ASSERT_PTR_NULL(presence_find(p, "d"));
	CU_ASSERT_EQUAL(presence_leave(p, "d"), -1);
	/* A known user's extra connection still joins. */
	CU_ASSERT_EQUAL(join(p, "a", "{}", 3, &added), SLUICE_OK);
	CU_ASSERT_EQUAL(added, 0);
	CU_ASSERT_EQUAL(presence_find(p, "a")->conns, 2);
	CU_ASSERT_EQUAL(presence_count(p), 3);
	/* The limit is of members, not connections: a's second leaving
	 * frees no room, its last does. */
	CU_ASSERT_EQUAL(presence_leave(p, "a"), 0);
	CU_ASSERT_EQUAL(join(p, "d", "{}", 3, &added), SLUICE_EFULL);
	CU_ASSERT_EQUAL(presence_leave(p, "a"), 1);
	CU_ASSERT_EQUAL(join(p, "d", "{}", 3, &added), SLUICE_OK);
	CU_ASSERT_EQUAL(added, 1);
	CU_ASSERT_EQUAL(join(p, "e", "{}", 3, &added), SLUICE_EFULL);
	/* A lower limit than the members there refuses newcomers only. */
	CU_ASSERT_EQUAL(join(p, "b", "{}", 1, &added), SLUICE_OK);
	CU_ASSERT_EQUAL(join(p, "f", "{}", 1, &added), SLUICE_EFULL);
	CU_ASSERT_EQUAL(presence_count(p), 3);
	presence_free(p);

	/* A limit of one; of none. */
	p = table();
	CU_ASSERT_EQUAL(join(p, "solo", "{}", 1, &added), SLUICE_OK);
	CU_ASSERT_EQUAL(join(p, "solo", "{}", 1, &added), SLUICE_OK);
	CU_ASSERT_EQUAL(join(p, "duo", "{}", 1, &added), SLUICE_EFULL);
	CU_ASSERT_EQUAL(join(p, "x", "{}", 0, &added), SLUICE_EFULL);
	CU_ASSERT_EQUAL(presence_count(p), 1);
	presence_free(p);
	p = table();
	CU_ASSERT_EQUAL(join(p, "x", "{}", 0, &added), SLUICE_EFULL);
	CU_ASSERT_EQUAL(added, 0);
	CU_ASSERT_EQUAL(presence_count(p), 0);
	presence_free(p);
}

static void
TEST_leave_unknown(void)
{
	struct presence *p = table();
	int added;

	CU_ASSERT_EQUAL(presence_leave(p, "nobody"), -1);
	CU_ASSERT_EQUAL(presence_leave(p, ""), -1);
	CU_ASSERT_EQUAL(join(p, "u1", "{}", NO_MAX, &added), SLUICE_OK);
	CU_ASSERT_EQUAL(presence_leave(p, "u10"), -1);
	CU_ASSERT_EQUAL(presence_leave(p, "u"), -1);
	CU_ASSERT_EQUAL(presence_leave(p, "U1"), -1);
	CU_ASSERT_EQUAL(presence_count(p), 1);
	CU_ASSERT_EQUAL(presence_find(p, "u1")->conns, 1);
	CU_ASSERT_EQUAL(presence_leave(p, "u1"), 1);
	CU_ASSERT_EQUAL(presence_leave(p, "u1"), -1);
	CU_ASSERT_EQUAL(presence_count(p), 0);
	presence_free(p);
}

static void
TEST_null_table(void)
{
	struct listing l;

	CU_ASSERT_EQUAL(presence_count(NULL), 0);
	CU_ASSERT_PTR_NULL(presence_find(NULL, "x"));
	list(NULL, &l);
	CU_ASSERT_EQUAL(l.n, 0);
	list_free(&l);
	presence_free(NULL);
}

#define MANY 10000

/* The index of an id "user-N", checked to be one of MANY. */
static size_t
many_index(const char *id)
{
	unsigned long n;
	char *end;

	CU_ASSERT_FATAL(strncmp(id, "user-", 5) == 0);
	n = strtoul(id + 5, &end, 10);
	CU_ASSERT_FATAL(*end == '\0' && n < MANY);
	return n;
}

static void
TEST_many_members(void)
{
	struct presence *p = table();
	unsigned char *seen;
	struct listing l;
	char id[32];
	size_t i, k;
	int added;

	seen = calloc(MANY, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(seen);
	/* 10,000 users, every third with a second connection. */
	for (i = 0; i < MANY; i++) {
		snprintf(id, sizeof id, "user-%zu", i);
		CU_ASSERT_EQUAL_FATAL(join(p, id, "{\"n\":1}", MANY, &added),
		    SLUICE_OK);
		CU_ASSERT_EQUAL(added, 1);
		if (i % 3 == 0) {
			CU_ASSERT_EQUAL(join(p, id, "{}", MANY, &added),
			    SLUICE_OK);
			CU_ASSERT_EQUAL(added, 0);
		}
	}
	CU_ASSERT_EQUAL(presence_count(p), MANY);
	CU_ASSERT_EQUAL(join(p, "one-more", "{}", MANY, &added),
	    SLUICE_EFULL);
	/* each lists every id once, with its connections. */
	list(p, &l);
	CU_ASSERT_EQUAL_FATAL(l.n, MANY);
	for (i = 0; i < l.n; i++) {
		k = many_index(l.ids[i]);
		CU_ASSERT_EQUAL(seen[k], 0);
		seen[k] = 1;
		CU_ASSERT_EQUAL(l.conns[i], k % 3 == 0 ? 2 : 1);
	}
	list_free(&l);
	for (i = 0; i < MANY; i++) {
		snprintf(id, sizeof id, "user-%zu", i);
		CU_ASSERT_PTR_NOT_NULL(presence_find(p, id));
	}

	/* All leave, in another order than they came (a stride through
	 * the ids): the table is empty again. */
	for (i = 0, k = 0; i < MANY; i++, k = (k + 7919) % MANY) {
		snprintf(id, sizeof id, "user-%zu", k);
		if (k % 3 == 0) {
			CU_ASSERT_EQUAL(presence_leave(p, id), 0);
		}
		CU_ASSERT_EQUAL(presence_leave(p, id), 1);
		if (i == MANY / 2 - 1) {
			CU_ASSERT_EQUAL(presence_count(p), MANY / 2);
		}
	}
	CU_ASSERT_EQUAL(presence_count(p), 0);
	list(p, &l);
	CU_ASSERT_EQUAL(l.n, 0);
	list_free(&l);
	CU_ASSERT_PTR_NULL(presence_find(p, "user-0"));
	/* And takes members again. */
	CU_ASSERT_EQUAL(join(p, "user-1", "{}", MANY, &added), SLUICE_OK);
	CU_ASSERT_EQUAL(added, 1);
	CU_ASSERT_EQUAL(presence_count(p), 1);
	free(seen);
	presence_free(p);
}

/* A seeded generator (xorshift64): the same sequence every run. */
static uint64_t
next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#define MODEL_USERS	500
#define MODEL_MAX	300
#define MODEL_STEPS	200000

/* Checks p against the model: the connections of each user by index. */
static void
model_check(const struct presence *p, const unsigned *model)
{
	const struct presence_member *m;
	unsigned char seen[MODEL_USERS];
	struct listing l;
	size_t i, k, members = 0;
	char id[16];

	for (i = 0; i < MODEL_USERS; i++) {
		snprintf(id, sizeof id, "m%zu", i);
		m = presence_find(p, id);
		if (model[i] == 0) {
			CU_ASSERT_PTR_NULL(m);
			continue;
		}
		members++;
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		CU_ASSERT_EQUAL(m->conns, model[i]);
	}
	CU_ASSERT_EQUAL(presence_count(p), members);
	memset(seen, 0, sizeof seen);
	list(p, &l);
	CU_ASSERT_EQUAL(l.n, members);
	for (i = 0; i < l.n; i++) {
		CU_ASSERT_FATAL(l.ids[i][0] == 'm');
		k = strtoul(l.ids[i] + 1, NULL, 10);
		CU_ASSERT_FATAL(k < MODEL_USERS);
		CU_ASSERT_EQUAL(seen[k], 0);
		seen[k] = 1;
		CU_ASSERT_EQUAL(l.conns[i], model[k]);
	}
	list_free(&l);
}

static void
TEST_against_model(void)
{
	struct presence *p = table();
	unsigned model[MODEL_USERS];
	size_t members = 0, i, u;
	uint64_t seed = 0x5eed2026120801ULL;
	char id[16];
	int added, rc;

	memset(model, 0, sizeof model);
	for (i = 0; i < MODEL_STEPS; i++) {
		u = next_random(&seed) % MODEL_USERS;
		snprintf(id, sizeof id, "m%zu", u);
		/* Joins a bit more often than leaves, so that the table
		 * fills to its bound and stays around it. */
		if (next_random(&seed) % 100 < 55) {
			rc = join(p, id, "{}", MODEL_MAX, &added);
			if (model[u] > 0) {
				CU_ASSERT_EQUAL(rc, SLUICE_OK);
				CU_ASSERT_EQUAL(added, 0);
				model[u]++;
			} else if (members == MODEL_MAX) {
				CU_ASSERT_EQUAL(rc, SLUICE_EFULL);
				CU_ASSERT_EQUAL(added, 0);
			} else {
				CU_ASSERT_EQUAL(rc, SLUICE_OK);
				CU_ASSERT_EQUAL(added, 1);
				model[u] = 1;
				members++;
			}
		} else {
			rc = presence_leave(p, id);
			if (model[u] == 0) {
				CU_ASSERT_EQUAL(rc, -1);
			} else if (--model[u] == 0) {
				CU_ASSERT_EQUAL(rc, 1);
				members--;
			} else {
				CU_ASSERT_EQUAL(rc, 0);
			}
		}
		CU_ASSERT_EQUAL_FATAL(presence_count(p), members);
		if (i % 10000 == 0)
			model_check(p, model);
	}
	/* The bound was reached on the way. */
	CU_ASSERT(members > MODEL_MAX / 2);
	model_check(p, model);
	presence_free(p);
}

/*
 * Through a hub: three connections in one presence channel, two of them
 * one user's; another channel; the members counted over both; a channel's
 * members gone with its last subscriber, whether or not they left.
 */
static void
TEST_hub_members(void)
{
	struct hub_channel *room, *room2, *other, *plain;
	struct hub *h;
	int added;

	h = hub_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	hub_enter(h);
	CU_ASSERT_EQUAL(hub_subscribe(h, 0, "presence-room", CONN(1), &room),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(hub_subscribe(h, 0, "presence-room", CONN(2), &room2),
	    SLUICE_OK);
	CU_ASSERT_PTR_EQUAL(room, room2);
	CU_ASSERT_EQUAL(hub_subscribe(h, 0, "presence-room", CONN(3), &room2),
	    SLUICE_OK);
	/* No member yet: no table. */
	CU_ASSERT_PTR_NULL(hub_channel_presence(room));
	CU_ASSERT_EQUAL(hub_member_count(h), 0);
	CU_ASSERT_EQUAL(hub_member_leave(h, room, "alice"), -1);

	CU_ASSERT_EQUAL(hub_member_join(h, room, "alice", "{\"n\":1}", 7, 2,
	    &added), SLUICE_OK);
	CU_ASSERT_EQUAL(added, 1);
	CU_ASSERT_EQUAL(hub_member_join(h, room, "alice", "{}", 2, 2,
	    &added), SLUICE_OK);
	CU_ASSERT_EQUAL(added, 0);
	CU_ASSERT_EQUAL(hub_member_join(h, room, "bob", "{}", 2, 2, &added),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(added, 1);
	CU_ASSERT_EQUAL(hub_member_count(h), 2);
	CU_ASSERT_EQUAL(presence_count(hub_channel_presence(room)), 2);
	CU_ASSERT_STRING_EQUAL(presence_find(hub_channel_presence(room),
	    "alice")->info, "{\"n\":1}");
	/* Over max: refused, counted nowhere. */
	CU_ASSERT_EQUAL(hub_member_join(h, room, "carol", "{}", 2, 2,
	    &added), SLUICE_EFULL);
	CU_ASSERT_EQUAL(added, 0);
	CU_ASSERT_EQUAL(hub_member_count(h), 2);

	/* Another channel (of another app, same name too): members are
	 * counted over all; the same user is a member of each. */
	CU_ASSERT_EQUAL(hub_subscribe(h, 0, "presence-other", CONN(1),
	    &other), SLUICE_OK);
	CU_ASSERT_EQUAL(hub_member_join(h, other, "alice", "{}", 2, 100,
	    &added), SLUICE_OK);
	CU_ASSERT_EQUAL(added, 1);
	CU_ASSERT_EQUAL(hub_subscribe(h, 1, "presence-room", CONN(4), &room2),
	    SLUICE_OK);
	CU_ASSERT_PTR_NOT_EQUAL(room2, room);
	CU_ASSERT_EQUAL(hub_member_join(h, room2, "alice", "{}", 2, 100,
	    &added), SLUICE_OK);
	CU_ASSERT_EQUAL(added, 1);
	CU_ASSERT_EQUAL(hub_member_count(h), 4);
	CU_ASSERT_EQUAL(presence_count(hub_channel_presence(room)), 2);

	/* One of alice's tabs leaves the room: she stays. */
	CU_ASSERT_EQUAL(hub_member_leave(h, room, "alice"), 0);
	hub_unsubscribe(h, room, CONN(1));
	CU_ASSERT_EQUAL(hub_member_count(h), 4);
	CU_ASSERT_EQUAL(hub_member_leave(h, room, "nobody"), -1);
	CU_ASSERT_EQUAL(hub_member_count(h), 4);
	/* bob leaves for good. */
	CU_ASSERT_EQUAL(hub_member_leave(h, room, "bob"), 1);
	CU_ASSERT_EQUAL(hub_member_count(h), 3);
	CU_ASSERT_EQUAL(presence_count(hub_channel_presence(room)), 1);

	/* The last subscribers go without their members leaving (the front
	 * door's bookkeeping aside): the table goes with the channel, and
	 * its members from the count. */
	CU_ASSERT_EQUAL(hub_member_join(h, room, "dave", "{}", 2, 100,
	    &added), SLUICE_OK);
	CU_ASSERT_EQUAL(hub_member_count(h), 4);
	hub_unsubscribe(h, room, CONN(2));
	CU_ASSERT_EQUAL(hub_member_count(h), 4);
	hub_unsubscribe(h, room, CONN(3));
	CU_ASSERT_EQUAL(hub_member_count(h), 2);
	CU_ASSERT_PTR_NULL(hub_channel_find(h, 0, "presence-room"));
	/* Coming back finds a fresh channel without members. */
	CU_ASSERT_EQUAL(hub_subscribe(h, 0, "presence-room", CONN(1), &room),
	    SLUICE_OK);
	CU_ASSERT_PTR_NULL(hub_channel_presence(room));
	CU_ASSERT_EQUAL(hub_member_join(h, room, "alice", "{}", 2, 100,
	    &added), SLUICE_OK);
	CU_ASSERT_EQUAL(added, 1);
	CU_ASSERT_EQUAL(hub_member_count(h), 3);

	/* A channel that never had members. */
	CU_ASSERT_EQUAL(hub_subscribe(h, 0, "events", CONN(5), &plain),
	    SLUICE_OK);
	CU_ASSERT_EQUAL(hub_member_leave(h, plain, "alice"), -1);
	hub_unsubscribe(h, plain, CONN(5));
	CU_ASSERT_EQUAL(hub_member_count(h), 3);

	hub_unsubscribe(h, room, CONN(1));
	hub_unsubscribe(h, other, CONN(1));
	hub_unsubscribe(h, room2, CONN(4));
	CU_ASSERT_EQUAL(hub_member_count(h), 0);
	CU_ASSERT_EQUAL(hub_channel_count(h), 0);
	hub_free(h);
}

/* Many members over a hub's channel, then every subscriber gone. */
static void
TEST_hub_many_members(void)
{
	static char subs[MANY];
	struct hub_channel *ch;
	struct hub *h;
	char id[32];
	size_t i;
	int added;

	h = hub_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	hub_enter(h);
	for (i = 0; i < MANY; i++) {
		CU_ASSERT_EQUAL_FATAL(hub_subscribe(h, 0, "presence-big",
		    &subs[i], &ch), SLUICE_OK);
		snprintf(id, sizeof id, "user-%zu", i / 2);
		CU_ASSERT_EQUAL_FATAL(hub_member_join(h, ch, id, "{}", 2,
		    MANY, &added), SLUICE_OK);
		CU_ASSERT_EQUAL(added, i % 2 == 0);
	}
	CU_ASSERT_EQUAL(hub_member_count(h), MANY / 2);
	CU_ASSERT_EQUAL(presence_count(hub_channel_presence(ch)), MANY / 2);
	for (i = 0; i < MANY; i++) {
		snprintf(id, sizeof id, "user-%zu", i / 2);
		CU_ASSERT_EQUAL(hub_member_leave(h, ch, id), i % 2 == 1);
		if (i + 1 < MANY)
			hub_unsubscribe(h, ch, &subs[i]);
	}
	CU_ASSERT_EQUAL(hub_member_count(h), 0);
	CU_ASSERT_EQUAL(presence_count(hub_channel_presence(ch)), 0);
	hub_unsubscribe(h, ch, &subs[MANY - 1]);
	CU_ASSERT_EQUAL(hub_channel_count(h), 0);
	hub_free(h);
}

void
test_presence_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_multi_tab_user", TEST_multi_tab_user },
		{ "TEST_user_info_copied", TEST_user_info_copied },
		{ "TEST_ids_exact", TEST_ids_exact },
		{ "TEST_max_members", TEST_max_members },
		{ "TEST_leave_unknown", TEST_leave_unknown },
		{ "TEST_null_table", TEST_null_table },
		{ "TEST_many_members", TEST_many_members },
		{ "TEST_against_model", TEST_against_model },
		{ "TEST_hub_members", TEST_hub_members },
		{ "TEST_hub_many_members", TEST_hub_many_members },
		{ NULL, NULL }
	};

	unit_add_suite("presence", tests);
}
