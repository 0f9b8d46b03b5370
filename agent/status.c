/* status.c - the status page at "/" and the histories behind its charts
 * (see status.h). */
#include "status.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_int.h"
#include "log.h"
#include "version.h"

#define NS_PER_US ((int64_t)1000)
#define NS_PER_MS ((int64_t)1000000)
#define NS_PER_S ((int64_t)1000000000)

/* ---- text ---- */

static void appendf(tw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void appendf(tw_buf *b, const char *fmt, ...)
{
	size_t room = 256;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (tw_buf_reserve(b, room) < 0)
			return;
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(tw_buf_tail(b), room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			tw_buf_commit(b, (size_t)n);
			return;
		}
		room = (size_t)n + 1;
	}
}

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
		 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if (n == 3) {
		unsigned cp = (s[0] & 0x0Fu) << 12 | (s[1] & 0x3Fu) << 6 | (s[2] & 0x3Fu);
		if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
	} else if (n == 4) {
		unsigned cp = (s[0] & 0x07u) << 18 | (s[1] & 0x3Fu) << 12;
		if (cp < 0x10000 || cp > 0x10FFFF)
			return 0;
	}
	return n;
}

/* C0 (but tab and newline), DEL and C1 controls: HTML parse errors. */
static bool is_control(const unsigned char *s, size_t n)
{
	if (n == 1)
		return (s[0] < 0x20 && s[0] != '\t' && s[0] != '\n') || s[0] == 0x7F;
	return n == 2 && s[0] == 0xC2 && s[1] < 0xA0;
}

static const char *entity(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		return NULL;
	}
}

int tw_status_escape(tw_buf *b, const char *s)
{
	if (!s)
		return b->err;
	const unsigned char *p = (const unsigned char *)s, *run = p;
	while (*p) {
		size_t n = utf8_len(p);
		const char *rep = n == 0 || is_control(p, n) ? "\xEF\xBF\xBD" : n == 1 ? entity(*p) : NULL;
		if (!rep) {
			p += n;
			continue;
		}
		tw_buf_append(b, run, (size_t)(p - run));
		tw_buf_puts(b, rep);
		p += n ? n : 1;
		run = p;
	}
	tw_buf_append(b, run, (size_t)(p - run));
	return b->err;
}

/* v / unit with dec decimals, rounded half up, into out (locale-free). */
static void fmt_fixed(char *out, size_t cap, int64_t v, int64_t unit, int dec, const char *suffix)
{
	int64_t scale = 1;
	for (int i = 0; i < dec; i++)
		scale *= 10;
	const char *sign = v < 0 ? "-" : "";
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	uint64_t whole = a / (uint64_t)unit;
	uint64_t frac = ((a % (uint64_t)unit) * (uint64_t)scale + (uint64_t)unit / 2) / (uint64_t)unit;
	if (frac >= (uint64_t)scale) {
		whole++;
		frac -= (uint64_t)scale;
	}
	if (dec > 0)
		snprintf(out, cap, "%s%" PRIu64 ".%0*" PRIu64 "%s", sign, whole, dec, frac, suffix);
	else
		snprintf(out, cap, "%s%" PRIu64 "%s", sign, whole, suffix);
}

/* A duration for people: "740 ns", "52.3 µs", "1.25 ms", "123.4 ms",
 * "1.500 s". */
static void fmt_dur(char *out, size_t cap, int64_t ns)
{
	int64_t a = ns < 0 ? -(ns + 1) : ns;
	if (a < NS_PER_US)
		fmt_fixed(out, cap, ns, 1, 0, " ns");
	else if (a < NS_PER_MS)
		fmt_fixed(out, cap, ns, NS_PER_US, 1, " µs");
	else if (a < 100 * NS_PER_MS)
		fmt_fixed(out, cap, ns, NS_PER_MS, 2, " ms");
	else if (a < NS_PER_S)
		fmt_fixed(out, cap, ns, NS_PER_MS, 1, " ms");
	else
		fmt_fixed(out, cap, ns, NS_PER_S, 3, " s");
}

