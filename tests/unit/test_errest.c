/* test_errest.c - Error Estimate encodings against spec/vectors.md V2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "errest.h"

static void test_v2_encode(void **state)
{
	(void)state;
	static const struct {
		uint64_t ns;
		uint16_t word;
	} v[] = {
		{ 1000, 0x8587 },
		{ 1000000, 0x8f84 },
		{ 10000000, 0x92a4 },
		{ 1000000000, 0x9981 },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		tw_errest e = tw_errest_from_ns(v[i].ns, true, false);
		assert_int_equal(tw_errest_pack(e), v[i].word);
		/* rounding up: the encoded bound is never below the input */
		assert_true(tw_errest_to_ns(e) >= v[i].ns);
	}
}

static void test_v2_decode(void **state)
{
	(void)state;
	tw_errest e = tw_errest_unpack(0x8f84);
	assert_true(e.sync);
	assert_false(e.ptp);
	assert_int_equal(e.scale, 15);
	assert_int_equal(e.mult, 132);
	assert_int_equal(tw_errest_to_ns(e), 1007081); /* 132 * 2^-17 s, rounded up */

	e = tw_errest_unpack(0x4001);
	assert_false(e.sync);
	assert_true(e.ptp);
	assert_int_equal(tw_errest_to_ns(e), 1); /* 2^-32 s rounds up to 1 ns */

	assert_int_equal(tw_errest_pack(tw_errest_unpack(0x3fff)), 0x3fff);
	assert_true(tw_errest_to_ns(tw_errest_unpack(0x3fff)) > 500000000000000000ULL);
}

static void test_multiplier_never_zero(void **state)
{
	(void)state;
	static const uint64_t ns[] = { 0, 1, 2, 233, 999, 1000, 4294967295ULL, 1ULL << 40, UINT64_MAX };
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		uint16_t w = tw_errest_pack(tw_errest_from_ns(ns[i], false, false));
		assert_true(tw_errest_valid(w));
	}
	assert_false(tw_errest_valid(0x8000));
	assert_true(tw_errest_to_ns(tw_errest_unpack(0x0000)) == UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v2_encode),
		cmocka_unit_test(test_v2_decode),
		cmocka_unit_test(test_multiplier_never_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
