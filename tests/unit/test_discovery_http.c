/*
 * test_discovery_http.c - the http_sd source against a tiny HTTP server
 * in the same tw_loop on 127.0.0.1: the initial fetch and its request
 * headers, change detection, a 500 response, a timeout, invalid JSON and
 * oversized bodies (with and without Content-Length) each keeping the last
 * good list and counting a failure, an https URL to the plain-HTTP port
 * failing, and a name resolved through tw_resolver (hosts file). Every
 * wait is bounded by a wall-clock deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "discovery.h"
#include "loop.h"
#include "net.h"
#include "pump.h"
#include "resolver.h"
#include "unavailable.h"

#define MS INT64_C(1000000)

/* ---- the server ---- */

enum mode { M_OK, M_500, M_HANG, M_BIG, M_BIG_STREAM, M_REDIRECT };
enum { CONNS = 8 };

typedef struct hconn {
	int fd;
	tw_io io;
	char req[4096];
	size_t rlen;
	char *out;
	size_t olen, off;
	struct hsrv *srv;
} hconn;

typedef struct hsrv {
	tw_loop *l;
	int fd;
	tw_io io;
	uint16_t port;
	enum mode mode;
	char body[512];
	size_t big;
	int requests;
	char last_req[4096];
	hconn c[CONNS];
} hsrv;

static void conn_close(hconn *c)
{
	tw_io_del(c->srv->l, &c->io);
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
}

static void flush_out(hconn *c)
{
	while (c->off < c->olen) {
		ssize_t w = send(c->fd, c->out + c->off, c->olen - c->off, MSG_NOSIGNAL);
		if (w < 0 && errno == EAGAIN) {
			tw_io_mod(c->srv->l, &c->io, EPOLLIN | EPOLLOUT);
			return;
		}
		if (w <= 0)
			break;
		c->off += (size_t)w;
	}
	conn_close(c); /* every response says Connection: close */
}

static void respond(hconn *c)
{
	hsrv *s = c->srv;
	size_t blen = s->mode == M_BIG || s->mode == M_BIG_STREAM ? s->big : strlen(s->body);
	c->out = malloc(blen + 512);
	assert_non_null(c->out);
	int h;
	if (s->mode == M_500)
		h = snprintf(c->out, 512, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
					  "Connection: close\r\n\r\n");
	else if (s->mode == M_REDIRECT) /* to itself, for ever */
		h = snprintf(c->out, 512, "HTTP/1.1 302 Found\r\nLocation: /sd\r\nContent-Length: 0\r\n"
					  "Connection: close\r\n\r\n");
	else if (s->mode == M_BIG_STREAM)
		h = snprintf(c->out, 512, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
					  "Connection: close\r\n\r\n");
	else
		h = snprintf(c->out, 512, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
					  "Content-Length: %zu\r\nConnection: close\r\n\r\n", blen);
	c->olen = (size_t)h;
	if (s->mode == M_BIG || s->mode == M_BIG_STREAM)
		memset(c->out + c->olen, ' ', blen);
	else if (s->mode == M_OK)
		memcpy(c->out + c->olen, s->body, blen);
	c->olen += s->mode == M_500 || s->mode == M_REDIRECT ? 0 : blen;
	c->off = 0;
	flush_out(c);
}

static void on_conn(void *arg, uint32_t ev)
{
	hconn *c = arg;
	if (c->out) {
		if (ev & EPOLLOUT)
			flush_out(c);
		return;
	}
	ssize_t n = recv(c->fd, c->req + c->rlen, sizeof(c->req) - 1 - c->rlen, 0);
	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			conn_close(c);
		return;
	}
	c->rlen += (size_t)n;
	c->req[c->rlen] = '\0';
	if (!strstr(c->req, "\r\n\r\n"))
		return;
	c->srv->requests++;
	memcpy(c->srv->last_req, c->req, c->rlen + 1);
	if (c->srv->mode != M_HANG)
		respond(c);
}

static void on_accept(void *arg, uint32_t ev)
{
	hsrv *s = arg;
	(void)ev;
	int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (int i = 0; i < CONNS; i++) {
		hconn *c = &s->c[i];
		if (c->fd < 0) {
			*c = (hconn){ .fd = fd, .srv = s };
			tw_io_init(&c->io);
			assert_int_equal(tw_io_add(s->l, &c->io, fd, EPOLLIN, on_conn, c), 0);
			return;
		}
	}
	close(fd);
}

