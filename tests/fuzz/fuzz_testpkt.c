/*
 * fuzz_testpkt.c - TWAMP-Test packet parsers in every format.
 *
 * Input: one selector octet, then the UDP payload.
 *   bits 0-1  security: 0 open, 1 authenticated, 2 encrypted, 3 invalid
 *   bit  2    Symmetrical Size
 *   bit  3    DSCP/ECN monitoring
 *   bits 4-5  fixed test keys: 0 spec V9, 1 authenticated capture,
 *             2 encrypted capture, 3 V9 again
 * The payload goes through tw_sender_parse and tw_reflector_parse. A
 * parsed sender packet is answered (build + stamp) and the reply must parse
 * back with the copied fields; a parsed reflector packet leads to a new
 * sender packet that must parse back too. The keyed capture keys let the
 * seed corpus (capture payloads) get past the HMAC check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testpkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t KEYS_AES[3][16] = {
	{ 0xbb, 0x33, 0x39, 0xa6, 0x73, 0xb4, 0x4c, 0x0e, 0x79, 0x95, 0x28, 0x15, 0xda, 0x27, 0x69, 0x0d },
	{ 0x12, 0x5e, 0x0a, 0xdd, 0x30, 0x0e, 0xb1, 0x13, 0x8d, 0xb1, 0x89, 0x8f, 0xe5, 0xe2, 0x78, 0x8f },
	{ 0x5e, 0xd0, 0x62, 0xd3, 0xc1, 0x42, 0x25, 0xc2, 0x39, 0x62, 0xb0, 0x5d, 0x70, 0xdd, 0x5c, 0x94 },
};
static const uint8_t KEYS_HMAC[3][32] = {
	{ 0x3e, 0xe2, 0x32, 0xf9, 0xe7, 0x87, 0x0a, 0x70, 0xce, 0x8e, 0xca, 0x5a, 0xd9, 0xe3, 0x0b, 0xa1,
	  0x4c, 0x14, 0x77, 0x25, 0x44, 0xfe, 0x6a, 0xe1, 0x78, 0x40, 0xc8, 0xfb, 0x45, 0x81, 0xda, 0xf2 },
	{ 0xd9, 0x5c, 0xd6, 0x8c, 0x0d, 0x1a, 0xa4, 0x92, 0xae, 0x68, 0x54, 0x5d, 0xe5, 0xe9, 0xed, 0x8c,
	  0xa5, 0xe7, 0x27, 0x2c, 0xd1, 0x44, 0x1f, 0x3e, 0x61, 0xcf, 0x84, 0x98, 0xf8, 0x3f, 0x28, 0xba },
	{ 0x2b, 0x6f, 0xa2, 0xf0, 0xc6, 0x34, 0xf2, 0xef, 0xd6, 0x65, 0x00, 0x07, 0x45, 0xeb, 0x21, 0xd1,
	  0x05, 0xa5, 0x7c, 0xbc, 0x93, 0x9e, 0x9d, 0x3a, 0x19, 0xcc, 0x3e, 0x08, 0x6c, 0x46, 0xb4, 0x8f },
};

static tw_test_crypto *crypto_for(unsigned idx)
{
	static tw_test_crypto *ctx[3];
	if (idx > 2)
		idx = 0;
	if (!ctx[idx])
		ctx[idx] = tw_test_crypto_new(KEYS_AES[idx], KEYS_HMAC[idx], 32, TW_MAC_HMAC_SHA1);
	if (!ctx[idx])
		abort();
	return ctx[idx];
}

static uint8_t out[TW_TEST_MAX_PACKET];

static void answer(const tw_test_fmt *f, tw_test_crypto *c, const uint8_t *pkt, size_t len,
		   const tw_sender_fields *s)
{
	tw_reflector_fields rf = { .seq = 7, .rx_ts = s->ts + 1, .sender_ttl = 254, .sender_tos = 0x2e };
	int n = tw_reflector_build(f, c, pkt, len, &rf, out, sizeof(out));
	if (n < 0)
		abort(); /* anything sender_parse accepts must be answerable */
	if (tw_reflector_stamp(f, c, out, (size_t)n, s->ts + 2, 0x0001) != 0)
		abort();
	tw_reflector_fields r;
	if (tw_reflector_parse(f, c, out, (size_t)n, &r) != 0)
		abort();
	if (r.sender_seq != s->seq || r.sender_ts != s->ts || r.sender_errest != s->errest || r.seq != 7)
		abort();
}

static void resend(const tw_test_fmt *f, tw_test_crypto *c, const tw_reflector_fields *r)
{
	int n = tw_sender_build(f, c, r->sender_seq + 1, NULL, 3, out, sizeof(out));
	if (n < 0 || tw_sender_stamp(f, c, out, (size_t)n, r->ts, r->errest) != 0)
		abort();
	tw_sender_fields s;
	if (tw_sender_parse(f, c, out, (size_t)n, &s) != 0 || s.seq != r->sender_seq + 1 || s.ts != r->ts)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size - 1 > TW_TEST_MAX_PACKET)
		return 0;
	uint8_t sel = data[0];
	tw_test_fmt f = { (tw_test_sec)(sel & 3), (sel & 4) != 0, (sel & 8) != 0 };
	tw_test_crypto *c = crypto_for((sel >> 4) & 3);
	const uint8_t *pkt = data + 1;
	size_t len = size - 1;

	tw_sender_fields s;
	if (tw_sender_parse(&f, c, pkt, len, &s) == 0)
		answer(&f, c, pkt, len, &s);
	tw_reflector_fields r;
	if (tw_reflector_parse(&f, c, pkt, len, &r) == 0)
		resend(&f, c, &r);
	return 0;
}
