/*
 * ctrl_conn.h - what the two TWAMP-Control machines (ctrl_server.c,
 * ctrl_client.c) do alike for one control connection: buffer the peer's
 * messages one at a time and decrypt them block by block as they arrive,
 * seal outgoing messages and check incoming HMACs, keep the table of the
 * sessions accepted on the connection, and derive a session's test keys.
 * Internal to proto/ (not part of the library's interface); pure, and
 * allocating only in tw_ctrl_conn_init.
 *
 * Open mode is a connection without crypto (NULL): nothing is decrypted,
 * HMAC fields stay zero and are not checked.
 */
#ifndef TW_CTRL_CONN_H
#define TW_CTRL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control.h"
#include "crypto.h"

/* Keeps the input buffer (32 + 16 N octets) at a few MB at most. */
#define TW_CTRL_SESSIONS_LIMIT (UINT32_C(1) << 18)

/* Session flags; a machine may define further bits above these. */
enum {
	TW_CTRL_SESS_STARTED = 1, /* started once (Start-Sessions starts only new ones) */
	TW_CTRL_SESS_RUNNING = 2, /* started and not yet stopped */
};

typedef struct tw_ctrl_session {
	uint8_t sid[TW_SID_LEN];
	uint8_t flags;
} tw_ctrl_session;

typedef struct tw_ctrl_conn {
	tw_ctrl_crypto *crypto; /* keyed modes, once Server-Start is through */

	/* input: one message at a time */
	uint8_t *buf;
	size_t cap;
	size_t have;    /* octets buffered */
	size_t need;    /* octets the current message (or its first block) needs */
	size_t dec;     /* octets already decrypted */
	bool len_known; /* need is the whole message, not just its first block */

	/* sessions accepted on this connection */
	tw_ctrl_session *sess;
	uint32_t max_sessions;
	uint32_t nsess;
	uint32_t nrunning;
} tw_ctrl_conn;

/* Allocates an input buffer for the largest message (a Start-N/Stop-N
 * family message for max_sessions SIDs, at least min_cap octets) and the
 * session table. 0, -EINVAL when max_sessions exceeds
 * TW_CTRL_SESSIONS_LIMIT, -ENOMEM. k must be zeroed before; after a
 * failure tw_ctrl_conn_fini still releases what was allocated. */
int tw_ctrl_conn_init(tw_ctrl_conn *k, uint32_t max_sessions, size_t min_cap);
/* Frees the crypto context, buffer and table; wipes the buffer. */
void tw_ctrl_conn_fini(tw_ctrl_conn *k);

/* True for a mode whose control stream is keyed (authenticated,
 * encrypted or mixed). */
bool tw_ctrl_mode_keyed(uint32_t mode);

/* ---- input ---- */

/* Expects a new message of need octets (or its first block). */
void tw_ctrl_rx_reset(tw_ctrl_conn *k, size_t need);
/* Buffers input from in[*used .. len) up to the octets the current message
 * needs, advancing *used, and decrypts every whole block that arrived.
 * Returns 1 once need octets are in, 0 when more are needed, -EIO when
 * decryption failed. */
int tw_ctrl_rx_take(tw_ctrl_conn *k, const uint8_t *in, size_t len, size_t *used);
/* The command (or type) octet of the buffered message. */
uint8_t tw_ctrl_rx_cmd(const tw_ctrl_conn *k);

/* ---- HMACs ---- */

/* Keyed: HMAC over msg[0 .. len-16) into the last 16 octets, then encrypts
 * the whole message continuing this side's chain. Open: nothing. 0 or -EIO
 * (the chain is then unusable: close the connection). */
int tw_ctrl_seal(tw_ctrl_conn *k, uint8_t *msg, size_t len);
/* Keyed: whether the last 16 octets of the decrypted msg are the HMAC over
 * everything received since the previous HMAC. Open: true. */
bool tw_ctrl_mac_ok(tw_ctrl_conn *k, const uint8_t *msg, size_t len);

/* ---- sessions ---- */

tw_ctrl_session *tw_ctrl_sess_find(tw_ctrl_conn *k, const uint8_t sid[TW_SID_LEN]);
/* Records sid; the caller has checked nsess < max_sessions. */
void tw_ctrl_sess_add(tw_ctrl_conn *k, const uint8_t sid[TW_SID_LEN]);
/* Marks e running or stopped, keeping nrunning. */
void tw_ctrl_sess_set_running(tw_ctrl_conn *k, tw_ctrl_session *e, bool run);
/* Start-Ack 0: every session never started before runs. */
void tw_ctrl_sess_start_new(tw_ctrl_conn *k);
/* Stop-Sessions: every session stops. */
void tw_ctrl_sess_stop_all(tw_ctrl_conn *k);

/* The test-packet context of session sid (authenticated or encrypted mode:
 * keys derived per control.md §6.5, HMAC-SHA1), or NULL in the other modes
 * or on failure. The caller frees it with tw_test_crypto_free. */
tw_test_crypto *tw_ctrl_test_crypto(const tw_ctrl_conn *k, uint32_t mode, const uint8_t sid[TW_SID_LEN]);

#endif /* TW_CTRL_CONN_H */
