/*
 * test_sdjson.c - the service-discovery document parsers (config/sd.h):
 * the Prometheus file_sd/http_sd examples in JSON and YAML, target forms,
 * labels (sorted, meta labels dropped, empty = removal), and a table of
 * malformed documents with the exact error each must produce (truncation,
 * deep nesting, huge numbers and strings, invalid UTF-8 and escapes,
 * duplicate keys, limits).
 *
 * `test_sdjson --write-corpus DIR` writes every document of this file into
 * DIR as the seed corpus of fuzz_sd (first octet: 'j' JSON, 'y' YAML).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sd.h"

#define CAP ((size_t)(2u << 20))

static tw_sd_doc *json_ok(const char *text)
{
	tw_sd_doc *d = NULL;
	tw_sd_error err;
	int rc = tw_sd_parse_json(text, strlen(text), &d, &err);
	if (rc != 0)
		fail_msg("unexpected error %d: %s", rc, err.msg);
	return d;
}

static tw_sd_doc *yaml_ok(const char *text)
{
	tw_sd_doc *d = NULL;
	tw_sd_error err;
	int rc = tw_sd_parse_yaml(text, strlen(text), &d, &err);
	if (rc != 0)
		fail_msg("unexpected error %d: %s", rc, err.msg);
	return d;
}

static const char PROM_JSON[] =
	"[\n"
	"  {\n"
	"    \"targets\": [\"10.0.0.1:862\", \"b.example:862\"],\n"
	"    \"labels\": {\"site\": \"x\", \"env\": \"prod\", \"__meta_filepath\": \"/a.json\"}\n"
	"  },\n"
	"  {\"targets\": [\"[2001:db8::1]:8620\", \"2001:db8::2\", \"c.example\"], \"labels\": {}},\n"
	"  {\"labels\": {\"rack\": \"\", \"row\": null}, \"targets\": []}\n"
	"]\n";

static const char PROM_YAML[] =
	"# file_sd in YAML\n"
	"- targets: ['10.0.0.1:862', b.example:862]\n"
	"  labels:\n"
	"    site: x\n"
	"    env: prod\n"
	"    __meta_filepath: /a.yml\n"
	"- targets: ['[2001:db8::1]:8620', '2001:db8::2', c.example]\n"
	"  labels: {}\n"
	"- labels: {rack: '', row: ~}\n"
	"  targets: []\n";

static void check_prom_doc(const tw_sd_doc *d, uint32_t g2_line)
{
	assert_int_equal(d->n_groups, 3);
	assert_int_equal(d->n_targets, 5);
	const tw_sd_group *g = &d->groups[0];
	assert_int_equal(g->n_targets, 2);
	assert_string_equal(g->targets[0].text, "10.0.0.1:862");
	assert_string_equal(g->targets[0].host, "10.0.0.1");
	assert_int_equal(g->targets[0].port, 862);
	assert_string_equal(g->targets[1].host, "b.example");
	assert_int_equal(g->n_labels, 2); /* __meta_filepath dropped */
	assert_string_equal(g->labels[0].name, "env"); /* sorted */
	assert_string_equal(g->labels[0].value, "prod");
	assert_string_equal(g->labels[1].name, "site");
	g = &d->groups[1];
	assert_int_equal(g->line, g2_line);
	assert_int_equal(g->n_targets, 3);
	assert_string_equal(g->targets[0].text, "[2001:db8::1]:8620");
	assert_string_equal(g->targets[0].host, "2001:db8::1");
	assert_int_equal(g->targets[0].port, 8620);
	assert_string_equal(g->targets[1].host, "2001:db8::2");
	assert_int_equal(g->targets[1].port, 0);
	assert_string_equal(g->targets[2].text, "c.example");
	assert_int_equal(g->targets[2].port, 0);
	assert_int_equal(g->n_labels, 0);
	g = &d->groups[2];
	assert_int_equal(g->n_targets, 0);
	assert_int_equal(g->n_labels, 2);
	assert_string_equal(g->labels[0].name, "rack");
	assert_string_equal(g->labels[0].value, "");
	assert_string_equal(g->labels[1].name, "row");
	assert_string_equal(g->labels[1].value, "");
}

