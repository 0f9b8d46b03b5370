/* test_ctrl_server.c - the Server state machine: full in-memory
 * conversations with the client machine in every mode (whole messages and
 * byte by byte give the same events), the vectors.md V4-V8 wire bytes,
 * ISC, out-of-state and unknown commands, truncation, garbage, count
 * checks, tampering and authentication failures. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "control.h"
#include "crypto.h"
#include "ctrl_client.h"
#include "ctrl_server.h"
#include "hexvec.h"
#include "specvec.h"
#include "testutil.h"

#define MAXS 8
#define ALL_MODES (TW_MODE_OPEN | TW_MODE_AUTH | TW_MODE_ENC | TW_MODE_MIXED | TW_MODE_ISC)

static const uint8_t SECRET[] = "secret";
#define SECRET_LEN (sizeof(SECRET) - 1)
static const tw_ts START_TIME = 0xe8fe6f8000000000ULL;

static tw_greeting std_greeting(uint32_t modes)
{
	tw_greeting g = { .modes = modes, .count = 1024 };
	tw_hexvec_exact("00112233445566778899aabbccddeeff", g.challenge, 16);
	tw_hexvec_exact("000102030405060708090a0b0c0d0e0f", g.salt, 16);
	return g;
}

static tw_cli_random std_random(void)
{
	tw_cli_random r;
	tw_hexvec_exact("0f0e0d0c0b0a09080706050403020100", r.aes_key, 16);
	for (int i = 0; i < 32; i++)
		r.hmac_key[i] = (uint8_t)(0x20 + i);
	tw_hexvec_exact("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", r.client_iv, 16);
	return r;
}

static void std_server_iv(uint8_t iv[16])
{
	tw_hexvec_exact("b0b1b2b3b4b5b6b7b8b9babbbcbdbebf", iv, 16);
}

/* V6's request */
static tw_request std_request(void)
{
	tw_request m = { .ipvn = 4, .sender_port = 20000, .receiver_port = 20001, .padding = 27,
			 .timeout = 0x0000000200000000ULL, .type_p = 0x2E000000 };
	tw_hexvec_exact("c0000201", m.sender_addr, 4);
	tw_hexvec_exact("c0000202", m.receiver_addr, 4);
	return m;
}

static void make_sid(uint8_t sid[16], unsigned i)
{
	tw_hexvec_exact("c0000202e8fe6f8180000000deadbeef", sid, 16);
	sid[15] = (uint8_t)(sid[15] + i);
}

/* ---- a client and a server talking through memory ---- */

typedef struct peer {
	tw_srv *srv;
	tw_cli *cli;
	uint32_t mode;
	size_t chunk; /* 0: whole messages; n: n octets per feed */
	char log[2048];
	size_t loglen;
} peer;

static void logf_ev(peer *p, const char *side, int type, unsigned a, unsigned b)
{
	int n = snprintf(p->log + p->loglen, sizeof(p->log) - p->loglen, "%s%d:%u:%u ", side, type, a, b);
	assert_true(n > 0 && (size_t)n < sizeof(p->log) - p->loglen);
	p->loglen += (size_t)n;
}

static tw_srv_event srv_deliver(peer *p, const uint8_t *b, size_t n)
{
	tw_srv_event ev, got = { .type = TW_SRV_EV_NONE };
	size_t off = 0, step = p->chunk ? p->chunk : n;
	for (unsigned guard = 0; off < n && guard < 4096; guard++) {
		size_t k = n - off < step ? n - off : step;
		size_t used = tw_srv_feed(p->srv, b + off, k, &ev);
		assert_true(used <= k);
		off += used;
		if (ev.type != TW_SRV_EV_NONE) {
			got = ev;
			break;
		}
		assert_int_equal(used, k); /* no event: everything was taken */
	}
	assert_int_equal(off, n);
	assert_int_not_equal(got.type, TW_SRV_EV_NONE);
	logf_ev(p, "S", got.type, tw_srv_get_state(p->srv), tw_srv_sessions_running(p->srv));
	return got;
}

static tw_cli_event cli_deliver(peer *p, const uint8_t *b, size_t n)
{
	tw_cli_event ev, got = { .type = TW_CLI_EV_NONE };
	size_t off = 0, step = p->chunk ? p->chunk : n;
	for (unsigned guard = 0; off < n && guard < 4096; guard++) {
		size_t k = n - off < step ? n - off : step;
		size_t used = tw_cli_feed(p->cli, b + off, k, &ev);
		assert_true(used <= k);
		off += used;
		if (ev.type != TW_CLI_EV_NONE) {
			got = ev;
			break;
		}
		assert_int_equal(used, k);
	}
	assert_int_equal(off, n);
	assert_int_not_equal(got.type, TW_CLI_EV_NONE);
	logf_ev(p, "C", got.type, tw_cli_get_state(p->cli), tw_cli_sessions_running(p->cli));
	return got;
}

static bool keyed(uint32_t mode)
{
	return (mode & (TW_MODE_AUTH | TW_MODE_ENC | TW_MODE_MIXED)) != 0;
}

