/*
 * crypto.h - TWAMP/STAMP cryptography through OpenSSL EVP only
 * (spec: control.md §6, test.md §5, §9.3). No hand-written primitives.
 *
 * Contexts are allocated once (connection or session set-up) and reused
 * for every packet without further allocation. Every key buffer is wiped
 * (OPENSSL_cleanse) when a context is freed; callers wipe their own copies
 * with tw_wipe() as soon as they are no longer needed.
 *
 * Functions return 0 on success or a negative errno (-EIO for an OpenSSL
 * failure, -EINVAL for bad arguments); verification functions return true
 * only for a matching MAC and compare in constant time.
 */
#ifndef TW_CRYPTO_H
#define TW_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	TW_AES_KEY_LEN = 16,
	TW_HMAC_KEY_LEN = 32,
	TW_MAC_LEN = 16, /* HMAC-SHA1-128 (TWAMP) and HMAC-SHA256-128 (STAMP) */
	TW_KDF_MAX_COUNT_DEFAULT = 32768,
};

/* ---- key derivation and Token (control.md §6.1, §6.2) ---- */

/* dk = PBKDF2-HMAC-SHA1(secret, salt, count, 16). */
int tw_kdf(const uint8_t *secret, size_t secret_len, const uint8_t salt[16], uint32_t count,
	   uint8_t dk[TW_AES_KEY_LEN]);

/* Token = AES-128-CBC(dk, IV 0, Challenge || AES key || HMAC key), and the
 * inverse. Both 64 octets, no padding. */
int tw_token_encrypt(const uint8_t dk[16], const uint8_t plain[64], uint8_t token[64]);
int tw_token_decrypt(const uint8_t dk[16], const uint8_t token[64], uint8_t plain[64]);

/* ---- control connection stream (control.md §6.3, §6.4) ---- */

/* One per control connection, holding both CBC chains (one per direction,
 * never reset between messages) and the HMAC session key. "tx" is what this
 * side sends, "rx" what it receives. */
typedef struct tw_ctrl_crypto tw_ctrl_crypto;

tw_ctrl_crypto *tw_ctrl_crypto_new(const uint8_t aes_key[TW_AES_KEY_LEN],
				   const uint8_t hmac_key[TW_HMAC_KEY_LEN],
				   const uint8_t tx_iv[16], const uint8_t rx_iv[16]);
void tw_ctrl_crypto_free(tw_ctrl_crypto *c); /* NULL-safe, wipes keys */

/* In-place AES-128-CBC continuing the direction's chain; len % 16 == 0. */
int tw_ctrl_encrypt(tw_ctrl_crypto *c, uint8_t *buf, size_t len);
int tw_ctrl_decrypt(tw_ctrl_crypto *c, uint8_t *buf, size_t len);

/* HMAC coverage is "every plaintext octet sent in that direction since the
 * previous HMAC field", so input accumulates per direction: add plaintext,
 * then finish (which restarts the accumulation). */
void tw_ctrl_mac_add_tx(tw_ctrl_crypto *c, const uint8_t *data, size_t len);
void tw_ctrl_mac_add_rx(tw_ctrl_crypto *c, const uint8_t *data, size_t len);
int tw_ctrl_mac_final_tx(tw_ctrl_crypto *c, uint8_t mac[TW_MAC_LEN]);
/* Finishes the rx accumulation and compares with mac in constant time. */
bool tw_ctrl_mac_verify_rx(tw_ctrl_crypto *c, const uint8_t mac[TW_MAC_LEN]);

/* Per-session test keys (control.md §6.5):
 *   TestAESKey  = AES-128-ECB(key = SID, AES session key)
 *   TestHMACKey = AES-128-CBC(key = SID, IV 0, HMAC session key) */
int tw_ctrl_test_keys(const tw_ctrl_crypto *c, const uint8_t sid[16],
		      uint8_t test_aes[TW_AES_KEY_LEN], uint8_t test_hmac[TW_HMAC_KEY_LEN]);
int tw_test_keys_derive(const uint8_t sid[16], const uint8_t aes_key[16], const uint8_t hmac_key[32],
			uint8_t test_aes[TW_AES_KEY_LEN], uint8_t test_hmac[TW_HMAC_KEY_LEN]);

/* ---- test packets (test.md §5, §9.3) ---- */

typedef enum tw_mac_alg {
	TW_MAC_HMAC_SHA1 = 1,   /* TWAMP, truncated to 16 octets */
	TW_MAC_HMAC_SHA256 = 2, /* STAMP, truncated to 16 octets */
} tw_mac_alg;

/* Reusable per-session context for test packets: AES-ECB/CBC (IV 0 for every
 * packet) with the test AES key (may be NULL for a MAC-only STAMP context),
 * and an HMAC with the test HMAC key (key_len octets). */
typedef struct tw_test_crypto tw_test_crypto;

tw_test_crypto *tw_test_crypto_new(const uint8_t *aes_key, const uint8_t *hmac_key, size_t hmac_key_len,
				   tw_mac_alg alg);
void tw_test_crypto_free(tw_test_crypto *c); /* NULL-safe, wipes keys */

/* In place; len % 16 == 0; CBC always restarts from a zero IV. */
int tw_test_ecb_encrypt(tw_test_crypto *c, uint8_t *buf, size_t len);
int tw_test_ecb_decrypt(tw_test_crypto *c, uint8_t *buf, size_t len);
int tw_test_cbc_encrypt(tw_test_crypto *c, uint8_t *buf, size_t len);
int tw_test_cbc_decrypt(tw_test_crypto *c, uint8_t *buf, size_t len);
int tw_test_mac(tw_test_crypto *c, const uint8_t *data, size_t len, uint8_t mac[TW_MAC_LEN]);
bool tw_test_mac_verify(tw_test_crypto *c, const uint8_t *data, size_t len, const uint8_t mac[TW_MAC_LEN]);
/* The same MAC over the concatenation a || b without copying either part
 * (the STAMP HMAC TLV covers the Sequence Number || the preceding TLVs,
 * which are not adjacent in the packet). Either part may be empty. */
int tw_test_mac2(tw_test_crypto *c, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
		 uint8_t mac[TW_MAC_LEN]);
bool tw_test_mac2_verify(tw_test_crypto *c, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
			 const uint8_t mac[TW_MAC_LEN]);

/* ---- helpers ---- */

/* One-shot truncated HMAC (first 16 octets of HMAC-SHA1 / HMAC-SHA256). */
int tw_hmac128(tw_mac_alg alg, const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
	       uint8_t mac[TW_MAC_LEN]);
bool tw_ct_equal(const void *a, const void *b, size_t len);
void tw_wipe(void *p, size_t len);

#endif /* TW_CRYPTO_H */
