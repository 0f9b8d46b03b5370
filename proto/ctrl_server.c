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

#include "wire.h"

enum {
	SESS_STARTED = 1, /* started once (Start-Sessions starts only new ones) */
	SESS_RUNNING = 2, /* started and not yet stopped */
};

/* Keeps the input buffer (32 + 16 N octets) at a few MB at most. */
#define SESSIONS_LIMIT (UINT32_C(1) << 18)

typedef struct srv_session {
	uint8_t sid[TW_SID_LEN];
	uint8_t flags;
} srv_session;

struct tw_srv {
	tw_srv_state state;
	uint32_t max_sessions;

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
	tw_ctrl_crypto *crypto; /* keyed modes, from Server-Start on */

	/* sessions accepted on this connection */
	srv_session *sess;
	uint32_t nsess;
	uint32_t nrunning;

	/* input: one message at a time */
	uint8_t *buf;
	size_t cap;
	size_t have;    /* octets buffered */
	size_t need;    /* octets the current message (or its first block) needs */
	size_t dec;     /* octets already decrypted */
	bool len_known; /* need is the whole command, not just its first block */
};

/* ---- small helpers ---- */

static bool is_keyed(uint32_t mode)
{
	uint32_t sec = tw_mode_security(mode);
	return sec == TW_MODE_AUTH || sec == TW_MODE_ENC || sec == TW_MODE_MIXED;
}

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
	return s->nrunning > 0 ? TW_SRV_TESTING : TW_SRV_IDLE;
}

static void rx_reset(tw_srv *s, size_t need)
{
	s->have = 0;
	s->dec = 0;
	s->need = need;
	s->len_known = false;
}

/* Copies input up to the octets the current message still needs. */
static size_t rx_fill(tw_srv *s, const uint8_t *in, size_t len, size_t used)
{
	size_t n = s->need - s->have;
	if (n > len - used)
		n = len - used;
	if (n > 0)
		memcpy(s->buf + s->have, in + used, n);
	s->have += n;
	return n;
}

/* Keyed modes: decrypts every whole block that arrived since last time. */
static int rx_decrypt(tw_srv *s)
{
	size_t whole = s->have - s->have % TW_BLOCK_LEN;
	if (!s->crypto || whole <= s->dec)
		return 0;
	int rc = tw_ctrl_decrypt(s->crypto, s->buf + s->dec, whole - s->dec);
	s->dec = whole;
	return rc;
}

/* Keyed: HMAC over everything before the HMAC field, then encryption of
 * the whole message continuing the server chain. Open: HMAC stays zero. */
static int seal(tw_srv *s, uint8_t *msg, size_t len)
{
	if (!s->crypto)
		return 0;
	tw_ctrl_mac_add_tx(s->crypto, msg, len - TW_HMAC_LEN);
	int rc = tw_ctrl_mac_final_tx(s->crypto, msg + len - TW_HMAC_LEN);
	if (rc == 0)
		rc = tw_ctrl_encrypt(s->crypto, msg, len);
	return rc;
}

/* Open mode: HMAC fields are ignored. */
static bool mac_ok(tw_srv *s, const uint8_t *msg, size_t len)
{
	if (!s->crypto)
		return true;
	tw_ctrl_mac_add_rx(s->crypto, msg, len - TW_HMAC_LEN);
	return tw_ctrl_mac_verify_rx(s->crypto, msg + len - TW_HMAC_LEN);
}

/* The command (or type) octet of a buffered message. */
static uint8_t first_octet(const uint8_t *buf)
{
	tw_rd r = tw_rd_make(buf, 1);
	return tw_rd_u8(&r);
}

/* ---- session table ---- */

static srv_session *sess_find(tw_srv *s, const uint8_t sid[TW_SID_LEN])
{
	for (uint32_t i = 0; i < s->nsess; i++)
		if (memcmp(s->sess[i].sid, sid, TW_SID_LEN) == 0)
			return &s->sess[i];
	return NULL;
}

static bool sids_known(tw_srv *s, uint32_t n, const uint8_t *sids)
{
	for (uint32_t i = 0; i < n; i++)
		if (!sess_find(s, sids + (size_t)i * TW_SID_LEN))
			return false;
	return true;
}

