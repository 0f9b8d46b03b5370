/*
 * tlv.c - STAMP TLVs (see tlv.h; spec test.md §10).
 *
 * The reflector works in three steps over the received area: a read-only
 * scan (where the well-formed TLVs end, where the HMAC TLV is), the
 * integrity verdict (authenticated mode), then the in-place edits of the
 * copy. Scanning before editing keeps the HMAC input intact and lets
 * tx == rx.
 */
#include "tlv.h"

#include <errno.h>
#include <string.h>

enum {
	SEQ_LEN = 4,    /* the HMAC TLV's input starts with the base Sequence Number */
	SUB_SHORT = 8,  /* Location sub-TLVs 1-3 */
	SUB_LONG = 16,  /* Location sub-TLVs 4-9 */
	IPV4_LEN = 4,
	IPV6_LEN = 16,
	MAC_LEN = 6,
	LOC_PORTS = 4,  /* Destination Port (2) | Source Port (2) before the sub-TLVs */
	NO_OFF = -1,
};

/* ---- iteration ---- */

void tw_tlv_iter_init(tw_tlv_iter *it, const uint8_t *area, size_t len)
{
	memset(it, 0, sizeof(*it));
	it->rd = tw_rd_make(area, area ? len : 0);
	it->len = area ? len : 0;
}

int tw_tlv_next(tw_tlv_iter *it, tw_tlv *t)
{
	memset(t, 0, sizeof(*t));
	if (it->bad) {
		t->off = it->bad_off;
		return -EBADMSG;
	}
	size_t left = tw_rd_left(&it->rd);
	if (left == 0)
		return 0;
	t->off = it->len - left;
	if (left >= TW_TLV_HDR_LEN) {
		t->flags = tw_rd_u8(&it->rd);
		t->type = tw_rd_u8(&it->rd);
		t->len = tw_rd_u16(&it->rd);
	}
	t->value = left >= TW_TLV_HDR_LEN ? tw_rd_take(&it->rd, t->len) : NULL;
	if (!t->value) {
		it->bad = true;
		it->bad_off = t->off;
		return -EBADMSG;
	}
	return 1;
}

static size_t sub_len(uint8_t type)
{
	if (type >= TW_LOC_SRC_MAC && type <= TW_LOC_SRC_EUI64)
		return SUB_SHORT;
	if (type >= TW_LOC_DST_IP && type <= TW_LOC_SRC_IPV6)
		return SUB_LONG;
	return 0; /* unknown: any */
}

static bool location_subs_ok(const uint8_t *subs, size_t len)
{
	tw_tlv_iter it;
	tw_tlv s;
	int rc;
	tw_tlv_iter_init(&it, subs, len);
	while ((rc = tw_tlv_next(&it, &s)) == 1) {
		size_t want = sub_len(s.type);
		if (want && s.len != want)
			return false;
	}
	return rc == 0;
}

bool tw_tlv_len_ok(const tw_tlv *t)
{
	if (!t || (!t->value && t->len))
		return false;
	switch (t->type) {
	case TW_TLV_LOCATION:
		return t->len >= TW_TLV_LOCATION_MIN &&
		       location_subs_ok(t->value + LOC_PORTS, t->len - (size_t)LOC_PORTS);
	case TW_TLV_TIMESTAMP_INFO:
		return t->len >= TW_TLV_TSINFO_MIN;
	case TW_TLV_COS:
		return t->len == TW_TLV_COS_LEN;
	case TW_TLV_DIRECT_MEASUREMENT:
		return t->len == TW_TLV_DM_LEN;
	case TW_TLV_ACCESS_REPORT:
		return t->len == TW_TLV_ACCESS_LEN;
	case TW_TLV_FOLLOW_UP:
		return t->len == TW_TLV_FOLLOW_UP_LEN;
	case TW_TLV_HMAC:
		return t->len == TW_TLV_HMAC_LEN;
	default:
		if (t->type >= TW_TLV_PRIVATE_FIRST && t->type <= TW_TLV_PRIVATE_LAST)
			return t->len >= TW_TLV_PRIVATE_MIN;
		return true;
	}
}

/* ---- Session-Sender: building ----
 *
 *   0 Flags (1) | 1 Type (1) | 2 Length (2) | 4 Value (Length)
 */

