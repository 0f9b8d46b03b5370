/* test_prom.c - text exposition: a golden rendering, the format invariants
 * on an agent-shaped registry, locale independence, special values, series
 * that exist from creation and vanish on removal, collectors (including the
 * process collector), the size cap, and promtool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "expo_check.h"
#include "locale_helper.h"
#include "process.h"
#include "prom.h"
#include "registry.h"
#include "unavailable.h"

#define US 1000LL
#define MS 1000000LL

static const char golden[] =
	"# HELP twamp_test_packets_sent_total Test packets sent.\n"
	"# TYPE twamp_test_packets_sent_total counter\n"
	"twamp_test_packets_sent_total{target=\"a\",dscp=\"0\"} 3\n"
	"# HELP twamp_session_up Whether the session is up.\\nSecond \\\\ line \"quoted\"\n"
	"# TYPE twamp_session_up gauge\n"
	"twamp_session_up{target=\"we\\\"ird\\\\path\\nnew\"} 1\n"
	"twamp_session_up{target=\"b\"} 0.25\n"
	"# HELP twamp_rtt_seconds Round-trip time.\n"
	"# TYPE twamp_rtt_seconds histogram\n"
	"twamp_rtt_seconds_bucket{target=\"a\",le=\"2.5e-05\"} 1\n"
	"twamp_rtt_seconds_bucket{target=\"a\",le=\"0.001\"} 2\n"
	"twamp_rtt_seconds_bucket{target=\"a\",le=\"1.0\"} 2\n"
	"twamp_rtt_seconds_bucket{target=\"a\",le=\"2.5\"} 2\n"
	"twamp_rtt_seconds_bucket{target=\"a\",le=\"+Inf\"} 3\n"
	"twamp_rtt_seconds_sum{target=\"a\"} 3.000055\n"
	"twamp_rtt_seconds_count{target=\"a\"} 3\n"
	"# HELP twamp_agent_config_last_reload_successful Whether the last reload succeeded.\n"
	"# TYPE twamp_agent_config_last_reload_successful gauge\n"
	"twamp_agent_config_last_reload_successful 1\n";

static tw_registry *golden_registry(void)
{
	tw_registry *r = tw_registry_new();
	static const char *const tl[] = { "target", "dscp" };
	static const char *const t[] = { "target" };
	static const int64_t le[] = { 25 * US, 1 * MS, 1000 * MS, 2500 * MS };
	tw_hist_bounds b;
	tw_hist_bounds_init(&b, le, 4);
	tw_family *sent, *up, *rtt, *reload;
	tw_family_spec s1 = { TW_METRIC_COUNTER, "twamp_test_packets_sent_total",
		"Test packets sent.", tl, 2, NULL, 0 };
	tw_family_spec s2 = { TW_METRIC_GAUGE, "twamp_session_up",
		"Whether the session is up.\nSecond \\ line \"quoted\"", t, 1, NULL, 0 };
	tw_family_spec s3 = { TW_METRIC_HISTOGRAM, "twamp_rtt_seconds", "Round-trip time.", t, 1,
		&b, TW_HIST_NS_AS_SECONDS };
	tw_family_spec s4 = { TW_METRIC_GAUGE, "twamp_agent_config_last_reload_successful",
		"Whether the last reload succeeded.", NULL, 0, NULL, 0 };
	assert_int_equal(tw_registry_add(r, &s1, &sent), 0);
	assert_int_equal(tw_registry_add(r, &s2, &up), 0);
	assert_int_equal(tw_registry_add(r, &s3, &rtt), 0);
	assert_int_equal(tw_registry_add(r, &s4, &reload), 0);

	tw_counter *c;
	tw_gauge *g1, *g2, *g3;
	tw_hist *h;
	assert_int_equal(tw_registry_counter(sent, (const char *[]){ "a", "0" }, &c), 0);
	tw_counter_add(c, 2);
	tw_counter_inc(c);
	assert_int_equal(tw_registry_gauge(up, (const char *[]){ "we\"ird\\path\nnew" }, &g1), 0);
	assert_int_equal(tw_registry_gauge(up, (const char *[]){ "b" }, &g2), 0);
	tw_gauge_set(g1, 1);
	tw_gauge_set(g2, 0.25);
	assert_int_equal(tw_registry_hist(rtt, (const char *[]){ "a" }, &h), 0);
	tw_hist_observe(h, 25 * US); /* on the bound: le is inclusive */
	tw_hist_observe(h, 30 * US);
	tw_hist_observe(h, 3000 * MS);
	assert_int_equal(tw_registry_gauge(reload, NULL, &g3), 0);
	tw_gauge_set(g3, 1);
	return r;
}

