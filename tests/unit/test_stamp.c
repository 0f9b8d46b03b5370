/* test_stamp.c - STAMP base packets: spec/vectors.md V11 and V14 byte for
 * byte, reflector replies for 14-, 41-, 44-, 56- and 112-octet requests
 * (TWAMP Light interop: short requests get a 44-octet reply), stateless and
 * stateful sequence numbers, SSID echo, authenticated round trips with a
 * known reflector HMAC, tampering, the PTP Z bit, in-place replies and the
 * error paths. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "errest.h"
#include "stamp.h"
#include "hexvec.h"
#include "testkeys.h"
#include "testutil.h"

/* vectors.md common timestamps and Error Estimate */
#define T1 (((tw_ts)3908988802u << 32) | 0x40000000u)
#define T2 (((tw_ts)3908988802u << 32) | 0x40100000u)
#define T3 (((tw_ts)3908988802u << 32) | 0x40200000u)
#define EE 0x8001

enum { BUF = 512 };

/* V11: seq 7, T1, 0x8001, SSID 0, 70 MBZ, HMAC-SHA-256/128 key 00..1f */
static const char *V11_SENDER = "00 00 00 07 00 00 00 00 00 00 00 00 00 00 00 00"
				"e8 fe 6f 82 40 00 00 00 80 01 00 00 00 00 00 00"
				"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
				"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
				"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
				"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
				"71 58 7a 7f 0f 87 a5 bb d7 ac fa 76 f3 6b 23 da";

/* V14: seq 5, SSID 0x1234, Extra Padding TLV of 8 zero octets */
static const char *V14_SENDER = "00 00 00 05 e8 fe 6f 82 40 00 00 00 80 01 12 34"
				"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
				"00 00 00 00 00 00 00 00 00 00 00 00 80 01 00 08"
				"00 00 00 00 00 00 00 00";

/* Unauthenticated reflector reply to a sender packet seq 1 / T1 / 0x8001
 * (reflector seq 9, T2, T3, TTL 64, SSID 0): the 44-octet base. */
static const char *OPEN_REPLY_SEQ1 = "00 00 00 09 e8 fe 6f 82 40 20 00 00 80 01 00 00"
				     "e8 fe 6f 82 40 10 00 00 00 00 00 01 e8 fe 6f 82"
				     "40 00 00 00 80 01 00 00 40 00 00 00";

/* Authenticated reflector reply (seq 3, T3, 0x8001, SSID 0x1234, T2,
 * sender seq 7, T1, 0x8001, TTL 64); HMAC computed with Python hmac over
 * octets 0-95, key 00..1f. */
static const char *AUTH_REPLY = "00 00 00 03 00 00 00 00 00 00 00 00 00 00 00 00"
				"e8 fe 6f 82 40 20 00 00 80 01 12 34 00 00 00 00"
				"e8 fe 6f 82 40 10 00 00 00 00 00 00 00 00 00 00"
				"00 00 00 07 00 00 00 00 00 00 00 00 00 00 00 00"
				"e8 fe 6f 82 40 00 00 00 80 01 00 00 00 00 00 00"
				"40 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
				"2b c6 f3 6d fa af 6a 10 4d d2 17 b7 81 8d 44 33";

static size_t from_hex(const char *hex, uint8_t *out)
{
	size_t n = tw_hexvec_decode(hex, out, BUF);
	assert_true(n > 0);
	return n;
}

static size_t make_sender(tw_stamp_sec sec, tw_test_crypto *c, uint32_t seq, uint16_t ssid, const uint8_t *tlvs,
			  size_t tlv_len, uint8_t *out)
{
	int n = tw_stamp_sender_build(sec, seq, ssid, tlvs, tlv_len, out, BUF);
	assert_int_equal(n, (int)(tw_stamp_base_len(sec) + tlv_len));
	assert_int_equal(tw_stamp_sender_stamp(sec, c, out, (size_t)n, T1, EE), 0);
	return (size_t)n;
}

