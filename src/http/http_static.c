/*
 * http_static.c: static files for the demo pages, confined to one
 * directory. Runs on libmicrohttpd's threads; the struct is read-only
 * once opened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/metrics.h"
#include "core/sluice.h"
#include "http/http_reply.h"
#include "http/http_static.h"

#define HTTP_STATIC_URL_MAX	256
#define HTTP_STATIC_FILE_MAX	(64 * 1024 * 1024)

struct http_static {
	char	*root;		/* realpath of the directory */
	size_t	 rootlen;
};

static const struct {
	const char	*ext;
	const char	*type;
} http_static_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".map", "application/json" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
};

int
http_static_open(const char *dir, struct http_static **out)
{
	struct http_static *st;
	struct stat sb;
	char *root;

	root = realpath(dir, NULL);
	if (root == NULL || stat(root, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		log_error("http", "static_dir %s: %s", dir, root == NULL ?
		    strerror(errno) : "not a directory");
		free(root);
		return SLUICE_ENOTFOUND;
	}
	st = calloc(1, sizeof *st);
	if (st == NULL) {
		free(root);
		return SLUICE_ENOMEM;
	}
	st->root = root;
	st->rootlen = strlen(root);
	*out = st;
	return SLUICE_OK;
}

void
http_static_free(struct http_static *st)
{
	if (st == NULL)
		return;
	free(st->root);
	free(st);
}

/*
 * Maps url to a path relative to the root in rel (relsize bytes). Returns
 * 0, or -1 when url is not a name this serves.
 */
static int
http_static_name(const char *url, char *rel, size_t relsize)
{
	const char *p, *seg, *last;
	size_t n;

	n = strlen(url);
	if (url[0] != '/' || n > HTTP_STATIC_URL_MAX)
		return -1;
	if (strcmp(url, "/") == 0) {
		snprintf(rel, relsize, "index.html");
		return 0;
	}
	for (seg = p = url + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			/* No empty segment, none starting with a dot. */
			if (p == seg || *seg == '.')
				return -1;
			if (*p == '\0')
				break;
			seg = p + 1;
			continue;
		}
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._-", *p) == NULL)
			return -1;
	}
	last = strrchr(url, '/') + 1;
	if (snprintf(rel, relsize, "%s%s", url + 1, strchr(last, '.') ==
	    NULL ? ".html" : "") >= (int)relsize)
		return -1;
	return 0;
}

static const char *
http_static_type(const char *rel)
{
	const char *dot = strrchr(rel, '.');
	size_t i;

	for (i = 0; dot != NULL && i < SLUICE_ARRAY_LEN(http_static_types);
	    i++)
		if (strcmp(dot, http_static_types[i].ext) == 0)
			return http_static_types[i].type;
	return "application/octet-stream";
}

/* Opens the file for rel if it resolves inside the root; -1 if not. */
static int
http_static_openat(const struct http_static *st, const char *rel,
    struct stat *sb)
{
	char path[PATH_MAX], *real;
	int fd, inside;

	if (snprintf(path, sizeof path, "%s/%s", st->root, rel) >=
	    (int)sizeof path)
		return -1;
	real = realpath(path, NULL);
	if (real == NULL)
		return -1;
	inside = strncmp(real, st->root, st->rootlen) == 0 &&
	    real[st->rootlen] == '/';
	fd = inside ? open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
	free(real);
	if (fd == -1)
		return -1;
	if (fstat(fd, sb) == -1 || !S_ISREG(sb->st_mode) ||
	    sb->st_size > HTTP_STATIC_FILE_MAX) {
		close(fd);
		return -1;
	}
	return fd;
}

enum MHD_Result
http_static_serve(const struct http_static *st, struct MHD_Connection *c,
    const char *url, const char *method)
{
	struct http_reply_opts opts = { 0 };
	struct MHD_Response *r;
	struct stat sb;
	char rel[HTTP_STATIC_URL_MAX + 8], etag[64];
	const char *inm;
	enum MHD_Result ret;
	unsigned status = MHD_HTTP_OK;
	int fd;

	if (st == NULL || http_static_name(url, rel, sizeof rel) == -1 ||
	    (fd = http_static_openat(st, rel, &sb)) == -1)
		return http_reply_error(c, MHD_HTTP_NOT_FOUND, NULL,
		    "not_found", "no resource at %s", url);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		close(fd);
		opts.allow = "GET, HEAD";
		return http_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, &opts,
		    "method_not_allowed", "%s is not allowed on %s; use %s",
		    method, url, opts.allow);
	}
	snprintf(etag, sizeof etag, "\"%" PRIx64 "-%" PRIx64 "\"",
	    (uint64_t)sb.st_size, (uint64_t)sb.st_mtim.tv_sec * 1000000000 +
	    (uint64_t)sb.st_mtim.tv_nsec);
	inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm != NULL && strcmp(inm, etag) == 0) {
		close(fd);
		status = MHD_HTTP_NOT_MODIFIED;
		r = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
	} else
		r = MHD_create_response_from_fd((uint64_t)sb.st_size, fd);
	if (r == NULL) {
		if (status == MHD_HTTP_OK)
			close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    http_static_type(rel));
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	metrics_http_request(status);
	return ret;
}
