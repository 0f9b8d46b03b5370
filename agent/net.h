/*
 * net.h - socket plumbing for the agent: socket addresses, non-blocking
 * TCP/UDP sockets with the options TWAMP needs (TTL/hop limit 255, DSCP,
 * received TTL/TOS, kernel receive timestamps), and recvmsg/sendmsg wrappers
 * that read the ancillary data.
 *
 * All functions return a file descriptor or 0 on success and a negative
 * errno on failure. Sockets are created non-blocking and close-on-exec.
 */
#ifndef TW_NET_H
#define TW_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "clock.h"

typedef struct tw_sockaddr {
	struct sockaddr_storage ss;
	socklen_t len;
} tw_sockaddr;

/* ---- addresses ---- */

int tw_sa_family(const tw_sockaddr *a);
uint16_t tw_sa_port(const tw_sockaddr *a);
void tw_sa_set_port(tw_sockaddr *a, uint16_t port);
bool tw_sa_equal(const tw_sockaddr *a, const tw_sockaddr *b); /* address and port */
bool tw_sa_same_host(const tw_sockaddr *a, const tw_sockaddr *b);
bool tw_sa_is_any(const tw_sockaddr *a); /* 0.0.0.0 or :: */
/* IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes plain IPv4; others unchanged. */
void tw_sa_unmap(tw_sockaddr *a);

/* "192.0.2.1:862" or "[2001:db8::1]:862"; with port 0 just the address.
 * Returns buf. */
const char *tw_sa_format(const tw_sockaddr *a, char *buf, size_t cap);
const char *tw_sa_format_host(const tw_sockaddr *a, char *buf, size_t cap);

/* Numeric address (no DNS) plus port -> sockaddr. -EINVAL if not numeric. */
int tw_sa_from_numeric(const char *host, uint16_t port, tw_sockaddr *out);

/* TWAMP Request-TW-Session address fields: IPVN (4/6) and 16 octets (IPv4
 * in the first 4, rest zero). */
void tw_sa_to_wire(const tw_sockaddr *a, uint8_t *ipvn, uint8_t addr[16]);
int tw_sa_from_wire(uint8_t ipvn, const uint8_t addr[16], uint16_t port, tw_sockaddr *out);
bool tw_wire_addr_is_zero(const uint8_t addr[16]);

/* Blocking name resolution (getaddrinfo): for start-up and the one-shot
 * CLI only, never from a loop callback. family AF_UNSPEC/AF_INET/AF_INET6.
 * Returns 0, or -ENOENT with *gai_err set to the getaddrinfo error. */
int tw_net_resolve(const char *host, uint16_t port, int family, tw_sockaddr *out, int *gai_err);

/* ---- sockets ---- */

typedef struct tw_udp_opts {
	int tos;             /* DS byte to send (DSCP << 2 | ECN); -1 = leave */
	int ttl;             /* TTL / hop limit to send; -1 = leave */
	bool recv_meta;      /* ask for TTL, TOS and kernel receive timestamps */
	const char *ifname;  /* SO_BINDTODEVICE, or NULL */
	bool reuse_port;     /* SO_REUSEPORT (several reflector workers) */
} tw_udp_opts;

/* Opens a UDP socket bound to local (port 0 = ephemeral). */
int tw_net_udp_open(const tw_sockaddr *local, const tw_udp_opts *opts);
int tw_net_set_tos(int fd, int family, int tos);
int tw_net_set_ttl(int fd, int family, int ttl);

/* TCP listening socket (SO_REUSEADDR, IPV6_V6ONLY for IPv6). */
int tw_net_tcp_listen(const tw_sockaddr *local, int backlog);
/* Starts a non-blocking connect; the fd becomes writable when it
 * completes (then check tw_net_connect_result). local/ifname optional. */
int tw_net_tcp_connect(const tw_sockaddr *remote, const tw_sockaddr *local, const char *ifname);
int tw_net_connect_result(int fd); /* 0 or negative errno (SO_ERROR) */

/* Sends what the non-blocking stream socket fd takes of buf[0, *len) and
 * moves the rest to the front of buf (*len shrinks). Returns 0 when all
 * was sent or the socket is full, or a negative errno when the connection
 * failed. Never raises SIGPIPE. */
int tw_net_stream_flush(int fd, uint8_t *buf, size_t *len);

int tw_net_local_addr(int fd, tw_sockaddr *out);
int tw_net_peer_addr(int fd, tw_sockaddr *out);

/* ---- datagrams with metadata ---- */

typedef enum tw_ts_source {
	TW_TS_USER = 0,   /* clock read after recvmsg returned */
	TW_TS_KERNEL = 1, /* SO_TIMESTAMPNS software timestamp */
} tw_ts_source;

typedef struct tw_rx_meta {
	tw_sockaddr from;
	tw_sockaddr to;     /* local address the datagram arrived on (family 0 if unknown; port 0) */
	int64_t rx_real_ns; /* CLOCK_REALTIME of arrival */
	tw_ts_source ts_source;
	int ttl; /* received TTL / hop limit, -1 when unknown */
	int tos; /* received DS byte, -1 when unknown */
} tw_rx_meta;

/* The received TTL as a reply's Sender TTL field carries it: 255 when
 * unknown (RFC 5357 §4.2.1). */
static inline uint8_t tw_rx_meta_ttl(const tw_rx_meta *m)
{
	return (uint8_t)(m->ttl >= 0 && m->ttl <= 255 ? m->ttl : 255);
}

/* The received DS byte, 0 when unknown. */
static inline uint8_t tw_rx_meta_tos(const tw_rx_meta *m)
{
	return (uint8_t)(m->tos >= 0 ? m->tos : 0);
}

/* Receives one datagram. Returns its length, -EAGAIN when none is
 * waiting, or another negative errno. clock supplies the fallback receive
 * time when the kernel gave none. A datagram longer than cap is reported
 * as -EMSGSIZE (and consumed). */
long tw_net_recv(int fd, uint8_t *buf, size_t cap, tw_rx_meta *meta, const tw_clock *clock);

/* Handles one received datagram: n is its length, or a negative errno for
 * one that could not be received whole (-EMSGSIZE: larger than the buffer). */
typedef void (*tw_net_datagram_fn)(void *arg, const uint8_t *buf, long n, const tw_rx_meta *m);

/* Receives up to max datagrams waiting on fd (into a TW_NET_RX_BUF-octet
 * buffer), calling fn for each, until none is left. Returns how many were
 * handed to fn. */
#define TW_NET_RX_BUF 9216
int tw_net_recv_each(int fd, int max, const tw_clock *clock, tw_net_datagram_fn fn, void *arg);

/* Sends one datagram to dst (NULL on a connected socket). Returns 0 or a
 * negative errno (-EAGAIN when the socket buffer is full). */
int tw_net_send(int fd, const uint8_t *buf, size_t len, const tw_sockaddr *dst);

/* As tw_net_send, with the DS byte (DSCP << 2 | ECN) of this datagram set
 * through ancillary data (IP_TOS / IPV6_TCLASS); tos < 0 = socket default. */
int tw_net_send_tos(int fd, const uint8_t *buf, size_t len, const tw_sockaddr *dst, int tos);

#endif /* TW_NET_H */
