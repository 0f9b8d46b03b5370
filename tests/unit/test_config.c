/*
 * test_config.c - the YAML loader: a table of bad configurations with the
 * exact error each must produce, inheritance and defaults, the embedded
 * default, every example under config/examples, the summary line.
 *
 * `test_config --write-corpus DIR` writes every configuration of this file
 * (good and bad) into DIR as the seed corpus of fuzz_config.
 */
#include <dirent.h>
#include <errno.h>
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

#define MS INT64_C(1000000)
#define SEC INT64_C(1000000000)

typedef struct bad_case {
	const char *what;
	const char *yaml;
	const char *msg; /* the exact, complete error text */
} bad_case;

/* All loaded as "agent.yml". */
static const bad_case bad_cases[] = {
	{ "keyed light without identity",
	  "reflector: {key_file: k, light: {listen: [\":862\"], security: authenticated}}\n",
	  "agent.yml:1:62: reflector.light.security: a keyed mode needs identity (an identity in "
	  "reflector.key_file)" },
	{ "keyed stamp without key_file",
	  "reflector:\n  stamp: {listen: [\":862\"], security: authenticated, identity: a}\n",
	  "agent.yml:2:10: reflector.stamp: a keyed mode needs reflector.key_file (a pfs file or a Secret "
	  "directory)" },
	{ "stamp encrypted",
	  "reflector:\n  stamp: {listen: [\":862\"], security: encrypted}\n",
	  "agent.yml:2:39: reflector.stamp.security: found \"encrypted\", expected auto, "
	  "unauthenticated or authenticated" },
	{ "light without listen",
	  "reflector:\n  light: {stateless: true}\n",
	  "agent.yml:2:10: reflector.light: missing required key \"listen\"" },
	{ "unknown feature",
	  "targets: [{name: a, host: b, features: [isc, turbo]}]\n",
	  "agent.yml:1:46: targets[0].features[1]: found \"turbo\", expected one of isc, reflect_octets, "
	  "symmetric_size, dscp_ecn, ptp" },
	{ "unknown key",
	  "targets:\n  - {name: a, host: b, colour: red}\n",
	  "agent.yml:2:24: targets[0].colour: unknown key; valid keys here: name, host, port, "
	  "interval, padding, dscp, loss_timeout, session_timeout, schedule, labels, source_address, "
	  "source_interface, ip_version, buckets, ipdv_histogram, mode, security, identity, key_file, "
	  "max_kdf_count, features, ssid, stamp_tlvs" },
	{ "unknown top-level key",
	  "reflector: {}\nweb: {listen: \":9862\"}\n",
	  "agent.yml:2:1: web: unknown key; valid keys here: reflector, defaults, targets, "
	  "target_groups" },
	{ "near-miss key",
	  "defaults:\n  intervall: 1s\n",
	  "agent.yml:2:3: defaults.intervall: unknown key, did you mean \"interval\"?" },
	{ "near-miss key, transposed letters",
	  "targets:\n  - name: a\n    host: b\n    dcsp: 46\n",
	  "agent.yml:4:5: targets[0].dcsp: unknown key, did you mean \"dscp\"?" },
	{ "near-miss key, wrong case",
	  "reflector:\n  Listen: [\"[::]:862\"]\n",
	  "agent.yml:2:3: reflector.Listen: unknown key, did you mean \"listen\"?" },
	{ "wrong type: list for an integer",
	  "defaults:\n  padding: [1]\n",
	  "agent.yml:2:12: defaults.padding: found a list, expected an integer from 0 to 9104" },
	{ "wrong type: string for a bool",
	  "defaults:\n  ipdv_histogram: yes\n",
	  "agent.yml:2:19: defaults.ipdv_histogram: found \"yes\", expected true or false" },
	{ "wrong type: scalar for a section",
	  "reflector: on\n",
	  "agent.yml:1:12: reflector: found \"on\", expected a mapping of reflector settings such as "
	  "{listen: [\"[::]:862\"]}" },
	{ "wrong type: mapping for the target list",
	  "targets: {name: a, host: b}\n",
	  "agent.yml:1:10: targets: found a mapping, expected a list of targets such as [{name: fra, "
	  "host: fra.example.net}]" },
	{ "wrong type: scalar list item",
	  "targets: [a.example.net]\n",
	  "agent.yml:1:11: targets[0]: found \"a.example.net\", expected a target such as {name: fra, "
	  "host: fra.example.net}" },
	{ "missing value",
	  "defaults:\n  interval:\n  dscp: 1\n",
	  "agent.yml:2:12: defaults.interval: found nothing, expected a duration such as 100ms, 1s or "
	  "2m30s" },
	{ "out of range: dscp",
	  "defaults:\n  dscp: 64\n",
	  "agent.yml:2:9: defaults.dscp: found \"64\", expected an integer from 0 to 63" },
	{ "out of range: negative padding",
	  "defaults: {padding: -1}\n",
	  "agent.yml:1:21: defaults.padding: found \"-1\", expected an integer from 0 to 9104" },
	{ "out of range: target port 0",
	  "targets:\n  - {name: a, host: b, port: 0}\n",
	  "agent.yml:2:30: targets[0].port: found \"0\", expected an integer from 1 to 65535" },
	{ "leading zero (YAML 1.1 octal)",
	  "defaults: {dscp: 046}\n",
	  "agent.yml:1:18: defaults.dscp: found \"046\", expected an integer from 0 to 63 without "
	  "leading zeros" },
	{ "out of range: padding",
	  "defaults: {padding: 9105}\n",
	  "agent.yml:1:21: defaults.padding: found \"9105\", expected an integer from 0 to 9104" },
	{ "out of range: interval below 1ms",
	  "defaults: {interval: 500us}\n",
	  "agent.yml:1:22: defaults.interval: found \"500us\", expected a duration from 1ms to 1h" },
	{ "out of range: zero loss_timeout",
	  "defaults: {loss_timeout: 0}\n",
	  "agent.yml:1:26: defaults.loss_timeout: found \"0\", expected a duration from 1ms to 1h" },
	{ "not a power of two",
	  "reflector: {pbkdf2_count: 3000}\n",
	  "agent.yml:1:27: reflector.pbkdf2_count: found \"3000\", expected a power of two from 1024 "
	  "to 2147483648" },
	{ "bad duration (the example from the brief)",
	  "targets:\n"
	  "  - name: a\n"
	  "    host: a.example.net\n"
	  "  - name: b\n"
	  "    host: b.example.net\n"
	  "  - name: c\n"
	  "    interval: 10x\n"
	  "    host: c.example.net\n",
	  "agent.yml:7:15: targets[2].interval: found \"10x\", expected a duration such as 100ms, 1s "
	  "or 2m30s" },
	{ "bare number for a duration",
	  "defaults: {loss_timeout: 2}\n",
	  "agent.yml:1:26: defaults.loss_timeout: found \"2\", expected a duration such as 100ms, 1s "
	  "or 2m30s (a number needs a unit)" },
	{ "bad enum",
	  "defaults: {schedule: random}\n",
	  "agent.yml:1:22: defaults.schedule: found \"random\", expected fixed or poisson" },
	{ "bad enum, several choices",
	  "defaults: {security: open}\n",
	  "agent.yml:1:22: defaults.security: found \"open\", expected auto, unauthenticated, "
	  "authenticated, encrypted or mixed" },
	{ "bad address: no port",
	  "reflector:\n  listen: [\"192.0.2.1\"]\n",
	  "agent.yml:2:12: reflector.listen[0]: found \"192.0.2.1\", expected HOST:PORT such as "
	  "0.0.0.0:862, [::]:862 or localhost:862 (IPv6 in brackets)" },
	{ "bad address: IPv6 without brackets",
	  "reflector:\n  listen: [\"::1:862\"]\n",
	  "agent.yml:2:12: reflector.listen[0]: found \"::1:862\", expected HOST:PORT such as "
	  "0.0.0.0:862, [::]:862 or localhost:862 (IPv6 in brackets)" },
	{ "bad address: port too large",
	  "reflector:\n  listen: [\"[::1]:65536\"]\n",
	  "agent.yml:2:12: reflector.listen[0]: found \"[::1]:65536\", expected HOST:PORT with a port "
	  "from 0 to 65535" },
	{ "bad address: listed twice",
	  "reflector:\n  listen: [\"[::]:862\", \"0.0.0.0:862\", \"[::]:862\"]\n",
	  "agent.yml:2:39: reflector.listen[2]: the same address as listen[0]" },
	{ "bad host",
	  "targets:\n  - {name: a, host: 192.0.2.256}\n",
	  "agent.yml:2:21: targets[0].host: found \"192.0.2.256\", expected a host name or IP address "
	  "such as fra.example.net, 192.0.2.1 or 2001:db8::1" },
	{ "bad source address",
	  "defaults: {source_address: eth0}\n",
	  "agent.yml:1:28: defaults.source_address: found \"eth0\", expected an IP address such as "
	  "192.0.2.1 or 2001:db8::1" },
	{ "bad interface name",
	  "defaults: {source_interface: a-very-long-interface-name}\n",
	  "agent.yml:1:30: defaults.source_interface: found \"a-very-long-interface-name\", expected a "
	  "network interface name such as eth0 (1 to 15 characters, no '/', ':' or spaces)" },
	{ "bad CIDR: prefix too long",
	  "reflector:\n  allow: [10.0.0.0/33]\n",
	  "agent.yml:2:11: reflector.allow[0]: found \"10.0.0.0/33\", expected a prefix length of at "
	  "most 32 (IPv4) or 128 (IPv6)" },
	{ "bad CIDR: host bits set",
	  "reflector:\n  allow: [\"2001:db8::1/32\"]\n",
	  "agent.yml:2:11: reflector.allow[0]: found \"2001:db8::1/32\", expected 2001:db8::/32 (no "
	  "address bits may be set beyond the prefix length)" },
	{ "bad CIDR: not an address",
	  "reflector:\n  allow: [localhost]\n",
	  "agent.yml:2:11: reflector.allow[0]: found \"localhost\", expected an address or prefix "
	  "such as 10.0.0.0/8 or 2001:db8::/32" },
	{ "empty allow list",
	  "reflector:\n  allow: []\n",
	  "agent.yml:2:10: reflector.allow: found an empty list, expected a list of addresses or "
	  "prefixes such as [10.0.0.0/8, \"2001:db8::/32\"] (omit the key to allow everyone)" },
	{ "bad mode",
	  "reflector:\n  modes: [unauthenticated, light]\n",
	  "agent.yml:2:28: reflector.modes[1]: found \"light\", expected one of unauthenticated, "
	  "authenticated, encrypted, mixed" },
	{ "bad port range",
	  "reflector: {test_port_range: 19000-18000}\n",
	  "agent.yml:1:30: reflector.test_port_range: found \"19000-18000\", expected a port range "
	  "such as 18760-18999 (ports 1-65535, low-high)" },
	{ "duplicate target identity",
	  "targets:\n"
	  "  - {name: fra, host: fra.example.net, dscp: 46}\n"
	  "target_groups:\n"
	  "  - name: wan\n"
	  "    dscp: 46\n"
	  "    targets:\n"
	  "      - {name: fra, host: fra2.example.net}\n",
	  "agent.yml:7:9: target_groups[0].targets[0]: same series as targets[0] at line 2, column 5 "
	  "(target \"fra\", dscp 46 and the same labels); change the name, dscp or labels of one of "
	  "them" },
	{ "duplicate target identity, labels inherited",
	  "defaults: {labels: {site: x}}\n"
	  "targets:\n"
	  "  - {name: a, host: a.example.net}\n"
	  "  - {name: b, host: b.example.net}\n"
	  "  - {name: a, host: c.example.net, labels: {site: x}}\n",
	  "agent.yml:5:5: targets[2]: same series as targets[0] at line 3, column 5 (target \"a\", "
	  "dscp 0 and the same labels); change the name, dscp or labels of one of them" },
	{ "duplicate group name",
	  "target_groups:\n  - {name: wan}\n  - {name: lan}\n  - {name: wan}\n",
	  "agent.yml:4:5: target_groups[2]: duplicate group name \"wan\" (first at target_groups[0], "
	  "line 2)" },
	{ "reserved label",
	  "defaults:\n  labels: {instance: x}\n",
	  "agent.yml:2:12: defaults.labels: found \"instance\", expected a label name that is not "
	  "reserved (le, quantile, instance, job, target, dscp, direction, reason, side, target_ip, "
	  "source_ip, port, mode, padding_bytes, timestamping, protocol, features, result, __*)" },
	{ "reserved label prefix",
	  "targets:\n  - {name: a, host: b, labels: {__name__: x}}\n",
	  "agent.yml:2:33: targets[0].labels: found \"__name__\", expected a label name that is not "
	  "reserved (le, quantile, instance, job, target, dscp, direction, reason, side, target_ip, "
	  "source_ip, port, mode, padding_bytes, timestamping, protocol, features, result, __*)" },
	{ "invalid label name",
	  "defaults:\n  labels:\n    data-center: fra\n",
	  "agent.yml:3:5: defaults.labels: found \"data-center\", expected a label name: a letter or "
	  "'_', then letters, digits or '_'" },
	{ "label name starting with a digit",
	  "defaults: {labels: {1st: x}}\n",
	  "agent.yml:1:21: defaults.labels: found \"1st\", expected a label name: a letter or '_', "
	  "then letters, digits or '_'" },
	{ "label value not a string",
	  "defaults: {labels: {site: [a, b]}}\n",
	  "agent.yml:1:27: defaults.labels.site: found a list, expected a string" },
	{ "duplicate label",
	  "defaults:\n  labels:\n    site: a\n    site: b\n",
	  "agent.yml:4:5: defaults.labels.site: duplicate key (first at line 3, column 5)" },
	{ "missing name",
	  "targets:\n  - host: a.example.net\n",
	  "agent.yml:2:5: targets[0]: missing required key \"name\"" },
	{ "missing host",
	  "target_groups:\n  - name: wan\n    targets:\n      - name: a\n        dscp: 1\n",
	  "agent.yml:4:9: target_groups[0].targets[0]: missing required key \"host\"" },
	{ "missing group name",
	  "target_groups:\n  - targets: []\n",
	  "agent.yml:2:5: target_groups[0]: missing required key \"name\"" },
	{ "empty target name",
	  "targets:\n  - {name: \"\", host: b}\n",
	  "agent.yml:2:12: targets[0].name: found \"\", expected 1 to 128 octets without control "
	  "characters" },
	{ "YAML syntax error",
	  "targets:\n  - {name: a, host: b\n",
	  "agent.yml:3:1: YAML syntax error: did not find expected ',' or '}' (while parsing a flow "
	  "mapping at line 2, column 5)" },
	{ "YAML syntax error: bad indentation",
	  "defaults:\n  dscp: 1\n padding: 2\n",
	  "agent.yml:3:2: YAML syntax error: did not find expected key (while parsing a block "
	  "mapping at line 1, column 1)" },
	{ "YAML syntax error: tab indentation",
	  "defaults:\n\tdscp: 1\n",
	  "agent.yml:2:1: YAML syntax error: found character that cannot start any token (while "
	  "scanning for the next token at line 2, column 1)" },
	{ "YAML syntax error: undefined alias",
	  "targets: *nope\n",
	  "agent.yml:1:10: YAML syntax error: found undefined alias" },
	{ "not UTF-8",
	  "defaults:\n  labels: {site: \"caf\xff\"}\n",
	  "agent.yml:2:22: YAML syntax error: invalid leading UTF-8 octet (octet 0xff)" },
	{ "not UTF-8: broken sequence",
	  "defaults:\n  labels: {site: \"caf\xe9\"}\n",
	  "agent.yml:2:23: YAML syntax error: invalid trailing UTF-8 octet (octet 0x22)" },
	{ "duplicate key",
	  "defaults:\n  dscp: 1\n  padding: 0\n  dscp: 2\n",
	  "agent.yml:4:3: defaults.dscp: duplicate key (first at line 2, column 3)" },
	{ "duplicate top-level key",
	  "targets: []\nreflector: {}\ntargets: []\n",
	  "agent.yml:3:1: targets: duplicate key (first at line 1, column 1)" },
	{ "empty file", "", "agent.yml:1:1: the configuration is empty, expected a mapping with the "
			   "keys reflector, defaults, targets and target_groups" },
	{ "only comments", "# nothing here\n\n",
	  "agent.yml:1:1: the configuration is empty, expected a mapping with the keys reflector, "
	  "defaults, targets and target_groups" },
	{ "null document", "---\n~\n",
	  "agent.yml:2:1: the configuration is empty, expected a mapping with the keys reflector, "
	  "defaults, targets and target_groups" },
	{ "non-mapping top level: list", "- name: a\n  host: b\n",
	  "agent.yml:1:1: found a list, expected a mapping with the keys reflector, defaults, targets "
	  "and target_groups" },
	{ "non-mapping top level: scalar", "hello\n",
	  "agent.yml:1:1: found \"hello\", expected a mapping with the keys reflector, defaults, "
	  "targets and target_groups" },
	{ "two documents", "targets: []\n---\ntargets: []\n",
	  "agent.yml:2:1: found a second YAML document, expected one document per file" },
	{ "non-scalar key", "? [a]\n: 1\n",
	  "agent.yml:1:3: found a list as a key, expected a key name" },
	{ "buckets not increasing",
	  "defaults:\n  buckets: [1ms, 5ms, 5ms]\n",
	  "agent.yml:2:23: defaults.buckets[2]: found \"5ms\", expected a bound above 5ms (bounds must "
	  "increase)" },
	{ "bad bucket preset",
	  "defaults: {buckets: exponential}\n",
	  "agent.yml:1:21: defaults.buckets: found \"exponential\", expected default, smokeping or a "
	  "list of durations such as [1ms, 10ms, 100ms]" },
	{ "zero bucket",
	  "defaults: {buckets: [0, 1ms]}\n",
	  "agent.yml:1:22: defaults.buckets[0]: found \"0\", expected a duration from 1ns to 1h" },
	{ "keyed mode without key_file",
	  "reflector:\n  listen: [\"[::]:862\"]\n  modes: [unauthenticated, encrypted]\n",
	  "agent.yml:3:10: reflector.modes: keyed modes (authenticated, encrypted, mixed) need "
	  "reflector.key_file (a pfs file or a Secret directory)" },
	{ "keyed security without identity, inherited",
	  "defaults: {security: authenticated, key_file: /k}\n"
	  "targets:\n  - {name: a, host: b}\n",
	  "agent.yml:3:5: targets[0]: security authenticated (from defaults) needs identity and "
	  "key_file" },
	{ "keyed security from a group",
	  "target_groups:\n  - name: g\n    security: mixed\n    targets: [{name: a, host: b}]\n",
	  "agent.yml:4:15: target_groups[0].targets[0]: security mixed (from target_groups[0]) needs "
	  "identity and key_file" },
	{ "identity without key_file",
	  "targets:\n  - {name: a, host: b, identity: probe}\n",
	  "agent.yml:2:5: targets[0]: identity needs key_file as well" },
	{ "identity with a space",
	  "defaults: {identity: \"my probe\"}\n",
	  "agent.yml:1:22: defaults.identity: found \"my probe\", expected 1 to 80 printable ASCII "
	  "characters without spaces" },
	{ "ip_version against a literal host",
	  "defaults: {ip_version: 4}\ntargets:\n  - {name: a, host: \"2001:db8::1\"}\n",
	  "agent.yml:3:5: targets[0]: host 2001:db8::1 is IPv6 but ip_version (from defaults) is 4" },
	{ "source address family against host",
	  "targets:\n  - {name: a, host: 192.0.2.1, source_address: \"::1\"}\n",
	  "agent.yml:2:5: targets[0]: host 192.0.2.1 is IPv4 but source_address ::1 is IPv6" },
	{ "NUL inside a string",
	  "targets:\n  - {name: \"a\\0b\", host: b}\n",
	  "agent.yml:2:12: targets[0].name: found a string containing a NUL character" },
	{ "too many buckets",
	  "defaults:\n  buckets: [1ms, 2ms, 3ms, 4ms, 5ms, 6ms, 7ms, 8ms, 9ms, 10ms, 11ms, 12ms, 13ms, "
	  "14ms, 15ms, 16ms, 17ms, 18ms, 19ms, 20ms, 21ms, 22ms, 23ms, 24ms, 25ms, 26ms, 27ms, 28ms, "
	  "29ms, 30ms, 31ms, 32ms, 33ms, 34ms, 35ms, 36ms, 37ms, 38ms, 39ms, 40ms, 41ms, 42ms, 43ms, "
	  "44ms, 45ms, 46ms, 47ms, 48ms, 49ms, 50ms, 51ms, 52ms, 53ms, 54ms, 55ms, 56ms, 57ms, 58ms, "
	  "59ms, 60ms, 61ms, 62ms, 63ms, 64ms, 65ms]\n",
	  "agent.yml:2:12: defaults.buckets: found a list of 65 items, expected at most 64" },
};

