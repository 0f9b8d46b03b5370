/* test_server.c - tw_server + Session-Reflector against a scripted
 * Control-Client in the same process: raw non-blocking sockets carry
 * hand-built messages (proto/control.h) while the test pumps the loop in
 * bounded steps. Keyed modes and the "well-behaved concurrent client" run
 * the real tw_client + tw_sender on the same loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
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
#include "script.h"
#include "sender.h"
#include "server.h"
#include "serverfx.h"
#include "testpkt.h"

#define MS 1000000LL
#define WAIT_NS TW_PUMP_WAIT_NS   /* generous upper bound for "should happen" */
#define QUIET_NS TW_PUMP_QUIET_NS /* how long "nothing arrives" is watched */
#define SENDER_ERREST 0x1234u  /* distinctive, multiplier 0x34 */
#define SECRET "twamp-interop-secret"
#define IDENTITY "testuser"

/* ------------------------------------------------------------------ */
/* fixture: one loop, one server                                        */

typedef tw_serverfx fx; /* support/serverfx.h */

static tw_server_params default_params(void)
{
	return (tw_server_params){
		.modes = TW_MODE_OPEN,
		.max_connections = 16,
		.max_sessions = 8,
		.kdf_count = 1024,
	};
}

/* tw_serverfx_start with default_params(). */
static void fx_start_default(fx *f, const char *host)
{
	tw_server_params p = default_params();
	tw_serverfx_start(f, host, &p);
}

/* Closes the control connection fd and the sender u, stops the server. */
static void fx_close(fx *f, int fd, tw_peer_udp *u)
{
	close(fd);
	close(u->fd);
	tw_serverfx_stop(f);
}

static const tw_server_stats *stats(const fx *f)
{
	return tw_server_stats_get(f->srv);
}

/* ------------------------------------------------------------------ */
/* the scripted Control-Client (support/script.h) over raw TCP          */

static int peer_open(fx *f)
{
	return tw_script_open(f->loop, &f->addr, NULL, TW_MODE_OPEN);
}

/* True when the server closed the connection within the bound (any data
 * still arriving is discarded). */
static bool peer_closed(fx *f, int fd)
{
	return tw_peer_tcp_closed(f->loop, fd, WAIT_NS);
}

/* True when nothing at all arrives and the connection stays open. */
static bool peer_silent_open(fx *f, int fd)
{
	return tw_peer_tcp_watch(f->loop, fd, QUIET_NS) == TW_PEER_QUIET;
}

/* ------------------------------------------------------------------ */
/* the scripted Session-Sender: raw UDP                                 */

static tw_peer_udp udp_open(fx *f)
{
	return tw_peer_udp_open(f->host, 0);
}

/* A well-formed request from u to the server's address (IPVN from the
 * family, real addresses, Timeout 300 ms, padding 27). */
static tw_request make_request(const fx *f, const tw_peer_udp *u, uint16_t receiver_port)
{
	tw_request r;
	memset(&r, 0, sizeof(r));
	tw_sa_to_wire(&u->local, &r.ipvn, r.sender_addr);
	tw_sa_to_wire(&f->addr, &r.ipvn, r.receiver_addr);
	r.sender_port = tw_sa_port(&u->local);
	r.receiver_port = receiver_port;
	r.padding = 27;
	r.timeout = tw_ts_interval_from_ns(300 * MS);
	return r;
}

static tw_sockaddr session_addr(const fx *f, uint16_t port)
{
	tw_sockaddr a = f->addr;
	tw_sa_set_port(&a, port);
	return a;
}

static const tw_test_fmt open_fmt = { .sec = TW_TEST_OPEN };

/* Requests r on fd, requires Accept 0 and starts; returns where the
 * session's test packets go. */
static tw_sockaddr start_session(fx *f, int fd, const tw_request *r)
{
	tw_accept_session a = tw_script_request(f->loop, fd, r);
	assert_int_equal(a.accept, TW_ACCEPT_OK);
	tw_script_start(f->loop, fd);
	return session_addr(f, a.port);
}

/* Sends an unauthenticated sender packet with padlen octets of padding
 * (the octets pad[0..padlen-1]). Returns its length; *pkt_out keeps a copy. */
static size_t send_test(const tw_peer_udp *u, const tw_sockaddr *dst, uint32_t seq, const uint8_t *pad,
			size_t padlen, tw_ts *t1, uint8_t *pkt_out)
{
	uint8_t pkt[2048];
	size_t n = tw_script_sender_packet(&open_fmt, NULL, seq, pad, padlen, SENDER_ERREST, pkt, sizeof(pkt), t1);
	tw_peer_udp_send(u, dst, pkt, n, -1);
	if (pkt_out)
		memcpy(pkt_out, pkt, n);
	return n;
}

/* Waits for one reply on u; returns its length or -1 when none came. */
static long udp_reply(fx *f, const tw_peer_udp *u, uint8_t *buf, size_t cap, tw_rx_meta *m, int64_t max_ns)
{
	return tw_peer_udp_recv(f->loop, u, buf, cap, m, max_ns);
}

static bool no_reply(fx *f, const tw_peer_udp *u)
{
	return tw_peer_udp_silent(f->loop, u, QUIET_NS);
}

/* Sends one packet and requires a reply; returns the reply length. */
static long ping_once(fx *f, const tw_peer_udp *u, const tw_sockaddr *dst, uint32_t seq, uint8_t *reply,
		      size_t cap, tw_rx_meta *m)
{
	return tw_script_exchange(f->loop, u, dst, &open_fmt, seq, NULL, 27, SENDER_ERREST, -1, reply, cap, m);
}

/* A started session on an open connection: request (receiver port 0), start. */
typedef struct raw_sess {
	int ctl;
	tw_peer_udp u;
	tw_accept_session acc;
	tw_sockaddr dst;
} raw_sess;

static raw_sess raw_session(fx *f, uint64_t timeout_ns, bool start)
{
	raw_sess s;
	s.ctl = peer_open(f);
	s.u = udp_open(f);
	tw_request r = make_request(f, &s.u, 0);
	r.timeout = tw_ts_interval_from_ns(timeout_ns);
	s.acc = tw_script_request(f->loop, s.ctl, &r);
	assert_int_equal(s.acc.accept, TW_ACCEPT_OK);
	assert_int_not_equal(s.acc.port, 0);
	s.dst = session_addr(f, s.acc.port);
	if (start)
		tw_script_start(f->loop, s.ctl);
	return s;
}

static void raw_close(raw_sess *s)
{
	close(s->ctl);
	close(s->u.fd);
}

/* ------------------------------------------------------------------ */
/* the well-behaved client: real tw_client + tw_sender on the same loop */

typedef struct good {
	fx *f;
	tw_client *c;
	tw_sender *snd;
	tw_accept_session acc;
	uint16_t errest;
	uint64_t count;
	int64_t interval_ns;
	bool ready, accepted, started, done, failed;
	tw_client_fail why;
	tw_stats_counters ctr;
} good;

static void g_ready(void *arg, tw_client *c)
{
	good *g = arg;
	g->ready = true;
	tw_sockaddr local = *tw_client_local(c);
	tw_sa_set_port(&local, 0);
	int err;
	g->snd = tw_sender_open(g->f->loop, &local, 0, NULL, &err);
	assert_non_null(g->snd);
	tw_request r;
	memset(&r, 0, sizeof(r));
	tw_sa_to_wire(tw_sender_local(g->snd), &r.ipvn, r.sender_addr);
	tw_sa_to_wire(tw_client_peer(c), &r.ipvn, r.receiver_addr);
	r.sender_port = tw_sender_port(g->snd);
	r.receiver_port = r.sender_port; /* busy on this host, like twping */
	tw_test_fmt fmt = { .sec = TW_TEST_OPEN };
	uint32_t sec = tw_mode_security(tw_client_mode(c));
	fmt.sec = sec == TW_MODE_AUTH ? TW_TEST_AUTH : sec == TW_MODE_ENC ? TW_TEST_ENC : TW_TEST_OPEN;
	r.padding = (uint32_t)tw_test_symmetric_padding(&fmt);
	r.timeout = tw_ts_interval_from_ns(1000 * MS);
	assert_int_equal(tw_client_request(c, &r), 0);
}

static void g_done(void *arg)
{
	good *g = arg;
	g->done = true;
	tw_stats_get(tw_sender_stats(g->snd), &g->ctr);
	tw_client_stop(g->c, TW_ACCEPT_OK);
}

