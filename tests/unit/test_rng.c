/* test_rng.c - CSPRNG wrapper and the seeded PRNG used for padding/schedules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rng.h"

static void test_secure_fills(void **state)
{
	(void)state;
	uint8_t a[64] = { 0 }, b[64] = { 0 }, zero[64] = { 0 };
	assert_int_equal(tw_rng_secure(a, sizeof(a)), 0);
	assert_int_equal(tw_rng_secure(b, sizeof(b)), 0);
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_memory_not_equal(a, b, sizeof(a));
}

static void test_prng_deterministic(void **state)
{
	(void)state;
	tw_prng r1, r2;
	tw_prng_seed(&r1, 42);
	tw_prng_seed(&r2, 42);
	uint8_t a[37], b[37];
	tw_prng_fill(&r1, a, sizeof(a));
	tw_prng_fill(&r2, b, sizeof(b));
	assert_memory_equal(a, b, sizeof(a));
	tw_prng_seed(&r2, 43);
	tw_prng_fill(&r2, b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
}

static void test_exponential_mean(void **state)
{
	(void)state;
	tw_prng r;
	tw_prng_seed(&r, 7);
	const int64_t mean = 1000000; /* 1 ms */
	double sum = 0;
	int64_t max = 0;
	enum { N = 200000 };
	for (int i = 0; i < N; i++) {
		int64_t v = tw_prng_exponential(&r, mean);
		assert_true(v >= 0 && v <= 16 * mean);
		sum += (double)v;
		if (v > max)
			max = v;
	}
	double m = sum / N;
	assert_true(m > 0.98 * (double)mean && m < 1.02 * (double)mean);
	assert_true(max > 5 * mean); /* the tail is really there */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secure_fills),
		cmocka_unit_test(test_prng_deterministic),
		cmocka_unit_test(test_exponential_mean),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
