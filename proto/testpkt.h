/*
 * testpkt.h - TWAMP-Test packets (RFC 5357 §4 with RFC 4656 §4.1.2, RFC
 * 5618, RFC 6038, RFC 7750). Reference: ../shared/spec/test.md §§3-7.
 * Pure: no I/O; the hot path allocates nothing.
 *
 * Both directions are produced in two steps so the transmit timestamp can
 * be read as late as possible: *_build() lays out everything except the
 * timestamp, *_stamp() writes the timestamp and finishes the keyed-mode
 * work that depends on it (encrypted mode: HMAC + CBC over the block that
 * contains it; authenticated mode has already protected block 0 in build
 * and writes the clear timestamp). Parsers never modify their input; keyed
 * modes decrypt into a private copy.
 *
 * Return values: builders return the packet length, parsers 0; errors are
 * negative errno: -EMSGSIZE (too short / buffer too small), -EBADMSG (HMAC
 * mismatch or invalid field, e.g. Error Estimate multiplier 0 when
 * strict), -EINVAL (bad format or missing keys).
 */
#ifndef TW_TESTPKT_H
#define TW_TESTPKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "timestamp.h"

typedef enum tw_test_sec {
	TW_TEST_OPEN = 0, /* unauthenticated and mixed mode */
	TW_TEST_AUTH = 1,
	TW_TEST_ENC = 2,
} tw_test_sec;

typedef struct tw_test_fmt {
	tw_test_sec sec;
	bool symmetric; /* RFC 6038 Symmetrical Size sender format */
	bool dscp_ecn;  /* RFC 7750: reflector reports the received DS byte */
} tw_test_fmt;

enum {
	TW_SENDER_HDR_OPEN = 14,
	TW_SENDER_HDR_KEYED = 48,
	TW_REFLECTOR_HDR_OPEN = 41,
	TW_REFLECTOR_HDR_OPEN_DSCP_ECN = 44,
	TW_REFLECTOR_HDR_KEYED = 112,
	TW_TEST_MAX_PACKET = 65507, /* largest UDP payload over IPv4 */
};

/* The test-packet format a negotiated TWAMP Modes word implies: the
 * security bit (mixed = unauthenticated test packets), Symmetrical Size
 * (RFC 6038) and DSCP/ECN monitoring (RFC 7750). */
tw_test_fmt tw_test_fmt_for_mode(uint32_t mode);

/* Header lengths for a format (padding excluded). */
size_t tw_test_sender_hdr_len(const tw_test_fmt *f);
size_t tw_test_reflector_hdr_len(const tw_test_fmt *f);
/* Sender padding that makes both directions the same size (27, 30, 64 or
 * 0 with Symmetrical Size). */
size_t tw_test_symmetric_padding(const tw_test_fmt *f);

typedef struct tw_sender_fields {
	uint32_t seq;
	tw_ts ts;
	uint16_t errest;
} tw_sender_fields;

typedef struct tw_reflector_fields {
	uint32_t seq;
	tw_ts ts; /* T3 */
	uint16_t errest;
	tw_ts rx_ts; /* T2 */
	uint32_t sender_seq;
	tw_ts sender_ts; /* T1 */
	uint16_t sender_errest;
	uint8_t sender_ttl;
	uint8_t sender_tos; /* RFC 7750 S-DSCP-ECN (only with f->dscp_ecn) */
} tw_reflector_fields;

/* ---- Session-Sender side ---- */

/* Lays out sender packet seq with padlen octets of padding copied from
 * padding (NULL: zeros). Keyed modes need c. Returns the length. */
int tw_sender_build(const tw_test_fmt *f, tw_test_crypto *c, uint32_t seq, const uint8_t *padding,
		    size_t padlen, uint8_t *out, size_t cap);
/* Writes T1 and its Error Estimate into a built packet; encrypted mode also
 * computes the HMAC and encrypts the first 32 octets. */
int tw_sender_stamp(const tw_test_fmt *f, tw_test_crypto *c, uint8_t *pkt, size_t len, tw_ts t1,
		    uint16_t errest);
/* Parses (and in keyed modes decrypts and verifies) a reflected packet. */
int tw_reflector_parse(const tw_test_fmt *f, tw_test_crypto *c, const uint8_t *pkt, size_t len,
		       tw_reflector_fields *out);

/* ---- Session-Reflector side ---- */

/* Parses (and in keyed modes decrypts and verifies) a sender packet. Any
 * length >= the sender header is accepted (twping sends 14 or 41 octets). */
int tw_sender_parse(const tw_test_fmt *f, tw_test_crypto *c, const uint8_t *pkt, size_t len,
		    tw_sender_fields *out);
/* Lays out the reply to the sender packet req: f's fields except ts/errest
 * (written by stamp); length = max(req_len, reflector header); the padding
 * is the first (length - reflector header) octets of the sender's padding
 * (which keeps RFC 6038 "padding to be reflected" in place). Returns the
 * length. */
int tw_reflector_build(const tw_test_fmt *f, tw_test_crypto *c, const uint8_t *req, size_t req_len,
		       const tw_reflector_fields *fields, uint8_t *out, size_t cap);
/* Writes T3 and the reflector Error Estimate; encrypted mode also computes
 * the HMAC over octets 0-95 and encrypts them. */
int tw_reflector_stamp(const tw_test_fmt *f, tw_test_crypto *c, uint8_t *pkt, size_t len, tw_ts t3,
		       uint16_t errest);

#endif /* TW_TESTPKT_H */
