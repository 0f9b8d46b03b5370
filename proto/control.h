/*
 * control.h - TWAMP-Control message codecs (RFC 5357 over RFC 4656, with
 * RFC 5938 Start-N/Stop-N and RFC 6038 fields). Reference:
 * ../shared/spec/control.md. Pure: no I/O, no allocation.
 *
 * Each encoder writes exactly the message length and returns it, or
 * -ENOSPC when cap is too small. Each decoder requires exactly the message
 * length (or, for Start-N/Stop-N, at least its first block and then the
 * length the first block announces), returns 0 on success or a negative
 * errno (-EMSGSIZE wrong length, -EBADMSG wrong command octet or invalid
 * field). MBZ octets are written as zero and ignored on receipt. HMAC
 * fields are carried as opaque octets: computing and checking them is the
 * job of the state machines (ctrl_client.h / ctrl_server.h) and crypto.h.
 */
#ifndef TW_CONTROL_H
#define TW_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timestamp.h"

/* ---- sizes ---- */
enum {
	TW_BLOCK_LEN = 16,
	TW_HMAC_LEN = 16,
	TW_SID_LEN = 16,
	TW_KEYID_LEN = 80,
	TW_TOKEN_LEN = 64,
	TW_IV_LEN = 16,
	TW_GREETING_LEN = 64,
	TW_SETUP_LEN = 164,
	TW_SERVER_START_LEN = 48,
	TW_REQUEST_LEN = 112,
	TW_ACCEPT_LEN = 48,
	TW_START_LEN = 32,
	TW_START_ACK_LEN = 32,
	TW_STOP_LEN = 32,
	TW_SIDS_BASE_LEN = 32, /* Start-N/Stop-N(+Ack): 32 + 16 * N */
};

/* ---- Modes field (Greeting, Set-Up-Response) ---- */
enum {
	TW_MODE_OPEN = 0x001,
	TW_MODE_AUTH = 0x002,
	TW_MODE_ENC = 0x004,
	TW_MODE_MIXED = 0x008,
	TW_MODE_ISC = 0x010,            /* RFC 5938 individual session control */
	TW_MODE_REFLECT_OCTETS = 0x020, /* RFC 6038 */
	TW_MODE_SYMMETRIC = 0x040,      /* RFC 6038 symmetrical size */
	TW_MODE_IKEV2 = 0x080,          /* RFC 7717 */
	TW_MODE_DSCP_ECN = 0x100,       /* RFC 7750 */
	TW_MODE_PTP = 0x200,            /* RFC 8186 */
};
#define TW_MODES_SECURITY 0x00Fu
#define TW_MODES_KNOWN 0x3FFu

/* ---- command numbers (first octet of a client message) ---- */
enum {
	TW_CMD_START = 2,
	TW_CMD_STOP = 3,
	TW_CMD_REQUEST = 5,
	TW_CMD_EXPERIMENT = 6,
	TW_CMD_START_N = 7,
	TW_CMD_START_N_ACK = 8,
	TW_CMD_STOP_N = 9,
	TW_CMD_STOP_N_ACK = 10,
};

/* ---- Accept values ---- */
enum {
	TW_ACCEPT_OK = 0,
	TW_ACCEPT_FAILURE = 1,
	TW_ACCEPT_INTERNAL = 2,
	TW_ACCEPT_NOT_SUPPORTED = 3,
	TW_ACCEPT_PERMANENT = 4,
	TW_ACCEPT_TEMPORARY = 5,
	TW_ACCEPT_NO_IKEV2_SA = 6,
};

/* Human-readable text for an Accept value (unknown values read as 1). */
const char *tw_accept_str(unsigned accept);

/* The single security bit of a mode word, or 0 when there is not exactly
 * one. */
uint32_t tw_mode_security(uint32_t mode);

/* The name of a mode word's security bit as users write it in the
 * configuration and see it in metrics: "unauthenticated", "authenticated",
 * "encrypted" or "mixed"; "" when tw_mode_security() finds no single bit. */
const char *tw_mode_name(uint32_t mode);

/* ---- messages ---- */

typedef struct tw_greeting {
	uint32_t modes;
	uint8_t challenge[16];
	uint8_t salt[16];
	uint32_t count;
} tw_greeting;

typedef struct tw_setup {
	uint32_t mode;
	uint8_t keyid[TW_KEYID_LEN]; /* zero padded, unterminated if 80 long */
	uint8_t token[TW_TOKEN_LEN];
	uint8_t client_iv[TW_IV_LEN];
} tw_setup;

typedef struct tw_server_start {
	uint8_t accept;
	uint8_t server_iv[TW_IV_LEN];
	tw_ts start_time;
} tw_server_start;

