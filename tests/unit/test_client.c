/* test_client.c - tw_client and tw_sender against a scripted TWAMP server
 * and Session-Reflector in the same process: raw sockets carry hand-built
 * messages (proto/control.h, proto/testpkt.h) while the test pumps the
 * loop in bounded steps. Checks what the client puts on the wire (mode,
 * zero fields, the true Stop-Sessions count), how it reports each kind of
 * refusal, and what the sender sends and makes of the replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cases.h"
#include "client.h"
#include "clock.h"
#include "control.h"
#include "errest.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "peer.h"
#include "pump.h"
#include "sender.h"
#include "stats.h"
#include "testpkt.h"

#define MS 1000000LL
#define WAIT_NS TW_PUMP_WAIT_NS
#define QUIET_NS TW_PUMP_QUIET_NS

typedef struct fx {
	tw_loop *loop;
	int lfd;          /* the scripted server's listener */
	int sfd;          /* its accepted control connection */
	tw_sockaddr addr; /* where it listens */
	const char *host;
	/* what the client reported */
	tw_client *c;
	bool ready, started, failed;
	int accepted, want_accepted;
	tw_accept_session acc;
	tw_client_fail why;
	char detail[160];
} fx;

static void fx_start(fx *f, const char *host)
{
	tw_log_setup(TW_LOG_ERROR, TW_LOG_LOGFMT);
	memset(f, 0, sizeof(*f));
	f->host = host;
	f->sfd = -1;
	f->loop = tw_loop_new(NULL);
	assert_non_null(f->loop);
	f->lfd = tw_peer_tcp_listen(host, &f->addr);
}

static void fx_stop(fx *f)
{
	tw_client_free(f->c);
	if (f->sfd >= 0)
		close(f->sfd);
	close(f->lfd);
	tw_loop_run_once(f->loop, 0);
	tw_loop_free(f->loop);
}

/* ---- the client and its callbacks ---- */

static void on_ready(void *arg, tw_client *c)
{
	fx *f = arg;
	(void)c;
	f->ready = true;
}

static void on_accepted(void *arg, tw_client *c, const tw_accept_session *a)
{
	fx *f = arg;
	(void)c;
	f->accepted++;
	f->acc = *a;
}

static void on_started(void *arg, tw_client *c)
{
	fx *f = arg;
	(void)c;
	f->started = true;
}

static void on_failed(void *arg, tw_client *c, tw_client_fail why, const char *detail)
{
	fx *f = arg;
	(void)c;
	f->failed = true;
	f->why = why;
	snprintf(f->detail, sizeof(f->detail), "%s", detail ? detail : "");
}

static void client_start(fx *f, uint32_t modes, const char *secret, int64_t timeout_ns)
{
	tw_client_params p = {
		.server = f->addr,
		.modes = modes,
		.identity = secret ? "testuser" : NULL,
		.secret = (const uint8_t *)secret,
		.secret_len = secret ? strlen(secret) : 0,
		.max_kdf_count = 32768,
		.timeout_ns = timeout_ns,
		.cbs = { on_ready, on_accepted, on_started, on_failed, f },
	};
	int err;
	f->c = tw_client_new(f->loop, &p, &err);
	assert_non_null(f->c);
}

static bool cond_failed(void *arg)
{
	return ((fx *)arg)->failed;
}

static bool cond_ready(void *arg)
{
	fx *f = arg;
	return f->ready || f->failed;
}

static bool cond_started(void *arg)
{
	fx *f = arg;
	return f->started || f->failed;
}

/* ---- the scripted server ---- */

static void srv_accept(fx *f)
{
	f->sfd = tw_peer_tcp_accept(f->loop, f->lfd, WAIT_NS);
}

static void srv_send(fx *f, const uint8_t *buf, size_t len)
{
	tw_peer_tcp_send(f->sfd, buf, len);
}

static void srv_read(fx *f, uint8_t *buf, size_t len)
{
	tw_peer_tcp_read(f->loop, f->sfd, buf, len, WAIT_NS);
}

