/*
 * ctrl_client.c - the TWAMP-Control Control-Client state machine (see
 * ctrl_client.h; control.md §3-§8). Mirror image of ctrl_server.c: the
 * server's messages are read one at a time (their length follows from
 * the state, or for Start-N-Ack/Stop-N-Ack from the first block), the
 * client's are built by the caller-driven request functions.
 *
 * Keyed modes: the server chain starts with the last block of
 * Server-Start (IV = Server-IV, decrypted as soon as Server-Start is in),
 * and that plaintext block opens the coverage of the first server HMAC
 * (decision 2). The client chain starts with the first command
 * (IV = Client-IV).
 */
#include "ctrl_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl_conn.h"

/* Session flags beyond TW_CTRL_SESS_STARTED and TW_CTRL_SESS_RUNNING. */
enum {
	SESS_WAIT_START = 4, /* ISC: Start-N-Sessions sent, no ack yet */
	SESS_WAIT_STOP = 8,  /* ISC: Stop-N-Sessions sent, no ack yet */
};

#define KDF_MIN_COUNT 1024u

struct tw_cli {
	tw_cli_state state;
	tw_greeting greeting;
	uint32_t mode;

	/* keyed modes: session keys until Server-Start creates the context */
	uint8_t aes_key[TW_AES_KEY_LEN];
	uint8_t hmac_key[TW_HMAC_KEY_LEN];
	uint8_t client_iv[TW_IV_LEN];

	tw_ctrl_conn conn; /* crypto (keyed, from Server-Start on), input, sessions */
	uint32_t npending; /* ISC: SIDs awaiting an ack */
};

/* ---- small helpers ---- */

static bool is_isc(const tw_cli *c)
{
	return (c->mode & TW_MODE_ISC) != 0;
}

static void fail(tw_cli *c, tw_cli_event *ev, int code, const char *reason)
{
	ev->type = TW_CLI_EV_ERROR;
	ev->u.error.code = code;
	ev->u.error.reason = reason;
	c->state = TW_CLI_CLOSED;
}

static int fatal(tw_cli *c, int rc)
{
	c->state = TW_CLI_CLOSED;
	return rc;
}

static tw_cli_state resting_state(const tw_cli *c)
{
	return c->conn.nrunning > 0 ? TW_CLI_TESTING : TW_CLI_IDLE;
}

/* Buffers (and decrypts) input; true once the current message is whole. */
static bool rx_message(tw_cli *c, const uint8_t *in, size_t len, size_t *used, tw_cli_event *ev)
{
	int rc = tw_ctrl_rx_take(&c->conn, in, len, used);
	if (rc < 0)
		fail(c, ev, rc, "decryption failed");
	return rc > 0;
}

/* ---- life cycle and accessors ---- */

tw_cli *tw_cli_new(uint32_t max_sessions)
{
	tw_cli *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (tw_ctrl_conn_init(&c->conn, max_sessions, TW_GREETING_LEN) < 0) {
		tw_cli_free(c);
		return NULL;
	}
	c->state = TW_CLI_WAIT_GREETING;
	tw_ctrl_rx_reset(&c->conn, TW_GREETING_LEN);
	return c;
}

void tw_cli_free(tw_cli *c)
{
	if (!c)
		return;
	tw_ctrl_conn_fini(&c->conn);
	tw_wipe(c, sizeof(*c));
	free(c);
}

tw_cli_state tw_cli_get_state(const tw_cli *c)
{
	return c->state;
}

const char *tw_cli_state_name(tw_cli_state st)
{
	switch (st) {
	case TW_CLI_WAIT_GREETING: return "wait-greeting";
	case TW_CLI_GREETING_RECEIVED: return "greeting-received";
	case TW_CLI_WAIT_SERVER_START: return "wait-server-start";
	case TW_CLI_IDLE: return "idle";
	case TW_CLI_WAIT_ACCEPT: return "wait-accept";
	case TW_CLI_WAIT_START_ACK: return "wait-start-ack";
	case TW_CLI_TESTING: return "testing";
	case TW_CLI_CLOSED: return "closed";
	}
	return "unknown";
}

uint32_t tw_cli_mode(const tw_cli *c)
{
	return c->mode;
}

uint32_t tw_cli_sessions_running(const tw_cli *c)
{
	return c->conn.nrunning;
}