typedef struct tw_request {
	uint8_t ipvn;          /* 4 or 6 */
	uint8_t conf_sender;   /* MUST be 0 */
	uint8_t conf_receiver; /* MUST be 0 */
	uint32_t slots;        /* MUST be 0 */
	uint32_t packets;      /* MUST be 0 */
	uint16_t sender_port;
	uint16_t receiver_port;
	uint8_t sender_addr[16];   /* IPv4: 4 octets then 12 zero */
	uint8_t receiver_addr[16]; /* all zero: use the control connection's */
	uint8_t sid[TW_SID_LEN];   /* MUST be 0 in a request */
	uint32_t padding;
	tw_ts start_time;
	tw_ts timeout; /* 32.32 interval */
	uint32_t type_p; /* DSCP << 24 */
	uint16_t octets_reflected; /* RFC 6038 */
	uint16_t pad_reflect_len;  /* RFC 6038 */
	uint8_t hmac[TW_HMAC_LEN];
} tw_request;

typedef struct tw_accept_session {
	uint8_t accept;
	uint16_t port;
	uint8_t sid[TW_SID_LEN];
	uint16_t reflected_octets; /* RFC 6038 */
	uint16_t server_octets;    /* RFC 6038 */
	uint8_t hmac[TW_HMAC_LEN];
} tw_accept_session;

typedef struct tw_start_ack {
	uint8_t accept;
	uint8_t hmac[TW_HMAC_LEN];
} tw_start_ack;

typedef struct tw_stop {
	uint8_t accept;
	uint32_t nsessions;
	uint8_t hmac[TW_HMAC_LEN];
} tw_stop;

/* Start-N-Sessions (7), Start-N-Ack (8), Stop-N-Sessions (9), Stop-N-Ack
 * (10). sids points at n * 16 octets (inside the decoded buffer after a
 * decode; caller-owned for an encode). accept is 0 for the two requests. */
typedef struct tw_sids_msg {
	uint8_t cmd;
	uint8_t accept;
	uint32_t n;
	const uint8_t *sids;
	uint8_t hmac[TW_HMAC_LEN];
} tw_sids_msg;

int tw_greeting_encode(const tw_greeting *m, uint8_t *buf, size_t cap);
int tw_greeting_decode(const uint8_t *buf, size_t len, tw_greeting *m);

int tw_setup_encode(const tw_setup *m, uint8_t *buf, size_t cap);
int tw_setup_decode(const uint8_t *buf, size_t len, tw_setup *m);

int tw_server_start_encode(const tw_server_start *m, uint8_t *buf, size_t cap);
int tw_server_start_decode(const uint8_t *buf, size_t len, tw_server_start *m);

int tw_request_encode(const tw_request *m, uint8_t *buf, size_t cap);
int tw_request_decode(const uint8_t *buf, size_t len, tw_request *m);

int tw_accept_encode(const tw_accept_session *m, uint8_t *buf, size_t cap);
int tw_accept_decode(const uint8_t *buf, size_t len, tw_accept_session *m);

int tw_start_encode(const uint8_t hmac[TW_HMAC_LEN], uint8_t *buf, size_t cap);
int tw_start_decode(const uint8_t *buf, size_t len, uint8_t hmac[TW_HMAC_LEN]);

int tw_start_ack_encode(const tw_start_ack *m, uint8_t *buf, size_t cap);
int tw_start_ack_decode(const uint8_t *buf, size_t len, tw_start_ack *m);

int tw_stop_encode(const tw_stop *m, uint8_t *buf, size_t cap);
int tw_stop_decode(const uint8_t *buf, size_t len, tw_stop *m);

int tw_sids_encode(const tw_sids_msg *m, uint8_t *buf, size_t cap);
int tw_sids_decode(const uint8_t *buf, size_t len, tw_sids_msg *m);

/* Total length of a Start-N/Stop-N(+Ack) message given its first block, or
 * -EMSGSIZE when N is 0 or larger than max_n. */
long tw_sids_msg_len(const uint8_t first_block[TW_BLOCK_LEN], uint32_t max_n);

/* Length of the client command whose (plaintext) first block is given:
 * 32, 112 or 32 + 16 N; negative errno for an unknown command. */
long tw_client_msg_len(const uint8_t first_block[TW_BLOCK_LEN], uint32_t max_n);

/* ---- Request-TW-Session semantics ---- */

/* Accept code a server must answer for protocol reasons alone: 0 when the
 * request is well-formed, TW_ACCEPT_NOT_SUPPORTED for non-zero Conf-Sender,
 * Conf-Receiver, Number of Schedule Slots or Number of Packets, an IPVN other
 * than 4/6, a Type-P that is not the DSCP form (any bit outside 0x3F000000)
 * or a non-zero SID. Resource checks are the caller's. */
unsigned tw_request_check(const tw_request *m);

static inline uint32_t tw_type_p_from_dscp(unsigned dscp)
{
	return (uint32_t)(dscp & 0x3Fu) << 24;
}

static inline unsigned tw_type_p_dscp(uint32_t type_p)
{
	return (type_p >> 24) & 0x3Fu;
}

#endif /* TW_CONTROL_H */