/* Greeting, Set-Up-Response, Server-Start: both sides end in IDLE. */
static void peer_open(peer *p, uint32_t mode, uint32_t offered, size_t chunk)
{
	memset(p, 0, sizeof(*p));
	p->mode = mode;
	p->chunk = chunk;
	p->srv = tw_srv_new(MAXS);
	p->cli = tw_cli_new(MAXS);
	assert_non_null(p->srv);
	assert_non_null(p->cli);
	uint8_t buf[256], iv[16];
	tw_greeting g = std_greeting(offered);
	assert_int_equal(tw_srv_greeting(p->srv, &g, buf, sizeof(buf)), TW_GREETING_LEN);
	tw_cli_event cev = cli_deliver(p, buf, TW_GREETING_LEN);
	assert_int_equal(cev.type, TW_CLI_EV_GREETING);
	assert_int_equal(cev.u.greeting.modes, offered);
	assert_int_equal(cev.u.greeting.count, 1024);

	tw_cli_random rnd = std_random();
	assert_int_equal(tw_cli_setup(p->cli, mode, "alice", SECRET, SECRET_LEN, &rnd, 0, buf, sizeof(buf)),
			 TW_SETUP_LEN);
	tw_srv_event sev = srv_deliver(p, buf, TW_SETUP_LEN);
	assert_int_equal(sev.type, TW_SRV_EV_SETUP);
	assert_int_equal(sev.u.setup.accept, 0);
	assert_int_equal(sev.u.setup.msg.mode, mode);
	assert_int_equal(tw_srv_authenticate(p->srv, SECRET, SECRET_LEN), 0);

	std_server_iv(iv);
	assert_int_equal(tw_srv_server_start(p->srv, 0, iv, START_TIME, buf, sizeof(buf)), TW_SERVER_START_LEN);
	cev = cli_deliver(p, buf, TW_SERVER_START_LEN);
	assert_int_equal(cev.type, TW_CLI_EV_SERVER_START);
	assert_int_equal(cev.u.server_start.accept, 0);
	assert_true(cev.u.server_start.start_time == START_TIME); /* decrypted in keyed modes */
	if (keyed(mode))
		assert_memory_equal(cev.u.server_start.server_iv, iv, 16);
	assert_int_equal(tw_srv_get_state(p->srv), TW_SRV_IDLE);
	assert_int_equal(tw_cli_get_state(p->cli), TW_CLI_IDLE);
	assert_int_equal(tw_srv_mode(p->srv), mode);
	assert_int_equal(tw_cli_mode(p->cli), mode);
}

static void peer_close(peer *p)
{
	tw_srv_free(p->srv);
	tw_cli_free(p->cli);
}

/* Request-TW-Session i, accepted with SID i and port 18760 + i. */
static void do_request(peer *p, unsigned i)
{
	uint8_t buf[256];
	tw_request req = std_request();
	req.sender_port = (uint16_t)(9000 + i);
	assert_int_equal(tw_cli_request(p->cli, &req, buf, sizeof(buf)), TW_REQUEST_LEN);
	assert_int_equal(tw_cli_get_state(p->cli), TW_CLI_WAIT_ACCEPT);
	tw_srv_event sev = srv_deliver(p, buf, TW_REQUEST_LEN);
	assert_int_equal(sev.type, TW_SRV_EV_REQUEST);
	assert_int_equal(sev.u.request.accept, 0);
	assert_int_equal(sev.u.request.msg.sender_port, 9000 + i);
	assert_int_equal(sev.u.request.msg.padding, 27);
	assert_int_equal(sev.u.request.msg.type_p, 0x2E000000);
	assert_true(sev.u.request.msg.timeout == 0x0000000200000000ULL);

	tw_accept_session a = { .accept = 0, .port = (uint16_t)(18760 + i) };
	make_sid(a.sid, i);
	assert_int_equal(tw_srv_accept(p->srv, &a, buf, sizeof(buf)), TW_ACCEPT_LEN);
	tw_cli_event cev = cli_deliver(p, buf, TW_ACCEPT_LEN);
	assert_int_equal(cev.type, TW_CLI_EV_ACCEPT);
	assert_int_equal(cev.u.accept.accept, 0);
	assert_int_equal(cev.u.accept.port, 18760 + i);
	assert_memory_equal(cev.u.accept.sid, a.sid, 16);
}

static void check_test_crypto(peer *p)
{
	uint8_t sid[16], data[32] = { 1, 2, 3 }, m1[16], m2[16];
	make_sid(sid, 0);
	tw_test_crypto *ts = tw_srv_test_crypto(p->srv, sid);
	tw_test_crypto *tc = tw_cli_test_crypto(p->cli, sid);
	uint32_t sec = tw_mode_security(p->mode);
	if (sec == TW_MODE_AUTH || sec == TW_MODE_ENC) {
		assert_non_null(ts);
		assert_non_null(tc);
		assert_int_equal(tw_test_mac(ts, data, sizeof(data), m1), 0);
		assert_int_equal(tw_test_mac(tc, data, sizeof(data), m2), 0);
		assert_memory_equal(m1, m2, 16);
	} else {
		assert_null(ts);
		assert_null(tc);
	}
	tw_test_crypto_free(ts);
	tw_test_crypto_free(tc);
}

static void classic_start_stop(peer *p, unsigned n)
{
	uint8_t buf[64];
	assert_int_equal(tw_cli_start(p->cli, buf, sizeof(buf)), TW_START_LEN);
	tw_srv_event sev = srv_deliver(p, buf, TW_START_LEN);
	assert_int_equal(sev.type, TW_SRV_EV_START);
	assert_int_equal(tw_srv_get_state(p->srv), TW_SRV_START_RECEIVED);
	assert_int_equal(tw_srv_start_ack(p->srv, 0, buf, sizeof(buf)), TW_START_ACK_LEN);
	tw_cli_event cev = cli_deliver(p, buf, TW_START_ACK_LEN);
	assert_int_equal(cev.type, TW_CLI_EV_START_ACK);
	assert_int_equal(cev.u.start_ack.accept, 0);
	assert_int_equal(tw_srv_get_state(p->srv), TW_SRV_TESTING);
	assert_int_equal(tw_cli_get_state(p->cli), TW_CLI_TESTING);
	assert_int_equal(tw_srv_sessions_running(p->srv), n);
	assert_int_equal(tw_cli_sessions_running(p->cli), n);

	assert_int_equal(tw_cli_stop(p->cli, 0, buf, sizeof(buf)), TW_STOP_LEN);
	sev = srv_deliver(p, buf, TW_STOP_LEN);
	assert_int_equal(sev.type, TW_SRV_EV_STOP);
	assert_true(sev.u.stop.count_ok);
	assert_int_equal(sev.u.stop.msg.nsessions, n);
	assert_int_equal(tw_srv_get_state(p->srv), TW_SRV_IDLE);
	assert_int_equal(tw_cli_get_state(p->cli), TW_CLI_IDLE);
	assert_int_equal(tw_srv_sessions_running(p->srv), 0);
}

