/*
 * test_resolver.c - agent/resolver against a fake DNS server living in the
 * same event loop (UDP and TCP on 127.0.0.1, canned answers per name), with
 * a temporary resolv.conf and hosts file. Every wait is bounded by a
 * wall-clock deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "dnsmsg.h"
#include "fakedns.h"
#include "loop.h"
#include "net.h"
#include "pump.h"
#include "resolver.h"
#include "unavailable.h"

#define MS INT64_C(1000000)

static int64_t wall_ms(void)
{
	return tw_pump_mono_ns() / MS;
}

/* ---- the fake server's zone (support/fakedns.h) ---- */

typedef tw_fakedns fake;

static bool is_a(const tw_fakedns_query *q)
{
	return q->qtype == TW_DNS_TYPE_A;
}

/* "host<N>.many.test" */
static bool many_host(const char *n, unsigned *num)
{
	static const char suffix[] = ".many.test";
	char *end;
	if (strncmp(n, "host", 4) != 0)
		return false;
	unsigned long v = strtoul(n + 4, &end, 10);
	*num = (unsigned)v;
	return end != n + 4 && strcmp(end, suffix) == 0;
}

/* Before the real answer to spoof.test: a wrong ID, a wrong question, a
 * garbled body and a datagram from another port. */
static void send_spoofs(fake *f, const tw_fakedns_query *q, const tw_dnsmsg *good, const tw_sockaddr *to)
{
	static tw_dnsmsg bad;
	bad = *good;
	bad.b[1] ^= 1;
	tw_fakedns_send(f, bad.b, bad.n, to, false);
	bad = *good;
	bad.b[TW_DNS_HDR_LEN + 1] = 'x'; /* xpoof.test */
	tw_fakedns_send(f, bad.b, bad.n, to, false);
	bad = *good;
	tw_fakedns_send(f, bad.b, bad.n - 3, to, false); /* record cut short */
	tw_fakedns_reply_start(&bad, q, 0);
	tw_fakedns_answer_addr(&bad, 12, 60, "6.6.6.6");
	tw_fakedns_send(f, bad.b, bad.n, to, true);
}

/* alias.test: a CNAME to target.test, then (A) its address. */
static void answer_alias(const tw_fakedns_query *q, tw_dnsmsg *o)
{
	tw_dnsmsg_ptr(o, 12);
	size_t rd = tw_dnsmsg_cname_begin(o, 10);
	tw_dnsmsg_name(o, "target.test");
	tw_dnsmsg_cname_end(o, rd);
	tw_fakedns_count_answer(o);
	if (is_a(q))
		tw_fakedns_answer_addr(o, rd, 50, "192.0.2.80");
}

/* The zone. Returns the delay of the answer in ms. */
static int zone_answer(void *arg, fake *f, const tw_fakedns_query *q, bool tcp, const tw_sockaddr *from,
		       tw_dnsmsg *o)
{
	const char *n = q->name;
	unsigned num;
	int delay_ms = 0;
	(void)arg;
	tw_fakedns_reply_start(o, q, 0);
	if (strcmp(n, "web.default.svc.cluster.local") == 0 || strcmp(n, "slow.test") == 0) {
		if (is_a(q)) {
			tw_fakedns_answer_addr(o, 12, 30, "10.244.0.5");
			tw_fakedns_answer_addr(o, 12, 30, "10.244.1.7");
			tw_fakedns_answer_addr(o, 12, 30, "10.244.2.9");
		} else {
			tw_fakedns_answer_addr(o, 12, 20, "fd00::5");
			tw_fakedns_answer_addr(o, 12, 20, "fd00::7");
		}
		if (n[0] == 's')
			delay_ms = 300;
	} else if (strcmp(n, "alias.test") == 0) {
		answer_alias(q, o);
	} else if (strcmp(n, "v4only.test") == 0) {
		if (is_a(q))
			tw_fakedns_answer_addr(o, 12, 40, "192.0.2.1");
	} else if (strcmp(n, "servfail.test") == 0) {
		tw_fakedns_reply_start(o, q, TW_DNS_RCODE_SERVFAIL);
	} else if (strcmp(n, "big.test") == 0) {
		if (!tcp)
			tw_fakedns_reply_start(o, q, 0x0200); /* TC */
		for (unsigned i = 0; tcp && is_a(q) && i < 100; i++) {
			char a[32];
			snprintf(a, sizeof(a), "10.1.0.%u", i);
			tw_fakedns_answer_addr(o, 12, 60, a);
		}
	} else if (strcmp(n, "web.ns2.example") == 0 && is_a(q)) {
		tw_fakedns_answer_addr(o, 12, 60, "192.0.2.22");
	} else if (strcmp(n, "a.b.c") == 0 && is_a(q)) {
		tw_fakedns_answer_addr(o, 12, 60, "192.0.2.33");
	} else if (strcmp(n, "ttl0.test") == 0 && is_a(q)) {
		tw_fakedns_answer_addr(o, 12, 0, "192.0.2.40");
	} else if (strcmp(n, "cached.test") == 0 && is_a(q)) {
		tw_fakedns_answer_addr(o, 12, 60, "192.0.2.41");
	} else if (many_host(n, &num) && is_a(q)) {
		char a[32];
		snprintf(a, sizeof(a), "10.9.%u.%u", num / 256, num % 256);
		tw_fakedns_answer_addr(o, 12, 60, a);
	} else if (strcmp(n, "spoof.test") == 0) {
		if (is_a(q))
			tw_fakedns_answer_addr(o, 12, 60, "192.0.2.50");
		if (!tcp)
			send_spoofs(f, q, o, from);
	} else {
		tw_fakedns_reply_start(o, q, TW_DNS_RCODE_NXDOMAIN);
	}
	return delay_ms;
}

