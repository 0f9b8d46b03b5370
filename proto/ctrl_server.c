/*
 * ctrl_server.c - the TWAMP-Control Server state machine (see
 * ctrl_server.h; control.md §5-§8). Bytes in, at most one event out per
 * feed; replies are built by the caller-driven reply functions.
 *
 * Keyed modes (authenticated, encrypted, mixed: identical on the control
 * channel) decrypt the client stream block by block as it arrives, so a
 * command's length is known from its first decrypted block, and every
 * client HMAC is checked before the message is acted upon. The server's
 * CBC chain and HMAC coverage start with the last block of Server-Start,
 * so the first server HMAC covers Server-Start[32..47] || reply[0..31]
 * (decision 2).
 */
#include "ctrl_server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl_conn.h"

struct tw_srv {
	tw_srv_state state;

	/* what the greeting offered */
	uint32_t offered;
	uint8_t challenge[16];
	uint8_t salt[16];
	uint32_t count;

	/* Set-Up-Response */
	uint32_t mode;        /* 0 until a valid mode was chosen */
	uint8_t setup_accept; /* protocol verdict on the Set-Up-Response */
	bool keys_ok;         /* keyed: Token decrypted and challenge matched */
	uint8_t token[TW_TOKEN_LEN];
	uint8_t client_iv[TW_IV_LEN];
	uint8_t aes_key[TW_AES_KEY_LEN];
	uint8_t hmac_key[TW_HMAC_KEY_LEN];

	tw_ctrl_conn conn; /* crypto (keyed, from Server-Start on), input, sessions */
};

/* ---- small helpers ---- */

static void fail(tw_srv *s, tw_srv_event *ev, int code, const char *reason)
{
	ev->type = TW_SRV_EV_ERROR;
	ev->u.error.code = code;
	ev->u.error.reason = reason;
	ev->u.error.reply_len = 0;
	s->state = TW_SRV_CLOSED;
}

/* A reply that could not be sealed leaves the CBC chain in an unknown
 * state: nothing more can be sent on this connection. */
static int fatal(tw_srv *s, int rc)
{
	s->state = TW_SRV_CLOSED;
	return rc;
}

static tw_srv_state resting_state(const tw_srv *s)
{
	return s->conn.nrunning > 0 ? TW_SRV_TESTING : TW_SRV_IDLE;
}

/* Buffers (and decrypts) input; true once the current message is whole. */
static bool rx_message(tw_srv *s, const uint8_t *in, size_t len, size_t *used, tw_srv_event *ev)
{
	int rc = tw_ctrl_rx_take(&s->conn, in, len, used);
	if (rc < 0)
		fail(s, ev, rc, "decryption failed");
	return rc > 0;
}

static bool sids_known(tw_srv *s, uint32_t n, const uint8_t *sids)
{
	for (uint32_t i = 0; i < n; i++)
		if (!tw_ctrl_sess_find(&s->conn, sids + (size_t)i * TW_SID_LEN))
			return false;
	return true;
}

/* ---- life cycle and accessors ---- */

tw_srv *tw_srv_new(uint32_t max_sessions)
{
	tw_srv *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	/* the buffer also holds a Set-Up-Response, >= Request-TW-Session */
	if (tw_ctrl_conn_init(&s->conn, max_sessions, TW_SETUP_LEN) < 0) {
		tw_srv_free(s);
		return NULL;
	}
	s->state = TW_SRV_GREETING;
	return s;
}

void tw_srv_free(tw_srv *s)
{
	if (!s)
		return;
	tw_ctrl_conn_fini(&s->conn);
	tw_wipe(s, sizeof(*s));
	free(s);
}

tw_srv_state tw_srv_get_state(const tw_srv *s)
{
	return s->state;
}

const char *tw_srv_state_name(tw_srv_state st)
{
	switch (st) {
	case TW_SRV_GREETING: return "greeting";
	case TW_SRV_WAIT_SETUP: return "wait-setup";
	case TW_SRV_SETUP_RECEIVED: return "setup-received";
	case TW_SRV_IDLE: return "idle";
	case TW_SRV_REQUEST_RECEIVED: return "request-received";
	case TW_SRV_START_RECEIVED: return "start-received";
	case TW_SRV_TESTING: return "testing";
	case TW_SRV_CLOSED: return "closed";
	}
	return "unknown";
}