static void srv_start(hsrv *s, tw_loop *l)
{
	memset(s, 0, sizeof(*s));
	s->l = l;
	tw_sockaddr a;
	assert_int_equal(tw_sa_from_numeric("127.0.0.1", 0, &a), 0);
	s->fd = tw_net_tcp_listen(&a, 16);
	assert_true(s->fd >= 0);
	assert_int_equal(tw_net_local_addr(s->fd, &a), 0);
	s->port = tw_sa_port(&a);
	tw_io_init(&s->io);
	assert_int_equal(tw_io_add(l, &s->io, s->fd, EPOLLIN, on_accept, s), 0);
	for (int i = 0; i < CONNS; i++)
		s->c[i].fd = -1;
}

static void srv_stop(hsrv *s)
{
	for (int i = 0; i < CONNS; i++)
		if (s->c[i].fd >= 0)
			conn_close(&s->c[i]);
	tw_io_del(s->l, &s->io);
	close(s->fd);
}

/* ---- fixture ---- */

typedef struct rec {
	int updates;
	size_t n;
	char first[300];
} rec;

static void on_update(void *arg, const tw_discovered *t, size_t n)
{
	rec *r = arg;
	r->updates++;
	r->n = n;
	snprintf(r->first, sizeof(r->first), "%s", n ? t[0].name : "");
}

static uint64_t refreshes(const void *d)
{
	tw_discovery_stats st = tw_discovery_get_stats(d);
	return st.refreshes_ok + st.refreshes_failed;
}

/* Runs until the discovery has finished `count` refreshes or max_ms. */
static bool wait_refreshes(tw_loop *l, const tw_discovery *d, uint64_t count, int max_ms)
{
	return tw_pump_until_at_least(l, refreshes, d, count, max_ms * MS);
}

static tw_config *http_config(const char *url, const char *extra)
{
	char yaml[1024];
	snprintf(yaml, sizeof(yaml),
		 "target_groups:\n"
		 "  - name: cmdb\n"
		 "    discovery:\n"
		 "      http_sd: {url: \"%s\", refresh: 1h, timeout: 500ms%s}\n", url, extra);
	tw_config *cfg = NULL;
	tw_config_error err;
	if (tw_config_load_buffer("t.yml", NULL, yaml, strlen(yaml), &cfg, &err) != 0)
		fail_msg("config: %s", err.msg);
	return cfg;
}

static const tw_discovery_opts opts = { .ignore_env = true, .no_jitter = true,
	.http_max_body = 65536 };

