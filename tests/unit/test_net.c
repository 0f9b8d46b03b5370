/* test_net.c - addresses, socket options and datagram metadata on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

static void test_format_and_parse(void **state)
{
	(void)state;
	tw_sockaddr a;
	char buf[64];
	assert_int_equal(tw_sa_from_numeric("192.0.2.1", 862, &a), 0);
	assert_string_equal(tw_sa_format(&a, buf, sizeof(buf)), "192.0.2.1:862");
	assert_int_equal(tw_sa_from_numeric("2001:db8::1", 8620, &a), 0);
	assert_string_equal(tw_sa_format(&a, buf, sizeof(buf)), "[2001:db8::1]:8620");
	tw_sa_set_port(&a, 0);
	assert_string_equal(tw_sa_format(&a, buf, sizeof(buf)), "[2001:db8::1]");
	assert_string_equal(tw_sa_format_host(&a, buf, sizeof(buf)), "2001:db8::1");
	assert_int_equal(tw_sa_from_numeric("example.net", 1, &a), -EINVAL);
	assert_int_equal(tw_sa_from_numeric("::ffff:10.1.2.3", 5, &a), 0);
	tw_sa_unmap(&a);
	assert_int_equal(tw_sa_family(&a), AF_INET);
	assert_string_equal(tw_sa_format(&a, buf, sizeof(buf)), "10.1.2.3:5");
	assert_int_equal(tw_sa_from_numeric("0.0.0.0", 0, &a), 0);
	assert_true(tw_sa_is_any(&a));
}

static void test_wire_addresses(void **state)
{
	(void)state;
	tw_sockaddr a, b;
	uint8_t ipvn, w[16];
	assert_int_equal(tw_sa_from_numeric("127.0.0.1", 9552, &a), 0);
	tw_sa_to_wire(&a, &ipvn, w);
	static const uint8_t v4[16] = { 127, 0, 0, 1 };
	assert_int_equal(ipvn, 4);
	assert_memory_equal(w, v4, 16);
	assert_int_equal(tw_sa_from_wire(ipvn, w, 9552, &b), 0);
	assert_true(tw_sa_equal(&a, &b));
	assert_int_equal(tw_sa_from_numeric("::1", 1, &a), 0);
	tw_sa_to_wire(&a, &ipvn, w);
	assert_int_equal(ipvn, 6);
	assert_int_equal(w[15], 1);
	assert_false(tw_wire_addr_is_zero(w));
	memset(w, 0, 16);
	assert_true(tw_wire_addr_is_zero(w));
	assert_int_equal(tw_sa_from_wire(5, w, 1, &b), -EINVAL);
}

static void udp_meta_roundtrip(const char *host, int tos)
{
	tw_sockaddr any, rx_addr;
	assert_int_equal(tw_sa_from_numeric(host, 0, &any), 0);
	tw_udp_opts rxo = { .tos = -1, .ttl = -1, .recv_meta = true };
	tw_udp_opts txo = { .tos = tos, .ttl = 255, .recv_meta = false };
	int rx = tw_net_udp_open(&any, &rxo);
	int tx = tw_net_udp_open(&any, &txo);
	assert_true(rx >= 0 && tx >= 0);
	assert_int_equal(tw_net_local_addr(rx, &rx_addr), 0);
	assert_int_equal(tw_net_send(tx, (const uint8_t *)"hello", 5, &rx_addr), 0);
	struct pollfd p = { rx, POLLIN, 0 };
	assert_int_equal(poll(&p, 1, 2000), 1);
	uint8_t buf[16];
	tw_rx_meta m;
	assert_int_equal(tw_net_recv(rx, buf, sizeof(buf), &m, NULL), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(m.ttl, 255); /* loopback does not decrement */
	assert_int_equal(m.tos, tos);
	assert_int_equal(m.ts_source, TW_TS_KERNEL);
	assert_true(m.rx_real_ns > 1700000000LL * 1000000000LL);
	assert_true(tw_sa_same_host(&m.to, &rx_addr)); /* IP_PKTINFO / IPV6_PKTINFO */
	tw_sockaddr tx_addr;
	tw_net_local_addr(tx, &tx_addr);
	assert_true(tw_sa_equal(&m.from, &tx_addr));
	/* nothing more waiting */
	assert_int_equal(tw_net_recv(rx, buf, sizeof(buf), &m, NULL), -EAGAIN);
	/* an oversized datagram is consumed and reported */
	uint8_t big[64] = { 0 };
	assert_int_equal(tw_net_send(tx, big, sizeof(big), &rx_addr), 0);
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(tw_net_recv(rx, buf, sizeof(buf), &m, NULL), -EMSGSIZE);
	close(rx);
	close(tx);
}

