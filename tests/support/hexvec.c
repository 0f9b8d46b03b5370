/* hexvec.c - hex test vectors in cmocka tests (see hexvec.h). */
#include "hexvec.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "testutil.h"

void tw_hexvec_exact(const char *hex, uint8_t *out, size_t len)
{
	assert_int_equal(tw_hex_decode(hex, out, len), (long)len);
}

size_t tw_hexvec_decode(const char *hex, uint8_t *out, size_t cap)
{
	long n = tw_hex_decode(hex, out, cap);
	assert_true(n >= 0);
	return (size_t)n;
}

void tw_hexvec_expect(const uint8_t *got, size_t len, const char *hex)
{
	static uint8_t want[TW_HEXVEC_MAX];
	static char a[2 * TW_HEXVEC_MAX + 1], b[2 * TW_HEXVEC_MAX + 1];
	assert_true(len <= sizeof(want));
	tw_hexvec_exact(hex, want, len);
	if (memcmp(got, want, len) != 0)
		print_error("got  %s\nwant %s\n", tw_hex_encode(got, len, a, sizeof(a)),
			    tw_hex_encode(want, len, b, sizeof(b)));
	assert_memory_equal(got, want, len);
}
