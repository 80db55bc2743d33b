/*
 * test_pusher.c: the Pusher protocol module: channel names and kinds
 * (ingest/channel.c: private, presence, user, cache, encrypted), socket
 * ids, private- and presence-channel and sign-in signatures against
 * vectors made with the pusher npm SDK (tests/unit/data/
 * pusher-auth-vectors.txt and pusher-presence-vectors.txt) and forged
 * ones, close reasons, parsing clients' messages and the exact text of
 * the server's.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "unit.h"
#include "core/jsontext.h"
#include "core/sluice.h"
#include "ingest/channel.h"
#include "ws/pusher.h"

#ifndef TEST_SRCDIR
#define TEST_SRCDIR "."
#endif

#define AUTH_VECTORS TEST_SRCDIR "/tests/unit/data/pusher-auth-vectors.txt"
#define PRESENCE_VECTORS TEST_SRCDIR \
    "/tests/unit/data/pusher-presence-vectors.txt"

static const char channel_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    "_-=@,.;";

/* Parses all n bytes of s as JSON (nothing after the value); NULL if
 * they are not. */
static struct json_object *
json_whole(const char *s, size_t n)
{
	struct json_tokener *tok;
	struct json_object *v;

	tok = json_tokener_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
	v = json_tokener_parse_ex(tok, s, (int)n);
	if (v != NULL && json_tokener_get_parse_end(tok) != n) {
		json_object_put(v);
		v = NULL;
	}
	json_tokener_free(tok);
	return v;
}

/* The string member name of o, or "<missing>" (never NULL, so that a
 * failed comparison is reported rather than crashing the run). */
static const char *
member_str(struct json_object *o, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "<missing>";
	return json_object_get_string(v);
}

/* Returns 1 if b holds exactly the text want (want_len bytes). */
static int
text_is(const struct jsontext *b, const char *want, size_t want_len)
{
	if (b->failed || b->len != want_len ||
	    memcmp(b->p, want, want_len) != 0) {
		fprintf(stderr, "\n  want: %.*s\n  got:  %.*s\n",
		    (int)want_len, want, (int)b->len, b->p);
		return 0;
	}
	return 1;
}
#define TEXT_IS(b, lit) text_is((b), (lit), sizeof(lit) - 1)

static void
TEST_channel_every_allowed_char(void)
{
	char name[2];
	size_t i;

	for (i = 0; channel_chars[i] != '\0'; i++) {
		name[0] = channel_chars[i];
		name[1] = '\0';
		CU_ASSERT_EQUAL(channel_name_valid(name, 1), 1);
	}
	CU_ASSERT_EQUAL(channel_name_valid(channel_chars,
	    strlen(channel_chars)), 1);
	CU_ASSERT_EQUAL(channel_name_valid("private-user@example.com;a=b,c",
	    30), 1);
}

static void
TEST_channel_every_other_byte(void)
{
	char name[5];
	unsigned c;
	int allowed;

	for (c = 0; c < 256; c++) {
		allowed = c != 0 && strchr(channel_chars, (int)c) != NULL;
		/* Alone, first, in the middle and last. */
		name[0] = (char)c;
		CU_ASSERT_EQUAL(channel_name_valid(name, 1), allowed);
		memcpy(name, "ab", 2);
		name[2] = (char)c;
		memcpy(name + 3, "cd", 2);
		CU_ASSERT_EQUAL(channel_name_valid(name, 5), allowed);
		CU_ASSERT_EQUAL(channel_name_valid(name, 3), allowed);
		name[0] = (char)c;
		CU_ASSERT_EQUAL(channel_name_valid(name, 5), allowed);
		if (channel_name_valid(name, 5) != allowed)
			fprintf(stderr, "\n  byte 0x%02x\n", c);
	}
}

static void
TEST_channel_named_bad_classes(void)
{
	static const char *const bad[] = { "a b", " ab", "ab ", "a/b",
	    "a#b", "a:b", "a*b", "caf\xc3\xa9", "\xe2\x98\x83", "a\tb",
	    "a\nb", "a+b", "a%b", "a\"b", "a\\b", "a'b", "a?b", "a&b",
	    "a[b]", "a{b}", "a~b", "a!b", "a$b", "a|b", "a<b>", "a^b",
	    "a`b", "a(b)", "\x7f", "a\x01" };
	size_t i;

	for (i = 0; i < SLUICE_ARRAY_LEN(bad); i++) {
		CU_ASSERT_EQUAL(channel_name_valid(bad[i], strlen(bad[i])),
		    0);
		if (channel_name_valid(bad[i], strlen(bad[i])) != 0)
			fprintf(stderr, "\n  accepted \"%s\"\n", bad[i]);
	}
	/* A NUL inside the n bytes is not part of any name. */
	CU_ASSERT_EQUAL(channel_name_valid("ab\0cd", 5), 0);
	CU_ASSERT_EQUAL(channel_name_valid("ab\0", 3), 0);
	CU_ASSERT_EQUAL(channel_name_valid("\0", 1), 0);
	/* Empty. */
	CU_ASSERT_EQUAL(channel_name_valid("", 0), 0);
	CU_ASSERT_EQUAL(channel_name_valid("abc", 0), 0);
}

static void
TEST_channel_length_limit(void)
{
	char name[400];

	memset(name, 'x', sizeof name);
	CU_ASSERT_EQUAL(CHANNEL_NAME_MAX, 164);
	CU_ASSERT_EQUAL(channel_name_valid(name, 1), 1);
	CU_ASSERT_EQUAL(channel_name_valid(name, 163), 1);
	CU_ASSERT_EQUAL(channel_name_valid(name, 164), 1);
	CU_ASSERT_EQUAL(channel_name_valid(name, 165), 0);
	CU_ASSERT_EQUAL(channel_name_valid(name, 166), 0);
	CU_ASSERT_EQUAL(channel_name_valid(name, sizeof name), 0);
	memcpy(name, "private-", 8);
	CU_ASSERT_EQUAL(channel_name_valid(name, 164), 1);
	CU_ASSERT_EQUAL(channel_name_valid(name, 165), 0);
	/* Only n bytes count: a bad byte just past them is not looked at. */
	name[164] = ' ';
	CU_ASSERT_EQUAL(channel_name_valid(name, 164), 1);
	name[163] = ' ';
	CU_ASSERT_EQUAL(channel_name_valid(name, 164), 0);
}

