/*
 * test_crypto.c - proto/crypto.c against spec/vectors.md (V3-V13) and the
 * authenticated, encrypted and mixed twping<->twampd interop captures.
 *
 * The vector hex (here and in tests/support/specvec.h) is pasted verbatim
 * from vectors.md (spaces and line breaks are ignored by the decoder), so a
 * typo shows up as a failing test instead of silently matching a wrong
 * value computed the same wrong way.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "captures.h"
#include "cases.h"
#include "crypto.h"
#include "pcap.h"
#include "hexvec.h"
#include "specvec.h"
#include "testutil.h"
#include "wire.h"

/* ---- common inputs of vectors.md ---- */

#define V_SALT "000102030405060708090a0b0c0d0e0f"
#define V_CHALLENGE "00112233445566778899aabbccddeeff"
#define V_AES_KEY "0f0e0d0c0b0a09080706050403020100"
#define V_HMAC_KEY "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define V_CLIENT_IV "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
#define V_SERVER_IV "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
#define V_DK_1024 "34c2e97a43aa44a08d662a2128c24b28"

/* The V4-V9 messages and keys are TW_VEC_* of specvec.h. V7's HMAC under
 * the three readings of what the first server HMAC covers: */
#define V_ACC_MAC_OWAMP "1804e01fd11d41e284daa5846e3a11e5"
#define V_ACC_MAC_ALONE "976034f0f4d5aacfc571ad650e38d6dd"
#define V_ACC_MAC_LITERAL "66730e3b7ca9b8316b848dff393a3f3e"

typedef struct vkeys {
	uint8_t aes[16], hmac[32], client_iv[16], server_iv[16];
} vkeys;

static vkeys load_vkeys(void)
{
	vkeys k;
	tw_hexvec_exact(V_AES_KEY, k.aes, 16);
	tw_hexvec_exact(V_HMAC_KEY, k.hmac, 32);
	tw_hexvec_exact(V_CLIENT_IV, k.client_iv, 16);
	tw_hexvec_exact(V_SERVER_IV, k.server_iv, 16);
	return k;
}

/* ---- V3: PBKDF2 ---- */

static void test_pbkdf2_rfc6070(void **state)
{
	(void)state;
	/* tw_kdf fixes salt and output at 16 octets, so the RFC 6070 checks of
	 * the primitive (4-octet salt, 20-octet output) go to OpenSSL directly. */
	uint8_t dk[20];
	assert_int_equal(PKCS5_PBKDF2_HMAC("password", 8, (const uint8_t *)"salt", 4, 1, EVP_sha1(), 20, dk), 1);
	tw_hexvec_expect(dk, 20, "0c60c80f961f0e71f3a9b524af6012062fe037a6");
	assert_int_equal(PKCS5_PBKDF2_HMAC("password", 8, (const uint8_t *)"salt", 4, 4096, EVP_sha1(), 20, dk), 1);
	tw_hexvec_expect(dk, 20, "4b007901b765489abead49d926f721d065a429c1");
}

static void test_kdf_vectors(void **state)
{
	(void)state;
	static const struct {
		uint32_t count;
		const char *dk;
	} cases[] = {
		{ 1024, V_DK_1024 },
		{ 2048, "fa59b46b1d91c2f6fa97a3966439cbe8" },
		{ 32768, "9fd6964d544bb02c575546ee7e446c99" },
	};
	uint8_t salt[16], dk[16];
	tw_hexvec_exact(V_SALT, salt, 16);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(dk, 0xaa, sizeof(dk));
		assert_int_equal(tw_kdf((const uint8_t *)"secret", 6, salt, cases[i].count, dk), 0);
		tw_hexvec_expect(dk, 16, cases[i].dk);
	}
}

static void test_kdf_edges(void **state)
{
	(void)state;
	uint8_t salt[16], dk[16], dk2[16];
	tw_hexvec_exact(V_SALT, salt, 16);
	assert_int_equal(tw_kdf((const uint8_t *)"secret", 6, salt, 0, dk), -EINVAL);
	assert_int_equal(tw_kdf((const uint8_t *)"secret", 6, salt, 0x80000000u, dk), -EINVAL);
	/* The passphrase is bytes with a length, not a C string. */
	assert_int_equal(tw_kdf((const uint8_t *)"sec\0ret", 7, salt, 1024, dk), 0);
	assert_int_equal(tw_kdf((const uint8_t *)"sec", 3, salt, 1024, dk2), 0);
	assert_memory_not_equal(dk, dk2, 16);
	/* Empty secret: defined (PBKDF2 of the empty password), not an error. */
	assert_int_equal(tw_kdf(NULL, 0, salt, 1024, dk), 0);
	uint8_t ref[16];
	assert_int_equal(PKCS5_PBKDF2_HMAC("", 0, salt, 16, 1024, EVP_sha1(), 16, ref), 1);
	assert_memory_equal(dk, ref, 16);
}

/* ---- V4: Token and Set-Up-Response ---- */