static void test_udp_meta_ipv4(void **state)
{
	(void)state;
	udp_meta_roundtrip("127.0.0.1", 46 << 2);
}

static void test_udp_meta_ipv6(void **state)
{
	(void)state;
	udp_meta_roundtrip("::1", 34 << 2);
}

static void test_tcp_connect(void **state)
{
	(void)state;
	tw_sockaddr a, bound, peer;
	assert_int_equal(tw_sa_from_numeric("127.0.0.1", 0, &a), 0);
	int l = tw_net_tcp_listen(&a, 4);
	assert_true(l >= 0);
	tw_net_local_addr(l, &bound);
	int c = tw_net_tcp_connect(&bound, NULL, NULL);
	assert_true(c >= 0);
	struct pollfd p = { c, POLLOUT, 0 };
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(tw_net_connect_result(c), 0);
	assert_int_equal(tw_net_peer_addr(c, &peer), 0);
	assert_true(tw_sa_equal(&peer, &bound));
	close(c);
	/* a refused connection reports ECONNREFUSED */
	close(l);
	c = tw_net_tcp_connect(&bound, NULL, NULL);
	assert_true(c >= 0);
	p.fd = c;
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(tw_net_connect_result(c), -ECONNREFUSED);
	close(c);
}

static void test_resolve(void **state)
{
	(void)state;
	tw_sockaddr a;
	int gai = 0;
	assert_int_equal(tw_net_resolve("localhost", 862, AF_INET, &a, &gai), 0);
	assert_int_equal(tw_sa_family(&a), AF_INET);
	assert_int_equal(tw_sa_port(&a), 862);
	assert_int_equal(tw_net_resolve("::1", 9, AF_UNSPEC, &a, &gai), 0);
	assert_int_equal(tw_sa_family(&a), AF_INET6);
	assert_int_equal(tw_net_resolve("no-such-host.invalid", 1, AF_UNSPEC, &a, &gai), -ENOENT);
	assert_true(gai != 0);
}

/* Per-datagram DS byte through ancillary data overrides the socket's. */
static void tos_cmsg_roundtrip(const char *host)
{
	tw_sockaddr any, rx_addr;
	assert_int_equal(tw_sa_from_numeric(host, 0, &any), 0);
	tw_udp_opts rxo = { .tos = -1, .ttl = -1, .recv_meta = true };
	tw_udp_opts txo = { .tos = 0, .ttl = 255 };
	int rx = tw_net_udp_open(&any, &rxo), tx = tw_net_udp_open(&any, &txo);
	assert_true(rx >= 0 && tx >= 0);
	tw_net_local_addr(rx, &rx_addr);
	static const int tos[] = { 46 << 2, (10 << 2) | 1, 0 };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(tw_net_send_tos(tx, (const uint8_t *)"x", 1, &rx_addr, tos[i]), 0);
		struct pollfd p = { rx, POLLIN, 0 };
		assert_int_equal(poll(&p, 1, 2000), 1);
		uint8_t buf[4];
		tw_rx_meta m;
		assert_int_equal(tw_net_recv(rx, buf, sizeof(buf), &m, NULL), 1);
		assert_int_equal(m.tos, tos[i]);
	}
	close(rx);
	close(tx);
}

static void test_send_tos_ipv4(void **state)
{
	(void)state;
	tos_cmsg_roundtrip("127.0.0.1");
}

static void test_send_tos_ipv6(void **state)
{
	(void)state;
	tos_cmsg_roundtrip("::1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_and_parse),
		cmocka_unit_test(test_wire_addresses),
		cmocka_unit_test(test_udp_meta_ipv4),
		cmocka_unit_test(test_udp_meta_ipv6),
		cmocka_unit_test(test_tcp_connect),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_send_tos_ipv4),
		cmocka_unit_test(test_send_tos_ipv6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
