/* test_duration.c - configuration durations: parse, format, round trip. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "duration.h"

#define US INT64_C(1000)
#define MS INT64_C(1000000)
#define SEC INT64_C(1000000000)

static void test_parse_good(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int64_t ns;
	} cases[] = {
		{ "0", 0 },
		{ "0s", 0 },
		{ "1ns", 1 },
		{ "1us", US },
		{ "1\xc2\xb5s", US }, /* micro sign */
		{ "1\xce\xbcs", US }, /* Greek mu */
		{ "100ms", 100 * MS },
		{ "1.5s", 1500 * MS },
		{ ".5s", 500 * MS },
		{ "5.s", 5 * SEC },
		{ "2m30s", 150 * SEC },
		{ "1h", 3600 * SEC },
		{ "1h2m3s4ms5us6ns", 3723 * SEC + 4 * MS + 5 * US + 6 },
		{ "30s1m", 90 * SEC }, /* any order, like Go */
		{ "1.0000000009s", SEC }, /* below a nanosecond: truncated */
		{ "2.5us", 2500 },
		{ "0.001ms", US },
		{ "9223372036854775807ns", INT64_MAX },
		{ "2562047h", INT64_C(2562047) * 3600 * SEC },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -1;
		int rc = tw_duration_parse(cases[i].s, &v);
		if (rc != 0 || v != cases[i].ns)
			print_error("\"%s\": rc %d value %lld\n", cases[i].s, rc, (long long)v);
		assert_int_equal(rc, 0);
		assert_true(v == cases[i].ns);
	}
}

static void test_parse_bad(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int rc;
	} cases[] = {
		{ "", -EINVAL },      { "10", -EINVAL },     { "00", -EINVAL },   { "-1s", -EINVAL },
		{ "+1s", -EINVAL },   { "1 s", -EINVAL },    { " 1s", -EINVAL },  { "1s ", -EINVAL },
		{ "1d", -EINVAL },    { "s", -EINVAL },      { ".s", -EINVAL },   { "1..5s", -EINVAL },
		{ "1e3s", -EINVAL },  { "1sms", -EINVAL },   { "1S", -EINVAL },   { "1h-1m", -EINVAL },
		{ "2562048h", -ERANGE }, { "9223372036854775808ns", -ERANGE },
		{ "99999999999999999999h", -ERANGE }, { "2562047h1h", -ERANGE },
		{ "1h1x", -EINVAL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = 42;
		int rc = tw_duration_parse(cases[i].s, &v);
		if (rc != cases[i].rc)
			print_error("\"%s\": rc %d, expected %d\n", cases[i].s, rc, cases[i].rc);
		assert_int_equal(rc, cases[i].rc);
		assert_true(v == 42); /* untouched on error */
	}
	assert_int_equal(tw_duration_parse(NULL, NULL), -EINVAL);
}

static void test_format(void **state)
{
	(void)state;
	static const struct {
		int64_t ns;
		const char *s;
	} cases[] = {
		{ 0, "0s" },
		{ 1, "1ns" },
		{ 999, "999ns" },
		{ US, "1us" },
		{ 1500, "1.5us" },
		{ 25 * US, "25us" },
		{ 2500 * US, "2.5ms" },
		{ 100 * MS, "100ms" },
		{ SEC, "1s" },
		{ 1500 * MS, "1.5s" },
		{ SEC + 1, "1.000000001s" },
		{ 150 * SEC, "2m30s" },
		{ 90 * SEC + 500 * MS, "1m30.5s" },
		{ 3600 * SEC, "1h" },
		{ 3605 * SEC, "1h5s" },
		{ 86400 * SEC, "24h" },
	};
	char buf[64];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = tw_duration_format(cases[i].ns, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].s);
		assert_int_equal(n, (int)strlen(cases[i].s));
	}
	assert_int_equal(tw_duration_format(-1, buf, sizeof(buf)), -EINVAL);
	char small[4];
	assert_int_equal(tw_duration_format(150 * SEC, small, sizeof(small)), 5);
	assert_string_equal(small, "2m3");
}

/* format -> parse gives back the value, for a spread of magnitudes. */
static void test_round_trip(void **state)
{
	(void)state;
	uint64_t x = 0x9E3779B97F4A7C15ull;
	char buf[64];
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int64_t ns = (int64_t)(x >> (1 + (unsigned)i % 63));
		assert_true(tw_duration_format(ns, buf, sizeof(buf)) > 0);
		int64_t back = -1;
		assert_int_equal(tw_duration_parse(buf, &back), 0);
		if (back != ns)
			print_error("%lld -> %s -> %lld\n", (long long)ns, buf, (long long)back);
		assert_true(back == ns);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
