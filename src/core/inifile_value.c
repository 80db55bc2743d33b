/*
 * inifile_value.c: the values of the INI engine (inifile.h): parsing
 * numbers and sizes, storing a key's value as its kind says with the range
 * and checks of its table, and the two string lists the configuration
 * code shares (list values, error messages). Thread-safe: no state.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/inifile.h"
#include "core/log.h"
#include "core/netaddr.h"
#include "core/sluice.h"

int
config_errors_add(struct config_errors *errs, const char *fmt, ...)
{
	char **items, *item;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&item, fmt, ap);
	va_end(ap);
	if (rc == -1)
		return -1;
	items = reallocarray(errs->items, errs->count + 1, sizeof *items);
	if (items == NULL) {
		free(item);
		return -1;
	}
	items[errs->count++] = item;
	errs->items = items;
	return 0;
}

void
config_errors_free(struct config_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->count; i++)
		free(errs->items[i]);
	free(errs->items);
	errs->items = NULL;
	errs->count = 0;
}

int
config_strv_add(struct config_strv *v, const char *item, size_t len)
{
	char **items, *copy;

	copy = strndup(item, len);
	if (copy == NULL)
		return -1;
	items = reallocarray(v->items, v->count + 1, sizeof *items);
	if (items == NULL) {
		free(copy);
		return -1;
	}
	items[v->count++] = copy;
	v->items = items;
	return 0;
}

void
config_strv_free(struct config_strv *v)
{
	size_t i;

	for (i = 0; i < v->count; i++)
		free(v->items[i]);
	free(v->items);
	v->items = NULL;
	v->count = 0;
}

int
inifile_parse_number(const char *text, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int
inifile_parse_size(const char *text, uint64_t *out)
{
	const char *p = text;
	uint64_t v = 0, mult = 1;
	unsigned d;

	if (text == NULL || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	switch (*p) {
	case 'k': case 'K':
		mult = INIFILE_K;
		p++;
		break;
	case 'm': case 'M':
		mult = INIFILE_M;
		p++;
		break;
	case 'g': case 'G':
		mult = INIFILE_G;
		p++;
		break;
	}
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p != '\0' || v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

const char *
inifile_size_text(uint64_t v, char *buf, size_t len)
{
	if (v != 0 && v % INIFILE_G == 0)
		snprintf(buf, len, "%" PRIu64 "G", v / INIFILE_G);
	else if (v != 0 && v % INIFILE_M == 0)
		snprintf(buf, len, "%" PRIu64 "M", v / INIFILE_M);
	else if (v != 0 && v % INIFILE_K == 0)
		snprintf(buf, len, "%" PRIu64 "K", v / INIFILE_K);
	else
		snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

/* Parses a number or size for key and checks its range. Returns 0, or -1
 * with why in err. */
static int
inifile_number(const struct inifile_key *key, enum inifile_wording w,
    const char *value, uint64_t *v, char *err, size_t errlen)
{
	char lo[24], hi[24];
	int size = key->kind == INIFILE_SIZE || key->kind == INIFILE_SIZE64;
	int bad;

	bad = size ? inifile_parse_size(value, v) :
	    inifile_parse_number(value, v);
	if (w == INIFILE_SAY_RULE) {
		if (bad == 0 && *v >= key->min && *v <= key->max)
			return 0;
		snprintf(err, errlen, "must be a number from %" PRIu64 " to %"
		    PRIu64, key->min, key->max);
		return -1;
	}
	if (bad == -1) {
		if (size)
			snprintf(err, errlen, "\"%s\" is not a size (a number "
			    "with an optional K, M or G suffix)", value);
		else
			snprintf(err, errlen, "\"%s\" is not a number", value);
		return -1;
	}
	if (*v >= key->min && *v <= key->max)
		return 0;
	if (size) {
		inifile_size_text(key->min, lo, sizeof lo);
		inifile_size_text(key->max, hi, sizeof hi);
	} else {
		snprintf(lo, sizeof lo, "%" PRIu64, key->min);
		snprintf(hi, sizeof hi, "%" PRIu64, key->max);
	}
	if (key->max == UINT64_MAX)
		snprintf(err, errlen, "%s is out of range (at least %s)",
		    value, lo);
	else
		snprintf(err, errlen, "%s is out of range (%s..%s)", value, lo,
		    hi);
	return -1;
}

/* Looks value up among choice's names. Returns its index, or -1 with why
 * in err ("classic or quorum"; "debug, info, warn or error"). */
static int
inifile_choose(const struct inifile_choice *choice, enum inifile_wording w,
    const char *value, char *err, size_t errlen)
{
	char names[INIFILE_MSGLEN / 2];
	size_t n, count = 0, len = 0;

	while (count < SLUICE_ARRAY_LEN(choice->names) &&
	    choice->names[count] != NULL)
		count++;
	for (n = 0; n < count; n++)
		if (strcmp(choice->names[n], value) == 0)
			return (int)n;
	names[0] = '\0';
	for (n = 0; n < count && len < sizeof names; n++)
		len += (size_t)snprintf(names + len, sizeof names - len,
		    "%s%s", n == 0 ? "" : n + 1 == count ? " or " : ", ",
		    choice->names[n]);
	if (w == INIFILE_SAY_RULE)
		snprintf(err, errlen, "must be %s", names);
	else
		snprintf(err, errlen, "\"%s\" is not a %s (%s)", value,
		    choice->what, names);
	return -1;
}