static void test_http_sd(void **state)
{
	(void)state;
	tw_loop *l = tw_loop_new(NULL);
	hsrv s;
	srv_start(&s, l);
	char url[128], tokfile[64] = "/tmp/tw-disc-token-XXXXXX", extra[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/sd", s.port);
	int tfd = mkstemp(tokfile);
	assert_true(tfd >= 0);
	assert_int_equal(write(tfd, "s3cr3t-token\n", 13), 13);
	close(tfd);
	snprintf(extra, sizeof(extra), ", bearer_token_file: %s", tokfile);
	tw_config *cfg = http_config(url, extra);
	snprintf(s.body, sizeof(s.body), "[{\"targets\": [\"10.0.0.1:862\"], \"labels\": {\"a\": \"b\"}}]");
	rec r = { 0 };
	int err;
	tw_discovery *d = tw_discovery_new(l, NULL, &cfg->groups[0], &opts, on_update, &r, &err);
	assert_non_null(d);

	/* Initial fetch, and what the request looked like. */
	assert_true(wait_refreshes(l, d, 1, 3000));
	assert_int_equal(r.updates, 1);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.first, "10.0.0.1:862");
	assert_non_null(strstr(s.last_req, "GET /sd HTTP/1.1\r\n"));
	assert_non_null(strstr(s.last_req, "\r\nUser-Agent: twamp-agent/"));
	assert_non_null(strstr(s.last_req, "\r\nAccept: application/json\r\n"));
	assert_non_null(strstr(s.last_req, "\r\nX-Prometheus-Refresh-Interval-Seconds: 3600\r\n"));
	assert_non_null(strstr(s.last_req, "\r\nAuthorization: Bearer s3cr3t-token\r\n"));

	/* A changed list is reported; the same list is not. */
	snprintf(s.body, sizeof(s.body), "[{\"targets\": [\"10.0.0.1:862\", \"10.0.0.2:862\"]}]");
	tw_discovery_refresh_now(d);
	assert_true(wait_refreshes(l, d, 2, 3000));
	assert_int_equal(r.updates, 2);
	assert_int_equal(r.n, 2);
	tw_discovery_refresh_now(d);
	assert_true(wait_refreshes(l, d, 3, 3000));
	assert_int_equal(r.updates, 2);
	assert_int_equal(tw_discovery_get_stats(d).refreshes_ok, 3);

	/* Failures keep the last good list and are counted. */
	struct {
		enum mode mode;
		const char *body;
		const char *error; /* after "URL: " */
	} fails[] = {
		{ M_500, "", "HTTP status 500" },
		{ M_HANG, "", "Timeout was reached" },
		{ M_OK, "[{\"targets\": 5}]", "1:14: found a number, expected a list of targets such as "
					      "[\"10.0.0.1:862\", \"b.example:862\"]" },
		{ M_OK, "", "1:1: found the end of the input, expected a list of target groups" },
		{ M_BIG, "", "response larger than 65536 octets" },
		{ M_BIG_STREAM, "", "response larger than 65536 octets" },
		{ M_REDIRECT, "", "Number of redirects hit maximum amount" },
	};
	for (size_t i = 0; i < sizeof(fails) / sizeof(fails[0]); i++) {
		s.mode = fails[i].mode;
		s.big = 200000;
		snprintf(s.body, sizeof(s.body), "%s", fails[i].body);
		uint64_t before = refreshes(d);
		int requests = s.requests;
		tw_discovery_refresh_now(d);
		assert_true(wait_refreshes(l, d, before + 1, 3000));
		if (fails[i].mode == M_REDIRECT)
			assert_int_equal(s.requests - requests, 6); /* the first and 5 redirects */
		tw_discovery_stats st = tw_discovery_get_stats(d);
		assert_int_equal(st.refreshes_failed, i + 1);
		assert_int_equal(st.targets, 2);
		char want[400];
		snprintf(want, sizeof(want), "%s: %s", url, fails[i].error);
		if (strncmp(st.last_error, want, strlen(want)) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s...\"", i, st.last_error, want);
		for (int k = 0; k < CONNS; k++) /* drop hanging connections */
			if (s.c[k].fd >= 0)
				conn_close(&s.c[k]);
	}
	assert_int_equal(r.updates, 2);
	size_t n;
	tw_discovery_targets(d, &n);
	assert_int_equal(n, 2);

	/* It recovers. */
	s.mode = M_OK;
	snprintf(s.body, sizeof(s.body), "[]");
	tw_discovery_refresh_now(d);
	assert_true(wait_refreshes(l, d, refreshes(d) + 1, 3000));
	assert_int_equal(r.updates, 3);
	assert_int_equal(r.n, 0);
	assert_string_equal(tw_discovery_get_stats(d).last_error, "");

	/* A missing token file fails the refresh before any request. */
	unlink(tokfile);
	int before = s.requests;
	tw_discovery_refresh_now(d);
	assert_true(wait_refreshes(l, d, refreshes(d) + 1, 3000));
	assert_int_equal(s.requests, before);
	assert_non_null(strstr(tw_discovery_get_stats(d).last_error, "cannot read bearer_token_file"));
	assert_null(strstr(tw_discovery_get_stats(d).last_error, "s3cr3t"));

	tw_discovery_free(d);
	srv_stop(&s);
	assert_int_equal(tw_loop_timer_count(l), 0);
	tw_loop_free(l);
	tw_config_free(cfg);
}

/* An https URL to a plain-HTTP port must fail, never fall back. */
static void test_https_to_plain(void **state)
{
	(void)state;
	tw_loop *l = tw_loop_new(NULL);
	hsrv s;
	srv_start(&s, l);
	snprintf(s.body, sizeof(s.body), "[{\"targets\": [\"10.0.0.1:862\"]}]");
	char url[128];
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/sd", s.port);
	tw_config *cfg = http_config(url, "");
	rec r = { 0 };
	int err;
	tw_discovery *d = tw_discovery_new(l, NULL, &cfg->groups[0], &opts, on_update, &r, &err);
	assert_non_null(d);
	assert_true(wait_refreshes(l, d, 1, 3000));
	tw_discovery_stats st = tw_discovery_get_stats(d);
	assert_int_equal(st.refreshes_ok, 0);
	assert_int_equal(st.refreshes_failed, 1);
	assert_int_equal(r.updates, 0);
	tw_discovery_free(d);
	srv_stop(&s);
	tw_loop_free(l);
	tw_config_free(cfg);
}

