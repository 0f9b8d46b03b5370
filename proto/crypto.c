/* crypto.c - TWAMP/STAMP cryptography through OpenSSL 3 EVP (see crypto.h). */
#include "crypto.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

static const uint8_t zero_iv[16];

struct tw_ctrl_crypto {
	EVP_CIPHER_CTX *tx; /* CBC chain of what we send */
	EVP_CIPHER_CTX *rx; /* CBC chain of what we receive */
	EVP_MAC_CTX *mac_tx;
	EVP_MAC_CTX *mac_rx;
	uint8_t aes_key[TW_AES_KEY_LEN];
	uint8_t hmac_key[TW_HMAC_KEY_LEN];
};

struct tw_test_crypto {
	EVP_CIPHER_CTX *ecb_enc, *ecb_dec, *cbc_enc, *cbc_dec; /* NULL without an AES key */
	EVP_MAC_CTX *mac;
};

/* ---- small helpers ---- */

bool tw_ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void tw_wipe(void *p, size_t len)
{
	if (p && len)
		OPENSSL_cleanse(p, len);
}

static const char *digest_name(tw_mac_alg alg)
{
	return alg == TW_MAC_HMAC_SHA256 ? "SHA256" : "SHA1";
}

/* A keyed HMAC context; EVP_MAC_init(ctx, NULL, 0, NULL) later restarts it
 * with the same key without allocating. */
static EVP_MAC_CTX *mac_new(tw_mac_alg alg, const uint8_t *key, size_t key_len)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		return NULL;
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac); /* the context holds its own reference */
	if (!ctx)
		return NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)(uintptr_t)digest_name(alg), 0),
		OSSL_PARAM_construct_end(),
	};
	if (!EVP_MAC_init(ctx, key, key_len, params)) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Finishes the MAC into a 16-octet truncation and restarts the context. */
static int mac_final16(EVP_MAC_CTX *ctx, uint8_t out[TW_MAC_LEN])
{
	uint8_t full[EVP_MAX_MD_SIZE];
	size_t n = 0;
	int ok = EVP_MAC_final(ctx, full, &n, sizeof(full)) && n >= TW_MAC_LEN;
	if (ok)
		memcpy(out, full, TW_MAC_LEN);
	tw_wipe(full, sizeof(full));
	ok = EVP_MAC_init(ctx, NULL, 0, NULL) && ok;
	return ok ? 0 : -EIO;
}

