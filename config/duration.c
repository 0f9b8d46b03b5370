/* duration.c - parse and format configuration durations (see duration.h). */
#include "duration.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define NS_PER_US INT64_C(1000)
#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)
#define NS_PER_M (60 * NS_PER_S)
#define NS_PER_H (3600 * NS_PER_S)

/* Longer spellings first: "ms" must win over "m". */
static const struct unit {
	const char *name;
	int64_t ns;
} units[] = {
	{ "ns", 1 },
	{ "us", NS_PER_US },
	{ "\xc2\xb5s", NS_PER_US }, /* U+00B5 micro sign */
	{ "\xce\xbcs", NS_PER_US }, /* U+03BC Greek mu */
	{ "ms", NS_PER_MS },
	{ "h", NS_PER_H },
	{ "m", NS_PER_M },
	{ "s", NS_PER_S },
};

static const struct unit *match_unit(const char *s, size_t *len)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t n = strlen(units[i].name);
		if (strncmp(s, units[i].name, n) == 0) {
			*len = n;
			return &units[i];
		}
	}
	return NULL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* One <number><unit> term starting at *sp; adds its value to *acc. */
static int parse_term(const char **sp, int64_t *acc)
{
	const char *s = *sp;
	int64_t whole = 0;
	bool any = false, overflow = false;
	while (is_digit(*s)) {
		int d = *s++ - '0';
		overflow |= __builtin_mul_overflow(whole, 10, &whole) ||
			__builtin_add_overflow(whole, d, &whole);
		any = true;
	}
	const char *frac = NULL;
	if (*s == '.') {
		frac = ++s;
		while (is_digit(*s))
			s++;
		any |= s > frac;
	}
	const char *frac_end = s;
	size_t ulen;
	const struct unit *u = match_unit(s, &ulen);
	if (!any || !u)
		return -EINVAL;
	int64_t v;
	overflow |= __builtin_mul_overflow(whole, u->ns, &v);
	/* Each fraction digit is worth a tenth of the previous one;
	 * digits below a nanosecond are dropped. */
	for (int64_t scale = u->ns / 10; frac && frac < frac_end && scale > 0; frac++, scale /= 10)
		overflow |= __builtin_add_overflow(v, (*frac - '0') * scale, &v);
	overflow |= __builtin_add_overflow(*acc, v, acc);
	*sp = s + ulen;
	return overflow ? -ERANGE : 0;
}

int tw_duration_parse(const char *s, int64_t *ns)
{
	if (!s || !*s)
		return -EINVAL;
	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return 0;
	}
	int64_t acc = 0;
	int rc = 0;
	while (*s && rc != -EINVAL) {
		int r = parse_term(&s, &acc);
		if (r < 0)
			rc = r;
	}
	if (rc < 0)
		return rc;
	*ns = acc;
	return 0;
}

/* Appends "<q>[.<frac>]<unit>" for v = q * unit + r, trimming zeros. */
static int fmt_frac(char *buf, size_t cap, int64_t v, int64_t unit, const char *name)
{
	int64_t q = v / unit, r = v % unit;
	if (r == 0)
		return snprintf(buf, cap, "%" PRId64 "%s", q, name);
	char frac[24];
	int w = 0;
	for (int64_t d = unit / 10; d > 0 && r > 0; d /= 10) {
		frac[w++] = (char)('0' + r / d);
		r %= d;
	}
	frac[w] = '\0';
	return snprintf(buf, cap, "%" PRId64 ".%s%s", q, frac, name);
}

int tw_duration_format(int64_t ns, char *buf, size_t cap)
{
	if (ns < 0)
		return -EINVAL;
	if (ns == 0)
		return snprintf(buf, cap, "0s");
	if (ns < NS_PER_US)
		return snprintf(buf, cap, "%" PRId64 "ns", ns);
	if (ns < NS_PER_MS)
		return fmt_frac(buf, cap, ns, NS_PER_US, "us");
	if (ns < NS_PER_S)
		return fmt_frac(buf, cap, ns, NS_PER_MS, "ms");
	char hm[48] = "";
	int64_t h = ns / NS_PER_H, m = ns % NS_PER_H / NS_PER_M, rest = ns % NS_PER_M;
	int n = 0;
	if (h)
		n = snprintf(hm, sizeof(hm), "%" PRId64 "h", h);
	if (m)
		snprintf(hm + n, sizeof(hm) - (size_t)n, "%" PRId64 "m", m);
	if (rest == 0)
		return snprintf(buf, cap, "%s", hm);
	char sec[40];
	fmt_frac(sec, sizeof(sec), rest, NS_PER_S, "s");
	return snprintf(buf, cap, "%s%s", hm, sec);
}
