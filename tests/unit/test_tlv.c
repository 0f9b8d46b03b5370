/* test_tlv.c - STAMP TLVs (RFC 8972): every type built by the sender and
 * answered by the reflector byte for byte (CoS from spec/vectors.md V14),
 * Location answers for IPv4/IPv6/mapped/MAC, unknown and private types
 * (U kept, copied), malformed lengths (M, rest verbatim), the HMAC TLV
 * (good, bad, misplaced, duplicate, missing -> I; recomputed in the reply,
 * values from Python hmac), Follow-Up stateless zeros, and the sender's
 * reading of the reflected area honouring U, M and I. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hexvec.h"
#include "testkeys.h"
#include "testutil.h"
#include "tlv.h"

#define T3 (((tw_ts)3908988802u << 32) | 0x40200000u)

enum { BUF = 512 };

/* Python: hmac.new(bytes(range(32)), seq || tlvs, sha256).digest()[:16] */
static const char *HMAC_SEQ7_COS = "2f556bae6162b93341ee8ddf894a6e1a";      /* 7 || 80040004b8000000 */
static const char *HMAC_SEQ3_COS_REFL = "df7b88720b2c5a354547189393c02507"; /* 3 || 00040004b8a40000 */
static const char *HMAC_SEQ7 = "6f47feee1db4250ba6824334485fdf0d";          /* 7 alone */

/* The reflector's answer to area in_hex must be want_hex. */
static void reflect_case(const tw_tlv_ctx *ctx, tw_test_crypto *c, uint32_t rx_seq, const char *in_hex,
			 uint32_t tx_seq, const char *want_hex, tw_tlv_result *res)
{
	uint8_t in[BUF], out[BUF];
	size_t n = tw_hexvec_decode(in_hex, in, BUF);
	memset(out, 0xee, sizeof(out));
	assert_int_equal(tw_tlv_reflect(ctx, c, rx_seq, in, tx_seq, out, n, res), 0);
	tw_hexvec_expect(out, n, want_hex);
	assert_int_equal(out[n], 0xee); /* nothing written past the area */
	/* in place gives the same */
	tw_tlv_result res2;
	assert_int_equal(tw_tlv_reflect(ctx, c, rx_seq, in, tx_seq, in, n, &res2), 0);
	assert_memory_equal(in, out, n);
}

static const tw_tlv_ctx *v4_ctx(void)
{
	static tw_tlv_ctx ctx = {
		.ds_byte = 10 << 2 | 1,
		.allow_dscp1 = true,
		.src = { TW_TLV_AF_INET, { 192, 0, 2, 1 } },
		.dst = { TW_TLV_AF_INET, { 192, 0, 2, 2 } },
		.src_port = 40000,
		.dst_port = 862,
		.rx_count = 5,
		.tx_count = 6,
		.tsinfo = { TW_SYNC_NTP, TW_TSMETHOD_SW, TW_SYNC_PTP, TW_TSMETHOD_HW },
		.prev = { 41, T3, TW_TSMETHOD_HW },
	};
	return &ctx;
}

/* ---- sender builders ---- */

static void test_builders(void **state)
{
	tw_test_crypto *c = *state;
	uint8_t a[BUF];
	tw_wr w = tw_wr_make(a, sizeof(a));
	static const uint8_t fill[3] = { 1, 2, 3 };
	assert_int_equal(tw_tlv_put_padding(&w, fill, 3), 0);
	assert_int_equal(tw_tlv_put_location_request(&w, TW_LOC_REQ_SRC_MAC | TW_LOC_REQ_DST_IP | TW_LOC_REQ_SRC_IP),
			 0);
	assert_int_equal(tw_tlv_put_timestamp_info(&w), 0);
	assert_int_equal(tw_tlv_put_direct_measurement(&w, 0x11223344), 0);
	assert_int_equal(tw_tlv_put_access_report(&w, TW_ACCESS_NON_3GPP, TW_ACCESS_UNAVAILABLE), 0);
	assert_int_equal(tw_tlv_put_follow_up(&w), 0);
	assert_int_equal(tw_tlv_put_raw(&w, 0x80, 252, (const uint8_t *)"\0\0\x01\x02", 4), 0);
	tw_hexvec_expect(a, tw_wr_len(&w),
		   "80 01 00 03 01 02 03"
		   "80 02 00 38 00 00 00 00"
		   "80 01 00 08 00 00 00 00 00 00 00 00"
		   "80 04 00 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
		   "80 07 00 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
		   "80 03 00 04 00 00 00 00"
		   "80 05 00 0c 11 22 33 44 00 00 00 00 00 00 00 00"
		   "80 06 00 04 20 02 00 00"
		   "80 07 00 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
		   "80 fc 00 04 00 00 01 02");

	/* V14: CoS sent with DSCP1 = 46 */
	w = tw_wr_make(a, sizeof(a));
	assert_int_equal(tw_tlv_put_cos(&w, 46), 0);
	tw_hexvec_expect(a, tw_wr_len(&w), "80040004b8000000");

	/* HMAC TLV over seq 7 || CoS, against Python and the one-shot HMAC */
	assert_int_equal(tw_tlv_put_hmac(&w, c, 7, a, tw_wr_len(&w)), 0);
	uint8_t want[TW_MAC_LEN], cat[12] = { 0, 0, 0, 7 };
	memcpy(cat + 4, a, 8);
	uint8_t key[32];
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	assert_int_equal(tw_hmac128(TW_MAC_HMAC_SHA256, key, sizeof(key), cat, sizeof(cat), want), 0);
	assert_memory_equal(a + 12, want, TW_MAC_LEN);
	tw_hexvec_expect(a + 8, 20, "80 08 00 10 2f556bae6162b93341ee8ddf894a6e1a");
	(void)HMAC_SEQ7_COS;
}

