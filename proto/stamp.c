/*
 * stamp.c - STAMP test packets (see stamp.h; spec test.md §§9-10).
 *
 * Authenticated mode (test.md §9.3): HMAC-SHA-256 truncated to 16 octets
 * over octets 0-95 (MBZ and timestamps included) at octet 96, both
 * directions, nothing encrypted - unlike TWAMP's 16-octet coverage.
 */
#include "stamp.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "wire.h"

enum {
	MAC_OFF = 96, /* authenticated: HMAC at 96, covering 0-95 */
	/* offsets of what stamp() writes, the same in both directions */
	OPEN_TS_OFF = 4,
	OPEN_ERR_OFF = 12,
	AUTH_TS_OFF = 16,
	AUTH_ERR_OFF = 24,
};

size_t tw_stamp_base_len(tw_stamp_sec sec)
{
	switch (sec) {
	case TW_STAMP_OPEN:
		return TW_STAMP_BASE_OPEN;
	case TW_STAMP_AUTH:
		return TW_STAMP_BASE_AUTH;
	default:
		return 0;
	}
}

static int check_mode(tw_stamp_sec sec, const tw_test_crypto *c)
{
	if (tw_stamp_base_len(sec) == 0)
		return -EINVAL;
	return sec == TW_STAMP_AUTH && !c ? -EINVAL : 0;
}

static bool mac_ok(tw_test_crypto *c, const uint8_t *pkt)
{
	return tw_test_mac_verify(c, pkt, MAC_OFF, pkt + MAC_OFF);
}

/* Shared by both stamp() functions: the timestamp sits at the same offset
 * in sender and reflector packets of a mode. */
static int stamp_ts(tw_stamp_sec sec, tw_test_crypto *c, uint8_t *pkt, size_t len, tw_ts ts, uint16_t errest)
{
	int rc = check_mode(sec, c);
	if (rc < 0)
		return rc;
	if (!pkt || len < tw_stamp_base_len(sec))
		return -EMSGSIZE;
	if (sec == TW_STAMP_OPEN) {
		tw_put_u64(pkt + OPEN_TS_OFF, ts);
		tw_put_u16(pkt + OPEN_ERR_OFF, errest);
		return 0;
	}
	tw_put_u64(pkt + AUTH_TS_OFF, ts);
	tw_put_u16(pkt + AUTH_ERR_OFF, errest);
	return tw_test_mac(c, pkt, MAC_OFF, pkt + MAC_OFF);
}

/* ---- Session-Sender packet ----
 *
 * Unauthenticated, 44 octets:
 *   0 Sequence Number (4) | 4 Timestamp (8) | 12 Error Estimate (2)
 *   14 SSID (2) | 16 MBZ (28)
 *
 * Authenticated, 112 octets:
 *   0 Sequence Number (4) | 4 MBZ (12)
 *   16 Timestamp (8) | 24 Error Estimate (2) | 26 SSID (2) | 28 MBZ (68)
 *   96 HMAC (16)
 *
 * Then TLVs. A TWAMP Light sender packet (test.md §3.1) is the first 14
 * octets of the unauthenticated layout followed by padding.
 */

static void write_sender(tw_wr *w, tw_stamp_sec sec, uint32_t seq, uint16_t ssid)
{
	tw_wr_u32(w, seq);
	if (sec == TW_STAMP_AUTH)
		tw_wr_zero(w, 12);
	tw_wr_zero(w, 8); /* Timestamp: stamp() */
	tw_wr_zero(w, 2); /* Error Estimate: stamp() */
	tw_wr_u16(w, ssid);
	tw_wr_zero(w, sec == TW_STAMP_AUTH ? 68 + TW_MAC_LEN : 28);
}

static void read_sender(tw_rd *r, tw_stamp_sec sec, bool light, tw_stamp_sender_fields *out)
{
	out->seq = tw_rd_u32(r);
	if (sec == TW_STAMP_AUTH)
		tw_rd_skip(r, 12);
	out->ts = tw_rd_u64(r);
	out->errest = tw_rd_u16(r);
	if (!light)
		out->ssid = tw_rd_u16(r);
}