static char *render(const tw_registry *r)
{
	tw_buf b;
	tw_buf_init(&b, 0);
	assert_int_equal(tw_prom_render(r, &b), 0);
	tw_buf_append(&b, "", 1);
	return b.data; /* caller frees */
}

static void test_golden(void **state)
{
	(void)state;
	tw_registry *r = golden_registry();
	char *text = render(r);
	assert_string_equal(text, golden);
	assert_null(expo_check(text, strlen(text)));
	free(text);
	tw_registry_free(r);
}

static void test_golden_in_other_locales(void **state)
{
	(void)state;
	tw_registry *r = golden_registry();
	assert_non_null(setlocale(LC_ALL, "C.UTF-8"));
	char *text = render(r);
	assert_string_equal(text, golden);
	free(text);
	const char *comma = tw_test_comma_locale();
	if (!comma) {
		setlocale(LC_ALL, "C");
		tw_registry_free(r);
		tw_test_unavailable("no decimal-comma locale could be built (Debian package locales)");
	}
	assert_non_null(setlocale(LC_ALL, comma));
	char probe[16];
	snprintf(probe, sizeof(probe), "%g", 0.25);
	assert_string_equal(probe, "0,25"); /* the locale really has a decimal comma */
	text = render(r);
	setlocale(LC_ALL, "C");
	assert_string_equal(text, golden);
	free(text);
	tw_registry_free(r);
}

static void test_special_values(void **state)
{
	(void)state;
	tw_registry *r = tw_registry_new();
	static const char *const l[] = { "k" };
	tw_family *f;
	tw_family_spec s = { TW_METRIC_GAUGE, "x", "Special values.", l, 1, NULL, 0 };
	assert_int_equal(tw_registry_add(r, &s, &f), 0);
	tw_gauge *a, *b, *c, *d;
	tw_registry_gauge(f, (const char *[]){ "nan" }, &a);
	tw_registry_gauge(f, (const char *[]){ "pinf" }, &b);
	tw_registry_gauge(f, (const char *[]){ "ninf" }, &c);
	tw_registry_gauge(f, (const char *[]){ "small" }, &d);
	tw_gauge_set(a, NAN);
	tw_gauge_set(b, INFINITY);
	tw_gauge_set(c, -INFINITY);
	tw_gauge_set_ns(d, 1234);
	char *text = render(r);
	assert_non_null(strstr(text, "x{k=\"nan\"} NaN\n"));
	assert_non_null(strstr(text, "x{k=\"pinf\"} +Inf\n"));
	assert_non_null(strstr(text, "x{k=\"ninf\"} -Inf\n"));
	assert_non_null(strstr(text, "x{k=\"small\"} 1.234e-06\n"));
	assert_null(strstr(text, "inf\n"));
	assert_null(strstr(text, "nan\n"));
	free(text);
	tw_registry_free(r);
}

/* ---- an agent-shaped registry ---- */

struct agent_reg {
	tw_registry *r;
	tw_family *sent, *lost, *dup, *up, *jitter, *rtt, *owd, *info;
};