static void
TEST_channel_kinds(void)
{
	CU_ASSERT_EQUAL(channel_kind("private-x"),
	    CHANNEL_PRIVATE);
	CU_ASSERT_EQUAL(channel_kind("private-"),
	    CHANNEL_PRIVATE);
	CU_ASSERT_EQUAL(channel_kind("private-encrypted-x"),
	    CHANNEL_PRIVATE);
	CU_ASSERT_EQUAL(channel_kind("presence-room"),
	    CHANNEL_PRESENCE);
	CU_ASSERT_EQUAL(channel_kind("presence-"),
	    CHANNEL_PRESENCE);
	CU_ASSERT_EQUAL(channel_kind("events"), CHANNEL_PUBLIC);
	CU_ASSERT_EQUAL(channel_kind("private"), CHANNEL_PUBLIC);
	CU_ASSERT_EQUAL(channel_kind("privatex"),
	    CHANNEL_PUBLIC);
	CU_ASSERT_EQUAL(channel_kind("Private-x"),
	    CHANNEL_PUBLIC);
	CU_ASSERT_EQUAL(channel_kind("PRIVATE-x"),
	    CHANNEL_PUBLIC);
	CU_ASSERT_EQUAL(channel_kind("presence"),
	    CHANNEL_PUBLIC);
	CU_ASSERT_EQUAL(channel_kind("x-private-y"),
	    CHANNEL_PUBLIC);
	CU_ASSERT_EQUAL(channel_kind("x-presence-y"),
	    CHANNEL_PUBLIC);
	CU_ASSERT_EQUAL(channel_kind("privat"), CHANNEL_PUBLIC);
	CU_ASSERT_EQUAL(channel_kind(""), CHANNEL_PUBLIC);
	/* Cache and encrypted channels are of the kind of their prefix. */
	CU_ASSERT_EQUAL(channel_kind("private-cache-x"), CHANNEL_PRIVATE);
	CU_ASSERT_EQUAL(channel_kind("private-encrypted-cache-x"),
	    CHANNEL_PRIVATE);
	CU_ASSERT_EQUAL(channel_kind("presence-cache-x"), CHANNEL_PRESENCE);
	CU_ASSERT_EQUAL(channel_kind("cache-x"), CHANNEL_PUBLIC);
	/* A signed-in user's own channel. */
	CU_ASSERT_EQUAL(channel_kind("#server-to-user-42"), CHANNEL_USER);
	CU_ASSERT_EQUAL(channel_kind("#server-to-user-"), CHANNEL_USER);
	CU_ASSERT_EQUAL(channel_kind("#server-to-user"), CHANNEL_PUBLIC);
	CU_ASSERT_EQUAL(channel_kind("server-to-user-42"), CHANNEL_PUBLIC);
	CU_ASSERT_EQUAL(channel_kind("#Server-to-user-42"), CHANNEL_PUBLIC);
	CU_ASSERT_EQUAL(channel_kind("x#server-to-user-42"), CHANNEL_PUBLIC);
}

static void
TEST_channel_encrypted(void)
{
	static const char *const yes[] = { "private-encrypted-x",
	    "private-encrypted-", "private-encrypted-cache-x",
	    "private-encrypted-private-encrypted-" };
	static const char *const no[] = { "private-encrypted",
	    "private-encryptedX", "private-encrypted_x", "private-x",
	    "private-", "presence-encrypted-x", "encrypted-x",
	    "Private-encrypted-x", "private-Encrypted-x", "x-private-encrypted-",
	    "private-cache-encrypted-x", "cache-x", "" };
	size_t i;

	for (i = 0; i < SLUICE_ARRAY_LEN(yes); i++)
		CU_ASSERT_EQUAL(channel_is_encrypted(yes[i]), 1);
	for (i = 0; i < SLUICE_ARRAY_LEN(no); i++)
		CU_ASSERT_EQUAL(channel_is_encrypted(no[i]), 0);
}

static void
TEST_channel_cache(void)
{
	static const char *const yes[] = { "cache-x", "cache-",
	    "private-cache-x", "private-cache-", "presence-cache-x",
	    "presence-cache-", "private-encrypted-cache-x",
	    "private-encrypted-cache-", "cache-private-x", "cache-cache-" };
	static const char *const no[] = { "cache", "cachex", "cache_x",
	    "Cache-x", "CACHE-x", "x-cache-y", "private-x", "private-cache",
	    "private-cachex", "presence-cache", "presence-x",
	    "private-encrypted-x", "private-encrypted-cache",
	    "presence-encrypted-cache-x", "#server-to-user-cache-x",
	    "events", "" };
	static const char buf[] = "private-cache-xyz";
	size_t i;

	for (i = 0; i < SLUICE_ARRAY_LEN(yes); i++)
		CU_ASSERT_EQUAL(channel_is_cache(yes[i], strlen(yes[i])), 1);
	for (i = 0; i < SLUICE_ARRAY_LEN(no); i++)
		CU_ASSERT_EQUAL(channel_is_cache(no[i], strlen(no[i])), 0);
	/* Only the n bytes given count: the name need not end there. */
	CU_ASSERT_EQUAL(channel_is_cache(buf, sizeof buf - 1), 1);
	CU_ASSERT_EQUAL(channel_is_cache(buf, 14), 1);
	CU_ASSERT_EQUAL(channel_is_cache(buf, 13), 0);
	CU_ASSERT_EQUAL(channel_is_cache(buf, 8), 0);
	CU_ASSERT_EQUAL(channel_is_cache(buf, 0), 0);
	CU_ASSERT_EQUAL(channel_is_cache(buf + 8, 6), 1);
	CU_ASSERT_EQUAL(channel_is_cache(buf + 8, 5), 0);
}

/* Returns 1 if s is digits "." digits, with nothing else. */
static int
socket_id_form(const char *s)
{
	size_t a, b;

	a = strspn(s, "0123456789");
	if (a == 0 || s[a] != '.')
		return 0;
	b = strspn(s + a + 1, "0123456789");
	return b > 0 && s[a + 1 + b] == '\0';
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Returns the number of distinct strings in n sorted ids of size each. */
static size_t
count_distinct(char *ids, size_t n, size_t size)
{
	size_t i, distinct = n > 0;

	qsort(ids, n, size, cmp_id);
	for (i = 1; i < n; i++)
		if (strcmp(ids + (i - 1) * size, ids + i * size) != 0)
			distinct++;
	return distinct;
}

#define SOCKET_IDS 100000

static void
TEST_socket_ids(void)
{
	unsigned char buf[PUSHER_SOCKET_ID_MAX + 16];
	char *ids, *firsts, *dot;
	size_t i, bad_form = 0, overrun = 0, j;

	ids = calloc(SOCKET_IDS, PUSHER_SOCKET_ID_MAX);
	firsts = calloc(SOCKET_IDS, PUSHER_SOCKET_ID_MAX);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ids);
	CU_ASSERT_PTR_NOT_NULL_FATAL(firsts);
	for (i = 0; i < SOCKET_IDS; i++) {
		memset(buf, 0xa5, sizeof buf);
		pusher_socket_id((char *)buf);
		for (j = PUSHER_SOCKET_ID_MAX; j < sizeof buf; j++)
			if (buf[j] != 0xa5)
				overrun++;
		if (memchr(buf, '\0', PUSHER_SOCKET_ID_MAX) == NULL) {
			overrun++;
			continue;
		}
		if (!socket_id_form((char *)buf)) {
			if (bad_form++ == 0)
				fprintf(stderr, "\n  bad id \"%s\"\n", buf);
		}
		memcpy(ids + i * PUSHER_SOCKET_ID_MAX, buf,
		    PUSHER_SOCKET_ID_MAX);
		memcpy(firsts + i * PUSHER_SOCKET_ID_MAX, buf,
		    PUSHER_SOCKET_ID_MAX);
		if ((dot = strchr(firsts + i * PUSHER_SOCKET_ID_MAX, '.')) !=
		    NULL)
			*dot = '\0';
	}
	CU_ASSERT_EQUAL(overrun, 0);
	CU_ASSERT_EQUAL(bad_form, 0);
	CU_ASSERT_EQUAL(count_distinct(ids, SOCKET_IDS, PUSHER_SOCKET_ID_MAX),
	    SOCKET_IDS);
	/* The part before the dot is random: 100k draws of 9 digits
	 * hardly ever repeat. */
	CU_ASSERT(count_distinct(firsts, SOCKET_IDS, PUSHER_SOCKET_ID_MAX) >
	    SOCKET_IDS * 99 / 100);
	free(firsts);
	free(ids);
}