static void g_accepted(void *arg, tw_client *c, const tw_accept_session *a)
{
	good *g = arg;
	g->accepted = true;
	g->acc = *a;
	if (a->accept == TW_ACCEPT_OK)
		assert_int_equal(tw_client_start(c), 0);
}

static void g_started(void *arg, tw_client *c)
{
	good *g = arg;
	g->started = true;
	uint32_t sec = tw_mode_security(tw_client_mode(c));
	tw_sender_params sp = {
		.fmt = { .sec = sec == TW_MODE_AUTH ? TW_TEST_AUTH : sec == TW_MODE_ENC ? TW_TEST_ENC : TW_TEST_OPEN },
		.crypto = tw_client_test_crypto(c, g->acc.sid),
		.reflector = *tw_client_peer(c),
		.interval_ns = g->interval_ns,
		.count = g->count,
		.loss_timeout_ns = 1000 * MS,
		.errest = &g->errest,
		.on_done = g_done,
		.arg = g,
	};
	sp.padding = (uint32_t)tw_test_symmetric_padding(&sp.fmt);
	tw_sa_set_port(&sp.reflector, g->acc.port);
	assert_int_equal(tw_sender_start(g->snd, &sp), 0);
}

static void g_failed(void *arg, tw_client *c, tw_client_fail why, const char *detail)
{
	good *g = arg;
	(void)c;
	(void)detail;
	if (g->done)
		return; /* the server may close after Stop-Sessions */
	g->failed = true;
	g->why = why;
}

static void good_begin(fx *f, good *g, uint32_t modes, const char *identity, const char *secret, uint64_t count,
		       int64_t interval_ns)
{
	memset(g, 0, sizeof(*g));
	g->f = f;
	g->count = count;
	g->interval_ns = interval_ns;
	g->errest = tw_clock_errest_word(&(tw_sync_state){ .synced = false, .error_ns = 1000000 });
	tw_client_params cp = {
		.server = f->addr,
		.modes = modes,
		.identity = identity,
		.secret = (const uint8_t *)secret,
		.secret_len = secret ? strlen(secret) : 0,
		.max_kdf_count = 32768,
		.timeout_ns = 5000 * MS,
		.cbs = { g_ready, g_accepted, g_started, g_failed, g },
	};
	int err;
	g->c = tw_client_new(f->loop, &cp, &err);
	assert_non_null(g->c);
}

static bool good_finished(void *arg)
{
	good *g = arg;
	return g->done || g->failed;
}

static void good_end(fx *f, good *g)
{
	tw_pump_for(f->loop, 5 * MS); /* let Stop-Sessions leave */
	tw_sender_free(g->snd);
	tw_client_free(g->c);
}

/* Runs the session to its end and checks every packet came back. */
static void good_expect_complete(fx *f, good *g)
{
	assert_true(tw_pump_until(f->loop, good_finished, g, 20000 * MS));
	if (g->failed)
		fail_msg("the well-behaved client failed: %s", tw_client_fail_name(g->why));
	assert_true(g->done);
	assert_int_equal(g->ctr.sent, g->count);
	assert_int_equal(g->ctr.received, g->count);
	assert_int_equal(g->ctr.lost, 0);
}

/* ------------------------------------------------------------------ */
/* Greeting and set-up                                                  */

/* *state: the host (test_handshake_v4, _v6). */
static void test_handshake(void **state)
{
	const char *host = *state;
	fx f;
	tw_server_params p = default_params();
	p.kdf_count = 4096;
	tw_serverfx_start(&f, host, &p);
	int fd = tw_peer_tcp_connect(&f.addr, NULL);
	uint8_t raw[TW_GREETING_LEN], zero[16] = { 0 };
	tw_greeting g;
	tw_script_greeting(f.loop, fd, &g, raw);
	assert_memory_equal(raw, zero, 12);       /* Unused */
	assert_int_equal(g.modes, TW_MODE_OPEN);  /* exactly what was configured */
	assert_int_equal(g.count, 4096);
	assert_memory_equal(raw + 52, zero, 12);  /* MBZ */
	tw_script_setup(fd, TW_MODE_OPEN);
	uint8_t ss_raw[TW_SERVER_START_LEN];
	tw_server_start ss;
	int64_t before = tw_pump_real_ns();
	tw_script_server_start(f.loop, fd, &ss, ss_raw);
	assert_int_equal(ss.accept, TW_ACCEPT_OK);
	assert_memory_equal(ss_raw, zero, 15);    /* MBZ */
	assert_memory_equal(ss_raw + 40, zero, 8);
	assert_int_not_equal(ss.start_time, 0);
	/* the server's start time: not in the future, not long ago */
	int64_t st = tw_ts_to_unix_ns(ss.start_time);
	assert_true(st <= before + 10 * MS);
	assert_true(st > before - 60000 * MS);
	assert_true(peer_silent_open(&f, fd));
	assert_int_equal(stats(&f)->connections, 1);
	assert_int_equal(stats(&f)->active_connections, 1);
	close(fd);
	tw_serverfx_stop(&f);
}

static void test_greeting_offers_configured_modes(void **state)
{
	(void)state;
	fx f;
	tw_server_params p = default_params();
	p.modes = TW_MODE_OPEN | TW_MODE_AUTH | TW_MODE_ENC | TW_MODE_MIXED;
	tw_serverfx_start(&f, "127.0.0.1", &p);
	int fd = tw_peer_tcp_connect(&f.addr, NULL);
	tw_greeting g;
	tw_script_greeting(f.loop, fd, &g, NULL);
	assert_int_equal(g.modes, TW_MODE_OPEN | TW_MODE_AUTH | TW_MODE_ENC | TW_MODE_MIXED);
	assert_int_equal(g.count, 1024);
	close(fd);
	tw_serverfx_stop(&f);
}

/* A client that does not wait for each answer: Set-Up-Response, two
 * requests and Start-Sessions in one segment get their four answers. */
static void test_pipelined_commands(void **state)
{
	(void)state;
	fx f;
	fx_start_default(&f, "127.0.0.1");
	int fd = tw_peer_tcp_connect(&f.addr, NULL);
	tw_greeting g;
	tw_script_greeting(f.loop, fd, &g, NULL);
	tw_peer_udp u = udp_open(&f);
	uint8_t burst[TW_SETUP_LEN + 2 * TW_REQUEST_LEN + TW_START_LEN], mac[TW_HMAC_LEN] = { 0 };
	tw_setup su = { .mode = TW_MODE_OPEN };
	size_t n = 0;
	n += (size_t)tw_setup_encode(&su, burst + n, sizeof(burst) - n);
	tw_request r = make_request(&f, &u, 0);
	n += (size_t)tw_request_encode(&r, burst + n, sizeof(burst) - n);
	n += (size_t)tw_request_encode(&r, burst + n, sizeof(burst) - n);
	n += (size_t)tw_start_encode(mac, burst + n, sizeof(burst) - n);
	assert_int_equal(n, sizeof(burst));
	tw_peer_tcp_send(fd, burst, n);
	tw_server_start ss;
	tw_script_server_start(f.loop, fd, &ss, NULL);
	assert_int_equal(ss.accept, TW_ACCEPT_OK);
	tw_accept_session a1 = tw_script_accept(f.loop, fd);
	tw_accept_session a2 = tw_script_accept(f.loop, fd);
	assert_int_equal(a1.accept, TW_ACCEPT_OK);
	assert_int_equal(a2.accept, TW_ACCEPT_OK);
	assert_int_not_equal(a1.port, a2.port);
	uint8_t ack[TW_START_ACK_LEN];
	tw_peer_tcp_read(f.loop, fd, ack, sizeof(ack), WAIT_NS);
	assert_int_equal(ack[0], TW_ACCEPT_OK);
	/* Stop-Sessions and a new request in one segment */
	uint8_t burst2[TW_STOP_LEN + TW_REQUEST_LEN];
	tw_stop st = { .nsessions = 2 };
	assert_int_equal(tw_stop_encode(&st, burst2, sizeof(burst2)), TW_STOP_LEN);
	assert_int_equal(tw_request_encode(&r, burst2 + TW_STOP_LEN, TW_REQUEST_LEN), TW_REQUEST_LEN);
	tw_peer_tcp_send(fd, burst2, sizeof(burst2));
	tw_accept_session a3 = tw_script_accept(f.loop, fd);
	assert_int_equal(a3.accept, TW_ACCEPT_OK);
	assert_int_equal(stats(&f)->rejections[TW_REJECT_PROTOCOL], 0);
	fx_close(&f, fd, &u);
}

