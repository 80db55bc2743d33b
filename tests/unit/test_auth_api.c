/*
 * test_auth_api.c: the HTTP API's request signature (core/auth.c,
 * auth_api_check) against requests signed by the pusher npm SDK
 * (tests/unit/data/pusher-api-vectors.txt): each valid as signed, in any
 * order of its query, and refused for the right reason with each field
 * wrong, a stale timestamp and a body that is not the one signed.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "core/auth.h"

#ifndef TEST_SRCDIR
#define TEST_SRCDIR "."
#endif

#define API_VECTORS TEST_SRCDIR "/tests/unit/data/pusher-api-vectors.txt"
#define API_MAX_PARAMS 16

/* One line: secret, key, method, path, body, query. */
struct api_vector {
	char			*secret;
	char			*key;
	char			*method;
	char			*path;
	char			*body;
	char			*query;
	struct auth_param	 params[API_MAX_PARAMS];
	size_t			 n;
	long long		 now;		/* its auth_timestamp */
};

/* Splits the query of v (in place) into its params. Returns 0 or -1. */
static int
api_vector_params(struct api_vector *v)
{
	char *p = v->query, *amp, *eq;

	v->n = 0;
	while (p != NULL && *p != '\0') {
		if (v->n == API_MAX_PARAMS)
			return -1;
		amp = strchr(p, '&');
		if (amp != NULL)
			*amp = '\0';
		if ((eq = strchr(p, '=')) == NULL)
			return -1;
		*eq = '\0';
		v->params[v->n].key = p;
		v->params[v->n].value = eq + 1;
		if (strcmp(p, "auth_timestamp") == 0)
			v->now = atoll(eq + 1);
		v->n++;
		p = amp != NULL ? amp + 1 : NULL;
	}
	return 0;
}

/* The check of v as it stands, at now. */
static enum auth_api_result
api_check(const struct api_vector *v, const struct auth_param *params,
    long long now)
{
	char err[200];

	return auth_api_check(v->key, v->secret, v->method, v->path, params,
	    v->n, v->body, strlen(v->body), now, err, sizeof err);
}

/* The index of param key in v. */
static size_t
api_param(const struct api_vector *v, const char *key)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (strcmp(v->params[i].key, key) == 0)
			return i;
	CU_FAIL_FATAL("a param the SDK always sends is missing");
	return 0;
}