#define ID_THREADS	4
#define ID_PER_THREAD	20000

static void *
socket_id_run(void *arg)
{
	char *out = arg;
	size_t i;

	for (i = 0; i < ID_PER_THREAD; i++)
		pusher_socket_id(out + i * PUSHER_SOCKET_ID_MAX);
	return NULL;
}

static void
TEST_socket_ids_across_threads(void)
{
	pthread_t t[ID_THREADS];
	char *ids;
	size_t i;

	ids = calloc(ID_THREADS * ID_PER_THREAD, PUSHER_SOCKET_ID_MAX);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ids);
	for (i = 0; i < ID_THREADS; i++)
		CU_ASSERT_FATAL(pthread_create(&t[i], NULL, socket_id_run,
		    ids + i * ID_PER_THREAD * PUSHER_SOCKET_ID_MAX) == 0);
	for (i = 0; i < ID_THREADS; i++)
		pthread_join(t[i], NULL);
	CU_ASSERT_EQUAL(count_distinct(ids, ID_THREADS * ID_PER_THREAD,
	    PUSHER_SOCKET_ID_MAX), ID_THREADS * ID_PER_THREAD);
	free(ids);
}

/* One line of a vectors file. */
struct auth_vector {
	const char	*kind;		/* "private", "presence" or "user" */
	char		*secret;
	char		*socket_id;
	char		*channel;	/* "" for "user" */
	char		*data;		/* channel_data or user_data; NULL
					   for "private" */
	char		*auth;
	char		 key[256];
};

/* Splits line (its newline removed) into exactly n tab-separated fields;
 * returns 0 or -1. */
static int
split_tabs(char *line, char **f, size_t n)
{
	char *p = line;
	size_t i;

	for (i = 0; i < n; i++) {
		f[i] = p;
		p = strchr(p, '\t');
		if (i + 1 < n) {
			if (p == NULL)
				return -1;
			*p++ = '\0';
		} else if (p != NULL)
			return -1;
	}
	return 0;
}

/* Splits line into v's fields: four (secret, socket_id, channel, auth) in
 * pusher-auth-vectors.txt, six (kind first, data before auth) in
 * pusher-presence-vectors.txt. Returns 0 or -1. */
static int
auth_vector_split(char *line, size_t nfields, struct auth_vector *v)
{
	char *f[6], *colon;

	if (split_tabs(line, f, nfields) == -1)
		return -1;
	if (nfields == 4) {
		v->kind = "private";
		v->secret = f[0];
		v->socket_id = f[1];
		v->channel = f[2];
		v->data = NULL;
		v->auth = f[3];
	} else {
		v->kind = f[0];
		v->secret = f[1];
		v->socket_id = f[2];
		v->channel = f[3];
		v->data = f[4];
		v->auth = f[5];
	}
	colon = strchr(v->auth, ':');
	if (colon == NULL || (size_t)(colon - v->auth) >= sizeof v->key)
		return -1;
	memcpy(v->key, v->auth, (size_t)(colon - v->auth));
	v->key[colon - v->auth] = '\0';
	return 0;
}

/* Calls fn on every vector of the file at path, whose lines have nfields
 * fields; returns how many there were. */
static size_t
vectors_each(const char *path, size_t nfields,
    void (*fn)(const struct auth_vector *))
{
	struct auth_vector v;
	char *line = NULL;
	size_t cap = 0, count = 0;
	ssize_t n;
	FILE *f;

	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while ((n = getline(&line, &cap, f)) != -1) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0)
			continue;
		CU_ASSERT_EQUAL_FATAL(auth_vector_split(line, nfields, &v), 0);
		fn(&v);
		count++;
	}
	free(line);
	fclose(f);
	return count;
}

/* Calls fn on every private-channel vector; returns how many. */
static size_t
auth_vectors_each(void (*fn)(const struct auth_vector *))
{
	return vectors_each(AUTH_VECTORS, 4, fn);
}

static void
auth_sign_one(const struct auth_vector *v)
{
	char out[512];
	size_t need = strlen(v->auth) + 1;

	memset(out, 0, sizeof out);
	CU_ASSERT_EQUAL(pusher_auth_sign(v->key, v->secret, v->socket_id,
	    v->channel, NULL, out, sizeof out), 0);
	CU_ASSERT_STRING_EQUAL(out, v->auth);
	if (strcmp(out, v->auth) != 0)
		fprintf(stderr, "\n  %s on %s\n  want %s\n  got  %s\n",
		    v->socket_id, v->channel, v->auth, out);
	/* The documented size is enough, one byte less is not. */
	CU_ASSERT_EQUAL(need, strlen(v->key) + 66);
	CU_ASSERT_EQUAL(pusher_auth_sign(v->key, v->secret, v->socket_id,
	    v->channel, NULL, out, need), 0);
	CU_ASSERT_STRING_EQUAL(out, v->auth);
	CU_ASSERT_EQUAL(pusher_auth_sign(v->key, v->secret, v->socket_id,
	    v->channel, NULL, out, need - 1), -1);
}

static void
TEST_auth_sign_vectors(void)
{
	CU_ASSERT(auth_vectors_each(auth_sign_one) >= 90);
}

/* Returns whether auth (a changed copy of a vector's) is accepted. */
static int
auth_ok(const struct auth_vector *v, const char *auth)
{
	return pusher_auth_valid(v->key, v->secret, v->socket_id, v->channel,
	    NULL, auth);
}

/* Changes the hex digit at i to another lowercase hex digit. */
static void
flip_hex(char *s, size_t i)
{
	s[i] = s[i] == '0' ? '1' : '0';
}

