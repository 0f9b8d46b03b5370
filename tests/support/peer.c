/* peer.c - loopback UDP/TCP test peers on a pumped loop (see peer.h). */
#include "peer.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/socket.h>

#include "pump.h"

/* ---- UDP ---- */

tw_peer_udp tw_peer_udp_open(const char *host, uint16_t port)
{
	tw_peer_udp u;
	tw_sockaddr at;
	assert_int_equal(tw_sa_from_numeric(host, port, &at), 0);
	tw_udp_opts o = { .tos = -1, .ttl = 255, .recv_meta = true };
	u.fd = tw_net_udp_open(&at, &o);
	assert_true(u.fd >= 0);
	assert_int_equal(tw_net_local_addr(u.fd, &u.local), 0);
	return u;
}

void tw_peer_udp_send(const tw_peer_udp *u, const tw_sockaddr *dst, const uint8_t *buf, size_t len, int tos)
{
	assert_int_equal(tw_net_send_tos(u->fd, buf, len, dst, tos), 0);
}

typedef struct udp_rx {
	int fd;
	uint8_t *buf;
	size_t cap;
	long n;
	tw_rx_meta m;
} udp_rx;

static bool udp_rx_cond(void *arg)
{
	udp_rx *r = arg;
	long n = tw_net_recv(r->fd, r->buf, r->cap, &r->m, NULL);
	if (n < 0)
		return false; /* -EAGAIN, or a queued ICMP error: not a datagram */
	r->n = n;
	return true;
}

long tw_peer_udp_recv(tw_loop *l, const tw_peer_udp *u, uint8_t *buf, size_t cap, tw_rx_meta *m, int64_t max_ns)
{
	udp_rx r = { .fd = u->fd, .buf = buf, .cap = cap, .n = -1 };
	if (!tw_pump_until(l, udp_rx_cond, &r, max_ns))
		return -1;
	if (m)
		*m = r.m;
	return r.n;
}

long tw_peer_udp_exchange(tw_loop *l, const tw_peer_udp *u, const tw_sockaddr *dst, const uint8_t *buf, size_t len,
			  int tos, uint8_t *out, size_t cap, tw_rx_meta *m)
{
	tw_peer_udp_send(u, dst, buf, len, tos);
	long n = tw_peer_udp_recv(l, u, out, cap, m, TW_PUMP_WAIT_NS);
	if (n < 0)
		fail_msg("no answer to a %zu-octet datagram", len);
	return n;
}

bool tw_peer_udp_silent(tw_loop *l, const tw_peer_udp *u, int64_t quiet_ns)
{
	uint8_t buf[65536];
	return tw_peer_udp_recv(l, u, buf, sizeof(buf), NULL, quiet_ns) < 0;
}

/* ---- TCP ---- */

int tw_peer_tcp_listen(const char *host, tw_sockaddr *addr)
{
	tw_sockaddr a;
	assert_int_equal(tw_sa_from_numeric(host, 0, &a), 0);
	int fd = tw_net_tcp_listen(&a, 8);
	assert_true(fd >= 0);
	assert_int_equal(tw_net_local_addr(fd, addr), 0);
	return fd;
}

typedef struct tcp_accept {
	int lfd, fd;
} tcp_accept;

static bool accept_cond(void *arg)
{
	tcp_accept *a = arg;
	a->fd = accept4(a->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	return a->fd >= 0;
}

int tw_peer_tcp_accept(tw_loop *l, int lfd, int64_t max_ns)
{
	tcp_accept a = { .lfd = lfd, .fd = -1 };
	assert_true(tw_pump_until(l, accept_cond, &a, max_ns));
	return a.fd;
}

int tw_peer_tcp_connect(const tw_sockaddr *to, const char *src)
{
	int fd = socket(tw_sa_family(to), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (src) {
		tw_sockaddr a;
		assert_int_equal(tw_sa_from_numeric(src, 0, &a), 0);
		assert_int_equal(bind(fd, (const struct sockaddr *)&a.ss, a.len), 0);
	}
	int rc = connect(fd, (const struct sockaddr *)&to->ss, to->len);
	assert_true(rc == 0 || errno == EINPROGRESS);
	return fd;
}

void tw_peer_tcp_send(int fd, const void *buf, size_t len)
{
	assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

typedef struct tcp_rx {
	int fd;
	uint8_t *buf;
	size_t want, have;
	bool eof;     /* orderly close or reset seen */
	bool discard; /* read until the close, keeping nothing */
} tcp_rx;

/* Reads what is there (at most 64 reads per call, so one pump step stays
 * short); true once want octets are in or the connection closed. */
static bool tcp_rx_cond(void *arg)
{
	tcp_rx *r = arg;
	uint8_t sink[4096];
	for (int i = 0; i < 64 && (r->discard || r->have < r->want); i++) {
		uint8_t *dst = r->discard ? sink : r->buf + r->have;
		size_t cap = r->discard ? sizeof(sink) : r->want - r->have;
		ssize_t n = recv(r->fd, dst, cap, MSG_DONTWAIT);
		if (n > 0) {
			if (!r->discard)
				r->have += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		r->eof = true; /* 0 = FIN; ECONNRESET etc. also mean "closed" */
		return true;
	}
	return !r->discard && r->have >= r->want;
}

void tw_peer_tcp_read(tw_loop *l, int fd, uint8_t *buf, size_t len, int64_t max_ns)
{
	tcp_rx r = { .fd = fd, .buf = buf, .want = len };
	bool ok = tw_pump_until(l, tcp_rx_cond, &r, max_ns);
	if (!ok || r.have != len)
		fail_msg("expected %zu octets from the peer, got %zu%s", len, r.have, r.eof ? " then close" : "");
}

bool tw_peer_tcp_closed(tw_loop *l, int fd, int64_t max_ns)
{
	tcp_rx r = { .fd = fd, .discard = true };
	return tw_pump_until(l, tcp_rx_cond, &r, max_ns) && r.eof;
}

tw_peer_watch tw_peer_tcp_watch(tw_loop *l, int fd, int64_t ns)
{
	uint8_t b;
	tcp_rx r = { .fd = fd, .buf = &b, .want = 1 };
	(void)tw_pump_until(l, tcp_rx_cond, &r, ns);
	if (r.have > 0)
		return TW_PEER_DATA;
	return r.eof ? TW_PEER_CLOSED : TW_PEER_QUIET;
}