/* True when the client sends nothing more within QUIET_NS (it may close). */
static bool srv_nothing_more(fx *f)
{
	return tw_peer_tcp_watch(f->loop, f->sfd, QUIET_NS) != TW_PEER_DATA;
}

static void srv_greeting(fx *f, uint32_t modes, uint32_t count)
{
	tw_greeting g = { .modes = modes, .count = count };
	memset(g.challenge, 0x11, sizeof(g.challenge));
	memset(g.salt, 0x22, sizeof(g.salt));
	uint8_t buf[TW_GREETING_LEN];
	assert_int_equal(tw_greeting_encode(&g, buf, sizeof(buf)), TW_GREETING_LEN);
	srv_send(f, buf, sizeof(buf));
}

static void srv_server_start(fx *f, uint8_t accept)
{
	tw_server_start m = { .accept = accept, .start_time = accept ? 0 : tw_ts_from_unix_ns(tw_pump_real_ns()) };
	uint8_t buf[TW_SERVER_START_LEN];
	assert_int_equal(tw_server_start_encode(&m, buf, sizeof(buf)), TW_SERVER_START_LEN);
	srv_send(f, buf, sizeof(buf));
}

/* Greeting, Set-Up-Response (checked: open mode, zero key material),
 * Server-Start 0: the client is ready. */
static void srv_open_setup(fx *f)
{
	srv_accept(f);
	srv_greeting(f, TW_MODE_OPEN | TW_MODE_AUTH | TW_MODE_ENC | TW_MODE_MIXED, 1024);
	uint8_t buf[TW_SETUP_LEN], zero[TW_SETUP_LEN] = { 0 };
	srv_read(f, buf, sizeof(buf));
	tw_setup s;
	assert_int_equal(tw_setup_decode(buf, sizeof(buf), &s), 0);
	assert_int_equal(s.mode, TW_MODE_OPEN);
	assert_memory_equal(buf + 4, zero, TW_SETUP_LEN - 4); /* KeyID, Token, Client-IV unused */
	srv_server_start(f, TW_ACCEPT_OK);
	assert_true(tw_pump_until(f->loop, cond_ready, f, WAIT_NS));
	assert_true(f->ready);
	assert_false(f->failed);
}

static tw_request request_for(const fx *f, uint16_t sender_port)
{
	tw_request r;
	memset(&r, 0, sizeof(r));
	tw_sa_to_wire(tw_client_local(f->c), &r.ipvn, r.sender_addr);
	tw_sa_to_wire(&f->addr, &r.ipvn, r.receiver_addr);
	r.sender_port = sender_port;
	r.receiver_port = sender_port;
	r.padding = 27;
	r.timeout = tw_ts_interval_from_ns(2000 * MS);
	r.type_p = tw_type_p_from_dscp(46);
	return r;
}

static bool cond_accepted_n(void *arg)
{
	fx *f = arg;
	return f->accepted >= f->want_accepted || f->failed;
}

/* Client requests r; the server checks the bytes and answers accept/port. */
static void request_answered(fx *f, const tw_request *r, uint8_t accept, uint16_t port)
{
	f->want_accepted = f->accepted + 1;
	assert_int_equal(tw_client_request(f->c, r), 0);
	uint8_t buf[TW_REQUEST_LEN], want[TW_REQUEST_LEN];
	srv_read(f, buf, sizeof(buf));
	assert_int_equal(tw_request_encode(r, want, sizeof(want)), TW_REQUEST_LEN);
	assert_memory_equal(buf, want, TW_REQUEST_LEN); /* HMAC zero in open mode */
	tw_accept_session a = { .accept = accept, .port = port };
	memset(a.sid, 0x5c, sizeof(a.sid));
	a.sid[15] = (uint8_t)port;
	uint8_t out[TW_ACCEPT_LEN];
	assert_int_equal(tw_accept_encode(&a, out, sizeof(out)), TW_ACCEPT_LEN);
	srv_send(f, out, sizeof(out));
	assert_true(tw_pump_until(f->loop, cond_accepted_n, f, WAIT_NS));
	assert_false(f->failed);
	assert_int_equal(f->acc.accept, accept);
	assert_int_equal(f->acc.port, accept ? 0 : port);
}

