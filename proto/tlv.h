/*
 * tlv.h - STAMP TLVs (RFC 8972 §4). Reference: ../shared/spec/test.md §10.
 * Pure: no I/O, no allocation; every decode goes through proto/wire.h.
 *
 * A TLV area is what follows the STAMP base packet (44 octets
 * unauthenticated, 112 authenticated) up to the end of the UDP payload:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |U|M|I|  Resv   |     Type      |            Length             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   ~                 Value (Length octets)                         ~
 *
 * Three roles:
 *   - the Session-Sender builds TLVs with tw_tlv_put_*() (U = 1, M = I = 0)
 *     and reads the reflected area with tw_tlv_read_reflected();
 *   - the Session-Reflector turns the received area into the reply's with
 *     tw_tlv_reflect() (fills in its fields, sets U/M/I as RFC 8972 says);
 *   - anyone walks an area with tw_tlv_iter / tw_tlv_next().
 *
 * Return values: 0 (or a length) on success, negative errno otherwise:
 * -EMSGSIZE (does not fit), -EBADMSG (malformed TLV), -EINVAL (bad
 * argument), -EIO (OpenSSL failure).
 */
#ifndef TW_TLV_H
#define TW_TLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "timestamp.h"
#include "wire.h"

enum {
	TW_TLV_HDR_LEN = 4,
	TW_TLV_FLAG_U = 0x80, /* Unrecognized: sent as 1, cleared by a reflector that understood it */
	TW_TLV_FLAG_M = 0x40, /* Malformed: set by the reflector, processing stopped there */
	TW_TLV_FLAG_I = 0x20, /* Integrity: HMAC TLV check failed, set on every TLV */
};

enum tw_tlv_type {
	TW_TLV_EXTRA_PADDING = 1,
	TW_TLV_LOCATION = 2,
	TW_TLV_TIMESTAMP_INFO = 3,
	TW_TLV_COS = 4,
	TW_TLV_DIRECT_MEASUREMENT = 5,
	TW_TLV_ACCESS_REPORT = 6,
	TW_TLV_FOLLOW_UP = 7,
	TW_TLV_HMAC = 8,
	TW_TLV_PRIVATE_FIRST = 252, /* 252-254: first 4 value octets = enterprise number */
	TW_TLV_PRIVATE_LAST = 254,
};

/* Value lengths (test.md §10.3); *_MIN types may be longer. */
enum {
	TW_TLV_LOCATION_MIN = 4, /* Destination Port, Source Port, then sub-TLVs */
	TW_TLV_TSINFO_MIN = 4,   /* four code points, then optional sub-TLVs */
	TW_TLV_COS_LEN = 4,
	TW_TLV_DM_LEN = 12,
	TW_TLV_ACCESS_LEN = 4,
	TW_TLV_FOLLOW_UP_LEN = 16, /* erratum 8339 */
	TW_TLV_HMAC_LEN = 16,
	TW_TLV_PRIVATE_MIN = 4,
};

/* Location sub-TLV types: the sender requests 1, 4 and 7; the reflector
 * answers with 2, 5/6 and 8/9. Lengths: 1-3 eight octets, 4-9 sixteen. */
enum tw_loc_sub {
	TW_LOC_SRC_MAC = 1,
	TW_LOC_SRC_EUI48 = 2,
	TW_LOC_SRC_EUI64 = 3,
	TW_LOC_DST_IP = 4,
	TW_LOC_DST_IPV4 = 5,
	TW_LOC_DST_IPV6 = 6,
	TW_LOC_SRC_IP = 7,
	TW_LOC_SRC_IPV4 = 8,
	TW_LOC_SRC_IPV6 = 9,
};

/* Timestamp Information code points. */
enum {
	TW_SYNC_NTP = 1,
	TW_SYNC_PTP = 2,
	TW_SYNC_SSU_BITS = 3,
	TW_SYNC_GNSS = 4,
	TW_SYNC_FREE_RUNNING = 5,
	TW_TSMETHOD_HW = 1,
	TW_TSMETHOD_SW = 2,
	TW_TSMETHOD_CONTROL_PLANE = 3,
};

/* Access Report ID and Return Code. */
enum {
	TW_ACCESS_3GPP = 1,
	TW_ACCESS_NON_3GPP = 2,
	TW_ACCESS_AVAILABLE = 1,
	TW_ACCESS_UNAVAILABLE = 2,
};

/* ---- generic iteration ---- */

typedef struct tw_tlv {
	uint8_t flags;
	uint8_t type;
	uint16_t len;         /* Length: value octets, header excluded */
	const uint8_t *value; /* len octets inside the area */
	size_t off;           /* offset of the header within the area */
} tw_tlv;

typedef struct tw_tlv_iter { /* on the stack; fields private */
	tw_rd rd;
	size_t len;
	size_t bad_off;
	bool bad;
} tw_tlv_iter;

void tw_tlv_iter_init(tw_tlv_iter *it, const uint8_t *area, size_t len);
/* Returns 1 and the next TLV, 0 at the end of the area, or -EBADMSG when
 * the remaining octets hold no complete TLV (fewer than 4, or a Length past
 * the end); t then holds what could be read (t->off always; flags, type and
 * len when a header was present, value NULL) and every later call returns
 * -EBADMSG again. */