/* An axis label: as short as the value allows ("250 µs", "1.5 ms", "0"). */
static void fmt_tick(char *out, size_t cap, int64_t ns)
{
	static const struct {
		int64_t unit;
		const char *suffix;
	} units[] = { { NS_PER_S, " s" }, { NS_PER_MS, " ms" }, { NS_PER_US, " µs" }, { 1, " ns" } };
	if (ns == 0) {
		snprintf(out, cap, "0");
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ns < units[i].unit)
			continue;
		int dec = ns % units[i].unit == 0 ? 0 : (ns * 10) % units[i].unit == 0 ? 1 : 2;
		fmt_fixed(out, cap, ns, units[i].unit, dec, units[i].suffix);
		return;
	}
	fmt_fixed(out, cap, ns, 1, 0, " ns");
}

/* How long ago, for the time axis: "-60 min", "-30 s", "-7.5 s". */
static void fmt_ago(char *out, size_t cap, int64_t ns)
{
	if (ns == 0)
		snprintf(out, cap, "now");
	else if (ns % (60 * NS_PER_S) == 0)
		snprintf(out, cap, "-%" PRId64 " min", ns / (60 * NS_PER_S));
	else
		fmt_fixed(out, cap, -ns, NS_PER_S, ns % NS_PER_S == 0 ? 0 : 1, " s");
}

static void fmt_loss(char *out, size_t cap, int bp)
{
	if (bp < 0)
		snprintf(out, cap, "—");
	else
		snprintf(out, cap, "%d.%02d %%", bp / 100, bp % 100);
}

static void fmt_uptime(char *out, size_t cap, int64_t ns)
{
	int64_t s = ns > 0 ? ns / NS_PER_S : 0;
	if (s >= 86400)
		snprintf(out, cap, "%" PRId64 "d %02" PRId64 "h %02" PRId64 "m", s / 86400, s / 3600 % 24, s / 60 % 60);
	else
		snprintf(out, cap, "%02" PRId64 "h %02" PRId64 "m %02" PRId64 "s", s / 3600, s / 60 % 60, s % 60);
}

static void fmt_utc(char *out, size_t cap, int64_t real_ns)
{
	time_t t = (time_t)(real_ns / NS_PER_S);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, cap, "?");
}

/* ---- page: head and header ---- */

static const char STYLE[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1em 2em;color:#222;background:#fff}"
	"h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin:1.2em 0 .4em}"
	"h3{font-size:1em;margin:1em 0 .2em}"
	"table{border-collapse:collapse}th,td{padding:.2em .6em;text-align:left;border-bottom:1px solid #ddd}"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}th.n{text-align:right}"
	".info th{font-weight:normal;color:#666}.bad{color:#b00020}.note,.host,.since{color:#666}"
	".st-up{color:#1a7f37}.st-backoff{color:#b00020}"
	".key{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 1em;vertical-align:middle}"
	".k1{background:#c6dbef}.k2{background:#9ecae1}.k3{background:#6baed6}"
	".kl0{background:#1a9850}.kl1{background:#e6b800}.kl2{background:#d73027}.klg{background:#bdbdbd}"
	"svg{display:block}svg text{font:11px sans-serif;fill:#444}"
	".frame{fill:#fff;stroke:#999}.grid{stroke:#e3e3e3;fill:none}"
	".b1{fill:#c6dbef}.b2{fill:#9ecae1}.b3{fill:#6baed6}"
	".m{fill:none;stroke-width:2}.m.l0{stroke:#1a9850}.m.l1{stroke:#e6b800}.m.l2{stroke:#d73027}"
	".m.lg{stroke:#555}.s.l0{fill:#1a9850}.s.l1{fill:#e6b800}.s.l2{fill:#d73027}.s.lg{fill:#bdbdbd}"
	".strip{fill:#eee}.yl{text-anchor:end}.xl{text-anchor:middle}.empty{text-anchor:middle}";

static void render_head(tw_buf *b)
{
	tw_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		       "<meta name=\"viewport\" content=\"width=device-width\">"
		       "<title>twamp-agent status</title>\n<style>");
	tw_buf_puts(b, STYLE);
	tw_buf_puts(b, "</style></head>\n<body>\n<h1>twamp-agent</h1>\n");
}