static size_t make_reply(tw_stamp_sec sec, tw_test_crypto *c, const uint8_t *req, size_t req_len, uint32_t seq,
			 const tw_tlv_ctx *ctx, tw_tlv_result *res, uint8_t *out)
{
	tw_stamp_reply in = { .seq = seq, .rx_ts = T2, .ttl = 64, .tlv = ctx };
	int n = tw_stamp_reflector_build(sec, c, req, req_len, &in, res, out, BUF);
	assert_true(n > 0);
	assert_int_equal(tw_stamp_reflector_stamp(sec, c, out, (size_t)n, T3, EE), 0);
	return (size_t)n;
}

/* ---- vectors ---- */

static void test_sizes(void **state)
{
	(void)state;
	assert_int_equal(tw_stamp_base_len(TW_STAMP_OPEN), 44);
	assert_int_equal(tw_stamp_base_len(TW_STAMP_AUTH), 112);
	assert_int_equal(tw_stamp_base_len((tw_stamp_sec)7), 0);
}

static void test_v11_auth_sender(void **state)
{
	uint8_t pkt[BUF];
	size_t n = make_sender(TW_STAMP_AUTH, *state, 7, 0, NULL, 0, pkt);
	tw_hexvec_expect(pkt, n, V11_SENDER);

	tw_stamp_sender_fields s;
	assert_int_equal(tw_stamp_sender_parse(TW_STAMP_AUTH, *state, pkt, n, &s), 0);
	assert_int_equal(s.seq, 7);
	assert_true(s.ts == T1);
	assert_int_equal(s.errest, EE);
	assert_int_equal(s.ssid, 0);
	assert_false(s.light);
	assert_int_equal(s.tlv_off, 112);
	assert_int_equal(s.tlv_len, 0);
}

static void test_v14_open_sender(void **state)
{
	(void)state;
	uint8_t tlvs[64], pkt[BUF];
	tw_wr w = tw_wr_make(tlvs, sizeof(tlvs));
	assert_int_equal(tw_tlv_put_padding(&w, NULL, 8), 0);
	size_t n = make_sender(TW_STAMP_OPEN, NULL, 5, 0x1234, tlvs, tw_wr_len(&w), pkt);
	tw_hexvec_expect(pkt, n, V14_SENDER);

	tw_stamp_sender_fields s;
	assert_int_equal(tw_stamp_sender_parse(TW_STAMP_OPEN, NULL, pkt, n, &s), 0);
	assert_int_equal(s.seq, 5);
	assert_true(s.ts == T1);
	assert_int_equal(s.errest, EE);
	assert_int_equal(s.ssid, 0x1234);
	assert_int_equal(s.tlv_off, 44);
	assert_int_equal(s.tlv_len, 12);
}

/* TLVs built in place at out + 44 give the same packet. */
static void test_sender_tlvs_in_place(void **state)
{
	(void)state;
	uint8_t pkt[BUF];
	tw_wr w = tw_wr_make(pkt + 44, sizeof(pkt) - 44);
	assert_int_equal(tw_tlv_put_padding(&w, NULL, 8), 0);
	int n = tw_stamp_sender_build(TW_STAMP_OPEN, 5, 0x1234, pkt + 44, tw_wr_len(&w), pkt, sizeof(pkt));
	assert_int_equal(n, 56);
	assert_int_equal(tw_stamp_sender_stamp(TW_STAMP_OPEN, NULL, pkt, 56, T1, EE), 0);
	tw_hexvec_expect(pkt, 56, V14_SENDER);
}

/* ---- reflector replies by request length ---- */

/* A TWAMP Light sender packet (14 octets, or 41 with RFC 5357 symmetric
 * padding) is answered with the 44-octet STAMP base. */