static void test_bad_configs(void **state)
{
	(void)state;
	int failures = 0;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		failures += check_bad(bad_cases[i].what, bad_cases[i].yaml, bad_cases[i].msg);
	assert_int_equal(failures, 0);
}

/* Line and column are also given as numbers. */
static void test_error_position(void **state)
{
	(void)state;
	const char *y = "targets:\n  - name: a\n    host: b\n    padding: lots\n";
	tw_config *cfg;
	tw_config_error err;
	assert_int_equal(tw_config_load_buffer("x.yml", NULL, y, strlen(y), &cfg, &err), -EINVAL);
	assert_int_equal(err.line, 4);
	assert_int_equal(err.col, 14);
}

/* ---- good configurations ---- */

static const char *label(const tw_config_settings *s, const char *name)
{
	for (size_t i = 0; i < s->labels.n; i++)
		if (strcmp(s->labels.v[i].name, name) == 0)
			return s->labels.v[i].value;
	return NULL;
}

static const char inherit_yaml[] =
	"defaults:\n"
	"  interval: 2s\n"
	"  padding: 100\n"
	"  dscp: 10\n"
	"  loss_timeout: 4s\n"
	"  labels: {site: fra, env: prod, team: net}\n"
	"  buckets: [1ms, 10ms]\n"
	"targets:\n"
	"  - {name: top, host: top.example.net, padding: 7}\n"
	"target_groups:\n"
	"  - name: wan\n"
	"    interval: 500ms\n"
	"    dscp: 46\n"
	"    labels: {env: staging, team: \"\", path: wan}\n"
	"    targets:\n"
	"      - name: a\n"
	"        host: a.example.net\n"
	"      - name: b\n"
	"        host: b.example.net\n"
	"        interval: 50ms\n"
	"        loss_timeout: 1s\n"
	"        labels: {env: dev, team: noc}\n"
	"        buckets: smokeping\n"
	"  - name: empty\n";

