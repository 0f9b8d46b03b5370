/* test_control.c - TWAMP-Control codecs against spec/vectors.md V4-V8, V13:
 * encode/decode of every message, lengths, command octets, MBZ handling,
 * tw_request_check and the Type-P encoding. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "control.h"
#include "hexvec.h"
#include "specvec.h"
#include "testutil.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void assert_request_equal(const tw_request *a, const tw_request *b)
{
	assert_int_equal(a->ipvn, b->ipvn);
	assert_int_equal(a->conf_sender, b->conf_sender);
	assert_int_equal(a->conf_receiver, b->conf_receiver);
	assert_int_equal(a->slots, b->slots);
	assert_int_equal(a->packets, b->packets);
	assert_int_equal(a->sender_port, b->sender_port);
	assert_int_equal(a->receiver_port, b->receiver_port);
	assert_memory_equal(a->sender_addr, b->sender_addr, 16);
	assert_memory_equal(a->receiver_addr, b->receiver_addr, 16);
	assert_memory_equal(a->sid, b->sid, 16);
	assert_int_equal(a->padding, b->padding);
	assert_true(a->start_time == b->start_time);
	assert_true(a->timeout == b->timeout);
	assert_int_equal(a->type_p, b->type_p);
	assert_int_equal(a->octets_reflected, b->octets_reflected);
	assert_int_equal(a->pad_reflect_len, b->pad_reflect_len);
	assert_memory_equal(a->hmac, b->hmac, 16);
}

static void assert_accept_equal(const tw_accept_session *a, const tw_accept_session *b)
{
	assert_int_equal(a->accept, b->accept);
	assert_int_equal(a->port, b->port);
	assert_memory_equal(a->sid, b->sid, 16);
	assert_int_equal(a->reflected_octets, b->reflected_octets);
	assert_int_equal(a->server_octets, b->server_octets);
	assert_memory_equal(a->hmac, b->hmac, 16);
}

/* ---- vectors: V4-V8 are TW_VEC_* of specvec.h ---- */

static const char V13_START_N[] = "07000000000000000000000000000001"
				  "c0000202e8fe6f8180000000deadbeef"
				  "07d0755c223a34050d4590b912f5176b";

/* ---- greeting ---- */

static void test_greeting_roundtrip(void **state)
{
	(void)state;
	tw_greeting g = { .modes = 0xf, .count = 2048 };
	tw_hexvec_exact("00112233445566778899aabbccddeeff", g.challenge, 16);
	tw_hexvec_exact("000102030405060708090a0b0c0d0e0f", g.salt, 16);
	uint8_t buf[TW_GREETING_LEN], want[TW_GREETING_LEN];
	tw_hexvec_exact("000000000000000000000000 0000000f"
	    "00112233445566778899aabbccddeeff 000102030405060708090a0b0c0d0e0f"
	    "00000800 000000000000000000000000",
	    want, sizeof(want));
	assert_int_equal(tw_greeting_encode(&g, buf, sizeof(buf)), TW_GREETING_LEN);
	assert_memory_equal(buf, want, sizeof(want));

	/* MBZ/Unused are ignored on receipt */
	memset(buf, 0xee, 12);
	memset(buf + 52, 0xee, 12);
	tw_greeting d;
	assert_int_equal(tw_greeting_decode(buf, sizeof(buf), &d), 0);
	assert_int_equal(d.modes, 0xf);
	assert_int_equal(d.count, 2048);
	assert_memory_equal(d.challenge, g.challenge, 16);
	assert_memory_equal(d.salt, g.salt, 16);
}

/* ---- Set-Up-Response (V4) ---- */

static void test_setup_v4(void **state)
{
	(void)state;
	tw_setup m = { .mode = TW_MODE_AUTH };
	memcpy(m.keyid, "alice", 5);
	tw_hexvec_exact(TW_VEC_V4_TOKEN, m.token, TW_TOKEN_LEN);
	tw_hexvec_exact("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", m.client_iv, 16);
	uint8_t buf[TW_SETUP_LEN], want[TW_SETUP_LEN];
	tw_hexvec_exact(TW_VEC_V4_SETUP, want, sizeof(want));
	assert_int_equal(tw_setup_encode(&m, buf, sizeof(buf)), TW_SETUP_LEN);
	assert_memory_equal(buf, want, sizeof(want));

	tw_setup d;
	assert_int_equal(tw_setup_decode(want, sizeof(want), &d), 0);
	assert_memory_equal(&d, &m, sizeof(m));
}

