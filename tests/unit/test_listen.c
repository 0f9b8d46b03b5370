/* test_listen.c - listen address forms, errors, and the sockets opened for
 * them (non-blocking, dual-stack only for ":port", ephemeral ports). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"

static void test_parse_forms(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		tw_listen_kind kind;
		const char *host;
		uint16_t port;
	} ok[] = {
		{ ":9862", TW_LISTEN_ANY, "", 9862 },
		{ "0.0.0.0:9862", TW_LISTEN_HOST, "0.0.0.0", 9862 },
		{ "127.0.0.1:0", TW_LISTEN_HOST, "127.0.0.1", 0 },
		{ "[::1]:9862", TW_LISTEN_IPV6, "::1", 9862 },
		{ "[::]:65535", TW_LISTEN_IPV6, "::", 65535 },
		{ "[fe80::1%eth0]:80", TW_LISTEN_IPV6, "fe80::1%eth0", 80 },
		{ "localhost:1", TW_LISTEN_HOST, "localhost", 1 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		tw_listen_spec sp;
		assert_int_equal(tw_listen_parse(ok[i].s, &sp), 0);
		assert_int_equal(sp.kind, ok[i].kind);
		assert_string_equal(sp.host, ok[i].host);
		assert_int_equal(sp.port, ok[i].port);
	}
	static const char *const bad[] = { "", "9862", "x", ":", ":65536", ":123456", ":-1",
		"::1:80", "[::1]", "[::1]:", "[]:80", "[::1]x:80", "host:port", "a b:80",
		"[::1]:80x", "ho$t:80", NULL };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tw_listen_spec sp;
		assert_int_equal(tw_listen_parse(bad[i], &sp), -EINVAL);
	}
}

static void test_error_messages(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(tw_listen_open("x", 8, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
		"--web.listen-address 'x': expected HOST:PORT, [IPv6]:PORT or :PORT");
	assert_true(tw_listen_open("[zz::1]:80", 8, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "--web.listen-address '[zz::1]:80': cannot resolve"));
	/* a port in use */
	int fd = tw_listen_open("127.0.0.1:0", 8, err, sizeof(err));
	assert_true(fd >= 0);
	char again[64];
	snprintf(again, sizeof(again), "127.0.0.1:%d", tw_listen_port(fd));
	assert_int_equal(tw_listen_open(again, 8, err, sizeof(err)), -EADDRINUSE);
	assert_non_null(strstr(err, "Address already in use"));
	close(fd);
}

static int sock_int(int fd, int level, int opt)
{
	int v = -1;
	socklen_t len = sizeof(v);
	assert_int_equal(getsockopt(fd, level, opt, &v, &len), 0);
	return v;
}

static void test_open_sockets(void **state)
{
	(void)state;
	char err[256];
	int v4 = tw_listen_open("127.0.0.1:0", 8, err, sizeof(err));
	assert_true(v4 >= 0);
	assert_true(tw_listen_port(v4) > 0);
	assert_true(fcntl(v4, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(v4, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(sock_int(v4, SOL_SOCKET, SO_REUSEADDR), 1);
	assert_int_equal(sock_int(v4, SOL_SOCKET, SO_ACCEPTCONN), 1);
	close(v4);

	int any = tw_listen_open(":0", 8, err, sizeof(err));
	assert_true(any >= 0);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	getsockname(any, (struct sockaddr *)&ss, &len);
	if (ss.ss_family == AF_INET6) /* dual-stack */
		assert_int_equal(sock_int(any, IPPROTO_IPV6, IPV6_V6ONLY), 0);
	close(any);

	int v6 = tw_listen_open("[::1]:0", 8, err, sizeof(err));
	if (v6 < 0) {
		print_message("no IPv6 loopback (%s); skipping the IPv6 part\n", err);
		return;
	}
	assert_int_equal(sock_int(v6, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	close(v6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_open_sockets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
