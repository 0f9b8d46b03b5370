/* http.c - libmicrohttpd inside the tw_loop, routes (see http.h). */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <microhttpd.h>

#include "listen.h"
#include "loop.h"

#define DEFAULT_CONN_LIMIT 64u
#define DEFAULT_TIMEOUT_S 10u
#define DEFAULT_CONN_MEMORY ((size_t)32 * 1024)
#define DEFAULT_BODY_LIMIT ((size_t)64 * 1024)
#define LISTEN_BACKLOG 64
#define ALLOW_MAX 128
#define LOG_MAX 512
#define NS_PER_MS INT64_C(1000000)
#define MAX_WAIT_MS (INT64_MAX / NS_PER_MS)

struct route {
	char *method;
	char *path;
	tw_http_handler fn;
	void *arg;
};

struct listener {
	tw_http *h;
	struct MHD_Daemon *d;
	tw_io io;
	tw_timer timer;
	int port;
};

struct tw_http {
	tw_loop *loop;
	tw_http_options opt;
	struct route *routes;
	size_t nroutes;
	struct listener **ls;
	size_t nls;
};

/* Per-request state: the request body bytes seen so far. */
struct req_state {
	size_t body;
};

/* ---- responses ---- */

int tw_http_response_header(tw_http_response *resp, const char *name, const char *value)
{
	if (resp->nheaders >= TW_HTTP_MAX_HEADERS)
		return -ENOSPC;
	resp->headers[resp->nheaders].name = name;
	resp->headers[resp->nheaders].value = value;
	resp->nheaders++;
	return 0;
}

void tw_http_response_text(tw_http_response *resp, unsigned status, const char *text)
{
	resp->status = status;
	resp->content_type = TW_HTTP_TEXT;
	resp->body = text;
	resp->body_len = strlen(text);
}

const char *tw_http_request_header(const tw_http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->impl, MHD_HEADER_KIND, name);
}

static enum MHD_Result send_response(struct MHD_Connection *conn, const tw_http_response *resp)
{
	/* MUST_COPY: bodies live in buffers reused by the next scrape */
	struct MHD_Response *r = MHD_create_response_from_buffer(resp->body_len,
		(void *)(uintptr_t)resp->body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	enum MHD_Result ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
		resp->content_type ? resp->content_type : TW_HTTP_TEXT);
	for (size_t i = 0; i < resp->nheaders && ok == MHD_YES; i++)
		ok = MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
	if (ok == MHD_YES)
		ok = MHD_queue_response(conn, resp->status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	tw_http_response resp = { 0 };
	tw_http_response_text(&resp, status, text);
	return send_response(conn, &resp);
}

/* ---- routing ---- */

static const struct route *find_route(const tw_http *h, const char *method, const char *path)
{
	for (size_t i = 0; i < h->nroutes; i++)
		if (strcmp(h->routes[i].method, method) == 0 && strcmp(h->routes[i].path, path) == 0)
			return &h->routes[i];
	return NULL;
}

/* The Allow header for path ("GET, HEAD, POST"); empty when unknown. */
static void allowed_methods(const tw_http *h, const char *path, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < h->nroutes; i++) {
		const struct route *r = &h->routes[i];
		if (strcmp(r->path, path) != 0)
			continue;
		bool get = strcmp(r->method, "GET") == 0;
		int w = snprintf(out + n, cap - n, "%s%s%s", n ? ", " : "", r->method,
			get ? ", HEAD" : "");
		if (w < 0 || (size_t)w >= cap - n)
			break;
		n += (size_t)w;
	}
}

static enum MHD_Result dispatch(tw_http *h, struct MHD_Connection *conn, const char *method,
	const char *path)
{
	const struct route *r = find_route(h, method, path);
	if (!r && strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
		r = find_route(h, MHD_HTTP_METHOD_GET, path);
	if (!r) {
		char allow[ALLOW_MAX];
		allowed_methods(h, path, allow, sizeof(allow));
		if (!allow[0])
			return send_text(conn, MHD_HTTP_NOT_FOUND, "404 page not found\n");
		tw_http_response resp = { 0 };
		tw_http_response_text(&resp, MHD_HTTP_METHOD_NOT_ALLOWED, "405 method not allowed\n");
		tw_http_response_header(&resp, MHD_HTTP_HEADER_ALLOW, allow);
		return send_response(conn, &resp);
	}
	tw_http_request req = { .method = method, .path = path, .impl = conn };
	tw_http_response resp = { .status = MHD_HTTP_OK, .content_type = TW_HTTP_TEXT };
	if (r->fn(r->arg, &req, &resp) < 0)
		return send_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "500 internal server error\n");
	return send_response(conn, &resp);
}

/* A declared body over the limit is refused before it is read. */
static bool body_too_large(const tw_http *h, struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (!cl)
		return false;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(cl, &end, 10);
	return errno != 0 || *end != '\0' || n > h->opt.body_limit;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
	const char *method, const char *version, const char *upload_data,
	size_t *upload_data_size, void **con_cls)
{
	(void)version;
	(void)upload_data;
	tw_http *h = cls;
	struct req_state *st = *con_cls;
	if (!st) { /* headers complete; body (if any) not read yet */
		if (!(st = calloc(1, sizeof(*st))))
			return MHD_NO;
		*con_cls = st;
		if (body_too_large(h, conn))
			return send_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "413 request body too large\n");
		return MHD_YES;
	}
	if (*upload_data_size > 0) { /* discarded; chunked bodies end the connection */
		st->body += *upload_data_size;
		*upload_data_size = 0;
		return st->body > h->opt.body_limit ? MHD_NO : MHD_YES;
	}
	return dispatch(h, conn, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

__attribute__((format(printf, 2, 0)))
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	tw_http *h = cls;
	char msg[LOG_MAX];
	if (!h->opt.log)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	h->opt.log(h->opt.log_arg, msg);
}

