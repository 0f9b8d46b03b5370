/* test_history.c - per-period session summaries: deltas of the RTT
 * histogram and the counters, quantiles of the period only, gaps, restarts
 * (decreasing counters, re-created histograms, other buckets), the ring,
 * saturation and the loss arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "history.h"

#define US 1000LL
#define MS 1000000LL

static void observe_n(tw_hist *h, int64_t v, int n)
{
	for (int i = 0; i < n; i++)
		tw_hist_observe(h, v);
}

static int64_t quantile(const tw_hist *h, double q)
{
	int64_t v = -1;
	assert_int_equal(tw_hist_quantile(h, q, &v), 0);
	return v;
}

static void test_capacity_bounds(void **state)
{
	(void)state;
	assert_null(tw_history_new(0));
	assert_null(tw_history_new(TW_HISTORY_MAX_POINTS + 1));
	tw_history *h = tw_history_new(TW_HISTORY_MAX_POINTS);
	assert_non_null(h);
	assert_int_equal(tw_history_capacity(h), TW_HISTORY_MAX_POINTS);
	assert_int_equal(tw_history_len(h), 0);
	assert_null(tw_history_last(h));
	assert_null(tw_history_at(h, 0));
	tw_history_free(h);
	tw_history_free(NULL);
}

/* The first snapshot counts from zero; its quantiles are those of the
 * histogram itself. */
static void test_first_snapshot(void **state)
{
	(void)state;
	tw_hist_bounds b;
	tw_hist_bounds_delay(&b);
	tw_hist *rtt = tw_hist_new(&b);
	observe_n(rtt, 300 * US, 50);
	observe_n(rtt, 3 * MS, 50);
	tw_history *h = tw_history_new(60);
	tw_history_snapshot(h, &(tw_history_input){ .rtt = rtt, .sent = 110, .received = 100, .lost = 8 });
	const tw_history_point *p = tw_history_last(h);
	assert_non_null(p);
	assert_int_equal(p->flags, TW_HISTORY_HAS_RTT);
	assert_int_equal(p->sent, 110);
	assert_int_equal(p->received, 100);
	assert_int_equal(p->lost, 8);
	for (size_t k = 0; k < TW_HISTORY_NQ; k++)
		assert_true(p->q[k] == quantile(rtt, tw_history_quantiles[k]));
	/* the band is ordered and the median is in the 250us..500us bucket */
	for (size_t k = 1; k < TW_HISTORY_NQ; k++)
		assert_true(p->q[k - 1] <= p->q[k]);
	assert_true(p->q[TW_HISTORY_P50] > 250 * US && p->q[TW_HISTORY_P50] <= 500 * US);
	assert_true(p->q[TW_HISTORY_P99] > 2500 * US && p->q[TW_HISTORY_P99] <= 5 * MS);
	tw_history_free(h);
	tw_hist_free(rtt);
}

/* The second period sees only what came after the first snapshot. */
static void test_period_delta(void **state)
{
	(void)state;
	tw_hist_bounds b;
	tw_hist_bounds_delay(&b);
	tw_hist *rtt = tw_hist_new(&b), *only2 = tw_hist_new(&b);
	tw_history *h = tw_history_new(60);
	observe_n(rtt, 40 * US, 1000);
	tw_history_snapshot(h, &(tw_history_input){ .rtt = rtt, .sent = 1000, .received = 1000 });
	observe_n(rtt, 20 * MS, 90);
	observe_n(rtt, 200 * MS, 10);
	observe_n(only2, 20 * MS, 90);
	observe_n(only2, 200 * MS, 10);
	tw_history_snapshot(h, &(tw_history_input){ .rtt = rtt, .sent = 1110, .received = 1100, .lost = 10 });
	assert_int_equal(tw_history_len(h), 2);
	const tw_history_point *p0 = tw_history_at(h, 0), *p1 = tw_history_at(h, 1);
	assert_true(p0->q[TW_HISTORY_P99] <= 50 * US);
	assert_int_equal(p1->flags, TW_HISTORY_HAS_RTT);
	assert_int_equal(p1->sent, 110);
	assert_int_equal(p1->received, 100);
	assert_int_equal(p1->lost, 10);
	for (size_t k = 0; k < TW_HISTORY_NQ; k++)
		assert_true(p1->q[k] == quantile(only2, tw_history_quantiles[k]));
	assert_true(p1->q[TW_HISTORY_P05] > 10 * MS); /* nothing of the first period leaks in */
	assert_true(p1->q[TW_HISTORY_P95] > 100 * MS);
	assert_int_equal(tw_history_loss_bp(p1->received, p1->lost), 909); /* 10 of 110 decided */
	tw_history_free(h);
	tw_hist_free(rtt);
	tw_hist_free(only2);
}

