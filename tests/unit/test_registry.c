/* test_registry.c - families and series: validation, get-or-create
 * identity, typed handles, removal by handle and by label, hash growth,
 * memory accounting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "prom.h"
#include "registry.h"

static const char *const l1[] = { "target" };

static void test_family_validation(void **state)
{
	(void)state;
	tw_registry *r = tw_registry_new();
	tw_hist_bounds b;
	tw_hist_bounds_delay(&b);
	tw_family *f = NULL;
	static const char *const dup[] = { "a", "a" };
	static const char *const le[] = { "le" };
	static const char *const reserved[] = { "__x" };
	static const char *const bad[] = { "a-b" };
	const tw_family_spec bad_specs[] = {
		{ TW_METRIC_COUNTER, "1bad_total", "h", NULL, 0 },
		{ TW_METRIC_COUNTER, "ok_total", NULL, NULL, 0 },
		{ TW_METRIC_COUNTER, "ok_total", "bad utf8 \xff", NULL, 0 },
		{ TW_METRIC_COUNTER, "ok_total", "h", dup, 2 },
		{ TW_METRIC_COUNTER, "ok_total", "h", reserved, 1 },
		{ TW_METRIC_COUNTER, "ok_total", "h", bad, 1 },
		{ TW_METRIC_COUNTER, "ok_total", "h", NULL, 1 },
		{ TW_METRIC_HISTOGRAM, "h_seconds", "h", le, 1, &b },
		{ TW_METRIC_HISTOGRAM, "h_seconds", "h", NULL, 0, NULL },
		{ (tw_metric_type)7, "x", "h", NULL, 0 },
	};
	for (size_t i = 0; i < sizeof(bad_specs) / sizeof(bad_specs[0]); i++)
		assert_int_equal(tw_registry_add(r, &bad_specs[i], &f), -EINVAL);
	assert_null(f);

	tw_family_spec hs = { TW_METRIC_HISTOGRAM, "rtt_seconds", "h", l1, 1, &b };
	assert_int_equal(tw_registry_add(r, &hs, &f), 0);
	assert_ptr_equal(tw_registry_find(r, "rtt_seconds"), f);
	assert_null(tw_registry_find(r, "nope"));
	/* the names a histogram expands to are taken too, and vice versa */
	tw_family_spec clash = { TW_METRIC_GAUGE, "rtt_seconds", "h", NULL, 0 };
	assert_int_equal(tw_registry_add(r, &clash, NULL), -EEXIST);
	clash.name = "rtt_seconds_count";
	assert_int_equal(tw_registry_add(r, &clash, NULL), -EEXIST);
	clash.name = "x_bucket";
	assert_int_equal(tw_registry_add(r, &clash, NULL), 0);
	tw_family_spec hx = { TW_METRIC_HISTOGRAM, "x", "h", NULL, 0, &b };
	assert_int_equal(tw_registry_add(r, &hx, NULL), -EEXIST);
	tw_registry_free(r);
	tw_registry_free(NULL);
}

