/*
 * wsclient.h: the client side of the WebSocket protocol (RFC 6455) for the
 * benchmark tools: the opening handshake (request, and the check of the
 * server's 101 reply and Sec-WebSocket-Accept), masked frames out, and
 * frames in, with extended lengths and fragmented messages reassembled.
 * No I/O: the caller owns the socket and the buffers.
 * Thread-safe: no shared state; a struct wsc_msg belongs to one connection.
 */
#ifndef SLUICE_BENCH_WSCLIENT_H
#define SLUICE_BENCH_WSCLIENT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define WSC_CONT	0x0
#define WSC_TEXT	0x1
#define WSC_BINARY	0x2
#define WSC_CLOSE	0x8
#define WSC_PING	0x9
#define WSC_PONG	0xa

#define WSC_HEADER_MAX	14	/* a client frame's header at most */

/* The Sec-WebSocket-Key of one handshake and the accept value it asks. */
struct wsc_key {
	char	key[25];		/* base64 of 16 random bytes */
	char	accept[29];		/* base64(SHA-1(key + GUID)) */
};

/* One frame as parsed; payload points into the caller's buffer. */
struct wsc_frame {
	unsigned	 fin;
	unsigned	 opcode;
	char		*payload;
	size_t		 len;
};

/* A message being reassembled from fragments. Zero it to start. */
struct wsc_msg {
	char		*buf;
	size_t		 len, cap;
	size_t		 max;		/* longest message taken; 0: 16 MB */
	unsigned	 opcode;
	int		 open;		/* a fragmented message is under way */
};

/* Fills k from 16 random bytes r. */
void wsc_key_make(struct wsc_key *k, const unsigned char r[16]);

/*
 * Writes the opening handshake for ws://host/path (host as sent in Host:,
 * "127.0.0.1:8081") into buf. Returns its length, or 0 if it does not fit.
 */
size_t wsc_request(char *buf, size_t cap, const char *host, const char *path,
    const struct wsc_key *k);

/*
 * Reads the server's reply to the handshake at buf. Returns 0 while the
 * head is incomplete; otherwise the HTTP status (101 when the upgrade is
 * accepted and Sec-WebSocket-Accept matches k, -1 when it is a 101 with a
 * wrong or missing accept or not HTTP at all) and *head_len, the bytes of
 * the head: frames may follow it in the same buffer.
 */
int wsc_reply(const char *buf, size_t len, const struct wsc_key *k,
    size_t *head_len);

/* Bytes a client frame with a payload of len bytes takes. */
size_t wsc_frame_size(size_t len);

/*
 * Writes a final client frame (FIN set) of opcode with payload masked by
 * mask at out, which must hold wsc_frame_size(len) bytes. Returns the
 * frame's length.
 */
size_t wsc_frame_put(char *out, unsigned opcode, const void *payload,
    size_t len, uint32_t mask);

/*
 * Parses the frame at buf (len bytes available), unmasking its payload in
 * place if the server masked it. Returns the frame's length when it is
 * complete, 0 when more bytes are needed (*need, if not NULL, gets the
 * whole frame's length once the header is in), -1 when it is malformed
 * (reserved bits, unknown opcode, a fragmented or long control frame).
 */
ssize_t wsc_frame_parse(char *buf, size_t len, struct wsc_frame *f,
    size_t *need);

/*
 * Feeds a data frame (text, binary or continuation) to m. Returns 1 when
 * a message is complete (*data and *len point at it: into the frame for an
 * unfragmented one, else into m's buffer, valid until the next call), 0
 * when it waits for more fragments, -1 on a protocol error (a continuation
 * with nothing open, a new message while one is open, over m->max).
 */
int wsc_msg_feed(struct wsc_msg *m, const struct wsc_frame *f,
    const char **data, size_t *len);

/* Frees m's buffer. */
void wsc_msg_free(struct wsc_msg *m);

#endif