static void isc_start_n(peer *p, unsigned n, const uint8_t *sids)
{
	uint8_t buf[32 + 16 * MAXS];
	int len = tw_cli_start_n(p->cli, n, sids, buf, sizeof(buf));
	assert_int_equal(len, 32 + 16 * (int)n);
	tw_srv_event sev = srv_deliver(p, buf, (size_t)len);
	assert_int_equal(sev.type, TW_SRV_EV_START_N);
	assert_int_equal(sev.u.sids.n, n);
	assert_int_equal(sev.u.sids.accept, 0);
	assert_memory_equal(sev.u.sids.sids, sids, 16 * n);
	len = tw_srv_sids_ack(p->srv, TW_CMD_START_N_ACK, 0, n, sids, buf, sizeof(buf));
	assert_int_equal(len, 32 + 16 * (int)n);
	tw_cli_event cev = cli_deliver(p, buf, (size_t)len);
	assert_int_equal(cev.type, TW_CLI_EV_N_ACK);
	assert_int_equal(cev.u.sids.cmd, TW_CMD_START_N_ACK);
	assert_int_equal(cev.u.sids.n, n);
}

/* Stop-N for all n, acked in two parts when n > 1 (acks may be split). */
static void isc_stop_n_split(peer *p, unsigned n, const uint8_t *sids)
{
	uint8_t buf[32 + 16 * MAXS];
	int len = tw_cli_stop_n(p->cli, n, sids, buf, sizeof(buf));
	assert_int_equal(len, 32 + 16 * (int)n);
	tw_srv_event sev = srv_deliver(p, buf, (size_t)len);
	assert_int_equal(sev.type, TW_SRV_EV_STOP_N);
	assert_int_equal(sev.u.sids.n, n);
	unsigned first = n > 1 ? 1 : n;
	len = tw_srv_sids_ack(p->srv, TW_CMD_STOP_N_ACK, 0, first, sids, buf, sizeof(buf));
	tw_cli_event cev = cli_deliver(p, buf, (size_t)len);
	assert_int_equal(cev.type, TW_CLI_EV_N_ACK);
	assert_int_equal(cev.u.sids.n, first);
	if (first == n)
		return;
	len = tw_srv_sids_ack(p->srv, TW_CMD_STOP_N_ACK, 0, n - first, sids + 16 * first, buf, sizeof(buf));
	cev = cli_deliver(p, buf, (size_t)len);
	assert_int_equal(cev.type, TW_CLI_EV_N_ACK);
	assert_int_equal(cev.u.sids.cmd, TW_CMD_STOP_N_ACK);
	assert_int_equal(cev.u.sids.n, n - first);
}

static void isc_cycle(peer *p, unsigned n)
{
	uint8_t sids[16 * MAXS];
	for (unsigned i = 0; i < n; i++)
		make_sid(sids + 16 * i, i);
	isc_start_n(p, n, sids);
	assert_int_equal(tw_srv_get_state(p->srv), TW_SRV_TESTING);
	assert_int_equal(tw_srv_sessions_running(p->srv), n);
	assert_int_equal(tw_cli_sessions_running(p->cli), n);

	/* ISC allows a new session while others run */
	do_request(p, n);
	make_sid(sids + 16 * n, n);
	isc_start_n(p, 1, sids + 16 * n);
	assert_int_equal(tw_srv_sessions_running(p->srv), n + 1);

	isc_stop_n_split(p, n + 1, sids);
	assert_int_equal(tw_srv_sessions_running(p->srv), 0);
	assert_int_equal(tw_cli_sessions_running(p->cli), 0);
	assert_int_equal(tw_srv_get_state(p->srv), TW_SRV_IDLE);
	assert_int_equal(tw_cli_get_state(p->cli), TW_CLI_IDLE);
}

static void conversation(uint32_t mode, unsigned nsess, size_t chunk, char *log, size_t logcap)
{
	peer p;
	bool isc = (mode & TW_MODE_ISC) != 0;
	peer_open(&p, mode, ALL_MODES, chunk);
	for (unsigned i = 0; i < nsess; i++)
		do_request(&p, i);
	assert_int_equal(tw_srv_sessions_accepted(p.srv), nsess);
	if (isc)
		isc_cycle(&p, nsess);
	else
		classic_start_stop(&p, nsess);
	check_test_crypto(&p);
	snprintf(log, logcap, "%s", p.log);
	peer_close(&p);
}

/* Every mode, one and several sessions, whole messages vs. 1 and 7 octets
 * per feed: identical events. */
static void test_conversations(void **state)
{
	(void)state;
	static const uint32_t modes[] = {
		TW_MODE_OPEN, TW_MODE_AUTH, TW_MODE_ENC, TW_MODE_MIXED,
		TW_MODE_OPEN | TW_MODE_ISC, TW_MODE_AUTH | TW_MODE_ISC, TW_MODE_ENC | TW_MODE_ISC,
		TW_MODE_MIXED | TW_MODE_ISC,
	};
	static const unsigned counts[] = { 1, 3 };
	static const size_t chunks[] = { 0, 1, 7 };
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		for (size_t c = 0; c < 2; c++) {
			char ref[2048], got[2048];
			conversation(modes[m], counts[c], 0, ref, sizeof(ref));
			assert_true(strlen(ref) > 20);
			for (size_t k = 1; k < 3; k++) {
				conversation(modes[m], counts[c], chunks[k], got, sizeof(got));
				assert_string_equal(got, ref);
			}
		}
	}
}

/* ---- vectors.md V4-V8 on the wire, produced by the two machines ---- */

