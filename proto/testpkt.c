/*
 * testpkt.c - TWAMP-Test packets (see testpkt.h; spec test.md §§3-7).
 *
 * Keyed modes (test.md §5): the HMAC (first 16 octets of HMAC-SHA1 with the
 * test HMAC key) always covers plaintext and is itself never encrypted.
 *
 *   mode  packet     encrypted / MAC'd  cipher         HMAC at
 *   auth  sender     0-15               AES-ECB        32
 *   auth  reflector  0-15               AES-ECB        96
 *   enc   sender     0-31               AES-CBC, IV 0  32
 *   enc   reflector  0-95               AES-CBC, IV 0  96
 *
 * The reflector authenticates 32 octets of an encrypted sender packet, not
 * the 96 RFC 5357 §4.2 mentions (ambiguity T8; twampd does the same).
 * Padding and the Symmetrical Size MBZ area are never encrypted nor MAC'd.
 * No allocation: keyed parsers decrypt into a stack copy of the header.
 */
#include "testpkt.h"

#include "control.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "wire.h"

enum {
	BLOCK = 16,          /* AES block: authenticated mode protects block 0 */
	SENDER_ENC_LEN = 32, /* encrypted-mode sender: octets 0-31 */
	REFL_ENC_LEN = 96,   /* encrypted-mode reflector: octets 0-95 */
	SENDER_MAC_OFF = 32,
	REFL_MAC_OFF = 96,
	/* offsets of the fields stamp() writes: Error Estimate right after
	 * the Timestamp in every layout */
	OPEN_TS_OFF = 4,
	KEYED_TS_OFF = 16,
	ERR_AFTER_TS = 8,
};

/* ---- formats ---- */

static bool keyed(const tw_test_fmt *f)
{
	return f->sec != TW_TEST_OPEN;
}

size_t tw_test_reflector_hdr_len(const tw_test_fmt *f)
{
	if (keyed(f))
		return TW_REFLECTOR_HDR_KEYED; /* 7750's octet 81 lies inside the MBZ */
	return f->dscp_ecn ? TW_REFLECTOR_HDR_OPEN_DSCP_ECN : TW_REFLECTOR_HDR_OPEN;
}

size_t tw_test_sender_hdr_len(const tw_test_fmt *f)
{
	/* RFC 6038: the symmetric sender header is as long as the reflector's
	 * (MBZ area 27, 30 with RFC 7750, 64 keyed - decisions 1 and 4). */
	if (f->symmetric)
		return tw_test_reflector_hdr_len(f);
	return keyed(f) ? TW_SENDER_HDR_KEYED : TW_SENDER_HDR_OPEN;
}

size_t tw_test_symmetric_padding(const tw_test_fmt *f)
{
	return tw_test_reflector_hdr_len(f) - tw_test_sender_hdr_len(f);
}

static int check_fmt(const tw_test_fmt *f, const tw_test_crypto *c)
{
	if (!f || (f->sec != TW_TEST_OPEN && f->sec != TW_TEST_AUTH && f->sec != TW_TEST_ENC))
		return -EINVAL;
	return keyed(f) && !c ? -EINVAL : 0;
}

/* ---- keyed-mode protection ---- */

static size_t covered_len(tw_test_sec sec, bool reflector)
{
	if (sec == TW_TEST_AUTH)
		return BLOCK;
	return reflector ? REFL_ENC_LEN : SENDER_ENC_LEN;
}

/* HMAC over the plaintext into mac, then encrypt the plaintext in place. */
static int protect(tw_test_sec sec, tw_test_crypto *c, uint8_t *buf, size_t n, uint8_t *mac)
{
	int rc = tw_test_mac(c, buf, n, mac);
	if (rc < 0)
		return rc;
	return sec == TW_TEST_AUTH ? tw_test_ecb_encrypt(c, buf, n) : tw_test_cbc_encrypt(c, buf, n);
}

static int decrypt(tw_test_sec sec, tw_test_crypto *c, uint8_t *buf, size_t n)
{
	return sec == TW_TEST_AUTH ? tw_test_ecb_decrypt(c, buf, n) : tw_test_cbc_decrypt(c, buf, n);
}

/* Decrypts buf in place and checks mac (constant time) over the result. */
static int unprotect(tw_test_sec sec, tw_test_crypto *c, uint8_t *buf, size_t n, const uint8_t *mac)
{
	int rc = decrypt(sec, c, buf, n);
	if (rc < 0)
		return rc;
	return tw_test_mac_verify(c, buf, n, mac) ? 0 : -EBADMSG;
}

/* Shared by both stamp() functions: the timestamp and Error Estimate sit
 * at the same offsets in sender and reflector packets of a mode; encrypted
 * mode then MACs and encrypts the covered octets, which include them. */
