/*
 * ctrl_client.h - the TWAMP-Control Control-Client state machine, as pure
 * code: bytes in, events out, request bytes built on demand
 * (control.md §8.1).
 *
 *   WAIT_GREETING --64 octets--> event GREETING; caller picks a mode and
 *                  calls tw_cli_setup -> WAIT_SERVER_START
 *   WAIT_SERVER_START --48 octets--> event SERVER_START: Accept 0 -> IDLE,
 *                  else CLOSED
 *   IDLE --tw_cli_request--> WAIT_ACCEPT --48 octets--> event ACCEPT -> IDLE
 *   IDLE --tw_cli_start--> WAIT_START_ACK --32--> event START_ACK:
 *                  Accept 0 -> TESTING, else CLOSED
 *   TESTING --tw_cli_stop--> IDLE
 *   ISC (mode bit 16): tw_cli_start_n / tw_cli_stop_n in IDLE or TESTING,
 *                  answered by N_ACK events (possibly several per request)
 *   unexpected octets, bad HMAC -> event ERROR, CLOSED
 *
 * Randomness is injected: the caller supplies the session keys and IV, so
 * tests can reproduce a captured Set-Up-Response byte for byte.
 *
 * Functions building messages return the octets written to out or a
 * negative errno (-EPROTO wrong state, -ENOSPC small buffer, -E2BIG greeting
 * Count above the caller's cap, -EINVAL bad argument).
 */
#ifndef TW_CTRL_CLIENT_H
#define TW_CTRL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control.h"
#include "crypto.h"

typedef struct tw_cli tw_cli;

typedef enum tw_cli_state {
	TW_CLI_WAIT_GREETING,
	TW_CLI_GREETING_RECEIVED, /* GREETING delivered, Set-Up-Response not yet sent */
	TW_CLI_WAIT_SERVER_START,
	TW_CLI_IDLE,
	TW_CLI_WAIT_ACCEPT,
	TW_CLI_WAIT_START_ACK,
	TW_CLI_TESTING,
	TW_CLI_CLOSED,
} tw_cli_state;

typedef enum tw_cli_event_type {
	TW_CLI_EV_NONE = 0,
	TW_CLI_EV_GREETING,
	TW_CLI_EV_SERVER_START,
	TW_CLI_EV_ACCEPT,
	TW_CLI_EV_START_ACK,
	TW_CLI_EV_N_ACK, /* Start-N-Ack or Stop-N-Ack (u.sids.cmd says which) */
	TW_CLI_EV_ERROR,
} tw_cli_event_type;

typedef struct tw_cli_event {
	tw_cli_event_type type;
	union {
		tw_greeting greeting;
		tw_server_start server_start;
		tw_accept_session accept;
		tw_start_ack start_ack;
		tw_sids_msg sids; /* sids valid until the next tw_cli_feed() */
		struct {
			int code;
			const char *reason; /* static string */
		} error;
	} u;
} tw_cli_event;

/* Session keys and IV chosen by the client (from a CSPRNG in production). */
typedef struct tw_cli_random {
	uint8_t aes_key[TW_AES_KEY_LEN];
	uint8_t hmac_key[TW_HMAC_KEY_LEN];
	uint8_t client_iv[TW_IV_LEN];
} tw_cli_random;

tw_cli *tw_cli_new(uint32_t max_sessions);
void tw_cli_free(tw_cli *c); /* NULL-safe; wipes key material */

tw_cli_state tw_cli_get_state(const tw_cli *c);
const char *tw_cli_state_name(tw_cli_state st);
uint32_t tw_cli_mode(const tw_cli *c);
uint32_t tw_cli_sessions_running(const tw_cli *c);

size_t tw_cli_feed(tw_cli *c, const uint8_t *in, size_t len, tw_cli_event *ev);

/* GREETING_RECEIVED -> WAIT_SERVER_START. mode: exactly one security bit
 * plus optional feature bits, all offered by the server (else -EINVAL).
 * Keyed modes: keyid (at most 80 octets, not NUL-terminated on the wire)
 * and secret are required; the greeting's Count must be a power of two,
 * >= 1024 and <= max_count (else -E2BIG / -EINVAL; max_count 0 means
 * TW_KDF_MAX_COUNT_DEFAULT). rnd may be NULL in open mode. mode 0 declines:
 * a Set-Up-Response with Mode 0 is written and the state becomes CLOSED.
 * (A greeting with Modes 0 already ends in an ERROR event, -ECONNREFUSED.) */
int tw_cli_setup(tw_cli *c, uint32_t mode, const char *keyid, const uint8_t *secret, size_t secret_len,
		 const tw_cli_random *rnd, uint32_t max_count, uint8_t *out, size_t cap);

/* IDLE -> WAIT_ACCEPT (ISC: also from TESTING). The HMAC field of req is
 * computed here; SID zero. -ENOBUFS once max_sessions were accepted;
 * -EPROTO while Start-N/Stop-N acks are outstanding. */
int tw_cli_request(tw_cli *c, const tw_request *req, uint8_t *out, size_t cap);

/* IDLE -> WAIT_START_ACK: starts every accepted session. */
int tw_cli_start(tw_cli *c, uint8_t *out, size_t cap);

/* TESTING -> IDLE. Number of Sessions = sessions started and not stopped. */
int tw_cli_stop(tw_cli *c, uint8_t accept, uint8_t *out, size_t cap);

/* ISC (mode bit 16 negotiated): start or stop the n sessions given.
 * -EINVAL for a SID that is unknown, listed twice or already awaiting an
 * ack, for starting a running or stopping a stopped session. */
int tw_cli_start_n(tw_cli *c, uint32_t n, const uint8_t *sids, uint8_t *out, size_t cap);
int tw_cli_stop_n(tw_cli *c, uint32_t n, const uint8_t *sids, uint8_t *out, size_t cap);

/* Keyed modes: a test-packet crypto context for an accepted SID (NULL in
 * open and mixed mode, or on error). The caller owns and frees it. */
tw_test_crypto *tw_cli_test_crypto(const tw_cli *c, const uint8_t sid[TW_SID_LEN]);

/* Picks the strongest security mode both sides allow: encrypted >
 * authenticated > mixed > open. Returns 0 when there is none. */
uint32_t tw_mode_choose(uint32_t offered, uint32_t allowed);

#endif /* TW_CTRL_CLIENT_H */
