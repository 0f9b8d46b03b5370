/* testutil.h - small helpers shared by the unit tests. */
#ifndef TW_TESTUTIL_H
#define TW_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Decodes hex text (spaces and newlines ignored) into out; returns the
 * number of octets or -1 on a malformed string or overflow. */
long tw_hex_decode(const char *hex, uint8_t *out, size_t cap);

/* Renders len octets as lowercase hex into out (cap >= 2 len + 1). */
const char *tw_hex_encode(const uint8_t *in, size_t len, char *out, size_t cap);

/* Reads a whole file; returns a malloc'd buffer (NUL-terminated, *len
 * excludes the NUL) or NULL. */
uint8_t *tw_read_file(const char *path, size_t *len);

#endif