/* Serves the zone on host (port 0); returns false when the address is
 * unusable. */
static bool fake_start_at(fake *f, tw_loop *l, const char *host)
{
	return tw_fakedns_start(f, l, host, zone_answer, NULL);
}

static void fake_start(fake *f, tw_loop *l)
{
	assert_true(fake_start_at(f, l, "127.0.0.1"));
}

/* ---- fixture ---- */

typedef struct result {
	int calls;
	int err;
	size_t n;
	tw_sockaddr addrs[128];
	uint32_t ttl;
	int64_t at_ms;
	/* optional actions from inside the callback */
	tw_resolver *r;
	tw_resolve_req *cancel_other;
	tw_resolve_req **self;
	bool free_resolver;
} result;

static void on_result(void *arg, int err, const tw_sockaddr *addrs, size_t n, uint32_t ttl)
{
	result *res = arg;
	res->calls++;
	res->err = err;
	res->n = n;
	res->ttl = ttl;
	res->at_ms = wall_ms();
	for (size_t i = 0; i < n && i < 128; i++)
		res->addrs[i] = addrs[i];
	if (res->self)
		tw_resolver_cancel(res->r, *res->self); /* its own: ignored */
	if (res->cancel_other)
		tw_resolver_cancel(res->r, res->cancel_other);
	if (res->free_resolver)
		tw_resolver_free(res->r);
}

typedef struct fx {
	tw_fake_clock fc;
	tw_clock clock;
	tw_loop *l;
	fake srv;
	char dir[64];
	char conf[128];
	char hosts[128];
	tw_resolver *r;
	const result *wait; /* what run_until waits for */
	size_t wait_n;
} fx;

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static const char HOSTS[] = "127.0.0.1 localhost\n"
			    "::1 localhost ip6-localhost\n"
			    "192.0.2.7 myhost myhost.lan\n"
			    "2001:db8::7 myhost\n";

