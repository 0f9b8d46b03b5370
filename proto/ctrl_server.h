/*
 * ctrl_server.h - the TWAMP-Control Server state machine, as pure code:
 * bytes in, events out, reply bytes built on request (control.md §8.2).
 *
 *   GREETING --tw_srv_greeting-->  WAIT_SETUP
 *   WAIT_SETUP --164 octets--> event SETUP; caller picks keys, then
 *               tw_srv_server_start: Accept 0 -> IDLE, else CLOSED
 *   IDLE --Request-TW-Session--> event REQUEST; tw_srv_accept -> IDLE
 *   IDLE --Start-Sessions--> event START; tw_srv_start_ack 0 -> TESTING
 *   TESTING --Stop-Sessions--> event STOP -> IDLE
 *   ISC (mode bit 16): Start-N/Stop-N in IDLE or TESTING, acked with
 *               tw_srv_sids_ack; Start/Stop-Sessions are then errors.
 *   anything unexpected, a bad HMAC, an unknown command -> event ERROR,
 *               state CLOSED (the caller sends ev.reply, if any, and closes)
 *
 * The machine owns a bounded input buffer: tw_srv_feed() consumes octets
 * until one message is complete and returns at most one event per call; the
 * caller handles it (and calls the matching reply function when the event
 * asks for one) before feeding the rest. In keyed modes (authenticated,
 * encrypted, mixed) it decrypts the client stream block by block, checks
 * every HMAC and produces HMAC'd, encrypted replies; in open mode HMAC
 * fields are zero and ignored.
 *
 * Reply functions return the number of octets written to out, or a
 * negative errno: -EPROTO when called in the wrong state, -ENOSPC when cap
 * is too small.
 */
#ifndef TW_CTRL_SERVER_H
#define TW_CTRL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control.h"
#include "crypto.h"

typedef struct tw_srv tw_srv;

typedef enum tw_srv_state {
	TW_SRV_GREETING,
	TW_SRV_WAIT_SETUP,
	TW_SRV_SETUP_RECEIVED, /* SETUP event delivered, Server-Start not yet sent */
	TW_SRV_IDLE,
	TW_SRV_REQUEST_RECEIVED, /* REQUEST event delivered, Accept-Session not yet sent */
	TW_SRV_START_RECEIVED,   /* START event delivered, Start-Ack not yet sent */
	TW_SRV_TESTING,
	TW_SRV_CLOSED,
} tw_srv_state;

typedef enum tw_srv_event_type {
	TW_SRV_EV_NONE = 0, /* need more input */
	TW_SRV_EV_SETUP,
	TW_SRV_EV_REQUEST,
	TW_SRV_EV_START,
	TW_SRV_EV_STOP,
	TW_SRV_EV_START_N,
	TW_SRV_EV_STOP_N,
	TW_SRV_EV_ERROR,
} tw_srv_event_type;

typedef struct tw_srv_event {
	tw_srv_event_type type;
	union {
		/* SETUP. accept is what the machine requires for protocol reasons:
		 * 0, or non-zero when the chosen mode is invalid or was not
		 * offered (answer Server-Start with it and close). */
		struct {
			tw_setup msg;
			uint8_t accept;
		} setup;
		/* REQUEST. accept = tw_request_check() result (0 or 3). */
		struct {
			tw_request msg;
			uint8_t accept;
		} request;
		/* STOP. count_ok is false when Number of Sessions differs from the
		 * number of started, unstopped sessions (results invalid; the
		 * server SHOULD close). */
		struct {
			tw_stop msg;
			bool count_ok;
		} stop;
		/* START_N / STOP_N: sids point into the machine's buffer and stay
		 * valid until the next tw_srv_feed(). sids.accept is the machine's
		 * verdict: 0 when every SID names a session accepted on this
		 * connection, else 1 (ack those with a non-zero Accept). */
		tw_sids_msg sids;
		/* ERROR: reason is a static string for logs and metrics labels;
		 * reply/reply_len hold bytes to send before closing (an
		 * Accept-Session with Accept 3 for an unknown command). */
		struct {
			int code; /* negative errno */
			const char *reason;
			uint8_t reply[TW_ACCEPT_LEN];
			size_t reply_len;
		} error;
	} u;
} tw_srv_event;