static void test_prometheus_examples(void **state)
{
	(void)state;
	tw_sd_doc *d = json_ok(PROM_JSON);
	check_prom_doc(d, 6);
	assert_int_equal(d->groups[0].line, 2);
	assert_int_equal(d->groups[0].col, 3);
	tw_sd_doc_free(d);
	d = yaml_ok(PROM_YAML);
	check_prom_doc(d, 7);
	tw_sd_doc_free(d);
}

static void test_json_forms(void **state)
{
	(void)state;
	/* Escapes, a BOM, unknown keys with any nesting, whitespace. */
	tw_sd_doc *d = json_ok("\xEF\xBB\xBF [ {\"x\": {\"y\": [1, -2.5e+3, true, false, null, "
			       "\"s\"]}, \"targets\": [\"a\\u002eexample:1\"], "
			       "\"labels\": {\"city\": \"Z\\u00fcrich \\ud83d\\ude00 \\\"q\\\" \\\\ \\/ "
			       "\\b\\f\\n\\r\\t\"}} ] \r\n");
	assert_int_equal(d->n_groups, 1);
	assert_string_equal(d->groups[0].targets[0].host, "a.example");
	assert_string_equal(d->groups[0].labels[0].value,
			    "Z\xc3\xbcrich \xf0\x9f\x98\x80 \"q\" \\ / \b\f\n\r\t");
	tw_sd_doc_free(d);
	d = json_ok("[]");
	assert_int_equal(d->n_groups, 0);
	tw_sd_doc_free(d);
	d = json_ok("[{}, {\"labels\": null}]");
	assert_int_equal(d->n_groups, 2);
	assert_int_equal(d->n_targets, 0);
	tw_sd_doc_free(d);
	/* Zone-scoped link-local and a fully qualified name. */
	d = json_ok("[{\"targets\": [\"[fe80::1%eth0]:862\", \"a.example.:862\"]}]");
	assert_string_equal(d->groups[0].targets[0].host, "fe80::1%eth0");
	assert_string_equal(d->groups[0].targets[1].host, "a.example.");
	tw_sd_doc_free(d);
}

static void test_yaml_forms(void **state)
{
	(void)state;
	tw_sd_doc *d = yaml_ok("");
	assert_int_equal(d->n_groups, 0);
	tw_sd_doc_free(d);
	d = yaml_ok("# nothing yet\n---\n");
	assert_int_equal(d->n_groups, 0);
	tw_sd_doc_free(d);
	/* Aliases, unknown keys, null targets. */
	d = yaml_ok("- targets: &t [a.example:1, b.example:2]\n  extra: {deep: [1, [2]]}\n"
		    "- targets: *t\n  labels: {x: '1'}\n- targets:\n");
	assert_int_equal(d->n_groups, 3);
	assert_int_equal(d->n_targets, 4);
	assert_string_equal(d->groups[1].targets[1].host, "b.example");
	tw_sd_doc_free(d);
}

