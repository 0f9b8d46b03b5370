/* test_captures_control.c - TWAMP-Control of the seven twping<->twampd
 * captures (shared/interop/captures/README.md). The server->client stream
 * is fed to a client machine and the client->server stream to a server
 * machine; every control value the README lists is asserted (greeting,
 * Set-Up-Response, KDF key, decrypted Token, IVs, Server-Start, every
 * Request-TW-Session field and its cleartext, Accept-Session, every HMAC,
 * test keys). Then both machines rebuild the captured streams byte for
 * byte: twping's messages from the randomness recovered from the Token
 * (tw_cli_*), twampd's from the captured values (tw_srv_*).
 *
 * With TW_CORPUS_OUT=<dir> set, the run also writes the fuzz seed corpora
 * (dir/control_msgs, dir/ctrl_server, dir/ctrl_client must exist). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "captures.h"
#include "cases.h"
#include "control.h"
#include "crypto.h"
#include "ctrl_client.h"
#include "ctrl_server.h"
#include "pcap.h"
#include "hexvec.h"
#include "testutil.h"

static const uint8_t SECRET[] = "twamp-interop-secret";
#define SECRET_LEN (sizeof(SECRET) - 1)

/* Offsets of each message in the two control streams (every capture has
 * one session: Request, Accept, Start, Start-Ack, Stop). */
enum {
	C_SETUP = 0,
	C_REQUEST = C_SETUP + TW_SETUP_LEN,
	C_START = C_REQUEST + TW_REQUEST_LEN,
	C_STOP = C_START + TW_START_LEN,
	C_END = C_STOP + TW_STOP_LEN,
	S_GREETING = 0,
	S_SERVER_START = S_GREETING + TW_GREETING_LEN,
	S_ACCEPT = S_SERVER_START + TW_SERVER_START_LEN,
	S_START_ACK = S_ACCEPT + TW_ACCEPT_LEN,
	S_END = S_START_ACK + TW_START_ACK_LEN,
};

static bool cap_keyed(const tw_capture *k)
{
	return k->kdf_key != NULL;
}

static bool cap_test_keys(const tw_capture *k)
{
	return k->mode == TW_MODE_AUTH || k->mode == TW_MODE_ENC;
}

/* ---- optional corpus output ---- */