static void test_builder_errors(void **state)
{
	tw_test_crypto *c = *state;
	uint8_t a[16];
	tw_wr w = tw_wr_make(a, sizeof(a));
	assert_int_equal(tw_tlv_put_cos(&w, 64), -EINVAL);
	assert_int_equal(tw_tlv_put_access_report(&w, 3, 1), -EINVAL);
	assert_int_equal(tw_tlv_put_access_report(&w, 1, 0), -EINVAL);
	assert_int_equal(tw_tlv_put_location_request(&w, 8), -EINVAL);
	assert_int_equal(tw_tlv_put_hmac(&w, NULL, 1, a, 0), -EINVAL);
	assert_int_equal(tw_tlv_put_hmac(&w, c, 1, NULL, 4), -EINVAL);
	assert_int_equal(tw_wr_len(&w), 0);
	assert_int_equal(tw_tlv_put_follow_up(&w), -EMSGSIZE); /* 20 > 16 */
	w = tw_wr_make(a, sizeof(a));
	assert_int_equal(tw_tlv_put_direct_measurement(&w, 1), 0);
	assert_int_equal(tw_tlv_put_padding(&w, NULL, 0), -EMSGSIZE);
}

/* ---- iteration and length rules ---- */

static void test_iter(void **state)
{
	(void)state;
	uint8_t a[BUF];
	size_t n = tw_hexvec_decode("80 01 00 02 aa bb 00 04 00 04 b8 a4 00 00 80 05 00 0c 00", a, BUF);
	tw_tlv_iter it;
	tw_tlv t;
	tw_tlv_iter_init(&it, a, n);
	assert_int_equal(tw_tlv_next(&it, &t), 1);
	assert_int_equal(t.flags, 0x80);
	assert_int_equal(t.type, 1);
	assert_int_equal(t.len, 2);
	assert_int_equal(t.off, 0);
	assert_ptr_equal(t.value, a + 4);
	assert_int_equal(tw_tlv_next(&it, &t), 1);
	assert_int_equal(t.off, 6);
	tw_tlv_cos cos;
	assert_int_equal(tw_tlv_cos_decode(&t, &cos), 0);
	assert_int_equal(cos.dscp1, 46);
	assert_int_equal(cos.dscp2, 10);
	assert_int_equal(cos.ecn, 1);
	assert_int_equal(cos.rp, 0);
	tw_tlv_dm dm;
	assert_int_equal(tw_tlv_dm_decode(&t, &dm), -EBADMSG); /* wrong type */
	assert_int_equal(tw_tlv_next(&it, &t), -EBADMSG);      /* Length 12, 1 octet left */
	assert_int_equal(t.off, 14);
	assert_int_equal(t.type, 5);
	assert_int_equal(t.len, 12);
	assert_null(t.value);
	assert_int_equal(tw_tlv_next(&it, &t), -EBADMSG); /* sticky */
	assert_int_equal(t.off, 14);

	tw_tlv_iter_init(&it, a, 2); /* fewer octets than a header */
	assert_int_equal(tw_tlv_next(&it, &t), -EBADMSG);
	assert_int_equal(t.type, 0);
	tw_tlv_iter_init(&it, NULL, 0);
	assert_int_equal(tw_tlv_next(&it, &t), 0);
}