static void test_series_identity_and_types(void **state)
{
	(void)state;
	tw_registry *r = tw_registry_new();
	tw_family *c, *g;
	tw_family_spec cs = { TW_METRIC_COUNTER, "c_total", "h", l1, 1 };
	tw_family_spec gs = { TW_METRIC_GAUGE, "g", "h", l1, 1 };
	assert_int_equal(tw_registry_add(r, &cs, &c), 0);
	assert_int_equal(tw_registry_add(r, &gs, &g), 0);
	tw_counter *a, *a2, *b;
	assert_int_equal(tw_registry_counter(c, (const char *[]){ "x" }, &a), 0);
	assert_int_equal(tw_registry_counter(c, (const char *[]){ "y" }, &b), 0);
	assert_int_equal(tw_registry_counter(c, (const char *[]){ "x" }, &a2), 0);
	assert_ptr_equal(a, a2); /* same label set, same handle */
	assert_ptr_not_equal(a, b);
	assert_true(a->v == 0);
	tw_counter_add(a, 5);
	assert_true(a2->v == 5);
	assert_int_equal(tw_registry_series_count(c), 2);

	tw_gauge *gh;
	tw_hist *hh;
	assert_int_equal(tw_registry_gauge(c, (const char *[]){ "x" }, &gh), -EINVAL);
	assert_int_equal(tw_registry_hist(g, (const char *[]){ "x" }, &hh), -EINVAL);
	assert_int_equal(tw_registry_counter(c, NULL, &a), -EINVAL);
	assert_int_equal(tw_registry_counter(c, (const char *[]){ NULL }, &a), -EINVAL);
	assert_int_equal(tw_registry_counter(c, (const char *[]){ "\xc3(" }, &a), -EINVAL);
	/* values that escape alike are still distinct label sets */
	tw_counter *q1, *q2;
	assert_int_equal(tw_registry_counter(c, (const char *[]){ "a\"b" }, &q1), 0);
	assert_int_equal(tw_registry_counter(c, (const char *[]){ "a\\\"b" }, &q2), 0);
	assert_ptr_not_equal(q1, q2);
	tw_registry_free(r);
}

static void test_many_series_and_removal(void **state)
{
	(void)state;
	tw_registry *r = tw_registry_new();
	tw_hist_bounds b;
	tw_hist_bounds_delay(&b);
	static const char *const l2[] = { "target", "direction" };
	tw_family *h;
	tw_family_spec hs = { TW_METRIC_HISTOGRAM, "owd_seconds", "h", l2, 2, &b };
	assert_int_equal(tw_registry_add(r, &hs, &h), 0);
	size_t base = tw_registry_memory(r);
	enum { N = 3000 };
	static tw_hist *handles[N];
	char name[32];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "t%d", i / 2);
		const char *v[] = { name, i % 2 ? "backward" : "forward" };
		assert_int_equal(tw_registry_hist(h, v, &handles[i]), 0);
		tw_hist_observe(handles[i], i);
	}
	assert_int_equal(tw_registry_series_count(h), N);
	size_t grown = tw_registry_memory(r);
	assert_true(grown - base >= (size_t)N * tw_hist_size(&b));
	for (int i = 0; i < N; i++) { /* lookups after the table grew find the same series */
		snprintf(name, sizeof(name), "t%d", i / 2);
		const char *v[] = { name, i % 2 ? "backward" : "forward" };
		tw_hist *again;
		assert_int_equal(tw_registry_hist(h, v, &again), 0);
		assert_ptr_equal(again, handles[i]);
		assert_int_equal(again->count, 1);
	}
	for (int i = 0; i < N; i += 2)
		tw_registry_remove_hist(handles[i]);
	tw_registry_remove_hist(NULL);
	assert_int_equal(tw_registry_series_count(h), N / 2);
	assert_true(tw_registry_memory(r) < grown);
	/* a removed label set comes back fresh */
	tw_hist *fresh;
	assert_int_equal(tw_registry_hist(h, (const char *[]){ "t0", "forward" }, &fresh), 0);
	assert_int_equal(fresh->count, 0);
	assert_int_equal(tw_registry_series_count(h), N / 2 + 1);
	/* by label: "t1" has only its backward series left; "t1x" must not match */
	assert_int_equal(tw_registry_hist(h, (const char *[]){ "t1x", "forward" }, &fresh), 0);
	assert_int_equal(tw_registry_remove_matching(r, "target", "t1"), 1);
	assert_int_equal(tw_registry_remove_matching(r, "target", "t1"), 0);
	assert_int_equal(tw_registry_remove_matching(r, "direction", "backward"), N / 2 - 1);
	assert_int_equal(tw_registry_remove_matching(r, "bad-name", "x"), 0);
	assert_int_equal(tw_registry_series_count(h), 2); /* t0/forward, t1x/forward */
	tw_registry_free(r);
}

