/* net.c - addresses, sockets and datagram metadata (see net.h). */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- addresses ---- */

int tw_sa_family(const tw_sockaddr *a)
{
	return a->ss.ss_family;
}

static struct sockaddr_in *sin4(tw_sockaddr *a)
{
	return (struct sockaddr_in *)(void *)&a->ss;
}

static struct sockaddr_in6 *sin6(tw_sockaddr *a)
{
	return (struct sockaddr_in6 *)(void *)&a->ss;
}

static const struct sockaddr_in *csin4(const tw_sockaddr *a)
{
	return (const struct sockaddr_in *)(const void *)&a->ss;
}

static const struct sockaddr_in6 *csin6(const tw_sockaddr *a)
{
	return (const struct sockaddr_in6 *)(const void *)&a->ss;
}

uint16_t tw_sa_port(const tw_sockaddr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(csin4(a)->sin_port);
	if (a->ss.ss_family == AF_INET6)
		return ntohs(csin6(a)->sin6_port);
	return 0;
}

void tw_sa_set_port(tw_sockaddr *a, uint16_t port)
{
	if (a->ss.ss_family == AF_INET)
		sin4(a)->sin_port = htons(port);
	else if (a->ss.ss_family == AF_INET6)
		sin6(a)->sin6_port = htons(port);
}

bool tw_sa_same_host(const tw_sockaddr *a, const tw_sockaddr *b)
{
	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	if (a->ss.ss_family == AF_INET)
		return csin4(a)->sin_addr.s_addr == csin4(b)->sin_addr.s_addr;
	if (a->ss.ss_family == AF_INET6)
		return memcmp(&csin6(a)->sin6_addr, &csin6(b)->sin6_addr, 16) == 0 &&
		       csin6(a)->sin6_scope_id == csin6(b)->sin6_scope_id;
	return false;
}

bool tw_sa_equal(const tw_sockaddr *a, const tw_sockaddr *b)
{
	return tw_sa_same_host(a, b) && tw_sa_port(a) == tw_sa_port(b);
}

bool tw_sa_is_any(const tw_sockaddr *a)
{
	if (a->ss.ss_family == AF_INET)
		return csin4(a)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (a->ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&csin6(a)->sin6_addr);
	return false;
}

void tw_sa_unmap(tw_sockaddr *a)
{
	if (a->ss.ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&sin6(a)->sin6_addr))
		return;
	struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = sin6(a)->sin6_port };
	memcpy(&v4.sin_addr, &sin6(a)->sin6_addr.s6_addr[12], 4);
	memset(&a->ss, 0, sizeof(a->ss));
	memcpy(&a->ss, &v4, sizeof(v4));
	a->len = sizeof(v4);
}

const char *tw_sa_format_host(const tw_sockaddr *a, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN] = "?";
	if (a->ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &csin4(a)->sin_addr, host, sizeof(host));
	else if (a->ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &csin6(a)->sin6_addr, host, sizeof(host));
	snprintf(buf, cap, "%s", host);
	return buf;
}

const char *tw_sa_format(const tw_sockaddr *a, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];
	tw_sa_format_host(a, host, sizeof(host));
	uint16_t port = tw_sa_port(a);
	if (port == 0)
		snprintf(buf, cap, a->ss.ss_family == AF_INET6 ? "[%s]" : "%s", host);
	else
		snprintf(buf, cap, a->ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
	return buf;
}

int tw_sa_from_numeric(const char *host, uint16_t port, tw_sockaddr *out)
{
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *v4 = sin4(out);
	struct sockaddr_in6 *v6 = sin6(out);
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		out->len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		out->len = sizeof(*v6);
		return 0;
	}
	return -EINVAL;
}

void tw_sa_to_wire(const tw_sockaddr *a, uint8_t *ipvn, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (a->ss.ss_family == AF_INET) {
		*ipvn = 4;
		memcpy(addr, &csin4(a)->sin_addr, 4);
	} else {
		*ipvn = 6;
		memcpy(addr, &csin6(a)->sin6_addr, 16);
	}
}