static void
auth_valid_one(const struct auth_vector *v)
{
	char a[600], other[600];
	size_t klen = strlen(v->key), len = strlen(v->auth), i;
	size_t pos[3];
	int letters = 0;

	CU_ASSERT_FATAL(len + 2 < sizeof a);
	CU_ASSERT_EQUAL(auth_ok(v, v->auth), 1);

	/* One hex digit changed: first, middle, last. */
	pos[0] = klen + 1;
	pos[1] = klen + 1 + 32;
	pos[2] = len - 1;
	for (i = 0; i < 3; i++) {
		memcpy(a, v->auth, len + 1);
		flip_hex(a, pos[i]);
		CU_ASSERT(strcmp(a, v->auth) != 0);
		CU_ASSERT_EQUAL(auth_ok(v, a), 0);
	}
	/* Uppercase hex. */
	memcpy(a, v->auth, len + 1);
	for (i = klen + 1; i < len; i++) {
		if (a[i] >= 'a' && a[i] <= 'f') {
			a[i] = (char)toupper((unsigned char)a[i]);
			letters = 1;
		}
	}
	if (letters)
		CU_ASSERT_EQUAL(auth_ok(v, a), 0);
	/* Wrong key: one more character, one less, one changed. */
	snprintf(a, sizeof a, "%sx%s", v->key, v->auth + klen);
	CU_ASSERT_EQUAL(auth_ok(v, a), 0);
	snprintf(a, sizeof a, "%.*s%s", (int)klen - 1, v->key,
	    v->auth + klen);
	CU_ASSERT_EQUAL(auth_ok(v, a), 0);
	memcpy(a, v->auth, len + 1);
	a[0] = a[0] == 'Q' ? 'R' : 'Q';
	CU_ASSERT_EQUAL(auth_ok(v, a), 0);
	/* The signature alone, or with only ":". */
	CU_ASSERT_EQUAL(auth_ok(v, v->auth + klen + 1), 0);
	CU_ASSERT_EQUAL(auth_ok(v, v->auth + klen), 0);
	/* Separator other than ':'. */
	memcpy(a, v->auth, len + 1);
	a[klen] = ';';
	CU_ASSERT_EQUAL(auth_ok(v, a), 0);
	/* Truncated, by one and to the key alone; extra characters. */
	memcpy(a, v->auth, len + 1);
	a[len - 1] = '\0';
	CU_ASSERT_EQUAL(auth_ok(v, a), 0);
	a[klen + 1] = '\0';
	CU_ASSERT_EQUAL(auth_ok(v, a), 0);
	a[klen] = '\0';
	CU_ASSERT_EQUAL(auth_ok(v, a), 0);
	snprintf(a, sizeof a, "%s0", v->auth);
	CU_ASSERT_EQUAL(auth_ok(v, a), 0);
	snprintf(a, sizeof a, "%s ", v->auth);
	CU_ASSERT_EQUAL(auth_ok(v, a), 0);
	snprintf(a, sizeof a, " %s", v->auth);
	CU_ASSERT_EQUAL(auth_ok(v, a), 0);
	CU_ASSERT_EQUAL(auth_ok(v, ""), 0);
	CU_ASSERT_EQUAL(auth_ok(v, NULL), 0);
	/* Right signature, other socket id or other channel. */
	snprintf(other, sizeof other, "%s1", v->socket_id);
	CU_ASSERT_EQUAL(pusher_auth_valid(v->key, v->secret, other,
	    v->channel, NULL, v->auth), 0);
	snprintf(other, sizeof other, "%sx", v->channel);
	CU_ASSERT_EQUAL(pusher_auth_valid(v->key, v->secret, v->socket_id,
	    other, NULL, v->auth), 0);
	/* Other secret. */
	snprintf(other, sizeof other, "%s.", v->secret);
	CU_ASSERT_EQUAL(pusher_auth_valid(v->key, other, v->socket_id,
	    v->channel, NULL, v->auth), 0);
}

static void
TEST_auth_valid_vectors(void)
{
	CU_ASSERT(auth_vectors_each(auth_valid_one) >= 90);
}

static void
TEST_auth_sign_small_buffer(void)
{
	char out[80];

	memset(out, 'z', sizeof out);
	CU_ASSERT_EQUAL(pusher_auth_sign("k", "s", "1.1", "private-a", NULL,
	    out, 10), -1);
	/* Nothing written past the size given. */
	CU_ASSERT_EQUAL(out[10], 'z');
	CU_ASSERT_EQUAL(pusher_auth_sign("k", "s", "1.1", "private-a", NULL,
	    out, sizeof out), 0);
	CU_ASSERT_EQUAL(strlen(out), 66);
	CU_ASSERT_EQUAL(strncmp(out, "k:", 2), 0);
	CU_ASSERT_EQUAL(strspn(out + 2, "0123456789abcdef"), 64);
}

/* Where the first character of the user's id is in data (channel_data's
 * "user_id" or user_data's "id"), past an opening quote. */
static size_t
id_position(const char *data, const char *member)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof pat, "\"%s\":", member);
	p = strstr(data, pat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p += strlen(pat);
	if (*p == '"')
		p++;
	return (size_t)(p - data);
}

/* The copy of data (at most size - 1 bytes) with the byte at i changed to
 * another byte that is neither NUL nor the same; a copy's bytes. */
static void
change_byte(char *out, size_t size, const char *data, size_t i)
{
	size_t len = strlen(data);

	CU_ASSERT_FATAL(len < size && i < len);
	memcpy(out, data, len + 1);
	out[i] = (char)(out[i] ^ 0x01);
	if (out[i] == '\0')
		out[i] = 'x';
	CU_ASSERT_FATAL(strcmp(out, data) != 0);
}

/* Checks that forged forms of the good auth are refused: a digit changed
 * at each of three places, the key dropped (the signature alone, or with
 * ':' before it) or another, empty, NULL. valid(a, v) says whether a is
 * taken. */
static void
forged_auths(const char *auth, const char *key, int (*valid)(const char *,
    const struct auth_vector *), const struct auth_vector *v)
{
	char a[600];
	size_t klen = strlen(key), len = strlen(auth), pos[3], i;

	CU_ASSERT_FATAL(len < sizeof a);
	pos[0] = klen + 1;
	pos[1] = klen + 1 + 32;
	pos[2] = len - 1;
	for (i = 0; i < 3; i++) {
		memcpy(a, auth, len + 1);
		flip_hex(a, pos[i]);
		CU_ASSERT_EQUAL(valid(a, v), 0);
	}
	CU_ASSERT_EQUAL(valid(auth + klen + 1, v), 0);
	CU_ASSERT_EQUAL(valid(auth + klen, v), 0);
	snprintf(a, sizeof a, "other%s", auth + klen);
	CU_ASSERT_EQUAL(valid(a, v), 0);
	CU_ASSERT_EQUAL(valid("", v), 0);
	CU_ASSERT_EQUAL(valid(NULL, v), 0);
}

static int
presence_ok(const char *auth, const struct auth_vector *v)
{
	return pusher_auth_valid(v->key, v->secret, v->socket_id, v->channel,
	    v->data, auth);
}

static size_t presence_vectors, user_vectors;

