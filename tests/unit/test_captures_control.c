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

typedef struct capture {
	const char *file;
	uint32_t mode;
	unsigned dscp;
	const char *challenge, *salt, *keyid, *token, *client_iv, *server_iv;
	/* keyed captures */
	const char *kdf_key, *aes_key, *hmac_key;
	const char *h_request, *h_start, *h_stop, *h_accept, *h_start_ack;
	/* the session */
	uint16_t port;
	const char *sid;
	uint8_t ipvn;
	uint16_t sender_port, receiver_port;
	uint32_t padding;
	tw_ts start_time, timeout;
	uint32_t type_p;
	const char *addr; /* sender = receiver address (loopback) */
	const char *request_clear;
	/* authenticated / encrypted: test keys and frame 14's cleartext */
	const char *test_aes, *test_hmac, *clear14;
} capture;

static const capture CAPS[] = {
	{
		.file = "twping-twampd-open.pcap",
		.mode = 1, .dscp = 0,
		.challenge = "87983bf705cd8930f94dda5d3bd6e181", .salt = "708705fb09bca410d4b363b53a5bd6b3",
		.keyid = "",
		.token = "0000000000000000000000000000000000000000000000000000000000000000"
			 "0000000000000000000000000000000000000000000000000000000000000000",
		.client_iv = "00000000000000000000000000000000", .server_iv = "00000000000000000000000000000000",
		.port = 18799, .sid = "7f000001eeadbb8ee969c23bb393a6cf",
		.ipvn = 4, .sender_port = 9552, .receiver_port = 9552, .padding = 27,
		.start_time = 0xeeadbb8fe96cb534ULL, .timeout = 0x000000020007bbb6ULL, .type_p = 0x00000000,
		.addr = "7f000001000000000000000000000000",
		.request_clear = "050400000000000000000000255025507f0000010000000000000000000000007f0000010000000000000000000000000000000000000000"
				 "00000000000000000000001beeadbb8fe96cb534000000020007bbb600000000000000000000000000000000000000000000000000000000",
	},
	{
		.file = "twping-twampd-open-nopad.pcap",
		.mode = 1, .dscp = 0,
		.challenge = "5e3fb992af4351c3c6013846033a00fc", .salt = "8810e105efdd35eaee25c4cdfda30ccf",
		.keyid = "",
		.token = "0000000000000000000000000000000000000000000000000000000000000000"
			 "0000000000000000000000000000000000000000000000000000000000000000",
		.client_iv = "00000000000000000000000000000000", .server_iv = "00000000000000000000000000000000",
		.port = 18822, .sid = "7f000001eeadbbdb4eb862b2502a53cf",
		.ipvn = 4, .sender_port = 9739, .receiver_port = 9739, .padding = 0,
		.start_time = 0xeeadbbdc4eb10ba6ULL, .timeout = 0x000000020003eea2ULL, .type_p = 0x00000000,
		.addr = "7f000001000000000000000000000000",
		.request_clear = "050400000000000000000000260b260b7f0000010000000000000000000000007f0000010000000000000000000000000000000000000000"
				 "000000000000000000000000eeadbbdc4eb10ba6000000020003eea200000000000000000000000000000000000000000000000000000000",
	},
	{
		.file = "twping-twampd-open-pad64-dscp-ef.pcap",
		.mode = 1, .dscp = 46,
		.challenge = "eef95695aa34ff2141290f0e941aafb4", .salt = "22b6371a693ad21688851d84b9970d7b",
		.keyid = "",
		.token = "0000000000000000000000000000000000000000000000000000000000000000"
			 "0000000000000000000000000000000000000000000000000000000000000000",
		.client_iv = "00000000000000000000000000000000", .server_iv = "00000000000000000000000000000000",
		.port = 18886, .sid = "7f000001eeadbbb39836651691070aa0",
		.ipvn = 4, .sender_port = 9544, .receiver_port = 9544, .padding = 64,
		.start_time = 0xeeadbbb4982ff8ebULL, .timeout = 0x000000020007ee0bULL, .type_p = 0x2e000000,
		.addr = "7f000001000000000000000000000000",
		.request_clear = "050400000000000000000000254825487f0000010000000000000000000000007f0000010000000000000000000000000000000000000000"
				 "000000000000000000000040eeadbbb4982ff8eb000000020007ee0b2e000000000000000000000000000000000000000000000000000000",
	},
	{
		.file = "twping-twampd-ipv6-open.pcap",
		.mode = 1, .dscp = 8,
		.challenge = "ec4e503a0bb0a88e0c9102443228bec9", .salt = "0191bed2789a26feb92f7c42e7aa02ca",
		.keyid = "",
		.token = "0000000000000000000000000000000000000000000000000000000000000000"
			 "0000000000000000000000000000000000000000000000000000000000000000",
		.client_iv = "00000000000000000000000000000000", .server_iv = "00000000000000000000000000000000",
		.port = 18893, .sid = "00000001eeadbbd4c377f27f12ea4d5e",
		.ipvn = 6, .sender_port = 9909, .receiver_port = 9909, .padding = 27,
		.start_time = 0xeeadbbd5c36188b0ULL, .timeout = 0x0000000200079a28ULL, .type_p = 0x08000000,
		.addr = "00000000000000000000000000000001",
		.request_clear = "05060000000000000000000026b526b500000000000000000000000000000001000000000000000000000000000000010000000000000000"
				 "00000000000000000000001beeadbbd5c36188b00000000200079a2808000000000000000000000000000000000000000000000000000000",
	},
	{
		.file = "twping-twampd-authenticated.pcap",
		.mode = 2, .dscp = 0,
		.challenge = "57aaa70e4a78521c8b360dc19bb5a4f2", .salt = "301477bc1c354f33eddef084089ff0b5",
		.keyid = "testuser",
		.token = "064ebc59ce3481844d463511e2b7d0643bdaf08caac9c94e3217a6175aa196cb"
			 "0ebbc732e0040797cf33080856c5f2206f9d915036dcdecc76361033c979e876",
		.client_iv = "b83077f5419c412b18e71149c9cc98cd", .server_iv = "2cf7184740145c335825ad3ee2ef258e",
		.kdf_key = "65db54d87ceba1abc163f40b3041a452", .aes_key = "d595258c93924be77b1f46b4b2528c05",
		.hmac_key = "00c7228e0756fc92a1fe92d567e5a149560edd1519381fa151e0019c6fd667e1",
		.h_request = "14466a0445b0586d1ff83d0aa24de71f", .h_start = "9c2a51323fd8725745e7f256282055f0",
		.h_stop = "d87267d5afdb73bfec453c4679a14bfd", .h_accept = "aa181294a06a2bf194967fa800700f4b",
		.h_start_ack = "30da84687762aa24f7ee6caf26d8c3f5",
		.port = 18816, .sid = "7f000001eeadbbba23f83382dc552ed8",
		.ipvn = 4, .sender_port = 9056, .receiver_port = 9056, .padding = 64,
		.start_time = 0xeeadbbbb2507314dULL, .timeout = 0x000000020064a9ceULL, .type_p = 0x00000000,
		.addr = "7f000001000000000000000000000000",
		.request_clear = "050400000000000000000000236023607f0000010000000000000000000000007f0000010000000000000000000000000000000000000000"
				 "000000000000000000000040eeadbbbb2507314d000000020064a9ce00000000000000000000000014466a0445b0586d1ff83d0aa24de71f",
		.test_aes = "125e0add300eb1138db1898fe5e2788f",
		.test_hmac = "d95cd68c0d1aa492ae68545de5e9ed8ca5e7272cd1441f3e61cf8498f83f28ba",
		.clear14 = "00000000000000000000000000000000eeadbbbb3eac215b0001000000000000",
	},
	{
		.file = "twping-twampd-encrypted.pcap",
		.mode = 4, .dscp = 34,
		.challenge = "85f5b0bad585b2e54c583f36d0fbc364", .salt = "3037733c24f92cf278459961027c62ca",
		.keyid = "testuser",
		.token = "61635dd30a3706ce28e4770a93c788690b410212b14ca7754685b479a3a0cbaf"
			 "af8d7f185fb1c201227a11934aebd1eb16def3737626fab0c016414a5f61f5c2",
		.client_iv = "e173efcb66a0c79dfd9e1d54c69adef1", .server_iv = "10f79819340dddf6e5a0a523158cf22a",
		.kdf_key = "8943cd5aabce1ef975cb902f8e79f716", .aes_key = "79a9fc59fa75d134642f0ae2e5783ce6",
		.hmac_key = "35291cdefdb08c68715ab330bda74c7446ce21576d4aec9976ca844dcf4dcd84",
		.h_request = "1b4788cdf92e4533fde43452f6bf70db", .h_start = "49087f5ca71478c92971d6a32f58bb28",
		.h_stop = "c12860607c93948f827978973064df85", .h_accept = "cfe151241c88da0c8c0c1c099499fc14",
		.h_start_ack = "fd90508e2f5eee4d68040392f75fae68",
		.port = 18991, .sid = "7f000001eeadbbc5aa9a91101a7835c0",
		.ipvn = 4, .sender_port = 9196, .receiver_port = 9196, .padding = 64,
		.start_time = 0xeeadbbc6ac07fed0ULL, .timeout = 0x00000002007f77afULL, .type_p = 0x22000000,
		.addr = "7f000001000000000000000000000000",
		.request_clear = "05040000000000000000000023ec23ec7f0000010000000000000000000000007f0000010000000000000000000000000000000000000000"
				 "000000000000000000000040eeadbbc6ac07fed000000002007f77af2200000000000000000000001b4788cdf92e4533fde43452f6bf70db",
		.test_aes = "5ed062d3c14225c23962b05d70dd5c94",
		.test_hmac = "2b6fa2f0c634f2efd665000745eb21d105a57cbc939e9d3a19cc3e086c46b48f",
		.clear14 = "00000000000000000000000000000000eeadbbc6c5a9b8cb0001000000000000",
	},
	{
		.file = "twping-twampd-mixed.pcap",
		.mode = 8, .dscp = 0,
		.challenge = "94537e37a4d4316b91b1a28ec15c75c9", .salt = "d91a3ab2708f1a32eeca5dea0cb0a85b",
		.keyid = "testuser",
		.token = "cfc193d7e09dc8fd82b351bb581098df4e459b72a780e390fd2e80871d0b820d"
			 "2f7960184ef8c9024e1f21d9237c2e673e386d2e57ec128672c359f39531c0b5",
		.client_iv = "97be107e7092bc08f0404236eaa2685c", .server_iv = "9cd0d67708dfcac398b637773c78aa3c",
		.kdf_key = "8c4ed7a77cf0591e6f24af71e16c1b28", .aes_key = "39016d3132eaf25f26b0597af32495f4",
		.hmac_key = "593c963a6c8685af23c4c4bd750d4d8a5a8ff9959c954ec7a1e226b575073452",
		.h_request = "df4b714cbd0cd2044ffde113738b48b7", .h_start = "ea80772137a3ab21598a07f483d8854f",
		.h_stop = "a9f3848ba8c0ea0bd34ba50531386c89", .h_accept = "63c71d7b6dbed8b5b12b2f4b2767b245",
		.h_start_ack = "a45c0bc76c835bc854695ce92add2a2e",
		.port = 18987, .sid = "7f000001eeadbbcc3845baf540af8eb0",
		.ipvn = 4, .sender_port = 9605, .receiver_port = 9605, .padding = 27,
		.start_time = 0xeeadbbcd399ee88bULL, .timeout = 0x00000002007ad080ULL, .type_p = 0x00000000,
		.addr = "7f000001000000000000000000000000",
		.request_clear = "050400000000000000000000258525857f0000010000000000000000000000007f0000010000000000000000000000000000000000000000"
				 "00000000000000000000001beeadbbcd399ee88b00000002007ad080000000000000000000000000df4b714cbd0cd2044ffde113738b48b7",
	},
};