/* ---- Server-Start (V5 plaintext) ---- */

static void test_server_start_v5(void **state)
{
	(void)state;
	tw_server_start m = { .accept = 0, .start_time = 0xe8fe6f8000000000ULL };
	tw_hexvec_exact("b0b1b2b3b4b5b6b7b8b9babbbcbdbebf", m.server_iv, 16);
	uint8_t buf[TW_SERVER_START_LEN], want[TW_SERVER_START_LEN];
	tw_hexvec_exact(TW_VEC_V5_PLAIN, want, sizeof(want));
	assert_int_equal(tw_server_start_encode(&m, buf, sizeof(buf)), TW_SERVER_START_LEN);
	assert_memory_equal(buf, want, sizeof(want));

	memset(want, 0x5a, 15); /* MBZ */
	memset(want + 40, 0x5a, 8);
	want[15] = 5;
	tw_server_start d;
	assert_int_equal(tw_server_start_decode(want, sizeof(want), &d), 0);
	assert_int_equal(d.accept, 5);
	assert_true(d.start_time == 0xe8fe6f8000000000ULL);
	assert_memory_equal(d.server_iv, m.server_iv, 16);
}

/* ---- Request-TW-Session (V6) ---- */

static tw_request v6_request(void)
{
	tw_request m = { .ipvn = 4, .sender_port = 20000, .receiver_port = 20001, .padding = 27,
			 .timeout = 0x0000000200000000ULL, .type_p = 0x2E000000 };
	tw_hexvec_exact("c0000201", m.sender_addr, 4);
	tw_hexvec_exact("c0000202", m.receiver_addr, 4);
	return m;
}

static void test_request_v6(void **state)
{
	(void)state;
	tw_request m = v6_request();
	uint8_t buf[TW_REQUEST_LEN], want[TW_REQUEST_LEN];

	/* unauthenticated form: HMAC field zero */
	tw_hexvec_exact(TW_VEC_V6_PLAIN, want, sizeof(want));
	assert_int_equal(tw_request_encode(&m, buf, sizeof(buf)), TW_REQUEST_LEN);
	assert_memory_equal(buf, want, sizeof(want));

	/* keyed form: the HMAC travels as opaque octets */
	tw_hexvec_exact("5570aef0a7c4e4f28b2699e0bf95c0f2", m.hmac, 16);
	tw_hexvec_exact(TW_VEC_V6_HEAD TW_VEC_V6_MAC, want, sizeof(want));
	assert_int_equal(tw_request_encode(&m, buf, sizeof(buf)), TW_REQUEST_LEN);
	assert_memory_equal(buf, want, sizeof(want));

	tw_request d;
	assert_int_equal(tw_request_decode(want, sizeof(want), &d), 0);
	assert_request_equal(&d, &m);
	assert_int_equal(tw_type_p_dscp(d.type_p), 46);
}

static void test_request_mbz_ignored(void **state)
{
	(void)state;
	uint8_t buf[TW_REQUEST_LEN];
	tw_hexvec_exact(TW_VEC_V6_HEAD TW_VEC_V6_MAC, buf, sizeof(buf));
	buf[1] |= 0xA0; /* MBZ high nibble of the IPVN octet */
	memset(buf + 92, 0xff, 4);
	tw_request d;
	assert_int_equal(tw_request_decode(buf, sizeof(buf), &d), 0);
	assert_int_equal(d.ipvn, 4);
	assert_int_equal(d.padding, 27);
	assert_int_equal(tw_request_check(&d), TW_ACCEPT_OK);
}

/* ---- Accept-Session (V7 plaintext) ---- */

