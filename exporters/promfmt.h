/*
 * promfmt.h - the lexical pieces of the Prometheus text format: numbers,
 * escaping, label pairs, family headers and name validation. Pure
 * functions, independent of the process locale (a decimal comma set by
 * setlocale never leaks in).
 *
 * Number output buffers must hold TW_PROMFMT_NUM_MAX bytes; functions
 * return the length written (the text is also NUL-terminated).
 */
#ifndef TW_PROMFMT_H
#define TW_PROMFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define TW_PROMFMT_NUM_MAX 32

size_t tw_promfmt_u64(char *out, uint64_t v);
size_t tw_promfmt_i64(char *out, int64_t v);

/* Shortest text that parses back to exactly v, laid out like Go's
 * strconv.FormatFloat(v, 'g', -1, 64) as Prometheus clients do
 * ("0.25", "1e-05", "1.5e+09", "42"), with "+Inf", "-Inf" and "NaN". */
size_t tw_promfmt_double(char *out, double v);

/* The canonical form of an "le" / "quantile" label value (OpenMetrics,
 * Prometheus 3): as tw_promfmt_double, plus ".0" on integral values
 * without an exponent ("1.0", "0.001", "2.5e-05", "+Inf"). */
size_t tw_promfmt_le(char *out, double v);

/* ns / 1e9 as an exact decimal ("0.000123", "-1.5", "2"); no rounding. */
size_t tw_promfmt_ns_seconds(char *out, int64_t ns);

/* Appends s escaped as a label value (\\, \", \n) / as HELP text (\\, \n).
 * Returns 0 or the buffer's error. */
int tw_promfmt_label_value(tw_buf *b, const char *s);
int tw_promfmt_help(tw_buf *b, const char *s);

/* Appends name="value" (value escaped; the name is not checked). Returns 0
 * or the buffer's error. */
int tw_promfmt_label(tw_buf *b, const char *name, const char *value);

/* Appends "# HELP name help\n# TYPE name type\n" (help escaped; type is
 * "counter", "gauge", "histogram"). Returns 0 or the buffer's error. */
int tw_promfmt_family_header(tw_buf *b, const char *name, const char *help, const char *type);

/* [a-zA-Z_:][a-zA-Z0-9_:]* */
bool tw_promfmt_valid_metric_name(const char *s);
/* [a-zA-Z_][a-zA-Z0-9_]*, and not starting with the reserved "__". */
bool tw_promfmt_valid_label_name(const char *s);
/* Well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF);
 * Prometheus refuses a whole scrape over one bad label value. */
bool tw_promfmt_valid_utf8(const char *s);

#endif /* TW_PROMFMT_H */