static void test_token_v4(void **state)
{
	(void)state;
	uint8_t salt[16], dk[16], plain[64], token[64], back[64];
	tw_hexvec_exact(V_SALT, salt, 16);
	assert_int_equal(tw_kdf((const uint8_t *)"secret", 6, salt, 1024, dk), 0);
	tw_hexvec_expect(dk, 16, V_DK_1024);
	tw_hexvec_exact(V_CHALLENGE, plain, 16);
	tw_hexvec_exact(V_AES_KEY, plain + 16, 16);
	tw_hexvec_exact(V_HMAC_KEY, plain + 32, 32);

	assert_int_equal(tw_token_encrypt(dk, plain, token), 0);
	tw_hexvec_expect(token, 64, TW_VEC_V4_TOKEN);
	assert_int_equal(tw_token_decrypt(dk, token, back), 0);
	assert_memory_equal(back, plain, 64);

	/* Whole Set-Up-Response: Mode 2, KeyID 'alice' zero padded, Token, Client-IV. */
	uint8_t sur[164];
	tw_wr w = tw_wr_make(sur, sizeof(sur));
	tw_wr_u32(&w, 2);
	tw_wr_copy(&w, "alice", 5);
	tw_wr_zero(&w, 80 - 5);
	tw_wr_copy(&w, token, 64);
	uint8_t civ[16];
	tw_hexvec_exact(V_CLIENT_IV, civ, 16);
	tw_wr_copy(&w, civ, 16);
	assert_true(tw_wr_ok(&w));
	assert_int_equal(tw_wr_len(&w), 164);
	tw_hexvec_expect(sur, 164, TW_VEC_V4_SETUP);

	/* In place works too (the server decrypts the received buffer). */
	memcpy(back, token, 64);
	assert_int_equal(tw_token_decrypt(dk, back, back), 0);
	assert_memory_equal(back, plain, 64);
	/* A wrong key gives a different challenge, not an error. */
	dk[0] ^= 1;
	assert_int_equal(tw_token_decrypt(dk, token, back), 0);
	assert_memory_not_equal(back, plain, 16);
}

/* ---- V5-V8: the control streams, once from each end ---- */

/* Client role: tx = client chain (IV Client-IV), rx = server chain. */
static void client_receive_server_start(tw_ctrl_crypto *c)
{
	uint8_t ss[48];
	tw_hexvec_exact(TW_VEC_V5_WIRE, ss, 48);
	assert_int_equal(tw_ctrl_decrypt(c, ss + 32, 16), 0);
	tw_hexvec_expect(ss, 48, TW_VEC_V5_PLAIN);
	tw_ctrl_mac_add_rx(c, ss + 32, 16); /* owamp: covered by the first server HMAC */
}

static void client_send_request(tw_ctrl_crypto *c)
{
	uint8_t rtw[112];
	tw_hexvec_exact(TW_VEC_V6_PLAIN, rtw, 112);
	tw_ctrl_mac_add_tx(c, rtw, 96);
	assert_int_equal(tw_ctrl_mac_final_tx(c, rtw + 96), 0);
	tw_hexvec_expect(rtw + 96, 16, TW_VEC_V6_MAC);
	assert_int_equal(tw_ctrl_encrypt(c, rtw, 112), 0);
	tw_hexvec_expect(rtw, 112, TW_VEC_V6_WIRE);
}

static void client_receive_accept(tw_ctrl_crypto *c)
{
	uint8_t acc[48];
	tw_hexvec_exact(TW_VEC_V7_WIRE, acc, 48);
	/* Read the way a receiver does: one block first, then the rest. */
	assert_int_equal(tw_ctrl_decrypt(c, acc, 16), 0);
	assert_int_equal(tw_ctrl_decrypt(c, acc + 16, 32), 0);
	tw_hexvec_expect(acc, 48, TW_VEC_V7_PLAIN);
	tw_ctrl_mac_add_rx(c, acc, 32);
	assert_true(tw_ctrl_mac_verify_rx(c, acc + 32));
}

/* Sends a 32-octet command whose HMAC covers octets 0-15. */
static void send32(tw_ctrl_crypto *c, const char *plain_hex, const char *wire_hex)
{
	uint8_t want[32], msg[32];
	tw_hexvec_exact(plain_hex, want, 32);
	memcpy(msg, want, 16);
	tw_ctrl_mac_add_tx(c, msg, 16);
	assert_int_equal(tw_ctrl_mac_final_tx(c, msg + 16), 0);
	assert_memory_equal(msg, want, 32);
	assert_int_equal(tw_ctrl_encrypt(c, msg, 32), 0);
	tw_hexvec_expect(msg, 32, wire_hex);
}

static void receive32(tw_ctrl_crypto *c, const char *wire_hex, const char *plain_hex)
{
	uint8_t msg[32];
	tw_hexvec_exact(wire_hex, msg, 32);
	assert_int_equal(tw_ctrl_decrypt(c, msg, 32), 0);
	tw_hexvec_expect(msg, 32, plain_hex);
	tw_ctrl_mac_add_rx(c, msg, 16);
	assert_true(tw_ctrl_mac_verify_rx(c, msg + 16));
}

static void test_ctrl_client_side(void **state)
{
	(void)state;
	vkeys k = load_vkeys();
	tw_ctrl_crypto *c = tw_ctrl_crypto_new(k.aes, k.hmac, k.client_iv, k.server_iv);
	assert_non_null(c);
	client_receive_server_start(c);
	client_send_request(c);
	client_receive_accept(c);
	send32(c, TW_VEC_V8_START_PLAIN, TW_VEC_V8_START_WIRE);
	receive32(c, TW_VEC_V8_ACK_WIRE, TW_VEC_V8_ACK_PLAIN);
	send32(c, TW_VEC_V8_STOP_PLAIN, TW_VEC_V8_STOP_WIRE);
	tw_ctrl_crypto_free(c);
}

