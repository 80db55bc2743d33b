/*
 * test_amqp_url.c: AMQP URLs with TLS parameters: the parts, the defaults,
 * and every refusal with its message (which never holds the password).
 */
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "core/amqp_url.h"

static void
TEST_plain(void)
{
	struct amqp_url u;
	char err[300];

	CU_ASSERT_EQUAL_FATAL(amqp_url_parse("amqp://u:secret@h.example:5673/v",
	    &u, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(u.host, "h.example");
	CU_ASSERT_EQUAL(u.port, 5673);
	CU_ASSERT_STRING_EQUAL(u.user, "u");
	CU_ASSERT_STRING_EQUAL(u.password, "secret");
	CU_ASSERT_STRING_EQUAL(u.vhost, "v");
	CU_ASSERT_EQUAL(u.tls, 0);
	amqp_url_free(&u);
}

static void
TEST_tls(void)
{
	struct amqp_url u;
	char err[300], url[512];

	/* amqps: port 5671 by default, the system's CAs, verify_peer. */
	CU_ASSERT_EQUAL_FATAL(amqp_url_parse("amqps://u:p@h", &u, err,
	    sizeof err), 0);
	CU_ASSERT_EQUAL(u.tls, 1);
	CU_ASSERT_EQUAL(u.port, 5671);
	CU_ASSERT_PTR_NULL(u.cacertfile);
	CU_ASSERT_EQUAL(u.verify, 1);
	amqp_url_free(&u);
	/* Files that exist (any readable file will do for the parser). */
	snprintf(url, sizeof url, "amqps://u:p@h:6000/%%2f?cacertfile=%s&"
	    "certfile=%s&keyfile=%s&verify=verify_none", TEST_SRCDIR
	    "/README", TEST_SRCDIR "/README", TEST_SRCDIR "/ChangeLog");
	CU_ASSERT_EQUAL_FATAL(amqp_url_parse(url, &u, err, sizeof err), 0);
	CU_ASSERT_EQUAL(u.port, 6000);
	CU_ASSERT_STRING_EQUAL(u.vhost, "/");
	CU_ASSERT_STRING_EQUAL(u.cacertfile, TEST_SRCDIR "/README");
	CU_ASSERT_STRING_EQUAL(u.keyfile, TEST_SRCDIR "/ChangeLog");
	CU_ASSERT_EQUAL(u.verify, 0);
	amqp_url_free(&u);
}

/* url must be refused with a message containing want, and no secret. */
static void
refused(const char *url, const char *want)
{
	struct amqp_url u;
	char err[300];

	err[0] = '\0';
	CU_ASSERT_EQUAL(amqp_url_parse(url, &u, err, sizeof err), -1);
	if (strstr(err, want) == NULL)
		fprintf(stderr, "\n%s: wanted \"%s\", got \"%s\"\n", url, want,
		    err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	CU_ASSERT_PTR_NULL(strstr(err, "s3cret"));
	CU_ASSERT_PTR_NULL(u.text);
}

static void
TEST_refused(void)
{
	refused("http://u:s3cret@h", "not an AMQP URL");
	refused("amqp://u:s3cret@h?verify=verify_none",
	    "TLS parameters need an amqps:// URL");
	refused("amqps://u:s3cret@h?verify=sometimes",
	    "verify must be verify_peer or verify_none");
	refused("amqps://u:s3cret@h?colour=blue", "unknown parameter colour");
	refused("amqps://u:s3cret@h?verify=", "has no value");
	refused("amqps://u:s3cret@h?verify=verify_peer&verify=verify_none",
	    "given twice");
	refused("amqps://u:s3cret@h?certfile=" TEST_SRCDIR "/README",
	    "certfile and keyfile go together");
	refused("amqps://u:s3cret@h?cacertfile=/nonexistent/ca.pem",
	    "cacertfile /nonexistent/ca.pem cannot be read");
}

void
test_amqp_url_register(void)
{
	static const struct unit_test tests[] = {
		{ "TEST_plain", TEST_plain },
		{ "TEST_tls", TEST_tls },
		{ "TEST_refused", TEST_refused },
		{ NULL, NULL }
	};

	unit_add_suite("amqp_url", tests);
}
