/*
 * netaddr.c: IPv4/IPv6 address parsing, CIDR lists and the client address
 * behind trusted proxies (X-Forwarded-For). Thread-safe: lists are only
 * read once parsed, and nothing else is shared.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/netaddr.h"

/* One parsed address; IPv4-mapped IPv6 addresses are kept as IPv4. */
struct netaddr {
	int	family;
	uint8_t	addr[16];
};

static const uint8_t netaddr_v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Rewrites an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as IPv4. */
static void
netaddr_unmap(struct netaddr *na)
{
	if (na->family != AF_INET6 ||
	    memcmp(na->addr, netaddr_v4mapped, sizeof netaddr_v4mapped) != 0)
		return;
	memmove(na->addr, na->addr + 12, 4);
	memset(na->addr + 4, 0, 12);
	na->family = AF_INET;
}

/*
 * Parses len bytes of text as an IPv4 or IPv6 address (no prefix, no port,
 * no brackets). Returns 0, or -1 if it is not one.
 */
static int
netaddr_parse(const char *text, size_t len, struct netaddr *na)
{
	char buf[NETADDR_STRLEN];

	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	memset(na, 0, sizeof *na);
	if (inet_pton(AF_INET, buf, na->addr) == 1)
		na->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, na->addr) == 1) {
		na->family = AF_INET6;
		netaddr_unmap(na);
	} else
		return -1;
	return 0;
}

static void
netaddr_format(const struct netaddr *na, char out[NETADDR_STRLEN])
{
	if (inet_ntop(na->family, na->addr, out, NETADDR_STRLEN) == NULL)
		out[0] = '\0';
}

/* Clears the bits of addr past prefix. */
static void
netaddr_mask(uint8_t *addr, size_t len, unsigned prefix)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (prefix >= 8)
			prefix -= 8;
		else {
			addr[i] &= (uint8_t)(0xff00 >> prefix);
			prefix = 0;
		}
	}
}

static int
netaddr_in_block(const struct netaddr *na, const struct netaddr_cidr *c)
{
	uint8_t masked[16];
	size_t len;

	if (na->family != c->family)
		return 0;
	len = na->family == AF_INET ? 4 : 16;
	memcpy(masked, na->addr, len);
	netaddr_mask(masked, len, c->prefix);
	return memcmp(masked, c->addr, len) == 0;
}

static int
netaddr_list_match(const struct netaddr_list *list, const struct netaddr *na)
{
	size_t i;

	if (list == NULL)
		return 0;
	for (i = 0; i < list->count; i++)
		if (netaddr_in_block(na, &list->items[i]))
			return 1;
	return 0;
}

/*
 * Parses one "addr" or "addr/prefix" item of len bytes into c. Returns 0, or
 * -1 with a message in err.
 */
static int
netaddr_cidr_parse(const char *item, size_t len, struct netaddr_cidr *c,
    char *err, size_t errlen)
{
	struct netaddr na;
	const char *slash;
	size_t alen, i;
	unsigned prefix, max;

	slash = memchr(item, '/', len);
	alen = slash != NULL ? (size_t)(slash - item) : len;
	if (netaddr_parse(item, alen, &na) == -1) {
		snprintf(err, errlen, "\"%.*s\" is not an IP address or CIDR "
		    "block", (int)len, item);
		return -1;
	}
	/* A mapped block (::ffff:10.0.0.0/104) was unmapped: rebase it. */
	max = na.family == AF_INET ? 32 : 128;
	prefix = max;
	if (slash != NULL) {
		prefix = 0;
		for (i = alen + 1; i < len; i++) {
			if (item[i] < '0' || item[i] > '9' || prefix > 128)
				break;
			prefix = prefix * 10 + (unsigned)(item[i] - '0');
		}
		if (i == alen + 1 || i != len || i - alen - 1 > 3) {
			snprintf(err, errlen, "\"%.*s\": the prefix length is "
			    "not a number", (int)len, item);
			return -1;
		}
		if (na.family == AF_INET && memchr(item, ':', alen) != NULL) {
			if (prefix < 96 || prefix > 128) {
				snprintf(err, errlen, "\"%.*s\": an "
				    "IPv4-mapped block needs a prefix of "
				    "96..128", (int)len, item);
				return -1;
			}
			prefix -= 96;
		}
		if (prefix > max) {
			snprintf(err, errlen, "\"%.*s\": the prefix length "
			    "must be 0..%u", (int)len, item, max);
			return -1;
		}
	}
	c->family = na.family;
	memcpy(c->addr, na.addr, sizeof c->addr);
	c->prefix = prefix;
	netaddr_mask(c->addr, na.family == AF_INET ? 4 : 16, prefix);
	return 0;
}

