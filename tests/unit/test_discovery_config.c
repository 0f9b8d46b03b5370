/*
 * test_discovery_config.c - the target_groups[].discovery and exclude_self
 * keys: every source parses into tw_config_discovery with its defaults,
 * and each kind of mistake gives its exact FILE:LINE:COL error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "config_cases.h"

#define SEC INT64_C(1000000000)

static void test_dns(void **state)
{
	(void)state;
	tw_config *cfg = load_ok("target_groups:\n"
				 "  - name: mesh\n"
				 "    port: 8620\n"
				 "    discovery:\n"
				 "      dns: {name: twamp-agent.monitoring.svc.cluster.local}\n");
	const tw_config_group *g = &cfg->groups[0];
	assert_non_null(g->discovery);
	assert_int_equal(g->discovery->kind, TW_CONFIG_DISCOVERY_DNS);
	assert_string_equal(g->discovery->dns_name, "twamp-agent.monitoring.svc.cluster.local");
	assert_int_equal(g->discovery->dns_port, 0);
	assert_int_equal(g->discovery->refresh_ns, 30 * SEC);
	assert_true(g->exclude_self);
	assert_int_equal(g->discovery->loc.line, 5);
	assert_int_equal(g->discovery->loc.col, 7);
	assert_int_equal(g->n, 0);
	assert_int_equal(g->s.port, 8620);
	tw_config_free(cfg);

	cfg = load_ok("target_groups:\n"
		      "  - name: mesh\n"
		      "    exclude_self: false\n"
		      "    discovery:\n"
		      "      dns: {name: mesh.example, refresh: 5s, port: 862}\n"
		      "    targets: [{name: a, host: 192.0.2.1}]\n");
	g = &cfg->groups[0];
	assert_int_equal(g->discovery->refresh_ns, 5 * SEC);
	assert_int_equal(g->discovery->dns_port, 862);
	assert_false(g->exclude_self);
	assert_int_equal(g->n, 1);
	tw_config_free(cfg);
}

static void test_file_sd(void **state)
{
	(void)state;
	tw_config *cfg = load_ok("target_groups:\n"
				 "  - name: fleet\n"
				 "    discovery:\n"
				 "      file_sd:\n"
				 "        files: [\"/etc/twamp/targets/*.json\", \"targets/*.yml\", a.yaml]\n");
	const tw_config_discovery *d = cfg->groups[0].discovery;
	assert_int_equal(d->kind, TW_CONFIG_DISCOVERY_FILE_SD);
	assert_int_equal(d->files.n, 3);
	assert_string_equal(d->files.v[0], "/etc/twamp/targets/*.json");
	assert_string_equal(d->files.v[1], "/etc/twamp/targets/*.yml"); /* relative to the config */
	assert_string_equal(d->files.v[2], "/etc/twamp/a.yaml");
	assert_int_equal(d->refresh_ns, 300 * SEC);
	tw_config_free(cfg);
}

static void test_http_sd(void **state)
{
	(void)state;
	tw_config *cfg = load_ok("target_groups:\n"
				 "  - name: cmdb\n"
				 "    discovery:\n"
				 "      http_sd: {url: \"https://cmdb.example/twamp\", tls_ca_file: ca.pem,\n"
				 "                bearer_token_file: /run/secrets/token, timeout: 2s}\n"
				 "  - name: plain\n"
				 "    discovery: {http_sd: {url: \"http://127.0.0.1:8080/sd\", refresh: 10s}}\n");
	const tw_config_discovery *d = cfg->groups[0].discovery;
	assert_int_equal(d->kind, TW_CONFIG_DISCOVERY_HTTP_SD);
	assert_string_equal(d->url, "https://cmdb.example/twamp");
	assert_string_equal(d->tls_ca_file, "/etc/twamp/ca.pem");
	assert_string_equal(d->bearer_token_file, "/run/secrets/token");
	assert_int_equal(d->timeout_ns, 2 * SEC);
	assert_int_equal(d->refresh_ns, 60 * SEC);
	d = cfg->groups[1].discovery;
	assert_string_equal(d->url, "http://127.0.0.1:8080/sd");
	assert_null(d->tls_ca_file);
	assert_null(d->bearer_token_file);
	assert_int_equal(d->timeout_ns, 10 * SEC);
	assert_int_equal(d->refresh_ns, 10 * SEC);
	tw_config_free(cfg);
}

static void test_absent(void **state)
{
	(void)state;
	tw_config *cfg = load_ok("target_groups:\n  - name: wan\n    targets: [{name: a, host: b}]\n");
	assert_null(cfg->groups[0].discovery);
	assert_true(cfg->groups[0].exclude_self);
	tw_config_free(cfg);
}

typedef struct bad_case {
	const char *yaml;
	const char *msg;
} bad_case;

#define G "target_groups:\n  - name: g\n"