static void test_vectors_wire(void **state)
{
	(void)state;
	uint8_t want[TW_SETUP_LEN], buf[256], iv[16];
	tw_srv *s = tw_srv_new(MAXS);
	tw_cli *c = tw_cli_new(MAXS);
	tw_srv_event sev;
	tw_cli_event cev;

	tw_greeting g = std_greeting(ALL_MODES);
	assert_int_equal(tw_srv_greeting(s, &g, buf, sizeof(buf)), 64);
	assert_int_equal(tw_cli_feed(c, buf, 64, &cev), 64);
	tw_cli_random rnd = std_random();
	assert_int_equal(tw_cli_setup(c, TW_MODE_AUTH, "alice", SECRET, SECRET_LEN, &rnd, 0, buf, sizeof(buf)), 164);
	tw_hexvec_exact(TW_VEC_V4_SETUP, want, 164);
	assert_memory_equal(buf, want, 164);
	assert_int_equal(tw_srv_feed(s, buf, 164, &sev), 164);
	assert_int_equal(tw_srv_authenticate(s, SECRET, SECRET_LEN), 0);

	std_server_iv(iv);
	assert_int_equal(tw_srv_server_start(s, 0, iv, START_TIME, buf, sizeof(buf)), 48);
	tw_hexvec_exact(TW_VEC_V5_WIRE, want, 48);
	assert_memory_equal(buf, want, 48);
	assert_int_equal(tw_cli_feed(c, buf, 48, &cev), 48);

	tw_request req = std_request();
	assert_int_equal(tw_cli_request(c, &req, buf, sizeof(buf)), 112);
	tw_hexvec_exact(TW_VEC_V6_WIRE, want, 112);
	assert_memory_equal(buf, want, 112);
	assert_int_equal(tw_srv_feed(s, buf, 112, &sev), 112);
	assert_int_equal(sev.type, TW_SRV_EV_REQUEST);

	tw_accept_session a = { .accept = 0, .port = 20001 };
	make_sid(a.sid, 0);
	assert_int_equal(tw_srv_accept(s, &a, buf, sizeof(buf)), 48);
	tw_hexvec_exact(TW_VEC_V7_WIRE, want, 48);
	assert_memory_equal(buf, want, 48); /* first server HMAC: decision 2 */
	assert_int_equal(tw_cli_feed(c, buf, 48, &cev), 48);
	assert_int_equal(cev.type, TW_CLI_EV_ACCEPT);

	assert_int_equal(tw_cli_start(c, buf, sizeof(buf)), 32);
	tw_hexvec_exact(TW_VEC_V8_START_WIRE, want, 32);
	assert_memory_equal(buf, want, 32);
	assert_int_equal(tw_srv_feed(s, buf, 32, &sev), 32);
	assert_int_equal(tw_srv_start_ack(s, 0, buf, sizeof(buf)), 32);
	tw_hexvec_exact(TW_VEC_V8_ACK_WIRE, want, 32);
	assert_memory_equal(buf, want, 32);
	assert_int_equal(tw_cli_feed(c, buf, 32, &cev), 32);
	assert_int_equal(cev.type, TW_CLI_EV_START_ACK);

	assert_int_equal(tw_cli_stop(c, 0, buf, sizeof(buf)), 32);
	tw_hexvec_exact(TW_VEC_V8_STOP_WIRE, want, 32);
	assert_memory_equal(buf, want, 32);
	assert_int_equal(tw_srv_feed(s, buf, 32, &sev), 32);
	assert_int_equal(sev.type, TW_SRV_EV_STOP);
	assert_true(sev.u.stop.count_ok);
	tw_srv_free(s);
	tw_cli_free(c);
}

/* ---- a scripted client for crafted input ---- */

/* Sends what a real client would after Server-Start, but from plaintext
 * the test chooses: keyed modes get the HMAC (unless bad_mac) and the
 * client CBC chain. */
typedef struct script {
	tw_ctrl_crypto *cc; /* NULL in open mode */
} script;

static void script_init(script *sc, uint32_t mode)
{
	sc->cc = NULL;
	if (keyed(mode)) {
		tw_cli_random r = std_random();
		uint8_t iv[16];
		std_server_iv(iv);
		sc->cc = tw_ctrl_crypto_new(r.aes_key, r.hmac_key, r.client_iv, iv);
		assert_non_null(sc->cc);
	}
}

static void script_seal(script *sc, uint8_t *msg, size_t len, bool bad_mac)
{
	if (!sc->cc)
		return;
	tw_ctrl_mac_add_tx(sc->cc, msg, len - 16);
	assert_int_equal(tw_ctrl_mac_final_tx(sc->cc, msg + len - 16), 0);
	if (bad_mac)
		msg[len - 1] ^= 1;
	assert_int_equal(tw_ctrl_encrypt(sc->cc, msg, len), 0);
}

static void script_free(script *sc)
{
	tw_ctrl_crypto_free(sc->cc);
}

static tw_srv_event srv_feed_all(tw_srv *s, const uint8_t *b, size_t n, size_t *used)
{
	tw_srv_event ev;
	*used = tw_srv_feed(s, b, n, &ev);
	return ev;
}

/* ---- unknown commands ---- */

static void unknown_cmd_case(uint32_t mode, uint8_t cmd)
{
	peer p;
	script sc;
	uint8_t msg[16] = { cmd }, buf[256];
	peer_open(&p, mode, ALL_MODES, 0);
	script_init(&sc, mode);
	if (sc.cc)
		assert_int_equal(tw_ctrl_encrypt(sc.cc, msg, 16), 0);
	size_t used;
	tw_srv_event ev = srv_feed_all(p.srv, msg, 16, &used);
	assert_int_equal(used, 16);
	assert_int_equal(ev.type, TW_SRV_EV_ERROR);
	assert_int_equal(ev.u.error.reply_len, TW_ACCEPT_LEN);
	assert_int_equal(tw_srv_get_state(p.srv), TW_SRV_CLOSED);

	/* the client reads the reply as an Accept-Session (HMAC checked in
	 * keyed modes: it is the first server HMAC) */
	tw_request req = std_request();
	assert_int_equal(tw_cli_request(p.cli, &req, buf, sizeof(buf)), TW_REQUEST_LEN);
	tw_cli_event cev;
	assert_int_equal(tw_cli_feed(p.cli, ev.u.error.reply, TW_ACCEPT_LEN, &cev), TW_ACCEPT_LEN);
	assert_int_equal(cev.type, TW_CLI_EV_ACCEPT);
	assert_int_equal(cev.u.accept.accept, TW_ACCEPT_NOT_SUPPORTED);
	assert_int_equal(cev.u.accept.port, 0);
	if (!sc.cc) {
		static const uint8_t plain[48] = { 3 };
		assert_memory_equal(ev.u.error.reply, plain, 48);
	}
	/* every later feed is an error */
	ev = srv_feed_all(p.srv, msg, 16, &used);
	assert_int_equal(ev.type, TW_SRV_EV_ERROR);
	assert_int_equal(used, 0);
	ev = srv_feed_all(p.srv, msg, 0, &used);
	assert_int_equal(ev.type, TW_SRV_EV_ERROR);
	script_free(&sc);
	peer_close(&p);
}