/* A host name is resolved by tw_resolver (here from its hosts file) and
 * handed to libcurl; a name that does not resolve fails the refresh. */
static void test_resolved_name(void **state)
{
	(void)state;
	char dir[64] = "/tmp/tw-disc-http-XXXXXX", conf[128], hosts[128];
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/resolv.conf", dir);
	snprintf(hosts, sizeof(hosts), "%s/hosts", dir);
	FILE *f = fopen(conf, "w");
	fputs("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n", f);
	fclose(f);
	f = fopen(hosts, "w");
	fputs("127.0.0.1 sd.test\n", f);
	fclose(f);
	tw_loop *l = tw_loop_new(NULL);
	tw_resolver_opts ro = { .resolv_conf = conf, .hosts = hosts };
	tw_resolver *res = tw_resolver_new(l, &ro);
	assert_non_null(res);
	hsrv s;
	srv_start(&s, l);
	snprintf(s.body, sizeof(s.body), "[{\"targets\": [\"10.0.0.9\"]}]");
	char url[128];
	snprintf(url, sizeof(url), "http://sd.test:%u/x", s.port);
	tw_config *cfg = http_config(url, "");
	rec r = { 0 };
	int err;
	tw_discovery *d = tw_discovery_new(l, res, &cfg->groups[0], &opts, on_update, &r, &err);
	assert_non_null(d);
	assert_true(wait_refreshes(l, d, 1, 3000));
	assert_int_equal(r.updates, 1);
	assert_string_equal(r.first, "10.0.0.9");
	assert_non_null(strstr(s.last_req, "\r\nHost: sd.test:"));
	tw_discovery_free(d);
	tw_config_free(cfg);

	snprintf(url, sizeof(url), "http://nowhere.invalid:%u/x", s.port);
	cfg = http_config(url, "");
	d = tw_discovery_new(l, res, &cfg->groups[0], &opts, on_update, &r, &err);
	assert_true(wait_refreshes(l, d, 1, 5000));
	assert_int_equal(tw_discovery_get_stats(d).refreshes_failed, 1);
	assert_non_null(strstr(tw_discovery_get_stats(d).last_error, "cannot resolve nowhere.invalid"));
	tw_discovery_free(d);
	tw_config_free(cfg);

	srv_stop(&s);
	tw_resolver_free(res);
	tw_loop_free(l);
	unlink(conf);
	unlink(hosts);
	rmdir(dir);
}

/* Freeing while a transfer hangs closes everything it had in the loop. */
static void test_free_during_transfer(void **state)
{
	(void)state;
	tw_loop *l = tw_loop_new(NULL);
	hsrv s;
	srv_start(&s, l);
	s.mode = M_HANG;
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/sd", s.port);
	tw_config *cfg = http_config(url, "");
	rec r = { 0 };
	int err;
	tw_discovery *d = tw_discovery_new(l, NULL, &cfg->groups[0], &opts, on_update, &r, &err);
	assert_non_null(d);
	(void)tw_pump_until_count(l, &s.requests, 1, 3000 * MS);
	assert_int_equal(s.requests, 1);
	tw_discovery_free(d);
	assert_int_equal(tw_loop_timer_count(l), 0);
	srv_stop(&s);
	/* No handle of the discovery is left: the loop has nothing to run. */
	assert_int_equal(tw_loop_run_once(l, 0), 0);
	tw_loop_free(l);
	tw_config_free(cfg);
}

/* ---- TLS: a Python https server with a self-signed certificate ---- */

static const char TLS_SERVER[] =
	"import http.server, ssl, sys\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def do_GET(self):\n"
	"        b = b'[{\"targets\": [\"10.7.0.1:862\"]}]'\n"
	"        self.send_response(200)\n"
	"        self.send_header('Content-Length', str(len(b)))\n"
	"        self.end_headers()\n"
	"        self.wfile.write(b)\n"
	"    def log_message(self, *a):\n"
	"        pass\n"
	"s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
	"c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
	"c.load_cert_chain(sys.argv[1], sys.argv[2])\n"
	"s.socket = c.wrap_socket(s.socket, server_side=True)\n"
	"s.timeout = 1\n"
	"import os\n"
	"print(s.server_address[1], os.getpid(), flush=True)\n"
	"for i in range(40):\n"
	"    s.handle_request()\n";