static void agent_session(struct agent_reg *a, const char *target, const char *dscp, int seed)
{
	const char *v[] = { target, dscp };
	tw_counter *c;
	tw_gauge *g;
	tw_hist *h;
	assert_int_equal(tw_registry_counter(a->sent, v, &c), 0);
	tw_counter_add(c, (uint64_t)seed * 100);
	assert_int_equal(tw_registry_counter(a->lost, v, &c), 0);
	for (int d = 0; d < 2; d++) {
		const char *vd[] = { target, dscp, d ? "backward" : "forward" };
		assert_int_equal(tw_registry_counter(a->dup, vd, &c), 0);
		assert_int_equal(tw_registry_hist(a->owd, vd, &h), 0);
		for (int i = 0; i < seed * 7; i++)
			tw_hist_observe(h, (int64_t)((i * 7919 + d * 31) % 5000) * 10 * US);
	}
	assert_int_equal(tw_registry_gauge(a->up, v, &g), 0);
	tw_gauge_set(g, 1);
	assert_int_equal(tw_registry_gauge(a->jitter, v, &g), 0);
	tw_gauge_set_ns(g, 123457 * seed);
	assert_int_equal(tw_registry_hist(a->rtt, v, &h), 0);
	for (int i = 0; i < seed * 13; i++)
		tw_hist_observe(h, (int64_t)((i * 104729) % 3000) * MS);
	const char *vi[] = { target, dscp, "192.0.2.1", "2001:db8::1", "full" };
	assert_int_equal(tw_registry_gauge(a->info, vi, &g), 0);
	tw_gauge_set(g, 1);
}

static void agent_registry(struct agent_reg *a, int sessions)
{
	static const char *const l2[] = { "target", "dscp" };
	static const char *const l3[] = { "target", "dscp", "direction" };
	static const char *const li[] = { "target", "dscp", "target_ip", "source_ip", "mode" };
	tw_hist_bounds delay, smoke;
	tw_hist_bounds_delay(&delay);
	tw_hist_bounds_smokeping(&smoke);
	a->r = tw_registry_new();
	const tw_family_spec specs[] = {
		{ TW_METRIC_COUNTER, "twamp_test_packets_sent_total", "Test packets sent.", l2, 2 },
		{ TW_METRIC_COUNTER, "twamp_test_packets_lost_total",
			"Test packets whose loss timeout expired without a reply.", l2, 2 },
		{ TW_METRIC_COUNTER, "twamp_test_packets_duplicated_total",
			"Duplicate test packets per direction.", l3, 3 },
		{ TW_METRIC_GAUGE, "twamp_session_up", "Whether the test session is established.", l2, 2 },
		{ TW_METRIC_GAUGE, "twamp_rtt_jitter_seconds", "RFC 3550 smoothed RTT jitter.", l2, 2 },
		{ TW_METRIC_HISTOGRAM, "twamp_rtt_seconds", "Round-trip time without the reflector's processing.",
			l2, 2, &delay, TW_HIST_NS_AS_SECONDS },
		{ TW_METRIC_HISTOGRAM, "twamp_one_way_delay_seconds", "One-way delay (synchronised clocks only).",
			l3, 3, &smoke, TW_HIST_NS_AS_SECONDS },
		{ TW_METRIC_GAUGE, "twamp_session_info", "Session details; always 1.", li, 5 },
	};
	tw_family **out[] = { &a->sent, &a->lost, &a->dup, &a->up, &a->jitter, &a->rtt, &a->owd,
		&a->info };
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		assert_int_equal(tw_registry_add(a->r, &specs[i], out[i]), 0);
	for (int s = 0; s < sessions; s++) {
		char target[32];
		snprintf(target, sizeof(target), "pop-%03d", s);
		agent_session(a, target, s % 3 ? "0" : "46", s + 1);
	}
	assert_int_equal(tw_registry_add_collector(a->r, tw_process_collect, NULL), 0);
}

static void test_invariants_agent_shaped(void **state)
{
	(void)state;
	struct agent_reg a;
	agent_registry(&a, 20);
	char *text = render(a.r);
	const char *err = expo_check(text, strlen(text));
	if (err)
		fail_msg("%s", err);
	/* the checker itself must reject broken text */
	assert_non_null(expo_check("# HELP a x\n# TYPE a gauge\na 1", 28));
	assert_non_null(expo_check("# HELP a x\n# TYPE a gauge\na 1 1700000000\n", 41));
	static const char bad_inf[] = "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1.0\"} 2\n"
				      "h_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 4\n";
	assert_non_null(expo_check(bad_inf, strlen(bad_inf)));
	static const char split[] = "# HELP a x\n# TYPE a gauge\na 1\n# HELP b x\n# TYPE b gauge\nb 1\n"
				    "# HELP a x\n# TYPE a gauge\na 2\n";
	assert_non_null(expo_check(split, strlen(split)));
	free(text);
	tw_registry_free(a.r);
}