static void
presence_one(const struct auth_vector *v)
{
	char out[600], *other;
	size_t len, size, need = strlen(v->auth) + 1;

	if (strcmp(v->kind, "presence") != 0)
		return;
	presence_vectors++;
	len = strlen(v->data);
	size = len + 600;
	other = malloc(size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);

	/* Signed as the SDK signs it, in a buffer of just the size. */
	memset(out, 0, sizeof out);
	CU_ASSERT_EQUAL(pusher_auth_sign(v->key, v->secret, v->socket_id,
	    v->channel, v->data, out, sizeof out), 0);
	CU_ASSERT_STRING_EQUAL(out, v->auth);
	if (strcmp(out, v->auth) != 0)
		fprintf(stderr, "\n  %s on %s with %.80s\n  want %s\n  got  %s\n",
		    v->socket_id, v->channel, v->data, v->auth, out);
	CU_ASSERT_EQUAL(pusher_auth_sign(v->key, v->secret, v->socket_id,
	    v->channel, v->data, out, need), 0);
	CU_ASSERT_EQUAL(pusher_auth_sign(v->key, v->secret, v->socket_id,
	    v->channel, v->data, out, need - 1), -1);
	CU_ASSERT_EQUAL(presence_ok(v->auth, v), 1);

	forged_auths(v->auth, v->key, presence_ok, v);
	/* Right signature, other socket id, channel or secret. */
	snprintf(other, size, "%s1", v->socket_id);
	CU_ASSERT_EQUAL(pusher_auth_valid(v->key, v->secret, other,
	    v->channel, v->data, v->auth), 0);
	snprintf(other, size, "%sx", v->channel);
	CU_ASSERT_EQUAL(pusher_auth_valid(v->key, v->secret, v->socket_id,
	    other, v->data, v->auth), 0);
	snprintf(other, size, "%s.", v->secret);
	CU_ASSERT_EQUAL(pusher_auth_valid(v->key, other, v->socket_id,
	    v->channel, v->data, v->auth), 0);
	/* channel_data changed by one byte: in the user_id, first, last;
	 * with a space after it; empty; none (as for a private channel). */
	change_byte(other, size, v->data, id_position(v->data, "user_id"));
	CU_ASSERT_EQUAL(pusher_auth_valid(v->key, v->secret, v->socket_id,
	    v->channel, other, v->auth), 0);
	change_byte(other, size, v->data, 0);
	CU_ASSERT_EQUAL(pusher_auth_valid(v->key, v->secret, v->socket_id,
	    v->channel, other, v->auth), 0);
	change_byte(other, size, v->data, len - 1);
	CU_ASSERT_EQUAL(pusher_auth_valid(v->key, v->secret, v->socket_id,
	    v->channel, other, v->auth), 0);
	snprintf(other, size, "%s ", v->data);
	CU_ASSERT_EQUAL(pusher_auth_valid(v->key, v->secret, v->socket_id,
	    v->channel, other, v->auth), 0);
	CU_ASSERT_EQUAL(pusher_auth_valid(v->key, v->secret, v->socket_id,
	    v->channel, "", v->auth), 0);
	CU_ASSERT_EQUAL(pusher_auth_valid(v->key, v->secret, v->socket_id,
	    v->channel, NULL, v->auth), 0);
	/* A private channel's auth for the same socket and channel does not
	 * let one in with channel_data. */
	CU_ASSERT_EQUAL(pusher_auth_sign(v->key, v->secret, v->socket_id,
	    v->channel, NULL, out, sizeof out), 0);
	CU_ASSERT(strcmp(out, v->auth) != 0);
	CU_ASSERT_EQUAL(presence_ok(out, v), 0);
	free(other);
}

static void
TEST_presence_auth_vectors(void)
{
	presence_vectors = 0;
	CU_ASSERT(vectors_each(PRESENCE_VECTORS, 6, presence_one) >= 80);
	CU_ASSERT(presence_vectors >= 45);
}

static int
user_ok(const char *auth, const struct auth_vector *v)
{
	return pusher_user_auth_valid(v->key, v->secret, v->socket_id,
	    v->data, auth);
}

static void
user_one(const struct auth_vector *v)
{
	char *other;
	size_t len, size;

	if (strcmp(v->kind, "user") != 0)
		return;
	user_vectors++;
	CU_ASSERT_STRING_EQUAL(v->channel, "");
	len = strlen(v->data);
	size = len + 600;
	other = malloc(size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);

	CU_ASSERT_EQUAL(user_ok(v->auth, v), 1);
	if (!user_ok(v->auth, v))
		fprintf(stderr, "\n  %s with %.80s: %s refused\n",
		    v->socket_id, v->data, v->auth);
	forged_auths(v->auth, v->key, user_ok, v);
	snprintf(other, size, "%s1", v->socket_id);
	CU_ASSERT_EQUAL(pusher_user_auth_valid(v->key, v->secret, other,
	    v->data, v->auth), 0);
	snprintf(other, size, "%s.", v->secret);
	CU_ASSERT_EQUAL(pusher_user_auth_valid(v->key, other, v->socket_id,
	    v->data, v->auth), 0);
	/* user_data changed by one byte: in the id, first, last; with a
	 * space after it; empty. */
	change_byte(other, size, v->data, id_position(v->data, "id"));
	CU_ASSERT_EQUAL(pusher_user_auth_valid(v->key, v->secret,
	    v->socket_id, other, v->auth), 0);
	change_byte(other, size, v->data, 0);
	CU_ASSERT_EQUAL(pusher_user_auth_valid(v->key, v->secret,
	    v->socket_id, other, v->auth), 0);
	change_byte(other, size, v->data, len - 1);
	CU_ASSERT_EQUAL(pusher_user_auth_valid(v->key, v->secret,
	    v->socket_id, other, v->auth), 0);
	snprintf(other, size, "%s ", v->data);
	CU_ASSERT_EQUAL(pusher_user_auth_valid(v->key, v->secret,
	    v->socket_id, other, v->auth), 0);
	CU_ASSERT_EQUAL(pusher_user_auth_valid(v->key, v->secret,
	    v->socket_id, "", v->auth), 0);
	/* A sign-in's auth is no channel's: not even a presence channel
	 * given the same user_data. */
	CU_ASSERT_EQUAL(pusher_auth_valid(v->key, v->secret, v->socket_id,
	    "presence-user", v->data, v->auth), 0);
	free(other);
}

static void
TEST_user_auth_vectors(void)
{
	user_vectors = 0;
	CU_ASSERT(vectors_each(PRESENCE_VECTORS, 6, user_one) >= 80);
	CU_ASSERT(user_vectors >= 30);
}

static void
TEST_close_reasons(void)
{
	static const int codes[] = { PUSHER_UNKNOWN_APP, PUSHER_OVER_QUOTA,
	    PUSHER_WRONG_PATH, PUSHER_BAD_PROTOCOL,
	    PUSHER_UNSUPPORTED_PROTOCOL, PUSHER_OVER_CAPACITY,
	    PUSHER_SHUTTING_DOWN, PUSHER_PONG_TIMEOUT, PUSHER_RATE_LIMITED,
	    0, -1, 1000, 1001, 4000, 4099, 4199, 4299, 4999, 65535 };
	const char *r;
	size_t i;

	/* The codes the contract names. */
	CU_ASSERT_EQUAL(PUSHER_UNKNOWN_APP, 4001);
	CU_ASSERT_EQUAL(PUSHER_OVER_QUOTA, 4004);
	CU_ASSERT_EQUAL(PUSHER_WRONG_PATH, 4005);
	CU_ASSERT_EQUAL(PUSHER_BAD_PROTOCOL, 4006);
	CU_ASSERT_EQUAL(PUSHER_UNSUPPORTED_PROTOCOL, 4007);
	CU_ASSERT_EQUAL(PUSHER_OVER_CAPACITY, 4100);
	CU_ASSERT_EQUAL(PUSHER_SHUTTING_DOWN, 4200);
	CU_ASSERT_EQUAL(PUSHER_PONG_TIMEOUT, 4201);
	CU_ASSERT_EQUAL(PUSHER_RATE_LIMITED, 4301);
	for (i = 0; i < SLUICE_ARRAY_LEN(codes); i++) {
		r = pusher_close_reason(codes[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT(strlen(r) > 0);
		/* A close frame's payload is at most 125 bytes, 2 of them
		 * the code. */
		CU_ASSERT(strlen(r) <= 123);
	}
}

/* Parses the literal text; returns pusher_msg_parse's result. */
static int
parse(const char *text, size_t len, struct pusher_msg *m, char *err,
    size_t errlen)
{
	memset(err, 0, errlen);
	return pusher_msg_parse(text, len, m, err, errlen);
}
#define PARSE(lit, m, err) parse((lit), sizeof(lit) - 1, (m), (err), \
    sizeof(err))

static void
TEST_msg_object_data(void)
{
	struct pusher_msg m;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(PARSE("{\"event\":\"pusher:subscribe\","
	    "\"data\":{\"channel\":\"private-a\",\"auth\":\"k:00\"}}", &m,
	    err), 0);
	CU_ASSERT_STRING_EQUAL(m.event, "pusher:subscribe");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m.data);
	CU_ASSERT(json_object_is_type(m.data, json_type_object));
	CU_ASSERT_STRING_EQUAL(member_str(m.data, "channel"), "private-a");
	CU_ASSERT_STRING_EQUAL(member_str(m.data, "auth"), "k:00");
	CU_ASSERT_PTR_NULL(m.data_parsed);
	pusher_msg_free(&m);
	CU_ASSERT_PTR_NULL(m.root);
	CU_ASSERT_PTR_NULL(m.data);

	/* Members in another order, empty data object. */
	CU_ASSERT_EQUAL_FATAL(PARSE("{\"data\":{},\"event\":\"x\"}", &m,
	    err), 0);
	CU_ASSERT_STRING_EQUAL(m.event, "x");
	CU_ASSERT_PTR_NOT_NULL(m.data);
	CU_ASSERT_EQUAL(json_object_object_length(m.data), 0);
	pusher_msg_free(&m);
}