static int stamp_ts(const tw_test_fmt *f, tw_test_crypto *c, bool reflector, uint8_t *pkt, size_t len, tw_ts ts,
		    uint16_t errest)
{
	int rc = check_fmt(f, c);
	if (rc < 0)
		return rc;
	size_t hdr = reflector ? tw_test_reflector_hdr_len(f) : tw_test_sender_hdr_len(f);
	if (!pkt || len < hdr)
		return -EMSGSIZE;
	size_t ts_off = keyed(f) ? KEYED_TS_OFF : OPEN_TS_OFF;
	tw_put_u64(pkt + ts_off, ts);
	tw_put_u16(pkt + ts_off + ERR_AFTER_TS, errest);
	if (f->sec != TW_TEST_ENC)
		return 0;
	uint8_t *mac = pkt + (reflector ? REFL_MAC_OFF : SENDER_MAC_OFF);
	return protect(f->sec, c, pkt, covered_len(f->sec, reflector), mac);
}

/* ---- Session-Sender packet ----
 *
 * Unauthenticated / mixed (RFC 4656 §4.1.2), 14 octets:
 *   0 Sequence Number (4) | 4 Timestamp (8) | 12 Error Estimate (2)
 *
 * Authenticated / encrypted, 48 octets:
 *   0 Sequence Number (4) | 4 MBZ (12)
 *   16 Timestamp (8) | 24 Error Estimate (2) | 26 MBZ (6)
 *   32 HMAC (16)
 *
 * Symmetrical Size (RFC 6038) appends an MBZ area up to the reflector header
 * length (41 / 44 / 112); then Packet Padding.
 */

static void write_sender_open(tw_wr *w, uint32_t seq)
{
	tw_wr_u32(w, seq);
	tw_wr_zero(w, 8); /* Timestamp: stamp() */
	tw_wr_zero(w, 2); /* Error Estimate: stamp() */
}

static void write_sender_keyed(tw_wr *w, uint32_t seq)
{
	tw_wr_u32(w, seq);
	tw_wr_zero(w, 12);
	tw_wr_zero(w, 8); /* Timestamp: stamp() */
	tw_wr_zero(w, 2); /* Error Estimate: stamp() */
	tw_wr_zero(w, 6);
	tw_wr_zero(w, TW_MAC_LEN); /* HMAC: build (auth) or stamp (enc) */
}

static void read_sender_open(tw_rd *r, tw_sender_fields *out)
{
	out->seq = tw_rd_u32(r);
	out->ts = tw_rd_u64(r);
	out->errest = tw_rd_u16(r);
}

static void read_sender_keyed(tw_rd *r, tw_sender_fields *out)
{
	out->seq = tw_rd_u32(r);
	tw_rd_skip(r, 12);
	out->ts = tw_rd_u64(r);
	out->errest = tw_rd_u16(r);
	tw_rd_skip(r, 6);
}

int tw_sender_build(const tw_test_fmt *f, tw_test_crypto *c, uint32_t seq, const uint8_t *padding,
		    size_t padlen, uint8_t *out, size_t cap)
{
	int rc = check_fmt(f, c);
	if (rc < 0)
		return rc;
	size_t hdr = tw_test_sender_hdr_len(f);
	if (!out || padlen > TW_TEST_MAX_PACKET - hdr || hdr + padlen > cap)
		return -EMSGSIZE;
	tw_wr w = tw_wr_make(out, cap);
	if (keyed(f))
		write_sender_keyed(&w, seq);
	else
		write_sender_open(&w, seq);
	tw_wr_zero(&w, hdr - tw_wr_len(&w)); /* Symmetrical Size MBZ area */
	if (padding)
		tw_wr_copy(&w, padding, padlen);
	else
		tw_wr_zero(&w, padlen);
	if (!tw_wr_ok(&w))
		return -EMSGSIZE;
	/* Authenticated mode protects block 0 now so that stamp() only has to
	 * write the clear timestamp right before sending (test.md §3.5). */
	if (f->sec == TW_TEST_AUTH) {
		rc = protect(f->sec, c, out, BLOCK, out + SENDER_MAC_OFF);
		if (rc < 0)
			return rc;
	}
	return (int)(hdr + padlen);
}

int tw_sender_stamp(const tw_test_fmt *f, tw_test_crypto *c, uint8_t *pkt, size_t len, tw_ts t1,
		    uint16_t errest)
{
	return stamp_ts(f, c, false, pkt, len, t1, errest);
}

/* Decodes the sender header; verify = false only for reflector_build,
 * whose caller has already verified the same packet with tw_sender_parse. */