static void corpus_write(const char *target, const char *name, uint8_t profile, const uint8_t *data, size_t len)
{
	const char *dir = getenv("TW_CORPUS_OUT");
	if (!dir)
		return;
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	if (profile != 0xff)
		assert_int_equal(fwrite(&profile, 1, 1, f), 1);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Seeds: each plaintext control message for fuzz_control_msgs; the client
 * stream for fuzz_ctrl_server and the server stream for fuzz_ctrl_client,
 * prefixed with the profile octet those harnesses read first (which
 * greeting/keys to use; see the fuzz sources). */
static void corpus_streams(const tw_capture *k, size_t idx, const tw_pcap *pc)
{
	static const uint8_t srv_profile[] = { 0, 0, 0, 0, 0, 1, 2 };
	static const uint8_t cli_profile[] = { 0, 0, 0, 0, 1, 2, 3 };
	char name[128];
	snprintf(name, sizeof(name), "capture-%s.bin", k->file);
	corpus_write("ctrl_server", name, srv_profile[idx], pc->to_server, pc->to_server_len);
	corpus_write("ctrl_client", name, cli_profile[idx], pc->to_client, pc->to_client_len);
}

static void corpus_msgs(const tw_capture *k, const uint8_t *cs, const uint8_t *sc)
{
	static const struct {
		const char *what;
		bool client;
		size_t off, len;
	} m[] = {
		{ "greeting", false, S_GREETING, TW_GREETING_LEN },
		{ "server-start", false, S_SERVER_START, TW_SERVER_START_LEN },
		{ "accept", false, S_ACCEPT, TW_ACCEPT_LEN },
		{ "start-ack", false, S_START_ACK, TW_START_ACK_LEN },
		{ "setup", true, C_SETUP, TW_SETUP_LEN },
		{ "request", true, C_REQUEST, TW_REQUEST_LEN },
		{ "start", true, C_START, TW_START_LEN },
		{ "stop", true, C_STOP, TW_STOP_LEN },
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		char name[160];
		snprintf(name, sizeof(name), "%s-%s.bin", k->file, m[i].what);
		corpus_write("control_msgs", name, 0xff, (m[i].client ? cs : sc) + m[i].off, m[i].len);
	}
}

/* ---- independent decryption of the two streams (test-side shadow) ---- */

typedef struct plain {
	uint8_t cs[C_END]; /* client->server, keyed part decrypted */
	uint8_t sc[S_END]; /* server->client, keyed part decrypted */
} plain;

/* Recovers K and the Token's session keys, then decrypts both CBC
 * streams with a context of our own (not the machines'). */
static void decrypt_streams(const tw_capture *k, const tw_pcap *pc, tw_cli_random *rnd, plain *p)
{
	memcpy(p->cs, pc->to_server, C_END);
	memcpy(p->sc, pc->to_client, S_END);
	memset(rnd, 0, sizeof(*rnd));
	if (!cap_keyed(k))
		return;
	uint8_t salt[16], dk[16], tok[64];
	tw_hexvec_exact(k->salt, salt, 16);
	assert_int_equal(tw_kdf(SECRET, SECRET_LEN, salt, 2048, dk), 0);
	tw_hexvec_expect(dk, 16, k->kdf_key);
	assert_int_equal(tw_token_decrypt(dk, pc->to_server + 84, tok), 0);
	tw_hexvec_expect(tok, 16, k->challenge);
	tw_hexvec_expect(tok + 16, 16, k->aes_key);
	tw_hexvec_expect(tok + 32, 32, k->hmac_key);
	memcpy(rnd->aes_key, tok + 16, 16);
	memcpy(rnd->hmac_key, tok + 32, 32);
	memcpy(rnd->client_iv, pc->to_server + 148, 16);

	uint8_t server_iv[16];
	memcpy(server_iv, pc->to_client + 80, 16);
	tw_ctrl_crypto *c2s = tw_ctrl_crypto_new(rnd->aes_key, rnd->hmac_key, server_iv, rnd->client_iv);
	tw_ctrl_crypto *s2c = tw_ctrl_crypto_new(rnd->aes_key, rnd->hmac_key, rnd->client_iv, server_iv);
	assert_int_equal(tw_ctrl_decrypt(c2s, p->cs + C_REQUEST, C_END - C_REQUEST), 0);
	assert_int_equal(tw_ctrl_decrypt(s2c, p->sc + S_SERVER_START + 32, S_END - S_SERVER_START - 32), 0);
	tw_ctrl_crypto_free(c2s);
	tw_ctrl_crypto_free(s2c);
}

/* The HMAC fields the README lists, read from our own decryption. */
static void check_hmac_fields(const tw_capture *k, const plain *p)
{
	static const uint8_t zero[16];
	if (!cap_keyed(k)) {
		assert_memory_equal(p->cs + C_REQUEST + 96, zero, 16);
		assert_memory_equal(p->cs + C_START + 16, zero, 16);
		assert_memory_equal(p->cs + C_STOP + 16, zero, 16);
		return;
	}
	tw_hexvec_expect(p->cs + C_REQUEST + 96, 16, k->h_request);
	tw_hexvec_expect(p->cs + C_START + 16, 16, k->h_start);
	tw_hexvec_expect(p->cs + C_STOP + 16, 16, k->h_stop);
	tw_hexvec_expect(p->sc + S_ACCEPT + 32, 16, k->h_accept);
	tw_hexvec_expect(p->sc + S_START_ACK + 16, 16, k->h_start_ack);
}

/* ---- the conversation, replayed through both machines ---- */

typedef struct replay {
	const tw_capture *k;
	const tw_pcap *pc;
	tw_srv *srv;
	tw_cli *cli;
	uint8_t out[256];
} replay;

static tw_srv_event srv_eat(replay *r, size_t off, size_t len)
{
	tw_srv_event ev;
	assert_int_equal(tw_srv_feed(r->srv, r->pc->to_server + off, len, &ev), len);
	if (ev.type == TW_SRV_EV_ERROR)
		fail_msg("%s: server error %s", r->k->file, ev.u.error.reason);
	return ev;
}

static tw_cli_event cli_eat(replay *r, size_t off, size_t len)
{
	tw_cli_event ev;
	assert_int_equal(tw_cli_feed(r->cli, r->pc->to_client + off, len, &ev), len);
	if (ev.type == TW_CLI_EV_ERROR)
		fail_msg("%s: client error %s", r->k->file, ev.u.error.reason);
	return ev;
}

static void same_as_client_stream(replay *r, int n, size_t off, size_t len)
{
	assert_int_equal(n, (int)len);
	assert_memory_equal(r->out, r->pc->to_server + off, len);
}

static void same_as_server_stream(replay *r, int n, size_t off, size_t len)
{
	assert_int_equal(n, (int)len);
	assert_memory_equal(r->out, r->pc->to_client + off, len);
}

static void replay_greeting(replay *r)
{
	const tw_capture *k = r->k;
	tw_greeting g = { .modes = 0xf, .count = 2048 };
	tw_hexvec_exact(k->challenge, g.challenge, 16);
	tw_hexvec_exact(k->salt, g.salt, 16);
	tw_cli_event ev = cli_eat(r, S_GREETING, TW_GREETING_LEN);
	assert_int_equal(ev.type, TW_CLI_EV_GREETING);
	assert_int_equal(ev.u.greeting.modes, 0xf);
	assert_int_equal(ev.u.greeting.count, 2048);
	tw_hexvec_expect(ev.u.greeting.challenge, 16, k->challenge);
	tw_hexvec_expect(ev.u.greeting.salt, 16, k->salt);
	same_as_server_stream(r, tw_srv_greeting(r->srv, &g, r->out, sizeof(r->out)), S_GREETING, TW_GREETING_LEN);
}

static void replay_setup(replay *r, const tw_cli_random *rnd)
{
	const tw_capture *k = r->k;
	const char *keyid = cap_keyed(k) ? k->keyid : NULL;
	int n = tw_cli_setup(r->cli, k->mode, keyid, SECRET, SECRET_LEN, cap_keyed(k) ? rnd : NULL, 0, r->out,
			     sizeof(r->out));
	same_as_client_stream(r, n, C_SETUP, TW_SETUP_LEN);

	tw_srv_event ev = srv_eat(r, C_SETUP, TW_SETUP_LEN);
	assert_int_equal(ev.type, TW_SRV_EV_SETUP);
	assert_int_equal(ev.u.setup.accept, 0);
	assert_int_equal(ev.u.setup.msg.mode, k->mode);
	uint8_t keyid_field[TW_KEYID_LEN] = { 0 };
	memcpy(keyid_field, k->keyid, strlen(k->keyid));
	assert_memory_equal(ev.u.setup.msg.keyid, keyid_field, TW_KEYID_LEN);
	tw_hexvec_expect(ev.u.setup.msg.token, 64, k->token);
	tw_hexvec_expect(ev.u.setup.msg.client_iv, 16, k->client_iv);
	/* twampd checked the Token with the same secret */
	assert_int_equal(tw_srv_authenticate(r->srv, SECRET, SECRET_LEN), 0);
}

static void replay_server_start(replay *r)
{
	const tw_capture *k = r->k;
	tw_cli_event ev = cli_eat(r, S_SERVER_START, TW_SERVER_START_LEN);
	assert_int_equal(ev.type, TW_CLI_EV_SERVER_START);
	assert_int_equal(ev.u.server_start.accept, 0);
	tw_hexvec_expect(ev.u.server_start.server_iv, 16, k->server_iv);
	/* Start-Time is ours only after decryption in keyed modes; rebuilding
	 * the encrypted block from it proves the decryption */
	uint8_t iv[16];
	tw_hexvec_exact(k->server_iv, iv, 16);
	int n = tw_srv_server_start(r->srv, 0, iv, ev.u.server_start.start_time, r->out, sizeof(r->out));
	same_as_server_stream(r, n, S_SERVER_START, TW_SERVER_START_LEN);
	assert_int_equal(tw_cli_get_state(r->cli), TW_CLI_IDLE);
	assert_int_equal(tw_srv_get_state(r->srv), TW_SRV_IDLE);
}

static void check_request_fields(const tw_capture *k, const tw_request *m)
{
	uint8_t addr[16];
	tw_hexvec_exact(k->addr, addr, 16);
	assert_int_equal(m->ipvn, k->ipvn);
	assert_int_equal(m->conf_sender, 0);
	assert_int_equal(m->conf_receiver, 0);
	assert_int_equal(m->slots, 0);
	assert_int_equal(m->packets, 0);
	assert_int_equal(m->sender_port, k->sender_port);
	assert_int_equal(m->receiver_port, k->receiver_port);
	assert_memory_equal(m->sender_addr, addr, 16);
	assert_memory_equal(m->receiver_addr, addr, 16);
	static const uint8_t zero[16];
	assert_memory_equal(m->sid, zero, 16);
	assert_int_equal(m->padding, k->padding);
	assert_true(m->start_time == k->start_time);
	assert_true(m->timeout == k->timeout);
	assert_int_equal(m->type_p, k->type_p);
	assert_int_equal(tw_type_p_from_dscp(k->dscp), k->type_p);
	assert_int_equal(tw_type_p_dscp(m->type_p), k->dscp);
	assert_int_equal(m->octets_reflected, 0);
	assert_int_equal(m->pad_reflect_len, 0);
	assert_int_equal(tw_request_check(m), TW_ACCEPT_OK);
}

static void replay_request(replay *r)
{
	const tw_capture *k = r->k;
	tw_srv_event ev = srv_eat(r, C_REQUEST, TW_REQUEST_LEN); /* HMAC verified inside */
	assert_int_equal(ev.type, TW_SRV_EV_REQUEST);
	assert_int_equal(ev.u.request.accept, 0);
	check_request_fields(k, &ev.u.request.msg);
	/* the decoded message re-encodes to the README's full cleartext */
	uint8_t clear[TW_REQUEST_LEN];
	assert_int_equal(tw_request_encode(&ev.u.request.msg, clear, sizeof(clear)), TW_REQUEST_LEN);
	tw_hexvec_expect(clear, TW_REQUEST_LEN, k->request_clear);

	int n = tw_cli_request(r->cli, &ev.u.request.msg, r->out, sizeof(r->out));
	same_as_client_stream(r, n, C_REQUEST, TW_REQUEST_LEN);
}

static void replay_accept(replay *r)
{
	const tw_capture *k = r->k;
	tw_cli_event ev = cli_eat(r, S_ACCEPT, TW_ACCEPT_LEN); /* first server HMAC verified */
	assert_int_equal(ev.type, TW_CLI_EV_ACCEPT);
	assert_int_equal(ev.u.accept.accept, 0);
	assert_int_equal(ev.u.accept.port, k->port);
	tw_hexvec_expect(ev.u.accept.sid, 16, k->sid);
	if (cap_keyed(k))
		tw_hexvec_expect(ev.u.accept.hmac, 16, k->h_accept);
	int n = tw_srv_accept(r->srv, &ev.u.accept, r->out, sizeof(r->out));
	same_as_server_stream(r, n, S_ACCEPT, TW_ACCEPT_LEN);
	assert_int_equal(tw_srv_sessions_accepted(r->srv), 1);
}

static void replay_start(replay *r)
{
	tw_srv_event sev = srv_eat(r, C_START, TW_START_LEN);
	assert_int_equal(sev.type, TW_SRV_EV_START);
	same_as_client_stream(r, tw_cli_start(r->cli, r->out, sizeof(r->out)), C_START, TW_START_LEN);

	tw_cli_event cev = cli_eat(r, S_START_ACK, TW_START_ACK_LEN);
	assert_int_equal(cev.type, TW_CLI_EV_START_ACK);
	assert_int_equal(cev.u.start_ack.accept, 0);
	if (cap_keyed(r->k))
		tw_hexvec_expect(cev.u.start_ack.hmac, 16, r->k->h_start_ack);
	same_as_server_stream(r, tw_srv_start_ack(r->srv, 0, r->out, sizeof(r->out)), S_START_ACK,
			      TW_START_ACK_LEN);
	assert_int_equal(tw_srv_sessions_running(r->srv), 1);
	assert_int_equal(tw_cli_sessions_running(r->cli), 1);
}

static void replay_stop(replay *r)
{
	tw_srv_event ev = srv_eat(r, C_STOP, TW_STOP_LEN);
	assert_int_equal(ev.type, TW_SRV_EV_STOP);
	assert_int_equal(ev.u.stop.msg.accept, 0);
	assert_int_equal(ev.u.stop.msg.nsessions, 1);
	assert_true(ev.u.stop.count_ok);
	if (cap_keyed(r->k))
		tw_hexvec_expect(ev.u.stop.msg.hmac, 16, r->k->h_stop);
	same_as_client_stream(r, tw_cli_stop(r->cli, 0, r->out, sizeof(r->out)), C_STOP, TW_STOP_LEN);
	assert_int_equal(tw_srv_get_state(r->srv), TW_SRV_IDLE);
	assert_int_equal(tw_cli_get_state(r->cli), TW_CLI_IDLE);
}

/* ---- test keys: README values, then frame 14 verified with the
 * machines' own test-crypto contexts ---- */

static const tw_pcap_udp *first_sender_packet(const tw_capture *k, const tw_pcap *pc)
{
	for (size_t i = 0; i < pc->nudp; i++)
		if (pc->udp[i].dport == k->port)
			return &pc->udp[i];
	fail_msg("%s: no sender packet", k->file);
	return NULL;
}

static void verify_frame14(const tw_capture *k, tw_test_crypto *t, const tw_pcap_udp *u)
{
	uint8_t pkt[48];
	assert_true(u->len >= sizeof(pkt));
	memcpy(pkt, u->payload, sizeof(pkt));
	if (k->mode == TW_MODE_AUTH) {
		/* block 0 ECB; HMAC over the cleartext block 0 only */
		assert_int_equal(tw_test_ecb_decrypt(t, pkt, 16), 0);
		assert_true(tw_test_mac_verify(t, pkt, 16, pkt + 32));
	} else {
		/* blocks 0-1 CBC; HMAC over both cleartext blocks */
		assert_int_equal(tw_test_cbc_decrypt(t, pkt, 32), 0);
		assert_true(tw_test_mac_verify(t, pkt, 32, pkt + 32));
	}
	tw_hexvec_expect(pkt, 32, k->clear14);
}

static void check_test_keys(replay *r, const tw_cli_random *rnd)
{
	const tw_capture *k = r->k;
	uint8_t sid[16];
	tw_hexvec_exact(k->sid, sid, 16);
	tw_test_crypto *ts = tw_srv_test_crypto(r->srv, sid);
	tw_test_crypto *tc = tw_cli_test_crypto(r->cli, sid);
	if (!cap_test_keys(k)) {
		assert_null(ts); /* open, and mixed: unauthenticated test packets */
		assert_null(tc);
		return;
	}
	uint8_t zero[16] = { 0 }, aes[16], hmac[32];
	tw_ctrl_crypto *cc = tw_ctrl_crypto_new(rnd->aes_key, rnd->hmac_key, zero, zero);
	assert_int_equal(tw_ctrl_test_keys(cc, sid, aes, hmac), 0);
	tw_hexvec_expect(aes, 16, k->test_aes);
	tw_hexvec_expect(hmac, 32, k->test_hmac);
	tw_ctrl_crypto_free(cc);
	const tw_pcap_udp *u = first_sender_packet(k, r->pc);
	assert_int_equal(u->frame, 14);
	assert_non_null(ts);
	assert_non_null(tc);
	verify_frame14(k, ts, u);
	verify_frame14(k, tc, u);
	tw_test_crypto_free(ts);
	tw_test_crypto_free(tc);
}

/* *state: the capture (test_open ... test_mixed). */
static void test_capture(void **state)
{
	const tw_capture *k = *state;
	size_t idx = (size_t)(k - tw_captures);
	tw_pcap pc;
	assert_int_equal(tw_capture_load(k, TW_CAPTURES_DIR, &pc), 0);
	assert_int_equal(pc.to_server_len, C_END);
	assert_int_equal(pc.to_client_len, S_END);

	tw_cli_random rnd;
	plain p;
	decrypt_streams(k, &pc, &rnd, &p);
	check_hmac_fields(k, &p);
	tw_hexvec_expect(p.cs + C_REQUEST, TW_REQUEST_LEN, k->request_clear);

	replay r = { .k = k, .pc = &pc, .srv = tw_srv_new(4), .cli = tw_cli_new(4) };
	assert_non_null(r.srv);
	assert_non_null(r.cli);
	replay_greeting(&r);
	replay_setup(&r, &rnd);
	replay_server_start(&r);
	replay_request(&r);
	replay_accept(&r);
	replay_start(&r);
	replay_stop(&r);
	check_test_keys(&r, &rnd);
	assert_int_equal(tw_srv_mode(r.srv), k->mode);
	assert_int_equal(tw_cli_mode(r.cli), k->mode);

	corpus_streams(k, idx, &pc);
	corpus_msgs(k, p.cs, p.sc);
	tw_srv_free(r.srv);
	tw_cli_free(r.cli);
	tw_wipe(&rnd, sizeof(rnd));
	tw_pcap_free(&pc);
}

/* Feeding a capture's streams one octet at a time gives the same events. */
static void check_capture_bytewise(size_t idx)
{
	const tw_capture *k = &tw_captures[idx];
	tw_pcap pc;
	assert_int_equal(tw_capture_load(k, TW_CAPTURES_DIR, &pc), 0);
	tw_srv *s = tw_srv_new(4);
	tw_greeting g = { .modes = 0xf, .count = 2048 };
	tw_hexvec_exact(k->challenge, g.challenge, 16);
	tw_hexvec_exact(k->salt, g.salt, 16);
	uint8_t out[256], iv[16];
	tw_hexvec_exact(k->server_iv, iv, 16);
	assert_int_equal(tw_srv_greeting(s, &g, out, sizeof(out)), 64);
	static const tw_srv_event_type want[] = { TW_SRV_EV_SETUP, TW_SRV_EV_REQUEST, TW_SRV_EV_START,
						  TW_SRV_EV_STOP };
	size_t nev = 0;
	for (size_t i = 0; i < pc.to_server_len; i++) {
		tw_srv_event ev;
		assert_int_equal(tw_srv_feed(s, pc.to_server + i, 1, &ev), 1);
		if (ev.type == TW_SRV_EV_NONE)
			continue;
		assert_true(nev < 4);
		assert_int_equal(ev.type, want[nev++]);
		if (ev.type == TW_SRV_EV_SETUP) {
			assert_int_equal(tw_srv_authenticate(s, SECRET, SECRET_LEN), 0);
			assert_int_equal(tw_srv_server_start(s, 0, iv, 0, out, sizeof(out)), 48);
		} else if (ev.type == TW_SRV_EV_REQUEST) {
			tw_accept_session a = { .port = k->port };
			tw_hexvec_exact(k->sid, a.sid, 16);
			assert_int_equal(tw_srv_accept(s, &a, out, sizeof(out)), 48);
		} else if (ev.type == TW_SRV_EV_START) {
			assert_int_equal(tw_srv_start_ack(s, 0, out, sizeof(out)), 32);
		} else {
			assert_true(ev.u.stop.count_ok);
		}
	}
	assert_int_equal(nev, 4);
	tw_srv_free(s);
	tw_pcap_free(&pc);
}

static void test_bytewise(void **state)
{
	(void)state;
	for (size_t i = 0; i < TW_NCAPTURES; i++)
		check_capture_bytewise(i);
}

/* A wrong passphrase must fail where twampd would have refused. */
static void test_wrong_secret(void **state)
{
	(void)state;
	for (size_t i = TW_CAP_AUTHENTICATED; i < TW_NCAPTURES; i++) {
		const tw_capture *k = &tw_captures[i];
		tw_pcap pc;
		assert_int_equal(tw_capture_load(k, TW_CAPTURES_DIR, &pc), 0);
		tw_srv *s = tw_srv_new(4);
		tw_greeting g = { .modes = 0xf, .count = 2048 };
		tw_hexvec_exact(k->challenge, g.challenge, 16);
		tw_hexvec_exact(k->salt, g.salt, 16);
		uint8_t out[64];
		tw_srv_event ev;
		assert_int_equal(tw_srv_greeting(s, &g, out, sizeof(out)), 64);
		assert_int_equal(tw_srv_feed(s, pc.to_server, TW_SETUP_LEN, &ev), TW_SETUP_LEN);
		assert_int_equal(ev.type, TW_SRV_EV_SETUP);
		assert_int_equal(tw_srv_authenticate(s, (const uint8_t *)"twamp-interop-secreT", 20), 1);
		assert_int_equal(tw_srv_authenticate(s, NULL, 0), 1);
		tw_srv_free(s);
		tw_pcap_free(&pc);
	}
}

/* ---- ISC conversations for the fuzz seeds ----
 * The captures hold no Start-N/Stop-N, so the seeds come from a
 * conversation of the two machines set up the way the fuzz harnesses are:
 * the authenticated capture's greeting and session keys, and SIDs
 * 7f000001 00000000 00000000 <index + 1>. */

typedef struct recorder {
	tw_srv *srv;
	tw_cli *cli;
	uint8_t cs[512], sc[512];
	size_t ncs, nsc;
	uint8_t out[256];
} recorder;

static tw_srv_event rec_to_srv(recorder *r, int n)
{
	tw_srv_event ev;
	assert_true(n > 0 && r->ncs + (size_t)n <= sizeof(r->cs));
	memcpy(r->cs + r->ncs, r->out, (size_t)n);
	r->ncs += (size_t)n;
	assert_int_equal(tw_srv_feed(r->srv, r->out, (size_t)n, &ev), (size_t)n);
	assert_int_not_equal(ev.type, TW_SRV_EV_ERROR);
	return ev;
}

static tw_cli_event rec_to_cli(recorder *r, int n)
{
	tw_cli_event ev;
	assert_true(n > 0 && r->nsc + (size_t)n <= sizeof(r->sc));
	memcpy(r->sc + r->nsc, r->out, (size_t)n);
	r->nsc += (size_t)n;
	assert_int_equal(tw_cli_feed(r->cli, r->out, (size_t)n, &ev), (size_t)n);
	assert_int_not_equal(ev.type, TW_CLI_EV_ERROR);
	return ev;
}

static void isc_handshake(recorder *r, uint32_t mode)
{
	const tw_capture *k = &tw_captures[TW_CAP_AUTHENTICATED];
	tw_greeting g = { .modes = 0x1f, .count = 2048 };
	tw_hexvec_exact(k->challenge, g.challenge, 16);
	tw_hexvec_exact(k->salt, g.salt, 16);
	assert_int_equal(rec_to_cli(r, tw_srv_greeting(r->srv, &g, r->out, sizeof(r->out))).type,
			 TW_CLI_EV_GREETING);
	tw_cli_random rnd;
	tw_hexvec_exact(k->aes_key, rnd.aes_key, 16);
	tw_hexvec_exact(k->hmac_key, rnd.hmac_key, 32);
	tw_hexvec_exact(k->client_iv, rnd.client_iv, 16);
	int n = tw_cli_setup(r->cli, mode, "testuser", SECRET, SECRET_LEN, &rnd, 0, r->out, sizeof(r->out));
	assert_int_equal(rec_to_srv(r, n).type, TW_SRV_EV_SETUP);
	assert_int_equal(tw_srv_authenticate(r->srv, SECRET, SECRET_LEN), 0);
	uint8_t iv[16];
	tw_hexvec_exact(k->server_iv, iv, 16);
	n = tw_srv_server_start(r->srv, 0, iv, 0xeeadbbbb00000000ULL, r->out, sizeof(r->out));
	assert_int_equal(rec_to_cli(r, n).type, TW_CLI_EV_SERVER_START);
}

static void isc_session(recorder *r, uint8_t sid[16])
{
	tw_request req = { .ipvn = 4, .sender_port = 9056, .receiver_port = 9056, .padding = 64,
			   .timeout = 0x0000000200000000ULL };
	assert_int_equal(rec_to_srv(r, tw_cli_request(r->cli, &req, r->out, sizeof(r->out))).type,
			 TW_SRV_EV_REQUEST);
	tw_accept_session a = { .port = 18816 };
	memset(sid, 0, 16);
	sid[0] = 0x7f;
	sid[3] = 1;
	sid[15] = 1;
	memcpy(a.sid, sid, 16);
	assert_int_equal(rec_to_cli(r, tw_srv_accept(r->srv, &a, r->out, sizeof(r->out))).type, TW_CLI_EV_ACCEPT);
}

static void isc_seed(uint32_t mode, uint8_t cli_profile, const char *name)
{
	recorder r = { .srv = tw_srv_new(4), .cli = tw_cli_new(4) };
	uint8_t sid[16];
	isc_handshake(&r, mode);
	isc_session(&r, sid);
	size_t msg_cs = r.ncs, msg_sc = r.nsc;
	tw_srv_event sev = rec_to_srv(&r, tw_cli_start_n(r.cli, 1, sid, r.out, sizeof(r.out)));
	assert_int_equal(sev.type, TW_SRV_EV_START_N);
	assert_int_equal(sev.u.sids.accept, 0);
	int n = tw_srv_sids_ack(r.srv, TW_CMD_START_N_ACK, 0, 1, sid, r.out, sizeof(r.out));
	assert_int_equal(rec_to_cli(&r, n).type, TW_CLI_EV_N_ACK);
	assert_int_equal(tw_cli_sessions_running(r.cli), 1);
	assert_int_equal(tw_srv_sessions_running(r.srv), 1);
	assert_int_equal(rec_to_srv(&r, tw_cli_stop_n(r.cli, 1, sid, r.out, sizeof(r.out))).type, TW_SRV_EV_STOP_N);
	n = tw_srv_sids_ack(r.srv, TW_CMD_STOP_N_ACK, 0, 1, sid, r.out, sizeof(r.out));
	assert_int_equal(rec_to_cli(&r, n).type, TW_CLI_EV_N_ACK);
	assert_int_equal(tw_cli_sessions_running(r.cli), 0);
	assert_int_equal(tw_srv_get_state(r.srv), TW_SRV_IDLE);

	char file[64];
	snprintf(file, sizeof(file), "isc-%s.bin", name);
	corpus_write("ctrl_server", file, 0x10, r.cs, r.ncs);
	corpus_write("ctrl_client", file, (uint8_t)(cli_profile | 0x10), r.sc, r.nsc);
	if (mode & TW_MODE_OPEN) { /* plaintext Start-N/Stop-N and their acks */
		corpus_write("control_msgs", "isc-start-n.bin", 0xff, r.cs + msg_cs, 48);
		corpus_write("control_msgs", "isc-stop-n.bin", 0xff, r.cs + msg_cs + 48, 48);
		corpus_write("control_msgs", "isc-start-n-ack.bin", 0xff, r.sc + msg_sc, 48);
		corpus_write("control_msgs", "isc-stop-n-ack.bin", 0xff, r.sc + msg_sc + 48, 48);
	}
	tw_srv_free(r.srv);
	tw_cli_free(r.cli);
}

static void test_isc_seeds(void **state)
{
	(void)state;
	isc_seed(TW_MODE_OPEN | TW_MODE_ISC, 0, "open");
	isc_seed(TW_MODE_AUTH | TW_MODE_ISC, 1, "auth");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TW_CASE("test_open", test_capture, &tw_captures[TW_CAP_OPEN]),
		TW_CASE("test_open_nopad", test_capture, &tw_captures[TW_CAP_OPEN_NOPAD]),
		TW_CASE("test_open_pad64_dscp_ef", test_capture, &tw_captures[TW_CAP_OPEN_PAD64_EF]),
		TW_CASE("test_ipv6_open", test_capture, &tw_captures[TW_CAP_IPV6_OPEN]),
		TW_CASE("test_authenticated", test_capture, &tw_captures[TW_CAP_AUTHENTICATED]),
		TW_CASE("test_encrypted", test_capture, &tw_captures[TW_CAP_ENCRYPTED]),
		TW_CASE("test_mixed", test_capture, &tw_captures[TW_CAP_MIXED]),
		cmocka_unit_test(test_bytewise),
		cmocka_unit_test(test_wrong_secret),
		cmocka_unit_test(test_isc_seeds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
