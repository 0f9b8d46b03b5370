/*
 * peer.h - loopback UDP and TCP sockets that play the other side of a
 * conversation with code running on a tw_loop: the test sends by hand and
 * receives through tw_pump_until, so every wait is bounded. Failures of
 * the socket calls themselves fail the test (cmocka).
 */
#ifndef TW_PEER_H
#define TW_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "net.h"

/* ---- UDP ---- */

typedef struct tw_peer_udp {
	int fd;
	tw_sockaddr local; /* the bound address and port */
} tw_peer_udp;

/* Opens a non-blocking UDP socket bound to the numeric host and port
 * (0 = ephemeral) that sends with TTL 255 and receives the TTL, DS byte
 * and receive time of each datagram. The caller closes u.fd. */
tw_peer_udp tw_peer_udp_open(const char *host, uint16_t port);

/* Sends len octets of buf to dst with DS byte tos (-1: the socket's). */
void tw_peer_udp_send(const tw_peer_udp *u, const tw_sockaddr *dst, const uint8_t *buf, size_t len, int tos);

/* Runs l until one datagram arrives on u or max_ns passed. Returns its
 * length (its meta in *m when m is not NULL), or -1 when none came.
 * Receive errors (a queued ICMP error) are not datagrams: it waits on. */
long tw_peer_udp_recv(tw_loop *l, const tw_peer_udp *u, uint8_t *buf, size_t cap, tw_rx_meta *m, int64_t max_ns);

/* Sends len octets of buf to dst (DS byte tos, -1: the socket's) and
 * requires a datagram back on u within TW_PUMP_WAIT_NS (fails the test
 * otherwise). Returns its length; its meta goes to *m unless m is NULL. */
long tw_peer_udp_exchange(tw_loop *l, const tw_peer_udp *u, const tw_sockaddr *dst, const uint8_t *buf, size_t len,
			  int tos, uint8_t *out, size_t cap, tw_rx_meta *m);

/* True when nothing arrives on u for quiet_ns. */
bool tw_peer_udp_silent(tw_loop *l, const tw_peer_udp *u, int64_t quiet_ns);

/* ---- TCP ---- */

/* A non-blocking listener on the numeric host, port 0; *addr gets where. */
int tw_peer_tcp_listen(const char *host, tw_sockaddr *addr);

/* Runs l until a connection waits on the listener lfd; returns its
 * non-blocking fd. Fails the test after max_ns. */
int tw_peer_tcp_accept(tw_loop *l, int lfd, int64_t max_ns);

/* Starts a non-blocking connect to `to`, from the numeric address src
 * (NULL: any); returns the fd. */
int tw_peer_tcp_connect(const tw_sockaddr *to, const char *src);

/* Sends all len octets of buf at once (fails the test otherwise). */
void tw_peer_tcp_send(int fd, const void *buf, size_t len);

/* Runs l until exactly len octets have arrived on fd; fails the test
 * when fewer come within max_ns or the connection closes first. */
void tw_peer_tcp_read(tw_loop *l, int fd, uint8_t *buf, size_t len, int64_t max_ns);

/* True when the other side closes (or resets) fd within max_ns; whatever
 * data still arrives is discarded. */
bool tw_peer_tcp_closed(tw_loop *l, int fd, int64_t max_ns);

typedef enum tw_peer_watch {
	TW_PEER_QUIET,  /* nothing arrived, still open */
	TW_PEER_DATA,   /* at least one octet arrived (consumed) */
	TW_PEER_CLOSED, /* closed or reset before any data */
} tw_peer_watch;

/* Watches fd for ns: what happened first. */
tw_peer_watch tw_peer_tcp_watch(tw_loop *l, int fd, int64_t ns);

#endif