static void info_row(tw_buf *b, const char *th, const char *td)
{
	appendf(b, "<tr><th>%s</th><td>", th);
	tw_status_escape(b, td);
	tw_buf_puts(b, "</td></tr>\n");
}

static void render_reload(tw_buf *b, const tw_status_page *p)
{
	tw_buf_puts(b, "<tr><th>Last reload</th><td>");
	if (p->reload_error && p->reload_error[0]) {
		tw_buf_puts(b, "<span class=\"bad\">rejected, the previous configuration is running: ");
		tw_status_escape(b, p->reload_error);
		tw_buf_puts(b, "</span>");
	} else {
		char when[64] = "";
		if (p->reload_real_ns > 0)
			fmt_utc(when, sizeof(when), p->reload_real_ns);
		appendf(b, "ok%s%s", when[0] ? ", " : "", when);
	}
	tw_buf_puts(b, "</td></tr>\n");
}

static void render_header(tw_buf *b, const tw_status_page *p)
{
	char v[160], up[64];
	snprintf(v, sizeof(v), "%s (revision %s)", p->version ? p->version : "?", p->revision ? p->revision : "?");
	fmt_uptime(up, sizeof(up), p->now_real_ns - p->start_real_ns);
	tw_buf_puts(b, "<table class=\"info\">\n");
	info_row(b, "Version", v);
	info_row(b, "Uptime", up);
	info_row(b, "Configuration", p->config_source ? p->config_source : "?");
	render_reload(b, p);
	tw_buf_puts(b, "</table>\n<p class=\"links\"><a href=\"");
	tw_status_escape(b, p->telemetry_path ? p->telemetry_path : "/metrics");
	tw_buf_puts(b, "\">Metrics</a> · <a href=\"/-/healthy\">Health</a> · <a href=\"/-/ready\">Readiness</a></p>\n");
}

/* ---- page: the sessions table ---- */

static int loss_bp_of_last(const tw_status_session *s)
{
	const tw_history_point *pt = s->history ? tw_history_last(s->history) : NULL;
	return pt ? tw_history_loss_bp(pt->received, pt->lost) : -1;
}

/* p50 or p99 of the last period, else since the start (marked "*"). */
static void rtt_cell(tw_buf *b, const tw_status_session *s, size_t qi)
{
	const tw_history_point *pt = s->history ? tw_history_last(s->history) : NULL;
	char txt[32];
	int64_t v;
	if (pt && (pt->flags & TW_HISTORY_HAS_RTT)) {
		fmt_dur(txt, sizeof(txt), pt->q[qi]);
		appendf(b, "<td class=\"n\">%s</td>", txt);
	} else if (s->rtt && tw_hist_quantile(s->rtt, tw_history_quantiles[qi], &v) == 0) {
		fmt_dur(txt, sizeof(txt), v);
		appendf(b, "<td class=\"n since\" title=\"since the start\">%s*</td>", txt);
	} else {
		tw_buf_puts(b, "<td class=\"n\">—</td>");
	}
}

static void text_cell(tw_buf *b, const char *cls, const char *text)
{
	if (cls)
		appendf(b, "<td class=\"%s\">", cls);
	else
		tw_buf_puts(b, "<td>");
	tw_status_escape(b, text);
	tw_buf_puts(b, "</td>");
}

static void render_row(tw_buf *b, const tw_status_session *s, size_t i, bool charted)
{
	char cls[32], last[32], total[32], jit[32];
	snprintf(cls, sizeof(cls), "st-%s", strcmp(s->state ? s->state : "", "up") == 0 ? "up"
					   : strcmp(s->state ? s->state : "", "backoff") == 0 ? "backoff" : "other");
	fmt_loss(last, sizeof(last), loss_bp_of_last(s));
	fmt_loss(total, sizeof(total), tw_history_loss_bp(s->received, s->lost));
	fmt_dur(jit, sizeof(jit), s->jitter_ns);
	tw_buf_puts(b, "<tr><td>");
	if (charted)
		appendf(b, "<a href=\"#s%zu\">", i);
	tw_status_escape(b, s->name);
	tw_buf_puts(b, charted ? "</a></td>" : "</td>");
	text_cell(b, NULL, s->host);
	text_cell(b, NULL, s->address);
	text_cell(b, cls, s->state);
	rtt_cell(b, s, TW_HISTORY_P50);
	rtt_cell(b, s, TW_HISTORY_P99);
	appendf(b, "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%" PRIu64
		   "</td>", last, total, jit, s->sent);
	text_cell(b, NULL, s->last_error);
	tw_buf_puts(b, "</tr>\n");
}

