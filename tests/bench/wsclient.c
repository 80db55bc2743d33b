/*
 * wsclient.c: the client side of the WebSocket protocol (RFC 6455) for the
 * benchmark tools: handshake, masked frames out, frames and fragmented
 * messages in. No I/O and no shared state: thread-safe.
 */
#define _GNU_SOURCE
#include <sys/types.h>

#include <openssl/evp.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wsclient.h"

#define WSC_GUID	"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WSC_MSG_MAX	(16u << 20)

void
wsc_key_make(struct wsc_key *k, const unsigned char r[16])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char in[sizeof k->key + sizeof WSC_GUID];
	unsigned mdlen = 0;

	EVP_EncodeBlock((unsigned char *)k->key, r, 16);
	snprintf(in, sizeof in, "%s%s", k->key, WSC_GUID);
	EVP_Digest(in, strlen(in), md, &mdlen, EVP_sha1(), NULL);
	EVP_EncodeBlock((unsigned char *)k->accept, md, (int)mdlen);
}

size_t
wsc_request(char *buf, size_t cap, const char *host, const char *path,
    const struct wsc_key *k)
{
	int n;

	n = snprintf(buf, cap,
	    "GET %s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "User-Agent: sluice-wsload/1\r\n"
	    "\r\n", path, host, k->key);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	return (size_t)n;
}

/* The value of header name in the head [p, end), or NULL; *vlen its length. */
static const char *
wsc_header(const char *p, const char *end, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *eol, *v;

	while (p < end) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (eol == NULL)
			return NULL;
		if ((size_t)(eol - p) > nlen && p[nlen] == ':' &&
		    strncasecmp(p, name, nlen) == 0) {
			v = p + nlen + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			while (eol > v && (eol[-1] == ' ' || eol[-1] == '\t'))
				eol--;
			*vlen = (size_t)(eol - v);
			return v;
		}
		p = eol + 2;
	}
	return NULL;
}

int
wsc_reply(const char *buf, size_t len, const struct wsc_key *k,
    size_t *head_len)
{
	const char *end, *v;
	size_t vlen;
	int status;

	end = memmem(buf, len, "\r\n\r\n", 4);
	if (end == NULL)
		return len > 16384 ? -1 : 0;
	*head_len = (size_t)(end - buf) + 4;
	if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
		return -1;
	status = atoi(buf + 9);
	if (status < 100 || status > 999)
		return -1;
	if (status != 101)
		return status;
	v = wsc_header(buf, end + 2, "Sec-WebSocket-Accept", &vlen);
	if (v == NULL || vlen != strlen(k->accept) ||
	    memcmp(v, k->accept, vlen) != 0)
		return -1;
	return 101;
}

size_t
wsc_frame_size(size_t len)
{
	if (len < 126)
		return 2 + 4 + len;
	if (len <= 0xffff)
		return 4 + 4 + len;
	return 10 + 4 + len;
}

/* XORs n bytes from src into dst with the mask, starting at mask byte 0. */
static void
wsc_mask_copy(unsigned char *dst, const unsigned char *src, size_t n,
    uint32_t mask)
{
	unsigned char m[4];
	uint64_t m8, w;
	size_t i = 0;

	memcpy(m, &mask, 4);
	m8 = (uint64_t)mask << 32 | mask;
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, src + i, 8);
		w ^= m8;
		memcpy(dst + i, &w, 8);
	}
	for (; i < n; i++)
		dst[i] = src[i] ^ m[i & 3];
}

size_t
wsc_frame_put(char *out, unsigned opcode, const void *payload, size_t len,
    uint32_t mask)
{
	unsigned char *p = (unsigned char *)out;
	size_t h;
	int i;

	p[0] = (unsigned char)(0x80 | (opcode & 0x0f));
	if (len < 126) {
		p[1] = (unsigned char)(0x80 | len);
		h = 2;
	} else if (len <= 0xffff) {
		p[1] = 0x80 | 126;
		p[2] = (unsigned char)(len >> 8);
		p[3] = (unsigned char)len;
		h = 4;
	} else {
		p[1] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			p[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
		h = 10;
	}
	memcpy(p + h, &mask, 4);
	wsc_mask_copy(p + h + 4, payload, len, mask);
	return h + 4 + len;
}

ssize_t
wsc_frame_parse(char *buf, size_t len, struct wsc_frame *f, size_t *need)
{
	unsigned char *p = (unsigned char *)buf;
	uint64_t plen;
	size_t h;
	uint32_t mask = 0;
	int masked, i;

	if (len < 2)
		return 0;
	if (p[0] & 0x70)
		return -1;		/* no extension was negotiated */
	f->fin = p[0] >> 7;
	f->opcode = p[0] & 0x0f;
	masked = p[1] >> 7;
	plen = p[1] & 0x7f;
	h = 2;
	if (plen == 126) {
		if (len < 4)
			return 0;
		plen = (uint64_t)p[2] << 8 | p[3];
		h = 4;
	} else if (plen == 127) {
		if (len < 10)
			return 0;
		plen = 0;
		for (i = 0; i < 8; i++)
			plen = plen << 8 | p[2 + i];
		if (plen >> 63)
			return -1;
		h = 10;
	}
	switch (f->opcode) {
	case WSC_CONT:
	case WSC_TEXT:
	case WSC_BINARY:
		break;
	case WSC_CLOSE:
	case WSC_PING:
	case WSC_PONG:
		if (!f->fin || plen > 125)
			return -1;
		break;
	default:
		return -1;
	}
	if (masked) {
		if (len < h + 4)
			return 0;
		memcpy(&mask, p + h, 4);
		h += 4;
	}
	if (plen > SIZE_MAX - h)
		return -1;
	if (need != NULL)
		*need = h + (size_t)plen;
	if (len - h < plen)
		return 0;
	f->payload = buf + h;
	f->len = (size_t)plen;
	if (masked)
		wsc_mask_copy((unsigned char *)f->payload,
		    (unsigned char *)f->payload, f->len, mask);
	return (ssize_t)(h + f->len);
}

int
wsc_msg_feed(struct wsc_msg *m, const struct wsc_frame *f, const char **data,
    size_t *len)
{
	size_t max = m->max != 0 ? m->max : WSC_MSG_MAX, cap;
	char *nb;

	if (f->opcode == WSC_CONT) {
		if (!m->open)
			return -1;
	} else {
		if (m->open)
			return -1;
		if (f->fin) {
			if (f->len > max)
				return -1;
			*data = f->payload;
			*len = f->len;
			return 1;
		}
		m->open = 1;
		m->opcode = f->opcode;
		m->len = 0;
	}
	if (f->len > max - m->len) {
		m->open = 0;
		return -1;
	}
	if (m->len + f->len > m->cap) {
		cap = m->cap != 0 ? m->cap : 4096;
		while (cap < m->len + f->len)
			cap *= 2;
		nb = realloc(m->buf, cap);
		if (nb == NULL)
			return -1;
		m->buf = nb;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, f->payload, f->len);
	m->len += f->len;
	if (!f->fin)
		return 0;
	m->open = 0;
	*data = m->buf;
	*len = m->len;
	return 1;
}

void
wsc_msg_free(struct wsc_msg *m)
{
	free(m->buf);
	memset(m, 0, sizeof *m);
}
