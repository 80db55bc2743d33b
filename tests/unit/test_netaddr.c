/*
 * test_netaddr.c: address lists, CIDR matching and the client address
 * behind trusted proxies.
 */
#include <arpa/inet.h>
#include <string.h>

#include "unit.h"
#include "core/netaddr.h"

/* Parses text, which must be valid, into list. */
static void
parse_ok(const char *text, struct netaddr_list *list)
{
	char err[256] = "";
	int rc;

	rc = netaddr_list_parse(text, list, err, sizeof err);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(err, "");
}

/* Checks that text is refused with a message containing needle. */
static void
parse_bad(const char *text, const char *needle)
{
	struct netaddr_list list = { (void *)1, 99 };
	char err[256] = "";

	CU_ASSERT_EQUAL(netaddr_list_parse(text, &list, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, needle));
	CU_ASSERT_PTR_NULL(list.items);
	CU_ASSERT_EQUAL(list.count, 0);
}

static void
TEST_parse_list(void)
{
	static const uint8_t v4[4] = { 10, 0, 0, 0 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	struct netaddr_list list;

	parse_ok(" 127.0.0.1 10.0.0.0/8,\t2001:db8::/32 , ::1 ", &list);
	CU_ASSERT_EQUAL_FATAL(list.count, 4);
	CU_ASSERT_EQUAL(list.items[0].family, AF_INET);
	CU_ASSERT_EQUAL(list.items[0].prefix, 32);
	CU_ASSERT_EQUAL(list.items[1].family, AF_INET);
	CU_ASSERT_EQUAL(list.items[1].prefix, 8);
	CU_ASSERT_EQUAL(memcmp(list.items[1].addr, v4, 4), 0);
	CU_ASSERT_EQUAL(list.items[2].family, AF_INET6);
	CU_ASSERT_EQUAL(list.items[2].prefix, 32);
	CU_ASSERT_EQUAL(memcmp(list.items[2].addr, v6, 16), 0);
	CU_ASSERT_EQUAL(list.items[3].family, AF_INET6);
	CU_ASSERT_EQUAL(list.items[3].prefix, 128);
	netaddr_list_free(&list);
	CU_ASSERT_PTR_NULL(list.items);
	CU_ASSERT_EQUAL(list.count, 0);
}

static void
TEST_parse_empty(void)
{
	struct netaddr_list list;

	parse_ok("", &list);
	CU_ASSERT_EQUAL(list.count, 0);
	netaddr_list_free(&list);
	parse_ok(" , ,\t", &list);
	CU_ASSERT_EQUAL(list.count, 0);
	netaddr_list_free(&list);
}

static void
TEST_parse_prefixes(void)
{
	struct netaddr_list list;

	parse_ok("0.0.0.0/0 1.2.3.4/32 ::/0 ::1/128 1.2.3.4/08", &list);
	CU_ASSERT_EQUAL_FATAL(list.count, 5);
	CU_ASSERT_EQUAL(list.items[0].prefix, 0);
	CU_ASSERT_EQUAL(list.items[1].prefix, 32);
	CU_ASSERT_EQUAL(list.items[2].prefix, 0);
	CU_ASSERT_EQUAL(list.items[3].prefix, 128);
	CU_ASSERT_EQUAL(list.items[4].prefix, 8);
	netaddr_list_free(&list);
	parse_bad("10.0.0.0/33", "10.0.0.0/33");
	parse_bad("10.0.0.0/33", "0..32");
	parse_bad("::/129", "0..128");
	parse_bad("10.0.0.0/999", "0..32");
	parse_bad("10.0.0.0/", "prefix");
	parse_bad("10.0.0.0/8x", "prefix");
	parse_bad("10.0.0.0/-1", "prefix");
	parse_bad("10.0.0.0/ 8", "prefix");
	parse_bad("10.0.0.0/12345", "prefix");
}

static void
TEST_parse_bad_items(void)
{
	parse_bad("1.2.3", "\"1.2.3\"");
	parse_bad("10.0.0.1 example.com", "\"example.com\" is not an IP");
	parse_bad("256.1.1.1", "256.1.1.1");
	parse_bad("/8", "\"/8\"");
	parse_bad("1.2.3.4:80", "1.2.3.4:80");
	parse_bad("[::1]", "[::1]");
	parse_bad("::1::2", "::1::2");
	parse_bad("fe80::1%eth0", "fe80::1%eth0");
	parse_bad("1.2.3.4;5.6.7.8", "1.2.3.4;5.6.7.8");
}

static void
TEST_host_bits_are_masked(void)
{
	struct netaddr_list list;

	parse_ok("10.1.2.3/8 2001:db8::1/33", &list);
	CU_ASSERT_EQUAL_FATAL(list.count, 2);
	CU_ASSERT_EQUAL(list.items[0].addr[0], 10);
	CU_ASSERT_EQUAL(list.items[0].addr[1], 0);
	CU_ASSERT_EQUAL(list.items[0].addr[3], 0);
	CU_ASSERT_EQUAL(list.items[1].addr[15], 0);
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "10.200.0.1"));
	CU_ASSERT_FALSE(netaddr_list_contains(&list, "11.1.2.3"));
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "2001:db8:7fff::5"));
	CU_ASSERT_FALSE(netaddr_list_contains(&list, "2001:db8:8000::5"));
	netaddr_list_free(&list);
}