uint32_t tw_srv_mode(const tw_srv *s)
{
	return s->mode;
}

uint32_t tw_srv_sessions_accepted(const tw_srv *s)
{
	return s->conn.nsess;
}

uint32_t tw_srv_sessions_running(const tw_srv *s)
{
	return s->conn.nrunning;
}

/* ---- greeting and set-up ---- */

int tw_srv_greeting(tw_srv *s, const tw_greeting *g, uint8_t *out, size_t cap)
{
	if (s->state != TW_SRV_GREETING)
		return -EPROTO;
	int n = tw_greeting_encode(g, out, cap);
	if (n < 0)
		return n;
	s->offered = g->modes;
	memcpy(s->challenge, g->challenge, sizeof(s->challenge));
	memcpy(s->salt, g->salt, sizeof(s->salt));
	s->count = g->count;
	tw_ctrl_rx_reset(&s->conn, TW_SETUP_LEN);
	/* Modes 0 means this server will not talk to the client. */
	s->state = g->modes ? TW_SRV_WAIT_SETUP : TW_SRV_CLOSED;
	return n;
}

/* control.md §5.2 step 1: exactly one security bit, every bit offered. */
static uint8_t setup_verdict(const tw_srv *s, uint32_t mode)
{
	if (tw_mode_security(mode) == 0 || (mode & ~s->offered) != 0)
		return TW_ACCEPT_NOT_SUPPORTED;
	return TW_ACCEPT_OK;
}

static size_t feed_setup(tw_srv *s, const uint8_t *in, size_t len, tw_srv_event *ev)
{
	size_t used = 0;
	if (!rx_message(s, in, len, &used, ev))
		return used;
	tw_setup *m = &ev->u.setup.msg;
	int rc = tw_setup_decode(s->conn.buf, s->conn.have, m);
	tw_ctrl_rx_reset(&s->conn, TW_BLOCK_LEN);
	if (rc < 0 || m->mode == 0) {
		fail(s, ev, rc < 0 ? rc : -ECANCELED, rc < 0 ? "bad set-up-response" : "client declined");
		return used;
	}
	s->setup_accept = setup_verdict(s, m->mode);
	if (s->setup_accept == TW_ACCEPT_OK)
		s->mode = m->mode;
	memcpy(s->token, m->token, TW_TOKEN_LEN);
	memcpy(s->client_iv, m->client_iv, TW_IV_LEN);
	ev->type = TW_SRV_EV_SETUP;
	ev->u.setup.accept = s->setup_accept;
	s->state = TW_SRV_SETUP_RECEIVED;
	return used;
}

/* Runs the KDF and the Token decryption even for an unknown KeyID so that
 * the answer's timing does not reveal which identities exist. */
uint8_t tw_srv_authenticate(tw_srv *s, const uint8_t *secret, size_t secret_len)
{
	static const uint8_t decoy[] = "twamp-unknown-keyid";
	if (s->state != TW_SRV_SETUP_RECEIVED || s->setup_accept != TW_ACCEPT_OK)
		return TW_ACCEPT_FAILURE;
	if (!tw_ctrl_mode_keyed(s->mode))
		return TW_ACCEPT_OK;
	bool known = secret != NULL;
	uint8_t dk[TW_AES_KEY_LEN], plain[TW_TOKEN_LEN];
	int rc = tw_kdf(known ? secret : decoy, known ? secret_len : sizeof(decoy) - 1, s->salt, s->count, dk);
	if (rc == 0)
		rc = tw_token_decrypt(dk, s->token, plain);
	bool match = rc == 0 && tw_ct_equal(plain, s->challenge, sizeof(s->challenge));
	s->keys_ok = match && known;
	if (s->keys_ok) {
		memcpy(s->aes_key, plain + 16, TW_AES_KEY_LEN);
		memcpy(s->hmac_key, plain + 32, TW_HMAC_KEY_LEN);
	}
	tw_wipe(dk, sizeof(dk));
	tw_wipe(plain, sizeof(plain));
	return s->keys_ok ? TW_ACCEPT_OK : TW_ACCEPT_FAILURE;
}

/* The server chain starts at Server-Start's last block with IV =
 * Server-IV; the client chain at the first command with IV = Client-IV. */