static int wr_result(const tw_wr *w)
{
	return tw_wr_ok(w) ? 0 : -EMSGSIZE;
}

static void put_hdr(tw_wr *w, uint8_t flags, uint8_t type, uint16_t len)
{
	tw_wr_u8(w, flags);
	tw_wr_u8(w, type);
	tw_wr_u16(w, len);
}

int tw_tlv_put_raw(tw_wr *w, uint8_t flags, uint8_t type, const uint8_t *value, uint16_t len)
{
	if (!w)
		return -EINVAL;
	put_hdr(w, flags, type, len);
	if (value)
		tw_wr_copy(w, value, len);
	else
		tw_wr_zero(w, len);
	return wr_result(w);
}

int tw_tlv_put_padding(tw_wr *w, const uint8_t *fill, uint16_t len)
{
	return tw_tlv_put_raw(w, TW_TLV_FLAG_U, TW_TLV_EXTRA_PADDING, fill, len);
}

/* Location: 0 Destination Port (2) | 2 Source Port (2) | 4 sub-TLVs, each
 * with the TLV header; requests carry MBZ values of 8 (MAC) or 16 octets. */
int tw_tlv_put_location_request(tw_wr *w, unsigned req)
{
	if (!w || (req & ~(unsigned)(TW_LOC_REQ_SRC_MAC | TW_LOC_REQ_DST_IP | TW_LOC_REQ_SRC_IP)))
		return -EINVAL;
	static const struct {
		unsigned bit;
		uint8_t type;
		uint16_t len;
	} subs[] = {
		{ TW_LOC_REQ_SRC_MAC, TW_LOC_SRC_MAC, SUB_SHORT },
		{ TW_LOC_REQ_DST_IP, TW_LOC_DST_IP, SUB_LONG },
		{ TW_LOC_REQ_SRC_IP, TW_LOC_SRC_IP, SUB_LONG },
	};
	size_t len = LOC_PORTS;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		len += (req & subs[i].bit) ? TW_TLV_HDR_LEN + (size_t)subs[i].len : 0;
	put_hdr(w, TW_TLV_FLAG_U, TW_TLV_LOCATION, (uint16_t)len);
	tw_wr_zero(w, LOC_PORTS);
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (req & subs[i].bit)
			(void)tw_tlv_put_raw(w, TW_TLV_FLAG_U, subs[i].type, NULL, subs[i].len);
	}
	return wr_result(w);
}

/* Timestamp Information: Sync Src In | Timestamp In | Sync Src Out |
 * Timestamp Out (1 each); the sender sends zeros. */
int tw_tlv_put_timestamp_info(tw_wr *w)
{
	return tw_tlv_put_raw(w, TW_TLV_FLAG_U, TW_TLV_TIMESTAMP_INFO, NULL, TW_TLV_TSINFO_MIN);
}

/* Class of Service, one 32-bit word:
 *   DSCP1 (6) | DSCP2 (6) | ECN (2) | RP (2) | Reserved (16)
 */
enum { COS_DSCP1_SHIFT = 26, COS_DSCP2_SHIFT = 20, COS_ECN_SHIFT = 18, COS_RP_SHIFT = 16 };

static uint32_t cos_word(const tw_tlv_cos *c)
{
	return (uint32_t)(c->dscp1 & 0x3Fu) << COS_DSCP1_SHIFT | (uint32_t)(c->dscp2 & 0x3Fu) << COS_DSCP2_SHIFT |
	       (uint32_t)(c->ecn & 3u) << COS_ECN_SHIFT | (uint32_t)(c->rp & 3u) << COS_RP_SHIFT;
}

static tw_tlv_cos cos_unpack(uint32_t word)
{
	tw_tlv_cos c = {
		.dscp1 = (uint8_t)(word >> COS_DSCP1_SHIFT & 0x3Fu),
		.dscp2 = (uint8_t)(word >> COS_DSCP2_SHIFT & 0x3Fu),
		.ecn = (uint8_t)(word >> COS_ECN_SHIFT & 3u),
		.rp = (uint8_t)(word >> COS_RP_SHIFT & 3u),
	};
	return c;
}

int tw_tlv_put_cos(tw_wr *w, uint8_t dscp1)
{
	if (!w || dscp1 > 63)
		return -EINVAL;
	tw_tlv_cos c = { .dscp1 = dscp1 };
	put_hdr(w, TW_TLV_FLAG_U, TW_TLV_COS, TW_TLV_COS_LEN);
	tw_wr_u32(w, cos_word(&c));
	return wr_result(w);
}