static void test_len_rules(void **state)
{
	(void)state;
	static const uint8_t zeros[64];
	static const struct {
		uint8_t type;
		uint16_t len;
		bool ok;
	} v[] = {
		{ 1, 0, true },	    { 1, 64, true },	{ 2, 0, false },    { 2, 3, false },   { 2, 4, true },
		{ 3, 3, false },    { 3, 4, true },	{ 3, 12, true },    { 4, 0, false },   { 4, 3, false },
		{ 4, 4, true },	    { 4, 5, false },	{ 5, 12, true },    { 5, 8, false },   { 6, 4, true },
		{ 6, 0, false },    { 7, 16, true },	{ 7, 12, false },   { 8, 16, true },   { 8, 20, false },
		{ 252, 3, false },  { 253, 4, true },	{ 254, 40, true },  { 0, 0, true },    { 9, 1, true },
		{ 255, 7, true },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		tw_tlv t = { .type = v[i].type, .len = v[i].len, .value = zeros };
		assert_int_equal(tw_tlv_len_ok(&t), v[i].ok);
	}
	/* Location sub-TLVs: known types need 8 / 16 octets, unknown any */
	uint8_t loc[BUF];
	size_t n = tw_hexvec_decode("0000 0000 8004 0010 00000000000000000000000000000000 8063 0001 00", loc, BUF);
	tw_tlv t = { .type = 2, .len = (uint16_t)n, .value = loc };
	assert_true(tw_tlv_len_ok(&t));
	n = tw_hexvec_decode("0000 0000 8004 0008 0000000000000000", loc, BUF);
	t.len = (uint16_t)n;
	assert_false(tw_tlv_len_ok(&t));
	n = tw_hexvec_decode("0000 0000 8001 0008 00000000", loc, BUF); /* sub-TLV past the end */
	t.len = (uint16_t)n;
	assert_false(tw_tlv_len_ok(&t));
	n = tw_hexvec_decode("0000 0000 80", loc, BUF); /* trailing octet */
	t.len = (uint16_t)n;
	assert_false(tw_tlv_len_ok(&t));
}

/* ---- reflector: each type ---- */

static void test_reflect_cos_v14(void **state)
{
	(void)state;
	tw_tlv_result res;
	reflect_case(v4_ctx(), NULL, 5, "80040004b8000000", 5, "00040004b8a40000", &res);
	assert_true(res.cos);
	assert_true(res.dscp1_applied);
	assert_int_equal(res.reply_dscp, 46);
	assert_int_equal(res.processed, 1);

	/* policy refuses DSCP1: RP = 1, the reply keeps the received DSCP */
	tw_tlv_ctx ctx = *v4_ctx();
	ctx.allow_dscp1 = false;
	reflect_case(&ctx, NULL, 5, "80040004b8000000", 5, "00040004b8a50000", &res);
	assert_false(res.dscp1_applied);
	assert_int_equal(res.reply_dscp, 10);

	/* reserved bits and a sender's stray DSCP2/ECN/RP are overwritten */
	ctx.ds_byte = 0xb8 | 2; /* EF, ECT(0) */
	ctx.allow_dscp1 = true;
	reflect_case(&ctx, NULL, 5, "80040004 03ff ffff", 5, "00040004 02e8 0000", &res);
	assert_int_equal(res.reply_dscp, 0);
}

static void test_reflect_location_v4(void **state)
{
	(void)state;
	tw_tlv_result res;
	reflect_case(v4_ctx(), NULL, 1,
		     "80 02 00 2c 00 00 00 00"
		     "80 04 00 10 00000000 00000000 00000000 00000000"
		     "80 07 00 10 00000000 00000000 00000000 00000000",
		     1,
		     "00 02 00 2c 03 5e 9c 40"
		     "00 05 00 10 c0000202 00000000 00000000 00000000"
		     "00 08 00 10 c0000201 00000000 00000000 00000000",
		     &res);
	assert_int_equal(res.processed, 1);

	/* the sender reads them back */
	uint8_t a[BUF];
	size_t n = tw_hexvec_decode("00 02 00 2c 03 5e 9c 40"
			    "00 05 00 10 c0000202 00000000 00000000 00000000"
			    "00 08 00 10 c0000201 00000000 00000000 00000000",
			    a, BUF);
	tw_tlv_report rep;
	assert_int_equal(tw_tlv_read_reflected(a, n, NULL, 1, &rep), 0);
	assert_true(rep.seen & (1u << TW_TLV_LOCATION));
	assert_int_equal(rep.location.dst_port, 862);
	assert_int_equal(rep.location.src_port, 40000);
	assert_int_equal(rep.location.dst.family, TW_TLV_AF_INET);
	assert_memory_equal(rep.location.dst.octets, ((uint8_t[]){ 192, 0, 2, 2 }), 4);
	assert_int_equal(rep.location.src.family, TW_TLV_AF_INET);
	assert_memory_equal(rep.location.src.octets, ((uint8_t[]){ 192, 0, 2, 1 }), 4);
	assert_int_equal(rep.location.mac_len, 0);
}