static int start_crypto(tw_srv *s, const uint8_t server_iv[TW_IV_LEN])
{
	s->conn.crypto = tw_ctrl_crypto_new(s->aes_key, s->hmac_key, server_iv, s->client_iv);
	tw_wipe(s->aes_key, sizeof(s->aes_key));
	tw_wipe(s->hmac_key, sizeof(s->hmac_key));
	return s->conn.crypto ? 0 : -EIO;
}

static bool may_accept_setup(const tw_srv *s)
{
	return s->setup_accept == TW_ACCEPT_OK && (!tw_ctrl_mode_keyed(s->mode) || s->keys_ok);
}

int tw_srv_server_start(tw_srv *s, uint8_t accept, const uint8_t server_iv[TW_IV_LEN], tw_ts start_time,
			uint8_t *out, size_t cap)
{
	bool keyed = tw_ctrl_mode_keyed(s->mode);
	if (s->state != TW_SRV_SETUP_RECEIVED || (accept == TW_ACCEPT_OK && !may_accept_setup(s)))
		return -EPROTO;
	if (keyed && !server_iv)
		return -EINVAL;
	if (cap < TW_SERVER_START_LEN)
		return -ENOSPC;
	/* Start-Time is all zero in a refusal (§5.2). */
	tw_server_start m = { .accept = accept, .start_time = accept == TW_ACCEPT_OK ? start_time : 0 };
	if (keyed)
		memcpy(m.server_iv, server_iv, TW_IV_LEN);
	int n = tw_server_start_encode(&m, out, cap);
	if (accept != TW_ACCEPT_OK) {
		s->state = TW_SRV_CLOSED;
		return n;
	}
	if (keyed) {
		uint8_t *blk = out + TW_SERVER_START_LEN - TW_BLOCK_LEN;
		int rc = start_crypto(s, m.server_iv);
		if (rc == 0) {
			tw_ctrl_mac_add_tx(s->conn.crypto, blk, TW_BLOCK_LEN);
			rc = tw_ctrl_encrypt(s->conn.crypto, blk, TW_BLOCK_LEN);
		}
		if (rc < 0)
			return fatal(s, rc);
	}
	s->state = TW_SRV_IDLE;
	return n;
}

/* ---- commands ---- */

static bool cmd_known(uint8_t cmd)
{
	return cmd == TW_CMD_START || cmd == TW_CMD_STOP || cmd == TW_CMD_REQUEST || cmd == TW_CMD_START_N ||
	       cmd == TW_CMD_STOP_N;
}

/* RFC 4656 §3.4 / RFC 5938: with ISC only Start-N/Stop-N start and stop
 * sessions, and new sessions may be requested while others run; without
 * it, Stop-Sessions is the only command allowed while testing. */
static bool cmd_allowed(const tw_srv *s, uint8_t cmd)
{
	bool isc = (s->mode & TW_MODE_ISC) != 0;
	switch (cmd) {
	case TW_CMD_REQUEST:
		return isc || s->state == TW_SRV_IDLE;
	case TW_CMD_START:
		return !isc && s->state == TW_SRV_IDLE;
	case TW_CMD_STOP:
		return !isc && s->state == TW_SRV_TESTING;
	default: /* Start-N, Stop-N */
		return isc;
	}
}

/* An unknown command's length cannot be known: answer Accept-Session
 * with Accept 3 (control.md §7.1) and close. */
static void fail_unknown(tw_srv *s, tw_srv_event *ev)
{
	tw_accept_session a = { .accept = TW_ACCEPT_NOT_SUPPORTED };
	uint8_t *r = ev->u.error.reply;
	bool ok = tw_accept_encode(&a, r, TW_ACCEPT_LEN) == TW_ACCEPT_LEN &&
		  tw_ctrl_seal(&s->conn, r, TW_ACCEPT_LEN) == 0;
	fail(s, ev, -EOPNOTSUPP, "unknown command");
	ev->u.error.reply_len = ok ? TW_ACCEPT_LEN : 0;
}