static void
TEST_contains_v4(void)
{
	struct netaddr_list list;

	parse_ok("192.168.1.0/24 10.0.0.7 172.16.0.0/12", &list);
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "192.168.1.0"));
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "192.168.1.255"));
	CU_ASSERT_FALSE(netaddr_list_contains(&list, "192.168.2.1"));
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "10.0.0.7"));
	CU_ASSERT_FALSE(netaddr_list_contains(&list, "10.0.0.8"));
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "172.31.255.255"));
	CU_ASSERT_FALSE(netaddr_list_contains(&list, "172.32.0.0"));
	CU_ASSERT_FALSE(netaddr_list_contains(&list, "::1"));
	CU_ASSERT_FALSE(netaddr_list_contains(&list, "garbage"));
	CU_ASSERT_FALSE(netaddr_list_contains(&list, ""));
	CU_ASSERT_FALSE(netaddr_list_contains(&list, NULL));
	netaddr_list_free(&list);
}

static void
TEST_contains_v6(void)
{
	struct netaddr_list list;

	parse_ok("2001:db8::/32 ::1 fd00::/8", &list);
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "2001:db8:ffff::1"));
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "2001:0DB8::"));
	CU_ASSERT_FALSE(netaddr_list_contains(&list, "2001:db9::1"));
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "::1"));
	CU_ASSERT_FALSE(netaddr_list_contains(&list, "::2"));
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "fdff::1"));
	CU_ASSERT_FALSE(netaddr_list_contains(&list, "fe00::1"));
	CU_ASSERT_FALSE(netaddr_list_contains(&list, "127.0.0.1"));
	netaddr_list_free(&list);
}

static void
TEST_prefix_zero_and_full(void)
{
	struct netaddr_list list;

	parse_ok("0.0.0.0/0", &list);
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "1.2.3.4"));
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "255.255.255.255"));
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "::ffff:9.9.9.9"));
	CU_ASSERT_FALSE(netaddr_list_contains(&list, "2001:db8::1"));
	netaddr_list_free(&list);
	parse_ok("::/0", &list);
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "2001:db8::1"));
	CU_ASSERT_FALSE(netaddr_list_contains(&list, "1.2.3.4"));
	netaddr_list_free(&list);
	parse_ok("1.2.3.4/32 2001:db8::1/128", &list);
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "1.2.3.4"));
	CU_ASSERT_FALSE(netaddr_list_contains(&list, "1.2.3.5"));
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "2001:db8::1"));
	CU_ASSERT_FALSE(netaddr_list_contains(&list, "2001:db8::2"));
	netaddr_list_free(&list);
}