/* Direct Measurement: S_TxC (4) | R_RxC (4) | R_TxC (4). */
int tw_tlv_put_direct_measurement(tw_wr *w, uint32_t s_txc)
{
	if (!w)
		return -EINVAL;
	put_hdr(w, TW_TLV_FLAG_U, TW_TLV_DIRECT_MEASUREMENT, TW_TLV_DM_LEN);
	tw_wr_u32(w, s_txc);
	tw_wr_zero(w, 8);
	return wr_result(w);
}

/* Access Report: ID (4 bits) | Resv (4) | Return Code (8) | Reserved (16). */
static bool access_id_ok(uint8_t id)
{
	return id == TW_ACCESS_3GPP || id == TW_ACCESS_NON_3GPP;
}

int tw_tlv_put_access_report(tw_wr *w, uint8_t id, uint8_t return_code)
{
	if (!w || !access_id_ok(id) ||
	    (return_code != TW_ACCESS_AVAILABLE && return_code != TW_ACCESS_UNAVAILABLE))
		return -EINVAL;
	put_hdr(w, TW_TLV_FLAG_U, TW_TLV_ACCESS_REPORT, TW_TLV_ACCESS_LEN);
	tw_wr_u8(w, (uint8_t)(id << 4));
	tw_wr_u8(w, return_code);
	tw_wr_zero(w, 2);
	return wr_result(w);
}

/* Follow-Up Telemetry: Sequence Number (4) | Follow-Up Timestamp (8) |
 * Timestamp Mode (1) | Reserved (3); the sender sends zeros. */
int tw_tlv_put_follow_up(tw_wr *w)
{
	return tw_tlv_put_raw(w, TW_TLV_FLAG_U, TW_TLV_FOLLOW_UP, NULL, TW_TLV_FOLLOW_UP_LEN);
}

/* HMAC: 16 octets of HMAC-SHA-256 over Sequence Number || preceding TLVs. */
static int tlv_mac(tw_test_crypto *c, uint32_t seq, const uint8_t *covered, size_t len, uint8_t mac[TW_MAC_LEN])
{
	uint8_t s[SEQ_LEN];
	tw_put_u32(s, seq);
	return tw_test_mac2(c, s, sizeof(s), covered, len, mac);
}

int tw_tlv_put_hmac(tw_wr *w, tw_test_crypto *c, uint32_t seq, const uint8_t *covered, size_t covered_len)
{
	if (!w || !c || (!covered && covered_len))
		return -EINVAL;
	uint8_t mac[TW_MAC_LEN];
	int rc = tlv_mac(c, seq, covered, covered_len, mac);
	if (rc < 0)
		return rc;
	return tw_tlv_put_raw(w, TW_TLV_FLAG_U, TW_TLV_HMAC, mac, TW_TLV_HMAC_LEN);
}

/* ---- typed values ---- */

static bool is(const tw_tlv *t, uint8_t type)
{
	return t && t->type == type && tw_tlv_len_ok(t);
}

int tw_tlv_cos_decode(const tw_tlv *t, tw_tlv_cos *out)
{
	if (!out || !is(t, TW_TLV_COS))
		return -EBADMSG;
	*out = cos_unpack(tw_get_u32(t->value));
	return 0;
}

int tw_tlv_tsinfo_decode(const tw_tlv *t, tw_tlv_tsinfo *out)
{
	if (!out || !is(t, TW_TLV_TIMESTAMP_INFO))
		return -EBADMSG;
	tw_rd r = tw_rd_make(t->value, t->len);
	out->sync_in = tw_rd_u8(&r);
	out->method_in = tw_rd_u8(&r);
	out->sync_out = tw_rd_u8(&r);
	out->method_out = tw_rd_u8(&r);
	return tw_rd_ok(&r) ? 0 : -EBADMSG;
}

int tw_tlv_dm_decode(const tw_tlv *t, tw_tlv_dm *out)
{
	if (!out || !is(t, TW_TLV_DIRECT_MEASUREMENT))
		return -EBADMSG;
	tw_rd r = tw_rd_make(t->value, t->len);
	out->s_txc = tw_rd_u32(&r);
	out->r_rxc = tw_rd_u32(&r);
	out->r_txc = tw_rd_u32(&r);
	return tw_rd_ok(&r) ? 0 : -EBADMSG;
}