static void srv_start_ack(fx *f, uint8_t accept)
{
	uint8_t buf[TW_START_LEN], zero[TW_START_LEN] = { 0 };
	srv_read(f, buf, sizeof(buf));
	assert_int_equal(buf[0], TW_CMD_START);
	assert_memory_equal(buf + 1, zero, TW_START_LEN - 1);
	tw_start_ack a = { .accept = accept };
	uint8_t out[TW_START_ACK_LEN];
	assert_int_equal(tw_start_ack_encode(&a, out, sizeof(out)), TW_START_ACK_LEN);
	srv_send(f, out, sizeof(out));
	assert_true(tw_pump_until(f->loop, cond_started, f, WAIT_NS));
}

static uint32_t srv_read_stop(fx *f)
{
	uint8_t buf[TW_STOP_LEN];
	srv_read(f, buf, sizeof(buf));
	tw_stop s;
	assert_int_equal(tw_stop_decode(buf, sizeof(buf), &s), 0);
	assert_int_equal(s.accept, TW_ACCEPT_OK);
	return s.nsessions;
}

/* The scripted server on 127.0.0.1 and a client for modes (secret:
 * keyed) with a 2 s timeout; the server accepts it and sends a Greeting
 * offering `offered` with Count count. */
static void greeted(fx *f, uint32_t modes, const char *secret, uint32_t offered, uint32_t count)
{
	fx_start(f, "127.0.0.1");
	client_start(f, modes, secret, 2000 * MS);
	srv_accept(f);
	srv_greeting(f, offered, count);
}

/* The scripted server on host and an open-mode client (2 s timeout) that
 * it has set up: the client is ready. */
static void open_ready(fx *f, const char *host)
{
	fx_start(f, host);
	client_start(f, TW_MODE_OPEN, NULL, 2000 * MS);
	srv_open_setup(f);
}

/* ------------------------------------------------------------------ */

static void test_conversation_and_stop_count(void **state)
{
	(void)state;
	fx f;
	open_ready(&f, "127.0.0.1");
	assert_int_equal(tw_client_mode(f.c), TW_MODE_OPEN);
	/* three requests, the middle one refused: two sessions exist */
	tw_request r = request_for(&f, 40001);
	request_answered(&f, &r, TW_ACCEPT_OK, 50001);
	r = request_for(&f, 40002);
	request_answered(&f, &r, TW_ACCEPT_NOT_SUPPORTED, 0);
	r = request_for(&f, 40003);
	request_answered(&f, &r, TW_ACCEPT_OK, 50003);
	assert_int_equal(f.acc.sid[15], (uint8_t)50003);
	assert_int_equal(tw_client_start(f.c), 0);
	srv_start_ack(&f, TW_ACCEPT_OK);
	assert_true(f.started);
	assert_int_equal(tw_client_stop(f.c, TW_ACCEPT_OK), 0);
	assert_int_equal(srv_read_stop(&f), 2); /* the true count */
	assert_false(f.failed);
	fx_stop(&f);
}

static void test_conversation_v6(void **state)
{
	(void)state;
	fx f;
	open_ready(&f, "::1");
	char buf[64];
	assert_string_equal(tw_sa_format_host(tw_client_local(f.c), buf, sizeof(buf)), "::1");
	tw_request r = request_for(&f, 40001);
	assert_int_equal(r.ipvn, 6);
	request_answered(&f, &r, TW_ACCEPT_OK, 50001);
	assert_int_equal(tw_client_start(f.c), 0);
	srv_start_ack(&f, TW_ACCEPT_OK);
	assert_int_equal(tw_client_stop(f.c, TW_ACCEPT_OK), 0);
	assert_int_equal(srv_read_stop(&f), 1);
	fx_stop(&f);
}