static void test_accept_v7(void **state)
{
	(void)state;
	tw_accept_session m = { .accept = 0, .port = 20001 };
	tw_hexvec_exact(TW_VEC_SID, m.sid, 16);
	tw_hexvec_exact("1804e01fd11d41e284daa5846e3a11e5", m.hmac, 16);
	uint8_t buf[TW_ACCEPT_LEN], want[TW_ACCEPT_LEN];
	tw_hexvec_exact(TW_VEC_V7_PLAIN, want, sizeof(want));
	assert_int_equal(tw_accept_encode(&m, buf, sizeof(buf)), TW_ACCEPT_LEN);
	assert_memory_equal(buf, want, sizeof(want));

	want[1] = 0x77; /* MBZ */
	memset(want + 24, 0x77, 8);
	tw_accept_session d;
	assert_int_equal(tw_accept_decode(want, sizeof(want), &d), 0);
	assert_accept_equal(&d, &m);

	/* RFC 6038 octets */
	m.reflected_octets = 0x1234;
	m.server_octets = 0xabcd;
	assert_int_equal(tw_accept_encode(&m, buf, sizeof(buf)), TW_ACCEPT_LEN);
	assert_int_equal(buf[20], 0x12);
	assert_int_equal(buf[23], 0xcd);
	assert_int_equal(tw_accept_decode(buf, sizeof(buf), &d), 0);
	assert_int_equal(d.reflected_octets, 0x1234);
	assert_int_equal(d.server_octets, 0xabcd);
}

/* ---- Start-Sessions, Start-Ack, Stop-Sessions (V8 plaintext) ---- */

static void test_start_v8(void **state)
{
	(void)state;
	uint8_t mac[16], buf[TW_START_LEN], want[TW_START_LEN], got[16];
	tw_hexvec_exact("5ef936e5535beabe97c6cf772265ddda", mac, 16);
	tw_hexvec_exact(TW_VEC_V8_START_PLAIN, want, sizeof(want));
	assert_int_equal(tw_start_encode(mac, buf, sizeof(buf)), TW_START_LEN);
	assert_memory_equal(buf, want, sizeof(want));
	want[7] = 0x42; /* MBZ */
	assert_int_equal(tw_start_decode(want, sizeof(want), got), 0);
	assert_memory_equal(got, mac, 16);
}

static void test_start_ack_v8(void **state)
{
	(void)state;
	tw_start_ack m = { .accept = 0 };
	tw_hexvec_exact("4d26f7d214596a974faec422f50ab2ee", m.hmac, 16);
	uint8_t buf[TW_START_ACK_LEN], want[TW_START_ACK_LEN];
	tw_hexvec_exact(TW_VEC_V8_ACK_PLAIN, want, sizeof(want));
	assert_int_equal(tw_start_ack_encode(&m, buf, sizeof(buf)), TW_START_ACK_LEN);
	assert_memory_equal(buf, want, sizeof(want));
	want[0] = 2;
	want[9] = 0x42; /* MBZ */
	tw_start_ack d;
	assert_int_equal(tw_start_ack_decode(want, sizeof(want), &d), 0);
	assert_int_equal(d.accept, 2);
	assert_memory_equal(d.hmac, m.hmac, 16);
}

static void test_stop_v8(void **state)
{
	(void)state;
	tw_stop m = { .accept = 0, .nsessions = 1 };
	tw_hexvec_exact("769097653d965731a56b4faaad92aee5", m.hmac, 16);
	uint8_t buf[TW_STOP_LEN], want[TW_STOP_LEN];
	tw_hexvec_exact(TW_VEC_V8_STOP_PLAIN, want, sizeof(want));
	assert_int_equal(tw_stop_encode(&m, buf, sizeof(buf)), TW_STOP_LEN);
	assert_memory_equal(buf, want, sizeof(want));
	want[1] = 3;
	want[2] = 0x11; /* MBZ */
	want[12] = 0x11; /* MBZ */
	tw_stop d;
	assert_int_equal(tw_stop_decode(want, sizeof(want), &d), 0);
	assert_int_equal(d.accept, 3);
	assert_int_equal(d.nsessions, 1);
	assert_memory_equal(d.hmac, m.hmac, 16);
}

/* ---- Start-N / Stop-N (V13) ---- */

static void test_start_n_v13(void **state)
{
	(void)state;
	uint8_t sid[16], want[48], buf[48];
	tw_hexvec_exact(TW_VEC_SID, sid, 16);
	tw_hexvec_exact(V13_START_N, want, sizeof(want));
	tw_sids_msg m = { .cmd = TW_CMD_START_N, .n = 1, .sids = sid };
	tw_hexvec_exact("07d0755c223a34050d4590b912f5176b", m.hmac, 16);
	assert_int_equal(tw_sids_encode(&m, buf, sizeof(buf)), 48);
	assert_memory_equal(buf, want, sizeof(want));

	tw_sids_msg d;
	want[1] = 9; /* MBZ in a request: not reported as Accept */
	assert_int_equal(tw_sids_decode(want, sizeof(want), &d), 0);
	assert_int_equal(d.cmd, TW_CMD_START_N);
	assert_int_equal(d.accept, 0);
	assert_int_equal(d.n, 1);
	assert_ptr_equal(d.sids, want + 16);
	assert_memory_equal(d.hmac, m.hmac, 16);
	assert_int_equal(tw_sids_msg_len(want, 4), 48);
	assert_int_equal(tw_client_msg_len(want, 4), 48);
}