/* A period without packets is a gap: no quantiles, nothing decided. */
static void test_gap(void **state)
{
	(void)state;
	tw_hist_bounds b;
	tw_hist_bounds_smokeping(&b);
	tw_hist *rtt = tw_hist_new(&b);
	tw_history *h = tw_history_new(60);
	observe_n(rtt, 70 * US, 10);
	tw_history_input in = { .rtt = rtt, .sent = 10, .received = 10 };
	tw_history_snapshot(h, &in);
	tw_history_snapshot(h, &in);
	const tw_history_point *p = tw_history_last(h);
	assert_int_equal(p->flags, 0);
	assert_int_equal(p->sent, 0);
	assert_int_equal(p->received + p->lost, 0);
	assert_int_equal(tw_history_loss_bp(p->received, p->lost), -1);
	/* all lost: no RTT, but a loss figure */
	in.sent = 20;
	in.lost = 10;
	tw_history_snapshot(h, &in);
	p = tw_history_last(h);
	assert_int_equal(p->flags, 0);
	assert_int_equal(tw_history_loss_bp(p->received, p->lost), 10000);
	/* a session without an RTT histogram */
	tw_history_snapshot(h, &(tw_history_input){ .rtt = NULL, .sent = 25, .received = 15, .lost = 10 });
	p = tw_history_last(h);
	assert_int_equal(p->flags, 0);
	assert_int_equal(p->received, 5);
	/* ... that gets one back: counted from zero */
	tw_history_snapshot(h, &(tw_history_input){ .rtt = rtt, .sent = 25, .received = 15, .lost = 10 });
	p = tw_history_last(h);
	assert_int_equal(p->flags, TW_HISTORY_HAS_RTT);
	assert_true(p->q[TW_HISTORY_P50] > 50 * US && p->q[TW_HISTORY_P50] <= 100 * US);
	tw_history_free(h);
	tw_hist_free(rtt);
}

/* A histogram re-created with the same buckets (fewer counts than before)
 * or with other buckets: the period is what the new one holds. */
static void test_histogram_restart(void **state)
{
	(void)state;
	tw_hist_bounds delay, smoke;
	tw_hist_bounds_delay(&delay);
	tw_hist_bounds_smokeping(&smoke);
	tw_hist *old = tw_hist_new(&delay);
	tw_history *h = tw_history_new(60);
	observe_n(old, 30 * US, 500);
	tw_history_snapshot(h, &(tw_history_input){ .rtt = old });

	tw_hist *same = tw_hist_new(&delay);
	observe_n(same, 30 * US, 5);
	observe_n(same, 7 * MS, 20);
	tw_history_snapshot(h, &(tw_history_input){ .rtt = same });
	const tw_history_point *p = tw_history_last(h);
	assert_int_equal(p->flags, TW_HISTORY_HAS_RTT | TW_HISTORY_RESET);
	for (size_t k = 0; k < TW_HISTORY_NQ; k++)
		assert_true(p->q[k] == quantile(same, tw_history_quantiles[k]));

	/* the next period is a plain difference again */
	observe_n(same, 30 * US, 100);
	tw_history_snapshot(h, &(tw_history_input){ .rtt = same });
	p = tw_history_last(h);
	assert_int_equal(p->flags, TW_HISTORY_HAS_RTT);
	assert_true(p->q[TW_HISTORY_P99] <= 50 * US);

	/* other buckets with more counts in every bucket index: still a restart */
	tw_hist *other = tw_hist_new(&smoke);
	for (size_t i = 0; i < smoke.n; i++)
		observe_n(other, smoke.le[i], 200);
	tw_history_snapshot(h, &(tw_history_input){ .rtt = other });
	p = tw_history_last(h);
	assert_int_equal(p->flags, TW_HISTORY_HAS_RTT | TW_HISTORY_RESET);
	for (size_t k = 0; k < TW_HISTORY_NQ; k++)
		assert_true(p->q[k] == quantile(other, tw_history_quantiles[k]));
	tw_history_free(h);
	tw_hist_free(old);
	tw_hist_free(same);
	tw_hist_free(other);
}