static void render_table(tw_buf *b, const tw_status_page *p, size_t rows, size_t charts, size_t total)
{
	char per[32];
	fmt_ago(per, sizeof(per), p->period_ns);
	appendf(b, "<h2>Sessions (%zu)</h2>\n<table class=\"sessions\"><thead><tr><th>target</th><th>host</th>"
		   "<th>address</th><th>state</th><th class=\"n\">RTT p50</th><th class=\"n\">RTT p99</th>"
		   "<th class=\"n\">loss</th><th class=\"n\">loss total</th><th class=\"n\">jitter</th>"
		   "<th class=\"n\">sent</th><th>last error</th></tr></thead>\n<tbody>\n", total);
	for (size_t i = 0; i < rows; i++)
		render_row(b, &p->sessions[i], i, i < charts);
	tw_buf_puts(b, "</tbody></table>\n");
	appendf(b, "<p class=\"note\">RTT and loss cover the last period (%s); * marks values since the start, "
		   "before a period has passed.", per + 1);
	if (rows < total)
		appendf(b, " %zu more sessions are not listed (the page shows %zu); /metrics has them all.",
			total - rows, rows);
	tw_buf_puts(b, "</p>\n");
}

/* ---- page: charts ---- */

enum {
	CH_W = 720,
	CH_H = 208,
	CH_X0 = 70, /* plot area */
	CH_PW = 600,
	CH_Y0 = 8,
	CH_PH = 160,
	CH_STRIP_Y = CH_Y0 + CH_PH + 6, /* loss strip */
	CH_STRIP_H = 8,
	CH_XL_Y = CH_STRIP_Y + CH_STRIP_H + 16,
};

typedef struct chart {
	tw_buf *b;
	const tw_history *h; /* may be NULL */
	size_t slots, len;   /* slots: capacity, the right end is now */
	int64_t top;         /* RTT at the top of the plot */
} chart;

static int slot_x(const chart *c, size_t slot)
{
	return CH_X0 + (int)(slot * CH_PW / c->slots);
}

static int rtt_y(const chart *c, int64_t v)
{
	if (v <= 0)
		return CH_Y0 + CH_PH;
	if (v >= c->top)
		return CH_Y0;
	return CH_Y0 + CH_PH - (int)((double)v * CH_PH / (double)c->top + 0.5);
}

static const tw_history_point *point(const chart *c, size_t i, size_t *slot)
{
	*slot = c->slots - c->len + i;
	return tw_history_at(c->h, i);
}

static const char *loss_class(const tw_history_point *pt)
{
	int bp = tw_history_loss_bp(pt->received, pt->lost);
	return bp < 0 ? "lg" : bp == 0 ? "l0" : bp < TW_STATUS_HEAVY_LOSS_BP ? "l1" : "l2";
}

/* Smallest 1, 2 or 5 x 10^k >= v. */
static int64_t nice_step(int64_t v)
{
	for (int64_t p = 1;; p *= 10) {
		if (p >= v)
			return p;
		if (2 * p >= v)
			return 2 * p;
		if (5 * p >= v || p > INT64_MAX / 100)
			return 5 * p;
	}
}

/* The y range: the highest p95 rounded up to a 1-2-5 step (at most four
 * steps); 1 ms without data. */
static int64_t scale_top(const chart *c, int64_t *step)
{
	int64_t max = 0;
	size_t slot;
	for (size_t i = 0; i < c->len; i++) {
		const tw_history_point *pt = point(c, i, &slot);
		if ((pt->flags & TW_HISTORY_HAS_RTT) && pt->q[TW_HISTORY_P95] > max)
			max = pt->q[TW_HISTORY_P95];
	}
	if (max <= 0)
		max = NS_PER_MS;
	if (max > INT64_MAX / 8)
		max = INT64_MAX / 8; /* only absurd custom buckets get here */
	*step = nice_step((max + 3) / 4);
	return (max + *step - 1) / *step * *step;
}

