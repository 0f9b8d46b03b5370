/*
 * sdjson.c - the JSON form of service-discovery documents (RFC 8259), as
 * a bounded recursive-descent parser: every read is checked against the
 * input length, nesting is capped at TW_SD_MAX_DEPTH, strings are decoded
 * with full escape, surrogate-pair and UTF-8 validation, and errors carry
 * the line and column (in characters) where they were found.
 */
#include "sd_int.h"
#include "text.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct jp {
	const unsigned char *s;
	size_t n, i;
	uint32_t line;
	size_t line_start; /* offset of the current line's first octet */
	/* The last column worked out: col at offset col_off of line col_line.
	 * Positions are asked for in increasing order (every list element
	 * asks), so counting on from here keeps a long one-line document (a
	 * minified http_sd answer) linear instead of quadratic. */
	uint32_t col_line, col;
	size_t col_off;
	tw_sd_error *err;
	sd_builder *b;
	char *buf; /* the last decoded string */
	size_t len, cap;
} jp;

static sd_pos pos_at(jp *p, size_t off)
{
	if (p->col_line != p->line || off < p->col_off) {
		p->col_line = p->line;
		p->col_off = p->line_start;
		p->col = 1;
	}
	for (; p->col_off < off && p->col_off < p->n; p->col_off++)
		p->col += (p->s[p->col_off] & 0xC0) != 0x80; /* count characters, not octets */
	return (sd_pos){ p->line, p->col };
}

static sd_pos here(jp *p)
{
	return pos_at(p, p->i);
}

static void skip_ws(jp *p)
{
	while (p->i < p->n) {
		unsigned char c = p->s[p->i];
		if (c == '\n') {
			p->line++;
			p->line_start = p->i + 1;
		} else if (c != ' ' && c != '\t' && c != '\r') {
			return;
		}
		p->i++;
	}
}

/* What is at the cursor, for "found X": the kind of value where a value
 * was expected, else the character. */
static void found_text(const jp *p, bool value, char *buf, size_t cap)
{
	if (p->i >= p->n) {
		snprintf(buf, cap, "the end of the input");
		return;
	}
	unsigned char c = p->s[p->i];
	const char *what = !value ? NULL : c == '{' ? "an object" : c == '[' ? "a list" :
		c == '"' ? "a string" : (c == '-' || (c >= '0' && c <= '9')) ? "a number" :
		(c == 't' || c == 'f') ? "a boolean" : c == 'n' ? "null" : NULL;
	if (what)
		snprintf(buf, cap, "%s", what);
	else if (c > 0x20 && c < 0x7f)
		snprintf(buf, cap, "'%c'", c);
	else
		snprintf(buf, cap, "octet 0x%02x", c);
}

static int expected(jp *p, const char *what)
{
	char found[48];
	found_text(p, true, found, sizeof(found));
	return sd_fail(p->err, here(p), "found %s, expected %s", found, what);
}

/* The same where punctuation or a key was expected. */
static int expected_char(jp *p, const char *what)
{
	char found[48];
	found_text(p, false, found, sizeof(found));
	return sd_fail(p->err, here(p), "found %s, expected %s", found, what);
}

/* Consumes c (after whitespace) or fails naming what was wanted. */
static int want(jp *p, char c, const char *what)
{
	skip_ws(p);
	if (p->i < p->n && p->s[p->i] == (unsigned char)c) {
		p->i++;
		return 0;
	}
	return expected_char(p, what);
}

/* ---- strings ---- */

