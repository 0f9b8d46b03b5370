/* test_ctrl_client.c - the Control-Client state machine: conversations
 * with the server machine (whole and byte by byte), Set-Up-Response
 * checks (Count limits, modes, keys), refusals, Stop-Sessions counting,
 * tampered server messages, unexpected input, ISC bookkeeping. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "control.h"
#include "crypto.h"
#include "ctrl_client.h"
#include "ctrl_server.h"
#include "testutil.h"

#define MAXS 4
#define ALL_MODES (TW_MODE_OPEN | TW_MODE_AUTH | TW_MODE_ENC | TW_MODE_MIXED | TW_MODE_ISC)

static const uint8_t SECRET[] = "twamp-interop-secret";
#define SECRET_LEN (sizeof(SECRET) - 1)

static tw_greeting greeting(uint32_t modes, uint32_t count)
{
	tw_greeting g = { .modes = modes, .count = count };
	for (int i = 0; i < 16; i++) {
		g.challenge[i] = (uint8_t)(0x10 + i);
		g.salt[i] = (uint8_t)(0x80 + i);
	}
	return g;
}

static tw_cli_random rnd(void)
{
	tw_cli_random r;
	for (int i = 0; i < 16; i++) {
		r.aes_key[i] = (uint8_t)(0xa0 + i);
		r.client_iv[i] = (uint8_t)(0xc0 + i);
	}
	for (int i = 0; i < 32; i++)
		r.hmac_key[i] = (uint8_t)(0x40 + i);
	return r;
}

static tw_request request(void)
{
	tw_request m = { .ipvn = 6, .sender_port = 9909, .receiver_port = 9909, .padding = 27,
			 .timeout = 0x0000000200079a28ULL, .type_p = 0x08000000 };
	m.sender_addr[15] = 1;
	m.receiver_addr[15] = 1;
	return m;
}

static void sid_of(uint8_t sid[16], unsigned i)
{
	memset(sid, 0, 16);
	sid[3] = 1;
	sid[15] = (uint8_t)(0x50 + i);
}

static bool is_keyed(uint32_t mode)
{
	return (mode & (TW_MODE_AUTH | TW_MODE_ENC | TW_MODE_MIXED)) != 0;
}

/* ---- a client facing a server machine ---- */

typedef struct pair {
	tw_cli *c;
	tw_srv *s;
	size_t chunk;
} pair;

/* Feeds n octets in chunks; exactly one event, at the last octet. */
static tw_cli_event cli_in(pair *p, const uint8_t *b, size_t n)
{
	tw_cli_event ev, got = { .type = TW_CLI_EV_NONE };
	size_t off = 0, step = p->chunk ? p->chunk : n;
	for (unsigned guard = 0; off < n && guard < 1024; guard++) {
		size_t k = n - off < step ? n - off : step;
		size_t used = tw_cli_feed(p->c, b + off, k, &ev);
		off += used;
		if (ev.type != TW_CLI_EV_NONE) {
			got = ev;
			break;
		}
		assert_int_equal(used, k);
	}
	assert_int_equal(off, n);
	return got;
}

static tw_srv_event srv_in(pair *p, const uint8_t *b, size_t n)
{
	tw_srv_event ev;
	assert_int_equal(tw_srv_feed(p->s, b, n, &ev), n);
	return ev;
}

