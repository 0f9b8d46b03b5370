/*
 * http.h - the HTTP server of the exporter: libmicrohttpd driven by our
 * event loop (no thread of its own), a route table and simple responses.
 *
 * Each listen address gets its own socket (opened by listen.h) and its own
 * MHD daemon in MHD_USE_EPOLL mode; the daemon's epoll fd is registered
 * with the tw_loop, MHD_run is called when it is readable, and a loop timer
 * re-armed from MHD_get_timeout after every run enforces connection
 * timeouts. Handlers therefore run on the loop thread and may touch the
 * registry and the rest of the agent without locks.
 *
 * Routing: exact path match on method + path. HEAD is served by the GET
 * handler (libmicrohttpd drops the body). An unknown path gets 404; a known
 * path with another method gets 405 with an Allow header. Request bodies
 * are read and discarded (up to body_limit bytes; larger: 413 or the
 * connection is closed). Connections are limited in number, time idle and
 * memory, and a misbehaving client is dropped without affecting others.
 */
#ifndef TW_HTTP_H
#define TW_HTTP_H

#include <stddef.h>
#include <stdint.h>

typedef struct tw_loop tw_loop;
typedef struct tw_http tw_http;

typedef struct tw_http_request {
	const char *method; /* as sent: "GET", "HEAD", "POST", ... */
	const char *path;   /* without the query string */
	void *impl;         /* private */
} tw_http_request;

/* The value of a request header (name case-insensitive), or NULL. Valid
 * until the handler returns. */
const char *tw_http_request_header(const tw_http_request *req, const char *name);

#define TW_HTTP_MAX_HEADERS 8
#define TW_HTTP_TEXT "text/plain; charset=utf-8"

/* Filled by a handler. The server copies the body and headers right after
 * the handler returns, so every pointer must still be valid then: static or
 * owned by the handler's arg, never the handler's own stack. */
typedef struct tw_http_response {
	unsigned status;            /* preset to 200 */
	const char *content_type;   /* preset to TW_HTTP_TEXT */
	const void *body;
	size_t body_len;
	size_t nheaders;
	struct {
		const char *name;
		const char *value;
	} headers[TW_HTTP_MAX_HEADERS];
} tw_http_response;

/* Adds an extra response header. Returns 0 or -ENOSPC. */
int tw_http_response_header(tw_http_response *resp, const char *name, const char *value);
/* Sets status and a static/borrowed text body. */
void tw_http_response_text(tw_http_response *resp, unsigned status, const char *text);

/* Returns 0 after filling resp, or a negative errno (the client then gets a
 * 500). Runs on the loop thread. */
typedef int (*tw_http_handler)(void *arg, const tw_http_request *req, tw_http_response *resp);

typedef struct tw_http_options {
	unsigned connection_limit;     /* per listen address; 0 = 64 */
	unsigned connection_timeout_s; /* idle time before a close; 0 = 10 */
	size_t connection_memory;      /* per connection; 0 = 32 KiB */
	size_t body_limit;             /* request body bytes; 0 = 64 KiB */
	/* Optional sink for libmicrohttpd's error messages (NULL = silent). */
	void (*log)(void *arg, const char *msg);
	void *log_arg;
} tw_http_options;

/* Creates a server on loop (borrowed; must outlive it) with no routes and
 * no listeners. opts may be NULL. Returns NULL on ENOMEM. */
tw_http *tw_http_new(tw_loop *loop, const tw_http_options *opts);
/* Stops every listener, closes its connections and sockets. NULL-safe. */
void tw_http_free(tw_http *h);

/* Routes method + path (both copied) to fn. Returns 0, -EINVAL (path not
 * starting with '/', empty method, "HEAD" which GET covers) or -EEXIST
 * when the pair is taken, or -ENOMEM. Routes may be added at any time. */
int tw_http_route(tw_http *h, const char *method, const char *path, tw_http_handler fn,
	void *arg);

/* Opens addr (see listen.h for the forms) and starts serving it. Returns 0
 * or a negative errno, with a message for the user in err. */
int tw_http_listen(tw_http *h, const char *addr, char *err, size_t errlen);

size_t tw_http_listener_count(const tw_http *h);
/* The port listener i is bound to (useful after port 0), or -EINVAL. */
int tw_http_listener_port(const tw_http *h, size_t i);

#endif /* TW_HTTP_H */