static EVP_CIPHER_CTX *cipher_new(const EVP_CIPHER *cipher, const uint8_t *key, const uint8_t *iv, int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return NULL;
	if (!EVP_CipherInit_ex(ctx, cipher, NULL, key, iv, enc) || !EVP_CIPHER_CTX_set_padding(ctx, 0)) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* In-place update of whole blocks through an initialised context. */
static int cipher_update(EVP_CIPHER_CTX *ctx, uint8_t *buf, size_t len)
{
	if (!ctx || len % 16 != 0 || len > INT_MAX)
		return -EINVAL;
	int out = 0;
	if (!EVP_CipherUpdate(ctx, buf, &out, buf, (int)len) || (size_t)out != len)
		return -EIO;
	return 0;
}

static int cipher_oneshot(const EVP_CIPHER *cipher, const uint8_t *key, const uint8_t *iv, int enc,
			  const uint8_t *in, uint8_t *out, size_t len)
{
	EVP_CIPHER_CTX *ctx = cipher_new(cipher, key, iv, enc);
	if (!ctx)
		return -EIO;
	if (in != out)
		memmove(out, in, len);
	int rc = cipher_update(ctx, out, len);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* ---- KDF and Token ---- */

int tw_kdf(const uint8_t *secret, size_t secret_len, const uint8_t salt[16], uint32_t count,
	   uint8_t dk[TW_AES_KEY_LEN])
{
	if (count == 0 || count > INT_MAX || secret_len > INT_MAX)
		return -EINVAL;
	const char *pw = secret_len ? (const char *)secret : "";
	if (!PKCS5_PBKDF2_HMAC(pw, (int)secret_len, salt, 16, (int)count, EVP_sha1(), TW_AES_KEY_LEN, dk))
		return -EIO;
	return 0;
}

int tw_token_encrypt(const uint8_t dk[16], const uint8_t plain[64], uint8_t token[64])
{
	return cipher_oneshot(EVP_aes_128_cbc(), dk, zero_iv, 1, plain, token, 64);
}

int tw_token_decrypt(const uint8_t dk[16], const uint8_t token[64], uint8_t plain[64])
{
	return cipher_oneshot(EVP_aes_128_cbc(), dk, zero_iv, 0, token, plain, 64);
}

/* ---- control stream ---- */

tw_ctrl_crypto *tw_ctrl_crypto_new(const uint8_t aes_key[TW_AES_KEY_LEN], const uint8_t hmac_key[TW_HMAC_KEY_LEN],
				   const uint8_t tx_iv[16], const uint8_t rx_iv[16])
{
	tw_ctrl_crypto *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	memcpy(c->aes_key, aes_key, TW_AES_KEY_LEN);
	memcpy(c->hmac_key, hmac_key, TW_HMAC_KEY_LEN);
	c->tx = cipher_new(EVP_aes_128_cbc(), aes_key, tx_iv, 1);
	c->rx = cipher_new(EVP_aes_128_cbc(), aes_key, rx_iv, 0);
	c->mac_tx = mac_new(TW_MAC_HMAC_SHA1, hmac_key, TW_HMAC_KEY_LEN);
	c->mac_rx = mac_new(TW_MAC_HMAC_SHA1, hmac_key, TW_HMAC_KEY_LEN);
	if (!c->tx || !c->rx || !c->mac_tx || !c->mac_rx) {
		tw_ctrl_crypto_free(c);
		return NULL;
	}
	return c;
}

void tw_ctrl_crypto_free(tw_ctrl_crypto *c)
{
	if (!c)
		return;
	EVP_CIPHER_CTX_free(c->tx);
	EVP_CIPHER_CTX_free(c->rx);
	EVP_MAC_CTX_free(c->mac_tx);
	EVP_MAC_CTX_free(c->mac_rx);
	tw_wipe(c, sizeof(*c));
	free(c);
}

int tw_ctrl_encrypt(tw_ctrl_crypto *c, uint8_t *buf, size_t len)
{
	return cipher_update(c->tx, buf, len);
}

int tw_ctrl_decrypt(tw_ctrl_crypto *c, uint8_t *buf, size_t len)
{
	return cipher_update(c->rx, buf, len);
}

void tw_ctrl_mac_add_tx(tw_ctrl_crypto *c, const uint8_t *data, size_t len)
{
	EVP_MAC_update(c->mac_tx, data, len);
}

void tw_ctrl_mac_add_rx(tw_ctrl_crypto *c, const uint8_t *data, size_t len)
{
	EVP_MAC_update(c->mac_rx, data, len);
}

int tw_ctrl_mac_final_tx(tw_ctrl_crypto *c, uint8_t mac[TW_MAC_LEN])
{
	return mac_final16(c->mac_tx, mac);
}

bool tw_ctrl_mac_verify_rx(tw_ctrl_crypto *c, const uint8_t mac[TW_MAC_LEN])
{
	uint8_t want[TW_MAC_LEN];
	bool ok = mac_final16(c->mac_rx, want) == 0 && tw_ct_equal(want, mac, TW_MAC_LEN);
	tw_wipe(want, sizeof(want));
	return ok;
}

int tw_test_keys_derive(const uint8_t sid[16], const uint8_t aes_key[16], const uint8_t hmac_key[32],
			uint8_t test_aes[TW_AES_KEY_LEN], uint8_t test_hmac[TW_HMAC_KEY_LEN])
{
	int rc = cipher_oneshot(EVP_aes_128_ecb(), sid, NULL, 1, aes_key, test_aes, TW_AES_KEY_LEN);
	if (rc == 0)
		rc = cipher_oneshot(EVP_aes_128_cbc(), sid, zero_iv, 1, hmac_key, test_hmac, TW_HMAC_KEY_LEN);
	return rc;
}

int tw_ctrl_test_keys(const tw_ctrl_crypto *c, const uint8_t sid[16], uint8_t test_aes[TW_AES_KEY_LEN],
		      uint8_t test_hmac[TW_HMAC_KEY_LEN])
{
	return tw_test_keys_derive(sid, c->aes_key, c->hmac_key, test_aes, test_hmac);
}

/* ---- test packets ---- */

tw_test_crypto *tw_test_crypto_new(const uint8_t *aes_key, const uint8_t *hmac_key, size_t hmac_key_len,
				   tw_mac_alg alg)
{
	tw_test_crypto *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->mac = mac_new(alg, hmac_key, hmac_key_len);
	if (!c->mac)
		goto fail;
	if (aes_key) {
		c->ecb_enc = cipher_new(EVP_aes_128_ecb(), aes_key, NULL, 1);
		c->ecb_dec = cipher_new(EVP_aes_128_ecb(), aes_key, NULL, 0);
		c->cbc_enc = cipher_new(EVP_aes_128_cbc(), aes_key, zero_iv, 1);
		c->cbc_dec = cipher_new(EVP_aes_128_cbc(), aes_key, zero_iv, 0);
		if (!c->ecb_enc || !c->ecb_dec || !c->cbc_enc || !c->cbc_dec)
			goto fail;
	}
	return c;
fail:
	tw_test_crypto_free(c);
	return NULL;
}

void tw_test_crypto_free(tw_test_crypto *c)
{
	if (!c)
		return;
	EVP_CIPHER_CTX_free(c->ecb_enc);
	EVP_CIPHER_CTX_free(c->ecb_dec);
	EVP_CIPHER_CTX_free(c->cbc_enc);
	EVP_CIPHER_CTX_free(c->cbc_dec);
	EVP_MAC_CTX_free(c->mac);
	free(c);
}

int tw_test_ecb_encrypt(tw_test_crypto *c, uint8_t *buf, size_t len)
{
	return cipher_update(c->ecb_enc, buf, len);
}

int tw_test_ecb_decrypt(tw_test_crypto *c, uint8_t *buf, size_t len)
{
	return cipher_update(c->ecb_dec, buf, len);
}

/* Every test packet is its own CBC message starting from a zero IV. */
static int cbc_restart(EVP_CIPHER_CTX *ctx, uint8_t *buf, size_t len)
{
	if (!ctx)
		return -EINVAL;
	if (!EVP_CipherInit_ex(ctx, NULL, NULL, NULL, zero_iv, -1))
		return -EIO;
	return cipher_update(ctx, buf, len);
}

int tw_test_cbc_encrypt(tw_test_crypto *c, uint8_t *buf, size_t len)
{
	return cbc_restart(c->cbc_enc, buf, len);
}

int tw_test_cbc_decrypt(tw_test_crypto *c, uint8_t *buf, size_t len)
{
	return cbc_restart(c->cbc_dec, buf, len);
}

int tw_test_mac2(tw_test_crypto *c, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
		 uint8_t mac[TW_MAC_LEN])
{
	if ((alen && !EVP_MAC_update(c->mac, a, alen)) || (blen && !EVP_MAC_update(c->mac, b, blen))) {
		(void)EVP_MAC_init(c->mac, NULL, 0, NULL); /* drop the partial input */
		return -EIO;
	}
	return mac_final16(c->mac, mac);
}

bool tw_test_mac2_verify(tw_test_crypto *c, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
			 const uint8_t mac[TW_MAC_LEN])
{
	uint8_t want[TW_MAC_LEN];
	bool ok = tw_test_mac2(c, a, alen, b, blen, want) == 0 && tw_ct_equal(want, mac, TW_MAC_LEN);
	tw_wipe(want, sizeof(want));
	return ok;
}

/* The one-part forms are the two-part ones with an empty second part. */
int tw_test_mac(tw_test_crypto *c, const uint8_t *data, size_t len, uint8_t mac[TW_MAC_LEN])
{
	return tw_test_mac2(c, data, len, NULL, 0, mac);
}

bool tw_test_mac_verify(tw_test_crypto *c, const uint8_t *data, size_t len, const uint8_t mac[TW_MAC_LEN])
{
	return tw_test_mac2_verify(c, data, len, NULL, 0, mac);
}

int tw_hmac128(tw_mac_alg alg, const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
	       uint8_t mac[TW_MAC_LEN])
{
	EVP_MAC_CTX *ctx = mac_new(alg, key, key_len);
	if (!ctx)
		return -EIO;
	int rc = EVP_MAC_update(ctx, data, len) ? mac_final16(ctx, mac) : -EIO;
	EVP_MAC_CTX_free(ctx);
	return rc;
}