static void light_case(size_t req_len)
{
	uint8_t req[BUF] = { 0 }, out[BUF];
	static const uint8_t hdr[14] = { 0, 0, 0, 1, 0xe8, 0xfe, 0x6f, 0x82, 0x40, 0, 0, 0, 0x80, 0x01 };
	memcpy(req, hdr, sizeof(hdr));
	memset(req + 14, 0xa5, req_len - 14); /* padding must not leak into SSID or TLVs */

	tw_stamp_sender_fields s;
	assert_int_equal(tw_stamp_sender_parse(TW_STAMP_OPEN, NULL, req, req_len, &s), 0);
	assert_true(s.light);
	assert_int_equal(s.seq, 1);
	assert_int_equal(s.ssid, 0);
	assert_int_equal(s.tlv_len, 0);

	tw_tlv_ctx ctx = { 0 };
	tw_tlv_result res;
	size_t n = make_reply(TW_STAMP_OPEN, NULL, req, req_len, 9, &ctx, &res, out);
	assert_int_equal(n, 44);
	tw_hexvec_expect(out, n, OPEN_REPLY_SEQ1);
	assert_int_equal(res.processed + res.unrecognized, 0);
}

static void test_reply_light_14(void **state)
{
	(void)state;
	light_case(14);
}

static void test_reply_light_41(void **state)
{
	(void)state;
	light_case(41);
}

static void test_reply_44(void **state)
{
	(void)state;
	uint8_t req[BUF], out[BUF];
	size_t n = make_sender(TW_STAMP_OPEN, NULL, 1, 0, NULL, 0, req);
	size_t m = make_reply(TW_STAMP_OPEN, NULL, req, n, 9, NULL, NULL, out);
	assert_int_equal(m, 44);
	tw_hexvec_expect(out, m, OPEN_REPLY_SEQ1);
}

/* V14 (56 octets): same length back, SSID echoed, padding TLV U cleared. */
static void test_reply_56_v14(void **state)
{
	(void)state;
	uint8_t req[BUF], out[BUF];
	size_t n = from_hex(V14_SENDER, req);
	tw_tlv_ctx ctx = { 0 };
	tw_tlv_result res;
	size_t m = make_reply(TW_STAMP_OPEN, NULL, req, n, 5, &ctx, &res, out);
	assert_int_equal(m, 56);
	tw_hexvec_expect(out, m,
		   "00 00 00 05 e8 fe 6f 82 40 20 00 00 80 01 12 34"
		   "e8 fe 6f 82 40 10 00 00 00 00 00 05 e8 fe 6f 82"
		   "40 00 00 00 80 01 00 00 40 00 00 00 00 01 00 08"
		   "00 00 00 00 00 00 00 00");
	assert_int_equal(res.processed, 1);

	tw_stamp_reflector_fields r;
	assert_int_equal(tw_stamp_reflector_parse(TW_STAMP_OPEN, NULL, out, m, &r), 0);
	assert_int_equal(r.ssid, 0x1234);
	assert_int_equal(r.seq, 5);
	assert_int_equal(r.sender_seq, 5);
	assert_int_equal(r.tlv_off, 44);
	assert_int_equal(r.tlv_len, 12);
	tw_tlv_report rep;
	assert_int_equal(tw_tlv_read_reflected(out + r.tlv_off, r.tlv_len, NULL, r.seq, &rep), 0);
	assert_int_equal(rep.padding_len, 8);
	assert_true(rep.seen & (1u << TW_TLV_EXTRA_PADDING));
}

/* Without a TLV context the area comes back verbatim (RFC 8762 reflector). */
static void test_reply_tlvs_verbatim(void **state)
{
	(void)state;
	uint8_t req[BUF], out[BUF];
	size_t n = from_hex(V14_SENDER, req);
	tw_tlv_result res = { .processed = 99 };
	size_t m = make_reply(TW_STAMP_OPEN, NULL, req, n, 5, NULL, &res, out);
	assert_int_equal(m, 56);
	assert_memory_equal(out + 44, req + 44, 12);
	assert_int_equal(res.processed, 0);
}

