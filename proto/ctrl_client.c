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

#include "wire.h"

enum {
	SESS_STARTED = 1,    /* started once (Start-Sessions starts only new ones) */
	SESS_RUNNING = 2,    /* started and not yet stopped */
	SESS_WAIT_START = 4, /* ISC: Start-N-Sessions sent, no ack yet */
	SESS_WAIT_STOP = 8,  /* ISC: Stop-N-Sessions sent, no ack yet */
};

/* Keeps the input buffer (32 + 16 N octets) at a few MB at most. */
#define SESSIONS_LIMIT (UINT32_C(1) << 18)
#define KDF_MIN_COUNT 1024u

typedef struct cli_session {
	uint8_t sid[TW_SID_LEN];
	uint8_t flags;
} cli_session;

struct tw_cli {
	tw_cli_state state;
	uint32_t max_sessions;
	tw_greeting greeting;
	uint32_t mode;

	/* keyed modes: session keys until Server-Start creates the context */
	uint8_t aes_key[TW_AES_KEY_LEN];
	uint8_t hmac_key[TW_HMAC_KEY_LEN];
	uint8_t client_iv[TW_IV_LEN];
	tw_ctrl_crypto *crypto;

	/* sessions accepted by the server */
	cli_session *sess;
	uint32_t nsess;
	uint32_t nrunning;
	uint32_t npending; /* ISC: SIDs awaiting an ack */

	/* input: one server message at a time */
	uint8_t *buf;
	size_t cap;
	size_t have;
	size_t need;
	size_t dec;
	bool len_known; /* Start-N-Ack/Stop-N-Ack: length read from block 1 */
};

/* ---- small helpers ---- */

static bool is_keyed(uint32_t mode)
{
	uint32_t sec = tw_mode_security(mode);
	return sec == TW_MODE_AUTH || sec == TW_MODE_ENC || sec == TW_MODE_MIXED;
}

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
	return c->nrunning > 0 ? TW_CLI_TESTING : TW_CLI_IDLE;
}

static void rx_reset(tw_cli *c, size_t need)
{
	c->have = 0;
	c->dec = 0;
	c->need = need;
	c->len_known = false;
}

static size_t rx_fill(tw_cli *c, const uint8_t *in, size_t len, size_t used)
{
	size_t n = c->need - c->have;
	if (n > len - used)
		n = len - used;
	if (n > 0)
		memcpy(c->buf + c->have, in + used, n);
	c->have += n;
	return n;
}

/* Keyed modes: decrypts every whole block that arrived since last time. */
static int rx_decrypt(tw_cli *c)
{
	size_t whole = c->have - c->have % TW_BLOCK_LEN;
	if (!c->crypto || whole <= c->dec)
		return 0;
	int rc = tw_ctrl_decrypt(c->crypto, c->buf + c->dec, whole - c->dec);
	c->dec = whole;
	return rc;
}

/* Buffers (and decrypts) input; true once the current message is whole. */
static bool rx_message(tw_cli *c, const uint8_t *in, size_t len, size_t *used, tw_cli_event *ev)
{
	*used += rx_fill(c, in, len, *used);
	if (rx_decrypt(c) < 0) {
		fail(c, ev, -EIO, "decryption failed");
		return false;
	}
	return c->have == c->need;
}

static int seal(tw_cli *c, uint8_t *msg, size_t len)
{
	if (!c->crypto)
		return 0;
	tw_ctrl_mac_add_tx(c->crypto, msg, len - TW_HMAC_LEN);
	int rc = tw_ctrl_mac_final_tx(c->crypto, msg + len - TW_HMAC_LEN);
	if (rc == 0)
		rc = tw_ctrl_encrypt(c->crypto, msg, len);
	return rc;
}

static bool mac_ok(tw_cli *c, const uint8_t *msg, size_t len)
{
	if (!c->crypto)
		return true;
	tw_ctrl_mac_add_rx(c->crypto, msg, len - TW_HMAC_LEN);
	return tw_ctrl_mac_verify_rx(c->crypto, msg + len - TW_HMAC_LEN);
}

/* The command (or type) octet of a buffered message. */
static uint8_t first_octet(const uint8_t *buf)
{
	tw_rd r = tw_rd_make(buf, 1);
	return tw_rd_u8(&r);
}

/* ---- session table ---- */

static cli_session *sess_find(tw_cli *c, const uint8_t sid[TW_SID_LEN])
{
	for (uint32_t i = 0; i < c->nsess; i++)
		if (memcmp(c->sess[i].sid, sid, TW_SID_LEN) == 0)
			return &c->sess[i];
	return NULL;
}

static void sess_set_running(tw_cli *c, cli_session *e, bool run)
{
	bool was = (e->flags & SESS_RUNNING) != 0;
	if (run && !was) {
		e->flags |= SESS_RUNNING | SESS_STARTED;
		c->nrunning++;
	} else if (!run && was) {
		e->flags &= (uint8_t)~SESS_RUNNING;
		c->nrunning--;
	}
}

