/*
 * loader_row.c: an envelope checked (loader_json finds its members without
 * building a tree) and written as a COPY text row: strings unescaped and
 * escaped for COPY, times checked and written in one form, data passed on
 * as the JSON text that came. Thread rule: a parser (its scratch buffer)
 * belongs to one thread; no other state.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/isotime.h"
#include "core/jsontext.h"
#include "loader/loader_copy.h"
#include "loader/loader_json.h"
#include "loader/loader_row.h"

/* 9999-12-31T23:59:59.999Z: the last ms a client time may name. */
#define ROW_TIME_MAX INT64_C(253402300799999)
#define ROW_SHORT_MAX 64	/* bytes of a time or an address */

/* The members an envelope may have, in LOADER_ROW_COLUMNS order. */
enum row_member {
	M_APP, M_ID, M_CHANNEL, M_EVENT, M_DATA, M_TIMESTAMP, M_RECEIVED_AT,
	M_CLIENT_TIMESTAMP, M_CLIENT_SENT_AT, M_IP, M_USER_AGENT, M_ORIGIN,
	M_SOURCE, M_COUNT
};

static const char *const row_names[M_COUNT] = {
	"app", "id", "channel", "event", "data", "timestamp", "received_at",
	"client_timestamp", "client_sent_at", "ip", "user_agent", "origin",
	"source"
};

struct loader_row_parser {
	struct jsontext		 scratch;	/* a string, unescaped */
};

/* What one conversion works with. */
struct row_run {
	struct loader_row_parser	*p;
	struct loader_json_value	 vals[M_COUNT];
	struct jsontext			*out;
	char				*why;
	size_t				 whylen;
};

struct loader_row_parser *
loader_row_parser_new(void)
{
	return calloc(1, sizeof(struct loader_row_parser));
}

void
loader_row_parser_free(struct loader_row_parser *p)
{
	if (p == NULL)
		return;
	free(p->scratch.p);
	free(p);
}