/* Every check on one vector. */
static void
api_vector_check(struct api_vector *v)
{
	struct auth_param p[API_MAX_PARAMS + 1];
	struct api_vector w;
	char sig[65], *body;
	size_t i, k;

	CU_ASSERT_EQUAL(api_check(v, v->params, v->now), AUTH_API_OK);
	/* Within 600 s either way, not past. */
	CU_ASSERT_EQUAL(api_check(v, v->params, v->now + 600), AUTH_API_OK);
	CU_ASSERT_EQUAL(api_check(v, v->params, v->now - 600), AUTH_API_OK);
	CU_ASSERT_EQUAL(api_check(v, v->params, v->now + 601),
	    AUTH_API_STALE);
	CU_ASSERT_EQUAL(api_check(v, v->params, v->now - 601),
	    AUTH_API_STALE);
	/* The query in reverse order: the same request. */
	for (i = 0; i < v->n; i++)
		p[i] = v->params[v->n - 1 - i];
	CU_ASSERT_EQUAL(api_check(v, p, v->now), AUTH_API_OK);

	/* Each field wrong. */
	w = *v;
	w.secret = "not-the-secret-0123456789";
	CU_ASSERT_EQUAL(api_check(&w, w.params, w.now),
	    AUTH_API_BAD_SIGNATURE);
	w = *v;
	w.key = "another-key";
	CU_ASSERT_EQUAL(api_check(&w, w.params, w.now), AUTH_API_BAD_KEY);
	w = *v;
	w.method = strcmp(v->method, "GET") == 0 ? "POST" : "GET";
	CU_ASSERT_EQUAL(api_check(&w, w.params, w.now),
	    AUTH_API_BAD_SIGNATURE);
	w = *v;
	w.path = "/apps/other/events";
	CU_ASSERT_EQUAL(api_check(&w, w.params, w.now),
	    AUTH_API_BAD_SIGNATURE);
	memcpy(p, v->params, v->n * sizeof *p);
	k = api_param(v, "auth_version");
	p[k].value = "2.0";
	CU_ASSERT_EQUAL(api_check(v, p, v->now), AUTH_API_BAD_VERSION);
	memcpy(p, v->params, v->n * sizeof *p);
	k = api_param(v, "auth_signature");
	snprintf(sig, sizeof sig, "%s", v->params[k].value);
	sig[10] = sig[10] == '0' ? '1' : '0';
	p[k].value = sig;
	CU_ASSERT_EQUAL(api_check(v, p, v->now), AUTH_API_BAD_SIGNATURE);
	p[k].value = "";
	CU_ASSERT_EQUAL(api_check(v, p, v->now), AUTH_API_BAD_SIGNATURE);
	/* A timestamp within the window but not the one signed. */
	memcpy(p, v->params, v->n * sizeof *p);
	k = api_param(v, "auth_timestamp");
	snprintf(sig, sizeof sig, "%lld", v->now + 1);
	p[k].value = sig;
	CU_ASSERT_EQUAL(api_check(v, p, v->now), AUTH_API_BAD_SIGNATURE);
	/* A param added after signing. */
	memcpy(p, v->params, v->n * sizeof *p);
	p[v->n].key = "extra";
	p[v->n].value = "1";
	w = *v;
	w.n = v->n + 1;
	CU_ASSERT_EQUAL(api_check(&w, p, w.now), AUTH_API_BAD_SIGNATURE);
	/* A missing auth field. */
	memcpy(p, v->params, v->n * sizeof *p);
	k = api_param(v, "auth_key");
	p[k].key = "auth_kee";
	CU_ASSERT_EQUAL(api_check(v, p, v->now), AUTH_API_MISSING);

	/* A body not the one signed (body_md5), or a body with none. */
	if (v->body[0] != '\0') {
		body = strdup(v->body);
		CU_ASSERT_PTR_NOT_NULL_FATAL(body);
		body[strlen(body) - 1] = ' ';
		w = *v;
		w.body = body;
		CU_ASSERT_EQUAL(api_check(&w, w.params, w.now),
		    AUTH_API_BAD_BODY_MD5);
		free(body);
	} else {
		w = *v;
		w.body = "{}";
		CU_ASSERT_EQUAL(api_check(&w, w.params, w.now),
		    AUTH_API_BAD_BODY_MD5);
	}
}

static void
TEST_api_vectors(void)
{
	struct api_vector v;
	char *line = NULL, *f[6], *p;
	size_t cap = 0, count = 0, i;
	ssize_t n;
	FILE *file;

	file = fopen(API_VECTORS, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(file);
	while ((n = getline(&line, &cap, file)) != -1) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0)
			continue;
		for (i = 0, p = line; i < 6; i++) {
			f[i] = p;
			p = strchr(p, '\t');
			if (i < 5) {
				CU_ASSERT_PTR_NOT_NULL_FATAL(p);
				*p++ = '\0';
			}
		}
		memset(&v, 0, sizeof v);
		v.secret = f[0];
		v.key = f[1];
		v.method = f[2];
		v.path = f[3];
		v.body = f[4];
		v.query = f[5];
		CU_ASSERT_EQUAL_FATAL(api_vector_params(&v), 0);
		api_vector_check(&v);
		count++;
	}
	free(line);
	fclose(file);
	CU_ASSERT(count >= 10);
}

/* auth_api_sign sorts the query and leaves auth_signature out. */
static void
TEST_api_sign_sorted(void)
{
	struct auth_param a[] = { { "b", "2" }, { "auth_signature", "x" },
	    { "a", "1" } };
	struct auth_param b[] = { { "a", "1" }, { "b", "2" } };
	char ha[65], hb[65];

	CU_ASSERT_EQUAL(auth_api_sign("s", "GET", "/p", a, 3, ha), 0);
	CU_ASSERT_EQUAL(auth_api_sign("s", "GET", "/p", b, 2, hb), 0);
	CU_ASSERT_STRING_EQUAL(ha, hb);
	CU_ASSERT_EQUAL(strlen(ha), 64);
}

void
test_auth_api_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_api_vectors", TEST_api_vectors },
		{ "TEST_api_sign_sorted", TEST_api_sign_sorted },
		{ NULL, NULL }
	};

	unit_add_suite("auth_api", tests);
}