int tw_tlv_next(tw_tlv_iter *it, tw_tlv *t);
/* Whether t's Length is right for its Type (Location: sub-TLVs included;
 * unknown and reserved types: any length). */
bool tw_tlv_len_ok(const tw_tlv *t);

/* ---- Session-Sender: building ----
 *
 * Each writes one TLV (flags U = 1) at the cursor. Returns 0, -EMSGSIZE
 * when it does not fit (the cursor's sticky error is then set), -EINVAL on
 * a bad argument. */

/* Extra Padding of len octets copied from fill (NULL: zeros). */
int tw_tlv_put_padding(tw_wr *w, const uint8_t *fill, uint16_t len);

/* Location with zero ports and one request sub-TLV (16 or 8 MBZ octets)
 * for each bit set in req. */
enum {
	TW_LOC_REQ_SRC_MAC = 1u << 0, /* sub-TLV 1 */
	TW_LOC_REQ_DST_IP = 1u << 1,  /* sub-TLV 4 */
	TW_LOC_REQ_SRC_IP = 1u << 2,  /* sub-TLV 7 */
};
int tw_tlv_put_location_request(tw_wr *w, unsigned req);
int tw_tlv_put_timestamp_info(tw_wr *w); /* four zero code points */
int tw_tlv_put_cos(tw_wr *w, uint8_t dscp1); /* DSCP1 < 64; DSCP2, ECN, RP zero */
int tw_tlv_put_direct_measurement(tw_wr *w, uint32_t s_txc); /* R_RxC, R_TxC zero */
/* id 1 (3GPP) or 2 (non-3GPP); return_code 1 available, 2 unavailable. */
int tw_tlv_put_access_report(tw_wr *w, uint8_t id, uint8_t return_code);
int tw_tlv_put_follow_up(tw_wr *w); /* all zero */
/* HMAC TLV = HMAC-SHA-256/128 (c: the STAMP key, TW_MAC_HMAC_SHA256) over
 * the base packet's Sequence Number seq || covered[0..covered_len), which
 * must be every TLV written before this one (headers included) - normally
 * the start of the area and tw_wr_len(w) when w writes the area. Only Extra
 * Padding may follow it. */
int tw_tlv_put_hmac(tw_wr *w, tw_test_crypto *c, uint32_t seq, const uint8_t *covered, size_t covered_len);
/* Any TLV with explicit flags (tests, private types, --tlv on the CLI). */
int tw_tlv_put_raw(tw_wr *w, uint8_t flags, uint8_t type, const uint8_t *value, uint16_t len);

/* ---- typed values ---- */

enum { TW_TLV_AF_NONE = 0, TW_TLV_AF_INET = 4, TW_TLV_AF_INET6 = 6 };

typedef struct tw_tlv_addr {
	uint8_t family;      /* TW_TLV_AF_* */
	uint8_t octets[16];  /* IPv4 in the first 4 */
} tw_tlv_addr;

typedef struct tw_tlv_cos {
	uint8_t dscp1; /* DSCP the sender asked for on the reflected packet */
	uint8_t dscp2; /* DSCP the reflector received */
	uint8_t ecn;   /* ECN the reflector received (erratum 8199) */
	uint8_t rp;    /* 1: the reflector did not apply DSCP1 */
} tw_tlv_cos;

typedef struct tw_tlv_location {
	uint16_t dst_port, src_port; /* UDP ports the reflector observed */
	tw_tlv_addr dst, src;        /* sub-TLVs 5/6 and 8/9 */
	uint8_t mac_len;             /* 0, 6 (sub-TLV 2) or 8 (sub-TLV 3) */
	uint8_t mac[8];
} tw_tlv_location;

typedef struct tw_tlv_tsinfo {
	uint8_t sync_in, method_in;   /* for the Receive Timestamp (T2) */
	uint8_t sync_out, method_out; /* for the Timestamp (T3) */
} tw_tlv_tsinfo;

typedef struct tw_tlv_dm {
	uint32_t s_txc, r_rxc, r_txc;
} tw_tlv_dm;

typedef struct tw_tlv_access {
	uint8_t id, return_code;
} tw_tlv_access;

typedef struct tw_tlv_follow_up {
	uint32_t seq; /* reflected Sequence Number of the previous reply */
	tw_ts ts;     /* its more accurate transmit timestamp */
	uint8_t mode; /* timestamping method (TW_TSMETHOD_*) */
} tw_tlv_follow_up;

/* Decode one TLV of the named type: 0, or -EBADMSG when the type or the
 * length is wrong (Location: a bad sub-TLV). Flags are not looked at. */
int tw_tlv_cos_decode(const tw_tlv *t, tw_tlv_cos *out);
int tw_tlv_location_decode(const tw_tlv *t, tw_tlv_location *out);
int tw_tlv_tsinfo_decode(const tw_tlv *t, tw_tlv_tsinfo *out);
int tw_tlv_dm_decode(const tw_tlv *t, tw_tlv_dm *out);
int tw_tlv_access_decode(const tw_tlv *t, tw_tlv_access *out);
int tw_tlv_follow_up_decode(const tw_tlv *t, tw_tlv_follow_up *out);