/* Server role: tx = server chain (IV Server-IV), rx = client chain. */
static void server_send_start_and_accept(tw_ctrl_crypto *c)
{
	uint8_t ss[48], acc[48];
	tw_hexvec_exact(TW_VEC_V5_PLAIN, ss, 48);
	tw_ctrl_mac_add_tx(c, ss + 32, 16);
	assert_int_equal(tw_ctrl_encrypt(c, ss + 32, 16), 0);
	tw_hexvec_expect(ss, 48, TW_VEC_V5_WIRE);

	tw_hexvec_exact(TW_VEC_V7_PLAIN, acc, 48);
	memset(acc + 32, 0, 16);
	tw_ctrl_mac_add_tx(c, acc, 32);
	assert_int_equal(tw_ctrl_mac_final_tx(c, acc + 32), 0);
	tw_hexvec_expect(acc + 32, 16, V_ACC_MAC_OWAMP);
	assert_int_equal(tw_ctrl_encrypt(c, acc, 48), 0);
	tw_hexvec_expect(acc, 48, TW_VEC_V7_WIRE);
}

static void server_receive_request(tw_ctrl_crypto *c)
{
	uint8_t rtw[112];
	tw_hexvec_exact(TW_VEC_V6_WIRE, rtw, 112);
	assert_int_equal(tw_ctrl_decrypt(c, rtw, 16), 0);
	assert_int_equal(rtw[0], 5); /* the command decides how much more to read */
	assert_int_equal(tw_ctrl_decrypt(c, rtw + 16, 96), 0);
	uint8_t want[112];
	tw_hexvec_exact(TW_VEC_V6_PLAIN, want, 112);
	assert_memory_equal(rtw, want, 96);
	tw_hexvec_expect(rtw + 96, 16, TW_VEC_V6_MAC);
	tw_ctrl_mac_add_rx(c, rtw, 96);
	assert_true(tw_ctrl_mac_verify_rx(c, rtw + 96));
}

static void test_ctrl_server_side(void **state)
{
	(void)state;
	vkeys k = load_vkeys();
	tw_ctrl_crypto *c = tw_ctrl_crypto_new(k.aes, k.hmac, k.server_iv, k.client_iv);
	assert_non_null(c);
	server_send_start_and_accept(c);
	/* In a real conversation Request-TW-Session arrives before Accept-Session
	 * is sent; the two chains are independent, so the order does not matter. */
	server_receive_request(c);
	receive32(c, TW_VEC_V8_START_WIRE, TW_VEC_V8_START_PLAIN);
	send32(c, TW_VEC_V8_ACK_PLAIN, TW_VEC_V8_ACK_WIRE);
	receive32(c, TW_VEC_V8_STOP_WIRE, TW_VEC_V8_STOP_PLAIN);
	tw_ctrl_crypto_free(c);
}

static void test_accept_hmac_readings_v7(void **state)
{
	(void)state;
	vkeys k = load_vkeys();
	uint8_t ss[48], acc[48], in[80], mac[16];
	tw_hexvec_exact(TW_VEC_V5_PLAIN, ss, 48);
	tw_hexvec_exact(TW_VEC_V7_PLAIN, acc, 48);

	memcpy(in, ss + 32, 16);
	memcpy(in + 16, acc, 32);
	assert_int_equal(tw_hmac128(TW_MAC_HMAC_SHA1, k.hmac, 32, in, 48, mac), 0);
	tw_hexvec_expect(mac, 16, V_ACC_MAC_OWAMP);

	assert_int_equal(tw_hmac128(TW_MAC_HMAC_SHA1, k.hmac, 32, acc, 32, mac), 0);
	tw_hexvec_expect(mac, 16, V_ACC_MAC_ALONE);

	memcpy(in, ss, 48);
	memcpy(in + 48, acc, 32);
	assert_int_equal(tw_hmac128(TW_MAC_HMAC_SHA1, k.hmac, 32, in, 80, mac), 0);
	tw_hexvec_expect(mac, 16, V_ACC_MAC_LITERAL);

	/* The accumulation API without the Server-Start block gives the
	 * "alone" reading: what is added is exactly what is covered. */
	tw_ctrl_crypto *c = tw_ctrl_crypto_new(k.aes, k.hmac, k.server_iv, k.client_iv);
	assert_non_null(c);
	tw_ctrl_mac_add_tx(c, acc, 32);
	assert_int_equal(tw_ctrl_mac_final_tx(c, mac), 0);
	tw_hexvec_expect(mac, 16, V_ACC_MAC_ALONE);
	tw_ctrl_crypto_free(c);
}

static void test_ctrl_mac_reject_and_restart(void **state)
{
	(void)state;
	vkeys k = load_vkeys();
	tw_ctrl_crypto *c = tw_ctrl_crypto_new(k.aes, k.hmac, k.server_iv, k.client_iv);
	assert_non_null(c);
	uint8_t rtw[112];
	tw_hexvec_exact(TW_VEC_V6_PLAIN, rtw, 112);
	tw_hexvec_exact(TW_VEC_V6_MAC, rtw + 96, 16);

	rtw[95] ^= 0x01; /* last covered octet */
	tw_ctrl_mac_add_rx(c, rtw, 96);
	assert_false(tw_ctrl_mac_verify_rx(c, rtw + 96));
	rtw[95] ^= 0x01;

	/* The failed verify finished the accumulation: a fresh one verifies. */
	tw_ctrl_mac_add_rx(c, rtw, 96);
	assert_true(tw_ctrl_mac_verify_rx(c, rtw + 96));

	rtw[96 + 15] ^= 0x80; /* last MAC octet */
	tw_ctrl_mac_add_rx(c, rtw, 96);
	assert_false(tw_ctrl_mac_verify_rx(c, rtw + 96));

	/* Split additions are the same as one addition. */
	rtw[96 + 15] ^= 0x80;
	tw_ctrl_mac_add_rx(c, rtw, 7);
	tw_ctrl_mac_add_rx(c, rtw + 7, 0);
	tw_ctrl_mac_add_rx(c, rtw + 7, 89);
	assert_true(tw_ctrl_mac_verify_rx(c, rtw + 96));
	tw_ctrl_crypto_free(c);
}