static int sender_decode(const tw_test_fmt *f, tw_test_crypto *c, const uint8_t *pkt, size_t len,
			 tw_sender_fields *out, bool verify)
{
	int rc = check_fmt(f, c);
	if (rc < 0)
		return rc;
	if (!pkt || !out || len < tw_test_sender_hdr_len(f))
		return -EMSGSIZE;
	memset(out, 0, sizeof(*out));
	if (!keyed(f)) {
		tw_rd r = tw_rd_make(pkt, len);
		read_sender_open(&r, out);
		return tw_rd_ok(&r) ? 0 : -EMSGSIZE;
	}
	uint8_t clear[TW_SENDER_HDR_KEYED];
	memcpy(clear, pkt, sizeof(clear));
	size_t n = covered_len(f->sec, false);
	rc = verify ? unprotect(f->sec, c, clear, n, pkt + SENDER_MAC_OFF) : decrypt(f->sec, c, clear, n);
	if (rc < 0)
		return rc;
	tw_rd r = tw_rd_make(clear, sizeof(clear));
	read_sender_keyed(&r, out);
	return tw_rd_ok(&r) ? 0 : -EMSGSIZE;
}

int tw_sender_parse(const tw_test_fmt *f, tw_test_crypto *c, const uint8_t *pkt, size_t len,
		    tw_sender_fields *out)
{
	return sender_decode(f, c, pkt, len, out, true);
}

/* ---- Session-Reflector packet ----
 *
 * Unauthenticated / mixed (RFC 5357 §4.2.1), 41 octets (44 with RFC 7750):
 *   0 Sequence Number (4) | 4 Timestamp (8) | 12 Error Estimate (2)
 *   14 MBZ (2) | 16 Receive Timestamp (8) | 24 Sender Sequence Number (4)
 *   28 Sender Timestamp (8) | 36 Sender Error Estimate (2) | 38 MBZ (2)
 *   40 Sender TTL (1) [| 41 S-DSCP-ECN (1) | 42 MBZ (2)]
 *
 * Authenticated / encrypted, 112 octets:
 *   0 Sequence Number (4) | 4 MBZ (12)
 *   16 Timestamp (8) | 24 Error Estimate (2) | 26 MBZ (6)
 *   32 Receive Timestamp (8) | 40 MBZ (8)
 *   48 Sender Sequence Number (4) | 52 MBZ (12)
 *   64 Sender Timestamp (8) | 72 Sender Error Estimate (2) | 74 MBZ (6)
 *   80 Sender TTL (1) | 81 MBZ (15) [RFC 7750: 81 S-DSCP-ECN (1), 82 MBZ (14)]
 *   96 HMAC (16)
 *
 * Then Packet Padding: the first (length - header) octets of the sender's.
 */

static void write_reflector_open(tw_wr *w, const tw_test_fmt *f, const tw_reflector_fields *rf,
				 const tw_sender_fields *s)
{
	tw_wr_u32(w, rf->seq);
	tw_wr_zero(w, 8); /* Timestamp (T3): stamp() */
	tw_wr_zero(w, 2); /* Error Estimate: stamp() */
	tw_wr_zero(w, 2);
	tw_wr_u64(w, rf->rx_ts);
	tw_wr_u32(w, s->seq);
	tw_wr_u64(w, s->ts);
	tw_wr_u16(w, s->errest);
	tw_wr_zero(w, 2);
	tw_wr_u8(w, rf->sender_ttl);
	if (f->dscp_ecn) {
		tw_wr_u8(w, rf->sender_tos);
		tw_wr_zero(w, 2);
	}
}

static void write_reflector_keyed(tw_wr *w, const tw_test_fmt *f, const tw_reflector_fields *rf,
				  const tw_sender_fields *s)
{
	tw_wr_u32(w, rf->seq);
	tw_wr_zero(w, 12);
	tw_wr_zero(w, 8); /* Timestamp (T3): stamp() */
	tw_wr_zero(w, 2); /* Error Estimate: stamp() */
	tw_wr_zero(w, 6);
	tw_wr_u64(w, rf->rx_ts);
	tw_wr_zero(w, 8);
	tw_wr_u32(w, s->seq);
	tw_wr_zero(w, 12);
	tw_wr_u64(w, s->ts);
	tw_wr_u16(w, s->errest);
	tw_wr_zero(w, 6);
	tw_wr_u8(w, rf->sender_ttl);
	tw_wr_u8(w, f->dscp_ecn ? rf->sender_tos : 0);
	tw_wr_zero(w, 14);
	tw_wr_zero(w, TW_MAC_LEN); /* HMAC: build (auth) or stamp (enc) */
}

