/*
 * amqp_url.h: the broker's address as sluiced and sluice-loader take it:
 * amqp://user:password@host:port/vhost, or amqps:// for TLS, with the TLS
 * settings as query parameters in the convention of RabbitMQ's own URI
 * spec: cacertfile (the CAs that sign the broker's certificate; default:
 * the system's), certfile and keyfile (a client certificate, both or
 * neither), verify (verify_peer, the default: the certificate and the host
 * name are checked; verify_none: neither is, for tests only). The one
 * parser of such URLs: the config check (-t) and the connection use it.
 * Thread-safe: no state.
 */
#ifndef SLUICE_AMQP_URL_H
#define SLUICE_AMQP_URL_H

#include <stddef.h>

struct amqp_url {
	char	*text;		/* owned copy the fields below point into */
	char	*host;
	int	 port;
	char	*user;
	char	*password;
	char	*vhost;
	int	 tls;		/* amqps:// */
	char	*cacertfile;	/* NULL: the system's CAs */
	char	*certfile;	/* NULL: no client certificate */
	char	*keyfile;
	int	 verify;	/* 1: verify_peer; 0: verify_none */
};

/*
 * Parses url into u (free with amqp_url_free). Returns 0, or -1 with err
 * naming the problem (never the password): not an AMQP URL, an unknown or
 * repeated parameter, TLS parameters on amqp://, a certfile without its
 * keyfile, a file that cannot be read.
 */
int amqp_url_parse(const char *url, struct amqp_url *u, char *err,
    size_t errlen);

void amqp_url_free(struct amqp_url *u);

#endif
