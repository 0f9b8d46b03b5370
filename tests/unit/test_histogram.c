/* test_histogram.c - fixed-memory histograms: bounds validation, presets,
 * "le" boundaries, cumulative buckets, negative values, sums, quantiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "histogram.h"

#define US 1000LL
#define MS 1000000LL

static void test_bounds_validation(void **state)
{
	(void)state;
	tw_hist_bounds b = { 0 };
	static const int64_t unsorted[] = { 10, 30, 20 };
	static const int64_t dup[] = { 10, 20, 20 };
	int64_t many[TW_HIST_MAX_BOUNDS + 1];
	for (int i = 0; i <= TW_HIST_MAX_BOUNDS; i++)
		many[i] = i;
	assert_int_equal(tw_hist_bounds_init(&b, unsorted, 3), -EINVAL);
	assert_int_equal(tw_hist_bounds_init(&b, dup, 3), -EINVAL);
	assert_int_equal(tw_hist_bounds_init(&b, many, 0), -EINVAL);
	assert_int_equal(tw_hist_bounds_init(&b, NULL, 3), -EINVAL);
	assert_int_equal(tw_hist_bounds_init(&b, many, TW_HIST_MAX_BOUNDS + 1), -EINVAL);
	assert_int_equal(b.n, 0); /* untouched on error */
	assert_int_equal(tw_hist_bounds_init(&b, many, TW_HIST_MAX_BOUNDS), 0);
	assert_int_equal(b.n, TW_HIST_MAX_BOUNDS);
}

static void test_presets(void **state)
{
	(void)state;
	tw_hist_bounds b;
	static const int64_t delay[] = { 25 * US, 50 * US, 100 * US, 250 * US, 500 * US, 1 * MS,
		2500 * US, 5 * MS, 10 * MS, 25 * MS, 50 * MS, 100 * MS, 250 * MS, 500 * MS,
		1000 * MS, 2500 * MS };
	tw_hist_bounds_delay(&b);
	assert_int_equal(b.n, 16);
	assert_memory_equal(b.le, delay, sizeof(delay));

	static const int64_t proc[] = { 1 * US, 2500, 5 * US, 10 * US, 25 * US, 50 * US,
		100 * US, 250 * US, 500 * US, 1 * MS, 2500 * US, 5 * MS, 10 * MS };
	tw_hist_bounds_processing(&b);
	assert_int_equal(b.n, 13);
	assert_memory_equal(b.le, proc, sizeof(proc));

	tw_hist_bounds_smokeping(&b);
	assert_int_equal(b.n, 16);
	for (size_t k = 0; k < 16; k++)
		assert_true(b.le[k] == (50 * US) * (1LL << k));
	assert_true(b.le[15] == 1638400 * US);
}

static void test_le_is_inclusive(void **state)
{
	(void)state;
	tw_hist_bounds b;
	tw_hist_bounds_delay(&b);
	tw_hist *h = tw_hist_new(&b);
	assert_non_null(h);
	tw_hist_observe(h, 25 * US);     /* exactly on the first bound */
	tw_hist_observe(h, 25 * US + 1); /* just above: next bucket */
	tw_hist_observe(h, 0);
	tw_hist_observe(h, 2500 * MS);     /* on the last bound */
	tw_hist_observe(h, 2500 * MS + 1); /* +Inf */
	assert_int_equal(h->bucket[0], 2);
	assert_int_equal(h->bucket[1], 1);
	assert_int_equal(h->bucket[15], 1);
	assert_int_equal(h->bucket[16], 1);
	assert_int_equal(h->count, 5);
	assert_true(h->sum == 25 * US + 25 * US + 1 + 2500 * MS + 2500 * MS + 1);
	for (size_t i = 0; i < b.n; i++) {
		assert_int_equal(tw_hist_bucket_index(&b, b.le[i]), i);
		assert_int_equal(tw_hist_bucket_index(&b, b.le[i] + 1), i + 1);
	}
	tw_hist_free(h);
	tw_hist_free(NULL);
}

static void test_cumulative_and_inf(void **state)
{
	(void)state;
	tw_hist_bounds b;
	tw_hist_bounds_smokeping(&b);
	tw_hist *h = tw_hist_new(&b);
	srand(7);
	int64_t sum = 0;
	for (int i = 0; i < 5000; i++) {
		int64_t v = (int64_t)(rand() % 3000) * MS; /* 0 .. 3 s */
		tw_hist_observe(h, v);
		sum += v;
	}
	uint64_t prev = 0;
	for (size_t i = 0; i <= b.n; i++) {
		uint64_t c = tw_hist_cumulative(h, i);
		assert_true(c >= prev);
		prev = c;
	}
	assert_int_equal(tw_hist_cumulative(h, b.n), h->count);
	assert_int_equal(h->count, 5000);
	assert_true(h->sum == sum);
	assert_true(h->bucket[b.n] > 0); /* values above 1.6384 s overflow */
	tw_hist_reset(h);
	assert_int_equal(h->count, 0);
	assert_int_equal(tw_hist_cumulative(h, b.n), 0);
	assert_true(h->sum == 0);
	tw_hist_free(h);
}

