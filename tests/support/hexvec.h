/*
 * hexvec.h - test vectors written as hex text (spec/vectors.md, the
 * capture README): decoding them and comparing bytes against them inside
 * cmocka tests. Spaces and newlines in the text are ignored; malformed
 * text, or text of the wrong length, fails the test.
 */
#ifndef TW_HEXVEC_H
#define TW_HEXVEC_H

#include <stddef.h>
#include <stdint.h>

/* The longest vector tw_hexvec_expect compares, in octets. */
#define TW_HEXVEC_MAX 4096

/* Decodes hex into out, which it must fill with exactly len octets. */
void tw_hexvec_exact(const char *hex, uint8_t *out, size_t len);

/* Decodes hex into out (cap octets at most); returns how many it wrote. */
size_t tw_hexvec_decode(const char *hex, uint8_t *out, size_t cap);

/* Requires got[0..len) to be exactly the len octets hex spells (len at
 * most TW_HEXVEC_MAX); on a mismatch prints both sides in hex first. */
void tw_hexvec_expect(const uint8_t *got, size_t len, const char *hex);

#endif