static void test_unknown_commands(void **state)
{
	(void)state;
	static const uint8_t cmds[] = { 0, 1, 4, 6, 8, 10, 11, 128, 255 };
	for (size_t i = 0; i < sizeof(cmds); i++) {
		unknown_cmd_case(TW_MODE_OPEN, cmds[i]);
		unknown_cmd_case(TW_MODE_ENC, cmds[i]);
	}
	unknown_cmd_case(TW_MODE_AUTH, 1);
	unknown_cmd_case(TW_MODE_MIXED, 1);
}

/* ---- known commands in the wrong state ---- */

static void expect_no_reply_error(tw_srv *s, const uint8_t *b, size_t n)
{
	size_t used;
	tw_srv_event ev = srv_feed_all(s, b, n, &used);
	assert_int_equal(ev.type, TW_SRV_EV_ERROR);
	assert_int_equal(ev.u.error.reply_len, 0);
	assert_non_null(ev.u.error.reason);
	assert_true(ev.u.error.code < 0);
	assert_int_equal(tw_srv_get_state(s), TW_SRV_CLOSED);
}

static void wrong_state_case(uint32_t mode, int which)
{
	peer p;
	script sc;
	uint8_t buf[256] = { 0 };
	peer_open(&p, mode, ALL_MODES, 0);
	script_init(&sc, mode);
	switch (which) {
	case 0: /* Stop-Sessions in IDLE */
		buf[0] = TW_CMD_STOP;
		break;
	case 1: /* Start-N without ISC (or Start-Sessions with ISC) */
		buf[0] = (mode & TW_MODE_ISC) ? TW_CMD_START : TW_CMD_START_N;
		buf[15] = 1;
		break;
	default: /* Stop-N without ISC (or Stop-Sessions with ISC) */
		buf[0] = (mode & TW_MODE_ISC) ? TW_CMD_STOP : TW_CMD_STOP_N;
		buf[15] = 1;
		break;
	}
	script_seal(&sc, buf, 32, false);
	expect_no_reply_error(p.srv, buf, 32);
	script_free(&sc);
	peer_close(&p);
}

static void testing_state_case(uint32_t mode, uint8_t cmd)
{
	peer p;
	uint8_t buf[256];
	peer_open(&p, mode, ALL_MODES, 0);
	do_request(&p, 0);
	assert_int_equal(tw_cli_start(p.cli, buf, sizeof(buf)), 32);
	(void)srv_deliver(&p, buf, 32);
	assert_int_equal(tw_srv_start_ack(p.srv, 0, buf, sizeof(buf)), 32);
	(void)cli_deliver(&p, buf, 32);
	assert_int_equal(tw_srv_get_state(p.srv), TW_SRV_TESTING);
	/* the client machine refuses too */
	tw_request req = std_request();
	assert_int_equal(tw_cli_request(p.cli, &req, buf, sizeof(buf)), -EPROTO);
	assert_int_equal(tw_cli_start(p.cli, buf, sizeof(buf)), -EPROTO);
	/* forge the command with the client's chain state: open mode only */
	memset(buf, 0, sizeof(buf));
	buf[0] = cmd;
	buf[1] = 4;
	expect_no_reply_error(p.srv, buf, 16);
	peer_close(&p);
}

static void test_wrong_state_commands(void **state)
{
	(void)state;
	static const uint32_t modes[] = { TW_MODE_OPEN, TW_MODE_ENC, TW_MODE_OPEN | TW_MODE_ISC,
					  TW_MODE_AUTH | TW_MODE_ISC };
	for (size_t m = 0; m < 4; m++)
		for (int w = 0; w < 3; w++)
			wrong_state_case(modes[m], w);
	testing_state_case(TW_MODE_OPEN, TW_CMD_START);
	testing_state_case(TW_MODE_OPEN, TW_CMD_REQUEST);
}

static void test_wrong_state_calls(void **state)
{
	(void)state;
	uint8_t buf[256], iv[16] = { 0 };
	tw_srv *s = tw_srv_new(MAXS);
	tw_accept_session a = { 0 };
	tw_srv_event ev;
	/* data before the greeting */
	assert_int_equal(tw_srv_feed(s, buf, 0, &ev), 0);
	assert_int_equal(ev.type, TW_SRV_EV_NONE);
	assert_int_equal(tw_srv_server_start(s, 0, iv, 0, buf, sizeof(buf)), -EPROTO);
	assert_int_equal(tw_srv_accept(s, &a, buf, sizeof(buf)), -EPROTO);
	assert_int_equal(tw_srv_start_ack(s, 0, buf, sizeof(buf)), -EPROTO);
	assert_int_equal(tw_srv_sids_ack(s, TW_CMD_START_N_ACK, 0, 1, iv, buf, sizeof(buf)), -EPROTO);
	assert_int_equal(tw_srv_authenticate(s, SECRET, SECRET_LEN), TW_ACCEPT_FAILURE);
	assert_int_equal(tw_srv_feed(s, buf, 1, &ev), 0);
	assert_int_equal(ev.type, TW_SRV_EV_ERROR);
	tw_srv_free(s);

	/* greeting twice, small buffer */
	s = tw_srv_new(MAXS);
	tw_greeting g = std_greeting(ALL_MODES);
	assert_int_equal(tw_srv_greeting(s, &g, buf, 63), -ENOSPC);
	assert_int_equal(tw_srv_greeting(s, &g, buf, sizeof(buf)), 64);
	assert_int_equal(tw_srv_greeting(s, &g, buf, sizeof(buf)), -EPROTO);
	tw_srv_free(s);

	/* a reply pending: feeding is an error */
	peer p;
	peer_open(&p, TW_MODE_OPEN, ALL_MODES, 0);
	tw_request req = std_request();
	assert_int_equal(tw_cli_request(p.cli, &req, buf, sizeof(buf)), 112);
	(void)srv_deliver(&p, buf, 112);
	assert_int_equal(tw_srv_get_state(p.srv), TW_SRV_REQUEST_RECEIVED);
	assert_int_equal(tw_srv_start_ack(p.srv, 0, buf, sizeof(buf)), -EPROTO);
	assert_int_equal(tw_srv_accept(p.srv, &a, buf, 47), -ENOSPC);
	assert_int_equal(tw_srv_feed(p.srv, buf, 16, &ev), 0);
	assert_int_equal(ev.type, TW_SRV_EV_ERROR);
	assert_int_equal(tw_srv_get_state(p.srv), TW_SRV_CLOSED);
	peer_close(&p);
	tw_srv_free(NULL);
}

