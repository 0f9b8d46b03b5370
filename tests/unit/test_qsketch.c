/* test_qsketch.c - the log-linear quantile sketch against exact
 * nearest-rank quantiles of sorted random data (fixed seeds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "qsketch.h"

#define N 20000

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic across platforms, unlike rand() */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static const double qs[] = { 0.0, 0.001, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0 };

static void check_against_sorted(int64_t *v, size_t n)
{
	tw_qsketch *s = tw_qsketch_new();
	assert_non_null(s);
	int64_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		tw_qsketch_add(s, v[i]);
		sum += v[i];
	}
	qsort(v, n, sizeof(v[0]), cmp_i64);
	assert_int_equal(tw_qsketch_count(s), n);
	assert_true(tw_qsketch_min(s) == v[0]);
	assert_true(tw_qsketch_max(s) == v[n - 1]);
	assert_true(tw_qsketch_sum(s) == sum);
	for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		size_t rank = (size_t)ceil(qs[k] * (double)n);
		if (rank < 1)
			rank = 1;
		int64_t exact = v[rank - 1], est;
		assert_int_equal(tw_qsketch_quantile(s, qs[k], &est), 0);
		double err = fabs((double)est - (double)exact);
		if (llabs(exact) < 128)
			assert_true(err == 0.0);
		else
			assert_true(err <= fabs((double)exact) * TW_QSKETCH_REL_ERROR);
		assert_true(TW_QSKETCH_REL_ERROR < 0.01);
	}
	tw_qsketch_free(s);
}

static void test_uniform_small(void **state)
{
	(void)state;
	static int64_t v[N];
	rng_state = 1;
	for (size_t i = 0; i < N; i++)
		v[i] = (int64_t)(rng() % 300); /* around the exact/linear boundary */
	check_against_sorted(v, N);
}

static void test_log_spread_delays(void **state)
{
	(void)state;
	static int64_t v[N];
	rng_state = 0x9e3779b97f4a7c15u;
	for (size_t i = 0; i < N; i++) {
		unsigned shift = (unsigned)(rng() % 34); /* 1 ns .. ~17 s */
		v[i] = (int64_t)(rng() % (UINT64_C(1) << shift)) + 1;
	}
	check_against_sorted(v, N);
}

static void test_mixed_sign(void **state)
{
	(void)state;
	static int64_t v[N];
	rng_state = 12345;
	for (size_t i = 0; i < N; i++)
		v[i] = (int64_t)(rng() % 20000001) - 10000000; /* IPDV-like, +-10 ms */
	check_against_sorted(v, N);
}

static void test_few_samples(void **state)
{
	(void)state;
	int64_t v[] = { 1234567, 7654321, 42 };
	check_against_sorted(v, 3);
	int64_t one[] = { -987654321 };
	check_against_sorted(one, 1);
}

static void test_edges(void **state)
{
	(void)state;
	tw_qsketch *s = tw_qsketch_new();
	int64_t q;
	assert_int_equal(tw_qsketch_quantile(s, 0.5, &q), -ENODATA);
	assert_true(tw_qsketch_min(s) == 0 && tw_qsketch_max(s) == 0);
	tw_qsketch_add(s, 5);
	assert_int_equal(tw_qsketch_quantile(s, 1.01, &q), -EINVAL);
	assert_int_equal(tw_qsketch_quantile(s, NAN, &q), -EINVAL);
	/* beyond the sketch's range: extremes stay exact, the middle is clamped */
	tw_qsketch_add(s, INT64_MAX);
	tw_qsketch_add(s, INT64_MAX - 1);
	tw_qsketch_add(s, INT64_MIN);
	assert_int_equal(tw_qsketch_quantile(s, 1.0, &q), 0);
	assert_true(q == INT64_MAX);
	assert_int_equal(tw_qsketch_quantile(s, 0.0, &q), 0);
	assert_true(q == INT64_MIN);
	assert_int_equal(tw_qsketch_quantile(s, 0.75, &q), 0);
	assert_true(q >= 5 && q <= INT64_MAX);
	assert_int_equal(tw_qsketch_count(s), 4);
	tw_qsketch_reset(s);
	assert_int_equal(tw_qsketch_count(s), 0);
	assert_int_equal(tw_qsketch_quantile(s, 0.5, &q), -ENODATA);
	tw_qsketch_free(s);
	tw_qsketch_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uniform_small),
		cmocka_unit_test(test_log_spread_delays),
		cmocka_unit_test(test_mixed_sign),
		cmocka_unit_test(test_few_samples),
		cmocka_unit_test(test_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