static void test_reflect_location_v6_mac(void **state)
{
	(void)state;
	tw_tlv_ctx ctx = { .src_port = 5000, .dst_port = 862, .mac_len = 6, .mac = { 2, 0, 0x5e, 0, 0x53, 1 } };
	ctx.src.family = ctx.dst.family = TW_TLV_AF_INET6;
	uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	a6[15] = 1;
	memcpy(ctx.src.octets, a6, 16);
	a6[15] = 2;
	memcpy(ctx.dst.octets, a6, 16);
	tw_tlv_result res;
	reflect_case(&ctx, NULL, 1,
		     "80 02 00 38 00 00 00 00"
		     "80 01 00 08 00 00 00 00 00 00 00 00"
		     "80 04 00 10 00000000 00000000 00000000 00000000"
		     "80 07 00 10 00000000 00000000 00000000 00000000",
		     1,
		     "00 02 00 38 03 5e 13 88"
		     "00 02 00 08 02 00 5e 00 53 01 00 00"
		     "00 06 00 10 20010db8 00000000 00000000 00000002"
		     "00 09 00 10 20010db8 00000000 00000000 00000001",
		     &res);

	/* IPv4-mapped addresses are answered as IPv4; no MAC known: the MAC
	 * request stays unanswered (U kept); unknown sub-TLVs are kept */
	ctx.mac_len = 0;
	static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7 };
	memcpy(ctx.src.octets, mapped, 16);
	ctx.dst.family = TW_TLV_AF_NONE;
	reflect_case(&ctx, NULL, 1,
		     "80 02 00 3c 00 00 00 00"
		     "80 01 00 08 00 00 00 00 00 00 00 00"
		     "80 04 00 10 00000000 00000000 00000000 00000000"
		     "80 09 00 10 00000000 00000000 00000000 00000000"
		     "80 63 00 00",
		     1,
		     "00 02 00 3c 03 5e 13 88"
		     "80 01 00 08 00 00 00 00 00 00 00 00"
		     "80 04 00 10 00000000 00000000 00000000 00000000"
		     "00 08 00 10 c6336407 00000000 00000000 00000000"
		     "80 63 00 00",
		     &res);

	uint8_t a[BUF];
	size_t n = tw_hexvec_decode("00 02 00 38 03 5e 13 88"
			    "00 02 00 08 02 00 5e 00 53 01 00 00"
			    "00 06 00 10 20010db8 00000000 00000000 00000002"
			    "80 09 00 10 00000000 00000000 00000000 00000000",
			    a, BUF);
	tw_tlv_report rep;
	assert_int_equal(tw_tlv_read_reflected(a, n, NULL, 1, &rep), 0);
	assert_int_equal(rep.location.mac_len, 6);
	assert_memory_equal(rep.location.mac, ctx.mac, 6);
	assert_int_equal(rep.location.dst.family, TW_TLV_AF_INET6);
	assert_memory_equal(rep.location.dst.octets, a6, 16);
	assert_int_equal(rep.location.src.family, TW_TLV_AF_NONE); /* U set: not answered */
}

static void test_reflect_tsinfo_dm_access(void **state)
{
	(void)state;
	tw_tlv_result res;
	reflect_case(v4_ctx(), NULL, 1,
		     "80 03 00 04 00 00 00 00"
		     "80 05 00 0c 11 22 33 44 00 00 00 00 00 00 00 00"
		     "80 06 00 04 10 01 00 00",
		     1,
		     "00 03 00 04 01 02 02 01"
		     "00 05 00 0c 11 22 33 44 00 00 00 05 00 00 00 06"
		     "00 06 00 04 10 01 00 00",
		     &res);
	assert_int_equal(res.processed, 3);
	assert_true(res.access);
	assert_int_equal(res.access_report.id, TW_ACCESS_3GPP);
	assert_int_equal(res.access_report.return_code, TW_ACCESS_AVAILABLE);

	/* Timestamp Information sub-TLVs are returned as they came */
	reflect_case(v4_ctx(), NULL, 1, "80 03 00 08 00 00 00 00 80 01 00 00", 1,
		     "00 03 00 08 01 02 02 01 80 01 00 00", &res);

	/* an Access Report with an unknown ID is ignored: returned with U */
	reflect_case(v4_ctx(), NULL, 1, "80 06 00 04 30 01 00 00", 1, "80 06 00 04 30 01 00 00", &res);
	assert_false(res.access);
	assert_int_equal(res.unrecognized, 1);
}