uint32_t tw_mode_choose(uint32_t offered, uint32_t allowed)
{
	static const uint32_t pref[] = { TW_MODE_ENC, TW_MODE_AUTH, TW_MODE_MIXED, TW_MODE_OPEN };
	uint32_t both = offered & allowed;
	for (size_t i = 0; i < sizeof(pref) / sizeof(pref[0]); i++)
		if (both & pref[i])
			return pref[i];
	return 0;
}

/* ---- server messages ---- */

static size_t feed_greeting(tw_cli *c, const uint8_t *in, size_t len, tw_cli_event *ev)
{
	size_t used = 0;
	if (!rx_message(c, in, len, &used, ev))
		return used;
	tw_greeting *g = &ev->u.greeting;
	int rc = tw_greeting_decode(c->conn.buf, c->conn.have, g);
	tw_ctrl_rx_reset(&c->conn, 0);
	if (rc < 0 || g->modes == 0) {
		fail(c, ev, rc < 0 ? rc : -ECONNREFUSED, rc < 0 ? "bad greeting" : "server refused (Modes 0)");
		return used;
	}
	c->greeting = *g;
	ev->type = TW_CLI_EV_GREETING;
	c->state = TW_CLI_GREETING_RECEIVED;
	return used;
}

/* Keyed and accepted: open the server chain at Server-Start's last block. */
static int server_start_crypto(tw_cli *c)
{
	uint8_t *blk = c->conn.buf + TW_SERVER_START_LEN - TW_BLOCK_LEN;
	c->conn.crypto = tw_ctrl_crypto_new(c->aes_key, c->hmac_key, c->client_iv, c->conn.buf + TW_BLOCK_LEN);
	tw_wipe(c->aes_key, sizeof(c->aes_key));
	tw_wipe(c->hmac_key, sizeof(c->hmac_key));
	if (!c->conn.crypto)
		return -EIO;
	int rc = tw_ctrl_decrypt(c->conn.crypto, blk, TW_BLOCK_LEN);
	if (rc == 0)
		tw_ctrl_mac_add_rx(c->conn.crypto, blk, TW_BLOCK_LEN);
	return rc;
}

static size_t feed_server_start(tw_cli *c, const uint8_t *in, size_t len, tw_cli_event *ev)
{
	size_t used = 0;
	if (!rx_message(c, in, len, &used, ev))
		return used;
	tw_server_start *m = &ev->u.server_start;
	/* decode the clear part first: Accept says whether the last block is
	 * encrypted; decode again once it is decrypted */
	int rc = tw_server_start_decode(c->conn.buf, c->conn.have, m);
	if (rc == 0 && m->accept == TW_ACCEPT_OK && tw_ctrl_mode_keyed(c->mode)) {
		rc = server_start_crypto(c);
		if (rc == 0)
			rc = tw_server_start_decode(c->conn.buf, c->conn.have, m);
	}
	tw_ctrl_rx_reset(&c->conn, TW_BLOCK_LEN);
	if (rc < 0) {
		fail(c, ev, rc, "bad server-start");
		return used;
	}
	ev->type = TW_CLI_EV_SERVER_START;
	c->state = m->accept == TW_ACCEPT_OK ? TW_CLI_IDLE : TW_CLI_CLOSED;
	return used;
}

static size_t feed_accept(tw_cli *c, const uint8_t *in, size_t len, tw_cli_event *ev)
{
	size_t used = 0;
	if (!rx_message(c, in, len, &used, ev))
		return used;
	tw_accept_session *m = &ev->u.accept;
	tw_ctrl_rx_reset(&c->conn, TW_BLOCK_LEN);
	if (!tw_ctrl_mac_ok(&c->conn, c->conn.buf, TW_ACCEPT_LEN)) {
		fail(c, ev, -EBADMSG, "bad HMAC");
		return used;
	}
	int rc = tw_accept_decode(c->conn.buf, TW_ACCEPT_LEN, m);
	if (rc == 0 && m->accept == TW_ACCEPT_OK && tw_ctrl_sess_find(&c->conn, m->sid))
		rc = -EEXIST;
	if (rc < 0) {
		fail(c, ev, rc, rc == -EEXIST ? "duplicate SID" : "bad accept-session");
		return used;
	}
	/* tw_cli_request made sure there is room */
	if (m->accept == TW_ACCEPT_OK)
		tw_ctrl_sess_add(&c->conn, m->sid);
	ev->type = TW_CLI_EV_ACCEPT;
	c->state = resting_state(c);
	return used;
}