static void test_zero_series_from_creation(void **state)
{
	(void)state;
	struct agent_reg a;
	agent_registry(&a, 0);
	agent_session(&a, "fresh", "0", 0); /* seed 0: nothing observed */
	char *text = render(a.r);
	assert_non_null(strstr(text, "twamp_test_packets_sent_total{target=\"fresh\",dscp=\"0\"} 0\n"));
	assert_non_null(strstr(text, "twamp_test_packets_lost_total{target=\"fresh\",dscp=\"0\"} 0\n"));
	assert_non_null(strstr(text, "twamp_rtt_seconds_bucket{target=\"fresh\",dscp=\"0\",le=\"2.5e-05\"} 0\n"));
	assert_non_null(strstr(text, "twamp_rtt_seconds_bucket{target=\"fresh\",dscp=\"0\",le=\"+Inf\"} 0\n"));
	assert_non_null(strstr(text, "twamp_rtt_seconds_sum{target=\"fresh\",dscp=\"0\"} 0\n"));
	assert_non_null(strstr(text, "twamp_rtt_seconds_count{target=\"fresh\",dscp=\"0\"} 0\n"));
	assert_non_null(strstr(text,
		"twamp_one_way_delay_seconds_count{target=\"fresh\",dscp=\"0\",direction=\"backward\"} 0\n"));
	assert_null(expo_check(text, strlen(text)));
	free(text);
	tw_registry_free(a.r);
}

static size_t count_substr(const char *s, const char *sub)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, sub)) != NULL; p++)
		n++;
	return n;
}

static void test_series_removal(void **state)
{
	(void)state;
	struct agent_reg a;
	agent_registry(&a, 3);
	char *text = render(a.r);
	size_t before = count_substr(text, "target=\"pop-001\"");
	assert_true(before > 40);
	free(text);

	/* one series by its handle */
	tw_counter *c;
	assert_int_equal(tw_registry_counter(a.sent, (const char *[]){ "pop-000", "46" }, &c), 0);
	tw_registry_remove_counter(c);
	text = render(a.r);
	assert_null(strstr(text, "twamp_test_packets_sent_total{target=\"pop-000\""));
	assert_non_null(strstr(text, "twamp_test_packets_lost_total{target=\"pop-000\""));
	free(text);

	/* a whole target at once, across families; others untouched */
	size_t removed = tw_registry_remove_matching(a.r, "target", "pop-001");
	text = render(a.r);
	assert_int_equal(count_substr(text, "target=\"pop-001\""), 0);
	assert_int_equal(count_substr(text, "target=\"pop-002\""), before);
	assert_int_equal(removed, 10); /* sent, lost, 2 dup, up, jitter, rtt, 2 owd, info */
	assert_null(expo_check(text, strlen(text)));
	free(text);
	tw_registry_free(a.r);
}

static int good_collector(void *arg, tw_prom_collect *out)
{
	(void)arg;
	static const char *const n[] = { "version", "revision" };
	static const char *const v[] = { "0.1.0", "abc\"def" };
	tw_prom_collect_family(out, "twamp_agent_build_info", "Build information; always 1.",
		TW_METRIC_GAUGE);
	return tw_prom_collect_sample(out, n, v, 2, 1);
}

static int bad_collector(void *arg, tw_prom_collect *out)
{
	(void)arg;
	tw_prom_collect_sample(out, NULL, NULL, 0, 1); /* no family opened */
	return 0;
}

