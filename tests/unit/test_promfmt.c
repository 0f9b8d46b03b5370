/* test_promfmt.c - exposition numbers (shortest round trip, Go layout,
 * canonical le, exact ns seconds), escaping, name and UTF-8 validation,
 * and independence from a decimal-comma process locale. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "locale_helper.h"
#include "promfmt.h"
#include "unavailable.h"

struct dcase {
	double v;
	const char *text;
};

static const struct dcase doubles[] = {
	{ 0.0, "0" },
	{ 1.0, "1" },
	{ -2.0, "-2" },
	{ 42.0, "42" },
	{ 123456.0, "123456" },
	{ 1234567.0, "1.234567e+06" },
	{ 1e6, "1e+06" },
	{ 0.1, "0.1" },
	{ 0.3, "0.3" },
	{ 0.25, "0.25" },
	{ -0.5, "-0.5" },
	{ 0.0001, "0.0001" },
	{ 1e-05, "1e-05" },
	{ 2.5e-05, "2.5e-05" },
	{ 0.001234567, "0.001234567" },
	{ 1.0 / 3.0, "0.3333333333333333" },
	{ 2.0 / 3.0, "0.6666666666666666" },
	{ 1e21, "1e+21" },
	{ 1.7094e9, "1.7094e+09" },
	{ 5e-324, "5e-324" },
	{ 1.7976931348623157e308, "1.7976931348623157e+308" },
	{ 123.456, "123.456" },
	{ 999999.5, "999999.5" },
	{ INFINITY, "+Inf" },
	{ -INFINITY, "-Inf" },
	{ NAN, "NaN" },
};

static void check_doubles(void)
{
	for (size_t i = 0; i < sizeof(doubles) / sizeof(doubles[0]); i++) {
		char out[TW_PROMFMT_NUM_MAX];
		size_t n = tw_promfmt_double(out, doubles[i].v);
		assert_string_equal(out, doubles[i].text);
		assert_int_equal(n, strlen(doubles[i].text));
	}
}

static void test_doubles(void **state)
{
	(void)state;
	check_doubles();
}

static void test_le_canonical(void **state)
{
	(void)state;
	static const struct dcase les[] = {
		{ 1.0, "1.0" }, { 0.001, "0.001" }, { 2.5e-05, "2.5e-05" }, { 2.5, "2.5" },
		{ 100000.0, "100000.0" }, { 1e6, "1e+06" }, { 0.0, "0.0" }, { -1.0, "-1.0" },
		{ 0.0005, "0.0005" }, { 1.6384, "1.6384" }, { INFINITY, "+Inf" }, { -INFINITY, "-Inf" },
	};
	for (size_t i = 0; i < sizeof(les) / sizeof(les[0]); i++) {
		char out[TW_PROMFMT_NUM_MAX];
		tw_promfmt_le(out, les[i].v);
		assert_string_equal(out, les[i].text);
	}
}

/* Significant digits of a formatted number: mantissa digits without the
 * leading and trailing zeros ("100" has 1, "0.0025" has 2). */
static int significant_digits(const char *s)
{
	int n = 0, zeros = 0;
	bool lead = true;
	for (; *s && *s != 'e'; s++) {
		if (*s < '0' || *s > '9' || (lead && *s == '0'))
			continue;
		lead = false;
		if (*s == '0') {
			zeros++;
		} else {
			n += zeros + 1;
			zeros = 0;
		}
	}
	return n;
}

/* Whether v survives printing with `digits` significant digits. */
static bool parses_back(double v, int digits)
{
	char tmp[40];
	snprintf(tmp, sizeof(tmp), "%.*e", digits - 1, v);
	return strtod(tmp, NULL) == v;
}

/* Random bit patterns: every finite double must parse back exactly from
 * its text, and one significant digit fewer must not (shortest). */
static void test_round_trip_random(void **state)
{
	(void)state;
	uint64_t x = 88172645463325252u;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double v;
		memcpy(&v, &x, sizeof(v));
		if (!isfinite(v))
			continue;
		char out[TW_PROMFMT_NUM_MAX];
		size_t n = tw_promfmt_double(out, v);
		assert_true(n < TW_PROMFMT_NUM_MAX);
		assert_true(strtod(out, NULL) == v); /* the test runs in the C locale */
		assert_true(significant_digits(out) == 1 || !parses_back(v, significant_digits(out) - 1));
	}
	for (unsigned shift = 0; shift < 64; shift++) { /* subnormals of every precision */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t bits = (x & UINT64_C(0x000fffffffffffff)) >> (shift % 52);
		double v;
		memcpy(&v, &bits, sizeof(v));
		char out[TW_PROMFMT_NUM_MAX];
		tw_promfmt_double(out, v);
		assert_true(strtod(out, NULL) == v);
		assert_true(significant_digits(out) <= 1 || !parses_back(v, significant_digits(out) - 1));
	}
}