/* First block in (and decrypted): learn the command and its length. */
static int cmd_begin(tw_srv *s, tw_srv_event *ev)
{
	uint8_t cmd = tw_ctrl_rx_cmd(&s->conn);
	if (!cmd_known(cmd)) {
		fail_unknown(s, ev);
		return -1;
	}
	if (!cmd_allowed(s, cmd)) {
		fail(s, ev, -EPROTO, "command not allowed in this state");
		return -1;
	}
	long n = tw_client_msg_len(s->conn.buf, s->conn.max_sessions);
	if (n < 0) {
		fail(s, ev, (int)n, "bad number of sessions");
		return -1;
	}
	s->conn.need = (size_t)n;
	s->conn.len_known = true;
	return 0;
}

static void on_request(tw_srv *s, size_t len, tw_srv_event *ev)
{
	int rc = tw_request_decode(s->conn.buf, len, &ev->u.request.msg);
	if (rc < 0) {
		fail(s, ev, rc, "bad request-tw-session");
		return;
	}
	ev->type = TW_SRV_EV_REQUEST;
	ev->u.request.accept = (uint8_t)tw_request_check(&ev->u.request.msg);
	s->state = TW_SRV_REQUEST_RECEIVED;
}

static void on_start(tw_srv *s, size_t len, tw_srv_event *ev)
{
	uint8_t mac[TW_HMAC_LEN];
	int rc = tw_start_decode(s->conn.buf, len, mac);
	if (rc < 0) {
		fail(s, ev, rc, "bad start-sessions");
		return;
	}
	ev->type = TW_SRV_EV_START;
	s->state = TW_SRV_START_RECEIVED;
}

static void on_stop(tw_srv *s, size_t len, tw_srv_event *ev)
{
	int rc = tw_stop_decode(s->conn.buf, len, &ev->u.stop.msg);
	if (rc < 0) {
		fail(s, ev, rc, "bad stop-sessions");
		return;
	}
	ev->type = TW_SRV_EV_STOP;
	ev->u.stop.count_ok = ev->u.stop.msg.nsessions == s->conn.nrunning;
	tw_ctrl_sess_stop_all(&s->conn);
	s->state = TW_SRV_IDLE;
}

/* Start-N/Stop-N: u.sids.accept carries the machine's verdict (1 when a
 * SID names no session of this connection) for the caller's ack. */
static void on_sids(tw_srv *s, size_t len, tw_srv_event *ev)
{
	tw_sids_msg *m = &ev->u.sids;
	int rc = tw_sids_decode(s->conn.buf, len, m);
	if (rc < 0) {
		fail(s, ev, rc, "bad start-n/stop-n-sessions");
		return;
	}
	ev->type = m->cmd == TW_CMD_START_N ? TW_SRV_EV_START_N : TW_SRV_EV_STOP_N;
	m->accept = sids_known(s, m->n, m->sids) ? TW_ACCEPT_OK : TW_ACCEPT_FAILURE;
}

/* Whole command in and decrypted: check its HMAC, then act on it. The
 * octets stay in buf (Start-N/Stop-N SIDs) until the next feed. */
static void cmd_finish(tw_srv *s, tw_srv_event *ev)
{
	size_t len = s->conn.have;
	tw_ctrl_rx_reset(&s->conn, TW_BLOCK_LEN);
	if (!tw_ctrl_mac_ok(&s->conn, s->conn.buf, len)) {
		fail(s, ev, -EBADMSG, "bad HMAC");
		return;
	}
	switch (tw_ctrl_rx_cmd(&s->conn)) {
	case TW_CMD_REQUEST:
		on_request(s, len, ev);
		break;
	case TW_CMD_START:
		on_start(s, len, ev);
		break;
	case TW_CMD_STOP:
		on_stop(s, len, ev);
		break;
	default:
		on_sids(s, len, ev);
		break;
	}
}

static size_t feed_command(tw_srv *s, const uint8_t *in, size_t len, tw_srv_event *ev)
{
	size_t used = 0;
	for (;;) {
		if (!rx_message(s, in, len, &used, ev))
			return used;
		if (s->conn.len_known)
			break;
		if (cmd_begin(s, ev) < 0)
			return used;
	}
	cmd_finish(s, ev);
	return used;
}

/* Input while the machine waits for the caller (before the greeting or
 * with a reply pending) is a caller or peer error; so is any input after
 * CLOSED. */
static size_t feed_unexpected(tw_srv *s, size_t len, tw_srv_event *ev)
{
	if (s->state == TW_SRV_CLOSED)
		fail(s, ev, -EPIPE, "connection closed");
	else if (len > 0)
		fail(s, ev, -EPROTO, s->state == TW_SRV_GREETING ? "data before greeting" : "reply pending");
	return 0;
}