static void test_collectors(void **state)
{
	(void)state;
	tw_registry *r = tw_registry_new();
	assert_int_equal(tw_registry_add_collector(r, good_collector, NULL), 0);
	assert_int_equal(tw_registry_add_collector(r, tw_process_collect, NULL), 0);
	char *text = render(r);
	assert_non_null(strstr(text, "# TYPE twamp_agent_build_info gauge\n"
				     "twamp_agent_build_info{version=\"0.1.0\",revision=\"abc\\\"def\"} 1\n"));
	assert_non_null(strstr(text, "# TYPE process_cpu_seconds_total counter\n"));
	static const char *const gauges[] = { "process_resident_memory_bytes",
		"process_virtual_memory_bytes", "process_start_time_seconds", "process_open_fds",
		"process_max_fds" };
	for (size_t i = 0; i < 5; i++) {
		char want[96];
		snprintf(want, sizeof(want), "# TYPE %s gauge\n%s ", gauges[i], gauges[i]);
		assert_non_null(strstr(text, want));
	}
	assert_null(expo_check(text, strlen(text)));
	free(text);

	assert_int_equal(tw_registry_add_collector(r, bad_collector, NULL), 0);
	tw_buf b;
	tw_buf_init(&b, 0);
	assert_int_equal(tw_prom_render(r, &b), -EINVAL);
	tw_registry_remove_collector(r, bad_collector, NULL);
	tw_buf_clear(&b);
	assert_int_equal(tw_prom_render(r, &b), 0);
	tw_buf_fini(&b);
	tw_registry_free(r);
}

static void test_cap_and_reuse(void **state)
{
	(void)state;
	tw_registry *r = golden_registry();
	tw_buf b;
	tw_buf_init(&b, 200);
	assert_int_equal(tw_prom_render(r, &b), -ENOBUFS);
	assert_true(b.len <= 200);
	tw_buf_fini(&b);

	tw_buf_init(&b, sizeof(golden) - 1); /* exactly enough */
	assert_int_equal(tw_prom_render(r, &b), 0);
	assert_int_equal(b.len, sizeof(golden) - 1);
	char *first = b.data;
	tw_buf_clear(&b);
	assert_int_equal(tw_prom_render(r, &b), 0);
	assert_ptr_equal(b.data, first); /* the allocation is reused */
	assert_memory_equal(b.data, golden, sizeof(golden) - 1);
	tw_buf_fini(&b);
	tw_registry_free(r);
}

static const char *find_promtool(void)
{
	static const char *const paths[] = { "/usr/bin/promtool", "/usr/local/bin/promtool" };
	for (size_t i = 0; i < 2; i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

static void test_promtool(void **state)
{
	(void)state;
	const char *promtool = find_promtool();
	if (!promtool) {
		tw_test_unavailable("promtool is not installed (Debian package prometheus)");
	}
	struct agent_reg a;
	agent_registry(&a, 5);
	char *text = render(a.r);
	char path[] = "/tmp/tw-prom-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "%s check metrics < %s 2>&1", promtool, path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char out[4096];
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	int status = pclose(p);
	unlink(path);
	if (n)
		print_message("promtool: %s\n", out);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(n, 0);
	/* promtool does notice problems: a counter without _total is linted */
	static const char bad[] = "# HELP foo x\n# TYPE foo counter\nfoo 1\n";
	memcpy(path, "/tmp/tw-prom-XXXXXX", sizeof(path));
	fd = mkstemp(path);
	assert_int_equal(write(fd, bad, sizeof(bad) - 1), (ssize_t)sizeof(bad) - 1);
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s check metrics < %s >/dev/null 2>&1", promtool, path);
	status = system(cmd);
	unlink(path);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	free(text);
	tw_registry_free(a.r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_golden_in_other_locales),
		cmocka_unit_test(test_special_values),
		cmocka_unit_test(test_invariants_agent_shaped),
		cmocka_unit_test(test_zero_series_from_creation),
		cmocka_unit_test(test_series_removal),
		cmocka_unit_test(test_collectors),
		cmocka_unit_test(test_cap_and_reuse),
		cmocka_unit_test(test_promtool),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	tw_test_comma_locale_cleanup();
	return rc;
}