int tw_sa_from_wire(uint8_t ipvn, const uint8_t addr[16], uint16_t port, tw_sockaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (ipvn == 4) {
		sin4(out)->sin_family = AF_INET;
		memcpy(&sin4(out)->sin_addr, addr, 4);
		sin4(out)->sin_port = htons(port);
		out->len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (ipvn == 6) {
		sin6(out)->sin6_family = AF_INET6;
		memcpy(&sin6(out)->sin6_addr, addr, 16);
		sin6(out)->sin6_port = htons(port);
		out->len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -EINVAL;
}

bool tw_wire_addr_is_zero(const uint8_t addr[16])
{
	for (int i = 0; i < 16; i++) {
		if (addr[i])
			return false;
	}
	return true;
}

int tw_net_resolve(const char *host, uint16_t port, int family, tw_sockaddr *out, int *gai_err)
{
	struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host, NULL, &hints, &res);
	if (gai_err)
		*gai_err = rc;
	if (rc != 0 || !res)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	tw_sa_set_port(out, port);
	freeaddrinfo(res);
	return 0;
}

/* ---- sockets ---- */

static int setopt_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? -errno : 0;
}

int tw_net_set_tos(int fd, int family, int tos)
{
	if (family == AF_INET6)
		return setopt_int(fd, IPPROTO_IPV6, IPV6_TCLASS, tos);
	return setopt_int(fd, IPPROTO_IP, IP_TOS, tos);
}

int tw_net_set_ttl(int fd, int family, int ttl)
{
	if (family == AF_INET6)
		return setopt_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl);
	return setopt_int(fd, IPPROTO_IP, IP_TTL, ttl);
}

static int enable_recv_meta(int fd, int family)
{
	int rc = setopt_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
	if (rc == 0 && family == AF_INET6) {
		rc = setopt_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1);
		if (rc == 0)
			rc = setopt_int(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1);
		if (rc == 0)
			rc = setopt_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
	} else if (rc == 0) {
		rc = setopt_int(fd, IPPROTO_IP, IP_RECVTTL, 1);
		if (rc == 0)
			rc = setopt_int(fd, IPPROTO_IP, IP_RECVTOS, 1);
		if (rc == 0)
			rc = setopt_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
	}
	return rc;
}

static int bind_device(int fd, const char *ifname)
{
	if (!ifname || !*ifname)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) < 0)
		return -errno;
	return 0;
}

static int apply_udp_opts(int fd, int family, const tw_udp_opts *o)
{
	int rc = 0;
	if (family == AF_INET6)
		rc = setopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	if (rc == 0 && o->tos >= 0)
		rc = tw_net_set_tos(fd, family, o->tos);
	if (rc == 0 && o->ttl >= 0)
		rc = tw_net_set_ttl(fd, family, o->ttl);
	if (rc == 0 && o->recv_meta)
		rc = enable_recv_meta(fd, family);
	if (rc == 0 && o->reuse_port)
		rc = setopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
	if (rc == 0)
		rc = bind_device(fd, o->ifname);
	return rc;
}

int tw_net_udp_open(const tw_sockaddr *local, const tw_udp_opts *opts)
{
	static const tw_udp_opts defaults = { .tos = -1, .ttl = -1 };
	const tw_udp_opts *o = opts ? opts : &defaults;
	int family = local->ss.ss_family;
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = apply_udp_opts(fd, family, o);
	if (rc == 0 && bind(fd, (const struct sockaddr *)&local->ss, local->len) < 0)
		rc = -errno;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int tw_net_tcp_listen(const tw_sockaddr *local, int backlog)
{
	int family = local->ss.ss_family;
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = setopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (rc == 0 && family == AF_INET6)
		rc = setopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	if (rc == 0 && bind(fd, (const struct sockaddr *)&local->ss, local->len) < 0)
		rc = -errno;
	if (rc == 0 && listen(fd, backlog) < 0)
		rc = -errno;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int tw_net_tcp_connect(const tw_sockaddr *remote, const tw_sockaddr *local, const char *ifname)
{
	int fd = socket(remote->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = bind_device(fd, ifname);
	if (rc == 0 && local && bind(fd, (const struct sockaddr *)&local->ss, local->len) < 0)
		rc = -errno;
	if (rc == 0 && connect(fd, (const struct sockaddr *)&remote->ss, remote->len) < 0 && errno != EINPROGRESS)
		rc = -errno;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int tw_net_connect_result(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

int tw_net_stream_flush(int fd, uint8_t *buf, size_t *len)
{
	while (*len) {
		ssize_t n = send(fd, buf, *len, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		if (n == 0)
			return -EPIPE;
		memmove(buf, buf + n, *len - (size_t)n);
		*len -= (size_t)n;
	}
	return 0;
}

int tw_net_local_addr(int fd, tw_sockaddr *out)
{
	memset(out, 0, sizeof(*out));
	out->len = sizeof(out->ss);
	return getsockname(fd, (struct sockaddr *)&out->ss, &out->len) < 0 ? -errno : 0;
}

int tw_net_peer_addr(int fd, tw_sockaddr *out)
{
	memset(out, 0, sizeof(*out));
	out->len = sizeof(out->ss);
	return getpeername(fd, (struct sockaddr *)&out->ss, &out->len) < 0 ? -errno : 0;
}

/* ---- datagrams ---- */

static void parse_cmsg(struct msghdr *msg, tw_rx_meta *meta)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		const void *d = CMSG_DATA(c);
		int v = 0;
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, d, sizeof(ts));
			meta->rx_real_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
			meta->ts_source = TW_TS_KERNEL;
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
			memcpy(&v, d, sizeof(v));
			meta->ttl = v;
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
			meta->tos = *(const uint8_t *)d; /* one octet, not an int */
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
			memcpy(&v, d, sizeof(v));
			meta->ttl = v;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) {
			memcpy(&v, d, sizeof(v));
			meta->tos = v;
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, d, sizeof(pi));
			struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr = pi.ipi_addr };
			memcpy(&meta->to.ss, &a, sizeof(a));
			meta->to.len = sizeof(a);
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, d, sizeof(pi));
			struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = pi.ipi6_addr };
			memcpy(&meta->to.ss, &a, sizeof(a));
			meta->to.len = sizeof(a);
		}
	}
}