int tw_stamp_sender_build(tw_stamp_sec sec, uint32_t seq, uint16_t ssid, const uint8_t *tlvs, size_t tlv_len,
			  uint8_t *out, size_t cap)
{
	size_t base = tw_stamp_base_len(sec);
	if (base == 0 || (tlv_len && !tlvs))
		return -EINVAL;
	if (!out || tlv_len > TW_STAMP_MAX_PACKET - base || base + tlv_len > cap)
		return -EMSGSIZE;
	/* TLVs first: they may overlap out + base; built in place (the
	 * sender's way, every packet) they need no copy at all */
	if (tlv_len && tlvs != out + base)
		memmove(out + base, tlvs, tlv_len);
	tw_wr w = tw_wr_make(out, base);
	write_sender(&w, sec, seq, ssid);
	if (!tw_wr_ok(&w) || tw_wr_len(&w) != base)
		return -EMSGSIZE;
	return (int)(base + tlv_len);
}

int tw_stamp_sender_stamp(tw_stamp_sec sec, tw_test_crypto *c, uint8_t *pkt, size_t len, tw_ts t1,
			  uint16_t errest)
{
	return stamp_ts(sec, c, pkt, len, t1, errest);
}

/* Reads the sender fields without checking the HMAC. */
static int sender_decode(tw_stamp_sec sec, const uint8_t *pkt, size_t len, tw_stamp_sender_fields *out)
{
	size_t base = tw_stamp_base_len(sec);
	size_t min = sec == TW_STAMP_OPEN ? (size_t)TW_STAMP_LIGHT_MIN : base;
	if (!pkt || !out || len < min)
		return -EMSGSIZE;
	memset(out, 0, sizeof(*out));
	out->light = len < base;
	tw_rd r = tw_rd_make(pkt, len);
	read_sender(&r, sec, out->light, out);
	if (!out->light) {
		out->tlv_off = base;
		out->tlv_len = len - base;
	}
	return tw_rd_ok(&r) ? 0 : -EMSGSIZE;
}

int tw_stamp_sender_parse(tw_stamp_sec sec, tw_test_crypto *c, const uint8_t *pkt, size_t len,
			  tw_stamp_sender_fields *out)
{
	int rc = check_mode(sec, c);
	if (rc < 0)
		return rc;
	rc = sender_decode(sec, pkt, len, out);
	if (rc < 0)
		return rc;
	if (sec == TW_STAMP_AUTH && !mac_ok(c, pkt))
		return -EBADMSG;
	return 0;
}

/* ---- Session-Reflector packet ----
 *
 * Unauthenticated, 44 octets:
 *   0 Sequence Number (4) | 4 Timestamp (8) | 12 Error Estimate (2)
 *   14 SSID (2) | 16 Receive Timestamp (8) | 24 Ses-Sender Sequence Number (4)
 *   28 Ses-Sender Timestamp (8) | 36 Ses-Sender Error Estimate (2)
 *   38 MBZ (2) | 40 Ses-Sender TTL (1) | 41 MBZ (3)
 *
 * Authenticated, 112 octets:
 *   0 Sequence Number (4) | 4 MBZ (12)
 *   16 Timestamp (8) | 24 Error Estimate (2) | 26 SSID (2) | 28 MBZ (4)
 *   32 Receive Timestamp (8) | 40 MBZ (8)
 *   48 Ses-Sender Sequence Number (4) | 52 MBZ (12)
 *   64 Ses-Sender Timestamp (8) | 72 Ses-Sender Error Estimate (2) | 74 MBZ (6)
 *   80 Ses-Sender TTL (1) | 81 MBZ (15)
 *   96 HMAC (16)
 *
 * Then TLVs, as long as the sender's.
 */

static void write_reflector_open(tw_wr *w, const tw_stamp_reply *in, const tw_stamp_sender_fields *s)
{
	tw_wr_u32(w, in->seq);
	tw_wr_zero(w, 8); /* Timestamp (T3): stamp() */
	tw_wr_zero(w, 2); /* Error Estimate: stamp() */
	tw_wr_u16(w, s->ssid);
	tw_wr_u64(w, in->rx_ts);
	tw_wr_u32(w, s->seq);
	tw_wr_u64(w, s->ts);
	tw_wr_u16(w, s->errest);
	tw_wr_zero(w, 2);
	tw_wr_u8(w, in->ttl);
	tw_wr_zero(w, 3);
}