/* ------------------------------------------------------------------ */
/* Request-TW-Session refusals                                          */

static void test_request_refusals_answered(void **state)
{
	(void)state;
	fx f;
	fx_start_default(&f, "127.0.0.1");
	int fd = peer_open(&f);
	tw_peer_udp u = udp_open(&f);
	for (int i = 0; i < 6; i++) {
		tw_request r = make_request(&f, &u, 0);
		switch (i) {
		case 0: r.conf_sender = 1; break;
		case 1: r.conf_receiver = 1; break;
		case 2: r.slots = 3; break;
		case 3: r.packets = 100; break;
		case 4: r.type_p = 0x40000000u; break;  /* PHB ID form */
		default: r.type_p = 0x2E000001u; break; /* bits outside 0x3F000000 */
		}
		tw_accept_session a = tw_script_request(f.loop, fd, &r);
		assert_int_equal(a.accept, TW_ACCEPT_NOT_SUPPORTED);
		assert_int_equal(a.port, 0);
	}
	assert_int_equal(stats(&f)->rejections[TW_REJECT_REQUEST], 6);
	assert_int_equal(stats(&f)->sessions_accepted, 0);
	/* the connection is still usable */
	tw_request r = make_request(&f, &u, 0);
	r.type_p = tw_type_p_from_dscp(46);
	tw_accept_session a = tw_script_request(f.loop, fd, &r);
	assert_int_equal(a.accept, TW_ACCEPT_OK);
	assert_int_not_equal(a.port, 0);
	tw_script_start(f.loop, fd);
	tw_sockaddr dst = session_addr(&f, a.port);
	uint8_t rep[256];
	assert_int_equal(ping_once(&f, &u, &dst, 0, rep, sizeof(rep), NULL), 41);
	assert_int_equal(stats(&f)->sessions_accepted, 1);
	fx_close(&f, fd, &u);
}

/* ------------------------------------------------------------------ */
/* addresses, DSCP, TTL                                                 */

typedef struct host_pair {
	const char *host, *src;
} host_pair;

/* The client sits on src, another address than the server's, so "the
 * control connection's client address" and "its server address" differ.
 * *state: a host_pair (test_zero_addresses_v4, _v6). */
static void test_zero_addresses(void **state)
{
	const host_pair *row = *state;
	const char *host = row->host;
	const char *src = row->src;
	fx f;
	fx_start_default(&f, host);
	int fd = tw_script_open(f.loop, &f.addr, src, TW_MODE_OPEN);
	tw_peer_udp u = tw_peer_udp_open(src, 0);
	tw_request r = make_request(&f, &u, 0);
	memset(r.sender_addr, 0, sizeof(r.sender_addr));
	memset(r.receiver_addr, 0, sizeof(r.receiver_addr));
	tw_sockaddr dst = start_session(&f, fd, &r);
	uint8_t rep[256];
	tw_rx_meta m;
	assert_int_equal(ping_once(&f, &u, &dst, 7, rep, sizeof(rep), &m), 41);
	/* from the control connection's server address, at the granted port */
	tw_sa_unmap(&m.from);
	assert_true(tw_sa_equal(&m.from, &dst));
	tw_reflector_fields rf;
	assert_int_equal(tw_reflector_parse(&open_fmt, NULL, rep, 41, &rf), 0);
	assert_int_equal(rf.sender_seq, 7);
	fx_close(&f, fd, &u);
}

/* Addresses in the request are used when present: replies go to the
 * Sender Address even when it is not the control connection's client. */
static void test_third_party_sender_address(void **state)
{
	(void)state;
	fx f;
	fx_start_default(&f, "127.0.0.1");
	int fd = peer_open(&f);                 /* control from 127.0.0.1 */
	tw_peer_udp u = tw_peer_udp_open("127.0.0.3", 0);  /* test traffic from elsewhere */
	tw_request r = make_request(&f, &u, 0);
	tw_sockaddr dst = start_session(&f, fd, &r);
	uint8_t rep[256];
	assert_int_equal(ping_once(&f, &u, &dst, 3, rep, sizeof(rep), NULL), 41);
	assert_int_equal(stats(&f)->refl.dropped[TW_REFL_DROP_SOURCE], 0);
	fx_close(&f, fd, &u);
}

/* A Receiver Address that is not one of ours (a NAT in between) falls back
 * to the control connection's server address. */
static void test_foreign_receiver_address(void **state)
{
	(void)state;
	fx f;
	fx_start_default(&f, "127.0.0.1");
	int fd = peer_open(&f);
	tw_peer_udp u = udp_open(&f);
	tw_request r = make_request(&f, &u, 0);
	static const uint8_t test_net[4] = { 192, 0, 2, 1 };
	memcpy(r.receiver_addr, test_net, sizeof(test_net));
	tw_sockaddr dst = start_session(&f, fd, &r);
	uint8_t rep[256];
	tw_rx_meta m;
	assert_int_equal(ping_once(&f, &u, &dst, 0, rep, sizeof(rep), &m), 41);
	tw_sa_unmap(&m.from);
	assert_true(tw_sa_equal(&m.from, &dst));
	fx_close(&f, fd, &u);
}

/* SID: 4 octets of our address, an NTP timestamp of now, 4 random octets;
 * different for every session. */
static void check_sids(const char *host, const uint8_t prefix[4])
{
	fx f;
	fx_start_default(&f, host);
	int fd = peer_open(&f);
	tw_peer_udp u = udp_open(&f);
	uint8_t sids[3][TW_SID_LEN];
	for (int i = 0; i < 3; i++) {
		tw_request r = make_request(&f, &u, 0);
		int64_t now = tw_pump_real_ns();
		tw_accept_session a = tw_script_request(f.loop, fd, &r);
		assert_int_equal(a.accept, TW_ACCEPT_OK);
		assert_memory_equal(a.sid, prefix, 4);
		tw_ts ts = (tw_ts)a.sid[4] << 56 | (tw_ts)a.sid[5] << 48 | (tw_ts)a.sid[6] << 40 |
			   (tw_ts)a.sid[7] << 32 | (tw_ts)a.sid[8] << 24 | (tw_ts)a.sid[9] << 16 |
			   (tw_ts)a.sid[10] << 8 | a.sid[11];
		int64_t d = tw_ts_to_unix_ns(ts) - now;
		assert_true(d > -1000 * MS && d < 1000 * MS);
		memcpy(sids[i], a.sid, TW_SID_LEN);
		for (int j = 0; j < i; j++)
			assert_memory_not_equal(sids[i], sids[j], TW_SID_LEN);
	}
	fx_close(&f, fd, &u);
}

static void test_sid_layout(void **state)
{
	(void)state;
	static const uint8_t v4[4] = { 127, 0, 0, 1 }, v6[4] = { 0, 0, 0, 1 };
	check_sids("127.0.0.1", v4);
	check_sids("::1", v6);
}

typedef struct dscp_case {
	const char *host;
	unsigned dscp;
} dscp_case;

/* *state: a dscp_case (test_dscp_ef_v4 ... test_dscp_zero_v4). */
static void test_dscp(void **state)
{
	const dscp_case *row = *state;
	const char *host = row->host;
	unsigned dscp = row->dscp;
	fx f;
	fx_start_default(&f, host);
	int fd = peer_open(&f);
	tw_peer_udp u = udp_open(&f);
	tw_request r = make_request(&f, &u, 0);
	r.type_p = tw_type_p_from_dscp(dscp);
	assert_int_equal(r.type_p, dscp << 24);
	tw_sockaddr dst = start_session(&f, fd, &r);
	uint8_t rep[256];
	tw_rx_meta m;
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(ping_once(&f, &u, &dst, i, rep, sizeof(rep), &m), 41);
		assert_int_equal(m.tos, (int)(dscp << 2)); /* DS byte, ECN Not-ECT */
		assert_int_equal(m.ttl, 255);              /* loopback keeps it */
		assert_int_equal(rep[40], 255);            /* Sender TTL */
	}
	fx_close(&f, fd, &u);
}

/* ------------------------------------------------------------------ */
/* receiver ports                                                       */

/* A UDP port that is free right now on the fixture's address. */
static uint16_t free_udp_port(fx *f)
{
	tw_peer_udp u = udp_open(f);
	uint16_t port = tw_sa_port(&u.local);
	close(u.fd);
	return port;
}

