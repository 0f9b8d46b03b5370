/*
 * fuzz_stamp.c - STAMP packets on the reflector and on the sender side.
 *
 * Input: one selector octet, then the UDP payload.
 *   bit 0  authenticated (fixed key 00..1f, HMAC-SHA-256)
 *   bit 1  answer with a TLV context (else TLVs are returned verbatim)
 *   bit 2  stateless (reflected seq = sender seq; Follow-Up zeros)
 *   bit 3  re-sign: write a valid base HMAC (and a valid HMAC TLV, if one
 *          is where the walk finds it) so the fuzzer gets past the checks
 *   bit 4  IPv6 addresses in the context
 * A sender packet the reflector accepts must be answerable: the reply has
 * the request's length (44 for a TWAMP Light packet), parses back with the
 * copied fields, and in place gives the same bytes. A payload parsed as a
 * reflected packet has its TLV area read by the sender code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stamp.h"
#include "testkeys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX = TW_STAMP_MAX_PACKET };

static uint8_t pkt[MAX], out[MAX], inplace[MAX];

static void resign(tw_test_crypto *c, size_t len)
{
	if (len < TW_STAMP_BASE_AUTH)
		return;
	uint8_t seq[4];
	memcpy(seq, pkt, 4);
	if (tw_testkeys_sign_hmac_tlv(c, seq, pkt + TW_STAMP_BASE_AUTH, len - TW_STAMP_BASE_AUTH) < 0)
		abort();
	if (tw_test_mac(c, pkt, 96, pkt + 96) != 0)
		abort();
}

static tw_tlv_ctx make_ctx(uint8_t sel)
{
	tw_tlv_ctx ctx = {
		.ds_byte = 0x29,
		.allow_dscp1 = true,
		.src_port = 40000,
		.dst_port = 862,
		.mac_len = 6,
		.mac = { 2, 0, 0x5e, 0, 0x53, 1 },
		.rx_count = 10,
		.tx_count = 9,
		.tsinfo = { TW_SYNC_NTP, TW_TSMETHOD_SW, TW_SYNC_NTP, TW_TSMETHOD_SW },
		.stateless = (sel & 4) != 0,
		.prev = { 8, 0x1234, TW_TSMETHOD_SW },
	};
	ctx.src.family = ctx.dst.family = (sel & 16) ? TW_TLV_AF_INET6 : TW_TLV_AF_INET;
	ctx.src.octets[0] = 192;
	ctx.dst.octets[0] = 198;
	return ctx;
}

static void check_reply(tw_stamp_sec sec, tw_test_crypto *c, const tw_stamp_sender_fields *s, size_t n,
			uint32_t seq)
{
	tw_stamp_reflector_fields r;
	if (tw_stamp_reflector_parse(sec, c, out, n, &r) != 0)
		abort();
	if (r.seq != seq || r.sender_seq != s->seq || r.sender_ts != s->ts || r.sender_errest != s->errest ||
	    r.ssid != s->ssid || r.sender_ttl != 63 || r.rx_ts != s->ts + 1 || r.ts != s->ts + 2)
		abort();
	if (r.tlv_len != s->tlv_len)
		abort();
	tw_tlv_report rep;
	if (tw_tlv_read_reflected(out + r.tlv_off, r.tlv_len, sec == TW_STAMP_AUTH ? c : NULL, r.seq, &rep) != 0)
		abort();
}

static void answer(tw_stamp_sec sec, tw_test_crypto *c, uint8_t sel, size_t len, const tw_stamp_sender_fields *s)
{
	tw_tlv_ctx ctx = make_ctx(sel);
	uint32_t seq = (sel & 4) ? s->seq : 7;
	tw_stamp_reply in = { .seq = seq, .rx_ts = s->ts + 1, .ttl = 63, .tlv = (sel & 2) ? &ctx : NULL };
	tw_tlv_result res;
	int n = tw_stamp_reflector_build(sec, c, pkt, len, &in, &res, out, sizeof(out));
	if (n < 0 || (size_t)n != (s->light ? (size_t)TW_STAMP_BASE_OPEN : len))
		abort(); /* anything sender_parse accepts must be answerable */
	if (res.integrity_failed && res.processed)
		abort();
	if (tw_stamp_reflector_stamp(sec, c, out, (size_t)n, s->ts + 2, 0x8001) != 0)
		abort();
	check_reply(sec, c, s, (size_t)n, seq);

	memcpy(inplace, pkt, len);
	int m = tw_stamp_reflector_build(sec, c, inplace, len, &in, &res, inplace, sizeof(inplace));
	if (m != n || tw_stamp_reflector_stamp(sec, c, inplace, (size_t)m, s->ts + 2, 0x8001) != 0 ||
	    memcmp(inplace, out, (size_t)n) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size - 1 > MAX)
		return 0;
	uint8_t sel = data[0];
	size_t len = size - 1;
	memcpy(pkt, data + 1, len);
	tw_stamp_sec sec = (sel & 1) ? TW_STAMP_AUTH : TW_STAMP_OPEN;
	tw_test_crypto *c = tw_testkeys_stamp_shared();
	if ((sel & 8) && sec == TW_STAMP_AUTH)
		resign(c, len);

	tw_stamp_sender_fields s;
	if (tw_stamp_sender_parse(sec, c, pkt, len, &s) == 0)
		answer(sec, c, sel, len, &s);
	tw_stamp_reflector_fields r;
	if (tw_stamp_reflector_parse(sec, c, pkt, len, &r) == 0) {
		tw_tlv_report rep;
		if (tw_tlv_read_reflected(pkt + r.tlv_off, r.tlv_len, sec == TW_STAMP_AUTH ? c : NULL, r.seq, &rep) != 0)
			abort();
	}
	return 0;
}
