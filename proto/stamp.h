/*
 * stamp.h - STAMP test packets (RFC 8762 with the RFC 8972 SSID and TLV
 * area). Reference: ../shared/spec/test.md §§9-10. The TWAMP-Test formats
 * are in testpkt.h; TLVs in tlv.h. Pure: no I/O, no allocation.
 *
 * Base packets are 44 octets unauthenticated and 112 authenticated, in
 * both directions; TLVs follow the base. Authenticated mode protects
 * octets 0-95 with HMAC-SHA-256/128 (a tw_test_crypto made with
 * TW_MAC_HMAC_SHA256 and a NULL AES key); nothing is encrypted.
 * Timestamps are opaque tw_ts values: NTP or PTPv2-truncated as the Z bit
 * of the Error Estimate passed with them says (the caller chooses).
 *
 * As in testpkt.h each direction is produced in two steps so the transmit
 * timestamp is read as late as possible: *_build() lays out everything but
 * the timestamp and Error Estimate, *_stamp() writes them and, in
 * authenticated mode, the HMAC over octets 0-95 (which covers them).
 *
 * Errors are negative errno: -EMSGSIZE (too short / buffer too small),
 * -EBADMSG (HMAC mismatch), -EINVAL (bad mode, missing key or argument),
 * -EIO (OpenSSL failure).
 */
#ifndef TW_STAMP_H
#define TW_STAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "timestamp.h"
#include "tlv.h"

typedef enum tw_stamp_sec {
	TW_STAMP_OPEN = 0, /* unauthenticated */
	TW_STAMP_AUTH = 1, /* HMAC-SHA-256/128 over octets 0-95 */
} tw_stamp_sec;

enum {
	TW_STAMP_BASE_OPEN = 44,
	TW_STAMP_BASE_AUTH = 112,
	/* The shortest unauthenticated packet a STAMP reflector answers: a
	 * TWAMP Light (RFC 5357) sender packet without padding (test.md §9.4). */
	TW_STAMP_LIGHT_MIN = 14,
	TW_STAMP_MAX_PACKET = 65507,
};

/* 44 or 112; 0 for an invalid mode. TLVs start at this offset. */
size_t tw_stamp_base_len(tw_stamp_sec sec);

/* A Session-Sender packet as the reflector sees it. */
typedef struct tw_stamp_sender_fields {
	uint32_t seq;
	tw_ts ts; /* T1 */
	uint16_t errest;
	uint16_t ssid;  /* 0: none (RFC 8762 sender) */
	size_t tlv_off; /* TLV area: pkt[tlv_off .. tlv_off + tlv_len) */
	size_t tlv_len;
	bool light;     /* shorter than the base: a TWAMP Light sender (SSID 0, no TLVs) */
} tw_stamp_sender_fields;

/* A Session-Reflector packet as the sender sees it. */
typedef struct tw_stamp_reflector_fields {
	uint32_t seq; /* reflector's (stateful) or the sender's copied (stateless) */
	tw_ts ts;     /* T3 */
	uint16_t errest;
	uint16_t ssid;
	tw_ts rx_ts; /* T2 */
	uint32_t sender_seq;
	tw_ts sender_ts; /* T1 */
	uint16_t sender_errest;
	uint8_t sender_ttl;
	size_t tlv_off; /* as above; read with tw_tlv_read_reflected() */
	size_t tlv_len;
} tw_stamp_reflector_fields;

/* ---- Session-Sender side ---- */

/* Lays out sender packet seq with SSID ssid followed by the TLV area tlvs
 * (tlv_len octets, built with tw_tlv_put_*; an HMAC TLV in it must have
 * been computed over this seq). tlvs may be out + base length (built in
 * place) but must not otherwise overlap out. Returns the length. */
int tw_stamp_sender_build(tw_stamp_sec sec, uint32_t seq, uint16_t ssid, const uint8_t *tlvs, size_t tlv_len,
			  uint8_t *out, size_t cap);
/* Writes T1 and its Error Estimate; authenticated mode (c required) then
 * computes the HMAC over octets 0-95. */
int tw_stamp_sender_stamp(tw_stamp_sec sec, tw_test_crypto *c, uint8_t *pkt, size_t len, tw_ts t1,
			  uint16_t errest);
/* Parses (authenticated: verifies) a reflected packet of at least the base
 * length. The TLV area is returned as offsets, not interpreted. */
int tw_stamp_reflector_parse(tw_stamp_sec sec, tw_test_crypto *c, const uint8_t *pkt, size_t len,
			     tw_stamp_reflector_fields *out);

/* ---- Session-Reflector side ---- */

/* Parses (authenticated: verifies the HMAC, -EBADMSG on mismatch) a sender
 * packet. Authenticated: len >= 112. Unauthenticated: len >= 44, or 14..43
 * for a TWAMP Light sender (light = true). */
int tw_stamp_sender_parse(tw_stamp_sec sec, tw_test_crypto *c, const uint8_t *pkt, size_t len,
			  tw_stamp_sender_fields *out);

/* What the reflector adds to the reply. */
typedef struct tw_stamp_reply {
	uint32_t seq;  /* stateless: the sender's Sequence Number; stateful: the session counter */
	tw_ts rx_ts;   /* T2, in the format the reflector's Error Estimate Z bit will announce */
	uint8_t ttl;   /* received TTL / Hop Limit; 255 when unknown */
	const tw_tlv_ctx *tlv; /* NULL: the TLV area is returned verbatim (plain RFC 8762) */
} tw_stamp_reply;

/* Lays out the reply to sender packet req, which the caller has already
 * accepted with tw_stamp_sender_parse (the base HMAC is not checked
 * again). Length = req_len, or 44 for a TWAMP Light packet shorter than
 * that. The SSID and the Ses-Sender fields are copied; everything after
 * the base is copied and, with in->tlv, processed by tw_tlv_reflect
 * (authenticated mode: HMAC TLV checked and recomputed with c). res
 * (optional) receives the TLV outcome, e.g. the DSCP to reply with. out may
 * equal req (in place, cap >= the reply length) but must not otherwise
 * overlap it. Returns the length. */
int tw_stamp_reflector_build(tw_stamp_sec sec, tw_test_crypto *c, const uint8_t *req, size_t req_len,
			     const tw_stamp_reply *in, tw_tlv_result *res, uint8_t *out, size_t cap);
/* Writes T3 and the reflector's Error Estimate; authenticated mode then
 * computes the HMAC over octets 0-95. */
int tw_stamp_reflector_stamp(tw_stamp_sec sec, tw_test_crypto *c, uint8_t *pkt, size_t len, tw_ts t3,
			     uint16_t errest);

#endif /* TW_STAMP_H */