static void expect_failure(fx *f, tw_client_fail why, const char *needle)
{
	assert_true(tw_pump_until(f->loop, cond_failed, f, WAIT_NS));
	if (f->why != why)
		fail_msg("failure %s (%s), want %s", tw_client_fail_name(f->why), f->detail, tw_client_fail_name(why));
	if (needle && !strstr(f->detail, needle))
		fail_msg("detail '%s' lacks '%s'", f->detail, needle);
	assert_false(f->ready);
}

static void test_greeting_modes_zero(void **state)
{
	(void)state;
	fx f;
	greeted(&f, TW_MODE_OPEN, NULL, 0, 0);
	expect_failure(&f, TW_CLIENT_FAIL_REFUSED, "Modes 0");
	assert_true(srv_nothing_more(&f)); /* no Set-Up-Response after a refusal */
	fx_stop(&f);
}

static void test_no_common_mode(void **state)
{
	(void)state;
	fx f;
	greeted(&f, TW_MODE_OPEN, NULL, TW_MODE_AUTH | TW_MODE_ENC, 1024);
	expect_failure(&f, TW_CLIENT_FAIL_REFUSED, "no common mode");
	fx_stop(&f);
}

static void test_kdf_count_limit(void **state)
{
	(void)state;
	fx f;
	/* keyed: a Count above the limit is refused before any work */
	greeted(&f, TW_MODE_AUTH, "secret", TW_MODE_AUTH, 65536);
	expect_failure(&f, TW_CLIENT_FAIL_KDF_COUNT, "65536");
	fx_stop(&f);
	/* open mode: Count is meaningless (control.md A4), even 0 */
	greeted(&f, TW_MODE_OPEN, NULL, TW_MODE_OPEN, 0);
	uint8_t buf[TW_SETUP_LEN];
	srv_read(&f, buf, sizeof(buf));
	srv_server_start(&f, TW_ACCEPT_OK);
	assert_true(tw_pump_until(f.loop, cond_ready, &f, WAIT_NS));
	assert_true(f.ready);
	fx_stop(&f);
}

static void test_keyed_mode_choice(void **state)
{
	(void)state;
	fx f;
	greeted(&f, TW_MODE_OPEN | TW_MODE_AUTH | TW_MODE_ENC | TW_MODE_MIXED, "secret",
		TW_MODE_OPEN | TW_MODE_AUTH | TW_MODE_MIXED, 1024);
	uint8_t buf[TW_SETUP_LEN];
	srv_read(&f, buf, sizeof(buf));
	tw_setup s;
	assert_int_equal(tw_setup_decode(buf, sizeof(buf), &s), 0);
	assert_int_equal(s.mode, TW_MODE_AUTH); /* strongest offered */
	assert_memory_equal(s.keyid, "testuser", 9); /* zero-padded KeyID */
	fx_stop(&f);
}

static void test_server_start_refused(void **state)
{
	(void)state;
	fx f;
	greeted(&f, TW_MODE_OPEN, NULL, TW_MODE_OPEN, 1024);
	uint8_t buf[TW_SETUP_LEN];
	srv_read(&f, buf, sizeof(buf));
	srv_server_start(&f, TW_ACCEPT_FAILURE);
	expect_failure(&f, TW_CLIENT_FAIL_SERVER, "Accept 1");
	fx_stop(&f);
}

static void test_start_ack_refused(void **state)
{
	(void)state;
	fx f;
	open_ready(&f, "127.0.0.1");
	tw_request r = request_for(&f, 40001);
	request_answered(&f, &r, TW_ACCEPT_OK, 50001);
	assert_int_equal(tw_client_start(f.c), 0);
	srv_start_ack(&f, TW_ACCEPT_TEMPORARY);
	assert_true(f.failed);
	assert_false(f.started);
	assert_int_equal(f.why, TW_CLIENT_FAIL_SERVER);
	fx_stop(&f);
}