static void test_inheritance(void **state)
{
	(void)state;
	tw_config *cfg = load_ok(inherit_yaml);
	assert_int_equal(cfg->n_targets, 3);
	assert_int_equal(cfg->n_groups, 2);
	/* Top-level targets come first; defaults apply, own settings win. */
	const tw_config_target *top = &cfg->targets[0];
	assert_string_equal(top->name, "top");
	assert_null(top->group);
	assert_true(top->s.interval_ns == 2 * SEC);
	assert_int_equal(top->s.padding, 7);
	assert_int_equal(top->s.dscp, 10);
	assert_int_equal(top->s.labels.n, 3);
	assert_int_equal(top->s.buckets.n, 2);
	assert_int_equal(top->s.buckets.preset, TW_CONFIG_BUCKETS_CUSTOM);
	/* Group beats defaults; "" removes an inherited label. */
	const tw_config_target *a = &cfg->targets[1];
	assert_string_equal(a->group, "wan");
	assert_true(a->s.interval_ns == 500 * MS);
	assert_int_equal(a->s.dscp, 46);
	assert_int_equal(a->s.padding, 100);
	assert_string_equal(label(&a->s, "env"), "staging");
	assert_string_equal(label(&a->s, "site"), "fra");
	assert_string_equal(label(&a->s, "path"), "wan");
	assert_null(label(&a->s, "team"));
	assert_int_equal(a->s.labels.n, 3);
	assert_true(a->s.session_timeout_ns == 4 * SEC);
	/* Target beats group; it can bring a removed label back. */
	const tw_config_target *b = &cfg->targets[2];
	assert_true(b->s.interval_ns == 50 * MS);
	assert_string_equal(label(&b->s, "env"), "dev");
	assert_string_equal(label(&b->s, "team"), "noc");
	assert_int_equal(b->s.buckets.preset, TW_CONFIG_BUCKETS_SMOKEPING);
	/* session_timeout follows the target's own loss_timeout. */
	assert_true(b->s.loss_timeout_ns == 1 * SEC);
	assert_true(b->s.session_timeout_ns == 1 * SEC);
	/* Labels are sorted by name. */
	for (size_t i = 1; i < b->s.labels.n; i++)
		assert_true(strcmp(b->s.labels.v[i - 1].name, b->s.labels.v[i].name) < 0);
	/* Groups: their range of targets and their own resolved settings. */
	assert_string_equal(cfg->groups[0].name, "wan");
	assert_int_equal(cfg->groups[0].first, 1);
	assert_int_equal(cfg->groups[0].n, 2);
	assert_int_equal(cfg->groups[0].s.dscp, 46);
	assert_null(label(&cfg->groups[0].s, "team"));
	assert_int_equal(cfg->groups[1].n, 0);
	assert_int_equal(cfg->groups[1].s.dscp, 10);
	/* Locations point at each entry. */
	assert_string_equal(a->loc.file, "good.yml");
	assert_int_equal(a->loc.line, 16);
	assert_int_equal(a->loc.col, 9);
	tw_config_free(cfg);
}