static void test_reflect_follow_up(void **state)
{
	(void)state;
	tw_tlv_result res;
	reflect_case(v4_ctx(), NULL, 1, "80 07 00 10 00000000 00000000 00000000 00000000", 1,
		     "00 07 00 10 00000029 e8fe6f82 40200000 01000000", &res);
	tw_tlv_ctx ctx = *v4_ctx();
	ctx.stateless = true; /* prev is set but must not be reported */
	reflect_case(&ctx, NULL, 1, "80 07 00 10 ffffffff ffffffff ffffffff ffffffff", 1,
		     "00 07 00 10 00000000 00000000 00000000 00000000", &res);
	assert_int_equal(res.processed, 1);
}

static void test_reflect_unknown(void **state)
{
	(void)state;
	tw_tlv_result res;
	reflect_case(v4_ctx(), NULL, 1,
		     "80 63 00 03 ab cd ef"
		     "80 00 00 00"
		     "00 ff 00 01 77"
		     "80 fc 00 06 00 00 01 02 aa bb"
		     "80 04 00 04 b8 00 00 00",
		     1,
		     "80 63 00 03 ab cd ef"
		     "80 00 00 00"
		     "00 ff 00 01 77"
		     "80 fc 00 06 00 00 01 02 aa bb"
		     "00 04 00 04 b8 a4 00 00",
		     &res);
	assert_int_equal(res.unrecognized, 4);
	assert_int_equal(res.processed, 1);
	assert_false(res.malformed);
}

/* ---- reflector: malformed ---- */

static void test_reflect_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} v[] = {
		/* too short for the type: M, and the rest stays as received */
		{ "80040004b8000000 80040003b80000 8001000400000000",
		  "00040004b8a40000 c0040003b80000 8001000400000000" },
		/* past the end */
		{ "8001000400000000 8005000c112233440000", "0001000400000000 c005000c112233440000" },
		{ "8001ffff00", "c001ffff00" },
		/* zero length where the type has a value */
		{ "80040000 80010000", "c0040000 80010000" },
		{ "80050000", "c0050000" },
		{ "80020000", "c0020000" },
		{ "80030000", "c0030000" },
		{ "80080000", "c0080000" },
		/* Follow-Up must be 16 (erratum 8339) */
		{ "8007000c 000000000000000000000000", "c007000c 000000000000000000000000" },
		/* Location with a sub-TLV of the wrong length / past its end */
		{ "80020014 00000000 80040008 0000000000000000 80010000",
		  "c0020014 00000000 80040008 0000000000000000 80010000" },
		{ "80020010 00000000 80040010 0000000000000000", "c0020010 00000000 80040010 0000000000000000" },
		/* a private type needs the enterprise number */
		{ "80fd0002 0000 80040004b8000000", "c0fd0002 0000 80040004b8000000" },
		/* an empty padding is fine, an unknown type any length */
		{ "80010000 80630000", "00010000 80630000" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		tw_tlv_result res;
		reflect_case(v4_ctx(), NULL, 1, v[i].in, 1, v[i].want, &res);
		assert_int_equal(res.malformed, i != sizeof(v) / sizeof(v[0]) - 1);
	}

	/* 1-3 trailing octets hold no header: nothing to flag, left as is */
	tw_tlv_result res;
	reflect_case(v4_ctx(), NULL, 1, "80010000 abcd", 1, "00010000 abcd", &res);
	assert_true(res.malformed);
	assert_int_equal(res.processed, 1);
	reflect_case(v4_ctx(), NULL, 1, "80", 1, "80", &res);
	assert_true(res.malformed);
}

/* ---- reflector: HMAC TLV ---- */

