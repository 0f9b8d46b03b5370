/*
 * expo_check.h - an independent checker of rendered text exposition for
 * the invariants promtool 2.42 does not verify: HELP then TYPE before each
 * family's samples, every family once and contiguous, samples belonging to
 * the current family, no timestamps, final newline, and per histogram
 * series strictly increasing le, cumulative non-decreasing bucket counts,
 * le="+Inf" equal to _count. Returns NULL when the text is valid, else a
 * static description of the first violation.
 */
#ifndef TW_TEST_EXPO_CHECK_H
#define TW_TEST_EXPO_CHECK_H

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPO_MAX_FAMILIES 256
#define EXPO_KEY_MAX 1024

struct expo_state {
	char families[EXPO_MAX_FAMILIES][128];
	size_t nfam;
	char fam[128];
	char type[32];
	char help_for[128];
	char series[EXPO_KEY_MAX]; /* histogram series key (labels without le) */
	double last_le;
	double last_count;
	double inf_count;
	bool have_inf;
	char err[256];
};

static inline const char *expo_fail(struct expo_state *st, const char *why, const char *line)
{
	snprintf(st->err, sizeof(st->err), "%s: %.200s", why, line);
	return st->err;
}

/* Parses {a="x",le="1"} at *p into key (le removed) and *le; false if malformed. */
static inline bool expo_labels(const char **p, char *key, size_t cap, double *le, bool *has_le)
{
	size_t k = 0;
	*has_le = false;
	key[0] = '\0';
	if (**p != '{')
		return true;
	(*p)++;
	while (**p != '}') {
		const char *name = *p;
		while (**p && **p != '=')
			(*p)++;
		size_t nlen = (size_t)(*p - name);
		if (**p != '=' || (*p)[1] != '"')
			return false;
		*p += 2;
		char val[512];
		size_t vn = 0;
		while (**p && **p != '"') {
			if (**p == '\\') {
				(*p)++;
				if (**p != '\\' && **p != '"' && **p != 'n')
					return false;
			}
			if (vn < sizeof(val) - 1)
				val[vn++] = *(*p)++;
			else
				(*p)++;
		}
		if (**p != '"')
			return false;
		(*p)++;
		val[vn] = '\0';
		if (nlen == 2 && strncmp(name, "le", 2) == 0) {
			*has_le = true;
			*le = strcmp(val, "+Inf") == 0 ? INFINITY : strtod(val, NULL);
		} else {
			k += (size_t)snprintf(key + k, cap - k, "%.*s=%s;", (int)nlen, name, val);
			if (k >= cap)
				return false;
		}
		if (**p == ',')
			(*p)++;
		else if (**p != '}')
			return false;
	}
	(*p)++;
	return true;
}

static inline bool expo_seen(struct expo_state *st, const char *name)
{
	for (size_t i = 0; i < st->nfam; i++)
		if (strcmp(st->families[i], name) == 0)
			return true;
	return false;
}

static inline const char *expo_meta(struct expo_state *st, const char *line)
{
	char name[128], rest[32];
	if (strncmp(line, "# HELP ", 7) == 0) {
		size_t n = strcspn(line + 7, " ");
		snprintf(st->help_for, sizeof(st->help_for), "%.*s", (int)n, line + 7);
		return NULL;
	}
	if (strncmp(line, "# TYPE ", 7) != 0)
		return NULL; /* other comments are allowed */
	size_t n = strcspn(line + 7, " ");
	snprintf(name, sizeof(name), "%.*s", (int)n, line + 7);
	snprintf(rest, sizeof(rest), "%s", line + 7 + n + (line[7 + n] ? 1 : 0));
	if (strcmp(st->help_for, name) != 0)
		return expo_fail(st, "TYPE without a preceding HELP", line);
	if (expo_seen(st, name))
		return expo_fail(st, "family not contiguous or repeated", line);
	if (st->nfam == EXPO_MAX_FAMILIES)
		return expo_fail(st, "too many families for the checker", line);
	snprintf(st->families[st->nfam++], 128, "%s", name);
	snprintf(st->fam, sizeof(st->fam), "%s", name);
	snprintf(st->type, sizeof(st->type), "%s", rest);
	st->series[0] = '\0';
	return NULL;
}

static inline const char *expo_hist(struct expo_state *st, const char *line, const char *suffix,
	const char *key, bool has_le, double le, double v)
{
	if (strcmp(suffix, "_bucket") == 0) {
		if (!has_le)
			return expo_fail(st, "bucket without le", line);
		if (strcmp(key, st->series) != 0) {
			snprintf(st->series, sizeof(st->series), "%s", key);
			st->last_le = -INFINITY;
			st->last_count = 0;
			st->have_inf = false;
		}
		if (!(le > st->last_le))
			return expo_fail(st, "le not increasing", line);
		if (v < st->last_count)
			return expo_fail(st, "buckets not cumulative", line);
		st->last_le = le;
		st->last_count = v;
		if (isinf(le)) {
			st->inf_count = v;
			st->have_inf = true;
		}
		return NULL;
	}
	if (strcmp(key, st->series) != 0 || !st->have_inf)
		return expo_fail(st, "_sum/_count without buckets ending in +Inf", line);
	if (strcmp(suffix, "_count") == 0 && v != st->inf_count)
		return expo_fail(st, "+Inf bucket differs from _count", line);
	return NULL;
}

static inline const char *expo_sample(struct expo_state *st, const char *line)
{
	const char *p = line;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '_' || *p == ':')
		p++;
	char name[256];
	snprintf(name, sizeof(name), "%.*s", (int)(p - line), line);
	char key[EXPO_KEY_MAX];
	double le = 0;
	bool has_le;
	if (!expo_labels(&p, key, sizeof(key), &le, &has_le))
		return expo_fail(st, "malformed labels", line);
	if (*p != ' ')
		return expo_fail(st, "no value", line);
	char *end;
	const char *num = p + 1;
	double v = strcmp(num, "+Inf") == 0 ? INFINITY : strcmp(num, "-Inf") == 0 ? -INFINITY
		: strcmp(num, "NaN") == 0 ? NAN : strtod(num, &end);
	if (isfinite(v) && *end != '\0')
		return expo_fail(st, "garbage after the value (timestamp?)", line);
	size_t fl = strlen(st->fam);
	if (!st->fam[0] || strncmp(name, st->fam, fl) != 0)
		return expo_fail(st, "sample outside its family", line);
	if (strcmp(st->type, "histogram") != 0)
		return name[fl] ? expo_fail(st, "sample name differs from family", line) : NULL;
	if (strcmp(name + fl, "_bucket") && strcmp(name + fl, "_sum") && strcmp(name + fl, "_count"))
		return expo_fail(st, "histogram sample with a bad suffix", line);
	return expo_hist(st, line, name + fl, key, has_le, le, v);
}

static inline const char *expo_check(const char *text, size_t len)
{
	static struct expo_state st;
	memset(&st, 0, sizeof(st));
	if (len == 0 || text[len - 1] != '\n')
		return "text does not end in a newline";
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char line[2048];
		snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		const char *err = line[0] == '#' ? expo_meta(&st, line) : expo_sample(&st, line);
		if (err)
			return err;
		p = nl + 1;
	}
	return NULL;
}

#endif /* TW_TEST_EXPO_CHECK_H */