static void test_builtin_defaults(void **state)
{
	(void)state;
	tw_config *cfg = load_ok("targets: [{name: x, host: 192.0.2.1}]\n");
	const tw_config_settings *s = &cfg->targets[0].s;
	assert_int_equal(s->port, 862);
	assert_true(s->interval_ns == 1 * SEC);
	assert_int_equal(s->padding, 27);
	assert_int_equal(s->dscp, 0);
	assert_true(s->loss_timeout_ns == 2 * SEC);
	assert_true(s->session_timeout_ns == 2 * SEC);
	assert_int_equal(s->schedule, TW_CONFIG_SCHEDULE_FIXED);
	assert_int_equal(s->labels.n, 0);
	assert_null(s->source_address);
	assert_null(s->source_interface);
	assert_int_equal(s->ip_version, TW_CONFIG_IP_ANY);
	assert_int_equal(s->buckets.preset, TW_CONFIG_BUCKETS_DEFAULT);
	assert_int_equal(s->buckets.n, 16);
	assert_true(s->buckets.le_ns[0] == 25000);
	assert_true(s->buckets.le_ns[15] == 2500 * MS);
	assert_false(s->ipdv_histogram);
	assert_int_equal(s->mode, TW_CONFIG_TEST_FULL);
	assert_int_equal(s->security, TW_CONFIG_SECURITY_AUTO);
	assert_null(s->identity);
	assert_null(s->key_file);
	assert_int_equal(s->max_kdf_count, 32768);
	/* No reflector section: disabled, but its fields hold the defaults. */
	const tw_config_reflector *r = &cfg->reflector;
	assert_false(r->enabled);
	assert_int_equal(r->listen.n, 1);
	assert_string_equal(r->listen.v[0].host, "::");
	assert_int_equal(r->listen.v[0].port, 862);
	assert_int_equal(r->allow.n, 0);
	assert_int_equal(r->max_control_connections, 64);
	assert_int_equal(r->max_sessions_per_connection, 16);
	assert_true(r->servwait_ns == 900 * SEC);
	assert_true(r->refwait_ns == 900 * SEC);
	assert_int_equal(r->modes, TW_CONFIG_MODE_UNAUTHENTICATED);
	assert_null(r->key_file);
	assert_int_equal(r->pbkdf2_count, 2048);
	assert_int_equal(r->test_ports.min, 0);
	assert_int_equal(r->test_ports.max, 0);
	tw_config_free(cfg);
}