static void render_axes(chart *c, int64_t step, int64_t period_ns)
{
	char lbl[32];
	appendf(c->b, "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>", CH_X0, CH_Y0, CH_PW,
		CH_PH);
	appendf(c->b, "<rect class=\"strip\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>", CH_X0, CH_STRIP_Y,
		CH_PW, CH_STRIP_H);
	tw_buf_puts(c->b, "<path class=\"grid\" d=\"");
	for (int64_t v = step; v < c->top; v += step)
		appendf(c->b, "M%d %dh%d", CH_X0, rtt_y(c, v), CH_PW);
	tw_buf_puts(c->b, "\"/>");
	for (int64_t v = 0; v <= c->top; v += step) {
		fmt_tick(lbl, sizeof(lbl), v);
		appendf(c->b, "<text class=\"yl\" x=\"%d\" y=\"%d\">%s</text>", CH_X0 - 4, rtt_y(c, v) + 4, lbl);
	}
	for (size_t q = 0; q <= 4; q++) {
		size_t slot = c->slots * q / 4;
		fmt_ago(lbl, sizeof(lbl), (int64_t)(c->slots - slot) * period_ns);
		appendf(c->b, "<text class=\"xl\" x=\"%d\" y=\"%d\">%s</text>", slot_x(c, slot), CH_XL_Y, lbl);
	}
}

/* One shaded band: a rectangle per period from quantile lo to hi. */
static void render_band(chart *c, size_t lo, size_t hi, const char *cls)
{
	size_t slot;
	appendf(c->b, "<path class=\"%s\" d=\"", cls);
	for (size_t i = 0; i < c->len; i++) {
		const tw_history_point *pt = point(c, i, &slot);
		if (!(pt->flags & TW_HISTORY_HAS_RTT))
			continue;
		int x = slot_x(c, slot), w = slot_x(c, slot + 1) - x;
		int y0 = rtt_y(c, pt->q[hi]), y1 = rtt_y(c, pt->q[lo]);
		if (y1 - y0 < 1)
			y0 = y1 - 1;
		appendf(c->b, "M%d %dh%dv%dh%dz", x, y0, w, y1 - y0, -w);
	}
	tw_buf_puts(c->b, "\"/>");
}

/* The medians (m) and the loss strip (s) of the periods whose loss falls
 * in class cls. */
static void render_loss_class(chart *c, const char *cls)
{
	size_t slot;
	appendf(c->b, "<path class=\"m %s\" d=\"", cls);
	for (size_t i = 0; i < c->len; i++) {
		const tw_history_point *pt = point(c, i, &slot);
		if ((pt->flags & TW_HISTORY_HAS_RTT) && strcmp(loss_class(pt), cls) == 0)
			appendf(c->b, "M%d %dh%d", slot_x(c, slot), rtt_y(c, pt->q[TW_HISTORY_P50]),
				slot_x(c, slot + 1) - slot_x(c, slot));
	}
	appendf(c->b, "\"/><path class=\"s %s\" d=\"", cls);
	for (size_t i = 0; i < c->len; i++) {
		const tw_history_point *pt = point(c, i, &slot);
		if (strcmp(loss_class(pt), cls) != 0)
			continue;
		int x = slot_x(c, slot), w = slot_x(c, slot + 1) - x;
		appendf(c->b, "M%d %dh%dv%dh%dz", x, CH_STRIP_Y, w, CH_STRIP_H, -w);
	}
	tw_buf_puts(c->b, "\"/>");
}