static void test_remove_matching_escaped(void **state)
{
	(void)state;
	tw_registry *r = tw_registry_new();
	static const char *const l2[] = { "a", "target" };
	tw_family *f;
	tw_family_spec s = { TW_METRIC_GAUGE, "g", "h", l2, 2 };
	assert_int_equal(tw_registry_add(r, &s, &f), 0);
	tw_gauge *g;
	/* a value that contains the text of another label must not match it */
	assert_int_equal(tw_registry_gauge(f, (const char *[]){ "x\",target=\"v", "w" }, &g), 0);
	assert_int_equal(tw_registry_gauge(f, (const char *[]){ "y", "v\\" }, &g), 0);
	assert_int_equal(tw_registry_remove_matching(r, "target", "v"), 0);
	assert_int_equal(tw_registry_remove_matching(r, "target", "v\\"), 1);
	assert_int_equal(tw_registry_remove_matching(r, "a", "x\",target=\"v"), 1);
	assert_int_equal(tw_registry_series_count(f), 0);
	tw_registry_free(r);
}

static int noop_collector(void *arg, tw_prom_collect *out)
{
	(void)arg;
	(void)out;
	return 0;
}

static void test_collector_list(void **state)
{
	(void)state;
	tw_registry *r = tw_registry_new();
	int a, b;
	assert_int_equal(tw_registry_add_collector(r, noop_collector, &a), 0);
	assert_int_equal(tw_registry_add_collector(r, noop_collector, &b), 0);
	assert_int_equal(tw_registry_add_collector(r, NULL, &b), -EINVAL);
	size_t m = tw_registry_memory(r);
	tw_registry_remove_collector(r, noop_collector, &a);
	assert_true(tw_registry_memory(r) < m);
	tw_registry_remove_collector(r, noop_collector, &a); /* already gone: no-op */
	tw_registry_free(r);
}

/* Per-series extra labels: rendered after the family's, part of the
 * identity, validated, and removable by a family label. */
static void test_extra_labels(void **state)
{
	(void)state;
	tw_registry *r = tw_registry_new();
	static const char *const names[] = { "target" };
	tw_family *f;
	tw_family_spec spec = { .type = TW_METRIC_COUNTER, .name = "x_total", .help = "x", .labels = names, .nlabels = 1 };
	assert_int_equal(tw_registry_add(r, &spec, &f), 0);
	const char *a[] = { "a" }, *b[] = { "b" };
	tw_label site[] = { { "site", "lab\"1" }, { "tier", "gold" } };
	tw_counter *c1, *c2, *c3, *c4;
	assert_int_equal(tw_registry_counter_x(f, a, site, 2, &c1), 0);
	assert_int_equal(tw_registry_counter_x(f, a, site, 2, &c2), 0);
	assert_ptr_equal(c1, c2);
	assert_int_equal(tw_registry_counter_x(f, a, site, 1, &c3), 0);
	assert_ptr_not_equal(c1, c3);
	assert_int_equal(tw_registry_counter_x(f, b, NULL, 0, &c4), 0);
	tw_counter_add(c1, 7);
	tw_buf out;
	tw_buf_init(&out, 0);
	assert_int_equal(tw_prom_render(r, &out), 0);
	tw_buf_append(&out, "", 1);
	assert_non_null(strstr(out.data, "x_total{target=\"a\",site=\"lab\\\"1\",tier=\"gold\"} 7\n"));
	assert_non_null(strstr(out.data, "x_total{target=\"a\",site=\"lab\\\"1\"} 0\n"));
	assert_non_null(strstr(out.data, "x_total{target=\"b\"} 0\n"));
	tw_buf_fini(&out);
	/* invalid extras: clash with a family label, reserved, duplicate, bad name */
	tw_label clash[] = { { "target", "x" } }, reserved[] = { { "__x", "y" } },
		 dup[] = { { "s", "1" }, { "s", "2" } }, bad[] = { { "1s", "y" } }, nullv[] = { { "s", NULL } };
	assert_int_equal(tw_registry_counter_x(f, a, clash, 1, &c2), -EINVAL);
	assert_int_equal(tw_registry_counter_x(f, a, reserved, 1, &c2), -EINVAL);
	assert_int_equal(tw_registry_counter_x(f, a, dup, 2, &c2), -EINVAL);
	assert_int_equal(tw_registry_counter_x(f, a, bad, 1, &c2), -EINVAL);
	assert_int_equal(tw_registry_counter_x(f, a, nullv, 1, &c2), -EINVAL);
	/* removal by the family label takes the extra-labelled series too */
	assert_int_equal(tw_registry_remove_matching(r, "target", "a"), 2);
	assert_int_equal(tw_registry_series_count(f), 1);
	tw_registry_free(r);
}