/* Up to IDLE on both sides. */
static void pair_open(pair *p, uint32_t mode, size_t chunk)
{
	uint8_t buf[256], iv[16];
	memset(iv, 0x77, sizeof(iv));
	p->c = tw_cli_new(MAXS);
	p->s = tw_srv_new(MAXS);
	p->chunk = chunk;
	tw_greeting g = greeting(ALL_MODES, 2048);
	assert_int_equal(tw_srv_greeting(p->s, &g, buf, sizeof(buf)), 64);
	tw_cli_event ev = cli_in(p, buf, 64);
	assert_int_equal(ev.type, TW_CLI_EV_GREETING);
	assert_memory_equal(ev.u.greeting.challenge, g.challenge, 16);
	assert_memory_equal(ev.u.greeting.salt, g.salt, 16);
	tw_cli_random r = rnd();
	assert_int_equal(tw_cli_setup(p->c, mode, "testuser", SECRET, SECRET_LEN, &r, 0, buf, sizeof(buf)), 164);
	assert_int_equal(tw_cli_get_state(p->c), TW_CLI_WAIT_SERVER_START);
	tw_srv_event sev = srv_in(p, buf, 164);
	assert_int_equal(sev.type, TW_SRV_EV_SETUP);
	if (is_keyed(mode)) {
		assert_memory_equal(sev.u.setup.msg.keyid, "testuser\0", 9);
		assert_memory_equal(sev.u.setup.msg.client_iv, r.client_iv, 16);
	}
	assert_int_equal(tw_srv_authenticate(p->s, SECRET, SECRET_LEN), 0);
	assert_int_equal(tw_srv_server_start(p->s, 0, iv, 0x1234ULL << 32, buf, sizeof(buf)), 48);
	ev = cli_in(p, buf, 48);
	assert_int_equal(ev.type, TW_CLI_EV_SERVER_START);
	assert_true(ev.u.server_start.start_time == 0x1234ULL << 32);
	assert_int_equal(tw_cli_get_state(p->c), TW_CLI_IDLE);
}

static void pair_close(pair *p)
{
	tw_cli_free(p->c);
	tw_srv_free(p->s);
}

/* One Request-TW-Session answered with accept (SID i, port 18000 + i). */
static tw_cli_event pair_request(pair *p, unsigned i, uint8_t accept)
{
	uint8_t buf[256];
	tw_request req = request();
	assert_int_equal(tw_cli_request(p->c, &req, buf, sizeof(buf)), 112);
	tw_srv_event sev = srv_in(p, buf, 112);
	assert_int_equal(sev.type, TW_SRV_EV_REQUEST);
	assert_int_equal(sev.u.request.msg.ipvn, 6);
	assert_int_equal(sev.u.request.msg.type_p, 0x08000000);
	tw_accept_session a = { .accept = accept, .port = (uint16_t)(18000 + i) };
	sid_of(a.sid, i);
	assert_int_equal(tw_srv_accept(p->s, &a, buf, sizeof(buf)), 48);
	tw_cli_event ev = cli_in(p, buf, 48);
	assert_int_equal(ev.type, TW_CLI_EV_ACCEPT);
	assert_int_equal(ev.u.accept.accept, accept);
	return ev;
}

static void pair_start(pair *p, uint8_t accept)
{
	uint8_t buf[64];
	assert_int_equal(tw_cli_start(p->c, buf, sizeof(buf)), 32);
	assert_int_equal(tw_cli_get_state(p->c), TW_CLI_WAIT_START_ACK);
	assert_int_equal(srv_in(p, buf, 32).type, TW_SRV_EV_START);
	assert_int_equal(tw_srv_start_ack(p->s, accept, buf, sizeof(buf)), 32);
	tw_cli_event ev = cli_in(p, buf, 32);
	assert_int_equal(ev.type, TW_CLI_EV_START_ACK);
	assert_int_equal(ev.u.start_ack.accept, accept);
}