static void test_stateless_and_stateful(void **state)
{
	(void)state;
	uint8_t req[BUF], out[BUF];
	size_t n = make_sender(TW_STAMP_OPEN, NULL, 0x01020304, 77, NULL, 0, req);
	tw_stamp_sender_fields s;
	assert_int_equal(tw_stamp_sender_parse(TW_STAMP_OPEN, NULL, req, n, &s), 0);

	tw_stamp_reflector_fields r;
	size_t m = make_reply(TW_STAMP_OPEN, NULL, req, n, s.seq, NULL, NULL, out); /* stateless */
	assert_int_equal(tw_stamp_reflector_parse(TW_STAMP_OPEN, NULL, out, m, &r), 0);
	assert_int_equal(r.seq, 0x01020304);
	assert_int_equal(r.sender_seq, 0x01020304);

	m = make_reply(TW_STAMP_OPEN, NULL, req, n, 42, NULL, NULL, out); /* stateful */
	assert_int_equal(tw_stamp_reflector_parse(TW_STAMP_OPEN, NULL, out, m, &r), 0);
	assert_int_equal(r.seq, 42);
	assert_int_equal(r.sender_seq, 0x01020304);
	assert_int_equal(r.ssid, 77);
	assert_true(r.ts == T3);
	assert_true(r.rx_ts == T2);
	assert_true(r.sender_ts == T1);
	assert_int_equal(r.sender_errest, EE);
	assert_int_equal(r.sender_ttl, 64);
}

/* ---- authenticated ---- */

static void test_auth_reply_112(void **state)
{
	tw_test_crypto *c = *state;
	uint8_t req[BUF], out[BUF];
	size_t n = make_sender(TW_STAMP_AUTH, c, 7, 0x1234, NULL, 0, req);
	tw_stamp_sender_fields s;
	assert_int_equal(tw_stamp_sender_parse(TW_STAMP_AUTH, c, req, n, &s), 0);
	assert_int_equal(s.ssid, 0x1234);

	tw_tlv_ctx ctx = { 0 };
	size_t m = make_reply(TW_STAMP_AUTH, c, req, n, 3, &ctx, NULL, out);
	assert_int_equal(m, 112);
	tw_hexvec_expect(out, m, AUTH_REPLY);

	tw_stamp_reflector_fields r;
	assert_int_equal(tw_stamp_reflector_parse(TW_STAMP_AUTH, c, out, m, &r), 0);
	assert_int_equal(r.seq, 3);
	assert_true(r.ts == T3);
	assert_int_equal(r.errest, EE);
	assert_int_equal(r.ssid, 0x1234);
	assert_true(r.rx_ts == T2);
	assert_int_equal(r.sender_seq, 7);
	assert_true(r.sender_ts == T1);
	assert_int_equal(r.sender_errest, EE);
	assert_int_equal(r.sender_ttl, 64);
	assert_int_equal(r.tlv_len, 0);
}

/* Every octet of 0-111 is protected: flipping any one is caught in both
 * directions; octets after the base (TLVs) are not covered by it. */
static void test_auth_tamper(void **state)
{
	tw_test_crypto *c = *state;
	uint8_t req[BUF], out[BUF];
	size_t n = make_sender(TW_STAMP_AUTH, c, 7, 0x1234, NULL, 0, req);
	size_t m = make_reply(TW_STAMP_AUTH, c, req, n, 3, NULL, NULL, out);
	tw_stamp_sender_fields s;
	tw_stamp_reflector_fields r;
	for (size_t i = 0; i < 112; i++) {
		req[i] ^= 0x01;
		out[i] ^= 0x01;
		assert_int_equal(tw_stamp_sender_parse(TW_STAMP_AUTH, c, req, n, &s), -EBADMSG);
		assert_int_equal(tw_stamp_reflector_parse(TW_STAMP_AUTH, c, out, m, &r), -EBADMSG);
		req[i] ^= 0x01;
		out[i] ^= 0x01;
	}
	assert_int_equal(tw_stamp_sender_parse(TW_STAMP_AUTH, c, req, n, &s), 0);
	assert_int_equal(tw_stamp_reflector_parse(TW_STAMP_AUTH, c, out, m, &r), 0);

	/* a different key fails too */
	uint8_t other[32] = { 1 };
	tw_test_crypto *c2 = tw_test_crypto_new(NULL, other, sizeof(other), TW_MAC_HMAC_SHA256);
	assert_non_null(c2);
	assert_int_equal(tw_stamp_sender_parse(TW_STAMP_AUTH, c2, req, n, &s), -EBADMSG);
	tw_test_crypto_free(c2);
}