static void test_ctrl_bad_length_keeps_chain(void **state)
{
	(void)state;
	vkeys k = load_vkeys();
	tw_ctrl_crypto *c = tw_ctrl_crypto_new(k.aes, k.hmac, k.client_iv, k.server_iv);
	assert_non_null(c);
	uint8_t junk[32] = { 0 };
	assert_int_equal(tw_ctrl_encrypt(c, junk, 15), -EINVAL);
	assert_int_equal(tw_ctrl_decrypt(c, junk, 17), -EINVAL);
	/* Rejected calls must not advance either chain. */
	client_receive_server_start(c);
	client_send_request(c);
	client_receive_accept(c);
	tw_ctrl_crypto_free(c);
	tw_ctrl_crypto_free(NULL);
}

/* ---- V9: test keys ---- */

static void test_test_keys_v9(void **state)
{
	(void)state;
	vkeys k = load_vkeys();
	uint8_t sid[16], taes[16], thmac[32];
	tw_hexvec_exact(TW_VEC_SID, sid, 16);
	assert_int_equal(tw_test_keys_derive(sid, k.aes, k.hmac, taes, thmac), 0);
	tw_hexvec_expect(taes, 16, TW_VEC_V9_AES);
	tw_hexvec_expect(thmac, 32, TW_VEC_V9_HMAC);

	memset(taes, 0, 16);
	memset(thmac, 0, 32);
	tw_ctrl_crypto *c = tw_ctrl_crypto_new(k.aes, k.hmac, k.client_iv, k.server_iv);
	assert_non_null(c);
	assert_int_equal(tw_ctrl_test_keys(c, sid, taes, thmac), 0);
	tw_hexvec_expect(taes, 16, TW_VEC_V9_AES);
	tw_hexvec_expect(thmac, 32, TW_VEC_V9_HMAC);
	tw_ctrl_crypto_free(c);
}

/* ---- V10: test packets ---- */

static const char snd_plain_hex[] = "00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00\n"
				    "e8 fe 6f 82 40 00 00 00 80 01 00 00 00 00 00 00\n";
static const char auth_snd_hex[] = "ce 24 3d 3f 1f f1 5b 57 7f 83 7a 44 d3 5b 62 fb\n"
				   "e8 fe 6f 82 40 00 00 00 80 01 00 00 00 00 00 00\n"
				   "9c 4f 69 43 88 30 11 bf 0b 4f 55 d0 16 72 06 bb\n";
static const char enc_snd_hex[] = "ce 24 3d 3f 1f f1 5b 57 7f 83 7a 44 d3 5b 62 fb\n"
				  "7e c2 d5 4c 0c 38 ae da 8d aa 95 8a ac 2d dd 08\n"
				  "b1 02 94 ed a1 60 00 dc 79 ad 18 93 bd 22 40 7d\n";
static const char ref_plain_hex[] = "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
				    "e8 fe 6f 82 40 20 00 00 80 01 00 00 00 00 00 00\n"
				    "e8 fe 6f 82 40 10 00 00 00 00 00 00 00 00 00 00\n"
				    "00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00\n"
				    "e8 fe 6f 82 40 00 00 00 80 01 00 00 00 00 00 00\n"
				    "40 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n";
static const char auth_ref_hex[] = "b7 40 2d ae 8a d0 e6 59 0b b1 44 aa 5e bf 6c 94\n"
				   "e8 fe 6f 82 40 20 00 00 80 01 00 00 00 00 00 00\n"
				   "e8 fe 6f 82 40 10 00 00 00 00 00 00 00 00 00 00\n"
				   "00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00\n"
				   "e8 fe 6f 82 40 00 00 00 80 01 00 00 00 00 00 00\n"
				   "40 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
				   "70 73 a1 96 07 55 3c 53 54 84 a0 19 6d 22 89 91\n";
static const char enc_ref_hex[] = "b7 40 2d ae 8a d0 e6 59 0b b1 44 aa 5e bf 6c 94\n"
				  "90 0c b8 c3 7f d0 b4 c6 72 b5 44 d5 26 cd 01 20\n"
				  "b1 b3 26 c9 8f d7 f8 a8 f7 c0 79 83 d7 2a 9a 5b\n"
				  "a1 e6 21 46 33 77 9a 16 82 b1 5e 7a ad 74 69 3e\n"
				  "75 3c 18 45 99 f8 46 c0 3a e0 57 2f 0d aa 06 8e\n"
				  "4d 75 f1 82 0d 22 23 be 98 b4 c5 f9 66 cc a7 34\n"
				  "5e c7 23 c3 9f cc a3 bf 68 0a 42 4c 0b 4b f3 22\n";
#define V_REF_MAC_96 "5ec723c39fcca3bf680a424c0b4bf322"