static void conversation_case(uint32_t mode, size_t chunk)
{
	pair p;
	uint8_t buf[64];
	pair_open(&p, mode, chunk);
	(void)pair_request(&p, 0, 0);
	tw_cli_event ev = pair_request(&p, 1, 0);
	assert_int_equal(ev.u.accept.port, 18001);
	pair_start(&p, 0);
	assert_int_equal(tw_cli_get_state(p.c), TW_CLI_TESTING);
	assert_int_equal(tw_cli_sessions_running(p.c), 2);
	assert_int_equal(tw_cli_stop(p.c, 0, buf, sizeof(buf)), 32);
	tw_srv_event sev = srv_in(&p, buf, 32);
	assert_int_equal(sev.type, TW_SRV_EV_STOP);
	assert_true(sev.u.stop.count_ok);
	assert_int_equal(tw_cli_get_state(p.c), TW_CLI_IDLE);

	/* a second round on the same connection */
	(void)pair_request(&p, 2, 0);
	pair_start(&p, 0);
	assert_int_equal(tw_cli_sessions_running(p.c), 1); /* only the new one starts */
	assert_int_equal(tw_cli_stop(p.c, 0, buf, sizeof(buf)), 32);
	sev = srv_in(&p, buf, 32);
	assert_int_equal(sev.u.stop.msg.nsessions, 1);
	assert_true(sev.u.stop.count_ok);

	uint8_t sid[16];
	sid_of(sid, 0);
	tw_test_crypto *t = tw_cli_test_crypto(p.c, sid);
	if (mode == TW_MODE_AUTH || mode == TW_MODE_ENC)
		assert_non_null(t);
	else
		assert_null(t);
	tw_test_crypto_free(t);
	pair_close(&p);
}

static void test_conversations(void **state)
{
	(void)state;
	static const uint32_t modes[] = { TW_MODE_OPEN, TW_MODE_AUTH, TW_MODE_ENC, TW_MODE_MIXED };
	for (size_t i = 0; i < 4; i++) {
		conversation_case(modes[i], 0);
		conversation_case(modes[i], 1);
		conversation_case(modes[i], 5);
	}
}

/* ---- Set-Up-Response checks ---- */

static tw_cli *client_greeted(uint32_t modes, uint32_t count)
{
	uint8_t buf[64];
	tw_cli *c = tw_cli_new(MAXS);
	tw_greeting g = greeting(modes, count);
	tw_cli_event ev;
	assert_int_equal(tw_greeting_encode(&g, buf, sizeof(buf)), 64);
	assert_int_equal(tw_cli_feed(c, buf, 64, &ev), 64);
	assert_int_equal(ev.type, TW_CLI_EV_GREETING);
	assert_int_equal(tw_cli_get_state(c), TW_CLI_GREETING_RECEIVED);
	return c;
}

static int setup_with(uint32_t modes, uint32_t count, uint32_t mode, uint32_t max_count)
{
	uint8_t buf[200];
	tw_cli *c = client_greeted(modes, count);
	tw_cli_random r = rnd();
	int rc = tw_cli_setup(c, mode, "testuser", SECRET, SECRET_LEN, &r, max_count, buf, sizeof(buf));
	if (rc < 0)
		assert_int_equal(tw_cli_get_state(c), TW_CLI_GREETING_RECEIVED); /* nothing changed */
	tw_cli_free(c);
	return rc;
}

static void test_setup_count(void **state)
{
	(void)state;
	assert_int_equal(setup_with(ALL_MODES, 2048, TW_MODE_AUTH, 0), 164);
	assert_int_equal(setup_with(ALL_MODES, 32768, TW_MODE_ENC, 0), 164);
	assert_int_equal(setup_with(ALL_MODES, 65536, TW_MODE_ENC, 0), -E2BIG);     /* default cap 32768 */
	assert_int_equal(setup_with(ALL_MODES, 4096, TW_MODE_AUTH, 2048), -E2BIG);  /* caller's cap */
	assert_int_equal(setup_with(ALL_MODES, 0x80000000u, TW_MODE_MIXED, 0), -E2BIG);
	assert_int_equal(setup_with(ALL_MODES, 1000, TW_MODE_AUTH, 0), -EINVAL);    /* below 1024 */
	assert_int_equal(setup_with(ALL_MODES, 512, TW_MODE_AUTH, 0), -EINVAL);
	assert_int_equal(setup_with(ALL_MODES, 3072, TW_MODE_AUTH, 0), -EINVAL);    /* not a power of two */
	assert_int_equal(setup_with(ALL_MODES, 1024, TW_MODE_AUTH, 0), 164);
	/* A4: Count only matters for keyed modes */
	assert_int_equal(setup_with(ALL_MODES, 0, TW_MODE_OPEN, 0), 164);
	assert_int_equal(setup_with(ALL_MODES, 0x80000000u, TW_MODE_OPEN, 0), 164);
}

