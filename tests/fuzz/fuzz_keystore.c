/*
 * fuzz_keystore.c - arbitrary bytes as a pfs key file (tw_keystore_parse),
 * plus the first 80 octets as a received KeyID field.
 *
 * Properties checked beyond "no crash": success means a non-empty store
 * and an empty error text; failure means no store and a non-empty,
 * terminated error text; a KeyID field that converts to a string converts
 * back to the same 80 octets.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keystore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Looks up the input's first token, which is often a stored identity, and
 * reads every octet of the secret so the sanitizers check its bounds. */
static void lookup_first_token(const tw_keystore *ks, const uint8_t *data, size_t size)
{
	char id[TW_KEYID_LEN + 1];
	size_t i = 0, n = 0;
	while (i < size && (data[i] == ' ' || data[i] == '\t'))
		i++;
	while (i < size && n < TW_KEYID_LEN && data[i] != ' ' && data[i] != '\t' && data[i] != '\n')
		id[n++] = (char)data[i++];
	id[n] = '\0';
	const uint8_t *s = NULL;
	size_t len = 0;
	if (!tw_keystore_lookup(ks, id, &s, &len))
		return;
	if (len == 0 || len > TW_KEYSTORE_SECRET_MAX)
		abort();
	unsigned acc = 0; /* hex secrets may hold any octet, CR and LF too */
	for (size_t k = 0; k < len; k++)
		acc += s[k];
	(void)acc;
}

static void check_keyid(const uint8_t *data, size_t size)
{
	if (size < TW_KEYID_LEN)
		return;
	char id[TW_KEYID_LEN + 1];
	int n = tw_keystore_keyid_to_str(data, id);
	if (n < 0) {
		if (id[0] != '\0')
			abort();
		return;
	}
	uint8_t back[TW_KEYID_LEN];
	if ((size_t)n != strlen(id) || tw_keystore_str_to_keyid(id, back) != 0 || memcmp(back, data, TW_KEYID_LEN) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tw_keystore *ks = NULL;
	char err[TW_KEYSTORE_ERR_LEN];
	memset(err, 'x', sizeof(err));
	int rc = tw_keystore_parse("fuzz.pfs", data, size, &ks, err, sizeof(err));
	if (!memchr(err, '\0', sizeof(err)))
		abort();
	if (rc == 0) {
		if (!ks || tw_keystore_count(ks) == 0 || err[0] != '\0')
			abort();
		lookup_first_token(ks, data, size);
	} else if (ks || err[0] == '\0' || rc >= 0) {
		abort();
	}
	tw_keystore_free(ks);
	check_keyid(data, size);
	return 0;
}