static void
TEST_mapped_matches_v4(void)
{
	struct netaddr_list list;

	parse_ok("10.0.0.0/8", &list);
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "::ffff:10.1.2.3"));
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "::FFFF:a01:203"));
	CU_ASSERT_FALSE(netaddr_list_contains(&list, "::ffff:11.1.2.3"));
	/* Not mapped: ::10.1.2.3 is an old IPv4-compatible address. */
	CU_ASSERT_FALSE(netaddr_list_contains(&list, "::10.1.2.3"));
	netaddr_list_free(&list);
	/* Mapped entries in the list are IPv4 blocks too. */
	parse_ok("::ffff:192.168.0.0/112 ::ffff:1.2.3.4", &list);
	CU_ASSERT_EQUAL_FATAL(list.count, 2);
	CU_ASSERT_EQUAL(list.items[0].family, AF_INET);
	CU_ASSERT_EQUAL(list.items[0].prefix, 16);
	CU_ASSERT_EQUAL(list.items[1].prefix, 32);
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "192.168.44.1"));
	CU_ASSERT_TRUE(netaddr_list_contains(&list, "1.2.3.4"));
	netaddr_list_free(&list);
	parse_bad("::ffff:1.2.3.4/64", "96..128");
}

static void
peer4(struct sockaddr_in *sin, const char *addr)
{
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(40000);
	CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
}

static void
peer6(struct sockaddr_in6 *sin6, const char *addr)
{
	memset(sin6, 0, sizeof *sin6);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(40000);
	CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
}

/* The client for an IPv4 peer, trusted list and header. */
static const char *
client4(const char *trusted, const char *peer, const char *xff)
{
	static char out[NETADDR_STRLEN];
	struct netaddr_list list;
	struct sockaddr_in sin;

	parse_ok(trusted, &list);
	peer4(&sin, peer);
	memset(out, 'x', sizeof out);
	netaddr_client(&list, (struct sockaddr *)&sin, xff, out);
	netaddr_list_free(&list);
	return out;
}

static void
TEST_client_without_proxies(void)
{
	CU_ASSERT_STRING_EQUAL(client4("", "203.0.113.9", NULL), "203.0.113.9");
	CU_ASSERT_STRING_EQUAL(client4("", "203.0.113.9", "1.1.1.1"),
	    "203.0.113.9");
	/* An untrusted peer's header is not believed. */
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.0/8", "203.0.113.9",
	    "1.1.1.1"), "203.0.113.9");
}

static void
TEST_client_trusted_peer(void)
{
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.1", "10.0.0.1", "198.51.100.7"),
	    "198.51.100.7");
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.1", "10.0.0.1", NULL),
	    "10.0.0.1");
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.1", "10.0.0.1", ""),
	    "10.0.0.1");
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.1", "10.0.0.1", "  , "),
	    "10.0.0.1");
}

static void
TEST_client_walks_right_to_left(void)
{
	/* Spoofed leftmost entries are skipped: the first untrusted wins. */
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.0/8", "10.0.0.1",
	    "6.6.6.6, 198.51.100.7, 10.0.0.3"), "198.51.100.7");
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.0/8", "10.0.0.1",
	    "6.6.6.6,198.51.100.7,10.0.0.3,10.9.9.9"), "198.51.100.7");
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.0/8", "10.0.0.1",
	    " 198.51.100.7\t"), "198.51.100.7");
	/* Mixed families, and entries are normalized. */
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.0/8 fd00::/8", "10.0.0.1",
	    "2001:DB8:0:0::1, fd00::5"), "2001:db8::1");
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.0/8", "10.0.0.1",
	    "::ffff:198.51.100.7"), "198.51.100.7");
}

static void
TEST_client_all_trusted(void)
{
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.0/8", "10.0.0.1",
	    "10.0.0.5, 10.0.0.4, 10.0.0.3"), "10.0.0.5");
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.0/8", "10.0.0.1", "10.0.0.9"),
	    "10.0.0.9");
}