/* ---- truncation and garbage ---- */

static void test_truncated(void **state)
{
	(void)state;
	peer p;
	uint8_t buf[256];
	tw_srv_event ev;
	peer_open(&p, TW_MODE_ENC, ALL_MODES, 0);
	tw_request req = std_request();
	assert_int_equal(tw_cli_request(p.cli, &req, buf, sizeof(buf)), 112);
	assert_int_equal(tw_srv_feed(p.srv, buf, 111, &ev), 111);
	assert_int_equal(ev.type, TW_SRV_EV_NONE);
	assert_int_equal(tw_srv_get_state(p.srv), TW_SRV_IDLE);
	assert_int_equal(tw_srv_feed(p.srv, buf + 111, 1, &ev), 1);
	assert_int_equal(ev.type, TW_SRV_EV_REQUEST);
	peer_close(&p);

	/* Set-Up-Response one octet short */
	tw_srv *s = tw_srv_new(MAXS);
	tw_greeting g = std_greeting(ALL_MODES);
	assert_int_equal(tw_srv_greeting(s, &g, buf, sizeof(buf)), 64);
	memset(buf, 0, sizeof(buf));
	buf[3] = 1;
	assert_int_equal(tw_srv_feed(s, buf, 163, &ev), 163);
	assert_int_equal(ev.type, TW_SRV_EV_NONE);
	assert_int_equal(tw_srv_get_state(s), TW_SRV_WAIT_SETUP);
	/* a longer feed takes only what the message needs */
	assert_int_equal(tw_srv_feed(s, buf, 50, &ev), 1);
	assert_int_equal(ev.type, TW_SRV_EV_SETUP);
	tw_srv_free(s);
}