static const bad_case bad_cases[] = {
	{ G "    discovery:\n",
	  "agent.yml:3:15: target_groups[0].discovery: found nothing, expected a mapping with one "
	  "discovery source: dns, file_sd or http_sd" },
	{ G "    discovery: {}\n",
	  "agent.yml:3:16: target_groups[0].discovery: found no discovery source, expected one of "
	  "dns, file_sd or http_sd" },
	{ G "    discovery: [dns]\n",
	  "agent.yml:3:16: target_groups[0].discovery: found a list, expected a mapping with one "
	  "discovery source: dns, file_sd or http_sd" },
	{ G "    discovery:\n      dns: {name: a.example}\n      file_sd: {files: [a.json]}\n",
	  "agent.yml:5:16: target_groups[0].discovery.file_sd: found a second discovery source (dns "
	  "is given too), expected exactly one of dns, file_sd or http_sd" },
	{ G "    discovery:\n      dns:\n",
	  "agent.yml:4:11: target_groups[0].discovery.dns: found nothing, expected a mapping such as "
	  "{name: twamp.monitoring.svc.cluster.local, refresh: 30s}" },
	{ G "    discovery:\n      dns: {refresh: 10s}\n",
	  "agent.yml:4:12: target_groups[0].discovery.dns: missing required key \"name\"" },
	{ G "    discovery:\n      dns: {name: \"bad name\"}\n",
	  "agent.yml:4:19: target_groups[0].discovery.dns.name: found \"bad name\", expected a host "
	  "name or IP address such as fra.example.net, 192.0.2.1 or 2001:db8::1" },
	{ G "    discovery:\n      dns: {name: a.example, refresh: 100ms}\n",
	  "agent.yml:4:39: target_groups[0].discovery.dns.refresh: found \"100ms\", expected a "
	  "duration from 1s to 24h" },
	{ G "    discovery:\n      dns: {name: a.example, port: 0}\n",
	  "agent.yml:4:36: target_groups[0].discovery.dns.port: found \"0\", expected an integer "
	  "from 1 to 65535" },
	{ G "    discovery:\n      dns: {name: a.example, ttl: 5s}\n",
	  "agent.yml:4:30: target_groups[0].discovery.dns.ttl: unknown key; valid keys here: name, "
	  "refresh, port" },
	{ G "    discovery:\n      dsn: {name: a.example}\n",
	  "agent.yml:4:7: target_groups[0].discovery.dsn: unknown key, did you mean \"dns\"?" },
	{ G "    discovery:\n      file_sd: {files: []}\n",
	  "agent.yml:4:24: target_groups[0].discovery.file_sd.files: found an empty list, expected "
	  "a list of file paths" },
	{ G "    discovery:\n      file_sd: {files: /etc/t.json}\n",
	  "agent.yml:4:24: target_groups[0].discovery.file_sd.files: found \"/etc/t.json\", expected "
	  "a list of file paths" },
	{ G "    discovery:\n      file_sd: {files: [/etc/t.json, /etc/t.txt]}\n",
	  "agent.yml:4:38: target_groups[0].discovery.file_sd.files[1]: found \"/etc/t.txt\", "
	  "expected a file name ending in .json, .yml or .yaml" },
	{ G "    discovery:\n      file_sd: {files: [\"/etc/*/t.json\"]}\n",
	  "agent.yml:4:25: target_groups[0].discovery.file_sd.files[0]: found \"/etc/*/t.json\", "
	  "expected a path with wildcards in the file name only (directories are watched, not "
	  "matched)" },
	{ G "    discovery:\n      http_sd: {url: \"ftp://x.example/sd\"}\n",
	  "agent.yml:4:22: target_groups[0].discovery.http_sd.url: found \"ftp://x.example/sd\", "
	  "expected an http:// or https:// URL with a host, such as https://cmdb.example/twamp" },
	{ G "    discovery:\n      http_sd: {url: \"https:///sd\"}\n",
	  "agent.yml:4:22: target_groups[0].discovery.http_sd.url: found \"https:///sd\", expected "
	  "an http:// or https:// URL with a host, such as https://cmdb.example/twamp" },
	{ G "    discovery:\n      http_sd: {url: \"http://a b/\"}\n",
	  "agent.yml:4:22: target_groups[0].discovery.http_sd.url: found \"http://a b/\", expected 1 "
	  "to 2048 printable ASCII characters without spaces" },
	{ G "    discovery:\n      http_sd: {url: \"http://a/\", timeout: 1ms}\n",
	  "agent.yml:4:44: target_groups[0].discovery.http_sd.timeout: found \"1ms\", expected a "
	  "duration from 10ms to 10m" },
	{ G "    discovery:\n      http_sd: {refresh: 1m}\n",
	  "agent.yml:4:16: target_groups[0].discovery.http_sd: missing required key \"url\"" },
	{ G "    exclude_self: maybe\n",
	  "agent.yml:3:19: target_groups[0].exclude_self: found \"maybe\", expected true or false" },
	{ G "    discovry: {dns: {name: x}}\n",
	  "agent.yml:3:5: target_groups[0].discovry: unknown key, did you mean \"discovery\"?" },
};

static void test_bad(void **state)
{
	(void)state;
	int failed = 0;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		char what[32];
		snprintf(what, sizeof(what), "%zu", i);
		failed += check_bad(what, bad_cases[i].yaml, bad_cases[i].msg);
	}
	assert_int_equal(failed, 0);

	/* discovery belongs to groups, not to targets (the list of valid keys
	 * that follows grows with the settings, so only its start is fixed). */
	tw_config *cfg = NULL;
	tw_config_error err;
	const char *y = "targets: [{name: a, host: b, discovery: {}}]\n";
	assert_int_equal(tw_config_load_buffer("agent.yml", NULL, y, strlen(y), &cfg, &err), -22);
	const char *want = "agent.yml:1:30: targets[0].discovery: unknown key; valid keys here: name, host, port,";
	assert_int_equal(strncmp(err.msg, want, strlen(want)), 0);
}

static void test_schema_print(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	tw_config_schema_print(f);
	fclose(f);
	assert_non_null(strstr(buf, "target_groups[].discovery.dns.name"));
	assert_non_null(strstr(buf, "target_groups[].discovery.file_sd.files"));
	assert_non_null(strstr(buf, "target_groups[].discovery.http_sd.bearer_token_file"));
	assert_non_null(strstr(buf, "target_groups[].exclude_self"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_file_sd),
		cmocka_unit_test(test_http_sd),
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_schema_print),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