static void test_negative_values(void **state)
{
	(void)state;
	static const int64_t le[] = { -1000, 0, 1000 };
	tw_hist_bounds b;
	assert_int_equal(tw_hist_bounds_init(&b, le, 3), 0);
	tw_hist *h = tw_hist_new(&b);
	static const int64_t v[] = { -5000, -1000, -999, 0, 1, 1000, 5000 };
	for (size_t i = 0; i < 7; i++)
		tw_hist_observe(h, v[i]);
	assert_int_equal(h->bucket[0], 2); /* -5000, -1000 */
	assert_int_equal(h->bucket[1], 2); /* -999, 0 */
	assert_int_equal(h->bucket[2], 2); /* 1, 1000 */
	assert_int_equal(h->bucket[3], 1); /* 5000 */
	assert_true(h->sum == -5000 - 1000 - 999 + 0 + 1 + 1000 + 5000);
	int64_t q;
	assert_int_equal(tw_hist_quantile(h, 0.1, &q), 0);
	assert_true(q == -1000); /* first bucket with a bound <= 0: its bound */
	tw_hist_free(h);
}

static void test_sum_saturates(void **state)
{
	(void)state;
	static const int64_t le[] = { 0 };
	tw_hist_bounds b;
	tw_hist_bounds_init(&b, le, 1);
	tw_hist *h = tw_hist_new(&b);
	tw_hist_observe(h, INT64_MAX);
	tw_hist_observe(h, INT64_MAX);
	assert_true(h->sum == INT64_MAX);
	tw_hist_reset(h);
	tw_hist_observe(h, INT64_MIN);
	tw_hist_observe(h, -1);
	assert_true(h->sum == INT64_MIN);
	tw_hist_free(h);
}

static void test_quantile(void **state)
{
	(void)state;
	static const int64_t le[] = { 10, 20, 30, 40 };
	tw_hist_bounds b;
	tw_hist_bounds_init(&b, le, 4);
	tw_hist *h = tw_hist_new(&b);
	int64_t q = 0;
	assert_int_equal(tw_hist_quantile(h, 0.5, &q), -ENODATA);
	for (int i = 11; i <= 20; i++)
		tw_hist_observe(h, i); /* all ten in (10, 20] */
	assert_int_equal(tw_hist_quantile(h, 1.5, &q), -EINVAL);
	assert_int_equal(tw_hist_quantile(h, -0.1, &q), -EINVAL);
	assert_int_equal(tw_hist_quantile(h, NAN, &q), -EINVAL);
	assert_int_equal(tw_hist_quantile(h, 0.5, &q), 0);
	assert_true(q == 15); /* 10 + 10 * 5/10 */
	assert_int_equal(tw_hist_quantile(h, 0.0, &q), 0);
	assert_true(q == 10); /* lower edge of the first non-empty bucket */
	assert_int_equal(tw_hist_quantile(h, 1.0, &q), 0);
	assert_true(q == 20);
	for (int i = 0; i < 10; i++)
		tw_hist_observe(h, 1000); /* +Inf */
	assert_int_equal(tw_hist_quantile(h, 0.99, &q), 0);
	assert_true(q == 40); /* highest finite bound */
	assert_int_equal(tw_hist_quantile(h, 0.25, &q), 0);
	assert_true(q == 15);
	tw_hist_reset(h);
	for (int i = 0; i < 4; i++)
		tw_hist_observe(h, 5); /* first bucket, positive bound: from 0 */
	assert_int_equal(tw_hist_quantile(h, 0.5, &q), 0);
	assert_true(q == 5);
	tw_hist_free(h);
}

/* On random data the estimate must lie in the bucket of the exact value. */
static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void test_quantile_within_bucket(void **state)
{
	(void)state;
	tw_hist_bounds b;
	tw_hist_bounds_delay(&b);
	tw_hist *h = tw_hist_new(&b);
	enum { N = 2000 };
	static int64_t v[N];
	srand(42);
	for (int i = 0; i < N; i++) {
		v[i] = (int64_t)(rand() % 2000000) * 1000; /* 0 .. 2 s */
		tw_hist_observe(h, v[i]);
	}
	qsort(v, N, sizeof(v[0]), cmp_i64);
	static const double qs[] = { 0.05, 0.25, 0.5, 0.9, 0.95, 0.99 };
	for (size_t k = 0; k < 6; k++) {
		int64_t est;
		assert_int_equal(tw_hist_quantile(h, qs[k], &est), 0);
		int64_t exact = v[(size_t)ceil(qs[k] * N) - 1];
		size_t bi = tw_hist_bucket_index(&b, exact);
		int64_t lo = bi == 0 ? 0 : b.le[bi - 1], hi = bi < b.n ? b.le[bi] : b.le[b.n - 1];
		assert_true(est >= lo && est <= hi);
	}
	tw_hist_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds_validation),
		cmocka_unit_test(test_presets),
		cmocka_unit_test(test_le_is_inclusive),
		cmocka_unit_test(test_cumulative_and_inf),
		cmocka_unit_test(test_negative_values),
		cmocka_unit_test(test_sum_saturates),
		cmocka_unit_test(test_quantile),
		cmocka_unit_test(test_quantile_within_bucket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