/* ---- life cycle and accessors ---- */

tw_cli *tw_cli_new(uint32_t max_sessions)
{
	if (max_sessions > SESSIONS_LIMIT)
		return NULL;
	tw_cli *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	size_t cap = TW_SIDS_BASE_LEN + (size_t)max_sessions * TW_SID_LEN;
	if (cap < TW_GREETING_LEN)
		cap = TW_GREETING_LEN;
	c->max_sessions = max_sessions;
	c->cap = cap;
	c->buf = malloc(cap);
	c->sess = calloc(max_sessions ? max_sessions : 1, sizeof(*c->sess));
	if (!c->buf || !c->sess) {
		tw_cli_free(c);
		return NULL;
	}
	c->state = TW_CLI_WAIT_GREETING;
	rx_reset(c, TW_GREETING_LEN);
	return c;
}

void tw_cli_free(tw_cli *c)
{
	if (!c)
		return;
	tw_ctrl_crypto_free(c->crypto);
	tw_wipe(c->buf, c->buf ? c->cap : 0);
	free(c->buf);
	free(c->sess);
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
	return c->nrunning;
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
	int rc = tw_greeting_decode(c->buf, c->have, g);
	rx_reset(c, 0);
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
	uint8_t *blk = c->buf + TW_SERVER_START_LEN - TW_BLOCK_LEN;
	c->crypto = tw_ctrl_crypto_new(c->aes_key, c->hmac_key, c->client_iv, c->buf + TW_BLOCK_LEN);
	tw_wipe(c->aes_key, sizeof(c->aes_key));
	tw_wipe(c->hmac_key, sizeof(c->hmac_key));
	if (!c->crypto)
		return -EIO;
	int rc = tw_ctrl_decrypt(c->crypto, blk, TW_BLOCK_LEN);
	if (rc == 0)
		tw_ctrl_mac_add_rx(c->crypto, blk, TW_BLOCK_LEN);
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
	int rc = tw_server_start_decode(c->buf, c->have, m);
	if (rc == 0 && m->accept == TW_ACCEPT_OK && is_keyed(c->mode)) {
		rc = server_start_crypto(c);
		if (rc == 0)
			rc = tw_server_start_decode(c->buf, c->have, m);
	}
	rx_reset(c, TW_BLOCK_LEN);
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
	rx_reset(c, TW_BLOCK_LEN);
	if (!mac_ok(c, c->buf, TW_ACCEPT_LEN)) {
		fail(c, ev, -EBADMSG, "bad HMAC");
		return used;
	}
	int rc = tw_accept_decode(c->buf, TW_ACCEPT_LEN, m);
	if (rc == 0 && m->accept == TW_ACCEPT_OK && sess_find(c, m->sid))
		rc = -EEXIST;
	if (rc < 0) {
		fail(c, ev, rc, rc == -EEXIST ? "duplicate SID" : "bad accept-session");
		return used;
	}
	/* tw_cli_request made sure there is room */
	if (m->accept == TW_ACCEPT_OK)
		memcpy(c->sess[c->nsess++].sid, m->sid, TW_SID_LEN);
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
	rx_reset(c, TW_BLOCK_LEN);
	if (!mac_ok(c, c->buf, TW_START_ACK_LEN)) {
		fail(c, ev, -EBADMSG, "bad HMAC");
		return used;
	}
	int rc = tw_start_ack_decode(c->buf, TW_START_ACK_LEN, m);
	if (rc < 0) {
		fail(c, ev, rc, "bad start-ack");
		return used;
	}
	ev->type = TW_CLI_EV_START_ACK;
	if (m->accept != TW_ACCEPT_OK) {
		c->state = TW_CLI_CLOSED;
		return used;
	}
	for (uint32_t i = 0; i < c->nsess; i++)
		if (!(c->sess[i].flags & SESS_STARTED))
			sess_set_running(c, &c->sess[i], true);
	c->state = TW_CLI_TESTING;
	return used;
}

/* Every SID of an ack must be one we are waiting for with that command. */
static int n_ack_apply(tw_cli *c, const tw_sids_msg *m)
{
	uint8_t wait = m->cmd == TW_CMD_START_N_ACK ? SESS_WAIT_START : SESS_WAIT_STOP;
	for (uint32_t i = 0; i < m->n; i++) {
		cli_session *e = sess_find(c, m->sids + (size_t)i * TW_SID_LEN);
		if (!e || !(e->flags & wait))
			return -EPROTO;
		e->flags &= (uint8_t)~wait;
		c->npending--;
		if (m->accept == TW_ACCEPT_OK)
			sess_set_running(c, e, wait == SESS_WAIT_START);
	}
	return 0;
}