static void read_reflector_open(tw_rd *r, const tw_test_fmt *f, tw_reflector_fields *out)
{
	out->seq = tw_rd_u32(r);
	out->ts = tw_rd_u64(r);
	out->errest = tw_rd_u16(r);
	tw_rd_skip(r, 2);
	out->rx_ts = tw_rd_u64(r);
	out->sender_seq = tw_rd_u32(r);
	out->sender_ts = tw_rd_u64(r);
	out->sender_errest = tw_rd_u16(r);
	tw_rd_skip(r, 2);
	out->sender_ttl = tw_rd_u8(r);
	if (f->dscp_ecn) {
		out->sender_tos = tw_rd_u8(r);
		tw_rd_skip(r, 2);
	}
}

static void read_reflector_keyed(tw_rd *r, const tw_test_fmt *f, tw_reflector_fields *out)
{
	out->seq = tw_rd_u32(r);
	tw_rd_skip(r, 12);
	out->ts = tw_rd_u64(r);
	out->errest = tw_rd_u16(r);
	tw_rd_skip(r, 6);
	out->rx_ts = tw_rd_u64(r);
	tw_rd_skip(r, 8);
	out->sender_seq = tw_rd_u32(r);
	tw_rd_skip(r, 12);
	out->sender_ts = tw_rd_u64(r);
	out->sender_errest = tw_rd_u16(r);
	tw_rd_skip(r, 6);
	out->sender_ttl = tw_rd_u8(r);
	uint8_t tos = tw_rd_u8(r);
	out->sender_tos = f->dscp_ecn ? tos : 0;
	tw_rd_skip(r, 14);
}

int tw_reflector_parse(const tw_test_fmt *f, tw_test_crypto *c, const uint8_t *pkt, size_t len,
		       tw_reflector_fields *out)
{
	int rc = check_fmt(f, c);
	if (rc < 0)
		return rc;
	if (!pkt || !out || len < tw_test_reflector_hdr_len(f))
		return -EMSGSIZE;
	memset(out, 0, sizeof(*out));
	if (!keyed(f)) {
		tw_rd r = tw_rd_make(pkt, len);
		read_reflector_open(&r, f, out);
		return tw_rd_ok(&r) ? 0 : -EMSGSIZE;
	}
	uint8_t clear[REFL_ENC_LEN];
	memcpy(clear, pkt, sizeof(clear));
	rc = unprotect(f->sec, c, clear, covered_len(f->sec, true), pkt + REFL_MAC_OFF);
	if (rc < 0)
		return rc;
	tw_rd r = tw_rd_make(clear, sizeof(clear));
	read_reflector_keyed(&r, f, out);
	return tw_rd_ok(&r) ? 0 : -EMSGSIZE;
}

int tw_reflector_build(const tw_test_fmt *f, tw_test_crypto *c, const uint8_t *req, size_t req_len,
		       const tw_reflector_fields *fields, uint8_t *out, size_t cap)
{
	tw_sender_fields s;
	int rc = sender_decode(f, c, req, req_len, &s, false);
	if (rc < 0)
		return rc;
	size_t shdr = tw_test_sender_hdr_len(f), rhdr = tw_test_reflector_hdr_len(f);
	size_t len = req_len > rhdr ? req_len : rhdr;
	if (!fields || !out || len > cap || len > INT_MAX)
		return -EMSGSIZE;
	tw_wr w = tw_wr_make(out, cap);
	if (keyed(f))
		write_reflector_keyed(&w, f, fields, &s);
	else
		write_reflector_open(&w, f, fields, &s);
	/* The sender's padding starts right after its header; keeping its
	 * first octets in place is what RFC 6038 Reflect Octets needs, and
	 * dropping the tail (rhdr - shdr octets) equalises the sizes. */
	tw_wr_copy(&w, req + shdr, len - rhdr);
	if (!tw_wr_ok(&w))
		return -EMSGSIZE;
	if (f->sec == TW_TEST_AUTH) {
		rc = protect(f->sec, c, out, BLOCK, out + REFL_MAC_OFF);
		if (rc < 0)
			return rc;
	}
	return (int)len;
}

int tw_reflector_stamp(const tw_test_fmt *f, tw_test_crypto *c, uint8_t *pkt, size_t len, tw_ts t3,
		       uint16_t errest)
{
	return stamp_ts(f, c, true, pkt, len, t3, errest);
}

tw_test_fmt tw_test_fmt_for_mode(uint32_t mode)
{
	tw_test_fmt f = { .sec = TW_TEST_OPEN };
	uint32_t sec = mode & TW_MODES_SECURITY;
	if (sec == TW_MODE_AUTH)
		f.sec = TW_TEST_AUTH;
	else if (sec == TW_MODE_ENC)
		f.sec = TW_TEST_ENC;
	f.symmetric = (mode & TW_MODE_SYMMETRIC) != 0;
	f.dscp_ecn = (mode & TW_MODE_DSCP_ECN) != 0;
	return f;
}
