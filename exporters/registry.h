/*
 * registry.h - the metric registry: families of counters, gauges and
 * histograms, each with fixed label names, and one series per label-value
 * set.
 *
 * Series are created once (when a session is configured) and handed out as
 * typed handles; the hot path updates a handle directly (tw_counter_add,
 * tw_gauge_set, tw_hist_observe) with no lookup, lock or allocation. A
 * series exists, with zero values, from its creation until it is removed,
 * so a configured session is visible before its first reply and vanishes
 * at once when the session is removed. Series render in creation order,
 * families in registration order, then the collectors' output.
 *
 * Collectors compute values at scrape time (process metrics, info gauges)
 * and write them through prom.h's tw_prom_collect_* calls.
 *
 * Single-threaded: the registry, its handles and the renderer belong to the
 * event-loop thread.
 */
#ifndef TW_REGISTRY_H
#define TW_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "histogram.h"

typedef struct tw_registry tw_registry;
typedef struct tw_family tw_family;
typedef struct tw_prom_collect tw_prom_collect; /* see prom.h */

typedef enum tw_metric_type {
	TW_METRIC_COUNTER = 0,
	TW_METRIC_GAUGE,
	TW_METRIC_HISTOGRAM,
} tw_metric_type;

/* How a histogram's int64 observations and bounds are exposed. */
typedef enum tw_hist_unit {
	TW_HIST_NS_AS_SECONDS = 0, /* nanoseconds in, seconds out (le="0.001") */
	TW_HIST_PLAIN,             /* exposed as they are (le="64.0") */
} tw_hist_unit;

typedef struct tw_family_spec {
	tw_metric_type type;
	const char *name;            /* valid metric name; counters should end in _total */
	const char *help;            /* UTF-8; escaped on output */
	const char *const *labels;   /* nlabels label names (no "le" for histograms) */
	size_t nlabels;
	const tw_hist_bounds *bounds; /* histograms only; copied */
	tw_hist_unit unit;           /* histograms only */
} tw_family_spec;

/* ---- hot-path handles ---- */

typedef struct tw_counter {
	uint64_t v;
} tw_counter;

typedef struct tw_gauge {
	double v;
} tw_gauge;

static inline void tw_counter_add(tw_counter *c, uint64_t n)
{
	c->v += n;
}

static inline void tw_counter_inc(tw_counter *c)
{
	c->v++;
}

static inline void tw_gauge_set(tw_gauge *g, double v)
{
	g->v = v;
}

/* Sets a seconds gauge from integer nanoseconds. */
static inline void tw_gauge_set_ns(tw_gauge *g, int64_t ns)
{
	g->v = (double)ns / 1e9;
}

/* ---- registry and families ---- */

/* Returns an empty registry or NULL (ENOMEM). tw_registry_free releases
 * every family, series and collector (NULL-safe); handles die with it. */
tw_registry *tw_registry_new(void);
void tw_registry_free(tw_registry *r);

/* Registers a family and stores its handle (owned by the registry) in
 * *out. Returns 0; -EINVAL for an invalid or reserved name, a label name
 * that is invalid, duplicated, starts with "__" or is "le" on a histogram,
 * help that is not UTF-8, or a histogram without valid bounds; -EEXIST if
 * the name (or, for histograms, name_bucket/_sum/_count) is taken;
 * -ENOMEM. */
int tw_registry_add(tw_registry *r, const tw_family_spec *spec, tw_family **out);

/* The family registered under name, or NULL. */
tw_family *tw_registry_find(const tw_registry *r, const char *name);

/* ---- series ---- */

/* Returns in *out the series of family f for the label values (an array of
 * f's nlabels UTF-8 strings, copied; NULL when there are no labels),
 * creating it with zero values if it does not exist yet; the same label set
 * always yields the same handle. Returns 0; -EINVAL if the family has
 * another type or a value is NULL or not UTF-8; -ENOMEM. */
int tw_registry_counter(tw_family *f, const char *const *values, tw_counter **out);
int tw_registry_gauge(tw_family *f, const char *const *values, tw_gauge **out);
int tw_registry_hist(tw_family *f, const char *const *values, tw_hist **out);

/* A label outside the family's fixed label names, e.g. a user label from
 * the configuration that only some series carry. */
typedef struct tw_label {
	const char *name;
	const char *value;
} tw_label;

/* As above, with nextra extra labels rendered after the family's own: per-
 * series constant labels. Their names must be valid, unique, not start with
 * "__", not be one of the family's label names nor "le" on a histogram;
 * callers pass them in a stable order (e.g. sorted by name) since the order
 * is part of the series identity. -EINVAL otherwise. */
int tw_registry_counter_x(tw_family *f, const char *const *values, const tw_label *extra, size_t nextra,
	tw_counter **out);
int tw_registry_gauge_x(tw_family *f, const char *const *values, const tw_label *extra, size_t nextra,
	tw_gauge **out);
/* bounds selects the series' bucket layout (NULL = the family's); a family
 * may mix layouts, e.g. per-target buckets from the configuration. Asking
 * for an existing series with other bounds is -EEXIST (remove it first). */
int tw_registry_hist_x(tw_family *f, const char *const *values, const tw_label *extra, size_t nextra,
	const tw_hist_bounds *bounds, tw_hist **out);

/* Removes the series behind a handle from its family at once (NULL-safe).
 * The handle, and any copy of it, is invalid afterwards. */
void tw_registry_remove_counter(tw_counter *c);
void tw_registry_remove_gauge(tw_gauge *g);
void tw_registry_remove_hist(tw_hist *h);

/* Removes every series, in every family, whose label `label` has exactly
 * `value` (e.g. target="pop-fra" when a target leaves the configuration).
 * Handles to those series become invalid. Returns how many were removed. */
size_t tw_registry_remove_matching(tw_registry *r, const char *label, const char *value);

size_t tw_registry_series_count(const tw_family *f);
/* Bytes the registry has allocated for families and series (approximate:
 * requested sizes, without malloc overhead). */
size_t tw_registry_memory(const tw_registry *r);

/* ---- collectors ---- */

/* Called during each render after the registered families; emits families
 * and samples with tw_prom_collect_family / tw_prom_collect_sample (prom.h).
 * Returns 0 or a negative errno, which fails the render. */
typedef int (*tw_collector_fn)(void *arg, tw_prom_collect *out);

/* Adds a collector (called in the order added). Its family names must not
 * clash with registered families or other collectors'. Returns 0 or
 * -ENOMEM. */
int tw_registry_add_collector(tw_registry *r, tw_collector_fn fn, void *arg);
/* Removes the collector added with the same fn and arg, if any. */
void tw_registry_remove_collector(tw_registry *r, tw_collector_fn fn, void *arg);

#endif /* TW_REGISTRY_H */
