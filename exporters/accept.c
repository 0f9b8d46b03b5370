/* accept.c - Accept-Encoding q-value parsing (see accept.h). */
#include "accept.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#define Q_MAX 1000
#define Q_TEXT_MAX 5 /* "0.125" */

struct elem {
	const char *name;
	size_t len;
	int q;
	bool ok;
};

static bool is_tchar(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static const char *span_token(const char *p, size_t *len)
{
	const char *s = p;
	while (is_tchar(*p))
		p++;
	*len = (size_t)(p - s);
	return p;
}

static const char *skip_to_comma(const char *p)
{
	while (*p && *p != ',')
		p++;
	return p;
}

/* p at the opening quote; returns the position after the closing one, or
 * NULL when the string is unterminated. */
static const char *skip_quoted(const char *p)
{
	for (p++; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
static int parse_q(const char *s, size_t n)
{
	if (n == 0 || n > Q_TEXT_MAX || (s[0] != '0' && s[0] != '1'))
		return -1;
	int q = (s[0] - '0') * Q_MAX;
	if (n == 1)
		return q;
	if (s[1] != '.')
		return -1;
	int scale = Q_MAX / 10;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		q += (s[i] - '0') * scale;
	}
	return q > Q_MAX ? -1 : q;
}

/* One "name=value" parameter at p; returns the position after it or NULL
 * when it is malformed. Only q is interpreted. */
static const char *parse_param(const char *p, struct elem *e)
{
	size_t nlen, vlen = 0;
	const char *name = p;
	p = span_token(p, &nlen);
	if (nlen == 0 || *p != '=')
		return NULL;
	const char *v = ++p;
	bool is_q = nlen == 1 && (name[0] == 'q' || name[0] == 'Q');
	if (*p == '"')
		return is_q ? NULL : skip_quoted(p);
	p = span_token(p, &vlen);
	if (vlen == 0)
		return NULL;
	if (is_q && (e->q = parse_q(v, vlen)) < 0)
		return NULL;
	return p;
}

/* Parses the element at p; returns the position of the ',' or NUL that
 * ends it. e->ok tells whether it was well formed. */
static const char *parse_element(const char *p, struct elem *e)
{
	e->q = Q_MAX;
	e->ok = false;
	p = skip_ows(p);
	e->name = p;
	p = span_token(p, &e->len);
	if (e->len == 0)
		return skip_to_comma(p);
	for (;;) {
		p = skip_ows(p);
		if (*p == ',' || *p == '\0') {
			e->ok = true;
			return p;
		}
		if (*p != ';')
			return skip_to_comma(p);
		const char *next = parse_param(skip_ows(p + 1), e);
		if (!next)
			return skip_to_comma(p + 1);
		p = next;
	}
}

static bool names(const struct elem *e, const char *coding)
{
	return strlen(coding) == e->len && strncasecmp(e->name, coding, e->len) == 0;
}

static int qvalue(const char *header, const char *coding, bool use_star)
{
	int best = -1, star = -1;
	const char *p = header;
	while (*p) {
		struct elem e;
		p = parse_element(p, &e);
		if (e.ok && names(&e, coding) && e.q > best)
			best = e.q;
		else if (e.ok && e.len == 1 && e.name[0] == '*' && e.q > star)
			star = e.q;
		if (*p == ',')
			p++;
	}
	return best >= 0 || !use_star ? best : star;
}

int tw_accept_qvalue(const char *header, const char *coding)
{
	if (!header || !coding)
		return -1;
	return qvalue(header, coding, true);
}

bool tw_accept_gzip(const char *header)
{
	if (!header)
		return false;
	int q = qvalue(header, "gzip", false);
	int qx = qvalue(header, "x-gzip", false);
	if (qx > q)
		q = qx;
	if (q < 0)
		q = qvalue(header, "*", false);
	return q > 0 && qvalue(header, "identity", false) <= q;
}