/* A new machine for one accepted connection. max_sessions bounds the
 * sessions one connection may request (further requests are answered with
 * Accept 4 by the caller; the machine refuses to record more). Returns NULL
 * on allocation failure or when max_sessions exceeds 2^18. */
tw_srv *tw_srv_new(uint32_t max_sessions);
void tw_srv_free(tw_srv *s); /* NULL-safe; wipes key material */

tw_srv_state tw_srv_get_state(const tw_srv *s);
const char *tw_srv_state_name(tw_srv_state st);
uint32_t tw_srv_mode(const tw_srv *s); /* negotiated Mode (0 before setup) */
uint32_t tw_srv_sessions_accepted(const tw_srv *s);
uint32_t tw_srv_sessions_running(const tw_srv *s);

/* GREETING -> WAIT_SETUP. Remembers the offered modes and the challenge. */
int tw_srv_greeting(tw_srv *s, const tw_greeting *g, uint8_t *out, size_t cap);

/* Consumes up to len octets; see the header comment. Never reads past len.
 * Returns the number of octets consumed (possibly fewer than len when an
 * event is returned). */
size_t tw_srv_feed(tw_srv *s, const uint8_t *in, size_t len, tw_srv_event *ev);

/* Keyed modes, after a SETUP event: derive the KDF key from the secret the
 * caller found for the KeyID (secret NULL = unknown KeyID: the work is still
 * done, so timing does not reveal which identities exist), decrypt the Token
 * and check the challenge. Returns the Accept value to send (0 or 1).
 * Open mode: returns 0 without doing anything. */
uint8_t tw_srv_authenticate(tw_srv *s, const uint8_t *secret, size_t secret_len);

/* SETUP_RECEIVED -> IDLE (accept 0) or CLOSED. server_iv is ignored (zeros
 * sent) in open mode. Accept 0 is refused (-EPROTO) when the SETUP verdict
 * was non-zero or, in keyed modes, tw_srv_authenticate did not return 0;
 * -EINVAL for a NULL server_iv in keyed modes. */
int tw_srv_server_start(tw_srv *s, uint8_t accept, const uint8_t server_iv[TW_IV_LEN], tw_ts start_time,
			uint8_t *out, size_t cap);

/* REQUEST_RECEIVED -> IDLE. With accept 0 the SID is recorded as a session
 * of this connection (-ENOBUFS when max_sessions are recorded: answer
 * Accept 4 instead; -EEXIST for a SID already recorded). A refusal is sent
 * with Port 0. The HMAC field of m is computed here. */
int tw_srv_accept(tw_srv *s, const tw_accept_session *m, uint8_t *out, size_t cap);

/* START_RECEIVED -> TESTING (accept 0) or CLOSED. */
int tw_srv_start_ack(tw_srv *s, uint8_t accept, uint8_t *out, size_t cap);

/* ISC: answer a START_N/STOP_N event (cmd TW_CMD_START_N_ACK or
 * TW_CMD_STOP_N_ACK) for the n SIDs given; may be called several times per
 * event to split SIDs by Accept value. Accept 0 starts/stops those sessions
 * and requires every SID to be one of this connection (else -EINVAL). */
int tw_srv_sids_ack(tw_srv *s, uint8_t cmd, uint8_t accept, uint32_t n, const uint8_t *sids, uint8_t *out,
		    size_t cap);

/* Keyed modes: a test-packet crypto context for one accepted SID (NULL in
 * open and mixed mode, or on error). The caller owns and frees it. */
tw_test_crypto *tw_srv_test_crypto(const tw_srv *s, const uint8_t sid[TW_SID_LEN]);

#endif /* TW_CTRL_SERVER_H */
