/*
 * fuzz_tlv.c - the RFC 8972 TLV area on both sides.
 *
 * Input: two selector octets, then a TLV area.
 *   octet 0  bit 0 keyed (HMAC key 00..1f), bit 1 stateless, bit 2 policy
 *            allows DSCP1, bit 3 re-sign the first HMAC TLV so it verifies,
 *            bit 4 IPv6 addresses, bit 5 source MAC known
 *   octet 1  received DS byte
 * The reflector's answer must not change the area's length, must be the
 * same in place, must set I everywhere or process normally, and the
 * sender must be able to read it; when the request carried no M or I
 * flags and the reflector neither stopped nor failed the integrity check,
 * the sender must not see an integrity failure. Typed decoders and the
 * length rule are run on every TLV the iterator yields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testkeys.h"
#include "tlv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX = 65536, RX_SEQ = 0x01020304, TX_SEQ = 0x0a0b0c0d };

static uint8_t area[MAX], out[MAX], inplace[MAX];

static tw_tlv_ctx make_ctx(uint8_t sel, uint8_t ds)
{
	tw_tlv_ctx ctx = {
		.ds_byte = ds,
		.allow_dscp1 = (sel & 4) != 0,
		.src_port = 1,
		.dst_port = 2,
		.mac_len = (sel & 32) ? 6 : 0,
		.mac = { 2, 0, 0x5e, 0, 0x53, 1 },
		.rx_count = 3,
		.tx_count = 4,
		.tsinfo = { TW_SYNC_PTP, TW_TSMETHOD_HW, TW_SYNC_PTP, TW_TSMETHOD_HW },
		.stateless = (sel & 2) != 0,
		.prev = { 5, 6, TW_TSMETHOD_HW },
	};
	ctx.src.family = ctx.dst.family = (sel & 16) ? TW_TLV_AF_INET6 : TW_TLV_AF_INET;
	ctx.src.octets[10] = ctx.src.octets[11] = 0xff; /* v4-mapped when IPv6 */
	ctx.dst.octets[0] = 0x20;
	return ctx;
}

/* Every yielded TLV through the typed decoders; returns whether any TLV
 * carries M or I. */
static bool walk(const uint8_t *a, size_t len)
{
	tw_tlv_iter it;
	tw_tlv t;
	bool flagged = false;
	int rc;
	tw_tlv_iter_init(&it, a, len);
	while ((rc = tw_tlv_next(&it, &t)) == 1) {
		flagged = flagged || (t.flags & (TW_TLV_FLAG_M | TW_TLV_FLAG_I));
		bool ok = tw_tlv_len_ok(&t);
		tw_tlv_cos cos;
		tw_tlv_location loc;
		tw_tlv_tsinfo ts;
		tw_tlv_dm dm;
		tw_tlv_access acc;
		tw_tlv_follow_up fu;
		int n = (tw_tlv_cos_decode(&t, &cos) == 0) + (tw_tlv_location_decode(&t, &loc) == 0) +
			(tw_tlv_tsinfo_decode(&t, &ts) == 0) + (tw_tlv_dm_decode(&t, &dm) == 0) +
			(tw_tlv_access_decode(&t, &acc) == 0) + (tw_tlv_follow_up_decode(&t, &fu) == 0);
		if (n > 1 || (n == 1 && !ok))
			abort();
	}
	if (rc < 0 && t.off > len)
		abort();
	return flagged || (rc < 0 && len - t.off >= TW_TLV_HDR_LEN && (t.flags & (TW_TLV_FLAG_M | TW_TLV_FLAG_I)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size - 2 > MAX)
		return 0;
	uint8_t sel = data[0];
	size_t len = size - 2;
	memcpy(area, data + 2, len);
	tw_test_crypto *c = (sel & 1) ? tw_testkeys_stamp_shared() : NULL;
	static const uint8_t rx_seq[4] = { 1, 2, 3, 4 }; /* RX_SEQ */
	if (c && (sel & 8) && tw_testkeys_sign_hmac_tlv(c, rx_seq, area, len) < 0)
		abort();
	bool flagged = walk(area, len);

	tw_tlv_ctx ctx = make_ctx(sel, data[1]);
	tw_tlv_result res, res2;
	if (tw_tlv_reflect(&ctx, c, RX_SEQ, area, TX_SEQ, out, len, &res) != 0)
		abort();
	memcpy(inplace, area, len);
	if (tw_tlv_reflect(&ctx, c, RX_SEQ, inplace, TX_SEQ, inplace, len, &res2) != 0 ||
	    memcmp(inplace, out, len) != 0 || memcmp(&res, &res2, sizeof(res)) != 0)
		abort();
	if (res.integrity_failed && (res.processed || res.cos || res.access))
		abort();
	if (!res.cos && res.reply_dscp != data[1] >> 2)
		abort();
	(void)walk(out, len);

	tw_tlv_report rep;
	if (tw_tlv_read_reflected(out, len, c, TX_SEQ, &rep) != 0)
		abort();
	if (c && !flagged && !res.integrity_failed && !res.malformed && rep.integrity_failed)
		abort(); /* the reflector's own HMAC TLV must verify */
	return 0;
}