long tw_net_recv(int fd, uint8_t *buf, size_t cap, tw_rx_meta *meta, const tw_clock *clock)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec)) + 4 * CMSG_SPACE(sizeof(int)) +
			 CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} ctrl;
	struct iovec iov = { buf, cap };
	memset(meta, 0, sizeof(*meta));
	struct msghdr msg = {
		.msg_name = &meta->from.ss,
		.msg_namelen = sizeof(meta->from.ss),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctrl.buf,
		.msg_controllen = sizeof(ctrl.buf),
	};
	ssize_t n = recvmsg(fd, &msg, MSG_TRUNC);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	meta->from.len = msg.msg_namelen;
	meta->ttl = -1;
	meta->tos = -1;
	meta->ts_source = TW_TS_USER;
	parse_cmsg(&msg, meta);
	if (meta->ts_source == TW_TS_USER)
		meta->rx_real_ns = tw_clock_real(clock ? clock : &tw_clock_system);
	if ((size_t)n > cap || (msg.msg_flags & MSG_TRUNC))
		return -EMSGSIZE;
	return (long)n;
}

int tw_net_recv_each(int fd, int max, const tw_clock *clock, tw_net_datagram_fn fn, void *arg)
{
	uint8_t buf[TW_NET_RX_BUF];
	int i;
	for (i = 0; i < max; i++) {
		tw_rx_meta m;
		long n = tw_net_recv(fd, buf, sizeof(buf), &m, clock);
		if (n == -EAGAIN)
			break;
		fn(arg, buf, n, &m);
	}
	return i;
}

int tw_net_send(int fd, const uint8_t *buf, size_t len, const tw_sockaddr *dst)
{
	ssize_t n;
	if (dst)
		n = sendto(fd, buf, len, 0, (const struct sockaddr *)&dst->ss, dst->len);
	else
		n = send(fd, buf, len, 0);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int tw_net_send_tos(int fd, const uint8_t *buf, size_t len, const tw_sockaddr *dst, int tos)
{
	if (tos < 0)
		return tw_net_send(fd, buf, len, dst);
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctrl;
	struct iovec iov = { (void *)(uintptr_t)buf, len };
	struct msghdr msg = {
		.msg_name = dst ? (void *)(uintptr_t)&dst->ss : NULL,
		.msg_namelen = dst ? dst->len : 0,
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctrl.buf,
		.msg_controllen = sizeof(ctrl.buf),
	};
	memset(ctrl.buf, 0, sizeof(ctrl.buf));
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	bool v6 = dst ? dst->ss.ss_family == AF_INET6 : false;
	c->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
	c->cmsg_type = v6 ? IPV6_TCLASS : IP_TOS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &tos, sizeof(int));
	ssize_t n = sendmsg(fd, &msg, 0);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return (size_t)n == len ? 0 : -EIO;
}