static tw_test_crypto *v10_crypto(void)
{
	uint8_t taes[16], thmac[32];
	tw_hexvec_exact(TW_VEC_V9_AES, taes, 16);
	tw_hexvec_exact(TW_VEC_V9_HMAC, thmac, 32);
	tw_test_crypto *c = tw_test_crypto_new(taes, thmac, 32, TW_MAC_HMAC_SHA1);
	assert_non_null(c);
	return c;
}

/* Builds a packet: MAC over the first mac_len plaintext octets, placed at
 * off, then encrypt_len octets encrypted (ECB when ecb, else CBC IV 0). */
static void seal(tw_test_crypto *c, uint8_t *pkt, size_t off, size_t mac_len, size_t encrypt_len, bool ecb)
{
	assert_int_equal(tw_test_mac(c, pkt, mac_len, pkt + off), 0);
	if (ecb)
		assert_int_equal(tw_test_ecb_encrypt(c, pkt, encrypt_len), 0);
	else
		assert_int_equal(tw_test_cbc_encrypt(c, pkt, encrypt_len), 0);
}

/* The inverse of seal(): decrypt, then verify the MAC. */
static bool open_pkt(tw_test_crypto *c, uint8_t *pkt, size_t off, size_t mac_len, size_t encrypt_len, bool ecb)
{
	int rc = ecb ? tw_test_ecb_decrypt(c, pkt, encrypt_len) : tw_test_cbc_decrypt(c, pkt, encrypt_len);
	assert_int_equal(rc, 0);
	return tw_test_mac_verify(c, pkt, mac_len, pkt + off);
}

static void test_sender_packets_v10(void **state)
{
	(void)state;
	tw_test_crypto *c = v10_crypto();
	uint8_t pkt[48], plain[32];
	tw_hexvec_exact(snd_plain_hex, plain, 32);

	/* authenticated: ECB block 0, HMAC over plaintext block 0 */
	memcpy(pkt, plain, 32);
	seal(c, pkt, 32, 16, 16, true);
	tw_hexvec_expect(pkt, 48, auth_snd_hex);
	assert_true(open_pkt(c, pkt, 32, 16, 16, true));
	assert_memory_equal(pkt, plain, 32);

	/* encrypted: CBC (IV 0) over 0-31, HMAC over plaintext 0-31 */
	memcpy(pkt, plain, 32);
	seal(c, pkt, 32, 32, 32, false);
	tw_hexvec_expect(pkt, 48, enc_snd_hex);
	assert_true(open_pkt(c, pkt, 32, 32, 32, false));
	assert_memory_equal(pkt, plain, 32);

	/* A second packet with the same plaintext encrypts identically:
	 * the CBC restarts from a zero IV each time. */
	memcpy(pkt, plain, 32);
	seal(c, pkt, 32, 32, 32, false);
	tw_hexvec_expect(pkt, 48, enc_snd_hex);

	/* Block 0 is the same in both modes (ECB of one block = CBC, IV 0). */
	uint8_t a[48];
	tw_hexvec_exact(auth_snd_hex, a, 48);
	assert_memory_equal(a, pkt, 16);
	tw_test_crypto_free(c);
}

static void test_reflector_packets_v10(void **state)
{
	(void)state;
	tw_test_crypto *c = v10_crypto();
	uint8_t pkt[112], plain[96], mac[16];
	tw_hexvec_exact(ref_plain_hex, plain, 96);

	/* authenticated: ECB block 0, HMAC over 16 octets (decision 3) */
	memcpy(pkt, plain, 96);
	seal(c, pkt, 96, 16, 16, true);
	tw_hexvec_expect(pkt, 112, auth_ref_hex);
	assert_true(open_pkt(c, pkt, 96, 16, 16, true));
	assert_memory_equal(pkt, plain, 96);

	/* the 96-octet alternative printed for comparison */
	assert_int_equal(tw_test_mac(c, plain, 96, mac), 0);
	tw_hexvec_expect(mac, 16, V_REF_MAC_96);

	/* encrypted: CBC over 0-95, HMAC over 96 octets */
	memcpy(pkt, plain, 96);
	seal(c, pkt, 96, 96, 96, false);
	tw_hexvec_expect(pkt, 112, enc_ref_hex);
	assert_true(open_pkt(c, pkt, 96, 96, 96, false));
	assert_memory_equal(pkt, plain, 96);
	tw_test_crypto_free(c);
}

static void test_test_packet_tamper(void **state)
{
	(void)state;
	tw_test_crypto *c = v10_crypto();
	uint8_t pkt[112];

	tw_hexvec_exact(enc_ref_hex, pkt, 112);
	pkt[50] ^= 0x04; /* ciphertext in block 3 */
	assert_false(open_pkt(c, pkt, 96, 96, 96, false));

	tw_hexvec_exact(auth_snd_hex, pkt, 48);
	pkt[47] ^= 0x01; /* MAC */
	assert_false(open_pkt(c, pkt, 32, 16, 16, true));

	/* Authenticated mode covers only block 0 (weak by RFC design): the
	 * clear timestamp may change without the MAC noticing. */
	tw_hexvec_exact(auth_snd_hex, pkt, 48);
	pkt[20] ^= 0xff;
	assert_true(open_pkt(c, pkt, 32, 16, 16, true));

	/* Encryption calls reject partial blocks. */
	assert_int_equal(tw_test_cbc_encrypt(c, pkt, 20), -EINVAL);
	assert_int_equal(tw_test_ecb_decrypt(c, pkt, 1), -EINVAL);
	tw_test_crypto_free(c);
	tw_test_crypto_free(NULL);
}

