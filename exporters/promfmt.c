/* promfmt.c - locale-independent numbers, escaping, names (see promfmt.h). */
#include "promfmt.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIGITS 17 /* significant digits that always round-trip a double */
#define NS_PER_S UINT64_C(1000000000)
#define GO_EPREC 6    /* Go's 'g' shortest switches to an exponent at 1e6 */
#define NS_FRACTION_DIGITS 9
#define NS_DIGITS_LIMIT 1e15 /* ns counts below this have at most 15 digits */

/* ---- integers ---- */

size_t tw_promfmt_u64(char *out, uint64_t v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
	return n;
}

static uint64_t magnitude(int64_t v)
{
	return v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
}

size_t tw_promfmt_i64(char *out, int64_t v)
{
	size_t n = 0;
	if (v < 0)
		out[n++] = '-';
	return n + tw_promfmt_u64(out + n, magnitude(v));
}

size_t tw_promfmt_ns_seconds(char *out, int64_t ns)
{
	size_t n = 0;
	if (ns < 0)
		out[n++] = '-';
	uint64_t m = magnitude(ns);
	n += tw_promfmt_u64(out + n, m / NS_PER_S);
	uint64_t frac = m % NS_PER_S;
	if (frac == 0)
		return n;
	out[n++] = '.';
	char d[9];
	for (int i = 8; i >= 0; i--, frac /= 10)
		d[i] = (char)('0' + frac % 10);
	size_t nd = 9;
	while (d[nd - 1] == '0')
		nd--;
	memcpy(out + n, d, nd);
	n += nd;
	out[n] = '\0';
	return n;
}

/* ---- doubles ---- */

static locale_t c_loc;
static pthread_once_t c_loc_once = PTHREAD_ONCE_INIT;

static void c_loc_init(void)
{
	c_loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* Decimal digits and exponent of v (finite, non-zero): v = 0.d1d2.. x 10^(exp+1),
 * i.e. d1.d2d3.. x 10^exp. */
struct digits {
	char d[MAX_DIGITS + 1];
	int nd;
	int exp;
	bool neg;
};

/* Reads "-d.ddde-05" as printed by %e, skipping whatever radix character the
 * active locale printed. */
static void parse_e(const char *s, struct digits *dg)
{
	dg->neg = *s == '-';
	dg->nd = 0;
	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9' && dg->nd < MAX_DIGITS)
			dg->d[dg->nd++] = *s;
	int sign = 1, e = 0;
	if (*s == 'e')
		s++;
	if (*s == '-' || *s == '+')
		sign = *s++ == '-' ? -1 : 1;
	for (; *s >= '0' && *s <= '9'; s++)
		e = e * 10 + (*s - '0');
	dg->exp = sign * e;
	while (dg->nd > 1 && dg->d[dg->nd - 1] == '0')
		dg->nd--;
}

/* The digits of v without a printf round trip when v is the double nearest
 * to a decimal with at most 9 fractional and 15 significant digits, as
 * every gauge set from nanoseconds is: no other decimal of at most 15
 * digits (DBL_DIG) maps to v, so that decimal is the shortest, the one
 * shortest_digits would find. Returns false for any other v. */
static bool ns_digits(double v, struct digits *dg)
{
	double a = fabs(v) * (double)NS_PER_S;
	if (!(a < NS_DIGITS_LIMIT))
		return false;
	uint64_t m = (uint64_t)llround(a);
	if (m == 0 || (double)m / (double)NS_PER_S != fabs(v))
		return false;
	char num[TW_PROMFMT_NUM_MAX];
	size_t n = tw_promfmt_u64(num, m);
	dg->neg = v < 0;
	dg->exp = (int)n - 1 - NS_FRACTION_DIGITS;
	while (num[n - 1] == '0')
		n--;
	memcpy(dg->d, num, n);
	dg->nd = (int)n;
	return true;
}

/* The shortest digits that round-trip. For a normal double whose shortest
 * form has at most 15 digits, rounding to 15 digits gives exactly that form
 * padded with zeros (the double lies far closer to it than half the 15-digit
 * spacing), so trying 15, 16, 17 suffices; subnormals have less precision
 * and are searched from 1 digit up. */
static void shortest_digits(double v, struct digits *dg)
{
	pthread_once(&c_loc_once, c_loc_init);
	locale_t old = c_loc ? uselocale(c_loc) : (locale_t)0;
	char tmp[40];
	for (int p = fabs(v) < DBL_MIN ? 1 : 15; p <= MAX_DIGITS; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
		if (p == MAX_DIGITS || !c_loc || strtod(tmp, NULL) == v)
			break;
	}
	if (c_loc)
		uselocale(old);
	parse_e(tmp, dg);
}

static size_t put_exp(char *out, const struct digits *dg)
{
	size_t n = 0;
	out[n++] = dg->d[0];
	if (dg->nd > 1) {
		out[n++] = '.';
		memcpy(out + n, dg->d + 1, (size_t)dg->nd - 1);
		n += (size_t)dg->nd - 1;
	}
	out[n++] = 'e';
	out[n++] = dg->exp < 0 ? '-' : '+';
	int e = abs(dg->exp);
	if (e >= 100)
		out[n++] = (char)('0' + e / 100);
	out[n++] = (char)('0' + e / 10 % 10);
	out[n++] = (char)('0' + e % 10);
	return n;
}

static size_t put_fixed(char *out, const struct digits *dg)
{
	size_t n = 0;
	if (dg->exp < 0) {
		out[n++] = '0';
		out[n++] = '.';
		for (int i = -1; i > dg->exp; i--)
			out[n++] = '0';
		memcpy(out + n, dg->d, (size_t)dg->nd);
		return n + (size_t)dg->nd;
	}
	for (int i = 0; i <= dg->exp; i++)
		out[n++] = i < dg->nd ? dg->d[i] : '0';
	if (dg->nd > dg->exp + 1) {
		out[n++] = '.';
		memcpy(out + n, dg->d + dg->exp + 1, (size_t)(dg->nd - dg->exp - 1));
		n += (size_t)(dg->nd - dg->exp - 1);
	}
	return n;
}

static size_t put_special(char *out, double v)
{
	const char *s = isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
	size_t n = strlen(s);
	memcpy(out, s, n + 1);
	return n;
}

size_t tw_promfmt_double(char *out, double v)
{
	if (!isfinite(v))
		return put_special(out, v);
	if (v == 0.0) {
		memcpy(out, "0", 2);
		return 1;
	}
	if (fabs(v) < 1e6 && v == trunc(v))
		return tw_promfmt_i64(out, (int64_t)v);
	struct digits dg;
	if (!ns_digits(v, &dg))
		shortest_digits(v, &dg);
	size_t n = 0;
	if (dg.neg)
		out[n++] = '-';
	if (dg.exp < -4 || dg.exp >= GO_EPREC)
		n += put_exp(out + n, &dg);
	else
		n += put_fixed(out + n, &dg);
	out[n] = '\0';
	return n;
}

size_t tw_promfmt_le(char *out, double v)
{
	size_t n = tw_promfmt_double(out, v);
	if (!isfinite(v) || strpbrk(out, ".e"))
		return n;
	memcpy(out + n, ".0", 3);
	return n + 2;
}

/* ---- escaping ---- */

static int escape(tw_buf *b, const char *s, bool quote)
{
	size_t len = strlen(s);
	int rc = tw_buf_reserve(b, 2 * len);
	if (rc < 0)
		return rc;
	char *o = tw_buf_tail(b);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\\' || (quote && c == '"')) {
			o[n++] = '\\';
			o[n++] = c;
		} else if (c == '\n') {
			o[n++] = '\\';
			o[n++] = 'n';
		} else {
			o[n++] = c;
		}
	}
	return tw_buf_commit(b, n);
}