static int put(jp *p, const char *s, size_t n)
{
	if (n == 0) /* the buffer may still be NULL: memcpy(NULL + 0) is UB */
		return 0;
	if (p->len + n > p->cap) {
		size_t nc = p->cap ? p->cap : 256;
		while (nc < p->len + n)
			nc *= 2;
		char *nb = realloc(p->buf, nc);
		if (!nb)
			return -ENOMEM;
		p->buf = nb;
		p->cap = nc;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	return 0;
}

static int hex4(jp *p, size_t at, unsigned *out)
{
	unsigned v = 0;
	if (at + 4 > p->n)
		return sd_fail(p->err, pos_at(p, at), "unexpected end of input in a \\u escape");
	for (size_t k = at; k < at + 4; k++) {
		int d = tw_text_hex_digit(p->s[k]);
		if (d < 0)
			return sd_fail(p->err, pos_at(p, at - 2), "invalid \\u escape: expected 4 hex digits");
		v = v << 4 | (unsigned)d;
	}
	*out = v;
	return 0;
}

static int put_utf8(jp *p, unsigned cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return put(p, u, n);
}

/* \uXXXX at p->i (after the backslash and 'u'), with surrogate pairs. */
static int unicode_escape(jp *p)
{
	size_t start = p->i - 2;
	unsigned hi, lo;
	int rc = hex4(p, p->i, &hi);
	if (rc < 0)
		return rc;
	p->i += 4;
	if (hi == 0)
		return sd_fail(p->err, pos_at(p, start), "\\u0000 (NUL) in a string");
	if (hi >= 0xDC00 && hi <= 0xDFFF)
		return sd_fail(p->err, pos_at(p, start), "invalid \\u escape: unpaired surrogate");
	if (hi < 0xD800 || hi > 0xDBFF)
		return put_utf8(p, hi);
	if (p->i + 2 > p->n || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
		return sd_fail(p->err, pos_at(p, start), "invalid \\u escape: unpaired surrogate");
	rc = hex4(p, p->i + 2, &lo);
	if (rc < 0)
		return rc;
	if (lo < 0xDC00 || lo > 0xDFFF)
		return sd_fail(p->err, pos_at(p, start), "invalid \\u escape: unpaired surrogate");
	p->i += 6;
	return put_utf8(p, 0x10000 + ((hi - 0xD800) << 10 | (lo - 0xDC00)));
}

static int escape(jp *p)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	if (p->i + 1 >= p->n)
		return sd_fail(p->err, here(p), "unexpected end of input in a string");
	unsigned char c = p->s[p->i + 1];
	p->i += 2;
	if (c == 'u')
		return unicode_escape(p);
	const char *k = c ? strchr(from, c) : NULL;
	if (!k) {
		if (c > 0x20 && c < 0x7f)
			return sd_fail(p->err, pos_at(p, p->i - 2), "invalid escape \\%c in a string", c);
		return sd_fail(p->err, pos_at(p, p->i - 2), "invalid escape: \\ before octet 0x%02x", c);
	}
	return put(p, &to[k - from], 1);
}

/* A run of plain octets up to a quote, backslash or control character. */
static int plain_run(jp *p)
{
	size_t start = p->i;
	while (p->i < p->n && p->s[p->i] != '"' && p->s[p->i] != '\\' && p->s[p->i] >= 0x20)
		p->i++;
	size_t bad = sd_utf8_check(p->s + start, p->i - start);
	if (bad < p->i - start)
		return sd_fail(p->err, pos_at(p, start + bad), "invalid UTF-8 (octet 0x%02x) in a string",
			       p->s[start + bad]);
	return put(p, (const char *)p->s + start, p->i - start);
}

/* Decodes the string at the cursor into p->buf / p->len. */
static int string(jp *p)
{
	p->len = 0;
	p->i++; /* the opening quote */
	for (;;) {
		int rc = plain_run(p);
		if (rc < 0)
			return rc;
		if (p->i >= p->n)
			return sd_fail(p->err, here(p), "unexpected end of input in a string");
		unsigned char c = p->s[p->i];
		if (c == '"') {
			p->i++;
			return 0;
		}
		if (c < 0x20)
			return sd_fail(p->err, here(p), "control character 0x%02x in a string (escape it)", c);
		rc = escape(p);
		if (rc < 0)
			return rc;
	}
}

/* ---- skipping values the format does not use ---- */

static int skip_value(jp *p, int depth);

/* Runs each(p, arg) per element of the list or object at the cursor
 * (which must be `open`); object members get their key decoded first. */
typedef int (*member_fn)(jp *p, void *arg, sd_pos key_at);
static int members(jp *p, bool object, member_fn each, void *arg);

static int literal(jp *p, const char *word)
{
	size_t n = strlen(word);
	if (p->n - p->i >= n && memcmp(p->s + p->i, word, n) == 0) {
		p->i += n;
		return 0;
	}
	return sd_fail(p->err, here(p), "invalid literal, expected true, false or null");
}

static size_t digits(jp *p)
{
	size_t start = p->i;
	while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
		p->i++;
	return p->i - start;
}

/* RFC 8259 number syntax; the value itself is never needed. */
static int number(jp *p)
{
	size_t start = p->i;
	if (p->s[p->i] == '-')
		p->i++;
	size_t int_start = p->i, nd = digits(p);
	bool ok = nd > 0 && !(nd > 1 && p->s[int_start] == '0');
	if (ok && p->i < p->n && p->s[p->i] == '.') {
		p->i++;
		ok = digits(p) > 0;
	}
	if (ok && p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		ok = digits(p) > 0;
	}
	return ok ? 0 : sd_fail(p->err, pos_at(p, start), "invalid number");
}

/* members() callback: one element of a skipped list or object. */
static int skip_member(jp *p, void *depth, sd_pos key_at)
{
	(void)key_at;
	return skip_value(p, *(int *)depth + 1);
}

static int skip_value(jp *p, int depth)
{
	skip_ws(p);
	if (p->i >= p->n)
		return expected(p, "a value");
	if (depth > TW_SD_MAX_DEPTH)
		return sd_fail(p->err, here(p), "nesting deeper than %d levels", TW_SD_MAX_DEPTH);
	switch (p->s[p->i]) {
	case '{': return members(p, true, skip_member, &depth);
	case '[': return members(p, false, skip_member, &depth);
	case '"': return string(p);
	case 't': return literal(p, "true");
	case 'f': return literal(p, "false");
	case 'n': return literal(p, "null");
	default: break;
	}
	if (p->s[p->i] == '-' || (p->s[p->i] >= '0' && p->s[p->i] <= '9'))
		return number(p);
	return expected(p, "a value");
}

/* ---- the format ---- */

static int members(jp *p, bool object, member_fn each, void *arg)
{
	char close = object ? '}' : ']';
	p->i++;
	skip_ws(p);
	if (p->i < p->n && p->s[p->i] == (unsigned char)close) {
		p->i++;
		return 0;
	}
	for (;;) {
		skip_ws(p);
		sd_pos at = here(p);
		int rc = 0;
		if (object) {
			rc = p->i < p->n && p->s[p->i] == '"' ? string(p) : expected_char(p, "a key (a string)");
			if (rc == 0)
				rc = want(p, ':', "':'");
			if (rc == 0)
				skip_ws(p);
		}
		if (rc == 0)
			rc = each(p, arg, at);
		if (rc < 0)
			return rc;
		skip_ws(p);
		if (p->i < p->n && p->s[p->i] == (unsigned char)close) {
			p->i++;
			return 0;
		}
		rc = want(p, ',', object ? "',' or '}'" : "',' or ']'");
		if (rc < 0)
			return rc;
	}
}

static bool at_char(const jp *p, char c)
{
	return p->i < p->n && p->s[p->i] == (unsigned char)c;
}

static int one_target(jp *p, void *arg, sd_pos at)
{
	(void)arg, (void)at;
	sd_pos t = here(p);
	if (!at_char(p, '"'))
		return expected(p, sd_what_target);
	int rc = string(p);
	return rc < 0 ? rc : sd_target(p->b, p->buf, p->len, t);
}

static int one_label(jp *p, void *arg, sd_pos key_at)
{
	(void)arg;
	char name[TW_SD_MAX_LABEL_NAME + 1];
	size_t nn = p->len;
	if (nn <= TW_SD_MAX_LABEL_NAME)
		memcpy(name, p->buf, nn);
	else
		return sd_fail(p->err, key_at, "found a label name of %zu octets, expected at most %d",
			       nn, TW_SD_MAX_LABEL_NAME);
	if (at_char(p, 'n') && p->n - p->i >= 4 && memcmp(p->s + p->i, "null", 4) == 0) {
		p->i += 4;
		return sd_label(p->b, name, nn, NULL, 0, key_at);
	}
	if (!at_char(p, '"'))
		return expected(p, sd_what_value);
	int rc = string(p);
	return rc < 0 ? rc : sd_label(p->b, name, nn, p->buf, p->len, key_at);
}

typedef struct group_keys {
	sd_pos targets, labels; /* line 0 = not seen yet */
} group_keys;

static int duplicate(jp *p, sd_pos first, sd_pos at, const char *key)
{
	return sd_fail(p->err, at, "duplicate key \"%s\" (first at line %u, column %u)", key,
		       first.line, first.col);
}

static int group_member(jp *p, void *arg, sd_pos key_at)
{
	group_keys *k = arg;
	if (p->len == 7 && memcmp(p->buf, "targets", 7) == 0) {
		if (k->targets.line)
			return duplicate(p, k->targets, key_at, "targets");
		k->targets = key_at;
		return at_char(p, '[') ? members(p, false, one_target, NULL) : expected(p, sd_what_targets);
	}
	if (p->len == 6 && memcmp(p->buf, "labels", 6) == 0) {
		if (k->labels.line)
			return duplicate(p, k->labels, key_at, "labels");
		k->labels = key_at;
		if (at_char(p, 'n'))
			return literal(p, "null");
		return at_char(p, '{') ? members(p, true, one_label, NULL) : expected(p, sd_what_labels);
	}
	return skip_value(p, 3); /* list, group, this value */
}

static int one_group(jp *p, void *arg, sd_pos at)
{
	(void)arg, (void)at;
	if (!at_char(p, '{'))
		return expected(p, sd_what_group);
	group_keys k = { { 0, 0 }, { 0, 0 } };
	int rc = sd_group_begin(p->b, here(p));
	if (rc == 0)
		rc = members(p, true, group_member, &k);
	return rc < 0 ? rc : sd_group_end(p->b);
}

static int document(jp *p)
{
	if (p->n >= 3 && memcmp(p->s, "\xEF\xBB\xBF", 3) == 0)
		p->i = p->line_start = 3; /* a byte order mark some editors write */
	skip_ws(p);
	if (!at_char(p, '['))
		return expected(p, sd_what_list);
	int rc = members(p, false, one_group, NULL);
	if (rc < 0)
		return rc;
	skip_ws(p);
	if (p->i < p->n)
		return expected_char(p, "the end of the input after the list");
	return 0;
}

int tw_sd_parse_json(const char *data, size_t len, tw_sd_doc **out, tw_sd_error *err)
{
	int rc = sd_parse_begin(len, out, err);
	if (rc < 0)
		return rc;
	jp p = { .s = (const unsigned char *)data, .n = len, .line = 1, .err = err,
		 .b = sd_builder_new(err) };
	if (!p.b)
		return -ENOMEM;
	rc = document(&p);
	if (rc == 0)
		rc = sd_builder_finish(p.b, out);
	sd_builder_free(p.b);
	free(p.buf);
	return rc;
}