static void test_requested_port_free_and_busy(void **state)
{
	(void)state;
	fx f;
	fx_start_default(&f, "127.0.0.1");
	int fd = peer_open(&f);
	tw_peer_udp u = udp_open(&f);
	/* free: granted as asked */
	uint16_t want = free_udp_port(&f);
	tw_request r = make_request(&f, &u, want);
	tw_accept_session a = tw_script_request(f.loop, fd, &r);
	assert_int_equal(a.accept, TW_ACCEPT_OK);
	assert_int_equal(a.port, want);
	/* busy (our own sender socket, as twping asks): another one, Accept 0 */
	tw_peer_udp u2 = udp_open(&f);
	r = make_request(&f, &u2, tw_sa_port(&u2.local));
	tw_accept_session b = tw_script_request(f.loop, fd, &r);
	assert_int_equal(b.accept, TW_ACCEPT_OK);
	assert_int_not_equal(b.port, 0);
	assert_int_not_equal(b.port, tw_sa_port(&u2.local));
	assert_int_not_equal(b.port, a.port);
	tw_script_start(f.loop, fd);
	uint8_t rep[256];
	tw_sockaddr d1 = session_addr(&f, a.port), d2 = session_addr(&f, b.port);
	assert_int_equal(ping_once(&f, &u, &d1, 0, rep, sizeof(rep), NULL), 41);
	assert_int_equal(ping_once(&f, &u2, &d2, 0, rep, sizeof(rep), NULL), 41);
	close(fd);
	close(u.fd);
	close(u2.fd);
	tw_serverfx_stop(&f);
}

/* Finds n consecutive free UDP ports (bounded search). */
static uint16_t free_range(fx *f, int n)
{
	for (int attempt = 0; attempt < 50; attempt++) {
		uint16_t base = free_udp_port(f);
		if (base > 65535 - n)
			continue;
		bool ok = true;
		for (int i = 0; i < n && ok; i++) {
			tw_sockaddr a;
			assert_int_equal(tw_sa_from_numeric(f->host, (uint16_t)(base + i), &a), 0);
			int fd = tw_net_udp_open(&a, NULL);
			ok = fd >= 0;
			if (fd >= 0)
				close(fd);
		}
		if (ok)
			return base;
	}
	fail_msg("no free port range");
	return 0;
}