int tw_tlv_access_decode(const tw_tlv *t, tw_tlv_access *out)
{
	if (!out || !is(t, TW_TLV_ACCESS_REPORT))
		return -EBADMSG;
	tw_rd r = tw_rd_make(t->value, t->len);
	out->id = (uint8_t)(tw_rd_u8(&r) >> 4);
	out->return_code = tw_rd_u8(&r);
	tw_rd_skip(&r, 2);
	return tw_rd_ok(&r) ? 0 : -EBADMSG;
}

int tw_tlv_follow_up_decode(const tw_tlv *t, tw_tlv_follow_up *out)
{
	if (!out || !is(t, TW_TLV_FOLLOW_UP))
		return -EBADMSG;
	tw_rd r = tw_rd_make(t->value, t->len);
	out->seq = tw_rd_u32(&r);
	out->ts = tw_rd_u64(&r);
	out->mode = tw_rd_u8(&r);
	tw_rd_skip(&r, 3);
	return tw_rd_ok(&r) ? 0 : -EBADMSG;
}

/* One answered Location sub-TLV into out (unanswered requests and unknown
 * sub-TLVs are skipped; U set means the reflector did not answer). */
static void location_sub(const tw_tlv *s, tw_tlv_location *out)
{
	if (s->flags & TW_TLV_FLAG_U)
		return;
	tw_tlv_addr *a = NULL;
	size_t n = 0;
	switch (s->type) {
	case TW_LOC_SRC_EUI48:
	case TW_LOC_SRC_EUI64:
		out->mac_len = s->type == TW_LOC_SRC_EUI48 ? MAC_LEN : SUB_SHORT;
		memcpy(out->mac, s->value, out->mac_len);
		return;
	case TW_LOC_DST_IPV4:
	case TW_LOC_SRC_IPV4:
		n = IPV4_LEN;
		break;
	case TW_LOC_DST_IPV6:
	case TW_LOC_SRC_IPV6:
		n = IPV6_LEN;
		break;
	default:
		return;
	}
	a = s->type <= TW_LOC_DST_IPV6 ? &out->dst : &out->src;
	memset(a, 0, sizeof(*a));
	a->family = n == IPV4_LEN ? TW_TLV_AF_INET : TW_TLV_AF_INET6;
	memcpy(a->octets, s->value, n);
}

int tw_tlv_location_decode(const tw_tlv *t, tw_tlv_location *out)
{
	if (!out || !is(t, TW_TLV_LOCATION))
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	tw_rd r = tw_rd_make(t->value, t->len);
	out->dst_port = tw_rd_u16(&r);
	out->src_port = tw_rd_u16(&r);
	tw_tlv_iter it;
	tw_tlv s;
	tw_tlv_iter_init(&it, t->value + LOC_PORTS, t->len - (size_t)LOC_PORTS);
	while (tw_tlv_next(&it, &s) == 1)
		location_sub(&s, out);
	return tw_rd_ok(&r) ? 0 : -EBADMSG;
}

/* ---- Session-Reflector: processing ---- */

/* What a read-only walk of the received area found. */
typedef struct scan {
	size_t stop;       /* processing ends here: the first malformed TLV, or len */
	bool stop_hdr;     /* that TLV has a header to carry the M flag */
	long hmac_off;     /* first HMAC TLV or NO_OFF */
	unsigned hmacs;    /* HMAC TLVs seen */
	bool after_hmac;   /* a TLV other than Extra Padding follows the first HMAC TLV */
	bool needs_hmac;   /* a TLV other than Extra Padding and HMAC is present */
} scan;

static void scan_one(scan *s, const tw_tlv *t)
{
	if (t->type == TW_TLV_HMAC) {
		if (s->hmacs++ == 0) {
			s->hmac_off = (long)t->off;
			return;
		}
	} else if (t->type != TW_TLV_EXTRA_PADDING) {
		s->needs_hmac = true;
	}
	if (s->hmacs && t->type != TW_TLV_EXTRA_PADDING)
		s->after_hmac = true;
}

