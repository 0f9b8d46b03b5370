/* test_timestamp.c - NTP/PTP conversions against spec/vectors.md V1, V15. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "timestamp.h"

#define NS(sec, nsec) ((int64_t)(sec) * 1000000000 + (nsec))

/* V1: unix -> ntp (truncating) and back (floor). */
static void test_v1_unix_to_ntp(void **state)
{
	(void)state;
	static const struct {
		int64_t unix_ns;
		uint64_t wire;
		int64_t back_ns;
	} v[] = {
		{ NS(0, 0), 0x83aa7e8000000000ULL, NS(0, 0) },
		{ NS(1700000000, 500000000), 0xe8fe6f8080000000ULL, NS(1700000000, 500000000) },
		{ NS(1700000000, 123456789), 0xe8fe6f801f9add37ULL, NS(1700000000, 123456788) },
		{ NS(2085978495, 999999999), 0xfffffffffffffffbULL, NS(2085978495, 999999998) },
		{ NS(2085978496, 0), 0x0000000000000000ULL, NS(2085978496, 0) },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_true(tw_ts_from_unix_ns(v[i].unix_ns) == v[i].wire);
		assert_true(tw_ts_to_unix_ns(v[i].wire) == v[i].back_ns);
	}
}

static void test_v1_intervals(void **state)
{
	(void)state;
	assert_true(tw_ts_interval_from_ns(2000000000ULL) == 0x0000000200000000ULL);
	assert_true(tw_ts_interval_from_ns(500000000ULL) == 0x0000000080000000ULL);
	assert_true(tw_ts_interval_from_ns(900000000000ULL) == 0x0000038400000000ULL);
	assert_true(tw_ts_interval_from_ns(1000ULL) == 0x00000000000010c7ULL);
	assert_true(tw_ts_interval_to_ns(0x0000000200000000ULL) == 2000000000ULL);
	/* capture: Timeout 00000002 0007bbb6 = 2.000117999 s (floor) */
	assert_true(tw_ts_interval_to_ns(0x000000020007bbb6ULL) == 2000117999ULL);
}

/* V15: metric arithmetic on 32.32 values. */
static void test_v15_differences(void **state)
{
	(void)state;
	tw_ts t1 = (tw_ts)3908988802ULL << 32 | 0x40000000;
	tw_ts t2 = (tw_ts)3908988802ULL << 32 | 0x40100000;
	tw_ts t3 = (tw_ts)3908988802ULL << 32 | 0x40200000;
	tw_ts t4 = (tw_ts)3908988802ULL << 32 | 0x80000000;
	assert_true(tw_ts_diff_ns(t4, t1) == 250000000);
	assert_true(tw_ts_diff_ns(t3, t2) == 244140);
	assert_true(tw_ts_diff_ns(t4, t1) - tw_ts_diff_ns(t3, t2) == 249755860);
	assert_true(tw_ts_diff_ns(t2, t1) == 244140);
	assert_true(tw_ts_diff_ns(t4, t3) == 249511718);
	assert_true(tw_ts_diff_ns(t1, t2) == -244141);
	/* across the 2036 era wrap */
	assert_true(tw_ts_diff_ns(0, (tw_ts)0xFFFFFFFFULL << 32 | 0x80000000) == 500000000);
}

static void test_era1_roundtrip(void **state)
{
	(void)state;
	int64_t t = NS(2085978496 + 1000, 250000000); /* 2036 + 1000 s */
	tw_ts w = tw_ts_from_unix_ns(t);
	assert_true(w >> 32 == 1000);
	assert_true(tw_ts_to_unix_ns(w) == t);
}

static void test_ptp(void **state)
{
	(void)state;
	int64_t t = NS(1700000000, 123456789);
	tw_ts p = tw_ts_ptp_from_unix_ns(t);
	assert_true(p >> 32 == 1700000037ULL);
	assert_true((uint32_t)p == 123456789);
	assert_true(tw_ts_ptp_to_unix_ns(p) == t);
	/* normalising PTP gives the NTP value of the same instant */
	assert_true(tw_ts_normalize(p, 1) == tw_ts_from_unix_ns(t));
	assert_true(tw_ts_normalize(0x1234, 0) == 0x1234);
	/* a malformed nanosecond field never overflows */
	assert_true(tw_ts_ptp_to_unix_ns((tw_ts)37 << 32 | 0xFFFFFFFFu) == 999999999);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_unix_to_ntp),
		cmocka_unit_test(test_v1_intervals),
		cmocka_unit_test(test_v15_differences),
		cmocka_unit_test(test_era1_roundtrip),
		cmocka_unit_test(test_ptp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