static void test_target_split(void **state)
{
	(void)state;
	static const struct {
		const char *in, *host;
		int port; /* -1: invalid */
	} cases[] = {
		{ "10.0.0.1:862", "10.0.0.1", 862 },
		{ "10.0.0.1", "10.0.0.1", 0 },
		{ "host-a.example", "host-a.example", 0 },
		{ "[::1]:1", "::1", 1 },
		{ "::1", "::1", 0 },
		{ "a:65535", "a", 65535 },
		{ "a:65536", NULL, -1 },
		{ "a:0", NULL, -1 },
		{ ":862", NULL, -1 },
		{ "a:", NULL, -1 },
		{ "[::1]", NULL, -1 },
		{ "[a.example]:1", NULL, -1 },
		{ "a b:1", NULL, -1 },
		{ "", NULL, -1 },
		{ "1.2.3.256", NULL, -1 },
		{ "http://a:1", NULL, -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char host[300];
		uint16_t port = 7;
		int rc = tw_sd_target_split(cases[i].in, host, sizeof(host), &port);
		if (cases[i].port < 0) {
			if (rc != -22)
				fail_msg("case %zu (%s): accepted", i, cases[i].in);
			continue;
		}
		if (rc != 0)
			fail_msg("case %zu (%s): rejected", i, cases[i].in);
		assert_string_equal(host, cases[i].host);
		assert_int_equal(port, cases[i].port);
	}
	char small[4];
	uint16_t port;
	assert_int_equal(tw_sd_target_split("abcd:1", small, sizeof(small), &port), -22);
}

typedef struct bad_case {
	char fmt; /* 'j' or 'y' */
	const char *text;
	const char *msg;
} bad_case;

#define T "{\"targets\": "

static const bad_case bad_cases[] = {
	{ 'j', "", "1:1: found the end of the input, expected a list of target groups such as "
		   "[{\"targets\": [\"10.0.0.1:862\"], \"labels\": {\"site\": \"x\"}}]" },
	{ 'j', "{\"targets\": []}", "1:1: found an object, expected a list of target groups such as "
				     "[{\"targets\": [\"10.0.0.1:862\"], \"labels\": {\"site\": \"x\"}}]" },
	{ 'j', "[", "1:2: found the end of the input, expected a target group such as {\"targets\": "
		    "[\"10.0.0.1:862\"], \"labels\": {\"site\": \"x\"}}" },
	{ 'j', "[" T "[\"a:1\"", "1:20: found the end of the input, expected ',' or ']'" },
	{ 'j', "[" T "[\"a:1", "1:19: unexpected end of input in a string" },
	{ 'j', "[" T "[\"a:1\"]}", "1:22: found the end of the input, expected ',' or ']'" },
	{ 'j', "[" T "[\"a:1\"]}]]", "1:23: found ']', expected the end of the input after the list" },
	{ 'j', "[[]]", "1:2: found a list, expected a target group such as {\"targets\": "
		       "[\"10.0.0.1:862\"], \"labels\": {\"site\": \"x\"}}" },
	{ 'j', "[" T "\"a:1\"}]", "1:14: found a string, expected a list of targets such as "
				  "[\"10.0.0.1:862\", \"b.example:862\"]" },
	{ 'j', "[" T "[862]}]", "1:15: found a number, expected a target such as \"10.0.0.1:862\" or "
				"\"[2001:db8::1]:862\"" },
	{ 'j', "[" T "[1e999999999999999999]}]", "1:15: found a number, expected a target such as "
						  "\"10.0.0.1:862\" or \"[2001:db8::1]:862\"" },
	{ 'j', "[" T "[\"a b:1\"]}]", "1:15: found \"a b:1\", expected a target HOST or HOST:PORT: a "
				      "host name or IP address (IPv6 in brackets when a port follows) "
				      "and a port from 1 to 65535" },
	{ 'j', "[" T "[\"a:99999\"]}]", "1:15: found \"a:99999\", expected a target HOST or "
					"HOST:PORT: a host name or IP address (IPv6 in brackets when a "
					"port follows) and a port from 1 to 65535" },
	{ 'j', "[\n  {\"targets\": [],\n   \"targets\": []}]",
	  "3:4: duplicate key \"targets\" (first at line 2, column 4)" },
	{ 'j', "[{\"labels\": {}, \"labels\": {}}]",
	  "1:17: duplicate key \"labels\" (first at line 1, column 3)" },
	{ 'j', "[{\"labels\": {\"a\": \"1\", \"a\": \"2\"}}]",
	  "1:24: duplicate label \"a\" (first at line 1, column 14)" },
	{ 'j', "[{\"labels\": {\"1a\": \"x\"}}]",
	  "1:14: found \"1a\", expected a label name: a letter or '_', then letters, digits or '_'" },
	{ 'j', "[{\"labels\": {\"target\": \"x\"}}]",
	  "1:14: found \"target\", expected a label name the agent does not reserve for its own "
	  "series" },
	{ 'j', "[{\"labels\": {\"a\": 1}}]", "1:19: found a number, expected a label value (a string)" },
	{ 'j', "[{\"labels\": [\"a\"]}]", "1:13: found a list, expected a mapping of label names to "
				      "values such as {\"site\": \"x\"}" },
	{ 'j', "[{\"labels\" {}}]", "1:12: found '{', expected ':'" },
	{ 'j', "[{targets: []}]", "1:3: found 't', expected a key (a string)" },
	{ 'j', "[{\"targets\": [],}]", "1:17: found '}', expected a key (a string)" },
	{ 'j', "[{\"x\": tru}]", "1:8: invalid literal, expected true, false or null" },
	{ 'j', "[{\"x\": 01}]", "1:8: invalid number" },
	{ 'j', "[{\"x\": -}]", "1:8: invalid number" },
	{ 'j', "[{\"x\": 1.}]", "1:8: invalid number" },
	{ 'j', "[{\"x\": 1e}]", "1:8: invalid number" },
	{ 'j', "[{\"x\": +1}]", "1:8: found '+', expected a value" },
	{ 'j', "[{\"x\": \"\\x\"}]", "1:9: invalid escape \\x in a string" },
	{ 'j', "[{\"x\": \"\\u12G4\"}]", "1:9: invalid \\u escape: expected 4 hex digits" },
	{ 'j', "[{\"x\": \"\\u0000\"}]", "1:9: \\u0000 (NUL) in a string" },
	{ 'j', "[{\"x\": \"\\udc00\"}]", "1:9: invalid \\u escape: unpaired surrogate" },
	{ 'j', "[{\"x\": \"\\ud800x\"}]", "1:9: invalid \\u escape: unpaired surrogate" },
	{ 'j', "[{\"x\": \"\\ud800\\u0041\"}]", "1:9: invalid \\u escape: unpaired surrogate" },
	{ 'j', "[{\"x\": \"\\u12\"}]", "1:9: invalid \\u escape: expected 4 hex digits" },
	{ 'j', "[{\"x\": \"a\tb\"}]", "1:10: control character 0x09 in a string (escape it)" },
	{ 'j', "[{\"x\": \"\xc3\xa9\xff\"}]", "1:10: invalid UTF-8 (octet 0xff) in a string" },
	{ 'j', "[{\"x\": \"\xc0\xaf\"}]", "1:9: invalid UTF-8 (octet 0xc0) in a string" },
	{ 'j', "[{\"x\": \"\xed\xa0\x80\"}]", "1:9: invalid UTF-8 (octet 0xed) in a string" },
	{ 'j', "[{\"x\": \"\xf4\x90\x80\x80\"}]", "1:9: invalid UTF-8 (octet 0xf4) in a string" },
	{ 'j', "[{\"x\": \"\xe2\x82\"}]", "1:9: invalid UTF-8 (octet 0xe2) in a string" },
	{ 'j', "[\"\xc3\xa9\xc3\xa9\", x]", "1:2: found a string, expected a target group such as "
					    "{\"targets\": [\"10.0.0.1:862\"], \"labels\": {\"site\": "
					    "\"x\"}}" },
	{ 'j', "[{\"\xc3\xa9\xc3\xa9\": 1, x}]", "1:12: found 'x', expected a key (a string)" },
	{ 'j', "[{\"x\": 1}] \x01", "1:12: found octet 0x01, expected the end of the input after the "
				     "list" },
	{ 'y', "targets: [a]\n", "1:1: found a mapping, expected a list of target groups such as "
				  "[{\"targets\": [\"10.0.0.1:862\"], \"labels\": {\"site\": \"x\"}}]" },
	{ 'y', "- [a]\n", "1:3: found a list, expected a target group such as {\"targets\": "
			  "[\"10.0.0.1:862\"], \"labels\": {\"site\": \"x\"}}" },
	{ 'y', "- targets: a:1\n", "1:12: found \"a:1\", expected a list of targets such as "
				   "[\"10.0.0.1:862\", \"b.example:862\"]" },
	{ 'y', "- targets: [[a]]\n", "1:13: found a list, expected a target such as \"10.0.0.1:862\" or "
				     "\"[2001:db8::1]:862\"" },
	{ 'y', "- targets: [~]\n", "1:13: found nothing, expected a target such as \"10.0.0.1:862\" or "
				   "\"[2001:db8::1]:862\"" },
	{ 'y', "- targets: [\"a\\0b\"]\n", "1:13: found a string containing a NUL character, expected "
				       "a target such as \"10.0.0.1:862\" or \"[2001:db8::1]:862\"" },
	{ 'y', "- targets: []\n  targets: []\n", "2:3: duplicate key \"targets\" (first at line 1, "
						 "column 3)" },
	{ 'y', "- labels: {a: x, a: y}\n", "1:18: duplicate label \"a\" (first at line 1, column 12)" },
	{ 'y', "- labels: {job: x}\n", "1:12: found \"job\", expected a label name the agent does not "
				   "reserve for its own series" },
	{ 'y', "- labels: {a: [x]}\n", "1:15: found a list, expected a label value (a string)" },
	{ 'y', "- labels: [a]\n", "1:11: found a list, expected a mapping of label names to values "
			      "such as {\"site\": \"x\"}" },
	{ 'y', "- targets: [a\n", "2:1: YAML syntax error: did not find expected ',' or ']'" },
	{ 'y', "- targets: []\n--- \n- targets: []\n", "2:1: found a second YAML document, expected "
						       "one document" },
	{ 'y', "- targets: ['\xc3\xa9\xff']\n", "1:15: YAML syntax error: invalid leading UTF-8 octet" },
};

static int parse(char fmt, const char *text, size_t len, tw_sd_doc **d, tw_sd_error *err)
{
	return fmt == 'j' ? tw_sd_parse_json(text, len, d, err) : tw_sd_parse_yaml(text, len, d, err);
}

static void test_bad(void **state)
{
	(void)state;
	int failed = 0;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const bad_case *c = &bad_cases[i];
		tw_sd_doc *d = (tw_sd_doc *)&failed; /* must be reset */
		tw_sd_error err;
		int rc = parse(c->fmt, c->text, strlen(c->text), &d, &err);
		if (rc != -22 || strcmp(err.msg, c->msg) != 0) {
			print_error("case %zu (%c): rc %d\n got: %s\nwant: %s\n", i, c->fmt, rc, err.msg,
				    c->msg);
			failed++;
		}
		assert_null(d);
	}
	assert_int_equal(failed, 0);
}