static void test_setup_modes(void **state)
{
	(void)state;
	assert_int_equal(setup_with(TW_MODE_OPEN, 2048, TW_MODE_AUTH, 0), -EINVAL);      /* not offered */
	assert_int_equal(setup_with(TW_MODE_OPEN, 2048, TW_MODE_OPEN | TW_MODE_ISC, 0), -EINVAL);
	assert_int_equal(setup_with(ALL_MODES, 2048, TW_MODE_OPEN | TW_MODE_AUTH, 0), -EINVAL); /* two */
	assert_int_equal(setup_with(ALL_MODES, 2048, TW_MODE_ISC, 0), -EINVAL);          /* none */
	assert_int_equal(setup_with(ALL_MODES, 2048, TW_MODE_MIXED | TW_MODE_ISC, 0), 164);
	/* unknown greeting bits are ignored, not echoed */
	assert_int_equal(setup_with(ALL_MODES | 0x40000000u, 2048, TW_MODE_OPEN, 0), 164);
}

static void test_setup_arguments(void **state)
{
	(void)state;
	uint8_t buf[200];
	tw_cli_random r = rnd();
	char long_id[82];
	memset(long_id, 'k', 81);
	long_id[81] = '\0';
	tw_cli *c = client_greeted(ALL_MODES, 2048);
	assert_int_equal(tw_cli_setup(c, TW_MODE_AUTH, NULL, SECRET, SECRET_LEN, &r, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(tw_cli_setup(c, TW_MODE_AUTH, "u", NULL, 0, &r, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(tw_cli_setup(c, TW_MODE_ENC, "u", SECRET, SECRET_LEN, NULL, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(tw_cli_setup(c, TW_MODE_ENC, long_id, SECRET, SECRET_LEN, &r, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(tw_cli_setup(c, TW_MODE_ENC, "u", SECRET, SECRET_LEN, &r, 0, buf, 163), -ENOSPC);
	/* an 80-octet KeyID fills the field, unterminated */
	long_id[80] = '\0';
	assert_int_equal(tw_cli_setup(c, TW_MODE_ENC, long_id, SECRET, SECRET_LEN, &r, 0, buf, sizeof(buf)), 164);
	assert_memory_equal(buf + 4, long_id, 80);
	assert_memory_equal(buf + 148, r.client_iv, 16);
	assert_int_equal(tw_cli_setup(c, TW_MODE_ENC, "u", SECRET, SECRET_LEN, &r, 0, buf, sizeof(buf)), -EPROTO);
	tw_cli_free(c);

	/* open mode: no keys needed, everything after Mode is zero */
	c = client_greeted(ALL_MODES, 2048);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(tw_cli_setup(c, TW_MODE_OPEN, NULL, NULL, 0, NULL, 0, buf, sizeof(buf)), 164);
	static const uint8_t zero[160];
	assert_int_equal(buf[3], 1);
	assert_memory_equal(buf + 4, zero, 160);
	tw_cli_free(c);

	/* Mode 0 declines: a zero Set-Up-Response, then CLOSED */
	c = client_greeted(ALL_MODES, 2048);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(tw_cli_setup(c, 0, NULL, NULL, 0, NULL, 0, buf, sizeof(buf)), 164);
	assert_memory_equal(buf, zero, 160);
	assert_int_equal(tw_cli_get_state(c), TW_CLI_CLOSED);
	tw_cli_free(c);
}

static void test_greeting_modes_zero(void **state)
{
	(void)state;
	uint8_t buf[64];
	tw_cli *c = tw_cli_new(MAXS);
	tw_greeting g = greeting(0, 2048);
	tw_cli_event ev;
	assert_int_equal(tw_greeting_encode(&g, buf, sizeof(buf)), 64);
	assert_int_equal(tw_cli_feed(c, buf, 63, &ev), 63);
	assert_int_equal(ev.type, TW_CLI_EV_NONE);
	assert_int_equal(tw_cli_feed(c, buf + 63, 1, &ev), 1);
	assert_int_equal(ev.type, TW_CLI_EV_ERROR);
	assert_int_equal(ev.u.error.code, -ECONNREFUSED);
	assert_int_equal(tw_cli_get_state(c), TW_CLI_CLOSED);
	assert_int_equal(tw_cli_feed(c, buf, 0, &ev), 0);
	assert_int_equal(ev.type, TW_CLI_EV_ERROR);
	tw_cli_free(c);
}

static void test_mode_choose(void **state)
{
	(void)state;
	static const struct {
		uint32_t offered, allowed, expect;
	} t[] = {
		{ 0xf, 0xf, TW_MODE_ENC },
		{ 0xf, TW_MODE_AUTH | TW_MODE_MIXED | TW_MODE_OPEN, TW_MODE_AUTH },
		{ TW_MODE_OPEN | TW_MODE_MIXED, 0xf, TW_MODE_MIXED },
		{ TW_MODE_OPEN | TW_MODE_ISC, 0xff, TW_MODE_OPEN },
		{ TW_MODE_ENC, TW_MODE_OPEN, 0 },
		{ 0, 0xf, 0 },
		{ TW_MODE_ISC, TW_MODE_ISC, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(tw_mode_choose(t[i].offered, t[i].allowed), t[i].expect);
}

/* ---- refusals and counting ---- */

static void test_server_start_refused(void **state)
{
	(void)state;
	static const uint32_t modes[] = { TW_MODE_OPEN, TW_MODE_ENC };
	for (size_t i = 0; i < 2; i++) {
		uint8_t buf[200];
		tw_cli *c = client_greeted(ALL_MODES, 2048);
		tw_cli_random r = rnd();
		assert_int_equal(tw_cli_setup(c, modes[i], "u", SECRET, SECRET_LEN, &r, 0, buf, sizeof(buf)), 164);
		tw_server_start ss = { .accept = TW_ACCEPT_FAILURE };
		memset(ss.server_iv, 0x33, 16);
		assert_int_equal(tw_server_start_encode(&ss, buf, sizeof(buf)), 48);
		tw_cli_event ev;
		assert_int_equal(tw_cli_feed(c, buf, 48, &ev), 48);
		assert_int_equal(ev.type, TW_CLI_EV_SERVER_START);
		assert_int_equal(ev.u.server_start.accept, 1);
		assert_true(ev.u.server_start.start_time == 0); /* not decrypted */
		assert_int_equal(tw_cli_get_state(c), TW_CLI_CLOSED);
		tw_cli_free(c);
	}
}

static void test_rejections_and_stop_count(void **state)
{
	(void)state;
	pair p;
	uint8_t buf[64];
	pair_open(&p, TW_MODE_OPEN, 0);
	(void)pair_request(&p, 0, 0);
	(void)pair_request(&p, 1, TW_ACCEPT_TEMPORARY); /* refused: not counted */
	(void)pair_request(&p, 2, 0);
	assert_int_equal(tw_cli_get_state(p.c), TW_CLI_IDLE);
	assert_int_equal(tw_cli_stop(p.c, 0, buf, sizeof(buf)), -EPROTO);
	pair_start(&p, 0);
	assert_int_equal(tw_cli_sessions_running(p.c), 2);
	assert_int_equal(tw_cli_stop(p.c, 2, buf, 31), -ENOSPC);
	assert_int_equal(tw_cli_stop(p.c, 2, buf, sizeof(buf)), 32);
	tw_stop stop;
	assert_int_equal(tw_stop_decode(buf, 32, &stop), 0);
	assert_int_equal(stop.nsessions, 2);
	assert_int_equal(stop.accept, 2);
	assert_int_equal(tw_cli_sessions_running(p.c), 0);
	pair_close(&p);

	/* Start-Ack refusal closes */
	pair_open(&p, TW_MODE_MIXED, 0);
	(void)pair_request(&p, 0, 0);
	pair_start(&p, TW_ACCEPT_FAILURE);
	assert_int_equal(tw_cli_get_state(p.c), TW_CLI_CLOSED);
	assert_int_equal(tw_cli_sessions_running(p.c), 0);
	pair_close(&p);
}

/* ---- tampering and unexpected input ---- */

static void test_tampered_server_messages(void **state)
{
	(void)state;
	for (int which = 0; which < 4; which++) {
		pair p;
		uint8_t buf[256];
		pair_open(&p, which < 2 ? TW_MODE_ENC : TW_MODE_AUTH, 0);
		tw_request req = request();
		assert_int_equal(tw_cli_request(p.c, &req, buf, sizeof(buf)), 112);
		(void)srv_in(&p, buf, 112);
		tw_accept_session a = { .accept = 0, .port = 1 };
		sid_of(a.sid, 0);
		assert_int_equal(tw_srv_accept(p.s, &a, buf, sizeof(buf)), 48);
		if (which % 2 == 0) {
			buf[which == 0 ? 5 : 40] ^= 0x01;
		} else {
			/* good Accept-Session, tampered Start-Ack */
			assert_int_equal(cli_in(&p, buf, 48).type, TW_CLI_EV_ACCEPT);
			assert_int_equal(tw_cli_start(p.c, buf, sizeof(buf)), 32);
			(void)srv_in(&p, buf, 32);
			assert_int_equal(tw_srv_start_ack(p.s, 0, buf, sizeof(buf)), 32);
			buf[31] ^= 0x80;
		}
		size_t n = which % 2 == 0 ? 48 : 32;
		tw_cli_event ev;
		assert_int_equal(tw_cli_feed(p.c, buf, n, &ev), n);
		assert_int_equal(ev.type, TW_CLI_EV_ERROR);
		assert_int_equal(ev.u.error.code, -EBADMSG);
		assert_int_equal(tw_cli_get_state(p.c), TW_CLI_CLOSED);
		pair_close(&p);
	}
}

static void test_unexpected_input(void **state)
{
	(void)state;
	uint8_t buf[256] = { 0 };
	tw_cli_event ev;
	/* before Set-Up-Response was sent */
	tw_cli *c = client_greeted(ALL_MODES, 2048);
	assert_int_equal(tw_cli_feed(c, buf, 0, &ev), 0);
	assert_int_equal(ev.type, TW_CLI_EV_NONE);
	assert_int_equal(tw_cli_feed(c, buf, 1, &ev), 0);
	assert_int_equal(ev.type, TW_CLI_EV_ERROR);
	tw_cli_free(c);

	/* in IDLE and in TESTING the server has nothing to say */
	pair p;
	pair_open(&p, TW_MODE_OPEN, 0);
	assert_int_equal(tw_cli_feed(p.c, buf, 1, &ev), 0);
	assert_int_equal(ev.type, TW_CLI_EV_ERROR);
	assert_int_equal(tw_cli_get_state(p.c), TW_CLI_CLOSED);
	assert_int_equal(tw_cli_request(p.c, &(tw_request){ .ipvn = 4 }, buf, sizeof(buf)), -EPROTO);
	pair_close(&p);

	pair_open(&p, TW_MODE_OPEN, 0);
	(void)pair_request(&p, 0, 0);
	pair_start(&p, 0);
	assert_int_equal(tw_cli_feed(p.c, buf, 32, &ev), 0);
	assert_int_equal(ev.type, TW_CLI_EV_ERROR);
	pair_close(&p);

	/* truncated and over-long input */
	pair_open(&p, TW_MODE_AUTH, 0);
	tw_request req = request();
	assert_int_equal(tw_cli_request(p.c, &req, buf, sizeof(buf)), 112);
	(void)srv_in(&p, buf, 112);
	tw_accept_session a = { .accept = 0, .port = 1 };
	sid_of(a.sid, 0);
	assert_int_equal(tw_srv_accept(p.s, &a, buf, sizeof(buf)), 48);
	assert_int_equal(tw_cli_feed(p.c, buf, 47, &ev), 47);
	assert_int_equal(ev.type, TW_CLI_EV_NONE);
	assert_int_equal(tw_cli_get_state(p.c), TW_CLI_WAIT_ACCEPT);
	assert_int_equal(tw_cli_feed(p.c, buf + 47, 100, &ev), 1);
	assert_int_equal(ev.type, TW_CLI_EV_ACCEPT);
	pair_close(&p);
}

/* ---- individual session control ---- */

static void isc_start_all(pair *p, unsigned n, const uint8_t *sids)
{
	uint8_t buf[128];
	int len = tw_cli_start_n(p->c, n, sids, buf, sizeof(buf));
	assert_int_equal(len, 32 + 16 * (int)n);
	tw_srv_event sev = srv_in(p, buf, (size_t)len);
	assert_int_equal(sev.type, TW_SRV_EV_START_N);
	len = tw_srv_sids_ack(p->s, TW_CMD_START_N_ACK, 0, n, sids, buf, sizeof(buf));
	tw_cli_event ev = cli_in(p, buf, (size_t)len);
	assert_int_equal(ev.type, TW_CLI_EV_N_ACK);
}

static void test_isc(void **state)
{
	(void)state;
	pair p;
	uint8_t buf[128], sids[48];
	pair_open(&p, TW_MODE_ENC | TW_MODE_ISC, 1);
	for (unsigned i = 0; i < 3; i++) {
		(void)pair_request(&p, i, 0);
		sid_of(sids + 16 * i, i);
	}
	/* classic commands are not for ISC */
	assert_int_equal(tw_cli_start(p.c, buf, sizeof(buf)), -EPROTO);
	/* bad SID lists */
	uint8_t bad[32];
	memcpy(bad, sids, 16);
	sid_of(bad + 16, 9);
	assert_int_equal(tw_cli_start_n(p.c, 2, bad, buf, sizeof(buf)), -EINVAL);  /* unknown */
	memcpy(bad + 16, sids, 16);
	assert_int_equal(tw_cli_start_n(p.c, 2, bad, buf, sizeof(buf)), -EINVAL);  /* listed twice */
	assert_int_equal(tw_cli_stop_n(p.c, 1, sids, buf, sizeof(buf)), -EINVAL);  /* not running */
	assert_int_equal(tw_cli_start_n(p.c, 0, sids, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(tw_cli_start_n(p.c, 1, sids, buf, 47), -ENOSPC);

	/* start two, refuse-ack one of them */
	int len = tw_cli_start_n(p.c, 2, sids, buf, sizeof(buf));
	assert_int_equal(len, 64);
	tw_request req = request();
	assert_int_equal(tw_cli_request(p.c, &req, buf + 64, 64), -EPROTO); /* acks pending */
	tw_srv_event sev = srv_in(&p, buf, 64);
	assert_int_equal(sev.type, TW_SRV_EV_START_N);
	len = tw_srv_sids_ack(p.s, TW_CMD_START_N_ACK, TW_ACCEPT_TEMPORARY, 1, sids + 16, buf, sizeof(buf));
	tw_cli_event ev = cli_in(&p, buf, (size_t)len);
	assert_int_equal(ev.type, TW_CLI_EV_N_ACK);
	assert_int_equal(ev.u.sids.accept, TW_ACCEPT_TEMPORARY);
	assert_int_equal(tw_cli_sessions_running(p.c), 0);
	len = tw_srv_sids_ack(p.s, TW_CMD_START_N_ACK, 0, 1, sids, buf, sizeof(buf));
	ev = cli_in(&p, buf, (size_t)len);
	assert_int_equal(ev.type, TW_CLI_EV_N_ACK);
	assert_int_equal(tw_cli_sessions_running(p.c), 1);
	assert_int_equal(tw_cli_get_state(p.c), TW_CLI_TESTING);

	/* nothing pending now: an unsolicited ack is an error */
	len = tw_srv_sids_ack(p.s, TW_CMD_STOP_N_ACK, 0, 1, sids, buf, sizeof(buf));
	tw_cli_event e2;
	assert_int_equal(tw_cli_feed(p.c, buf, (size_t)len, &e2), 0);
	assert_int_equal(e2.type, TW_CLI_EV_ERROR);
	pair_close(&p);
}

static void test_isc_ack_for_other_sid(void **state)
{
	(void)state;
	pair p;
	uint8_t buf[128], sids[32];
	pair_open(&p, TW_MODE_OPEN | TW_MODE_ISC, 0);
	for (unsigned i = 0; i < 2; i++) {
		(void)pair_request(&p, i, 0);
		sid_of(sids + 16 * i, i);
	}
	isc_start_all(&p, 1, sids);
	/* stop SID 0 is pending, the server acks SID 1 */
	int len = tw_cli_stop_n(p.c, 1, sids, buf, sizeof(buf));
	assert_int_equal(len, 48);
	(void)srv_in(&p, buf, 48);
	tw_sids_msg m = { .cmd = TW_CMD_STOP_N_ACK, .n = 1, .sids = sids + 16 };
	assert_int_equal(tw_sids_encode(&m, buf, sizeof(buf)), 48);
	tw_cli_event ev;
	assert_int_equal(tw_cli_feed(p.c, buf, 48, &ev), 48);
	assert_int_equal(ev.type, TW_CLI_EV_ERROR);
	assert_string_equal(ev.u.error.reason, "ack for a session not requested");
	pair_close(&p);

	/* ISC requests need ISC */
	pair_open(&p, TW_MODE_OPEN, 0);
	(void)pair_request(&p, 0, 0);
	assert_int_equal(tw_cli_start_n(p.c, 1, sids, buf, sizeof(buf)), -EPROTO);
	assert_int_equal(tw_cli_stop_n(p.c, 1, sids, buf, sizeof(buf)), -EPROTO);
	pair_close(&p);
}

static void test_limits_and_names(void **state)
{
	(void)state;
	pair p;
	uint8_t buf[256];
	pair_open(&p, TW_MODE_OPEN, 0);
	for (unsigned i = 0; i < MAXS; i++)
		(void)pair_request(&p, i, 0);
	tw_request req = request();
	assert_int_equal(tw_cli_request(p.c, &req, buf, sizeof(buf)), -ENOBUFS);
	pair_close(&p);
	assert_null(tw_cli_new(UINT32_MAX));
	tw_cli_free(NULL);
	for (int st = TW_CLI_WAIT_GREETING; st <= TW_CLI_CLOSED; st++)
		assert_string_not_equal(tw_cli_state_name((tw_cli_state)st), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conversations),
		cmocka_unit_test(test_setup_count),
		cmocka_unit_test(test_setup_modes),
		cmocka_unit_test(test_setup_arguments),
		cmocka_unit_test(test_greeting_modes_zero),
		cmocka_unit_test(test_mode_choose),
		cmocka_unit_test(test_server_start_refused),
		cmocka_unit_test(test_rejections_and_stop_count),
		cmocka_unit_test(test_tampered_server_messages),
		cmocka_unit_test(test_unexpected_input),
		cmocka_unit_test(test_isc),
		cmocka_unit_test(test_isc_ack_for_other_sid),
		cmocka_unit_test(test_limits_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