typedef struct tls_fx {
	char dir[64];
	char cert[128], key[128], hosts[128], conf[128], script[128];
	FILE *srv;
	int port;
	pid_t pid;
} tls_fx;

static bool tls_start(tls_fx *x)
{
	snprintf(x->dir, sizeof(x->dir), "/tmp/tw-disc-tls-XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->cert, sizeof(x->cert), "%s/cert.pem", x->dir);
	snprintf(x->key, sizeof(x->key), "%s/key.pem", x->dir);
	snprintf(x->hosts, sizeof(x->hosts), "%s/hosts", x->dir);
	snprintf(x->conf, sizeof(x->conf), "%s/resolv.conf", x->dir);
	snprintf(x->script, sizeof(x->script), "%s/srv.py", x->dir);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
		 "-nodes -keyout %s -out %s -days 2 -subj /CN=sd.test -addext subjectAltName=DNS:sd.test "
		 ">/dev/null 2>&1", x->key, x->cert);
	if (system(cmd) != 0)
		return false;
	FILE *f = fopen(x->script, "w");
	fputs(TLS_SERVER, f);
	fclose(f);
	f = fopen(x->hosts, "w");
	fputs("127.0.0.1 sd.test\n", f);
	fclose(f);
	f = fopen(x->conf, "w");
	fputs("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "exec python3 %s %s %s", x->script, x->cert, x->key);
	x->srv = popen(cmd, "r");
	char line[64], *end;
	if (!x->srv || !fgets(line, sizeof(line), x->srv))
		return false;
	x->port = (int)strtol(line, &end, 10);
	x->pid = (pid_t)strtol(end, NULL, 10);
	return x->port > 0 && x->pid > 0;
}

static void tls_stop(tls_fx *x)
{
	char cmd[160];
	if (x->pid > 0)
		kill(x->pid, SIGTERM); /* our own child's python, by its id */
	if (x->srv)
		pclose(x->srv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
	if (system(cmd) != 0)
		fail_msg("cleanup failed");
}

/* Fetches url once with extra config; returns the stats. */
static tw_discovery_stats tls_fetch(tw_loop *l, tw_resolver *res, const char *url, const char *extra,
				    rec *r)
{
	tw_config *cfg = http_config(url, extra);
	int err;
	tw_discovery *d = tw_discovery_new(l, res, &cfg->groups[0], &opts, on_update, r, &err);
	assert_non_null(d);
	assert_true(wait_refreshes(l, d, 1, 5000));
	tw_discovery_stats st = tw_discovery_get_stats(d);
	tw_discovery_free(d);
	tw_config_free(cfg);
	return st;
}

/* Verification is on: a self-signed server fails unless its certificate
 * is the configured CA, and the name must match the certificate. */
static void test_tls_verification(void **state)
{
	(void)state;
	tls_fx x;
	memset(&x, 0, sizeof(x));
	if (!tls_start(&x)) {
		tls_stop(&x);
		tw_test_unavailable("no TLS test server (the openssl command and python3 make it)");
	}
	tw_loop *l = tw_loop_new(NULL);
	tw_resolver_opts ro = { .resolv_conf = x.conf, .hosts = x.hosts };
	tw_resolver *res = tw_resolver_new(l, &ro);
	char url[128], ca[200];
	snprintf(ca, sizeof(ca), ", tls_ca_file: %s", x.cert);
	rec r = { 0 };

	snprintf(url, sizeof(url), "https://sd.test:%d/sd", x.port);
	tw_discovery_stats st = tls_fetch(l, res, url, "", &r);
	assert_int_equal(st.refreshes_failed, 1);
	assert_int_equal(r.updates, 0);
	assert_non_null(strstr(st.last_error, "certificate"));

	st = tls_fetch(l, res, url, ca, &r);
	if (st.refreshes_ok != 1)
		fail_msg("with the CA: %s", st.last_error);
	assert_int_equal(r.updates, 1);
	assert_string_equal(r.first, "10.7.0.1:862");

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/sd", x.port); /* not the certificate's name */
	st = tls_fetch(l, res, url, ca, &r);
	assert_int_equal(st.refreshes_failed, 1);
	assert_int_equal(r.updates, 1);

	tw_resolver_free(res);
	tw_loop_free(l);
	tls_stop(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_sd),
		cmocka_unit_test(test_https_to_plain),
		cmocka_unit_test(test_resolved_name),
		cmocka_unit_test(test_tls_verification),
		cmocka_unit_test(test_free_during_transfer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