/* ---- loop glue ---- */

static unsigned connections(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return i ? i->num_connections : 0;
}

/* Lets MHD do all pending work, then schedules the next forced run: MHD
 * needs one by its timeout even without socket activity (idle connection
 * expiry, data it has buffered). A run that closes connections is followed
 * by another: MHD puts its listen socket back into its epoll set (taken out
 * at the connection limit) only at the start of a run, and with no
 * connection left nothing else would wake us for that. */
static void listener_run(struct listener *l)
{
	unsigned before = connections(l->d);
	MHD_run(l->d);
	if (connections(l->d) < before)
		MHD_run(l->d);
	MHD_UNSIGNED_LONG_LONG ms;
	if (MHD_get_timeout(l->d, &ms) == MHD_YES) {
		int64_t wait = ms > (MHD_UNSIGNED_LONG_LONG)MAX_WAIT_MS ? MAX_WAIT_MS : (int64_t)ms;
		tw_timer_in(l->h->loop, &l->timer, wait * NS_PER_MS);
	} else {
		tw_timer_stop(l->h->loop, &l->timer);
	}
}

static void on_io(void *arg, uint32_t events)
{
	(void)events;
	listener_run(arg);
}

static void on_timer(void *arg)
{
	listener_run(arg);
}

static struct MHD_Daemon *start_daemon(tw_http *h, int fd)
{
	unsigned flags = MHD_USE_EPOLL | (h->opt.log ? MHD_USE_ERROR_LOG : 0);
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		MHD_OPTION_CONNECTION_LIMIT, h->opt.connection_limit,
		MHD_OPTION_CONNECTION_TIMEOUT, h->opt.connection_timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, h->opt.connection_memory,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_END);
}

static void listener_free(tw_http *h, struct listener *l)
{
	if (!l)
		return;
	tw_io_del(h->loop, &l->io);
	tw_timer_stop(h->loop, &l->timer);
	if (l->d)
		MHD_stop_daemon(l->d); /* closes the listen socket and connections */
	free(l);
}

static int listener_start(tw_http *h, struct listener *l, int fd)
{
	l->h = h;
	tw_io_init(&l->io);
	tw_timer_init(&l->timer, on_timer, l);
	l->port = tw_listen_port(fd);
	l->d = start_daemon(h, fd);
	if (!l->d)
		return -EIO;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info)
		return -EIO;
	int rc = tw_io_add(h->loop, &l->io, info->epoll_fd, EPOLLIN, on_io, l);
	if (rc == 0)
		listener_run(l);
	return rc;
}

int tw_http_listen(tw_http *h, const char *addr, char *err, size_t errlen)
{
	int fd = tw_listen_open(addr, LISTEN_BACKLOG, err, errlen);
	if (fd < 0)
		return fd;
	struct listener **ls = realloc(h->ls, (h->nls + 1) * sizeof(*ls));
	struct listener *l = calloc(1, sizeof(*l));
	if (ls)
		h->ls = ls;
	if (!ls || !l) {
		free(l);
		close(fd);
		snprintf(err, errlen, "--web.listen-address '%s': out of memory", addr);
		return -ENOMEM;
	}
	int rc = listener_start(h, l, fd);
	if (rc < 0) {
		if (!l->d && fcntl(fd, F_GETFD) >= 0)
			close(fd); /* MHD may or may not have closed it on failure */
		listener_free(h, l);
		snprintf(err, errlen, "--web.listen-address '%s': cannot start the HTTP server: %s",
			addr, strerror(-rc));
		return rc;
	}
	h->ls[h->nls++] = l;
	return 0;
}

/* ---- server ---- */

tw_http *tw_http_new(tw_loop *loop, const tw_http_options *opts)
{
	tw_http *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->loop = loop;
	if (opts)
		h->opt = *opts;
	if (!h->opt.connection_limit)
		h->opt.connection_limit = DEFAULT_CONN_LIMIT;
	if (!h->opt.connection_timeout_s)
		h->opt.connection_timeout_s = DEFAULT_TIMEOUT_S;
	if (!h->opt.connection_memory)
		h->opt.connection_memory = DEFAULT_CONN_MEMORY;
	if (!h->opt.body_limit)
		h->opt.body_limit = DEFAULT_BODY_LIMIT;
	return h;
}

void tw_http_free(tw_http *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nls; i++)
		listener_free(h, h->ls[i]);
	for (size_t i = 0; i < h->nroutes; i++) {
		free(h->routes[i].method);
		free(h->routes[i].path);
	}
	free(h->ls);
	free(h->routes);
	free(h);
}

int tw_http_route(tw_http *h, const char *method, const char *path, tw_http_handler fn,
	void *arg)
{
	if (!h || !method || !method[0] || !path || path[0] != '/' || !fn ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
		return -EINVAL;
	if (find_route(h, method, path))
		return -EEXIST;
	struct route *rs = realloc(h->routes, (h->nroutes + 1) * sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	h->routes = rs;
	struct route *r = &rs[h->nroutes];
	r->method = strdup(method);
	r->path = strdup(path);
	r->fn = fn;
	r->arg = arg;
	if (!r->method || !r->path) {
		free(r->method);
		free(r->path);
		return -ENOMEM;
	}
	h->nroutes++;
	return 0;
}

size_t tw_http_listener_count(const tw_http *h)
{
	return h ? h->nls : 0;
}

int tw_http_listener_port(const tw_http *h, size_t i)
{
	if (!h || i >= h->nls)
		return -EINVAL;
	return h->ls[i]->port;
}
