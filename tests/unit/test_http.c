/* test_http.c - the HTTP server inside a tw_loop on 127.0.0.1:0 and
 * [::1]:0, exercised by plain socket clients in the same thread: /metrics
 * (status, Content-Type, body, gzip), 404, 405 with Allow, HEAD, request
 * bodies and their limit, handler failure, and clients that send garbage or
 * stall (others are still served; idle ones are timed out by the loop
 * timer re-armed from MHD_get_timeout). Every wait has a deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "http.h"
#include "loop.h"
#include "prom.h"
#include "registry.h"
#include "scrape.h"

#define DEADLINE_MS 5000
#define RESP_MAX (1 << 20)

struct resp {
	int status;
	char headers[4096];
	char *body;
	size_t body_len;
	bool closed; /* the server closed the connection */
};

struct fixture {
	tw_loop *loop;
	tw_http *http;
	tw_registry *reg;
	tw_scrape *scrape;
	int port4, port6; /* port6 < 0 without IPv6 loopback */
	char expected[1 << 16];
	size_t expected_len;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_to(int family, int port)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	int rc;
	if (family == AF_INET) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	} else {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
		a.sin6_addr = in6addr_loopback;
		rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	}
	assert_true(rc == 0 || errno == EINPROGRESS);
	return fd;
}

static void send_all(struct fixture *fx, int fd, const char *data, size_t len)
{
	size_t off = 0;
	int64_t end = now_ms() + DEADLINE_MS;
	while (off < len && now_ms() < end) {
		ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t)n;
		else
			tw_loop_run_once(fx->loop, 1000000);
	}
	assert_int_equal(off, len);
}

/* Runs the loop until the server closes fd (or the deadline); returns all
 * bytes received. */
static size_t read_until_close(struct fixture *fx, int fd, char *buf, size_t cap, bool *closed,
	int64_t deadline_ms)
{
	size_t len = 0;
	int64_t end = now_ms() + deadline_ms;
	*closed = false;
	while (now_ms() < end) {
		tw_loop_run_once(fx->loop, 2000000);
		ssize_t n = recv(fd, buf + len, cap - len, 0);
		if (n > 0)
			len += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			*closed = true;
			break;
		}
	}
	return len;
}

static void parse_response(char *raw, size_t len, struct resp *r)
{
	memset(r, 0, sizeof(*r));
	r->status = -1;
	char *sep = memmem(raw, len, "\r\n\r\n", 4);
	if (len < 12 || !sep)
		return;
	r->status = (int)strtol(raw + 9, NULL, 10);
	size_t hl = (size_t)(sep - raw);
	snprintf(r->headers, sizeof(r->headers), "%.*s", (int)hl, raw);
	r->body = sep + 4;
	r->body_len = len - hl - 4;
}

/* Sends a raw request on a fresh connection and collects the response. */
static char raw_buf[RESP_MAX];

static void request(struct fixture *fx, int family, const char *req, struct resp *r)
{
	int port = family == AF_INET ? fx->port4 : fx->port6;
	int fd = connect_to(family, port);
	send_all(fx, fd, req, strlen(req));
	bool closed;
	size_t len = read_until_close(fx, fd, raw_buf, sizeof(raw_buf), &closed, DEADLINE_MS);
	close(fd);
	parse_response(raw_buf, len, r);
	r->closed = closed;
}

static const char *header(const struct resp *r, const char *name)
{
	static char value[512];
	const char *p = r->headers;
	size_t n = strlen(name);
	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			while (*v == ' ')
				v++;
			snprintf(value, sizeof(value), "%.*s", (int)strcspn(v, "\r"), v);
			return value;
		}
	}
	return NULL;
}

/* ---- handlers ---- */

static int healthy(void *arg, const tw_http_request *req, tw_http_response *resp)
{
	(void)arg;
	(void)req;
	tw_http_response_text(resp, 200, "Healthy\n");
	return 0;
}

static int reload(void *arg, const tw_http_request *req, tw_http_response *resp)
{
	int *count = arg;
	(*count)++;
	tw_http_response_text(resp, 200, strcmp(req->method, "POST") == 0 ? "reloaded\n" : "?");
	return 0;
}