static void
TEST_msg_string_data(void)
{
	struct pusher_msg m;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(PARSE("{\"event\":\"sluice:publish\","
	    "\"data\":\"{\\\"ref\\\":\\\"r1\\\",\\\"events\\\":[]}\"}", &m,
	    err), 0);
	CU_ASSERT_STRING_EQUAL(m.event, "sluice:publish");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m.data);
	CU_ASSERT_PTR_EQUAL(m.data, m.data_parsed);
	CU_ASSERT(json_object_is_type(m.data, json_type_object));
	CU_ASSERT_STRING_EQUAL(member_str(m.data, "ref"), "r1");
	pusher_msg_free(&m);
	CU_ASSERT_PTR_NULL(m.data_parsed);

	CU_ASSERT_EQUAL_FATAL(PARSE("{\"event\":\"e\",\"data\":\"{}\"}", &m,
	    err), 0);
	CU_ASSERT_PTR_NOT_NULL(m.data);
	pusher_msg_free(&m);
}

static void
TEST_msg_without_data(void)
{
	struct pusher_msg m;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(PARSE("{\"event\":\"pusher:ping\"}", &m, err),
	    0);
	CU_ASSERT_STRING_EQUAL(m.event, "pusher:ping");
	CU_ASSERT_PTR_NULL(m.data);
	CU_ASSERT_PTR_NULL(m.data_parsed);
	pusher_msg_free(&m);

	CU_ASSERT_EQUAL_FATAL(PARSE("{\"event\":\"pusher:ping\","
	    "\"data\":null}", &m, err), 0);
	CU_ASSERT_STRING_EQUAL(m.event, "pusher:ping");
	CU_ASSERT_PTR_NULL(m.data);
	pusher_msg_free(&m);
}