int
netaddr_list_parse(const char *text, struct netaddr_list *out, char *err,
    size_t errlen)
{
	static const char sep[] = " \t,";
	struct netaddr_list list = { NULL, 0 };
	struct netaddr_cidr *items;
	const char *p;
	size_t n, cap = 0;

	out->items = NULL;
	out->count = 0;
	for (p = text + strspn(text, sep); *p != '\0'; p += strspn(p, sep)) {
		n = strcspn(p, sep);
		if (list.count == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			items = reallocarray(list.items, cap, sizeof *items);
			if (items == NULL) {
				snprintf(err, errlen, "out of memory");
				netaddr_list_free(&list);
				return -1;
			}
			list.items = items;
		}
		if (netaddr_cidr_parse(p, n, &list.items[list.count], err,
		    errlen) == -1) {
			netaddr_list_free(&list);
			return -1;
		}
		list.count++;
		p += n;
	}
	*out = list;
	return 0;
}

void
netaddr_list_free(struct netaddr_list *list)
{
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

int
netaddr_list_contains(const struct netaddr_list *list, const char *addr)
{
	struct netaddr na;

	if (addr == NULL || netaddr_parse(addr, strlen(addr), &na) == -1)
		return 0;
	return netaddr_list_match(list, &na);
}

/* Reads a socket address; returns -1 for a family other than IPv4/IPv6. */
static int
netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *na)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	memset(na, 0, sizeof *na);
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		na->family = AF_INET;
		memcpy(na->addr, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		na->family = AF_INET6;
		memcpy(na->addr, &sin6->sin6_addr, 16);
		netaddr_unmap(na);
	} else
		return -1;
	return 0;
}

/*
 * An unknown peer (NULL, or not IPv4/IPv6) gives an empty string: there is
 * no address to report, and a header alone is not believed.
 */
void
netaddr_client(const struct netaddr_list *trusted,
    const struct sockaddr *peer, const char *xff, char out[NETADDR_STRLEN])
{
	struct netaddr client, na;
	const char *end, *start, *a, *b;

	out[0] = '\0';
	if (netaddr_from_sockaddr(peer, &client) == -1)
		return;
	if (xff == NULL || !netaddr_list_match(trusted, &client)) {
		netaddr_format(&client, out);
		return;
	}
	/* Walk the entries right to left; client is the last good one. */
	end = xff + strlen(xff);
	for (;;) {
		start = end;
		while (start > xff && start[-1] != ',')
			start--;
		a = start + strspn(start, " \t");	/* stops at end */
		b = end;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (netaddr_parse(a, (size_t)(b - a), &na) == -1)
			break;
		client = na;
		if (!netaddr_list_match(trusted, &na) || start == xff)
			break;
		end = start - 1;
	}
	netaddr_format(&client, out);
}

int
netaddr_split_listen(const char *listen, char *host, size_t hostlen,
    const char **port, char *err, size_t errlen)
{
	const char *colon;
	size_t n;

	colon = strrchr(listen, ':');
	if (colon == NULL || colon[1] == '\0') {
		snprintf(err, errlen, "%s: expected host:port", listen);
		return -1;
	}
	*port = colon + 1;
	n = (size_t)(colon - listen);
	if (n >= 2 && listen[0] == '[' && listen[n - 1] == ']') {
		listen++;
		n -= 2;
	}
	if (n >= hostlen) {
		snprintf(err, errlen, "%s: host too long", listen);
		return -1;
	}
	memcpy(host, listen, n);
	host[n] = '\0';
	if (strcmp(host, "*") == 0)
		host[0] = '\0';
	return 0;
}