static int broken(void *arg, const tw_http_request *req, tw_http_response *resp)
{
	(void)arg;
	(void)req;
	(void)resp;
	return -EIO;
}

static int reload_count;

static void mhd_log(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "[%lld] mhd: %s\n", (long long)now_ms() % 100000, msg);
}

static void fixture_init(struct fixture *fx, unsigned timeout_s, unsigned limit)
{
	memset(fx, 0, sizeof(*fx));
	fx->loop = tw_loop_new(NULL);
	assert_non_null(fx->loop);
	tw_http_options o = { .connection_limit = limit, .connection_timeout_s = timeout_s,
		.body_limit = 4096, .log = getenv("TW_HTTP_DEBUG") ? mhd_log : NULL };
	fx->http = tw_http_new(fx->loop, &o);
	fx->reg = tw_registry_new();
	static const char *const l[] = { "target" };
	tw_family *f;
	tw_family_spec s = { TW_METRIC_COUNTER, "twamp_test_packets_sent_total", "Sent.", l, 1 };
	assert_int_equal(tw_registry_add(fx->reg, &s, &f), 0);
	for (int i = 0; i < 200; i++) { /* enough text for gzip to matter */
		char name[32];
		snprintf(name, sizeof(name), "pop-%d", i);
		tw_counter *c;
		tw_registry_counter(f, (const char *[]){ name }, &c);
		tw_counter_add(c, (uint64_t)i);
	}
	tw_buf b;
	tw_buf_init(&b, sizeof(fx->expected));
	assert_int_equal(tw_prom_render(fx->reg, &b), 0);
	memcpy(fx->expected, b.data, b.len);
	fx->expected_len = b.len;
	tw_buf_fini(&b);
	fx->scrape = tw_scrape_new(fx->reg, NULL);
	assert_int_equal(tw_http_route(fx->http, "GET", "/metrics", tw_scrape_handler, fx->scrape), 0);
	assert_int_equal(tw_http_route(fx->http, "GET", "/-/healthy", healthy, NULL), 0);
	assert_int_equal(tw_http_route(fx->http, "POST", "/-/reload", reload, &reload_count), 0);
	assert_int_equal(tw_http_route(fx->http, "GET", "/broken", broken, NULL), 0);
	char err[256];
	assert_int_equal(tw_http_listen(fx->http, "127.0.0.1:0", err, sizeof(err)), 0);
	fx->port4 = tw_http_listener_port(fx->http, 0);
	fx->port6 = -1;
	if (tw_http_listen(fx->http, "[::1]:0", err, sizeof(err)) == 0)
		fx->port6 = tw_http_listener_port(fx->http, 1);
	else
		print_message("no IPv6 loopback: %s\n", err);
	assert_true(fx->port4 > 0);
}

static void fixture_fini(struct fixture *fx)
{
	tw_http_free(fx->http);
	tw_scrape_free(fx->scrape);
	tw_registry_free(fx->reg);
	tw_loop_free(fx->loop);
}

#define GET_METRICS "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"