static void test_silent_server_times_out(void **state)
{
	(void)state;
	fx f;
	fx_start(&f, "127.0.0.1");
	int64_t t0 = tw_pump_mono_ns();
	client_start(&f, TW_MODE_OPEN, NULL, 200 * MS);
	srv_accept(&f);
	expect_failure(&f, TW_CLIENT_FAIL_TIMEOUT, NULL);
	int64_t took = tw_pump_mono_ns() - t0;
	assert_true(took >= 190 * MS && took < 2000 * MS);
	fx_stop(&f);
	/* no Accept-Session either */
	fx_start(&f, "127.0.0.1");
	client_start(&f, TW_MODE_OPEN, NULL, 200 * MS);
	srv_open_setup(&f);
	tw_request r = request_for(&f, 40001);
	assert_int_equal(tw_client_request(f.c, &r), 0);
	assert_true(tw_pump_until(f.loop, cond_failed, &f, WAIT_NS));
	assert_int_equal(f.why, TW_CLIENT_FAIL_TIMEOUT);
	fx_stop(&f);
}

static void test_connect_refused(void **state)
{
	(void)state;
	fx f;
	fx_start(&f, "127.0.0.1");
	close(f.lfd); /* nothing listens there any more */
	f.lfd = -1;
	client_start(&f, TW_MODE_OPEN, NULL, 2000 * MS);
	expect_failure(&f, TW_CLIENT_FAIL_CONNECT, "refused");
	tw_client_free(f.c);
	f.c = NULL;
	tw_loop_free(f.loop);
}