#define NCAPS (sizeof(CAPS) / sizeof(CAPS[0]))

static bool cap_keyed(const capture *k)
{
	return k->kdf_key != NULL;
}

static bool cap_test_keys(const capture *k)
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
static void corpus_streams(const capture *k, size_t idx, const tw_pcap *pc)
{
	static const uint8_t srv_profile[] = { 0, 0, 0, 0, 0, 1, 2 };
	static const uint8_t cli_profile[] = { 0, 0, 0, 0, 1, 2, 3 };
	char name[128];
	snprintf(name, sizeof(name), "capture-%s.bin", k->file);
	corpus_write("ctrl_server", name, srv_profile[idx], pc->to_server, pc->to_server_len);
	corpus_write("ctrl_client", name, cli_profile[idx], pc->to_client, pc->to_client_len);
}

static void corpus_msgs(const capture *k, const uint8_t *cs, const uint8_t *sc)
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
static void decrypt_streams(const capture *k, const tw_pcap *pc, tw_cli_random *rnd, plain *p)
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
static void check_hmac_fields(const capture *k, const plain *p)
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
	const capture *k;
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
	const capture *k = r->k;
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
	const capture *k = r->k;
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
	const capture *k = r->k;
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

static void check_request_fields(const capture *k, const tw_request *m)
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
	const capture *k = r->k;
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
	const capture *k = r->k;
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