/* Authenticated round trip with TLVs: CoS + HMAC TLV from the sender, the
 * reflector verifies and recomputes, the sender verifies the reply's. */
static void test_auth_round_trip_tlvs(void **state)
{
	tw_test_crypto *c = *state;
	uint8_t tlvs[64], req[BUF], out[BUF];
	tw_wr w = tw_wr_make(tlvs, sizeof(tlvs));
	assert_int_equal(tw_tlv_put_cos(&w, 46), 0);
	assert_int_equal(tw_tlv_put_hmac(&w, c, 7, tlvs, tw_wr_len(&w)), 0);
	assert_int_equal(tw_tlv_put_padding(&w, NULL, 16), 0);
	size_t n = make_sender(TW_STAMP_AUTH, c, 7, 0x1234, tlvs, tw_wr_len(&w), req);
	assert_int_equal(n, 112 + 8 + 20 + 20);

	tw_tlv_ctx ctx = { .ds_byte = 10 << 2 | 1, .allow_dscp1 = true };
	tw_tlv_result res;
	size_t m = make_reply(TW_STAMP_AUTH, c, req, n, 3, &ctx, &res, out);
	assert_int_equal(m, n);
	assert_false(res.integrity_failed);
	assert_int_equal(res.processed, 3);
	assert_true(res.cos && res.dscp1_applied);
	assert_int_equal(res.reply_dscp, 46);
	/* the reply's HMAC TLV: Python hmac over seq 3 || 00040004b8a40000 */
	tw_hexvec_expect(out + 112, 28,
		   "00 04 00 04 b8 a4 00 00 00 08 00 10"
		   "df 7b 88 72 0b 2c 5a 35 45 47 18 93 93 c0 25 07");

	tw_stamp_reflector_fields r;
	assert_int_equal(tw_stamp_reflector_parse(TW_STAMP_AUTH, c, out, m, &r), 0);
	tw_tlv_report rep;
	assert_int_equal(tw_tlv_read_reflected(out + r.tlv_off, r.tlv_len, c, r.seq, &rep), 0);
	assert_false(rep.integrity_failed);
	assert_int_equal(rep.cos.dscp2, 10);
	assert_int_equal(rep.cos.ecn, 1);

	/* a TLV octet changed on the way: the base still verifies, the TLVs not */
	out[112 + 5] ^= 0x10;
	assert_int_equal(tw_stamp_reflector_parse(TW_STAMP_AUTH, c, out, m, &r), 0);
	assert_int_equal(tw_tlv_read_reflected(out + r.tlv_off, r.tlv_len, c, r.seq, &rep), 0);
	assert_true(rep.integrity_failed);
	assert_int_equal(rep.seen, 0);
}

/* A tampered sender TLV area: the reflector sets I everywhere. */
static void test_auth_bad_tlv_hmac(void **state)
{
	tw_test_crypto *c = *state;
	uint8_t tlvs[64], req[BUF], out[BUF];
	tw_wr w = tw_wr_make(tlvs, sizeof(tlvs));
	assert_int_equal(tw_tlv_put_cos(&w, 46), 0);
	assert_int_equal(tw_tlv_put_hmac(&w, c, 8 /* not the packet's seq */, tlvs, tw_wr_len(&w)), 0);
	size_t n = make_sender(TW_STAMP_AUTH, c, 7, 0, tlvs, tw_wr_len(&w), req);
	tw_tlv_ctx ctx = { .ds_byte = 0x29, .allow_dscp1 = true };
	tw_tlv_result res;
	size_t m = make_reply(TW_STAMP_AUTH, c, req, n, 3, &ctx, &res, out);
	assert_true(res.integrity_failed);
	assert_int_equal(out[112], 0x80 | 0x20);
	assert_int_equal(out[120], 0x80 | 0x20);
	assert_memory_equal(out + 113, req + 113, 7);
	assert_memory_equal(out + 121, req + 121, m - 121);
}