static void write_reflector_auth(tw_wr *w, const tw_stamp_reply *in, const tw_stamp_sender_fields *s)
{
	tw_wr_u32(w, in->seq);
	tw_wr_zero(w, 12);
	tw_wr_zero(w, 8); /* Timestamp (T3): stamp() */
	tw_wr_zero(w, 2); /* Error Estimate: stamp() */
	tw_wr_u16(w, s->ssid);
	tw_wr_zero(w, 4);
	tw_wr_u64(w, in->rx_ts);
	tw_wr_zero(w, 8);
	tw_wr_u32(w, s->seq);
	tw_wr_zero(w, 12);
	tw_wr_u64(w, s->ts);
	tw_wr_u16(w, s->errest);
	tw_wr_zero(w, 6);
	tw_wr_u8(w, in->ttl);
	tw_wr_zero(w, 15);
	tw_wr_zero(w, TW_MAC_LEN); /* HMAC: stamp() */
}

static void read_reflector(tw_rd *r, tw_stamp_sec sec, tw_stamp_reflector_fields *out)
{
	bool auth = sec == TW_STAMP_AUTH;
	out->seq = tw_rd_u32(r);
	tw_rd_skip(r, auth ? 12 : 0);
	out->ts = tw_rd_u64(r);
	out->errest = tw_rd_u16(r);
	out->ssid = tw_rd_u16(r);
	tw_rd_skip(r, auth ? 4 : 0);
	out->rx_ts = tw_rd_u64(r);
	tw_rd_skip(r, auth ? 8 : 0);
	out->sender_seq = tw_rd_u32(r);
	tw_rd_skip(r, auth ? 12 : 0);
	out->sender_ts = tw_rd_u64(r);
	out->sender_errest = tw_rd_u16(r);
	tw_rd_skip(r, auth ? 6 : 2);
	out->sender_ttl = tw_rd_u8(r);
	tw_rd_skip(r, auth ? 15 + TW_MAC_LEN : 3);
}

int tw_stamp_reflector_parse(tw_stamp_sec sec, tw_test_crypto *c, const uint8_t *pkt, size_t len,
			     tw_stamp_reflector_fields *out)
{
	int rc = check_mode(sec, c);
	if (rc < 0)
		return rc;
	size_t base = tw_stamp_base_len(sec);
	if (!pkt || !out || len < base)
		return -EMSGSIZE;
	if (sec == TW_STAMP_AUTH && !mac_ok(c, pkt))
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	tw_rd r = tw_rd_make(pkt, len);
	read_reflector(&r, sec, out);
	out->tlv_off = base;
	out->tlv_len = len - base;
	return tw_rd_ok(&r) && tw_rd_left(&r) == out->tlv_len ? 0 : -EMSGSIZE;
}

/* The reply's TLV area: processed per RFC 8972 with a context, else copied. */
static int reflect_tlvs(tw_stamp_sec sec, tw_test_crypto *c, const uint8_t *req, const tw_stamp_sender_fields *s,
			const tw_stamp_reply *in, tw_tlv_result *res, uint8_t *out)
{
	size_t off = s->tlv_off;
	if (in->tlv)
		return tw_tlv_reflect(in->tlv, sec == TW_STAMP_AUTH ? c : NULL, s->seq, req + off, in->seq, out + off,
				      s->tlv_len, res);
	memset(res, 0, sizeof(*res));
	if (s->tlv_len && out != req)
		memcpy(out + off, req + off, s->tlv_len);
	return 0;
}

int tw_stamp_reflector_build(tw_stamp_sec sec, tw_test_crypto *c, const uint8_t *req, size_t req_len,
			     const tw_stamp_reply *in, tw_tlv_result *res, uint8_t *out, size_t cap)
{
	int rc = check_mode(sec, c);
	if (rc < 0)
		return rc;
	tw_stamp_sender_fields s;
	rc = sender_decode(sec, req, req_len, &s);
	if (rc < 0)
		return rc;
	size_t base = tw_stamp_base_len(sec);
	size_t len = s.light ? base : req_len;
	if (!in || !out || len > cap || len > TW_STAMP_MAX_PACKET)
		return !in ? -EINVAL : -EMSGSIZE;
	tw_tlv_result scratch;
	rc = reflect_tlvs(sec, c, req, &s, in, res ? res : &scratch, out);
	if (rc < 0)
		return rc;
	tw_wr w = tw_wr_make(out, base);
	if (sec == TW_STAMP_AUTH)
		write_reflector_auth(&w, in, &s);
	else
		write_reflector_open(&w, in, &s);
	if (!tw_wr_ok(&w) || tw_wr_len(&w) != base)
		return -EMSGSIZE;
	return (int)len;
}

int tw_stamp_reflector_stamp(tw_stamp_sec sec, tw_test_crypto *c, uint8_t *pkt, size_t len, tw_ts t3,
			     uint16_t errest)
{
	return stamp_ts(sec, c, pkt, len, t3, errest);
}