static void
TEST_msg_whitespace_and_length(void)
{
	static const char text[] = "{\"event\":\"a\"}{\"event\":\"b\"}";
	struct pusher_msg m;
	char err[256];

	/* JSON text may have whitespace around the value. */
	CU_ASSERT_EQUAL(PARSE(" \t\r\n{ \"event\" : \"e\" , \"data\" : { } }",
	    &m, err), 0);
	pusher_msg_free(&m);
	CU_ASSERT_EQUAL(PARSE("{\"event\":\"e\"}\n", &m, err), 0);
	if (err[0] != '\0')
		fprintf(stderr, "\n  trailing newline: %s\n", err);
	pusher_msg_free(&m);
	/* Only len bytes are read. */
	CU_ASSERT_EQUAL(parse(text, 13, &m, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(m.event, "a");
	pusher_msg_free(&m);
	CU_ASSERT_EQUAL(parse(text, sizeof text - 1, &m, err, sizeof err),
	    -1);
	pusher_msg_free(&m);
}

/* Asserts that text is refused with a message; failures are reported at
 * the caller's line. */
static void
refused_at(const char *text, size_t len, unsigned line)
{
	struct pusher_msg m;
	char err[256];
	int rc;

	memset(err, 0, sizeof err);
	rc = pusher_msg_parse(text, len, &m, err, sizeof err);
	if (rc != -1)
		fprintf(stderr, "\n  line %u: accepted %.*s\n", line,
		    (int)(len < 200 ? len : 200), text);
	CU_assertImplementation(rc == -1 && err[0] != '\0', line,
	    "refused with a message", __FILE__, "", CU_FALSE);
	pusher_msg_free(&m);
	CU_ASSERT_PTR_NULL(m.root);
	CU_ASSERT_PTR_NULL(m.data_parsed);
}
#define refused(text, len) refused_at((text), (len), __LINE__)
#define REFUSED(lit) refused_at((lit), sizeof(lit) - 1, __LINE__)

static void
TEST_msg_errors(void)
{
	REFUSED("");
	REFUSED(" ");
	REFUSED("hello");
	REFUSED("{");
	REFUSED("{\"event\":\"e\"");
	/* Trailing garbage. */
	REFUSED("{\"event\":\"e\"}x");
	REFUSED("{\"event\":\"e\"} {}");
	REFUSED("{\"event\":\"e\"}}");
	/* A NUL inside. */
	REFUSED("{\"event\":\"e\"}\0");
	/* Not an object. */
	REFUSED("[{\"event\":\"e\"}]");
	REFUSED("\"event\"");
	REFUSED("42");
	REFUSED("null");
	REFUSED("true");
	/* event missing or not a string. */
	REFUSED("{}");
	REFUSED("{\"data\":{}}");
	REFUSED("{\"Event\":\"e\"}");
	REFUSED("{\"event\":1}");
	REFUSED("{\"event\":null}");
	REFUSED("{\"event\":{}}");
	REFUSED("{\"event\":[\"e\"]}");
	REFUSED("{\"event\":true}");
	/* data neither an object nor a string of one. */
	REFUSED("{\"event\":\"e\",\"data\":1}");
	REFUSED("{\"event\":\"e\",\"data\":1.5}");
	REFUSED("{\"event\":\"e\",\"data\":true}");
	REFUSED("{\"event\":\"e\",\"data\":[]}");
	REFUSED("{\"event\":\"e\",\"data\":[{}]}");
	REFUSED("{\"event\":\"e\",\"data\":\"1\"}");
	REFUSED("{\"event\":\"e\",\"data\":\"\"}");
	REFUSED("{\"event\":\"e\",\"data\":\"null\"}");
	REFUSED("{\"event\":\"e\",\"data\":\"[]\"}");
	REFUSED("{\"event\":\"e\",\"data\":\"\\\"{}\\\"\"}");
	REFUSED("{\"event\":\"e\",\"data\":\"hello\"}");
	REFUSED("{\"event\":\"e\",\"data\":\"{\"}");
}

static void
TEST_msg_strict_json(void)
{
	/* What a lenient parser lets through is not JSON either (the HTTP
	 * API refuses the same). */
	REFUSED("{\"event\":\"e\",}");
	REFUSED("{'event':'e'}");
	REFUSED("{\"event\":'e'}");
	REFUSED("{\"event\":\"e\",\"data\":{\"a\":[1,],}}");
	REFUSED("{\"event\":\"e\",\"data\":{\"a\":NaN}}");
	REFUSED("{\"event\":\"e\",\"data\":{\"a\":-Infinity}}");
	REFUSED("{\"event\":\"e\",\"data\":{\"a\":01}}");
	/* Not UTF-8. */
	REFUSED("{\"event\":\"e\xff\"}");
	REFUSED("{\"event\":\"e\",\"data\":{\"a\":\"\xc3\"}}");
}

static void
TEST_msg_string_data_trailing_garbage(void)
{
	/* A string of JSON holding an object, and then something else, does
	 * not hold (only) an object. */
	REFUSED("{\"event\":\"e\",\"data\":\"{} x\"}");
	REFUSED("{\"event\":\"e\",\"data\":\"{}{}\"}");
	REFUSED("{\"event\":\"e\",\"data\":\"{\\\"a\\\":1}]\"}");
}

static void
TEST_msg_error_text_bounded(void)
{
	struct pusher_msg m;
	char err[12];

	memset(err, 'z', sizeof err);
	CU_ASSERT_EQUAL(pusher_msg_parse("nope", 4, &m, err, 8), -1);
	CU_ASSERT(memchr(err, '\0', 8) != NULL);
	CU_ASSERT_EQUAL(err[8], 'z');
	pusher_msg_free(&m);
}

/* {"event":"e","data": then depth-1 nested objects (or strings of them
 * when in_string): depth levels in all. */
static char *
nested(size_t depth, int in_string)
{
	const char *open = in_string ? "{\\\"a\\\":" : "{\"a\":";
	size_t i, olen = strlen(open), len;
	char *s, *p;

	len = 32 + depth * (olen + 1);
	s = malloc(len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	p = s;
	p += sprintf(p, "{\"event\":\"e\",\"data\":%s", in_string ? "\"" :
	    "");
	for (i = 1; i + 1 < depth; i++) {
		memcpy(p, open, olen);
		p += olen;
	}
	*p++ = '{';
	for (i = 1; i + 1 < depth; i++)
		*p++ = '}';
	*p++ = '}';
	if (in_string)
		*p++ = '"';
	*p++ = '}';
	*p = '\0';
	return s;
}

static void
TEST_msg_nesting(void)
{
	static const size_t deep[] = { 34, 40, 100, 100000 };
	struct pusher_msg m;
	char err[256], *s;
	size_t i, d;
	int in_string;

	for (in_string = 0; in_string <= 1; in_string++) {
		/* Reasonable depths parse; the data is found. */
		for (d = 2; d <= 16; d++) {
			s = nested(d, in_string);
			CU_ASSERT_EQUAL(parse(s, strlen(s), &m, err,
			    sizeof err), 0);
			CU_ASSERT_PTR_NOT_NULL(m.data);
			pusher_msg_free(&m);
			free(s);
		}
		/* Data over the limit (32 levels), refused without a
		 * crash. */
		for (i = 0; i < SLUICE_ARRAY_LEN(deep); i++) {
			s = nested(deep[i], in_string);
			refused(s, strlen(s));
			free(s);
		}
	}
}

static void
TEST_put_message_object(void)
{
	struct jsontext b = { 0 };
	struct json_object *v, *d;

	pusher_put_message(&b, "pusher:pong", 11, NULL, 0, "{}", 2, 0);
	CU_ASSERT(TEXT_IS(&b, "{\"event\":\"pusher:pong\",\"data\":{}}"));
	v = json_whole(b.p, b.len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT(json_object_object_get_ex(v, "data", &d) &&
	    json_object_is_type(d, json_type_object));
	CU_ASSERT_FALSE(json_object_object_get_ex(v, "channel", NULL));
	json_object_put(v);
	free(b.p);

	/* Only the lengths given are written. */
	memset(&b, 0, sizeof b);
	pusher_put_message(&b, "pusher:pongXX", 11, "chanYY", 4, "{}ZZ", 2,
	    0);
	CU_ASSERT(TEXT_IS(&b,
	    "{\"event\":\"pusher:pong\",\"channel\":\"chan\",\"data\":{}}"));
	free(b.p);
}

static void
TEST_put_message_string(void)
{
	static const char est[] =
	    "{\"socket_id\":\"123.456\",\"activity_timeout\":120}";
	struct jsontext b = { 0 };
	struct json_object *v;

	/* The greeting, as the contract shows it. */
	pusher_put_message(&b, "pusher:connection_established", 29, NULL, 0,
	    est, sizeof est - 1, 1);
	CU_ASSERT(TEXT_IS(&b, "{\"event\":\"pusher:connection_established\","
	    "\"data\":\"{\\\"socket_id\\\":\\\"123.456\\\","
	    "\\\"activity_timeout\\\":120}\"}"));
	v = json_whole(b.p, b.len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_STRING_EQUAL(member_str(v, "data"), est);
	json_object_put(v);
	free(b.p);

	memset(&b, 0, sizeof b);
	pusher_put_message(&b, "pusher_internal:subscription_succeeded", 38,
	    "C", 1, "{}", 2, 1);
	CU_ASSERT(TEXT_IS(&b, "{\"event\":"
	    "\"pusher_internal:subscription_succeeded\",\"channel\":\"C\","
	    "\"data\":\"{}\"}"));
	free(b.p);
}

static void
TEST_put_message_hard_envelope(void)
{
	/* JSON with escapes in it, raw control characters, DEL, a NUL and
	 * UTF-8 of 2, 3 and 4 bytes. */
	static const char env[] =
	    "{\"s\":\"q\\\"b\\\\s\\/n\\n\\u0001\","
	    "\"raw\":\"\t\x01\x1f\x7f\r\b\f\"," "\"z\":\"a\0b\","
	    "\"u\":\"caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80\"}";
	static const char want[] =
	    "{\"event\":\"ev \\\"q\\\" \\\\\",\"channel\":\"ch\","
	    "\"data\":\"{\\\"s\\\":\\\"q\\\\\\\"b\\\\\\\\s\\\\/n\\\\n"
	    "\\\\u0001\\\",\\\"raw\\\":\\\"\\t\\u0001\\u001f\x7f\\r\\b\\f\\\","
	    "\\\"z\\\":\\\"a\\u0000b\\\","
	    "\\\"u\\\":\\\"caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80\\\"}\"}";
	struct jsontext b = { 0 };
	struct json_object *v, *d;

	pusher_put_message(&b, "ev \"q\" \\", 8, "ch", 2, env,
	    sizeof env - 1, 1);
	CU_ASSERT(TEXT_IS(&b, want));
	v = json_whole(b.p, b.len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_STRING_EQUAL(member_str(v, "event"), "ev \"q\" \\");
	CU_ASSERT_STRING_EQUAL(member_str(v, "channel"), "ch");
	CU_ASSERT_FATAL(json_object_object_get_ex(v, "data", &d) &&
	    json_object_is_type(d, json_type_string));
	CU_ASSERT_EQUAL(json_object_get_string_len(d), sizeof env - 1);
	CU_ASSERT(memcmp(json_object_get_string(d), env, sizeof env - 1) ==
	    0);
	json_object_put(v);
	free(b.p);
}

static void
TEST_put_message_bad_utf8(void)
{
	struct jsontext b = { 0 };
	struct json_object *v;

	/* Bytes that are not UTF-8 become U+FFFD: the text stays valid. */
	pusher_put_message(&b, "e", 1, "c", 1, "x\xffy\xc3", 4, 1);
	CU_ASSERT(TEXT_IS(&b, "{\"event\":\"e\",\"channel\":\"c\","
	    "\"data\":\"x\xef\xbf\xbdy\xef\xbf\xbd\"}"));
	v = json_whole(b.p, b.len);
	CU_ASSERT_PTR_NOT_NULL(v);
	json_object_put(v);
	free(b.p);
}

static void
TEST_put_error(void)
{
	struct jsontext b = { 0 };
	struct json_object *v, *d, *code;

	pusher_put_error(&b, PUSHER_UNKNOWN_APP, "unknown app key");
	CU_ASSERT(TEXT_IS(&b, "{\"event\":\"pusher:error\",\"data\":"
	    "{\"code\":4001,\"message\":\"unknown app key\"}}"));
	v = json_whole(b.p, b.len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_FATAL(json_object_object_get_ex(v, "data", &d) &&
	    json_object_is_type(d, json_type_object));
	CU_ASSERT(json_object_object_get_ex(d, "code", &code) &&
	    json_object_get_int(code) == 4001);
	json_object_put(v);
	free(b.p);

	memset(&b, 0, sizeof b);
	pusher_put_error(&b, 0, "bad \"json\"\n\\ \xc3\xa9");
	CU_ASSERT(TEXT_IS(&b, "{\"event\":\"pusher:error\",\"data\":"
	    "{\"code\":null,\"message\":"
	    "\"bad \\\"json\\\"\\n\\\\ \xc3\xa9\"}}"));
	v = json_whole(b.p, b.len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_FATAL(json_object_object_get_ex(v, "data", &d));
	CU_ASSERT(json_object_object_get_ex(d, "code", &code) &&
	    code == NULL);
	CU_ASSERT_STRING_EQUAL(member_str(d, "message"),
	    "bad \"json\"\n\\ \xc3\xa9");
	json_object_put(v);
	free(b.p);

	memset(&b, 0, sizeof b);
	pusher_put_error(&b, PUSHER_RATE_LIMITED, "");
	CU_ASSERT(TEXT_IS(&b, "{\"event\":\"pusher:error\",\"data\":"
	    "{\"code\":4301,\"message\":\"\"}}"));
	free(b.p);
}

static void
TEST_put_subscription_error(void)
{
	struct jsontext b = { 0 };
	struct json_object *v, *d, *st;

	pusher_put_subscription_error(&b, "private-x", "AuthError",
	    "bad \"auth\"", 401);
	CU_ASSERT(TEXT_IS(&b, "{\"event\":\"pusher:subscription_error\","
	    "\"channel\":\"private-x\",\"data\":{\"type\":\"AuthError\","
	    "\"error\":\"bad \\\"auth\\\"\",\"status\":401}}"));
	v = json_whole(b.p, b.len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_STRING_EQUAL(member_str(v, "channel"), "private-x");
	CU_ASSERT_FATAL(json_object_object_get_ex(v, "data", &d) &&
	    json_object_is_type(d, json_type_object));
	CU_ASSERT_STRING_EQUAL(member_str(d, "type"), "AuthError");
	CU_ASSERT_STRING_EQUAL(member_str(d, "error"), "bad \"auth\"");
	CU_ASSERT(json_object_object_get_ex(d, "status", &st) &&
	    json_object_get_int(st) == 401);
	json_object_put(v);
	free(b.p);

	/* A client's invalid channel name is echoed escaped. */
	memset(&b, 0, sizeof b);
	pusher_put_subscription_error(&b, "a\"b\x01\xff", "InvalidChannel",
	    "invalid channel name", 400);
	CU_ASSERT(TEXT_IS(&b, "{\"event\":\"pusher:subscription_error\","
	    "\"channel\":\"a\\\"b\\u0001\xef\xbf\xbd\",\"data\":"
	    "{\"type\":\"InvalidChannel\",\"error\":\"invalid channel name\","
	    "\"status\":400}}"));
	v = json_whole(b.p, b.len);
	CU_ASSERT_PTR_NOT_NULL(v);
	json_object_put(v);
	free(b.p);
}

void
test_pusher_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_channel_every_allowed_char",
		    TEST_channel_every_allowed_char },
		{ "TEST_channel_every_other_byte",
		    TEST_channel_every_other_byte },
		{ "TEST_channel_named_bad_classes",
		    TEST_channel_named_bad_classes },
		{ "TEST_channel_length_limit", TEST_channel_length_limit },
		{ "TEST_channel_kinds", TEST_channel_kinds },
		{ "TEST_channel_encrypted", TEST_channel_encrypted },
		{ "TEST_channel_cache", TEST_channel_cache },
		{ "TEST_socket_ids", TEST_socket_ids },
		{ "TEST_socket_ids_across_threads",
		    TEST_socket_ids_across_threads },
		{ "TEST_auth_sign_vectors", TEST_auth_sign_vectors },
		{ "TEST_auth_valid_vectors", TEST_auth_valid_vectors },
		{ "TEST_auth_sign_small_buffer", TEST_auth_sign_small_buffer },
		{ "TEST_presence_auth_vectors", TEST_presence_auth_vectors },
		{ "TEST_user_auth_vectors", TEST_user_auth_vectors },
		{ "TEST_close_reasons", TEST_close_reasons },
		{ "TEST_msg_object_data", TEST_msg_object_data },
		{ "TEST_msg_string_data", TEST_msg_string_data },
		{ "TEST_msg_without_data", TEST_msg_without_data },
		{ "TEST_msg_whitespace_and_length",
		    TEST_msg_whitespace_and_length },
		{ "TEST_msg_errors", TEST_msg_errors },
		{ "TEST_msg_strict_json", TEST_msg_strict_json },
		{ "TEST_msg_string_data_trailing_garbage",
		    TEST_msg_string_data_trailing_garbage },
		{ "TEST_msg_error_text_bounded", TEST_msg_error_text_bounded },
		{ "TEST_msg_nesting", TEST_msg_nesting },
		{ "TEST_put_message_object", TEST_put_message_object },
		{ "TEST_put_message_string", TEST_put_message_string },
		{ "TEST_put_message_hard_envelope",
		    TEST_put_message_hard_envelope },
		{ "TEST_put_message_bad_utf8", TEST_put_message_bad_utf8 },
		{ "TEST_put_error", TEST_put_error },
		{ "TEST_put_subscription_error", TEST_put_subscription_error },
		{ NULL, NULL }
	};

	unit_add_suite("pusher", tests);
}