static void sess_set_running(tw_srv *s, srv_session *e, bool run)
{
	bool was = (e->flags & SESS_RUNNING) != 0;
	if (run && !was) {
		e->flags |= SESS_RUNNING | SESS_STARTED;
		s->nrunning++;
	} else if (!run && was) {
		e->flags &= (uint8_t)~SESS_RUNNING;
		s->nrunning--;
	}
}

/* ---- life cycle and accessors ---- */

tw_srv *tw_srv_new(uint32_t max_sessions)
{
	if (max_sessions > SESSIONS_LIMIT)
		return NULL;
	tw_srv *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	size_t cap = TW_SIDS_BASE_LEN + (size_t)max_sessions * TW_SID_LEN;
	if (cap < TW_SETUP_LEN) /* also >= TW_REQUEST_LEN */
		cap = TW_SETUP_LEN;
	s->max_sessions = max_sessions;
	s->cap = cap;
	s->buf = malloc(cap);
	s->sess = calloc(max_sessions ? max_sessions : 1, sizeof(*s->sess));
	if (!s->buf || !s->sess) {
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
	tw_ctrl_crypto_free(s->crypto);
	tw_wipe(s->buf, s->buf ? s->cap : 0);
	free(s->buf);
	free(s->sess);
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
	return s->nsess;
}

uint32_t tw_srv_sessions_running(const tw_srv *s)
{
	return s->nrunning;
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
	rx_reset(s, TW_SETUP_LEN);
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
	size_t used = rx_fill(s, in, len, 0);
	if (s->have < s->need)
		return used;
	tw_setup *m = &ev->u.setup.msg;
	int rc = tw_setup_decode(s->buf, s->have, m);
	rx_reset(s, TW_BLOCK_LEN);
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
	if (!is_keyed(s->mode))
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
	s->crypto = tw_ctrl_crypto_new(s->aes_key, s->hmac_key, server_iv, s->client_iv);
	tw_wipe(s->aes_key, sizeof(s->aes_key));
	tw_wipe(s->hmac_key, sizeof(s->hmac_key));
	return s->crypto ? 0 : -EIO;
}

static bool may_accept_setup(const tw_srv *s)
{
	return s->setup_accept == TW_ACCEPT_OK && (!is_keyed(s->mode) || s->keys_ok);
}

int tw_srv_server_start(tw_srv *s, uint8_t accept, const uint8_t server_iv[TW_IV_LEN], tw_ts start_time,
			uint8_t *out, size_t cap)
{
	bool keyed = is_keyed(s->mode);
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
			tw_ctrl_mac_add_tx(s->crypto, blk, TW_BLOCK_LEN);
			rc = tw_ctrl_encrypt(s->crypto, blk, TW_BLOCK_LEN);
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
	bool ok = tw_accept_encode(&a, r, TW_ACCEPT_LEN) == TW_ACCEPT_LEN && seal(s, r, TW_ACCEPT_LEN) == 0;
	fail(s, ev, -EOPNOTSUPP, "unknown command");
	ev->u.error.reply_len = ok ? TW_ACCEPT_LEN : 0;
}

/* First block in (and decrypted): learn the command and its length. */
static int cmd_begin(tw_srv *s, tw_srv_event *ev)
{
	uint8_t cmd = first_octet(s->buf);
	if (!cmd_known(cmd)) {
		fail_unknown(s, ev);
		return -1;
	}
	if (!cmd_allowed(s, cmd)) {
		fail(s, ev, -EPROTO, "command not allowed in this state");
		return -1;
	}
	long n = tw_client_msg_len(s->buf, s->max_sessions);
	if (n < 0) {
		fail(s, ev, (int)n, "bad number of sessions");
		return -1;
	}
	s->need = (size_t)n;
	s->len_known = true;
	return 0;
}

static void on_request(tw_srv *s, size_t len, tw_srv_event *ev)
{
	int rc = tw_request_decode(s->buf, len, &ev->u.request.msg);
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
	int rc = tw_start_decode(s->buf, len, mac);
	if (rc < 0) {
		fail(s, ev, rc, "bad start-sessions");
		return;
	}
	ev->type = TW_SRV_EV_START;
	s->state = TW_SRV_START_RECEIVED;
}

static void on_stop(tw_srv *s, size_t len, tw_srv_event *ev)
{
	int rc = tw_stop_decode(s->buf, len, &ev->u.stop.msg);
	if (rc < 0) {
		fail(s, ev, rc, "bad stop-sessions");
		return;
	}
	ev->type = TW_SRV_EV_STOP;
	ev->u.stop.count_ok = ev->u.stop.msg.nsessions == s->nrunning;
	for (uint32_t i = 0; i < s->nsess; i++)
		sess_set_running(s, &s->sess[i], false);
	s->state = TW_SRV_IDLE;
}

/* Start-N/Stop-N: u.sids.accept carries the machine's verdict (1 when a
 * SID names no session of this connection) for the caller's ack. */
static void on_sids(tw_srv *s, size_t len, tw_srv_event *ev)
{
	tw_sids_msg *m = &ev->u.sids;
	int rc = tw_sids_decode(s->buf, len, m);
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
	size_t len = s->have;
	rx_reset(s, TW_BLOCK_LEN);
	if (!mac_ok(s, s->buf, len)) {
		fail(s, ev, -EBADMSG, "bad HMAC");
		return;
	}
	switch (first_octet(s->buf)) {
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
		used += rx_fill(s, in, len, used);
		if (rx_decrypt(s) < 0) {
			fail(s, ev, -EIO, "decryption failed");
			return used;
		}
		if (s->have < s->need)
			return used;
		if (s->len_known)
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
	if (ok && s->nsess >= s->max_sessions)
		return -ENOBUFS;
	if (ok && sess_find(s, m->sid))
		return -EEXIST;
	tw_accept_session a = *m;
	memset(a.hmac, 0, sizeof(a.hmac));
	if (!ok)
		a.port = 0; /* a refusal must not suggest a port (§7.3) */
	int n = tw_accept_encode(&a, out, cap);
	int rc = seal(s, out, TW_ACCEPT_LEN);
	if (rc < 0)
		return fatal(s, rc);
	if (ok)
		memcpy(s->sess[s->nsess++].sid, a.sid, TW_SID_LEN);
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
	int rc = seal(s, out, TW_START_ACK_LEN);
	if (rc < 0)
		return fatal(s, rc);
	if (accept != TW_ACCEPT_OK) {
		s->state = TW_SRV_CLOSED;
		return n;
	}
	for (uint32_t i = 0; i < s->nsess; i++)
		if (!(s->sess[i].flags & SESS_STARTED))
			sess_set_running(s, &s->sess[i], true);
	s->state = TW_SRV_TESTING;
	return n;
}

static void sids_apply(tw_srv *s, bool run, uint32_t n, const uint8_t *sids)
{
	for (uint32_t i = 0; i < n; i++) {
		srv_session *e = sess_find(s, sids + (size_t)i * TW_SID_LEN);
		if (e)
			sess_set_running(s, e, run);
	}
}

int tw_srv_sids_ack(tw_srv *s, uint8_t cmd, uint8_t accept, uint32_t n, const uint8_t *sids, uint8_t *out,
		    size_t cap)
{
	if (!(s->mode & TW_MODE_ISC) || (s->state != TW_SRV_IDLE && s->state != TW_SRV_TESTING))
		return -EPROTO;
	if ((cmd != TW_CMD_START_N_ACK && cmd != TW_CMD_STOP_N_ACK) || n == 0 || n > s->max_sessions || !sids)
		return -EINVAL;
	/* Accept 0 only for sessions of this connection; a refusal may name
	 * whatever the client sent. */
	if (accept == TW_ACCEPT_OK && !sids_known(s, n, sids))
		return -EINVAL;
	tw_sids_msg m = { .cmd = cmd, .accept = accept, .n = n, .sids = sids };
	int len = tw_sids_encode(&m, out, cap);
	if (len < 0)
		return len;
	int rc = seal(s, out, (size_t)len);
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
	uint32_t sec = tw_mode_security(s->mode);
	if (!s->crypto || (sec != TW_MODE_AUTH && sec != TW_MODE_ENC))
		return NULL;
	uint8_t aes[TW_AES_KEY_LEN], hmac[TW_HMAC_KEY_LEN];
	tw_test_crypto *t = NULL;
	if (tw_ctrl_test_keys(s->crypto, sid, aes, hmac) == 0)
		t = tw_test_crypto_new(aes, hmac, sizeof(hmac), TW_MAC_HMAC_SHA1);
	tw_wipe(aes, sizeof(aes));
	tw_wipe(hmac, sizeof(hmac));
	return t;
}