/* Sets up the loop (fake clock when fake_clock), server and files. */
static void fx_init(fx *x, bool fake_clock, const char *conf_text)
{
	memset(x, 0, sizeof(*x));
	x->fc.mono = 1000 * MS;
	x->clock = tw_fake_clock_make(&x->fc);
	x->l = tw_loop_new(fake_clock ? &x->clock : NULL);
	assert_non_null(x->l);
	fake_start(&x->srv, x->l);
	snprintf(x->dir, sizeof(x->dir), "/tmp/tw-resolver-XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->conf, sizeof(x->conf), "%s/resolv.conf", x->dir);
	snprintf(x->hosts, sizeof(x->hosts), "%s/hosts", x->dir);
	write_text(x->conf, conf_text ? conf_text : "options ndots:1 timeout:2 attempts:2\n");
	write_text(x->hosts, HOSTS);
}

static tw_resolver *fx_resolver(fx *x, const tw_sockaddr *servers, size_t n, unsigned timeout_ms,
				unsigned attempts)
{
	tw_resolver_opts o = {
		.resolv_conf = x->conf,
		.hosts = x->hosts,
		.servers = servers ? servers : &x->srv.addr,
		.n_servers = servers ? n : 1,
		.timeout_ms = timeout_ms,
		.attempts = attempts,
	};
	x->r = tw_resolver_new(x->l, &o);
	assert_non_null(x->r);
	return x->r;
}

static void fx_fini(fx *x)
{
	tw_resolver_free(x->r);
	tw_fakedns_stop(&x->srv);
	assert_int_equal(tw_loop_timer_count(x->l), 0); /* nothing left armed */
	tw_loop_free(x->l);
	unlink(x->conf);
	unlink(x->hosts);
	rmdir(x->dir);
}

static bool all_called(void *arg)
{
	const fx *x = arg;
	for (size_t i = 0; i < x->wait_n; i++)
		if (x->wait[i].calls == 0)
			return false;
	return true;
}

/* Runs the loop until every result has been called or max_ms passed. */
static void run_until(fx *x, result *res, size_t n, int max_ms)
{
	x->wait = res;
	x->wait_n = n;
	(void)tw_pump_until(x->l, all_called, x, max_ms * MS);
}

static void run_for(fx *x, int ms)
{
	tw_pump_for(x->l, ms * MS);
}

static const char *addr_str(const tw_sockaddr *a, char *buf)
{
	return tw_sa_format_host(a, buf, 64);
}

static void expect_addrs(const result *res, const char *const *want, size_t n)
{
	char buf[64];
	assert_int_equal(res->calls, 1);
	assert_int_equal(res->err, 0);
	assert_int_equal(res->n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(addr_str(&res->addrs[i], buf), want[i]);
}

static void query_ok(fx *x, const char *name, int family, result *res)
{
	memset(res, 0, sizeof(*res));
	assert_int_equal(tw_resolver_query(x->r, name, family, on_result, res, NULL), 0);
	assert_int_equal(res->calls, 0); /* never synchronous */
}

/* query_ok, then runs the loop until the answer came (2 s at most). */
static void resolve(fx *x, const char *name, int family, result *res)
{
	query_ok(x, name, family, res);
	run_until(x, res, 1, 2000);
}

/* ---- tests ---- */

static void test_headless_expansion(void **state)
{
	(void)state;
	fx x;
	fx_init(&x, false, NULL);
	fx_resolver(&x, NULL, 0, 0, 0);
	result res[3];
	query_ok(&x, "web.default.svc.cluster.local", AF_UNSPEC, &res[0]);
	query_ok(&x, "web.default.svc.cluster.local.", AF_INET, &res[1]);
	query_ok(&x, "Web.Default.svc.cluster.local", AF_INET6, &res[2]);
	assert_int_equal(tw_resolver_pending(x.r), 3);
	run_until(&x, res, 3, 3000);
	static const char *const all[] = { "10.244.0.5", "10.244.1.7", "10.244.2.9", "fd00::5",
					   "fd00::7" };
	expect_addrs(&res[0], all, 5);
	assert_int_equal(res[0].ttl, 20);
	expect_addrs(&res[1], all, 3);
	assert_int_equal(res[1].ttl, 30);
	expect_addrs(&res[2], all + 3, 2);
	assert_int_equal(x.srv.queries, 4);
	assert_int_equal(tw_resolver_pending(x.r), 0);
	assert_int_equal(tw_sa_port(&res[0].addrs[0]), 0);
	fx_fini(&x);
}

static void test_answers_and_errors(void **state)
{
	(void)state;
	fx x;
	fx_init(&x, false, NULL);
	fx_resolver(&x, NULL, 0, 500, 2);
	result res[6];
	int64_t t0 = wall_ms();
	query_ok(&x, "alias.test", AF_UNSPEC, &res[0]);
	query_ok(&x, "nx.test", AF_UNSPEC, &res[1]);
	query_ok(&x, "servfail.test", AF_INET, &res[2]);
	query_ok(&x, "v4only.test", AF_INET6, &res[3]);
	query_ok(&x, "v4only.test", AF_UNSPEC, &res[4]);
	query_ok(&x, "big.test", AF_INET, &res[5]);
	run_until(&x, res, 6, 3000);
	static const char *const alias[] = { "192.0.2.80" };
	expect_addrs(&res[0], alias, 1);
	assert_int_equal(res[0].ttl, 10); /* the CNAME's TTL is shorter */
	assert_int_equal(res[1].calls, 1);
	assert_int_equal(res[1].err, -ENOENT);
	assert_int_equal(res[2].err, -EIO);
	assert_int_equal(res[3].err, -ENOENT);
	static const char *const v4[] = { "192.0.2.1" };
	expect_addrs(&res[4], v4, 1);
	/* TC over UDP, then 100 records over TCP */
	assert_int_equal(res[5].err, 0);
	assert_int_equal(res[5].n, 100);
	char buf[64];
	assert_string_equal(addr_str(&res[5].addrs[99], buf), "10.1.0.99");
	assert_int_equal(x.srv.tcp_queries, 1);
	/* SERVFAIL moves on at once: both attempts, no timeout waited */
	int sf = 0;
	for (int i = 0; i < x.srv.nlog; i++)
		sf += strcmp(x.srv.log[i], "servfail.test/A") == 0;
	assert_int_equal(sf, 2);
	assert_true(res[2].at_ms - t0 < 400);
	fx_fini(&x);
}

static void test_timeout_then_second_server(void **state)
{
	(void)state;
	fx x;
	fx_init(&x, false, NULL);
	fake silent;
	fake_start(&silent, x.l);
	silent.silent = true;
	tw_sockaddr servers[2] = { silent.addr, x.srv.addr };
	fx_resolver(&x, servers, 2, 150, 1);
	result res;
	int64_t t0 = wall_ms();
	query_ok(&x, "v4only.test", AF_INET, &res);
	run_until(&x, &res, 1, 3000);
	static const char *const v4[] = { "192.0.2.1" };
	expect_addrs(&res, v4, 1);
	assert_true(res.at_ms - t0 >= 150);
	assert_true(res.at_ms - t0 < 1500);
	assert_int_equal(silent.queries, 1);
	assert_int_equal(x.srv.queries, 1);
	tw_resolver_free(x.r);

	/* only the silent server: attempts x servers tries, then -ETIMEDOUT */
	fx_resolver(&x, &silent.addr, 1, 100, 3);
	t0 = wall_ms();
	query_ok(&x, "v4only.test", AF_UNSPEC, &res);
	run_until(&x, &res, 1, 3000);
	assert_int_equal(res.calls, 1);
	assert_int_equal(res.err, -ETIMEDOUT);
	assert_true(res.at_ms - t0 >= 300);
	assert_int_equal(silent.queries, 1 + 2 * 3);
	tw_fakedns_stop(&silent);
	fx_fini(&x);
}

/* A closed port answers with ICMP unreachable: no need to wait. */
static void test_refused_server_skipped(void **state)
{
	(void)state;
	fx x;
	fx_init(&x, false, NULL);
	tw_sockaddr any, closed;
	tw_sa_from_numeric("127.0.0.1", 0, &any);
	int fd = tw_net_udp_open(&any, NULL);
	assert_true(fd >= 0);
	tw_net_local_addr(fd, &closed);
	close(fd);
	tw_sockaddr servers[2] = { closed, x.srv.addr };
	fx_resolver(&x, servers, 2, 2000, 1);
	result res;
	int64_t t0 = wall_ms();
	query_ok(&x, "v4only.test", AF_INET, &res);
	run_until(&x, &res, 1, 5000);
	static const char *const v4[] = { "192.0.2.1" };
	expect_addrs(&res, v4, 1);
	assert_true(res.at_ms - t0 < 1000);
	fx_fini(&x);
}

static void test_spoofed_answers_ignored(void **state)
{
	(void)state;
	fx x;
	fx_init(&x, false, NULL);
	fx_resolver(&x, NULL, 0, 1000, 1);
	result res;
	query_ok(&x, "spoof.test", AF_INET, &res);
	run_until(&x, &res, 1, 3000);
	static const char *const good[] = { "192.0.2.50" };
	expect_addrs(&res, good, 1);
	assert_int_equal(x.srv.queries, 1);
	fx_fini(&x);
}

static void test_cancel(void **state)
{
	(void)state;
	fx x;
	fx_init(&x, false, NULL);
	fx_resolver(&x, NULL, 0, 1000, 1);
	result res[3];
	tw_resolve_req *h[3];
	memset(res, 0, sizeof(res));
	assert_int_equal(tw_resolver_query(x.r, "slow.test", AF_UNSPEC, on_result, &res[0], &h[0]), 0);
	assert_int_equal(tw_resolver_query(x.r, "myhost", AF_UNSPEC, on_result, &res[1], &h[1]), 0);
	assert_int_equal(tw_resolver_query(x.r, "10.0.0.1", AF_UNSPEC, on_result, &res[2], &h[2]), 0);
	tw_resolver_cancel(x.r, h[1]); /* before the loop ever ran */
	tw_resolver_cancel(x.r, h[2]);
	run_for(&x, 50);
	assert_int_equal(x.srv.queries, 2); /* slow.test A and AAAA are out */
	tw_resolver_cancel(x.r, h[0]);
	assert_int_equal(tw_resolver_pending(x.r), 0);
	run_for(&x, 400); /* the server answers after 300 ms: to a closed socket */
	for (int i = 0; i < 3; i++)
		assert_int_equal(res[i].calls, 0);
	tw_resolver_cancel(x.r, NULL);
	fx_fini(&x);
}

static void test_cancel_and_free_from_callbacks(void **state)
{
	(void)state;
	fx x;
	fx_init(&x, false, NULL);
	fx_resolver(&x, NULL, 0, 1000, 1);
	result res[3];
	tw_resolve_req *h[3];
	memset(res, 0, sizeof(res));
	for (int i = 0; i < 3; i++)
		res[i].r = x.r;
	res[0].self = &h[0];
	res[0].cancel_other = NULL;
	assert_int_equal(tw_resolver_query(x.r, "myhost", AF_INET, on_result, &res[0], &h[0]), 0);
	assert_int_equal(tw_resolver_query(x.r, "localhost", AF_INET, on_result, &res[1], &h[1]), 0);
	assert_int_equal(tw_resolver_query(x.r, "::1", AF_INET6, on_result, &res[2], &h[2]), 0);
	res[1].cancel_other = h[2]; /* all three are due in the same pass */
	run_for(&x, 50);
	assert_int_equal(res[0].calls, 1);
	assert_int_equal(res[1].calls, 1);
	assert_int_equal(res[2].calls, 0);
	assert_int_equal(tw_resolver_pending(x.r), 0);

	/* freeing the resolver inside a callback with more outstanding */
	memset(res, 0, sizeof(res));
	res[0].r = x.r;
	res[0].free_resolver = true;
	assert_int_equal(tw_resolver_query(x.r, "myhost", AF_INET, on_result, &res[0], NULL), 0);
	assert_int_equal(tw_resolver_query(x.r, "slow.test", AF_INET, on_result, &res[1], NULL), 0);
	assert_int_equal(tw_resolver_query(x.r, "localhost", AF_INET, on_result, &res[2], NULL), 0);
	run_for(&x, 400);
	x.r = NULL;
	assert_int_equal(res[0].calls, 1);
	assert_int_equal(res[1].calls + res[2].calls, 0);
	fx_fini(&x);
}

static void test_hosts_literals_localhost(void **state)
{
	(void)state;
	fx x;
	fx_init(&x, false, NULL);
	fx_resolver(&x, NULL, 0, 1000, 1);
	result res[9];
	query_ok(&x, "myhost", AF_UNSPEC, &res[0]);
	query_ok(&x, "MYHOST.lan.", AF_UNSPEC, &res[1]);
	query_ok(&x, "localhost", AF_UNSPEC, &res[2]);
	query_ok(&x, "pod.localhost", AF_INET6, &res[3]);
	query_ok(&x, "192.0.2.9", AF_UNSPEC, &res[4]);
	query_ok(&x, "2001:db8::1", AF_INET6, &res[5]);
	query_ok(&x, "fe80::1%lo", AF_UNSPEC, &res[6]);
	query_ok(&x, "192.0.2.9", AF_INET6, &res[7]);
	query_ok(&x, "myhost", AF_INET6, &res[8]);
	run_until(&x, res, 9, 2000);
	static const char *const myhost[] = { "192.0.2.7", "2001:db8::7" };
	expect_addrs(&res[0], myhost, 2);
	assert_int_equal(res[0].ttl, TW_RESOLVER_HOSTS_TTL);
	expect_addrs(&res[1], myhost, 1);
	static const char *const lo[] = { "127.0.0.1", "::1" };
	expect_addrs(&res[2], lo, 2);
	expect_addrs(&res[3], lo + 1, 1);
	static const char *const lit4[] = { "192.0.2.9" };
	expect_addrs(&res[4], lit4, 1);
	assert_int_equal(res[4].ttl, UINT32_MAX);
	static const char *const lit6[] = { "2001:db8::1" };
	expect_addrs(&res[5], lit6, 1);
	static const char *const ll[] = { "fe80::1" };
	expect_addrs(&res[6], ll, 1);
	struct sockaddr_in6 s6;
	memcpy(&s6, &res[6].addrs[0].ss, sizeof(s6));
	assert_int_equal(s6.sin6_scope_id, if_nametoindex("lo"));
	assert_int_equal(res[7].calls, 1);
	assert_int_equal(res[7].err, -ENOENT);
	expect_addrs(&res[8], myhost + 1, 1);
	assert_int_equal(x.srv.queries, 0); /* none of it needed the network */

	static const char *const bad[] = { "", "bad..name", "a b", "-x-.test/", "fe80::1%nosuchif0" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tw_resolver_query(x.r, bad[i], AF_UNSPEC, on_result, &res[0], NULL),
				 -EINVAL);
	assert_int_equal(tw_resolver_query(x.r, "myhost", AF_UNIX, on_result, &res[0], NULL), -EINVAL);
	assert_int_equal(tw_resolver_query(x.r, "myhost", AF_INET, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(tw_resolver_pending(x.r), 0);
	fx_fini(&x);
}

static void test_search_list(void **state)
{
	(void)state;
	/* what each name is asked as, in order, and how it ends */
	static const struct {
		const char *name;
		const char *addr; /* the one address found, or NULL: err */
		int err;
		int nlog;
		const char *log[3];
	} steps[] = {
		{ "web", "192.0.2.22", 0, 2, { "web.ns1.example/A", "web.ns2.example/A" } },
		/* enough dots: the name as given first */
		{ "a.b.c", NULL, 0, 1, { "a.b.c/A" } },
		/* not found anywhere: every suffix, then the bare name */
		{ "nothing", NULL, -ENOENT, 3, { "nothing.ns1.example/A", "nothing.ns2.example/A", "nothing/A" } },
		/* a trailing dot: only the name itself */
		{ "web.", NULL, -ENOENT, 1, { "web/A" } },
	};
	fx x;
	fx_init(&x, false, "search ns1.example ns2.example\noptions ndots:2\n");
	fx_resolver(&x, NULL, 0, 1000, 1);
	result res;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		x.srv.nlog = 0;
		resolve(&x, steps[i].name, AF_INET, &res);
		if (steps[i].addr)
			expect_addrs(&res, &steps[i].addr, 1);
		else
			assert_int_equal(res.err, steps[i].err);
		assert_int_equal(x.srv.nlog, steps[i].nlog);
		for (int k = 0; k < steps[i].nlog; k++)
			assert_string_equal(x.srv.log[k], steps[i].log[k]);
	}
	fx_fini(&x);
}

static void test_many_concurrent(void **state)
{
	(void)state;
	enum { N = 200 };
	fx x;
	fx_init(&x, false, NULL);
	fx_resolver(&x, NULL, 0, 2000, 2);
	static result res[N];
	char name[64], want[32], buf[64];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "host%d.many.test", i);
		query_ok(&x, name, AF_INET, &res[i]);
	}
	assert_int_equal(tw_resolver_pending(x.r), N);
	run_until(&x, res, N, 5000);
	for (int i = 0; i < N; i++) {
		snprintf(want, sizeof(want), "10.9.%d.%d", i / 256, i % 256);
		assert_int_equal(res[i].calls, 1);
		assert_int_equal(res[i].err, 0);
		assert_int_equal(res[i].n, 1);
		assert_string_equal(addr_str(&res[i].addrs[0], buf), want);
	}
	tw_resolver_free(x.r);

	/* the outstanding limit */
	tw_resolver_opts o = { .resolv_conf = x.conf, .hosts = x.hosts, .servers = &x.srv.addr,
			       .n_servers = 1, .max_requests = 4 };
	x.r = tw_resolver_new(x.l, &o);
	for (int i = 0; i < 4; i++)
		query_ok(&x, "myhost", AF_INET, &res[i]);
	assert_int_equal(tw_resolver_query(x.r, "myhost", AF_INET, on_result, &res[4], NULL), -EBUSY);
	run_until(&x, res, 4, 2000);
	resolve(&x, "myhost", AF_INET, &res[4]);
	assert_int_equal(res[4].err, 0);
	fx_fini(&x);
}

static void test_cache(void **state)
{
	(void)state;
	fx x;
	fx_init(&x, true, NULL);
	fx_resolver(&x, NULL, 0, 1000, 1);
	result res;
	resolve(&x, "cached.test", AF_INET, &res);
	assert_int_equal(res.err, 0);
	assert_int_equal(res.ttl, 60);
	assert_int_equal(x.srv.queries, 1);

	x.fc.mono += 20 * 1000 * MS;
	resolve(&x, "CACHED.test", AF_INET, &res);
	static const char *const want[] = { "192.0.2.41" };
	expect_addrs(&res, want, 1);
	assert_int_equal(res.ttl, 40); /* what is left */
	assert_int_equal(x.srv.queries, 1);

	/* another family is another entry */
	resolve(&x, "cached.test", AF_UNSPEC, &res);
	assert_int_equal(x.srv.queries, 3);

	x.fc.mono += 41 * 1000 * MS; /* expired */
	resolve(&x, "cached.test", AF_INET, &res);
	expect_addrs(&res, want, 1);
	assert_int_equal(x.srv.queries, 4);

	tw_resolver_flush_cache(x.r);
	resolve(&x, "cached.test", AF_INET, &res);
	assert_int_equal(x.srv.queries, 5);

	/* TTL 0 is never cached */
	for (int i = 0; i < 2; i++) {
		resolve(&x, "ttl0.test", AF_INET, &res);
		assert_int_equal(res.err, 0);
		assert_int_equal(res.ttl, 0);
	}
	assert_int_equal(x.srv.queries, 7);
	fx_fini(&x);
}

static void bump_mtime(const char *path)
{
	struct timespec ts[2];
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec += 100;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_reload_files(void **state)
{
	(void)state;
	fx x;
	fx_init(&x, true, "search ns1.example\n");
	fx_resolver(&x, NULL, 0, 1000, 1);
	result res;
	resolve(&x, "web", AF_INET, &res);
	assert_int_equal(res.err, -ENOENT);

	write_text(x.conf, "search ns2.example\n");
	bump_mtime(x.conf);
	write_text(x.hosts, "192.0.2.99 myhost\n");
	bump_mtime(x.hosts);
	resolve(&x, "myhost", AF_INET, &res); /* not checked again yet */
	static const char *const old[] = { "192.0.2.7" };
	expect_addrs(&res, old, 1);

	x.fc.mono += (TW_RESOLVER_RELOAD_CHECK_S + 1) * 1000 * MS;
	resolve(&x, "myhost", AF_INET, &res);
	static const char *const fresh[] = { "192.0.2.99" };
	expect_addrs(&res, fresh, 1);
	resolve(&x, "web", AF_INET, &res);
	static const char *const web[] = { "192.0.2.22" };
	expect_addrs(&res, web, 1);

	/* a removed hosts file: its entries go, localhost stays built in */
	unlink(x.hosts);
	x.fc.mono += (TW_RESOLVER_RELOAD_CHECK_S + 1) * 1000 * MS;
	resolve(&x, "localhost", AF_INET, &res);
	static const char *const lo[] = { "127.0.0.1" };
	expect_addrs(&res, lo, 1);
	resolve(&x, "myhost", AF_INET, &res);
	assert_int_equal(res.err, -ENOENT); /* asked DNS: NXDOMAIN */
	fx_fini(&x);
}

static void test_ipv6_server(void **state)
{
	(void)state;
	fx x;
	fx_init(&x, false, NULL);
	fake v6;
	if (!fake_start_at(&v6, x.l, "::1")) {
		fx_fini(&x);
		tw_test_unavailable("no IPv6 loopback here");
	}
	fx_resolver(&x, &v6.addr, 1, 1000, 1);
	result res[2];
	query_ok(&x, "web.default.svc.cluster.local", AF_UNSPEC, &res[0]);
	query_ok(&x, "big.test", AF_INET, &res[1]);
	run_until(&x, res, 2, 3000);
	assert_int_equal(res[0].err, 0);
	assert_int_equal(res[0].n, 5);
	assert_int_equal(res[1].err, 0);
	assert_int_equal(res[1].n, 100);
	assert_int_equal(v6.queries, 3);
	assert_int_equal(v6.tcp_queries, 1);
	assert_int_equal(x.srv.queries, 0);
	tw_fakedns_stop(&v6);
	fx_fini(&x);
}

static void expect_server(const tw_sockaddr *a, const char *text, uint32_t zone)
{
	char buf[80];
	assert_string_equal(tw_sa_format(a, buf, sizeof(buf)), text);
	if (tw_sa_family(a) == AF_INET6) {
		struct sockaddr_in6 s6;
		memcpy(&s6, &a->ss, sizeof(s6));
		assert_int_equal(s6.sin6_scope_id, zone);
	}
}

static void test_servers_from_files(void **state)
{
	(void)state;
	fx x;
	fx_init(&x, false,
		"nameserver 192.0.2.53\nnameserver fe80::53%lo\nnameserver 2001:db8::53%7\n"
		"nameserver 192.0.2.54\n");
	tw_resolver_opts o = { .resolv_conf = x.conf, .hosts = x.hosts };
	x.r = tw_resolver_new(x.l, &o);
	assert_non_null(x.r);
	tw_sockaddr s[4];
	assert_int_equal(tw_resolver_servers(x.r, s, 4), 3);
	expect_server(&s[0], "192.0.2.53:53", 0);
	expect_server(&s[1], "[fe80::53]:53", if_nametoindex("lo"));
	expect_server(&s[2], "[2001:db8::53]:53", 7);
	tw_resolver_free(x.r);

	/* no nameserver line: the local one, like the C library */
	write_text(x.conf, "search example.net\n");
	x.r = tw_resolver_new(x.l, &o);
	assert_int_equal(tw_resolver_servers(x.r, s, 4), 1);
	expect_server(&s[0], "127.0.0.1:53", 0);
	tw_resolver_free(x.r);

	/* the override: port 0 means 53, others are kept */
	tw_sockaddr over[2];
	tw_sa_from_numeric("192.0.2.1", 0, &over[0]);
	tw_sa_from_numeric("::1", 5353, &over[1]);
	o.servers = over;
	o.n_servers = 2;
	x.r = tw_resolver_new(x.l, &o);
	assert_int_equal(tw_resolver_servers(x.r, s, 1), 2);
	expect_server(&s[0], "192.0.2.1:53", 0);
	assert_int_equal(tw_resolver_servers(x.r, s, 4), 2);
	expect_server(&s[1], "[::1]:5353", 0);
	fx_fini(&x);
}

static void test_free_with_outstanding(void **state)
{
	(void)state;
	fx x;
	fx_init(&x, false, NULL);
	fx_resolver(&x, NULL, 0, 1000, 1);
	result res[4];
	/* straight away: queries sent, a hosts answer due */
	query_ok(&x, "slow.test", AF_UNSPEC, &res[0]);
	query_ok(&x, "big.test", AF_INET, &res[1]);
	query_ok(&x, "myhost", AF_INET, &res[2]);
	tw_resolver_free(x.r);
	/* after the loop ran: a query waiting for its (late) answer */
	fx_resolver(&x, NULL, 0, 1000, 1);
	query_ok(&x, "slow.test", AF_INET, &res[3]);
	run_for(&x, 50);
	assert_int_equal(x.srv.queries, 4);
	tw_resolver_free(x.r);
	x.r = NULL;
	run_for(&x, 400);
	for (int i = 0; i < 4; i++)
		assert_int_equal(res[i].calls, 0);
	tw_resolver_free(NULL);
	fx_fini(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headless_expansion),
		cmocka_unit_test(test_answers_and_errors),
		cmocka_unit_test(test_timeout_then_second_server),
		cmocka_unit_test(test_refused_server_skipped),
		cmocka_unit_test(test_spoofed_answers_ignored),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_cancel_and_free_from_callbacks),
		cmocka_unit_test(test_hosts_literals_localhost),
		cmocka_unit_test(test_search_list),
		cmocka_unit_test(test_many_concurrent),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_reload_files),
		cmocka_unit_test(test_ipv6_server),
		cmocka_unit_test(test_servers_from_files),
		cmocka_unit_test(test_free_with_outstanding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