static void
TEST_client_malformed_stops(void)
{
	/* The rightmost entry is bad: the peer is the last good address. */
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.0/8", "10.0.0.1",
	    "198.51.100.7, unknown"), "10.0.0.1");
	/* A bad entry further left stops at the last trusted one. */
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.0/8", "10.0.0.1",
	    "198.51.100.7, garbage, 10.0.0.3"), "10.0.0.3");
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.0/8", "10.0.0.1",
	    "198.51.100.7,, 10.0.0.3"), "10.0.0.3");
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.0/8", "10.0.0.1",
	    "1.2.3.4:5678"), "10.0.0.1");
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.0/8", "10.0.0.1",
	    "198.51.100.7, 10.0.0.3,"), "10.0.0.1");
	/* A bad entry left of the client does not matter. */
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.0/8", "10.0.0.1",
	    "garbage, 198.51.100.7"), "198.51.100.7");
	/* An overlong entry is malformed, not truncated. */
	CU_ASSERT_STRING_EQUAL(client4("10.0.0.0/8", "10.0.0.1",
	    "0000:0000:0000:0000:0000:0000:0000:0000:0000:0001"), "10.0.0.1");
}

static void
TEST_client_v6_and_mapped_peers(void)
{
	char out[NETADDR_STRLEN];
	struct netaddr_list list;
	struct sockaddr_in6 sin6;
	struct sockaddr_un_like {
		sa_family_t	family;
		char		path[32];
	} other;

	parse_ok("127.0.0.1 ::1", &list);
	/* A dual-stack socket reports IPv4 peers as mapped addresses. */
	peer6(&sin6, "::ffff:127.0.0.1");
	netaddr_client(&list, (struct sockaddr *)&sin6, "192.0.2.1", out);
	CU_ASSERT_STRING_EQUAL(out, "192.0.2.1");
	netaddr_client(&list, (struct sockaddr *)&sin6, NULL, out);
	CU_ASSERT_STRING_EQUAL(out, "127.0.0.1");
	peer6(&sin6, "::1");
	netaddr_client(&list, (struct sockaddr *)&sin6, "2001:db8::9", out);
	CU_ASSERT_STRING_EQUAL(out, "2001:db8::9");
	peer6(&sin6, "2001:db8::2");
	netaddr_client(&list, (struct sockaddr *)&sin6, "192.0.2.1", out);
	CU_ASSERT_STRING_EQUAL(out, "2001:db8::2");
	/* No usable peer address: nothing is believed. */
	memset(&other, 0, sizeof other);
	other.family = AF_UNIX;
	netaddr_client(&list, (struct sockaddr *)(void *)&other, "192.0.2.1",
	    out);
	CU_ASSERT_STRING_EQUAL(out, "");
	netaddr_client(&list, NULL, "192.0.2.1", out);
	CU_ASSERT_STRING_EQUAL(out, "");
	netaddr_list_free(&list);
}

static void
TEST_client_null_list(void)
{
	char out[NETADDR_STRLEN];
	struct sockaddr_in sin;

	peer4(&sin, "10.0.0.1");
	netaddr_client(NULL, (struct sockaddr *)&sin, "192.0.2.1", out);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.1");
}

void
test_netaddr_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_parse_list", TEST_parse_list },
		{ "TEST_parse_empty", TEST_parse_empty },
		{ "TEST_parse_prefixes", TEST_parse_prefixes },
		{ "TEST_parse_bad_items", TEST_parse_bad_items },
		{ "TEST_host_bits_are_masked", TEST_host_bits_are_masked },
		{ "TEST_contains_v4", TEST_contains_v4 },
		{ "TEST_contains_v6", TEST_contains_v6 },
		{ "TEST_prefix_zero_and_full", TEST_prefix_zero_and_full },
		{ "TEST_mapped_matches_v4", TEST_mapped_matches_v4 },
		{ "TEST_client_without_proxies", TEST_client_without_proxies },
		{ "TEST_client_trusted_peer", TEST_client_trusted_peer },
		{ "TEST_client_walks_right_to_left",
		    TEST_client_walks_right_to_left },
		{ "TEST_client_all_trusted", TEST_client_all_trusted },
		{ "TEST_client_malformed_stops", TEST_client_malformed_stops },
		{ "TEST_client_v6_and_mapped_peers",
		    TEST_client_v6_and_mapped_peers },
		{ "TEST_client_null_list", TEST_client_null_list },
		{ NULL, NULL }
	};

	unit_add_suite("netaddr", tests);
}