static size_t feed_start_ack(tw_cli *c, const uint8_t *in, size_t len, tw_cli_event *ev)
{
	size_t used = 0;
	if (!rx_message(c, in, len, &used, ev))
		return used;
	tw_start_ack *m = &ev->u.start_ack;
	tw_ctrl_rx_reset(&c->conn, TW_BLOCK_LEN);
	if (!tw_ctrl_mac_ok(&c->conn, c->conn.buf, TW_START_ACK_LEN)) {
		fail(c, ev, -EBADMSG, "bad HMAC");
		return used;
	}
	int rc = tw_start_ack_decode(c->conn.buf, TW_START_ACK_LEN, m);
	if (rc < 0) {
		fail(c, ev, rc, "bad start-ack");
		return used;
	}
	ev->type = TW_CLI_EV_START_ACK;
	if (m->accept != TW_ACCEPT_OK) {
		c->state = TW_CLI_CLOSED;
		return used;
	}
	tw_ctrl_sess_start_new(&c->conn);
	c->state = TW_CLI_TESTING;
	return used;
}

/* Every SID of an ack must be one we are waiting for with that command. */
static int n_ack_apply(tw_cli *c, const tw_sids_msg *m)
{
	uint8_t wait = m->cmd == TW_CMD_START_N_ACK ? SESS_WAIT_START : SESS_WAIT_STOP;
	for (uint32_t i = 0; i < m->n; i++) {
		tw_ctrl_session *e = tw_ctrl_sess_find(&c->conn, m->sids + (size_t)i * TW_SID_LEN);
		if (!e || !(e->flags & wait))
			return -EPROTO;
		e->flags &= (uint8_t)~wait;
		c->npending--;
		if (m->accept == TW_ACCEPT_OK)
			tw_ctrl_sess_set_running(&c->conn, e, wait == SESS_WAIT_START);
	}
	return 0;
}

static void n_ack_finish(tw_cli *c, tw_cli_event *ev)
{
	size_t len = c->conn.have;
	tw_sids_msg *m = &ev->u.sids;
	tw_ctrl_rx_reset(&c->conn, TW_BLOCK_LEN);
	if (!tw_ctrl_mac_ok(&c->conn, c->conn.buf, len)) {
		fail(c, ev, -EBADMSG, "bad HMAC");
		return;
	}
	int rc = tw_sids_decode(c->conn.buf, len, m);
	if (rc == 0)
		rc = n_ack_apply(c, m);
	if (rc < 0) {
		fail(c, ev, rc, rc == -EPROTO ? "ack for a session not requested" : "bad start-n/stop-n-ack");
		return;
	}
	ev->type = TW_CLI_EV_N_ACK;
	c->state = resting_state(c);
}

static int n_ack_begin(tw_cli *c, tw_cli_event *ev)
{
	uint8_t cmd = tw_ctrl_rx_cmd(&c->conn);
	long n = tw_sids_msg_len(c->conn.buf, c->conn.max_sessions);
	if ((cmd != TW_CMD_START_N_ACK && cmd != TW_CMD_STOP_N_ACK) || n < 0) {
		fail(c, ev, n < 0 ? (int)n : -EBADMSG, "unexpected message from server");
		return -1;
	}
	c->conn.need = (size_t)n;
	c->conn.len_known = true;
	return 0;
}

static size_t feed_n_ack(tw_cli *c, const uint8_t *in, size_t len, tw_cli_event *ev)
{
	size_t used = 0;
	for (;;) {
		if (!rx_message(c, in, len, &used, ev))
			return used;
		if (c->conn.len_known)
			break;
		if (n_ack_begin(c, ev) < 0)
			return used;
	}
	n_ack_finish(c, ev);
	return used;
}

static size_t feed_unexpected(tw_cli *c, size_t len, tw_cli_event *ev)
{
	if (c->state == TW_CLI_CLOSED)
		fail(c, ev, -EPIPE, "connection closed");
	else if (len > 0)
		fail(c, ev, -EPROTO, "unexpected data from server");
	return 0;
}

size_t tw_cli_feed(tw_cli *c, const uint8_t *in, size_t len, tw_cli_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	switch (c->state) {
	case TW_CLI_WAIT_GREETING:
		return feed_greeting(c, in, len, ev);
	case TW_CLI_WAIT_SERVER_START:
		return feed_server_start(c, in, len, ev);
	case TW_CLI_WAIT_ACCEPT:
		return feed_accept(c, in, len, ev);
	case TW_CLI_WAIT_START_ACK:
		return feed_start_ack(c, in, len, ev);
	case TW_CLI_IDLE:
	case TW_CLI_TESTING:
		if (c->npending > 0)
			return feed_n_ack(c, in, len, ev);
		return feed_unexpected(c, len, ev);
	default:
		return feed_unexpected(c, len, ev);
	}
}