/* ---- timestamps ---- */

static void test_ptp_z_bit(void **state)
{
	(void)state;
	tw_ts p1 = tw_ts_ptp_from_unix_ns(INT64_C(1700000000123456789));
	tw_ts p2 = p1 + 1000, p3 = p1 + 2000;
	uint16_t zs = tw_errest_pack((tw_errest){ .sync = true, .ptp = true, .scale = 0, .mult = 1 });
	uint16_t zr = tw_errest_pack((tw_errest){ .sync = false, .ptp = true, .scale = 2, .mult = 7 });
	uint8_t req[BUF], out[BUF];
	int n = tw_stamp_sender_build(TW_STAMP_OPEN, 1, 0, NULL, 0, req, BUF);
	assert_int_equal(tw_stamp_sender_stamp(TW_STAMP_OPEN, NULL, req, (size_t)n, p1, zs), 0);
	tw_stamp_reply in = { .seq = 1, .rx_ts = p2, .ttl = 255 };
	int m = tw_stamp_reflector_build(TW_STAMP_OPEN, NULL, req, (size_t)n, &in, NULL, out, BUF);
	assert_int_equal(tw_stamp_reflector_stamp(TW_STAMP_OPEN, NULL, out, (size_t)m, p3, zr), 0);
	tw_stamp_reflector_fields r;
	assert_int_equal(tw_stamp_reflector_parse(TW_STAMP_OPEN, NULL, out, (size_t)m, &r), 0);
	assert_true(tw_errest_unpack(r.errest).ptp);
	assert_true(tw_errest_unpack(r.sender_errest).ptp);
	assert_int_equal(r.errest, zr);
	assert_int_equal(r.sender_errest, zs);
	assert_true(r.sender_ts == p1);
	assert_true(r.rx_ts == p2);
	assert_true(r.ts == p3);
	assert_int_equal(r.sender_ttl, 255);
	assert_int_equal(tw_ts_ptp_to_unix_ns(r.sender_ts), INT64_C(1700000000123456789));
}

/* ---- in place and errors ---- */

static void test_reply_in_place(void **state)
{
	tw_test_crypto *c = *state;
	uint8_t tlvs[64], req[BUF], copy[BUF], out[BUF];
	tw_wr w = tw_wr_make(tlvs, sizeof(tlvs));
	assert_int_equal(tw_tlv_put_cos(&w, 46), 0);
	assert_int_equal(tw_tlv_put_hmac(&w, c, 7, tlvs, tw_wr_len(&w)), 0);
	size_t n = make_sender(TW_STAMP_AUTH, c, 7, 0x1234, tlvs, tw_wr_len(&w), req);
	memcpy(copy, req, n);
	tw_tlv_ctx ctx = { .ds_byte = 0x29, .allow_dscp1 = true };
	size_t m = make_reply(TW_STAMP_AUTH, c, copy, n, 3, &ctx, NULL, out);
	size_t k = make_reply(TW_STAMP_AUTH, c, req, n, 3, &ctx, NULL, req); /* in place */
	assert_int_equal(k, m);
	assert_memory_equal(req, out, m);

	/* a short Light packet grows to 44 in place */
	uint8_t light[BUF] = { 0, 0, 0, 1, 0xe8, 0xfe, 0x6f, 0x82, 0x40, 0, 0, 0, 0x80, 0x01 };
	assert_int_equal(make_reply(TW_STAMP_OPEN, NULL, light, 14, 9, NULL, NULL, light), 44);
	tw_hexvec_expect(light, 44, OPEN_REPLY_SEQ1);
}