static void test_reflector(void **state)
{
	(void)state;
	tw_config *cfg = load_ok("reflector:\n");
	assert_true(cfg->reflector.enabled); /* present, even empty: enabled */
	assert_int_equal(cfg->n_targets, 0);
	tw_config_free(cfg);

	cfg = load_ok("reflector:\n"
		      "  listen: [\"0.0.0.0:0\", \"[fe80::1%eth0]:862\", \":18620\", \"localhost:1\"]\n"
		      "  allow: [10.0.0.0/8, \"::1\"]\n"
		      "  modes: [mixed, unauthenticated, authenticated, encrypted]\n"
		      "  key_file: keys/twamp.pfs\n"
		      "  pbkdf2_count: 1024\n"
		      "  servwait: 1m30s\n"
		      "  test_port_range: 18760-18999\n");
	const tw_config_reflector *r = &cfg->reflector;
	assert_true(r->enabled);
	assert_int_equal(r->listen.n, 4);
	assert_int_equal(r->listen.v[0].port, 0);
	assert_string_equal(r->listen.v[1].host, "fe80::1%eth0");
	assert_string_equal(r->listen.v[2].host, "");
	assert_int_equal(r->listen.v[2].port, 18620);
	assert_string_equal(r->listen.v[3].host, "localhost");
	assert_int_equal(r->allow.n, 2);
	assert_int_equal(r->allow.v[1].prefix, 128);
	assert_int_equal(r->modes, 15);
	assert_string_equal(r->key_file, "/etc/twamp/keys/twamp.pfs"); /* relative to the file */
	assert_true(r->servwait_ns == 90 * SEC);
	assert_int_equal(r->test_ports.min, 18760);
	assert_int_equal(r->test_ports.max, 18999);
	tw_config_free(cfg);

	cfg = load_ok("reflector: {enabled: false, test_port_range: \"9000\"}\n");
	assert_false(cfg->reflector.enabled);
	assert_int_equal(cfg->reflector.test_ports.min, 9000);
	assert_int_equal(cfg->reflector.test_ports.max, 9000);
	tw_config_free(cfg);
}