static void check_metrics(struct fixture *fx, int family)
{
	struct resp r;
	request(fx, family, GET_METRICS "\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
	assert_null(header(&r, "Content-Encoding"));
	assert_int_equal(r.body_len, fx->expected_len);
	assert_memory_equal(r.body, fx->expected, fx->expected_len);
}

static void test_metrics_v4_and_v6(void **state)
{
	(void)state;
	struct fixture fx;
	fixture_init(&fx, 5, 0);
	check_metrics(&fx, AF_INET);
	check_metrics(&fx, AF_INET); /* the reused buffers give the same answer */
	if (fx.port6 > 0)
		check_metrics(&fx, AF_INET6);
	else
		print_message("IPv6 part skipped\n");
	assert_true(tw_scrape_get_stats(fx.scrape).scrapes >= 2);
	fixture_fini(&fx);
}

static long gunzip(const char *in, size_t n, char *out, size_t cap)
{
	z_stream zs = { 0 };
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return -1;
	zs.next_in = (unsigned char *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = (unsigned char *)out;
	zs.avail_out = (uInt)cap;
	int rc = inflate(&zs, Z_FINISH);
	long len = rc == Z_STREAM_END ? (long)zs.total_out : -1;
	inflateEnd(&zs);
	return len;
}

static void test_gzip_negotiation(void **state)
{
	(void)state;
	struct fixture fx;
	fixture_init(&fx, 5, 0);
	struct resp r;
	request(&fx, AF_INET, GET_METRICS "Accept-Encoding: gzip\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Encoding"), "gzip");
	assert_string_equal(header(&r, "Vary"), "Accept-Encoding");
	assert_string_equal(header(&r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
	assert_true(r.body_len < fx.expected_len / 3);
	static char plain[1 << 16];
	assert_int_equal(gunzip(r.body, r.body_len, plain, sizeof(plain)), (long)fx.expected_len);
	assert_memory_equal(plain, fx.expected, fx.expected_len);

	request(&fx, AF_INET, GET_METRICS "Accept-Encoding: gzip;q=0, deflate\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_null(header(&r, "Content-Encoding"));
	assert_int_equal(r.body_len, fx.expected_len);
	fixture_fini(&fx);
}

static void test_routing_errors_and_head(void **state)
{
	(void)state;
	struct fixture fx;
	fixture_init(&fx, 5, 0);
	struct resp r;
	request(&fx, AF_INET, "GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &r);
	assert_int_equal(r.status, 404);

	request(&fx, AF_INET, "POST /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
			      "Content-Length: 0\r\n\r\n", &r);
	assert_int_equal(r.status, 405);
	assert_string_equal(header(&r, "Allow"), "GET, HEAD");

	request(&fx, AF_INET, "GET /-/reload HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &r);
	assert_int_equal(r.status, 405);
	assert_string_equal(header(&r, "Allow"), "POST");

	request(&fx, AF_INET, "HEAD /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
	char len[32];
	snprintf(len, sizeof(len), "%zu", fx.expected_len);
	assert_string_equal(header(&r, "Content-Length"), len);
	assert_int_equal(r.body_len, 0);

	request(&fx, AF_INET, "GET /broken HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &r);
	assert_int_equal(r.status, 500);

	request(&fx, AF_INET, "GET /-/healthy?x=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &r);
	assert_int_equal(r.status, 200); /* the query string is not part of the path */
	assert_int_equal(r.body_len, 8);
	assert_memory_equal(r.body, "Healthy\n", 8);
	fixture_fini(&fx);
}

static void test_request_bodies(void **state)
{
	(void)state;
	struct fixture fx;
	fixture_init(&fx, 5, 0);
	struct resp r;
	reload_count = 0;
	char req[512];
	snprintf(req, sizeof(req), "POST /-/reload HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
				   "Content-Length: 100\r\n\r\n%0100d", 7);
	request(&fx, AF_INET, req, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(reload_count, 1);
	assert_memory_equal(r.body, "reloaded\n", 9);

	request(&fx, AF_INET, "POST /-/reload HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
			      "Content-Length: 1000000\r\n\r\nxxxx", &r);
	assert_int_equal(r.status, 413);
	assert_int_equal(reload_count, 1); /* the handler never ran */

	/* a chunked body over the limit: the connection is dropped, no handler */
	static char big[8192];
	int n = snprintf(big, sizeof(big), "POST /-/reload HTTP/1.1\r\nHost: t\r\n"
					   "Transfer-Encoding: chunked\r\n\r\n1388\r\n");
	memset(big + n, 'x', 5000);
	memcpy(big + n + 5000, "\r\n0\r\n\r\n", 8);
	request(&fx, AF_INET, big, &r);
	assert_true(r.closed);
	assert_true(r.status != 200);
	assert_int_equal(reload_count, 1);
	check_metrics(&fx, AF_INET); /* and the server is fine */
	fixture_fini(&fx);
}

static void test_garbage_and_stalled_clients(void **state)
{
	(void)state;
	struct fixture fx;
	fixture_init(&fx, 1, 0); /* 1 s idle timeout */
	/* a client that sent half a request line and stalls */
	int stalled = connect_to(AF_INET, fx.port4);
	send_all(&fx, stalled, "GET /metr", 9);
	/* a client that sends binary garbage */
	struct resp r;
	request(&fx, AF_INET, "\x01\x02\x03\xff garbage \x7f\r\n\r\n", &r);
	assert_true(r.closed);
	assert_true(r.status == 400 || r.status == -1);
	/* a client that connects and never says anything */
	int silent = connect_to(AF_INET, fx.port4);
	/* others are served meanwhile */
	int64_t t0 = now_ms();
	check_metrics(&fx, AF_INET);
	if (fx.port6 > 0)
		check_metrics(&fx, AF_INET6);
	assert_true(now_ms() - t0 < 1000);
	/* the idle connections are closed by the timeout (the loop timer armed
	 * from MHD_get_timeout drives this: no traffic arrives) */
	char buf[256];
	bool closed;
	read_until_close(&fx, stalled, buf, sizeof(buf), &closed, 4000);
	assert_true(closed);
	read_until_close(&fx, silent, buf, sizeof(buf), &closed, 4000);
	assert_true(closed);
	close(stalled);
	close(silent);
	fixture_fini(&fx);
}

static void test_connection_limit(void **state)
{
	(void)state;
	struct fixture fx;
	fixture_init(&fx, 1, 2);
	int a = connect_to(AF_INET, fx.port4), b = connect_to(AF_INET, fx.port4);
	send_all(&fx, a, "GET /", 5);
	send_all(&fx, b, "GET /", 5);
	for (int i = 0; i < 20; i++)
		tw_loop_run_once(fx.loop, 2000000);
	/* the limit is reached: a third client waits in the listen backlog
	 * until the stalled ones time out (1 s), then it is served */
	struct resp r;
	int64_t t0 = now_ms();
	request(&fx, AF_INET, GET_METRICS "\r\n", &r);
	int64_t waited = now_ms() - t0;
	assert_int_equal(r.status, 200);
	assert_true(waited >= 800 && waited < 4000);
	char buf[64];
	bool closed;
	read_until_close(&fx, a, buf, sizeof(buf), &closed, 1000);
	assert_true(closed);
	read_until_close(&fx, b, buf, sizeof(buf), &closed, 1000);
	assert_true(closed);
	check_metrics(&fx, AF_INET);
	close(a);
	close(b);
	fixture_fini(&fx);
}

static void test_listen_errors_and_routes(void **state)
{
	(void)state;
	tw_loop *l = tw_loop_new(NULL);
	tw_http *h = tw_http_new(l, NULL);
	char err[256];
	assert_int_equal(tw_http_listen(h, "nonsense", err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
		"--web.listen-address 'nonsense': expected HOST:PORT, [IPv6]:PORT or :PORT");
	assert_int_equal(tw_http_listener_count(h), 0);
	assert_int_equal(tw_http_listener_port(h, 0), -EINVAL);
	assert_int_equal(tw_http_route(h, "GET", "/a", healthy, NULL), 0);
	assert_int_equal(tw_http_route(h, "GET", "/a", healthy, NULL), -EEXIST);
	assert_int_equal(tw_http_route(h, "HEAD", "/b", healthy, NULL), -EINVAL);
	assert_int_equal(tw_http_route(h, "GET", "b", healthy, NULL), -EINVAL);
	assert_int_equal(tw_http_listen(h, ":0", err, sizeof(err)), 0); /* all addresses */
	assert_true(tw_http_listener_port(h, 0) > 0);
	tw_http_free(h);
	tw_http_free(NULL);
	assert_int_equal(tw_loop_timer_count(l), 0); /* the server left nothing armed */
	tw_loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_v4_and_v6),
		cmocka_unit_test(test_gzip_negotiation),
		cmocka_unit_test(test_routing_errors_and_head),
		cmocka_unit_test(test_request_bodies),
		cmocka_unit_test(test_garbage_and_stalled_clients),
		cmocka_unit_test(test_connection_limit),
		cmocka_unit_test(test_listen_errors_and_routes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