static void test_errors(void **state)
{
	tw_test_crypto *c = *state;
	uint8_t pkt[BUF] = { 0 }, out[BUF];
	tw_stamp_sender_fields s;
	tw_stamp_reflector_fields r;
	tw_stamp_reply in = { .seq = 1 };

	assert_int_equal(tw_stamp_sender_parse(TW_STAMP_OPEN, NULL, pkt, 13, &s), -EMSGSIZE);
	assert_int_equal(tw_stamp_sender_parse(TW_STAMP_AUTH, c, pkt, 111, &s), -EMSGSIZE);
	assert_int_equal(tw_stamp_sender_parse(TW_STAMP_AUTH, NULL, pkt, 112, &s), -EINVAL);
	assert_int_equal(tw_stamp_sender_parse((tw_stamp_sec)5, NULL, pkt, 112, &s), -EINVAL);
	assert_int_equal(tw_stamp_sender_parse(TW_STAMP_AUTH, c, pkt, 112, &s), -EBADMSG);
	assert_int_equal(tw_stamp_reflector_parse(TW_STAMP_OPEN, NULL, pkt, 43, &r), -EMSGSIZE);
	assert_int_equal(tw_stamp_reflector_parse(TW_STAMP_AUTH, c, pkt, 111, &r), -EMSGSIZE);
	assert_int_equal(tw_stamp_reflector_parse(TW_STAMP_OPEN, NULL, pkt, 44, &r), 0);

	assert_int_equal(tw_stamp_sender_build(TW_STAMP_OPEN, 1, 0, NULL, 0, out, 43), -EMSGSIZE);
	assert_int_equal(tw_stamp_sender_build(TW_STAMP_OPEN, 1, 0, pkt, 10, out, 53), -EMSGSIZE);
	assert_int_equal(tw_stamp_sender_build(TW_STAMP_OPEN, 1, 0, NULL, 10, out, BUF), -EINVAL);
	assert_int_equal(tw_stamp_sender_build((tw_stamp_sec)2, 1, 0, NULL, 0, out, BUF), -EINVAL);
	assert_int_equal(tw_stamp_sender_stamp(TW_STAMP_AUTH, NULL, out, 112, T1, EE), -EINVAL);
	assert_int_equal(tw_stamp_sender_stamp(TW_STAMP_AUTH, c, out, 100, T1, EE), -EMSGSIZE);

	assert_int_equal(tw_stamp_reflector_build(TW_STAMP_OPEN, NULL, pkt, 14, &in, NULL, out, 43), -EMSGSIZE);
	assert_int_equal(tw_stamp_reflector_build(TW_STAMP_OPEN, NULL, pkt, 60, &in, NULL, out, 59), -EMSGSIZE);
	assert_int_equal(tw_stamp_reflector_build(TW_STAMP_OPEN, NULL, pkt, 13, &in, NULL, out, BUF), -EMSGSIZE);
	assert_int_equal(tw_stamp_reflector_build(TW_STAMP_OPEN, NULL, pkt, 44, NULL, NULL, out, BUF), -EINVAL);
	assert_int_equal(tw_stamp_reflector_build(TW_STAMP_AUTH, NULL, pkt, 112, &in, NULL, out, BUF), -EINVAL);
	assert_int_equal(tw_stamp_reflector_build(TW_STAMP_OPEN, NULL, pkt, 60, &in, NULL, out, 60), 60);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		TW_TESTKEYS_STAMP_TEST(test_v11_auth_sender),
		cmocka_unit_test(test_v14_open_sender),
		cmocka_unit_test(test_sender_tlvs_in_place),
		cmocka_unit_test(test_reply_light_14),
		cmocka_unit_test(test_reply_light_41),
		cmocka_unit_test(test_reply_44),
		cmocka_unit_test(test_reply_56_v14),
		cmocka_unit_test(test_reply_tlvs_verbatim),
		cmocka_unit_test(test_stateless_and_stateful),
		TW_TESTKEYS_STAMP_TEST(test_auth_reply_112),
		TW_TESTKEYS_STAMP_TEST(test_auth_tamper),
		TW_TESTKEYS_STAMP_TEST(test_auth_round_trip_tlvs),
		TW_TESTKEYS_STAMP_TEST(test_auth_bad_tlv_hmac),
		cmocka_unit_test(test_ptp_z_bit),
		TW_TESTKEYS_STAMP_TEST(test_reply_in_place),
		TW_TESTKEYS_STAMP_TEST(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