static void test_reflect_hmac_good(void **state)
{
	tw_test_crypto *c = *state;
	char in[128], want[128];
	tw_tlv_result res;
	snprintf(in, sizeof(in), "80040004b8000000 80080010 %s", HMAC_SEQ7_COS);
	snprintf(want, sizeof(want), "00040004b8a40000 00080010 %s", HMAC_SEQ3_COS_REFL);
	reflect_case(v4_ctx(), c, 7, in, 3, want, &res);
	assert_false(res.integrity_failed);
	assert_int_equal(res.processed, 2);

	/* Extra Padding may follow the HMAC TLV (not covered by it) */
	snprintf(in, sizeof(in), "80040004b8000000 80080010 %s 80010002 abcd", HMAC_SEQ7_COS);
	snprintf(want, sizeof(want), "00040004b8a40000 00080010 %s 00010002 abcd", HMAC_SEQ3_COS_REFL);
	reflect_case(v4_ctx(), c, 7, in, 3, want, &res);
	assert_false(res.integrity_failed);

	/* only Extra Padding: no HMAC TLV needed */
	reflect_case(v4_ctx(), c, 7, "80010002 abcd", 3, "00010002 abcd", &res);
	assert_false(res.integrity_failed);
}

/* A sender-built area with padding before and after the HMAC TLV. */
static void test_reflect_hmac_built(void **state)
{
	tw_test_crypto *c = *state;
	uint8_t a[BUF], out[BUF];
	tw_wr w = tw_wr_make(a, sizeof(a));
	assert_int_equal(tw_tlv_put_padding(&w, NULL, 5), 0);
	assert_int_equal(tw_tlv_put_direct_measurement(&w, 99), 0);
	assert_int_equal(tw_tlv_put_follow_up(&w), 0);
	assert_int_equal(tw_tlv_put_hmac(&w, c, 1000, a, tw_wr_len(&w)), 0);
	assert_int_equal(tw_tlv_put_padding(&w, NULL, 3), 0);
	size_t n = tw_wr_len(&w);
	tw_tlv_result res;
	assert_int_equal(tw_tlv_reflect(v4_ctx(), c, 1000, a, 2000, out, n, &res), 0);
	assert_false(res.integrity_failed);
	assert_int_equal(res.processed, 5);
	tw_tlv_report rep;
	assert_int_equal(tw_tlv_read_reflected(out, n, c, 2000, &rep), 0);
	assert_false(rep.integrity_failed);
	assert_int_equal(rep.dm.s_txc, 99);
	assert_int_equal(rep.dm.r_rxc, 5);
	assert_int_equal(rep.dm.r_txc, 6);
	assert_int_equal(rep.follow_up.seq, 41);
	assert_int_equal(rep.padding_len, 8);
	/* the reply HMAC is over the reply's seq, not the request's */
	assert_int_equal(tw_tlv_read_reflected(out, n, c, 1000, &rep), 0);
	assert_true(rep.integrity_failed);
}