/* snprintf at s + w (cap octets in all); returns the new length. */
static size_t app(char *s, size_t cap, size_t w, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static size_t app(char *s, size_t cap, size_t w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(s + w, cap - w, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < cap - w);
	return w + (size_t)n;
}

/* "[{"x": [[[[...]]]]}]" nested depth lists deep. */
static char *nested(size_t depth)
{
	char *s = malloc(2 * depth + 16);
	assert_non_null(s);
	size_t w = 0;
	w = app(s, 2 * depth + 16, 0, "[{\"x\": ");
	for (size_t i = 0; i < depth; i++)
		s[w++] = '[';
	for (size_t i = 0; i < depth; i++)
		s[w++] = ']';
	memcpy(s + w, "}]", 3);
	return s;
}

static void test_limits(void **state)
{
	(void)state;
	tw_sd_doc *d;
	tw_sd_error err;
	/* Nesting: the list, a group, then 62 lists are 64 levels. */
	char *s = nested(TW_SD_MAX_DEPTH - 2);
	assert_int_equal(tw_sd_parse_json(s, strlen(s), &d, &err), 0);
	tw_sd_doc_free(d);
	free(s);
	s = nested(TW_SD_MAX_DEPTH - 1);
	assert_int_equal(tw_sd_parse_json(s, strlen(s), &d, &err), -22);
	assert_string_equal(err.msg, "1:70: nesting deeper than 64 levels");
	free(s);
	s = nested(100000);
	assert_int_equal(tw_sd_parse_json(s, strlen(s), &d, &err), -22);
	assert_string_equal(err.msg, "1:70: nesting deeper than 64 levels");
	free(s);

	/* A huge number and a huge string where nothing reads them. */
	size_t big = 1 << 20;
	s = malloc(CAP);
	assert_non_null(s);
	size_t w = app(s, CAP, 0, "[{\"n\": 1");
	memset(s + w, '7', big);
	w += big;
	w = app(s, CAP, w, ", \"s\": \"");
	memset(s + w, 'x', big / 2);
	w += big / 2;
	w = app(s, CAP, w, "\"}]");
	assert_int_equal(tw_sd_parse_json(s, w, &d, &err), 0);
	tw_sd_doc_free(d);
	/* ... and a huge string where a target is read. */
	w = app(s, CAP, 0, "[{\"targets\": [\"");
	memset(s + w, 'a', 5000);
	w += 5000;
	w = app(s, CAP, w, "\"]}]");
	assert_int_equal(tw_sd_parse_json(s, w, &d, &err), -22);
	assert_string_equal(err.msg, "1:15: found a target of 5000 octets, expected at most 262");
	w = app(s, CAP, 0, "[{\"labels\": {\"a\": \"");
	memset(s + w, 'v', 2000);
	w += 2000;
	w = app(s, CAP, w, "\"}}]");
	assert_int_equal(tw_sd_parse_json(s, w, &d, &err), -22);
	assert_string_equal(err.msg, "1:14: found a label value of 2000 octets, expected at most 1024");
	w = app(s, CAP, 0, "[{\"labels\": {\"");
	memset(s + w, 'n', 200);
	w += 200;
	w = app(s, CAP, w, "\": \"v\"}}]");
	assert_int_equal(tw_sd_parse_json(s, w, &d, &err), -22);
	assert_string_equal(err.msg, "1:14: found a label name of 200 octets, expected at most 128");
	free(s);

	/* Too large a document. */
	assert_int_equal(tw_sd_parse_json("[]", (size_t)TW_SD_MAX_SIZE + 1, &d, &err), -27);
	assert_string_equal(err.msg, "document of 16777217 octets, expected at most 16777216");
	assert_null(d);
	assert_int_equal(tw_sd_parse_yaml("[]", (size_t)TW_SD_MAX_SIZE + 1, &d, &err), -27);
}

static void test_too_many(void **state)
{
	(void)state;
	/* TW_SD_MAX_TARGETS + 1 targets through a YAML alias: 11 x 10000. */
	char *s = malloc(CAP);
	assert_non_null(s);
	size_t w = app(s, CAP, 0, "- targets: &t [");
	for (int i = 0; i < 10000; i++)
		w = app(s, CAP, w, "%sh%d.example", i ? "," : "", i);
	w = app(s, CAP, w, "]\n");
	for (int i = 0; i < 9; i++)
		w = app(s, CAP, w, "- targets: *t\n");
	tw_sd_doc *d;
	tw_sd_error err;
	assert_int_equal(tw_sd_parse_yaml(s, w, &d, &err), 0);
	assert_int_equal(d->n_targets, 100000);
	tw_sd_doc_free(d);
	w = app(s, CAP, w, "- targets: [one.more]\n");
	assert_int_equal(tw_sd_parse_yaml(s, w, &d, &err), -22);
	assert_string_equal(err.msg, "11:13: found more than 100000 targets");
	/* 65 labels in one group. */
	w = app(s, CAP, 0, "[{\"labels\": {");
	for (int i = 0; i < 65; i++)
		w = app(s, CAP, w, "%s\"l%d\": \"v\"", i ? "," : "", i);
	w = app(s, CAP, w, "}}]");
	assert_int_equal(tw_sd_parse_json(s, w, &d, &err), -22);
	assert_string_equal(err.msg, "1:708: found more than 64 labels in one group");
	free(s);
}

static void test_named(void **state)
{
	(void)state;
	tw_sd_doc *d;
	tw_sd_error err;
	assert_int_equal(tw_sd_parse_named("/x/a.json", "[]", 2, &d, &err), 0);
	tw_sd_doc_free(d);
	assert_int_equal(tw_sd_parse_named("a.yml", "- targets: [a]", 14, &d, &err), 0);
	assert_int_equal(d->n_targets, 1);
	tw_sd_doc_free(d);
	assert_int_equal(tw_sd_parse_named("a.yaml", "", 0, &d, &err), 0);
	tw_sd_doc_free(d);
	assert_int_equal(tw_sd_parse_named("a.yaml", "[{", 2, &d, &err), -22);
	assert_int_equal(tw_sd_parse_named("a.txt", "[]", 2, &d, &err), -22);
	assert_string_equal(err.msg, "unknown format: the name must end in .json, .yml or .yaml");
	assert_null(d);
	tw_sd_doc_free(NULL);
}

/* ---- corpus export for fuzz_sd ---- */

static int write_one(const char *dir, const char *name, char fmt, const char *text, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	fputc(fmt, f);
	fwrite(text, 1, len, f);
	return fclose(f);
}

static int write_corpus(const char *dir)
{
	char name[64];
	int rc = 0;
	rc |= write_one(dir, "prom.json", 'j', PROM_JSON, strlen(PROM_JSON));
	rc |= write_one(dir, "prom.yml", 'y', PROM_YAML, strlen(PROM_YAML));
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		snprintf(name, sizeof(name), "bad-%02zu.%s", i, bad_cases[i].fmt == 'j' ? "json" : "yml");
		rc |= write_one(dir, name, bad_cases[i].fmt, bad_cases[i].text, strlen(bad_cases[i].text));
	}
	char *s = nested(200);
	rc |= write_one(dir, "deep.json", 'j', s, strlen(s));
	free(s);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		return write_corpus(argv[2]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prometheus_examples),
		cmocka_unit_test(test_json_forms),
		cmocka_unit_test(test_yaml_forms),
		cmocka_unit_test(test_target_split),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