static void test_sids_acks(void **state)
{
	(void)state;
	uint8_t sids[3 * 16], buf[80];
	for (size_t i = 0; i < sizeof(sids); i++)
		sids[i] = (uint8_t)i;
	tw_sids_msg m = { .cmd = TW_CMD_STOP_N_ACK, .accept = 5, .n = 3, .sids = sids };
	assert_int_equal(tw_sids_encode(&m, buf, sizeof(buf)), 80);
	assert_int_equal(buf[0], 10);
	assert_int_equal(buf[1], 5);
	assert_int_equal(buf[15], 3);
	tw_sids_msg d;
	assert_int_equal(tw_sids_decode(buf, 80, &d), 0);
	assert_int_equal(d.accept, 5);
	assert_int_equal(d.n, 3);
	assert_memory_equal(d.sids, sids, sizeof(sids));
	assert_int_equal(tw_sids_msg_len(buf, 3), 80);
	assert_int_equal(tw_sids_msg_len(buf, 2), -EMSGSIZE); /* N above max */
	/* an ack is not a client command */
	assert_true(tw_client_msg_len(buf, 3) < 0);

	/* errors */
	assert_int_equal(tw_sids_encode(&m, buf, 79), -ENOSPC);
	m.n = 0;
	assert_int_equal(tw_sids_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.n = 1;
	m.cmd = 5;
	assert_int_equal(tw_sids_encode(&m, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(tw_sids_decode(buf, 79, &d), -EMSGSIZE);
	assert_int_equal(tw_sids_decode(buf, 96, &d), -EMSGSIZE);
	assert_int_equal(tw_sids_decode(buf, 15, &d), -EMSGSIZE);
	buf[15] = 0; /* N = 0 */
	assert_int_equal(tw_sids_decode(buf, 32, &d), -EBADMSG);
	assert_int_equal(tw_sids_msg_len(buf, 3), -EMSGSIZE);
	buf[0] = 11;
	buf[15] = 1;
	assert_int_equal(tw_sids_decode(buf, 48, &d), -EBADMSG);
}

static void test_sids_huge_n(void **state)
{
	(void)state;
	uint8_t buf[48] = { TW_CMD_STOP_N };
	buf[12] = buf[13] = buf[14] = buf[15] = 0xff;
	tw_sids_msg d;
	assert_int_equal(tw_sids_decode(buf, sizeof(buf), &d), -EMSGSIZE);
	assert_int_equal(tw_sids_msg_len(buf, UINT32_MAX), (long)32 + 16L * 0xffffffffL);
	assert_int_equal(tw_sids_msg_len(buf, 1000), -EMSGSIZE);
}

/* ---- lengths and command octets, table-driven ---- */

typedef int (*decode_fn)(const uint8_t *, size_t, void *);

static int dec_greeting(const uint8_t *b, size_t l, void *m) { return tw_greeting_decode(b, l, m); }
static int dec_setup(const uint8_t *b, size_t l, void *m) { return tw_setup_decode(b, l, m); }
static int dec_sstart(const uint8_t *b, size_t l, void *m) { return tw_server_start_decode(b, l, m); }
static int dec_request(const uint8_t *b, size_t l, void *m) { return tw_request_decode(b, l, m); }
static int dec_accept(const uint8_t *b, size_t l, void *m) { return tw_accept_decode(b, l, m); }
static int dec_start(const uint8_t *b, size_t l, void *m) { return tw_start_decode(b, l, m); }
static int dec_start_ack(const uint8_t *b, size_t l, void *m) { return tw_start_ack_decode(b, l, m); }
static int dec_stop(const uint8_t *b, size_t l, void *m) { return tw_stop_decode(b, l, m); }

static const struct {
	const char *name;
	decode_fn fn;
	size_t len;
	int cmd; /* -1: no command octet */
} decoders[] = {
	{ "greeting", dec_greeting, TW_GREETING_LEN, -1 },
	{ "setup", dec_setup, TW_SETUP_LEN, -1 },
	{ "server-start", dec_sstart, TW_SERVER_START_LEN, -1 },
	{ "request", dec_request, TW_REQUEST_LEN, TW_CMD_REQUEST },
	{ "accept", dec_accept, TW_ACCEPT_LEN, -1 },
	{ "start", dec_start, TW_START_LEN, TW_CMD_START },
	{ "start-ack", dec_start_ack, TW_START_ACK_LEN, -1 },
	{ "stop", dec_stop, TW_STOP_LEN, TW_CMD_STOP },
};

static void test_wrong_lengths(void **state)
{
	(void)state;
	uint8_t buf[256] = { 0 };
	union {
		tw_greeting g;
		tw_setup s;
		tw_server_start ss;
		tw_request r;
		tw_accept_session a;
		uint8_t mac[16];
		tw_start_ack sa;
		tw_stop st;
	} m;
	for (size_t i = 0; i < ARRAY_LEN(decoders); i++) {
		size_t n = decoders[i].len;
		if (decoders[i].cmd >= 0)
			buf[0] = (uint8_t)decoders[i].cmd;
		else
			buf[0] = 0;
		assert_int_equal(decoders[i].fn(buf, n, &m), 0);
		assert_int_equal(decoders[i].fn(buf, n - 1, &m), -EMSGSIZE);
		assert_int_equal(decoders[i].fn(buf, n + 1, &m), -EMSGSIZE);
		assert_int_equal(decoders[i].fn(buf, 0, &m), -EMSGSIZE);
		if (decoders[i].cmd >= 0) {
			buf[0] = (uint8_t)(decoders[i].cmd + 1);
			assert_int_equal(decoders[i].fn(buf, n, &m), -EBADMSG);
		}
	}
}

static void test_encode_small_buffer(void **state)
{
	(void)state;
	uint8_t buf[256];
	tw_greeting g = { 0 };
	tw_setup s = { 0 };
	tw_server_start ss = { 0 };
	tw_request r = { 0 };
	tw_accept_session a = { 0 };
	tw_start_ack sa = { 0 };
	tw_stop st = { 0 };
	uint8_t mac[16] = { 0 };
	assert_int_equal(tw_greeting_encode(&g, buf, TW_GREETING_LEN - 1), -ENOSPC);
	assert_int_equal(tw_setup_encode(&s, buf, TW_SETUP_LEN - 1), -ENOSPC);
	assert_int_equal(tw_server_start_encode(&ss, buf, TW_SERVER_START_LEN - 1), -ENOSPC);
	assert_int_equal(tw_request_encode(&r, buf, TW_REQUEST_LEN - 1), -ENOSPC);
	assert_int_equal(tw_accept_encode(&a, buf, TW_ACCEPT_LEN - 1), -ENOSPC);
	assert_int_equal(tw_start_encode(mac, buf, TW_START_LEN - 1), -ENOSPC);
	assert_int_equal(tw_start_ack_encode(&sa, buf, TW_START_ACK_LEN - 1), -ENOSPC);
	assert_int_equal(tw_stop_encode(&st, buf, TW_STOP_LEN - 1), -ENOSPC);
	/* a larger buffer is fine: exactly the message length is written */
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(tw_stop_encode(&st, buf, sizeof(buf)), TW_STOP_LEN);
	assert_int_equal(buf[TW_STOP_LEN], 0xaa);
}

static void test_client_msg_len(void **state)
{
	(void)state;
	uint8_t b[16] = { 0 };
	static const struct {
		uint8_t cmd;
		long len;
	} t[] = {
		{ 0, -EBADMSG }, { 1, -EBADMSG }, { 2, 32 }, { 3, 32 }, { 4, -EBADMSG }, { 5, 112 },
		{ 6, -EBADMSG }, { 8, -EBADMSG }, { 10, -EBADMSG }, { 11, -EBADMSG }, { 255, -EBADMSG },
	};
	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		b[0] = t[i].cmd;
		assert_int_equal(tw_client_msg_len(b, 8), t[i].len);
	}
	b[0] = TW_CMD_STOP_N;
	b[15] = 2;
	assert_int_equal(tw_client_msg_len(b, 8), 64);
	b[15] = 0;
	assert_int_equal(tw_client_msg_len(b, 8), -EMSGSIZE);
}

/* ---- tw_request_check table ---- */

static void test_request_check(void **state)
{
	(void)state;
	static const struct {
		const char *what;
		int field;
		uint32_t value;
		unsigned expect;
	} t[] = {
		{ "valid", 0, 0, TW_ACCEPT_OK },
		{ "conf-sender", 1, 1, TW_ACCEPT_NOT_SUPPORTED },
		{ "conf-receiver", 2, 1, TW_ACCEPT_NOT_SUPPORTED },
		{ "slots", 3, 1, TW_ACCEPT_NOT_SUPPORTED },
		{ "packets", 4, 7, TW_ACCEPT_NOT_SUPPORTED },
		{ "ipvn 5", 5, 5, TW_ACCEPT_NOT_SUPPORTED },
		{ "ipvn 0", 5, 0, TW_ACCEPT_NOT_SUPPORTED },
		{ "ipvn 6", 5, 6, TW_ACCEPT_OK },
		{ "type-p PHB form", 6, 0x40000000, TW_ACCEPT_NOT_SUPPORTED },
		{ "type-p low bits", 6, 0x2E000001, TW_ACCEPT_NOT_SUPPORTED },
		{ "type-p TOS byte", 6, 0xB8000000, TW_ACCEPT_NOT_SUPPORTED },
		{ "type-p DSCP 63", 6, 0x3F000000, TW_ACCEPT_OK },
		{ "sid", 7, 1, TW_ACCEPT_NOT_SUPPORTED },
	};
	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		tw_request m = v6_request();
		switch (t[i].field) {
		case 1: m.conf_sender = (uint8_t)t[i].value; break;
		case 2: m.conf_receiver = (uint8_t)t[i].value; break;
		case 3: m.slots = t[i].value; break;
		case 4: m.packets = t[i].value; break;
		case 5: m.ipvn = (uint8_t)t[i].value; break;
		case 6: m.type_p = t[i].value; break;
		case 7: m.sid[15] = (uint8_t)t[i].value; break;
		default: break;
		}
		if (tw_request_check(&m) != t[i].expect)
			fail_msg("tw_request_check: %s", t[i].what);
	}
}

static void test_type_p(void **state)
{
	(void)state;
	assert_int_equal(tw_type_p_from_dscp(46), 0x2E000000u);
	assert_int_equal(tw_type_p_from_dscp(34), 0x22000000u);
	assert_int_equal(tw_type_p_from_dscp(8), 0x08000000u);
	assert_int_equal(tw_type_p_from_dscp(0), 0);
	assert_int_equal(tw_type_p_from_dscp(0x40 | 46), 0x2E000000u); /* masked to 6 bits */
	assert_int_equal(tw_type_p_dscp(0x2E000000u), 46);
	assert_int_equal(tw_type_p_dscp(0xB8000000u), 0x38); /* a TOS-style word is not EF */
}

static void test_modes_and_strings(void **state)
{
	(void)state;
	assert_int_equal(tw_mode_security(TW_MODE_AUTH | TW_MODE_ISC), TW_MODE_AUTH);
	assert_int_equal(tw_mode_security(TW_MODE_MIXED), TW_MODE_MIXED);
	assert_int_equal(tw_mode_security(TW_MODE_OPEN | TW_MODE_AUTH), 0);
	assert_int_equal(tw_mode_security(TW_MODE_ISC), 0);
	assert_int_equal(tw_mode_security(0), 0);
	assert_string_equal(tw_accept_str(0), "ok");
	assert_string_equal(tw_accept_str(1), "failure");
	assert_string_equal(tw_accept_str(3), "not supported");
	assert_string_equal(tw_accept_str(6), "no IKEv2 SA");
	assert_string_equal(tw_accept_str(200), "failure");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greeting_roundtrip),
		cmocka_unit_test(test_setup_v4),
		cmocka_unit_test(test_server_start_v5),
		cmocka_unit_test(test_request_v6),
		cmocka_unit_test(test_request_mbz_ignored),
		cmocka_unit_test(test_accept_v7),
		cmocka_unit_test(test_start_v8),
		cmocka_unit_test(test_start_ack_v8),
		cmocka_unit_test(test_stop_v8),
		cmocka_unit_test(test_start_n_v13),
		cmocka_unit_test(test_sids_acks),
		cmocka_unit_test(test_sids_huge_n),
		cmocka_unit_test(test_wrong_lengths),
		cmocka_unit_test(test_encode_small_buffer),
		cmocka_unit_test(test_client_msg_len),
		cmocka_unit_test(test_request_check),
		cmocka_unit_test(test_type_p),
		cmocka_unit_test(test_modes_and_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