static void render_chart(tw_buf *b, const tw_status_session *s, size_t i, int64_t period_ns)
{
	chart c = { .b = b, .h = s->history };
	c.slots = s->history ? tw_history_capacity(s->history) : TW_HISTORY_DEFAULT_POINTS;
	c.len = s->history ? tw_history_len(s->history) : 0;
	int64_t step;
	c.top = scale_top(&c, &step);
	appendf(b, "<h3 id=\"s%zu\">", i);
	tw_status_escape(b, s->name);
	tw_buf_puts(b, " <span class=\"host\">");
	tw_status_escape(b, s->host);
	appendf(b, "</span></h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\" role=\"img\"><title>RTT of ", CH_W, CH_H, CH_W, CH_H);
	tw_status_escape(b, s->name);
	tw_buf_puts(b, "</title>");
	render_axes(&c, step, period_ns);
	render_band(&c, TW_HISTORY_P05, TW_HISTORY_P95, "b1");
	render_band(&c, TW_HISTORY_P10, TW_HISTORY_P90, "b2");
	render_band(&c, TW_HISTORY_P25, TW_HISTORY_P75, "b3");
	static const char *const classes[] = { "lg", "l0", "l1", "l2" };
	for (size_t k = 0; k < 4; k++)
		render_loss_class(&c, classes[k]);
	if (c.len == 0)
		appendf(b, "<text class=\"empty\" x=\"%d\" y=\"%d\">no data yet</text>", CH_X0 + CH_PW / 2,
			CH_Y0 + CH_PH / 2);
	tw_buf_puts(b, "</svg>\n");
}

static void render_charts(tw_buf *b, const tw_status_page *p, size_t charts, size_t total)
{
	char span[32];
	fmt_ago(span, sizeof(span), (int64_t)TW_HISTORY_DEFAULT_POINTS * p->period_ns);
	appendf(b, "<h2>Latency over the last %s</h2>\n<p class=\"legend\">RTT percentiles per period:"
		   "<span class=\"key k1\"></span>p5–p95<span class=\"key k2\"></span>p10–p90"
		   "<span class=\"key k3\"></span>p25–p75; median and loss strip by loss:"
		   "<span class=\"key kl0\"></span>none<span class=\"key kl1\"></span>some"
		   "<span class=\"key kl2\"></span>&ge; %d %%<span class=\"key klg\"></span>no packets</p>\n",
		span + 1, TW_STATUS_HEAVY_LOSS_BP / 100);
	for (size_t i = 0; i < charts; i++)
		render_chart(b, &p->sessions[i], i, p->period_ns);
	if (charts < total)
		appendf(b, "<p class=\"note\">Charts are shown for the first %zu sessions; %zu more are not "
			   "charted.</p>\n", charts, total - charts);
}

int tw_status_render(tw_buf *b, const tw_status_page *page)
{
	tw_status_page norm = *page;
	const tw_status_page *p = &norm;
	if (norm.period_ns <= 0)
		norm.period_ns = TW_STATUS_PERIOD_NS;
	size_t max_rows = p->max_rows ? p->max_rows : TW_STATUS_MAX_ROWS;
	size_t max_charts = p->max_charts ? p->max_charts : TW_STATUS_MAX_CHARTS;
	size_t total = p->nsessions_total > p->nsessions ? p->nsessions_total : p->nsessions;
	size_t rows = p->nsessions < max_rows ? p->nsessions : max_rows;
	size_t charts = rows < max_charts ? rows : max_charts;
	render_head(b);
	render_header(b, p);
	render_table(b, p, rows, charts, total);
	render_charts(b, p, charts, total);
	tw_buf_puts(b, "</body></html>\n");
	return b->err;
}

/* ---- the keyed history table ---- */

typedef struct entry {
	const void *key;
	uint64_t ident;
	tw_history *h;
	bool seen;
} entry;

struct tw_status {
	tw_agent *a; /* NULL for a bare table */
	tw_timer timer;
	int64_t due;
	int64_t period_ns;
	size_t points;
	entry *v; /* sorted by key */
	size_t n, cap;
	tw_buf page;
};

tw_status *tw_status_new(size_t points, int64_t period_ns)
{
	if (points < 1 || points > TW_HISTORY_MAX_POINTS || period_ns <= 0)
		return NULL;
	tw_status *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->points = points;
	s->period_ns = period_ns;
	tw_buf_init(&s->page, TW_STATUS_PAGE_MAX);
	return s;
}

void tw_status_free(tw_status *s)
{
	if (!s)
		return;
	if (s->a)
		tw_timer_stop(s->a->loop, &s->timer);
	for (size_t i = 0; i < s->n; i++)
		tw_history_free(s->v[i].h);
	free(s->v);
	tw_buf_fini(&s->page);
	free(s);
}