static void test_reflect_hmac_bad(void **state)
{
	tw_test_crypto *c = *state;
	char in[128], want[128];
	tw_tlv_result res;
	/* { before the MAC, after it } for the request and the expected reply */
	static const struct {
		uint32_t seq;
		const char *in[2], *want[2];
	} cases[] = {
		/* wrong seq (the MAC is for seq 7) */
		{ 8, { "80040004b8000000 80080010", "" }, { "a0040004b8000000 a0080010", "" } },
		/* misplaced: a TLV other than Extra Padding after the HMAC TLV */
		{ 7, { "80080010", "80040004b8000000" }, { "a0080010", "a0040004b8000000" } },
		/* two HMAC TLVs */
		{ 7,
		  { "80040004b8000000 80080010", "80080010 00000000000000000000000000000000" },
		  { "a0040004b8000000 a0080010", "a0080010 00000000000000000000000000000000" } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(in, sizeof(in), "%s %s %s", cases[i].in[0], HMAC_SEQ7_COS, cases[i].in[1]);
		snprintf(want, sizeof(want), "%s %s %s", cases[i].want[0], HMAC_SEQ7_COS, cases[i].want[1]);
		reflect_case(v4_ctx(), c, cases[i].seq, in, 3, want, &res);
		assert_true(res.integrity_failed);
		assert_int_equal(res.processed, 0);
		assert_false(res.cos);
	}
	/* misplaced although the MAC itself (over the seq alone) is right */
	snprintf(in, sizeof(in), "80080010 %s 80040004b8000000", HMAC_SEQ7);
	snprintf(want, sizeof(want), "a0080010 %s a0040004b8000000", HMAC_SEQ7);
	reflect_case(v4_ctx(), c, 7, in, 3, want, &res);
	assert_true(res.integrity_failed);
	/* ... and the same HMAC TLV alone is accepted */
	snprintf(in, sizeof(in), "80080010 %s", HMAC_SEQ7);
	reflect_case(v4_ctx(), c, 7, in, 3, "00080010 88a514926e60dbe566dc0027aba5fe8e", &res);
	assert_false(res.integrity_failed);
	/* one bit of the covered CoS changed */
	snprintf(in, sizeof(in), "80040004b8010000 80080010 %s", HMAC_SEQ7_COS);
	snprintf(want, sizeof(want), "a0040004b8010000 a0080010 %s", HMAC_SEQ7_COS);
	reflect_case(v4_ctx(), c, 7, in, 3, want, &res);
	assert_true(res.integrity_failed);
	/* missing while a CoS TLV is present */
	reflect_case(v4_ctx(), c, 7, "80040004b8000000", 3, "a0040004b8000000", &res);
	assert_true(res.integrity_failed);
	/* an HMAC TLV of the wrong length cannot verify; a broken tail is flagged too */
	reflect_case(v4_ctx(), c, 7, "80080008 0000000000000000 8001ffff", 3, "a0080008 0000000000000000 a001ffff",
		     &res);
	assert_true(res.integrity_failed);
}

/* Unauthenticated: no key, the HMAC TLV is not processed (U kept). */
static void test_reflect_hmac_unkeyed(void **state)
{
	(void)state;
	char in[128], want[128];
	tw_tlv_result res;
	snprintf(in, sizeof(in), "80040004b8000000 80080010 %s", HMAC_SEQ7_COS);
	snprintf(want, sizeof(want), "00040004b8a40000 80080010 %s", HMAC_SEQ7_COS);
	reflect_case(v4_ctx(), NULL, 7, in, 3, want, &res);
	assert_int_equal(res.processed, 1);
	assert_int_equal(res.unrecognized, 1);
}

static void test_reflect_args(void **state)
{
	(void)state;
	uint8_t a[8] = { 0 };
	tw_tlv_result res = { .processed = 3 };
	assert_int_equal(tw_tlv_reflect(NULL, NULL, 0, a, 0, a, 8, &res), -EINVAL);
	assert_int_equal(tw_tlv_reflect(v4_ctx(), NULL, 0, a, 0, a, 8, NULL), -EINVAL);
	assert_int_equal(tw_tlv_reflect(v4_ctx(), NULL, 0, NULL, 0, a, 8, &res), -EINVAL);
	assert_int_equal(tw_tlv_reflect(v4_ctx(), NULL, 0, NULL, 0, NULL, 0, &res), 0);
	assert_int_equal(res.processed, 0);
	assert_int_equal(res.reply_dscp, 10); /* no CoS TLV: the received DSCP */
}

/* ---- sender: reading the reflected area ---- */

static void test_read_reflected_flags(void **state)
{
	(void)state;
	uint8_t a[BUF];
	tw_tlv_report rep;
	/* U set: ignored; the rest is read */
	size_t n = tw_hexvec_decode("80040004b8a40000 0005000c 00000001 00000002 00000003 00030004 01020201", a, BUF);
	assert_int_equal(tw_tlv_read_reflected(a, n, NULL, 1, &rep), 0);
	assert_int_equal(rep.unrecognized, 1);
	assert_false(rep.seen & (1u << TW_TLV_COS));
	assert_true(rep.seen & (1u << TW_TLV_DIRECT_MEASUREMENT));
	assert_int_equal(rep.dm.r_txc, 3);
	assert_int_equal(rep.tsinfo.sync_out, TW_SYNC_PTP);
	assert_int_equal(rep.tsinfo.method_out, TW_TSMETHOD_HW);

	/* M: stop there */
	n = tw_hexvec_decode("00040004b8a40000 c005000c 00000001 00000002 00000003 00030004 01020201", a, BUF);
	assert_int_equal(tw_tlv_read_reflected(a, n, NULL, 1, &rep), 0);
	assert_true(rep.malformed);
	assert_int_equal(rep.seen, 1u << TW_TLV_COS);
	assert_int_equal(rep.cos.dscp2, 10);

	/* I anywhere: everything discarded */
	n = tw_hexvec_decode("00040004b8a40000 2005000c 00000001 00000002 00000003", a, BUF);
	assert_int_equal(tw_tlv_read_reflected(a, n, NULL, 1, &rep), 0);
	assert_true(rep.integrity_failed);
	assert_int_equal(rep.seen, 0);
	assert_int_equal(rep.cos.dscp2, 0);

	/* a broken tail or a bad Length the reflector claims to understand */
	n = tw_hexvec_decode("00040004b8a40000 0001ffff", a, BUF);
	assert_int_equal(tw_tlv_read_reflected(a, n, NULL, 1, &rep), 0);
	assert_true(rep.malformed);
	assert_int_equal(rep.seen, 1u << TW_TLV_COS);
	n = tw_hexvec_decode("00040003b8a400 00070010 00000000000000000000000000000000", a, BUF);
	assert_int_equal(tw_tlv_read_reflected(a, n, NULL, 1, &rep), 0);
	assert_true(rep.malformed);
	assert_int_equal(rep.seen, 0);

	/* Access Report and Follow-Up values */
	n = tw_hexvec_decode("00060004 20020000 00070010 00000029 e8fe6f82 40200000 01000000", a, BUF);
	assert_int_equal(tw_tlv_read_reflected(a, n, NULL, 1, &rep), 0);
	assert_int_equal(rep.access.id, TW_ACCESS_NON_3GPP);
	assert_int_equal(rep.access.return_code, TW_ACCESS_UNAVAILABLE);
	assert_int_equal(rep.follow_up.seq, 41);
	assert_true(rep.follow_up.ts == T3);
	assert_int_equal(rep.follow_up.mode, TW_TSMETHOD_HW);
	assert_int_equal(tw_tlv_read_reflected(a, n, NULL, 1, NULL), -EINVAL);
}

static void test_read_reflected_hmac(void **state)
{
	tw_test_crypto *c = *state;
	uint8_t a[BUF];
	char hex[128];
	tw_tlv_report rep;
	snprintf(hex, sizeof(hex), "00040004b8a40000 00080010 %s", HMAC_SEQ3_COS_REFL);
	size_t n = tw_hexvec_decode(hex, a, BUF);
	assert_int_equal(tw_tlv_read_reflected(a, n, c, 3, &rep), 0);
	assert_false(rep.integrity_failed);
	assert_int_equal(rep.cos.dscp1, 46);
	a[13] ^= 1; /* the MAC itself */
	assert_int_equal(tw_tlv_read_reflected(a, n, c, 3, &rep), 0);
	assert_true(rep.integrity_failed);
	assert_int_equal(rep.seen, 0);
	/* missing HMAC TLV in authenticated mode */
	assert_int_equal(tw_tlv_read_reflected(a, 8, c, 3, &rep), 0);
	assert_true(rep.integrity_failed);
	/* only padding needs none; an M before the HMAC TLV leaves nothing to protect */
	n = tw_hexvec_decode("00010002 abcd", a, BUF);
	assert_int_equal(tw_tlv_read_reflected(a, n, c, 3, &rep), 0);
	assert_false(rep.integrity_failed);
	assert_int_equal(rep.padding_len, 2);
	snprintf(hex, sizeof(hex), "c0040003b8a400 80080010 %s", HMAC_SEQ3_COS_REFL);
	n = tw_hexvec_decode(hex, a, BUF);
	assert_int_equal(tw_tlv_read_reflected(a, n, c, 3, &rep), 0);
	assert_false(rep.integrity_failed);
	assert_true(rep.malformed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TW_TESTKEYS_STAMP_TEST(test_builders),
		TW_TESTKEYS_STAMP_TEST(test_builder_errors),
		cmocka_unit_test(test_iter),
		cmocka_unit_test(test_len_rules),
		cmocka_unit_test(test_reflect_cos_v14),
		cmocka_unit_test(test_reflect_location_v4),
		cmocka_unit_test(test_reflect_location_v6_mac),
		cmocka_unit_test(test_reflect_tsinfo_dm_access),
		cmocka_unit_test(test_reflect_follow_up),
		cmocka_unit_test(test_reflect_unknown),
		cmocka_unit_test(test_reflect_malformed),
		TW_TESTKEYS_STAMP_TEST(test_reflect_hmac_good),
		TW_TESTKEYS_STAMP_TEST(test_reflect_hmac_built),
		TW_TESTKEYS_STAMP_TEST(test_reflect_hmac_bad),
		cmocka_unit_test(test_reflect_hmac_unkeyed),
		cmocka_unit_test(test_reflect_args),
		cmocka_unit_test(test_read_reflected_flags),
		TW_TESTKEYS_STAMP_TEST(test_read_reflected_hmac),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
