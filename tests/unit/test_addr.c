/* test_addr.c - HOST:PORT splitting, host checks, CIDR parse and match. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/un.h>
#include <cmocka.h>

#include "addr.h"

static void test_split_good(void **state)
{
	(void)state;
	static const struct {
		const char *s, *host;
		uint16_t port;
	} cases[] = {
		{ "127.0.0.1:862", "127.0.0.1", 862 },
		{ "[::1]:862", "::1", 862 },
		{ "[::]:0", "::", 0 },
		{ "[fe80::1%eth0]:1", "fe80::1%eth0", 1 },
		{ ":9862", "", 9862 },
		{ "localhost:65535", "localhost", 65535 },
		{ "twamp-1.example.net.:862", "twamp-1.example.net.", 862 },
		{ "_srv.example:1", "_srv.example", 1 },
		{ "host:00862", "host", 862 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char host[TW_ADDR_HOST_MAX + 1];
		uint16_t port = 1;
		int rc = tw_addr_split(cases[i].s, host, sizeof(host), &port);
		if (rc != 0)
			print_error("\"%s\": rc %d\n", cases[i].s, rc);
		assert_int_equal(rc, 0);
		assert_string_equal(host, cases[i].host);
		assert_int_equal(port, cases[i].port);
	}
}

static void test_split_bad(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int rc;
	} cases[] = {
		{ "::1:862", -EINVAL },      { "[::1]862", -EINVAL },    { "[::1]", -EINVAL },
		{ "127.0.0.1", -EINVAL },    { "host:", -EINVAL },       { "host:+1", -EINVAL },
		{ "host:65536", -ERANGE },   { "host:123456", -EINVAL }, { "[1.2.3.4]:80", -EINVAL },
		{ "1.2.3.256:80", -EINVAL }, { "-bad.example:80", -EINVAL }, { "a..b:80", -EINVAL },
		{ "[::1]:80x", -EINVAL },    { "", -EINVAL },            { "[::1:80", -EINVAL },
		{ "ho st:80", -EINVAL },     { "[fe80::1%]:80", -EINVAL }, { "[]:80", -EINVAL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char host[8] = "keep";
		uint16_t port = 7;
		char big[TW_ADDR_HOST_MAX + 1] = "keep";
		int rc = tw_addr_split(cases[i].s, big, sizeof(big), &port);
		if (rc != cases[i].rc)
			print_error("\"%s\": rc %d, expected %d\n", cases[i].s, rc, cases[i].rc);
		assert_int_equal(rc, cases[i].rc);
		assert_string_equal(big, "keep");
		assert_int_equal(port, 7);
		(void)host;
	}
	char tiny[4];
	uint16_t port = 7;
	assert_int_equal(tw_addr_split("example.net:1", tiny, sizeof(tiny), &port), -ENAMETOOLONG);
	assert_int_equal(port, 7);
}

static void test_host_valid(void **state)
{
	(void)state;
	char label63[80], label64[80], name253[300], name254[300];
	memset(label63, 'a', 63);
	strcpy(label63 + 63, ".net");
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".net");
	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
	memset(name253, 'b', 253);
	name253[63] = name253[127] = name253[191] = '.';
	name253[253] = '\0';
	memcpy(name254, name253, 253);
	strcpy(name254 + 253, "c");
	assert_true(tw_addr_host_valid(label63));
	assert_false(tw_addr_host_valid(label64));
	assert_true(tw_addr_host_valid(name253));
	assert_false(tw_addr_host_valid(name254));
	assert_true(tw_addr_host_valid("2001:db8::1"));
	assert_true(tw_addr_host_valid("fe80::1%eth0"));
	assert_false(tw_addr_host_valid("fe80::1%"));
	assert_false(tw_addr_host_valid("[::1]"));
	assert_false(tw_addr_host_valid("1.2.3"));
	assert_false(tw_addr_host_valid(""));
	assert_false(tw_addr_host_valid("a-.example"));
	assert_true(tw_addr_host_valid("1a.example"));
	assert_int_equal(tw_addr_literal_family("192.0.2.1"), AF_INET);
	assert_int_equal(tw_addr_literal_family("::ffff:192.0.2.1"), AF_INET6);
	assert_int_equal(tw_addr_literal_family("example.net"), 0);
}

static void test_cidr_parse(void **state)
{
	(void)state;
	tw_addr_cidr c;
	char buf[64];
	assert_int_equal(tw_addr_cidr_parse("10.0.0.0/8", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 8);
	assert_int_equal(tw_addr_cidr_parse("192.0.2.7", &c), 0);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(tw_addr_cidr_parse("::/0", &c), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefix, 0);
	assert_int_equal(tw_addr_cidr_parse("2001:db8::/32", &c), 0);
	tw_addr_cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::/32");
	assert_int_equal(tw_addr_cidr_parse("10.1.2.3/12", &c), -EDOM);
	tw_addr_cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.0/12"); /* the masked network, for the message */
	assert_int_equal(tw_addr_cidr_parse("10.0.0.0/33", &c), -ERANGE);
	assert_int_equal(tw_addr_cidr_parse("::/129", &c), -ERANGE);
	const char *bad[] = { "", "/8", "10.0.0.0/", "10.0.0.0/8/8", "10.0.0.0/-1", "10.0.0.0/1000",
		"example.net/8", "10.0.0/8", "[::1]/128", "::1 /128" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = tw_addr_cidr_parse(bad[i], &c);
		if (rc != -EINVAL)
			print_error("\"%s\": rc %d\n", bad[i], rc);
		assert_int_equal(rc, -EINVAL);
	}
}