int64_t tw_status_period_ns(const tw_status *s)
{
	return s->period_ns;
}

size_t tw_status_count(const tw_status *s)
{
	return s->n;
}

static int cmp_key(const void *x, const void *y)
{
	uintptr_t a = (uintptr_t)((const entry *)x)->key, b = (uintptr_t)((const entry *)y)->key;
	return a < b ? -1 : a > b;
}

static entry *find(const tw_status *s, size_t n, const void *key)
{
	entry probe = { .key = key };
	return s->n ? bsearch(&probe, s->v, n, sizeof(*s->v), cmp_key) : NULL;
}

/* The entry of sample x (new ones are appended past the sorted n), with a
 * fresh history when the key now belongs to another session. */
static entry *entry_for(tw_status *s, size_t sorted, const tw_status_sample *x)
{
	entry *e = find(s, sorted, x->key);
	if (!e) {
		e = &s->v[s->n++];
		*e = (entry){ .key = x->key, .ident = x->ident };
	} else if (e->ident != x->ident) {
		tw_history_free(e->h);
		e->h = NULL;
		e->ident = x->ident;
	}
	if (!e->h)
		e->h = tw_history_new(s->points);
	return e;
}

/* Drops the entries not seen in this tick and restores the order. */
static void sweep(tw_status *s)
{
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].seen && s->v[i].h)
			s->v[k++] = s->v[i];
		else
			tw_history_free(s->v[i].h);
	}
	s->n = k;
	qsort(s->v, s->n, sizeof(*s->v), cmp_key);
}

