/* registry.c - metric families, series and collectors (see registry.h). */
#include "registry.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "promfmt.h"
#include "registry_int.h"

#define SCRATCH_MAX ((size_t)1 << 20) /* longest label text of one series */
#define TABLE_MIN 8

static const char *const type_names[] = { "counter", "gauge", "histogram" };
static const char *const hist_suffixes[] = { "_bucket", "_sum", "_count" };

/* ---- registry ---- */

tw_registry *tw_registry_new(void)
{
	tw_registry *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	tw_buf_init(&r->scratch, SCRATCH_MAX);
	r->memory = sizeof(*r);
	return r;
}

static void family_free(tw_family *f)
{
	tw_series *s = f->head;
	while (s) {
		tw_series *next = s->next;
		free(s);
		s = next;
	}
	for (size_t i = 0; i < f->nlabels; i++)
		free(f->label_names[i]);
	free(f->label_names);
	free(f->name);
	free(f->header);
	while (f->layouts) {
		tw_hist_layout *next = f->layouts->next;
		free(f->layouts->le);
		free(f->layouts->le_len);
		free(f->layouts);
		f->layouts = next;
	}
	free(f->table);
	free(f);
}

void tw_registry_free(tw_registry *r)
{
	if (!r)
		return;
	tw_family *f = r->families;
	while (f) {
		tw_family *next = f->next;
		family_free(f);
		f = next;
	}
	free(r->collectors);
	tw_buf_fini(&r->scratch);
	free(r);
}