static uint32_t xorshift(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Random octets after Server-Start: the machine ends in an error (or
 * waits for more), never consumes past its input, never crashes. */
static void test_garbage(void **state)
{
	(void)state;
	uint32_t seed = 12345;
	for (int round = 0; round < 200; round++) {
		peer p;
		uint8_t junk[300];
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (uint8_t)xorshift(&seed);
		peer_open(&p, round % 2 ? TW_MODE_AUTH : TW_MODE_OPEN, ALL_MODES, 0);
		size_t off = 0;
		tw_srv_event ev = { .type = TW_SRV_EV_NONE };
		for (int i = 0; i < 50 && off < sizeof(junk) && ev.type != TW_SRV_EV_ERROR; i++) {
			size_t used = tw_srv_feed(p.srv, junk + off, sizeof(junk) - off, &ev);
			assert_true(used <= sizeof(junk) - off);
			off += used;
			if (ev.type == TW_SRV_EV_REQUEST) {
				tw_accept_session a = { .accept = 3 };
				uint8_t out[64];
				assert_int_equal(tw_srv_accept(p.srv, &a, out, sizeof(out)), 48);
			} else if (ev.type == TW_SRV_EV_START) {
				uint8_t out[64];
				assert_int_equal(tw_srv_start_ack(p.srv, 0, out, sizeof(out)), 32);
			}
		}
		/* in a keyed mode random octets can never pass the HMAC */
		if (round % 2)
			assert_int_equal(ev.type, TW_SRV_EV_ERROR);
		peer_close(&p);
	}
}

/* ---- Stop-Sessions count ---- */

static void count_case(uint32_t mode, uint32_t claimed, bool expect_ok)
{
	peer p;
	script sc;
	uint8_t buf[256];
	peer_open(&p, mode, ALL_MODES, 0);
	script_init(&sc, mode);
	/* the scripted client owns the client chain from the start */
	tw_request req = std_request();
	assert_int_equal(tw_request_encode(&req, buf, sizeof(buf)), 112);
	script_seal(&sc, buf, 112, false);
	(void)srv_deliver(&p, buf, 112);
	tw_accept_session a = { .accept = 0, .port = 1 };
	make_sid(a.sid, 0);
	assert_int_equal(tw_srv_accept(p.srv, &a, buf, sizeof(buf)), 48);
	static const uint8_t zero[16];
	assert_int_equal(tw_start_encode(zero, buf, sizeof(buf)), 32);
	script_seal(&sc, buf, 32, false);
	(void)srv_deliver(&p, buf, 32);
	assert_int_equal(tw_srv_start_ack(p.srv, 0, buf, sizeof(buf)), 32);
	tw_stop stop = { .nsessions = claimed };
	assert_int_equal(tw_stop_encode(&stop, buf, sizeof(buf)), 32);
	script_seal(&sc, buf, 32, false);
	tw_srv_event ev = srv_deliver(&p, buf, 32);
	assert_int_equal(ev.type, TW_SRV_EV_STOP);
	assert_int_equal(ev.u.stop.count_ok, expect_ok);
	assert_int_equal(ev.u.stop.msg.nsessions, claimed);
	assert_int_equal(tw_srv_get_state(p.srv), TW_SRV_IDLE);
	assert_int_equal(tw_srv_sessions_running(p.srv), 0);
	script_free(&sc);
	peer_close(&p);
}

static void test_stop_count(void **state)
{
	(void)state;
	count_case(TW_MODE_OPEN, 1, true);
	count_case(TW_MODE_OPEN, 2, false);
	count_case(TW_MODE_OPEN, 0, false);
	count_case(TW_MODE_ENC, 1, true);
	count_case(TW_MODE_ENC, 7, false);
}

/* ---- tampering ---- */

static void test_tampered_ciphertext(void **state)
{
	(void)state;
	for (int where = 0; where < 3; where++) {
		peer p;
		uint8_t buf[256];
		size_t used;
		peer_open(&p, where == 2 ? TW_MODE_MIXED : TW_MODE_AUTH, ALL_MODES, 0);
		tw_request req = std_request();
		assert_int_equal(tw_cli_request(p.cli, &req, buf, sizeof(buf)), 112);
		buf[where == 0 ? 20 : 100] ^= 0x40; /* block 1, or the HMAC block */
		tw_srv_event ev = srv_feed_all(p.srv, buf, 112, &used);
		assert_int_equal(ev.type, TW_SRV_EV_ERROR);
		assert_string_equal(ev.u.error.reason, "bad HMAC");
		assert_int_equal(ev.u.error.code, -EBADMSG);
		assert_int_equal(ev.u.error.reply_len, 0);
		peer_close(&p);
	}
}

static void test_wrong_hmac(void **state)
{
	(void)state;
	peer p;
	script sc;
	uint8_t buf[256];
	size_t used;
	peer_open(&p, TW_MODE_ENC, ALL_MODES, 0);
	script_init(&sc, TW_MODE_ENC);
	tw_request req = std_request();
	assert_int_equal(tw_request_encode(&req, buf, sizeof(buf)), 112);
	script_seal(&sc, buf, 112, true);
	tw_srv_event ev = srv_feed_all(p.srv, buf, 112, &used);
	assert_int_equal(ev.type, TW_SRV_EV_ERROR);
	assert_string_equal(ev.u.error.reason, "bad HMAC");
	script_free(&sc);
	peer_close(&p);

	/* the same message with a good HMAC is accepted: the script is right */
	peer_open(&p, TW_MODE_ENC, ALL_MODES, 0);
	script_init(&sc, TW_MODE_ENC);
	assert_int_equal(tw_request_encode(&req, buf, sizeof(buf)), 112);
	script_seal(&sc, buf, 112, false);
	ev = srv_feed_all(p.srv, buf, 112, &used);
	assert_int_equal(ev.type, TW_SRV_EV_REQUEST);
	script_free(&sc);
	peer_close(&p);
}

/* ---- set-up validation and authentication ---- */

/* Greeting + a Set-Up-Response built by the client machine. */
static tw_srv *setup_server(uint32_t offered, uint32_t mode, const uint8_t *cli_secret, tw_srv_event *ev)
{
	uint8_t buf[256];
	tw_srv *s = tw_srv_new(MAXS);
	tw_cli *c = tw_cli_new(MAXS);
	tw_greeting g = std_greeting(offered);
	tw_cli_event cev;
	assert_int_equal(tw_srv_greeting(s, &g, buf, sizeof(buf)), 64);
	assert_int_equal(tw_cli_feed(c, buf, 64, &cev), 64);
	tw_cli_random rnd = std_random();
	int n = tw_cli_setup(c, mode, "alice", cli_secret, strlen((const char *)cli_secret), &rnd, 0, buf,
			     sizeof(buf));
	assert_int_equal(n, 164);
	assert_int_equal(tw_srv_feed(s, buf, 164, ev), 164);
	tw_cli_free(c);
	return s;
}

static void test_authentication(void **state)
{
	(void)state;
	uint8_t buf[64], iv[16] = { 0 };
	tw_srv_event ev;
	static const uint32_t keyed_modes[] = { TW_MODE_AUTH, TW_MODE_ENC, TW_MODE_MIXED };
	for (size_t i = 0; i < 3; i++) {
		/* wrong secret */
		tw_srv *s = setup_server(ALL_MODES, keyed_modes[i], (const uint8_t *)"not-the-secret", &ev);
		assert_int_equal(ev.type, TW_SRV_EV_SETUP);
		assert_int_equal(ev.u.setup.accept, 0);
		assert_int_equal(tw_srv_authenticate(s, SECRET, SECRET_LEN), 1);
		assert_int_equal(tw_srv_server_start(s, 0, iv, 0, buf, sizeof(buf)), -EPROTO);
		assert_int_equal(tw_srv_server_start(s, 1, iv, START_TIME, buf, sizeof(buf)), 48);
		assert_int_equal(buf[15], 1);
		static const uint8_t zero[16];
		assert_memory_equal(buf + 32, zero, 16); /* Start-Time zero, not encrypted */
		assert_int_equal(tw_srv_get_state(s), TW_SRV_CLOSED);
		tw_srv_free(s);
		/* unknown KeyID */
		s = setup_server(ALL_MODES, keyed_modes[i], SECRET, &ev);
		assert_int_equal(tw_srv_authenticate(s, NULL, 0), 1);
		assert_int_equal(tw_srv_server_start(s, 0, iv, 0, buf, sizeof(buf)), -EPROTO);
		/* the right secret after all (authenticate may be retried) */
		assert_int_equal(tw_srv_authenticate(s, SECRET, SECRET_LEN), 0);
		assert_int_equal(tw_srv_server_start(s, 0, NULL, 0, buf, sizeof(buf)), -EINVAL);
		assert_int_equal(tw_srv_server_start(s, 0, iv, 0, buf, 47), -ENOSPC);
		assert_int_equal(tw_srv_server_start(s, 0, iv, 0, buf, sizeof(buf)), 48);
		assert_int_equal(tw_srv_get_state(s), TW_SRV_IDLE);
		tw_srv_free(s);
	}
	/* open mode: nothing to authenticate */
	tw_srv *s = setup_server(ALL_MODES, TW_MODE_OPEN, SECRET, &ev);
	assert_int_equal(tw_srv_authenticate(s, NULL, 0), 0);
	assert_int_equal(tw_srv_server_start(s, 0, NULL, START_TIME, buf, sizeof(buf)), 48);
	tw_srv_free(s);
}

static void raw_setup_case(uint32_t offered, uint32_t mode, int expect_type, int expect_accept)
{
	uint8_t buf[256];
	tw_srv *s = tw_srv_new(MAXS);
	tw_greeting g = std_greeting(offered);
	tw_setup su = { .mode = mode };
	tw_srv_event ev;
	assert_int_equal(tw_srv_greeting(s, &g, buf, sizeof(buf)), 64);
	assert_int_equal(tw_setup_encode(&su, buf, sizeof(buf)), 164);
	assert_int_equal(tw_srv_feed(s, buf, 164, &ev), 164);
	assert_int_equal(ev.type, expect_type);
	if (expect_type == TW_SRV_EV_SETUP) {
		assert_int_equal(ev.u.setup.accept, expect_accept);
		if (expect_accept) {
			assert_int_equal(tw_srv_authenticate(s, SECRET, SECRET_LEN), 1);
			assert_int_equal(tw_srv_server_start(s, 0, buf, 0, buf, sizeof(buf)), -EPROTO);
			assert_int_equal(tw_srv_mode(s), 0);
		}
	} else {
		assert_int_equal(tw_srv_get_state(s), TW_SRV_CLOSED);
	}
	tw_srv_free(s);
}

static void test_setup_validation(void **state)
{
	(void)state;
	raw_setup_case(ALL_MODES, 0, TW_SRV_EV_ERROR, 0);                   /* client declined */
	raw_setup_case(ALL_MODES, TW_MODE_OPEN, TW_SRV_EV_SETUP, 0);
	raw_setup_case(ALL_MODES, TW_MODE_OPEN | TW_MODE_AUTH, TW_SRV_EV_SETUP, 3); /* two security bits */
	raw_setup_case(ALL_MODES, TW_MODE_ISC, TW_SRV_EV_SETUP, 3);          /* no security bit */
	raw_setup_case(TW_MODE_OPEN, TW_MODE_AUTH, TW_SRV_EV_SETUP, 3);      /* not offered */
	raw_setup_case(TW_MODE_OPEN, TW_MODE_OPEN | TW_MODE_ISC, TW_SRV_EV_SETUP, 3); /* feature not offered */
	raw_setup_case(ALL_MODES, TW_MODE_OPEN | 0x80000000u, TW_SRV_EV_SETUP, 3);    /* unknown bit */
	raw_setup_case(ALL_MODES, TW_MODE_MIXED | TW_MODE_ISC, TW_SRV_EV_SETUP, 0);

	/* a greeting with Modes 0 refuses the client */
	uint8_t buf[64];
	tw_srv *s = tw_srv_new(MAXS);
	tw_greeting g = std_greeting(0);
	assert_int_equal(tw_srv_greeting(s, &g, buf, sizeof(buf)), 64);
	assert_int_equal(tw_srv_get_state(s), TW_SRV_CLOSED);
	tw_srv_free(s);
}

/* ---- session bookkeeping ---- */

static void test_session_limits(void **state)
{
	(void)state;
	peer p;
	uint8_t buf[256];
	peer_open(&p, TW_MODE_OPEN | TW_MODE_ISC, ALL_MODES, 0);
	for (unsigned i = 0; i < MAXS; i++)
		do_request(&p, i);
	/* the client machine refuses a ninth, so play it by hand */
	tw_request req = std_request();
	assert_int_equal(tw_cli_request(p.cli, &req, buf, sizeof(buf)), -ENOBUFS);
	assert_int_equal(tw_request_encode(&req, buf, sizeof(buf)), 112);
	tw_srv_event ev = srv_deliver(&p, buf, 112);
	assert_int_equal(ev.type, TW_SRV_EV_REQUEST);
	tw_accept_session a = { .accept = 0, .port = 5 };
	make_sid(a.sid, 100);
	assert_int_equal(tw_srv_accept(p.srv, &a, buf, sizeof(buf)), -ENOBUFS);
	a.accept = TW_ACCEPT_PERMANENT;
	assert_int_equal(tw_srv_accept(p.srv, &a, buf, sizeof(buf)), 48);
	assert_int_equal(buf[0], TW_ACCEPT_PERMANENT);
	assert_int_equal(buf[2] | buf[3], 0); /* a refusal carries Port 0 */
	assert_int_equal(tw_srv_sessions_accepted(p.srv), MAXS);

	/* Start-N naming an unknown SID: flagged for a non-zero ack */
	uint8_t sids[32];
	make_sid(sids, 0);
	make_sid(sids + 16, 99);
	tw_sids_msg m = { .cmd = TW_CMD_START_N, .n = 2, .sids = sids };
	assert_int_equal(tw_sids_encode(&m, buf, sizeof(buf)), 64);
	ev = srv_deliver(&p, buf, 64);
	assert_int_equal(ev.type, TW_SRV_EV_START_N);
	assert_int_equal(ev.u.sids.accept, TW_ACCEPT_FAILURE);
	assert_int_equal(tw_srv_sids_ack(p.srv, TW_CMD_START_N_ACK, 0, 2, sids, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(tw_srv_sids_ack(p.srv, TW_CMD_START_N_ACK, 1, 2, sids, buf, sizeof(buf)), 64);
	assert_int_equal(tw_srv_sessions_running(p.srv), 0);
	assert_int_equal(tw_srv_sids_ack(p.srv, 9, 0, 1, sids, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(tw_srv_sids_ack(p.srv, TW_CMD_START_N_ACK, 0, 0, sids, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(tw_srv_sids_ack(p.srv, TW_CMD_START_N_ACK, 0, 1, sids, buf, 47), -ENOSPC);

	/* N above the session limit cannot even be read */
	memset(buf, 0, 16);
	buf[0] = TW_CMD_STOP_N;
	buf[15] = MAXS + 1;
	expect_no_reply_error(p.srv, buf, 16);
	peer_close(&p);
}

static void test_duplicate_sid_and_names(void **state)
{
	(void)state;
	peer p;
	uint8_t buf[256];
	peer_open(&p, TW_MODE_OPEN, ALL_MODES, 0);
	do_request(&p, 0);
	tw_request req = std_request();
	assert_int_equal(tw_cli_request(p.cli, &req, buf, sizeof(buf)), 112);
	(void)srv_deliver(&p, buf, 112);
	tw_accept_session a = { .accept = 0, .port = 5 };
	make_sid(a.sid, 0);
	assert_int_equal(tw_srv_accept(p.srv, &a, buf, sizeof(buf)), -EEXIST);
	peer_close(&p);
	for (int st = TW_SRV_GREETING; st <= TW_SRV_CLOSED; st++)
		assert_string_not_equal(tw_srv_state_name((tw_srv_state)st), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conversations),
		cmocka_unit_test(test_vectors_wire),
		cmocka_unit_test(test_unknown_commands),
		cmocka_unit_test(test_wrong_state_commands),
		cmocka_unit_test(test_wrong_state_calls),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_stop_count),
		cmocka_unit_test(test_tampered_ciphertext),
		cmocka_unit_test(test_wrong_hmac),
		cmocka_unit_test(test_authentication),
		cmocka_unit_test(test_setup_validation),
		cmocka_unit_test(test_session_limits),
		cmocka_unit_test(test_duplicate_sid_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