size_t tw_srv_feed(tw_srv *s, const uint8_t *in, size_t len, tw_srv_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	switch (s->state) {
	case TW_SRV_WAIT_SETUP:
		return feed_setup(s, in, len, ev);
	case TW_SRV_IDLE:
	case TW_SRV_TESTING:
		return feed_command(s, in, len, ev);
	default:
		return feed_unexpected(s, len, ev);
	}
}

/* ---- replies ---- */

int tw_srv_accept(tw_srv *s, const tw_accept_session *m, uint8_t *out, size_t cap)
{
	if (s->state != TW_SRV_REQUEST_RECEIVED)
		return -EPROTO;
	if (cap < TW_ACCEPT_LEN)
		return -ENOSPC;
	bool ok = m->accept == TW_ACCEPT_OK;
	if (ok && s->conn.nsess >= s->conn.max_sessions)
		return -ENOBUFS;
	if (ok && tw_ctrl_sess_find(&s->conn, m->sid))
		return -EEXIST;
	tw_accept_session a = *m;
	memset(a.hmac, 0, sizeof(a.hmac));
	if (!ok)
		a.port = 0; /* a refusal must not suggest a port (§7.3) */
	int n = tw_accept_encode(&a, out, cap);
	int rc = tw_ctrl_seal(&s->conn, out, TW_ACCEPT_LEN);
	if (rc < 0)
		return fatal(s, rc);
	if (ok)
		tw_ctrl_sess_add(&s->conn, a.sid);
	s->state = resting_state(s);
	return n;
}

int tw_srv_start_ack(tw_srv *s, uint8_t accept, uint8_t *out, size_t cap)
{
	if (s->state != TW_SRV_START_RECEIVED)
		return -EPROTO;
	tw_start_ack a = { .accept = accept };
	int n = tw_start_ack_encode(&a, out, cap);
	if (n < 0)
		return n;
	int rc = tw_ctrl_seal(&s->conn, out, TW_START_ACK_LEN);
	if (rc < 0)
		return fatal(s, rc);
	if (accept != TW_ACCEPT_OK) {
		s->state = TW_SRV_CLOSED;
		return n;
	}
	tw_ctrl_sess_start_new(&s->conn);
	s->state = TW_SRV_TESTING;
	return n;
}

static void sids_apply(tw_srv *s, bool run, uint32_t n, const uint8_t *sids)
{
	for (uint32_t i = 0; i < n; i++) {
		tw_ctrl_session *e = tw_ctrl_sess_find(&s->conn, sids + (size_t)i * TW_SID_LEN);
		if (e)
			tw_ctrl_sess_set_running(&s->conn, e, run);
	}
}

int tw_srv_sids_ack(tw_srv *s, uint8_t cmd, uint8_t accept, uint32_t n, const uint8_t *sids, uint8_t *out,
		    size_t cap)
{
	if (!(s->mode & TW_MODE_ISC) || (s->state != TW_SRV_IDLE && s->state != TW_SRV_TESTING))
		return -EPROTO;
	if ((cmd != TW_CMD_START_N_ACK && cmd != TW_CMD_STOP_N_ACK) || n == 0 || n > s->conn.max_sessions || !sids)
		return -EINVAL;
	/* Accept 0 only for sessions of this connection; a refusal may name
	 * whatever the client sent. */
	if (accept == TW_ACCEPT_OK && !sids_known(s, n, sids))
		return -EINVAL;
	tw_sids_msg m = { .cmd = cmd, .accept = accept, .n = n, .sids = sids };
	int len = tw_sids_encode(&m, out, cap);
	if (len < 0)
		return len;
	int rc = tw_ctrl_seal(&s->conn, out, (size_t)len);
	if (rc < 0)
		return fatal(s, rc);
	if (accept == TW_ACCEPT_OK)
		sids_apply(s, cmd == TW_CMD_START_N_ACK, n, sids);
	s->state = resting_state(s);
	return len;
}

/* ---- test keys ---- */

tw_test_crypto *tw_srv_test_crypto(const tw_srv *s, const uint8_t sid[TW_SID_LEN])
{
	return tw_ctrl_test_crypto(&s->conn, s->mode, sid);
}