/* Issue 5 keys: Light/STAMP reflectors, TWAMP features, STAMP sender. */
static void test_light_stamp_features(void **state)
{
	(void)state;
	tw_config *cfg = load_ok("reflector:\n"
				 "  key_file: keys.pfs\n"
				 "  features: [isc, symmetric_size, dscp_ecn, ptp, reflect_octets]\n"
				 "  reflect_to_source: true\n"
				 "  light: {listen: [\":862\"], stateless: true, security: encrypted, identity: l1}\n"
				 "  stamp: {listen: [\"[::1]:8620\"], max_senders: 10, sender_idle: 30s,\n"
				 "          copy_dscp: false, reply_dscp: 46, allow_cos_dscp: false}\n"
				 "targets:\n"
				 "  - {name: s, host: h, mode: stamp, ssid: 4660, stamp_tlvs: [cos, follow_up]}\n"
				 "  - {name: f, host: h, features: [isc]}\n");
	const tw_config_reflector *r = &cfg->reflector;
	assert_int_equal(r->features, TW_CONFIG_FEATURE_ISC | TW_CONFIG_FEATURE_SYMMETRIC |
					      TW_CONFIG_FEATURE_DSCP_ECN | TW_CONFIG_FEATURE_PTP |
					      TW_CONFIG_FEATURE_REFLECT_OCTETS);
	assert_true(r->reflect_to_source);
	assert_true(r->light.enabled);
	assert_true(r->light.stateless);
	assert_int_equal(r->light.security, TW_CONFIG_SECURITY_ENCRYPTED);
	assert_string_equal(r->light.identity, "l1");
	assert_true(r->light.copy_dscp);
	assert_int_equal(r->light.max_senders, 1024);
	assert_true(r->stamp.enabled);
	assert_false(r->stamp.stateless);
	assert_int_equal(r->stamp.max_senders, 10);
	assert_true(r->stamp.sender_idle_ns == 30 * SEC);
	assert_false(r->stamp.copy_dscp);
	assert_int_equal(r->stamp.reply_dscp, 46);
	assert_false(r->stamp.allow_cos_dscp);
	assert_int_equal(cfg->targets[0].s.mode, TW_CONFIG_TEST_STAMP);
	assert_int_equal(cfg->targets[0].s.ssid, 4660);
	assert_int_equal(cfg->targets[0].s.stamp_tlvs, TW_CONFIG_TLV_COS | TW_CONFIG_TLV_FOLLOW_UP);
	assert_int_equal(cfg->targets[1].s.features, TW_CONFIG_FEATURE_ISC);
	tw_config_free(cfg);

	cfg = load_ok("reflector: {listen: [\":862\"]}\n");
	assert_false(cfg->reflector.light.enabled);
	assert_false(cfg->reflector.stamp.enabled);
	assert_int_equal(cfg->reflector.features, 0);
	tw_config_free(cfg);
}

static void test_target_values(void **state)
{
	(void)state;
	tw_config *cfg = load_ok(
		"targets:\n"
		"  - name: k\n"
		"    host: \"[2001:db8::1]\"\n"
		"    security: encrypted\n"
		"    identity: probe\n"
		"    key_file: /abs/keys.pfs\n"
		"    session_timeout: 0\n"
		"    schedule: poisson\n"
		"    ip_version: 6\n"
		"    source_address: 2001:db8::2\n"
		"    source_interface: eth0.100\n"
		"    mode: stamp\n"
		"    ipdv_histogram: true\n"
		"    max_kdf_count: 1024\n"
		"    padding: 9104\n"
		"    port: 65535\n"
		"    interval: 1.5ms\n");
	const tw_config_target *t = &cfg->targets[0];
	assert_string_equal(t->host, "2001:db8::1"); /* brackets dropped */
	assert_int_equal(t->s.security, TW_CONFIG_SECURITY_ENCRYPTED);
	assert_string_equal(t->s.identity, "probe");
	assert_string_equal(t->s.key_file, "/abs/keys.pfs");
	assert_true(t->s.session_timeout_ns == 0);
	assert_int_equal(t->s.schedule, TW_CONFIG_SCHEDULE_POISSON);
	assert_int_equal(t->s.ip_version, TW_CONFIG_IP_V6);
	assert_string_equal(t->s.source_interface, "eth0.100");
	assert_int_equal(t->s.mode, TW_CONFIG_TEST_STAMP);
	assert_true(t->s.ipdv_histogram);
	assert_int_equal(t->s.padding, 9104);
	assert_int_equal(t->s.port, 65535);
	assert_true(t->s.interval_ns == 1500000);
	tw_config_free(cfg);
}

