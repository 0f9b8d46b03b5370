/* prom.c - text exposition of a registry (see prom.h). */
#include "prom.h"

#include <errno.h>
#include <string.h>

#include "promfmt.h"
#include "registry_int.h"

#define NAME_MAX_LEN 255
#define LINE_SLACK 64 /* braces, separators, a number, a suffix */

struct tw_prom_collect {
	tw_buf *out;
	char name[NAME_MAX_LEN + 1];
	size_t name_len;
	bool open;
	int err;
};

static inline char *put(char *o, const void *p, size_t n)
{
	memcpy(o, p, n);
	return o + n;
}

/* name[suffix][{labels}] */
static char *put_head(char *o, const tw_family *f, const char *suffix, size_t suffix_len,
	const tw_series *s)
{
	o = put(o, f->name, f->name_len);
	o = put(o, suffix, suffix_len);
	if (s->labels_len == 0)
		return o;
	*o++ = '{';
	o = put(o, s->labels, s->labels_len);
	*o++ = '}';
	return o;
}

/* name_bucket{[labels,] : the start every bucket line of s shares */
static char *put_bucket_prefix(char *o, const tw_family *f, const tw_series *s)
{
	o = put(o, f->name, f->name_len);
	o = put(o, "_bucket{", 8);
	o = put(o, s->labels, s->labels_len);
	if (s->labels_len)
		*o++ = ',';
	return o;
}

static char *put_value(char *o, const char *num, size_t n)
{
	*o++ = ' ';
	o = put(o, num, n);
	*o++ = '\n';
	return o;
}

static int render_scalar(tw_buf *b, const tw_family *f, const tw_series *s)
{
	char num[TW_PROMFMT_NUM_MAX];
	size_t n = f->type == TW_METRIC_COUNTER ? tw_promfmt_u64(num, s->v.c.v)
						: tw_promfmt_double(num, s->v.g.v);
	int rc = tw_buf_reserve(b, f->name_len + s->labels_len + n + LINE_SLACK);
	if (rc < 0)
		return rc;
	char *o = put_head(tw_buf_tail(b), f, "", 0, s);
	o = put_value(o, num, n);
	return tw_buf_commit(b, (size_t)(o - tw_buf_tail(b)));
}

static char *put_sum_count(char *o, const tw_family *f, const tw_series *s, const tw_hist *h)
{
	char num[TW_PROMFMT_NUM_MAX];
	size_t n = f->unit == TW_HIST_NS_AS_SECONDS ? tw_promfmt_ns_seconds(num, h->sum)
						    : tw_promfmt_i64(num, h->sum);
	o = put_head(o, f, "_sum", 4, s);
	o = put_value(o, num, n);
	n = tw_promfmt_u64(num, h->count);
	o = put_head(o, f, "_count", 6, s);
	return put_value(o, num, n);
}

static int render_hist(tw_buf *b, const tw_family *f, tw_series *s)
{
	const tw_hist *h = tw_series_hist(s);
	const tw_hist_layout *l = s->layout;
	size_t nb = l->bounds.n + 1;
	size_t line = f->name_len + s->labels_len + l->le_max + LINE_SLACK;
	int rc = tw_buf_reserve(b, (nb + 2) * line);
	if (rc < 0)
		return rc;
	char *o = tw_buf_tail(b);
	/* built once per series, then copied from the first line */
	const char *prefix = o;
	size_t prefix_len = (size_t)(put_bucket_prefix(o, f, s) - o);
	uint64_t cum = 0;
	for (size_t i = 0; i < nb; i++) {
		char num[TW_PROMFMT_NUM_MAX];
		cum += h->bucket[i];
		size_t n = tw_promfmt_u64(num, i + 1 < nb ? cum : h->count);
		o = i ? put(o, prefix, prefix_len) : o + prefix_len;
		o = put(o, l->le[i], l->le_len[i]);
		*o++ = '}';
		o = put_value(o, num, n);
	}
	o = put_sum_count(o, f, s, h);
	return tw_buf_commit(b, (size_t)(o - tw_buf_tail(b)));
}

static int render_family(tw_buf *b, const tw_family *f)
{
	int rc = tw_buf_append(b, f->header, f->header_len);
	for (tw_series *s = f->head; s && rc == 0; s = s->next)
		rc = f->type == TW_METRIC_HISTOGRAM ? render_hist(b, f, s) : render_scalar(b, f, s);
	return rc;
}

static int run_collectors(const tw_registry *r, tw_buf *out)
{
	for (size_t i = 0; i < r->ncollectors; i++) {
		tw_prom_collect c = { .out = out };
		int rc = r->collectors[i].fn(r->collectors[i].arg, &c);
		if (rc == 0)
			rc = c.err;
		if (rc == 0)
			rc = out->err;
		if (rc < 0)
			return rc;
	}
	return 0;
}

int tw_prom_render(const tw_registry *r, tw_buf *out)
{
	if (!r || !out)
		return -EINVAL;
	for (const tw_family *f = r->families; f; f = f->next) {
		int rc = render_family(out, f);
		if (rc < 0)
			return rc;
	}
	return run_collectors(r, out);
}

/* ---- collectors ---- */

static int collect_fail(tw_prom_collect *c, int err)
{
	if (!c->err)
		c->err = err;
	return c->err;
}

int tw_prom_collect_family(tw_prom_collect *c, const char *name, const char *help,
	tw_metric_type type)
{
	if (c->err)
		return c->err;
	if (!tw_promfmt_valid_metric_name(name) || strlen(name) > NAME_MAX_LEN || !help ||
	    !tw_promfmt_valid_utf8(help) || type > TW_METRIC_GAUGE)
		return collect_fail(c, -EINVAL);
	c->name_len = strlen(name);
	memcpy(c->name, name, c->name_len + 1);
	c->open = true;
	int rc = tw_promfmt_family_header(c->out, name, help,
		type == TW_METRIC_COUNTER ? "counter" : "gauge");
	return rc < 0 ? collect_fail(c, rc) : 0;
}

static int collect_labels(tw_prom_collect *c, const char *const *names,
	const char *const *values, size_t n)
{
	tw_buf *b = c->out;
	if (n == 0)
		return 0;
	if (!names || !values)
		return -EINVAL;
	tw_buf_puts(b, "{");
	for (size_t i = 0; i < n; i++) {
		if (!tw_promfmt_valid_label_name(names[i]) || !tw_promfmt_valid_utf8(values[i]))
			return -EINVAL;
		if (i)
			tw_buf_puts(b, ",");
		tw_promfmt_label(b, names[i], values[i]);
	}
	return tw_buf_puts(b, "}");
}

int tw_prom_collect_sample(tw_prom_collect *c, const char *const *names,
	const char *const *values, size_t n, double v)
{
	if (c->err)
		return c->err;
	if (!c->open)
		return collect_fail(c, -EINVAL);
	tw_buf *b = c->out;
	tw_buf_append(b, c->name, c->name_len);
	int rc = collect_labels(c, names, values, n);
	if (rc < 0)
		return collect_fail(c, rc);
	char num[TW_PROMFMT_NUM_MAX + 2];
	num[0] = ' ';
	size_t len = tw_promfmt_double(num + 1, v) + 1;
	num[len++] = '\n';
	tw_buf_append(b, num, len);
	return b->err ? collect_fail(c, b->err) : 0;
}