/* 1 for yes, on, true or 1; 0 for no, off, false or 0 (any case); -1
 * for anything else. */
static int
inifile_bool(const char *value)
{
	static const char *const yes[] = { "yes", "on", "true", "1" };
	static const char *const no[] = { "no", "off", "false", "0" };
	size_t i;

	for (i = 0; i < SLUICE_ARRAY_LEN(yes); i++) {
		if (strcasecmp(value, yes[i]) == 0)
			return 1;
		if (strcasecmp(value, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* Adds the addresses of value to the list at list. */
static int
inifile_netaddrs(struct netaddr_list *list, const char *value, char *err,
    size_t errlen)
{
	struct netaddr_list add;
	struct netaddr_cidr *items;

	if (netaddr_list_parse(value, &add, err, errlen) == -1)
		return SLUICE_EINVAL;
	if (add.count == 0)
		return SLUICE_OK;
	items = reallocarray(list->items, list->count + add.count,
	    sizeof *items);
	if (items == NULL) {
		netaddr_list_free(&add);
		snprintf(err, errlen, "out of memory");
		return SLUICE_ENOMEM;
	}
	memcpy(items + list->count, add.items, add.count * sizeof *items);
	list->items = items;
	list->count += add.count;
	netaddr_list_free(&add);
	return SLUICE_OK;
}

int
inifile_key_apply(const struct inifile_key *key, enum inifile_wording w,
    void *base, const char *value, char *err, size_t errlen)
{
	char *field = (char *)base + key->off, *copy = NULL;
	enum log_level level;
	uint64_t v;
	int i;

	switch (key->kind) {
	case INIFILE_STRING:
	case INIFILE_LIST:
		if ((key->flags & INIFILE_NONEMPTY) && *value == '\0') {
			snprintf(err, errlen, "must not be empty");
			return SLUICE_EINVAL;
		}
		if (key->check != NULL && key->check(value, err, errlen) == -1)
			return SLUICE_EINVAL;
		if (key->kind == INIFILE_LIST) {
			if (config_strv_add(
			    (struct config_strv *)(void *)field, value,
			    strlen(value)) == 0)
				return SLUICE_OK;
		} else if ((*value == '\0' &&
		    !(key->flags & INIFILE_KEEP_EMPTY)) ||
		    (copy = strdup(value)) != NULL) {
			free(*(char **)(void *)field);
			*(char **)(void *)field = copy;
			return SLUICE_OK;
		}
		snprintf(err, errlen, "out of memory");
		return SLUICE_ENOMEM;
	case INIFILE_UINT:
	case INIFILE_COUNT:
	case INIFILE_SIZE:
	case INIFILE_SIZE64:
		if (inifile_number(key, w, value, &v, err, errlen) == -1)
			return SLUICE_EINVAL;
		if (key->kind == INIFILE_UINT)
			*(unsigned *)(void *)field = (unsigned)v;
		else if (key->kind == INIFILE_SIZE64)
			*(uint64_t *)(void *)field = v;
		else
			*(size_t *)(void *)field = (size_t)v;
		return SLUICE_OK;
	case INIFILE_LOGLEVEL:
		if (log_level_parse(value, &level) == -1) {
			if (w == INIFILE_SAY_RULE)
				snprintf(err, errlen, "must be debug, info, "
				    "warn or error");
			else
				snprintf(err, errlen, "\"%s\" is not a log "
				    "level (debug, info, warn or error)",
				    value);
			return SLUICE_EINVAL;
		}
		*(enum log_level *)(void *)field = level;
		return SLUICE_OK;
	case INIFILE_CHOICE:
		i = inifile_choose(key->choice, w, value, err, errlen);
		if (i < 0)
			return SLUICE_EINVAL;
		*(int *)(void *)field = i;
		return SLUICE_OK;
	case INIFILE_BOOL:
		i = inifile_bool(value);
		if (i < 0) {
			if (w == INIFILE_SAY_RULE)
				snprintf(err, errlen, "must be yes or no");
			else
				snprintf(err, errlen, "\"%s\" is not yes or "
				    "no (nor on, off, true, false, 1, 0)",
				    value);
			return SLUICE_EINVAL;
		}
		*(int *)(void *)field = i;
		return SLUICE_OK;
	case INIFILE_NETADDRS:
		return inifile_netaddrs((struct netaddr_list *)(void *)field,
		    value, err, errlen);
	}
	snprintf(err, errlen, "cannot be set");
	return SLUICE_EINVAL;
}