/* Same name with another dscp or other labels is another series. */
static void test_identity(void **state)
{
	(void)state;
	tw_config *cfg = load_ok("targets:\n"
				 "  - {name: a, host: h}\n"
				 "  - {name: a, host: h, dscp: 46}\n"
				 "  - {name: a, host: h, labels: {x: \"1\"}}\n"
				 "  - {name: a, host: h, labels: {x: \"2\"}}\n"
				 "  - {name: b, host: h}\n");
	const tw_config_target *t = cfg->targets;
	assert_int_equal(cfg->n_targets, 5);
	assert_true(tw_config_target_identity_cmp(&t[0], &t[0]) == 0);
	assert_true(tw_config_target_identity_cmp(&t[0], &t[1]) < 0);
	assert_true(tw_config_target_identity_cmp(&t[1], &t[0]) > 0);
	assert_true(tw_config_target_identity_cmp(&t[0], &t[2]) < 0); /* fewer labels first */
	assert_true(tw_config_target_identity_cmp(&t[2], &t[3]) < 0);
	assert_true(tw_config_target_identity_cmp(&t[3], &t[4]) < 0);
	tw_config_free(cfg);
	assert_true(tw_config_label_reserved("__meta"));
	assert_true(tw_config_label_reserved("target"));
	assert_false(tw_config_label_reserved("site"));
}

/* YAML anchors and aliases may share lists between groups. */
static void test_aliases(void **state)
{
	(void)state;
	tw_config *cfg = load_ok("target_groups:\n"
				 "  - {name: be, targets: &t [{name: a, host: h}, {name: b, host: h}]}\n"
				 "  - {name: ef, dscp: 46, targets: *t}\n");
	assert_int_equal(cfg->n_targets, 4);
	assert_int_equal(cfg->targets[3].s.dscp, 46);
	tw_config_free(cfg);
}

/* Appends to a test buffer; fails the test instead of overflowing. */
static void add(char *buf, size_t cap, size_t *w, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add(char *buf, size_t cap, size_t *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *w, cap - *w, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < cap - *w);
	*w += (size_t)n;
}

/* Aliases cannot multiply a small file into millions of targets. */
static void test_alias_expansion_bounded(void **state)
{
	(void)state;
	static char big[16384];
	size_t w = 0;
	add(big, sizeof(big), &w, "target_groups:\n  - &g {name: g, targets: [&t {name: a, host: h}");
	for (int i = 0; i < 300; i++)
		add(big, sizeof(big), &w, ", *t");
	add(big, sizeof(big), &w, "]}\n");
	for (int i = 0; i < 400; i++)
		add(big, sizeof(big), &w, "  - *g\n");
	tw_config *cfg;
	tw_config_error err;
	assert_int_equal(tw_config_load_buffer("a.yml", NULL, big, w, &cfg, &err), -EINVAL);
	assert_null(cfg);
	/* Stopped when the count passed the limit, before walking them all. */
	assert_string_equal(err.msg, "a.yml:2:27: target_groups[332].targets: too many entries: "
				     "100233 in all, at most 100000");
}

static void test_embedded_default(void **state)
{
	(void)state;
	tw_config *cfg = NULL;
	tw_config_error err;
	assert_int_equal(tw_config_load_default(&cfg, &err), 0);
	assert_string_equal(cfg->source, "<embedded default>");
	assert_true(cfg->reflector.enabled);
	assert_int_equal(cfg->reflector.listen.n, 2);
	assert_string_equal(cfg->reflector.listen.v[0].host, "127.0.0.1");
	assert_string_equal(cfg->reflector.listen.v[1].host, "::1");
	assert_int_equal(cfg->reflector.listen.v[1].port, 18620);
	assert_int_equal(cfg->reflector.modes, TW_CONFIG_MODE_UNAUTHENTICATED);
	assert_int_equal(cfg->n_targets, 1);
	assert_string_equal(cfg->targets[0].name, "self");
	assert_string_equal(cfg->targets[0].host, "127.0.0.1");
	assert_int_equal(cfg->targets[0].s.port, 18620);
	assert_true(cfg->targets[0].s.interval_ns == 100 * MS);
	char line[200];
	tw_config_summary(cfg, line, sizeof(line));
	assert_string_equal(line, "config OK: 1 target, reflector on 2 addresses (unauthenticated)");
	assert_non_null(strstr(tw_config_default_yaml(), "name: self"));
	tw_config_free(cfg);
}