int tw_promfmt_label_value(tw_buf *b, const char *s)
{
	return escape(b, s, true);
}

int tw_promfmt_help(tw_buf *b, const char *s)
{
	return escape(b, s, false);
}

int tw_promfmt_label(tw_buf *b, const char *name, const char *value)
{
	tw_buf_puts(b, name);
	tw_buf_puts(b, "=\"");
	tw_promfmt_label_value(b, value);
	return tw_buf_puts(b, "\""); /* errors are sticky: this reports any */
}

int tw_promfmt_family_header(tw_buf *b, const char *name, const char *help, const char *type)
{
	tw_buf_puts(b, "# HELP ");
	tw_buf_puts(b, name);
	tw_buf_puts(b, " ");
	tw_promfmt_help(b, help);
	tw_buf_puts(b, "\n# TYPE ");
	tw_buf_puts(b, name);
	tw_buf_puts(b, " ");
	tw_buf_puts(b, type);
	return tw_buf_puts(b, "\n");
}

/* ---- validation ---- */

static bool is_alpha_(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool tw_promfmt_valid_metric_name(const char *s)
{
	if (!s || !(is_alpha_(*s) || *s == ':'))
		return false;
	for (s++; *s; s++)
		if (!(is_alpha_(*s) || is_digit(*s) || *s == ':'))
			return false;
	return true;
}

bool tw_promfmt_valid_label_name(const char *s)
{
	if (!s || !is_alpha_(*s) || strncmp(s, "__", 2) == 0)
		return false;
	for (s++; *s; s++)
		if (!(is_alpha_(*s) || is_digit(*s)))
			return false;
	return true;
}

/* Length of the UTF-8 sequence at p, or 0 when it is malformed. */
static size_t utf8_seq(const unsigned char *p)
{
	unsigned c = p[0];
	if (c < 0x80)
		return 1;
	size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
	if (n == 0 || c > 0xF4)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	if (n == 3 && ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0)))
		return 0; /* overlong or surrogate */
	if (n == 4 && ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90)))
		return 0; /* overlong or above U+10FFFF */
	return n;
}

bool tw_promfmt_valid_utf8(const char *s)
{
	if (!s)
		return false;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = utf8_seq(p);
		if (n == 0)
			return false;
		p += n;
	}
	return true;
}
