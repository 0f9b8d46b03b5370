/* test_status.c - the status page: escaping (markup and quotes in names,
 * invalid UTF-8, controls), well-formed HTML and SVG (balanced tags, only
 * the SVG elements we emit, coordinates inside the view box), the numbers
 * of the table, loss colours of the chart, size bounds for many sessions,
 * the buffer cap, and the keyed history table behind the agent's page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

#define US 1000LL
#define MS 1000000LL
#define S 1000000000LL

/* ---- helpers: a small well-formedness check for what the page emits ---- */

static bool is_void(const char *name, size_t n)
{
	return (n == 4 && memcmp(name, "meta", 4) == 0) || (n == 2 && memcmp(name, "br", 2) == 0);
}

static bool svg_child_ok(const char *name, size_t n)
{
	static const char *const ok[] = { "title", "rect", "path", "text" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strlen(ok[i]) == n && memcmp(ok[i], name, n) == 0)
			return true;
	return false;
}

typedef struct doc_stats {
	int svg, rows, paths;
} doc_stats;

/* Fails the test unless every '<' starts a tag, tags balance, void and
 * self-closed elements do not nest, and inside <svg> only title, rect,
 * path and text appear (rect and path self-closed). */
static doc_stats check_html(const char *doc)
{
	enum { DEPTH = 32 };
	const char *stack[DEPTH];
	size_t lens[DEPTH], depth = 0;
	int in_svg = 0;
	doc_stats st = { 0 };
	const char *p = doc;
	assert_true(strncmp(p, "<!DOCTYPE html>\n", 16) == 0);
	p += 16;
	while ((p = strchr(p, '<')) != NULL) {
		const char *end = strchr(p, '>');
		assert_non_null(end);
		bool closing = p[1] == '/';
		const char *name = p + (closing ? 2 : 1);
		size_t n = strcspn(name, " />");
		assert_true(n > 0);
		for (size_t i = 0; i < n; i++)
			assert_true((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9'));
		assert_null(memchr(p + 1, '<', (size_t)(end - p - 1)));
		if (closing) {
			assert_true(depth > 0);
			depth--;
			if (lens[depth] != n || memcmp(stack[depth], name, n) != 0)
				fail_msg("</%.*s> closes <%.*s>", (int)n, name, (int)lens[depth], stack[depth]);
			if (n == 3 && memcmp(name, "svg", 3) == 0)
				in_svg = 0;
		} else {
			bool self = end[-1] == '/';
			if (in_svg) {
				if (!svg_child_ok(name, n))
					fail_msg("<%.*s> inside <svg>", (int)n, name);
				if ((n == 4 && memcmp(name, "rect", 4) == 0) || (n == 4 && memcmp(name, "path", 4) == 0))
					assert_true(self);
			}
			if (n == 3 && memcmp(name, "svg", 3) == 0) {
				assert_false(in_svg);
				in_svg = 1;
				st.svg++;
			}
			st.paths += n == 4 && memcmp(name, "path", 4) == 0;
			st.rows += n == 2 && memcmp(name, "tr", 2) == 0;
			if (!self && !is_void(name, n)) {
				assert_true(depth < DEPTH);
				stack[depth] = name;
				lens[depth++] = n;
			}
		}
		p = end + 1;
	}
	assert_int_equal(depth, 0);
	return st;
}

/* Well-formed UTF-8 without C0 controls other than tab and newline. */
static bool valid_utf8_text(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned c = s[i];
		size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 && c >= 0xC2 ? 2 : (c & 0xF0) == 0xE0 ? 3
			 : (c & 0xF8) == 0xF0 && c <= 0xF4 ? 4 : 0;
		if (n == 0 || i + n > len)
			return false;
		if (n == 1 && c < 0x20 && c != '\n' && c != '\t')
			return false;
		for (size_t k = 1; k < n; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
		i += n;
	}
	return true;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* Every number in the d attributes of the paths stays in the view box. */
static void check_path_coordinates(const char *doc)
{
	for (const char *p = doc; (p = strstr(p, " d=\"")) != NULL;) {
		p += 4;
		const char *end = strchr(p, '"');
		assert_non_null(end);
		while (p < end) {
			if ((*p >= '0' && *p <= '9') || *p == '-') {
				char *e;
				long v = strtol(p, &e, 10);
				assert_true(v >= -720 && v <= 720);
				p = e;
			} else {
				assert_non_null(strchr("MhvzHV ", *p));
				p++;
			}
		}
	}
}

static char *render(const tw_status_page *pg, tw_buf *b)
{
	tw_buf_init(b, TW_STATUS_PAGE_MAX);
	assert_int_equal(tw_status_render(b, pg), 0);
	assert_int_equal(tw_buf_append(b, "", 1), 0); /* NUL for the string helpers */
	return b->data;
}

static tw_status_page base_page(const tw_status_session *s, size_t n)
{
	return (tw_status_page){
		.version = "1.2.3",
		.revision = "abc",
		.now_real_ns = 1700003661 * S,
		.start_real_ns = 1700000000 * S,
		.config_source = "/etc/twamp/agent.yml",
		.reload_real_ns = 1700000000 * S,
		.telemetry_path = "/metrics",
		.period_ns = 60 * S,
		.sessions = s,
		.nsessions = n,
	};
}

/* ---- escaping ---- */

static void escaped(const char *in, const char *want)
{
	tw_buf b;
	tw_buf_init(&b, 0);
	assert_int_equal(tw_status_escape(&b, in), 0);
	tw_buf_append(&b, "", 1);
	assert_string_equal(b.data, want);
	tw_buf_fini(&b);
}

static void test_escape(void **state)
{
	(void)state;
	escaped("plain-name_1", "plain-name_1");
	escaped("<script>alert(\"x\")</script>", "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
	escaped("a&b 'q'", "a&amp;b &#39;q&#39;");
	escaped("Zürich → 東京 😀", "Zürich → 東京 😀");
	escaped("tab\tnl\n", "tab\tnl\n");
	escaped("bell\acr\rdel\x7f", "bell\xEF\xBF\xBD" "cr\xEF\xBF\xBD" "del\xEF\xBF\xBD");
	escaped("\xff\xfe", "\xEF\xBF\xBD\xEF\xBF\xBD");         /* invalid bytes */
	escaped("x\xc3", "x\xEF\xBF\xBD");                        /* truncated sequence */
	escaped("\xc0\xaf", "\xEF\xBF\xBD\xEF\xBF\xBD");         /* overlong '/' */
	escaped("\xed\xa0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* surrogate */
	escaped("\xf4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* > U+10FFFF */
	escaped("c1\xc2\x85", "c1\xEF\xBF\xBD");                  /* NEL, a C1 control */
	escaped("", "");
	tw_buf b;
	tw_buf_init(&b, 0);
	assert_int_equal(tw_status_escape(&b, NULL), 0);
	assert_int_equal(b.len, 0);
	tw_buf_fini(&b);
}

/* ---- the page ---- */

/* A session whose history has periods with no, some and heavy loss, one
 * without packets, and a last period with 990 of 1000 answered around
 * 1.75 ms. */
typedef struct fixture {
	tw_hist_bounds bounds;
	tw_hist *rtt;
	tw_history *h;
} fixture;

static void fixture_init(fixture *f)
{
	tw_hist_bounds_delay(&f->bounds);
	f->rtt = tw_hist_new(&f->bounds);
	f->h = tw_history_new(TW_HISTORY_DEFAULT_POINTS);
	tw_history_input in = { .rtt = f->rtt };
	static const struct {
		int64_t v;
		uint64_t received, lost;
	} periods[] = { { 300 * US, 1000, 0 }, { 400 * US, 990, 10 }, { 2 * MS, 500, 500 }, { 0, 0, 0 },
			{ 1500 * US, 990, 10 } };
	for (size_t i = 0; i < sizeof(periods) / sizeof(periods[0]); i++) {
		for (uint64_t k = 0; k < periods[i].received; k++)
			tw_hist_observe(f->rtt, periods[i].v);
		in.received += periods[i].received;
		in.lost += periods[i].lost;
		in.sent += periods[i].received + periods[i].lost;
		tw_history_snapshot(f->h, &in);
	}
}

static void fixture_fini(fixture *f)
{
	tw_history_free(f->h);
	tw_hist_free(f->rtt);
}

static tw_status_session fixture_session(const fixture *f, const char *name)
{
	return (tw_status_session){
		.name = name,
		.host = "reflector.example",
		.address = "192.0.2.1:862",
		.state = "up",
		.rtt = f->rtt,
		.sent = 4000,
		.received = 3480,
		.lost = 520,
		.jitter_ns = 1234567,
		.history = f->h,
	};
}

static void test_page_structure(void **state)
{
	(void)state;
	fixture f;
	fixture_init(&f);
	tw_hist_bounds b;
	tw_hist_bounds_delay(&b);
	tw_hist *young = tw_hist_new(&b);
	for (int i = 0; i < 10; i++)
		tw_hist_observe(young, 150 * US);
	tw_status_session s[3] = {
		fixture_session(&f, "<script>alert(\"x\")</script> & 'q'"),
		{ .name = "young", .host = "h\"2", .address = "", .state = "connecting", .rtt = young, .sent = 10,
		  .received = 10 },
		{ .name = "down", .host = "198.51.100.7", .address = "198.51.100.7:862", .state = "backoff",
		  .last_error = "connect" },
	};
	tw_status_page pg = base_page(s, 3);
	pg.telemetry_path = "/m?a=\"1\"&b=<2>";
	pg.config_source = "<embedded default>";
	pg.reload_error = "agent.yml:3:7: expected a <duration>";
	tw_buf buf;
	char *doc = render(&pg, &buf);

	doc_stats st = check_html(doc);
	assert_true(valid_utf8_text((const unsigned char *)doc, buf.len - 1));
	assert_int_equal(st.svg, 3);
	assert_int_equal(count(doc, "</svg>"), 3);
	assert_int_equal(st.rows, 4 /* info */ + 1 /* head */ + 3);
	assert_non_null(strstr(doc, "<meta charset=\"utf-8\">"));
	/* escaped everywhere, never raw markup from a name */
	assert_null(strstr(doc, "<script"));
	assert_int_equal(count(doc, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"),
			 3 /* row, heading, svg title */);
	assert_non_null(strstr(doc, "<td>h&quot;2</td>"));
	assert_non_null(strstr(doc, "<a href=\"/m?a=&quot;1&quot;&amp;b=&lt;2&gt;\">Metrics</a>"));
	assert_non_null(strstr(doc, "<a href=\"/-/healthy\">"));
	assert_non_null(strstr(doc, "<a href=\"/-/ready\">"));
	assert_non_null(strstr(doc, "<td>&lt;embedded default&gt;</td>"));
	assert_non_null(strstr(doc, "expected a &lt;duration&gt;"));
	assert_non_null(strstr(doc, "1.2.3 (revision abc)"));
	assert_non_null(strstr(doc, "01h 01m 01s"));
	/* no external resources and no script */
	assert_null(strstr(doc, "src="));
	assert_null(strstr(doc, "url("));
	assert_null(strstr(doc, "href=\"http"));
	assert_int_equal(count(doc, "http://"), 3); /* the SVG namespace only */
	check_path_coordinates(doc);
	tw_buf_fini(&buf);
	tw_hist_free(young);
	fixture_fini(&f);
}

/* The row's numbers: last period (p50, loss), totals, jitter, since-start
 * values marked when no period has passed, dashes without data. */
static void test_numbers(void **state)
{
	(void)state;
	fixture f;
	fixture_init(&f);
	tw_hist_bounds b;
	tw_hist_bounds_delay(&b);
	tw_hist *young = tw_hist_new(&b);
	for (int i = 0; i < 10; i++)
		tw_hist_observe(young, 400 * US); /* 250..500us: p50 = 375us */
	tw_status_session s[3] = {
		fixture_session(&f, "full"),
		{ .name = "young", .host = "y", .address = "", .state = "up", .rtt = young, .sent = 10,
		  .received = 10, .jitter_ns = 52300 },
		{ .name = "down", .host = "d", .address = "", .state = "backoff", .last_error = "connect" },
	};
	tw_status_page pg = base_page(s, 3);
	tw_buf buf;
	char *doc = render(&pg, &buf);
	/* last period: 1.5 ms samples in 1..2.5 ms: p50 = 1 + 1.5/2 = 1.75 ms; 10 of 1000 lost */
	assert_non_null(strstr(doc, "<td class=\"st-up\">up</td><td class=\"n\">1.75 ms</td>"));
	assert_non_null(strstr(doc, "<td class=\"n\">1.00 %</td><td class=\"n\">13.00 %</td>"
				    "<td class=\"n\">1.23 ms</td><td class=\"n\">4000</td>"));
	assert_non_null(strstr(doc, "<td class=\"n since\" title=\"since the start\">375.0 µs*</td>"));
	assert_non_null(strstr(doc, "<td class=\"n\">—</td><td class=\"n\">0.00 %</td><td class=\"n\">52.3 µs</td>"));
	assert_non_null(strstr(doc, "<td class=\"st-backoff\">backoff</td><td class=\"n\">—</td><td class=\"n\">—</td>"
				    "<td class=\"n\">—</td><td class=\"n\">—</td><td class=\"n\">0 ns</td>"
				    "<td class=\"n\">0</td><td>connect</td>"));
	assert_non_null(strstr(doc, "Latency over the last 60 min"));
	assert_non_null(strstr(doc, ">-60 min</text>"));
	assert_non_null(strstr(doc, ">-30 min</text>"));
	assert_non_null(strstr(doc, ">now</text>"));
	assert_non_null(strstr(doc, "no data yet")); /* the two charts without history */
	tw_buf_fini(&buf);
	tw_hist_free(young);
	fixture_fini(&f);
}

/* Text of the d attribute of the path with exactly this class. */
static const char *path_d(const char *doc, const char *cls, char *out, size_t cap)
{
	char key[64];
	snprintf(key, sizeof(key), "<path class=\"%s\" d=\"", cls);
	const char *p = strstr(doc, key);
	assert_non_null(p);
	p += strlen(key);
	size_t n = strcspn(p, "\"");
	assert_true(n < cap);
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

static void test_chart(void **state)
{
	(void)state;
	fixture f;
	fixture_init(&f);
	tw_status_session s = fixture_session(&f, "x");
	tw_status_page pg = base_page(&s, 1);
	tw_buf buf;
	char *doc = render(&pg, &buf);
	char d[4096];
	/* five periods at the right end of 60 slots of 10 px (x 620..670) */
	assert_int_equal(count(path_d(doc, "b1", d, sizeof(d)), "M"), 4); /* the empty period has no band */
	assert_int_equal(count(path_d(doc, "b3", d, sizeof(d)), "M"), 4);
	assert_non_null(strstr(d, "M620 "));
	assert_null(strstr(d, "M650 ")); /* the gap */
	assert_non_null(strstr(d, "M660 "));
	/* medians coloured by loss: 0 %, 1 % (some) twice, 50 % (heavy) */
	assert_int_equal(count(path_d(doc, "m l0", d, sizeof(d)), "M"), 1);
	assert_non_null(strstr(d, "M620 "));
	assert_int_equal(count(path_d(doc, "m l1", d, sizeof(d)), "M"), 2);
	assert_int_equal(count(path_d(doc, "m l2", d, sizeof(d)), "M"), 1);
	assert_non_null(strstr(d, "M640 "));
	assert_int_equal(count(path_d(doc, "m lg", d, sizeof(d)), "M"), 0);
	/* the loss strip has the period without packets in grey */
	assert_int_equal(count(path_d(doc, "s lg", d, sizeof(d)), "M"), 1);
	assert_non_null(strstr(d, "M650 174h10v8h-10z"));
	assert_int_equal(count(path_d(doc, "s l2", d, sizeof(d)), "M"), 1);
	/* y axis: the highest p95 (1 + 0.95 x 1.5 = 2.425 ms) rounds up to 3 ms in 1 ms steps */
	assert_non_null(strstr(doc, ">3 ms</text>"));
	assert_non_null(strstr(doc, ">1 ms</text>"));
	assert_non_null(strstr(doc, ">0</text>"));
	assert_null(strstr(doc, ">4 ms</text>"));
	check_path_coordinates(doc);
	check_html(doc);
	tw_buf_fini(&buf);

	/* a short test period labels the time axis in seconds */
	pg.period_ns = 500 * MS;
	doc = render(&pg, &buf);
	assert_non_null(strstr(doc, ">-30 s</text>"));
	assert_non_null(strstr(doc, ">-7.5 s</text>"));
	assert_non_null(strstr(doc, "Latency over the last 30 s"));
	tw_buf_fini(&buf);
	fixture_fini(&f);
}

/* Thousands of sessions: rows and charts capped with notes, the size
 * bounded and proportional to what is shown. */
static void test_size_bounds(void **state)
{
	(void)state;
	enum { N = 5000 };
	fixture f;
	fixture_init(&f);
	/* a full hour */
	tw_history *full = tw_history_new(TW_HISTORY_DEFAULT_POINTS);
	tw_hist_bounds b;
	tw_hist_bounds_delay(&b);
	tw_hist *rtt = tw_hist_new(&b);
	tw_history_input in = { .rtt = rtt };
	for (int i = 0; i < TW_HISTORY_DEFAULT_POINTS; i++) {
		for (int k = 0; k < 600; k++)
			tw_hist_observe(rtt, (20 + k % 7 * 13 + i) * 100 * US);
		in.sent += 600 + (uint64_t)(i % 5);
		in.received += 600;
		in.lost += (uint64_t)(i % 5);
		tw_history_snapshot(full, &in);
	}
	tw_status_session *s = calloc(N, sizeof(*s));
	char (*names)[48] = calloc(N, sizeof(*names));
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "pop-%04d.example.net <\"&'>", i);
		s[i] = fixture_session(&f, names[i]);
		s[i].history = full;
		s[i].rtt = rtt;
	}
	tw_buf buf;

	/* one session: what a row plus a chart of a full hour costs */
	tw_status_page pg = base_page(s, 1);
	render(&pg, &buf);
	size_t one = buf.len;
	tw_buf_fini(&buf);
	pg.nsessions = 2;
	render(&pg, &buf);
	size_t per_session = buf.len - one;
	tw_buf_fini(&buf);
	print_message("page: %zu bytes with one session, %zu more per session (row + full-hour chart)\n", one,
		      per_session);
	assert_true(per_session > 2000 && per_session < 16000);

	pg.nsessions = N;
	char *doc = render(&pg, &buf);
	doc_stats st = check_html(doc);
	print_message("page: %zu bytes for %d sessions (%d rows, %d charts)\n", buf.len, N, st.rows - 5, st.svg);
	assert_int_equal(st.svg, TW_STATUS_MAX_CHARTS);
	assert_int_equal(st.rows, 5 + TW_STATUS_MAX_ROWS);
	assert_non_null(strstr(doc, "Sessions (5000)"));
	assert_non_null(strstr(doc, "4000 more sessions are not listed"));
	assert_non_null(strstr(doc, "Charts are shown for the first 50 sessions; 4950 more"));
	assert_true(buf.len < one + TW_STATUS_MAX_CHARTS * per_session + TW_STATUS_MAX_ROWS * 1000);
	assert_true(buf.len < 2u << 20);
	tw_buf_fini(&buf);

	/* the agent passes only the rows it shows, and the total */
	pg.nsessions = 20;
	pg.nsessions_total = N;
	pg.max_rows = 20;
	pg.max_charts = 5;
	doc = render(&pg, &buf);
	st = check_html(doc);
	assert_int_equal(st.svg, 5);
	assert_int_equal(st.rows, 5 + 20);
	assert_non_null(strstr(doc, "4980 more sessions are not listed"));
	assert_non_null(strstr(doc, "first 5 sessions; 4995 more are not charted"));
	tw_buf_fini(&buf);

	/* a page larger than the buffer's cap fails cleanly */
	tw_buf_init(&buf, 4096);
	pg.nsessions = 3;
	pg.nsessions_total = 0;
	assert_int_equal(tw_status_render(&buf, &pg), -ENOBUFS);
	assert_true(buf.len <= 4096);
	tw_buf_fini(&buf);

	free(names);
	free(s);
	tw_history_free(full);
	tw_hist_free(rtt);
	fixture_fini(&f);
}

/* ---- the keyed table ---- */

static void test_table(void **state)
{
	(void)state;
	assert_null(tw_status_new(0, S));
	assert_null(tw_status_new(60, 0));
	tw_status *t = tw_status_new(4, 60 * S);
	assert_non_null(t);
	assert_true(tw_status_period_ns(t) == 60 * S);
	int ka, kb, kc; /* any distinct addresses */
	tw_status_sample v[2] = {
		{ .key = &ka, .ident = 1, .in = { .sent = 10, .received = 10 } },
		{ .key = &kb, .ident = 2, .in = { .sent = 20, .received = 19, .lost = 1 } },
	};
	assert_int_equal(tw_status_tick(t, v, 2), 0);
	assert_int_equal(tw_status_count(t), 2);
	assert_int_equal(tw_history_last(tw_status_history(t, &kb, 2))->lost, 1);
	assert_null(tw_status_history(t, &kb, 3)); /* another session at that key */
	assert_null(tw_status_history(t, &kc, 1));

	/* a goes away, c arrives, b goes on */
	v[0] = (tw_status_sample){ .key = &kc, .ident = 3, .in = { .sent = 5, .received = 5 } };
	v[1].in.sent = 50;
	assert_int_equal(tw_status_tick(t, v, 2), 0);
	assert_int_equal(tw_status_count(t), 2);
	assert_null(tw_status_history(t, &ka, 1));
	assert_int_equal(tw_history_len(tw_status_history(t, &kb, 2)), 2);
	assert_int_equal(tw_history_last(tw_status_history(t, &kb, 2))->sent, 30);
	assert_int_equal(tw_history_len(tw_status_history(t, &kc, 3)), 1);

	/* b's key now belongs to another session: a fresh history from zero */
	v[1].ident = 9;
	v[1].in.sent = 60;
	assert_int_equal(tw_status_tick(t, v, 2), 0);
	assert_null(tw_status_history(t, &kb, 2));
	const tw_history *h = tw_status_history(t, &kb, 9);
	assert_int_equal(tw_history_len(h), 1);
	assert_int_equal(tw_history_last(h)->sent, 60);

	/* many keys in any order, then none */
	enum { M = 300 };
	static char keys[M];
	tw_status_sample many[M];
	for (size_t i = 0; i < M; i++)
		many[i] = (tw_status_sample){ .key = &keys[(i * 7919) % M], .ident = (i * 7919) % M };
	assert_int_equal(tw_status_tick(t, many, M), 0);
	assert_int_equal(tw_status_count(t), M);
	for (size_t i = 0; i < M; i++)
		assert_non_null(tw_status_history(t, &keys[i], i));
	assert_int_equal(tw_status_tick(t, NULL, 0), 0);
	assert_int_equal(tw_status_count(t), 0);
	tw_status_free(t);
	tw_status_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_page_structure),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_chart),
		cmocka_unit_test(test_size_bounds),
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