tw_family *tw_registry_find(const tw_registry *r, const char *name)
{
	for (tw_family *f = r->families; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

/* ---- family validation ---- */

/* Whether `a` equals `base` followed by one of the histogram suffixes. */
static bool is_hist_child(const char *a, const char *base)
{
	size_t n = strlen(base);
	if (strncmp(a, base, n) != 0)
		return false;
	for (size_t i = 0; i < 3; i++)
		if (strcmp(a + n, hist_suffixes[i]) == 0)
			return true;
	return false;
}

static bool name_taken(const tw_registry *r, const char *name, tw_metric_type type)
{
	for (const tw_family *f = r->families; f; f = f->next) {
		if (strcmp(f->name, name) == 0)
			return true;
		if (f->type == TW_METRIC_HISTOGRAM && is_hist_child(name, f->name))
			return true;
		if (type == TW_METRIC_HISTOGRAM && is_hist_child(f->name, name))
			return true;
	}
	return false;
}

static bool labels_valid(const tw_family_spec *spec)
{
	if (spec->nlabels && !spec->labels)
		return false;
	for (size_t i = 0; i < spec->nlabels; i++) {
		const char *l = spec->labels[i];
		if (!tw_promfmt_valid_label_name(l))
			return false;
		if (spec->type == TW_METRIC_HISTOGRAM && strcmp(l, "le") == 0)
			return false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(l, spec->labels[j]) == 0)
				return false;
	}
	return true;
}

static bool spec_valid(const tw_family_spec *spec)
{
	if (spec->type > TW_METRIC_HISTOGRAM || !spec->help)
		return false;
	if (!tw_promfmt_valid_metric_name(spec->name) || !tw_promfmt_valid_utf8(spec->help))
		return false;
	if (spec->type == TW_METRIC_HISTOGRAM) {
		const tw_hist_bounds *b = spec->bounds;
		tw_hist_bounds check;
		if (!b || tw_hist_bounds_init(&check, b->le, b->n) < 0)
			return false;
		if (spec->unit > TW_HIST_PLAIN)
			return false;
	}
	return labels_valid(spec);
}

/* ---- family construction ---- */

static int build_header(tw_family *f, const char *help)
{
	tw_buf b;
	tw_buf_init(&b, 0);
	int rc = tw_promfmt_family_header(&b, f->name, help, type_names[f->type]);
	if (rc < 0) {
		tw_buf_fini(&b);
		return rc;
	}
	f->header = b.data;
	f->header_len = b.len;
	f->reg->memory += b.cap;
	return 0;
}

static int build_le(tw_family *f, tw_hist_layout *l)
{
	size_t n = l->bounds.n + 1;
	l->le = calloc(n, sizeof(*l->le));
	l->le_len = calloc(n, sizeof(*l->le_len));
	if (!l->le || !l->le_len)
		return -ENOMEM;
	f->reg->memory += n * (sizeof(*l->le) + sizeof(*l->le_len));
	for (size_t i = 0; i < n; i++) {
		char num[TW_PROMFMT_NUM_MAX];
		double v = i < l->bounds.n ? (double)l->bounds.le[i] : (double)INFINITY;
		if (i < l->bounds.n && f->unit == TW_HIST_NS_AS_SECONDS)
			v /= 1e9;
		size_t len = tw_promfmt_le(num, v);
		memcpy(l->le[i], "le=\"", 4);
		memcpy(l->le[i] + 4, num, len);
		memcpy(l->le[i] + 4 + len, "\"", 2);
		l->le_len[i] = len + 5;
		if (l->le_len[i] > l->le_max)
			l->le_max = l->le_len[i];
	}
	return 0;
}

static bool bounds_equal(const tw_hist_bounds *a, const tw_hist_bounds *b)
{
	return a->n == b->n && memcmp(a->le, b->le, a->n * sizeof(a->le[0])) == 0;
}

/* The family's layout for bounds (NULL = the default), created on first
 * use. Returns NULL on invalid bounds or ENOMEM. */
static tw_hist_layout *get_layout(tw_family *f, const tw_hist_bounds *bounds)
{
	tw_hist_layout **pp = &f->layouts;
	for (; *pp; pp = &(*pp)->next)
		if (!bounds || bounds_equal(&(*pp)->bounds, bounds))
			return *pp;
	tw_hist_layout *l = calloc(1, sizeof(*l));
	if (!l || tw_hist_bounds_init(&l->bounds, bounds->le, bounds->n) < 0 || build_le(f, l) < 0) {
		if (l) {
			free(l->le);
			free(l->le_len);
		}
		free(l);
		return NULL;
	}
	f->reg->memory += sizeof(*l);
	*pp = l;
	return l;
}

static int copy_labels(tw_family *f, const tw_family_spec *spec)
{
	f->label_names = calloc(spec->nlabels ? spec->nlabels : 1, sizeof(char *));
	if (!f->label_names)
		return -ENOMEM;
	for (size_t i = 0; i < spec->nlabels; i++) {
		f->label_names[i] = strdup(spec->labels[i]);
		if (!f->label_names[i])
			return -ENOMEM;
		f->nlabels++;
		f->reg->memory += strlen(spec->labels[i]) + 1;
	}
	return 0;
}

static int family_build(tw_family *f, const tw_family_spec *spec)
{
	f->name = strdup(spec->name);
	if (!f->name)
		return -ENOMEM;
	f->name_len = strlen(f->name);
	f->reg->memory += f->name_len + 1;
	int rc = build_header(f, spec->help);
	if (rc == 0)
		rc = copy_labels(f, spec);
	if (rc == 0 && f->type == TW_METRIC_HISTOGRAM) {
		f->unit = spec->unit;
		rc = get_layout(f, spec->bounds) ? 0 : -ENOMEM;
	}
	return rc;
}

int tw_registry_add(tw_registry *r, const tw_family_spec *spec, tw_family **out)
{
	if (!r || !spec || !spec_valid(spec))
		return -EINVAL;
	if (name_taken(r, spec->name, spec->type))
		return -EEXIST;
	tw_family *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->reg = r;
	f->type = spec->type;
	int rc = family_build(f, spec);
	if (rc < 0) {
		family_free(f);
		return rc;
	}
	r->memory += sizeof(*f);
	if (r->last)
		r->last->next = f;
	else
		r->families = f;
	r->last = f;
	if (out)
		*out = f;
	return 0;
}

/* ---- series lookup ---- */

static uint64_t hash_bytes(const char *p, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static bool has_label_name(const tw_family *f, const char *label);

/* True when the extra label names are valid, unique and distinct from the
 * family's (and not "le" on a histogram). */
static bool extra_valid(const tw_family *f, const tw_label *extra, size_t nextra)
{
	for (size_t i = 0; i < nextra; i++) {
		const char *n = extra[i].name;
		if (!n || !extra[i].value || !tw_promfmt_valid_label_name(n) || strncmp(n, "__", 2) == 0 ||
		    has_label_name(f, n) || (f->type == TW_METRIC_HISTOGRAM && strcmp(n, "le") == 0))
			return false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(extra[j].name, n) == 0)
				return false;
	}
	return true;
}

/* Appends one label to the comma-separated text in b. */
static void put_label(tw_buf *b, const char *name, const char *value)
{
	if (b->len)
		tw_buf_puts(b, ",");
	tw_promfmt_label(b, name, value);
}

/* Renders f's labels with values, then the extra labels, into the
 * registry's scratch buffer. */
static int render_labels(tw_family *f, const char *const *values, const tw_label *extra, size_t nextra)
{
	tw_buf *b = &f->reg->scratch;
	tw_buf_clear(b);
	if ((f->nlabels && !values) || (nextra && !extra_valid(f, extra, nextra)))
		return -EINVAL;
	for (size_t i = 0; i < f->nlabels; i++) {
		if (!tw_promfmt_valid_utf8(values[i]))
			return -EINVAL;
		put_label(b, f->label_names[i], values[i]);
	}
	for (size_t i = 0; i < nextra; i++) {
		if (!tw_promfmt_valid_utf8(extra[i].value))
			return -EINVAL;
		put_label(b, extra[i].name, extra[i].value);
	}
	tw_buf_append(b, "", 1); /* NUL, not counted below */
	return b->err;
}

static tw_series *find_series(const tw_family *f, const char *labels, size_t len, uint64_t h)
{
	if (!f->table)
		return NULL;
	tw_series *s = f->table[h & (f->table_size - 1)];
	for (; s; s = s->hnext)
		if (s->hash == h && s->labels_len == len && memcmp(s->labels, labels, len) == 0)
			return s;
	return NULL;
}

static int table_grow(tw_family *f)
{
	size_t size = f->table_size ? f->table_size * 2 : TABLE_MIN;
	tw_series **t = calloc(size, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (tw_series *s = f->head; s; s = s->next) {
		size_t i = s->hash & (size - 1);
		s->hnext = t[i];
		t[i] = s;
	}
	f->reg->memory += (size - f->table_size) * sizeof(*t);
	free(f->table);
	f->table = t;
	f->table_size = size;
	return 0;
}

static void link_series(tw_family *f, tw_series *s)
{
	size_t i = s->hash & (f->table_size - 1);
	s->hnext = f->table[i];
	f->table[i] = s;
	s->prev = f->tail;
	if (f->tail)
		f->tail->next = s;
	else
		f->head = s;
	f->tail = s;
	f->nseries++;
	f->reg->memory += s->alloc;
}

static tw_series *series_new(tw_family *f, const tw_hist_layout *layout, const char *labels, size_t len,
	uint64_t h)
{
	size_t body = layout ? TW_SERIES_HIST_OFFSET + tw_hist_size(&layout->bounds) : sizeof(tw_series);
	tw_series *s = calloc(1, body + len + 1);
	if (!s)
		return NULL;
	s->fam = f;
	s->hash = h;
	s->alloc = body + len + 1;
	char *text = (char *)s + body;
	memcpy(text, labels, len + 1);
	s->labels = text;
	s->labels_len = len;
	s->layout = layout;
	if (layout)
		tw_hist_init(tw_series_hist(s), &layout->bounds);
	return s;
}

/* Finds or creates a series. For histograms, bounds (NULL = the family's
 * default) picks the layout; an existing series with another layout is
 * -EEXIST (remove it first to change its buckets). */
static int get_series(tw_family *f, tw_metric_type type, const char *const *values,
	const tw_label *extra, size_t nextra, const tw_hist_bounds *bounds, tw_series **out)
{
	if (!f || f->type != type)
		return -EINVAL;
	const tw_hist_layout *layout = NULL;
	if (type == TW_METRIC_HISTOGRAM && !(layout = get_layout(f, bounds)))
		return bounds ? -EINVAL : -ENOMEM;
	int rc = render_labels(f, values, extra, nextra);
	if (rc < 0)
		return rc;
	const char *labels = f->reg->scratch.data;
	size_t len = f->reg->scratch.len - 1;
	uint64_t h = hash_bytes(labels, len);
	tw_series *s = find_series(f, labels, len, h);
	if (s && s->layout != layout)
		return -EEXIST;
	if (!s) {
		if (f->nseries >= f->table_size && (rc = table_grow(f)) < 0)
			return rc;
		if (!(s = series_new(f, layout, labels, len, h)))
			return -ENOMEM;
		link_series(f, s);
	}
	*out = s;
	return 0;
}

int tw_registry_counter_x(tw_family *f, const char *const *values, const tw_label *extra, size_t nextra,
	tw_counter **out)
{
	tw_series *s;
	int rc = get_series(f, TW_METRIC_COUNTER, values, extra, nextra, NULL, &s);
	if (rc == 0)
		*out = &s->v.c;
	return rc;
}

int tw_registry_gauge_x(tw_family *f, const char *const *values, const tw_label *extra, size_t nextra,
	tw_gauge **out)
{
	tw_series *s;
	int rc = get_series(f, TW_METRIC_GAUGE, values, extra, nextra, NULL, &s);
	if (rc == 0)
		*out = &s->v.g;
	return rc;
}

int tw_registry_hist_x(tw_family *f, const char *const *values, const tw_label *extra, size_t nextra,
	const tw_hist_bounds *bounds, tw_hist **out)
{
	tw_series *s;
	int rc = get_series(f, TW_METRIC_HISTOGRAM, values, extra, nextra, bounds, &s);
	if (rc == 0)
		*out = tw_series_hist(s);
	return rc;
}

int tw_registry_counter(tw_family *f, const char *const *values, tw_counter **out)
{
	return tw_registry_counter_x(f, values, NULL, 0, out);
}

int tw_registry_gauge(tw_family *f, const char *const *values, tw_gauge **out)
{
	return tw_registry_gauge_x(f, values, NULL, 0, out);
}

int tw_registry_hist(tw_family *f, const char *const *values, tw_hist **out)
{
	return tw_registry_hist_x(f, values, NULL, 0, NULL, out);
}

/* ---- removal ---- */

static void series_remove(tw_series *s)
{
	tw_family *f = s->fam;
	tw_series **pp = &f->table[s->hash & (f->table_size - 1)];
	while (*pp != s)
		pp = &(*pp)->hnext;
	*pp = s->hnext;
	if (s->prev)
		s->prev->next = s->next;
	else
		f->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		f->tail = s->prev;
	f->nseries--;
	f->reg->memory -= s->alloc;
	free(s);
}

void tw_registry_remove_counter(tw_counter *c)
{
	if (c)
		series_remove((tw_series *)(void *)((char *)c - offsetof(tw_series, v)));
}

void tw_registry_remove_gauge(tw_gauge *g)
{
	if (g)
		series_remove((tw_series *)(void *)((char *)g - offsetof(tw_series, v)));
}

void tw_registry_remove_hist(tw_hist *h)
{
	if (h)
		series_remove((tw_series *)(void *)((char *)h - TW_SERIES_HIST_OFFSET));
}

/* Whether labels contains the pattern name="value" as a whole label. In
 * escaped text a bare quote only ever follows '=' or ends a value, so a
 * match that starts the text or follows a comma is a real label. */
static bool has_label(const tw_series *s, const char *pat, size_t n)
{
	const char *p = s->labels, *end = s->labels + s->labels_len;
	while ((p = memmem(p, (size_t)(end - p), pat, n)) != NULL) {
		if (p == s->labels || p[-1] == ',')
			return true;
		p++;
	}
	return false;
}

static bool has_label_name(const tw_family *f, const char *label)
{
	for (size_t i = 0; i < f->nlabels; i++)
		if (strcmp(f->label_names[i], label) == 0)
			return true;
	return false;
}

static size_t remove_in_family(tw_family *f, const char *label, const char *pat, size_t n)
{
	size_t removed = 0;
	if (!has_label_name(f, label))
		return 0;
	tw_series *s = f->head;
	while (s) {
		tw_series *next = s->next;
		if (has_label(s, pat, n)) {
			series_remove(s);
			removed++;
		}
		s = next;
	}
	return removed;
}

size_t tw_registry_remove_matching(tw_registry *r, const char *label, const char *value)
{
	if (!r || !tw_promfmt_valid_label_name(label) || !value)
		return 0;
	tw_buf pat;
	tw_buf_init(&pat, 0);
	tw_promfmt_label(&pat, label, value);
	size_t removed = 0;
	for (tw_family *f = r->families; f && !pat.err; f = f->next)
		removed += remove_in_family(f, label, pat.data, pat.len);
	tw_buf_fini(&pat);
	return removed;
}

size_t tw_registry_series_count(const tw_family *f)
{
	return f ? f->nseries : 0;
}

size_t tw_registry_memory(const tw_registry *r)
{
	return r ? r->memory + r->ncollectors * sizeof(struct tw_collector) : 0;
}

/* ---- collectors ---- */

int tw_registry_add_collector(tw_registry *r, tw_collector_fn fn, void *arg)
{
	if (!r || !fn)
		return -EINVAL;
	struct tw_collector *c = realloc(r->collectors, (r->ncollectors + 1) * sizeof(*c));
	if (!c)
		return -ENOMEM;
	c[r->ncollectors].fn = fn;
	c[r->ncollectors].arg = arg;
	r->collectors = c;
	r->ncollectors++;
	return 0;
}

void tw_registry_remove_collector(tw_registry *r, tw_collector_fn fn, void *arg)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ncollectors; i++) {
		if (r->collectors[i].fn == fn && r->collectors[i].arg == arg) {
			memmove(&r->collectors[i], &r->collectors[i + 1],
				(r->ncollectors - i - 1) * sizeof(r->collectors[0]));
			r->ncollectors--;
			return;
		}
	}
}