static void test_server_hangs_up(void **state)
{
	(void)state;
	fx f;
	open_ready(&f, "127.0.0.1");
	close(f.sfd);
	f.sfd = -1;
	assert_true(tw_pump_until(f.loop, cond_failed, &f, WAIT_NS));
	assert_int_equal(f.why, TW_CLIENT_FAIL_CLOSED);
	assert_int_equal(tw_client_request(f.c, &(tw_request){ .ipvn = 4 }), -ENOTCONN);
	fx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* the Session-Sender against a scripted reflector                      */

typedef struct sndrec {
	bool done;
	uint64_t results, lost_reported;
	uint64_t sent_cb;
} sndrec;

static void s_result(void *arg, const tw_stats_result *r, const tw_reflector_fields *rf, const tw_sender_reply *info)
{
	(void)info;
	sndrec *x = arg;
	(void)r;
	(void)rf;
	x->results++;
}

static void s_lost(void *arg, uint64_t n)
{
	((sndrec *)arg)->lost_reported += n;
}

static void s_sent(void *arg, int64_t lag_ns)
{
	(void)lag_ns;
	((sndrec *)arg)->sent_cb++;
}

static void s_done(void *arg)
{
	((sndrec *)arg)->done = true;
}

static bool cond_done(void *arg)
{
	return ((sndrec *)arg)->done;
}

typedef struct urx {
	uint8_t buf[TW_SENDER_MAX_PACKET + 16];
	long n;
	tw_rx_meta m;
} urx;

/* Waits (bounded) for the sender's next packet on refl. */
static bool sender_packet(fx *f, const tw_peer_udp *refl, urx *u)
{
	u->n = tw_peer_udp_recv(f->loop, refl, u->buf, sizeof(u->buf), &u->m, WAIT_NS);
	return u->n >= 0;
}

static const tw_test_fmt open_fmt = { .sec = TW_TEST_OPEN };

/* The fixture plus the scripted reflector's socket on host; *any gets
 * host, port 0, for the sender under test. */
static tw_peer_udp reflector_start(fx *f, const char *host, tw_sockaddr *any)
{
	fx_start(f, host);
	assert_int_equal(tw_sa_from_numeric(host, 0, any), 0);
	return tw_peer_udp_open(host, 0);
}

/* Frees the sender, closes the reflector's socket, stops the fixture. */
static void sender_stop(fx *f, tw_sender *s, tw_peer_udp *refl)
{
	tw_sender_free(s);
	close(refl->fd);
	fx_stop(f);
}

/* Reflects pkt back to its source from fd with reflector seq rseq. */
static void reflect(const tw_peer_udp *from, const urx *u, uint32_t rseq, size_t len_override)
{
	tw_sender_fields sf;
	assert_int_equal(tw_sender_parse(&open_fmt, NULL, u->buf, (size_t)u->n, &sf), 0);
	tw_reflector_fields rf = {
		.seq = rseq,
		.rx_ts = tw_ts_from_unix_ns(u->m.rx_real_ns),
		.sender_seq = sf.seq,
		.sender_ts = sf.ts,
		.sender_errest = sf.errest,
		.sender_ttl = (uint8_t)u->m.ttl,
	};
	uint8_t out[2048];
	int n = tw_reflector_build(&open_fmt, NULL, u->buf, (size_t)u->n, &rf, out, sizeof(out));
	assert_true(n > 0);
	tw_reflector_stamp(&open_fmt, NULL, out, (size_t)n, tw_ts_from_unix_ns(tw_pump_real_ns()), 0x0001);
	tw_peer_udp_send(from, &u->m.from, out, len_override ? len_override : (size_t)n, -1);
}

/* *state: the host (test_sender_v4, _v6). */
static void test_sender(void **state)
{
	const char *host = *state;
	fx f;
	tw_sockaddr any;
	tw_peer_udp refl = reflector_start(&f, host, &any), stranger = tw_peer_udp_open(host, 0);
	tw_sockaddr raddr = refl.local;
	int err;
	tw_sender *s = tw_sender_open(f.loop, &any, 46, NULL, &err);
	assert_non_null(s);
	uint16_t errest = 0x8005;
	sndrec rec = { 0 };
	tw_sender_params sp = {
		.fmt = open_fmt,
		.reflector = raddr,
		.padding = 27,
		.interval_ns = 5 * MS,
		.count = 10,
		.loss_timeout_ns = 300 * MS,
		.errest = &errest,
		.on_result = s_result,
		.on_lost = s_lost,
		.on_sent = s_sent,
		.on_done = s_done,
		.arg = &rec,
	};
	assert_int_equal(tw_sender_start(s, &sp), 0);
	uint32_t rseq = 0;
	for (uint32_t i = 0; i < 10; i++) {
		urx u;
		int64_t before = tw_pump_real_ns();
		assert_true(sender_packet(&f, &refl, &u));
		assert_int_equal(u.n, 41); /* 14 + 27: the size-symmetric default */
		tw_sender_fields sf;
		assert_int_equal(tw_sender_parse(&open_fmt, NULL, u.buf, 41, &sf), 0);
		assert_int_equal(sf.seq, i);
		assert_int_equal(sf.errest, errest);
		assert_true(tw_errest_valid(sf.errest));
		int64_t t1 = tw_ts_to_unix_ns(sf.ts);
		assert_true(t1 >= before - 20 * MS && t1 <= tw_pump_real_ns() + 20 * MS);
		assert_int_equal(u.m.ttl, 255);
		assert_int_equal(u.m.tos, 46 << 2);
		if (i == 3 || i == 7)
			continue; /* lost on the way back */
		if (i == 5) {
			reflect(&refl, &u, rseq++, 40);      /* shorter than 41: ignored */
			reflect(&stranger, &u, rseq, 0);     /* wrong source: ignored */
		}
		reflect(&refl, &u, rseq++, 0);
		if (i == 8)
			reflect(&refl, &u, rseq - 1, 0);     /* a duplicate */
	}
	assert_true(tw_pump_until(f.loop, cond_done, &rec, WAIT_NS));
	tw_stats_counters c;
	tw_stats_get(tw_sender_stats(s), &c);
	assert_int_equal(c.sent, 10);
	assert_int_equal(c.received, 8);
	assert_int_equal(c.lost, 2);
	assert_int_equal(rec.lost_reported, 2);
	assert_int_equal(c.duplicates[TW_STATS_BWD] + c.duplicates[TW_STATS_FWD], 1);
	assert_int_equal(rec.sent_cb, 10);
	const tw_sender_counters *sc = tw_sender_counters_get(s);
	assert_int_equal(sc->invalid, 1);
	assert_int_equal(sc->wrong_source, 1);
	assert_int_equal(sc->ts_source, TW_TS_KERNEL);
	close(stranger.fd);
	sender_stop(&f, s, &refl);
}

/* 14-octet packets (padding 0) and the schedule's pace. */
static void test_sender_no_padding_and_pace(void **state)
{
	(void)state;
	fx f;
	tw_sockaddr any;
	tw_peer_udp refl = reflector_start(&f, "127.0.0.1", &any);
	tw_sockaddr raddr = refl.local;
	int err;
	tw_sender *s = tw_sender_open(f.loop, &any, 0, NULL, &err);
	assert_non_null(s);
	uint16_t errest = 0x0001;
	sndrec rec = { 0 };
	tw_sender_params sp = {
		.fmt = open_fmt, .reflector = raddr, .padding = 0, .interval_ns = 10 * MS, .count = 20,
		.loss_timeout_ns = 100 * MS, .errest = &errest, .on_done = s_done, .arg = &rec,
	};
	int64_t t0 = tw_pump_mono_ns();
	assert_int_equal(tw_sender_start(s, &sp), 0);
	for (uint32_t i = 0; i < 20; i++) {
		urx u;
		assert_true(sender_packet(&f, &refl, &u));
		assert_int_equal(u.n, 14);
		assert_int_equal(u.buf[3], i);
		assert_int_equal(u.m.tos, 0);
	}
	int64_t took = tw_pump_mono_ns() - t0;
	assert_true(took >= 185 * MS && took < 1000 * MS); /* 19 gaps of 10 ms */
	assert_true(tw_pump_until(f.loop, cond_done, &rec, WAIT_NS));
	tw_stats_counters c;
	tw_stats_get(tw_sender_stats(s), &c);
	assert_int_equal(c.lost, 20);
	sender_stop(&f, s, &refl);
}

/* Paddings the sender cannot build are refused up front instead of
 * silently sending nothing. */
static void test_sender_padding_limit(void **state)
{
	(void)state;
	fx f;
	tw_sockaddr any;
	tw_peer_udp refl = reflector_start(&f, "127.0.0.1", &any);
	tw_sockaddr raddr = refl.local;
	uint16_t errest = 0x0001;
	sndrec rec = { 0 };
	tw_sender_params sp = {
		.fmt = { .sec = TW_TEST_AUTH }, .reflector = raddr, .interval_ns = 10 * MS, .count = 1,
		.loss_timeout_ns = 100 * MS, .errest = &errest, .on_done = s_done, .arg = &rec,
	};
	int err;
	tw_sender *s = tw_sender_open(f.loop, &any, 0, NULL, &err);
	sp.padding = TW_SENDER_MAX_PACKET - TW_SENDER_HDR_KEYED + 1;
	assert_int_equal(tw_sender_start(s, &sp), -EMSGSIZE);
	tw_sender_free(s);
	/* the largest one works: one packet of exactly the maximum */
	s = tw_sender_open(f.loop, &any, 0, NULL, &err);
	sp.fmt.sec = TW_TEST_OPEN;
	sp.padding = TW_SENDER_MAX_PACKET - TW_SENDER_HDR_OPEN;
	assert_int_equal(tw_sender_start(s, &sp), 0);
	urx u;
	assert_true(sender_packet(&f, &refl, &u));
	assert_int_equal(u.n, TW_SENDER_MAX_PACKET);
	assert_true(tw_pump_until(f.loop, cond_done, &rec, WAIT_NS));
	sender_stop(&f, s, &refl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conversation_and_stop_count),
		cmocka_unit_test(test_conversation_v6),
		cmocka_unit_test(test_greeting_modes_zero),
		cmocka_unit_test(test_no_common_mode),
		cmocka_unit_test(test_kdf_count_limit),
		cmocka_unit_test(test_keyed_mode_choice),
		cmocka_unit_test(test_server_start_refused),
		cmocka_unit_test(test_start_ack_refused),
		cmocka_unit_test(test_silent_server_times_out),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_server_hangs_up),
		TW_CASE("test_sender_v4", test_sender, "127.0.0.1"),
		TW_CASE("test_sender_v6", test_sender, "::1"),
		cmocka_unit_test(test_sender_no_padding_and_pace),
		cmocka_unit_test(test_sender_padding_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