static void test_port_range_alternate(void **state)
{
	(void)state;
	fx f;
	tw_server_params p = default_params();
	tw_serverfx_start(&f, "127.0.0.1", &p); /* only to probe ports */
	uint16_t lo = free_range(&f, 8);
	tw_serverfx_stop(&f);
	p.port_min = lo;
	p.port_max = (uint16_t)(lo + 7);
	tw_serverfx_start(&f, "127.0.0.1", &p);
	int fd = peer_open(&f);
	/* the sender holds the range's first port and asks for it */
	tw_peer_udp u = tw_peer_udp_open("127.0.0.1", lo);
	tw_request r = make_request(&f, &u, lo);
	tw_accept_session a = tw_script_request(f.loop, fd, &r);
	assert_int_equal(a.accept, TW_ACCEPT_OK);
	assert_true(a.port > lo && a.port <= lo + 7);
	/* a free requested port outside the range is still granted as asked */
	tw_peer_udp u2 = udp_open(&f);
	uint16_t want = free_udp_port(&f);
	r = make_request(&f, &u2, want);
	tw_accept_session b = tw_script_request(f.loop, fd, &r);
	assert_int_equal(b.accept, TW_ACCEPT_OK);
	if (want < lo || want > lo + 7)
		assert_int_equal(b.port, want);
	tw_script_start(f.loop, fd);
	uint8_t rep[256];
	tw_sockaddr d = session_addr(&f, a.port);
	assert_int_equal(ping_once(&f, &u, &d, 0, rep, sizeof(rep), NULL), 41);
	close(fd);
	close(u.fd);
	close(u2.fd);
	tw_serverfx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* reflected packets                                                    */

static void check_reply(const uint8_t *req, size_t req_len, tw_ts t1, const uint8_t *rep, long rep_len,
			uint32_t want_seq, int64_t before_ns, int64_t after_ns)
{
	size_t want_len = req_len > 41 ? req_len : 41;
	assert_int_equal(rep_len, (long)want_len);
	tw_reflector_fields rf;
	assert_int_equal(tw_reflector_parse(&open_fmt, NULL, rep, (size_t)rep_len, &rf), 0);
	assert_int_equal(rf.seq, want_seq);
	assert_int_equal(rf.sender_seq, (uint32_t)req[0] << 24 | (uint32_t)req[1] << 16 | req[2] << 8 | req[3]);
	assert_true(rf.sender_ts == t1);
	assert_int_equal(rf.sender_errest, SENDER_ERREST);
	assert_int_equal(rf.sender_ttl, 255);
	assert_true(tw_errest_valid(rf.errest)); /* multiplier never 0 */
	tw_sync_state st = tw_clock_sync_state();
	assert_int_equal((rf.errest & TW_ERREST_S) != 0, st.synced);
	assert_int_equal(rf.errest & TW_ERREST_Z, 0);
	/* T2 <= T3, both close to the real clock */
	assert_true(tw_ts_diff_ns(rf.ts, rf.rx_ts) >= 0);
	int64_t t2 = tw_ts_to_unix_ns(rf.rx_ts), t3 = tw_ts_to_unix_ns(rf.ts);
	assert_true(t2 >= before_ns - 10 * MS && t2 <= after_ns + 10 * MS);
	assert_true(t3 >= before_ns - 10 * MS && t3 <= after_ns + 10 * MS);
	/* MBZ octets */
	assert_int_equal(rep[14] | rep[15] | rep[38] | rep[39], 0);
	/* padding = the first (len - 41) octets of the sender's padding */
	if (want_len > 41)
		assert_memory_equal(rep + 41, req + 14, want_len - 41);
}

static void test_reflector_packets(void **state)
{
	(void)state;
	fx f;
	fx_start_default(&f, "127.0.0.1");
	int fd = peer_open(&f);
	tw_peer_udp u[2] = { udp_open(&f), udp_open(&f) };
	tw_sockaddr dst[2];
	for (int s = 0; s < 2; s++) {
		tw_request r = make_request(&f, &u[s], 0);
		tw_accept_session a = tw_script_request(f.loop, fd, &r);
		assert_int_equal(a.accept, TW_ACCEPT_OK);
		dst[s] = session_addr(&f, a.port);
	}
	tw_script_start(f.loop, fd);
	static const size_t pads[] = { 0, 27, 64, 100, 1 };
	uint8_t pad[128];
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = (uint8_t)(0xA0 ^ i * 7);
	for (uint32_t k = 0; k < 5; k++) {
		for (int s = 0; s < 2; s++) {
			uint8_t req[256], rep[256];
			tw_ts t1;
			int64_t before = tw_pump_real_ns();
			/* the sender numbers from 1000 to tell its counter from ours */
			size_t len = send_test(&u[s], &dst[s], 1000 + k * 3, pad, pads[k], &t1, req);
			long n = udp_reply(&f, &u[s], rep, sizeof(rep), NULL, WAIT_NS);
			int64_t after = tw_pump_real_ns();
			assert_int_equal(len, 14 + pads[k]);
			check_reply(req, len, t1, rep, n, k, before, after);
		}
	}
	assert_int_equal(stats(&f)->refl.reflected, 10);
	assert_int_equal(stats(&f)->refl.received, 10);
	assert_true(stats(&f)->refl.processing_count == 10);
	close(fd);
	close(u[0].fd);
	close(u[1].fd);
	tw_serverfx_stop(&f);
}

static void test_reflector_v6_packets(void **state)
{
	(void)state;
	fx f;
	fx_start_default(&f, "::1");
	raw_sess s = raw_session(&f, 300 * MS, true);
	uint8_t pad[64];
	memset(pad, 0x5a, sizeof(pad));
	for (uint32_t k = 0; k < 3; k++) {
		uint8_t req[256], rep[256];
		tw_ts t1;
		tw_rx_meta m;
		int64_t before = tw_pump_real_ns();
		size_t len = send_test(&s.u, &s.dst, k, pad, k == 2 ? 64 : 0, &t1, req);
		long n = udp_reply(&f, &s.u, rep, sizeof(rep), &m, WAIT_NS);
		check_reply(req, len, t1, rep, n, k, before, tw_pump_real_ns());
		assert_int_equal(m.ttl, 255);
	}
	raw_close(&s);
	tw_serverfx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* drops                                                                */

static void test_drop_before_start_and_wrong_source(void **state)
{
	(void)state;
	fx f;
	fx_start_default(&f, "127.0.0.1");
	raw_sess s = raw_session(&f, 300 * MS, false);
	tw_ts t1;
	send_test(&s.u, &s.dst, 0, NULL, 27, &t1, NULL);
	send_test(&s.u, &s.dst, 1, NULL, 27, &t1, NULL);
	assert_true(no_reply(&f, &s.u));
	assert_int_equal(stats(&f)->refl.dropped[TW_REFL_DROP_NOT_STARTED], 2);
	tw_script_start(f.loop, s.ctl);
	/* another source port of the same host */
	tw_peer_udp other = udp_open(&f);
	send_test(&other, &s.dst, 0, NULL, 27, &t1, NULL);
	assert_true(no_reply(&f, &other));
	assert_int_equal(stats(&f)->refl.dropped[TW_REFL_DROP_SOURCE], 1);
	/* the registered sender is answered; our counter starts at 0 */
	uint8_t rep[256];
	assert_int_equal(ping_once(&f, &s.u, &s.dst, 2, rep, sizeof(rep), NULL), 41);
	tw_reflector_fields rf;
	assert_int_equal(tw_reflector_parse(&open_fmt, NULL, rep, 41, &rf), 0);
	assert_int_equal(rf.seq, 0);
	assert_int_equal(rf.sender_seq, 2);
	assert_int_equal(stats(&f)->refl.reflected, 1);
	close(other.fd);
	raw_close(&s);
	tw_serverfx_stop(&f);
}

static void test_garbage_udp_dropped(void **state)
{
	(void)state;
	fx f;
	fx_start_default(&f, "127.0.0.1");
	raw_sess s = raw_session(&f, 300 * MS, true);
	uint8_t junk[10000];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 17);
	for (size_t len = 0; len < 14; len++)
		tw_peer_udp_send(&s.u, &s.dst, junk, len, -1); /* shorter than the sender header */
	tw_peer_udp_send(&s.u, &s.dst, junk, sizeof(junk), -1); /* beyond the receive buffer */
	assert_true(no_reply(&f, &s.u));
	assert_int_equal(stats(&f)->refl.dropped[TW_REFL_DROP_SHORT], 14);
	assert_int_equal(stats(&f)->refl.dropped[TW_REFL_DROP_TRUNCATED], 1);
	assert_int_equal(stats(&f)->refl.reflected, 0);
	/* 14+ octets of anything is a packet in open mode: still reflected */
	tw_peer_udp_send(&s.u, &s.dst, junk, 14, -1);
	uint8_t rep[256];
	assert_int_equal(udp_reply(&f, &s.u, rep, sizeof(rep), NULL, WAIT_NS), 41);
	uint8_t reply[256];
	assert_int_equal(ping_once(&f, &s.u, &s.dst, 9, reply, sizeof(reply), NULL), 41);
	raw_close(&s);
	tw_serverfx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* Stop-Sessions and the Timeout                                        */

static bool no_sessions(void *arg)
{
	fx *f = arg;
	return stats(f)->refl.sessions == 0;
}

static void test_stop_keeps_reflecting_for_timeout(void **state)
{
	(void)state;
	fx f;
	fx_start_default(&f, "127.0.0.1");
	raw_sess s = raw_session(&f, 300 * MS, true);
	uint8_t rep[256];
	assert_int_equal(ping_once(&f, &s.u, &s.dst, 0, rep, sizeof(rep), NULL), 41);
	int64_t stopped = tw_pump_mono_ns();
	tw_script_stop(s.ctl, 1);
	/* within the Timeout: still reflected */
	tw_pump_for(f.loop, 50 * MS);
	assert_int_equal(ping_once(&f, &s.u, &s.dst, 1, rep, sizeof(rep), NULL), 41);
	assert_true(peer_silent_open(&f, s.ctl)); /* right count: stays open */
	/* after the Timeout: the session ends and nothing is reflected */
	assert_true(tw_pump_until(f.loop, no_sessions, &f, WAIT_NS));
	assert_true(tw_pump_mono_ns() - stopped >= 300 * MS - 5 * MS);
	tw_ts t1;
	send_test(&s.u, &s.dst, 2, NULL, 27, &t1, NULL);
	assert_true(no_reply(&f, &s.u));
	assert_int_equal(stats(&f)->refl.reflected, 2);
	assert_int_equal(stats(&f)->rejections[TW_REJECT_PROTOCOL], 0);
	/* the connection may set up a new session after Stop */
	tw_request r = make_request(&f, &s.u, 0);
	tw_accept_session a = tw_script_request(f.loop, s.ctl, &r);
	assert_int_equal(a.accept, TW_ACCEPT_OK);
	raw_close(&s);
	tw_serverfx_stop(&f);
}

static void test_stop_before_timeout_boundary(void **state)
{
	(void)state;
	fx f;
	fx_start_default(&f, "127.0.0.1");
	raw_sess s = raw_session(&f, 300 * MS, true);
	tw_script_stop(s.ctl, 1);
	tw_pump_for(f.loop, 400 * MS);
	tw_ts t1;
	send_test(&s.u, &s.dst, 0, NULL, 27, &t1, NULL);
	assert_true(no_reply(&f, &s.u));
	assert_int_equal(stats(&f)->refl.reflected, 0);
	raw_close(&s);
	tw_serverfx_stop(&f);
}

static void test_stop_wrong_count_closes(void **state)
{
	(void)state;
	fx f;
	fx_start_default(&f, "127.0.0.1");
	raw_sess s = raw_session(&f, 500 * MS, true);
	tw_script_stop(s.ctl, 2);
	assert_true(peer_closed(&f, s.ctl));
	assert_int_equal(stats(&f)->rejections[TW_REJECT_PROTOCOL], 1);
	/* the started session still drains its Timeout */
	uint8_t rep[256];
	assert_int_equal(ping_once(&f, &s.u, &s.dst, 0, rep, sizeof(rep), NULL), 41);
	assert_true(tw_pump_until(f.loop, no_sessions, &f, WAIT_NS));
	raw_close(&s);
	tw_serverfx_stop(&f);
}

static void test_close_after_stop_still_reflects(void **state)
{
	(void)state;
	fx f;
	fx_start_default(&f, "127.0.0.1");
	raw_sess s = raw_session(&f, 500 * MS, true);
	tw_script_stop(s.ctl, 1);
	close(s.ctl); /* twping closes right after Stop-Sessions */
	s.ctl = -1;
	tw_pump_for(f.loop, 30 * MS);
	assert_int_equal(stats(&f)->active_connections, 0);
	uint8_t rep[256];
	assert_int_equal(ping_once(&f, &s.u, &s.dst, 5, rep, sizeof(rep), NULL), 41);
	assert_true(tw_pump_until(f.loop, no_sessions, &f, WAIT_NS));
	close(s.u.fd);
	tw_serverfx_stop(&f);
}

static void test_close_without_stop_drains(void **state)
{
	(void)state;
	fx f;
	fx_start_default(&f, "127.0.0.1");
	raw_sess s = raw_session(&f, 400 * MS, true);
	close(s.ctl);
	tw_pump_for(f.loop, 30 * MS);
	uint8_t rep[256];
	assert_int_equal(ping_once(&f, &s.u, &s.dst, 0, rep, sizeof(rep), NULL), 41);
	assert_true(tw_pump_until(f.loop, no_sessions, &f, WAIT_NS));
	/* an accepted but never started session ends with its connection */
	raw_sess t = raw_session(&f, 400 * MS, false);
	assert_int_equal(stats(&f)->refl.sessions, 1);
	close(t.ctl);
	assert_true(tw_pump_until(f.loop, no_sessions, &f, 200 * MS));
	close(s.u.fd);
	close(t.u.fd);
	tw_serverfx_stop(&f);
}

/* REFWAIT bounds a draining session too: a huge Timeout must not keep
 * a silent session (and its socket) alive after Stop or a closed
 * connection, while packets that keep coming are still reflected. */
static void test_refwait_bounds_post_stop_timeout(void **state)
{
	(void)state;
	fx f;
	tw_server_params p = default_params();
	p.refwait_ns = 300 * MS;
	tw_serverfx_start(&f, "127.0.0.1", &p);
	raw_sess s = raw_session(&f, 3600000 * MS, true); /* Timeout 1 h */
	uint8_t rep[256];
	tw_script_stop(s.ctl, 1);
	for (uint32_t i = 0; i < 4; i++) { /* activity keeps it alive past REFWAIT */
		tw_pump_for(f.loop, 150 * MS);
		assert_int_equal(ping_once(&f, &s.u, &s.dst, i, rep, sizeof(rep), NULL), 41);
	}
	int64_t quiet_from = tw_pump_mono_ns();
	assert_true(tw_pump_until(f.loop, no_sessions, &f, 2000 * MS));
	int64_t lived = tw_pump_mono_ns() - quiet_from;
	assert_true(lived >= 250 * MS && lived < 1000 * MS);
	/* the same when the connection closes without Stop-Sessions */
	raw_sess t = raw_session(&f, 3600000 * MS, true);
	close(t.ctl);
	assert_true(tw_pump_until(f.loop, no_sessions, &f, 2000 * MS));
	raw_close(&s);
	close(t.u.fd);
	tw_serverfx_stop(&f);
}

static void test_refwait_ends_silent_running_session(void **state)
{
	(void)state;
	fx f;
	tw_server_params p = default_params();
	p.refwait_ns = 200 * MS;
	tw_serverfx_start(&f, "127.0.0.1", &p);
	raw_sess s = raw_session(&f, 300 * MS, true);
	uint8_t rep[256];
	assert_int_equal(ping_once(&f, &s.u, &s.dst, 0, rep, sizeof(rep), NULL), 41);
	assert_true(tw_pump_until(f.loop, no_sessions, &f, 2000 * MS));
	tw_ts t1;
	send_test(&s.u, &s.dst, 1, NULL, 27, &t1, NULL);
	assert_true(no_reply(&f, &s.u));
	raw_close(&s);
	tw_serverfx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* unknown commands and wrong states                                    */

static void test_unknown_commands(void **state)
{
	(void)state;
	static const uint8_t cmds[] = { 0, 1, 4, 6, 8, 10, 11, 200 };
	fx f;
	fx_start_default(&f, "127.0.0.1");
	for (size_t i = 0; i < sizeof(cmds); i++) {
		int fd = peer_open(&f);
		uint8_t msg[32] = { cmds[i] };
		tw_peer_tcp_send(fd, msg, sizeof(msg));
		tw_accept_session a = tw_script_accept(f.loop, fd);
		assert_int_equal(a.accept, TW_ACCEPT_NOT_SUPPORTED);
		assert_int_equal(a.port, 0);
		assert_true(peer_closed(&f, fd));
		close(fd);
	}
	assert_int_equal(stats(&f)->rejections[TW_REJECT_PROTOCOL], sizeof(cmds));
	tw_serverfx_stop(&f);
}

static void test_wrong_state_closes(void **state)
{
	(void)state;
	fx f;
	fx_start_default(&f, "127.0.0.1");
	/* Stop-Sessions in IDLE */
	int fd = peer_open(&f);
	tw_script_stop(fd, 0);
	assert_true(peer_closed(&f, fd));
	close(fd);
	/* Start-Sessions twice */
	raw_sess s = raw_session(&f, 300 * MS, true);
	tw_script_send_start(s.ctl);
	assert_true(peer_closed(&f, s.ctl));
	raw_close(&s);
	/* Request-TW-Session while TESTING */
	s = raw_session(&f, 300 * MS, true);
	tw_request r = make_request(&f, &s.u, 0);
	uint8_t buf[TW_REQUEST_LEN];
	assert_int_equal(tw_request_encode(&r, buf, sizeof(buf)), TW_REQUEST_LEN);
	tw_peer_tcp_send(s.ctl, buf, sizeof(buf));
	assert_true(peer_closed(&f, s.ctl));
	raw_close(&s);
	/* Set-Up-Response again after Server-Start: a 164-octet "command" 0 */
	fd = peer_open(&f);
	tw_script_setup(fd, TW_MODE_OPEN);
	assert_true(peer_closed(&f, fd));
	close(fd);
	assert_int_equal(stats(&f)->rejections[TW_REJECT_PROTOCOL], 4);
	assert_int_equal(stats(&f)->active_connections, 0);
	tw_serverfx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* bad input while a well-behaved client runs                            */

static bool conn_closed_by_servwait(void *arg)
{
	fx *f = arg;
	return stats(f)->rejections[TW_REJECT_TIMEOUT] >= 1;
}

static void bad_setup_modes(fx *f)
{
	/* Mode 0: the client declines; the server just closes */
	int fd = tw_peer_tcp_connect(&f->addr, NULL);
	tw_greeting g;
	tw_script_greeting(f->loop, fd, &g, NULL);
	tw_script_setup(fd, 0);
	assert_true(peer_closed(f, fd));
	close(fd);
	/* modes the server did not offer, or not exactly one security bit */
	static const uint32_t bad[] = { TW_MODE_AUTH, TW_MODE_OPEN | TW_MODE_AUTH, TW_MODE_OPEN | TW_MODE_ISC,
					0xFFFFFFFFu };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fd = tw_peer_tcp_connect(&f->addr, NULL);
		tw_script_greeting(f->loop, fd, &g, NULL);
		tw_script_setup(fd, bad[i]);
		tw_server_start ss;
		tw_script_server_start(f->loop, fd, &ss, NULL);
		assert_int_not_equal(ss.accept, TW_ACCEPT_OK);
		assert_int_equal(ss.start_time, 0);
		assert_true(peer_closed(f, fd));
		close(fd);
	}
	assert_int_equal(stats(f)->rejections[TW_REJECT_MODE], 4);
}

static void bad_truncated(fx *f)
{
	uint8_t buf[TW_REQUEST_LEN];
	/* half a Set-Up-Response, then close */
	int fd = tw_peer_tcp_connect(&f->addr, NULL);
	tw_greeting g;
	tw_script_greeting(f->loop, fd, &g, NULL);
	memset(buf, 0, sizeof(buf));
	buf[3] = 1;
	tw_peer_tcp_send(fd, buf, 100);
	assert_true(peer_silent_open(f, fd));
	close(fd);
	/* half a Request-TW-Session, then close */
	fd = peer_open(f);
	tw_peer_udp u = udp_open(f);
	tw_request r = make_request(f, &u, 0);
	assert_int_equal(tw_request_encode(&r, buf, sizeof(buf)), TW_REQUEST_LEN);
	tw_peer_tcp_send(fd, buf, 50);
	assert_true(peer_silent_open(f, fd));
	close(fd);
	close(u.fd);
	/* half a Start-Sessions */
	fd = peer_open(f);
	uint8_t start[TW_START_LEN] = { TW_CMD_START };
	tw_peer_tcp_send(fd, start, 20);
	assert_true(peer_silent_open(f, fd));
	close(fd);
}

static void bad_garbage_stream(fx *f)
{
	static uint8_t junk[16384];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	/* garbage instead of a Set-Up-Response */
	int fd = tw_peer_tcp_connect(&f->addr, NULL);
	tw_greeting g;
	tw_script_greeting(f->loop, fd, &g, NULL);
	(void)!send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
	assert_true(peer_closed(f, fd));
	close(fd);
	/* an oversized stream of 0xff commands after a good set-up */
	memset(junk, 0xff, sizeof(junk));
	fd = peer_open(f);
	(void)!send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
	assert_true(peer_closed(f, fd));
	close(fd);
	/* garbage before the greeting was even read */
	fd = tw_peer_tcp_connect(&f->addr, NULL);
	(void)!send(fd, junk, 4096, MSG_NOSIGNAL);
	assert_true(peer_closed(f, fd));
	close(fd);
}

static void test_bad_input_while_good_client_runs(void **state)
{
	(void)state;
	fx f;
	tw_server_params p = default_params();
	p.servwait_ns = 400 * MS;
	tw_serverfx_start(&f, "127.0.0.1", &p);
	good g;
	good_begin(&f, &g, TW_MODE_OPEN, NULL, NULL, 400, 2 * MS);
	/* a client that connects and never sends */
	int idle = tw_peer_tcp_connect(&f.addr, NULL);
	tw_greeting gr;
	tw_script_greeting(f.loop, idle, &gr, NULL);
	bad_setup_modes(&f);
	bad_truncated(&f);
	bad_garbage_stream(&f);
	/* garbage UDP at the good session's port from a stranger */
	assert_true(g.started);
	tw_peer_udp stranger = udp_open(&f);
	tw_sockaddr gdst = session_addr(&f, g.acc.port);
	uint8_t junk[64] = { 1, 2, 3 };
	for (int i = 0; i < 20; i++)
		tw_peer_udp_send(&stranger, &gdst, junk, (size_t)i * 3, -1);
	assert_true(no_reply(&f, &stranger));
	assert_true(stats(&f)->refl.dropped[TW_REFL_DROP_SOURCE] >= 20);
	/* SERVWAIT ends the idle client */
	assert_true(tw_pump_until(f.loop, conn_closed_by_servwait, &f, WAIT_NS));
	assert_true(peer_closed(&f, idle));
	close(idle);
	close(stranger.fd);
	good_expect_complete(&f, &g);
	assert_int_equal(stats(&f)->refl.dropped[TW_REFL_DROP_SHORT], 0);
	good_end(&f, &g);
	tw_serverfx_stop(&f);
}

static void test_servwait_suspended_while_testing(void **state)
{
	(void)state;
	fx f;
	tw_server_params p = default_params();
	p.servwait_ns = 200 * MS;
	tw_serverfx_start(&f, "127.0.0.1", &p);
	raw_sess s = raw_session(&f, 300 * MS, true);
	tw_pump_for(f.loop, 400 * MS); /* longer than SERVWAIT, but testing */
	assert_true(peer_silent_open(&f, s.ctl));
	assert_int_equal(stats(&f)->rejections[TW_REJECT_TIMEOUT], 0);
	tw_script_stop(s.ctl, 1);
	/* monitoring resumes after Stop-Sessions */
	assert_true(peer_closed(&f, s.ctl));
	assert_int_equal(stats(&f)->rejections[TW_REJECT_TIMEOUT], 1);
	raw_close(&s);
	tw_serverfx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* limits                                                               */

static bool one_active(void *arg)
{
	fx *f = arg;
	return stats(f)->active_connections == 1;
}

static void test_connection_limit(void **state)
{
	(void)state;
	fx f;
	tw_server_params p = default_params();
	p.max_connections = 2;
	tw_serverfx_start(&f, "127.0.0.1", &p);
	tw_greeting g;
	int a = tw_peer_tcp_connect(&f.addr, NULL), b = tw_peer_tcp_connect(&f.addr, NULL);
	tw_script_greeting(f.loop, a, &g, NULL);
	assert_int_equal(g.modes, TW_MODE_OPEN);
	tw_script_greeting(f.loop, b, &g, NULL);
	assert_int_equal(g.modes, TW_MODE_OPEN);
	int c = tw_peer_tcp_connect(&f.addr, NULL);
	tw_script_greeting(f.loop, c, &g, NULL);
	assert_int_equal(g.modes, 0); /* "will not talk" */
	assert_true(peer_closed(&f, c));
	close(c);
	assert_int_equal(stats(&f)->rejections[TW_REJECT_CONN_LIMIT], 1);
	assert_int_equal(stats(&f)->active_connections, 2);
	/* a freed slot is usable again */
	close(a);
	assert_true(tw_pump_until(f.loop, one_active, &f, WAIT_NS));
	int d = peer_open(&f);
	close(d);
	close(b);
	tw_serverfx_stop(&f);
}

static void test_session_limit(void **state)
{
	(void)state;
	fx f;
	tw_server_params p = default_params();
	p.max_sessions = 1;
	tw_serverfx_start(&f, "127.0.0.1", &p);
	int fd = peer_open(&f);
	tw_peer_udp u = udp_open(&f);
	tw_request r = make_request(&f, &u, 0);
	assert_int_equal(tw_script_request(f.loop, fd, &r).accept, TW_ACCEPT_OK);
	tw_accept_session a = tw_script_request(f.loop, fd, &r);
	assert_int_equal(a.accept, TW_ACCEPT_PERMANENT);
	assert_int_equal(a.port, 0);
	assert_int_equal(stats(&f)->rejections[TW_REJECT_SESSION_LIMIT], 1);
	/* the accepted one still works */
	tw_script_start(f.loop, fd);
	fx_close(&f, fd, &u);
}

/* A reload that raises max_sessions must not let a connection accepted
 * under the old limit outgrow what was sized for it; a lowered limit
 * applies at once; new connections get the new limit. */
static void test_reconfigure_session_limit(void **state)
{
	(void)state;
	fx f;
	tw_server_params p = default_params();
	p.max_sessions = 1;
	tw_serverfx_start(&f, "127.0.0.1", &p);
	int old = peer_open(&f);
	tw_peer_udp u = udp_open(&f);
	tw_request r = make_request(&f, &u, 0);
	assert_int_equal(tw_script_request(f.loop, old, &r).accept, TW_ACCEPT_OK);
	p.max_sessions = 4;
	p.listen = &f.listen;
	p.nlisten = 1;
	char err[128];
	assert_int_equal(tw_server_reconfigure(f.srv, &p, err, sizeof(err)), 0);
	tw_sockaddr again;
	assert_int_equal(tw_server_listen_addr(f.srv, 0, &again), 0);
	assert_true(tw_sa_equal(&again, &f.addr)); /* the listener was kept */
	tw_accept_session a = tw_script_request(f.loop, old, &r);
	assert_int_equal(a.accept, TW_ACCEPT_PERMANENT);
	assert_int_equal(a.port, 0);
	assert_true(peer_silent_open(&f, old));
	int fresh = peer_open(&f);
	for (int i = 0; i < 4; i++)
		assert_int_equal(tw_script_request(f.loop, fresh, &r).accept, TW_ACCEPT_OK);
	assert_int_equal(tw_script_request(f.loop, fresh, &r).accept, TW_ACCEPT_PERMANENT);
	/* lowered: applies to the open connections too */
	p.max_sessions = 2;
	assert_int_equal(tw_server_reconfigure(f.srv, &p, err, sizeof(err)), 0);
	int third = peer_open(&f);
	assert_int_equal(tw_script_request(f.loop, third, &r).accept, TW_ACCEPT_OK);
	assert_int_equal(tw_script_request(f.loop, third, &r).accept, TW_ACCEPT_OK);
	assert_int_equal(tw_script_request(f.loop, third, &r).accept, TW_ACCEPT_PERMANENT);
	assert_int_equal(stats(&f)->rejections[TW_REJECT_SESSION_LIMIT], 3);
	close(old);
	close(fresh);
	close(third);
	close(u.fd);
	tw_serverfx_stop(&f);
}

typedef struct allow_rec {
	int calls;
	tw_sockaddr seen;
	bool verdict;
} allow_rec;

static bool allow_cb(void *arg, const tw_sockaddr *peer)
{
	allow_rec *a = arg;
	a->calls++;
	a->seen = *peer;
	return a->verdict;
}

static void test_allow_refuses(void **state)
{
	(void)state;
	fx f;
	allow_rec rec = { .verdict = false };
	tw_server_params p = default_params();
	p.allow = allow_cb;
	p.allow_arg = &rec;
	tw_serverfx_start(&f, "127.0.0.1", &p);
	int fd = tw_peer_tcp_connect(&f.addr, NULL);
	tw_greeting g;
	tw_script_greeting(f.loop, fd, &g, NULL);
	assert_int_equal(g.modes, 0);
	assert_true(peer_closed(&f, fd));
	close(fd);
	assert_int_equal(rec.calls, 1);
	char buf[64];
	assert_string_equal(tw_sa_format_host(&rec.seen, buf, sizeof(buf)), "127.0.0.1");
	assert_int_equal(stats(&f)->rejections[TW_REJECT_NOT_ALLOWED], 1);
	assert_int_equal(stats(&f)->active_connections, 0);
	rec.verdict = true;
	fd = peer_open(&f);
	close(fd);
	tw_serverfx_stop(&f);
}

/* The descriptor number the next open() would get (the lowest free one). */
static int lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	close(fd);
	return fd;
}

/* Runs the loop for ns and returns how many callbacks ran. */
static int callbacks_during(fx *f, int64_t ns)
{
	int total = 0;
	for (int64_t end = tw_pump_mono_ns() + ns; tw_pump_mono_ns() < end;) {
		int n = tw_loop_run_once(f->loop, 20 * MS);
		assert_true(n >= 0);
		total += n;
		if (total > 100000)
			break;
	}
	return total;
}

/* Out of descriptors, a pending connection keeps the listener readable:
 * the server must back off instead of spinning on accept(), and serve the
 * queued clients once descriptors are free again. */
static void test_accept_backs_off_out_of_fds(void **state)
{
	(void)state;
	fx f;
	fx_start_default(&f, "127.0.0.1");
	enum { K = 4 };
	int cl[K];
	for (int i = 0; i < K; i++)
		cl[i] = tw_peer_tcp_connect(&f.addr, NULL); /* queued in the backlog, not accepted yet */
	struct rlimit old, low;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)lowest_free_fd(); /* no room for one more */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	int spins = callbacks_during(&f, 300 * MS);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_true(spins < 100);
	assert_int_equal(stats(&f)->connections, 0);
	for (int i = 0; i < K; i++) {
		tw_greeting g;
		tw_script_greeting(f.loop, cl[i], &g, NULL);
		assert_int_equal(g.modes, TW_MODE_OPEN);
		close(cl[i]);
	}
	assert_int_equal(stats(&f)->connections, K);
	tw_serverfx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* keyed modes through the real client                                  */

static const uint8_t *secret_cb(void *arg, const char *identity, size_t *len)
{
	(void)arg;
	if (strcmp(identity, IDENTITY) != 0)
		return NULL;
	*len = strlen(SECRET);
	return (const uint8_t *)SECRET;
}

typedef struct keyed_case {
	uint32_t mode;
	const char *host;
} keyed_case;

/* *state: a keyed_case (test_keyed_authenticated ... test_open_client_session). */
static void test_keyed(void **state)
{
	const keyed_case *row = *state;
	uint32_t mode = row->mode;
	const char *host = row->host;
	fx f;
	tw_server_params p = default_params();
	p.modes = TW_MODE_OPEN | TW_MODE_AUTH | TW_MODE_ENC | TW_MODE_MIXED;
	p.secret = secret_cb;
	tw_serverfx_start(&f, host, &p);
	good g;
	good_begin(&f, &g, mode, IDENTITY, SECRET, 50, 1 * MS);
	good_expect_complete(&f, &g);
	assert_int_equal(tw_mode_security(tw_client_mode(g.c)), mode);
	assert_int_equal(stats(&f)->refl.reflected, 50);
	assert_int_equal(stats(&f)->refl.dropped[TW_REFL_DROP_AUTH], 0);
	good_end(&f, &g);
	tw_serverfx_stop(&f);
}

static void check_keyed_refused(uint32_t mode, const char *identity, const char *secret, tw_server_reject why)
{
	fx f;
	tw_server_params p = default_params();
	p.modes = TW_MODE_AUTH | TW_MODE_ENC | TW_MODE_MIXED;
	p.secret = secret_cb;
	tw_serverfx_start(&f, "127.0.0.1", &p);
	good g;
	good_begin(&f, &g, mode, identity, secret, 5, 1 * MS);
	assert_true(tw_pump_until(f.loop, good_finished, &g, WAIT_NS));
	assert_true(g.failed);
	assert_false(g.ready);
	assert_int_equal(g.why, TW_CLIENT_FAIL_AUTH);
	assert_int_equal(stats(&f)->rejections[why], 1);
	assert_int_equal(stats(&f)->sessions_accepted, 0);
	good_end(&f, &g);
	tw_serverfx_stop(&f);
}

static void test_keyed_wrong_secret(void **state)
{
	(void)state;
	check_keyed_refused(TW_MODE_AUTH, IDENTITY, "not-the-secret", TW_REJECT_BAD_SECRET);
	check_keyed_refused(TW_MODE_ENC, IDENTITY, "not-the-secret", TW_REJECT_BAD_SECRET);
	check_keyed_refused(TW_MODE_MIXED, IDENTITY, "not-the-secret", TW_REJECT_BAD_SECRET);
}

static void test_keyed_unknown_identity(void **state)
{
	(void)state;
	check_keyed_refused(TW_MODE_AUTH, "nobody", SECRET, TW_REJECT_UNKNOWN_IDENTITY);
	check_keyed_refused(TW_MODE_ENC, "nobody", SECRET, TW_REJECT_UNKNOWN_IDENTITY);
}

/* The wrong secret answered with Server-Start Accept != 0 on the wire. */
static void test_keyed_refusal_on_wire(void **state)
{
	(void)state;
	fx f;
	tw_server_params p = default_params();
	p.modes = TW_MODE_AUTH;
	p.secret = secret_cb;
	tw_serverfx_start(&f, "127.0.0.1", &p);
	int fd = tw_peer_tcp_connect(&f.addr, NULL);
	tw_greeting g;
	tw_script_greeting(f.loop, fd, &g, NULL);
	assert_int_equal(g.modes, TW_MODE_AUTH);
	tw_setup s = { .mode = TW_MODE_AUTH };
	memcpy(s.keyid, IDENTITY, strlen(IDENTITY));
	memset(s.token, 0x42, sizeof(s.token)); /* not encrypted with the key */
	uint8_t buf[TW_SETUP_LEN];
	assert_int_equal(tw_setup_encode(&s, buf, sizeof(buf)), TW_SETUP_LEN);
	tw_peer_tcp_send(fd, buf, sizeof(buf));
	tw_server_start ss;
	tw_script_server_start(f.loop, fd, &ss, NULL);
	assert_int_not_equal(ss.accept, TW_ACCEPT_OK);
	assert_int_equal(ss.start_time, 0);
	assert_true(peer_closed(&f, fd));
	close(fd);
	assert_int_equal(stats(&f)->rejections[TW_REJECT_BAD_SECRET], 1);
	tw_serverfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TW_CASE("test_handshake_v4", test_handshake, "127.0.0.1"),
		TW_CASE("test_handshake_v6", test_handshake, "::1"),
		cmocka_unit_test(test_greeting_offers_configured_modes),
		cmocka_unit_test(test_pipelined_commands),
		cmocka_unit_test(test_request_refusals_answered),
		TW_CASE("test_zero_addresses_v4", test_zero_addresses, &(const host_pair){ "127.0.0.1", "127.0.0.2" }),
		TW_CASE("test_zero_addresses_v6", test_zero_addresses, &(const host_pair){ "::1", "::1" }),
		cmocka_unit_test(test_third_party_sender_address),
		cmocka_unit_test(test_foreign_receiver_address),
		cmocka_unit_test(test_sid_layout),
		TW_CASE("test_dscp_ef_v4", test_dscp, &(const dscp_case){ "127.0.0.1", 46 }),
		TW_CASE("test_dscp_af41_v4", test_dscp, &(const dscp_case){ "127.0.0.1", 34 }),
		TW_CASE("test_dscp_ef_v6", test_dscp, &(const dscp_case){ "::1", 46 }),
		TW_CASE("test_dscp_af41_v6", test_dscp, &(const dscp_case){ "::1", 34 }),
		TW_CASE("test_dscp_zero_v4", test_dscp, &(const dscp_case){ "127.0.0.1", 0 }),
		cmocka_unit_test(test_requested_port_free_and_busy),
		cmocka_unit_test(test_port_range_alternate),
		cmocka_unit_test(test_reflector_packets),
		cmocka_unit_test(test_reflector_v6_packets),
		cmocka_unit_test(test_drop_before_start_and_wrong_source),
		cmocka_unit_test(test_garbage_udp_dropped),
		cmocka_unit_test(test_stop_keeps_reflecting_for_timeout),
		cmocka_unit_test(test_stop_before_timeout_boundary),
		cmocka_unit_test(test_stop_wrong_count_closes),
		cmocka_unit_test(test_close_after_stop_still_reflects),
		cmocka_unit_test(test_close_without_stop_drains),
		cmocka_unit_test(test_refwait_bounds_post_stop_timeout),
		cmocka_unit_test(test_refwait_ends_silent_running_session),
		cmocka_unit_test(test_unknown_commands),
		cmocka_unit_test(test_wrong_state_closes),
		cmocka_unit_test(test_bad_input_while_good_client_runs),
		cmocka_unit_test(test_servwait_suspended_while_testing),
		cmocka_unit_test(test_connection_limit),
		cmocka_unit_test(test_session_limit),
		cmocka_unit_test(test_reconfigure_session_limit),
		cmocka_unit_test(test_allow_refuses),
		cmocka_unit_test(test_accept_backs_off_out_of_fds),
		TW_CASE("test_open_client_session", test_keyed, &(const keyed_case){ TW_MODE_OPEN, "127.0.0.1" }),
		TW_CASE("test_keyed_authenticated", test_keyed, &(const keyed_case){ TW_MODE_AUTH, "127.0.0.1" }),
		TW_CASE("test_keyed_encrypted", test_keyed, &(const keyed_case){ TW_MODE_ENC, "127.0.0.1" }),
		TW_CASE("test_keyed_mixed", test_keyed, &(const keyed_case){ TW_MODE_MIXED, "127.0.0.1" }),
		TW_CASE("test_keyed_encrypted_v6", test_keyed, &(const keyed_case){ TW_MODE_ENC, "::1" }),
		cmocka_unit_test(test_keyed_wrong_secret),
		cmocka_unit_test(test_keyed_unknown_identity),
		cmocka_unit_test(test_keyed_refusal_on_wire),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