/* Counters that go down restarted: the period counts their new values. */
static void test_counter_restart(void **state)
{
	(void)state;
	tw_history *h = tw_history_new(60);
	tw_history_snapshot(h, &(tw_history_input){ .sent = 1000, .received = 990, .lost = 10 });
	tw_history_snapshot(h, &(tw_history_input){ .sent = 30, .received = 28, .lost = 1 });
	const tw_history_point *p = tw_history_last(h);
	assert_true(p->flags & TW_HISTORY_RESET);
	assert_int_equal(p->sent, 30);
	assert_int_equal(p->received, 28);
	assert_int_equal(p->lost, 1);
	tw_history_snapshot(h, &(tw_history_input){ .sent = 40, .received = 37, .lost = 2 });
	p = tw_history_last(h);
	assert_int_equal(p->flags, 0);
	assert_int_equal(p->sent, 10);
	assert_int_equal(p->received, 9);
	assert_int_equal(p->lost, 1);
	/* only one of them going down still marks the period */
	tw_history_snapshot(h, &(tw_history_input){ .sent = 50, .received = 47, .lost = 0 });
	p = tw_history_last(h);
	assert_true(p->flags & TW_HISTORY_RESET);
	assert_int_equal(p->sent, 10);
	assert_int_equal(p->lost, 0);
	tw_history_free(h);
}

/* The ring keeps the newest capacity points, oldest first. */
static void test_ring(void **state)
{
	(void)state;
	tw_history *h = tw_history_new(3);
	for (uint64_t i = 1; i <= 5; i++)
		tw_history_snapshot(h, &(tw_history_input){ .sent = i * (i + 1) / 2 }); /* period i sends i */
	assert_int_equal(tw_history_len(h), 3);
	assert_int_equal(tw_history_at(h, 0)->sent, 3);
	assert_int_equal(tw_history_at(h, 1)->sent, 4);
	assert_int_equal(tw_history_at(h, 2)->sent, 5);
	assert_ptr_equal(tw_history_last(h), tw_history_at(h, 2));
	assert_null(tw_history_at(h, 3));
	tw_history_free(h);

	h = tw_history_new(1);
	tw_history_snapshot(h, &(tw_history_input){ .sent = 7 });
	tw_history_snapshot(h, &(tw_history_input){ .sent = 9 });
	assert_int_equal(tw_history_len(h), 1);
	assert_int_equal(tw_history_last(h)->sent, 2);
	tw_history_free(h);
}

/* Per-period counts are 32-bit: a larger increase saturates. */
static void test_saturation(void **state)
{
	(void)state;
	tw_history *h = tw_history_new(2);
	tw_history_snapshot(h, &(tw_history_input){ .sent = 1ULL << 40, .received = UINT32_MAX, .lost = 5 });
	const tw_history_point *p = tw_history_last(h);
	assert_int_equal(p->sent, UINT32_MAX);
	assert_int_equal(p->received, UINT32_MAX);
	assert_int_equal(p->lost, 5);
	tw_history_free(h);
}

static void test_loss_bp(void **state)
{
	(void)state;
	assert_int_equal(tw_history_loss_bp(0, 0), -1);
	assert_int_equal(tw_history_loss_bp(10, 0), 0);
	assert_int_equal(tw_history_loss_bp(0, 3), 10000);
	assert_int_equal(tw_history_loss_bp(999, 1), 10);
	assert_int_equal(tw_history_loss_bp(3, 1), 2500);
	assert_int_equal(tw_history_loss_bp(2, 1), 3333);
	assert_int_equal(tw_history_loss_bp(1, 2), 6667);     /* rounded to nearest */
	assert_int_equal(tw_history_loss_bp(99999, 1), 1);    /* 0.1 bp: any loss shows */
	assert_int_equal(tw_history_loss_bp(UINT64_MAX / 2, UINT64_MAX / 2), 5000); /* no overflow */
	assert_int_equal(tw_history_loss_bp(UINT64_MAX, 0), 0);
	assert_int_equal(tw_history_loss_bp(0, UINT64_MAX), 10000);
	assert_int_equal(tw_history_loss_bp(UINT64_MAX - 1, 1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capacity_bounds),
		cmocka_unit_test(test_first_snapshot),
		cmocka_unit_test(test_period_delta),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_histogram_restart),
		cmocka_unit_test(test_counter_restart),
		cmocka_unit_test(test_ring),
		cmocka_unit_test(test_saturation),
		cmocka_unit_test(test_loss_bp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
