/*
 * keystore.h - shared secrets for the authenticated, encrypted and mixed
 * modes (control.md §6.1), keyed by identity (the Set-Up-Response KeyID).
 *
 * Two sources:
 *   - a perfSONAR pfs file: one "IDENTITY HEX-SECRET" per line; '#' starts a
 *     comment line; blank lines and surrounding spaces/tabs (and a CR before
 *     the LF) are ignored. IDENTITY is 1..80 printable ASCII octets without
 *     whitespace; HEX-SECRET is an even number of hex digits decoding to the
 *     secret (1..TW_KEYSTORE_SECRET_MAX octets; any octet, so binary keys
 *     such as TWAMP Light's AES || HMAC key fit).
 *   - a directory, e.g. a Kubernetes Secret volume: every regular file whose
 *     name does not start with '.' is one identity (the file name) and its
 *     raw content, minus one trailing '\n', is the passphrase (no CR or LF
 *     inside, since the newline is ambiguous: binary keys go in a pfs file,
 *     which may itself be a Secret key). Symlinks are
 *     followed (Kubernetes links each key into "..data/"); dot entries are
 *     skipped.
 *
 * Key files (and each file of a directory) that other users may read or
 * write (mode & 0007) are refused.
 *
 * Secrets live only in memory the store owns: kept out of core dumps and
 * mlock'ed where the system allows (failure to lock is ignored), wiped on
 * free. Nothing here prints or logs, and error texts never contain any part
 * of a secret.
 */
#ifndef TW_KEYSTORE_H
#define TW_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control.h" /* TW_KEYID_LEN: the KeyID field of the Set-Up-Response */

enum {
	TW_KEYSTORE_SECRET_MAX = 1024, /* longest passphrase accepted, octets */
	TW_KEYSTORE_ERR_LEN = 512,     /* suggested error buffer; longer messages are cut, NUL-terminated */
};

typedef struct tw_keystore tw_keystore;

/*
 * Loads the pfs file or directory at path. On success returns 0 and *out
 * owns a store with at least one key (free with tw_keystore_free). On
 * failure *out is NULL and, when errcap > 0, err holds a one-line message
 * "PATH[:LINE]: what is wrong (what was expected)". Returns:
 *   -ENOENT, -EACCES, ... (-errno) the path or an entry cannot be opened/read
 *   -EPERM   a key file is readable or writable by others (message gives the fix)
 *   -EINVAL  malformed content, an invalid identity, a duplicate identity,
 *            no keys at all, or not a regular file/directory
 *   -EFBIG   a pfs file over 1 MiB, a directory with over 4096 entries
 *   -ENOMEM
 */
int tw_keystore_load(const char *path, tw_keystore **out, char *err, size_t errcap);

/*
 * Parses pfs content from memory, exactly as tw_keystore_load parses a file
 * but without the permission check (that is on the file, not the bytes).
 * name only labels error messages. Same results as tw_keystore_load. Used
 * by the loader and the fuzz target.
 */
int tw_keystore_parse(const char *name, const void *buf, size_t len, tw_keystore **out, char *err,
		      size_t errcap);

void tw_keystore_free(tw_keystore *ks); /* NULL-safe; wipes every secret */

size_t tw_keystore_count(const tw_keystore *ks); /* 0 for NULL */

/*
 * Finds identity's passphrase. On success returns true and sets *secret and
 * *len to a borrowed buffer (not NUL-terminated) valid until the store is
 * freed; the caller must not log or copy it beyond its use (KDF input).
 * Returns false (outputs untouched) for an unknown identity or NULL args.
 */
bool tw_keystore_lookup(const tw_keystore *ks, const char *identity, const uint8_t **secret, size_t *len);

/* The same, keyed by a raw 80-octet KeyID field (see tw_keystore_keyid_to_str);
 * false also when the field is not a valid identity. */
bool tw_keystore_lookup_keyid(const tw_keystore *ks, const uint8_t keyid[TW_KEYID_LEN], const uint8_t **secret,
			      size_t *len);

/*
 * Converts a received KeyID field (identity, then zero padding; no
 * terminator when the identity is 80 octets) into a C string in out.
 * Returns the identity's length (1..80), or -EINVAL when the field is empty,
 * holds an octet that is not printable ASCII (0x21..0x7e) before the
 * padding, or a non-zero octet inside the padding. out is "" on failure,
 * so it is always safe to log.
 */
int tw_keystore_keyid_to_str(const uint8_t keyid[TW_KEYID_LEN], char out[TW_KEYID_LEN + 1]);

/* Builds the zero-padded KeyID field for identity. Returns 0, or -EINVAL
 * (field zeroed) when identity is not 1..80 printable ASCII octets. */
int tw_keystore_str_to_keyid(const char *identity, uint8_t keyid[TW_KEYID_LEN]);

#endif /* TW_KEYSTORE_H */
