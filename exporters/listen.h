/*
 * listen.h - listen addresses for the HTTP server (--web.listen-address):
 *
 *   :9862            all addresses, dual-stack ([::] with IPV6_V6ONLY off;
 *                    0.0.0.0 when the host has no IPv6)
 *   0.0.0.0:9862     IPv4 only
 *   [::]:9862        IPv6 only (IPV6_V6ONLY on, so 0.0.0.0 may be added)
 *   [::1]:9862       an IPv6 address (scope ids such as [fe80::1%eth0] work)
 *   127.0.0.1:0      port 0 binds an ephemeral port
 *   localhost:9862   a host name, resolved once at startup (first address)
 *
 * Sockets are opened here (non-blocking, close-on-exec, SO_REUSEADDR) and
 * handed to libmicrohttpd, so the exporter controls dual-stack behaviour.
 */
#ifndef TW_LISTEN_H
#define TW_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TW_LISTEN_HOST_MAX 255

typedef enum tw_listen_kind {
	TW_LISTEN_ANY = 0,  /* ":port" */
	TW_LISTEN_HOST,     /* "host:port": IPv4 literal or a name */
	TW_LISTEN_IPV6,     /* "[v6]:port" */
} tw_listen_kind;

typedef struct tw_listen_spec {
	tw_listen_kind kind;
	char host[TW_LISTEN_HOST_MAX + 1]; /* "" for TW_LISTEN_ANY */
	uint16_t port;
} tw_listen_spec;

/* Splits s into host and port (no resolution). Returns 0 or -EINVAL for
 * anything but the forms above (missing or out-of-range port, unbracketed
 * IPv6, empty brackets, trailing garbage, over-long host). */
int tw_listen_parse(const char *s, tw_listen_spec *out);

/* Parses, resolves, binds and listens on s. Returns the listening socket
 * (owned by the caller) or a negative errno, with a message naming the
 * address written to err (e.g. "--web.listen-address 'x': expected
 * HOST:PORT, [IPv6]:PORT or :PORT"). */
int tw_listen_open(const char *s, int backlog, char *err, size_t errlen);

/* The local port a socket is bound to, or a negative errno. */
int tw_listen_port(int fd);

#endif /* TW_LISTEN_H */