/* ---- V11-V13: MAC helpers ---- */

static void test_stamp_hmac_v11(void **state)
{
	(void)state;
	uint8_t key[32], pkt[112], mac[16];
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	tw_wr w = tw_wr_make(pkt, sizeof(pkt));
	tw_wr_u32(&w, 7);
	tw_wr_zero(&w, 12);
	tw_wr_u32(&w, 3908988802u);
	tw_wr_u32(&w, 0x40000000u);
	tw_wr_u16(&w, 0x8001);
	tw_wr_zero(&w, 70);
	assert_int_equal(tw_wr_len(&w), 96);

	assert_int_equal(tw_hmac128(TW_MAC_HMAC_SHA256, key, 32, pkt, 96, mac), 0);
	tw_hexvec_expect(mac, 16, "71587a7f0f87a5bbd7acfa76f36b23da");

	/* STAMP context: MAC only, no AES key. */
	tw_test_crypto *c = tw_test_crypto_new(NULL, key, 32, TW_MAC_HMAC_SHA256);
	assert_non_null(c);
	assert_int_equal(tw_test_mac(c, pkt, 96, pkt + 96), 0);
	tw_hexvec_expect(pkt + 96, 16, "71587a7f0f87a5bbd7acfa76f36b23da");
	assert_true(tw_test_mac_verify(c, pkt, 96, pkt + 96));
	pkt[30] = 1; /* MBZ octets are covered in STAMP */
	assert_false(tw_test_mac_verify(c, pkt, 96, pkt + 96));
	assert_int_equal(tw_test_ecb_encrypt(c, pkt, 16), -EINVAL);
	assert_int_equal(tw_test_cbc_decrypt(c, pkt, 16), -EINVAL);
	tw_test_crypto_free(c);
}

static void test_hmac_sha1_truncation_v12(void **state)
{
	(void)state;
	static const char data[] = "what do ya want for nothing?";
	uint8_t mac[16];
	assert_int_equal(tw_hmac128(TW_MAC_HMAC_SHA1, (const uint8_t *)"Jefe", 4, (const uint8_t *)data,
				    strlen(data), mac),
			 0);
	tw_hexvec_expect(mac, 16, "effcdf6ae5eb2fa2d27416d5f184df9c");
}

static void test_start_n_hmac_v13(void **state)
{
	(void)state;
	vkeys k = load_vkeys();
	uint8_t msg[32], mac[16];
	tw_hexvec_exact("07 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01\n"
	    "c0 00 02 02 e8 fe 6f 81 80 00 00 00 de ad be ef\n",
	    msg, 32);
	assert_int_equal(tw_hmac128(TW_MAC_HMAC_SHA1, k.hmac, 32, msg, 32, mac), 0);
	tw_hexvec_expect(mac, 16, "07d0755c223a34050d4590b912f5176b");
}

/* ---- helpers ---- */

static void test_ct_equal(void **state)
{
	(void)state;
	uint8_t a[16], b[16];
	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_true(tw_ct_equal(a, b, 16));
	b[0] ^= 1;
	assert_false(tw_ct_equal(a, b, 16));
	b[0] ^= 1;
	b[15] ^= 0x80;
	assert_false(tw_ct_equal(a, b, 16));
	assert_true(tw_ct_equal(a, b, 15));
	assert_true(tw_ct_equal(a, b, 0));
}

static void test_wipe(void **state)
{
	(void)state;
	uint8_t buf[40], zero[40] = { 0 };
	memset(buf, 0xa5, sizeof(buf));
	tw_wipe(buf + 4, 32);
	assert_int_equal(buf[3], 0xa5);
	assert_memory_equal(buf + 4, zero, 32);
	assert_int_equal(buf[36], 0xa5);
	tw_wipe(NULL, 10);
	tw_wipe(buf, 0);
	assert_int_equal(buf[0], 0xa5);
}

/* ---- interop captures ---- */

#define CAP_PASSPHRASE "twamp-interop-secret"

/* Offsets of the clear-text set-up messages (control.md §3, §5.1, §5.2). */
enum {
	GR_MODES = 12, GR_CHALLENGE = 16, GR_SALT = 32, GR_COUNT = 48, GR_LEN = 64,
	SUR_KEYID = 4, SUR_TOKEN = 84, SUR_CLIENT_IV = 148, SUR_LEN = 164,
	SS_ACCEPT = 15, SS_SERVER_IV = 16, SS_ENC = 32, SS_LEN = 48,
	RTW_LEN = 112, ACC_LEN = 48, CMD32_LEN = 32,
};

/* Session secrets recovered from the clear-text set-up exchange. */
typedef struct cap_keys {
	uint8_t aes[16], hmac[32], client_iv[16], server_iv[16];
} cap_keys;