static void n_ack_finish(tw_cli *c, tw_cli_event *ev)
{
	size_t len = c->have;
	tw_sids_msg *m = &ev->u.sids;
	rx_reset(c, TW_BLOCK_LEN);
	if (!mac_ok(c, c->buf, len)) {
		fail(c, ev, -EBADMSG, "bad HMAC");
		return;
	}
	int rc = tw_sids_decode(c->buf, len, m);
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
	uint8_t cmd = first_octet(c->buf);
	long n = tw_sids_msg_len(c->buf, c->max_sessions);
	if ((cmd != TW_CMD_START_N_ACK && cmd != TW_CMD_STOP_N_ACK) || n < 0) {
		fail(c, ev, n < 0 ? (int)n : -EBADMSG, "unexpected message from server");
		return -1;
	}
	c->need = (size_t)n;
	c->len_known = true;
	return 0;
}

static size_t feed_n_ack(tw_cli *c, const uint8_t *in, size_t len, tw_cli_event *ev)
{
	size_t used = 0;
	for (;;) {
		if (!rx_message(c, in, len, &used, ev))
			return used;
		if (c->len_known)
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
	if (!is_keyed(mode))
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
	if (rc == 0 && is_keyed(mode))
		rc = setup_keys(c, &m, keyid, secret, secret_len, rnd);
	if (rc < 0)
		return rc;
	int n = tw_setup_encode(&m, out, cap);
	c->mode = mode;
	/* Mode 0: the client declines and closes (§3). */
	c->state = mode ? TW_CLI_WAIT_SERVER_START : TW_CLI_CLOSED;
	rx_reset(c, TW_SERVER_START_LEN);
	return n;
}

/* ---- commands ---- */

int tw_cli_request(tw_cli *c, const tw_request *req, uint8_t *out, size_t cap)
{
	bool idle = c->state == TW_CLI_IDLE || (c->state == TW_CLI_TESTING && is_isc(c));
	if (!idle || c->npending > 0)
		return -EPROTO;
	if (c->nsess >= c->max_sessions)
		return -ENOBUFS;
	tw_request m = *req;
	memset(m.sid, 0, sizeof(m.sid));
	memset(m.hmac, 0, sizeof(m.hmac));
	int n = tw_request_encode(&m, out, cap);
	if (n < 0)
		return n;
	int rc = seal(c, out, TW_REQUEST_LEN);
	if (rc < 0)
		return fatal(c, rc);
	c->state = TW_CLI_WAIT_ACCEPT;
	rx_reset(c, TW_ACCEPT_LEN);
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
	int rc = seal(c, out, TW_START_LEN);
	if (rc < 0)
		return fatal(c, rc);
	c->state = TW_CLI_WAIT_START_ACK;
	rx_reset(c, TW_START_ACK_LEN);
	return n;
}

int tw_cli_stop(tw_cli *c, uint8_t accept, uint8_t *out, size_t cap)
{
	if (c->state != TW_CLI_TESTING || is_isc(c))
		return -EPROTO;
	tw_stop m = { .accept = accept, .nsessions = c->nrunning };
	int n = tw_stop_encode(&m, out, cap);
	if (n < 0)
		return n;
	int rc = seal(c, out, TW_STOP_LEN);
	if (rc < 0)
		return fatal(c, rc);
	for (uint32_t i = 0; i < c->nsess; i++)
		sess_set_running(c, &c->sess[i], false);
	c->state = TW_CLI_IDLE;
	rx_reset(c, TW_BLOCK_LEN);
	return n;
}

static void pending_undo(tw_cli *c, uint32_t n, const uint8_t *sids, uint8_t wait)
{
	for (uint32_t i = 0; i < n; i++) {
		cli_session *e = sess_find(c, sids + (size_t)i * TW_SID_LEN);
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
		cli_session *e = sess_find(c, sids + (size_t)i * TW_SID_LEN);
		bool running = e && (e->flags & SESS_RUNNING);
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
	if (n == 0 || n > c->max_sessions || !sids)
		return -EINVAL;
	tw_sids_msg m = { .cmd = cmd, .n = n, .sids = sids };
	int len = tw_sids_encode(&m, out, cap);
	if (len < 0)
		return len;
	int rc = pending_mark(c, n, sids, cmd == TW_CMD_START_N);
	if (rc < 0)
		return rc;
	rc = seal(c, out, (size_t)len);
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
	uint32_t sec = tw_mode_security(c->mode);
	if (!c->crypto || (sec != TW_MODE_AUTH && sec != TW_MODE_ENC))
		return NULL;
	uint8_t aes[TW_AES_KEY_LEN], hmac[TW_HMAC_KEY_LEN];
	tw_test_crypto *t = NULL;
	if (tw_ctrl_test_keys(c->crypto, sid, aes, hmac) == 0)
		t = tw_test_crypto_new(aes, hmac, sizeof(hmac), TW_MAC_HMAC_SHA1);
	tw_wipe(aes, sizeof(aes));
	tw_wipe(hmac, sizeof(hmac));
	return t;
}
