/* testkeys.c - fixed test-packet keys for tests and fuzz targets (see
 * testkeys.h). */
#include "testkeys.h"

#include <stdlib.h>

#include "specvec.h"
#include "testutil.h"
#include "tlv.h"

tw_test_crypto *tw_testkeys_stamp(void)
{
	uint8_t key[32];
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	return tw_test_crypto_new(NULL, key, sizeof(key), TW_MAC_HMAC_SHA256);
}

tw_test_crypto *tw_testkeys_stamp_shared(void)
{
	static tw_test_crypto *c;
	if (!c)
		c = tw_testkeys_stamp();
	if (!c)
		abort();
	return c;
}

tw_test_crypto *tw_testkeys_v9(void)
{
	uint8_t aes[16], hmac[32];
	if (tw_hex_decode(TW_VEC_V9_AES, aes, sizeof(aes)) != (long)sizeof(aes) ||
	    tw_hex_decode(TW_VEC_V9_HMAC, hmac, sizeof(hmac)) != (long)sizeof(hmac))
		return NULL;
	return tw_test_crypto_new(aes, hmac, sizeof(hmac), TW_MAC_HMAC_SHA1);
}

int tw_testkeys_setup_stamp(void **state)
{
	*state = tw_testkeys_stamp();
	return *state ? 0 : -1;
}

int tw_testkeys_setup_v9(void **state)
{
	*state = tw_testkeys_v9();
	return *state ? 0 : -1;
}

int tw_testkeys_teardown(void **state)
{
	tw_test_crypto_free(*state);
	return 0;
}

int tw_testkeys_sign_hmac_tlv(tw_test_crypto *c, const uint8_t seq[4], uint8_t *area, size_t len)
{
	tw_tlv_iter it;
	tw_tlv t;
	tw_tlv_iter_init(&it, area, len);
	while (tw_tlv_next(&it, &t) == 1) {
		if (t.type == TW_TLV_HMAC && t.len == TW_TLV_HMAC_LEN)
			return tw_test_mac2(c, seq, 4, area, t.off, area + t.off + TW_TLV_HDR_LEN) == 0 ? 1 : -1;
	}
	return 0;
}