static const tw_pcap_udp *first_sender_packet(const capture *k, const tw_pcap *pc)
{
	for (size_t i = 0; i < pc->nudp; i++)
		if (pc->udp[i].dport == k->port)
			return &pc->udp[i];
	fail_msg("%s: no sender packet", k->file);
	return NULL;
}

static void verify_frame14(const capture *k, tw_test_crypto *t, const tw_pcap_udp *u)
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
	const capture *k = r->k;
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

static void check_capture(size_t idx)
{
	const capture *k = &CAPS[idx];
	char path[1024];
	tw_pcap pc;
	snprintf(path, sizeof(path), "%s/%s", TW_CAPTURES_DIR, k->file);
	assert_int_equal(tw_pcap_load(path, &pc), 0);
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
	const capture *k = &CAPS[idx];
	char path[1024];
	tw_pcap pc;
	snprintf(path, sizeof(path), "%s/%s", TW_CAPTURES_DIR, k->file);
	assert_int_equal(tw_pcap_load(path, &pc), 0);
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

static void test_open(void **state)
{
	(void)state;
	check_capture(0);
}
static void test_open_nopad(void **state)
{
	(void)state;
	check_capture(1);
}
static void test_open_pad64_dscp_ef(void **state)
{
	(void)state;
	check_capture(2);
}
static void test_ipv6_open(void **state)
{
	(void)state;
	check_capture(3);
}
static void test_authenticated(void **state)
{
	(void)state;
	check_capture(4);
}
static void test_encrypted(void **state)
{
	(void)state;
	check_capture(5);
}
static void test_mixed(void **state)
{
	(void)state;
	check_capture(6);
}

static void test_bytewise(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCAPS; i++)
		check_capture_bytewise(i);
}

/* A wrong passphrase must fail where twampd would have refused. */
static void test_wrong_secret(void **state)
{
	(void)state;
	for (size_t i = 4; i < NCAPS; i++) {
		const capture *k = &CAPS[i];
		char path[1024];
		tw_pcap pc;
		snprintf(path, sizeof(path), "%s/%s", TW_CAPTURES_DIR, k->file);
		assert_int_equal(tw_pcap_load(path, &pc), 0);
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
	const capture *k = &CAPS[4];
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
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_open_nopad),
		cmocka_unit_test(test_open_pad64_dscp_ef),
		cmocka_unit_test(test_ipv6_open),
		cmocka_unit_test(test_authenticated),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_bytewise),
		cmocka_unit_test(test_wrong_secret),
		cmocka_unit_test(test_isc_seeds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