/* ---- Set-Up-Response ---- */

/* RFC 5357 §6 DoS limit, applied only when a keyed mode needs the KDF
 * (ambiguity A4); max_count 0 means the default 32768. */
static int count_check(uint32_t count, uint32_t max_count)
{
	if (max_count == 0)
		max_count = TW_KDF_MAX_COUNT_DEFAULT;
	if (count > max_count)
		return -E2BIG;
	if (count < KDF_MIN_COUNT || (count & (count - 1)) != 0)
		return -EINVAL;
	return 0;
}

static int setup_check(const tw_cli *c, uint32_t mode, const char *keyid, const uint8_t *secret,
		       const tw_cli_random *rnd, uint32_t max_count)
{
	if (tw_mode_security(mode) == 0 || (mode & ~c->greeting.modes) != 0)
		return -EINVAL;
	if (!tw_ctrl_mode_keyed(mode))
		return 0;
	if (!keyid || !secret || !rnd || strnlen(keyid, TW_KEYID_LEN + 1) > TW_KEYID_LEN)
		return -EINVAL;
	return count_check(c->greeting.count, max_count);
}

/* Token = AES-CBC(KDF(secret), IV 0, Challenge || AES key || HMAC key). */
static int setup_keys(tw_cli *c, tw_setup *m, const char *keyid, const uint8_t *secret, size_t secret_len,
		      const tw_cli_random *rnd)
{
	uint8_t dk[TW_AES_KEY_LEN], plain[TW_TOKEN_LEN];
	memcpy(m->keyid, keyid, strnlen(keyid, TW_KEYID_LEN));
	memcpy(plain, c->greeting.challenge, 16);
	memcpy(plain + 16, rnd->aes_key, TW_AES_KEY_LEN);
	memcpy(plain + 32, rnd->hmac_key, TW_HMAC_KEY_LEN);
	int rc = tw_kdf(secret, secret_len, c->greeting.salt, c->greeting.count, dk);
	if (rc == 0)
		rc = tw_token_encrypt(dk, plain, m->token);
	memcpy(m->client_iv, rnd->client_iv, TW_IV_LEN);
	memcpy(c->aes_key, rnd->aes_key, TW_AES_KEY_LEN);
	memcpy(c->hmac_key, rnd->hmac_key, TW_HMAC_KEY_LEN);
	memcpy(c->client_iv, rnd->client_iv, TW_IV_LEN);
	tw_wipe(dk, sizeof(dk));
	tw_wipe(plain, sizeof(plain));
	return rc;
}

int tw_cli_setup(tw_cli *c, uint32_t mode, const char *keyid, const uint8_t *secret, size_t secret_len,
		 const tw_cli_random *rnd, uint32_t max_count, uint8_t *out, size_t cap)
{
	if (c->state != TW_CLI_GREETING_RECEIVED)
		return -EPROTO;
	if (cap < TW_SETUP_LEN)
		return -ENOSPC;
	tw_setup m = { .mode = mode };
	int rc = mode ? setup_check(c, mode, keyid, secret, rnd, max_count) : 0;
	if (rc == 0 && tw_ctrl_mode_keyed(mode))
		rc = setup_keys(c, &m, keyid, secret, secret_len, rnd);
	if (rc < 0)
		return rc;
	int n = tw_setup_encode(&m, out, cap);
	c->mode = mode;
	/* Mode 0: the client declines and closes (§3). */
	c->state = mode ? TW_CLI_WAIT_SERVER_START : TW_CLI_CLOSED;
	tw_ctrl_rx_reset(&c->conn, TW_SERVER_START_LEN);
	return n;
}

/* ---- commands ---- */

int tw_cli_request(tw_cli *c, const tw_request *req, uint8_t *out, size_t cap)
{
	bool idle = c->state == TW_CLI_IDLE || (c->state == TW_CLI_TESTING && is_isc(c));
	if (!idle || c->npending > 0)
		return -EPROTO;
	if (c->conn.nsess >= c->conn.max_sessions)
		return -ENOBUFS;
	tw_request m = *req;
	memset(m.sid, 0, sizeof(m.sid));
	memset(m.hmac, 0, sizeof(m.hmac));
	int n = tw_request_encode(&m, out, cap);
	if (n < 0)
		return n;
	int rc = tw_ctrl_seal(&c->conn, out, TW_REQUEST_LEN);
	if (rc < 0)
		return fatal(c, rc);
	c->state = TW_CLI_WAIT_ACCEPT;
	tw_ctrl_rx_reset(&c->conn, TW_ACCEPT_LEN);
	return n;
}

