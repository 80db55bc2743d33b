/*
 * http_static.h: files served from server.static_dir at GET and HEAD: the
 * demo pages and the browser library. Only names of A-Z a-z 0-9 . _ -
 * (no segment starting with a dot) are looked up, and only regular files
 * that resolve inside the directory are served; "/" is index.html and a
 * path without an extension is that path plus ".html". Called on
 * libmicrohttpd's threads.
 */
#ifndef SLUICE_HTTP_STATIC_H
#define SLUICE_HTTP_STATIC_H

#include <microhttpd.h>

struct http_static;

/*
 * Opens dir for serving. Returns SLUICE_OK and *out, SLUICE_ENOTFOUND when
 * dir is not a directory that can be read (logged) or SLUICE_ENOMEM.
 */
int http_static_open(const char *dir, struct http_static **out);

void http_static_free(struct http_static *st);

/*
 * Answers a request for url with method: the file (200, or 304 when the
 * client's If-None-Match matches its ETag), 405 for a method other than
 * GET or HEAD on a file, 404 otherwise. st may be NULL (nothing served).
 */
enum MHD_Result http_static_serve(const struct http_static *st,
    struct MHD_Connection *c, const char *url, const char *method);

#endif
