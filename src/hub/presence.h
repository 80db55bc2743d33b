/*
 * presence.h: the members of one presence channel. Members are users, not
 * connections: a user with three connections in the channel is one member,
 * added with the first and removed with the last. Each member keeps the
 * user_info of its first connection (JSON text, as the app's server signed
 * it). The hub keeps one table per presence channel that has members.
 * Not thread-safe: the hub's service thread only.
 */
#ifndef SLUICE_PRESENCE_H
#define SLUICE_PRESENCE_H

#include <stddef.h>

struct presence;

struct presence_member {
	struct presence_member	*next;		/* in its slot's chain */
	unsigned		 conns;		/* connections of the user */
	size_t			 info_len;
	char			*info;		/* user_info JSON; owned */
	char			 id[];		/* user_id, NUL-terminated */
};

/* Returns an empty table, or NULL when out of memory. */
struct presence *presence_new(void);

/* Frees p and its members. NULL is allowed. */
void presence_free(struct presence *p);

/*
 * Adds one connection of user id, whose user_info is the info_len bytes
 * of info (JSON text, copied when the user is new). Returns SLUICE_OK with
 * *added set to 1 when the user was not a member; SLUICE_EFULL when it
 * was not and max members are there already; SLUICE_ENOMEM. p is
 * unchanged on an error.
 */
int presence_join(struct presence *p, const char *id, const char *info,
    size_t info_len, size_t max, int *added);

/*
 * Takes one connection of user id away. Returns 1 when that was its last
 * (the member is gone), 0 when it still has some, -1 when id is not a
 * member.
 */
int presence_leave(struct presence *p, const char *id);

/* The member with user id, or NULL. */
const struct presence_member *presence_find(const struct presence *p,
    const char *id);

/* How many members there are (0 for NULL). */
size_t presence_count(const struct presence *p);

/* Calls fn for every member, in no order. fn must not change p. */
void presence_each(const struct presence *p,
    void (*fn)(const struct presence_member *m, void *arg), void *arg);

#endif