static void test_summary(void **state)
{
	(void)state;
	tw_config *cfg = load_ok("reflector: {listen: [\"[::]:862\", \"0.0.0.0:862\"]}\n"
				 "targets: [{name: a, host: h}]\n"
				 "target_groups:\n"
				 "  - {name: g1, targets: [{name: b, host: h}]}\n"
				 "  - {name: g2, targets: [{name: c, host: h}]}\n");
	char line[200];
	int n = tw_config_summary(cfg, line, sizeof(line));
	assert_string_equal(line, "config OK: 3 targets in 2 groups, reflector on 2 addresses "
				  "(unauthenticated)");
	assert_int_equal(n, (int)strlen(line));
	char small[10];
	assert_int_equal(tw_config_summary(cfg, small, sizeof(small)), n); /* snprintf-like */
	assert_string_equal(small, "config OK");
	tw_config_free(cfg);

	cfg = load_ok("target_groups: [{name: g, targets: [{name: b, host: h}]}]\n"
		      "reflector: {modes: [unauthenticated, authenticated], key_file: k}\n");
	tw_config_summary(cfg, line, sizeof(line));
	assert_string_equal(line, "config OK: 1 target in 1 group, reflector on 1 address "
				  "(unauthenticated, authenticated)");
	tw_config_free(cfg);
	cfg = load_ok("{}");
	tw_config_summary(cfg, line, sizeof(line));
	assert_string_equal(line, "config OK: 0 targets, no reflector");
	tw_config_free(cfg);
}

static void test_examples(void **state)
{
	(void)state;
	const char *dir = TW_SOURCE_DIR "/config/examples";
	DIR *d = opendir(dir);
	assert_non_null(d);
	int loaded = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".yml") != 0)
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		tw_config *cfg = NULL;
		tw_config_error err;
		int rc = tw_config_load_file(path, &cfg, &err);
		if (rc != 0) {
			print_error("%s: %s\n", e->d_name, err.msg);
			fail();
		}
		char line[200];
		tw_config_summary(cfg, line, sizeof(line));
		assert_true(strncmp(line, "config OK: ", 11) == 0);
		assert_string_equal(cfg->source, path);
		tw_config_free(cfg);
		loaded++;
	}
	closedir(d);
	assert_true(loaded >= 4);
}

/* Details of individual examples the prose promises. */
static void test_example_contents(void **state)
{
	(void)state;
	tw_config *cfg;
	tw_config_error err;
	assert_int_equal(tw_config_load_file(TW_SOURCE_DIR "/config/examples/mesh.yml", &cfg, &err), 0);
	assert_int_equal(cfg->n_targets, 10);
	assert_int_equal(cfg->n_groups, 4);
	assert_int_equal(cfg->groups[1].s.dscp, 46);
	assert_int_equal(cfg->targets[cfg->groups[1].first].s.dscp, 46);
	tw_config_free(cfg);
	assert_int_equal(tw_config_load_file(TW_SOURCE_DIR "/config/examples/secure.yml", &cfg, &err), 0);
	assert_int_equal(cfg->reflector.modes, 15);
	assert_int_equal(cfg->targets[1].s.security, TW_CONFIG_SECURITY_ENCRYPTED);
	assert_string_equal(cfg->targets[1].s.identity, "router-probe");
	tw_config_free(cfg);
}

static void test_file_errors(void **state)
{
	(void)state;
	tw_config *cfg = (tw_config *)1;
	tw_config_error err;
	assert_int_equal(tw_config_load_file("/nonexistent/agent.yml", &cfg, &err), -ENOENT);
	assert_null(cfg);
	assert_string_equal(err.msg, "/nonexistent/agent.yml: cannot open: No such file or directory");
	assert_int_equal(err.line, 0);
	assert_int_equal(tw_config_load_file("/", &cfg, &err), -EINVAL); /* a directory */
	assert_null(cfg);
	/* NULL err is allowed. */
	assert_int_equal(tw_config_load_buffer("x", NULL, "[", 1, &cfg, NULL), -EINVAL);
	tw_config_free(NULL);
}

/* Every row prints; the table stays small enough for the seen bitmaps. */
static void test_schema_print(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	tw_config_schema_print(f);
	fclose(f);
	const char *keys[] = { "reflector.listen", "reflector.test_port_range", "targets[].host",
		"target_groups[].name", "interval", "max_kdf_count", "buckets" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_non_null(strstr(buf, keys[i]));
	assert_non_null(strstr(buf, "1s"));
	free(buf);
}

/* ---- corpus export for fuzz_config ---- */

static int write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t n = fwrite(data, 1, len, f);
	return fclose(f) == 0 && n == len ? 0 : -1;
}

/* The examples, as example-<name>.yml. */
static int copy_examples(const char *dir)
{
	const char *src = TW_SOURCE_DIR "/config/examples";
	DIR *d = opendir(src);
	if (!d)
		return -1;
	int rc = 0;
	struct dirent *e;
	static char data[1 << 16];
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".yml") != 0)
			continue;
		char path[1024], name[300];
		snprintf(path, sizeof(path), "%s/%s", src, e->d_name);
		snprintf(name, sizeof(name), "example-%s", e->d_name);
		FILE *f = fopen(path, "rb");
		size_t len = f ? fread(data, 1, sizeof(data), f) : 0;
		if (f)
			fclose(f);
		rc |= f ? write_file(dir, name, data, len) : -1;
	}
	closedir(d);
	return rc;
}

static int write_corpus(const char *dir)
{
	char name[64];
	int rc = 0;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		snprintf(name, sizeof(name), "bad-%02zu.yml", i);
		rc |= write_file(dir, name, bad_cases[i].yaml, strlen(bad_cases[i].yaml));
	}
	rc |= write_file(dir, "good-inherit.yml", inherit_yaml, strlen(inherit_yaml));
	rc |= write_file(dir, "good-default.yml", tw_config_default_yaml(),
			 strlen(tw_config_default_yaml()));
	return rc | copy_examples(dir);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		return write_corpus(argv[2]) == 0 ? 0 : 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_error_position),
		cmocka_unit_test(test_inheritance),
		cmocka_unit_test(test_builtin_defaults),
		cmocka_unit_test(test_reflector),
		cmocka_unit_test(test_light_stamp_features),
		cmocka_unit_test(test_target_values),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_alias_expansion_bounded),
		cmocka_unit_test(test_embedded_default),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_example_contents),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_schema_print),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