/* Greeting + Set-Up-Response: KDF, Token, and owamp's Token reproduced. */
static cap_keys cap_setup(const tw_capture *cc, const tw_pcap *p)
{
	const uint8_t *gr = p->to_client, *sur = p->to_server, *ss = p->to_client + GR_LEN;
	assert_true(p->to_client_len >= GR_LEN + SS_LEN && p->to_server_len >= SUR_LEN);
	assert_int_equal(tw_get_u32(gr + GR_MODES), 0xf);
	assert_int_equal(tw_get_u32(gr + GR_COUNT), 2048);
	assert_int_equal(tw_get_u32(sur), cc->mode);
	uint8_t keyid[80] = "testuser";
	assert_memory_equal(sur + SUR_KEYID, keyid, 80);

	uint8_t dk[16], plain[64], token[64];
	assert_int_equal(tw_kdf((const uint8_t *)CAP_PASSPHRASE, strlen(CAP_PASSPHRASE), gr + GR_SALT,
				tw_get_u32(gr + GR_COUNT), dk),
			 0);
	tw_hexvec_expect(dk, 16, cc->kdf_key);
	assert_int_equal(tw_token_decrypt(dk, sur + SUR_TOKEN, plain), 0);
	assert_memory_equal(plain, gr + GR_CHALLENGE, 16);
	tw_hexvec_expect(plain, 16, cc->challenge);
	tw_hexvec_expect(plain + 16, 16, cc->aes_key);
	tw_hexvec_expect(plain + 32, 32, cc->hmac_key);
	assert_int_equal(tw_token_encrypt(dk, plain, token), 0);
	assert_memory_equal(token, sur + SUR_TOKEN, 64);

	assert_int_equal(ss[SS_ACCEPT], 0);
	cap_keys k;
	memcpy(k.aes, plain + 16, 16);
	memcpy(k.hmac, plain + 32, 32);
	memcpy(k.client_iv, sur + SUR_CLIENT_IV, 16);
	memcpy(k.server_iv, ss + SS_SERVER_IV, 16);
	tw_hexvec_expect(k.client_iv, 16, cc->client_iv);
	tw_hexvec_expect(k.server_iv, 16, cc->server_iv);
	tw_wipe(dk, sizeof(dk));
	tw_wipe(plain, sizeof(plain));
	return k;
}

/* Decrypts and verifies a 32-octet command/ack, returns its first octet. */
static uint8_t cap_recv32(tw_ctrl_crypto *c, const uint8_t *wire, const char *mac_hex)
{
	uint8_t msg[CMD32_LEN];
	memcpy(msg, wire, sizeof(msg));
	assert_int_equal(tw_ctrl_decrypt(c, msg, sizeof(msg)), 0);
	tw_ctrl_mac_add_rx(c, msg, 16);
	assert_true(tw_ctrl_mac_verify_rx(c, msg + 16));
	tw_hexvec_expect(msg + 16, 16, mac_hex);
	return msg[0];
}

/* Client -> server stream as the server reads it, then re-encrypted by a
 * fresh client chain: owamp's client bytes reproduced exactly. */
static void cap_client_stream(const tw_capture *cc, const tw_pcap *p, const cap_keys *k)
{
	const uint8_t *wire = p->to_server + SUR_LEN;
	assert_int_equal(p->to_server_len, SUR_LEN + RTW_LEN + 2 * CMD32_LEN);
	tw_ctrl_crypto *srv = tw_ctrl_crypto_new(k->aes, k->hmac, k->server_iv, k->client_iv);
	assert_non_null(srv);
	uint8_t rtw[RTW_LEN];
	memcpy(rtw, wire, RTW_LEN);
	assert_int_equal(tw_ctrl_decrypt(srv, rtw, RTW_LEN), 0);
	tw_hexvec_expect(rtw, RTW_LEN, cc->request_clear);
	tw_ctrl_mac_add_rx(srv, rtw, 96);
	assert_true(tw_ctrl_mac_verify_rx(srv, rtw + 96));
	assert_int_equal(cap_recv32(srv, wire + RTW_LEN, cc->h_start), 2);
	assert_int_equal(cap_recv32(srv, wire + RTW_LEN + CMD32_LEN, cc->h_stop), 3);
	tw_ctrl_crypto_free(srv);

	tw_ctrl_crypto *cli = tw_ctrl_crypto_new(k->aes, k->hmac, k->client_iv, k->server_iv);
	assert_non_null(cli);
	memset(rtw + 96, 0, 16);
	tw_ctrl_mac_add_tx(cli, rtw, 96);
	assert_int_equal(tw_ctrl_mac_final_tx(cli, rtw + 96), 0);
	assert_int_equal(tw_ctrl_encrypt(cli, rtw, RTW_LEN), 0);
	assert_memory_equal(rtw, wire, RTW_LEN);
	tw_ctrl_crypto_free(cli);
}

/* Server -> client stream as the client reads it; returns the SID. */
static void cap_server_stream(const tw_capture *cc, const tw_pcap *p, tw_ctrl_crypto *cli, uint8_t sid[16])
{
	const uint8_t *wire = p->to_client + GR_LEN + SS_ENC;
	assert_int_equal(p->to_client_len, GR_LEN + SS_LEN + ACC_LEN + CMD32_LEN);
	uint8_t blk[16], acc[ACC_LEN];
	memcpy(blk, wire, 16);
	assert_int_equal(tw_ctrl_decrypt(cli, blk, 16), 0);
	assert_int_equal(blk[0], 0xee); /* Start-Time: NTP seconds of 2026 */
	tw_ctrl_mac_add_rx(cli, blk, 16);

	memcpy(acc, wire + 16, ACC_LEN);
	assert_int_equal(tw_ctrl_decrypt(cli, acc, ACC_LEN), 0);
	assert_int_equal(acc[0], 0);
	assert_int_equal(tw_get_u16(acc + 2), cc->port);
	tw_hexvec_expect(acc + 4, 16, cc->sid);
	tw_ctrl_mac_add_rx(cli, acc, 32);
	assert_true(tw_ctrl_mac_verify_rx(cli, acc + 32));
	tw_hexvec_expect(acc + 32, 16, cc->h_accept);
	assert_int_equal(cap_recv32(cli, wire + 16 + ACC_LEN, cc->h_start_ack), 0);
	memcpy(sid, acc + 4, 16);
}