static void scan_area(const uint8_t *area, size_t len, scan *s)
{
	memset(s, 0, sizeof(*s));
	s->stop = len;
	s->hmac_off = NO_OFF;
	tw_tlv_iter it;
	tw_tlv t;
	int rc;
	tw_tlv_iter_init(&it, area, len);
	while ((rc = tw_tlv_next(&it, &t)) == 1) {
		/* the walk goes on past a bad Length to find the HMAC TLV */
		if (!tw_tlv_len_ok(&t) && s->stop == len) {
			s->stop = t.off;
			s->stop_hdr = true;
		}
		scan_one(s, &t);
	}
	if (rc < 0 && s->stop == len) {
		s->stop = t.off;
		s->stop_hdr = len - t.off >= TW_TLV_HDR_LEN;
	}
	if (rc < 0 && len - t.off >= TW_TLV_HDR_LEN && t.type != TW_TLV_EXTRA_PADDING)
		s->needs_hmac = true; /* a broken TLV that is not padding still wants protection */
}

static bool integrity_ok(tw_test_crypto *c, uint32_t seq, const uint8_t *area, size_t len, const scan *s)
{
	if (s->hmacs == 0)
		return !s->needs_hmac;
	if (s->hmacs > 1 || s->after_hmac)
		return false;
	size_t off = (size_t)s->hmac_off;
	if (len - off < TW_TLV_HDR_LEN + (size_t)TW_TLV_HMAC_LEN || tw_get_u16(area + off + 2) != TW_TLV_HMAC_LEN)
		return false;
	uint8_t s4[SEQ_LEN];
	tw_put_u32(s4, seq);
	return tw_test_mac2_verify(c, s4, sizeof(s4), area, off, area + off + TW_TLV_HDR_LEN);
}

/* ORs flag into every TLV header the walk can reach, the broken one too. */
static void flag_all(uint8_t *area, size_t len, uint8_t flag)
{
	tw_tlv_iter it;
	tw_tlv t;
	int rc;
	tw_tlv_iter_init(&it, area, len);
	while ((rc = tw_tlv_next(&it, &t)) == 1)
		area[t.off] |= flag;
	if (rc < 0 && len - t.off >= TW_TLV_HDR_LEN)
		area[t.off] |= flag;
}

static bool put_addr(uint8_t *sub, const tw_tlv_addr *a, uint8_t type4, uint8_t type6)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	uint8_t *v = sub + TW_TLV_HDR_LEN;
	if (a->family == TW_TLV_AF_INET6 && memcmp(a->octets, mapped, sizeof(mapped)) != 0) {
		sub[1] = type6;
		memcpy(v, a->octets, IPV6_LEN);
		return true;
	}
	if (a->family != TW_TLV_AF_INET && a->family != TW_TLV_AF_INET6)
		return false;
	sub[1] = type4;
	memset(v, 0, SUB_LONG);
	memcpy(v, a->family == TW_TLV_AF_INET ? a->octets : a->octets + sizeof(mapped), IPV4_LEN);
	return true;
}

/* Answers one sub-TLV in place (header at sub; its length was checked). */
static bool answer_sub(const tw_tlv_ctx *ctx, uint8_t *sub, uint8_t type)
{
	switch (type) {
	case TW_LOC_SRC_MAC:
	case TW_LOC_SRC_EUI48:
	case TW_LOC_SRC_EUI64:
		if (ctx->mac_len != MAC_LEN)
			return false;
		sub[1] = TW_LOC_SRC_EUI48;
		memset(sub + TW_TLV_HDR_LEN, 0, SUB_SHORT);
		memcpy(sub + TW_TLV_HDR_LEN, ctx->mac, MAC_LEN);
		return true;
	case TW_LOC_DST_IP:
	case TW_LOC_DST_IPV4:
	case TW_LOC_DST_IPV6:
		return put_addr(sub, &ctx->dst, TW_LOC_DST_IPV4, TW_LOC_DST_IPV6);
	case TW_LOC_SRC_IP:
	case TW_LOC_SRC_IPV4:
	case TW_LOC_SRC_IPV6:
		return put_addr(sub, &ctx->src, TW_LOC_SRC_IPV4, TW_LOC_SRC_IPV6);
	default:
		return false;
	}
}