/* Fills in why. Returns -1 (the row is invalid). */
static int
row_bad(struct row_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
row_bad(struct row_run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->why != NULL && r->whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(r->why, r->whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * The bytes string member m stands for: the text between its quotes when
 * it has no escapes, else its unescaped copy in the scratch buffer (valid
 * until the next call). Returns 0, or -1 when out of memory.
 */
static int
row_string(struct row_run *r, enum row_member m, const char **s, size_t *n)
{
	const struct loader_json_value *v = &r->vals[m];
	struct jsontext *scratch = &r->p->scratch;

	if (memchr(v->text + 1, '\\', v->len - 2) == NULL) {
		*s = v->text + 1;
		*n = v->len - 2;
		return 0;
	}
	scratch->len = 0;
	loader_json_unescape(v, scratch);
	if (scratch->failed) {
		scratch->failed = 0;
		r->out->failed = 1;
		return -1;
	}
	*s = scratch->p;
	*n = scratch->len;
	return 0;
}

/* 1 if s (n bytes) is valid UTF-8 without NUL. */
static int
row_utf8_ok(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	uint32_t cp;

	while (i < n) {
		if (u[i] >= 0x01 && u[i] < 0x80) {
			i++;
			continue;
		}
		if (u[i] == 0 || jsontext_utf8_next(u, n, &i, &cp) == -1)
			return 0;
	}
	return 1;
}

/*
 * Writes required string m as a field, after the separator unless it is
 * the first. It must be 1..max bytes of valid UTF-8 without NUL.
 */
static int
row_key_string(struct row_run *r, enum row_member m, size_t max)
{
	const char *s;
	size_t n;

	if (r->vals[m].type == LOADER_JSON_NONE ||
	    r->vals[m].type == LOADER_JSON_NULL)
		return row_bad(r, "%s: missing or null", row_names[m]);
	if (r->vals[m].type != LOADER_JSON_STRING)
		return row_bad(r, "%s: must be a string", row_names[m]);
	if (row_string(r, m, &s, &n) == -1)
		return -1;
	if (n == 0 || n > max)
		return row_bad(r, "%s: must be 1 to %zu bytes, not %zu",
		    row_names[m], max, n);
	if (!row_utf8_ok(s, n))
		return row_bad(r, "%s: not valid UTF-8, or holds a NUL",
		    row_names[m]);
	if (m != M_APP)
		loader_copy_sep(r->out);
	loader_copy_text(r->out, s, n);
	return 0;
}

/* Writes optional string m as a field, NULL when missing or null. */
static int
row_opt_string(struct row_run *r, enum row_member m)
{
	const char *s;
	size_t n;

	loader_copy_sep(r->out);
	switch (r->vals[m].type) {
	case LOADER_JSON_NONE:
	case LOADER_JSON_NULL:
		loader_copy_null(r->out);
		return 0;
	case LOADER_JSON_STRING:
		if (row_string(r, m, &s, &n) == -1)
			return -1;
		loader_copy_text(r->out, s, n);
		return 0;
	default:
		return row_bad(r, "%s: must be a string or null",
		    row_names[m]);
	}
}

/*
 * The string member m as a C string in buf (ROW_SHORT_MAX bytes). Returns
 * 0, or -1 when it is too long or holds a NUL.
 */
static int
row_short(struct row_run *r, enum row_member m, char *buf)
{
	const char *s;
	size_t n;

	if (row_string(r, m, &s, &n) == -1 || n >= ROW_SHORT_MAX ||
	    memchr(s, '\0', n) != NULL)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

/* Writes two digits, or three, of v. */
static char *
row_digits(char *o, unsigned v, int width)
{
	if (width == 3)
		*o++ = (char)('0' + v / 100 % 10);
	*o++ = (char)('0' + v / 10 % 10);
	*o++ = (char)('0' + v % 10);
	return o;
}

/* Writes ms (0..ROW_TIME_MAX) as a field: YYYY-MM-DDTHH:MM:SS.mmmZ. */
static void
row_put_time(struct row_run *r, int64_t ms)
{
	char text[32], *o = text;
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	o = row_digits(o, (unsigned)(tm.tm_year + 1900) / 100, 2);
	o = row_digits(o, (unsigned)(tm.tm_year + 1900) % 100, 2);
	*o++ = '-';
	o = row_digits(o, (unsigned)tm.tm_mon + 1, 2);
	*o++ = '-';
	o = row_digits(o, (unsigned)tm.tm_mday, 2);
	*o++ = 'T';
	o = row_digits(o, (unsigned)tm.tm_hour, 2);
	*o++ = ':';
	o = row_digits(o, (unsigned)tm.tm_min, 2);
	*o++ = ':';
	o = row_digits(o, (unsigned)tm.tm_sec, 2);
	*o++ = '.';
	o = row_digits(o, (unsigned)(ms % 1000), 3);
	*o++ = 'Z';
	loader_copy_sep(r->out);
	jsontext_put(r->out, text, (size_t)(o - text));
}

/* Reads string member m as an ISO-8601 time. Returns 0 or -1. */
static int
row_iso(struct row_run *r, enum row_member m, int64_t *ms)
{
	char buf[ROW_SHORT_MAX];

	if (row_short(r, m, buf) == -1)
		return -1;
	return isotime_parse(buf, ms);
}

/* Writes the required time m (an ISO-8601 string). */
static int
row_key_time(struct row_run *r, enum row_member m)
{
	int64_t ms;

	if (r->vals[m].type == LOADER_JSON_NONE ||
	    r->vals[m].type == LOADER_JSON_NULL)
		return row_bad(r, "%s: missing or null", row_names[m]);
	if (r->vals[m].type != LOADER_JSON_STRING || row_iso(r, m, &ms) == -1)
		return row_bad(r, "%s: must be an ISO-8601 time with a zone",
		    row_names[m]);
	row_put_time(r, ms);
	return 0;
}

/* Reads number member m as epoch ms. Returns 0 or -1 (not one). */
static int
row_epoch_ms(struct row_run *r, enum row_member m, int64_t *ms)
{
	const struct loader_json_value *v = &r->vals[m];
	char buf[ROW_SHORT_MAX], *end;
	long long i;
	double d;

	if (v->len >= sizeof buf)
		return -1;
	memcpy(buf, v->text, v->len);
	buf[v->len] = '\0';
	errno = 0;
	if (strpbrk(buf, ".eE") == NULL) {
		i = strtoll(buf, &end, 10);
		if (errno != 0 || *end != '\0')
			return -1;
		*ms = i;
		return 0;
	}
	d = strtod(buf, &end);
	if (*end != '\0' || !isfinite(d) || d < 0 || d > (double)ROW_TIME_MAX)
		return -1;
	*ms = (int64_t)d;
	return 0;
}

/*
 * Writes the client time m: NULL when missing or null, else an ISO-8601
 * string or a number of epoch milliseconds, years 1970..9999.
 */
static int
row_client_time(struct row_run *r, enum row_member m)
{
	int64_t ms = -1;

	switch (r->vals[m].type) {
	case LOADER_JSON_NONE:
	case LOADER_JSON_NULL:
		loader_copy_sep(r->out);
		loader_copy_null(r->out);
		return 0;
	case LOADER_JSON_STRING:
		if (row_iso(r, m, &ms) == -1)
			ms = -1;
		break;
	case LOADER_JSON_NUMBER:
		if (row_epoch_ms(r, m, &ms) == -1)
			ms = -1;
		break;
	default:
		break;
	}
	if (r->out->failed)
		return -1;
	if (ms < 0 || ms > ROW_TIME_MAX)
		return row_bad(r, "%s: must be null, an ISO-8601 time or epoch "
		    "milliseconds, from 1970 to 9999", row_names[m]);
	row_put_time(r, ms);
	return 0;
}

/* Writes data as jsonb text, NULL when missing or JSON null. */
static int
row_data(struct row_run *r)
{
	const struct loader_json_value *v = &r->vals[M_DATA];

	loader_copy_sep(r->out);
	if (v->type == LOADER_JSON_NONE || v->type == LOADER_JSON_NULL)
		loader_copy_null(r->out);
	else
		loader_copy_json(r->out, v->text, v->len);
	return 0;
}

/* Writes ip: the address, or NULL when missing, null or not an address. */
static int
row_ip(struct row_run *r)
{
	unsigned char addr[sizeof(struct in6_addr)];
	char buf[ROW_SHORT_MAX];

	loader_copy_sep(r->out);
	switch (r->vals[M_IP].type) {
	case LOADER_JSON_NONE:
	case LOADER_JSON_NULL:
		break;
	case LOADER_JSON_STRING:
		if (row_short(r, M_IP, buf) == 0 &&
		    (inet_pton(AF_INET, buf, addr) == 1 ||
		    inet_pton(AF_INET6, buf, addr) == 1)) {
			jsontext_put(r->out, buf, strlen(buf));
			return 0;
		}
		break;
	default:
		return row_bad(r, "ip: must be a string or null");
	}
	if (r->out->failed)
		return -1;
	loader_copy_null(r->out);
	return 0;
}

/* Writes the fields of the row, in LOADER_ROW_COLUMNS order. */
static int
row_fields(struct row_run *r)
{
	if (row_key_string(r, M_APP, SIZE_MAX) == -1 ||
	    row_key_string(r, M_ID, LOADER_ROW_ID_MAX) == -1 ||
	    row_key_string(r, M_CHANNEL, SIZE_MAX) == -1 ||
	    row_key_string(r, M_EVENT, SIZE_MAX) == -1 ||
	    row_data(r) == -1 ||
	    row_key_time(r, M_TIMESTAMP) == -1 ||
	    row_key_time(r, M_RECEIVED_AT) == -1 ||
	    row_client_time(r, M_CLIENT_TIMESTAMP) == -1 ||
	    row_client_time(r, M_CLIENT_SENT_AT) == -1 ||
	    row_ip(r) == -1 ||
	    row_opt_string(r, M_USER_AGENT) == -1 ||
	    row_opt_string(r, M_ORIGIN) == -1 ||
	    row_opt_string(r, M_SOURCE) == -1)
		return -1;
	loader_copy_end(r->out);
	return 0;
}

enum loader_row_status
loader_row_append(struct loader_row_parser *p, const char *body, size_t len,
    struct jsontext *out, char *why, size_t whylen)
{
	struct row_run r = { .p = p, .out = out, .why = why,
	    .whylen = whylen };
	size_t start = out->len;
	int rc;

	if (why != NULL && whylen > 0)
		*why = '\0';
	if (out->failed)
		return LOADER_ROW_NOMEM;
	if (len == 0) {
		row_bad(&r, "empty body");
		return LOADER_ROW_INVALID;
	}
	if (loader_json_members(body, len, LOADER_ROW_DEPTH, row_names,
	    M_COUNT, r.vals, why, whylen) == -1)
		return LOADER_ROW_INVALID;
	rc = row_fields(&r);
	if (out->failed)
		return LOADER_ROW_NOMEM;
	if (rc == -1) {
		out->len = start;
		return LOADER_ROW_INVALID;
	}
	return LOADER_ROW_OK;
}