int tw_cli_start(tw_cli *c, uint8_t *out, size_t cap)
{
	static const uint8_t no_mac[TW_HMAC_LEN];
	if (c->state != TW_CLI_IDLE || is_isc(c))
		return -EPROTO;
	int n = tw_start_encode(no_mac, out, cap);
	if (n < 0)
		return n;
	int rc = tw_ctrl_seal(&c->conn, out, TW_START_LEN);
	if (rc < 0)
		return fatal(c, rc);
	c->state = TW_CLI_WAIT_START_ACK;
	tw_ctrl_rx_reset(&c->conn, TW_START_ACK_LEN);
	return n;
}

int tw_cli_stop(tw_cli *c, uint8_t accept, uint8_t *out, size_t cap)
{
	if (c->state != TW_CLI_TESTING || is_isc(c))
		return -EPROTO;
	tw_stop m = { .accept = accept, .nsessions = c->conn.nrunning };
	int n = tw_stop_encode(&m, out, cap);
	if (n < 0)
		return n;
	int rc = tw_ctrl_seal(&c->conn, out, TW_STOP_LEN);
	if (rc < 0)
		return fatal(c, rc);
	tw_ctrl_sess_stop_all(&c->conn);
	c->state = TW_CLI_IDLE;
	tw_ctrl_rx_reset(&c->conn, TW_BLOCK_LEN);
	return n;
}

static void pending_undo(tw_cli *c, uint32_t n, const uint8_t *sids, uint8_t wait)
{
	for (uint32_t i = 0; i < n; i++) {
		tw_ctrl_session *e = tw_ctrl_sess_find(&c->conn, sids + (size_t)i * TW_SID_LEN);
		if (e)
			e->flags &= (uint8_t)~wait;
	}
}

/* Marks the SIDs as waiting for an ack; a SID that is unknown, already
 * waiting, listed twice, or (start) running / (stop) not running fails
 * the whole request. */
static int pending_mark(tw_cli *c, uint32_t n, const uint8_t *sids, bool start)
{
	uint8_t wait = start ? SESS_WAIT_START : SESS_WAIT_STOP;
	for (uint32_t i = 0; i < n; i++) {
		tw_ctrl_session *e = tw_ctrl_sess_find(&c->conn, sids + (size_t)i * TW_SID_LEN);
		bool running = e && (e->flags & TW_CTRL_SESS_RUNNING);
		if (!e || (e->flags & (SESS_WAIT_START | SESS_WAIT_STOP)) || running == start) {
			pending_undo(c, i, sids, wait);
			return -EINVAL;
		}
		e->flags |= wait;
	}
	c->npending += n;
	return 0;
}

static int sids_request(tw_cli *c, uint8_t cmd, uint32_t n, const uint8_t *sids, uint8_t *out, size_t cap)
{
	if (!is_isc(c) || (c->state != TW_CLI_IDLE && c->state != TW_CLI_TESTING))
		return -EPROTO;
	if (n == 0 || n > c->conn.max_sessions || !sids)
		return -EINVAL;
	tw_sids_msg m = { .cmd = cmd, .n = n, .sids = sids };
	int len = tw_sids_encode(&m, out, cap);
	if (len < 0)
		return len;
	int rc = pending_mark(c, n, sids, cmd == TW_CMD_START_N);
	if (rc < 0)
		return rc;
	rc = tw_ctrl_seal(&c->conn, out, (size_t)len);
	if (rc < 0)
		return fatal(c, rc);
	return len;
}

int tw_cli_start_n(tw_cli *c, uint32_t n, const uint8_t *sids, uint8_t *out, size_t cap)
{
	return sids_request(c, TW_CMD_START_N, n, sids, out, cap);
}

int tw_cli_stop_n(tw_cli *c, uint32_t n, const uint8_t *sids, uint8_t *out, size_t cap)
{
	return sids_request(c, TW_CMD_STOP_N, n, sids, out, cap);
}

/* ---- test keys ---- */

tw_test_crypto *tw_cli_test_crypto(const tw_cli *c, const uint8_t sid[TW_SID_LEN])
{
	return tw_ctrl_test_crypto(&c->conn, c->mode, sid);
}