static void answer_location(const tw_tlv_ctx *ctx, uint8_t *v, size_t len)
{
	tw_put_u16(v, ctx->dst_port);
	tw_put_u16(v + 2, ctx->src_port);
	uint8_t *subs = v + LOC_PORTS;
	tw_tlv_iter it;
	tw_tlv s;
	tw_tlv_iter_init(&it, subs, len - LOC_PORTS);
	while (tw_tlv_next(&it, &s) == 1) {
		if (answer_sub(ctx, subs + s.off, s.type))
			subs[s.off] &= (uint8_t)~TW_TLV_FLAG_U;
	}
}

static void answer_cos(const tw_tlv_ctx *ctx, uint8_t *v, tw_tlv_result *res)
{
	tw_tlv_cos c = cos_unpack(tw_get_u32(v));
	c.dscp2 = (uint8_t)(ctx->ds_byte >> 2);
	c.ecn = (uint8_t)(ctx->ds_byte & 3u); /* erratum 8199 */
	c.rp = ctx->allow_dscp1 ? 0 : 1;
	tw_put_u32(v, cos_word(&c));
	res->cos = true;
	res->dscp1_applied = ctx->allow_dscp1;
	res->reply_dscp = ctx->allow_dscp1 ? c.dscp1 : c.dscp2;
}

static bool answer_access(const uint8_t *v, tw_tlv_result *res)
{
	uint8_t id = (uint8_t)(v[0] >> 4);
	if (!access_id_ok(id))
		return false; /* RFC 8972: an unknown ID makes the TLV ignored */
	res->access = true;
	res->access_report.id = id;
	res->access_report.return_code = v[1];
	return true;
}

static void answer_follow_up(const tw_tlv_ctx *ctx, uint8_t *v)
{
	memset(v, 0, TW_TLV_FOLLOW_UP_LEN);
	if (ctx->stateless)
		return; /* a stateless reflector has no previous packet: zeros */
	tw_put_u32(v, ctx->prev.seq);
	tw_put_u64(v + 4, ctx->prev.ts);
	v[12] = ctx->prev.mode;
}

static void answer_tsinfo(const tw_tlv_ctx *ctx, uint8_t *v)
{
	v[0] = ctx->tsinfo.sync_in;
	v[1] = ctx->tsinfo.method_in;
	v[2] = ctx->tsinfo.sync_out;
	v[3] = ctx->tsinfo.method_out;
}

/* Fills one well-formed TLV's value in place; false = not understood. */
static bool answer(const tw_tlv_ctx *ctx, bool keyed, const tw_tlv *t, uint8_t *v, tw_tlv_result *res)
{
	switch (t->type) {
	case TW_TLV_EXTRA_PADDING:
		return true;
	case TW_TLV_LOCATION:
		answer_location(ctx, v, t->len);
		return true;
	case TW_TLV_TIMESTAMP_INFO:
		answer_tsinfo(ctx, v);
		return true;
	case TW_TLV_COS:
		answer_cos(ctx, v, res);
		return true;
	case TW_TLV_DIRECT_MEASUREMENT:
		tw_put_u32(v + 4, ctx->rx_count);
		tw_put_u32(v + 8, ctx->tx_count);
		return true;
	case TW_TLV_ACCESS_REPORT:
		return answer_access(v, res);
	case TW_TLV_FOLLOW_UP:
		answer_follow_up(ctx, v);
		return true;
	case TW_TLV_HMAC:
		return keyed; /* recomputed once the TLVs before it are final */
	default:
		return false;
	}
}

static void process(const tw_tlv_ctx *ctx, bool keyed, uint8_t *tx, size_t len, const scan *s,
		    tw_tlv_result *res)
{
	tw_tlv_iter it;
	tw_tlv t;
	tw_tlv_iter_init(&it, tx, s->stop);
	while (tw_tlv_next(&it, &t) == 1) {
		uint8_t *v = tx + t.off + TW_TLV_HDR_LEN;
		if (answer(ctx, keyed, &t, v, res)) {
			tx[t.off] &= (uint8_t)~TW_TLV_FLAG_U;
			res->processed++;
		} else {
			res->unrecognized++;
		}
	}
	if (s->stop < len) {
		res->malformed = true;
		if (s->stop_hdr)
			tx[s->stop] |= TW_TLV_FLAG_M;
	}
}

