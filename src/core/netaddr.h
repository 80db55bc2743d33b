/*
 * netaddr.h: IPv4/IPv6 addresses and CIDR lists, for trusted proxies and
 * the client address of a request. Thread-safe (lists are read-only once
 * parsed).
 */
#ifndef SLUICE_NETADDR_H
#define SLUICE_NETADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NETADDR_STRLEN 46	/* INET6_ADDRSTRLEN */

struct netaddr_cidr {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];	/* network order; 4 bytes used for v4 */
	unsigned	prefix;		/* bits */
};

struct netaddr_list {
	struct netaddr_cidr	*items;
	size_t			 count;
};

/*
 * Parses a list of addresses or CIDR blocks separated by spaces or commas
 * ("127.0.0.1 10.0.0.0/8, ::1"); a bare address is a /32 or /128. Returns 0,
 * or -1 with a message naming the bad item in err. The list owns its memory:
 * free it with netaddr_list_free.
 */
int netaddr_list_parse(const char *text, struct netaddr_list *out, char *err,
    size_t errlen);
void netaddr_list_free(struct netaddr_list *list);

/* Returns 1 if the textual address addr lies in one of the list's blocks. */
int netaddr_list_contains(const struct netaddr_list *list, const char *addr);

/*
 * Works out the client address of a request. peer is the socket's address.
 * When peer is a trusted proxy and xff (the X-Forwarded-For header, may be
 * NULL) is given, the header is read right to left and the first address that
 * is not a trusted proxy is the client; if every entry is trusted, the
 * leftmost is. A malformed entry stops the walk at the last good address.
 * Writes the result as text into out.
 */
void netaddr_client(const struct netaddr_list *trusted,
    const struct sockaddr *peer, const char *xff, char out[NETADDR_STRLEN]);

/*
 * Splits a listen address, "host:port", "[v6]:port" or "*:port", into host
 * (hostlen bytes; "" for "*" or an empty host: every address) and port
 * (a pointer into listen). Returns 0, or -1 with a message in err.
 */
int netaddr_split_listen(const char *listen, char *host, size_t hostlen,
    const char **port, char *err, size_t errlen);

#endif