static bool match(const char *cidr, const char *addr)
{
	tw_addr_cidr c;
	uint8_t raw[16];
	assert_true(tw_addr_cidr_parse(cidr, &c) == 0);
	if (inet_pton(AF_INET, addr, raw) == 1)
		return tw_addr_cidr_match(&c, AF_INET, raw);
	assert_int_equal(inet_pton(AF_INET6, addr, raw), 1);
	return tw_addr_cidr_match(&c, AF_INET6, raw);
}

static void test_cidr_match(void **state)
{
	(void)state;
	assert_true(match("10.0.0.0/8", "10.255.0.1"));
	assert_false(match("10.0.0.0/8", "11.0.0.0"));
	assert_true(match("0.0.0.0/0", "203.0.113.9"));
	assert_true(match("192.0.2.128/25", "192.0.2.200"));
	assert_false(match("192.0.2.128/25", "192.0.2.127"));
	assert_true(match("2001:db8::/33", "2001:db8:7fff::1"));
	assert_false(match("2001:db8::/33", "2001:db8:8000::1"));
	assert_true(match("::1", "::1"));
	/* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d. */
	assert_true(match("10.0.0.0/8", "::ffff:10.1.2.3"));
	assert_false(match("10.0.0.0/8", "::ffff:11.1.2.3"));
	assert_false(match("10.0.0.0/8", "2001:db8::a01:203"));
	assert_false(match("::/0", "10.0.0.1"));
}

static void test_allowed(void **state)
{
	(void)state;
	tw_addr_cidr list[2];
	assert_int_equal(tw_addr_cidr_parse("127.0.0.0/8", &list[0]), 0);
	assert_int_equal(tw_addr_cidr_parse("::1/128", &list[1]), 0);
	struct sockaddr_in v4 = { .sin_family = AF_INET };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };
	inet_pton(AF_INET, "127.0.0.2", &v4.sin_addr);
	inet_pton(AF_INET6, "::1", &v6.sin6_addr);
	assert_true(tw_addr_allowed(list, 2, (struct sockaddr *)&v4));
	assert_true(tw_addr_allowed(list, 2, (struct sockaddr *)&v6));
	inet_pton(AF_INET, "192.0.2.1", &v4.sin_addr);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &v6.sin6_addr);
	assert_false(tw_addr_allowed(list, 2, (struct sockaddr *)&v4));
	assert_true(tw_addr_allowed(list, 2, (struct sockaddr *)&v6));
	assert_true(tw_addr_allowed(NULL, 0, (struct sockaddr *)&v4)); /* no list: everyone */
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	assert_false(tw_addr_allowed(NULL, 0, (struct sockaddr *)&un));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_good),
		cmocka_unit_test(test_split_bad),
		cmocka_unit_test(test_host_valid),
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_cidr_match),
		cmocka_unit_test(test_allowed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