int tw_tlv_reflect(const tw_tlv_ctx *ctx, tw_test_crypto *c, uint32_t rx_seq, const uint8_t *rx,
		   uint32_t tx_seq, uint8_t *tx, size_t len, tw_tlv_result *res)
{
	if (!ctx || !res || (len && (!rx || !tx)))
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	res->reply_dscp = (uint8_t)(ctx->ds_byte >> 2);
	if (len == 0)
		return 0;
	scan s;
	scan_area(rx, len, &s);
	bool ok = !c || integrity_ok(c, rx_seq, rx, len, &s);
	if (tx != rx)
		memcpy(tx, rx, len);
	if (!ok) {
		flag_all(tx, len, TW_TLV_FLAG_I);
		res->integrity_failed = true;
		return 0;
	}
	process(ctx, c != NULL, tx, len, &s, res);
	if (!c || s.hmac_off == NO_OFF || (size_t)s.hmac_off >= s.stop)
		return 0;
	size_t off = (size_t)s.hmac_off;
	return tlv_mac(c, tx_seq, tx, off, tx + off + TW_TLV_HDR_LEN);
}

/* ---- Session-Sender: reading the reflected area ---- */

/* Where reading stops (first M flag, broken TLV, or a Length wrong for a
 * type the reflector claims to have understood), whether any TLV carries
 * I, and the HMAC facts for the part before the stop. */
static void scan_reflected(const uint8_t *area, size_t len, scan *s, bool *any_i)
{
	memset(s, 0, sizeof(*s));
	s->stop = len;
	s->hmac_off = NO_OFF;
	*any_i = false;
	tw_tlv_iter it;
	tw_tlv t;
	int rc;
	tw_tlv_iter_init(&it, area, len);
	while ((rc = tw_tlv_next(&it, &t)) == 1) {
		*any_i = *any_i || (t.flags & TW_TLV_FLAG_I);
		bool bad = (t.flags & TW_TLV_FLAG_M) || (!(t.flags & TW_TLV_FLAG_U) && !tw_tlv_len_ok(&t));
		if (bad && s->stop == len)
			s->stop = t.off;
		if (s->stop == len && (t.type == TW_TLV_HMAC || !(t.flags & TW_TLV_FLAG_U)))
			scan_one(s, &t);
	}
	if (rc < 0) {
		*any_i = *any_i || (len - t.off >= TW_TLV_HDR_LEN && (t.flags & TW_TLV_FLAG_I));
		if (s->stop == len)
			s->stop = t.off;
	}
}

static void read_one(const tw_tlv *t, tw_tlv_report *out)
{
	int rc = 0;
	switch (t->type) {
	case TW_TLV_EXTRA_PADDING:
		out->padding_len += t->len;
		break;
	case TW_TLV_LOCATION:
		rc = tw_tlv_location_decode(t, &out->location);
		break;
	case TW_TLV_TIMESTAMP_INFO:
		rc = tw_tlv_tsinfo_decode(t, &out->tsinfo);
		break;
	case TW_TLV_COS:
		rc = tw_tlv_cos_decode(t, &out->cos);
		break;
	case TW_TLV_DIRECT_MEASUREMENT:
		rc = tw_tlv_dm_decode(t, &out->dm);
		break;
	case TW_TLV_ACCESS_REPORT:
		rc = tw_tlv_access_decode(t, &out->access);
		break;
	case TW_TLV_FOLLOW_UP:
		rc = tw_tlv_follow_up_decode(t, &out->follow_up);
		break;
	case TW_TLV_HMAC:
		break;
	default:
		out->unrecognized++; /* understood by the reflector, not by us */
		return;
	}
	if (rc == 0)
		out->seen |= 1u << t->type;
}

int tw_tlv_read_reflected(const uint8_t *area, size_t len, tw_test_crypto *c, uint32_t seq,
			  tw_tlv_report *out)
{
	if (!out || (!area && len))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	scan s;
	bool any_i;
	scan_reflected(area, len, &s, &any_i);
	if (any_i || (c && !integrity_ok(c, seq, area, s.stop, &s))) {
		out->integrity_failed = true;
		return 0;
	}
	out->malformed = s.stop < len;
	tw_tlv_iter it;
	tw_tlv t;
	tw_tlv_iter_init(&it, area, s.stop);
	while (tw_tlv_next(&it, &t) == 1) {
		if (t.flags & TW_TLV_FLAG_U)
			out->unrecognized++;
		else
			read_one(&t, out);
	}
	return 0;
}