int tw_status_tick(tw_status *s, const tw_status_sample *v, size_t n)
{
	if (n > s->cap - s->n) {
		entry *nv = realloc(s->v, (s->n + n) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = s->n + n;
	}
	size_t sorted = s->n;
	int rc = 0;
	for (size_t i = 0; i < s->n; i++)
		s->v[i].seen = false;
	for (size_t i = 0; i < n; i++) {
		entry *e = entry_for(s, sorted, &v[i]);
		e->seen = true;
		if (e->h)
			tw_history_snapshot(e->h, &v[i].in);
		else
			rc = -ENOMEM;
	}
	sweep(s);
	return rc;
}

const tw_history *tw_status_history(const tw_status *s, const void *key, uint64_t ident)
{
	const entry *e = find(s, s->n, key);
	return e && e->ident == ident ? e->h : NULL;
}

/* ---- the agent's side ---- */

/* Tells apart two sessions that get the same probe address in turn. */
static uint64_t ident_of(const tw_probe *p)
{
	const tw_config_target *t = tw_probe_target(p);
	uint64_t x = 1469598103934665603ULL;
	for (const char *c = t->name; *c; c++) {
		x ^= (unsigned char)*c;
		x *= 1099511628211ULL;
	}
	return x;
}

static void fill_sample(const tw_probe *p, tw_status_sample *x)
{
	const tw_target_series *ts = tw_probe_series(p);
	x->key = p;
	x->ident = ident_of(p);
	x->in = (tw_history_input){ .rtt = ts->rtt, .sent = ts->sent->v, .received = ts->received->v,
				    .lost = ts->lost->v };
}

static void on_tick(void *arg)
{
	tw_status *s = arg;
	tw_agent *a = s->a;
	tw_status_sample *v = calloc(a->nprobes ? a->nprobes : 1, sizeof(*v));
	int rc = -ENOMEM;
	if (v) {
		for (size_t i = 0; i < a->nprobes; i++)
			fill_sample(a->probes[i], &v[i]);
		rc = tw_status_tick(s, v, a->nprobes);
	}
	free(v);
	if (rc < 0)
		tw_warn("status page history incomplete", "error=\"%s\"", strerror(-rc));
	/* keep the periods aligned to the start; after a stall, resume from now */
	int64_t now = tw_loop_mono(a->loop);
	s->due += s->period_ns;
	if (s->due <= now)
		s->due = now + s->period_ns;
	tw_timer_at(a->loop, &s->timer, s->due);
}

static int64_t period_from_env(void)
{
	const char *e = getenv("TW_HISTORY_PERIOD_MS");
	if (!e || !*e)
		return TW_STATUS_PERIOD_NS;
	char *end;
	errno = 0;
	long long ms = strtoll(e, &end, 10);
	if (errno || *end || ms < 100 || ms > 3600000) {
		tw_warn("ignoring TW_HISTORY_PERIOD_MS", "value=\"%s\" expected=100..3600000", e);
		return TW_STATUS_PERIOD_NS;
	}
	tw_warn("status history period shortened (TW_HISTORY_PERIOD_MS, for tests)", "period_ms=%lld", ms);
	return ms * NS_PER_MS;
}

int tw_status_start(tw_agent *a)
{
	tw_status *s = tw_status_new(TW_HISTORY_DEFAULT_POINTS, period_from_env());
	if (!s)
		return -ENOMEM;
	s->a = a;
	tw_timer_init(&s->timer, on_tick, s);
	s->due = tw_loop_mono(a->loop) + s->period_ns;
	if (tw_timer_at(a->loop, &s->timer, s->due) < 0) {
		tw_status_free(s);
		return -ENOMEM;
	}
	a->status = s;
	return 0;
}

/* ---- serving "/" ---- */

typedef struct addr_text {
	char v[80];
} addr_text;

static void fill_session(const tw_status *st, const tw_probe *p, tw_status_session *s, addr_text *addr)
{
	const tw_config_target *t = tw_probe_target(p);
	const tw_target_series *ts = tw_probe_series(p);
	tw_probe_info info = tw_probe_get_info(p);
	addr->v[0] = '\0';
	if (info.target.ss.ss_family)
		tw_sa_format(&info.target, addr->v, sizeof(addr->v));
	*s = (tw_status_session){
		.name = t->name,
		.host = t->host,
		.address = addr->v,
		.state = tw_probe_state_name(info.state),
		.last_error = info.last_error,
		.rtt = ts->rtt,
		.sent = ts->sent->v,
		.received = ts->received->v,
		.lost = ts->lost->v,
		.jitter_ns = (int64_t)(ts->rtt_jitter->v * 1e9),
		.history = tw_status_history(st, p, ident_of(p)),
	};
}

static void fill_page(const tw_agent *a, tw_status_page *pg)
{
	const tw_agent_series *as = tw_metrics_agent(a->metrics);
	*pg = (tw_status_page){
		.version = TW_VERSION,
		.revision = TW_REVISION,
		.now_real_ns = tw_loop_real(a->loop),
		.start_real_ns = a->start_real_ns,
		.config_source = a->cfg ? a->cfg->source : NULL,
		.reload_error = a->last_reload_error,
		.reload_real_ns = (int64_t)(as->reload_ts->v * 1e9),
		.telemetry_path = a->opts->telemetry_path ? a->opts->telemetry_path : "/metrics",
		.period_ns = a->status->period_ns,
	};
}

static int render_agent(const tw_agent *a, tw_buf *b)
{
	size_t n = a->nprobes < TW_STATUS_MAX_ROWS ? a->nprobes : TW_STATUS_MAX_ROWS;
	tw_status_session *ss = calloc(n ? n : 1, sizeof(*ss));
	addr_text *addrs = calloc(n ? n : 1, sizeof(*addrs));
	int rc = -ENOMEM;
	if (ss && addrs) {
		tw_status_page pg;
		fill_page(a, &pg);
		for (size_t i = 0; i < n; i++)
			fill_session(a->status, a->probes[i], &ss[i], &addrs[i]);
		pg.sessions = ss;
		pg.nsessions = n;
		pg.nsessions_total = a->nprobes;
		tw_buf_clear(b);
		rc = tw_status_render(b, &pg);
	}
	free(ss);
	free(addrs);
	return rc;
}

int tw_status_handler(void *arg, const tw_http_request *req, tw_http_response *resp)
{
	tw_agent *a = arg;
	(void)req;
	if (!a->status)
		return -ENOMEM;
	int rc = render_agent(a, &a->status->page);
	if (rc < 0)
		return rc;
	resp->content_type = "text/html; charset=utf-8";
	resp->body = a->status->page.data;
	resp->body_len = a->status->page.len;
	tw_http_response_header(resp, "Cache-Control", "no-store");
	return 0;
}