/* ---- Session-Reflector: processing ---- */

/* What the reflector knows about the received packet and itself. */
typedef struct tw_tlv_ctx {
	uint8_t ds_byte;      /* received DS / Traffic Class octet (DSCP << 2 | ECN) */
	bool allow_dscp1;     /* local policy: may the reply use the sender's DSCP1? */
	tw_tlv_addr src, dst; /* observed source (sender) and destination (own) address;
			       * IPv4-mapped IPv6 is answered as IPv4 */
	uint16_t src_port, dst_port;
	uint8_t mac_len;      /* 0 (unknown: MAC requests left unanswered) or 6 */
	uint8_t mac[6];       /* the sender's source MAC as observed */
	uint32_t rx_count;    /* R_RxC: packets received in this session, this one included */
	uint32_t tx_count;    /* R_TxC: packets transmitted in this session, this reply included */
	tw_tlv_tsinfo tsinfo; /* own clock sync sources and timestamping methods */
	bool stateless;       /* Follow-Up Telemetry answered with zeros */
	tw_tlv_follow_up prev; /* previous reply of this session (stateful) */
} tw_tlv_ctx;

typedef struct tw_tlv_result {
	unsigned processed;    /* TLVs returned with U cleared */
	unsigned unrecognized; /* TLVs returned with U still set */
	bool malformed;        /* processing stopped at a malformed TLV (M set if it had a header) */
	bool integrity_failed; /* HMAC TLV check failed: I set on every TLV, nothing processed */
	bool cos;              /* a Class of Service TLV was processed; then: */
	bool dscp1_applied;    /*   policy allowed DSCP1 (RP = 0) */
	uint8_t reply_dscp;    /*   DSCP to send the reply with (DSCP1, or the received one) */
	bool access;           /* a valid Access Report was returned; then: */
	tw_tlv_access access_report;
} tw_tlv_result;

/* Produces the reply's TLV area tx from the received area rx (both len
 * octets; tx may equal rx, otherwise they must not overlap):
 *   - copies everything, then clears U on each TLV it understands and
 *     fills in the reflector's fields from ctx (Location ports and address
 *     sub-TLVs, Timestamp Information, Class of Service DSCP2/ECN/RP,
 *     Direct Measurement R_RxC/R_TxC, Follow-Up Telemetry); Extra Padding
 *     and valid Access Reports are returned with U cleared; unknown and
 *     private types keep U = 1 and are copied unchanged;
 *   - a TLV whose Length is wrong for its type or runs past the end gets
 *     M = 1 and ends processing: it and all that follows stay as received
 *     (1-3 trailing octets cannot hold a header: left as they are);
 *   - with c (authenticated mode, the STAMP key): the HMAC TLV over rx_seq
 *     || the TLVs before it is verified first; a mismatch, a misplaced or
 *     duplicate HMAC TLV, or none while TLVs other than Extra Padding are
 *     present sets I on every TLV and nothing else is changed; after
 *     processing, the reply's HMAC TLV is recomputed over tx_seq || the
 *     reply's TLVs before it. Without c an HMAC TLV is left as received.
 * Never fails on malformed input: returns 0, -EINVAL for NULL arguments,
 * -EIO when OpenSSL fails. res (required) describes what happened. */
int tw_tlv_reflect(const tw_tlv_ctx *ctx, tw_test_crypto *c, uint32_t rx_seq, const uint8_t *rx,
		   uint32_t tx_seq, uint8_t *tx, size_t len, tw_tlv_result *res);

/* ---- Session-Sender: reading the reflected area ---- */

typedef struct tw_tlv_report {
	unsigned seen;         /* 1u << type for each type read with U clear (1-8) */
	unsigned unrecognized; /* TLVs returned with U set: ignored */
	bool malformed;        /* an M flag (or a broken TLV) ended the reading there */
	bool integrity_failed; /* an I flag, or c given and the HMAC TLV did not verify
				* or was missing: everything below is left zero */
	size_t padding_len;    /* Extra Padding value octets */
	tw_tlv_location location;
	tw_tlv_tsinfo tsinfo;
	tw_tlv_cos cos;
	tw_tlv_dm dm;
	tw_tlv_access access;
	tw_tlv_follow_up follow_up;
} tw_tlv_report;

/* Reads a reflected TLV area honouring the flags: U set -> the TLV is
 * ignored, M set -> reading stops there, I set anywhere -> every TLV is
 * discarded. With c (authenticated mode) the reply's HMAC TLV must verify
 * over seq (the reflected packet's Sequence Number) || the TLVs before it
 * whenever TLVs other than Extra Padding are read. The last TLV of a type
 * wins. Returns 0, or -EINVAL for a NULL out. */
int tw_tlv_read_reflected(const uint8_t *area, size_t len, tw_test_crypto *c, uint32_t seq,
			  tw_tlv_report *out);

#endif /* TW_TLV_H */
