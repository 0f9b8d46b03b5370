/* test_light.c - the TWAMP Light and STAMP reflectors (agent/light.c) on a
 * real loop bound to 127.0.0.1:0 / [::1]:0, driven by raw UDP test
 * sockets that build their packets with proto/testpkt.h, stamp.h and
 * tlv.h. The loop is pumped in bounded steps; "no reply" is watched for
 * QUIET_NS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cases.h"
#include "crypto.h"
#include "errest.h"
#include "light.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "peer.h"
#include "pump.h"
#include "script.h"
#include "stamp.h"
#include "testpkt.h"
#include "tlv.h"
#include "wire.h"

#define MS 1000000LL
#define WAIT_NS TW_PUMP_WAIT_NS
#define QUIET_NS TW_PUMP_QUIET_NS
#define REFL_ERREST 0x8123u   /* S = 1, distinctive multiplier */
#define SENDER_ERREST 0x0456u

static const uint8_t aes_key[TW_AES_KEY_LEN] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
						 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f };
static const uint8_t hmac_key[TW_HMAC_KEY_LEN] = { 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
						   12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
						   23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
static const uint8_t stamp_key[] = "stamp-test-key-20";

/* ------------------------------------------------------------------ */
/* fixture: one loop, one reflector on host:0                          */

typedef struct fx {
	tw_loop *loop;
	tw_light *l;
	tw_light_stats st;
	tw_sockaddr addr;
	const char *host;
	uint16_t errest;
	bool deny;          /* the allow callback refuses everyone */
	int allow_calls;
	int observed;       /* processing-time hook calls */
	int64_t last_proc;
} fx;

static bool allow_cb(void *arg, const tw_sockaddr *peer)
{
	fx *f = arg;
	(void)peer;
	f->allow_calls++;
	return !f->deny;
}

static void observe(void *arg, int64_t ns)
{
	fx *f = arg;
	f->observed++;
	f->last_proc = ns;
}

static tw_light_params base_params(tw_light_proto proto)
{
	return (tw_light_params){ .proto = proto, .reply_dscp = -1, .allow_cos_dscp = true };
}

static void fx_start(fx *f, const char *host, const tw_light_params *in)
{
	tw_log_setup(TW_LOG_ERROR, TW_LOG_LOGFMT);
	memset(f, 0, sizeof(*f));
	f->host = host;
	f->errest = REFL_ERREST;
	f->loop = tw_loop_new(NULL);
	assert_non_null(f->loop);
	tw_sockaddr listen;
	assert_int_equal(tw_sa_from_numeric(host, 0, &listen), 0);
	tw_light_params p = *in;
	p.listen = &listen;
	p.nlisten = 1;
	p.errest = &f->errest;
	p.stats = &f->st;
	p.allow = allow_cb;
	p.allow_arg = f;
	f->st.observe_processing = observe;
	f->st.observe_arg = f;
	char err[256] = "";
	f->l = tw_light_new(f->loop, &p, err, sizeof(err));
	if (!f->l)
		fail_msg("tw_light_new: %s", err);
	assert_int_equal(tw_light_listen_addr(f->l, 0, &f->addr), 0);
	assert_int_not_equal(tw_sa_port(&f->addr), 0);
	assert_int_equal(tw_light_listen_addr(f->l, 1, &listen), -EINVAL);
}

static void fx_stop(fx *f)
{
	tw_light_free(f->l);
	assert_int_equal(f->st.senders, 0);
	tw_loop_free(f->loop);
}

/* fx_start with base_params(proto). */
static void fx_start_proto(fx *f, const char *host, tw_light_proto proto)
{
	tw_light_params p = base_params(proto);
	fx_start(f, host, &p);
}

/* ------------------------------------------------------------------ */
/* raw test sockets                                                     */

typedef tw_peer_udp sock;

static sock sock_open(const fx *f)
{
	return tw_peer_udp_open(f->host, 0);
}

static void send_tos(const fx *f, const sock *s, const uint8_t *pkt, size_t len, int tos)
{
	tw_peer_udp_send(s, &f->addr, pkt, len, tos);
}

/* Sends pkt and requires a reply (returns its length). */
static long exchange(fx *f, const sock *s, const uint8_t *pkt, size_t len, int tos, uint8_t *out, size_t cap,
		     tw_rx_meta *m)
{
	return tw_peer_udp_exchange(f->loop, s, &f->addr, pkt, len, tos, out, cap, m);
}

static bool silent(fx *f, const sock *s)
{
	return tw_peer_udp_silent(f->loop, s, QUIET_NS);
}

/* Closes the test socket s and stops the fixture. */
static void fx_close(fx *f, sock *s)
{
	close(s->fd);
	fx_stop(f);
}

/* The end of the keyed tests, after three good exchanges and three bad
 * packets: nothing answered them, two were dropped for their HMAC and
 * one as too short. Frees both contexts, closes s, stops the fixture. */
static void keyed_end(fx *f, sock *s, tw_test_crypto *c, tw_test_crypto *wrong)
{
	assert_true(silent(f, s));
	assert_int_equal(f->st.dropped[TW_LIGHT_DROP_AUTH], 2);
	assert_int_equal(f->st.dropped[TW_LIGHT_DROP_SHORT], 1);
	assert_int_equal(f->st.reflected, 3);
	tw_test_crypto_free(wrong);
	tw_test_crypto_free(c);
	fx_close(f, s);
}

/* fx_start_proto, then one test socket. */
static sock fx_open(fx *f, const char *host, tw_light_proto proto)
{
	fx_start_proto(f, host, proto);
	return sock_open(f);
}

/* A STAMP reflector on host that requires authentication with stamp_key;
 * returns a sender context with the same key (NULL when it cannot be
 * made). */
static tw_test_crypto *stamp_auth_start(fx *f, const char *host)
{
	tw_light_params p = base_params(TW_LIGHT_STAMP);
	p.sec = TW_TEST_AUTH;
	p.hmac_key = stamp_key;
	p.hmac_key_len = sizeof(stamp_key) - 1;
	fx_start(f, host, &p);
	return tw_test_crypto_new(NULL, stamp_key, sizeof(stamp_key) - 1, TW_MAC_HMAC_SHA256);
}

/* ---- packets ---- */

/* A TWAMP-Test sender packet in format fmt with padlen octets 0xA0 + i. */
static size_t twamp_pkt(const tw_test_fmt *fmt, tw_test_crypto *c, uint32_t seq, size_t padlen, uint8_t *out,
			size_t cap, tw_ts *t1)
{
	uint8_t pad[1024] = { 0 };
	for (size_t i = 0; i < padlen && i < sizeof(pad); i++)
		pad[i] = (uint8_t)(0xA0 + i);
	return tw_script_sender_packet(fmt, c, seq, pad, padlen, SENDER_ERREST, out, cap, t1);
}

static uint32_t light_seq(fx *f, const sock *s, uint32_t sender_seq)
{
	static const tw_test_fmt open = { .sec = TW_TEST_OPEN };
	uint8_t pkt[64], out[128];
	tw_ts t1;
	size_t len = twamp_pkt(&open, NULL, sender_seq, 0, pkt, sizeof(pkt), &t1);
	long n = exchange(f, s, pkt, len, -1, out, sizeof(out), NULL);
	tw_reflector_fields rf;
	assert_int_equal(tw_reflector_parse(&open, NULL, out, (size_t)n, &rf), 0);
	assert_int_equal(rf.sender_seq, sender_seq);
	assert_int_equal(rf.sender_ts, t1);
	return rf.seq;
}

/* A STAMP sender packet: base, then tlvs (tlv_len octets). */
static size_t stamp_pkt(tw_stamp_sec sec, tw_test_crypto *c, uint32_t seq, uint16_t ssid, const uint8_t *tlvs,
			size_t tlv_len, uint8_t *out, size_t cap, tw_ts *t1)
{
	int n = tw_stamp_sender_build(sec, seq, ssid, tlvs, tlv_len, out, cap);
	assert_true(n > 0);
	*t1 = tw_ts_from_unix_ns(tw_pump_real_ns());
	assert_int_equal(tw_stamp_sender_stamp(sec, c, out, (size_t)n, *t1, SENDER_ERREST), 0);
	return (size_t)n;
}

typedef struct stamp_out {
	long len;
	tw_stamp_reflector_fields f;
	tw_tlv_report rep;
	tw_rx_meta m;
	uint8_t buf[2048];
} stamp_out;

static void stamp_exchange(fx *f, const sock *s, tw_stamp_sec sec, tw_test_crypto *c, uint32_t seq, uint16_t ssid,
			   const uint8_t *tlvs, size_t tlv_len, int tos, stamp_out *o)
{
	uint8_t pkt[2048];
	tw_ts t1;
	size_t len = stamp_pkt(sec, c, seq, ssid, tlvs, tlv_len, pkt, sizeof(pkt), &t1);
	o->len = exchange(f, s, pkt, len, tos, o->buf, sizeof(o->buf), &o->m);
	assert_int_equal(o->len, (long)len); /* STAMP replies are symmetric */
	assert_int_equal(tw_stamp_reflector_parse(sec, c, o->buf, (size_t)o->len, &o->f), 0);
	assert_int_equal(o->f.sender_seq, seq);
	assert_int_equal(o->f.sender_ts, t1);
	assert_int_equal(o->f.sender_errest, SENDER_ERREST);
	assert_int_equal(o->f.errest, REFL_ERREST);
	assert_int_equal(o->f.ssid, ssid);
	assert_int_equal(tw_tlv_read_reflected(o->buf + o->f.tlv_off, o->f.tlv_len, c, o->f.seq, &o->rep), 0);
}

/* ------------------------------------------------------------------ */
/* TWAMP Light                                                          */

/* *state: the host (test_light_stateless_v4, _v6). */
static void test_light_stateless(void **state)
{
	const char *host = *state;
	fx f;
	tw_light_params p = base_params(TW_LIGHT_TWAMP);
	p.stateless = true;
	fx_start(&f, host, &p);
	sock a = sock_open(&f), b = sock_open(&f);
	static const uint32_t seqs[] = { 7, 100, 5, 0xFFFFFFFFu };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(light_seq(&f, &a, seqs[i]), seqs[i]);
	assert_int_equal(light_seq(&f, &b, 42), 42);
	assert_int_equal(f.st.received, 5);
	assert_int_equal(f.st.reflected, 5);
	assert_int_equal(f.st.senders, 0); /* nothing tracked */
	close(a.fd);
	close(b.fd);
	fx_stop(&f);
}

/* *state: the host (test_light_stateful_v4, _v6). */
static void test_light_stateful(void **state)
{
	const char *host = *state;
	fx f;
	fx_start_proto(&f, host, TW_LIGHT_TWAMP);
	sock a = sock_open(&f), b = sock_open(&f);
	assert_int_equal(light_seq(&f, &a, 100), 0);
	assert_int_equal(light_seq(&f, &a, 200), 1);
	assert_int_equal(light_seq(&f, &b, 100), 0); /* counted per address and port */
	assert_int_equal(light_seq(&f, &a, 300), 2);
	assert_int_equal(light_seq(&f, &b, 7), 1);
	assert_int_equal(f.st.senders, 2);
	assert_int_equal(f.st.reflected, 5);
	close(a.fd);
	close(b.fd);
	fx_stop(&f);
}

/* 14 -> 41, 41 -> 41, 78 -> 78 with the sender's padding in place; the
 * reflector header fields as RFC 5357 lays them out. */
static void test_light_lengths(void **state)
{
	(void)state;
	static const tw_test_fmt open = { .sec = TW_TEST_OPEN };
	static const struct { size_t pad, want; } cases[] = { { 0, 41 }, { 27, 41 }, { 64, 78 }, { 10, 41 } };
	fx f;
	sock s = fx_open(&f, "127.0.0.1", TW_LIGHT_TWAMP);
	for (size_t i = 0; i < 4; i++) {
		uint8_t pkt[128], out[256];
		tw_ts t1;
		size_t len = twamp_pkt(&open, NULL, (uint32_t)i, cases[i].pad, pkt, sizeof(pkt), &t1);
		int64_t before = tw_pump_real_ns();
		long n = exchange(&f, &s, pkt, len, -1, out, sizeof(out), NULL);
		assert_int_equal(n, (long)cases[i].want);
		tw_reflector_fields rf;
		assert_int_equal(tw_reflector_parse(&open, NULL, out, (size_t)n, &rf), 0);
		assert_int_equal(rf.sender_errest, SENDER_ERREST);
		assert_int_equal(rf.errest, REFL_ERREST);
		assert_int_equal(rf.sender_ttl, 255);
		int64_t t2 = tw_ts_to_unix_ns(rf.rx_ts), t3 = tw_ts_to_unix_ns(rf.ts);
		assert_true(t2 >= before - 5 * MS && t3 >= t2 && t3 - t2 < 1000 * MS);
		assert_int_equal(out[14], 0); /* MBZ */
		assert_int_equal(out[15], 0);
		/* the reply's padding is the start of the sender's padding */
		for (long k = 41; k < n; k++)
			assert_int_equal(out[k], (uint8_t)(0xA0 + (k - 41)));
	}
	assert_int_equal(f.observed, 4);
	assert_true(f.last_proc >= 0 && f.last_proc < 1000 * MS);
	/* shorter than a sender header: dropped as short */
	uint8_t tiny[13] = { 0 };
	send_tos(&f, &s, tiny, sizeof(tiny), -1);
	assert_true(silent(&f, &s));
	assert_int_equal(f.st.dropped[TW_LIGHT_DROP_SHORT], 1);
	assert_int_equal(f.st.received, 5);
	fx_close(&f, &s);
}

/* TTL 255 out, the received TTL reported, the DS byte copied (ECN
 * cleared) or the configured reply DSCP.
 * *state: the host (test_light_ttl_and_dscp_v4, _v6). */
static void test_light_ttl_and_dscp(void **state)
{
	const char *host = *state;
	static const tw_test_fmt open = { .sec = TW_TEST_OPEN };
	for (int configured = 0; configured < 2; configured++) {
		fx f;
		tw_light_params p = base_params(TW_LIGHT_TWAMP);
		p.reply_dscp = configured ? 10 : -1;
		fx_start(&f, host, &p);
		sock s = sock_open(&f);
		static const int tos[] = { 0xB8, 0xB9, 0x00, 0x28 };
		for (size_t i = 0; i < 4; i++) {
			uint8_t pkt[64], out[128];
			tw_ts t1;
			tw_rx_meta m;
			size_t len = twamp_pkt(&open, NULL, 1, 27, pkt, sizeof(pkt), &t1);
			long n = exchange(&f, &s, pkt, len, tos[i], out, sizeof(out), &m);
			assert_int_equal(n, 41);
			assert_int_equal(m.ttl, 255);
			assert_int_equal(m.tos, configured ? 10 << 2 : (tos[i] & 0xFC));
			assert_int_equal(out[40], 255); /* Sender TTL */
		}
		/* a sender TTL of 64 is reported as received */
		assert_int_equal(tw_net_set_ttl(s.fd, tw_sa_family(&s.local), 64), 0);
		uint8_t pkt[64], out[128];
		tw_ts t1;
		size_t len = twamp_pkt(&open, NULL, 2, 27, pkt, sizeof(pkt), &t1);
		exchange(&f, &s, pkt, len, -1, out, sizeof(out), NULL);
		assert_int_equal(out[40], 64);
		fx_close(&f, &s);
	}
}

static void test_light_allow_drops(void **state)
{
	(void)state;
	fx f;
	sock s = fx_open(&f, "127.0.0.1", TW_LIGHT_TWAMP);
	assert_int_equal(light_seq(&f, &s, 1), 0);
	f.deny = true;
	uint8_t pkt[64];
	tw_ts t1;
	static const tw_test_fmt open = { .sec = TW_TEST_OPEN };
	size_t len = twamp_pkt(&open, NULL, 2, 27, pkt, sizeof(pkt), &t1);
	send_tos(&f, &s, pkt, len, -1);
	send_tos(&f, &s, pkt, len, -1);
	assert_true(silent(&f, &s));
	assert_int_equal(f.st.dropped[TW_LIGHT_DROP_NOT_ALLOWED], 2);
	assert_int_equal(f.st.received, 3);
	assert_int_equal(f.st.reflected, 1);
	assert_int_equal(f.allow_calls, 3);
	f.deny = false;
	assert_int_equal(light_seq(&f, &s, 3), 1); /* refused packets were not counted */
	fx_close(&f, &s);
}

static void test_light_sender_cap(void **state)
{
	(void)state;
	fx f;
	tw_light_params p = base_params(TW_LIGHT_TWAMP);
	p.max_senders = 2;
	fx_start(&f, "127.0.0.1", &p);
	sock a = sock_open(&f), b = sock_open(&f), c = sock_open(&f);
	assert_int_equal(light_seq(&f, &a, 9), 0);
	assert_int_equal(light_seq(&f, &b, 9), 0);
	uint8_t pkt[64];
	tw_ts t1;
	static const tw_test_fmt open = { .sec = TW_TEST_OPEN };
	size_t len = twamp_pkt(&open, NULL, 9, 27, pkt, sizeof(pkt), &t1);
	send_tos(&f, &c, pkt, len, -1);
	assert_true(silent(&f, &c));
	assert_int_equal(f.st.dropped[TW_LIGHT_DROP_SENDER_LIMIT], 1);
	assert_int_equal(f.st.senders, 2);
	assert_int_equal(light_seq(&f, &a, 10), 1); /* the tracked ones go on */
	assert_int_equal(light_seq(&f, &b, 10), 1);
	close(a.fd);
	close(b.fd);
	close(c.fd);
	fx_stop(&f);
}

static bool no_senders(void *arg)
{
	return ((fx *)arg)->st.senders == 0;
}

/* A sender silent longer than sender_idle starts over at 0; the sweep
 * forgets it, and an expired slot is reused when the table is full. */
static void test_light_idle_expiry(void **state)
{
	(void)state;
	fx f;
	tw_light_params p = base_params(TW_LIGHT_TWAMP);
	p.sender_idle_ns = 100 * MS;
	p.max_senders = 1;
	fx_start(&f, "127.0.0.1", &p);
	sock a = sock_open(&f), b = sock_open(&f);
	assert_int_equal(light_seq(&f, &a, 5), 0);
	assert_int_equal(light_seq(&f, &a, 6), 1);
	assert_int_equal(f.st.senders, 1);
	assert_true(tw_pump_until(f.loop, no_senders, &f, WAIT_NS)); /* the sweep */
	assert_int_equal(light_seq(&f, &a, 7), 0);
	/* full table: b waits until a has been idle long enough */
	uint8_t pkt[64];
	tw_ts t1;
	static const tw_test_fmt open = { .sec = TW_TEST_OPEN };
	size_t len = twamp_pkt(&open, NULL, 1, 27, pkt, sizeof(pkt), &t1);
	send_tos(&f, &b, pkt, len, -1);
	assert_true(silent(&f, &b));
	assert_int_equal(f.st.dropped[TW_LIGHT_DROP_SENDER_LIMIT], 1);
	int64_t until = tw_pump_mono_ns() + 120 * MS;
	tw_pump_for(f.loop, until - tw_pump_mono_ns());
	assert_int_equal(light_seq(&f, &b, 2), 0);
	close(a.fd);
	close(b.fd);
	fx_stop(&f);
}

typedef struct keyed_case {
	tw_test_sec sec;
	const char *host;
} keyed_case;

/* *state: a keyed_case (test_light_authenticated, _encrypted, _encrypted_v6). */
static void test_light_keyed(void **state)
{
	const keyed_case *row = *state;
	tw_test_sec sec = row->sec;
	const char *host = row->host;
	fx f;
	tw_light_params p = base_params(TW_LIGHT_TWAMP);
	p.sec = sec;
	p.aes_key = aes_key;
	p.hmac_key = hmac_key;
	p.hmac_key_len = sizeof(hmac_key);
	fx_start(&f, host, &p);
	tw_test_fmt fmt = { .sec = sec };
	tw_test_crypto *c = tw_test_crypto_new(aes_key, hmac_key, sizeof(hmac_key), TW_MAC_HMAC_SHA1);
	assert_non_null(c);
	sock s = sock_open(&f);
	for (uint32_t i = 0; i < 3; i++) {
		uint8_t pkt[256], out[256];
		tw_ts t1;
		size_t len = twamp_pkt(&fmt, c, 50 + i, 64, pkt, sizeof(pkt), &t1);
		long n = exchange(&f, &s, pkt, len, -1, out, sizeof(out), NULL);
		assert_int_equal(n, 112);
		tw_reflector_fields rf;
		assert_int_equal(tw_reflector_parse(&fmt, c, out, (size_t)n, &rf), 0);
		assert_int_equal(rf.seq, i);
		assert_int_equal(rf.sender_seq, 50 + i);
		assert_int_equal(rf.sender_ts, t1);
	}
	/* a wrong HMAC, then a sender with another key: dropped as auth */
	uint8_t pkt[256];
	tw_ts t1;
	size_t len = twamp_pkt(&fmt, c, 60, 64, pkt, sizeof(pkt), &t1);
	pkt[40] ^= 0x01;
	send_tos(&f, &s, pkt, len, -1);
	uint8_t other_hmac[TW_HMAC_KEY_LEN];
	memcpy(other_hmac, hmac_key, sizeof(other_hmac));
	other_hmac[0] ^= 0xFF;
	tw_test_crypto *wrong = tw_test_crypto_new(aes_key, other_hmac, sizeof(other_hmac), TW_MAC_HMAC_SHA1);
	len = twamp_pkt(&fmt, wrong, 61, 64, pkt, sizeof(pkt), &t1);
	send_tos(&f, &s, pkt, len, -1);
	/* an unauthenticated packet is too short for a keyed reflector */
	static const tw_test_fmt open = { .sec = TW_TEST_OPEN };
	len = twamp_pkt(&open, NULL, 62, 0, pkt, sizeof(pkt), &t1);
	send_tos(&f, &s, pkt, len, -1);
	keyed_end(&f, &s, c, wrong);
}

static void test_light_keyed_without_keys(void **state)
{
	(void)state;
	tw_loop *loop = tw_loop_new(NULL);
	tw_sockaddr listen;
	tw_light_stats st = { 0 };
	uint16_t e = REFL_ERREST;
	assert_int_equal(tw_sa_from_numeric("127.0.0.1", 0, &listen), 0);
	tw_light_params p = base_params(TW_LIGHT_TWAMP);
	p.listen = &listen;
	p.nlisten = 1;
	p.errest = &e;
	p.stats = &st;
	p.sec = TW_TEST_AUTH;
	p.hmac_key = hmac_key;
	p.hmac_key_len = sizeof(hmac_key);
	char err[128] = "";
	assert_null(tw_light_new(loop, &p, err, sizeof(err))); /* no AES key */
	assert_true(strstr(err, "keys") != NULL);
	tw_light_free(NULL);
	tw_loop_free(loop);
}

/* ------------------------------------------------------------------ */
/* STAMP                                                                */

/* A host and whether the reflector is stateless. */
typedef struct host_mode {
	const char *host;
	bool stateless;
} host_mode;

/* *state: a host_mode (test_stamp_stateful_v4 ... test_stamp_stateless_v6). */
static void test_stamp_open(void **state)
{
	const host_mode *row = *state;
	const char *host = row->host;
	bool stateless = row->stateless;
	fx f;
	tw_light_params p = base_params(TW_LIGHT_STAMP);
	p.stateless = stateless;
	fx_start(&f, host, &p);
	sock s = sock_open(&f), t = sock_open(&f);
	stamp_out o;
	/* per SSID counters on one address/port; SSID 0 is a session too */
	static const struct { uint16_t ssid; uint32_t seq, want; } steps[] = {
		{ 1, 40, 0 }, { 1, 41, 1 }, { 2, 40, 0 }, { 1, 42, 2 }, { 0, 9, 0 }, { 2, 43, 1 },
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		stamp_exchange(&f, &s, TW_STAMP_OPEN, NULL, steps[i].seq, steps[i].ssid, NULL, 0, -1, &o);
		assert_int_equal(o.len, 44);
		assert_int_equal(o.f.seq, stateless ? steps[i].seq : steps[i].want);
		assert_int_equal(o.f.sender_ttl, 255);
		assert_int_equal(o.m.ttl, 255);
		for (int k = 41; k < 44; k++)
			assert_int_equal(o.buf[k], 0);
	}
	/* another port with the same SSID is another session */
	stamp_exchange(&f, &t, TW_STAMP_OPEN, NULL, 77, 1, NULL, 0, -1, &o);
	assert_int_equal(o.f.seq, stateless ? 77 : 0);
	assert_int_equal(f.st.senders, stateless ? 0 : 4);
	assert_int_equal(f.st.reflected, 7);
	close(s.fd);
	close(t.fd);
	fx_stop(&f);
}

/* *state: the host (test_stamp_authenticated_v4, _v6). */
static void test_stamp_authenticated(void **state)
{
	const char *host = *state;
	fx f;
	tw_test_crypto *c = stamp_auth_start(&f, host);
	assert_non_null(c);
	sock s = sock_open(&f);
	stamp_out o;
	for (uint32_t i = 0; i < 3; i++) {
		stamp_exchange(&f, &s, TW_STAMP_AUTH, c, 900 + i, 0x1234, NULL, 0, -1, &o);
		assert_int_equal(o.len, 112);
		assert_int_equal(o.f.seq, i);
		assert_int_equal(tw_get_u16(o.buf + 26), 0x1234); /* SSID at 26-27 */
	}
	/* the reply's HMAC covers octets 0-95: flipping one fails the parse */
	tw_stamp_reflector_fields rf;
	o.buf[30] ^= 1;
	assert_int_equal(tw_stamp_reflector_parse(TW_STAMP_AUTH, c, o.buf, 112, &rf), -EBADMSG);
	/* wrong HMAC, wrong key, too short for authenticated mode */
	uint8_t pkt[256];
	tw_ts t1;
	size_t len = stamp_pkt(TW_STAMP_AUTH, c, 5, 1, NULL, 0, pkt, sizeof(pkt), &t1);
	pkt[100] ^= 0x80;
	send_tos(&f, &s, pkt, len, -1);
	tw_test_crypto *wrong = tw_test_crypto_new(NULL, (const uint8_t *)"another-key", 11, TW_MAC_HMAC_SHA256);
	len = stamp_pkt(TW_STAMP_AUTH, wrong, 6, 1, NULL, 0, pkt, sizeof(pkt), &t1);
	send_tos(&f, &s, pkt, len, -1);
	len = stamp_pkt(TW_STAMP_OPEN, NULL, 7, 1, NULL, 0, pkt, sizeof(pkt), &t1);
	send_tos(&f, &s, pkt, len, -1);
	keyed_end(&f, &s, c, wrong);
}

/* A STAMP port answers TWAMP Light senders: 14 octets -> the 44-octet
 * base whose first 41 octets are the TWAMP reflector layout; 41 -> 44;
 * longer ones symmetric. */
static void test_stamp_answers_light(void **state)
{
	(void)state;
	static const tw_test_fmt open = { .sec = TW_TEST_OPEN };
	static const struct { size_t pad, want; } cases[] = { { 0, 44 }, { 27, 44 }, { 64, 78 } };
	fx f;
	sock s = fx_open(&f, "127.0.0.1", TW_LIGHT_STAMP);
	for (uint32_t i = 0; i < 3; i++) {
		uint8_t pkt[128], out[256];
		tw_ts t1;
		size_t len = twamp_pkt(&open, NULL, 70 + i, cases[i].pad, pkt, sizeof(pkt), &t1);
		long n = exchange(&f, &s, pkt, len, -1, out, sizeof(out), NULL);
		assert_int_equal(n, (long)cases[i].want);
		tw_reflector_fields rf;
		assert_int_equal(tw_reflector_parse(&open, NULL, out, (size_t)n, &rf), 0);
		assert_int_equal(rf.seq, i);
		assert_int_equal(rf.sender_seq, 70 + i);
		assert_int_equal(rf.sender_ts, t1);
		assert_int_equal(rf.sender_ttl, 255);
		if (n == 44)
			assert_int_equal(tw_get_u16(out + 14), 0); /* SSID 0 / MBZ */
		/* a padded Light packet's padding comes back untouched */
		for (long k = 44; k < n; k++)
			assert_int_equal(out[k], (uint8_t)(0xA0 + (k - 14)));
	}
	fx_close(&f, &s);
}

/* A TWAMP Light sender with pseudo-random padding past 44 octets puts
 * random octets where STAMP has its SSID: it is still one session (its
 * own counter), and it cannot fill the sender table. */
static void test_stamp_light_random_padding(void **state)
{
	(void)state;
	static const tw_test_fmt open = { .sec = TW_TEST_OPEN };
	fx f;
	tw_light_params p = base_params(TW_LIGHT_STAMP);
	p.max_senders = 4;
	fx_start(&f, "127.0.0.1", &p);
	sock s = sock_open(&f), t = sock_open(&f);
	uint32_t x = 99;
	for (uint32_t i = 0; i < 40; i++) {
		uint8_t pad[64], pkt[128], out[256];
		for (size_t k = 0; k < sizeof(pad); k++) {
			x = x * 1103515245u + 12345u;
			pad[k] = (uint8_t)(x >> 16) | 1; /* never all zero */
		}
		int len = tw_sender_build(&open, NULL, 500 + i, pad, sizeof(pad), pkt, sizeof(pkt));
		assert_int_equal(len, 78);
		tw_ts t1 = tw_ts_from_unix_ns(tw_pump_real_ns());
		assert_int_equal(tw_sender_stamp(&open, NULL, pkt, 78, t1, SENDER_ERREST), 0);
		long n = exchange(&f, &s, pkt, 78, -1, out, sizeof(out), NULL);
		assert_int_equal(n, 78);
		tw_reflector_fields rf;
		assert_int_equal(tw_reflector_parse(&open, NULL, out, 78, &rf), 0);
		assert_int_equal(rf.seq, i);
		assert_int_equal(rf.sender_seq, 500 + i);
		assert_memory_equal(out + 44, pkt + 44, 78 - 44);
	}
	assert_int_equal(f.st.senders, 1);
	assert_int_equal(f.st.dropped[TW_LIGHT_DROP_SENDER_LIMIT], 0);
	assert_int_equal(f.st.tlv_malformed, 0);
	/* a STAMP sender still gets in */
	stamp_out o;
	stamp_exchange(&f, &t, TW_STAMP_OPEN, NULL, 1, 77, NULL, 0, -1, &o);
	assert_int_equal(o.f.seq, 0);
	assert_int_equal(f.st.senders, 2);
	close(s.fd);
	close(t.fd);
	fx_stop(&f);
}

/* ---- TLVs ---- */

static size_t tlvs_of(unsigned which, uint8_t dscp1, uint32_t s_txc, uint8_t *area, size_t cap)
{
	tw_wr w = tw_wr_make(area, cap);
	if (which & 1)
		assert_int_equal(tw_tlv_put_cos(&w, dscp1), 0);
	if (which & 2)
		assert_int_equal(tw_tlv_put_location_request(&w, TW_LOC_REQ_DST_IP | TW_LOC_REQ_SRC_IP), 0);
	if (which & 4)
		assert_int_equal(tw_tlv_put_direct_measurement(&w, s_txc), 0);
	if (which & 8)
		assert_int_equal(tw_tlv_put_follow_up(&w), 0);
	if (which & 16)
		assert_int_equal(tw_tlv_put_timestamp_info(&w), 0);
	return tw_wr_len(&w);
}

enum { T_COS = 1, T_LOC = 2, T_DM = 4, T_FU = 8, T_TS = 16, T_ALL = 31 };

/* Class of Service: DSCP1 applied when policy allows (reply DS byte =
 * DSCP1), otherwise the received DSCP and RP = 1; DSCP2/ECN = received.
 * *state: the host (test_stamp_cos_v4, _v6). */
static void test_stamp_cos(void **state)
{
	const char *host = *state;
	for (int allow = 0; allow < 2; allow++) {
		fx f;
		tw_light_params p = base_params(TW_LIGHT_STAMP);
		p.allow_cos_dscp = allow;
		fx_start(&f, host, &p);
		sock s = sock_open(&f);
		uint8_t area[64];
		size_t n = tlvs_of(T_COS, 46, 0, area, sizeof(area));
		stamp_out o;
		stamp_exchange(&f, &s, TW_STAMP_OPEN, NULL, 1, 9, area, n, 10 << 2 | 1, &o);
		assert_int_equal(o.len, 44 + 8);
		assert_true(o.rep.seen & (1u << TW_TLV_COS));
		assert_int_equal(o.rep.cos.dscp1, 46);
		assert_int_equal(o.rep.cos.dscp2, 10);
		assert_int_equal(o.rep.cos.ecn, 1);
		assert_int_equal(o.rep.cos.rp, allow ? 0 : 1);
		assert_int_equal(o.m.tos >> 2, allow ? 46 : 10);
		assert_int_equal(o.m.tos & 3, 0);
		assert_int_equal(o.buf[44] & TW_TLV_FLAG_U, 0);
		fx_close(&f, &s);
	}
}

/* *state: a host_mode (test_stamp_tlvs_stateful_v4, _v6, test_stamp_tlvs_stateless). */
static void test_stamp_tlvs(void **state)
{
	const host_mode *row = *state;
	const char *host = row->host;
	bool stateless = row->stateless;
	fx f;
	tw_light_params p = base_params(TW_LIGHT_STAMP);
	p.stateless = stateless;
	fx_start(&f, host, &p);
	sock s = sock_open(&f);
	uint8_t area[256];
	stamp_out prev = { .len = 0 };
	for (uint32_t i = 0; i < 3; i++) {
		size_t n = tlvs_of(T_ALL, 0, 100 + i, area, sizeof(area));
		stamp_out o;
		stamp_exchange(&f, &s, TW_STAMP_OPEN, NULL, 10 + i, 3, area, n, -1, &o);
		assert_int_equal(o.rep.seen, 1u << TW_TLV_COS | 1u << TW_TLV_LOCATION | 1u << TW_TLV_DIRECT_MEASUREMENT |
						     1u << TW_TLV_FOLLOW_UP | 1u << TW_TLV_TIMESTAMP_INFO);
		assert_int_equal(o.rep.unrecognized, 0);
		assert_false(o.rep.malformed);
		/* Location: the addresses and ports the reflector saw */
		const tw_tlv_location *loc = &o.rep.location;
		assert_int_equal(loc->src_port, tw_sa_port(&s.local));
		assert_int_equal(loc->dst_port, tw_sa_port(&f.addr));
		uint8_t ipvn, want[16];
		tw_sa_to_wire(&s.local, &ipvn, want);
		assert_int_equal(loc->src.family, ipvn);
		assert_memory_equal(loc->src.octets, want, ipvn == 4 ? 4 : 16);
		tw_sa_to_wire(&f.addr, &ipvn, want);
		assert_int_equal(loc->dst.family, ipvn);
		assert_memory_equal(loc->dst.octets, want, ipvn == 4 ? 4 : 16);
		/* Timestamp Information: synchronised clock (S = 1), software */
		assert_int_equal(o.rep.tsinfo.sync_in, TW_SYNC_NTP);
		assert_int_equal(o.rep.tsinfo.method_out, TW_TSMETHOD_SW);
		assert_true(o.rep.tsinfo.method_in == TW_TSMETHOD_SW || o.rep.tsinfo.method_in == TW_TSMETHOD_CONTROL_PLANE);
		/* Direct Measurement */
		assert_int_equal(o.rep.dm.s_txc, 100 + i);
		assert_int_equal(o.rep.dm.r_rxc, stateless ? 0 : i + 1);
		assert_int_equal(o.rep.dm.r_txc, stateless ? 0 : i + 1);
		/* Follow-Up: the previous reply's seq and timestamp (stateful) */
		if (stateless || i == 0) {
			assert_int_equal(o.rep.follow_up.seq, 0);
			assert_int_equal(o.rep.follow_up.ts, 0);
		} else {
			assert_int_equal(o.rep.follow_up.seq, prev.f.seq);
			assert_int_equal(o.rep.follow_up.ts, prev.f.ts);
			assert_int_not_equal(o.rep.follow_up.mode, 0);
		}
		assert_int_equal(o.f.seq, stateless ? 10 + i : i);
		prev = o;
	}
	assert_int_equal(f.st.tlv_malformed, 0);
	fx_close(&f, &s);
}

/* Authenticated STAMP with TLVs: the HMAC TLV verifies and is recomputed;
 * a bad one sets I on every TLV and is counted. */
static void test_stamp_auth_tlvs(void **state)
{
	(void)state;
	fx f;
	tw_test_crypto *c = stamp_auth_start(&f, "127.0.0.1");
	sock s = sock_open(&f);
	for (int bad = 0; bad < 2; bad++) {
		uint8_t area[256];
		tw_wr w = tw_wr_make(area, sizeof(area));
		assert_int_equal(tw_tlv_put_cos(&w, 0), 0);
		assert_int_equal(tw_tlv_put_direct_measurement(&w, 1), 0);
		size_t covered = tw_wr_len(&w);
		assert_int_equal(tw_tlv_put_hmac(&w, c, 20, area, covered), 0);
		if (bad)
			area[covered + 4] ^= 1;
		uint8_t pkt[512], out[512];
		tw_ts t1;
		size_t len = stamp_pkt(TW_STAMP_AUTH, c, 20, 5, area, tw_wr_len(&w), pkt, sizeof(pkt), &t1);
		long n = exchange(&f, &s, pkt, len, -1, out, sizeof(out), NULL);
		assert_int_equal(n, (long)len);
		tw_stamp_reflector_fields rf;
		assert_int_equal(tw_stamp_reflector_parse(TW_STAMP_AUTH, c, out, (size_t)n, &rf), 0);
		tw_tlv_report rep;
		assert_int_equal(tw_tlv_read_reflected(out + rf.tlv_off, rf.tlv_len, c, rf.seq, &rep), 0);
		if (!bad) {
			assert_false(rep.integrity_failed);
			assert_true(rep.seen & (1u << TW_TLV_COS));
			assert_int_equal(rep.dm.r_rxc, 1);
		} else {
			assert_true(rep.integrity_failed);
			assert_true(out[112] & TW_TLV_FLAG_I);
			assert_int_equal(f.st.tlv_integrity_failed, 1);
		}
	}
	tw_test_crypto_free(c);
	fx_close(&f, &s);
}

/* Malformed and unknown TLVs: M on the bad TLV, U kept on unknown types,
 * the rest copied; never a crash, always a symmetric reply. */
static void test_stamp_malformed_tlvs(void **state)
{
	(void)state;
	fx f;
	sock s = fx_open(&f, "127.0.0.1", TW_LIGHT_STAMP);
	uint8_t area[64];
	stamp_out o;
	/* a known TLV, then one whose Length runs past the end */
	tw_wr w = tw_wr_make(area, sizeof(area));
	assert_int_equal(tw_tlv_put_cos(&w, 0), 0);
	tw_wr_u8(&w, TW_TLV_FLAG_U);
	tw_wr_u8(&w, TW_TLV_DIRECT_MEASUREMENT);
	tw_wr_u16(&w, 40);
	tw_wr_zero(&w, 12);
	stamp_exchange(&f, &s, TW_STAMP_OPEN, NULL, 1, 1, area, tw_wr_len(&w), -1, &o);
	assert_int_equal(o.buf[44] & (TW_TLV_FLAG_U | TW_TLV_FLAG_M), 0);
	assert_true(o.buf[52] & TW_TLV_FLAG_M);
	assert_memory_equal(o.buf + 53, area + 9, tw_wr_len(&w) - 9);
	assert_true(o.rep.malformed);
	assert_int_equal(f.st.tlv_malformed, 1);
	/* a wrong fixed length (CoS with 3 octets) */
	w = tw_wr_make(area, sizeof(area));
	assert_int_equal(tw_tlv_put_raw(&w, TW_TLV_FLAG_U, TW_TLV_COS, (const uint8_t *)"abc", 3), 0);
	stamp_exchange(&f, &s, TW_STAMP_OPEN, NULL, 2, 1, area, tw_wr_len(&w), -1, &o);
	assert_true(o.buf[44] & TW_TLV_FLAG_M);
	assert_int_equal(f.st.tlv_malformed, 2);
	/* an unknown type keeps U and its value; 3 trailing octets stay */
	w = tw_wr_make(area, sizeof(area));
	assert_int_equal(tw_tlv_put_raw(&w, TW_TLV_FLAG_U, 200, (const uint8_t *)"wxyz", 4), 0);
	tw_wr_copy(&w, "\x01\x02\x03", 3);
	stamp_exchange(&f, &s, TW_STAMP_OPEN, NULL, 3, 1, area, tw_wr_len(&w), -1, &o);
	assert_true(o.buf[44] & TW_TLV_FLAG_U);
	assert_memory_equal(o.buf + 48, "wxyz", 4);
	assert_memory_equal(o.buf + 52, "\x01\x02\x03", 3);
	assert_int_equal(o.rep.unrecognized, 1);
	/* deterministic garbage after the base: every packet answered in kind */
	uint32_t x = 0x12345678u;
	for (int i = 0; i < 200; i++) {
		size_t len = 1 + (size_t)(i % 60);
		for (size_t k = 0; k < len; k++) {
			x = x * 1103515245u + 12345u;
			area[k] = (uint8_t)(x >> 16);
		}
		stamp_exchange(&f, &s, TW_STAMP_OPEN, NULL, 100 + (uint32_t)i, 1, area, len, -1, &o);
	}
	assert_int_equal(f.st.reflected, 203);
	assert_int_equal(f.observed, 203);
	fx_close(&f, &s);
}

/* Truncated datagrams (beyond the receive buffer) and empty ones. */
static void test_stamp_short_and_huge(void **state)
{
	(void)state;
	fx f;
	sock s = fx_open(&f, "127.0.0.1", TW_LIGHT_STAMP);
	static uint8_t big[9300];
	send_tos(&f, &s, big, sizeof(big), -1);
	send_tos(&f, &s, big, 13, -1);
	send_tos(&f, &s, big, 0, -1);
	assert_true(silent(&f, &s));
	assert_int_equal(f.st.dropped[TW_LIGHT_DROP_TRUNCATED], 1);
	assert_int_equal(f.st.dropped[TW_LIGHT_DROP_SHORT], 2);
	assert_int_equal(f.st.received, 3);
	/* the largest packet that fits is answered in full */
	uint8_t pkt[9216];
	tw_ts t1;
	size_t len = stamp_pkt(TW_STAMP_OPEN, NULL, 1, 1, NULL, 0, pkt, sizeof(pkt), &t1);
	memset(pkt + len, 0x5A, sizeof(pkt) - len);
	static uint8_t out[9300];
	long n = exchange(&f, &s, pkt, sizeof(pkt), -1, out, sizeof(out), NULL);
	assert_int_equal(n, 9216);
	assert_int_equal(out[9215], 0x5A);
	fx_close(&f, &s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TW_CASE("test_light_stateless_v4", test_light_stateless, "127.0.0.1"),
		TW_CASE("test_light_stateless_v6", test_light_stateless, "::1"),
		TW_CASE("test_light_stateful_v4", test_light_stateful, "127.0.0.1"),
		TW_CASE("test_light_stateful_v6", test_light_stateful, "::1"),
		cmocka_unit_test(test_light_lengths),
		TW_CASE("test_light_ttl_and_dscp_v4", test_light_ttl_and_dscp, "127.0.0.1"),
		TW_CASE("test_light_ttl_and_dscp_v6", test_light_ttl_and_dscp, "::1"),
		cmocka_unit_test(test_light_allow_drops),
		cmocka_unit_test(test_light_sender_cap),
		cmocka_unit_test(test_light_idle_expiry),
		TW_CASE("test_light_authenticated", test_light_keyed, &(const keyed_case){ TW_TEST_AUTH, "127.0.0.1" }),
		TW_CASE("test_light_encrypted", test_light_keyed, &(const keyed_case){ TW_TEST_ENC, "127.0.0.1" }),
		TW_CASE("test_light_encrypted_v6", test_light_keyed, &(const keyed_case){ TW_TEST_ENC, "::1" }),
		cmocka_unit_test(test_light_keyed_without_keys),
		TW_CASE("test_stamp_stateful_v4", test_stamp_open, &(const host_mode){ "127.0.0.1", false }),
		TW_CASE("test_stamp_stateful_v6", test_stamp_open, &(const host_mode){ "::1", false }),
		TW_CASE("test_stamp_stateless_v4", test_stamp_open, &(const host_mode){ "127.0.0.1", true }),
		TW_CASE("test_stamp_stateless_v6", test_stamp_open, &(const host_mode){ "::1", true }),
		TW_CASE("test_stamp_authenticated_v4", test_stamp_authenticated, "127.0.0.1"),
		TW_CASE("test_stamp_authenticated_v6", test_stamp_authenticated, "::1"),
		cmocka_unit_test(test_stamp_answers_light),
		cmocka_unit_test(test_stamp_light_random_padding),
		TW_CASE("test_stamp_cos_v4", test_stamp_cos, "127.0.0.1"),
		TW_CASE("test_stamp_cos_v6", test_stamp_cos, "::1"),
		TW_CASE("test_stamp_tlvs_stateful_v4", test_stamp_tlvs, &(const host_mode){ "127.0.0.1", false }),
		TW_CASE("test_stamp_tlvs_stateful_v6", test_stamp_tlvs, &(const host_mode){ "::1", false }),
		TW_CASE("test_stamp_tlvs_stateless", test_stamp_tlvs, &(const host_mode){ "127.0.0.1", true }),
		cmocka_unit_test(test_stamp_auth_tlvs),
		cmocka_unit_test(test_stamp_malformed_tlvs),
		cmocka_unit_test(test_stamp_short_and_huge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
