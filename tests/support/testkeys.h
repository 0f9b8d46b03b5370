/*
 * testkeys.h - the fixed test-packet keys of spec/vectors.md as crypto
 * contexts, shared by unit tests (through cmocka setup/teardown) and fuzz
 * targets. No cmocka here: fuzz targets link it too.
 */
#ifndef TW_TESTKEYS_H
#define TW_TESTKEYS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

/* A new context with the STAMP test key: HMAC-SHA-256 key 00 01 .. 1f
 * (32 octets), no AES key. NULL when OpenSSL fails. The caller frees it
 * with tw_test_crypto_free. */
tw_test_crypto *tw_testkeys_stamp(void);

/* The same key as one process-wide context, made on first use and never
 * freed (for fuzz targets); aborts when it cannot be made. */
tw_test_crypto *tw_testkeys_stamp_shared(void);

/* A new context with the V9 TWAMP test keys (AES-128 and HMAC-SHA-1 key
 * derived in vectors.md V9). NULL on failure; freed by the caller. */
tw_test_crypto *tw_testkeys_v9(void);

/* cmocka fixtures: *state becomes a new STAMP or V9 context (setup
 * returns -1 when it cannot be made); the teardown frees *state. */
int tw_testkeys_setup_stamp(void **state);
int tw_testkeys_setup_v9(void **state);
int tw_testkeys_teardown(void **state);

/* A cmocka test entry running f with a fresh STAMP / V9 context in *state
 * (expands to cmocka_unit_test_setup_teardown; cmocka files only). */
#define TW_TESTKEYS_STAMP_TEST(f) cmocka_unit_test_setup_teardown(f, tw_testkeys_setup_stamp, tw_testkeys_teardown)
#define TW_TESTKEYS_V9_TEST(f) cmocka_unit_test_setup_teardown(f, tw_testkeys_setup_v9, tw_testkeys_teardown)

/* Rewrites the value of the first well-sized HMAC TLV in area[0..len) (as
 * tw_tlv_next walks it) so it verifies under c for the 4-octet sequence
 * number seq. Returns 1 when one was signed, 0 when the walk found none,
 * or -1 when the MAC could not be computed. */
int tw_testkeys_sign_hmac_tlv(tw_test_crypto *c, const uint8_t seq[4], uint8_t *area, size_t len);

#endif