/* Histograms of one family may use different bucket layouts. */
static void test_per_series_bounds(void **state)
{
	(void)state;
	tw_registry *r = tw_registry_new();
	static const char *const names[] = { "target" };
	tw_hist_bounds def, mine;
	static const int64_t le_def[] = { 1000000, 2000000 }, le_mine[] = { 500, 1000, 2000 };
	assert_int_equal(tw_hist_bounds_init(&def, le_def, 2), 0);
	assert_int_equal(tw_hist_bounds_init(&mine, le_mine, 3), 0);
	tw_family *f;
	tw_family_spec spec = { .type = TW_METRIC_HISTOGRAM, .name = "d_seconds", .help = "d", .labels = names,
				.nlabels = 1, .bounds = &def };
	assert_int_equal(tw_registry_add(r, &spec, &f), 0);
	const char *a[] = { "a" }, *b[] = { "b" };
	tw_hist *ha, *hb, *again;
	assert_int_equal(tw_registry_hist_x(f, a, NULL, 0, NULL, &ha), 0);
	assert_int_equal(tw_registry_hist_x(f, b, NULL, 0, &mine, &hb), 0);
	assert_int_equal(tw_registry_hist_x(f, b, NULL, 0, &mine, &again), 0);
	assert_ptr_equal(hb, again);
	assert_int_equal(tw_registry_hist_x(f, b, NULL, 0, &def, &again), -EEXIST);
	tw_hist_observe(hb, 700);
	tw_buf out;
	tw_buf_init(&out, 0);
	assert_int_equal(tw_prom_render(r, &out), 0);
	tw_buf_append(&out, "", 1);
	assert_non_null(strstr(out.data, "d_seconds_bucket{target=\"a\",le=\"0.002\"} 0\n"));
	assert_non_null(strstr(out.data, "d_seconds_bucket{target=\"b\",le=\"5e-07\"} 0\n"
					 "d_seconds_bucket{target=\"b\",le=\"1e-06\"} 1\n"
					 "d_seconds_bucket{target=\"b\",le=\"2e-06\"} 1\n"
					 "d_seconds_bucket{target=\"b\",le=\"+Inf\"} 1\n"));
	tw_buf_fini(&out);
	/* changing buckets: remove, then create with the new layout */
	tw_registry_remove_hist(hb);
	assert_int_equal(tw_registry_hist_x(f, b, NULL, 0, &def, &hb), 0);
	tw_hist_bounds bad = { .n = 2, .le = { 5, 5 } };
	const char *c[] = { "c" };
	assert_int_equal(tw_registry_hist_x(f, c, NULL, 0, &bad, &hb), -EINVAL);
	tw_registry_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family_validation),
		cmocka_unit_test(test_series_identity_and_types),
		cmocka_unit_test(test_many_series_and_removal),
		cmocka_unit_test(test_remove_matching_escaped),
		cmocka_unit_test(test_collector_list),
		cmocka_unit_test(test_extra_labels),
		cmocka_unit_test(test_per_series_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