/* Opens one captured test packet in place; returns its clear length. */
static size_t cap_open_test(tw_test_crypto *tc, uint32_t mode, uint8_t *pkt, size_t len, bool reflector)
{
	size_t n = reflector ? 96 : 32;
	assert_true(len >= n + 16);
	bool ok = mode == 2 ? open_pkt(tc, pkt, n, 16, 16, true) : open_pkt(tc, pkt, n, n, n, false);
	assert_true(ok);
	return n;
}

static void cap_test_packets(const tw_capture *cc, const tw_pcap *p, const uint8_t taes[16],
			     const uint8_t thmac[32])
{
	tw_test_crypto *tc = tw_test_crypto_new(taes, thmac, 32, TW_MAC_HMAC_SHA1);
	assert_non_null(tc);
	assert_int_equal(p->nudp, 20);
	for (size_t i = 0; i < p->nudp; i++) {
		const tw_pcap_udp *u = &p->udp[i];
		bool reflector = u->sport == cc->port;
		uint8_t pkt[512];
		assert_true(u->len == 112 && u->len <= sizeof(pkt));
		memcpy(pkt, u->payload, u->len);
		size_t n = cap_open_test(tc, cc->mode, pkt, u->len, reflector);
		assert_int_equal(tw_get_u32(pkt), i / 2); /* both sides count 0..9 */
		if (u->frame == 14)
			tw_hexvec_expect(pkt, n, cc->clear14);
		if (u->frame == 15)
			tw_hexvec_expect(pkt, n, cc->clear15);
	}
	tw_test_crypto_free(tc);
}

/* *state: the capture (test_capture_authenticated, _encrypted, _mixed). */
static void test_capture(void **state)
{
	const tw_capture *cc = *state;
	tw_pcap p;
	assert_int_equal(tw_capture_load(cc, TW_CAPTURES_DIR, &p), 0);
	cap_keys k = cap_setup(cc, &p);
	cap_client_stream(cc, &p, &k);

	tw_ctrl_crypto *cli = tw_ctrl_crypto_new(k.aes, k.hmac, k.client_iv, k.server_iv);
	assert_non_null(cli);
	uint8_t sid[16], taes[16], thmac[32], taes2[16], thmac2[32];
	cap_server_stream(cc, &p, cli, sid);
	assert_int_equal(tw_ctrl_test_keys(cli, sid, taes, thmac), 0);
	assert_int_equal(tw_test_keys_derive(sid, k.aes, k.hmac, taes2, thmac2), 0);
	assert_memory_equal(taes, taes2, 16);
	assert_memory_equal(thmac, thmac2, 32);
	tw_ctrl_crypto_free(cli);

	if (cc->test_aes) {
		tw_hexvec_expect(taes, 16, cc->test_aes);
		tw_hexvec_expect(thmac, 32, cc->test_hmac);
		cap_test_packets(cc, &p, taes, thmac);
	} else {
		for (size_t i = 0; i < p.nudp; i++) /* mixed: open test packets */
			assert_int_equal(p.udp[i].len, 41);
	}
	tw_wipe(&k, sizeof(k));
	tw_pcap_free(&p);
}

static void test_capture_wrong_secret(void **state)
{
	(void)state;
	tw_pcap p;
	assert_int_equal(tw_capture_load(&tw_captures[TW_CAP_ENCRYPTED], TW_CAPTURES_DIR, &p), 0);
	uint8_t dk[16], plain[64];
	static const char wrong[] = "twamp-interop-secreT";
	assert_int_equal(tw_kdf((const uint8_t *)wrong, strlen(wrong), p.to_client + GR_SALT, 2048, dk), 0);
	assert_int_equal(tw_token_decrypt(dk, p.to_server + SUR_TOKEN, plain), 0);
	assert_false(tw_ct_equal(plain, p.to_client + GR_CHALLENGE, 16));
	tw_pcap_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pbkdf2_rfc6070),
		cmocka_unit_test(test_kdf_vectors),
		cmocka_unit_test(test_kdf_edges),
		cmocka_unit_test(test_token_v4),
		cmocka_unit_test(test_ctrl_client_side),
		cmocka_unit_test(test_ctrl_server_side),
		cmocka_unit_test(test_accept_hmac_readings_v7),
		cmocka_unit_test(test_ctrl_mac_reject_and_restart),
		cmocka_unit_test(test_ctrl_bad_length_keeps_chain),
		cmocka_unit_test(test_test_keys_v9),
		cmocka_unit_test(test_sender_packets_v10),
		cmocka_unit_test(test_reflector_packets_v10),
		cmocka_unit_test(test_test_packet_tamper),
		cmocka_unit_test(test_stamp_hmac_v11),
		cmocka_unit_test(test_hmac_sha1_truncation_v12),
		cmocka_unit_test(test_start_n_hmac_v13),
		cmocka_unit_test(test_ct_equal),
		cmocka_unit_test(test_wipe),
		TW_CASE("test_capture_authenticated", test_capture, &tw_captures[TW_CAP_AUTHENTICATED]),
		TW_CASE("test_capture_encrypted", test_capture, &tw_captures[TW_CAP_ENCRYPTED]),
		TW_CASE("test_capture_mixed", test_capture, &tw_captures[TW_CAP_MIXED]),
		cmocka_unit_test(test_capture_wrong_secret),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