static void test_integers_and_ns(void **state)
{
	(void)state;
	char out[TW_PROMFMT_NUM_MAX];
	tw_promfmt_u64(out, 0);
	assert_string_equal(out, "0");
	tw_promfmt_u64(out, UINT64_MAX);
	assert_string_equal(out, "18446744073709551615");
	tw_promfmt_i64(out, INT64_MIN);
	assert_string_equal(out, "-9223372036854775808");
	tw_promfmt_i64(out, -7);
	assert_string_equal(out, "-7");
	static const struct {
		int64_t ns;
		const char *text;
	} ns[] = {
		{ 0, "0" }, { 1, "0.000000001" }, { 1500000000, "1.5" }, { 2000000000, "2" },
		{ -1500, "-0.0000015" }, { 3000055000, "3.000055" }, { 25000, "0.000025" },
		{ INT64_MIN, "-9223372036.854775808" }, { INT64_MAX, "9223372036.854775807" },
	};
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		tw_promfmt_ns_seconds(out, ns[i].ns);
		assert_string_equal(out, ns[i].text);
	}
}

static void test_escaping(void **state)
{
	(void)state;
	tw_buf b;
	tw_buf_init(&b, 0);
	assert_int_equal(tw_promfmt_label_value(&b, "a\"b\\c\nd"), 0);
	tw_buf_append(&b, "", 1);
	assert_string_equal(b.data, "a\\\"b\\\\c\\nd");
	tw_buf_clear(&b);
	assert_int_equal(tw_promfmt_help(&b, "say \"hi\"\\\n"), 0);
	tw_buf_append(&b, "", 1);
	assert_string_equal(b.data, "say \"hi\"\\\\\\n"); /* quotes stay in HELP */
	tw_buf_fini(&b);

	tw_buf small;
	tw_buf_init(&small, 4);
	assert_int_equal(tw_promfmt_label_value(&small, "\"\"\""), -ENOBUFS);
	assert_int_equal(small.err, -ENOBUFS);
	tw_buf_fini(&small);
}

static void test_names_and_utf8(void **state)
{
	(void)state;
	assert_true(tw_promfmt_valid_metric_name("twamp_rtt_seconds"));
	assert_true(tw_promfmt_valid_metric_name("ns:rule_1"));
	assert_false(tw_promfmt_valid_metric_name("1abc"));
	assert_false(tw_promfmt_valid_metric_name("a-b"));
	assert_false(tw_promfmt_valid_metric_name(""));
	assert_false(tw_promfmt_valid_metric_name(NULL));
	assert_true(tw_promfmt_valid_label_name("target"));
	assert_true(tw_promfmt_valid_label_name("_x1"));
	assert_false(tw_promfmt_valid_label_name("__name__"));
	assert_false(tw_promfmt_valid_label_name("a:b"));
	assert_false(tw_promfmt_valid_label_name("9"));
	assert_true(tw_promfmt_valid_utf8("plain"));
	assert_true(tw_promfmt_valid_utf8("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
	assert_false(tw_promfmt_valid_utf8("\xc3"));             /* truncated */
	assert_false(tw_promfmt_valid_utf8("\xc0\xaf"));         /* overlong */
	assert_false(tw_promfmt_valid_utf8("\xed\xa0\x80"));     /* surrogate */
	assert_false(tw_promfmt_valid_utf8("\xf4\x90\x80\x80")); /* > U+10FFFF */
	assert_false(tw_promfmt_valid_utf8("\xff"));
}

/* With a decimal-comma locale active, printf itself prints "0,5" (checked,
 * so the test cannot pass vacuously) but our numbers keep their dots. */
static void test_comma_locale(void **state)
{
	(void)state;
	const char *name = tw_test_comma_locale();
	if (!name) {
		tw_test_unavailable("no decimal-comma locale could be built (Debian package locales)");
	}
	assert_non_null(setlocale(LC_ALL, name));
	char probe[16];
	snprintf(probe, sizeof(probe), "%.1f", 0.5);
	assert_string_equal(probe, "0,5");
	check_doubles();
	char out[TW_PROMFMT_NUM_MAX];
	tw_promfmt_le(out, 2.5e-05);
	assert_string_equal(out, "2.5e-05");
	assert_non_null(setlocale(LC_ALL, "C.UTF-8"));
	check_doubles();
	setlocale(LC_ALL, "C");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_le_canonical),
		cmocka_unit_test(test_round_trip_random),
		cmocka_unit_test(test_integers_and_ns),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_names_and_utf8),
		cmocka_unit_test(test_comma_locale),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	tw_test_comma_locale_cleanup();
	return rc;
}
